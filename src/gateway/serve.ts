/**
 * The HTTP API data plane. Per request:
 *
 *   API by id (cached, revalidated every second) -> stage (first path segment, else
 *   `$default`) -> body (10 MB, 413) -> CORS preflight -> route (AWS precedence, 404) ->
 *   throttling (account, then stage/route buckets, 429) -> authorizer (401/403/500) ->
 *   integration (AWS_PROXY, payload 1.0/2.0, timeout 503) -> response mapping (502 when
 *   malformed, 500 on function errors) -> CORS headers -> access log.
 *
 * Error bodies are AWS's: `{"message":"Not Found"}` and friends.
 */
import { writeAccessLog, type AccessLogVars } from './access-log.js';
import type { MetricsSink } from '../core/metrics-sink.js';
import { requestRecorder, type RequestOutcome } from './metrics.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LogSink } from '../core/log-sink.js';
import type { GatewayEngine } from './engine.js';
import {
  functionArnOf,
  type ApiRecord,
  type AuthorizerRecord,
  type IntegrationRecord,
  type RouteRecord,
  type StageRecord,
} from './model.js';
import { RouteTable } from './routing.js';
import {
  buildV1AuthorizerEvent,
  buildV1Event,
  buildV2AuthorizerEvent,
  buildV2Event,
  headerValues,
  iamCaller,
  clientCertContext,
  sourceIpOf,
  requestTime,
  type EventContext,
  type GatewayRequest,
} from './events.js';
import { clientCertOf } from './mtls.js';
import { MalformedResponse, jsonMessage, mapV1Response, mapV2Response, type HttpResult } from './response.js';
import { evaluate, mapRequest, mapResponse, type MappingSources } from './mapping.js';
import { subtypeRequest } from './subtypes.js';
import { AwsError } from '../protocols/errors.js';
import type { ServiceCaller } from '../server/self-call.js';
import { replied, writeReply } from '../server/reply-batch.js';
import { actualHeaders, isPreflight, preflightHeaders } from './cors.js';
import { Throttler, type AccountLimits } from './throttle.js';
import {
  AuthFailure,
  AuthorizerCache,
  JwtVerifier,
  authorizerError,
  identityValues,
  lambdaAuthResult,
  unauthorized,
  forbidden,
} from './authorizers.js';
import { IntegrationTimeout, type Invoker } from './invoke.js';
import { callBackend, forwardedHeaders } from './backend.js';
import type { PrivateTargets } from './private-targets.js';
import { ApiCache } from './api-cache.js';
import type { Authenticate } from './websocket/serve.js';

export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const REVALIDATE_MS = 1000;

interface CompiledStage {
  stage: StageRecord;
  table: RouteTable<RouteRecord>;
  integrations: Map<string, IntegrationRecord>;
  authorizers: Map<string, AuthorizerRecord>;
  /** Records the stage's AWS/ApiGateway metrics of one request (built on first use). */
  recordMetrics?: (o: RequestOutcome) => void;
  /** Detailed metrics' recorders, by route key. */
  routeMetrics?: Map<string, (o: RequestOutcome) => void>;
}

interface CachedApi {
  api: ApiRecord;
  accountId: string;
  region: string;
  stages: Map<string, CompiledStage>;
  checkedAt: number;
}

/** An HTTP API's deployed stages, compiled for serving. */
function compileApi(
  { api, scope }: { api: ApiRecord; scope: { accountId: string; region: string } },
  now: number,
): CachedApi {
  const c: CachedApi = {
    api,
    accountId: scope.accountId,
    region: scope.region,
    stages: new Map(),
    checkedAt: now,
  };
  for (const st of api.stages) {
    if (api.protocolType === 'WEBSOCKET') break;
    const d = st.deploymentId ? api.deployments.find((x) => x.deploymentId === st.deploymentId) : undefined;
    if (!d) continue;
    const snap = d.snapshot;
    c.stages.set(st.stageName, {
      stage: st,
      table: new RouteTable(snap.routes.map((r) => ({ routeKey: r.routeKey, route: r }))),
      integrations: new Map(snap.integrations.map((i) => [i.integrationId, i])),
      authorizers: new Map(snap.authorizers.map((a) => [a.authorizerId, a])),
    });
  }
  return c;
}

