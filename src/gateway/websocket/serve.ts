/**
 * The WebSocket API data plane. Per connection:
 *
 *   upgrade on `/_api/{apiId}/{stage}` (or `/{stage}` with Host `{apiId}.execute-api.*`) ->
 *   API and stage (404 / 403) -> handshake checks (400) -> `$connect` route (the function's
 *   non-2xx statusCode refuses with that status; a function error 502, a timeout 504) ->
 *   record the connection (Store) -> 101 -> messages: route by the API's
 *   RouteSelectionExpression, else `$default`, else `{"message": "Forbidden", ...}` back;
 *   two-way routes send the function's `body` back -> close (either side, idle timeout, the
 *   2-hour limit) -> `$disconnect` route (best effort, its answer ignored).
 *
 * The `@connections` management API is answered here for the stage URL
 * (`/_api/{apiId}/{stage}/@connections/{id}`); the root form (`/@connections/{id}`, what
 * the SDK calls with AWS_ENDPOINT_URL) is a REST-JSON service (see api.ts).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { ServiceCaller } from '../../server/self-call.js';
import { callNonProxy, selectionKey } from './non-proxy.js';
import { SchemaSet } from '../rest/validation.js';
import type { KeyDecision } from '../api-keys.js';
import { requestId as newRequestId, shortId } from '../../core/ids.js';
import { AwsError, toAwsError } from '../../protocols/errors.js';
import { encodeRestJsonError } from '../../protocols/rest-json.js';
import type { GatewayEngine } from '../engine.js';
import {
  functionArnOf,
  WEBSOCKET_RESERVED_KEYS,
  type ApiRecord,
  type AuthorizerRecord,
  type IntegrationRecord,
  type RouteRecord,
  type StageRecord,
} from '../model.js';
import { headerValues, requestTime, sourceIpOf } from '../events.js';
import { AuthFailure, AuthorizerCache, identityValues, lambdaAuthResult } from '../authorizers.js';
import { IntegrationTimeout, type Invoker } from '../invoke.js';
import { readBody, withStageVariables } from '../serve.js';
import { buildConnectEvent, buildDisconnectEvent, buildMessageEvent, type ConnectionInfo } from './events.js';
import { parseSelectionExpression, evaluateSelection, type SelectionPart } from './selection.js';
import {
  Connections,
  MAX_MESSAGE_BYTES,
  newConnectionId,
  type LiveConnection,
  type ManagementRequest,
  type Operation,
} from './connections.js';
import { ApiCache } from '../api-cache.js';
import type { LogSink } from '../../core/log-sink.js';
import type { MetricDimension, MetricsSink } from '../../core/metrics-sink.js';
import { writeAccessLog, type AccessLogVars } from '../access-log.js';
import { Throttler, type AccountLimits } from '../throttle.js';

/** AWS's WebSocket limits; the timeouts can be changed (tests, long-lived development sessions). */
export interface WebSocketLimits {
  /** A connection without traffic either way is closed after this (AWS: 10 minutes). */
  idleTimeoutMs: number;
  /** Every connection is closed after this (AWS: 2 hours). */
  maxConnectionMs: number;
  /** Largest message a client may send; larger ones close the connection with 1009 (AWS: 128 KB). */
  maxMessageBytes: number;
  /** Outgoing messages are sent in frames of at most this size (AWS: 32 KB). */
  frameBytes: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  idleTimeoutMs: 10 * 60_000,
  maxConnectionMs: 2 * 3600_000,
  maxMessageBytes: MAX_MESSAGE_BYTES,
  frameBytes: 32 * 1024,
};

const REVALIDATE_MS = 1000;
const MANAGEMENT_BODY_LIMIT = 10 * 1024 * 1024;
/** A $disconnect integration gets at most this long at shutdown. */
const SHUTDOWN_GRACE_MS = 3000;

interface CompiledStage {
  stage: StageRecord;
  routes: Map<string, RouteRecord>;
  integrations: Map<string, IntegrationRecord>;
  authorizers: Map<string, AuthorizerRecord>;
}

interface CachedApi {
  api: ApiRecord;
  accountId: string;
  region: string;
  selection: SelectionPart[];
  stages: Map<string, CompiledStage>;
  checkedAt: number;
}

/** Authenticates a call signed with SigV4 (verified in strict mode): its account and principal ARN. */
export type Authenticate = (
  req: IncomingMessage,
  path: string,
  body: Buffer,
) => Promise<{ accountId: string; arn?: string; accessKeyId?: string; userId?: string }>;

