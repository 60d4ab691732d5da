/**
 * The embedded Store: one SQLite file (`<dataDir>/nimbus.db`) through better-sqlite3.
 *
 * Durability: WAL journal with synchronous=NORMAL. Every commit is appended to the WAL with
 * write(2) before the call returns, so it survives `kill -9` of this process (the
 * requirement: the pages are in the OS). Only an OS crash or power cut can lose the last
 * commits (they are fsynced at checkpoints); synchronous=FULL would close that at a large
 * cost per commit.
 *
 * Concurrency: better-sqlite3 is synchronous and we are one thread, so each statement is
 * atomic by itself. Writes go through one write connection, in arrival order, by group
 * commit: transactions and single writes (put/insert/delete/job operations) queue up, and
 * the writes queued during one turn of the event loop run one after the other inside one
 * BEGIN IMMEDIATE ... COMMIT, each in its own savepoint (a failing one is rolled back alone),
 * each caller answered after that COMMIT (see enqueueWrite). An async mutex keeps groups (and
 * close) apart, across a transaction callback's awaits. Reads outside a transaction never
 * queue behind writes and see exactly the last committed state: between groups they use the
 * write connection (its page cache stays warm; see read()), while a group is open the second,
 * read-only connection, which never sees the uncommitted writes of a group waiting on an
 * await. (Figures for every operation: store.bench.ts.)
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { backoffDelayMs } from '../backoff.js';
import { checkLimit, rangeBounds } from '../keys.js';
import { Mutex } from '../mutex.js';
import { TxScope } from '../tx-scope.js';
import type {
  BlobStore,
  DeadJob,
  EnqueueOptions,
  Job,
  JobQueue,
  KvEntry,
  QueueStats,
  ScanOptions,
  Store,
  Transaction,
} from '../store.js';
import { WakeEmitter } from '../wake.js';

type Db = BetterSqlite3.Database;
type Stmt = BetterSqlite3.Statement;

/**
 * The SQLite driver for the Node.js that runs us: better-sqlite3 13 needs Node 22+ (it crashes
 * Node 20), and 12 — the last that runs on Node 20 — aborts Node 24.19+ when the garbage
 * collector frees a statement. Both are installed (13 as the alias `better-sqlite3-13`, a
 * prebuilt Node-API binary); the same API serves both.
 */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
export const SQLITE_DRIVER = NODE_MAJOR >= 22 ? 'better-sqlite3-13' : 'better-sqlite3';
const Database = createRequire(import.meta.url)(SQLITE_DRIVER) as typeof BetterSqlite3;

export interface SqliteStoreOptions {
  /** The directory that holds nimbus.db; or `path` for an exact file. */
  dataDir?: string;
  path?: string;
  clock: Clock;
  logger: Logger;
  /** busy_timeout in ms (another process holding the file). Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Checkpoint the WAL in a background worker thread after this many commits (default 20, and
   * at most every CHECKPOINT_MIN_INTERVAL_MS unless CHECKPOINT_MAX_COMMITS piled up), instead
   * of on the event loop; 0: SQLite's own automatic checkpoints only. Small, frequent
   * checkpoints keep each one's fsyncs short: measured here, checkpoints of 200 commits of an
   * SNS fan-out (~20 rows each) made the event loop's next COMMIT wait 13-43 ms on them, while
   * checkpoints of 20 commits made none wait over 4 ms.
   */
  checkpointEveryCommits?: number;
}

/** SQLite's automatic checkpoint (on the event loop) stays as a safety net at this WAL size. */
const SAFETY_AUTOCHECKPOINT_PAGES = 10_000;
/** SQLite's own default, back in force when the background checkpointer is unavailable. */
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** Background checkpoints are this far apart at least (a busy server commits thousands of times a second)... */
const CHECKPOINT_MIN_INTERVAL_MS = 100;
/** ...unless this many commits piled up since the last one. */
const CHECKPOINT_MAX_COMMITS = 1000;

interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql`, in the same transaction. */
  run?: (db: Db) => void;
}

/**
 * Values longer than this (JSON text, in UTF-16 units) live out of line, in kv_values: kv is a
 * WITHOUT ROWID table, whose B-tree pages hold whole rows, interior pages included. Rows larger
 * than about a quarter of a page spill onto overflow pages, and SQLite reads a spilled row in
 * full (a pread that bypasses its page cache) each time a search compares a key with it; and
 * large rows leave few keys per interior page. Measured on 20,000 SQS-sized messages (~1.2 KB):
 * a queue-record read plus a one-row range scan took 19.2 µs with the messages inline, 6.2 µs
 * with them out of line, and the writes half as long.
 */
const INLINE_VALUE_MAX = 400;

/** Numbered migrations, applied in order, each once, in one transaction at open. Append only. */
const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'kv, blobs, jobs, dead jobs',
    sql: `
      CREATE TABLE kv (
        collection TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (collection, key)
      ) WITHOUT ROWID;
      CREATE TABLE blobs (
        key TEXT PRIMARY KEY,
        data BLOB NOT NULL
      );
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        visible_at INTEGER NOT NULL,
        lease_token TEXT,
        lease_until INTEGER,
        last_error TEXT
      );
      CREATE INDEX jobs_queue_visible ON jobs (queue, visible_at, seq);
      CREATE TABLE dead_jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        queue TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        enqueued_at INTEGER NOT NULL,
        died_at INTEGER NOT NULL,
        last_error TEXT
      );
      CREATE INDEX dead_jobs_queue ON dead_jobs (queue, seq);
    `,
  },
  {
    version: 2,
    name: 'large kv values out of line (kv_values)',
    sql: `
      ALTER TABLE kv ADD COLUMN vid INTEGER;
      CREATE TABLE kv_values (
        id INTEGER PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- A kv row that lets go of its kv_values row (deleted, or given another value) frees it.
      CREATE TRIGGER kv_values_unlink_update AFTER UPDATE OF vid ON kv
        WHEN old.vid IS NOT NULL AND old.vid IS NOT new.vid
        BEGIN DELETE FROM kv_values WHERE id = old.vid; END;
      CREATE TRIGGER kv_values_unlink_delete AFTER DELETE ON kv
        WHEN old.vid IS NOT NULL
        BEGIN DELETE FROM kv_values WHERE id = old.vid; END;
    `,
    // Rows written before: move their large values out, as a write would now.
    run: (db) => {
      const rows = db
        .prepare('SELECT collection, key, value FROM kv WHERE length(value) > ?')
        .raw(true)
        .all(INLINE_VALUE_MAX) as [string, string, string][];
      const add = db.prepare('INSERT INTO kv_values (value) VALUES (?)');
      const set = db.prepare(`UPDATE kv SET value = '', vid = ? WHERE collection = ? AND key = ?`);
      for (const [collection, key, value] of rows) set.run(add.run(value).lastInsertRowid, collection, key);
    },
  },
];

export const DEFAULT_MAX_ATTEMPTS = 3;

interface JobRow {
  seq: number;
  id: string;
  queue: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  enqueued_at: number;
  visible_at: number;
  lease_token: string | null;
  lease_until: number | null;
  last_error: string | null;
}

interface DeadRow {
  id: string;
  queue: string;
  payload: string;
  attempts: number;
  enqueued_at: number;
  died_at: number;
  last_error: string | null;
}

/**
 * How every statement here takes a LIMIT. A plain `LIMIT ?` is a parameter the query planner
 * reads (this SQLite build has STAT4), so binding it marks the statement expired and each run
 * prepares it again: 5.6-7 µs for a one-row range read, against 1.6 with the cast (measured).
 */
const LIMIT_PARAM = 'LIMIT CAST(? AS INTEGER)';

/** A connection with its prepared statements cached by SQL text. */
class Conn {
  private readonly cache = new Map<string, Stmt>();
  private readonly plucked = new Map<string, Stmt>();
  /** kvScan's statements (raw mode), by the shape of the scan. */
  readonly scans = new Map<string, Stmt>();
  constructor(readonly db: Db) {}
  stmt(sql: string): Stmt {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
  /** A statement that returns the first column's value instead of a row object. */
  pluck(sql: string): Stmt {
    let s = this.plucked.get(sql);
    if (!s) this.plucked.set(sql, (s = this.db.prepare(sql).pluck(true)));
    return s;
  }
}

function encode(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('Store values must be JSON-serialisable (got undefined)');
  return text;
}

function decode<T>(text: string): T {
  return JSON.parse(text) as T;
}

function whereRange(opts: Omit<ScanOptions, 'limit' | 'reverse'> | undefined): {
  sql: string;
  args: string[];
} {
  const bounds = rangeBounds(opts);
  return {
    sql: bounds.map((b) => ` AND key ${b.op} ?`).join(''),
    args: bounds.map((b) => b.value),
  };
}

// ---- synchronous operations on one connection (the async API wraps these) ----

/**
 * A kv row's value: inline in `value`, or (when `vid` is set, `value` then empty) the kv_values
 * row it names (see INLINE_VALUE_MAX).
 */
const VALUE_OF_ROW = `CASE WHEN vid IS NULL THEN value ELSE (SELECT v.value FROM kv_values v WHERE v.id = kv.vid) END`;

function kvGet<T>(c: Conn, collection: string, key: string): T | undefined {
  // pluck: the value column itself, no row object.
  const text = c
    .pluck(`SELECT ${VALUE_OF_ROW} FROM kv WHERE collection = ? AND key = ?`)
    .get(collection, key) as string | undefined;
  return text === undefined ? undefined : decode<T>(text);
}

function kvScan<T>(c: Conn, collection: string, opts: ScanOptions = {}): KvEntry<T>[] {
  const limit = checkLimit(opts.limit);
  if (limit === 0) return [];
  const bounds = rangeBounds(opts);
  // The statement depends only on the bounds' operators, the order and whether there is a
  // limit: cache it under that short shape instead of building its SQL text on every call.
  let shape = opts.reverse ? 'D' : 'A';
  if (limit !== undefined) shape += 'L';
  const args: unknown[] = [collection];
  for (const b of bounds) {
    shape += b.op;
    args.push(b.value);
  }
  if (limit !== undefined) args.push(limit);
  let stmt = c.scans.get(shape);
  if (!stmt) {
    const sql =
      `SELECT key, ${VALUE_OF_ROW} FROM kv WHERE collection = ?${bounds.map((b) => ` AND key ${b.op} ?`).join('')}` +
      ` ORDER BY key ${opts.reverse ? 'DESC' : 'ASC'}${limit !== undefined ? ` ${LIMIT_PARAM}` : ''}`;
    c.scans.set(shape, (stmt = c.db.prepare(sql).raw(true)));
  }
  // raw: rows as [key, value] arrays, no row objects.
  const rows = stmt.all(...args) as [string, string][];
  const out: KvEntry<T>[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = { key: rows[i][0], value: decode<T>(rows[i][1]) };
  return out;
}

function kvCount(c: Conn, collection: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): number {
  const w = whereRange(opts);
  const row = c
    .stmt(`SELECT count(*) AS n FROM kv WHERE collection = ?${w.sql}`)
    .get(collection, ...w.args) as {
    n: number;
  };
  return row.n;
}

/** The kv_values row of a key's current value; null when inline; undefined when there is no row. */
function valueId(c: Conn, collection: string, key: string): number | null | undefined {
  return c.pluck('SELECT vid FROM kv WHERE collection = ? AND key = ?').get(collection, key) as
    number | null | undefined;
}

function kvPut(c: Conn, collection: string, key: string, value: unknown): void {
  const text = encode(value);
  if (text.length <= INLINE_VALUE_MAX) {
    // An out-of-line value this replaces is freed by the kv_values_unlink_update trigger.
    c.stmt(
      `INSERT INTO kv (collection, key, value, vid) VALUES (?, ?, ?, NULL)
       ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value, vid = NULL`,
    ).run(collection, key, text);
    return;
  }
  // Out of line: an existing kv_values row takes the new value and the kv row stays as it is.
  const old = valueId(c, collection, key);
  if (old != null) {
    c.stmt('UPDATE kv_values SET value = ? WHERE id = ?').run(text, old);
    return;
  }
  const vid = c.stmt('INSERT INTO kv_values (value) VALUES (?)').run(text).lastInsertRowid;
  c.stmt(
    `INSERT INTO kv (collection, key, value, vid) VALUES (?, ?, '', ?)
     ON CONFLICT (collection, key) DO UPDATE SET value = '', vid = excluded.vid`,
  ).run(collection, key, vid);
}

function kvInsert(c: Conn, collection: string, key: string, value: unknown): boolean {
  const text = encode(value);
  if (text.length <= INLINE_VALUE_MAX)
    return (
      c
        .stmt('INSERT INTO kv (collection, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING')
        .run(collection, key, text).changes === 1
    );
  if (valueId(c, collection, key) !== undefined) return false;
  const vid = c.stmt('INSERT INTO kv_values (value) VALUES (?)').run(text).lastInsertRowid;
  c.stmt(`INSERT INTO kv (collection, key, value, vid) VALUES (?, ?, '', ?)`).run(collection, key, vid);
  return true;
}

// Deletes free their out-of-line values through the kv_values_unlink_delete trigger; `changes`
// counts the kv rows only.
function kvDelete(c: Conn, collection: string, key: string): boolean {
  return c.stmt('DELETE FROM kv WHERE collection = ? AND key = ?').run(collection, key).changes === 1;
}

function kvDeleteRange(c: Conn, collection: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): number {
  const w = whereRange(opts);
  return c.stmt(`DELETE FROM kv WHERE collection = ?${w.sql}`).run(collection, ...w.args).changes;
}

function checkEnqueue(queue: string, opts: EnqueueOptions): { delayMs: number; maxAttempts: number } {
  if (!queue) throw new TypeError('queue name must not be empty');
  const delayMs = opts.delayMs ?? 0;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  return { delayMs, maxAttempts };
}

function jobEnqueue(
  c: Conn,
  now: number,
  queue: string,
  payload: unknown,
  opts: EnqueueOptions = {},
): { id: string; created: boolean } {
  const { delayMs, maxAttempts } = checkEnqueue(queue, opts);
  const id = opts.id ?? randomUUID();
  if (opts.id !== undefined && c.stmt('SELECT 1 FROM dead_jobs WHERE id = ?').get(id))
    return { id, created: false };
  const res = c
    .stmt(
      `INSERT INTO jobs (id, queue, payload, attempts, max_attempts, enqueued_at, visible_at)
       VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .run(id, queue, encode(payload), maxAttempts, now, now + delayMs);
  return { id, created: res.changes === 1 };
}

