/**
 * The HTTP API management engine (apigatewayv2): APIs, routes, integrations, authorizers,
 * stages and deployments. Inputs and outputs use the wire's camelCase member names; the wire
 * adapter (api.ts) only maps paths onto these methods.
 */
import { replaceRecord, stage, stagedRecord } from './staging.js';
import { checkSubtype } from './subtypes.js';
import {
  checkRequestParameters,
  checkResponseParameters,
  checkWebSocketRequestParameters,
} from './mapping.js';
import { parseSelectionExpression } from './websocket/selection.js';
import type { Clock } from '../core/clock.js';
import { shortId } from '../core/ids.js';
import type { Store } from '../storage/store.js';
import {
  COLLECTION_API_IDS,
  COLLECTION_APIS,
  apiKey,
  errors,
  functionArnOf,
  validateRouteKey,
  type ApiRecord,
  type AuthorizerRecord,
  type Cors,
  type DeploymentRecord,
  type IntegrationRecord,
  type IntegrationResponseRecord,
  type V2ModelRecord,
  type RouteRecord,
  type RouteResponseRecord,
  type RouteSettings,
  type Scope,
  type StageRecord,
} from './model.js';

type Input = Record<string, any>;

export interface GatewayEngineDeps {
  store: Store;
  clock: Clock;
  /** Does this V2 VPC link exist? (private integrations name one; absent: none does) */
  vpcLinkExists?: (scope: Scope, id: string) => Promise<boolean>;
}

/** A private integration's target: an ELB listener or a Cloud Map service. */
const PRIVATE_TARGET_ARN =
  /^arn:aws[a-z-]*:(elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(app|net)\/[^/]+\/[^/]+\/[^/]+|servicediscovery:[a-z0-9-]+:\d{12}:service\/srv-[A-Za-z0-9]+)$/;

/**
 * An HTTP API integration's connection: `INTERNET`, or `VPC_LINK` (HTTP_PROXY only) with the
 * `ConnectionId` of a VPC link (or `${stageVariables.x}`) and an optional `TlsConfig`.
 */
