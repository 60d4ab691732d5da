/**
 * Cluster-wide singletons through an expiring lease held in a Store document.
 *
 *   const leader = new LeaderElector({ store, clock, logger, nodeId });
 *   // on every node, every tick: only the lease holder runs the body
 *   await leader.runAsLeader('schedules', async (lease) => fireDueSchedules(lease.epoch));
 *
 * - `runAsLeader(name, fn)` acquires the lease (or renews it when this node holds it) in one
 *   serialisable transaction, runs fn only when this node holds it, and renews the lease
 *   every third of its length while fn runs. The lease is kept after fn returns, so the same
 *   node keeps leading from tick to tick; another node takes over once it has not been
 *   renewed for `leaseMs` (a dead or stopped node).
 * - `epoch` grows by one every time the holder changes: a fencing token that work done under
 *   the lease can record, so a late write from a deposed leader can be told apart.
 * - Safety rests on node clocks agreeing to well within `leaseMs` (lease times are compared
 *   across nodes) and on fn finishing, or checking `isLeader`, before a lost lease matters:
 *   a node that stalls longer than `leaseMs` (GC, SIGSTOP) can briefly overlap its successor.
 *   Use the epoch to fence when overlap would do harm.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';

export const LEASES_COLLECTION = '_nimbus/leases';
export const DEFAULT_LEASE_MS = 10_000;

export interface LeaseDocument {
  name: string;
  holder: string;
  /** Changes on every acquisition (not on renewal). */
  token: string;
  /** Fencing token: +1 per change of holder. */
  epoch: number;
  acquiredAt: number;
  until: number;
}

export interface Lease {
  name: string;
  holder: string;
  epoch: number;
  until: number;
}

export type LeaderResult<T> = { ran: true; value: T; lease: Lease } | { ran: false; holder?: string };

export interface LeaderOptions {
  store: Pick<Store, 'transaction' | 'get'>;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  leaseMs?: number;
}

export class LeaderElector {
  readonly leaseMs: number;
  /** Leases this node believes it holds (name -> document as last written by us). */
  private readonly held = new Map<string, LeaseDocument>();

  constructor(private readonly opts: LeaderOptions) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
    if (!(this.leaseMs > 0)) throw new RangeError('leaseMs must be > 0');
  }

  get nodeId(): string {
    return this.opts.nodeId;
  }

  /** Takes or renews the lease; the lease when this node holds it now, else undefined. */
  async tryAcquire(name: string): Promise<Lease | undefined> {
    const me = this.opts.nodeId;
    const doc = await this.opts.store.transaction(async (tx) => {
      const now = this.opts.clock.now();
      const cur = await tx.get<LeaseDocument>(LEASES_COLLECTION, name);
      if (cur && cur.holder !== me && cur.until > now) return undefined;
      const next: LeaseDocument =
        cur && cur.holder === me && cur.until > now
          ? { ...cur, until: now + this.leaseMs }
          : {
              name,
              holder: me,
              token: randomUUID(),
              epoch: (cur?.epoch ?? 0) + 1,
              acquiredAt: now,
              until: now + this.leaseMs,
            };
      await tx.put(LEASES_COLLECTION, name, next);
      return next;
    });
    if (!doc) {
      this.held.delete(name);
      return undefined;
    }
    const before = this.held.get(name);
    if (!before || before.token !== doc.token) {
      this.opts.logger.info('lease acquired', { lease: name, nodeId: me, epoch: doc.epoch });
    }
    this.held.set(name, doc);
    return { name, holder: me, epoch: doc.epoch, until: doc.until };
  }

  /** This node's belief: it holds the lease and it has not run out on this node's clock. */
  isLeader(name: string): boolean {
    const doc = this.held.get(name);
    return !!doc && doc.until > this.opts.clock.now();
  }

  /** Who holds the lease now according to the Store (undefined when nobody or expired). */
  async holder(name: string): Promise<Lease | undefined> {
    const doc = await this.opts.store.get<LeaseDocument>(LEASES_COLLECTION, name);
    if (!doc || doc.until <= this.opts.clock.now()) return undefined;
    return { name, holder: doc.holder, epoch: doc.epoch, until: doc.until };
  }

  /** Runs fn when this node holds (or can take) the lease; see the module comment. */
  async runAsLeader<T>(name: string, fn: (lease: Lease) => Promise<T> | T): Promise<LeaderResult<T>> {
    const lease = await this.tryAcquire(name);
    if (!lease) {
      const h = await this.holder(name).catch(() => undefined);
      return { ran: false, holder: h?.holder };
    }
    let renewing: Promise<unknown> = Promise.resolve();
    const timer = setInterval(
      () => {
        renewing = this.tryAcquire(name).then(
          (l) => {
            if (!l) this.opts.logger.warn('lease lost while running as leader', { lease: name });
          },
          (err) => this.opts.logger.warn('lease renewal failed', { lease: name, err }),
        );
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    timer.unref();
    try {
      const value = await fn(lease);
      return { ran: true, value, lease };
    } finally {
      clearInterval(timer);
      await renewing;
    }
  }

  /** Gives the lease up now (when this node holds it), so another node can take it at once. */
  async release(name: string): Promise<boolean> {
    const mine = this.held.get(name);
    this.held.delete(name);
    if (!mine) return false;
    return this.opts.store.transaction(async (tx) => {
      const cur = await tx.get<LeaseDocument>(LEASES_COLLECTION, name);
      if (!cur || cur.token !== mine.token) return false;
      // Keep the epoch: the next holder continues the count.
      await tx.put(LEASES_COLLECTION, name, { ...cur, until: 0 });
      return true;
    });
  }

  /** Releases every lease this node holds (graceful shutdown). */
  async stop(): Promise<void> {
    for (const name of [...this.held.keys()]) {
      try {
        await this.release(name);
      } catch (err) {
        this.opts.logger.warn('lease release failed', { lease: name, err });
      }
    }
  }
}