function toJob<P>(r: JobRow): Job<P> {
  const job: Job<P> = {
    id: r.id,
    queue: r.queue,
    payload: decode<P>(r.payload),
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    enqueuedAt: r.enqueued_at,
    leaseUntil: r.lease_until ?? 0,
    leaseToken: r.lease_token ?? '',
  };
  if (r.last_error !== null) job.lastError = r.last_error;
  return job;
}

function toDead<P>(r: DeadRow): DeadJob<P> {
  const d: DeadJob<P> = {
    id: r.id,
    queue: r.queue,
    payload: decode<P>(r.payload),
    attempts: r.attempts,
    enqueuedAt: r.enqueued_at,
    diedAt: r.died_at,
  };
  if (r.last_error !== null) d.lastError = r.last_error;
  return d;
}

function moveToDead(c: Conn, r: JobRow, now: number, error: string | null): void {
  c.stmt('DELETE FROM jobs WHERE seq = ?').run(r.seq);
  c.stmt(
    `INSERT INTO dead_jobs (id, queue, payload, attempts, enqueued_at, died_at, last_error)
     VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
  ).run(r.id, r.queue, r.payload, r.attempts, r.enqueued_at, now, error);
}

function leasedRow(c: Conn, job: Pick<Job, 'id' | 'leaseToken'>): JobRow | undefined {
  if (!job.leaseToken) return undefined;
  return c.stmt('SELECT * FROM jobs WHERE id = ? AND lease_token = ?').get(job.id, job.leaseToken) as
    JobRow | undefined;
}

const LEASE_EXPIRED_ERROR = 'lease expired on the last attempt';

interface QueuedWrite {
  exec: (c: Conn, woken: Set<string>) => Promise<unknown> | unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly description: string;
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;

  private readonly w: Conn;
  private readonly r: Conn;
  /** Held by a group commit (and by close). */
  private readonly mutex = new Mutex();
  private queued: QueuedWrite[] = [];
  private batchScheduled = false;
  private readonly path: string;
  private checkpointEvery: number;
  private commitsSinceCheckpoint = 0;
  private lastCheckpointAt = 0;
  private checkpointer: Worker | undefined;
  private checkpointRunning = false;
  private closing = false;
  /** Background checkpoints completed (for tests). */
  checkpoints = 0;
  private readonly inTx = new TxScope();
  private readonly wake: WakeEmitter;
  private readonly notified: WakeEmitter;
  private closed = false;

  constructor(private readonly opts: SqliteStoreOptions) {
    const path = opts.path ?? join(opts.dataDir ?? '.nimbus', 'nimbus.db');
    if (!opts.path) mkdirSync(opts.dataDir ?? '.nimbus', { recursive: true });
    this.path = path;
    this.description = `sqlite:${path}`;
    this.checkpointEvery = opts.checkpointEveryCommits ?? 20;
    this.wake = new WakeEmitter(opts.logger);
    this.notified = new WakeEmitter(opts.logger);
    const busy = opts.busyTimeoutMs ?? 5000;
    const wdb = new Database(path);
    wdb.pragma('journal_mode = WAL');
    wdb.pragma('synchronous = NORMAL');
    wdb.pragma(`busy_timeout = ${busy}`);
    wdb.pragma('foreign_keys = ON');
    if (this.checkpointEvery > 0) wdb.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
    this.w = new Conn(wdb);
    this.migrate();
    const rdb = new Database(path, { readonly: true });
    rdb.pragma(`busy_timeout = ${busy}`);
    this.r = new Conn(rdb);
    this.jobs = this.makeJobs();
    this.blobs = this.makeBlobs();
  }

  private migrate(): void {
    const db = this.w.db;
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
      const current = row.v ?? 0;
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        db.exec(m.sql);
        m.run?.(db);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          this.opts.clock.now(),
        );
        this.opts.logger.info('storage migration applied', {
          store: 'sqlite',
          version: m.version,
          name: m.name,
        });
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }

  private check(): void {
    if (this.closed) throw new Error('the Store is closed');
  }

  private read<T>(fn: (c: Conn) => T): Promise<T> {
    try {
      this.check();
      // Between group commits the write connection sees exactly the last committed state, and
      // its page cache stays warm: in WAL mode a connection drops its whole page cache when it
      // finds that another connection committed since its last read, which the read-only
      // connection finds on nearly every read under a write load. While a group is open (its
      // callbacks awaiting), reads go to the read-only connection, which never sees the
      // group's uncommitted writes.
      return Promise.resolve(fn(this.w.db.inTransaction ? this.r : this.w));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A write outside a transaction: queued for the next group commit, runs fn atomically. */
  private write<T>(fn: (c: Conn) => T): Promise<T> {
    if (this.inTx.inside())
      return Promise.reject(
        new Error('Store write inside a transaction callback: use the transaction object, not the Store'),
      );
    return this.enqueueWrite((c) => fn(c));
  }

  /** Several statements as one atomic unit on the write connection. */
  private writeAtomic<T>(fn: (c: Conn) => T): Promise<T> {
    // Inside the group's transaction better-sqlite3 makes this a savepoint.
    return this.write((c) => c.db.transaction(() => fn(c)).immediate());
  }

  /**
   * Group commit. Every write (a transaction callback or a single write) is queued; the queue
   * runs at the end of the event loop's current I/O phase (setImmediate), so the writes of all
   * the requests that arrived together share one BEGIN IMMEDIATE ... COMMIT — one WAL commit
   * and one round of file locking instead of one per write. They run one after the other in
   * arrival order (FIFO, serialisable as before), each in its own SAVEPOINT: a write that fails
   * is rolled back alone and rejected; the others go on. Every caller is answered only after
   * the COMMIT that holds its write (never before: durability is unchanged).
   */
  private enqueueWrite<T>(exec: (c: Conn, woken: Set<string>) => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the Store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ exec, resolve: resolve as (v: unknown) => void, reject });
      this.scheduleQueued();
    });
  }

  /** Runs everything queued so far as one group (waits for the write connection first). */
  private runQueued(): Promise<void> {
    return this.mutex.run(async () => {
      this.batchScheduled = false;
      const group = this.queued;
      this.queued = [];
      if (group.length === 0) return;
      if (this.closed) {
        for (const q of group) q.reject(new Error('the Store is closed'));
        return;
      }
      try {
        await this.commitGroup(group);
      } catch (err) {
        // Not expected (commitGroup settles every write itself): fail what is not settled yet
        // (settled promises ignore this) and leave no transaction open.
        for (const q of group) q.reject(err);
        if (!this.closed && this.w.db.inTransaction) this.w.stmt('ROLLBACK').run();
        this.opts.logger.error('group commit failed', { store: 'sqlite', err });
      }
    });
  }

  private scheduleQueued(): void {
    if (this.batchScheduled) return;
    this.batchScheduled = true;
    setImmediate(() =>
      this.runQueued().catch((err: unknown) =>
        this.opts.logger.error('group commit failed', { store: 'sqlite', err }),
      ),
    );
  }

  private async commitGroup(group: QueuedWrite[]): Promise<void> {
    const c = this.w;
    try {
      c.stmt('BEGIN IMMEDIATE').run();
    } catch (err) {
      for (const q of group) q.reject(err);
      return;
    }
    const savepoints = group.length > 1;
    const done: { q: QueuedWrite; value: unknown; woken: Set<string> }[] = [];
    // One switch of the transaction guard's promise hooks for the whole group (see TxScope.hold).
    if (savepoints) this.inTx.hold();
    try {
      if (!(await this.runGroup(c, group, savepoints, done))) return;
    } finally {
      if (savepoints) this.inTx.release();
    }
    if (!c.db.inTransaction) return; // the one write of the group failed and was rolled back
    try {
      c.stmt('COMMIT').run();
    } catch (err) {
      for (const d of done) d.q.reject(err);
      if (c.db.inTransaction) c.stmt('ROLLBACK').run();
      return;
    }
    for (const d of done) for (const q of d.woken) this.wake.emit(q);
    for (const d of done) d.q.resolve(d.value);
    if (
      this.checkpointEvery > 0 &&
      ++this.commitsSinceCheckpoint >= this.checkpointEvery &&
      (this.commitsSinceCheckpoint >= CHECKPOINT_MAX_COMMITS ||
        performance.now() - this.lastCheckpointAt >= CHECKPOINT_MIN_INTERVAL_MS)
    ) {
      try {
        this.checkpoint();
      } catch (err) {
        // No worker thread here: checkpoints stay on the event loop, as SQLite does by itself.
        this.checkpointsOnEventLoop('background checkpointer unavailable', err);
      }
    }
  }

  /**
   * Runs a group's writes inside its open transaction, each in its own savepoint when there are
   * several; false when SQLite ended the transaction (the group was queued again).
   */
  private async runGroup(
    c: Conn,
    group: QueuedWrite[],
    savepoints: boolean,
    done: { q: QueuedWrite; value: unknown; woken: Set<string> }[],
  ): Promise<boolean> {
    for (let i = 0; i < group.length; i++) {
      const q = group[i];
      const woken = new Set<string>();
      try {
        if (savepoints) c.stmt('SAVEPOINT nimbus_write').run();
        const value = await q.exec(c, woken);
        if (savepoints) c.stmt('RELEASE nimbus_write').run();
        done.push({ q, value, woken });
      } catch (err) {
        q.reject(err);
        let lost = !c.db.inTransaction;
        if (!lost) {
          try {
            if (savepoints) {
              c.stmt('ROLLBACK TO nimbus_write').run();
              c.stmt('RELEASE nimbus_write').run();
            } else c.stmt('ROLLBACK').run();
          } catch {
            lost = true;
            if (c.db.inTransaction) c.stmt('ROLLBACK').run();
          }
        }
        if (lost) {
          // SQLite ended the whole transaction (an I/O error, a full disk): the writes done so
          // far are gone. Run them (callbacks may run more than once) and the rest again.
          this.queued.unshift(...done.map((d) => d.q), ...group.slice(i + 1));
          this.scheduleQueued();
          return false;
        }
      }
    }
    return true;
  }

  /** Hands checkpoints back to SQLite's automatic checkpoint at its default WAL size. */
  private checkpointsOnEventLoop(why: string, err: unknown): void {
    this.opts.logger.warn(why, { store: 'sqlite', err });
    this.checkpointEvery = 0;
    if (!this.closed) this.w.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }

  /**
   * Asks the background checkpointer (started on first use) to checkpoint the WAL. If it
   * fails, SQLite's automatic checkpoint on the event loop takes over again.
   */
  private checkpoint(): void {
    if (this.checkpointRunning || this.closing) return;
    this.commitsSinceCheckpoint = 0;
    this.lastCheckpointAt = performance.now();
    if (!this.checkpointer) {
      const worker = new Worker(new URL('./checkpointer.js', import.meta.url), {
        workerData: { path: this.path, driver: SQLITE_DRIVER },
      });
      worker.unref();
      worker.on('message', (m: { ok: boolean; error?: string }) => {
        this.checkpointRunning = false;
        if (m.ok) this.checkpoints++;
        else this.opts.logger.warn('background WAL checkpoint failed', { store: 'sqlite', error: m.error });
      });
      worker.on('error', (err) => {
        this.checkpointRunning = false;
        this.checkpointsOnEventLoop(
          'background checkpointer stopped; checkpoints back on the event loop',
          err,
        );
      });
      worker.on('exit', () => {
        this.checkpointRunning = false;
        if (this.checkpointer === worker) this.checkpointer = undefined;
      });
      this.checkpointer = worker;
    }
    this.checkpointRunning = true;
    this.checkpointer.postMessage('checkpoint');
  }

  get<T = unknown>(collection: string, key: string): Promise<T | undefined> {
    return this.read((c) => kvGet<T>(c, collection, key));
  }
  getMany<T = unknown>(collection: string, keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.read((c) => keys.map((k) => kvGet<T>(c, collection, k)));
  }
  scan<T = unknown>(collection: string, opts?: ScanOptions): Promise<KvEntry<T>[]> {
    return this.read((c) => kvScan<T>(c, collection, opts));
  }
  count(collection: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    return this.read((c) => kvCount(c, collection, opts));
  }
  put<T = unknown>(collection: string, key: string, value: T): Promise<void> {
    return this.write((c) => kvPut(c, collection, key, value));
  }
  insert<T = unknown>(collection: string, key: string, value: T): Promise<boolean> {
    return this.write((c) => kvInsert(c, collection, key, value));
  }
  delete(collection: string, key: string): Promise<boolean> {
    return this.write((c) => kvDelete(c, collection, key));
  }
  deleteRange(collection: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    return this.write((c) => kvDeleteRange(c, collection, opts));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.inTx.inside())
      throw new Error('nested Store.transaction inside a transaction callback: use the outer transaction');
    return this.enqueueWrite(async (c, woken) => {
      let active = true;
      const guard = <R>(f: () => R): Promise<R> => {
        if (!active) return Promise.reject(new Error('transaction already finished'));
        try {
          return Promise.resolve(f());
        } catch (err) {
          return Promise.reject(err);
        }
      };
      const tx: Transaction = {
        get: (col, key) => guard(() => kvGet(c, col, key)),
        getMany: (col, keys) => guard(() => keys.map((k) => kvGet(c, col, k))),
        scan: (col, o) => guard(() => kvScan(c, col, o)),
        count: (col, o) => guard(() => kvCount(c, col, o)),
        put: (col, key, value) => guard(() => kvPut(c, col, key, value)),
        insert: (col, key, value) => guard(() => kvInsert(c, col, key, value)),
        delete: (col, key) => guard(() => kvDelete(c, col, key)),
        deleteRange: (col, o) => guard(() => kvDeleteRange(c, col, o)),
        enqueue: (queue, payload, o) =>
          guard(() => {
            const res = jobEnqueue(c, this.opts.clock.now(), queue, payload, o);
            if (res.created) woken.add(queue);
            return res;
          }),
      };
      try {
        return await this.inTx.run(() => fn(tx));
      } finally {
        active = false;
      }
    });
  }

  private makeJobs(): JobQueue {
    const clock = this.opts.clock;
    return {
      enqueue: async (queue, payload, o) => {
        const res = await this.write((c) => jobEnqueue(c, clock.now(), queue, payload, o));
        if (res.created) this.wake.emit(queue);
        return res;
      },
      claim: async <P>(queue: string, o: { limit?: number; leaseMs: number }) => {
        const limit = o.limit ?? 1;
        if (!Number.isInteger(limit) || limit < 1)
          throw new RangeError(`claim limit must be >= 1, got ${limit}`);
        if (!Number.isFinite(o.leaseMs) || o.leaseMs <= 0) throw new RangeError('leaseMs must be > 0');
        return this.writeAtomic((c) => {
          const now = clock.now();
          const out: Job<P>[] = [];
          for (;;) {
            const rows = c
              .stmt(
                `SELECT * FROM jobs WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq ${LIMIT_PARAM}`,
              )
              .all(queue, now, limit - out.length) as JobRow[];
            let died = 0;
            for (const r of rows) {
              if (r.attempts >= r.max_attempts) {
                // Its last attempt's lease ran out without ack or retry: a crashed worker. Dead-letter it.
                moveToDead(c, r, now, r.last_error ?? LEASE_EXPIRED_ERROR);
                died++;
                continue;
              }
              const token = randomUUID();
              const until = now + o.leaseMs;
              c.stmt(
                'UPDATE jobs SET attempts = attempts + 1, lease_token = ?, lease_until = ?, visible_at = ? WHERE seq = ?',
              ).run(token, until, until, r.seq);
              out.push(
                toJob<P>({
                  ...r,
                  attempts: r.attempts + 1,
                  lease_token: token,
                  lease_until: until,
                  visible_at: until,
                }),
              );
            }
            if (died === 0 || rows.length === 0 || out.length >= limit) return out;
          }
        });
      },
      ack: (job) =>
        this.write(
          (c) =>
            c.stmt('DELETE FROM jobs WHERE id = ? AND lease_token = ?').run(job.id, job.leaseToken)
              .changes === 1,
        ),
      retry: async (job, o = {}) => {
        const res = await this.writeAtomic((c) => {
          const r = leasedRow(c, job);
          if (!r) return { ok: false, wake: '' };
          const now = clock.now();
          if (r.attempts >= r.max_attempts) {
            moveToDead(c, r, now, o.error ?? r.last_error);
            return { ok: true, wake: '' };
          }
          const delay = o.delayMs ?? backoffDelayMs(r.attempts);
          if (!Number.isFinite(delay) || delay < 0)
            throw new RangeError(`delayMs must be >= 0, got ${delay}`);
          c.stmt(
            'UPDATE jobs SET visible_at = ?, lease_token = NULL, lease_until = NULL, last_error = ? WHERE seq = ?',
          ).run(now + delay, o.error ?? r.last_error, r.seq);
          return { ok: true, wake: r.queue };
        });
        if (res.wake) this.wake.emit(res.wake);
        return res.ok;
      },
      kill: (job, o = {}) =>
        this.writeAtomic((c) => {
          const r = leasedRow(c, job);
          if (!r) return false;
          moveToDead(c, r, clock.now(), o.error ?? r.last_error);
          return true;
        }),
      extend: (job, leaseMs) => {
        if (!Number.isFinite(leaseMs) || leaseMs <= 0)
          return Promise.reject(new RangeError('leaseMs must be > 0'));
        return this.write((c) => {
          const until = clock.now() + leaseMs;
          return (
            c
              .stmt('UPDATE jobs SET lease_until = ?, visible_at = ? WHERE id = ? AND lease_token = ?')
              .run(until, until, job.id, job.leaseToken).changes === 1
          );
        });
      },
      deadLetters: <P>(queue: string, o: { limit?: number } = {}) =>
        this.read((c) => {
          const limit = checkLimit(o.limit) ?? -1;
          const rows = c
            .stmt(`SELECT * FROM dead_jobs WHERE queue = ? ORDER BY seq ${LIMIT_PARAM}`)
            .all(queue, limit) as DeadRow[];
          return rows.map((r) => toDead<P>(r));
        }),
      stats: (queue) =>
        this.read((c): QueueStats => {
          const now = clock.now();
          const row = c
            .stmt(
              `SELECT
                 coalesce(sum(visible_at <= ?), 0) AS ready,
                 coalesce(sum(visible_at > ? AND lease_token IS NOT NULL), 0) AS inFlight,
                 coalesce(sum(visible_at > ? AND lease_token IS NULL), 0) AS delayed
               FROM jobs WHERE queue = ?`,
            )
            .get(now, now, now, queue) as { ready: number; inFlight: number; delayed: number };
          const dead = (
            c.stmt('SELECT count(*) AS n FROM dead_jobs WHERE queue = ?').get(queue) as { n: number }
          ).n;
          return { ready: row.ready, inFlight: row.inFlight, delayed: row.delayed, dead };
        }),
      nextVisibleAt: (queue) =>
        this.read((c) => {
          const row = c.stmt('SELECT min(visible_at) AS t FROM jobs WHERE queue = ?').get(queue) as {
            t: number | null;
          };
          return row.t ?? undefined;
        }),
      onWake: (queue, listener) => this.wake.on(queue, listener),
    };
  }

  private makeBlobs(): BlobStore {
    return {
      put: (key, data) =>
        this.write((c) => {
          c.stmt('INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)').run(key, data);
        }),
      get: (key) =>
        this.read((c) => {
          const row = c.stmt('SELECT data FROM blobs WHERE key = ?').get(key) as { data: Buffer } | undefined;
          return row?.data;
        }),
      has: (key) => this.read((c) => c.stmt('SELECT 1 FROM blobs WHERE key = ?').get(key) !== undefined),
      delete: (key) => this.write((c) => c.stmt('DELETE FROM blobs WHERE key = ?').run(key).changes === 1),
    };
  }

  /** One process owns the file: a notify is an in-process event. */
  async notify(channel: string): Promise<void> {
    this.notified.emit(channel);
  }

  onNotify(channel: string, listener: () => void): () => void {
    return this.notified.on(channel, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.runQueued(); // writes queued before close still commit
    this.closing = true;
    const worker = this.checkpointer;
    if (worker) {
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      worker.ref(); // keep the event loop alive until it has closed its connection
      worker.postMessage('close');
      await exited;
    }
    await this.mutex.run(() => {
      this.closed = true;
      this.r.db.close();
      this.w.db.close();
    });
  }
}

export function openSqliteStore(opts: SqliteStoreOptions): Promise<SqliteStore> {
  return Promise.resolve(new SqliteStore(opts));
}