function connectionOf(
  input: Input,
  prev: IntegrationRecord | undefined,
  type: string,
): Pick<IntegrationRecord, 'connectionType' | 'connectionId' | 'tlsConfig'> {
  const connectionType = String(input.connectionType ?? prev?.connectionType ?? 'INTERNET');
  if (connectionType !== 'INTERNET' && connectionType !== 'VPC_LINK')
    throw errors.badRequest(`Invalid ConnectionType: ${connectionType}. Must be one of INTERNET, VPC_LINK`);
  const tls = input.tlsConfig !== undefined ? input.tlsConfig : prev?.tlsConfig;
  if (connectionType === 'INTERNET') {
    if (tls) throw errors.badRequest('TlsConfig is only supported for private integrations');
    return { connectionType };
  }
  if (type !== 'HTTP_PROXY')
    throw errors.badRequest('ConnectionType VPC_LINK is only supported for HTTP_PROXY integrations');
  const connectionId: unknown = input.connectionId ?? prev?.connectionId;
  if (typeof connectionId !== 'string' || !connectionId)
    throw errors.badRequest('ConnectionId is required for VPC_LINK integrations');
  const out: Pick<IntegrationRecord, 'connectionType' | 'connectionId' | 'tlsConfig'> = {
    connectionType,
    connectionId,
  };
  if (tls) {
    const name: unknown = (tls as Input).serverNameToVerify;
    if (typeof tls !== 'object' || Array.isArray(tls) || (name !== undefined && typeof name !== 'string'))
      throw errors.badRequest('Invalid TlsConfig');
    if (typeof name === 'string') {
      if (
        !/^[A-Za-z0-9*]([A-Za-z0-9*-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
          name,
        )
      )
        throw errors.badRequest(`Invalid ServerNameToVerify: ${name}`);
      out.tlsConfig = { serverNameToVerify: name };
    }
  }
  return out;
}

const PUBLIC_API_FIELDS = [
  'apiId',
  'name',
  'protocolType',
  'apiKeySelectionExpression',
  'routeSelectionExpression',
  'corsConfiguration',
  'createdDate',
  'description',
  'disableExecuteApiEndpoint',
  'disableSchemaValidation',
  'ipAddressType',
  'tags',
  'version',
] as const;

function pick<T extends object>(o: T, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function page<T>(items: T[], input: Input): { items: T[]; nextToken?: string } {
  const max = input.maxResults ? Math.max(1, Number(input.maxResults)) : 100;
  const start = input.nextToken ? Number(Buffer.from(String(input.nextToken), 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw errors.badRequest('Invalid pagination token');
  const slice = items.slice(start, start + max);
  const next =
    start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return next ? { items: slice, nextToken: next } : { items: slice };
}

function strList(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw errors.badRequest(`${name} must be a list of strings`);
  return v as string[];
}

function validateCors(c: unknown): Cors | undefined {
  if (c === undefined || c === null) return undefined;
  if (typeof c !== 'object') throw errors.badRequest('Invalid CorsConfiguration');
  const i = c as Input;
  const out: Cors = {};
  if (i.allowCredentials !== undefined) out.allowCredentials = Boolean(i.allowCredentials);
  for (const k of ['allowHeaders', 'allowMethods', 'allowOrigins', 'exposeHeaders'] as const) {
    const l = strList(i[k], `CorsConfiguration.${k}`);
    if (l) out[k] = l;
  }
  if (i.maxAge !== undefined) {
    const n = Number(i.maxAge);
    if (!Number.isInteger(n) || n < -1 || n > 86400)
      throw errors.badRequest('MaxAge must be between -1 and 86400');
    out.maxAge = n;
  }
  if (out.allowCredentials && out.allowOrigins?.includes('*'))
    throw errors.badRequest('allow-credentials is not supported with allow-origin set to wildcard (*)');
  return out;
}

function validateRouteSettings(s: unknown): RouteSettings {
  if (s === undefined || s === null) return { detailedMetricsEnabled: false };
  const i = s as Input;
  const out: RouteSettings = { detailedMetricsEnabled: Boolean(i.detailedMetricsEnabled ?? false) };
  if (i.dataTraceEnabled !== undefined) out.dataTraceEnabled = Boolean(i.dataTraceEnabled);
  if (i.loggingLevel !== undefined) out.loggingLevel = String(i.loggingLevel);
  if (i.throttlingBurstLimit !== undefined) {
    const n = Number(i.throttlingBurstLimit);
    if (!Number.isInteger(n) || n < 0) throw errors.badRequest('ThrottlingBurstLimit must be >= 0');
    out.throttlingBurstLimit = n;
  }
  if (i.throttlingRateLimit !== undefined) {
    const n = Number(i.throttlingRateLimit);
    if (!Number.isFinite(n) || n < 0) throw errors.badRequest('ThrottlingRateLimit must be >= 0');
    out.throttlingRateLimit = n;
  }
  return out;
}

export class GatewayEngine {
  private readonly listeners = new Set<(apiId: string) => void>();

  constructor(private readonly deps: GatewayEngineDeps) {}

  /** Called after every change of an API made through this engine (other nodes revalidate on their own). */
  onChange(listener: (apiId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(apiId: string): void {
    for (const l of this.listeners) l(apiId);
  }

  private now(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  /** Public view of an API (what CreateApi/GetApi answer). */
  apiView(api: ApiRecord, endpoint: string): Record<string, unknown> {
    return {
      ...pick(api, PUBLIC_API_FIELDS),
      apiEndpoint: apiEndpoint(endpoint, api.apiId, api.protocolType),
    };
  }

  async getApiRecord(scope: Scope, apiId: string): Promise<ApiRecord> {
    const staged = stagedRecord<ApiRecord>(scope, apiId);
    if (staged) return staged;
    const api = await this.deps.store.get<ApiRecord>(COLLECTION_APIS, apiKey(scope, apiId));
    if (!api) throw errors.apiNotFound(scope, apiId);
    return api;
  }

  /** For serving: the API with this id, whatever its account. */
  async findApi(apiId: string): Promise<ApiRecord | undefined> {
    const where = await this.deps.store.get<Scope>(COLLECTION_API_IDS, apiId);
    if (!where) return undefined;
    return this.deps.store.get<ApiRecord>(COLLECTION_APIS, apiKey(where, apiId));
  }

  async findApiScope(apiId: string): Promise<Scope | undefined> {
    return this.deps.store.get<Scope>(COLLECTION_API_IDS, apiId);
  }

  /** Reads (or, with `write`, changes) the tags of an API or of one of its stages. */
  async withTags<T>(
    scope: Scope,
    apiId: string,
    stage: string | undefined,
    fn: (tags: Record<string, string>) => T,
    write: boolean,
  ): Promise<T> {
    const tagsOf = (api: ApiRecord) =>
      stage === undefined ? (api.tags ??= {}) : (findStage(api, stage).tags ??= {});
    if (!write) return fn(tagsOf(await this.getApiRecord(scope, apiId)));
    return this.mutate(scope, apiId, (api) => fn(tagsOf(api)));
  }

  /**
   * Runs `fn` with a scope whose changes to the API go to a copy of its record, then stores the
   * copy in one transaction (auto-deploy stages deploy it once); when `fn` throws nothing is
   * stored. An import makes many changes: one write of the record instead of one per change.
   */
  async staged<T>(scope: Scope, apiId: string, fn: (staged: Scope) => Promise<T>): Promise<T> {
    const api = structuredClone(await this.getApiRecord(scope, apiId));
    const out = await fn(stage(scope, apiId, api));
    await this.mutate(scope, apiId, (cur) => replaceRecord(cur, api));
    return out;
  }

  private async mutate<T>(scope: Scope, apiId: string, fn: (api: ApiRecord) => T): Promise<T> {
    const staged = stagedRecord<ApiRecord>(scope, apiId);
    if (staged) return fn(staged);
    const out = await this.deps.store.transaction(async (tx) => {
      const api = await tx.get<ApiRecord>(COLLECTION_APIS, apiKey(scope, apiId));
      if (!api) throw errors.apiNotFound(scope, apiId);
      const out = fn(api);
      api.generation++;
      this.autoDeploy(api);
      await tx.put(COLLECTION_APIS, apiKey(scope, apiId), api);
      return out;
    });
    this.changed(apiId);
    return out;
  }

  /** Every auto-deploy stage gets a fresh deployment of the current configuration. */
  private autoDeploy(api: ApiRecord): void {
    for (const st of api.stages) {
      if (!st.autoDeploy) continue;
      const d = this.newDeployment(api, true, undefined);
      // Keep auto deployments from piling up: only the stage's current one is referenced.
      api.deployments = api.deployments.filter(
        (x) => !x.autoDeployed || api.stages.some((s) => s !== st && s.deploymentId === x.deploymentId),
      );
      api.deployments.push(d);
      st.deploymentId = d.deploymentId;
      st.lastDeploymentStatusMessage = `Successfully deployed stage with deployment ID '${d.deploymentId}'`;
    }
  }

  private newDeployment(api: ApiRecord, auto: boolean, description: string | undefined): DeploymentRecord {
    const d: DeploymentRecord = {
      deploymentId: shortId(6),
      deploymentStatus: 'DEPLOYED',
      createdDate: this.now(),
      autoDeployed: auto,
      snapshot: structuredClone({
        routes: api.routes,
        integrations: api.integrations,
        authorizers: api.authorizers,
      }),
    };
    if (description !== undefined) d.description = description;
    return d;
  }

  // ------------------------------------------------------------------ APIs

  async createApi(scope: Scope, input: Input, endpoint: string): Promise<Record<string, unknown>> {
    if (typeof input.name !== 'string' || input.name === '')
      throw errors.badRequest('Invalid input: name is required');
    if (input.name.length > 128) throw errors.badRequest('Name must be at most 128 characters');
    if (input.protocolType !== 'HTTP' && input.protocolType !== 'WEBSOCKET')
      throw errors.badRequest('Invalid protocolType: must be HTTP or WEBSOCKET');
    const protocolType: string = input.protocolType;
    const websocket = protocolType === 'WEBSOCKET';
    if (websocket) {
      if (input.target !== undefined || input.routeKey !== undefined)
        throw errors.badRequest('Quick create (Target, RouteKey) is only supported for HTTP APIs');
      if (input.corsConfiguration !== undefined)
        throw errors.badRequest('CorsConfiguration is only supported for HTTP APIs');
    }
    const now = this.now();
    const api: ApiRecord = {
      apiId: shortId(10),
      name: input.name,
      protocolType,
      apiKeySelectionExpression: input.apiKeySelectionExpression ?? '$request.header.x-api-key',
      routeSelectionExpression: websocket
        ? checkRouteSelection(input.routeSelectionExpression)
        : (input.routeSelectionExpression ?? '$request.method $request.path'),
      createdDate: now,
      disableExecuteApiEndpoint: Boolean(input.disableExecuteApiEndpoint ?? false),
      ipAddressType: input.ipAddressType ?? 'ipv4',
      tags: input.tags ?? {},
      routes: [],
      integrations: [],
      authorizers: [],
      stages: [],
      deployments: [],
      generation: 1,
    };
    const cors = validateCors(input.corsConfiguration);
    if (cors) api.corsConfiguration = cors;
    if (input.description !== undefined) api.description = String(input.description);
    if (input.version !== undefined) api.version = String(input.version);
    if (input.disableSchemaValidation !== undefined)
      api.disableSchemaValidation = Boolean(input.disableSchemaValidation);
    if (input.target !== undefined) {
      // Quick create: an integration, a route and an auto-deployed $default stage.
      const target = String(input.target);
      const http = /^https?:\/\//i.test(target);
      if (!http && !functionArnOf(target))
        throw errors.badRequest('Target must be a Lambda function ARN or an HTTP URL for quick create');
      const integ = this.buildIntegration(
        http
          ? {
              integrationType: 'HTTP_PROXY',
              integrationUri: target,
              integrationMethod: 'ANY',
              payloadFormatVersion: '1.0',
            }
          : { integrationType: 'AWS_PROXY', integrationUri: target, payloadFormatVersion: '2.0' },
      );
      integ.apiGatewayManaged = true;
      api.integrations.push(integ);
      const routeKey = validateRouteKey(input.routeKey ?? '$default');
      api.routes.push({
        routeId: shortId(7),
        routeKey,
        target: `integrations/${integ.integrationId}`,
        authorizationType: 'NONE',
        apiKeyRequired: false,
        apiGatewayManaged: true,
      });
      api.stages.push(this.buildStage({ stageName: '$default', autoDeploy: true }, true));
      this.autoDeploy(api);
    } else if (input.routeKey !== undefined) {
      throw errors.badRequest('RouteKey can only be specified with Target (quick create)');
    }
    await this.deps.store.transaction(async (tx) => {
      await tx.put(COLLECTION_APIS, apiKey(scope, api.apiId), api);
      await tx.put(COLLECTION_API_IDS, api.apiId, scope);
    });
    return this.apiView(api, endpoint);
  }

  async getApi(scope: Scope, apiId: string, endpoint: string) {
    return this.apiView(await this.getApiRecord(scope, apiId), endpoint);
  }

  async getApis(scope: Scope, input: Input, endpoint: string) {
    const all = await this.deps.store.scan<ApiRecord>(COLLECTION_APIS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const p = page(
      all.map((e) => e.value),
      input,
    );
    return { items: p.items.map((a) => this.apiView(a, endpoint)), nextToken: p.nextToken };
  }

  async updateApi(scope: Scope, apiId: string, input: Input, endpoint: string) {
    const api = await this.mutate(scope, apiId, (api) => {
      if (input.name !== undefined) {
        if (typeof input.name !== 'string' || input.name === '') throw errors.badRequest('Invalid name');
        api.name = input.name;
      }
      if (input.description !== undefined) api.description = String(input.description);
      if (input.version !== undefined) api.version = String(input.version);
      if (input.corsConfiguration !== undefined) {
        if (api.protocolType === 'WEBSOCKET')
          throw errors.badRequest('CorsConfiguration is only supported for HTTP APIs');
        api.corsConfiguration = validateCors(input.corsConfiguration);
      }
      if (input.disableExecuteApiEndpoint !== undefined)
        api.disableExecuteApiEndpoint = Boolean(input.disableExecuteApiEndpoint);
      if (input.routeSelectionExpression !== undefined)
        api.routeSelectionExpression =
          api.protocolType === 'WEBSOCKET'
            ? checkRouteSelection(input.routeSelectionExpression)
            : String(input.routeSelectionExpression);
      if (input.apiKeySelectionExpression !== undefined)
        api.apiKeySelectionExpression = String(input.apiKeySelectionExpression);
      return api;
    });
    return this.apiView(api, endpoint);
  }

  async deleteCorsConfiguration(scope: Scope, apiId: string) {
    await this.mutate(scope, apiId, (api) => {
      delete api.corsConfiguration;
    });
  }

  async deleteApi(scope: Scope, apiId: string) {
    await this.deps.store.transaction(async (tx) => {
      const ok = await tx.delete(COLLECTION_APIS, apiKey(scope, apiId));
      if (!ok) throw errors.apiNotFound(scope, apiId);
      await tx.delete(COLLECTION_API_IDS, apiId);
    });
    this.changed(apiId);
  }

  // ------------------------------------------------------------------ integrations

  private buildIntegration(input: Input, prev?: IntegrationRecord, protocolType = 'HTTP'): IntegrationRecord {
    const type = input.integrationType ?? prev?.integrationType;
    const websocket = protocolType === 'WEBSOCKET';
    if (websocket && type !== 'AWS_PROXY') return buildWsIntegration(input, prev, type);
    if (websocket && (input.integrationSubtype ?? prev?.integrationSubtype))
      throw errors.badRequest('IntegrationSubtype is only supported for HTTP APIs');
    if (type !== 'AWS_PROXY' && type !== 'HTTP_PROXY') {
      if (['AWS', 'HTTP', 'MOCK'].includes(type))
        throw errors.badRequest(
          `IntegrationType ${type} is not supported by Nimbus yet; use AWS_PROXY or HTTP_PROXY`,
        );
      throw errors.badRequest('IntegrationType is required and must be AWS_PROXY or HTTP_PROXY');
    }
    const uri = input.integrationUri ?? prev?.integrationUri;
    let pfv = input.payloadFormatVersion ?? prev?.payloadFormatVersion;
    const subtype: string | undefined =
      type === 'AWS_PROXY' ? (input.integrationSubtype ?? prev?.integrationSubtype) : undefined;
    let subtypeParameters: Record<string, string> | undefined;
    const connection = connectionOf(input, prev, type);
    if (type === 'HTTP_PROXY') {
      // HTTP APIs: the URI is the backend URL (path variables like {proxy} and ${stageVariables.x} allowed).
      if (connection.connectionType === 'VPC_LINK') {
        if (typeof uri !== 'string' || !PRIVATE_TARGET_ARN.test(uri))
          throw errors.badRequest(
            'For VPC_LINK integrations, IntegrationUri must be the ARN of a load balancer listener or of a Cloud Map service',
          );
      } else if (typeof uri !== 'string' || !/^https?:\/\/[^/\s]+/i.test(uri))
        throw errors.badRequest('For HTTP_PROXY integrations, IntegrationUri must be an http(s) URL');
      pfv ??= '1.0';
      if (pfv !== '1.0')
        throw errors.badRequest('PayloadFormatVersion must be 1.0 for HTTP_PROXY integrations');
      const method = input.integrationMethod ?? prev?.integrationMethod;
      if (typeof method !== 'string' || !method)
        throw errors.badRequest('IntegrationMethod is required for HTTP_PROXY integrations');
    } else if (subtype) {
      // An AWS service integration: the parameters name the action's inputs, there is no function.
      pfv ??= '1.0';
      subtypeParameters = checkSubtype(
        subtype,
        input.requestParameters !== undefined ? input.requestParameters : prev?.requestParameters,
        pfv,
      );
    } else {
      if (!functionArnOf(uri)) throw errors.badRequest('IntegrationUri must be a Lambda function ARN');
      // WebSocket APIs have one event format (AWS answers PayloadFormatVersion only for HTTP APIs).
      if (websocket) pfv ??= '1.0';
      if (websocket && pfv !== '1.0')
        throw errors.badRequest('PayloadFormatVersion 2.0 is only supported for HTTP APIs');
      if (pfv !== '1.0' && pfv !== '2.0')
        throw errors.badRequest('PayloadFormatVersion is required for AWS_PROXY integrations: 1.0 or 2.0');
    }
    const timeout = Number(input.timeoutInMillis ?? prev?.timeoutInMillis ?? 30000);
    if (!Number.isInteger(timeout) || timeout < 50 || timeout > 30000)
      throw errors.badRequest('TimeoutInMillis must be between 50 and 30000');
    const out: IntegrationRecord = {
      integrationId: prev?.integrationId ?? shortId(7),
      integrationType: type,
      integrationUri: uri,
      integrationMethod: input.integrationMethod ?? prev?.integrationMethod ?? 'POST',
      payloadFormatVersion: pfv,
      timeoutInMillis: timeout,
      ...connection,
    };
    const description = input.description ?? prev?.description;
    if (description !== undefined) out.description = description;
    const creds = input.credentialsArn ?? prev?.credentialsArn;
    if (creds !== undefined) out.credentialsArn = creds;
    if (subtype) out.integrationSubtype = subtype;
    for (const k of [
      'contentHandlingStrategy',
      'passthroughBehavior',
      'templateSelectionExpression',
    ] as const) {
      const v = input[k] ?? prev?.[k];
      if (v !== undefined && v !== null) out[k] = String(v);
    }
    const templates = input.requestTemplates ?? prev?.requestTemplates;
    if (templates && typeof templates === 'object') out.requestTemplates = templates;
    const rq =
      subtypeParameters ??
      (input.requestParameters !== undefined
        ? checkRequestParameters(input.requestParameters)
        : prev?.requestParameters);
    if (rq && Object.keys(rq).length) out.requestParameters = rq;
    const rs =
      input.responseParameters !== undefined
        ? checkResponseParameters(input.responseParameters)
        : prev?.responseParameters;
    if (rs && Object.keys(rs).length) out.responseParameters = rs;
    if (prev?.apiGatewayManaged) out.apiGatewayManaged = true;
    if (prev?.integrationResponses) out.integrationResponses = prev.integrationResponses;
    return out;
  }

  /** A private integration's VPC link must exist (unless a stage variable names it). */
  private async checkVpcLink(scope: Scope, input: Input): Promise<void> {
    const id: unknown = input.connectionId;
    if (typeof id !== 'string' || !id || (input.connectionType ?? 'VPC_LINK') !== 'VPC_LINK') return;
    if (/^\$\{stageVariables\.[A-Za-z0-9_]+\}$/.test(id)) return;
    if (!(await this.deps.vpcLinkExists?.(scope, id)))
      throw errors.notFound('Invalid VPC link identifier specified', 'VpcLink');
  }

  async createIntegration(scope: Scope, apiId: string, input: Input) {
    await this.checkVpcLink(scope, input);
    return this.mutate(scope, apiId, (api) => {
      const i = this.buildIntegration(input, undefined, api.protocolType);
      api.integrations.push(i);
      return i;
    });
  }

  async getIntegration(scope: Scope, apiId: string, id: string) {
    const api = await this.getApiRecord(scope, apiId);
    return findIntegration(api, id);
  }

  async getIntegrations(scope: Scope, apiId: string, input: Input) {
    const api = await this.getApiRecord(scope, apiId);
    return page(api.integrations, input);
  }

  async updateIntegration(scope: Scope, apiId: string, id: string, input: Input) {
    await this.checkVpcLink(scope, input);
    return this.mutate(scope, apiId, (api) => {
      const prev = findIntegration(api, id);
      const next = this.buildIntegration(input, prev, api.protocolType);
      api.integrations[api.integrations.indexOf(prev)] = next;
      return next;
    });
  }

  async deleteIntegration(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const prev = findIntegration(api, id);
      if (api.routes.some((r) => r.target === `integrations/${id}`))
        throw errors.conflict(`Integration ${id} is in use by one or more routes`);
      api.integrations.splice(api.integrations.indexOf(prev), 1);
    });
  }

  // ------------------------------------------------------------------ routes

  private checkRoute(api: ApiRecord, r: RouteRecord): void {
    if (r.target !== undefined) {
      const m = /^integrations\/(.+)$/.exec(r.target);
      if (!m) throw errors.badRequest(`Invalid target: ${r.target}. Must be of the form integrations/{id}`);
      findIntegration(api, m[1]);
    }
    if (!['NONE', 'JWT', 'CUSTOM', 'AWS_IAM'].includes(r.authorizationType))
      throw errors.badRequest(`Invalid authorization type: ${r.authorizationType}`);
    if (api.protocolType === 'WEBSOCKET') {
      if (r.authorizationType === 'JWT')
        throw errors.badRequest('JWT authorization is only supported for HTTP APIs');
      if (r.authorizationType !== 'NONE' && r.routeKey !== '$connect')
        throw errors.badRequest('Authorization is only supported on the $connect route of WebSocket APIs');
      if (
        r.routeResponseSelectionExpression !== undefined &&
        r.routeResponseSelectionExpression !== '$default'
      )
        throw errors.badRequest('RouteResponseSelectionExpression must be $default');
    } else if (r.routeResponseSelectionExpression !== undefined) {
      throw errors.badRequest('RouteResponseSelectionExpression is only supported for WebSocket APIs');
    }
    if (r.authorizationType === 'JWT' || r.authorizationType === 'CUSTOM') {
      if (!r.authorizerId) throw errors.badRequest(`AuthorizerId is required for ${r.authorizationType}`);
      const a = findAuthorizer(api, r.authorizerId);
      if ((a.authorizerType === 'JWT') !== (r.authorizationType === 'JWT'))
        throw errors.badRequest(
          `Authorization type ${r.authorizationType} does not match authorizer type ${a.authorizerType}`,
        );
    }
    if (r.authorizationScopes?.length && r.authorizationType !== 'JWT')
      throw errors.badRequest('AuthorizationScopes are only supported with JWT authorizers');
    if (api.routes.some((x) => x.routeKey === r.routeKey && x.routeId !== r.routeId))
      throw errors.conflict(`Route with key ${r.routeKey} already exists for this API`);
  }

  // ------------------------------------------------------------------ models (WebSocket)

  private wsApi(api: ApiRecord): ApiRecord {
    if (api.protocolType !== 'WEBSOCKET')
      throw errors.badRequest('Models are only supported for WebSocket APIs');
    return api;
  }

  async createModel(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      this.wsApi(api);
      const name = input.name;
      if (typeof name !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(name))
        throw errors.badRequest('Model name must be 1 to 128 alphanumeric characters');
      if ((api.models ?? []).some((m) => m.name === name))
        throw errors.conflict(`Model name ${name} already exists for this API`);
      const m: V2ModelRecord = { modelId: shortId(6), name, schema: checkModelSchema(input.schema) };
      if (input.contentType !== undefined) m.contentType = String(input.contentType);
      if (input.description !== undefined) m.description = String(input.description);
      api.models = [...(api.models ?? []), m];
      return m;
    });
  }

  async getModels(scope: Scope, apiId: string, input: Input) {
    return page(this.wsApi(await this.getApiRecord(scope, apiId)).models ?? [], input);
  }

  async getModel(scope: Scope, apiId: string, id: string) {
    return findModel(this.wsApi(await this.getApiRecord(scope, apiId)), id);
  }

  async updateModel(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const m = findModel(this.wsApi(api), id);
      if (input.name !== undefined && input.name !== m.name) {
        if (typeof input.name !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(input.name))
          throw errors.badRequest('Model name must be 1 to 128 alphanumeric characters');
        if (api.models!.some((x) => x.name === input.name))
          throw errors.conflict(`Model name ${input.name} already exists for this API`);
        m.name = input.name;
      }
      if (input.schema !== undefined) m.schema = checkModelSchema(input.schema);
      if (input.contentType !== undefined) m.contentType = String(input.contentType);
      if (input.description !== undefined) m.description = String(input.description);
      return m;
    });
  }

  async deleteModel(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const m = findModel(this.wsApi(api), id);
      const user = api.routes.find((r) => Object.values(r.requestModels ?? {}).includes(m.name));
      if (user) throw errors.conflict(`Model ${m.name} is in use by route ${user.routeKey}`);
      api.models = api.models!.filter((x) => x !== m);
    });
  }

  // ------------------------------------------------------------------ integration responses (WebSocket)

  private integrationOfWs(api: ApiRecord, id: string): IntegrationRecord {
    const i = findIntegration(api, id);
    if (api.protocolType !== 'WEBSOCKET')
      throw errors.badRequest('Integration responses are only supported for WebSocket APIs');
    return i;
  }

  async createIntegrationResponse(scope: Scope, apiId: string, integrationId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const i = this.integrationOfWs(api, integrationId);
      const key = checkIntegrationResponseKey(input.integrationResponseKey);
      if ((i.integrationResponses ?? []).some((r) => r.integrationResponseKey === key))
        throw errors.conflict(`An integration response with key ${key} already exists`);
      const r = integrationResponseOf(input, {
        integrationResponseId: shortId(6),
        integrationResponseKey: key,
      });
      i.integrationResponses = [...(i.integrationResponses ?? []), r];
      return r;
    });
  }

  async getIntegrationResponses(scope: Scope, apiId: string, integrationId: string, input: Input) {
    const api = await this.getApiRecord(scope, apiId);
    return page(this.integrationOfWs(api, integrationId).integrationResponses ?? [], input);
  }

  async getIntegrationResponse(scope: Scope, apiId: string, integrationId: string, id: string) {
    const api = await this.getApiRecord(scope, apiId);
    return findIntegrationResponse(this.integrationOfWs(api, integrationId), id);
  }

  async updateIntegrationResponse(
    scope: Scope,
    apiId: string,
    integrationId: string,
    id: string,
    input: Input,
  ) {
    return this.mutate(scope, apiId, (api) => {
      const i = this.integrationOfWs(api, integrationId);
      const prev = findIntegrationResponse(i, id);
      const key =
        input.integrationResponseKey === undefined
          ? prev.integrationResponseKey
          : checkIntegrationResponseKey(input.integrationResponseKey);
      if (i.integrationResponses!.some((r) => r !== prev && r.integrationResponseKey === key))
        throw errors.conflict(`An integration response with key ${key} already exists`);
      const next = integrationResponseOf(input, { ...prev, integrationResponseKey: key });
      i.integrationResponses = i.integrationResponses!.map((r) => (r === prev ? next : r));
      return next;
    });
  }

  async deleteIntegrationResponse(scope: Scope, apiId: string, integrationId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const i = this.integrationOfWs(api, integrationId);
      const prev = findIntegrationResponse(i, id);
      i.integrationResponses = i.integrationResponses!.filter((r) => r !== prev);
    });
  }

  async createRoute(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const r: RouteRecord = {
        routeId: shortId(7),
        routeKey: validateRouteKey(input.routeKey, api.protocolType),
        authorizationType: input.authorizationType ?? 'NONE',
        apiKeyRequired: Boolean(input.apiKeyRequired ?? false),
      };
      applyRouteInput(r, input);
      this.checkRoute(api, r);
      api.routes.push(r);
      return r;
    });
  }

  async getRoute(scope: Scope, apiId: string, id: string) {
    return findRoute(await this.getApiRecord(scope, apiId), id);
  }

  async getRoutes(scope: Scope, apiId: string, input: Input) {
    return page((await this.getApiRecord(scope, apiId)).routes, input);
  }

  async updateRoute(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const prev = findRoute(api, id);
      const r = structuredClone(prev);
      if (input.routeKey !== undefined) r.routeKey = validateRouteKey(input.routeKey, api.protocolType);
      if (input.authorizationType !== undefined) r.authorizationType = input.authorizationType;
      if (input.apiKeyRequired !== undefined) r.apiKeyRequired = Boolean(input.apiKeyRequired);
      applyRouteInput(r, input);
      if (r.authorizationType === 'NONE') {
        delete r.authorizerId;
        delete r.authorizationScopes;
      }
      this.checkRoute(api, r);
      api.routes[api.routes.indexOf(prev)] = r;
      return r;
    });
  }

  async deleteRoute(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const r = findRoute(api, id);
      api.routes.splice(api.routes.indexOf(r), 1);
      for (const st of api.stages) delete st.routeSettings[r.routeKey];
    });
  }

  // ------------------------------------------------------------------ route responses (WebSocket APIs)

  async createRouteResponse(scope: Scope, apiId: string, routeId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      if (api.protocolType !== 'WEBSOCKET')
        throw errors.badRequest('Route responses are only supported for WebSocket APIs');
      const route = findRoute(api, routeId);
      const key = input.routeResponseKey;
      if (typeof key !== 'string' || key === '') throw errors.badRequest('RouteResponseKey is required');
      if (key !== '$default') throw errors.badRequest('Only the $default route response key is supported');
      route.routeResponses ??= [];
      if (route.routeResponses.some((x) => x.routeResponseKey === key))
        throw errors.conflict(`Route response with key ${key} already exists for this route`);
      const rr: RouteResponseRecord = { routeResponseId: shortId(6), routeResponseKey: key };
      applyRouteResponseInput(rr, input);
      route.routeResponses.push(rr);
      return rr;
    });
  }

  async getRouteResponse(scope: Scope, apiId: string, routeId: string, id: string) {
    return findRouteResponse(findRoute(await this.getApiRecord(scope, apiId), routeId), id);
  }

  async getRouteResponses(scope: Scope, apiId: string, routeId: string, input: Input) {
    return page(findRoute(await this.getApiRecord(scope, apiId), routeId).routeResponses ?? [], input);
  }

  async updateRouteResponse(scope: Scope, apiId: string, routeId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const rr = findRouteResponse(findRoute(api, routeId), id);
      if (input.routeResponseKey !== undefined && input.routeResponseKey !== '$default')
        throw errors.badRequest('Only the $default route response key is supported');
      applyRouteResponseInput(rr, input);
      return rr;
    });
  }

  async deleteRouteResponse(scope: Scope, apiId: string, routeId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const route = findRoute(api, routeId);
      const rr = findRouteResponse(route, id);
      route.routeResponses!.splice(route.routeResponses!.indexOf(rr), 1);
    });
  }

  // ------------------------------------------------------------------ authorizers

  private buildAuthorizer(input: Input, prev?: AuthorizerRecord, protocolType = 'HTTP'): AuthorizerRecord {
    const type = input.authorizerType ?? prev?.authorizerType;
    const websocket = protocolType === 'WEBSOCKET';
    if (websocket && type !== 'REQUEST')
      throw errors.badRequest('WebSocket APIs support REQUEST (Lambda) authorizers only');
    const name = input.name ?? prev?.name;
    if (typeof name !== 'string' || name === '') throw errors.badRequest('Name is required');
    const identitySource = strList(input.identitySource, 'IdentitySource') ?? prev?.identitySource ?? [];
    for (const s of identitySource) {
      const ok = websocket
        ? /^(route\.request\.(header|querystring)\.[^\s]+|context\.[^\s]+|stageVariables\.[^\s]+)$/.test(s)
        : /^\$(request\.(header|querystring)\.[^\s]+|context\.[^\s]+|stageVariables\.[^\s]+)$/.test(s);
      if (!ok) throw errors.badRequest(`Invalid identity source: ${s}`);
    }
    const a: AuthorizerRecord = {
      authorizerId: prev?.authorizerId ?? shortId(6),
      authorizerType: type,
      name,
      identitySource,
    };
    if (type === 'JWT') {
      const jc = { ...(prev?.jwtConfiguration ?? {}), ...(input.jwtConfiguration ?? {}) };
      if (!jc.issuer) throw errors.badRequest('JwtConfiguration.Issuer is required for JWT authorizers');
      if (identitySource.length !== 1 || !identitySource[0].startsWith('$request.'))
        throw errors.badRequest(
          'JWT authorizers need exactly one identity source, such as $request.header.Authorization',
        );
      a.jwtConfiguration = { issuer: String(jc.issuer), audience: strList(jc.audience, 'Audience') ?? [] };
    } else if (type === 'REQUEST') {
      const uri = input.authorizerUri ?? prev?.authorizerUri;
      if (!functionArnOf(uri))
        throw errors.badRequest('AuthorizerUri must be a Lambda function invocation URI');
      a.authorizerUri = uri;
      const pfv =
        input.authorizerPayloadFormatVersion ??
        prev?.authorizerPayloadFormatVersion ??
        (websocket ? '1.0' : undefined);
      if (websocket && pfv !== '1.0')
        throw errors.badRequest('AuthorizerPayloadFormatVersion is only supported for HTTP APIs');
      if (pfv !== '1.0' && pfv !== '2.0')
        throw errors.badRequest(
          'AuthorizerPayloadFormatVersion is required for REQUEST authorizers: 1.0 or 2.0',
        );
      a.authorizerPayloadFormatVersion = pfv;
      const simple = Boolean(input.enableSimpleResponses ?? prev?.enableSimpleResponses ?? false);
      if (simple && pfv !== '2.0')
        throw errors.badRequest('EnableSimpleResponses is only supported with payload format version 2.0');
      a.enableSimpleResponses = simple;
      const ttl = Number(input.authorizerResultTtlInSeconds ?? prev?.authorizerResultTtlInSeconds ?? 0);
      if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600)
        throw errors.badRequest('AuthorizerResultTtlInSeconds must be between 0 and 3600');
      if (ttl > 0 && identitySource.length === 0)
        throw errors.badRequest('Identity sources are required when caching is enabled');
      a.authorizerResultTtlInSeconds = ttl;
      const creds = input.authorizerCredentialsArn ?? prev?.authorizerCredentialsArn;
      if (creds !== undefined) a.authorizerCredentialsArn = creds;
    } else {
      throw errors.badRequest('AuthorizerType must be JWT or REQUEST');
    }
    return a;
  }

  async createAuthorizer(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const a = this.buildAuthorizer(input, undefined, api.protocolType);
      api.authorizers.push(a);
      return a;
    });
  }

  async getAuthorizer(scope: Scope, apiId: string, id: string) {
    return findAuthorizer(await this.getApiRecord(scope, apiId), id);
  }

  async getAuthorizers(scope: Scope, apiId: string, input: Input) {
    return page((await this.getApiRecord(scope, apiId)).authorizers, input);
  }

  async updateAuthorizer(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const prev = findAuthorizer(api, id);
      const a = this.buildAuthorizer(input, prev, api.protocolType);
      api.authorizers[api.authorizers.indexOf(prev)] = a;
      return a;
    });
  }

  async deleteAuthorizer(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const a = findAuthorizer(api, id);
      if (api.routes.some((r) => r.authorizerId === id))
        throw errors.conflict(`Authorizer ${id} is in use by one or more routes`);
      api.authorizers.splice(api.authorizers.indexOf(a), 1);
    });
  }

  // ------------------------------------------------------------------ stages

  private buildStage(input: Input, managed = false, prev?: StageRecord): StageRecord {
    const name = input.stageName ?? prev?.stageName;
    if (typeof name !== 'string' || !/^(\$default|[A-Za-z0-9_-]{1,128})$/.test(name))
      throw errors.badRequest(
        'Stage name must be $default or contain only alphanumerics, hyphens and underscores',
      );
    const now = this.now();
    const st: StageRecord = {
      stageName: name,
      autoDeploy: Boolean(input.autoDeploy ?? prev?.autoDeploy ?? false),
      createdDate: prev?.createdDate ?? now,
      lastUpdatedDate: now,
      defaultRouteSettings:
        input.defaultRouteSettings !== undefined
          ? validateRouteSettings(input.defaultRouteSettings)
          : (prev?.defaultRouteSettings ?? validateRouteSettings(undefined)),
      routeSettings: prev?.routeSettings ?? {},
      stageVariables: { ...(prev?.stageVariables ?? {}) },
      tags: input.tags ?? prev?.tags ?? {},
    };
    if (input.routeSettings !== undefined) {
      st.routeSettings = {};
      for (const [k, v] of Object.entries(input.routeSettings as Input))
        st.routeSettings[k] = validateRouteSettings(v);
    }
    if (input.stageVariables !== undefined) {
      for (const [k, v] of Object.entries(input.stageVariables as Input)) {
        if (!/^[A-Za-z0-9_]+$/.test(k)) throw errors.badRequest(`Invalid stage variable name: ${k}`);
        if (v === null || v === '') delete st.stageVariables[k];
        else st.stageVariables[k] = String(v);
      }
    }
    const description = input.description ?? prev?.description;
    if (description !== undefined) st.description = description;
    const deploymentId = input.deploymentId ?? prev?.deploymentId;
    if (deploymentId !== undefined) st.deploymentId = deploymentId;
    const als = input.accessLogSettings ?? prev?.accessLogSettings;
    if (als !== undefined) {
      if (als.destinationArn && !/^arn:aws:logs:[^:]*:[^:]*:log-group:.+/.test(als.destinationArn))
        throw errors.badRequest('Invalid destination ARN: must be a CloudWatch Logs log group ARN');
      st.accessLogSettings = { destinationArn: als.destinationArn, format: als.format };
    }
    if (managed || prev?.apiGatewayManaged) st.apiGatewayManaged = true;
    if (prev?.lastDeploymentStatusMessage) st.lastDeploymentStatusMessage = prev.lastDeploymentStatusMessage;
    return st;
  }

  async createStage(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const st = this.buildStage(input);
      if (api.protocolType === 'WEBSOCKET' && st.stageName === '$default')
        throw errors.badRequest('The $default stage is only supported for HTTP APIs');
      if (api.stages.some((s) => s.stageName === st.stageName)) throw errors.conflict(`Stage already exists`);
      if (st.deploymentId) findDeployment(api, st.deploymentId);
      this.checkRouteSettings(api, st);
      api.stages.push(st);
      return st;
    });
  }

  private checkRouteSettings(api: ApiRecord, st: StageRecord): void {
    for (const k of Object.keys(st.routeSettings)) {
      if (!api.routes.some((r) => r.routeKey === k))
        throw errors.notFound(`Unable to find Route by key ${k} within the provided RouteSettings`);
    }
  }

  async getStage(scope: Scope, apiId: string, name: string) {
    return findStage(await this.getApiRecord(scope, apiId), name);
  }

  async getStages(scope: Scope, apiId: string, input: Input) {
    return page((await this.getApiRecord(scope, apiId)).stages, input);
  }

  async updateStage(scope: Scope, apiId: string, name: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const prev = findStage(api, name);
      const st = this.buildStage({ ...input, stageName: name }, false, prev);
      if (input.deploymentId !== undefined) findDeployment(api, st.deploymentId!);
      this.checkRouteSettings(api, st);
      api.stages[api.stages.indexOf(prev)] = st;
      return st;
    });
  }

  async deleteStage(scope: Scope, apiId: string, name: string) {
    await this.mutate(scope, apiId, (api) => {
      api.stages.splice(api.stages.indexOf(findStage(api, name)), 1);
    });
  }

  async deleteRouteSettings(scope: Scope, apiId: string, name: string, routeKey: string) {
    await this.mutate(scope, apiId, (api) => {
      const st = findStage(api, name);
      if (!st.routeSettings[routeKey]) throw errors.notFound(`Unable to find RouteSettings for ${routeKey}`);
      delete st.routeSettings[routeKey];
    });
  }

  // ------------------------------------------------------------------ deployments

  async createDeployment(scope: Scope, apiId: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      let stage: StageRecord | undefined;
      if (input.stageName !== undefined) {
        stage = findStage(api, input.stageName);
        if (stage.autoDeploy)
          throw errors.badRequest(
            `Stage ${stage.stageName} is configured for auto deploy; deployments are created automatically`,
          );
      }
      if (api.routes.length === 0) throw errors.badRequest('At least one route is required before deploying');
      const d = this.newDeployment(api, false, input.description);
      api.deployments.push(d);
      if (stage) {
        stage.deploymentId = d.deploymentId;
        stage.lastUpdatedDate = this.now();
      }
      return deploymentView(d);
    });
  }

  async getDeployment(scope: Scope, apiId: string, id: string) {
    return deploymentView(findDeployment(await this.getApiRecord(scope, apiId), id));
  }

  async getDeployments(scope: Scope, apiId: string, input: Input) {
    const p = page((await this.getApiRecord(scope, apiId)).deployments, input);
    return { items: p.items.map(deploymentView), nextToken: p.nextToken };
  }

  async updateDeployment(scope: Scope, apiId: string, id: string, input: Input) {
    return this.mutate(scope, apiId, (api) => {
      const d = findDeployment(api, id);
      if (input.description !== undefined) d.description = String(input.description);
      return deploymentView(d);
    });
  }

  async deleteDeployment(scope: Scope, apiId: string, id: string) {
    await this.mutate(scope, apiId, (api) => {
      const d = findDeployment(api, id);
      if (api.stages.some((s) => s.deploymentId === id))
        throw errors.badRequest(`Deployment ${id} is in use by a stage and cannot be deleted`);
      api.deployments.splice(api.deployments.indexOf(d), 1);
    });
  }
}

