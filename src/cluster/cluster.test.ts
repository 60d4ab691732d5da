import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { PostgresStore } from '../storage/postgres/postgres-store.js';
import {
  findPostgresBin,
  POSTGRES_MISSING,
  startTestPostgres,
  type TestPostgres,
} from '../storage/postgres/test-server.js';
import { clusterContract } from './cluster.case.js';

clusterContract('sqlite', async (nodes) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-cluster-'));
  const clock = new ManualClock();
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  return {
    stores: Array.from({ length: nodes }, () => store),
    clock,
    close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })),
  };
});

const skip = findPostgresBin() ? undefined : POSTGRES_MISSING;
let server: TestPostgres | undefined;
let admin: postgres.Sql | undefined;
let n = 0;
before(async () => {
  if (skip) return;
  server = await startTestPostgres();
  admin = postgres(server!.url, { onnotice: () => {}, max: 2 });
});
after(async () => {
  await admin?.end({ timeout: 1 });
  await server?.stop();
});

clusterContract(
  'postgres',
  async (nodes) => {
    const schema = `cluster_${++n}`;
    await admin!.unsafe(`CREATE SCHEMA ${schema}`);
    const clock = new ManualClock();
    const stores = await Promise.all(
      Array.from({ length: nodes }, () =>
        PostgresStore.open({ url: server!.url, schema, clock, logger: silentLogger, max: 3 }),
      ),
    );
    return {
      stores,
      clock,
      close: async () => {
        await Promise.all(stores.map((s) => s.close()));
        await admin!.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  },
  { skip },
);
