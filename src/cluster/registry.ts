/**
 * The node registry: every Nimbus node writes a heartbeat document to the Store every
 * `intervalMs` (default 2 s). A node is alive while its last beat is younger than three
 * intervals. Nodes that stopped gracefully remove their document; nodes that died stay listed
 * as not alive for `forgetAfterMs` (default 1 h), then any node prunes them.
 *
 * Liveness compares the reader's clock with the writer's, so it assumes node clocks agree to
 * well within an interval (NTP does that); the lease code in leader.ts makes the same assumption.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';

export const NODES_COLLECTION = '_nimbus/nodes';
export const DEFAULT_HEARTBEAT_MS = 2000;
export const DEFAULT_FORGET_AFTER_MS = 3600_000;

export interface NodeDocument {
  id: string;
  endpoint: string;
  hostname: string;
  pid: number;
  version: string;
  startedAt: number;
  lastHeartbeat: number;
  intervalMs: number;
}

export interface NodeStatus {
  id: string;
  endpoint: string;
  alive: boolean;
  /** ISO 8601. */
  lastHeartbeat: string;
  startedAt: string;
  version: string;
  hostname: string;
  pid: number;
  /** This is the node that answered. */
  self: boolean;
}

export interface NodeRegistryOptions {
  store: Pick<Store, 'put' | 'get' | 'delete' | 'scan'>;
  clock: Clock;
  logger: Logger;
  version: string;
  /** Defaults to a random id; `NIMBUS_NODE_ID` sets it in `nimbus up`. */
  nodeId?: string;
  intervalMs?: number;
  forgetAfterMs?: number;
}

export function newNodeId(): string {
  return `${hostname()
    .replace(/[^A-Za-z0-9-]/g, '-')
    .slice(0, 40)}-${randomUUID().slice(0, 8)}`;
}

export class NodeRegistry {
  readonly nodeId: string;
  readonly intervalMs: number;
  private readonly forgetAfterMs: number;
  private doc: NodeDocument | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: NodeRegistryOptions) {
    this.nodeId = opts.nodeId ?? newNodeId();
    this.intervalMs = opts.intervalMs ?? DEFAULT_HEARTBEAT_MS;
    this.forgetAfterMs = opts.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS;
    if (!(this.intervalMs > 0)) throw new RangeError('heartbeat interval must be > 0');
  }

  /** Writes the first beat (so the node is listed before it serves) and starts the timer. */
  async start(endpoint: string): Promise<void> {
    const now = this.opts.clock.now();
    this.doc = {
      id: this.nodeId,
      endpoint,
      hostname: hostname(),
      pid: process.pid,
      version: this.opts.version,
      startedAt: now,
      lastHeartbeat: now,
      intervalMs: this.intervalMs,
    };
    await this.opts.store.put(NODES_COLLECTION, this.nodeId, this.doc);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One heartbeat (the timer calls it; tests may too). Failures are logged, never thrown. */
  async beat(): Promise<void> {
    if (!this.doc || this.stopped) return;
    this.doc.lastHeartbeat = this.opts.clock.now();
    try {
      await this.opts.store.put(NODES_COLLECTION, this.nodeId, this.doc);
      await this.prune();
    } catch (err) {
      this.opts.logger.warn('node heartbeat failed', { nodeId: this.nodeId, err });
    }
  }

  private async prune(): Promise<void> {
    const now = this.opts.clock.now();
    for (const { key, value } of await this.opts.store.scan<NodeDocument>(NODES_COLLECTION)) {
      if (key !== this.nodeId && now - value.lastHeartbeat > this.forgetAfterMs) {
        await this.opts.store.delete(NODES_COLLECTION, key);
        this.opts.logger.info('forgot a dead node', { nodeId: key, endpoint: value.endpoint });
      }
    }
  }

  isAlive(doc: NodeDocument, now = this.opts.clock.now()): boolean {
    return now - doc.lastHeartbeat <= 3 * (doc.intervalMs || this.intervalMs);
  }

  /** Every known node, this one first, then by endpoint. */
  async list(): Promise<NodeStatus[]> {
    const now = this.opts.clock.now();
    const docs = await this.opts.store.scan<NodeDocument>(NODES_COLLECTION);
    return docs
      .map(({ value: d }) => ({
        id: d.id,
        endpoint: d.endpoint,
        alive: this.isAlive(d, now),
        lastHeartbeat: new Date(d.lastHeartbeat).toISOString(),
        startedAt: new Date(d.startedAt).toISOString(),
        version: d.version,
        hostname: d.hostname,
        pid: d.pid,
        self: d.id === this.nodeId,
      }))
      .sort((a, b) => Number(b.self) - Number(a.self) || a.endpoint.localeCompare(b.endpoint));
  }

  /** Stops beating and removes this node's document (a graceful leave). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.beating;
    if (!this.doc) return;
    try {
      await this.opts.store.delete(NODES_COLLECTION, this.nodeId);
    } catch (err) {
      this.opts.logger.warn('could not remove the node document', { nodeId: this.nodeId, err });
    }
  }
}