function applyRouteInput(r: RouteRecord, input: Input): void {
  if (input.target !== undefined) r.target = input.target || undefined;
  if (input.authorizerId !== undefined) r.authorizerId = input.authorizerId || undefined;
  if (input.authorizationScopes !== undefined)
    r.authorizationScopes = strList(input.authorizationScopes, 'AuthorizationScopes');
  if (input.operationName !== undefined) r.operationName = input.operationName;
  if (input.routeResponseSelectionExpression !== undefined)
    r.routeResponseSelectionExpression = input.routeResponseSelectionExpression || undefined;
  if (input.modelSelectionExpression !== undefined)
    r.modelSelectionExpression = input.modelSelectionExpression || undefined;
  if (input.requestModels !== undefined) r.requestModels = input.requestModels ?? undefined;
  if (input.requestParameters !== undefined) r.requestParameters = input.requestParameters ?? undefined;
  for (const k of [
    'routeResponseSelectionExpression',
    'modelSelectionExpression',
    'requestModels',
    'requestParameters',
  ] as const)
    if (r[k] === undefined) delete r[k];
  if (r.target === undefined) delete r.target;
  if (r.authorizerId === undefined) delete r.authorizerId;
}

function applyRouteResponseInput(rr: RouteResponseRecord, input: Input): void {
  if (input.modelSelectionExpression !== undefined)
    rr.modelSelectionExpression = input.modelSelectionExpression || undefined;
  if (input.responseModels !== undefined) rr.responseModels = input.responseModels ?? undefined;
  if (input.responseParameters !== undefined) rr.responseParameters = input.responseParameters ?? undefined;
  for (const k of ['modelSelectionExpression', 'responseModels', 'responseParameters'] as const)
    if (rr[k] === undefined) delete rr[k];
}

