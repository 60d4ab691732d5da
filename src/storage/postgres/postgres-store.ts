/**
 * The cluster Store: PostgreSQL through the `postgres` client (pooled connections, prepared
 * statements). Several Nimbus nodes share one database.
 *
 * - Keys are `bytea` holding the key's UTF-8 bytes: bytea compares bytewise (= code point
 *   order, like SQLite's BINARY text) and, unlike text, accepts U+0000.
 * - Values are the JSON text in a `text` column: exact round trip (jsonb would reorder keys,
 *   drop duplicate keys and refuse \u0000), and no engine queries inside values.
 * - `transaction()` runs SERIALIZABLE and reruns the callback on serialisation failure
 *   (40001) or deadlock (40P01), with a short random back-off.
 * - Migrations take `pg_advisory_xact_lock`, so nodes starting at once apply each one once.
 * - Jobs are claimed with `FOR UPDATE SKIP LOCKED`; wake-ups go through NOTIFY on one channel
 *   (`nimbus_jobs`, payload = queue name) and one LISTEN connection per node. NOTIFY inside
 *   a transaction is delivered on commit only.
 * - Time comes from the injected Clock, never from now() on the server.
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { backoffDelayMs } from '../backoff.js';
import { checkLimit, rangeBounds } from '../keys.js';
import type {
  BlobStore,
  DeadJob,
  EnqueueOptions,
  Job,
  JobQueue,
  KvEntry,
  KvWriter,
  QueueStats,
  ScanOptions,
  Store,
  Transaction,
} from '../store.js';
import { TxScope } from '../tx-scope.js';
import { WakeEmitter } from '../wake.js';

export interface PostgresStoreOptions {
  url: string;
  clock: Clock;
  logger: Logger;
  /** Pool size (default 10). */
  max?: number;
  /** A schema to keep the tables in (search_path), e.g. one per test; default the server's (public). */
  schema?: string;
}

type Sql = postgres.Sql | postgres.TransactionSql;
type Row = Record<string, any>;

const WAKE_CHANNEL = 'nimbus_jobs';
/** Store.notify: payload = the caller's channel name. */
const NOTIFY_CHANNEL = 'nimbus_notify';
const MIGRATION_LOCK = 0x6e696d62; // "nimb"
const DEFAULT_MAX_ATTEMPTS = 3;
const MAX_TX_RETRIES = 100;
const LEASE_EXPIRED_ERROR = 'lease expired on the last attempt';

const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'kv, blobs, jobs, dead jobs',
    sql: `
      CREATE TABLE kv (
        collection text NOT NULL,
        key bytea NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (collection, key)
      );
      CREATE TABLE blobs (
        key text COLLATE "C" PRIMARY KEY,
        data bytea NOT NULL
      );
      CREATE TABLE jobs (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        queue text NOT NULL,
        payload text NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        enqueued_at bigint NOT NULL,
        visible_at bigint NOT NULL,
        lease_token text,
        lease_until bigint,
        last_error text
      );
      CREATE INDEX jobs_queue_visible ON jobs (queue, visible_at, seq);
      CREATE TABLE dead_jobs (
        seq bigserial PRIMARY KEY,
        id text NOT NULL UNIQUE,
        queue text NOT NULL,
        payload text NOT NULL,
        attempts integer NOT NULL,
        enqueued_at bigint NOT NULL,
        died_at bigint NOT NULL,
        last_error text
      );
      CREATE INDEX dead_jobs_queue ON dead_jobs (queue, seq);
    `,
  },
];

const k = (key: string) => Buffer.from(key, 'utf8');

function encode(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('Store values must be JSON-serialisable (got undefined)');
  return text;
}

function decode<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** `AND key >= $n ...` for the range options; params continue after `first - 1` existing ones. */
function whereRange(opts: Omit<ScanOptions, 'limit' | 'reverse'> | undefined, first: number) {
  const bounds = rangeBounds(opts);
  return {
    sql: bounds.map((b, i) => ` AND key ${b.op} $${first + i}`).join(''),
    args: bounds.map((b) => k(b.value)),
  };
}

function q<T extends Row[] = Row[]>(sql: Sql, text: string, args: unknown[] = []): Promise<T> {
  return sql.unsafe(text, args as any[], { prepare: true }) as unknown as Promise<T>;
}

