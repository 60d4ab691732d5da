/**
 * Cluster mode's per-node pieces: the node registry (heartbeats) and the lease-based leader
 * election, both through the Store, so they work the same on one SQLite node and on many
 * nodes sharing PostgreSQL. app.ts builds one `Cluster` per process.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import { LeaderElector } from './leader.js';
import { NodeRegistry, newNodeId, type NodeStatus } from './registry.js';

export { LeaderElector, type Lease, type LeaderResult } from './leader.js';
export { NodeRegistry, type NodeStatus } from './registry.js';

export interface ClusterOptions {
  /** Default: $NIMBUS_NODE_ID, else hostname + random suffix. */
  nodeId?: string;
  /** Heartbeat interval (default $NIMBUS_HEARTBEAT_MS, else 2000 ms). */
  heartbeatMs?: number;
  /** Singleton lease length (default 10 s). */
  leaseMs?: number;
  /** The URL other nodes and `nimbus nodes` show for this node (default $NIMBUS_ADVERTISE_URL, else the bound address). */
  advertiseUrl?: string;
}

export interface Cluster {
  nodeId: string;
  registry: NodeRegistry;
  leader: LeaderElector;
  /** Registers this node (first heartbeat) once it serves at `endpoint`. */
  start(endpoint: string): Promise<void>;
  nodes(): Promise<NodeStatus[]>;
  /** Releases leases and leaves the registry. */
  stop(): Promise<void>;
}

export function createCluster(
  deps: { store: Store; clock: Clock; logger: Logger; version: string },
  opts: ClusterOptions = {},
): Cluster {
  const envMs = Number(process.env.NIMBUS_HEARTBEAT_MS);
  const nodeId = opts.nodeId ?? (process.env.NIMBUS_NODE_ID || newNodeId());
  const registry = new NodeRegistry({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    version: deps.version,
    nodeId,
    intervalMs: opts.heartbeatMs ?? (envMs > 0 ? envMs : undefined),
  });
  const leader = new LeaderElector({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    nodeId,
    leaseMs: opts.leaseMs,
  });
  let stopped: Promise<void> | undefined;
  return {
    nodeId,
    registry,
    leader,
    start: (endpoint) => registry.start(opts.advertiseUrl ?? (process.env.NIMBUS_ADVERTISE_URL || endpoint)),
    nodes: () => registry.list(),
    stop: () =>
      (stopped ??= (async () => {
        await leader.stop();
        await registry.stop();
      })()),
  };
}