function findRouteResponse(route: RouteRecord, id: string): RouteResponseRecord {
  const rr = route.routeResponses?.find((x) => x.routeResponseId === id);
  if (!rr) throw errors.notFound('Invalid RouteResponse identifier specified', 'RouteResponse');
  return rr;
}

function deploymentView(d: DeploymentRecord): Record<string, unknown> {
  return pick(d, ['deploymentId', 'deploymentStatus', 'createdDate', 'description', 'autoDeployed']);
}

/** `http://host/_api/{apiId}` for HTTP APIs, `ws://host/_api/{apiId}` for WebSocket APIs (clients add `/{stage}`). */
export function apiEndpoint(endpoint: string, apiId: string, protocolType = 'HTTP'): string {
  const base = protocolType === 'WEBSOCKET' ? endpoint.replace(/^http/, 'ws') : endpoint;
  return `${base}/_api/${apiId}`;
}

/** Checks a WebSocket API's RouteSelectionExpression: required, `$request.body.{path}` variables and text. */
function checkRouteSelection(expr: unknown): string {
  if (expr === undefined || expr === null || expr === '')
    throw errors.badRequest('RouteSelectionExpression is required for WEBSOCKET APIs');
  if (typeof expr !== 'string' || !parseSelectionExpression(expr))
    throw errors.badRequest(
      `Invalid route selection expression: ${String(expr)}. Use $request.body.{path}, such as $request.body.action`,
    );
  return expr;
}

