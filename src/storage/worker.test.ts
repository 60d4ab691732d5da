import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OffsetClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { startWorker } from './worker.js';

test('worker re-checks at once when an OffsetClock jumps (no waiting for the poll)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-worker-'));
  const clock = new OffsetClock();
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const got: number[] = [];
  const worker = startWorker<number>({
    store,
    queue: 'q',
    clock,
    pollMs: 60_000,
    logger: silentLogger,
    handle: async (job) => {
      got.push(job.payload);
    },
  });
  try {
    await store.jobs.enqueue('q', 1, { delayMs: 3_600_000 });
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(got, []);
    clock.advance(3_600_000);
    for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [1]);
  } finally {
    await worker.stop();
  }
});

test('worker extends the lease of a slow handler so it is not redelivered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-worker-'));
  const clock = new OffsetClock();
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let calls = 0;
  const worker = startWorker({
    store,
    queue: 'slow',
    clock,
    // The handler outlives its lease 2.5 times; extensions (every half lease) keep it. Generous
    // figures: a loaded CI machine can stall timers for a few hundred milliseconds.
    leaseMs: 1000,
    concurrency: 2,
    logger: silentLogger,
    handle: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 2500));
    },
  });
  try {
    await store.jobs.enqueue('slow', 'x');
    for (let i = 0; i < 400 && calls === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 2800));
    assert.equal(calls, 1);
    assert.deepEqual(await store.jobs.stats('slow'), { ready: 0, inFlight: 0, delayed: 0, dead: 0 });
  } finally {
    await worker.stop();
  }
});
