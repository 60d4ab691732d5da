/**
 * Micro figures for both Stores: ops/s for put, get, a 1-write transaction and
 * enqueue+claim+ack, each run sequentially (one caller, awaiting each op), and puts issued
 * 16 at a time.
 *   npx tsc -p . && node dist/src/storage/store.bench.js
 * PostgreSQL is measured on a throwaway local server (fsync off) when the binaries exist.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { startTestPostgres } from './postgres/test-server.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

async function rate(label: string, n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(200, n); i++) await fn(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const ms = performance.now() - t0;
  console.log(
    `  ${label.padEnd(28)} ${Math.round((n / ms) * 1000)
      .toString()
      .padStart(8)} ops/s  (${((ms * 1000) / n).toFixed(1)} µs/op)`,
  );
}

async function bench(store: Store, n: number): Promise<void> {
  console.log(`${store.kind} (${store.description})`);
  await rate('put', n, (i) => store.put('bench', `k${i}`, { i, s: 'some value' }));
  await rate('get', n, (i) => store.get('bench', `k${i % n}`));
  await rate('transaction (1 write)', n, (i) => store.transaction((tx) => tx.put('bench-tx', `k${i}`, i)));
  // 16 puts issued together (SQLite commits them as one group); the rate is puts per second.
  await rate('16 concurrent puts', n, async (i) => {
    if (i % 16 === 0)
      await Promise.all(
        Array.from({ length: 16 }, (_, j) => store.put('bench-c', `k${i + j}`, { i: i + j })),
      );
  });
  await rate('enqueue+claim+ack', n, async (i) => {
    await store.jobs.enqueue('bench', i);
    const [job] = await store.jobs.claim('bench', { leaseMs: 30_000 });
    await store.jobs.ack(job);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
const sqlite = new SqliteStore({ dataDir: dir, clock: systemClock, logger: silentLogger });
try {
  await bench(sqlite, 20_000);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}

const pg = await startTestPostgres();
if (!pg) console.log('postgres: skipped, server binaries not found');
else {
  const store = await PostgresStore.open({ url: pg.url, clock: systemClock, logger: silentLogger });
  try {
    await bench(store, 2000);
  } finally {
    await store.close();
    await pg.stop();
  }
}
