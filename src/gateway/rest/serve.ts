/**
 * The REST API data plane. Per request:
 *
 *   API by id (cached, revalidated every second) -> stage (first path segment; unknown: 403
 *   Forbidden) -> resource + method (literal, then {param}, then {proxy+}; method, then ANY;
 *   none: 403 "Missing Authentication Token") -> API key (x-api-key, 403 Forbidden) -> usage
 *   plan throttle (429 Too Many Requests) and quota (429 Limit Exceeded) -> Lambda authorizer
 *   (TOKEN/REQUEST, cached for the TTL; 401 Unauthorized / 403 explicit deny / 500) -> request
 *   validation -> the stage's API cache for cached methods (a fresh answer is served without the
 *   integration) -> the integration (AWS_PROXY with the payload 1.0 event, AWS, HTTP, MOCK) ->
 *   response mapping (502 when malformed).
 *
 * The deployed resource policy (resource-policy.ts; 403 ACCESS_DENIED) is checked after the
 * throttle: for NONE and CUSTOM methods before the authorizer, for COGNITO methods once the token
 * is accepted, for AWS_IAM methods once the request is found signed.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { checkApiKey, type KeyDecision } from '../api-keys.js';
import type { MetricsSink } from '../../core/metrics-sink.js';
import { requestRecorder, type RequestOutcome } from '../metrics.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import {
  buildV1Event,
  headerValues,
  requestTime,
  clientCertContext,
  sourceIpOf,
  type GatewayRequest,
  type IamCaller,
  iamCaller,
} from '../events.js';
import { clientCertOf } from '../mtls.js';
import {
  MalformedResponse,
  isBinaryMediaType,
  jsonMessage,
  mapV1Response,
  type HttpResult,
} from '../response.js';
import { AuthFailure, CognitoVerifier } from '../authorizers.js';
import {
  authorizerDecision,
  cognitoTokenHeader,
  invokeLambdaAuthorizer,
  lambdaAuthorizerEvent,
} from './authorize.js';
import { IntegrationTimeout, type InvokeResult, type Invoker } from '../invoke.js';
import { Throttler, type AccountLimits } from '../throttle.js';
import { functionArnOf } from '../model.js';
import { headerOf, readBody, send, type DomainVia } from '../serve.js';
import { writeAccessLog } from '../access-log.js';
import {
  applyGatewayResponse,
  gatewayError,
  isGatewayError,
  mapValue,
  type RequestValues,
} from './responses.js';
import { ResponseCache } from './response-cache.js';
import {
  TEST_INVOKE_STAGE,
  testInvokeAuthorizer,
  testRawHeaders,
  testRequest,
  testTarget,
} from './test-invoke.js';
import { compressResponse, decodeRequestBody } from './compression.js';
import {
  integrationParameters,
  integrationRequest,
  methodResponse,
  mockResult,
  selectResponse,
  type MethodRequest,
} from './integration.js';
import {
  BackendAgents,
  callBackend,
  callBackendStream,
  forwardedHeaders,
  type ClientCertificate,
} from '../backend.js';
import { startLambdaStream, writeStreamed, type StreamedResult } from './streaming.js';
import { restPrivateUrl, type PrivateTargets } from '../private-targets.js';
import { ApiCache } from '../api-cache.js';
import type { ServiceCaller } from '../../server/self-call.js';
import { RequestValidation } from './validation.js';
import {
  apiArnPrefix,
  compilePolicy,
  decide,
  deniedMessage,
  evaluatePolicy,
  type Caller,
  type ResourcePolicy,
} from './resource-policy.js';
import type { Authenticate } from '../websocket/serve.js';
import type { LogSink } from '../../core/log-sink.js';
import type { RestEngine } from './engine.js';
import type {
  ApiKeyRecord,
  GatewayResponseRecord,
  IntegrationRecord,
  MethodRecord,
  ResourceRecord,
  RestApiRecord,
  RestAuthorizerRecord,
  RestDeploymentRecord,
  RestStageRecord,
  Scope,
} from './model.js';
import { restErrors as errors } from './model.js';

const REVALIDATE_MS = 1000;
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

interface Node {
  res: ResourceRecord;
  literal: Map<string, Node>;
  param?: { name: string; node: Node };
  greedy?: { name: string; node: Node };
}

interface CompiledStage {
  stage: RestStageRecord;
  root: Node;
  authorizers: Map<string, RestAuthorizerRecord>;
  /** The deployment's customised gateway responses, by type. */
  gatewayResponses: Record<string, GatewayResponseRecord>;
  /** The deployment's request validators and models. */
  validation: RequestValidation;
  /** The deployment's resource policy (absent: none, every caller passes). */
  policy?: ResourcePolicy;
  /** Records the stage's AWS/ApiGateway metrics of one request (built on first use). */
  recordMetrics?: (o: RequestOutcome) => void;
  /** Detailed metrics' recorders, by `METHOD /resource/path`. */
  methodMetrics?: Map<string, (o: RequestOutcome) => void>;
  /** The stage's canary release: its deployment, compiled likewise, serves `percentTraffic` percent. */
  canary?: { percentTraffic: number; release: CompiledStage };
  /** `$context.isCanaryRequest` on a stage with a canary (absent on other stages). */
  canaryRequest?: 'true' | 'false';
  /**
   * A canary release's use of the stage's API cache: none (useStageCache off), the stage's entries
   * (same deployment as the stage) or entries of its own (another deployment), as on AWS.
   */
  canaryCache?: 'off' | 'shared' | 'apart';
  /**
   * The stage's client certificate (`clientCertificateId`), presented to HTTPS backends: read
   * when first needed, re-read at most every second (so a deleted one stops being presented).
   */
  clientCertificate?: {
    scope: Scope;
    id: string;
    read?: { at: number; cert: Promise<ClientCertificate | undefined> };
  };
}

/** The method settings serving reads (UpdateStage keeps the rest for GetStage). */
interface MethodSetting {
  throttlingRateLimit?: number;
  throttlingBurstLimit?: number;
  metricsEnabled?: boolean;
  loggingLevel?: string;
  dataTraceEnabled?: boolean;
  cachingEnabled?: boolean;
  cacheTtlInSeconds?: number;
  requireAuthorizationForCacheControl?: boolean;
  unauthorizedCacheControlHeaderStrategy?: string;
}

/** How a cached method caches (its own caching settings, else the stage's). */
interface Caching {
  ttlSeconds: number;
  requireAuthorization: boolean;
  unauthorizedStrategy: string;
}

/** The API's own account (its root) as the caller, where no authentication says more. */
const ownAccount = (c: CachedApi): Caller => ({
  accountId: c.scope.accountId,
  arn: `arn:aws:iam::${c.scope.accountId}:root`,
});

/** 403 ACCESS_DENIED with AWS's message: the caller may not invoke the method. */
function accessDenied(user: string, methodArn: string, explicit: boolean) {
  return accessDeniedWith(deniedMessage(user, methodArn, explicit));
}

/** 403 ACCESS_DENIED with this message, in the `Message` member as API Gateway words it. */
function accessDeniedWith(message: string) {
  return gatewayError(
    'ACCESS_DENIED',
    403,
    message,
    { 'x-amzn-errortype': ['AccessDeniedException'] },
    JSON.stringify({ Message: message }),
  );
}

/** The `Warning` API Gateway adds when it ignores an unauthorized caller's `Cache-Control: max-age=0`. */
const UNAUTHORIZED_CACHE_CONTROL =
  '199 Cache-control headers were ignored because the caller was unauthorized.';

/**
 * Whether the stage caches this method's answers, and how: the stage's cache must be on and the
 * method's `caching/enabled` true with a TTL above 0. The stage-wide setting (`*` `/*`) applies
 * to GET requests only (AWS caches only GET methods by default); another method is cached when
 * its own setting says so.
 */
function cachingOf(
  stage: RestStageRecord,
  resourcePath: string,
  methodName: string,
  verb: string,
): Caching | undefined {
  if (!stage.cacheClusterEnabled) return undefined;
  const { own, all } = methodSettingsOf(stage, resourcePath, methodName);
  const enabled = own?.cachingEnabled ?? (verb === 'GET' ? all?.cachingEnabled : undefined) ?? false;
  const ttlSeconds = own?.cacheTtlInSeconds ?? all?.cacheTtlInSeconds ?? 300;
  if (!enabled || ttlSeconds <= 0) return undefined;
  return {
    ttlSeconds,
    requireAuthorization:
      own?.requireAuthorizationForCacheControl ?? all?.requireAuthorizationForCacheControl ?? true,
    unauthorizedStrategy:
      own?.unauthorizedCacheControlHeaderStrategy ??
      all?.unauthorizedCacheControlHeaderStrategy ??
      'SUCCEED_WITH_RESPONSE_HEADER',
  };
}

