/**
 * The front door: one request handler for every AWS API, served over TCP and over a Unix
 * socket (the way sandboxes reach Nimbus). Per request:
 *
 *   request id -> Host mounts -> `mountWhen` tests (S3) -> `/_nimbus/*` and other mounted prefixes -> body (size-capped, 413)
 *   -> protocol: X-Amz-Target (JSON by prefix) | REST-JSON route (method + path)
 *      | Query (form or query string with `Action`; service by the SigV4 scope's service
 *      name, else by `Version`) -> SigV4 authentication -> operation -> encoded reply.
 *
 * Every reply carries `x-amzn-RequestId` and `x-amz-request-id`. Anything thrown that is not
 * an AwsError is logged with its cause and answered as a 500 InternalFailure.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/logger.js';
import { requestId as newRequestId } from '../core/ids.js';
import { AwsError, commonErrors, toAwsError } from '../protocols/errors.js';
import { decodeJsonBody, encodeJsonError, encodeJsonResult, parseTarget } from '../protocols/json.js';
import { RestRouter, encodeRestBody, encodeRestJsonError } from '../protocols/rest-json.js';
import { decodeQueryParams, parseForm } from '../protocols/query.js';
import {
  encodeQueryError,
  encodeQueryErrorJson,
  encodeQueryResult,
  encodeQueryResultJson,
} from '../protocols/xml.js';
import type { Reply } from '../protocols/reply.js';
import type {
  JsonService,
  QueryService,
  RequestContext,
  RestJsonService,
  RestRoute,
  Service,
} from './service.js';
import { replied, writeReply } from './reply-batch.js';
import type { TlsCertificates } from './tls.js';
import { streamBody } from './stream-body.js';
import { parseSigV4, type Auth, type AuthFlavor, type Principal, type SigV4Info } from './auth.js';

export const DEFAULT_MAX_BODY_BYTES = 70 * 1024 * 1024;

export interface FrontDoorOptions {
  logger: Logger;
  auth: Auth;
  /** Region when the request names none (unsigned). */
  region: string;
  /** Largest accepted request body (default 70 MB: a 50 MB zip, base64-encoded, plus JSON). */
  maxBodyBytes?: number;
}

/** A handler for a mounted path prefix: it owns the raw request and response. */
export type RawHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
) => void | Promise<void>;

/**
 * Takes over an HTTP upgrade (WebSocket handshakes): `test` says from the request head whether
 * it is this handler's; `handle` owns the socket from then on; `close` (at shutdown, before
 * the servers stop) ends the connections it holds, which the servers would otherwise wait for.
 */
export interface UpgradeMount {
  test: (req: IncomingMessage) => boolean;
  handle: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  close?: () => Promise<void>;
}

/** Decides from the Host header whether a `mountHost` handler owns the request (a RegExp is one). */
export interface HostTest {
  test(host: string): boolean;
}

/** Decides from the request head (headers, query) whether a `mountWhen` handler owns it. */
export type RequestTest = (req: IncomingMessage, query: URLSearchParams) => boolean;

export interface InternalRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Buffer;
}
export type InternalHandler = (req: InternalRequest) => Promise<{ status?: number; body: unknown }>;

interface Inflight {
  requestId: string;
  /** Created on first use of ctx.signal (most operations never look at it). */
  controller: AbortController | undefined;
  /** The client went away or shutdown gave up on the request. */
  aborted: boolean;
}

function signalOf(entry: Inflight): AbortSignal {
  if (!entry.controller) {
    entry.controller = new AbortController();
    if (entry.aborted) entry.controller.abort();
  }
  return entry.controller.signal;
}

function abortEntry(entry: Inflight): void {
  entry.aborted = true;
  entry.controller?.abort();
}

/** The response's in-flight entry, for the one `close` listener all responses share. */
const kEntry = Symbol('nimbus.inflight');
type TrackedResponse = ServerResponse & { [kEntry]?: Inflight };

/**
 * What an operation sees of its request. A class (getters on the prototype): an object literal
 * with getters costs ~1.5 µs per request in Node 20, this a few ns.
 */
class Context implements RequestContext {
  private log: Logger | undefined = undefined;
  readonly endpoint: string;

  constructor(
    readonly requestId: string,
    readonly accountId: string,
    readonly accessKeyId: string,
    readonly region: string,
    host: string | undefined,
    private readonly base: Logger,
    private readonly entry: Inflight,
    private readonly service: string,
    private readonly operation: string,
  ) {
    this.endpoint = `http://${host ?? 'localhost'}`;
  }