/**
 * A request that came through a custom domain name: the mapping chose the API and stage (a v1
 * base path mapping without a stage leaves it to the first path segment), and the URL the
 * gateway gets is the one below the mapping key.
 */
export interface DomainVia {
  /** The custom domain name (requestContext.domainName). */
  domainName: string;
  stage?: string;
  /** The path as the client sent it, mapping key included (rawPath, REST `path`). */
  rawPath: string;
}

export interface GatewayServerDeps {
  engine: GatewayEngine;
  invoke: Invoker;
  clock: Clock;
  logger: Logger;
  logs: LogSink;
  /** Account-level throttling (default 10,000 rps, 5,000 burst). */
  accountLimits?: AccountLimits;
  /** Built-in AWS/ApiGateway metrics (absent: none recorded). */
  metrics?: MetricsSink;
  /** AWS_IAM routes: checks the request's SigV4 signature as the front door does (absent: signed is enough). */
  authenticate?: Authenticate;
  /** AWS service integrations (IntegrationSubtype) call the services through this. */
  callService?: ServiceCaller;
  /** Private integrations: listener / Cloud Map service ARN -> local base URL (`--private-target`). */
  privateTargets?: PrivateTargets;
}

/** What the access log can say about one request. */
interface AccessInfo {
  routeKey: string;
  status: number;
  responseLength: number;
  integrationStatus?: number;
  integrationLatency?: number;
  integrationErrorMessage?: string;
  authorizerError?: string;
  errorMessage?: string;
}

export class GatewayServer {
  private readonly cache = new ApiCache(
    REVALIDATE_MS,
    async (apiId: string) => {
      const scope = await this.deps.engine.findApiScope(apiId);
      const api = scope ? await this.deps.engine.findApi(apiId) : undefined;
      return api && scope ? { api, scope } : undefined;
    },
    compileApi,
  );
  private readonly throttler: Throttler;
  private readonly jwt: JwtVerifier;
  private readonly authCache: AuthorizerCache;

  /** ResetAuthorizersCache: forgets this node's cached Lambda authorizer results for the stage. */
  flushAuthorizers(apiId: string, stage: string): void {
    this.authCache.clearPrefix(`${apiId}|${stage}|`);
  }
  /** Serves ids that are not HTTP APIs (REST APIs); resolves false when the id is not one either. */
  fallback?: (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
    via?: DomainVia,
  ) => Promise<boolean>;
  /** Serves plain HTTP to WebSocket APIs (their `@connections` management API). */
  websocketHttp?: (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
  ) => Promise<void>;

  constructor(private readonly deps: GatewayServerDeps) {
    this.throttler = new Throttler(deps.clock, deps.accountLimits);
    this.jwt = new JwtVerifier(deps.clock);
    this.authCache = new AuthorizerCache(deps.clock);
    deps.engine.onChange((apiId) => this.cache.delete(apiId));
  }

  /** For the front door's `/_api/` mount: `/_api/{apiId}/{stage?}/...`. */
  readonly pathHandler = (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const url = req.url ?? '/';
    const rest = url.slice('/_api/'.length);
    const slash = rest.search(/[/?]/);
    const apiId = slash < 0 ? rest : rest.slice(0, slash);
    const tail = slash < 0 ? '/' : rest.slice(slash);
    return this.serveApi(req, res, requestId, apiId, tail.startsWith('?') ? '/' + tail : tail);
  };

  /** For Host `{apiId}.execute-api.*`: the whole URL is below the API. */
  readonly hostHandler = (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const host = String(req.headers.host ?? '');
    const apiId = host.slice(0, host.indexOf('.'));
    return this.serveApi(req, res, requestId, apiId, req.url ?? '/');
  };

  private loadApi(apiId: string): Promise<CachedApi | undefined> {
    return this.cache.get(apiId, this.deps.clock.now());
  }

