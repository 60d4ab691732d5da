/**
 * API Gateway HTTP API (apigatewayv2) records. Records keep the wire's camelCase member names
 * (`apiId`, `corsConfiguration`, ...), so the management API returns them as they are.
 * One document per API holds its routes, integrations, authorizers, stages and deployments:
 * an API is small, and every change is one transaction on one key.
 */
import { AwsError } from '../protocols/errors.js';

export const COLLECTION_APIS = 'apigw.apis';
/** apiId -> { accountId, region }: serving finds an API by its id alone. */
export const COLLECTION_API_IDS = 'apigw.apiids';
/** VPC links of apigatewayv2 (V2), keyed `{account}/{region}/{id}`; see vpc-links.ts. */
export const COLLECTION_VPC_LINKS_V2 = 'apigw.vpclinksv2';

export interface Scope {
  accountId: string;
  region: string;
}

export interface Cors {
  allowCredentials?: boolean;
  allowHeaders?: string[];
  allowMethods?: string[];
  allowOrigins?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
}

export interface RouteSettings {
  dataTraceEnabled?: boolean;
  detailedMetricsEnabled?: boolean;
  loggingLevel?: string;
  throttlingBurstLimit?: number;
  throttlingRateLimit?: number;
}

export interface RouteRecord {
  routeId: string;
  routeKey: string;
  target?: string;
  authorizationType: string;
  authorizerId?: string;
  authorizationScopes?: string[];
  apiKeyRequired: boolean;
  apiGatewayManaged?: boolean;
  operationName?: string;
  requestParameters?: Record<string, unknown>;
  /** WebSocket APIs: set (to `$default`) on two-way routes, whose function's answer goes back to the client. */
  routeResponseSelectionExpression?: string;
  /** WebSocket APIs: stored, not evaluated. */
  modelSelectionExpression?: string;
  requestModels?: Record<string, string>;
  /** WebSocket APIs: the route's route responses (only `$default` is meaningful, as on AWS). */
  routeResponses?: RouteResponseRecord[];
}

export interface RouteResponseRecord {
  routeResponseId: string;
  routeResponseKey: string;
  modelSelectionExpression?: string;
  responseModels?: Record<string, string>;
  responseParameters?: Record<string, unknown>;
}

export interface IntegrationRecord {
  integrationId: string;
  integrationType: string;
  integrationUri?: string;
  /** AWS service integrations (`SQS-SendMessage`, ...): requestParameters then name the action's inputs. */
  integrationSubtype?: string;
  integrationMethod?: string;
  payloadFormatVersion: string;
  timeoutInMillis: number;
  connectionType: string;
  /** VPC_LINK: the VPC link's id, or `${stageVariables.x}`. */
  connectionId?: string;
  /** Private integrations over HTTPS: the name the backend's certificate must have. */
  tlsConfig?: { serverNameToVerify?: string };
  description?: string;
  credentialsArn?: string;
  apiGatewayManaged?: boolean;
  /** Parameter mapping of the request (`overwrite:header.x` -> value); see mapping.ts. */
  requestParameters?: Record<string, string>;
  /** Parameter mapping of the answer, by the integration's status code. */
  responseParameters?: Record<string, Record<string, string>>;
  /** WebSocket APIs: stored, not evaluated (proxy integrations ignore them). */
  contentHandlingStrategy?: string;
  passthroughBehavior?: string;
  templateSelectionExpression?: string;
  requestTemplates?: Record<string, string>;
  /** WebSocket APIs, non-proxy integrations: what the backend's answer becomes (see websocket/non-proxy.ts). */
  integrationResponses?: IntegrationResponseRecord[];
}

export interface V2ModelRecord {
  modelId: string;
  name: string;
  schema: string;
  contentType?: string;
  description?: string;
}

/** A WebSocket integration response: `$default` or a `/regex/` of the backend's status (or Lambda error). */
export interface IntegrationResponseRecord {
  integrationResponseId: string;
  integrationResponseKey: string;
  responseTemplates?: Record<string, string>;
  templateSelectionExpression?: string;
  contentHandlingStrategy?: string;
  responseParameters?: Record<string, string>;
}

export interface AuthorizerRecord {
  authorizerId: string;
  authorizerType: 'JWT' | 'REQUEST';
  name: string;
  identitySource: string[];
  jwtConfiguration?: { audience?: string[]; issuer?: string };
  authorizerUri?: string;
  authorizerPayloadFormatVersion?: string;
  authorizerResultTtlInSeconds?: number;
  enableSimpleResponses?: boolean;
  authorizerCredentialsArn?: string;
  identityValidationExpression?: string;
}

export interface AccessLogSettings {
  destinationArn?: string;
  format?: string;
}