export interface WebSocketServerDeps {
  engine: GatewayEngine;
  invoke: Invoker;
  clock: Clock;
  logger: Logger;
  connections: Connections;
  authenticate?: Authenticate;
  limits?: Partial<WebSocketLimits>;
  /** The account-level throttle (default AWS's 10,000 rps, 5,000 burst). */
  accountLimits?: AccountLimits;
  /** Stage access logs (AccessLogSettings) go here. */
  logs?: LogSink;
  /** Built-in AWS/ApiGateway metrics (absent: none recorded). */
  metrics?: MetricsSink;
  /** AWS service integrations (non-proxy routes calling another Nimbus service as the API's account). */
  callService?: ServiceCaller;
  /** API keys of `$connect` routes with ApiKeyRequired (usage plans naming the stage; see api-keys.ts). */
  checkApiKey?: (
    scope: { accountId: string; region: string },
    apiId: string,
    stage: string,
    value: string,
    throttler: Throttler,
  ) => Promise<KeyDecision>;
}

/** What one CONNECT / MESSAGE / DISCONNECT came to, for the access log and the metrics. */
interface Outcome {
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  routeKey: string;
  requestId: string;
  started: number;
  status: number;
  messageId?: string;
  integrationLatency?: number;
  /** Who failed: the gateway before the integration, the integration's answer, or calling it. */
  error?: { kind: 'client' | 'integration' | 'execution'; message: string };
}

interface Held extends LiveConnection {
  ws: WebSocket;
  /** Set when this side closes: the code and reason the $disconnect event reports. */
  closedBy?: { code: number; reason: string };
}

/** A failed integration call as the metrics count it: the function's error, or calling it. */
function failureOf(out: { refuse: number; message: string }): NonNullable<Outcome['error']> {
  return { kind: out.refuse === 502 ? 'integration' : 'execution', message: out.message };
}

/** A WebSocket API's deployed stages, compiled for serving. */
function compileApi(
  { api, scope }: { api: ApiRecord; scope: { accountId: string; region: string } },
  now: number,
): CachedApi {
  const c: CachedApi = {
    api,
    accountId: scope.accountId,
    region: scope.region,
    selection: parseSelectionExpression(api.routeSelectionExpression) ?? [],
    stages: new Map(),
    checkedAt: now,
  };
  for (const st of api.stages) {
    const d = st.deploymentId ? api.deployments.find((x) => x.deploymentId === st.deploymentId) : undefined;
    if (!d) continue;
    c.stages.set(st.stageName, {
      stage: st,
      routes: new Map(d.snapshot.routes.map((r) => [r.routeKey, r])),
      integrations: new Map(d.snapshot.integrations.map((i) => [i.integrationId, i])),
      authorizers: new Map(d.snapshot.authorizers.map((a) => [a.authorizerId, a])),
    });
  }
  return c;
}

export class WebSocketGateway {
  readonly limits: WebSocketLimits;
  private readonly cache = new ApiCache(
    REVALIDATE_MS,
    async (apiId: string) => {
      const scope = await this.deps.engine.findApiScope(apiId);
      const api = scope ? await this.deps.engine.findApi(apiId) : undefined;
      return api && scope && api.protocolType === 'WEBSOCKET' ? { api, scope } : undefined;
    },
    compileApi,
  );
  private readonly wss: WebSocketServer;
  /** The subprotocol each accepted handshake answers with (from the $connect answer's headers). */
  private readonly protocols = new WeakMap<IncomingMessage, string>();
  /** Each loaded API's models, compiled as messages need them (a new load of the API starts afresh). */
  private readonly schemas = new WeakMap<CachedApi, SchemaSet>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly authCache: AuthorizerCache;
  private readonly throttler: Throttler;
  private closing = false;