  /**
   * Serves a request below API `apiId`: `/{stage}/...`, or a `$default` stage's path (REST APIs
   * through `fallback`); through a custom domain (`via`), the mapping's stage and the path below
   * its key.
   */
  async serveApi(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
    via?: DomainVia,
  ): Promise<void> {
    const started = this.deps.clock.now();
    res.removeHeader('x-amzn-RequestId');
    res.removeHeader('x-amz-request-id');
    res.setHeader('apigw-requestid', requestId);
    const q = urlBelowApi.indexOf('?');
    const pathBelowApi = q < 0 ? urlBelowApi : urlBelowApi.slice(0, q);
    const rawQueryString = q < 0 ? '' : urlBelowApi.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();

    const c = apiId ? await this.loadApi(apiId) : undefined;
    if (!c) {
      if (this.fallback && (await this.fallback(req, res, requestId, apiId, urlBelowApi, via))) return;
      req.resume();
      return send(res, jsonMessage(404, 'Not Found'));
    }
    if (c.api.protocolType === 'WEBSOCKET') {
      if (this.websocketHttp && !via) return this.websocketHttp(req, res, requestId, apiId, urlBelowApi);
      req.resume();
      return send(res, jsonMessage(403, 'Forbidden'));
    }
    // disableExecuteApiEndpoint closes the execute-api endpoint, not custom domains.
    if (c.api.disableExecuteApiEndpoint && !via) {
      req.resume();
      return send(res, jsonMessage(403, 'Forbidden'));
    }
    let st: CompiledStage | undefined;
    let path: string;
    if (via) {
      st = via.stage === undefined ? undefined : c.stages.get(via.stage);
      path = pathBelowApi || '/';
    } else {
      // Stage: a named stage as first segment, else $default.
      const segEnd = pathBelowApi.indexOf('/', 1);
      const first = pathBelowApi.slice(1, segEnd < 0 ? undefined : segEnd);
      st = first && first !== '$default' ? c.stages.get(decodeSafe(first)) : undefined;
      if (st) path = segEnd < 0 ? '/' : pathBelowApi.slice(segEnd);
      else {
        st = c.stages.get('$default');
        path = pathBelowApi || '/';
      }
    }
    if (!st) {
      req.resume();
      return send(res, jsonMessage(404, 'Not Found'));
    }
    const stageName = st.stage.stageName;
    const body = await readBody(req, MAX_REQUEST_BYTES);
    if (!body) return send(res, jsonMessage(413, 'Request Entity Too Large', { connection: ['close'] }));

    const host = String(req.headers.host ?? `${apiId}.execute-api.${c.region}.amazonaws.com`);
    const greq: GatewayRequest = {
      method,
      rawPath: via ? via.rawPath : stageName === '$default' ? path : `/${stageName}${path}`,
      rawQueryString,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: sourceIpOf(req),
      protocol: `HTTP/${req.httpVersion}`,
      domainName: via ? via.domainName : host,
      requestId,
      timeEpoch: started,
    };
    if (via) {
      greq.viaDomain = true;
      const cert = clientCertOf(req);
      if (cert) greq.clientCert = cert;
    }
    const info: AccessInfo = { routeKey: '-', status: 0, responseLength: 0 };
    const result = await this.process(c, st, greq, path, req, info).catch((e: unknown) => {
      this.deps.logger.error('gateway request failed', { requestId, apiId, err: e });
      return jsonMessage(500, 'Internal Server Error');
    });
    const cors = c.api.corsConfiguration;
    if (cors && !(result.status === 204 && result.headers['access-control-allow-origin'])) {
      const origin = req.headers.origin;
      const add = actualHeaders(cors, typeof origin === 'string' ? origin : undefined);
      for (const [k, v] of Object.entries(add)) result.headers[k] = [v];
    }
    info.status = result.status;
    info.responseLength = result.body.length;
    send(res, result);
    if (st.stage.accessLogSettings?.destinationArn && st.stage.accessLogSettings.format)
      this.accessLog(c, st.stage, greq, info, started);
    if (this.deps.metrics) {
      let record = st.recordMetrics;
      if (!record) {
        const api = { Name: 'ApiId', Value: c.api.apiId };
        record = st.recordMetrics = requestRecorder(this.deps.metrics, c, 'http', [
          [api],
          [api, { Name: 'Stage', Value: stageName }],
        ]);
      }
      const outcome = {
        status: result.status,
        latencyMs: this.deps.clock.now() - started,
        integrationLatencyMs: info.integrationLatency,
        bytes: body.length + result.body.length,
      };
      record(outcome);
      // Detailed metrics (the route's RouteSettings, else DefaultRouteSettings): per ApiId+Stage+Route too.
      const settings = st.stage.routeSettings[info.routeKey] ?? st.stage.defaultRouteSettings;
      if (info.routeKey !== '-' && settings.detailedMetricsEnabled) {
        const routes = (st.routeMetrics ??= new Map());
        let perRoute = routes.get(info.routeKey);
        if (!perRoute) {
          perRoute = requestRecorder(this.deps.metrics, c, 'http', [
            [
              { Name: 'ApiId', Value: c.api.apiId },
              { Name: 'Stage', Value: stageName },
              { Name: 'Route', Value: info.routeKey },
            ],
          ]);
          routes.set(info.routeKey, perRoute);
        }
        perRoute(outcome);
      }
    }
  }