/**
 * A cached answer's key within its stage: the request's method and the method's resource path
 * (not the request path: path parameters count only when named), then the values of the
 * integration's cacheKeyParameters (`method.request.querystring.x`, `method.request.header.y`,
 * `method.request.path.id`, or an `integration.request.*` parameter by its mapping).
 */
function cacheKey(
  verb: string,
  resourcePath: string,
  integ: IntegrationRecord | undefined,
  values: RequestValues,
): string {
  const names = integ?.cacheKeyParameters ?? [];
  if (!names.length) return `${verb} ${resourcePath}`;
  const parts = names.map((name) => {
    const expr = name.startsWith('integration.request.') ? integ?.requestParameters?.[name] : name;
    const multi = /^method\.request\.multivalue(querystring|header)\.(.+)$/.exec(expr ?? '');
    return expr === undefined
      ? null
      : (mapValue(multi ? `method.request.${multi[1]}.${multi[2]}` : expr, values) ?? null);
  });
  return `${verb} ${resourcePath} ${JSON.stringify(parts)}`;
}

/** Does the request's Cache-Control ask for a fresh answer (`max-age=0`)? */
function wantsInvalidation(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(?:^|,)\s*max-age\s*=\s*"?0"?\s*(?:,|$)/i.test(cacheControl);
}

/**
 * A method's own settings (the stage's methodSettings under `~1items~1{id}/GET`, the resource
 * path with `/` as `~1`) and the whole stage's (`*` `/*`), the first winning field by field.
 */
function methodSettingsOf(
  stage: RestStageRecord,
  resourcePath: string | undefined,
  method: string,
): { key?: string; own?: MethodSetting; all?: MethodSetting } {
  const key = resourcePath === undefined ? undefined : `${resourcePath.replace(/\//g, '~1')}/${method}`;
  return {
    key,
    own: key === undefined ? undefined : (stage.methodSettings[key] as MethodSetting | undefined),
    all: stage.methodSettings['*/*'] as MethodSetting | undefined,
  };
}

interface CachedApi {
  api: RestApiRecord;
  scope: Scope;
  stages: Map<string, CompiledStage>;
  checkedAt: number;
}

/** `arn:aws:apigateway:{region}:{subdomain.}service:{action|path}/{rest}` of AWS integrations. */
const SERVICE_URI = /^arn:aws:apigateway:([^:]*):([^:]+):(action|path)\/(.+)$/;

/** Services of the JSON protocols, addressed by `X-Amz-Target`; the others take `Action` (query protocol). */
const JSON_SERVICES: Record<string, { target: string; version: string } | undefined> = {
  dynamodb: { target: 'DynamoDB_20120810', version: '1.0' },
  events: { target: 'AWSEvents', version: '1.1' },
  logs: { target: 'Logs_20140328', version: '1.1' },
  kinesis: { target: 'Kinesis_20131202', version: '1.1' },
  states: { target: 'AWSStepFunctions', version: '1.0' },
};

/** Is `metrics/enabled` on for this method (its own method setting, else the stage's `*` `/*`)? */
function detailedMetrics(stage: RestStageRecord, resourcePath: string, method: string): boolean {
  const { own, all } = methodSettingsOf(stage, resourcePath, method);
  return own?.metricsEnabled ?? all?.metricsEnabled ?? false;
}

/**
 * An AWS service action's request as API Gateway sends it: JSON services get `X-Amz-Target` and
 * their JSON content type, query services the `Action` parameter. True for a JSON service.
 */
export function actionRequest(
  service: string,
  action: string,
  headers: Record<string, string>,
  query: URLSearchParams,
): boolean {
  const json = JSON_SERVICES[service];
  if (!json) {
    query.set('Action', action);
    return false;
  }
  headers['x-amz-target'] = `${json.target}.${action}`;
  headers['content-type'] = `application/x-amz-json-${json.version}`;
  return true;
}

/** A REST API's deployed stages, compiled for serving. */
function compileApi(found: { api: RestApiRecord; scope: Scope }, now: number): CachedApi {
  const c: CachedApi = { api: found.api, scope: found.scope, stages: new Map(), checkedAt: now };
  for (const st of found.api.stages) {
    const d = found.api.deployments.find((x) => x.id === st.deploymentId);
    if (!d) continue;
    const compiled = compileRelease(found, st, d);
    const cs = st.canarySettings;
    const cd = cs && found.api.deployments.find((x) => x.id === cs.deploymentId);
    if (cs && cd) {
      // The canary: its deployment, the stage's settings, the stage variables with its overrides.
      const variables = { ...st.variables, ...cs.stageVariableOverrides };
      const release = compileRelease(found, { ...st, variables }, cd);
      release.canaryRequest = 'true';
      release.canaryCache = !cs.useStageCache ? 'off' : cd.id === d.id ? 'shared' : 'apart';
      compiled.canary = { percentTraffic: cs.percentTraffic, release };
      compiled.canaryRequest = 'false';
    }
    c.stages.set(st.stageName, compiled);
  }
  return c;
}

function compileRelease(
  found: { api: RestApiRecord; scope: Scope },
  st: RestStageRecord,
  d: RestDeploymentRecord,
): CompiledStage {
  return {
    stage: st,
    root: buildTree(d.snapshot.resources),
    authorizers: new Map(d.snapshot.authorizers.map((a) => [a.id, a])),
    gatewayResponses: d.snapshot.gatewayResponses ?? {},
    clientCertificate: st.clientCertificateId
      ? { scope: found.scope, id: st.clientCertificateId }
      : undefined,
    validation: new RequestValidation(
      found.api.id,
      d.snapshot.requestValidators ?? [],
      d.snapshot.models ?? [],
    ),
    policy:
      d.snapshot.policy === undefined
        ? undefined
        : compilePolicy(
            d.snapshot.policy,
            apiArnPrefix(found.scope.region, found.scope.accountId, found.api.id),
          ),
  };
}

