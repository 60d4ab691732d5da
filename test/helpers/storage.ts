/**
 * The Store of test servers: SQLite by default; NIMBUS_TEST_STORAGE=postgres gives each test
 * server a fresh schema on one throwaway PostgreSQL per test process (NIMBUS_TEST_STORAGE=
 * postgres://... uses that server instead of starting one).
 */
import { after } from 'node:test';
import postgres from 'postgres';
import {
  POSTGRES_MISSING,
  findPostgresBin,
  startTestPostgres,
  type TestPostgres,
} from '../../src/storage/postgres/test-server.js';

export interface TestStorage {
  /** `storage` for the config: a postgres URL with its own search_path. */
  url: string;
  drop(): Promise<void>;
  /**
   * Closes the server using this storage: the process's last hook runs it before PostgreSQL
   * stops (a test file's own `after` hook may run later, when the database is gone).
   */
  closeServer?: () => Promise<void>;
}

const live = new Set<TestStorage>();

const mode = process.env.NIMBUS_TEST_STORAGE ?? 'sqlite';
let shared: Promise<{ pg?: TestPostgres; url: string; admin: postgres.Sql }> | undefined;
let n = 0;

if (mode !== 'sqlite') {
  // Registered at import (root level), so it runs after every test of this process.
  after(async () => {
    if (!shared) return;
    for (const t of [...live]) await t.closeServer?.().catch(() => undefined);
    const s = await shared.catch(() => undefined);
    shared = undefined;
    await s?.admin.end({ timeout: 1 });
    await s?.pg?.stop();
  });
}

function start() {
  return (shared ??= (async () => {
    let pg: TestPostgres | undefined;
    let url = mode;
    if (mode === 'postgres') {
      if (!findPostgresBin()) throw new Error(`NIMBUS_TEST_STORAGE=postgres: ${POSTGRES_MISSING}`);
      pg = await startTestPostgres();
      url = pg!.url;
    } else if (!/^postgres(ql)?:\/\//.test(mode)) {
      throw new Error(`NIMBUS_TEST_STORAGE must be sqlite, postgres or a postgres:// URL (got "${mode}")`);
    }
    return { pg, url, admin: postgres(url, { onnotice: () => {}, max: 2 }) };
  })());
}

/** undefined for SQLite (the default). */
export async function testStorage(): Promise<TestStorage | undefined> {
  if (mode === 'sqlite') return undefined;
  const s = await start();
  const schema = `t_${process.pid}_${++n}`;
  await s.admin.unsafe(`CREATE SCHEMA ${schema}`);
  const sep = s.url.includes('?') ? '&' : '?';
  const t: TestStorage = {
    url: `${s.url}${sep}search_path=${schema}`,
    drop: async () => {
      live.delete(t);
      await s.admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
  live.add(t);
  return t;
}