  private async process(
    c: CachedApi,
    st: CompiledStage,
    greq: GatewayRequest,
    path: string,
    req: IncomingMessage,
    info: AccessInfo,
  ): Promise<HttpResult> {
    const cors = c.api.corsConfiguration;
    if (cors && isPreflight(greq.method, req.headers)) {
      const h = preflightHeaders(
        cors,
        String(req.headers.origin),
        String(req.headers['access-control-request-method']),
        req.headers['access-control-request-headers'] as string | undefined,
      );
      const headers: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(h)) headers[k] = [v];
      return { status: 204, headers, body: Buffer.alloc(0) };
    }
    const m = st.table.match(greq.method, path);
    if (!m) return jsonMessage(404, 'Not Found');
    const route = m.route;
    info.routeKey = m.routeKey;
    const rs = st.stage.routeSettings[m.routeKey];
    const d = st.stage.defaultRouteSettings;
    const limits = {
      rate: rs?.throttlingRateLimit ?? d.throttlingRateLimit,
      burst: rs?.throttlingBurstLimit ?? d.throttlingBurstLimit,
    };
    if (!this.throttler.allow(c.accountId, `${c.api.apiId}|${st.stage.stageName}|${m.routeKey}`, limits))
      return jsonMessage(429, 'Too Many Requests');

