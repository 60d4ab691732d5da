/**
 * WebSocket connections and the `@connections` management API (PostToConnection,
 * GetConnection, DeleteConnection).
 *
 * A connection's socket lives on the node that accepted it; its record (API, stage, account,
 * owning node) is in the Store, so any node can answer for it. A node that receives a call
 * for a connection another node holds replays the request, unchanged (method, path, headers
 * with the SigV4 signature, body), to the owner's URL from the cluster's node registry, which
 * verifies and serves it. A record whose node is gone (dead, or this node before a restart)
 * is a closed connection: GoneException, and the record is removed.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import { AwsError } from '../../protocols/errors.js';
import type { ConnectionInfo } from './events.js';

export const COLLECTION_WS_CONNECTIONS = 'apigw.wsconnections';

/** The largest message PostToConnection sends (AWS: 128 KB). */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** Header a forwarded management call carries, so the owner never forwards it again. */
export const FORWARDED_HEADER = 'x-nimbus-forwarded-from';

export interface ConnectionRecord {
  connectionId: string;
  apiId: string;
  stage: string;
  accountId: string;
  region: string;
  nodeId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
}

/** A connection held by this node. */
export interface LiveConnection {
  info: ConnectionInfo;
  lastActiveAt: number;
  /** Sends one message; false when the socket is no longer open. */
  send(data: Buffer): boolean;
  /** Closes the socket (the $disconnect route runs once it is closed). */
  close(code: number, reason: string): void;
}

/** What a caller may address: connections of its account, and of one API stage for the stage URL. */
export interface Target {
  accountId: string;
  apiId?: string;
  stage?: string;
}

/** The management call as it came, for replaying it on the owner node. */
export interface ManagementRequest {
  method: string;
  /** Path and query string. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ManagementAnswer {
  status: number;
  body?: Record<string, unknown>;
}

export interface ClusterView {
  nodeId: string;
  nodes(): Promise<{ id: string; endpoint: string; alive: boolean }[]>;
}

export type Operation = 'PostToConnection' | 'GetConnection' | 'DeleteConnection';

export const gone = (id: string) => new AwsError('GoneException', `Connection ${id} is gone`, 410);

/** AWS connection ids look like `L0SM9cOFvHcCIhw=`. */
export function newConnectionId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const buf = randomBytes(15);
  let out = '';
  for (const b of buf) out += alphabet[b % alphabet.length];
  return `${out}=`;
}

export class Connections {
  private readonly local = new Map<string, LiveConnection>();

  /** Told of each message PostToConnection delivered (the stage's MessageCount). */
  onPosted?: (info: ConnectionInfo) => void;

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      logger: Logger;
      cluster?: ClusterView;
    },
  ) {}

  get nodeId(): string {
    return this.deps.cluster?.nodeId ?? 'local';
  }

  /** Records a connection before its handshake completes, so calls from any node find it. */
  async record(info: ConnectionInfo): Promise<void> {
    const rec: ConnectionRecord = {
      connectionId: info.connectionId,
      apiId: info.apiId,
      stage: info.stage,
      accountId: info.accountId,
      region: info.region,
      nodeId: this.nodeId,
      connectedAt: info.connectedAt,
      sourceIp: info.sourceIp,
    };
    if (info.userAgent !== undefined) rec.userAgent = info.userAgent;
    await this.deps.store.put(COLLECTION_WS_CONNECTIONS, info.connectionId, rec);
  }

  attach(live: LiveConnection): void {
    this.local.set(live.info.connectionId, live);
  }

  /** Forgets a closed connection, here and in the Store. */
  async detach(connectionId: string): Promise<void> {
    this.local.delete(connectionId);
    await this.deps.store.delete(COLLECTION_WS_CONNECTIONS, connectionId);
  }

  /** The connections this node holds. */
  held(): LiveConnection[] {
    return [...this.local.values()];
  }

  /** One management call; throws AwsError (GoneException, ...) as the API answers them. */
  async call(
    op: Operation,
    connectionId: string,
    target: Target,
    req: ManagementRequest,
  ): Promise<ManagementAnswer> {
    const live = this.local.get(connectionId);
    if (live && matches(target, live.info)) return this.serve(op, live, req.body);
    if (live || req.headers[FORWARDED_HEADER] !== undefined) throw gone(connectionId);
    const rec = await this.deps.store.get<ConnectionRecord>(COLLECTION_WS_CONNECTIONS, connectionId);
    if (!rec || !matches(target, rec)) throw gone(connectionId);
    const owner =
      rec.nodeId === this.nodeId
        ? undefined
        : (await this.deps.cluster?.nodes())?.find((n) => n.id === rec.nodeId && n.alive);
    if (!owner) {
      // Held by a node that is gone (or by this one before a restart): the socket is closed.
      await this.deps.store.delete(COLLECTION_WS_CONNECTIONS, connectionId);
      throw gone(connectionId);
    }
    return forward(owner.endpoint, req, this.nodeId);
  }

  private serve(op: Operation, live: LiveConnection, data: Buffer): ManagementAnswer {
    const id = live.info.connectionId;
    if (op === 'GetConnection') {
      const identity: Record<string, string> = { sourceIp: live.info.sourceIp };
      if (live.info.userAgent !== undefined) identity.userAgent = live.info.userAgent;
      return {
        status: 200,
        body: {
          connectedAt: new Date(live.info.connectedAt).toISOString(),
          identity,
          lastActiveAt: new Date(live.lastActiveAt).toISOString(),
        },
      };
    }
    if (op === 'DeleteConnection') {
      live.close(1000, '');
      return { status: 204 };
    }
    if (data.length > MAX_MESSAGE_BYTES)
      throw new AwsError(
        'PayloadTooLargeException',
        `Message of ${data.length} bytes is larger than ${MAX_MESSAGE_BYTES} bytes`,
        413,
      );
    if (!live.send(data)) throw gone(id);
    this.onPosted?.(live.info);
    return { status: 200 };
  }
}

function matches(t: Target, c: { accountId: string; apiId: string; stage: string }): boolean {
  if (t.accountId !== c.accountId) return false;
  return t.apiId === undefined || (t.apiId === c.apiId && t.stage === c.stage);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Replays a management call on the node that holds the connection and returns (or throws) its answer. */
function forward(endpoint: string, req: ManagementRequest, from: string): Promise<ManagementAnswer> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  headers[FORWARDED_HEADER] = from;
  headers['content-length'] = String(req.body.length);
  const url = new URL(req.url, endpoint);
  return new Promise((resolve, reject) => {
    const r = httpRequest(url, { method: req.method, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 500;
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> | undefined;
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
        } catch {
          body = undefined;
        }
        if (status < 400) return resolve({ status, body });
        const type = String(res.headers['x-amzn-errortype'] ?? body?.__type ?? 'InternalFailure');
        const message = String(body?.message ?? body?.Message ?? `HTTP ${status}`);
        reject(new AwsError(type.split(':')[0].split('#').pop()!, message, status));
      });
    });
    r.on('timeout', () => r.destroy(new Error(`forwarding to ${endpoint} timed out`)));
    r.on('error', (e) => reject(e));
    r.end(req.body);
  });
}