export function buildTree(resources: ResourceRecord[]): Node {
  const nodes = new Map<string, Node>();
  for (const r of resources) nodes.set(r.id, { res: r, literal: new Map() });
  let root: Node | undefined;
  for (const n of nodes.values()) {
    const parent = n.res.parentId ? nodes.get(n.res.parentId) : undefined;
    if (!parent) {
      if (n.res.path === '/') root = n;
      continue;
    }
    const part = n.res.pathPart ?? '';
    const m = /^\{(.+?)(\+?)\}$/.exec(part);
    if (!m) parent.literal.set(part, n);
    else if (m[2]) parent.greedy = { name: m[1], node: n };
    else parent.param = { name: m[1], node: n };
  }
  return root ?? { res: { id: '', path: '/' }, literal: new Map() };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Finds the resource for a path: a literal part beats `{param}`, which beats `{proxy+}` (with
 * backtracking when a branch dead-ends). The method is chosen afterwards: the request's method,
 * else ANY; a resource without either answers 403 as on AWS.
 */
function findResource(
  node: Node,
  segs: string[],
  i: number,
  params: Record<string, string>,
): { res: ResourceRecord; params: Record<string, string> } | undefined {
  if (i === segs.length) return { res: node.res, params };
  const seg = segs[i];
  const lit = node.literal.get(seg);
  if (lit) {
    const r = findResource(lit, segs, i + 1, params);
    if (r) return r;
  }
  if (node.param) {
    const r = findResource(node.param.node, segs, i + 1, { ...params, [node.param.name]: decode(seg) });
    if (r) return r;
  }
  if (node.greedy)
    return {
      res: node.greedy.node.res,
      params: { ...params, [node.greedy.name]: segs.slice(i).map(decode).join('/') },
    };
  return undefined;
}

export function match(
  root: Node,
  segs: string[],
  method: string,
): { res: ResourceRecord; method: MethodRecord; params: Record<string, string> } | undefined {
  const found = findResource(root, segs, 0, {});
  const m = found?.res.resourceMethods?.[method] ?? found?.res.resourceMethods?.ANY;
  return found && m ? { res: found.res, method: m, params: found.params } : undefined;
}

export interface RestServerDeps {
  engine: RestEngine;
  invoke: Invoker;
  clock: Clock;
  logger: Logger;
  /** The account-level throttle (default AWS's 10,000 rps, 5,000 burst). */
  accountLimits?: AccountLimits;
  /** Built-in AWS/ApiGateway metrics (absent: none recorded). */
  metrics?: MetricsSink;
  /** Where stage access logs go (absent: none written). */
  logs?: LogSink;
  /** AWS integrations with services other than Lambda (absent: those answer 500). */
  callService?: ServiceCaller;
  /**
   * Resolves the caller of a SigV4-signed request (the account its key maps to; the signature
   * checked in strict mode) for resource policies on AWS_IAM methods. Absent: a signed caller
   * is the API's own account.
   */
  authenticate?: Authenticate;
  /** Draws in [0, 1) that route requests to a stage's canary release (default Math.random). */
  random?: () => number;
  /** Private integrations: NLB host -> local base URL (`--private-target`; unmapped: the uri as it is). */
  privateTargets?: PrivateTargets;
  /** Does this VPC link (v1) exist? (a private integration naming none answers 500) */
  vpcLinkExists?: (scope: Scope, id: string) => Promise<boolean>;
  /** A client certificate with its key, by id (absent: stages present none to backends). */
  clientCertificate?: (scope: Scope, id: string) => Promise<ClientCertificate | undefined>;
}

/** What the request's handling learnt, for the stage's access log. */
interface RestAccessInfo {
  resourceId?: string;
  resourcePath?: string;
  principalId?: string;
  apiKeyId?: string;
  integrationStatus?: number;
  integrationLatency?: number;
  integrationError?: string;
  /** A cached method's lookup: served from the cache, or from the integration. */
  cache?: 'hit' | 'miss';
  /** `$context.isCanaryRequest` (a stage with a canary only). */
  isCanaryRequest?: 'true' | 'false';
  /** An AWS_IAM method's caller (the event's identity). */
  iam?: IamCaller;
}

interface AuthOutcome {
  /** The authorizer's raw answer: principalId, policyDocument, context. */
  answer: Record<string, unknown>;
}

export class RestServer {
  private readonly cache = new ApiCache(
    REVALIDATE_MS,
    (apiId: string) => this.deps.engine.findApi(apiId),
    compileApi,
  );
  private readonly throttler: Throttler;
  private readonly authCache = new Map<string, { outcome: AuthOutcome; expires: number }>();
  /** The stages' API caches (this node's). */
  private readonly responses = new ResponseCache();
  /** HTTPS agents of backend calls with a client certificate or `insecureSkipVerification`. */
  private readonly backendAgents = new BackendAgents();

  /** Closes the backends' idle HTTPS connections. */
  close(): void {
    this.backendAgents.close();
  }

  /** FlushStageCache: empties this node's API cache of the stage. */
  flushCache(apiId: string, stage: string): void {
    this.responses.flush(`${apiId}|${stage}`);
  }

  /** FlushStageAuthorizersCache: forgets this node's cached authorizer results for the stage. */
  flushAuthorizers(apiId: string, stage: string): void {
    const prefix = `${apiId}|${stage}|`;
    for (const k of this.authCache.keys()) if (k.startsWith(prefix)) this.authCache.delete(k);
  }
  private readonly cognito: CognitoVerifier;

  constructor(private readonly deps: RestServerDeps) {
    this.throttler = new Throttler(deps.clock, deps.accountLimits);
    this.cognito = new CognitoVerifier(deps.clock);
    deps.engine.onChange((apiId) => this.cache.delete(apiId));
  }

  private load(apiId: string): Promise<CachedApi | undefined> {
    return this.cache.get(apiId, this.deps.clock.now());
  }

  /** The release serving a request: a stage's canary takes `percentTraffic` percent, at random. */
  private release(st: CompiledStage | undefined): CompiledStage | undefined {
    const canary = st?.canary;
    if (!canary) return st;
    return (this.deps.random ?? Math.random)() * 100 < canary.percentTraffic ? canary.release : st;
  }

  /** Serves the request when `apiId` is a REST API; false when it is not one. */
  async tryHandle(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    apiId: string,
    urlBelowApi: string,
    via?: DomainVia,
  ): Promise<boolean> {
    const c = apiId ? await this.load(apiId) : undefined;
    if (!c) return false;
    const started = this.deps.clock.now();
    res.removeHeader('apigw-requestid');
    res.setHeader('x-amzn-RequestId', requestId);
    const qi = urlBelowApi.indexOf('?');
    const pathBelowApi = qi < 0 ? urlBelowApi : urlBelowApi.slice(0, qi);
    const rawQueryString = qi < 0 ? '' : urlBelowApi.slice(qi + 1);
    let stageName: string;
    let path: string;
    if (via?.stage !== undefined) {
      stageName = via.stage;
      path = pathBelowApi || '/';
    } else {
      // The first segment names the stage (execute-api URLs, base path mappings without a stage).
      const segEnd = pathBelowApi.indexOf('/', 1);
      stageName = decode(pathBelowApi.slice(1, segEnd < 0 ? undefined : segEnd));
      path = segEnd < 0 ? '/' : pathBelowApi.slice(segEnd);
    }
    const st = this.release(c.stages.get(stageName));
    // disableExecuteApiEndpoint closes the execute-api endpoint, not custom domains.
    if ((c.api.disableExecuteApiEndpoint && !via) || !st) {
      req.resume();
      send(res, jsonMessage(403, 'Forbidden'));
      return true;
    }
    const rawPath = via ? via.rawPath : `/${stageName}${path}`;
    let body = await readBody(req, MAX_REQUEST_BYTES);
    const values = requestValues(req, rawQueryString, st, c, requestId, stageName);
    if (via) values.context.domainName = via.domainName;
    values.context.requestTimeEpoch = started;
    values.context.requestTime = requestTime(started);
    values.context.path = rawPath;
    if (!body) {
      send(
        res,
        applyGatewayResponse(
          gatewayError('REQUEST_TOO_LARGE', 413, 'Request Entity Too Large'),
          st.gatewayResponses,
          values,
        ),
      );
      return true;
    }
    // Payload compression (minimumCompressionSize): a compressed body is decoded first.
    const decoded = decodeRequestBody(
      body,
      headerOf(req.rawHeaders, 'content-encoding'),
      c.api.minimumCompressionSize,
    );
    if (!decoded) {
      const refused = gatewayError('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported Media Type');
      send(res, applyGatewayResponse(refused, st.gatewayResponses, values));
      return true;
    }
    if (decoded.decoded) {
      body = decoded.body;
      delete req.headers['content-encoding'];
      req.rawHeaders = req.rawHeaders.filter(
        (_, i, all) => all[i - (i % 2)].toLowerCase() !== 'content-encoding',
      );
    }
    const host = String(req.headers.host ?? `${apiId}.execute-api.${c.scope.region}.amazonaws.com`);
    const greq: GatewayRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      rawPath,
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
    const info: RestAccessInfo = {};
    if (st.canaryRequest) info.isCanaryRequest = st.canaryRequest;
    const caller = (): Promise<Caller> => this.callerOf(c, req, body);
    const answer = await this.process(c, st, greq, path, info, values, caller).catch((e: unknown) => {
      this.deps.logger.error('REST API request failed', { requestId, apiId, err: e });
      return gatewayError('DEFAULT_5XX', 500, 'Internal Server Error');
    });
    let result: HttpResult;
    if ((answer as Partial<StreamedResult>).stream) {
      // STREAM: neither gateway responses (it is the integration's answer) nor compression.
      result = answer;
      await writeStreamed(res, answer as StreamedResult);
    } else {
      result = compressResponse(
        applyGatewayResponse(answer, st.gatewayResponses, values),
        headerOf(greq.rawHeaders, 'accept-encoding'),
        c.api.minimumCompressionSize,
      );
      send(res, result);
    }
    if (this.deps.logs && st.stage.accessLogSettings?.format)
      this.accessLog(c, st.stage, greq, info, result, started);
    if (this.deps.logs && Object.keys(st.stage.methodSettings).length)
      this.executionLog(c, st.stage, greq, info, result);
    if (this.deps.metrics) {
      let record = st.recordMetrics;
      if (!record) {
        const api = { Name: 'ApiName', Value: c.api.name };
        const sets = [[api], [api, { Name: 'Stage', Value: stageName }]];
        // A canary's requests count for the stage and for `{stage}/Canary`.
        if (st.canaryRequest === 'true') sets.push([api, { Name: 'Stage', Value: `${stageName}/Canary` }]);
        record = st.recordMetrics = requestRecorder(this.deps.metrics, c.scope, 'rest', sets);
      }
      const outcome: RequestOutcome = { status: result.status, latencyMs: this.deps.clock.now() - started };
      if (st.stage.cacheClusterEnabled) outcome.cache = info.cache ?? 'none';
      record(outcome);
      // Detailed CloudWatch metrics (the method's `metrics/enabled`, else the stage's `*/*`): per method too.
      const method = greq.method.toUpperCase();
      if (info.resourcePath !== undefined && detailedMetrics(st.stage, info.resourcePath, method)) {
        const key = `${method} ${info.resourcePath}`;
        const methods = (st.methodMetrics ??= new Map());
        let perMethod = methods.get(key);
        if (!perMethod) {
          perMethod = requestRecorder(this.deps.metrics, c.scope, 'rest', [
            [
              { Name: 'ApiName', Value: c.api.name },
              { Name: 'Method', Value: method },
              { Name: 'Resource', Value: info.resourcePath },
              { Name: 'Stage', Value: stageName },
            ],
          ]);
          methods.set(key, perMethod);
        }
        perMethod(outcome);
      }
    }
    return true;
  }

  /**
   * TestInvokeMethod: the method as it is now (not as a stage deployed it) answers a request made
   * of `pathWithQueryString`, headers, body and stage variables, through the whole pipeline
   * (authorizer, API key, validation, integration, gateway responses); the answer comes back with
   * its status, headers, body, latency and an execution log.
   */
  async testInvoke(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    input: Record<string, any>,
  ): Promise<Record<string, unknown>> {
    const api = await this.deps.engine.readRecord(scope, apiId);
    const resource = api.resources.find((r) => r.id === resourceId);
    if (!resource) throw errors.notFound('Invalid Resource identifier specified');
    const verb = httpMethod.toUpperCase();
    if (!resource.resourceMethods?.[verb]) throw errors.notFound('Invalid Method identifier specified');
    const now = this.deps.clock.now();
    const stageName = TEST_INVOKE_STAGE;
    const st: CompiledStage = {
      stage: {
        stageName,
        deploymentId: 'test-invoke-deployment-id',
        variables: (input.stageVariables ?? {}) as Record<string, string>,
        createdDate: Math.floor(now / 1000),
        lastUpdatedDate: Math.floor(now / 1000),
        cacheClusterEnabled: false,
        tracingEnabled: false,
        methodSettings: {},
        tags: {},
      },
      root: buildTree(api.resources),
      authorizers: new Map(api.authorizers.map((a) => [a.id, a])),
      gatewayResponses: api.gatewayResponses ?? {},
      validation: new RequestValidation(api.id, api.requestValidators ?? [], api.models ?? []),
    };
    const c: CachedApi = { api, scope, stages: new Map([[stageName, st]]), checkedAt: now };
    const { path, rawQueryString } = testTarget(String(input.pathWithQueryString ?? resource.path));
    const rawHeaders = testRawHeaders(input);
    const headers: Record<string, string> = {};
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const k = rawHeaders[i].toLowerCase();
      headers[k] = headers[k] === undefined ? rawHeaders[i + 1] : `${headers[k]},${rawHeaders[i + 1]}`;
    }
    const req = {
      method: verb,
      headers,
      rawHeaders,
      httpVersion: '1.1',
      socket: { remoteAddress: 'test-invoke-source-ip' },
    } as unknown as IncomingMessage;
    const requestId = randomUUID();
    const values = requestValues(req, rawQueryString, st, c, requestId, stageName);
    values.context.requestTimeEpoch = now;
    values.context.requestTime = requestTime(now);
    values.context.path = path;
    const greq = testRequest(verb, path, rawQueryString, rawHeaders, input.body, requestId, now);
    const info: RestAccessInfo = {};
    const answer = await this.process(c, st, greq, path, info, values).catch((e: unknown) => {
      this.deps.logger.error('REST API test invoke failed', { requestId, apiId, err: e });
      return gatewayError('DEFAULT_5XX', 500, 'Internal Server Error');
    });
    const result = applyGatewayResponse(answer, st.gatewayResponses, values);
    const latency = this.deps.clock.now() - now;
    const at = new Date(now).toUTCString();
    const body = result.body.toString('utf8');
    const log = [
      `Execution log for request ${requestId}`,
      `${at} : Starting execution for request: ${requestId}`,
      `${at} : HTTP Method: ${verb}, Resource Path: ${path}`,
      `${at} : Method request path: ${JSON.stringify(values.pathParameters)}`,
      `${at} : Method request query string: ${JSON.stringify(Object.fromEntries(new URLSearchParams(rawQueryString)))}`,
      `${at} : Method request body before transformations: ${greq.body.toString('utf8')}`,
      ...(info.integrationStatus !== undefined
        ? [
            `${at} : Received response. Status: ${info.integrationStatus}, Integration latency: ${info.integrationLatency ?? 0} ms`,
          ]
        : []),
      `${at} : Method response body after transformations: ${body}`,
      `${at} : Method completed with status: ${result.status}`,
      '',
    ].join('\n');
    const single: Record<string, string> = {};
    for (const [k, vs] of Object.entries(result.headers)) if (vs.length) single[k] = vs[vs.length - 1];
    return { status: result.status, body, headers: single, multiValueHeaders: result.headers, log, latency };
  }

  /**
   * TestInvokeAuthorizer: the API's authorizer as it is now runs on the request the input
   * describes (test-invoke.ts); unknown API or authorizer: NotFoundException.
   */
  async testInvokeAuthorizer(
    scope: Scope,
    apiId: string,
    authorizerId: string,
    input: Record<string, any>,
  ): Promise<Record<string, unknown>> {
    const api = await this.deps.engine.readRecord(scope, apiId);
    const auth = api.authorizers.find((a) => a.id === authorizerId);
    if (!auth) throw errors.notFound('Invalid authorizer identifier specified');
    return testInvokeAuthorizer(
      {
        invoke: this.deps.invoke,
        clock: this.deps.clock,
        cognito: this.cognito,
        withStageVariables,
        requestEvent: restEvent,
      },
      scope,
      api,
      auth,
      input,
    );
  }

  /**
   * Execution logs, as API Gateway writes them to `API-Gateway-Execution-Logs_{apiId}/{stage}`
   * when a method's `logging/loglevel` (its own, else the stage's `*` `/*`) is INFO (every request:
   * its steps) or ERROR (the requests that failed); `logging/dataTrace` adds the request and
   * response bodies. A canary request's lines go to `.../{stage}/Canary` too.
   */
  private executionLog(
    c: CachedApi,
    stage: RestStageRecord,
    greq: GatewayRequest,
    info: RestAccessInfo,
    result: HttpResult,
  ): void {
    const method = greq.method.toUpperCase();
    const { own, all } = methodSettingsOf(stage, info.resourcePath, method);
    const level = own?.loggingLevel ?? all?.loggingLevel ?? 'OFF';
    if (level === 'OFF' || (level === 'ERROR' && result.status < 400)) return;
    const trace = own?.dataTraceEnabled ?? all?.dataTraceEnabled ?? false;
    const id = greq.requestId;
    const lines: string[] = [];
    if (level === 'INFO') {
      lines.push(`Extended Request Id: ${id}`, `Starting execution for request: ${id}`);
      lines.push(`HTTP Method: ${method}, Resource Path: ${info.resourcePath ?? greq.rawPath}`);
      if (trace) lines.push(`Method request body before transformations: ${greq.body.toString('utf8')}`);
      if (info.integrationStatus !== undefined)
        lines.push(
          `Received response. Status: ${info.integrationStatus}, Integration latency: ${info.integrationLatency ?? 0} ms`,
        );
      if (trace) lines.push(`Method response body after transformations: ${result.body.toString('utf8')}`);
    }
    if (result.status >= 500) lines.push(`Execution failed due to an internal error or configuration error`);
    if (level === 'INFO' && result.status < 400) lines.push('Successfully completed execution');
    lines.push(`Method completed with status: ${result.status}`);
    const now = this.deps.clock.now();
    logsOf(this.deps.logs!, info).append(
      {
        accountId: c.scope.accountId,
        region: c.scope.region,
        group: `API-Gateway-Execution-Logs_${c.api.id}/${stage.stageName}`,
        stream: this.executionStream,
      },
      lines.map((l) => ({ timestamp: now, message: `(${id}) ${l}` })),
    );
  }

  /** This node's execution log stream (API Gateway names its streams with 32 hex digits). */
  private readonly executionStream = randomBytes(16).toString('hex');

  private accessLog(
    c: CachedApi,
    stage: RestStageRecord,
    greq: GatewayRequest,
    info: RestAccessInfo,
    result: HttpResult,
    started: number,
  ): void {
    const now = this.deps.clock.now();
    let errorMessage: string | undefined;
    if (result.status >= 400 && info.integrationStatus === undefined) {
      try {
        const b = JSON.parse(result.body.toString()) as { message?: unknown; Message?: unknown };
        errorMessage = String(b.message ?? b.Message ?? '');
      } catch {
        /* not the gateway's JSON message */
      }
    }
    writeAccessLog(
      logsOf(this.deps.logs!, info),
      { accountId: c.scope.accountId, region: c.scope.region, stream: `${c.api.id}_${stage.stageName}` },
      stage.accessLogSettings!,
      {
        requestId: greq.requestId,
        extendedRequestId: greq.requestId,
        apiId: c.api.id,
        stage: stage.stageName,
        resourceId: info.resourceId,
        resourcePath: info.resourcePath,
        httpMethod: greq.method,
        path: greq.rawPath,
        protocol: greq.protocol,
        status: result.status,
        responseLength: result.body.length,
        requestTime: requestTime(started),
        requestTimeEpoch: Math.floor(started / 1000),
        'identity.sourceIp': greq.sourceIp,
        'identity.userAgent': headerOf(greq.rawHeaders, 'user-agent'),
        'identity.apiKeyId': info.apiKeyId,
        ...clientCertContext(greq.clientCert),
        domainName: greq.domainName,
        domainPrefix: greq.domainName.split('.')[0],
        accountId: c.scope.accountId,
        'authorizer.principalId': info.principalId,
        'integration.status': info.integrationStatus,
        'integration.latency': info.integrationLatency,
        integrationLatency: info.integrationLatency,
        'integration.error': info.integrationError,
        'error.message': errorMessage,
        responseLatency: now - started,
        isCanaryRequest: info.isCanaryRequest,
      },
      now,
    );
  }

  private async process(
    c: CachedApi,
    st: CompiledStage,
    greq: GatewayRequest,
    path: string,
    info: RestAccessInfo,
    values: RequestValues,
    caller?: () => Promise<Caller>,
  ): Promise<HttpResult> {
    const segs = path === '/' ? [] : path.replace(/\/$/, '').split('/').slice(1);
    const m = match(st.root, segs, greq.method);
    if (!m) return missingToken();
    const method = m.method;
    info.resourceId = m.res.id;
    info.resourcePath = m.res.path;
    values.pathParameters = m.params;
    values.context.resourceId = m.res.id;
    values.context.resourcePath = m.res.path;
    // The method's own throttling settings, else the stage-wide ones (`*/*`), then the account's limits.
    const { key: methodKey, own, all } = methodSettingsOf(st.stage, m.res.path, method.httpMethod);
    const limits = {
      rate: own?.throttlingRateLimit ?? all?.throttlingRateLimit,
      burst: own?.throttlingBurstLimit ?? all?.throttlingBurstLimit,
    };
    const bucket = `rest|${c.api.id}|${st.stage.stageName}${own ? '|' + methodKey : ''}`;
    if (!this.throttler.allow(c.scope.accountId, bucket, limits))
      return gatewayError('THROTTLED', 429, 'Too Many Requests');
    const header = (n: string) => headerValues(greq.rawHeaders, n);

    // Authorizer first (AWS runs it before the API key check when the key comes from the authorizer).
    let authorizer: Record<string, unknown> | undefined;
    const resourcePath = m.res.path;
    const methodArn = `arn:aws:execute-api:${c.scope.region}:${c.scope.accountId}:${c.api.id}/${st.stage.stageName}/${greq.method}${path === '/' ? '/' : path}`;
    // Resource policy: NONE methods need its Allow now; CUSTOM ones are refused now only by its
    // explicit Deny (the authorizer's Allow suffices otherwise); COGNITO and AWS_IAM methods are
    // checked once their caller is authenticated.
    const authType = method.authorizationType ?? 'NONE';
    if (st.policy && authType !== 'COGNITO_USER_POOLS' && authType !== 'AWS_IAM') {
      const refused = this.policyRefusal(c, st, greq, methodArn, authType);
      if (refused) return refused;
    }
    if (method.authorizationType === 'CUSTOM') {
      const auth = method.authorizerId ? st.authorizers.get(method.authorizerId) : undefined;
      if (!auth) return gatewayError('AUTHORIZER_CONFIGURATION_ERROR', 500, null, {}, '{"message": null}');
      try {
        authorizer = await this.authorize(c, st, auth, greq, methodArn, resourcePath, path, m.params, header);
        info.principalId = authorizer?.principalId as string | undefined;
        for (const [k, v] of Object.entries(authorizer ?? {}))
          if (v !== null && typeof v !== 'object') values.context[`authorizer.${k}`] = String(v);
      } catch (e) {
        if (!(e instanceof AuthFailure)) throw e;
        this.deps.logger.info('REST API authorizer refused', { requestId: greq.requestId, why: e.message });
        if (e.status === 403) return accessDeniedWith('User is not authorized to access this resource');
        if (e.status === 401)
          return gatewayError('UNAUTHORIZED', 401, 'Unauthorized', {
            'x-amzn-errortype': ['UnauthorizedException'],
          });
        return gatewayError('AUTHORIZER_FAILURE', 500, null, {}, '{"message": null}');
      }
    } else if (method.authorizationType === 'COGNITO_USER_POOLS') {
      const auth = method.authorizerId ? st.authorizers.get(method.authorizerId) : undefined;
      if (!auth) return gatewayError('AUTHORIZER_CONFIGURATION_ERROR', 500, null, {}, '{"message": null}');
      try {
        const claims = await this.cognito.verify(
          (auth.providerARNs ?? []).map((a) => withStageVariables(a, st.stage.variables) ?? a),
          header(cognitoTokenHeader(auth)),
          method.authorizationScopes,
          auth.identityValidationExpression,
        );
        authorizer = { claims };
        for (const [k, v] of Object.entries(claims)) values.context[`authorizer.claims.${k}`] = v;
      } catch (e) {
        if (!(e instanceof AuthFailure)) throw e;
        this.deps.logger.info('REST API authorizer refused', { requestId: greq.requestId, why: e.message });
        return gatewayError('UNAUTHORIZED', 401, 'Unauthorized', {
          'x-amzn-errortype': ['UnauthorizedException'],
        });
      }
      const refused = this.policyRefusal(c, st, greq, methodArn, authType);
      if (refused) return refused;
    }

    let apiKey: ApiKeyRecord | undefined;
    if (method.apiKeyRequired) {
      const value =
        c.api.apiKeySource === 'AUTHORIZER'
          ? (authorizer?.usageIdentifierKey as string | undefined)
          : header('x-api-key');
      const decision = value ? await this.checkApiKey(c, st.stage.stageName, value) : undefined;
      if (!decision) return forbiddenKey();
      if (decision === 'throttled') return gatewayError('THROTTLED', 429, 'Too Many Requests');
      if (decision === 'quota') return gatewayError('QUOTA_EXCEEDED', 429, 'Limit Exceeded');
      apiKey = decision;
      info.apiKeyId = decision.id;
    }

    // AWS_IAM: the request must be signed, and the signature is checked as the front door checks
    // it (in strict mode: the key must be known and the signature right). IAM policies are not
    // evaluated, so a caller of the API's own account passes; another account's needs the
    // resource policy's Allow, as on AWS.
    if (authType === 'AWS_IAM') {
      if (!header('authorization')?.startsWith('AWS4-HMAC-SHA256')) return missingToken();
      let who: Caller;
      try {
        who = caller ? await caller() : ownAccount(c);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const type = (e as { code?: unknown }).code;
        return gatewayError('INVALID_SIGNATURE', 403, message, {
          'x-amzn-errortype': [typeof type === 'string' ? type : 'InvalidSignatureException'],
        });
      }
      info.iam = iamCaller(who);
      const refused = st.policy
        ? this.policyRefusal(c, st, greq, methodArn, authType, who)
        : who.accountId === c.scope.accountId
          ? undefined
          : accessDenied(who.arn, methodArn, false);
      if (refused) return refused;
    }
    const invalid = st.validation.check(method, values, greq.body);
    if (invalid) return invalid;
    // A stage whose cache was turned off keeps nothing (AWS deletes the cache instance).
    if (!st.stage.cacheClusterEnabled) this.responses.flush(`${c.api.id}|${st.stage.stageName}`);
    const integrate = () => this.integrate(c, st, m, greq, path, info, values, authorizer, apiKey);
    const caching = cachingOf(st.stage, resourcePath, method.httpMethod, greq.method);
    // A streamed answer is not cached (AWS: STREAM does not support endpoint caching).
    if (!caching || st.canaryCache === 'off' || method.methodIntegration?.responseTransferMode === 'STREAM')
      return integrate();
    return this.cached(c, st, caching, m, greq, info, values, integrate);
  }

  // ---------------------------------------------------------------- resource policies

  /**
   * The deployed resource policy's refusal of the request (403 ACCESS_DENIED with AWS's
   * message), or undefined when it may go on; see resource-policy.ts for the rules.
   */
  private policyRefusal(
    c: CachedApi,
    st: CompiledStage,
    greq: GatewayRequest,
    methodArn: string,
    authType: string,
    caller?: Caller,
  ): HttpResult | undefined {
    if (!st.policy) return undefined;
    const now = this.deps.clock.now();
    const keys: Record<string, string | undefined> = {
      'aws:sourceip': greq.sourceIp,
      'aws:useragent': headerValues(greq.rawHeaders, 'user-agent'),
      'aws:referer': headerValues(greq.rawHeaders, 'referer'),
      'aws:currenttime': new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'aws:epochtime': String(Math.floor(now / 1000)),
      'aws:principalaccount': caller?.accountId,
      'aws:principalarn': caller?.arn,
    };
    const effect = evaluatePolicy(st.policy, { resource: methodArn, caller, keys });
    const outcome = decide(authType, effect, caller?.accountId === c.scope.accountId);
    if (outcome === 'allow') return undefined;
    this.deps.logger.info('REST API resource policy refused', { requestId: greq.requestId, outcome });
    return accessDenied(caller?.arn ?? 'anonymous', methodArn, outcome === 'deny');
  }

  /** The IAM caller of a signed request, as the front door resolves it (throws when it is refused). */
  private async callerOf(c: CachedApi, req: IncomingMessage, body: Buffer): Promise<Caller> {
    if (!this.deps.authenticate) return ownAccount(c);
    const who = await this.deps.authenticate(req, (req.url ?? '/').split('?')[0], body);
    return { ...who, arn: who.arn ?? `arn:aws:iam::${who.accountId}:root` };
  }

  /**
   * A cached method (the stage's cache on and the method's `caching/enabled`): a fresh stored
   * answer for the same method and cache key parameters is served without calling the
   * integration; otherwise the integration's answer is served and kept for the TTL (gateway
   * errors are not kept). `Cache-Control: max-age=0` refreshes the entry when the caller may
   * invalidate it; otherwise the method's unauthorizedCacheControlHeaderStrategy decides.
   */
  private async cached(
    c: CachedApi,
    st: CompiledStage,
    caching: Caching,
    m: { res: ResourceRecord; method: MethodRecord },
    greq: GatewayRequest,
    info: RestAccessInfo,
    values: RequestValues,
    integrate: () => Promise<HttpResult>,
  ): Promise<HttpResult> {
    const stageId = `${c.api.id}|${st.stage.stageName}`;
    // A new deployment, another cache size, any UpdateStage or the stage made again: a new cache.
    const { deploymentId, cacheClusterSize, createdDate, lastUpdatedDate } = st.stage;
    const generation = `${deploymentId}|${cacheClusterSize ?? '0.5'}|${createdDate}|${lastUpdatedDate}`;
    // A canary serving another deployment keeps its answers apart from the stage's.
    const key =
      (st.canaryCache === 'apart' ? 'canary ' : '') +
      cacheKey(greq.method, m.res.path, m.method.methodIntegration, values);
    let refresh = false;
    let warn = false;
    if (wantsInvalidation(headerValues(greq.rawHeaders, 'cache-control'))) {
      // IAM policies are not evaluated: a SigV4-signed caller holds execute-api:InvalidateCache.
      const signed = headerValues(greq.rawHeaders, 'authorization')?.startsWith('AWS4-HMAC-SHA256') ?? false;
      if (!caching.requireAuthorization || signed) refresh = true;
      else if (caching.unauthorizedStrategy === 'FAIL_WITH_403')
        return gatewayError('DEFAULT_4XX', 403, 'Unauthorized');
      else warn = caching.unauthorizedStrategy === 'SUCCEED_WITH_RESPONSE_HEADER';
    }
    const now = this.deps.clock.now();
    let out = refresh ? undefined : this.responses.get(stageId, generation, key, now);
    if (out) info.cache = 'hit';
    else {
      info.cache = 'miss';
      out = await integrate();
      if (!isGatewayError(out))
        this.responses.set(stageId, generation, key, out, caching.ttlSeconds * 1000, this.deps.clock.now());
    }
    if (warn) out = { ...out, headers: { ...out.headers, warning: [UNAUTHORIZED_CACHE_CONTROL] } };
    return out;
  }

  /** The method's integration: MOCK, HTTP(_PROXY), AWS (Lambda or another service) or AWS_PROXY. */
  private async integrate(
    c: CachedApi,
    st: CompiledStage,
    m: { res: ResourceRecord; method: MethodRecord; params: Record<string, string> },
    greq: GatewayRequest,
    path: string,
    info: RestAccessInfo,
    values: RequestValues,
    authorizer: Record<string, unknown> | undefined,
    apiKey: ApiKeyRecord | undefined,
  ): Promise<HttpResult> {
    const method = m.method;
    const resourcePath = m.res.path;
    const header = (n: string) => headerValues(greq.rawHeaders, n);
    const integ = method.methodIntegration;
    if (!integ) return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
    const mr: MethodRequest = { values, body: greq.body };
    if (integ.type === 'MOCK') return mockResult(integ, mr);
    if (integ.type === 'HTTP' || integ.type === 'HTTP_PROXY')
      return this.httpIntegration(c.scope, st, integ, greq, mr, info);
    const uri = withStageVariables(integ.uri, st.stage.variables);
    const fn = functionArnOf(uri);
    if (integ.type === 'AWS' && !fn) return this.serviceIntegration(c, integ, uri ?? '', mr, info, greq);
    if (!fn) return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
    if (integ.type === 'AWS') {
      // Lambda without the proxy: the (mapped) body is the event, the integration response maps the result.
      const req = integrationRequest(integ, mr);
      if ('status' in req) return req;
      const out = await this.invokeFunction(
        c,
        fn,
        req.body.length ? req.body : Buffer.from('{}'),
        integ,
        info,
        greq,
      );
      if ('status' in out) return out;
      const text = out.payload.toString();
      let errorMessage: string | undefined;
      if (out.functionError) {
        info.integrationError = out.functionError;
        try {
          errorMessage = String((JSON.parse(text) as { errorMessage?: unknown }).errorMessage ?? '');
        } catch {
          errorMessage = text;
        }
      }
      return methodResponse(selectResponse(integ, errorMessage), { headers: {}, body: out.payload }, values);
    }
    const event = restEvent(greq, {
      accountId: c.scope.accountId,
      apiId: c.api.id,
      stage: st.stage.stageName,
      resourceId: m.res.id,
      resourcePath,
      // Through a custom domain, `path` keeps the base path (as AWS sends it).
      path: greq.viaDomain ? greq.rawPath : path,
      pathParameters: m.params,
      stageVariables: st.stage.variables,
      authorizer,
      apiKey,
      iam: info.iam,
    });
    textUnlessBinary(event, header('content-type'), c.api.binaryMediaTypes ?? []);
    if (integ.responseTransferMode === 'STREAM')
      return this.streamFunction(
        c,
        fn,
        Buffer.from(JSON.stringify(event)),
        integ,
        info,
        greq,
        header('accept'),
      );
    const out = await this.invokeFunction(c, fn, Buffer.from(JSON.stringify(event)), integ, info, greq);
    if ('status' in out) return out;
    if (out.functionError) {
      info.integrationError = out.functionError;
      return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
    try {
      return mapV1Response(out.payload, binaryResponseWanted(header('accept'), c.api.binaryMediaTypes ?? []));
    } catch (e) {
      if (!(e instanceof MalformedResponse)) throw e;
      return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
  }

  /**
   * AWS_PROXY with STREAM: the function called through InvokeWithResponseStream; its status and
   * headers are answered once its metadata and delimiter have come (within the integration
   * timeout), its body streamed after. A plain (not streamified) handler's response is mapped as
   * in BUFFERED mode. Failures before the metadata answer the gateway's 5XX responses.
   */
  private async streamFunction(
    c: CachedApi,
    fn: string,
    payload: Buffer,
    integ: IntegrationRecord,
    info: RestAccessInfo,
    greq: GatewayRequest,
    accept: string | undefined,
  ): Promise<HttpResult> {
    const call = this.deps.invoke.stream;
    if (!call) return gatewayError('DEFAULT_5XX', 500, 'Internal server error');
    const started = this.deps.clock.now();
    const start = await startLambdaStream(call, c.scope.accountId, fn, payload, integ.timeoutInMillis);
    info.integrationLatency = this.deps.clock.now() - started;
    switch (start.kind) {
      case 'streaming':
        info.integrationStatus = 200;
        return start.result;
      case 'timeout':
        info.integrationError = `integration timed out after ${integ.timeoutInMillis} ms`;
        return gatewayError('INTEGRATION_TIMEOUT', 504, 'Endpoint request timed out');
      case 'failed':
        info.integrationError = start.error instanceof Error ? start.error.message : String(start.error);
        this.deps.logger.warn('REST API integration failed', {
          requestId: greq.requestId,
          function: fn,
          err: start.error,
        });
        return gatewayError('DEFAULT_5XX', 500, 'Internal server error');
      case 'no-metadata':
        info.integrationError = 'no metadata delimiter in the first 16 KB of the stream';
        return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
    const out = start.out;
    info.integrationStatus = 200;
    if (out.functionError !== undefined) {
      info.integrationError = out.functionError;
      return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
    if (out.streamed || !out.payload) {
      info.integrationError = 'the stream ended before the metadata delimiter';
      return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
    try {
      return mapV1Response(out.payload, binaryResponseWanted(accept, c.api.binaryMediaTypes ?? []));
    } catch (e) {
      if (!(e instanceof MalformedResponse)) throw e;
      return gatewayError('DEFAULT_5XX', 502, 'Internal server error');
    }
  }

  /** A synchronous invoke bounded by the integration timeout; the gateway's answer when it fails. */
  private async invokeFunction(
    c: CachedApi,
    fn: string,
    payload: Buffer,
    integ: IntegrationRecord,
    info: RestAccessInfo,
    greq: GatewayRequest,
  ): Promise<InvokeResult | HttpResult> {
    const started = this.deps.clock.now();
    try {
      const out = await this.deps.invoke(c.scope.accountId, fn, payload, integ.timeoutInMillis);
      info.integrationLatency = this.deps.clock.now() - started;
      info.integrationStatus = 200;
      return out;
    } catch (e) {
      info.integrationLatency = this.deps.clock.now() - started;
      info.integrationError = e instanceof Error ? e.message : String(e);
      if (e instanceof IntegrationTimeout)
        return gatewayError('INTEGRATION_TIMEOUT', 504, 'Endpoint request timed out');
      this.deps.logger.warn('REST API integration failed', {
        requestId: greq.requestId,
        function: fn,
        err: e,
      });
      return gatewayError('DEFAULT_5XX', 500, 'Internal server error');
    }
  }

  /**
   * An AWS integration with another service (`arn:aws:apigateway:{region}:{service}:action/{Action}`
   * or `...:path/{path}`): the integration request, signed as the API's account, goes to this
   * Nimbus's own endpoint in the service's protocol (JSON services get `X-Amz-Target`, query
   * services `Action`); the service's status code selects the integration response, whose
   * template reads the service's answer.
   */
  private async serviceIntegration(
    c: CachedApi,
    integ: IntegrationRecord,
    uri: string,
    mr: MethodRequest,
    info: RestAccessInfo,
    greq: GatewayRequest,
  ): Promise<HttpResult> {
    const m = SERVICE_URI.exec(uri);
    if (!m || !this.deps.callService)
      return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
    const service = m[2].split('.').pop()!;
    const params = integrationParameters(integ, mr.values);
    const req = integrationRequest(integ, mr);
    if ('status' in req) return req;
    // Query services answer XML unless asked for JSON, which is what API Gateway asks for.
    const headers: Record<string, string> = { 'content-type': req.contentType, accept: 'application/json' };
    const query = new URLSearchParams();
    let path = '/';
    if (m[3] === 'action') actionRequest(service, m[4], headers, query);
    else {
      path = '/' + m[4].replace(/\{([^}]+)\}/g, (_, n: string) => params.path[n] ?? '');
    }
    for (const [k, v] of Object.entries(params.querystring)) query.set(k, v);
    for (const [k, v] of Object.entries(params.header)) headers[k.toLowerCase()] = v;
    const callService = this.deps.callService;
    const out = await this.backendCall(info, greq, 'AWS', uri, () =>
      callService(c.scope.accountId, {
        region: m[1] || c.scope.region,
        service,
        method: integ.httpMethod ?? 'POST',
        path,
        query,
        headers,
        body: req.body,
        timeoutMs: integ.timeoutInMillis,
      }),
    );
    return 'failed' in out ? out.failed : byStatus(integ, out.res, mr.values);
  }

  /**
   * HTTP_PROXY: the request goes to the integration's URL (`{name}` filled from
   * `integration.request.path.name`, else the method's path parameter) with its method, headers,
   * query string and body, and the backend's answer comes back unchanged. HTTP: only the mapped
   * headers and query string go, with the request template's body, and the backend's status
   * code selects the integration response.
   */
  private async httpIntegration(
    scope: Scope,
    st: CompiledStage,
    integ: IntegrationRecord,
    greq: GatewayRequest,
    mr: MethodRequest,
    info: RestAccessInfo,
  ): Promise<HttpResult> {
    const proxy = integ.type === 'HTTP_PROXY';
    const params = integrationParameters(integ, mr.values);
    let url = (withStageVariables(integ.uri, st.stage.variables) ?? '').replace(
      /\{([^}]+?)\+?\}/g,
      (_, name: string) =>
        (params.path[name] ?? mr.values.pathParameters[name] ?? '')
          .split('/')
          .map(encodeURIComponent)
          .join('/'),
    );
    const query = new URLSearchParams(proxy ? greq.rawQueryString : '');
    for (const [k, v] of Object.entries(params.querystring)) query.set(k, v);
    const qs = query.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
    if (integ.connectionType === 'VPC_LINK') {
      // A private integration: the NLB the uri names, here the local target mapped to its host.
      const link = withStageVariables(integ.connectionId, st.stage.variables) ?? '';
      if (!(await this.deps.vpcLinkExists?.(scope, link))) {
        info.integrationError = `Invalid VPC link identifier specified: ${link}`;
        this.deps.logger.warn('REST API private integration names no VPC link', {
          requestId: greq.requestId,
          connectionId: link,
        });
        return gatewayError('DEFAULT_5XX', 500, 'Internal server error');
      }
      url = restPrivateUrl(url, this.deps.privateTargets);
    }
    const method = !integ.httpMethod || integ.httpMethod === 'ANY' ? greq.method : integ.httpMethod;
    let headers: Headers;
    let body: Buffer;
    if (proxy) {
      headers = forwardedHeaders(greq);
      body = greq.body;
    } else {
      const req = integrationRequest(integ, mr);
      if ('status' in req) return req;
      headers = new Headers({ 'content-type': req.contentType });
      body = req.body;
    }
    for (const [k, v] of Object.entries(params.header)) headers.set(k, v);
    const out = await this.backendCall(info, greq, 'HTTP', url, async () =>
      (proxy && integ.responseTransferMode === 'STREAM' ? callBackendStream : callBackend)(
        url,
        method,
        headers,
        body,
        integ.timeoutInMillis,
        await this.backendAgent(st, integ, url),
      ),
    );
    if ('failed' in out) return out.failed;
    return proxy ? out.res : byStatus(integ, out.res, mr.values);
  }

  /**
   * The agent of an HTTPS call with TLS settings of its own: the stage's client certificate,
   * the integration's `tlsConfig.insecureSkipVerification`. Undefined for neither (or plain HTTP).
   */
  private async backendAgent(st: CompiledStage, integ: IntegrationRecord, url: string) {
    if (!url.startsWith('https:')) return undefined;
    const insecure = integ.tlsConfig?.insecureSkipVerification === true;
    const cc = st.clientCertificate;
    const find = this.deps.clientCertificate;
    let cert: ClientCertificate | undefined;
    if (cc && find) {
      const now = this.deps.clock.now();
      if (!cc.read || now - cc.read.at >= REVALIDATE_MS) cc.read = { at: now, cert: find(cc.scope, cc.id) };
      cert = await cc.read.cert;
    }
    return cert || insecure ? this.backendAgents.agent(cert, insecure) : undefined;
  }

  /** A call to an HTTP backend or a service, timed for the access log; the gateway's answer when it fails. */
  private async backendCall(
    info: RestAccessInfo,
    greq: GatewayRequest,
    kind: string,
    target: string,
    call: () => Promise<HttpResult>,
  ): Promise<{ res: HttpResult } | { failed: HttpResult }> {
    const started = this.deps.clock.now();
    try {
      const res = await call();
      info.integrationLatency = this.deps.clock.now() - started;
      info.integrationStatus = res.status;
      return { res };
    } catch (e) {
      info.integrationLatency = this.deps.clock.now() - started;
      info.integrationError = e instanceof Error ? e.message : String(e);
      if (e instanceof Error && e.name === 'TimeoutError')
        return { failed: gatewayError('INTEGRATION_TIMEOUT', 504, 'Endpoint request timed out') };
      this.deps.logger.warn(`REST API ${kind} integration failed`, {
        requestId: greq.requestId,
        target,
        err: e,
      });
      return { failed: gatewayError('DEFAULT_5XX', 500, 'Internal server error') };
    }
  }

  /** The key when it may call this stage (and is within its plan's limits); else why not. */
  private checkApiKey(c: CachedApi, stage: string, value: string): Promise<KeyDecision> {
    return checkApiKey(this.deps.engine, this.throttler, c.scope, c.api.id, stage, value);
  }

  private async authorize(
    c: CachedApi,
    st: CompiledStage,
    auth: RestAuthorizerRecord,
    greq: GatewayRequest,
    methodArn: string,
    resourcePath: string,
    path: string,
    params: Record<string, string>,
    header: (n: string) => string | undefined,
  ): Promise<Record<string, unknown>> {
    const { identity, event } = lambdaAuthorizerEvent(auth, {
      methodArn,
      header,
      query: new URLSearchParams(greq.rawQueryString),
      context: {
        requestId: greq.requestId,
        stage: st.stage.stageName,
        apiId: c.api.id,
        httpMethod: greq.method,
        resourcePath,
      },
      stageVariables: st.stage.variables,
      requestEvent: () =>
        restEvent(greq, {
          accountId: c.scope.accountId,
          apiId: c.api.id,
          stage: st.stage.stageName,
          resourceId: '',
          resourcePath,
          path: greq.viaDomain ? greq.rawPath : path,
          pathParameters: params,
          stageVariables: st.stage.variables,
        }),
    });
    const ttl = auth.authorizerResultTtlInSeconds;
    const cacheKey = `${c.api.id}|${st.stage.stageName}|${auth.id}|${JSON.stringify(identity)}`;
    const now = this.deps.clock.now();
    let outcome = ttl > 0 ? this.authCache.get(cacheKey) : undefined;
    if (outcome && outcome.expires <= now) {
      this.authCache.delete(cacheKey);
      outcome = undefined;
    }
    let answer: Record<string, unknown>;
    if (outcome) answer = outcome.outcome.answer;
    else {
      const uri = withStageVariables(auth.authorizerUri, st.stage.variables);
      answer = (await invokeLambdaAuthorizer(this.deps.invoke, c.scope.accountId, uri, event)).answer;
      if (ttl > 0) {
        if (this.authCache.size > 50_000) this.authCache.clear();
        this.authCache.set(cacheKey, { outcome: { answer }, expires: now + ttl * 1000 });
      }
    }
    const ctx = authorizerDecision(answer, methodArn);
    ctx.integrationLatency = this.deps.clock.now() - now;
    if (typeof answer.usageIdentifierKey === 'string') ctx.usageIdentifierKey = answer.usageIdentifierKey;
    return ctx;
  }
}

/** REST APIs pass bodies as text unless the content type is one of the API's binaryMediaTypes. */
/** The method response of an answer whose status code selects the integration response (HTTP, AWS services). */
function byStatus(integ: IntegrationRecord, res: HttpResult, values: RequestValues): HttpResult {
  return methodResponse(
    selectResponse(integ, String(res.status)),
    { headers: res.headers, body: res.body },
    values,
  );
}

function textUnlessBinary(
  ev: Record<string, unknown>,
  contentType: string | undefined,
  binary: string[],
): void {
  const isBinary = isBinaryMediaType(contentType, binary);
  if (isBinary && ev.body !== null && !ev.isBase64Encoded) {
    ev.body = Buffer.from(String(ev.body), 'utf8').toString('base64');
    ev.isBase64Encoded = true;
  } else if (!isBinary && ev.isBase64Encoded) {
    ev.body = Buffer.from(String(ev.body), 'base64').toString('utf8');
    ev.isBase64Encoded = false;
  }
}

/**
 * A REST API sends a Lambda proxy answer marked isBase64Encoded as bytes only when the
 * request's first Accept media type is one of the API's binaryMediaTypes (any type when the
 * list has the any-type wildcard); otherwise the client gets the base64 text.
 */
function binaryResponseWanted(accept: string | undefined, binary: string[]): boolean {
  if (!binary.length) return false;
  if (binary.includes('*/*')) return true;
  if (!accept) return false;
  return isBinaryMediaType(accept.split(',')[0], binary);
}

function missingToken(): HttpResult {
  return gatewayError('MISSING_AUTHENTICATION_TOKEN', 403, 'Missing Authentication Token', {
    'x-amzn-errortype': ['MissingAuthenticationTokenException'],
  });
}

/** What mapping expressions and gateway response templates read from the request. */
function requestValues(
  req: IncomingMessage,
  rawQueryString: string,
  st: CompiledStage,
  c: CachedApi,
  requestId: string,
  stageName: string,
): RequestValues {
  let query: URLSearchParams | undefined;
  const values: RequestValues = {
    header: (n) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(',') : v;
    },
    query: (n) => (query ??= new URLSearchParams(rawQueryString)).get(n) ?? undefined,
    all: () => {
      const header: Record<string, string> = {};
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        header[name] =
          header[name] === undefined ? req.rawHeaders[i + 1] : `${header[name]},${req.rawHeaders[i + 1]}`;
      }
      const querystring: Record<string, string> = {};
      for (const [k, v] of (query ??= new URLSearchParams(rawQueryString))) querystring[k] = v;
      return { path: { ...values.pathParameters }, querystring, header };
    },
    pathParameters: {},
    stageVariables: st.stage.variables,
    context: {
      requestId,
      extendedRequestId: requestId,
      apiId: c.api.id,
      accountId: c.scope.accountId,
      stage: stageName,
      httpMethod: (req.method ?? 'GET').toUpperCase(),
      domainName: req.headers.host,
      'identity.sourceIp': sourceIpOf(req),
      'identity.userAgent': req.headers['user-agent'],
      ...clientCertContext(clientCertOf(req)),
      protocol: `HTTP/${req.httpVersion}`,
      isCanaryRequest: st.canaryRequest,
    },
  };
  return values;
}

/** Where a request's logs go: a canary request's go to the stage's groups and to their `/Canary` twins. */
function logsOf(logs: LogSink, info: RestAccessInfo): LogSink {
  if (info.isCanaryRequest !== 'true') return logs;
  return {
    append: (ref, events) => {
      logs.append(ref, events);
      logs.append({ ...ref, group: `${ref.group}/Canary` }, events);
    },
    flush: () => logs.flush(),
  };
}

function forbiddenKey(): HttpResult {
  return gatewayError('INVALID_API_KEY', 403, 'Forbidden', { 'x-amzn-errortype': ['ForbiddenException'] });
}

function withStageVariables(uri: string | undefined, vars: Record<string, string>): string | undefined {
  return uri?.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_m, n: string) => vars[n] ?? '');
}