    const ctx: EventContext = {
      accountId: c.accountId,
      apiId: c.api.apiId,
      stage: st.stage.stageName,
      routeKey: m.routeKey,
      routeId: route.routeId,
      pathParameters: m.pathParameters,
      stageVariables: st.stage.stageVariables,
    };
    if (route.authorizationType === 'JWT' || route.authorizationType === 'CUSTOM') {
      const auth = route.authorizerId ? st.authorizers.get(route.authorizerId) : undefined;
      try {
        if (!auth) throw authorizerError('the route names an authorizer that is not deployed');
        ctx.authorizer = await this.authorize(c, st, auth, route, greq, ctx);
      } catch (e) {
        if (!(e instanceof AuthFailure)) throw e;
        info.authorizerError = e.message;
        const extra: Record<string, string[]> = e.wwwAuthenticate
          ? { 'www-authenticate': [e.wwwAuthenticate] }
          : {};
        return jsonMessage(e.status, e.publicMessage, extra);
      }
    } else if (route.authorizationType === 'AWS_IAM') {
      // The signature is checked as the front door checks it (strict mode: a known key and the
      // right signature); IAM policies are not evaluated.
      if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) return jsonMessage(403, 'Forbidden');
      if (this.deps.authenticate) {
        try {
          ctx.iam = iamCaller(await this.deps.authenticate(req, (req.url ?? '/').split('?')[0], greq.body));
        } catch (e) {
          info.authorizerError = e instanceof Error ? e.message : String(e);
          return jsonMessage(403, info.authorizerError);
        }
      }
    }
    const integrationId = route.target?.startsWith('integrations/') ? route.target.slice(13) : undefined;
    const integ = integrationId ? st.integrations.get(integrationId) : undefined;
    if (!integ) return jsonMessage(404, 'Not Found');
    // Parameter mapping: the request as the integration gets it, then its answer as the client does.
    let pathOverride: string | undefined;
    let answer = (r: HttpResult) => r;
    if (integ.requestParameters || integ.responseParameters) {
      const sources: MappingSources = {
        request: greq,
        path,
        pathParameters: m.pathParameters,
        stageVariables: st.stage.stageVariables,
        context: {
          requestId: greq.requestId,
          apiId: c.api.apiId,
          accountId: c.accountId,
          stage: st.stage.stageName,
          routeKey: m.routeKey,
          httpMethod: greq.method,
          path: greq.rawPath,
          domainName: greq.domainName,
          'identity.sourceIp': greq.sourceIp,
          'identity.userAgent': req.headers['user-agent'],
          ...clientCertContext(greq.clientCert),
        },
      };
      answer = (r) => mapResponse(integ.responseParameters, r, sources);
      if (integ.integrationSubtype) return this.serviceCall(c, integ, sources, info, answer);
      const mapped = mapRequest(integ.requestParameters, sources);
      greq = mapped.request;
      pathOverride = mapped.path;
    }
    if (integ.integrationType === 'HTTP_PROXY')
      return this.httpProxy(integ, st, greq, ctx, info, pathOverride, answer);
    const fn = functionArnOf(withStageVariables(integ.integrationUri, st.stage.stageVariables));
    if (!fn) return jsonMessage(500, 'Internal Server Error');
    const event = integ.payloadFormatVersion === '1.0' ? buildV1Event(greq, ctx) : buildV2Event(greq, ctx);
    const t0 = this.deps.clock.now();
    let out;
    try {
      out = await this.deps.invoke(
        c.accountId,
        fn,
        Buffer.from(JSON.stringify(event)),
        integ.timeoutInMillis,
      );
    } catch (e) {
      info.integrationLatency = this.deps.clock.now() - t0;
      if (e instanceof IntegrationTimeout) {
        info.integrationErrorMessage = e.message;
        return jsonMessage(503, 'Service Unavailable');
      }
      const code = (e as { code?: string }).code;
      info.integrationErrorMessage = e instanceof Error ? `${code ?? e.name}: ${e.message}` : String(e);
      this.deps.logger.warn('integration failed', { requestId: greq.requestId, function: fn, err: e });
      if (code === 'RequestEntityTooLargeException') return jsonMessage(413, 'Request Entity Too Large');
      return jsonMessage(500, 'Internal Server Error');
    }
    info.integrationLatency = this.deps.clock.now() - t0;
    info.integrationStatus = 200;
    if (out.functionError) {
      this.deps.logger.warn('integration returned a function error', {
        requestId: greq.requestId,
        function: fn,
        error: out.payload.toString('utf8').slice(0, 500),
      });
      info.integrationErrorMessage = `The Lambda function returned an error (${out.functionError})`;
      return jsonMessage(500, 'Internal Server Error');
    }
    try {
      return answer(
        integ.payloadFormatVersion === '1.0' ? mapV1Response(out.payload) : mapV2Response(out.payload),
      );
    } catch (e) {
      if (!(e instanceof MalformedResponse)) throw e;
      info.integrationErrorMessage = `Malformed Lambda proxy response: ${e.message}`;
      return jsonMessage(502, 'Internal Server Error');
    }
  }

  /**
   * An AWS service integration (IntegrationSubtype): its parameters, evaluated against the
   * request, make one call to the service on this Nimbus as the API's account; the service's
   * answer (status, content type, body) is the response.
   */
  private async serviceCall(
    c: CachedApi,
    integ: IntegrationRecord,
    sources: MappingSources,
    info: AccessInfo,
    answer: (r: HttpResult) => HttpResult,
  ): Promise<HttpResult> {
    if (!this.deps.callService) return jsonMessage(500, 'Internal Server Error');
    const values: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(integ.requestParameters ?? {})) values[k] = evaluate(v, sources);
    const t0 = this.deps.clock.now();
    try {
      const req = subtypeRequest(integ.integrationSubtype!, values, c.region, integ.timeoutInMillis);
      const res = await this.deps.callService(c.accountId, req);
      info.integrationLatency = this.deps.clock.now() - t0;
      info.integrationStatus = res.status;
      const headers: Record<string, string[]> = {};
      if (res.headers['content-type']) headers['content-type'] = res.headers['content-type'];
      return answer({ status: res.status, headers, body: res.body });
    } catch (e) {
      info.integrationLatency = this.deps.clock.now() - t0;
      info.integrationErrorMessage = e instanceof Error ? e.message : String(e);
      if (e instanceof AwsError) return jsonMessage(e.status, e.message);
      if (e instanceof Error && e.name === 'TimeoutError') return jsonMessage(503, 'Service Unavailable');
      this.deps.logger.warn('AWS service integration failed', {
        requestId: sources.request.requestId,
        err: e,
      });
      return jsonMessage(500, 'Internal Server Error');
    }
  }

  /**
   * HTTP_PROXY: the request goes to the integration's URL as it came (method, headers, body,
   * query string; `{name}` in the URL takes the route's path parameter, `{proxy}` the greedy
   * rest), with a `Forwarded` header, and the backend's answer goes back unchanged.
   */
  private async httpProxy(
    integ: IntegrationRecord,
    st: CompiledStage,
    greq: GatewayRequest,
    ctx: EventContext,
    info: AccessInfo,
    pathOverride: string | undefined,
    answer: (r: HttpResult) => HttpResult,
  ): Promise<HttpResult> {
    let url: string;
    if (integ.connectionType === 'VPC_LINK') {
      // A private integration: the load balancer or Cloud Map service the ARN names, here the local
      // target mapped to it, gets the request's path as the client sent it (the stage included, as on AWS).
      const target = withStageVariables(integ.integrationUri, st.stage.stageVariables) ?? '';
      const base = this.deps.privateTargets?.get(target);
      if (!base) {
        info.integrationErrorMessage = `No private target for ${target}`;
        this.deps.logger.warn(
          'private integration has no target: start Nimbus with --private-target ARN=URL',
          {
            requestId: greq.requestId,
            target,
            connectionId: integ.connectionId,
          },
        );
        return jsonMessage(503, 'Service Unavailable');
      }
      url = base + (greq.rawPath || '/');
    } else
      url = (withStageVariables(integ.integrationUri, st.stage.stageVariables) ?? '').replace(
        /\{([^}]+?)\+?\}/g,
        (_, name: string) => (ctx.pathParameters?.[name] ?? '').split('/').map(encodeURIComponent).join('/'),
      );
    if (pathOverride !== undefined) {
      // `overwrite:path` replaces the path of the backend URL (its query string stays).
      const u = new URL(url);
      u.pathname = pathOverride;
      url = u.toString();
    }
    if (greq.rawQueryString) url += (url.includes('?') ? '&' : '?') + greq.rawQueryString;
    const method =
      !integ.integrationMethod || integ.integrationMethod === 'ANY' ? greq.method : integ.integrationMethod;
    const t0 = this.deps.clock.now();
    try {
      const res = await callBackend(url, method, forwardedHeaders(greq), greq.body, integ.timeoutInMillis);
      info.integrationLatency = this.deps.clock.now() - t0;
      info.integrationStatus = res.status;
      return answer(res);
    } catch (e) {
      info.integrationLatency = this.deps.clock.now() - t0;
      info.integrationErrorMessage = e instanceof Error ? e.message : String(e);
      if (e instanceof Error && e.name === 'TimeoutError') return jsonMessage(503, 'Service Unavailable');
      this.deps.logger.warn('HTTP integration failed', { requestId: greq.requestId, url, err: e });
      return jsonMessage(500, 'Internal Server Error');
    }
  }

  private async authorize(
    c: CachedApi,
    st: CompiledStage,
    auth: AuthorizerRecord,
    route: RouteRecord,
    greq: GatewayRequest,
    ctx: EventContext,
  ): Promise<Record<string, unknown>> {
    const query = new URLSearchParams(greq.rawQueryString);
    const values = identityValues(auth.identitySource, {
      header: (n) => headerValues(greq.rawHeaders, n),
      query: (n) => (query.has(n) ? query.getAll(n).join(',') : undefined),
      context: {
        requestId: greq.requestId,
        routeKey: ctx.routeKey,
        stage: ctx.stage,
        apiId: ctx.apiId,
        httpMethod: greq.method,
        path: greq.rawPath,
        'identity.sourceIp': greq.sourceIp,
      },
      stageVariables: st.stage.stageVariables,
    });
    if (auth.authorizerType === 'JWT') {
      const jwt = await this.jwt.verify(auth, values?.[0], route.authorizationScopes);
      return { jwt };
    }
    if (!values && auth.identitySource.length) throw unauthorized('an identity source is missing');
    const routeArn = `arn:aws:execute-api:${c.region}:${c.accountId}:${c.api.apiId}/${ctx.stage}/${
      ctx.routeKey === '$default' ? '$default' : ctx.routeKey.replace(' ', '')
    }`;
    const ttl = auth.authorizerResultTtlInSeconds ?? 0;
    const cacheKey = `${c.api.apiId}|${ctx.stage}|${auth.authorizerId}|${JSON.stringify(values ?? [])}`;
    let result = ttl > 0 ? this.authCache.get(cacheKey) : undefined;
    if (!result) {
      const event =
        auth.authorizerPayloadFormatVersion === '1.0'
          ? buildV1AuthorizerEvent(greq, ctx, routeArn, values ?? [])
          : buildV2AuthorizerEvent(greq, ctx, routeArn, values ?? []);
      const fn = functionArnOf(withStageVariables(auth.authorizerUri, st.stage.stageVariables));
      if (!fn) throw authorizerError('authorizer URI is not a function');
      let out;
      try {
        out = await this.deps.invoke(c.accountId, fn, Buffer.from(JSON.stringify(event)), 10_000);
      } catch (e) {
        throw authorizerError(`authorizer invoke failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (out.functionError) throw authorizerError('the authorizer function failed');
      result = lambdaAuthResult(auth, out.payload, routeArn);
      this.authCache.set(cacheKey, result, ttl);
    }
    if (!result.allowed) throw forbidden('the authorizer denied the request');
    return { lambda: result.context };
  }

  private accessLog(
    c: CachedApi,
    stage: StageRecord,
    greq: GatewayRequest,
    info: AccessInfo,
    started: number,
  ) {
    const now = this.deps.clock.now();
    const vars: AccessLogVars = {
      requestId: greq.requestId,
      extendedRequestId: greq.requestId,
      apiId: c.api.apiId,
      stage: stage.stageName,
      routeKey: info.routeKey,
      httpMethod: greq.method,
      path: greq.rawPath,
      protocol: greq.protocol,
      status: info.status,
      responseLength: info.responseLength,
      requestTime: requestTime(started),
      requestTimeEpoch: Math.floor(started / 1000),
      'identity.sourceIp': greq.sourceIp,
      'identity.userAgent': headerOf(greq.rawHeaders, 'user-agent'),
      ...clientCertContext(greq.clientCert),
      domainName: greq.domainName,
      domainPrefix: greq.domainName.split('.')[0],
      accountId: c.accountId,
      'integration.status': info.integrationStatus,
      'integration.latency': info.integrationLatency,
      integrationLatency: info.integrationLatency,
      'integration.error': info.integrationErrorMessage,
      integrationErrorMessage: info.integrationErrorMessage,
      'authorizer.error': info.authorizerError,
      'error.message': info.errorMessage,
      responseLatency: now - started,
    };
    writeAccessLog(
      this.deps.logs,
      { accountId: c.accountId, region: c.region, stream: `${c.api.apiId}_${stage.stageName}` },
      stage.accessLogSettings!,
      vars,
      now,
    );
  }

  /** Forgets cached APIs and authorizer results (after management changes, the cache revalidates anyway). */
  reset(): void {
    this.cache.clear();
  }
}

/** `${stageVariables.name}` in integration and authorizer URIs. */
export function withStageVariables(
  uri: string | undefined,
  vars: Record<string, string>,
): string | undefined {
  return uri?.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_m, n: string) => vars[n] ?? '');
}

export function headerOf(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Writes a gateway response (HTTP and REST APIs). */
export function send(res: ServerResponse, r: HttpResult): void {
  if (replied(res)) return;
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = k === 'set-cookie' || v.length > 1 ? v : v[0];
  headers['content-length'] = String(r.body.length);
  writeReply(res, r.status, headers, r.body);
}

const EMPTY = Buffer.alloc(0);

/** Reads a request body up to `limit` bytes; undefined when it is larger (HTTP and REST APIs). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  // Already complete with nothing buffered (a GET without a body, the common case): no
  // listeners, no flowing mode; the server drains the request after the response.
  if (req.complete && req.readableLength === 0 && !req.readableDidRead) return Promise.resolve(EMPTY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (ch: Buffer) => {
      if (failed) return;
      size += ch.length;
      if (size > limit) {
        failed = true;
        resolve(undefined);
        return;
      }
      chunks.push(ch);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}
