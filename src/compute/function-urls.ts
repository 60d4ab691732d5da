/**
 * Lambda function URLs: the Create/Get/Update/Delete/ListFunctionUrlConfigs API and the data
 * plane. A URL is served by path (`/_lambda-url/{url-id}/...`, the form FunctionUrl returns,
 * which works from any HTTP client) and by Host (`{url-id}.lambda-url.{anything}`). Requests
 * reach the function as payload 2.0 events (routeKey `$default`), built and answered with the
 * HTTP API's builders (src/gateway/events.ts, response.ts).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import type { Auth } from '../server/auth.js';
import { parseSigV4 } from '../server/auth.js';
import { AwsError } from '../protocols/errors.js';
import { buildV2Event, sourceIpOf, type GatewayRequest } from '../gateway/events.js';
import { mapV2Response, MalformedResponse, type HttpResult } from '../gateway/response.js';
import { actualHeaders, isPreflight, preflightHeaders } from '../gateway/cors.js';
import { readBody, send } from '../gateway/serve.js';
import type { Cors as GatewayCors } from '../gateway/model.js';
import type { LambdaEngine } from './engine.js';
import { DEFAULT_STREAM_CONTENT_TYPE, HTTP_INTEGRATION_CONTENT_TYPE, PreludeReader } from './http-stream.js';
import { constraint, errors, functionArn, functionKey, lambdaTimestamp, type Scope } from './model.js';
import { NOT_FOUND_MESSAGE, POLICY_COLLECTION, functionPolicyKey, type PolicyRecord } from './policy.js';

export const FUNCTION_URL_PATH_PREFIX = '/_lambda-url/';
/** Hosts that address a function URL: `{url-id}.lambda-url.{anything}`. */
export const FUNCTION_URL_HOST_PATTERN = /^[a-z0-9]{32}\.lambda-url\./i;

export const URL_COLLECTIONS = { configs: 'lambda.function-urls', ids: 'lambda.function-url-ids' } as const;

/** Largest request a function URL accepts (Lambda's synchronous payload limit). */
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export interface UrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

export interface FunctionUrlInput {
  AuthType?: string;
  Cors?: UrlCors;
  InvokeMode?: string;
}

interface UrlRecord {
  urlId: string;
  accountId: string;
  region: string;
  functionName: string;
  qualifier?: string;
  authType: 'NONE' | 'AWS_IAM';
  cors?: UrlCors;
  /** Absent on configs stored before RESPONSE_STREAM was served: BUFFERED. */
  invokeMode?: 'BUFFERED' | 'RESPONSE_STREAM';
  creationTime: string;
  lastModifiedTime: string;
}

interface UrlIdRecord {
  accountId: string;
  region: string;
  functionName: string;
  qualifier?: string;
}

export interface FunctionUrlDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Verifies SigV4 requests of AWS_IAM URLs (the front door's Auth). */
  auth?: Pick<Auth, 'authenticate'>;
}

const ALIAS_QUALIFIER_RE = /^(?!\d+$)[0-9a-zA-Z-_]+$/;

function configKey(scope: Scope, name: string, qualifier?: string): string {
  return `${functionKey(scope, name)}|${qualifier ?? ''}`;
}

function toGatewayCors(c: UrlCors): GatewayCors {
  return {
    allowCredentials: c.AllowCredentials,
    allowHeaders: c.AllowHeaders,
    allowMethods: c.AllowMethods,
    allowOrigins: c.AllowOrigins,
    exposeHeaders: c.ExposeHeaders,
    maxAge: c.MaxAge,
  };
}

function message(status: number, text: string, headers: Record<string, string[]> = {}): HttpResult {
  return {
    status,
    headers: { 'content-type': ['application/json'], ...headers },
    body: Buffer.from(JSON.stringify({ Message: text })),
  };
}

export class FunctionUrls {
  constructor(
    private readonly deps: FunctionUrlDeps,
    private readonly engine: LambdaEngine,
  ) {}

  /** The URL a client uses: the path form on the endpoint the caller reached Nimbus at. */
  static urlOf(endpoint: string, urlId: string): string {
    return `${endpoint.replace(/\/+$/, '')}${FUNCTION_URL_PATH_PREFIX}${urlId}/`;
  }