export interface RestEventContext {
  accountId: string;
  apiId: string;
  stage: string;
  resourceId: string;
  resourcePath: string;
  /** The path below the stage. */
  path: string;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
  authorizer?: Record<string, unknown>;
  apiKey?: ApiKeyRecord;
  iam?: IamCaller;
}

/** The REST API proxy event (payload 1.0 without `version`), as in aws-events/apigw-request.json. */
export function restEvent(greq: GatewayRequest, ctx: RestEventContext): Record<string, unknown> {
  const ev = buildV1Event(greq, {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    stage: ctx.stage,
    routeKey: `${greq.method} ${ctx.resourcePath}`,
    routeId: ctx.resourceId,
    pathParameters: ctx.pathParameters,
    stageVariables: ctx.stageVariables,
    authorizer: ctx.authorizer,
    iam: ctx.iam,
  });
  delete ev.version;
  ev.path = ctx.path;
  const rc = ev.requestContext as Record<string, unknown>;
  rc.path = greq.rawPath;
  const identity = rc.identity as Record<string, unknown>;
  identity.apiKey = ctx.apiKey?.value ?? null;
  identity.apiKeyId = ctx.apiKey?.id ?? null;
  // Key order as AWS sends it: resource, path, httpMethod, headers, ...
  return ev;
}