  get logger(): Logger {
    return (this.log ??= this.base.child({
      requestId: this.requestId,
      service: this.service,
      operation: this.operation,
    }));
  }

  get signal(): AbortSignal {
    return signalOf(this.entry);
  }
}

export class FrontDoor {
  private readonly logger: Logger;
  private readonly auth: Auth;
  private readonly region: string;
  readonly maxBodyBytes: number;
  private readonly jsonByPrefix = new Map<string, JsonService>();
  private readonly queryBySigningName = new Map<string, QueryService>();
  private readonly queryByVersion = new Map<string, QueryService>();
  private readonly rest = new RestRouter<{ service: RestJsonService; route: RestRoute }>();
  private readonly internal = new Map<string, InternalHandler>();
  private readonly exactMounts = new Map<string, RawHandler>();
  private readonly mounts: { prefix: string; handler: RawHandler }[] = [];
  private readonly hostMounts: { test: HostTest; handler: RawHandler }[] = [];
  private readonly requestMounts: { test: RequestTest; handler: RawHandler }[] = [];
  private readonly upgradeMounts: UpgradeMount[] = [];
  private readonly registered: Service[] = [];
  private readonly servers: Server[] = [];
  private readonly inflight = new Set<Inflight>();
  private drainWaiters: (() => void)[] = [];
  private closing = false;

  constructor(opts: FrontDoorOptions) {
    this.logger = opts.logger;
    this.auth = opts.auth;
    this.region = opts.region;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  register(service: Service): void {
    this.registered.push(service);
    if (service.protocol === 'json') {
      if (this.jsonByPrefix.has(service.targetPrefix))
        throw new Error(`duplicate target prefix ${service.targetPrefix}`);
      this.jsonByPrefix.set(service.targetPrefix, service);
    } else if (service.protocol === 'query') {
      this.queryBySigningName.set(service.signingName, service);
      this.queryByVersion.set(service.version, service);
    } else {
      for (const route of service.routes) this.rest.add(route.method, route.path, { service, route });
    }
  }

  /** Signing names of the registered services (for health). */
  serviceNames(): string[] {
    return [...new Set(this.registered.map((s) => s.signingName))].sort();
  }

  /** `GET /_nimbus/<name>` style routes: key is `METHOD /_nimbus/...`. */
  addInternalRoute(method: string, path: string, handler: InternalHandler): void {
    this.internal.set(`${method.toUpperCase()} ${path}`, handler);
  }

  /** Hands requests for exactly `path` (e.g. `/metrics`, any method) to `handler`. */
  mountExact(path: string, handler: RawHandler): void {
    this.exactMounts.set(path, handler);
  }

  /** Hands every request whose path starts with `prefix` (e.g. `/_api/`) to `handler`. */
  mount(prefix: string, handler: RawHandler): void {
    this.mounts.push({ prefix, handler });
  }

  /**
   * Hands every request whose Host header matches `test` (a pattern such as `{apiId}.execute-api.*`,
   * or a synchronous lookup such as the gateway's custom domain names) to `handler`, before AWS
   * API dispatch. Tests run in mount order on every request: keep them cheap.
   */
  mountHost(test: HostTest, handler: RawHandler): void {
    this.hostMounts.push({ test, handler });
  }

  /**
   * Hands every request `test` recognises (e.g. S3: signed for service `s3`, or a
   * virtual-hosted bucket Host) to `handler`, after host mounts and before any other routing.
   */
  mountWhen(test: RequestTest, handler: RawHandler): void {
    this.requestMounts.push({ test, handler });
  }

  /** Hands HTTP upgrades that `mount.test` recognises to `mount.handle` (others are answered 404). */
  mountUpgrade(mount: UpgradeMount): void {
    this.upgradeMounts.push(mount);
  }

  /** The servers' `upgrade` listener. */
  private readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const m = this.closing ? undefined : this.upgradeMounts.find((u) => u.test(req));
    if (m) {
      try {
        return m.handle(req, socket, head);
      } catch (e) {
        this.logger.error('upgrade handler failed', { url: req.url, err: e });
      }
    }
    const body = JSON.stringify({ message: this.closing ? 'Service Unavailable' : 'Not Found' });
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${this.closing ? '503 Service Unavailable' : '404 Not Found'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  };

  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    const entry = this.track(res);
    this.dispatch(req, res, entry).catch((e) => this.failed(res, entry, e));
  };

  /** A request id and in-flight tracking (answers are drained at shutdown) for this response. */
  private track(res: ServerResponse): Inflight {
    const entry: Inflight = { requestId: newRequestId(), controller: undefined, aborted: false };
    this.inflight.add(entry);
    (res as TrackedResponse)[kEntry] = entry;
    res.on('close', this.onResponseClose);
    return entry;
  }