  private shape(scope: Scope, r: UrlRecord, endpoint: string, withModified: boolean) {
    const out: Record<string, unknown> = {
      FunctionUrl: FunctionUrls.urlOf(endpoint, r.urlId),
      FunctionArn: functionArn(scope, r.functionName, r.qualifier),
      AuthType: r.authType,
    };
    if (r.cors) out.Cors = r.cors;
    out.CreationTime = r.creationTime;
    if (withModified) out.LastModifiedTime = r.lastModifiedTime;
    out.InvokeMode = r.invokeMode ?? 'BUFFERED';
    return out;
  }

  /** Parses FunctionName + Qualifier; the qualifier must be an alias (or absent) and must exist. */
  private async target(scope: Scope, nameIn: string, qualifierIn: string | undefined) {
    const { name, qualifier } = this.engine.parseName(scope, nameIn, qualifierIn);
    if (qualifier !== undefined && !ALIAS_QUALIFIER_RE.test(qualifier)) {
      throw errors.validation([
        constraint(
          qualifier,
          'qualifier',
          'Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)',
        ),
      ]);
    }
    await this.engine.getFunctionConfiguration(scope, name, qualifier);
    return { name, qualifier };
  }

  private validate(input: FunctionUrlInput, create: boolean): void {
    const v: string[] = [];
    if (input.AuthType === undefined) {
      if (create) v.push(constraint(undefined, 'authType', 'Member must not be null'));
    } else if (input.AuthType !== 'NONE' && input.AuthType !== 'AWS_IAM') {
      v.push(constraint(input.AuthType, 'authType', 'Member must satisfy enum value set: [NONE, AWS_IAM]'));
    }
    if (
      input.InvokeMode !== undefined &&
      input.InvokeMode !== 'BUFFERED' &&
      input.InvokeMode !== 'RESPONSE_STREAM'
    ) {
      v.push(
        constraint(
          input.InvokeMode,
          'invokeMode',
          'Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]',
        ),
      );
    }
    const maxAge = input.Cors?.MaxAge;
    if (maxAge !== undefined && (maxAge < 0 || maxAge > 86400)) {
      v.push(constraint(maxAge, 'cors.maxAge', 'Member must have value less than or equal to 86400'));
    }
    if (v.length) throw errors.validation(v);
  }