function findIntegration(api: ApiRecord, id: string): IntegrationRecord {
  const i = api.integrations.find((x) => x.integrationId === id);
  if (!i) throw errors.notFound(`Invalid Integration identifier specified`, 'Integration');
  return i;
}
function findRoute(api: ApiRecord, id: string): RouteRecord {
  const r = api.routes.find((x) => x.routeId === id);
  if (!r) throw errors.notFound(`Invalid Route identifier specified`, 'Route');
  return r;
}
function findAuthorizer(api: ApiRecord, id: string): AuthorizerRecord {
  const a = api.authorizers.find((x) => x.authorizerId === id);
  if (!a) throw errors.notFound(`Invalid Authorizer identifier specified`, 'Authorizer');
  return a;
}
function findStage(api: ApiRecord, name: string): StageRecord {
  const s = api.stages.find((x) => x.stageName === name);
  if (!s) throw errors.notFound(`Invalid stage identifier specified`, 'Stage');
  return s;
}
function findDeployment(api: ApiRecord, id: string): DeploymentRecord {
  const d = api.deployments.find((x) => x.deploymentId === id);
  if (!d) throw errors.notFound(`Invalid Deployment identifier specified`, 'Deployment');
  return d;
}

const WS_INTEGRATION_TYPES = ['AWS', 'MOCK', 'HTTP', 'HTTP_PROXY'];
const PASSTHROUGH_BEHAVIORS = ['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER'];
const CONTENT_HANDLING = ['CONVERT_TO_BINARY', 'CONVERT_TO_TEXT'];
/** `arn:aws:apigateway:{region}:{service}:action/{Action}` or `...:path/{path}` (Lambda's invocations path included). */
export const AWS_INTEGRATION_URI = /^arn:aws[a-z-]*:apigateway:([^:]*):([^:]+):(action|path)\/(.+)$/;