  /** The `close` listener of every response (`this` is the response): one function, not a closure per request. */
  private readonly onResponseClose = ((door: FrontDoor) =>
    function (this: TrackedResponse): void {
      const entry = this[kEntry];
      if (entry) door.finished(entry, this.writableFinished);
    })(this);

  private finished(entry: Inflight, completed: boolean): void {
    if (!completed) abortEntry(entry);
    this.inflight.delete(entry);
    if (this.inflight.size === 0 && this.drainWaiters.length) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
  }

  private failed(res: ServerResponse, entry: Inflight, e: unknown): void {
    this.logger.error('request failed outside the protocol layer', { requestId: entry.requestId, err: e });
    if (!replied(res)) this.send(res, entry, encodeRestJsonError(commonErrors.internal()));
    else if (res.headersSent) res.destroy();
  }

  /** Writes a reply with the request id headers (and `connection: close` while shutting down). */
  private send(res: ServerResponse, entry: Inflight, reply: Reply): void {
    if (replied(res)) return;
    const body = reply.body;
    // Copied key by key into a fresh literal: `{ ...reply.headers }` followed by added keys
    // costs ~3 µs per request in Node 20 (V8 11.3), this a few dozen ns.
    const headers: Record<string, string | number> = {};
    const src = reply.headers;
    for (const k of Object.keys(src)) headers[k] = src[k];
    headers['x-amzn-RequestId'] = entry.requestId;
    headers['x-amz-request-id'] = entry.requestId;
    if (this.closing) headers.connection = 'close';
    if (reply.stream) return this.sendStream(res, reply.status, headers, reply.stream);
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    writeReply(res, reply.status, headers, body);
  }

  /** The head at once, then each chunk as it comes (chunked); a failing stream ends the connection. */
  private sendStream(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | number>,
    stream: AsyncIterable<Buffer>,
  ): void {
    res.writeHead(status, headers);
    res.flushHeaders();
    void streamBody(res, stream, (e) =>
      this.logger.warn('a streamed response failed after its head was sent', { err: e }),
    );
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, entry: Inflight) {
    const requestId = entry.requestId;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = req.method ?? 'GET';

    if (this.hostMounts.length) {
      const host = req.headers.host;
      if (host) {
        for (const m of this.hostMounts)
          if (m.test.test(host)) return void (await m.handler(req, res, requestId));
      }
    }

    // One URLSearchParams per request, shared by the mount tests and the protocols (all read it only).
    const query = new URLSearchParams(rawQuery);
    if (this.requestMounts.length) {
      for (const m of this.requestMounts)
        if (m.test(req, query)) return void (await m.handler(req, res, requestId));
    }

    const exact = this.exactMounts.size ? this.exactMounts.get(path) : undefined;
    if (exact) return void (await exact(req, res, requestId));
    if (path.charCodeAt(1) === 95 /* _ */) {
      for (const m of this.mounts) {
        if (path.startsWith(m.prefix)) {
          res.setHeader('x-amzn-RequestId', requestId);
          res.setHeader('x-amz-request-id', requestId);
          return void (await m.handler(req, res, requestId));
        }
      }
      if (path.startsWith('/_nimbus/')) {
        const body = await this.readBody(req, res, entry, (e) => encodeRestJsonError(e));
        if (!body) return;
        const h = this.internal.get(`${method} ${path}`);
        if (!h)
          return this.send(res, entry, jsonReply(404, { message: `No such endpoint: ${method} ${path}` }));
        const out = await h({ method, path, query, body }).catch((e) => {
          this.logger.error('internal endpoint failed', { requestId, path, err: e });
          return { status: 500, body: { message: 'internal error' } };
        });
        return this.send(res, entry, jsonReply(out.status ?? 200, out.body));
      }
    }

    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const t = parseTarget(target);
      const service = t ? this.jsonByPrefix.get(t.prefix) : undefined;
      const opts = service ?? { jsonVersion: jsonVersionOf(req) };
      const body = await this.readBody(req, res, entry, (e) => encodeJsonError(opts, e));
      if (!body) return;
      const reply = await this.runJson(service, t?.operation, req, path, query, body, entry);
      return this.send(res, entry, reply);
    }

    const match = this.rest.match(method, path);
    if (match) {
      const body = await this.readBody(req, res, entry, encodeRestJsonError);
      if (!body) return;
      const reply = await this.runRest(match.route, match.params, req, path, query, body, entry);
      return this.send(res, entry, reply);
    }