  async create(
    scope: Scope,
    nameIn: string,
    qualifierIn: string | undefined,
    input: FunctionUrlInput,
    endpoint: string,
  ) {
    this.validate(input, true);
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    const now = lambdaTimestamp(this.deps.clock.now());
    const rec: UrlRecord = {
      urlId: randomBytes(16)
        .toString('hex')
        .replace(/^[0-9]/, 'a'),
      accountId: scope.accountId,
      region: scope.region,
      functionName: name,
      qualifier,
      authType: input.AuthType as UrlRecord['authType'],
      cors: input.Cors,
      invokeMode: input.InvokeMode === 'RESPONSE_STREAM' ? 'RESPONSE_STREAM' : 'BUFFERED',
      creationTime: now,
      lastModifiedTime: now,
    };
    await this.deps.store.transaction(async (tx) => {
      const inserted = await tx.insert(URL_COLLECTIONS.configs, configKey(scope, name, qualifier), rec);
      if (!inserted) {
        throw errors.conflict(
          `Failed to create function url config for [functionArn = ${functionArn(scope, name, qualifier)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
        );
      }
      const id: UrlIdRecord = {
        accountId: scope.accountId,
        region: scope.region,
        functionName: name,
        qualifier,
      };
      await tx.put(URL_COLLECTIONS.ids, rec.urlId, id);
    });
    return this.shape(scope, rec, endpoint, false);
  }

  private async record(scope: Scope, name: string, qualifier: string | undefined): Promise<UrlRecord> {
    const r = await this.deps.store.get<UrlRecord>(
      URL_COLLECTIONS.configs,
      configKey(scope, name, qualifier),
    );
    if (!r) throw errors.notFound(NOT_FOUND_MESSAGE);
    return r;
  }

  async get(scope: Scope, nameIn: string, qualifierIn: string | undefined, endpoint: string) {
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    return this.shape(scope, await this.record(scope, name, qualifier), endpoint, true);
  }

  async update(
    scope: Scope,
    nameIn: string,
    qualifierIn: string | undefined,
    input: FunctionUrlInput,
    endpoint: string,
  ) {
    this.validate(input, false);
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    const key = configKey(scope, name, qualifier);
    const rec = await this.deps.store.transaction(async (tx) => {
      const r = await tx.get<UrlRecord>(URL_COLLECTIONS.configs, key);
      if (!r) throw errors.notFound(NOT_FOUND_MESSAGE);
      if (input.AuthType !== undefined) r.authType = input.AuthType as UrlRecord['authType'];
      if (input.Cors !== undefined) r.cors = input.Cors;
      if (input.InvokeMode !== undefined) r.invokeMode = input.InvokeMode as UrlRecord['invokeMode'];
      r.lastModifiedTime = lambdaTimestamp(this.deps.clock.now());
      await tx.put(URL_COLLECTIONS.configs, key, r);
      return r;
    });
    return this.shape(scope, rec, endpoint, true);
  }

  async delete(scope: Scope, nameIn: string, qualifierIn: string | undefined): Promise<void> {
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    const key = configKey(scope, name, qualifier);
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.get<UrlRecord>(URL_COLLECTIONS.configs, key);
      if (!r) throw errors.notFound(NOT_FOUND_MESSAGE);
      await tx.delete(URL_COLLECTIONS.configs, key);
      await tx.delete(URL_COLLECTIONS.ids, r.urlId);
    });
  }

  async list(scope: Scope, nameIn: string, opts: { Marker?: string; MaxItems?: number }, endpoint: string) {
    const { name } = await this.target(scope, nameIn, undefined);
    const all = await this.deps.store.scan<UrlRecord>(URL_COLLECTIONS.configs, {
      prefix: `${functionKey(scope, name)}|`,
    });
    const max = opts.MaxItems && opts.MaxItems > 0 ? Math.min(opts.MaxItems, 50) : 50;
    let start = 0;
    if (opts.Marker) {
      const i = all.findIndex((e) => e.value.urlId === opts.Marker);
      start = i < 0 ? all.length : i;
    }
    const page = all.slice(start, start + max);
    const out: Record<string, unknown> = {
      FunctionUrlConfigs: page.map((e) => this.shape(scope, e.value, endpoint, true)),
    };
    if (start + max < all.length) out.NextMarker = all[start + max].value.urlId;
    return out;
  }

  /** Removes the URL configs of a deleted function (or of one deleted alias). */
  async functionDeleted(scope: Scope, name: string, qualifier?: string): Promise<void> {
    const prefix =
      qualifier === undefined ? `${functionKey(scope, name)}|` : configKey(scope, name, qualifier);
    const all = await this.deps.store.scan<UrlRecord>(URL_COLLECTIONS.configs, { prefix });
    for (const e of all) {
      if (qualifier !== undefined && e.key !== prefix) continue;
      await this.deps.store.delete(URL_COLLECTIONS.configs, e.key);
      await this.deps.store.delete(URL_COLLECTIONS.ids, e.value.urlId);
    }
  }

  // ---------------------------------------------------------------- data plane

  /** For the front door's `/_lambda-url/` mount: `/_lambda-url/{url-id}/...`. */
  readonly pathHandler = (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const url = req.url ?? '/';
    const rest = url.slice(FUNCTION_URL_PATH_PREFIX.length);
    const cut = rest.search(/[/?]/);
    const urlId = cut < 0 ? rest : rest.slice(0, cut);
    const tail = cut < 0 ? '/' : rest.slice(cut);
    return this.handle(req, res, requestId, urlId, tail.startsWith('?') ? '/' + tail : tail);
  };

  /** For Host `{url-id}.lambda-url.*`: the whole URL is the function's. */
  readonly hostHandler = (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const host = String(req.headers.host ?? '');
    return this.handle(req, res, requestId, host.slice(0, host.indexOf('.')).toLowerCase(), req.url ?? '/');
  };

  private async handle(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    urlId: string,
    pathAndQuery: string,
  ): Promise<void> {
    res.setHeader('x-amzn-RequestId', requestId);
    try {
      const result = await this.serve(req, res, requestId, urlId, pathAndQuery);
      if (result) send(res, result);
    } catch (e) {
      this.deps.logger.error('function url request failed', { requestId, urlId, err: e });
      if (res.headersSent) res.destroy();
      else send(res, message(500, 'Internal Server Error'));
    }
  }

  /** The answer to send, or undefined when a RESPONSE_STREAM invocation answered `res` itself. */
  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    urlId: string,
    pathAndQuery: string,
  ): Promise<HttpResult | undefined> {
    const id = /^[a-z0-9]{32}$/.test(urlId)
      ? await this.deps.store.get<UrlIdRecord>(URL_COLLECTIONS.ids, urlId)
      : undefined;
    if (!id) {
      req.resume();
      return message(403, 'Forbidden');
    }
    const scope: Scope = { accountId: id.accountId, region: id.region };
    const rec = await this.deps.store.get<UrlRecord>(
      URL_COLLECTIONS.configs,
      configKey(scope, id.functionName, id.qualifier),
    );
    if (!rec || rec.urlId !== urlId) {
      req.resume();
      return message(403, 'Forbidden');
    }
    const method = req.method ?? 'GET';
    const cors = rec.cors ? toGatewayCors(rec.cors) : undefined;
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    if (cors && isPreflight(method, req.headers)) {
      req.resume();
      const h = preflightHeaders(
        cors,
        origin!,
        String(req.headers['access-control-request-method']),
        req.headers['access-control-request-headers'] as string | undefined,
      );
      return {
        status: 200,
        headers: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]])),
        body: Buffer.alloc(0),
      };
    }
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (!body) return message(413, 'Request Entity Too Large');
    const q = pathAndQuery.indexOf('?');
    const rawPath = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
    const rawQueryString = q < 0 ? '' : pathAndQuery.slice(q + 1);

    let authorizer: Record<string, unknown> | undefined;
    if (rec.authType === 'AWS_IAM') {
      const who = await this.verifyIam(req, scope, rec, rawPath, rawQueryString, body);
      if (!who) return message(403, 'Forbidden');
      authorizer = { iam: who };
    }

    const host = String(req.headers.host ?? '');
    const domainName = host.toLowerCase().startsWith(`${urlId}.`)
      ? host.replace(/:\d+$/, '')
      : `${urlId}.lambda-url.${scope.region}.localhost`;
    const greq: GatewayRequest = {
      method,
      rawPath,
      rawQueryString,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: sourceIpOf(req),
      protocol: `HTTP/${req.httpVersion}`,
      domainName,
      requestId,
      timeEpoch: this.deps.clock.now(),
    };
    const event = buildV2Event(greq, {
      accountId: 'anonymous',
      apiId: urlId,
      stage: '$default',
      routeKey: '$default',
      pathParameters: {},
      stageVariables: {},
      authorizer,
    });
    const rc = event.requestContext as Record<string, unknown>;
    rc.accountId = authorizer ? (authorizer.iam as { accountId: string }).accountId : 'anonymous';

    const corsHeaders = cors ? actualHeaders(cors, origin) : undefined;
    let result: HttpResult;
    try {
      if (rec.invokeMode === 'RESPONSE_STREAM') {
        const streamed = await this.stream(
          res,
          scope,
          rec,
          Buffer.from(JSON.stringify(event)),
          requestId,
          corsHeaders,
        );
        if (!streamed) return undefined;
        result = streamed;
      } else {
        result = await this.buffered(scope, rec, Buffer.from(JSON.stringify(event)), requestId);
      }
    } catch (e) {
      if (e instanceof MalformedResponse) result = message(502, 'Internal Server Error');
      else if (e instanceof AwsError && e.code === 'TooManyRequestsException')
        result = message(429, 'Rate Exceeded.');
      else if (e instanceof AwsError && e.status < 500)
        result = message(
          e.status === 404 ? 403 : 502,
          e.status === 404 ? 'Forbidden' : 'Internal Server Error',
        );
      else throw e;
    }
    if (corsHeaders) {
      for (const [k, v] of Object.entries(corsHeaders)) result.headers[k] = [v];
    }
    return result;
  }

  /** BUFFERED: the whole response, mapped by the HTTP API's 2.0 rules. */
  private async buffered(
    scope: Scope,
    rec: UrlRecord,
    payload: Buffer,
    requestId: string,
  ): Promise<HttpResult> {
    const out = await this.engine.invoke(scope, {
      FunctionName: rec.functionName,
      Qualifier: rec.qualifier,
      Payload: payload,
      RequestId: requestId,
    });
    if (out.FunctionError || !out.Payload) return message(502, 'Internal Server Error');
    return mapV2Response(out.Payload);
  }

  /**
   * RESPONSE_STREAM: a streamified handler's chunks are written to the client as they come
   * (chunked transfer encoding). Status, headers and cookies come from an HttpResponseStream
   * prelude (JSON, then 8 NUL bytes), else 200 with the stream's content type. A failure before
   * anything was sent answers 502 (as BUFFERED); after, the connection is cut so the client
   * sees an incomplete response. A plain handler's response is answered as BUFFERED maps it.
   * Returns undefined when `res` was answered here.
   */
  private async stream(
    res: ServerResponse,
    scope: Scope,
    rec: UrlRecord,
    payload: Buffer,
    requestId: string,
    corsHeaders: Record<string, string> | undefined,
  ): Promise<HttpResult | undefined> {
    let started = false;
    const prelude = new PreludeReader();
    let mode: 'raw' | 'prelude' | undefined;
    const start = (status: number, headers: Record<string, string | string[]>) => {
      if (corsHeaders) for (const [k, v] of Object.entries(corsHeaders)) headers[k] = v;
      res.writeHead(status, headers);
      // Each chunk goes out as it is written, not when Node's socket buffer decides.
      res.flushHeaders();
      started = true;
    };
    const sink = (chunk: Buffer, contentType?: string) => {
      if (res.destroyed) return;
      if (mode === undefined) mode = contentType === HTTP_INTEGRATION_CONTENT_TYPE ? 'prelude' : 'raw';
      if (!started) {
        if (mode === 'raw') {
          start(200, { 'content-type': contentType ?? DEFAULT_STREAM_CONTENT_TYPE });
        } else {
          const got = prelude.feed(chunk);
          if (!got) return;
          chunk = got.rest;
          start(got.head.status, got.head.headers);
        }
      }
      if (chunk.length > 0) res.write(chunk);
    };
    const out = await this.engine.invokeWithResponseStream(
      scope,
      { FunctionName: rec.functionName, Qualifier: rec.qualifier, Payload: payload, RequestId: requestId },
      sink,
    );
    if (started) {
      if (out.ErrorCode !== undefined) res.destroy();
      else res.end();
      return undefined;
    }
    if (out.ErrorCode !== undefined) return message(502, 'Internal Server Error');
    if (!out.Streamed)
      return out.Payload ? mapV2Response(out.Payload) : message(502, 'Internal Server Error');
    if (mode === 'prelude' || out.ResponseStreamContentType === HTTP_INTEGRATION_CONTENT_TYPE) {
      // The prelude never ended: not a valid HTTP integration response.
      return message(502, 'Internal Server Error');
    }
    start(200, { 'content-type': out.ResponseStreamContentType ?? DEFAULT_STREAM_CONTENT_TYPE });
    res.end();
    return undefined;
  }

  /**
   * AWS_IAM: the request must carry a valid SigV4 signature for service `lambda`, from the
   * function's own account or from one the function's policy allows lambda:InvokeFunctionUrl.
   */
  private async verifyIam(
    req: IncomingMessage,
    scope: Scope,
    rec: UrlRecord,
    rawPath: string,
    rawQuery: string,
    body: Buffer,
  ): Promise<Record<string, unknown> | undefined> {
    if (!this.deps.auth) return undefined;
    const query = new URLSearchParams(rawQuery);
    let sig;
    try {
      sig = parseSigV4(req.headers, query);
    } catch {
      return undefined;
    }
    if (!sig || sig.service !== 'lambda') return undefined;
    const path = (req.url ?? rawPath).split('?')[0];
    let who;
    try {
      who = await this.deps.auth.authenticate(
        { method: req.method ?? 'GET', path, query, headers: req.headers, body },
        sig,
        'rest-json',
      );
    } catch {
      return undefined;
    }
    if (who.accountId !== scope.accountId && !(await this.policyAllows(scope, rec, who.accountId)))
      return undefined;
    return {
      accessKey: who.accessKeyId,
      accountId: who.accountId,
      callerId: who.userId,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: who.arn,
      userId: who.userId,
    };
  }

  private async policyAllows(scope: Scope, rec: UrlRecord, accountId: string): Promise<boolean> {
    const p = await this.deps.store.get<PolicyRecord>(
      POLICY_COLLECTION,
      functionPolicyKey(scope, rec.functionName, rec.qualifier),
    );
    return (p?.statements ?? []).some((s) => {
      const action = s.Action;
      if (action !== 'lambda:InvokeFunctionUrl' && action !== 'lambda:*' && action !== '*') return false;
      const pr = s.Principal;
      return (
        pr === '*' ||
        (typeof pr === 'object' &&
          pr !== null &&
          (pr as { AWS?: string }).AWS === `arn:aws:iam::${accountId}:root`)
      );
    });
  }
}