/**
 * A WebSocket API's non-proxy integration (AWS: Lambda or another service; HTTP; MOCK) or its
 * HTTP_PROXY: request templates chosen by the template selection expression, and integration
 * responses for two-way routes (see websocket/non-proxy.ts).
 */
function buildWsIntegration(
  input: Input,
  prev: IntegrationRecord | undefined,
  type: string,
): IntegrationRecord {
  if (!WS_INTEGRATION_TYPES.includes(type))
    throw errors.badRequest(
      'IntegrationType is required and must be one of AWS, AWS_PROXY, HTTP, HTTP_PROXY, MOCK',
    );
  if (input.integrationSubtype ?? prev?.integrationSubtype)
    throw errors.badRequest('IntegrationSubtype is only supported for HTTP APIs');
  const uri: unknown = input.integrationUri ?? prev?.integrationUri;
  if (
    (type === 'HTTP' || type === 'HTTP_PROXY') &&
    (typeof uri !== 'string' || !/^https?:\/\/[^/\s]+/i.test(uri))
  )
    throw errors.badRequest(`For ${type} integrations, IntegrationUri must be an http(s) URL`);
  if (type === 'AWS' && (typeof uri !== 'string' || !AWS_INTEGRATION_URI.test(uri)))
    throw errors.badRequest(
      'For AWS integrations, IntegrationUri must be arn:aws:apigateway:{region}:{service}:action/{Action} or :path/{path}',
    );
  if ((input.connectionType ?? prev?.connectionType) === 'VPC_LINK')
    throw errors.badRequest('Private integrations (VPC_LINK) are not supported by Nimbus');
  const timeout = Number(input.timeoutInMillis ?? prev?.timeoutInMillis ?? 29000);
  if (!Number.isInteger(timeout) || timeout < 50 || timeout > 29000)
    throw errors.badRequest('TimeoutInMillis must be between 50 and 29000');
  const passthrough = String(input.passthroughBehavior ?? prev?.passthroughBehavior ?? 'WHEN_NO_MATCH');
  if (!PASSTHROUGH_BEHAVIORS.includes(passthrough))
    throw errors.badRequest(
      `Invalid PassthroughBehavior: ${passthrough}. Must be one of ${PASSTHROUGH_BEHAVIORS.join(', ')}`,
    );
  const handling = input.contentHandlingStrategy ?? prev?.contentHandlingStrategy;
  if (handling !== undefined && handling !== null && !CONTENT_HANDLING.includes(String(handling)))
    throw errors.badRequest(`Invalid ContentHandlingStrategy: ${String(handling)}`);
  const out: IntegrationRecord = {
    integrationId: prev?.integrationId ?? shortId(7),
    integrationType: type,
    integrationMethod: String(input.integrationMethod ?? prev?.integrationMethod ?? 'POST'),
    payloadFormatVersion: '1.0',
    timeoutInMillis: timeout,
    connectionType: 'INTERNET',
    passthroughBehavior: passthrough,
  };
  if (typeof uri === 'string' && type !== 'MOCK') out.integrationUri = uri;
  if (handling) out.contentHandlingStrategy = String(handling);
  const tse = input.templateSelectionExpression ?? prev?.templateSelectionExpression;
  if (tse !== undefined && tse !== null) out.templateSelectionExpression = String(tse);
  const templates = input.requestTemplates ?? prev?.requestTemplates;
  if (templates && typeof templates === 'object')
    out.requestTemplates = stringMap(templates, 'RequestTemplates');
  const rq =
    input.requestParameters !== undefined
      ? checkWebSocketRequestParameters(input.requestParameters)
      : prev?.requestParameters;
  if (rq && Object.keys(rq).length) out.requestParameters = rq;
  const description = input.description ?? prev?.description;
  if (description !== undefined) out.description = description;
  const creds = input.credentialsArn ?? prev?.credentialsArn;
  if (creds !== undefined) out.credentialsArn = creds;
  if (prev?.integrationResponses) out.integrationResponses = prev.integrationResponses;
  return out;
}

