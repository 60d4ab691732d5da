/**
 * The REST API (apigateway v1) management engine: REST APIs, resources, methods, AWS_PROXY
 * integrations, Lambda authorizers, deployments, stages, API keys and usage plans.
 * Inputs and outputs use the wire's member names; timestamps are epoch seconds.
 */
import { ACCOUNT_BURST_LIMIT, ACCOUNT_RATE_LIMIT, type AccountLimits } from '../throttle.js';
import { replaceRecord, stage, stagedRecord } from '../staging.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { shortId } from '../../core/ids.js';
import type { Store } from '../../storage/store.js';
import {
  CLIENT_CERT_NOT_FOUND,
  COLLECTION_API_KEYS,
  COLLECTION_CLIENT_CERTS,
  COLLECTION_VPC_LINKS,
  COLLECTION_REST_API_IDS,
  COLLECTION_REST_DOCS,
  COLLECTION_REST_APIS,
  COLLECTION_USAGE_PLANS,
  HTTP_METHODS,
  restErrors as errors,
  scopedKey,
  type ApiKeyRecord,
  type GatewayResponseRecord,
  type IntegrationRecord,
  type IntegrationResponseRecord,
  type MethodRecord,
  type MethodResponseRecord,
  type ModelRecord,
  type RequestValidatorRecord,
  type ResourceRecord,
  type RestApiRecord,
  type RestAuthorizerRecord,
  type RestStageRecord,
  type Scope,
  type UsagePlanRecord,
} from './model.js';
import { applyPatch, boolValue, intValue, patchEntry, patchOperations, requireValue } from './patch.js';
import { canaryOf, canaryView, checkDeploymentStage, patchCanary } from './canary.js';
import { GATEWAY_RESPONSE_TYPES, gatewayResponseView } from './responses.js';
import { COLLECTION_USAGE, UsageMeter, planUsagePrefix, type UsageView } from './usage.js';
import { apiArnPrefix, savedPolicy } from './resource-policy.js';
import { apiKeyRowProblem, type ApiKeyRow } from './api-key-file.js';

type Input = Record<string, any>;

export function page<T>(items: T[], input: Input): { items: T[]; position?: string } {
  const max = input.limit ? Math.max(1, Math.min(500, Number(input.limit))) : 25;
  const start = input.position ? Number(Buffer.from(String(input.position), 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw errors.badRequest('Invalid position parameter');
  const slice = items.slice(start, start + max);
  return start + max < items.length
    ? { items: slice, position: Buffer.from(String(start + max)).toString('base64url') }
    : { items: slice };
}

function strMap(v: unknown, name: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.badRequest(`Invalid ${name}`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Input)) out[k] = String(x);
  return out;
}

function boolMap(v: unknown, name: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(strMap(v, name))) out[k] = x === 'true';
  return out;
}

function validStatus(code: string): string {
  if (!/^[1-5]\d\d$/.test(code)) throw errors.badRequest(`Invalid status code specified: ${code}`);
  return code;
}

function validResponseType(type: string): string {
  if (!(GATEWAY_RESPONSE_TYPES as readonly string[]).includes(type))
    throw errors.badRequest(
      `1 validation error detected: Value '${type}' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [${GATEWAY_RESPONSE_TYPES.join(', ')}]`,
    );
  return type;
}

const METHOD_THROTTLING = /^\/([^/]+)\/([^/]+)\/throttling\/(rateLimit|burstLimit)$/;
/** The other method settings' patch paths (`/{resourcePath}/{httpMethod}/metrics/enabled`, ...), by their field. */
const METHOD_OPTION =
  /^\/([^/]+)\/([^/]+)\/(metrics\/enabled|logging\/loglevel|logging\/dataTrace|caching\/enabled|caching\/ttlInSeconds|caching\/dataEncrypted|caching\/requireAuthorizationForCacheControl|caching\/unauthorizedCacheControlHeaderStrategy)$/;
const CACHE_CLUSTER_SIZES = ['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'];
const CACHE_CONTROL_STRATEGIES = [
  'FAIL_WITH_403',
  'SUCCEED_WITH_RESPONSE_HEADER',
  'SUCCEED_WITHOUT_RESPONSE_HEADER',
];

/** A method setting's value from its patch path and value. */
function methodOption(setting: string, value: string | undefined, path: string): [string, unknown] {
  const v = String(value ?? '');
  const bool = () => {
    if (v !== 'true' && v !== 'false')
      throw errors.badRequest(`Invalid value for ${path}: ${v}. Must be true or false`);
    return v === 'true';
  };
  switch (setting) {
    case 'metrics/enabled':
      return ['metricsEnabled', bool()];
    case 'logging/dataTrace':
      return ['dataTraceEnabled', bool()];
    case 'caching/enabled':
      return ['cachingEnabled', bool()];
    case 'caching/dataEncrypted':
      return ['cacheDataEncrypted', bool()];
    case 'caching/requireAuthorizationForCacheControl':
      return ['requireAuthorizationForCacheControl', bool()];
    case 'logging/loglevel': {
      const level = v.toUpperCase();
      if (!['OFF', 'ERROR', 'INFO'].includes(level))
        throw errors.badRequest(`Invalid logging level: ${v}. Must be one of OFF, ERROR, INFO`);
      return ['loggingLevel', level];
    }
    case 'caching/ttlInSeconds': {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 3600)
        throw errors.badRequest('Cache TTL must be between 0 and 3600 seconds');
      return ['cacheTtlInSeconds', n];
    }
    default:
      if (!CACHE_CONTROL_STRATEGIES.includes(v))
        throw errors.badRequest(
          `Invalid unauthorized cache control header strategy: ${v}. Must be one of ${CACHE_CONTROL_STRATEGIES.join(', ')}`,
        );
      return ['unauthorizedCacheControlHeaderStrategy', v];
  }
}

function cacheClusterSize(v: unknown): string {
  const size = String(v ?? '');
  if (!CACHE_CLUSTER_SIZES.includes(size))
    throw errors.badRequest(
      `Invalid cache cluster size specified: ${size}. Valid options are ${CACHE_CLUSTER_SIZES.join(',')}`,
    );
  return size;
}

/** A method settings entry as GetStage shows it: AWS's defaults under what was set. */
function methodSettingsView(
  settings: Record<string, unknown>,
  account: AccountLimits,
): Record<string, unknown> {
  return {
    metricsEnabled: false,
    loggingLevel: 'OFF',
    dataTraceEnabled: false,
    throttlingBurstLimit: account.burst,
    throttlingRateLimit: account.rate,
    cachingEnabled: false,
    cacheTtlInSeconds: 300,
    cacheDataEncrypted: false,
    requireAuthorizationForCacheControl: true,
    unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER',
    ...settings,
  };
}
const METHOD_SETTING = /^\/([^/]+)\/([^/]+)$/;

/** The methodSettings key of a patch path's resource and method segments (`*` and `*`: the whole stage). */
function methodSettingsKey(resource: string, method: string, path: string): string {
  if (resource === '*' && method === '*') return '*/*';
  if (!resource.startsWith('~1') || !HTTP_METHODS.includes(method))
    throw errors.badRequest(
      `Invalid method setting path ${path}. Must be one of: [*/*, {resourcePath}/{httpMethod}]`,
    );
  return `${resource}/${method}`;
}

/** Method responses or integration responses. */
export type ResponseKind = 'method' | 'integration';

/** The models every REST API has (AWS creates them with the API). */
/** The models every REST API has (GetModels lists them; they cannot be created or deleted). */
export const BUILT_IN_MODELS = ['Empty', 'Error'];

export function builtInModel(name: string): ModelRecord {
  return name === 'Empty'
    ? {
        id: 'empty0',
        name,
        description: 'This is a default empty schema model',
        contentType: 'application/json',
        schema:
          '{\n  "$schema": "http://json-schema.org/draft-04/schema#",\n  "title" : "Empty Schema",\n  "type" : "object"\n}',
      }
    : {
        id: 'error0',
        name,
        description: 'This is a default error schema model',
        contentType: 'application/json',
        schema:
          '{\n  "$schema" : "http://json-schema.org/draft-04/schema#",\n  "title" : "Error Schema",\n  "type" : "object",\n  "properties" : {\n    "message" : { "type" : "string" }\n  }\n}',
      };
}

/** The model named `name`; unknown: NotFoundException, or BadRequestException when a method refers to it. */
const COLLECTION_ACCOUNT = 'apigw.account';

function accountView(cloudwatchRoleArn: string | undefined, account: AccountLimits): Input {
  return {
    ...(cloudwatchRoleArn ? { cloudwatchRoleArn } : {}),
    throttleSettings: { burstLimit: account.burst, rateLimit: account.rate },
    features: ['UsagePlans'],
    apiKeyVersion: '4',
  };
}

function modelOf(api: RestApiRecord, name: string, referenced = false): ModelRecord {
  if (BUILT_IN_MODELS.includes(name)) return builtInModel(name);
  const m = api.models?.find((x) => x.name === name);
  if (!m)
    throw referenced
      ? errors.badRequest(`Invalid model identifier specified: ${name}`)
      : errors.notFound('Invalid model name specified: ' + name);
  return m;
}

function modelView(m: ModelRecord): Input {
  return structuredClone(m) as Input;
}

/** A model schema: the JSON text of an object. */
function validSchema(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw errors.badRequest(
      'Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]',
    );
  return text;
}

/** An integration response's selectionPattern: a regular expression. */
function validPattern(pattern: string): string {
  try {
    new RegExp(pattern);
  } catch {
    throw errors.badRequest(`Invalid selection pattern specified: ${pattern}`);
  }
  return pattern;
}

/** The validator `id`; unknown: NotFoundException, or BadRequestException when a method refers to it. */
function validatorOf(api: RestApiRecord, id: string, referenced = false): RequestValidatorRecord {
  const v = api.requestValidators?.find((x) => x.id === id);
  if (!v) {
    const message = 'Invalid Request Validator identifier specified';
    throw referenced ? errors.badRequest(message) : errors.notFound(message);
  }
  return v;
}

/** The first method of the API (with its resource) for which `test` holds: what still refers to something. */
function methodWhere(
  api: RestApiRecord,
  test: (m: MethodRecord) => boolean,
): { r: ResourceRecord; m: MethodRecord } | undefined {
  for (const r of api.resources)
    for (const m of Object.values(r.resourceMethods ?? {})) if (test(m)) return { r, m };
  return undefined;
}

const GATEWAY_RESPONSE_PATHS = ['/statusCode', '/responseParameters/{name}', '/responseTemplates/{type}'];

function resourceView(r: ResourceRecord): Input {
  const out: Input = { id: r.id, path: r.path };
  if (r.parentId) out.parentId = r.parentId;
  if (r.pathPart !== undefined) out.pathPart = r.pathPart;
  if (r.resourceMethods && Object.keys(r.resourceMethods).length) {
    out.resourceMethods = {};
    for (const [m, rec] of Object.entries(r.resourceMethods)) out.resourceMethods[m] = methodView(rec);
  }
  return out;
}

function methodView(m: MethodRecord): Input {
  return structuredClone(m) as Input;
}

