/**
 * The Store: every service's persistence goes through this interface, never through SQL.
 *
 * It is an ordered key-value store of JSON documents in named collections, plus blobs and
 * a durable job queue. Keys are strings compared bytewise on their UTF-8 encoding (code
 * point order) in every implementation, so range scans mean the same on SQLite and
 * PostgreSQL. Everything is asynchronous, because PostgreSQL is.
 *
 * Transactions are serialisable. An implementation may run a transaction callback more than
 * once (PostgreSQL retries serialisation failures), so the callback must do nothing but
 * Store calls and pure computation: no network, no timers, no side effects outside `tx`.
 *
 * Time (job visibility, leases) comes from the Clock the Store was opened with, never from
 * the database server, so a virtual clock moves the queues too.
 */
export interface KvEntry<T = unknown> {
  key: string;
  value: T;
}

export interface ScanOptions {
  /** Only keys starting with this prefix. */
  prefix?: string;
  /** Lower bound, inclusive. */
  start?: string;
  /** Lower bound, exclusive (for pagination: the last key of the previous page). */
  after?: string;
  /** Upper bound, exclusive. */
  end?: string;
  /** Upper bound, inclusive. */
  endInclusive?: string;
  limit?: number;
  /** Descending key order. */
  reverse?: boolean;
}

export interface KvReader {
  get<T = unknown>(collection: string, key: string): Promise<T | undefined>;
  getMany<T = unknown>(collection: string, keys: readonly string[]): Promise<(T | undefined)[]>;
  scan<T = unknown>(collection: string, opts?: ScanOptions): Promise<KvEntry<T>[]>;
  count(collection: string, opts?: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number>;
}

export interface KvWriter extends KvReader {
  /** Insert or replace. */
  put<T = unknown>(collection: string, key: string, value: T): Promise<void>;
  /** Insert only if absent; false when the key exists. */
  insert<T = unknown>(collection: string, key: string, value: T): Promise<boolean>;
  /** True when a row was deleted. */
  delete(collection: string, key: string): Promise<boolean>;
  /** Deletes every key matched by the options; returns how many. */
  deleteRange(collection: string, opts: Omit<ScanOptions, 'limit' | 'reverse'>): Promise<number>;
}

export interface EnqueueOptions {
  /** Not visible before now + delayMs. */
  delayMs?: number;
  /** Attempts before the job is dead-lettered (default 3). */
  maxAttempts?: number;
  /** A caller-chosen id; enqueueing an id that exists is a no-op that returns false from `enqueue`'s `created`. */
  id?: string;
}

export interface Job<P = unknown> {
  id: string;
  queue: string;
  payload: P;
  /** How many times it has been claimed, this claim included. */
  attempts: number;
  maxAttempts: number;
  enqueuedAt: number;
  /** When this claim's lease runs out and the job becomes visible again. */
  leaseUntil: number;
  /** Identifies this claim: ack/retry with a stale token fail (another worker owns it now). */
  leaseToken: string;
  lastError?: string;
}

export interface DeadJob<P = unknown> {
  id: string;
  queue: string;
  payload: P;
  attempts: number;
  enqueuedAt: number;
  diedAt: number;
  lastError?: string;
}

export interface QueueStats {
  /** Visible now. */
  ready: number;
  /** Claimed, lease running. */
  inFlight: number;
  /** Not visible yet (delayed or backing off). */
  delayed: number;
  dead: number;
}

/**
 * A durable job queue: what was enqueued survives a crash; a claimed job that is not acked
 * before its lease runs out becomes visible again (at least once delivery).
 */
export interface JobQueue {
  enqueue<P>(queue: string, payload: P, opts?: EnqueueOptions): Promise<{ id: string; created: boolean }>;
  /** Claims up to `limit` visible jobs, oldest first, leasing each for `leaseMs`. */
  claim<P = unknown>(queue: string, opts: { limit?: number; leaseMs: number }): Promise<Job<P>[]>;
  /** Done: removes the job. False when the lease was lost. */
  ack(job: Pick<Job, 'id' | 'leaseToken'>): Promise<boolean>;
  /**
   * Failed this attempt: visible again after `delayMs` (default: exponential backoff from
   * the attempt count), or dead-lettered once attempts reach maxAttempts. False when the
   * lease was lost.
   */
  retry(job: Pick<Job, 'id' | 'leaseToken'>, opts?: { delayMs?: number; error?: string }): Promise<boolean>;
  /** Moves the job to the dead letters now, whatever its attempts. */
  kill(job: Pick<Job, 'id' | 'leaseToken'>, opts?: { error?: string }): Promise<boolean>;
  /** Lengthens a running lease. False when the lease was lost. */
  extend(job: Pick<Job, 'id' | 'leaseToken'>, leaseMs: number): Promise<boolean>;
  deadLetters<P = unknown>(queue: string, opts?: { limit?: number }): Promise<DeadJob<P>[]>;
  stats(queue: string): Promise<QueueStats>;
  /** When the next job of the queue becomes visible (for a worker's timer); undefined when empty. */
  nextVisibleAt(queue: string): Promise<number | undefined>;
  /** Called (possibly on another node) after a job is enqueued or becomes visible again. */
  onWake(queue: string, listener: () => void): () => void;
}

/** Binary objects such as function code packages. */
export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  has(key: string): Promise<boolean>;
  delete(key: string): Promise<boolean>;
}

export interface Transaction extends KvWriter {
  /** Enqueue atomically with the transaction's writes. */
  enqueue<P>(queue: string, payload: P, opts?: EnqueueOptions): Promise<{ id: string; created: boolean }>;
}

export interface Store extends KvWriter {
  readonly kind: 'sqlite' | 'postgres';
  /** Human-readable location for health and logs (never a password). */
  readonly description: string;
  readonly jobs: JobQueue;
  readonly blobs: BlobStore;
  /**
   * Wakes every `onNotify(channel)` listener on every node sharing this store, this node
   * included (PostgreSQL: NOTIFY). Best effort and not durable: for waking long polls and
   * workers after a commit, never for carrying data. Call it after the transaction commits.
   */
  notify(channel: string): Promise<void>;
  onNotify(channel: string, listener: () => void): () => void;
  /** Runs fn in one serialisable transaction; may run fn more than once (see above). */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
