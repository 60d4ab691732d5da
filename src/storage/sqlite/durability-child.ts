/**
 * Test helper for the kill -9 durability test: opens the SQLite Store in argv[2] and writes
 * forever (a put, an enqueue, a transaction and four concurrent writes that share a group
 * commit per step), printing "acked <i>" after each step resolves. The parent kills it with SIGKILL mid-stream.
 */
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { SqliteStore } from './sqlite-store.js';

const store = new SqliteStore({ dataDir: process.argv[2], clock: systemClock, logger: silentLogger });
for (let i = 0; ; i++) {
  await store.put('dur', `k${i}`, { i });
  await store.jobs.enqueue('dur', { i }, { id: `job-${i}` });
  await store.transaction(async (tx) => {
    await tx.put('dur-tx', `k${i}`, i);
    await tx.enqueue('dur-tx', i);
  });
  await Promise.all([
    store.put('dur-group', `k${i}-a`, i),
    store.transaction((tx) => tx.put('dur-group', `k${i}-b`, i)),
    store.put('dur-group', `k${i}-c`, i),
    store.transaction((tx) => tx.put('dur-group', `k${i}-d`, i)),
  ]);
  process.stdout.write(`acked ${i}\n`);
}