const REST_API_PATHS = [
  '/name',
  '/description',
  '/version',
  '/apiKeySource',
  '/disableExecuteApiEndpoint',
  '/minimumCompressionSize',
  '/policy',
  '/binaryMediaTypes/{type}',
  '/endpointConfiguration/types/{type}',
];
const RESOURCE_PATHS = ['/pathPart', '/parentId'];
const METHOD_PATHS = [
  '/authorizationType',
  '/authorizerId',
  '/apiKeyRequired',
  '/operationName',
  '/requestParameters/{name}',
  '/authorizationScopes',
  '/requestValidatorId',
  '/requestModels/{type}',
];
const INTEGRATION_PATHS = [
  '/uri',
  '/httpMethod',
  '/timeoutInMillis',
  '/passthroughBehavior',
  '/cacheNamespace',
  '/cacheKeyParameters/{name}',
  '/requestParameters/{name}',
  '/requestTemplates/{name}',
  '/contentHandling',
  '/credentials',
  '/tlsConfig/insecureSkipVerification',
  '/connectionType',
  '/connectionId',
  '/responseTransferMode',
];
const AUTHORIZER_PATHS = [
  '/name',
  '/type',
  '/authorizerUri',
  '/identitySource',
  '/identityValidationExpression',
  '/authorizerResultTtlInSeconds',
  '/authType',
  '/providerARNs/{arn}',
];
const API_KEY_PATHS = ['/name', '/description', '/enabled', '/customerId', '/stages'];
const USAGE_PLAN_PATHS = [
  '/name',
  '/description',
  '/throttle/burstLimit',
  '/throttle/rateLimit',
  '/quota/limit',
  '/quota/period',
  '/quota/offset',
  '/throttle',
  '/quota',
  '/apiStages',
];

// InvokeWithResponseStream (STREAM integrations) has its own API date and action.
const LAMBDA_URI =
  /^arn:aws:apigateway:[^:]+:lambda:path\/(2015-03-31\/functions\/.+\/invocations|2021-11-15\/functions\/.+\/response-streaming-invocations)$/;
const AWS_URI = /^arn:aws:apigateway:[^:]*:[a-z0-9-]+:(path|action)\/.+$/;
const PASSTHROUGH = ['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER'];

/** An integration's URI as its type needs it: an http(s) URL, a service ARN for AWS, a Lambda invocation ARN for AWS_PROXY. */
/** PutIntegration's `tlsConfig`: `{insecureSkipVerification: boolean}` (absent: false). */
function tlsConfigOf(v: unknown): { insecureSkipVerification: boolean } {
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.badRequest('Invalid tlsConfig');
  const skip = (v as Input).insecureSkipVerification ?? false;
  if (typeof skip !== 'boolean') throw errors.badRequest('Invalid value for insecureSkipVerification');
  return { insecureSkipVerification: skip };
}

const STAGE_VARIABLE_ONLY = /^\$\{stageVariables\.[A-Za-z0-9_]+\}$/;

/** A private integration (`connectionType` VPC_LINK) is an HTTP or HTTP_PROXY one with a `connectionId`. */
function checkConnection(rec: IntegrationRecord): void {
  const type = rec.connectionType;
  if (type === undefined) return;
  if (type !== 'INTERNET' && type !== 'VPC_LINK')
    throw errors.badRequest(`Invalid connection type specified: ${type}. Must be one of INTERNET, VPC_LINK`);
  if (type === 'INTERNET') {
    if (rec.connectionId) throw errors.badRequest('ConnectionId cannot be set for connection type INTERNET');
    return;
  }
  if (rec.type !== 'HTTP' && rec.type !== 'HTTP_PROXY')
    throw errors.badRequest(
      'VPC_LINK connection type is only supported for HTTP and HTTP_PROXY integrations',
    );
  if (!rec.connectionId) throw errors.badRequest('ConnectionId is required for connection type VPC_LINK');
}