  constructor(private readonly deps: WebSocketServerDeps) {
    this.limits = { ...DEFAULT_WEBSOCKET_LIMITS, ...deps.limits };
    this.authCache = new AuthorizerCache(deps.clock);
    this.throttler = new Throttler(deps.clock, deps.accountLimits);
    deps.connections.onPosted = (info) => this.countPosted(info);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (_offered, req) => this.protocols.get(req) ?? false,
    });
    deps.engine.onChange((apiId) => {
      this.cache.delete(apiId);
      void this.dropOrphans(apiId);
    });
  }

  private now(): number {
    return this.deps.clock.now();
  }

  /** Whether an upgrade request is for an API (path `/_api/...` or an execute-api Host). */
  static addresses(req: IncomingMessage, hostPattern: RegExp): boolean {
    return (req.url ?? '').startsWith('/_api/') || hostPattern.test(String(req.headers.host ?? ''));
  }

  /** The front door's `upgrade` handler: `/_api/{apiId}/{stage}` or Host `{apiId}.execute-api.*` + `/{stage}`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, hostPattern: RegExp): void {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '/';
    let apiId: string;
    let below: string;
    const host = String(req.headers.host ?? '');
    if (hostPattern.test(host)) {
      apiId = host.slice(0, host.indexOf('.'));
      below = url;
    } else {
      const rest = url.slice('/_api/'.length);
      const cut = rest.search(/[/?]/);
      apiId = cut < 0 ? rest : rest.slice(0, cut);
      below = cut < 0 ? '/' : rest.slice(cut);
    }
    const task = this.upgrade(req, socket, head, apiId, below).catch((e: unknown) => {
      this.deps.logger.error('websocket upgrade failed', { apiId, err: e });
      reject(socket, 500, { message: 'Internal server error' });
    });
    this.track(task);
  }

  /**
   * A handshake sent to a custom domain name whose mapping names this WebSocket API: the
   * mapping gives the stage (the connection is the mapping's root), the Host the domain name.
   */
  handleDomainUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    apiId: string,
    via: { stage: string; domainName: string; below: string },
  ): void {
    socket.on('error', () => socket.destroy());
    const task = this.upgrade(req, socket, head, apiId, via.below, via).catch((e: unknown) => {
      this.deps.logger.error('websocket upgrade failed', { apiId, err: e });
      reject(socket, 500, { message: 'Internal server error' });
    });
    this.track(task);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private loadApi(apiId: string): Promise<CachedApi | undefined> {
    return this.cache.get(apiId, this.now());
  }

  // ------------------------------------------------------------------ connecting

  private async upgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    apiId: string,
    below: string,
    via?: { stage: string; domainName: string },
  ): Promise<void> {
    const requestId = newRequestId();
    const started = this.now();
    const q = below.indexOf('?');
    const path = q < 0 ? below : below.slice(0, q);
    const rawQuery = q < 0 ? '' : below.slice(q + 1);
    const c = this.closing ? undefined : await this.loadApi(apiId);
    if (!c) return reject(socket, 404, { message: 'Not Found' }, requestId);
    // Through a custom domain the mapping names the stage and the path below its key is the root.
    const stageName = via ? via.stage : decodeSafe(path.replace(/^\/+|\/+$/g, ''));
    const st = via
      ? path.replace(/\/+/g, '') === ''
        ? c.stages.get(stageName)
        : undefined
      : c.api.disableExecuteApiEndpoint
        ? undefined
        : c.stages.get(stageName);
    if (!st || stageName.includes('/')) return reject(socket, 403, { message: 'Forbidden' }, requestId);
    const key = req.headers['sec-websocket-key'];
    if (
      req.method !== 'GET' ||
      String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' ||
      typeof key !== 'string' ||
      !/^[+/0-9A-Za-z]{22}==$/.test(key) ||
      req.headers['sec-websocket-version'] !== '13'
    )
      return reject(socket, 400, { message: 'Bad Request' }, requestId);

    const ua = req.headers['user-agent'];
    const info: ConnectionInfo = {
      connectionId: newConnectionId(),
      apiId,
      accountId: c.accountId,
      region: c.region,
      stage: stageName,
      domainName:
        via?.domainName ?? String(req.headers.host ?? `${apiId}.execute-api.${c.region}.amazonaws.com`),
      connectedAt: started,
      sourceIp: sourceIpOf(req),
      stageVariables: st.stage.stageVariables,
    };
    if (typeof ua === 'string') info.userAgent = ua;

    const route = st.routes.get('$connect');
    const outcome = (status: number, more: Partial<Outcome> = {}) =>
      this.observe(c, st, info, {
        eventType: 'CONNECT',
        routeKey: '$connect',
        requestId,
        started,
        status,
        ...more,
      });
    if (!this.allowed(c, st, '$connect')) {
      outcome(429, { error: { kind: 'client', message: 'Too Many Requests' } });
      return reject(socket, 429, { message: 'Too Many Requests' }, requestId);
    }
    if (route && route.authorizationType !== 'NONE') {
      try {
        await this.authorize(c, st, route, info, req, rawQuery, requestId, started);
      } catch (e) {
        if (!(e instanceof AuthFailure)) throw e;
        this.deps.logger.debug('websocket $connect not authorized', { requestId, why: e.message });
        const message = e.status === 500 ? 'Internal server error' : e.publicMessage;
        outcome(e.status, { error: { kind: e.status === 500 ? 'execution' : 'client', message } });
        return reject(socket, e.status, { message }, requestId);
      }
    }
    const keyRefused = route?.apiKeyRequired ? await this.checkConnectKey(c, req, info) : undefined;
    if (keyRefused) {
      outcome(keyRefused.status, { error: { kind: 'client', message: keyRefused.message } });
      return reject(socket, keyRefused.status, { message: keyRefused.message }, requestId);
    }
    if (route) {
      const integ = integrationOf(st, route);
      if (!integ) {
        outcome(500, { error: { kind: 'execution', message: 'Internal server error' } });
        return reject(socket, 500, { message: 'Internal server error' }, requestId);
      }
      const event = buildConnectEvent(info, { requestId, timeEpoch: started }, req.rawHeaders, rawQuery);
      const t0 = this.now();
      const out = await this.call(c, st, integ, event, requestId);
      const integrationLatency = this.now() - t0;
      if ('refuse' in out) {
        outcome(out.refuse, { integrationLatency, error: failureOf(out) });
        return reject(socket, out.refuse, { message: out.message }, requestId);
      }
      const answer = out.nonProxy ? { statusCode: out.nonProxy.status } : parseProxyAnswer(out.payload);
      if (answer.statusCode !== undefined && (answer.statusCode < 200 || answer.statusCode > 299)) {
        const body = answer.body ?? JSON.stringify({ message: STATUS_CODES[answer.statusCode] ?? 'Error' });
        outcome(answer.statusCode, {
          integrationLatency,
          error: { kind: 'integration', message: STATUS_CODES[answer.statusCode] ?? 'Error' },
        });
        return reject(socket, answer.statusCode, body, requestId);
      }
      outcome(200, { integrationLatency });
      const proto = answer.headers?.['sec-websocket-protocol'];
      if (proto) this.protocols.set(req, proto.split(',')[0].trim());
    } else outcome(200);
    if (socket.destroyed || this.closing) {
      // The client left while $connect ran: it was accepted, so it is disconnected as well.
      if (route) this.track(this.disconnect(info, 1006, 'Client left during $connect'));
      socket.destroy();
      return;
    }
    await this.deps.connections.record(info);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, info));
  }

  private open(ws: WebSocket, info: ConnectionInfo): void {
    const limits = this.limits;
    const held: Held = {
      ws,
      info,
      lastActiveAt: this.now(),
      send: (data) => {
        if (ws.readyState !== ws.OPEN) return false;
        touch();
        sendFramed(ws, data, limits.frameBytes);
        return true;
      },
      close: (code, reason) => {
        if (held.closedBy || ws.readyState !== ws.OPEN) return;
        held.closedBy = { code, reason };
        ws.close(code, reason);
      },
    };
    const idle = setTimeout(() => held.close(1001, 'Going away'), limits.idleTimeoutMs);
    const lifetime = setTimeout(() => held.close(1001, 'Going away'), limits.maxConnectionMs);
    idle.unref();
    lifetime.unref();
    const touch = () => {
      held.lastActiveAt = this.now();
      idle.refresh();
    };
    this.deps.connections.attach(held);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      touch();
      this.track(
        this.message(held, data, isBinary).catch((e: unknown) =>
          this.deps.logger.error('websocket message failed', { connectionId: info.connectionId, err: e }),
        ),
      );
    });
    ws.on('ping', touch);
    ws.on('error', (e) =>
      this.deps.logger.debug('websocket error', { connectionId: info.connectionId, err: e }),
    );
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(idle);
      clearTimeout(lifetime);
      const by = held.closedBy ?? { code, reason: reason.toString('utf8') };
      this.track(
        this.deps.connections
          .detach(info.connectionId)
          .catch((e: unknown) => this.deps.logger.warn('could not forget a connection', { err: e }))
          .then(() => this.disconnect(info, by.code, by.reason)),
      );
    });
  }

  /**
   * The $connect route's authorization. AWS_IAM: the handshake must be SigV4-signed (header or
   * query string; policies are not evaluated). CUSTOM: the REQUEST authorizer function, whose
   * `principalId` and `context` then reach every event of the connection.
   */
  private async authorize(
    c: CachedApi,
    st: CompiledStage,
    route: RouteRecord,
    info: ConnectionInfo,
    req: IncomingMessage,
    rawQuery: string,
    requestId: string,
    started: number,
  ): Promise<void> {
    const query = new URLSearchParams(rawQuery);
    if (route.authorizationType === 'AWS_IAM') {
      if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256') && !query.has('X-Amz-Signature'))
        throw new AuthFailure(403, 'Forbidden', 'the handshake is not signed');
      return;
    }
    const auth = route.authorizerId ? st.authorizers.get(route.authorizerId) : undefined;
    if (!auth?.authorizerUri)
      throw new AuthFailure(
        500,
        'Internal server error',
        'the route names an authorizer that is not deployed',
      );
    const values = identityValues(
      auth.identitySource.map((s) => (s.startsWith('route.') ? `$${s.slice(6)}` : `$${s}`)),
      {
        header: (n) => headerValues(req.rawHeaders, n),
        query: (n) => (query.has(n) ? query.getAll(n).join(',') : undefined),
        context: {
          requestId,
          routeKey: '$connect',
          stage: info.stage,
          apiId: info.apiId,
          connectionId: info.connectionId,
        },
        stageVariables: st.stage.stageVariables,
      },
    );
    if (!values && auth.identitySource.length)
      throw new AuthFailure(401, 'Unauthorized', 'an identity source is missing');
    const methodArn = `arn:aws:execute-api:${c.region}:${c.accountId}:${c.api.apiId}/${info.stage}/$connect`;
    const ttl = auth.authorizerResultTtlInSeconds ?? 0;
    const cacheKey = `${c.api.apiId}|${info.stage}|${auth.authorizerId}|${JSON.stringify(values ?? [])}`;
    let result = ttl > 0 && values ? this.authCache.get(cacheKey) : undefined;
    if (!result) {
      const event = {
        type: 'REQUEST',
        methodArn,
        ...buildConnectEvent(info, { requestId, timeEpoch: started }, req.rawHeaders, rawQuery),
      };
      const fn = functionArnOf(withStageVariables(auth.authorizerUri, st.stage.stageVariables));
      if (!fn) throw new AuthFailure(500, 'Internal server error', 'the authorizer URI names no function');
      let out;
      try {
        out = await this.deps.invoke(c.accountId, fn, Buffer.from(JSON.stringify(event)), 10_000);
      } catch (e) {
        throw new AuthFailure(500, 'Internal server error', `authorizer invoke failed: ${String(e)}`);
      }
      if (out.functionError) {
        // A function failing with "Unauthorized" means 401, as on AWS.
        if (/"errorMessage"\s*:\s*"Unauthorized"/.test(out.payload.toString('utf8')))
          throw new AuthFailure(401, 'Unauthorized', 'the authorizer answered Unauthorized');
        throw new AuthFailure(500, 'Internal server error', 'the authorizer function failed');
      }
      result = lambdaAuthResult(auth, out.payload, methodArn);
      if (values) this.authCache.set(cacheKey, result, ttl);
    }
    if (!result.allowed) throw new AuthFailure(403, 'Forbidden', 'the authorizer denied the connection');
    info.authorizer = {
      ...result.context,
      ...(result.principalId ? { principalId: result.principalId } : {}),
    };
  }

  /** Runs the `$disconnect` route, if there is one; its answer is ignored. */
  private async disconnect(info: ConnectionInfo, code: number, reason: string): Promise<void> {
    const c = await this.loadApi(info.apiId);
    const st = c?.stages.get(info.stage);
    const route = st?.routes.get('$disconnect');
    if (!c || !st || !route) return;
    const integ = integrationOf(st, route);
    if (!integ) return;
    const requestId = newRequestId();
    const started = this.now();
    const event = buildDisconnectEvent(info, { requestId, timeEpoch: started }, code, reason);
    const out = await this.call(c, st, integ, event, requestId);
    this.observe(c, st, info, {
      eventType: 'DISCONNECT',
      routeKey: '$disconnect',
      requestId,
      started,
      status: 'refuse' in out ? out.refuse : 200,
      integrationLatency: this.now() - started,
      ...('refuse' in out ? { error: failureOf(out) } : {}),
    });
  }

  // ------------------------------------------------------------------ messages

  private async message(held: Held, data: Buffer, binary: boolean): Promise<void> {
    const info = held.info;
    const requestId = newRequestId();
    const c = await this.loadApi(info.apiId);
    const st = c?.stages.get(info.stage);
    if (!c || !st) return held.close(1001, 'Going away');
    const selected = binary ? undefined : evaluateSelection(c.selection, data.toString('utf8'));
    const chosen =
      selected !== undefined && !WEBSOCKET_RESERVED_KEYS.includes(selected)
        ? st.routes.get(selected)
        : undefined;
    const route = chosen ?? st.routes.get('$default');
    const started = this.now();
    const messageId = shortId(12);
    const outcome = (routeKey: string, status: number, more: Partial<Outcome> = {}) =>
      this.observe(c, st, info, {
        eventType: 'MESSAGE',
        routeKey,
        requestId,
        started,
        status,
        messageId,
        ...more,
      });
    const fail = (message: string) =>
      held.send(Buffer.from(JSON.stringify({ message, connectionId: info.connectionId, requestId })));
    if (!route) {
      outcome(selected ?? '$default', 403, { error: { kind: 'client', message: 'Forbidden' } });
      return void fail('Forbidden');
    }
    if (!this.allowed(c, st, route.routeKey)) {
      outcome(route.routeKey, 429, { error: { kind: 'client', message: 'Too Many Requests' } });
      return void fail('Too Many Requests');
    }
    const invalid = this.invalidMessage(c, route, data, binary);
    if (invalid) {
      outcome(route.routeKey, invalid.status, {
        error: { kind: invalid.status === 400 ? 'client' : 'execution', message: invalid.message },
      });
      return void fail(invalid.message);
    }
    const integ = integrationOf(st, route);
    if (!integ) {
      outcome(route.routeKey, 500, { error: { kind: 'execution', message: 'Internal server error' } });
      return void fail('Internal server error');
    }
    const event = buildMessageEvent(
      info,
      { requestId, timeEpoch: started },
      route.routeKey,
      messageId,
      data,
      binary,
    );
    const out = await this.call(c, st, integ, event, requestId);
    const integrationLatency = this.now() - started;
    if ('refuse' in out) {
      outcome(route.routeKey, out.refuse, { integrationLatency, error: failureOf(out) });
      return void fail(out.message);
    }
    outcome(route.routeKey, 200, { integrationLatency });
    if (!route.routeResponseSelectionExpression) return;
    // A two-way route: the integration response (non-proxy), or the function's body, goes back to the sender.
    if (out.nonProxy) {
      if (out.nonProxy.reply?.length) held.send(out.nonProxy.reply);
      return;
    }
    const answer = parseProxyAnswer(out.payload);
    if (answer.body === undefined) return;
    held.send(answer.isBase64Encoded ? Buffer.from(answer.body, 'base64') : Buffer.from(answer.body));
  }

  /**
   * `$connect` with ApiKeyRequired: the key the API's ApiKeySelectionExpression names (a header,
   * or the authorizer's usageIdentifierKey) must pass its usage plan; undefined when it does
   * (the connection then carries it), else the refusal.
   */
  private async checkConnectKey(
    c: CachedApi,
    req: IncomingMessage,
    info: ConnectionInfo,
  ): Promise<{ status: number; message: string } | undefined> {
    const expr = c.api.apiKeySelectionExpression;
    const value =
      expr === '$context.authorizer.usageIdentifierKey'
        ? info.authorizer?.usageIdentifierKey
        : headerValues(
            req.rawHeaders,
            (/^\$request\.header\.(.+)$/.exec(expr)?.[1] ?? 'x-api-key').toLowerCase(),
          );
    const decision =
      typeof value === 'string' && value && this.deps.checkApiKey
        ? await this.deps.checkApiKey(
            { accountId: c.accountId, region: c.region },
            info.apiId,
            info.stage,
            value,
            this.throttler,
          )
        : undefined;
    if (decision === undefined) return { status: 403, message: 'Forbidden' };
    if (decision === 'throttled') return { status: 429, message: 'Too Many Requests' };
    if (decision === 'quota') return { status: 429, message: 'Limit Exceeded' };
    info.apiKey = { value: String(value), id: decision.id };
    return undefined;
  }

  /**
   * Request validation: a route with RequestModels checks the message against the model its
   * ModelSelectionExpression picks (else the `$default` one), before the integration runs.
   */
  private invalidMessage(
    c: CachedApi,
    route: RouteRecord,
    data: Buffer,
    binary: boolean,
  ): { status: number; message: string } | undefined {
    const models = route.requestModels;
    if (!models || !Object.keys(models).length) return undefined;
    const text = binary ? '' : data.toString('utf8');
    const name = models[selectionKey(route.modelSelectionExpression, text)] ?? models.$default;
    if (!name) return undefined;
    let schemas = this.schemas.get(c);
    if (!schemas) this.schemas.set(c, (schemas = new SchemaSet(c.api.apiId, c.api.models ?? [])));
    const validate = schemas.validator(name);
    if (validate instanceof Error) return { status: 500, message: 'Internal server error' };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return { status: 400, message: 'Invalid request body' };
    }
    return validate(doc) ? undefined : { status: 400, message: 'Invalid request body' };
  }

  /** The route's throttle (RouteSettings, else DefaultRouteSettings): false when it is empty. */
  private allowed(c: CachedApi, st: CompiledStage, routeKey: string): boolean {
    const rs = st.stage.routeSettings[routeKey];
    const d = st.stage.defaultRouteSettings;
    return this.throttler.allow(c.accountId, `${c.api.apiId}|${st.stage.stageName}|${routeKey}`, {
      rate: rs?.throttlingRateLimit ?? d.throttlingRateLimit,
      burst: rs?.throttlingBurstLimit ?? d.throttlingBurstLimit,
    });
  }

  /**
   * The stage's access log line (AccessLogSettings) and the AWS/ApiGateway metrics of one
   * CONNECT, MESSAGE or DISCONNECT: ConnectCount, MessageCount, ClientError, IntegrationError,
   * ExecutionError, IntegrationLatency, per ApiId, ApiId+Stage and ApiId+Stage+Route.
   */
  private observe(c: CachedApi, st: CompiledStage, info: ConnectionInfo, o: Outcome): void {
    const now = this.now();
    const stage = st.stage;
    const als = stage.accessLogSettings;
    if (this.deps.logs && als?.destinationArn && als.format) {
      const vars: AccessLogVars = {
        requestId: o.requestId,
        extendedRequestId: o.requestId,
        apiId: c.api.apiId,
        stage: stage.stageName,
        routeKey: o.routeKey,
        eventType: o.eventType,
        connectionId: info.connectionId,
        messageId: o.messageId,
        connectedAt: info.connectedAt,
        status: o.status,
        requestTime: requestTime(o.started),
        requestTimeEpoch: Math.floor(o.started / 1000),
        'identity.sourceIp': info.sourceIp,
        'identity.userAgent': info.userAgent,
        domainName: info.domainName,
        accountId: c.accountId,
        integrationLatency: o.integrationLatency,
        'integration.latency': o.integrationLatency,
        'error.message': o.error?.message,
        'error.messageString': o.error ? JSON.stringify(o.error.message) : undefined,
      };
      writeAccessLog(
        this.deps.logs,
        { accountId: c.accountId, region: c.region, stream: `${c.api.apiId}_${stage.stageName}` },
        als,
        vars,
        now,
      );
    }
    const sink = this.deps.metrics;
    if (!sink) return;
    const scope = { accountId: c.accountId, region: c.region };
    const api = { Name: 'ApiId', Value: c.api.apiId };
    const stg = { Name: 'Stage', Value: stage.stageName };
    const route = { Name: 'Route', Value: o.routeKey };
    for (const dims of [[api], [api, stg], [api, stg, route]] as MetricDimension[][]) {
      const put = (name: string, value: number, unit: string) =>
        sink.record(scope, 'AWS/ApiGateway', name, dims, value, unit);
      if (o.eventType === 'CONNECT') put('ConnectCount', 1, 'Count');
      if (o.eventType === 'MESSAGE') put('MessageCount', 1, 'Count');
      put('ClientError', o.error?.kind === 'client' ? 1 : 0, 'Count');
      put('IntegrationError', o.error?.kind === 'integration' ? 1 : 0, 'Count');
      put('ExecutionError', o.error?.kind === 'execution' ? 1 : 0, 'Count');
      if (o.integrationLatency !== undefined) put('IntegrationLatency', o.integrationLatency, 'Milliseconds');
    }
  }

  /**
   * A message PostToConnection delivered: MessageCount counts messages to clients as well as
   * from them, per ApiId and ApiId+Stage (no route sent it).
   */
  private countPosted(info: ConnectionInfo): void {
    const sink = this.deps.metrics;
    if (!sink) return;
    const api = { Name: 'ApiId', Value: info.apiId };
    const stage = { Name: 'Stage', Value: info.stage };
    for (const dims of [[api], [api, stage]])
      sink.record(
        { accountId: info.accountId, region: info.region },
        'AWS/ApiGateway',
        'MessageCount',
        dims,
        1,
        'Count',
      );
  }

  /**
   * Invokes a route's function (AWS_PROXY), or runs its non-proxy integration (`nonProxy`: the
   * backend's status and what goes back to a two-way route's client); a failure answers what
   * the client is told.
   */
  private async call(
    c: CachedApi,
    st: CompiledStage,
    integ: IntegrationRecord,
    event: Record<string, unknown>,
    requestId: string,
  ): Promise<
    { payload: Buffer; nonProxy?: { status: number; reply?: Buffer } } | { refuse: number; message: string }
  > {
    if (integ.integrationType !== 'AWS_PROXY') {
      const out = await callNonProxy(
        { invoke: this.deps.invoke, callService: this.deps.callService, logger: this.deps.logger },
        integ,
        {
          accountId: c.accountId,
          region: c.region,
          stageVariables: st.stage.stageVariables,
          event,
          requestId,
        },
      );
      return 'refuse' in out ? out : { payload: out.reply ?? Buffer.alloc(0), nonProxy: out };
    }
    const fn = functionArnOf(withStageVariables(integ.integrationUri, st.stage.stageVariables));
    if (!fn) return { refuse: 500, message: 'Internal server error' };
    try {
      const out = await this.deps.invoke(
        c.accountId,
        fn,
        Buffer.from(JSON.stringify(event)),
        integ.timeoutInMillis,
      );
      if (out.functionError) {
        this.deps.logger.warn('websocket integration returned a function error', {
          requestId,
          function: fn,
          error: out.payload.toString('utf8').slice(0, 500),
        });
        return { refuse: 502, message: 'Internal server error' };
      }
      return { payload: out.payload };
    } catch (e) {
      if (e instanceof IntegrationTimeout) return { refuse: 504, message: 'Endpoint request timed out' };
      this.deps.logger.warn('websocket integration failed', { requestId, function: fn, err: e });
      return { refuse: 500, message: 'Internal server error' };
    }
  }

  /** Closes the connections of an API or stage that is gone (deleted, or its deployment removed). */
  private async dropOrphans(apiId: string): Promise<void> {
    const mine = this.deps.connections.held().filter((h) => h.info.apiId === apiId);
    if (!mine.length) return;
    const c = await this.loadApi(apiId).catch(() => undefined);
    for (const h of mine) if (!c?.stages.has(h.info.stage)) h.close(1001, 'Going away');
  }

  // ------------------------------------------------------------------ @connections on the stage URL

  /**
   * Plain HTTP to a WebSocket API: `/{stage}/@connections/{id}` is the management API;
   * anything else is refused (426: WebSocket APIs answer only handshakes).
   */
  async serveHttp(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
  ): Promise<void> {
    const q = urlBelowApi.indexOf('?');
    const path = q < 0 ? urlBelowApi : urlBelowApi.slice(0, q);
    const m = /^\/([^/]+)\/@connections\/([^/]+)$/.exec(path);
    const op = OPERATIONS[req.method ?? 'GET'];
    if (!m || !op) {
      req.resume();
      return writeJson(res, 426, { message: 'Upgrade Required' }, requestId);
    }
    const body = await readBody(req, MANAGEMENT_BODY_LIMIT);
    try {
      if (!body) throw new AwsError('PayloadTooLargeException', 'Request Entity Too Large', 413);
      const c = await this.loadApi(apiId);
      if (!c) throw new AwsError('ForbiddenException', 'Forbidden', 403);
      const fullPath = (req.url ?? '/').split('?')[0];
      const who = this.deps.authenticate
        ? await this.deps.authenticate(req, fullPath, body)
        : { accountId: c.accountId };
      if (who.accountId !== c.accountId) throw new AwsError('ForbiddenException', 'Forbidden', 403);
      const mreq: ManagementRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
      };
      const out = await this.deps.connections.call(
        op,
        decodeSafe(m[2]),
        { accountId: who.accountId, apiId, stage: decodeSafe(m[1]) },
        mreq,
      );
      writeJson(res, out.status, out.body, requestId);
    } catch (e) {
      if (!(e instanceof AwsError)) this.deps.logger.error('@connections call failed', { requestId, err: e });
      const reply = encodeRestJsonError(toAwsError(e));
      if (res.headersSent) return;
      res.writeHead(reply.status, { ...reply.headers, 'x-amzn-RequestId': requestId });
      res.end(reply.body);
    }
  }

  /** Closes every connection (shutdown): 1001 to the clients, then their $disconnect routes. */
  async close(): Promise<void> {
    this.closing = true;
    for (const h of this.deps.connections.held()) h.close(1001, 'Going away');
    const deadline = new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS).unref());
    while (this.pending.size) {
      const settled = await Promise.race([Promise.allSettled([...this.pending]).then(() => true), deadline]);
      if (settled !== true) break;
    }
    for (const h of this.deps.connections.held()) (h as Held).ws.terminate();
    this.wss.close();
  }
}

