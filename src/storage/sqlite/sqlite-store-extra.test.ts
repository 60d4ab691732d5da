import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { openStore } from '../index.js';
import { SqliteStore, SQLITE_DRIVER } from './sqlite-store.js';

const Database = createRequire(import.meta.url)(SQLITE_DRIVER) as typeof BetterSqlite3;

const here = dirname(fileURLToPath(import.meta.url));

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-sqlite-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('kill -9 mid-stream loses nothing that was acknowledged', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, [join(here, 'durability-child.js'), dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let acked = -1;
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}`)),
    );
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('acked ')) acked = Number(l.slice(6));
      if (acked >= 300 && !child.killed) child.kill('SIGKILL');
    });
  });
  assert.ok(acked >= 300, `acked ${acked}`);
  const store = new SqliteStore({
    dataDir: dir,
    clock: new ManualClock(Date.now() + 1000),
    logger: silentLogger,
  });
  try {
    const keys = await store.getMany(
      'dur',
      Array.from({ length: acked + 1 }, (_, i) => `k${i}`),
    );
    assert.equal(keys.filter((v) => v === undefined).length, 0, 'every acked put survived');
    assert.ok((await store.count('dur-tx')) >= acked + 1, 'every acked transaction survived');
    assert.ok((await store.count('dur-group')) >= 4 * (acked + 1), 'every acked grouped write survived');
    const stats = await store.jobs.stats('dur');
    assert.ok(stats.ready >= acked + 1, `every acked job survived (${stats.ready} >= ${acked + 1})`);
    assert.ok((await store.jobs.stats('dur-tx')).ready >= acked + 1);
    const jobs = await store.jobs.claim<{ i: number }>('dur', { limit: acked + 1, leaseMs: 1000 });
    assert.deepEqual(
      jobs.map((j) => j.payload.i),
      Array.from({ length: acked + 1 }, (_, i) => i),
      'jobs come back in enqueue order',
    );
  } finally {
    await store.close();
  }
});

test('group commit: writes issued together commit together, in order; a failing one fails alone', async (t) => {
  const dir = tempDir(t);
  const store = new SqliteStore({ dataDir: dir, clock: new ManualClock(), logger: silentLogger });
  t.after(() => store.close());
  // Count the commits: a group of writes issued in one turn of the event loop is one.
  const conn = (store as unknown as { w: { stmt(sql: string): BetterSqlite3.Statement } }).w;
  const commit = conn.stmt('COMMIT');
  const run = commit.run.bind(commit);
  let commits = 0;
  commit.run = (...args: unknown[]) => {
    commits++;
    return run(...args);
  };
  const results = await Promise.allSettled([
    store.put('g', 'a', 1),
    store.transaction(async (tx) => {
      // Sees the put queued before it (FIFO inside the group).
      assert.equal(await tx.get('g', 'a'), 1);
      await tx.put('g', 'b', 2);
      return 'tx ok';
    }),
    store.transaction(async (tx) => {
      await tx.put('g', 'c', 3);
      await tx.put('g', 'a', 'clobbered');
      throw new Error('boom');
    }),
    store.insert('g', 'a', 'dup'), // false: the key exists (the failing write above was undone)
    store.put('g', 'd', undefined as unknown), // a single write that throws
    store.transaction(async (tx) => {
      await tx.put('g', 'e', (await tx.get<number>('g', 'b'))! + 3);
      await tx.enqueue('gq', { n: 1 });
    }),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal((results[1] as PromiseFulfilledResult<string>).value, 'tx ok');
  assert.match(String((results[2] as PromiseRejectedResult).reason), /boom/);
  assert.equal((results[3] as PromiseFulfilledResult<boolean>).value, false);
  assert.match(String((results[4] as PromiseRejectedResult).reason), /JSON-serialisable/);
  assert.deepEqual(await store.scan('g'), [
    { key: 'a', value: 1 },
    { key: 'b', value: 2 },
    { key: 'e', value: 5 },
  ]);
  assert.equal((await store.jobs.stats('gq')).ready, 1);
  assert.equal(commits, 1, 'one commit for the whole group');
  // Writes issued one after another (each awaited) still work and are visible at once.
  for (let i = 0; i < 5; i++) {
    await store.transaction((tx) => tx.put('seq', `k${i}`, i));
    assert.equal(await store.get('seq', `k${i}`), i);
  }
  assert.equal(commits, 6);
});

test('WAL checkpoints run in a background worker; data survives close and reopen', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger, checkpointEveryCommits: 5 });
  for (let i = 0; i < 60; i++) await store.transaction((tx) => tx.put('ck', `k${i}`, { i }));
  for (let i = 0; i < 500 && store.checkpoints === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(store.checkpoints > 0, 'the background checkpointer ran');
  await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('ck', `g${i}`, i)));
  assert.equal(await store.count('ck'), 80);
  await store.close();
  const again = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  try {
    assert.equal(await again.count('ck'), 80);
    assert.deepEqual(await again.get('ck', 'k59'), { i: 59 });
  } finally {
    await again.close();
  }
});

test('migrations run once; reopening keeps data and the schema version', async (t) => {
  const dir = tempDir(t);
  const clock = new ManualClock();
  const a = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  await a.put('c', 'k', 1);
  await a.close();
  const b = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  assert.equal(await b.get('c', 'k'), 1);
  await b.close();
  const db = new Database(join(dir, 'nimbus.db'), { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT version FROM schema_migrations').all(), [
      { version: 1 },
      { version: 2 },
    ]);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    db.close();
  }
});

test('large values live out of line (kv_values) through every write, and none is left behind', async (t) => {
  const dir = tempDir(t);
  const store = new SqliteStore({ dataDir: dir, clock: new ManualClock(), logger: silentLogger });
  t.after(() => store.close());
  const big = (tag: string) => ({ tag, body: 'x'.repeat(2000) });
  const db = new Database(join(dir, 'nimbus.db'), { readonly: true });
  t.after(() => db.close());
  const outOfLine = () => (db.prepare('SELECT count(*) AS n FROM kv_values').get() as { n: number }).n;

  await store.put('c', 'a', big('a1'));
  await store.put('c', 'b', { small: true });
  assert.deepEqual(await store.get('c', 'a'), big('a1'));
  assert.equal(outOfLine(), 1);
  // big -> big keeps one kv_values row; big -> small frees it; small -> big takes one again.
  await store.put('c', 'a', big('a2'));
  assert.deepEqual(await store.get('c', 'a'), big('a2'));
  assert.equal(outOfLine(), 1);
  await store.put('c', 'a', 7);
  assert.equal(await store.get('c', 'a'), 7);
  assert.equal(outOfLine(), 0);
  await store.put('c', 'b', big('b1'));
  assert.equal(outOfLine(), 1);
  // insert: refused over an existing key (small or big), accepted on a new one.
  assert.equal(await store.insert('c', 'b', big('other')), false);
  assert.equal(await store.insert('c', 'a', big('other')), false);
  assert.equal(await store.insert('c', 'n', big('n1')), true);
  assert.equal(outOfLine(), 2);
  assert.deepEqual(
    (await store.scan('c')).map((e) => e.key),
    ['a', 'b', 'n'],
  );
  assert.deepEqual((await store.scan('c', { prefix: 'n' }))[0].value, big('n1'));
  assert.deepEqual(await store.getMany('c', ['n', 'a', 'zz']), [big('n1'), 7, undefined]);
  // Inside a transaction, and rolled back: nothing changes, nothing leaks.
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.put('c', 'r', big('r'));
      assert.deepEqual(await tx.get('c', 'r'), big('r'));
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.equal(await store.get('c', 'r'), undefined);
  assert.equal(outOfLine(), 2);
  assert.equal(await store.delete('c', 'b'), true);
  assert.equal(outOfLine(), 1);
  await store.put('c', 'm1', big('m1'));
  await store.put('c', 'm2', big('m2'));
  await store.put('c', 'm3', 3);
  assert.equal(await store.deleteRange('c', { prefix: 'm' }), 3);
  assert.equal(outOfLine(), 1);
  assert.deepEqual(await store.get('c', 'n'), big('n1'));
  assert.equal(await store.count('c'), 2);
});

test('opening a data dir of the first schema moves its large values out of line and keeps them', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'nimbus.db');
  {
    // A database as schema version 1 left it: large values inline.
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
      INSERT INTO schema_migrations VALUES (1, 'kv, blobs, jobs, dead jobs', 0);
      CREATE TABLE kv (collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (collection, key)) WITHOUT ROWID;`);
    const put = db.prepare('INSERT INTO kv VALUES (?, ?, ?)');
    put.run('c', 'big', JSON.stringify({ body: 'y'.repeat(3000) }));
    put.run('c', 'small', JSON.stringify({ n: 1 }));
    db.close();
  }
  const store = new SqliteStore({ path, clock: new ManualClock(), logger: silentLogger });
  try {
    assert.deepEqual(await store.get('c', 'big'), { body: 'y'.repeat(3000) });
    assert.deepEqual(await store.get('c', 'small'), { n: 1 });
    await store.put('c', 'big', 1);
    assert.equal(await store.get('c', 'big'), 1);
  } finally {
    await store.close();
  }
  const db = new Database(path, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT count(*) AS n FROM kv_values').get() as { n: number }).n, 0);
  } finally {
    db.close();
  }
});