function stringMap(v: object, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw errors.badRequest(`Invalid ${what}: the value of ${k} must be a string`);
    out[k] = x;
  }
  return out;
}

/** `$default`, or a regular expression between slashes (`/4\\d\\d/`). */
function checkIntegrationResponseKey(key: unknown): string {
  if (typeof key !== 'string' || !key) throw errors.badRequest('IntegrationResponseKey is required');
  if (key === '$default') return key;
  const m = /^\/(.+)\/$/.exec(key);
  if (!m)
    throw errors.badRequest(`Invalid IntegrationResponseKey: ${key}. Use $default or a /regular expression/`);
  try {
    new RegExp(m[1]);
  } catch {
    throw errors.badRequest(`Invalid IntegrationResponseKey: ${key} is not a valid regular expression`);
  }
  return key;
}

function integrationResponseOf(input: Input, base: IntegrationResponseRecord): IntegrationResponseRecord {
  const out: IntegrationResponseRecord = { ...base };
  if (input.responseTemplates !== undefined)
    out.responseTemplates = stringMap(input.responseTemplates ?? {}, 'ResponseTemplates');
  if (input.templateSelectionExpression !== undefined)
    out.templateSelectionExpression = String(input.templateSelectionExpression);
  if (input.contentHandlingStrategy !== undefined) {
    if (!CONTENT_HANDLING.includes(String(input.contentHandlingStrategy)))
      throw errors.badRequest(`Invalid ContentHandlingStrategy: ${String(input.contentHandlingStrategy)}`);
    out.contentHandlingStrategy = String(input.contentHandlingStrategy);
  }
  if (input.responseParameters !== undefined)
    out.responseParameters = stringMap(input.responseParameters ?? {}, 'ResponseParameters');
  return out;
}

/** A model's schema: a JSON object (as text). */
function checkModelSchema(schema: unknown): string {
  if (typeof schema !== 'string' || !schema) throw errors.badRequest('Schema is required');
  let doc: unknown;
  try {
    doc = JSON.parse(schema);
  } catch {
    throw errors.badRequest('Invalid model schema specified: the schema must be valid JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw errors.badRequest('Invalid model schema specified: the schema must be a JSON object');
  return schema;
}

function findModel(api: ApiRecord, id: string): V2ModelRecord {
  const m = (api.models ?? []).find((x) => x.modelId === id);
  if (!m) throw errors.notFound(`Unable to find Model with id ${id}`);
  return m;
}

function findIntegrationResponse(i: IntegrationRecord, id: string): IntegrationResponseRecord {
  const r = (i.integrationResponses ?? []).find((x) => x.integrationResponseId === id);
  if (!r) throw errors.notFound(`Unable to find IntegrationResponse with id ${id}`);
  return r;
}