const OPERATIONS: Record<string, Operation | undefined> = {
  POST: 'PostToConnection',
  GET: 'GetConnection',
  DELETE: 'DeleteConnection',
};

function integrationOf(st: CompiledStage, route: RouteRecord): IntegrationRecord | undefined {
  const id = route.target?.startsWith('integrations/') ? route.target.slice(13) : undefined;
  return id ? st.integrations.get(id) : undefined;
}

interface ProxyAnswer {
  statusCode?: number;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
}

/**
 * A Lambda proxy answer: `{statusCode, headers, body, isBase64Encoded}`. Anything else (no
 * answer, a bare value) has no status; a bare string or value is the body as JSON.
 */
function parseProxyAnswer(payload: Buffer): ProxyAnswer {
  let v: unknown;
  try {
    v = payload.length ? JSON.parse(payload.toString('utf8')) : null;
  } catch {
    return { body: payload.toString('utf8') };
  }
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    return { body: typeof v === 'string' ? v : JSON.stringify(v) };
  const o = v as Record<string, unknown>;
  const out: ProxyAnswer = {};
  if (o.statusCode !== undefined) {
    const n = Number(o.statusCode);
    if (Number.isInteger(n) && n >= 100 && n <= 599) out.statusCode = n;
  }
  if (o.body !== undefined && o.body !== null)
    out.body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  if (o.isBase64Encoded === true) out.isBase64Encoded = true;
  if (o.headers && typeof o.headers === 'object') {
    out.headers = {};
    for (const [k, val] of Object.entries(o.headers as Record<string, unknown>))
      out.headers[k.toLowerCase()] = String(val);
  }
  return out;
}

/** Sends a message in frames of at most `frameBytes` (text when it is valid UTF-8). */
function sendFramed(ws: WebSocket, data: Buffer, frameBytes: number): void {
  const binary = !isUtf8(data);
  if (data.length <= frameBytes) return ws.send(data, { binary });
  for (let off = 0; off < data.length; off += frameBytes)
    ws.send(data.subarray(off, off + frameBytes), { binary, fin: off + frameBytes >= data.length });
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Answers a handshake with an HTTP status instead of 101, and closes the socket. */
export function reject(socket: Duplex, status: number, body: string | object, requestId?: string): void {
  if (socket.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: close',
  ];
  if (requestId) head.push(`x-amzn-RequestId: ${requestId}`);
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
}

function writeJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
  });
  res.end(text);
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