function kvOps(sql: Sql): KvWriter {
  return {
    async get<T>(collection: string, key: string) {
      const rows = await q(sql, 'SELECT value FROM kv WHERE collection = $1 AND key = $2', [
        collection,
        k(key),
      ]);
      return rows.length ? decode<T>(rows[0].value) : undefined;
    },
    async getMany<T>(collection: string, keys: readonly string[]) {
      if (keys.length === 0) return [];
      const rows = await q(
        sql,
        `SELECT key, value FROM kv
         WHERE collection = $1 AND key IN (SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h)`,
        [collection, keys.map((key) => k(key).toString('hex'))],
      );
      const byKey = new Map<string, string>();
      for (const r of rows) byKey.set((r.key as Buffer).toString('utf8'), r.value);
      return keys.map((key) => {
        const v = byKey.get(key);
        return v === undefined ? undefined : decode<T>(v);
      });
    },
    async scan<T>(collection: string, opts: ScanOptions = {}) {
      const limit = checkLimit(opts.limit);
      if (limit === 0) return [];
      const w = whereRange(opts, 2);
      const args: unknown[] = [collection, ...w.args];
      let text = `SELECT key, value FROM kv WHERE collection = $1${w.sql} ORDER BY key ${opts.reverse ? 'DESC' : 'ASC'}`;
      if (limit !== undefined) {
        args.push(limit);
        text += ` LIMIT $${args.length}`;
      }
      const rows = await q(sql, text, args);
      return rows.map((r): KvEntry<T> => ({
        key: (r.key as Buffer).toString('utf8'),
        value: decode<T>(r.value),
      }));
    },
    async count(collection, opts) {
      const w = whereRange(opts, 2);
      const rows = await q(sql, `SELECT count(*)::int AS n FROM kv WHERE collection = $1${w.sql}`, [
        collection,
        ...w.args,
      ]);
      return rows[0].n as number;
    },
    async put(collection, key, value) {
      await q(
        sql,
        `INSERT INTO kv (collection, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (collection, key) DO UPDATE SET value = excluded.value`,
        [collection, k(key), encode(value)],
      );
    },
    async insert(collection, key, value) {
      const rows = await q(
        sql,
        'INSERT INTO kv (collection, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS ok',
        [collection, k(key), encode(value)],
      );
      return rows.length === 1;
    },
    async delete(collection, key) {
      const rows = await q(sql, 'DELETE FROM kv WHERE collection = $1 AND key = $2 RETURNING 1 AS ok', [
        collection,
        k(key),
      ]);
      return rows.length === 1;
    },
    async deleteRange(collection, opts) {
      const w = whereRange(opts, 2);
      const rows = await q(
        sql,
        `WITH d AS (DELETE FROM kv WHERE collection = $1${w.sql} RETURNING 1) SELECT count(*)::int AS n FROM d`,
        [collection, ...w.args],
      );
      return rows[0].n as number;
    },
  };
}

async function enqueueOn(
  sql: Sql,
  now: number,
  queue: string,
  payload: unknown,
  opts: EnqueueOptions = {},
): Promise<{ id: string; created: boolean }> {
  if (!queue) throw new TypeError('queue name must not be empty');
  const delayMs = opts.delayMs ?? 0;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  const id = opts.id ?? randomUUID();
  // One statement: insert unless the id exists (queued or dead), and NOTIFY (sent at commit).
  const rows = await q(
    sql,
    `WITH ins AS (
       INSERT INTO jobs (id, queue, payload, attempts, max_attempts, enqueued_at, visible_at)
       SELECT $1::text, $2::text, $3::text, 0, $4::int, $5::bigint, $6::bigint
       WHERE NOT EXISTS (SELECT 1 FROM dead_jobs WHERE id = $1::text)
       ON CONFLICT (id) DO NOTHING
       RETURNING queue)
     SELECT pg_notify('${WAKE_CHANNEL}', queue) FROM ins`,
    [id, queue, encode(payload), maxAttempts, now, Math.round(now + delayMs)],
  );
  return { id, created: rows.length === 1 };
}

function toJob<P>(r: Row): Job<P> {
  const job: Job<P> = {
    id: r.id,
    queue: r.queue,
    payload: decode<P>(r.payload),
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    enqueuedAt: Number(r.enqueued_at),
    leaseUntil: Number(r.lease_until ?? 0),
    leaseToken: r.lease_token ?? '',
  };
  if (r.last_error !== null && r.last_error !== undefined) job.lastError = r.last_error;
  return job;
}