    const contentType = req.headers['content-type'] ?? '';
    if (query.has('Action') || contentType.startsWith('application/x-www-form-urlencoded')) {
      const body = await this.readBody(req, res, entry, (e) => encodeQueryError('', e, requestId));
      if (!body) return;
      const reply = await this.runQuery(req, path, query, body, entry);
      return this.send(res, entry, reply);
    }

    await this.readBody(req, res, entry, encodeRestJsonError);
    if (replied(res)) return;
    if (this.rest.hasPath(path)) {
      return this.send(
        res,
        entry,
        encodeRestJsonError(new AwsError('MethodNotAllowedException', 'Method Not Allowed', 405)),
      );
    }
    this.send(
      res,
      entry,
      encodeRestJsonError(
        new AwsError('UnknownOperationException', `No operation matches ${method} ${path}`, 404),
      ),
    );
  }

  private context(
    req: IncomingMessage,
    entry: Inflight,
    who: Principal,
    sig: SigV4Info | undefined,
    operation: string,
    service: string,
  ): RequestContext {
    return new Context(
      entry.requestId,
      who.accountId,
      who.accessKeyId,
      sig?.region ?? this.region,
      req.headers.host,
      this.logger,
      entry,
      service,
      operation,
    );
  }

  /** The caller: resolved synchronously in dev mode (no promise), verified by Auth in strict mode. */
  private authenticate(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
    sig: SigV4Info | undefined,
    flavor: AuthFlavor,
  ): Principal | Promise<Principal> {
    return (
      this.auth.devPrincipalFor(sig) ??
      this.auth.authenticate(
        { method: req.method ?? 'GET', path, query, headers: req.headers, body },
        sig,
        flavor,
      )
    );
  }

  private async runJson(
    service: JsonService | undefined,
    operation: string | undefined,
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
    entry: Inflight,
  ): Promise<Reply> {
    const opts = service ?? { jsonVersion: jsonVersionOf(req) };
    try {
      const sig = parseSigV4(req.headers, query);
      let who = this.authenticate(req, path, query, body, sig, 'json');
      if (who instanceof Promise) who = await who;
      const op = service && operation ? service.operations[operation] : undefined;
      if (!op || !Object.hasOwn(service!.operations, operation!)) throw commonErrors.unknownOperation();
      const input = decodeJsonBody(body);
      const ctx = this.context(req, entry, who, sig, operation!, service!.signingName);
      const output = await op(ctx, input);
      return encodeJsonResult(opts, output);
    } catch (e) {
      return encodeJsonError(opts, this.toError(e, entry.requestId));
    }
  }

  private async runRest(
    m: { service: RestJsonService; route: RestRoute },
    params: Record<string, string>,
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
    entry: Inflight,
  ): Promise<Reply> {
    try {
      const sig = parseSigV4(req.headers, query);
      let who = this.authenticate(req, path, query, body, sig, 'rest-json');
      if (who instanceof Promise) who = await who;
      const ctx = this.context(req, entry, who, sig, m.route.operation, m.service.signingName);
      const out = await m.route.handler(ctx, {
        method: req.method ?? 'GET',
        path,
        pathParams: params,
        query,
        headers: req.headers,
        body,
        json: () => decodeJsonBody(body) as never,
      });
      if (out.stream)
        return { status: out.status ?? 200, headers: out.headers ?? {}, body: '', stream: out.stream };
      const enc = encodeRestBody(out.body, out.headers ?? {});
      return { status: out.status ?? 200, headers: enc.headers, body: enc.body };
    } catch (e) {
      return encodeRestJsonError(this.toError(e, entry.requestId));
    }
  }

  private async runQuery(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: Buffer,
    entry: Inflight,
  ): Promise<Reply> {
    const requestId = entry.requestId;
    // Query services answer JSON to clients that ask for it (API Gateway's AWS integrations do).
    const json = (req.headers.accept ?? '').startsWith('application/json');
    let xmlns = '';
    try {
      const params = parseForm(body, query);
      const sig = parseSigV4(req.headers, query);
      const version = params.get('Version') ?? '';
      const service =
        (sig ? this.queryBySigningName.get(sig.service) : undefined) ?? this.queryByVersion.get(version);
      if (service) xmlns = service.xmlNamespace;
      let who = this.authenticate(req, path, query, body, sig, 'query');
      if (who instanceof Promise) who = await who;
      for (const [k, v] of Object.entries(service?.paramsOfPath?.(path) ?? {}))
        if (!params.has(k)) params.set(k, v);
      const action = params.get('Action');
      if (!action) throw commonErrors.missingAction();
      if (!service || !Object.hasOwn(service.operations, action)) throw commonErrors.invalidAction(action);
      const ctx = this.context(req, entry, who, sig, action, service.signingName);
      const output = await service.operations[action](ctx, decodeQueryParams(params));
      return json
        ? encodeQueryResultJson(action, output, requestId)
        : encodeQueryResult(action, xmlns, output, requestId);
    } catch (e) {
      const err = this.toError(e, requestId);
      return json ? encodeQueryErrorJson(err, requestId) : encodeQueryError(xmlns, err, requestId);
    }
  }

  private toError(e: unknown, requestId: string): AwsError {
    if (!(e instanceof AwsError)) this.logger.error('operation failed', { requestId, err: e });
    return toAwsError(e);
  }

  /** Reads the whole body; on overflow answers 413 (in the protocol's shape) and returns undefined. */
  private readBody(
    req: IncomingMessage,
    res: ServerResponse,
    entry: Inflight,
    encodeError: (e: AwsError) => Reply,
  ): Promise<Buffer | undefined> {
    const limit = this.maxBodyBytes;
    const tooLarge = () =>
      new AwsError('RequestEntityTooLargeException', `Request must be smaller than ${limit} bytes.`, 413);
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      const reply = encodeError(tooLarge());
      reply.headers.connection = 'close';
      this.send(res, entry, reply);
      req.resume();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > limit) {
          failed = true;
          const reply = encodeError(tooLarge());
          reply.headers.connection = 'close';
          this.send(res, entry, reply);
          resolve(undefined);
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
      });
      req.on('error', (e) => {
        if (!failed) reject(e);
      });
    });
  }

  /** Starts serving on host:port (0 = any free port); resolves with the bound port. */
  async listen(port: number, host: string): Promise<number> {
    return this.bind(this.newServer(), port, host);
  }

  private async bind(server: Server, port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  /**
   * Also serves HTTPS on host:port, everything the main port serves (upgrades too: `wss://`),
   * with `certs`. Every client is asked for a certificate and none is required: custom domain
   * names with mutual TLS check the one presented (or its absence) per request.
   */
  async listenTls(port: number, host: string, certs: TlsCertificates): Promise<number> {
    const server = createHttpsServer({
      ...certs.defaultCert,
      SNICallback: (name, cb) =>
        certs.contextFor(name).then(
          (ctx) => cb(null, ctx),
          (e: Error) => cb(e, undefined),
        ),
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 65_000,
      requestTimeout: 0,
    });
    this.setUp(server, this.handler, this.upgrade);
    return this.bind(server, port, host);
  }

  /** Also serves on a Unix socket (mode 0666), replacing a stale socket file. */
  async listenUnix(socketPath: string): Promise<void> {
    mkdirSync(dirname(socketPath), { recursive: true });
    rmSync(socketPath, { force: true });
    const server = this.newServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socketPath, 0o666);
  }

  /**
   * Serves every request on `port` with `handler` alone (the gateway's app port), with the
   * same request ids, shutdown and draining as the main port. Returns the bound port.
   */
  /** A second port served by `handler` (the gateway's app port), its upgrades by `upgrade`. */
  async listenApp(
    port: number,
    host: string,
    handler: RawHandler,
    upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  ): Promise<number> {
    const server = this.newServer((req, res) => {
      const entry = this.track(res);
      (async () => handler(req, res, entry.requestId))().catch((e) => this.failed(res, entry, e));
    }, upgrade);
    return this.bind(server, port, host);
  }

  /** The main port's upgrade handling, for other servers to fall back on. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
    this.upgrade(req, socket, head);

  private newServer(
    handler: (req: IncomingMessage, res: ServerResponse) => void = this.handler,
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void = this.upgrade,
  ): Server {
    return this.setUp(createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }), handler, upgrade);
  }

  private setUp(
    server: Server,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
  ): Server {
    server.on('request', handler);
    server.headersTimeout = 60_000;
    server.on('upgrade', upgrade);
    this.servers.push(server);
    return server;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then
   * aborts the rest and drops every connection.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const closed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    // Upgraded sockets are no longer the HTTP servers' to close: their owners end them.
    await Promise.all(
      this.upgradeMounts.map((u) =>
        u
          .close?.()
          .catch((e: unknown) => this.logger.error('closing upgraded connections failed', { err: e })),
      ),
    );
    for (const s of this.servers) s.closeIdleConnections();
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.drainWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const e of this.inflight) abortEntry(e);
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(closed);
  }
}

function jsonVersionOf(req: IncomingMessage): '1.0' | '1.1' {
  return String(req.headers['content-type'] ?? '').endsWith('1.1') ? '1.1' : '1.0';
}

function jsonReply(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
