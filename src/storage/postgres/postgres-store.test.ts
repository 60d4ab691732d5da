import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../index.js';
import { after, before } from 'node:test';
import postgres from 'postgres';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { storeContract } from '../store.case.js';
import { PostgresStore } from './postgres-store.js';
import { findPostgresBin, POSTGRES_MISSING, startTestPostgres, type TestPostgres } from './test-server.js';

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

storeContract(
  'postgres',
  async () => {
    // A schema per test: CREATE DATABASE costs ~0.5 s here, CREATE SCHEMA ~1 ms.
    const schema = `contract_${++n}`;
    await admin!.unsafe(`CREATE SCHEMA ${schema}`);
    const clock = new ManualClock();
    const store = await PostgresStore.open({ url: server!.url, schema, clock, logger: silentLogger });
    return {
      store,
      clock,
      close: async () => {
        await store.close();
        await admin!.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  },
  { skip },
);

describe('postgres cluster behaviour', () => {
  test(
    'nodes opening at once migrate once; claims split without overlap; wakes cross nodes',
    { skip },
    async () => {
      const schema = 'cluster_' + ++n;
      await admin!.unsafe(`CREATE SCHEMA ${schema}`);
      const clock = new ManualClock();
      const nodes = await Promise.all(
        [1, 2, 3].map(() => PostgresStore.open({ url: server!.url, schema, clock, logger: silentLogger })),
      );
      try {
        const versions = await admin!.unsafe(`SELECT version FROM ${schema}.schema_migrations`);
        assert.deepEqual(
          versions.map((r) => r.version),
          [1],
        );
        let woken = 0;
        const off = nodes[2].jobs.onWake('q', () => woken++);
        for (let i = 0; i < 60; i++) await nodes[0].jobs.enqueue('q', i);
        const claims = await Promise.all(
          nodes.flatMap((s) => [1, 2].map(() => s.jobs.claim<number>('q', { limit: 15, leaseMs: 60_000 }))),
        );
        const ids = claims.flat().map((j) => j.payload);
        assert.equal(ids.length, 60);
        assert.equal(new Set(ids).size, 60, 'no job claimed twice');
        for (let i = 0; i < 100 && woken < 60; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(woken, 60, 'node 3 heard every enqueue of node 1');
        off();
      } finally {
        await Promise.all(nodes.map((s) => s.close()));
        await admin!.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      }
    },
  );

  test('openStore picks PostgreSQL for a postgres:// URL', { skip }, async () => {
    const store = await openStore(
      { storage: server!.url, dataDir: '/nonexistent' },
      new ManualClock(),
      silentLogger,
    );
    try {
      assert.equal(store.kind, 'postgres');
      assert.ok(!store.description.includes('@'), 'no credentials in the description');
      await store.put('c', 'k', 1);
      assert.equal(await store.get('c', 'k'), 1);
    } finally {
      await store.close();
    }
  });
});