function toDead<P>(r: Row): DeadJob<P> {
  const d: DeadJob<P> = {
    id: r.id,
    queue: r.queue,
    payload: decode<P>(r.payload),
    attempts: Number(r.attempts),
    enqueuedAt: Number(r.enqueued_at),
    diedAt: Number(r.died_at),
  };
  if (r.last_error !== null && r.last_error !== undefined) d.lastError = r.last_error;
  return d;
}

function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly description: string;
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;

  private readonly kv: KvWriter;
  private readonly inTx = new TxScope();
  private readonly wake: WakeEmitter;
  private readonly notified: WakeEmitter;
  private unlisten: (() => Promise<void>) | undefined;
  private unlistenNotify: (() => Promise<void>) | undefined;
  private closed = false;

  private constructor(
    private readonly sql: postgres.Sql,
    private readonly opts: PostgresStoreOptions,
  ) {
    const u = new URL(opts.url);
    this.description =
      `postgres://${u.hostname}${u.port ? ':' + u.port : ''}${u.pathname}` +
      (opts.schema ? ` (schema ${opts.schema})` : '');
    this.wake = new WakeEmitter(opts.logger);
    this.notified = new WakeEmitter(opts.logger);
    this.kv = kvOps(sql);
    this.jobs = this.makeJobs();
    this.blobs = this.makeBlobs();
  }

  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const sql = postgres(opts.url, {
      max: opts.max ?? 10,
      onnotice: () => {},
      connection: { application_name: 'nimbus', ...(opts.schema ? { search_path: opts.schema } : {}) },
    });
    const store = new PostgresStore(sql, opts);
    try {
      await store.migrate();
      const sub = await sql.listen(WAKE_CHANNEL, (queue) => store.wake.emit(queue));
      store.unlisten = () => sub.unlisten();
      const nsub = await sql.listen(NOTIFY_CHANNEL, (channel) => store.notified.emit(channel));
      store.unlistenNotify = () => nsub.unlisten();
    } catch (err) {
      await sql.end({ timeout: 1 });
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    await this.sql.begin(async (t) => {
      await t.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await t.unsafe(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`);
      const [row] = await t.unsafe('SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations');
      for (const m of MIGRATIONS) {
        if (m.version <= row.v) continue;
        await t.unsafe(m.sql);
        await t.unsafe('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          this.opts.clock.now(),
        ]);
        this.opts.logger.info('storage migration applied', {
          store: 'postgres',
          version: m.version,
          name: m.name,
        });
      }
    });
  }

  private check(): void {
    if (this.closed) throw new Error('the Store is closed');
    if (this.inTx.inside())
      throw new Error('Store call inside a transaction callback: use the transaction object, not the Store');
  }

  private guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      this.check();
    } catch (err) {
      return Promise.reject(err);
    }
    return fn();
  }

  get<T = unknown>(collection: string, key: string): Promise<T | undefined> {
    return this.guard(() => this.kv.get<T>(collection, key));
  }
  getMany<T = unknown>(collection: string, keys: readonly string[]): Promise<(T | undefined)[]> {
    return this.guard(() => this.kv.getMany<T>(collection, keys));
  }
  scan<T = unknown>(collection: string, opts?: ScanOptions): Promise<KvEntry<T>[]> {
    return this.guard(() => this.kv.scan<T>(collection, opts));
  }
  count(collection: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    return this.guard(() => this.kv.count(collection, opts));
  }
  put<T = unknown>(collection: string, key: string, value: T): Promise<void> {
    return this.guard(() => this.kv.put(collection, key, value));
  }
  insert<T = unknown>(collection: string, key: string, value: T): Promise<boolean> {
    return this.guard(() => this.kv.insert(collection, key, value));
  }
  delete(collection: string, key: string): Promise<boolean> {
    return this.guard(() => this.kv.delete(collection, key));
  }
  deleteRange(collection: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number> {
    return this.guard(() => this.kv.deleteRange(collection, opts));
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.inTx.inside())
      throw new Error('nested Store.transaction inside a transaction callback: use the outer transaction');
    this.check();
    for (let attempt = 1; ; attempt++) {
      let active = true;
      try {
        return (await this.sql.begin('isolation level serializable', async (t) => {
          const ops = kvOps(t);
          const g =
            <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
            (...a: A): Promise<R> =>
              active ? f(...a) : Promise.reject(new Error('transaction already finished'));
          const tx: Transaction = {
            get: g(ops.get),
            getMany: g(ops.getMany),
            scan: g(ops.scan),
            count: g(ops.count),
            put: g(ops.put),
            insert: g(ops.insert),
            delete: g(ops.delete),
            deleteRange: g(ops.deleteRange),
            enqueue: g((queue: string, payload: unknown, o?: EnqueueOptions) =>
              enqueueOn(t, this.opts.clock.now(), queue, payload, o),
            ),
          } as Transaction;
          try {
            return await this.inTx.run(() => fn(tx));
          } finally {
            active = false;
          }
        })) as T;
      } catch (err) {
        if (!isRetryable(err) || attempt >= MAX_TX_RETRIES) throw err;
        // Contention: back off a little (random, growing) and rerun the callback.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
      }
    }
  }

  private makeJobs(): JobQueue {
    const sql = this.sql;
    const clock = this.opts.clock;
    const one = async (text: string, args: unknown[]) => (await q(sql, text, args))[0];
    return {
      enqueue: (queue, payload, o) => this.guard(() => enqueueOn(sql, clock.now(), queue, payload, o)),
      claim: <P>(queue: string, o: { limit?: number; leaseMs: number }) =>
        this.guard(async () => {
          const limit = o.limit ?? 1;
          if (!Number.isInteger(limit) || limit < 1)
            throw new RangeError(`claim limit must be >= 1, got ${limit}`);
          if (!Number.isFinite(o.leaseMs) || o.leaseMs <= 0) throw new RangeError('leaseMs must be > 0');
          const now = clock.now();
          // A last attempt whose lease ran out without ack or retry (its worker died): dead-letter it.
          await q(
            sql,
            `WITH d AS (
               DELETE FROM jobs WHERE seq IN (
                 SELECT seq FROM jobs WHERE queue = $1 AND visible_at <= $2 AND attempts >= max_attempts
                 FOR UPDATE SKIP LOCKED)
               RETURNING *)
             INSERT INTO dead_jobs (id, queue, payload, attempts, enqueued_at, died_at, last_error)
             SELECT id, queue, payload, attempts, enqueued_at, $2::bigint, coalesce(last_error, $3::text) FROM d
             ON CONFLICT (id) DO NOTHING`,
            [queue, now, LEASE_EXPIRED_ERROR],
          );
          const until = Math.round(now + o.leaseMs);
          const rows = await q(
            sql,
            `WITH picked AS (
               SELECT seq, visible_at AS was_visible FROM jobs
               WHERE queue = $1 AND visible_at <= $2 AND attempts < max_attempts
               ORDER BY visible_at, seq LIMIT $3
               FOR UPDATE SKIP LOCKED)
             UPDATE jobs j SET attempts = j.attempts + 1, lease_token = gen_random_uuid()::text,
               lease_until = $4, visible_at = $4
             FROM picked WHERE j.seq = picked.seq
             RETURNING j.*, picked.was_visible`,
            [queue, now, limit, until],
          );
          rows.sort((a, b) => Number(a.was_visible) - Number(b.was_visible) || Number(a.seq) - Number(b.seq));
          return rows.map((r) => toJob<P>(r));
        }),
      ack: (job) =>
        this.guard(async () => {
          if (!job.leaseToken) return false;
          const rows = await q(sql, 'DELETE FROM jobs WHERE id = $1 AND lease_token = $2 RETURNING 1 AS ok', [
            job.id,
            job.leaseToken,
          ]);
          return rows.length === 1;
        }),
      retry: (job, o = {}) =>
        this.guard(async () => {
          if (!job.leaseToken) return false;
          return sql.begin(async (t) => {
            const [r] = await q(t, 'SELECT * FROM jobs WHERE id = $1 AND lease_token = $2 FOR UPDATE', [
              job.id,
              job.leaseToken,
            ]);
            if (!r) return false;
            const now = clock.now();
            if (Number(r.attempts) >= Number(r.max_attempts)) {
              await q(t, 'DELETE FROM jobs WHERE seq = $1', [r.seq]);
              await q(
                t,
                `INSERT INTO dead_jobs (id, queue, payload, attempts, enqueued_at, died_at, last_error)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
                [r.id, r.queue, r.payload, r.attempts, r.enqueued_at, now, o.error ?? r.last_error],
              );
              return true;
            }
            const delay = o.delayMs ?? backoffDelayMs(Number(r.attempts));
            if (!Number.isFinite(delay) || delay < 0)
              throw new RangeError(`delayMs must be >= 0, got ${delay}`);
            await q(
              t,
              `UPDATE jobs SET visible_at = $1, lease_token = NULL, lease_until = NULL, last_error = $2 WHERE seq = $3`,
              [Math.round(now + delay), o.error ?? r.last_error, r.seq],
            );
            await q(t, `SELECT pg_notify('${WAKE_CHANNEL}', $1::text)`, [r.queue]);
            return true;
          });
        }),
      kill: (job, o = {}) =>
        this.guard(async () => {
          if (!job.leaseToken) return false;
          const row = await one(
            `WITH d AS (DELETE FROM jobs WHERE id = $1 AND lease_token = $2 RETURNING *),
                  ins AS (
                    INSERT INTO dead_jobs (id, queue, payload, attempts, enqueued_at, died_at, last_error)
                    SELECT id, queue, payload, attempts, enqueued_at, $3::bigint, coalesce($4::text, last_error) FROM d
                    ON CONFLICT (id) DO NOTHING)
             SELECT count(*)::int AS n FROM d`,
            [job.id, job.leaseToken, clock.now(), o.error ?? null],
          );
          return row.n === 1;
        }),
      extend: (job, leaseMs) =>
        this.guard(async () => {
          if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new RangeError('leaseMs must be > 0');
          if (!job.leaseToken) return false;
          const until = Math.round(clock.now() + leaseMs);
          const rows = await q(
            sql,
            'UPDATE jobs SET lease_until = $1, visible_at = $1 WHERE id = $2 AND lease_token = $3 RETURNING 1 AS ok',
            [until, job.id, job.leaseToken],
          );
          return rows.length === 1;
        }),
      deadLetters: <P>(queue: string, o: { limit?: number } = {}) =>
        this.guard(async () => {
          const limit = checkLimit(o.limit);
          const rows = await q(sql, 'SELECT * FROM dead_jobs WHERE queue = $1 ORDER BY seq LIMIT $2', [
            queue,
            limit ?? null,
          ]);
          return rows.map((r) => toDead<P>(r));
        }),
      stats: (queue) =>
        this.guard(async (): Promise<QueueStats> => {
          const now = clock.now();
          const r = await one(
            `SELECT
               count(*) FILTER (WHERE visible_at <= $2)::int AS ready,
               count(*) FILTER (WHERE visible_at > $2 AND lease_token IS NOT NULL)::int AS in_flight,
               count(*) FILTER (WHERE visible_at > $2 AND lease_token IS NULL)::int AS delayed,
               (SELECT count(*) FROM dead_jobs WHERE queue = $1)::int AS dead
             FROM jobs WHERE queue = $1`,
            [queue, now],
          );
          return { ready: r.ready, inFlight: r.in_flight, delayed: r.delayed, dead: r.dead };
        }),
      nextVisibleAt: (queue) =>
        this.guard(async () => {
          const r = await one('SELECT min(visible_at) AS t FROM jobs WHERE queue = $1', [queue]);
          return r.t === null ? undefined : Number(r.t);
        }),
      onWake: (queue, listener) => this.wake.on(queue, listener),
    };
  }

  private makeBlobs(): BlobStore {
    const sql = this.sql;
    return {
      put: (key, data) =>
        this.guard(async () => {
          await q(
            sql,
            'INSERT INTO blobs (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data',
            [key, data],
          );
        }),
      get: (key) =>
        this.guard(async () => {
          const rows = await q(sql, 'SELECT data FROM blobs WHERE key = $1', [key]);
          return rows.length ? (rows[0].data as Buffer) : undefined;
        }),
      has: (key) =>
        this.guard(
          async () => (await q(sql, 'SELECT 1 AS ok FROM blobs WHERE key = $1', [key])).length === 1,
        ),
      delete: (key) =>
        this.guard(
          async () =>
            (await q(sql, 'DELETE FROM blobs WHERE key = $1 RETURNING 1 AS ok', [key])).length === 1,
        ),
    };
  }

  async notify(channel: string): Promise<void> {
    await this.sql`SELECT pg_notify(${NOTIFY_CHANNEL}, ${channel}::text)`;
  }

  onNotify(channel: string, listener: () => void): () => void {
    return this.notified.on(channel, listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.unlistenNotify?.();
      await this.unlisten?.();
    } catch {
      // the connection may already be gone
    }
    await this.sql.end({ timeout: 5 });
  }
}

export function openPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(opts);
}