function checkIntegrationUri(type: string, uri: string): string {
  if (type === 'HTTP' || type === 'HTTP_PROXY') {
    let url: URL | undefined;
    try {
      // Stage variables may stand for parts of the URL; they are filled in when the request is served.
      url = new URL(uri.replace(/\$\{stageVariables\.[A-Za-z0-9_]+\}/g, 'x'));
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw errors.badRequest('Invalid HTTP endpoint specified for URI');
    return uri;
  }
  if (!AWS_URI.test(uri)) throw errors.badRequest('AWS ARN for integration must contain path or action');
  if (type === 'AWS_PROXY' && !LAMBDA_URI.test(uri))
    throw errors.badRequest(
      "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations.",
    );
  return uri;
}

const MAPPING_TARGET =
  /^integration\.request\.(header|querystring|path|multivaluequerystring|multivalueheader)\.[^.\s][^\s]*$/;
const MAPPING_SOURCE =
  /^('[^']*'|method\.request\.(header|querystring|path|multivaluequerystring|multivalueheader)\.[^\s]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$/;

function checkIntegrationParameter(target: string, source: string): void {
  if (!MAPPING_TARGET.test(target))
    throw errors.badRequest(
      `Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: ${target}]`,
    );
  if (!MAPPING_SOURCE.test(source.trim()))
    throw errors.badRequest(
      `Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: ${source}]`,
    );
}

/**
 * responseTransferMode: BUFFERED or STREAM, and STREAM only for the proxy integrations (the
 * others' integration responses need the whole answer).
 */
function checkTransferMode(rec: IntegrationRecord): void {
  const mode = rec.responseTransferMode;
  if (mode === undefined) return;
  if (mode !== 'BUFFERED' && mode !== 'STREAM')
    throw errors.badRequest(
      `Invalid response transfer mode specified: ${mode}. Must be one of BUFFERED, STREAM`,
    );
  if (mode === 'STREAM' && rec.type !== 'HTTP_PROXY' && rec.type !== 'AWS_PROXY')
    throw errors.badRequest(
      'Response transfer mode STREAM is only supported for HTTP_PROXY and AWS_PROXY integrations',
    );
}

function checkContentHandling(v: string): string {
  if (v !== 'CONVERT_TO_TEXT' && v !== 'CONVERT_TO_BINARY')
    throw errors.badRequest(`Invalid content handling specified: ${v}`);
  return v;
}

const PATH_PART = /^(\{[A-Za-z0-9_.-]+\+?\}|[A-Za-z0-9._~:@!$&'()*,;=-]+)$/;

export class RestEngine {
  private readonly listeners = new Set<(apiId: string) => void>();
  private readonly usage: UsageMeter;
  /** The account-level throttle GetAccount and method settings report. */
  private readonly account: AccountLimits;

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      /** The account-level throttle GetAccount and stage method settings report (default AWS's). */
      accountLimits?: AccountLimits;
      /** WebSocket APIs (apigatewayv2), whose stages usage plans may name too. */
      webSocketStages?: (apiId: string) => Promise<{ scope: Scope; stages: string[] } | undefined>;
      /** Does this VPC link (v1) exist? (private integrations name one; absent: none does) */
      vpcLinkExists?: (scope: Scope, id: string) => Promise<boolean>;
    },
  ) {
    this.usage = new UsageMeter(deps);
    this.account = deps.accountLimits ?? { rate: ACCOUNT_RATE_LIMIT, burst: ACCOUNT_BURST_LIMIT };
  }

  onChange(listener: (apiId: string) => void): void {
    this.listeners.add(listener);
  }

  private nowSec(): number {
    return Math.floor(this.deps.clock.now() / 1000);
  }

  /** The account and stages of a REST API or a WebSocket API, as usage plans name them. */
  private async plannableStages(apiId: string): Promise<{ scope: Scope; stages: string[] } | undefined> {
    const found = await this.findApi(apiId);
    if (found) return { scope: found.scope, stages: found.api.stages.map((x) => x.stageName) };
    return this.deps.webSocketStages?.(apiId);
  }

  async findApi(apiId: string): Promise<{ scope: Scope; api: RestApiRecord } | undefined> {
    const scope = await this.deps.store.get<Scope>(COLLECTION_REST_API_IDS, apiId);
    if (!scope) return undefined;
    const api = await this.deps.store.get<RestApiRecord>(COLLECTION_REST_APIS, scopedKey(scope, apiId));
    return api ? { scope, api } : undefined;
  }

  private async record(scope: Scope, apiId: string): Promise<RestApiRecord> {
    const staged = stagedRecord<RestApiRecord>(scope, apiId);
    if (staged) return staged;
    const api = await this.deps.store.get<RestApiRecord>(COLLECTION_REST_APIS, scopedKey(scope, apiId));
    if (!api) throw errors.apiNotFound(scope, apiId);
    return api;
  }

  /** The API's whole record (within `staged`, the working copy). */
  readRecord(scope: Scope, apiId: string): Promise<RestApiRecord> {
    return this.record(scope, apiId);
  }

  /**
   * Runs `fn` with a scope whose changes to the API go to a copy of its record, then stores the
   * copy in one transaction; when `fn` throws nothing is stored. An import makes hundreds of
   * changes: one write of the record instead of one per change (each rewrote the whole record).
   */
  async staged<T>(scope: Scope, apiId: string, fn: (staged: Scope) => Promise<T>): Promise<T> {
    const api = structuredClone(await this.record(scope, apiId));
    const out = await fn(stage(scope, apiId, api));
    await this.mutate(scope, apiId, (cur) => replaceRecord(cur, api));
    return out;
  }

  private async mutate<T>(scope: Scope, apiId: string, fn: (api: RestApiRecord) => T): Promise<T> {
    const staged = stagedRecord<RestApiRecord>(scope, apiId);
    if (staged) return fn(staged);
    const out = await this.deps.store.transaction(async (tx) => {
      const api = await tx.get<RestApiRecord>(COLLECTION_REST_APIS, scopedKey(scope, apiId));
      if (!api) throw errors.apiNotFound(scope, apiId);
      const r = fn(api);
      api.generation++;
      await tx.put(COLLECTION_REST_APIS, scopedKey(scope, apiId), api);
      return r;
    });
    for (const l of this.listeners) l(apiId);
    return out;
  }

  // ------------------------------------------------------------------ REST APIs

  apiView(api: RestApiRecord): Input {
    const out: Input = {
      id: api.id,
      name: api.name,
      createdDate: api.createdDate,
      apiKeySource: api.apiKeySource,
      endpointConfiguration: api.endpointConfiguration,
      disableExecuteApiEndpoint: api.disableExecuteApiEndpoint,
      rootResourceId: api.rootResourceId,
    };
    if (api.description !== undefined) out.description = api.description;
    if (api.binaryMediaTypes?.length) out.binaryMediaTypes = api.binaryMediaTypes;
    if (api.version !== undefined) out.version = api.version;
    if (api.minimumCompressionSize !== undefined) out.minimumCompressionSize = api.minimumCompressionSize;
    if (api.policy !== undefined) out.policy = api.policy;
    if (Object.keys(api.tags).length) out.tags = api.tags;
    return out;
  }

  async createRestApi(scope: Scope, input: Input): Promise<Input> {
    if (typeof input.name !== 'string' || !input.name)
      throw errors.badRequest('Invalid REST API name specified');
    const id = shortId(10);
    const root = shortId(10);
    const api: RestApiRecord = {
      id,
      name: input.name,
      createdDate: this.nowSec(),
      apiKeySource: input.apiKeySource === 'AUTHORIZER' ? 'AUTHORIZER' : 'HEADER',
      endpointConfiguration: { types: input.endpointConfiguration?.types ?? ['EDGE'] },
      disableExecuteApiEndpoint: Boolean(input.disableExecuteApiEndpoint ?? false),
      tags: strMap(input.tags, 'tags'),
      rootResourceId: root,
      resources: [{ id: root, path: '/' }],
      authorizers: [],
      deployments: [],
      stages: [],
      generation: 1,
    };
    if (input.description !== undefined) api.description = String(input.description);
    if (input.version !== undefined) api.version = String(input.version);
    if (Array.isArray(input.binaryMediaTypes)) api.binaryMediaTypes = input.binaryMediaTypes.map(String);
    if (input.policy !== undefined && input.policy !== '')
      api.policy = savedPolicy(String(input.policy), apiArnPrefix(scope.region, scope.accountId, id));
    if (input.minimumCompressionSize !== undefined) {
      const n = Number(input.minimumCompressionSize);
      if (!Number.isInteger(n) || n < 0 || n > 10485760)
        throw errors.badRequest('Invalid minimum compression size, must be between 0 and 10485760');
      api.minimumCompressionSize = n;
    }
    await this.deps.store.transaction(async (tx) => {
      await tx.put(COLLECTION_REST_APIS, scopedKey(scope, id), api);
      await tx.put(COLLECTION_REST_API_IDS, id, scope);
    });
    return this.apiView(api);
  }

  async getRestApi(scope: Scope, apiId: string): Promise<Input> {
    return this.apiView(await this.record(scope, apiId));
  }

  async getRestApis(scope: Scope, input: Input): Promise<{ items: Input[]; position?: string }> {
    const rows = await this.deps.store.scan<RestApiRecord>(COLLECTION_REST_APIS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    return page(
      rows.map((r) => this.apiView(r.value)),
      input,
    );
  }

  async deleteRestApi(scope: Scope, apiId: string): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.delete(COLLECTION_REST_APIS, scopedKey(scope, apiId))))
        throw errors.apiNotFound(scope, apiId);
      await tx.delete(COLLECTION_REST_API_IDS, apiId);
      await tx.delete(COLLECTION_REST_DOCS, scopedKey(scope, apiId));
    });
    for (const l of this.listeners) l(apiId);
  }

  async updateRestApi(scope: Scope, apiId: string, input: Input): Promise<Input> {
    return this.mutate(scope, apiId, (api) => {
      applyPatch(input, REST_API_PATHS, (op) => {
        const [head, second, third] = op.segments;
        if (op.op === 'replace' && op.segments.length === 1) {
          switch (head) {
            case 'name':
              api.name = requireValue(op);
              if (!api.name) throw errors.badRequest('Invalid REST API name specified');
              return true;
            case 'description':
              api.description = op.value ?? '';
              return true;
            case 'version':
              api.version = op.value ?? '';
              return true;
            case 'apiKeySource': {
              const v = requireValue(op);
              if (v !== 'HEADER' && v !== 'AUTHORIZER')
                throw errors.badRequest(
                  `Invalid API Key source specified: ${v}. Valid options are HEADER,AUTHORIZER`,
                );
              api.apiKeySource = v;
              return true;
            }
            case 'disableExecuteApiEndpoint':
              api.disableExecuteApiEndpoint = boolValue(op);
              return true;
            case 'minimumCompressionSize':
              if (op.value === undefined || op.value === '') delete api.minimumCompressionSize;
              else
                api.minimumCompressionSize = intValue(
                  op,
                  0,
                  10485760,
                  'Invalid minimum compression size, must be between 0 and 10485760',
                );
              return true;
            case 'policy':
              if (op.value === undefined || op.value === '') delete api.policy;
              else api.policy = savedPolicy(op.value, apiArnPrefix(scope.region, scope.accountId, apiId));
              return true;
          }
          return false;
        }
        if (
          head === 'binaryMediaTypes' &&
          op.segments.length === 2 &&
          (op.op === 'add' || op.op === 'remove')
        ) {
          const types = new Set(api.binaryMediaTypes ?? []);
          if (op.op === 'add') types.add(second);
          else types.delete(second);
          api.binaryMediaTypes = [...types];
          return true;
        }
        if (
          head === 'endpointConfiguration' &&
          second === 'types' &&
          third !== undefined &&
          op.op === 'replace'
        ) {
          const v = requireValue(op);
          if (!['EDGE', 'REGIONAL', 'PRIVATE'].includes(v))
            throw errors.badRequest(`Invalid endpoint type specified: ${v}`);
          const types = api.endpointConfiguration.types.filter((t) => t !== third);
          api.endpointConfiguration.types = [...types, v];
          return true;
        }
        return false;
      });
      return this.apiView(api);
    });
  }

  // ------------------------------------------------------------------ resources and methods

  private resource(api: RestApiRecord, id: string): ResourceRecord {
    const r = api.resources.find((x) => x.id === id);
    if (!r) throw errors.notFound('Invalid Resource identifier specified');
    return r;
  }

  async getResources(scope: Scope, apiId: string, input: Input) {
    const api = await this.record(scope, apiId);
    return page(api.resources.map(resourceView), input);
  }

  async getResource(scope: Scope, apiId: string, id: string) {
    return resourceView(this.resource(await this.record(scope, apiId), id));
  }

  async createResource(scope: Scope, apiId: string, parentId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const parent = api.resources.find((x) => x.id === parentId);
      if (!parent) throw errors.notFound('Invalid Resource identifier specified');
      const part = input.pathPart;
      if (typeof part !== 'string' || !PATH_PART.test(part))
        throw errors.badRequest(
          "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
        );
      if (/\{.*\+\}/.test(parent.path))
        throw errors.badRequest('A sub-resource cannot be created for a greedy path variable resource.');
      const siblings = api.resources.filter((x) => x.parentId === parentId);
      if (siblings.some((s) => s.pathPart === part))
        throw errors.conflict(`Another resource with the same parent already has this name: ${part}`);
      if (part.startsWith('{') && siblings.some((s) => s.pathPart?.startsWith('{')))
        throw errors.badRequest(
          `A sibling (${siblings.find((s) => s.pathPart?.startsWith('{'))!.pathPart}) of this resource already has a variable path part -- only one is allowed`,
        );
      const r: ResourceRecord = {
        id: shortId(6),
        parentId,
        pathPart: part,
        path: parent.path === '/' ? `/${part}` : `${parent.path}/${part}`,
      };
      api.resources.push(r);
      return resourceView(r);
    });
  }

  async deleteResource(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const r = this.resource(api, id);
      if (r.id === api.rootResourceId) throw errors.badRequest('Cannot delete root resource');
      const gone = new Set([id]);
      for (let grew = true; grew;) {
        grew = false;
        for (const x of api.resources)
          if (x.parentId && gone.has(x.parentId) && !gone.has(x.id)) {
            gone.add(x.id);
            grew = true;
          }
      }
      api.resources = api.resources.filter((x) => !gone.has(x.id));
    });
  }

  async updateResource(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const r = this.resource(api, id);
      if (r.id === api.rootResourceId) throw errors.badRequest('Root resource cannot be updated');
      applyPatch(input, RESOURCE_PATHS, (op) => {
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        if (op.path === '/pathPart') {
          const part = requireValue(op);
          if (!PATH_PART.test(part))
            throw errors.badRequest(
              "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.",
            );
          if (api.resources.some((x) => x.parentId === r.parentId && x.id !== r.id && x.pathPart === part))
            throw errors.conflict(`Another resource with the same parent already has this name: ${part}`);
          r.pathPart = part;
          return true;
        }
        if (op.path === '/parentId') {
          const parent = api.resources.find((x) => x.id === op.value);
          if (!parent) throw errors.notFound('Invalid Resource identifier specified');
          for (
            let p: ResourceRecord | undefined = parent;
            p;
            p = api.resources.find((x) => x.id === p!.parentId)
          )
            if (p.id === r.id) throw errors.badRequest('A resource cannot be moved under itself');
          if (api.resources.some((x) => x.parentId === parent.id && x.pathPart === r.pathPart))
            throw errors.conflict(
              `Another resource with the same parent already has this name: ${r.pathPart}`,
            );
          r.parentId = parent.id;
          return true;
        }
        return false;
      });
      // Paths of the resource and its descendants follow the new name or parent.
      const fix = (parent: ResourceRecord) => {
        for (const c of api.resources.filter((x) => x.parentId === parent.id)) {
          c.path = parent.path === '/' ? `/${c.pathPart}` : `${parent.path}/${c.pathPart}`;
          fix(c);
        }
      };
      fix(api.resources.find((x) => x.id === api.rootResourceId)!);
      return resourceView(r);
    });
  }

  async putMethod(scope: Scope, apiId: string, resourceId: string, httpMethod: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const r = this.resource(api, resourceId);
      const m = httpMethod.toUpperCase();
      if (!HTTP_METHODS.includes(m))
        throw errors.badRequest(
          'Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY',
        );
      const authorizationType = String(input.authorizationType ?? '');
      if (!['NONE', 'CUSTOM', 'AWS_IAM', 'COGNITO_USER_POOLS'].includes(authorizationType))
        throw errors.badRequest(
          'Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS',
        );
      const rec: MethodRecord = {
        httpMethod: m,
        authorizationType,
        apiKeyRequired: Boolean(input.apiKeyRequired ?? false),
      };
      if (authorizationType === 'CUSTOM' || authorizationType === 'COGNITO_USER_POOLS') {
        if (!input.authorizerId || !api.authorizers.some((a) => a.id === input.authorizerId))
          throw errors.badRequest(
            'Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.',
          );
        rec.authorizerId = String(input.authorizerId);
      }
      if (input.operationName !== undefined) rec.operationName = String(input.operationName);
      if (Array.isArray(input.authorizationScopes))
        rec.authorizationScopes = input.authorizationScopes.map(String);
      if (input.requestParameters) rec.requestParameters = input.requestParameters;
      if (input.requestValidatorId)
        rec.requestValidatorId = validatorOf(api, String(input.requestValidatorId), true).id;
      if (input.requestModels !== undefined) {
        rec.requestModels = strMap(input.requestModels, 'requestModels');
        for (const name of Object.values(rec.requestModels)) modelOf(api, name, true);
      }
      r.resourceMethods = { ...(r.resourceMethods ?? {}), [m]: rec };
      return methodView(rec);
    });
  }

  private method(api: RestApiRecord, resourceId: string, httpMethod: string): MethodRecord {
    const m = this.resource(api, resourceId).resourceMethods?.[httpMethod.toUpperCase()];
    if (!m) throw errors.notFound('Invalid Method identifier specified');
    return m;
  }

  async getMethod(scope: Scope, apiId: string, resourceId: string, httpMethod: string) {
    return methodView(this.method(await this.record(scope, apiId), resourceId, httpMethod));
  }

  async deleteMethod(scope: Scope, apiId: string, resourceId: string, httpMethod: string) {
    await this.mutate(scope, apiId, (api) => {
      this.method(api, resourceId, httpMethod);
      delete this.resource(api, resourceId).resourceMethods![httpMethod.toUpperCase()];
    });
  }

  async updateMethod(scope: Scope, apiId: string, resourceId: string, httpMethod: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const m = this.method(api, resourceId, httpMethod);
      applyPatch(input, METHOD_PATHS, (op) => {
        const [head, name] = op.segments;
        if (head === 'requestParameters' && name !== undefined && op.segments.length === 2) {
          const next = patchEntry(m.requestParameters, op, name, () => op.value === 'true');
          if (next === false) return false;
          m.requestParameters = next;
          return true;
        }
        if (head === 'requestModels' && name !== undefined && op.segments.length === 2) {
          const next = patchEntry(m.requestModels, op, name, () => modelOf(api, requireValue(op), true).name);
          if (next === false) return false;
          m.requestModels = next;
          return true;
        }
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        switch (head) {
          case 'requestValidatorId':
            if (op.value) m.requestValidatorId = validatorOf(api, op.value, true).id;
            else delete m.requestValidatorId;
            return true;
          case 'authorizationType': {
            const v = requireValue(op);
            if (!['NONE', 'CUSTOM', 'AWS_IAM', 'COGNITO_USER_POOLS'].includes(v))
              throw errors.badRequest(
                'Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS',
              );
            m.authorizationType = v;
            if (v === 'NONE' || v === 'AWS_IAM') delete m.authorizerId;
            return true;
          }
          case 'authorizerId':
            if (!op.value) delete m.authorizerId;
            else {
              if (!api.authorizers.some((a) => a.id === op.value))
                throw errors.badRequest('Invalid authorizer ID specified');
              m.authorizerId = op.value;
            }
            return true;
          case 'apiKeyRequired':
            m.apiKeyRequired = boolValue(op);
            return true;
          case 'operationName':
            if (op.value) m.operationName = op.value;
            else delete m.operationName;
            return true;
          case 'authorizationScopes':
            m.authorizationScopes = op.value ? op.value.split(',').map((x) => x.trim()) : [];
            return true;
        }
        return false;
      });
      if (
        (m.authorizationType === 'CUSTOM' || m.authorizationType === 'COGNITO_USER_POOLS') &&
        !m.authorizerId
      )
        throw errors.badRequest(
          'Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.',
        );
      return methodView(m);
    });
  }

  /** A private integration's VPC link must exist (unless a stage variable names it). */
  private async checkVpcLink(scope: Scope, id: unknown): Promise<void> {
    if (typeof id !== 'string' || !id || STAGE_VARIABLE_ONLY.test(id)) return;
    if (!(await this.deps.vpcLinkExists?.(scope, id)))
      throw errors.notFound('Invalid VPC link identifier specified');
  }

  async putIntegration(scope: Scope, apiId: string, resourceId: string, httpMethod: string, input: Input) {
    if (input.connectionType === 'VPC_LINK') await this.checkVpcLink(scope, input.connectionId);
    return this.mutate(scope, apiId, (api) => {
      const m = this.method(api, resourceId, httpMethod);
      const type = String(input.type ?? '');
      if (!['AWS_PROXY', 'AWS', 'HTTP', 'HTTP_PROXY', 'MOCK'].includes(type))
        throw errors.badRequest('Invalid integration type specified');
      const timeout = input.timeoutInMillis === undefined ? 29000 : Number(input.timeoutInMillis);
      if (!Number.isInteger(timeout) || timeout < 50 || timeout > 29000)
        throw errors.badRequest('Timeout should be between 50 ms and 29000 ms');
      const passthrough = String(input.passthroughBehavior ?? 'WHEN_NO_MATCH');
      if (!PASSTHROUGH.includes(passthrough))
        throw errors.badRequest(`Invalid passthrough behavior specified: ${passthrough}`);
      const rec: IntegrationRecord = {
        type,
        passthroughBehavior: passthrough,
        timeoutInMillis: timeout,
        cacheNamespace: String(input.cacheNamespace ?? resourceId),
        cacheKeyParameters: Array.isArray(input.cacheKeyParameters) ? input.cacheKeyParameters : [],
      };
      if (type !== 'MOCK') {
        if (!input.httpMethod) throw errors.badRequest('Enumeration value for HttpMethod must be non-empty');
        rec.httpMethod = String(input.httpMethod);
        rec.uri = checkIntegrationUri(type, String(input.uri ?? ''));
      }
      if (input.requestTemplates !== undefined)
        rec.requestTemplates = strMap(input.requestTemplates, 'requestTemplates');
      if (input.requestParameters !== undefined) {
        rec.requestParameters = strMap(input.requestParameters, 'requestParameters');
        for (const [k, v] of Object.entries(rec.requestParameters)) checkIntegrationParameter(k, v);
      }
      if (input.contentHandling !== undefined && input.contentHandling !== null)
        rec.contentHandling = checkContentHandling(String(input.contentHandling));
      if (input.credentials) rec.credentials = String(input.credentials);
      if (input.tlsConfig !== undefined && input.tlsConfig !== null)
        rec.tlsConfig = tlsConfigOf(input.tlsConfig);
      if (input.connectionType !== undefined && input.connectionType !== null)
        rec.connectionType = String(input.connectionType);
      if (input.connectionId !== undefined && input.connectionId !== null)
        rec.connectionId = String(input.connectionId);
      if (input.responseTransferMode !== undefined && input.responseTransferMode !== null)
        rec.responseTransferMode = String(input.responseTransferMode);
      checkConnection(rec);
      checkTransferMode(rec);
      m.methodIntegration = rec;
      return structuredClone(rec) as Input;
    });
  }

  async getIntegration(scope: Scope, apiId: string, resourceId: string, httpMethod: string) {
    const m = this.method(await this.record(scope, apiId), resourceId, httpMethod);
    if (!m.methodIntegration) throw errors.notFound('No integration defined for method');
    return structuredClone(m.methodIntegration) as Input;
  }

  async updateIntegration(scope: Scope, apiId: string, resourceId: string, httpMethod: string, input: Input) {
    for (const op of patchOperations(input))
      if (op.path === '/connectionId' && op.op === 'replace') await this.checkVpcLink(scope, op.value);
    return this.mutate(scope, apiId, (api) => {
      const m = this.method(api, resourceId, httpMethod);
      const rec = m.methodIntegration;
      if (!rec) throw errors.notFound('No integration defined for method');
      applyPatch(input, INTEGRATION_PATHS, (op) => {
        const [head, name] = op.segments;
        if (head === 'cacheKeyParameters' && name !== undefined && op.segments.length === 2) {
          if (op.op === 'add') rec.cacheKeyParameters = [...new Set([...rec.cacheKeyParameters, name])];
          else if (op.op === 'remove')
            rec.cacheKeyParameters = rec.cacheKeyParameters.filter((k) => k !== name);
          else return false;
          return true;
        }
        if ((head === 'requestParameters' || head === 'requestTemplates') && op.segments.length === 2) {
          const map = (rec[head] ??= {});
          if (op.op === 'remove') delete map[name];
          else {
            const v = requireValue(op);
            if (head === 'requestParameters') checkIntegrationParameter(name, v);
            map[name] = v;
          }
          return true;
        }
        if (op.path === '/tlsConfig/insecureSkipVerification' && op.op === 'replace') {
          rec.tlsConfig = { insecureSkipVerification: boolValue(op) };
          return true;
        }
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        switch (head) {
          case 'connectionType':
            rec.connectionType = requireValue(op);
            if (rec.connectionType !== 'VPC_LINK') delete rec.connectionId;
            return true;
          case 'connectionId':
            rec.connectionId = requireValue(op);
            return true;
          case 'uri':
            rec.uri = checkIntegrationUri(rec.type, requireValue(op));
            return true;
          case 'credentials':
            if (op.value) rec.credentials = op.value;
            else delete rec.credentials;
            return true;
          case 'contentHandling':
            if (op.value) rec.contentHandling = checkContentHandling(op.value);
            else delete rec.contentHandling;
            return true;
          case 'httpMethod':
            rec.httpMethod = requireValue(op);
            return true;
          case 'timeoutInMillis':
            rec.timeoutInMillis = intValue(op, 50, 29000, 'Timeout should be between 50 ms and 29000 ms');
            return true;
          case 'passthroughBehavior': {
            const v = requireValue(op);
            if (!PASSTHROUGH.includes(v))
              throw errors.badRequest(`Invalid passthrough behavior specified: ${v}`);
            rec.passthroughBehavior = v;
            return true;
          }
          case 'cacheNamespace':
            rec.cacheNamespace = requireValue(op);
            return true;
          case 'responseTransferMode':
            rec.responseTransferMode = requireValue(op);
            return true;
        }
        return false;
      });
      checkTransferMode(rec);
      checkConnection(rec);
      return structuredClone(rec) as Input;
    });
  }

  async deleteIntegration(scope: Scope, apiId: string, resourceId: string, httpMethod: string) {
    await this.mutate(scope, apiId, (api) => {
      const m = this.method(api, resourceId, httpMethod);
      if (!m.methodIntegration) throw errors.notFound('No integration defined for method');
      delete m.methodIntegration;
    });
  }

  // ------------------------------------------------------------------ method and integration responses

  async putMethodResponse(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    statusCode: string,
    input: Input,
  ) {
    return this.mutate(scope, apiId, (api) => {
      const m = this.method(api, resourceId, httpMethod);
      const rec: MethodResponseRecord = { statusCode: validStatus(statusCode) };
      if (input.responseParameters !== undefined)
        rec.responseParameters = boolMap(input.responseParameters, 'responseParameters');
      if (input.responseModels !== undefined)
        rec.responseModels = strMap(input.responseModels, 'responseModels');
      m.methodResponses = { ...(m.methodResponses ?? {}), [rec.statusCode]: rec };
      return structuredClone(rec) as Input;
    });
  }

  async putIntegrationResponse(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    statusCode: string,
    input: Input,
  ) {
    return this.mutate(scope, apiId, (api) => {
      const integ = this.method(api, resourceId, httpMethod).methodIntegration;
      if (!integ) throw errors.notFound('No integration defined for method');
      const rec: IntegrationResponseRecord = { statusCode: validStatus(statusCode) };
      if (input.selectionPattern !== undefined && input.selectionPattern !== null)
        rec.selectionPattern = validPattern(String(input.selectionPattern));
      if (input.responseParameters !== undefined)
        rec.responseParameters = strMap(input.responseParameters, 'responseParameters');
      if (input.responseTemplates !== undefined)
        rec.responseTemplates = strMap(input.responseTemplates, 'responseTemplates');
      if (input.contentHandling !== undefined) rec.contentHandling = String(input.contentHandling);
      integ.integrationResponses = { ...(integ.integrationResponses ?? {}), [rec.statusCode]: rec };
      return structuredClone(rec) as Input;
    });
  }

  /** The method's (`method`) or its integration's (`integration`) responses, by status code. */
  private responses(api: RestApiRecord, resourceId: string, httpMethod: string, kind: ResponseKind) {
    const m = this.method(api, resourceId, httpMethod);
    return kind === 'method' ? m.methodResponses : m.methodIntegration?.integrationResponses;
  }

  /**
   * UpdateMethodResponse (`/responseParameters/{name}`, `/responseModels/{type}`) and
   * UpdateIntegrationResponse (`/selectionPattern`, `/contentHandling`, `/responseParameters/{name}`,
   * `/responseTemplates/{type}`).
   */
  async updateResponse(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    kind: ResponseKind,
    code: string,
    input: Input,
  ) {
    return this.mutate(scope, apiId, (api) => {
      const rec = this.responses(api, resourceId, httpMethod, kind)?.[code] as
        (MethodResponseRecord & IntegrationResponseRecord) | undefined;
      if (!rec) throw errors.notFound('Invalid Response status code specified');
      const maps =
        kind === 'method'
          ? (['responseParameters', 'responseModels'] as const)
          : (['responseParameters', 'responseTemplates'] as const);
      const scalars = kind === 'method' ? [] : (['selectionPattern', 'contentHandling'] as const);
      const paths = [...maps.map((m) => `/${m}/{name}`), ...scalars.map((x) => `/${x}`)];
      applyPatch(input, paths, (op) => {
        const [head, name] = op.segments;
        if ((maps as readonly string[]).includes(head) && name !== undefined && op.segments.length === 2) {
          const fields = rec as unknown as Record<string, Record<string, unknown> | undefined>;
          const next = patchEntry({ ...(fields[head] ?? {}) }, op, name, () =>
            kind === 'method' && head === 'responseParameters' ? op.value === 'true' : requireValue(op),
          );
          if (next === false) return false;
          fields[head] = next;
          return true;
        }
        if (
          (scalars as readonly string[]).includes(head) &&
          op.segments.length === 1 &&
          op.op === 'replace'
        ) {
          if (head === 'selectionPattern') {
            if (op.value) rec.selectionPattern = validPattern(op.value);
            else delete rec.selectionPattern;
          } else rec.contentHandling = requireValue(op);
          return true;
        }
        return false;
      });
      return structuredClone(rec) as Input;
    });
  }

  async getResponse(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    kind: ResponseKind,
    code: string,
  ) {
    const rec = this.responses(await this.record(scope, apiId), resourceId, httpMethod, kind)?.[code];
    if (!rec) throw errors.notFound('Invalid Response status code specified');
    return structuredClone(rec) as Input;
  }

  async deleteResponse(
    scope: Scope,
    apiId: string,
    resourceId: string,
    httpMethod: string,
    kind: ResponseKind,
    code: string,
  ) {
    await this.mutate(scope, apiId, (api) => {
      const map = this.responses(api, resourceId, httpMethod, kind);
      if (!map?.[code]) throw errors.notFound('Invalid Response status code specified');
      delete map[code];
    });
  }

  // ------------------------------------------------------------------ models and request validators

  async createModel(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const name = String(input.name ?? '');
      if (!/^[A-Za-z0-9]+$/.test(name))
        throw errors.badRequest('Model name must be non-empty and alphanumeric');
      if (BUILT_IN_MODELS.includes(name) || api.models?.some((x) => x.name === name))
        throw errors.conflict('Model name already exists for this REST API');
      if (input.contentType === undefined || input.contentType === null || input.contentType === '')
        throw errors.badRequest('Content type must be non-empty');
      const rec: ModelRecord = { id: shortId(6), name, contentType: String(input.contentType) };
      if (input.description !== undefined) rec.description = String(input.description);
      if (input.schema !== undefined && input.schema !== null) rec.schema = validSchema(String(input.schema));
      api.models = [...(api.models ?? []), rec];
      return modelView(rec);
    });
  }

  async getModel(scope: Scope, apiId: string, name: string) {
    return modelView(modelOf(await this.record(scope, apiId), name));
  }

  async getModels(scope: Scope, apiId: string) {
    const api = await this.record(scope, apiId);
    return [...BUILT_IN_MODELS.map((n) => builtInModel(n)), ...(api.models ?? [])].map(modelView);
  }

  async updateModel(scope: Scope, apiId: string, name: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const rec = api.models?.find((x) => x.name === name);
      if (!rec) {
        modelOf(api, name);
        throw errors.badRequest(`Model ${name} is a built-in model and cannot be changed`);
      }
      applyPatch(input, ['/schema', '/description'], (op) => {
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        if (op.segments[0] === 'schema') rec.schema = validSchema(requireValue(op));
        else if (op.segments[0] === 'description') rec.description = op.value ?? '';
        else return false;
        return true;
      });
      return modelView(rec);
    });
  }

  async deleteModel(scope: Scope, apiId: string, name: string) {
    await this.mutate(scope, apiId, (api) => {
      modelOf(api, name);
      const user = methodWhere(api, (m) => Object.values(m.requestModels ?? {}).includes(name));
      if (user)
        throw errors.conflict(
          `Cannot delete model '${name}', is referenced in method request: ${user.m.httpMethod}/${user.r.path}`,
        );
      api.models = (api.models ?? []).filter((x) => x.name !== name);
    });
  }

  async createRequestValidator(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const rec: RequestValidatorRecord = {
        id: shortId(6),
        name: String(input.name ?? ''),
        validateRequestBody: input.validateRequestBody === true,
        validateRequestParameters: input.validateRequestParameters === true,
      };
      api.requestValidators = [...(api.requestValidators ?? []), rec];
      return { ...rec };
    });
  }

  async getRequestValidator(scope: Scope, apiId: string, id: string) {
    return { ...validatorOf(await this.record(scope, apiId), id) };
  }

  async getRequestValidators(scope: Scope, apiId: string) {
    return ((await this.record(scope, apiId)).requestValidators ?? []).map((v) => ({ ...v }));
  }

  async updateRequestValidator(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const rec = validatorOf(api, id);
      applyPatch(input, ['/name', '/validateRequestBody', '/validateRequestParameters'], (op) => {
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        const [head] = op.segments;
        if (head === 'name') rec.name = requireValue(op);
        else if (head === 'validateRequestBody' || head === 'validateRequestParameters')
          rec[head] = boolValue(op);
        else return false;
        return true;
      });
      return { ...rec };
    });
  }

  async deleteRequestValidator(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      validatorOf(api, id);
      const user = methodWhere(api, (m) => m.requestValidatorId === id);
      if (user)
        throw errors.conflict(
          `Cannot delete request validator '${id}', is referenced in method: ${user.m.httpMethod}/${user.r.path}`,
        );
      api.requestValidators = api.requestValidators!.filter((v) => v.id !== id);
    });
  }

  // ------------------------------------------------------------------ gateway responses

  async putGatewayResponse(scope: Scope, apiId: string, type: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const rec: GatewayResponseRecord = { responseType: validResponseType(type) };
      if (input.statusCode !== undefined && input.statusCode !== null)
        rec.statusCode = validStatus(String(input.statusCode));
      if (input.responseParameters !== undefined)
        rec.responseParameters = strMap(input.responseParameters, 'responseParameters');
      if (input.responseTemplates !== undefined)
        rec.responseTemplates = strMap(input.responseTemplates, 'responseTemplates');
      api.gatewayResponses = { ...(api.gatewayResponses ?? {}), [type]: rec };
      return gatewayResponseView(type, rec);
    });
  }

  async getGatewayResponse(scope: Scope, apiId: string, type: string) {
    const api = await this.record(scope, apiId);
    return gatewayResponseView(validResponseType(type), api.gatewayResponses?.[type]);
  }

  /** Every response type: the customised ones and AWS's defaults (`defaultResponse: true`). */
  async getGatewayResponses(scope: Scope, apiId: string) {
    const api = await this.record(scope, apiId);
    return GATEWAY_RESPONSE_TYPES.map((t) => gatewayResponseView(t, api.gatewayResponses?.[t]));
  }

  async updateGatewayResponse(scope: Scope, apiId: string, type: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      validResponseType(type);
      const rec: GatewayResponseRecord = structuredClone(api.gatewayResponses?.[type]) ?? {
        responseType: type,
      };
      applyPatch(input, GATEWAY_RESPONSE_PATHS, (op) => {
        const [head, name] = op.segments;
        if (head === 'statusCode' && op.segments.length === 1) {
          if (op.op === 'remove') delete rec.statusCode;
          else if (op.op === 'replace' || op.op === 'add') rec.statusCode = validStatus(requireValue(op));
          else return false;
          return true;
        }
        if ((head === 'responseParameters' || head === 'responseTemplates') && name !== undefined) {
          const next = patchEntry({ ...(rec[head] ?? {}) }, op, name, () => requireValue(op));
          if (next === false) return false;
          rec[head] = next;
          return true;
        }
        return false;
      });
      api.gatewayResponses = { ...(api.gatewayResponses ?? {}), [type]: rec };
      return gatewayResponseView(type, rec);
    });
  }

  async deleteGatewayResponse(scope: Scope, apiId: string, type: string) {
    await this.mutate(scope, apiId, (api) => {
      validResponseType(type);
      if (!api.gatewayResponses?.[type])
        throw errors.notFound('Invalid Gateway Response identifier specified');
      delete api.gatewayResponses[type];
    });
  }

  // ------------------------------------------------------------------ authorizers

  async createAuthorizer(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const type = String(input.type ?? '');
      if (!['TOKEN', 'REQUEST', 'COGNITO_USER_POOLS'].includes(type))
        throw errors.badRequest('Invalid authorizer type specified');
      if (typeof input.name !== 'string' || !input.name)
        throw errors.badRequest('Authorizer name must be non-empty');
      if (type !== 'COGNITO_USER_POOLS' && !input.authorizerUri)
        throw errors.badRequest('Authorizer URI must be specified');
      let identitySource = input.identitySource as string | undefined;
      if (type === 'TOKEN') {
        identitySource ??= 'method.request.header.Authorization';
        if (!/^method\.request\.header\.[^,\s]+$/.test(identitySource))
          throw errors.badRequest(`Invalid identity source specified: ${identitySource}`);
      }
      const ttl =
        input.authorizerResultTtlInSeconds === undefined ? 300 : Number(input.authorizerResultTtlInSeconds);
      if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600)
        throw errors.badRequest('Invalid authorizer TTL specified. Must be between 0 and 3600 seconds');
      if (type === 'REQUEST' && ttl > 0 && !identitySource)
        throw errors.badRequest('Identity source must be specified when caching is enabled');
      const rec: RestAuthorizerRecord = {
        id: shortId(6),
        name: input.name,
        type: type as RestAuthorizerRecord['type'],
        authorizerResultTtlInSeconds: ttl,
      };
      if (input.authorizerUri) rec.authorizerUri = String(input.authorizerUri);
      if (identitySource) rec.identitySource = identitySource;
      if (input.identityValidationExpression)
        rec.identityValidationExpression = String(input.identityValidationExpression);
      if (input.authType) rec.authType = String(input.authType);
      if (input.providerARNs) rec.providerARNs = input.providerARNs;
      api.authorizers.push(rec);
      return structuredClone(rec) as Input;
    });
  }

  async getAuthorizers(scope: Scope, apiId: string, input: Input) {
    return page((await this.record(scope, apiId)).authorizers, input);
  }

  async getAuthorizer(scope: Scope, apiId: string, id: string) {
    const a = (await this.record(scope, apiId)).authorizers.find((x) => x.id === id);
    if (!a) throw errors.notFound('Invalid authorizer identifier specified');
    return a;
  }

  async updateAuthorizer(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const a = api.authorizers.find((x) => x.id === id);
      if (!a) throw errors.notFound('Invalid authorizer identifier specified');
      applyPatch(input, AUTHORIZER_PATHS, (op) => {
        const [head, arn] = op.segments;
        if (head === 'providerARNs' && op.segments.length === 2 && arn !== undefined) {
          const set = new Set(a.providerARNs ?? []);
          if (op.op === 'add') set.add(arn);
          else if (op.op === 'remove') set.delete(arn);
          else return false;
          a.providerARNs = [...set];
          return true;
        }
        if (op.op !== 'replace' || op.segments.length !== 1) return false;
        switch (head) {
          case 'name':
            a.name = requireValue(op);
            return true;
          case 'type': {
            const v = requireValue(op);
            if (!['TOKEN', 'REQUEST', 'COGNITO_USER_POOLS'].includes(v))
              throw errors.badRequest('Invalid authorizer type specified');
            a.type = v as RestAuthorizerRecord['type'];
            return true;
          }
          case 'authorizerUri':
            a.authorizerUri = requireValue(op);
            return true;
          case 'identitySource':
            if (op.value) a.identitySource = op.value;
            else delete a.identitySource;
            return true;
          case 'identityValidationExpression':
            if (op.value) a.identityValidationExpression = op.value;
            else delete a.identityValidationExpression;
            return true;
          case 'authorizerResultTtlInSeconds':
            a.authorizerResultTtlInSeconds = intValue(
              op,
              0,
              3600,
              'Invalid authorizer TTL specified. Must be between 0 and 3600 seconds',
            );
            return true;
          case 'authType':
            if (op.value) a.authType = op.value;
            else delete a.authType;
            return true;
        }
        return false;
      });
      if (
        a.type === 'TOKEN' &&
        a.identitySource &&
        !/^method\.request\.header\.[^,\s]+$/.test(a.identitySource)
      )
        throw errors.badRequest(`Invalid identity source specified: ${a.identitySource}`);
      return structuredClone(a) as Input;
    });
  }

  async deleteAuthorizer(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const a = api.authorizers.find((x) => x.id === id);
      if (!a) throw errors.notFound('Invalid authorizer identifier specified');
      const user = methodWhere(api, (m) => m.authorizerId === id);
      if (user)
        throw errors.conflict(
          `Cannot delete authorizer '${a.name}', is referenced in method: ${user.m.httpMethod}/${user.r.path}`,
        );
      api.authorizers = api.authorizers.filter((x) => x.id !== id);
    });
  }

  // ------------------------------------------------------------------ deployments and stages

  async createDeployment(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      if (!api.resources.some((r) => r.resourceMethods && Object.keys(r.resourceMethods).length))
        throw errors.badRequest("The REST API doesn't contain any methods");
      if (methodWhere(api, (m) => !m.methodIntegration))
        throw errors.badRequest('No integration defined for method');
      checkDeploymentStage(api, input);
      const d = {
        id: shortId(6),
        createdDate: this.nowSec(),
        snapshot: structuredClone({
          resources: api.resources,
          authorizers: api.authorizers,
          gatewayResponses: api.gatewayResponses ?? {},
          models: api.models ?? [],
          requestValidators: api.requestValidators ?? [],
          // The resource policy takes effect with the deployment, as on AWS.
          policy: api.policy,
        }),
      } as RestApiRecord['deployments'][number];
      if (input.description !== undefined) d.description = String(input.description);
      api.deployments.push(d);
      if (input.stageName) {
        const name = String(input.stageName);
        const st = api.stages.find((s) => s.stageName === name);
        if (st && input.canarySettings) {
          // A canary release deployment: the new deployment is the stage's canary, the stage keeps its own.
          st.canarySettings = canaryOf(api, { ...input.canarySettings, deploymentId: undefined }, d.id);
          st.lastUpdatedDate = this.nowSec();
        } else if (st) {
          st.deploymentId = d.id;
          st.lastUpdatedDate = this.nowSec();
          if (input.variables) st.variables = { ...st.variables, ...strMap(input.variables, 'variables') };
          // The deployment's cache settings apply to the stage it names, new or not.
          if (input.cacheClusterEnabled !== undefined)
            st.cacheClusterEnabled = Boolean(input.cacheClusterEnabled);
          if (input.cacheClusterSize !== undefined)
            st.cacheClusterSize = cacheClusterSize(input.cacheClusterSize);
        } else api.stages.push(this.newStage(name, d.id, input));
      }
      return this.deploymentView(d);
    });
  }

  private deploymentView(d: RestApiRecord['deployments'][number]): Input {
    const out: Input = { id: d.id, createdDate: d.createdDate };
    if (d.description !== undefined) out.description = d.description;
    return out;
  }

  async getDeployments(scope: Scope, apiId: string, input: Input) {
    const api = await this.record(scope, apiId);
    return page(
      api.deployments.map((d) => this.deploymentView(d)),
      input,
    );
  }

  private deployment(api: RestApiRecord, id: string): RestApiRecord['deployments'][number] {
    const d = api.deployments.find((x) => x.id === id);
    if (!d) throw errors.notFound('Invalid Deployment identifier specified');
    return d;
  }

  async getDeployment(scope: Scope, apiId: string, id: string) {
    return this.deploymentView(this.deployment(await this.record(scope, apiId), id));
  }

  async updateDeployment(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const d = this.deployment(api, id);
      applyPatch(input, ['/description'], (op) => {
        if (op.op !== 'replace' || op.path !== '/description') return false;
        d.description = op.value ?? '';
        return true;
      });
      return this.deploymentView(d);
    });
  }

  async deleteDeployment(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      this.deployment(api, id);
      if (api.stages.some((s) => s.deploymentId === id || s.canarySettings?.deploymentId === id))
        throw errors.badRequest('Active stages pointing to this deployment must be moved or deleted');
      api.deployments = api.deployments.filter((x) => x.id !== id);
    });
  }

  private newStage(name: string, deploymentId: string, input: Input): RestStageRecord {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) throw errors.badRequest('Stage name only allows a-zA-Z0-9_');
    const now = this.nowSec();
    const st: RestStageRecord = {
      stageName: name,
      deploymentId,
      variables: strMap(input.variables, 'variables'),
      createdDate: now,
      lastUpdatedDate: now,
      cacheClusterEnabled: Boolean(input.cacheClusterEnabled ?? false),
      tracingEnabled: Boolean(input.tracingEnabled ?? false),
      methodSettings: {},
      tags: strMap(input.tags, 'tags'),
    };
    for (const v of Object.keys(st.variables))
      if (!/^[A-Za-z0-9_]+$/.test(v)) throw errors.badRequest('Stage variable name only allows a-zA-Z0-9_');
    if (input.cacheClusterSize !== undefined) st.cacheClusterSize = cacheClusterSize(input.cacheClusterSize);
    if (input.stageDescription ?? input.description)
      st.description = String(input.stageDescription ?? input.description);
    if (input.documentationVersion) st.documentationVersion = String(input.documentationVersion);
    return st;
  }

  stageView(st: RestStageRecord): Input {
    const out: Input = {
      stageName: st.stageName,
      deploymentId: st.deploymentId,
      cacheClusterEnabled: st.cacheClusterEnabled,
      // The API cache is ready at once: an enabled cache cluster reports AVAILABLE, as AWS once it is built.
      cacheClusterStatus: st.cacheClusterEnabled ? 'AVAILABLE' : 'NOT_AVAILABLE',
      methodSettings: Object.fromEntries(
        Object.entries(st.methodSettings).map(([k, v]) => [
          k,
          methodSettingsView(v as Record<string, unknown>, this.account),
        ]),
      ),
      tracingEnabled: st.tracingEnabled,
      createdDate: st.createdDate,
      lastUpdatedDate: st.lastUpdatedDate,
    };
    if (Object.keys(st.variables).length) out.variables = st.variables;
    if (st.description !== undefined) out.description = st.description;
    if (st.accessLogSettings) out.accessLogSettings = st.accessLogSettings;
    if (st.cacheClusterEnabled) out.cacheClusterSize = st.cacheClusterSize ?? '0.5';
    if (st.clientCertificateId) out.clientCertificateId = st.clientCertificateId;
    if (st.documentationVersion) out.documentationVersion = st.documentationVersion;
    if (st.canarySettings) out.canarySettings = canaryView(st.canarySettings);
    if (Object.keys(st.tags).length) out.tags = st.tags;
    return out;
  }

  async createStage(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const name = String(input.stageName ?? '');
      if (api.stages.some((s) => s.stageName === name)) throw errors.conflict('Stage already exists');
      if (!api.deployments.some((d) => d.id === input.deploymentId))
        throw errors.badRequest('Invalid deployment identifier specified');
      const st = this.newStage(name, String(input.deploymentId), input);
      // The canary starts on the stage's deployment unless it names its own.
      if (input.canarySettings) st.canarySettings = canaryOf(api, input.canarySettings, st.deploymentId);
      api.stages.push(st);
      return this.stageView(st);
    });
  }

  private stage(api: RestApiRecord, name: string): RestStageRecord {
    const st = api.stages.find((s) => s.stageName === name);
    if (!st) throw errors.notFound('Invalid Stage identifier specified');
    return st;
  }

  async getStage(scope: Scope, apiId: string, name: string) {
    return this.stageView(this.stage(await this.record(scope, apiId), name));
  }

  async getStages(scope: Scope, apiId: string, deploymentId: string | undefined) {
    const api = await this.record(scope, apiId);
    return api.stages
      .filter((s) => !deploymentId || s.deploymentId === deploymentId)
      .map((s) => this.stageView(s));
  }

  /**
   * Patch operations on `/variables/{name}`, `/deploymentId`, `/description`, `/tracingEnabled`,
   * `/{resourcePath}/{httpMethod}/throttling/...` (`*` and `*` for the whole stage; remove
   * `/{resourcePath}/{httpMethod}` to drop a method's settings), the access log settings and the
   * canary release (`/canarySettings/...`, promoted by `copy`; see canary.ts).
   */
  async updateStage(scope: Scope, apiId: string, name: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const st = this.stage(api, name);
      let ms: RegExpExecArray | null;
      for (const op of (input.patchOperations ?? []) as Input[]) {
        const path = String(op.path ?? '');
        const kind = String(op.op ?? '');
        const v = /^\/variables\/([^/]+)$/.exec(path);
        if (patchCanary(api, st, op)) {
          // `/canarySettings/...`, `remove /canarySettings` and the promotion's `copy` operations.
        } else if (v) {
          if (kind === 'remove') delete st.variables[v[1]];
          else if (kind === 'replace' || kind === 'add') st.variables[v[1]] = String(op.value ?? '');
          else throw errors.badRequest(`Invalid patch operation specified. Must be 'add'|'remove'|'replace'`);
        } else if (path === '/deploymentId' && kind === 'replace') {
          if (!api.deployments.some((d) => d.id === op.value))
            throw errors.badRequest('Invalid deployment identifier specified');
          st.deploymentId = String(op.value);
        } else if ((ms = METHOD_THROTTLING.exec(path)) && kind === 'replace') {
          // `*/*` (the whole stage) or one method: `~1items~1{id}/GET` (the resource path, `/` as `~1`).
          const key = methodSettingsKey(ms[1], ms[2], path);
          const n = Number(op.value);
          if (!Number.isFinite(n) || n < 0) throw errors.badRequest(`Invalid value for ${path}`);
          const settings = ((st.methodSettings[key] as Record<string, number> | undefined) ??= {});
          settings[ms[3] === 'rateLimit' ? 'throttlingRateLimit' : 'throttlingBurstLimit'] = n;
          st.methodSettings[key] = settings;
        } else if ((ms = METHOD_OPTION.exec(path)) && kind === 'replace') {
          const key = methodSettingsKey(ms[1], ms[2], path);
          const [field, value] = methodOption(ms[3], op.value, path);
          st.methodSettings[key] = {
            ...((st.methodSettings[key] as object | undefined) ?? {}),
            [field]: value,
          };
        } else if (path === '/cacheClusterEnabled' && kind === 'replace') {
          st.cacheClusterEnabled = op.value === 'true';
        } else if (path === '/cacheClusterSize' && kind === 'replace') {
          st.cacheClusterSize = cacheClusterSize(op.value);
        } else if (path === '/clientCertificateId' && kind === 'replace') {
          if (op.value) st.clientCertificateId = String(op.value);
          else delete st.clientCertificateId;
        } else if (path === '/documentationVersion' && kind === 'replace') {
          if (op.value) st.documentationVersion = String(op.value);
          else delete st.documentationVersion;
        } else if (
          (ms = METHOD_SETTING.exec(path)) &&
          kind === 'remove' &&
          !/^\/(variables|accessLogSettings)\//.test(path)
        ) {
          delete st.methodSettings[methodSettingsKey(ms[1], ms[2], path)];
        } else if (/^\/accessLogSettings\/(destinationArn|format)$/.test(path) && kind === 'replace') {
          const als = (st.accessLogSettings ??= {});
          if (path.endsWith('destinationArn')) {
            const arn = String(op.value ?? '');
            if (!/^arn:aws[a-z-]*:logs:[^:]*:[^:]*:log-group:[^:]+(:\*)?$/.test(arn))
              throw errors.badRequest(`Invalid ARN specified in the request: ${arn}`);
            als.destinationArn = arn;
          } else als.format = String(op.value ?? '');
        } else if (path === '/accessLogSettings' && kind === 'remove') delete st.accessLogSettings;
        else if (path === '/description' && kind === 'replace') st.description = String(op.value ?? '');
        else if (path === '/tracingEnabled' && kind === 'replace') st.tracingEnabled = op.value === 'true';
        else
          throw errors.badRequest(
            `Invalid patch path  '${path}' specified for op '${kind}'. Must be one of: [/variables/*, /deploymentId, /description, /tracingEnabled, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /documentationVersion, /{resourcePath}/{httpMethod}/throttling/rateLimit, /{resourcePath}/{httpMethod}/throttling/burstLimit, /{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/loglevel, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /accessLogSettings/destinationArn, /accessLogSettings/format, /accessLogSettings, /canarySettings/percentTraffic, /canarySettings/deploymentId, /canarySettings/stageVariableOverrides/*, /canarySettings/useStageCache, /canarySettings]`,
          );
      }
      st.lastUpdatedDate = this.nowSec();
      return this.stageView(st);
    });
  }

  async deleteStage(scope: Scope, apiId: string, name: string) {
    await this.mutate(scope, apiId, (api) => {
      this.stage(api, name);
      api.stages = api.stages.filter((s) => s.stageName !== name);
    });
  }

  // ------------------------------------------------------------------ API keys and usage plans

  keyView(k: ApiKeyRecord, includeValue: boolean): Input {
    const out: Input = {
      id: k.id,
      name: k.name,
      enabled: k.enabled,
      createdDate: k.createdDate,
      lastUpdatedDate: k.lastUpdatedDate,
      stageKeys: k.stageKeys,
    };
    if (includeValue) out.value = k.value;
    if (k.description !== undefined) out.description = k.description;
    if (k.customerId !== undefined) out.customerId = k.customerId;
    if (Object.keys(k.tags).length) out.tags = k.tags;
    return out;
  }

  async createApiKey(scope: Scope, input: Input) {
    const value =
      input.value === undefined ? randomBytes(30).toString('base64url').slice(0, 40) : String(input.value);
    if (value.length < 20) throw errors.badRequest('API Key value should be at least 20 characters');
    const existing = await this.deps.store.scan<ApiKeyRecord>(COLLECTION_API_KEYS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    if (existing.some((e) => e.value.value === value)) throw errors.conflict('API Key already exists');
    const now = this.nowSec();
    const k: ApiKeyRecord = {
      id: shortId(10),
      value,
      name: String(input.name ?? ''),
      enabled: Boolean(input.enabled ?? false),
      createdDate: now,
      lastUpdatedDate: now,
      stageKeys: (input.stageKeys ?? []).map((s: Input) => `${s.restApiId}/${s.stageName}`),
      tags: strMap(input.tags, 'tags'),
    };
    if (input.description !== undefined) k.description = String(input.description);
    if (input.customerId !== undefined) k.customerId = String(input.customerId);
    await this.deps.store.put(COLLECTION_API_KEYS, scopedKey(scope, k.id), k);
    return this.keyView(k, true);
  }

  async getApiKeys(scope: Scope, input: Input) {
    const rows = await this.deps.store.scan<ApiKeyRecord>(COLLECTION_API_KEYS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const keys = rows
      .map((r) => r.value)
      .filter((k) => !input.nameQuery || k.name.startsWith(String(input.nameQuery)));
    return page(
      keys.map((k) => this.keyView(k, input.includeValues === 'true')),
      input,
    );
  }

  async getApiKey(scope: Scope, id: string, includeValue: boolean) {
    const k = await this.deps.store.get<ApiKeyRecord>(COLLECTION_API_KEYS, scopedKey(scope, id));
    if (!k) throw errors.notFound('Invalid API Key identifier specified');
    return this.keyView(k, includeValue);
  }

  async deleteApiKey(scope: Scope, id: string) {
    if (!(await this.deps.store.delete(COLLECTION_API_KEYS, scopedKey(scope, id))))
      throw errors.notFound('Invalid API Key identifier specified');
  }

  async updateApiKey(scope: Scope, id: string, input: Input) {
    return this.deps.store.transaction(async (tx) => {
      const k = await tx.get<ApiKeyRecord>(COLLECTION_API_KEYS, scopedKey(scope, id));
      if (!k) throw errors.notFound('Invalid API Key identifier specified');
      applyPatch(input, API_KEY_PATHS, (op) => {
        if (op.path === '/stages' && (op.op === 'add' || op.op === 'remove')) {
          const v = requireValue(op);
          if (!/^[^/]+\/[^/]+$/.test(v))
            throw errors.badRequest(`Invalid stage key specified: ${v}. Must be restApiId/stageName`);
          k.stageKeys =
            op.op === 'add' ? [...new Set([...k.stageKeys, v])] : k.stageKeys.filter((x) => x !== v);
          return true;
        }
        if (op.op !== 'replace') return false;
        switch (op.path) {
          case '/name':
            k.name = op.value ?? '';
            return true;
          case '/description':
            k.description = op.value ?? '';
            return true;
          case '/enabled':
            k.enabled = boolValue(op);
            return true;
          case '/customerId':
            if (op.value) k.customerId = op.value;
            else delete k.customerId;
            return true;
        }
        return false;
      });
      k.lastUpdatedDate = this.nowSec();
      await tx.put(COLLECTION_API_KEYS, scopedKey(scope, id), k);
      return this.keyView(k, false);
    });
  }

  /**
   * ImportApiKeys (CSV, see api-key-file.ts): each record creates a key, or overwrites the key
   * that already has its value (name, description, enabled; the id stays), and adds it to the
   * usage plans it names. A record that cannot be imported is skipped with a warning
   * `Skipped invalid record: {n}. {why}`; with `failOnWarnings` any warning fails the import
   * (BadRequestException) and nothing changes. All in one transaction.
   */
  async importApiKeys(
    scope: Scope,
    rows: ApiKeyRow[],
    failOnWarnings: boolean,
  ): Promise<{ ids: string[]; warnings: string[] }> {
    return this.deps.store.transaction(async (tx) => {
      const prefix = `${scope.accountId}/${scope.region}/`;
      const byValue = new Map(
        (await tx.scan<ApiKeyRecord>(COLLECTION_API_KEYS, { prefix })).map((r) => [r.value.value, r.value]),
      );
      const plans = new Map(
        (await tx.scan<UsagePlanRecord>(COLLECTION_USAGE_PLANS, { prefix })).map((r) => [
          r.value.id,
          r.value,
        ]),
      );
      const ids: string[] = [];
      const warnings: string[] = [];
      const changedPlans = new Set<UsagePlanRecord>();
      const now = this.nowSec();
      for (const row of rows) {
        const why = apiKeyRowProblem(row, (id) => plans.has(id));
        if (why) {
          warnings.push(`Skipped invalid record: ${row.record}. ${why}`);
          continue;
        }
        let k = byValue.get(row.key);
        if (!k) {
          k = {
            id: shortId(10),
            value: row.key,
            name: '',
            enabled: true,
            createdDate: now,
            lastUpdatedDate: now,
            stageKeys: [],
            tags: {},
          };
          byValue.set(row.key, k);
        }
        k.name = row.name;
        if (row.description) k.description = row.description;
        else delete k.description;
        k.enabled = row.enabled === '' || row.enabled.toLowerCase() === 'true';
        k.lastUpdatedDate = now;
        await tx.put(COLLECTION_API_KEYS, scopedKey(scope, k.id), k);
        for (const planId of row.usagePlanIds) {
          const p = plans.get(planId)!;
          if (!p.keyIds.includes(k.id)) {
            p.keyIds.push(k.id);
            changedPlans.add(p);
          }
        }
        if (!ids.includes(k.id)) ids.push(k.id);
      }
      if (failOnWarnings && warnings.length)
        throw errors.badRequest(`Warnings found during import:\n\t${warnings.join('\n\t')}`);
      for (const p of changedPlans) await tx.put(COLLECTION_USAGE_PLANS, scopedKey(scope, p.id), p);
      return { ids, warnings };
    });
  }

  /** For serving: the key with this value in the account and region. */
  async findApiKeyByValue(scope: Scope, value: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.deps.store.scan<ApiKeyRecord>(COLLECTION_API_KEYS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    return rows.find((r) => r.value.value === value)?.value;
  }

  async usagePlansOf(scope: Scope): Promise<UsagePlanRecord[]> {
    const rows = await this.deps.store.scan<UsagePlanRecord>(COLLECTION_USAGE_PLANS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    return rows.map((r) => r.value);
  }

  planView(p: UsagePlanRecord): Input {
    const out: Input = { id: p.id, name: p.name, apiStages: p.apiStages };
    if (p.description !== undefined) out.description = p.description;
    if (p.throttle) out.throttle = p.throttle;
    if (p.quota) out.quota = p.quota;
    if (Object.keys(p.tags).length) out.tags = p.tags;
    return out;
  }

  async createUsagePlan(scope: Scope, input: Input) {
    if (typeof input.name !== 'string' || !input.name)
      throw errors.badRequest('Usage plan name must be non-empty');
    const p: UsagePlanRecord = {
      id: shortId(6),
      name: input.name,
      apiStages: [],
      keyIds: [],
      tags: strMap(input.tags, 'tags'),
    };
    for (const s of (input.apiStages ?? []) as Input[]) {
      const found = await this.plannableStages(String(s.apiId));
      if (!found || found.scope.accountId !== scope.accountId || !found.stages.includes(String(s.stage)))
        throw errors.notFound(`Invalid stage identifier specified`);
      p.apiStages.push({ apiId: String(s.apiId), stage: String(s.stage) });
    }
    if (input.description !== undefined) p.description = String(input.description);
    if (input.throttle) {
      p.throttle = {};
      if (input.throttle.burstLimit !== undefined) p.throttle.burstLimit = Number(input.throttle.burstLimit);
      if (input.throttle.rateLimit !== undefined) p.throttle.rateLimit = Number(input.throttle.rateLimit);
    }
    if (input.quota) {
      const period = String(input.quota.period ?? '');
      if (!['DAY', 'WEEK', 'MONTH'].includes(period))
        throw errors.badRequest('Invalid quota period specified');
      const limit = Number(input.quota.limit);
      if (!Number.isInteger(limit) || limit < 0) throw errors.badRequest('Invalid quota limit specified');
      const offset = Number(input.quota.offset ?? 0);
      if (!Number.isInteger(offset) || offset < 0) throw errors.badRequest('Invalid quota offset specified');
      p.quota = { limit, offset, period: period as 'DAY' };
      p.quotaSince = this.deps.clock.now();
    }
    await this.deps.store.put(COLLECTION_USAGE_PLANS, scopedKey(scope, p.id), p);
    return this.planView(p);
  }

  async getUsagePlans(scope: Scope, input: Input) {
    return page(
      (await this.usagePlansOf(scope)).map((p) => this.planView(p)),
      input,
    );
  }

  async getUsagePlan(scope: Scope, id: string) {
    const p = await this.deps.store.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, id));
    if (!p) throw errors.notFound('Invalid Usage Plan ID specified');
    return this.planView(p);
  }

  async updateUsagePlan(scope: Scope, id: string, input: Input) {
    // Stages named by `add /apiStages` are checked before the transaction (findApi reads the store).
    const wanted = new Map<string, boolean>();
    for (const o of (Array.isArray(input.patchOperations) ? input.patchOperations : []) as Input[])
      if (o?.path === '/apiStages' && o.op === 'add' && typeof o.value === 'string') {
        const [apiId, stage] = o.value.split(':');
        const found = apiId ? await this.plannableStages(apiId) : undefined;
        wanted.set(
          o.value,
          !!found && found.scope.accountId === scope.accountId && found.stages.includes(stage),
        );
      }
    const now = this.deps.clock.now();
    return this.deps.store.transaction(async (tx) => {
      const p = await tx.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, id));
      if (!p) throw errors.notFound('Invalid Usage Plan ID specified');
      const hadQuota = !!p.quota;
      applyPatch(input, USAGE_PLAN_PATHS, (op) => {
        if (op.path === '/apiStages' && (op.op === 'add' || op.op === 'remove')) {
          const v = requireValue(op);
          const [apiId, stage] = v.split(':');
          if (!apiId || !stage)
            throw errors.badRequest(`Invalid API stage specified: ${v}. Must be apiId:stageName`);
          if (op.op === 'add') {
            if (!wanted.get(v)) throw errors.notFound('Invalid stage identifier specified');
            if (!p.apiStages.some((s) => s.apiId === apiId && s.stage === stage))
              p.apiStages.push({ apiId, stage });
          } else p.apiStages = p.apiStages.filter((s) => !(s.apiId === apiId && s.stage === stage));
          return true;
        }
        const [head, field] = op.segments;
        if ((head === 'throttle' || head === 'quota') && op.segments.length === 1 && op.op === 'remove') {
          delete p[head];
          return true;
        }
        if (head === 'throttle' && (field === 'burstLimit' || field === 'rateLimit')) {
          if (op.op === 'remove') {
            if (p.throttle) delete p.throttle[field];
            return true;
          }
          if (op.op !== 'replace' && op.op !== 'add') return false;
          const n = Number(requireValue(op));
          if (!Number.isFinite(n) || n < 0) throw errors.badRequest(`Invalid value for ${op.path}`);
          p.throttle = { ...(p.throttle ?? {}), [field]: n };
          return true;
        }
        if (head === 'quota' && (field === 'limit' || field === 'period' || field === 'offset')) {
          if (op.op === 'remove') {
            delete p.quota;
            return true;
          }
          if (op.op !== 'replace' && op.op !== 'add') return false;
          const q = p.quota ?? { limit: 0, offset: 0, period: 'DAY' as const };
          if (field === 'period') {
            const v = requireValue(op);
            if (!['DAY', 'WEEK', 'MONTH'].includes(v))
              throw errors.badRequest('Invalid quota period specified');
            q.period = v as 'DAY';
          } else q[field] = intValue(op, 0, Number.MAX_SAFE_INTEGER, `Invalid quota ${field} specified`);
          p.quota = q;
          return true;
        }
        if (op.op !== 'replace') return false;
        if (op.path === '/name') {
          p.name = requireValue(op);
          return true;
        }
        if (op.path === '/description') {
          p.description = op.value ?? '';
          return true;
        }
        return false;
      });
      // A quota set on a plan that had none starts its initial period (the one less `offset`).
      if (!p.quota) delete p.quotaSince;
      else if (!hadQuota) p.quotaSince = now;
      await tx.put(COLLECTION_USAGE_PLANS, scopedKey(scope, id), p);
      return this.planView(p);
    });
  }

  async deleteUsagePlan(scope: Scope, id: string) {
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.delete(COLLECTION_USAGE_PLANS, scopedKey(scope, id))))
        throw errors.notFound('Invalid Usage Plan ID specified');
      await tx.deleteRange(COLLECTION_USAGE, { prefix: planUsagePrefix(scope, id) });
    });
  }

  /** For serving: counts one request of the key against the plan's quota; false when used up. */
  countQuota(scope: Scope, plan: UsagePlanRecord, keyId: string): Promise<boolean> {
    return this.usage.count(scope, plan, keyId);
  }

  getUsage(scope: Scope, planId: string, input: Input): Promise<UsageView> {
    return this.usage.getUsage(scope, planId, input);
  }

  updateUsage(scope: Scope, planId: string, keyId: string, input: Input): Promise<UsageView> {
    return this.usage.updateUsage(scope, planId, keyId, input);
  }

  async createUsagePlanKey(scope: Scope, planId: string, input: Input) {
    if (input.keyType !== 'API_KEY') throw errors.badRequest('Invalid key type specified');
    const keyId = String(input.keyId ?? '');
    return this.deps.store.transaction(async (tx) => {
      const p = await tx.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, planId));
      if (!p) throw errors.notFound('Invalid Usage Plan ID specified');
      const k = await tx.get<ApiKeyRecord>(COLLECTION_API_KEYS, scopedKey(scope, keyId));
      if (!k) throw errors.notFound('Invalid API Key identifier specified');
      if (p.keyIds.includes(keyId)) throw errors.conflict('Usage Plan already contains the specified key');
      p.keyIds.push(keyId);
      await tx.put(COLLECTION_USAGE_PLANS, scopedKey(scope, planId), p);
      return { id: k.id, type: 'API_KEY', name: k.name, value: k.value };
    });
  }

  private async planKeys(scope: Scope, planId: string): Promise<Input[]> {
    const p = await this.deps.store.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, planId));
    if (!p) throw errors.notFound('Invalid Usage Plan ID specified');
    const keys = await this.deps.store.getMany<ApiKeyRecord>(
      COLLECTION_API_KEYS,
      p.keyIds.map((k) => scopedKey(scope, k)),
    );
    return keys
      .filter((k): k is ApiKeyRecord => !!k)
      .map((k) => ({ id: k.id, type: 'API_KEY', name: k.name, value: k.value }));
  }

  async getUsagePlanKeys(scope: Scope, planId: string, input: Input) {
    const keys = await this.planKeys(scope, planId);
    return page(
      keys.filter((k) => !input.nameQuery || String(k.name).startsWith(String(input.nameQuery))),
      input,
    );
  }

  async getUsagePlanKey(scope: Scope, planId: string, keyId: string) {
    const k = (await this.planKeys(scope, planId)).find((x) => x.id === keyId);
    if (!k) throw errors.notFound('Invalid Usage Plan Key identifier specified');
    return k;
  }

  async deleteUsagePlanKey(scope: Scope, planId: string, keyId: string) {
    await this.deps.store.transaction(async (tx) => {
      const p = await tx.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, planId));
      if (!p) throw errors.notFound('Invalid Usage Plan ID specified');
      if (!p.keyIds.includes(keyId)) throw errors.notFound('Invalid Usage Plan Key identifier specified');
      p.keyIds = p.keyIds.filter((k) => k !== keyId);
      await tx.put(COLLECTION_USAGE_PLANS, scopedKey(scope, planId), p);
    });
  }

  // ------------------------------------------------------------------ account

  /**
   * GetAccount: the region's API Gateway settings: the CloudWatch Logs role (stored; Nimbus
   * writes access and execution logs without one), the account-level throttle Nimbus applies,
   * the features and the API key version.
   */
  async getAccount(scope: Scope): Promise<Input> {
    const rec = await this.deps.store.get<{ cloudwatchRoleArn?: string }>(
      COLLECTION_ACCOUNT,
      `${scope.accountId}/${scope.region}`,
    );
    return accountView(rec?.cloudwatchRoleArn, this.account);
  }

  /** UpdateAccount: `replace /cloudwatchRoleArn` (an empty value removes it). */
  async updateAccount(scope: Scope, input: Input): Promise<Input> {
    const key = `${scope.accountId}/${scope.region}`;
    const role = await this.deps.store.transaction(async (tx) => {
      const rec = (await tx.get<{ cloudwatchRoleArn?: string }>(COLLECTION_ACCOUNT, key)) ?? {};
      applyPatch(input, ['/cloudwatchRoleArn'], (op) => {
        if (op.op !== 'replace' || op.segments.length !== 1 || op.segments[0] !== 'cloudwatchRoleArn')
          return false;
        const v = op.value ?? '';
        if (v === '') delete rec.cloudwatchRoleArn;
        else if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(v))
          throw errors.badRequest(`The role ARN is not well formed: ${v}`);
        else rec.cloudwatchRoleArn = v;
        return true;
      });
      await tx.put(COLLECTION_ACCOUNT, key, rec);
      return rec.cloudwatchRoleArn;
    });
    return accountView(role, this.account);
  }

  // ------------------------------------------------------------------ tags

  /**
   * The tags of a taggable resource named by its ARN: `arn:aws:apigateway:{region}::/restapis/{id}`,
   * `.../restapis/{id}/stages/{name}`, `/apikeys/{id}`, `/usageplans/{id}`, `/clientcertificates/{id}`
   * or `/vpclinks/{id}`.
   */
  private async withTags<T>(
    scope: Scope,
    arn: string,
    fn: (tags: Record<string, string>) => T,
    write: boolean,
  ): Promise<T> {
    const m =
      /^arn:aws[a-z-]*:apigateway:([^:]*)::\/(restapis|apikeys|usageplans|clientcertificates|vpclinks)\/([^/]+)(?:\/stages\/([^/]+))?$/.exec(
        arn,
      );
    if (!m || (m[4] !== undefined && m[2] !== 'restapis'))
      throw errors.badRequest(`Invalid ARN specified: ${arn}`);
    const [, region, kind, id, stage] = m;
    const s: Scope = { accountId: scope.accountId, region: region || scope.region };
    if (kind === 'restapis') {
      if (!write) {
        const api = await this.record(s, id);
        const tags = stage ? this.stage(api, stage).tags : api.tags;
        return fn(tags);
      }
      return this.mutate(s, id, (api) => fn(stage ? this.stage(api, stage).tags : api.tags));
    }
    const [collection, missingMessage] = {
      apikeys: [COLLECTION_API_KEYS, 'Invalid API Key identifier specified'],
      usageplans: [COLLECTION_USAGE_PLANS, 'Invalid Usage Plan ID specified'],
      clientcertificates: [COLLECTION_CLIENT_CERTS, CLIENT_CERT_NOT_FOUND],
      vpclinks: [COLLECTION_VPC_LINKS, 'Invalid VPC link identifier specified'],
    }[kind as 'apikeys' | 'usageplans' | 'clientcertificates' | 'vpclinks'];
    const missing = () => errors.notFound(missingMessage);
    if (!write) {
      const rec = await this.deps.store.get<{ tags: Record<string, string> }>(collection, scopedKey(s, id));
      if (!rec) throw missing();
      return fn(rec.tags);
    }
    return this.deps.store.transaction(async (tx) => {
      const rec = await tx.get<{ tags: Record<string, string> }>(collection, scopedKey(s, id));
      if (!rec) throw missing();
      const out = fn(rec.tags);
      await tx.put(collection, scopedKey(s, id), rec);
      return out;
    });
  }

  async getTags(scope: Scope, arn: string): Promise<Record<string, string>> {
    return this.withTags(scope, arn, (tags) => ({ ...tags }), false);
  }

  async tagResource(scope: Scope, arn: string, input: Input): Promise<void> {
    const add = strMap(input.tags, 'tags');
    if (!Object.keys(add).length) throw errors.badRequest('Tags must be non-empty');
    await this.withTags(scope, arn, (tags) => Object.assign(tags, add), true);
  }

  async untagResource(scope: Scope, arn: string, keys: string[]): Promise<void> {
    await this.withTags(
      scope,
      arn,
      (tags) => {
        for (const k of keys) delete tags[k];
      },
      true,
    );
  }
}