export interface StageRecord {
  stageName: string;
  autoDeploy: boolean;
  createdDate: string;
  lastUpdatedDate: string;
  defaultRouteSettings: RouteSettings;
  routeSettings: Record<string, RouteSettings>;
  stageVariables: Record<string, string>;
  deploymentId?: string;
  description?: string;
  accessLogSettings?: AccessLogSettings;
  tags: Record<string, string>;
  apiGatewayManaged?: boolean;
  lastDeploymentStatusMessage?: string;
}

/** What a deployment froze: the routes, integrations and authorizers of that moment. */
export interface Snapshot {
  routes: RouteRecord[];
  integrations: IntegrationRecord[];
  authorizers: AuthorizerRecord[];
}

export interface DeploymentRecord {
  deploymentId: string;
  deploymentStatus: string;
  createdDate: string;
  description?: string;
  autoDeployed: boolean;
  snapshot: Snapshot;
}

export interface ApiRecord {
  apiId: string;
  name: string;
  protocolType: string;
  apiKeySelectionExpression: string;
  routeSelectionExpression: string;
  corsConfiguration?: Cors;
  createdDate: string;
  description?: string;
  disableExecuteApiEndpoint: boolean;
  disableSchemaValidation?: boolean;
  ipAddressType: string;
  tags: Record<string, string>;
  version?: string;
  routes: RouteRecord[];
  integrations: IntegrationRecord[];
  authorizers: AuthorizerRecord[];
  stages: StageRecord[];
  deployments: DeploymentRecord[];
  /** WebSocket APIs: JSON schemas (draft 4) that validate the messages of routes naming them in RequestModels. */
  models?: V2ModelRecord[];
  /** Bumped by every change: serving caches compare it. */
  generation: number;
}

export const apiKey = (scope: Scope, apiId: string) => `${scope.accountId}/${scope.region}/${apiId}`;

export const errors = {
  badRequest: (message: string) => new AwsError('BadRequestException', message, 400),
  conflict: (message: string) => new AwsError('ConflictException', message, 409),
  notFound: (message: string, resourceType?: string) =>
    new AwsError('NotFoundException', message, 404, 'Sender', resourceType ? { resourceType } : {}),
  apiNotFound: (scope: Scope, apiId: string) =>
    new AwsError('NotFoundException', `Invalid API identifier specified ${scope.accountId}:${apiId}`, 404),
};

export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];

/** WebSocket route keys with a meaning of their own (any other text is a custom route). */
export const WEBSOCKET_RESERVED_KEYS = ['$connect', '$disconnect', '$default'];

/**
 * Checks a route key. HTTP APIs: `$default` or `METHOD /path` with `{name}` and a last
 * `{name+}`. WebSocket APIs: `$connect`, `$disconnect`, `$default` or any other text without a
 * leading `$` (the value the route selection expression produces).
 */
export function validateRouteKey(key: unknown, protocolType = 'HTTP'): string {
  if (typeof key !== 'string' || key === '') throw errors.badRequest('RouteKey is required');
  if (protocolType === 'WEBSOCKET') {
    if (key.startsWith('$') && !WEBSOCKET_RESERVED_KEYS.includes(key))
      throw errors.badRequest(
        `Invalid route key: ${key}. Route keys starting with $ must be $connect, $disconnect or $default`,
      );
    if (key.length > 128) throw errors.badRequest(`Invalid route key: ${key}. At most 128 characters`);
    return key;
  }
  if (key === '$default') return key;
  const m = /^([A-Z]+) (\/.*)$/.exec(key);
  if (!m || !ROUTE_METHODS.includes(m[1])) throw errors.badRequest(`Unable to parse route key: ${key}`);
  const segs = m[2].split('/').slice(1);
  if (m[2] !== '/') {
    segs.forEach((s, i) => {
      if (s === '') throw errors.badRequest(`Invalid route key: ${key}. Empty path segment.`);
      const p = /^\{([^{}]+)\}$/.exec(s);
      if (p && p[1].endsWith('+') && i !== segs.length - 1)
        throw errors.badRequest(`Invalid route key: ${key}. Greedy path variable must be the last segment.`);
      if (!p && /[{}]/.test(s)) throw errors.badRequest(`Invalid route key: ${key}`);
    });
  }
  return key;
}

/** Function ARN inside an integration or authorizer URI (plain ARN or the apigateway:lambda:path form). */
export function functionArnOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const m = /functions\/(arn:[^/]+)\/(?:response-streaming-)?invocations/.exec(uri);
  if (m) return m[1];
  if (uri.startsWith('arn:aws:lambda:')) return uri;
  return undefined;
}