test('Store writes inside a transaction callback fail fast instead of deadlocking', async (t) => {
  const dir = tempDir(t);
  const store = new SqliteStore({ dataDir: dir, clock: new ManualClock(), logger: silentLogger });
  t.after(() => store.close());
  await assert.rejects(
    store.transaction(async () => {
      await store.put('c', 'k', 1);
    }),
    /use the transaction object/,
  );
  await assert.rejects(
    store.transaction(() => store.transaction(async () => 1)),
    /nested Store.transaction/,
  );
  let leaked: { put: (c: string, k: string, v: unknown) => Promise<void> } | undefined;
  await store.transaction(async (tx) => {
    leaked = tx;
  });
  await assert.rejects(leaked!.put('c', 'k', 1), /transaction already finished/);
  await assert.rejects(store.put('c', 'k', undefined), /JSON-serialisable/);
  assert.equal(await store.count('c'), 0);
});

test('the transaction guard holds across a group commit of several transactions, and only there', async (t) => {
  const dir = tempDir(t);
  const store = new SqliteStore({ dataDir: dir, clock: new ManualClock(), logger: silentLogger });
  t.after(() => store.close());
  // Issued together: one group, each transaction in its own savepoint.
  const results = await Promise.allSettled([
    store.transaction(async (tx) => tx.put('c', 'a', 1)),
    store.transaction(async () => {
      await store.put('c', 'b', 2);
    }),
    store.transaction(async (tx) => tx.put('c', 'c', 3)),
    store.put('c', 'd', 4),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  assert.match(String((results[1] as PromiseRejectedResult).reason), /use the transaction object/);
  // After the group, writes outside any callback are not taken for writes inside one.
  await store.put('c', 'e', 5);
  await Promise.all([store.put('c', 'f', 6), store.transaction(async (tx) => tx.put('c', 'g', 7))]);
  assert.deepEqual(
    (await store.scan('c')).map((e) => e.key),
    ['a', 'c', 'd', 'e', 'f', 'g'],
  );
});

test('openStore: sqlite by default under the data dir; unknown schemes are refused', async (t) => {
  const dir = tempDir(t);
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, new ManualClock(), silentLogger);
  assert.equal(store.kind, 'sqlite');
  assert.equal(store.description, `sqlite:${join(dir, 'nimbus.db')}`);
  await store.close();
  await assert.rejects(
    openStore({ storage: 'mysql://x', dataDir: dir }, new ManualClock(), silentLogger),
    /unknown storage/,
  );
});
