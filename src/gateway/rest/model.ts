/**
 * API Gateway REST API (v1) records. Like HTTP APIs, one document per API holds its resources,
 * methods, integrations, authorizers, deployments and stages; API keys and usage plans are
 * per account and region. Records keep the wire's member names, so views are plain copies.
 */
import { AwsError } from '../../protocols/errors.js';

export const COLLECTION_REST_APIS = 'apigw.restapis';
/** apiId -> { accountId, region }, for serving. */
export const COLLECTION_REST_API_IDS = 'apigw.restapiids';
export const COLLECTION_API_KEYS = 'apigw.apikeys';
export const COLLECTION_USAGE_PLANS = 'apigw.usageplans';
/** A REST API's documentation parts and versions, one record per API (./documentation.ts). */
export const COLLECTION_REST_DOCS = 'apigw.restdocs';
/** Client certificates, per account and region (./client-certs.ts). */
export const COLLECTION_CLIENT_CERTS = 'apigw.clientcerts';
/** VPC links (v1), keyed by scopedKey; see ../vpc-links.ts. */
export const COLLECTION_VPC_LINKS = 'apigw.vpclinks';
/** NotFoundException's message for an unknown client certificate id. */
export const CLIENT_CERT_NOT_FOUND = 'Invalid client certificate identifier specified';

export interface Scope {
  accountId: string;
  region: string;
}

export interface IntegrationResponseRecord {
  statusCode: string;
  /** Matched against the integration's status code (MOCK, HTTP) or a Lambda error's message; absent: the default response. */
  selectionPattern?: string;
  /** `method.response.header.X` -> `'literal'` or a request value (`method.request.header.Y`, ...). */
  responseParameters?: Record<string, string>;
  /** Media type -> VTL template of the method response's body. */
  responseTemplates?: Record<string, string>;
  contentHandling?: string;
}

export interface IntegrationRecord {
  type: string;
  httpMethod?: string;
  uri?: string;
  passthroughBehavior: string;
  timeoutInMillis: number;
  cacheNamespace: string;
  cacheKeyParameters: string[];
  /** Media type -> VTL mapping template (MOCK: its `{"statusCode": 200}` picks the integration's status). */
  requestTemplates?: Record<string, string>;
  /** `integration.request.{header,querystring,path}.X` -> `method.request.…`, `'literal'`, ... */
  requestParameters?: Record<string, string>;
  /** BUFFERED (the default, absent) or STREAM: the answer sent to the client as it arrives (proxy integrations). */
  responseTransferMode?: string;
  contentHandling?: string;
  /** The role ARN an AWS integration would assume (stored; Nimbus calls as the API's account). */
  credentials?: string;
  /** HTTP / HTTP_PROXY over HTTPS: `insecureSkipVerification` accepts a backend certificate of any issuer. */
  tlsConfig?: { insecureSkipVerification: boolean };
  /** `VPC_LINK` for a private integration (absent: INTERNET, unless given). */
  connectionType?: string;
  /** VPC_LINK: the VPC link's id, or `${stageVariables.x}`. */
  connectionId?: string;
  integrationResponses?: Record<string, IntegrationResponseRecord>;
}

export interface MethodResponseRecord {
  statusCode: string;
  responseParameters?: Record<string, boolean>;
  responseModels?: Record<string, string>;
}

/** A JSON schema (draft 4) of a REST API, by name. */
export interface ModelRecord {
  id: string;
  name: string;
  description?: string;
  /** The schema as the JSON text the caller gave. */
  schema?: string;
  contentType: string;
}

export interface RequestValidatorRecord {
  id: string;
  name: string;
  validateRequestBody: boolean;
  validateRequestParameters: boolean;
}

/** A customised gateway response (the API's answer to its own errors: UNAUTHORIZED, DEFAULT_4XX, ...). */
export interface GatewayResponseRecord {
  responseType: string;
  statusCode?: string;
  /** `gatewayresponse.header.X` -> `'literal'` or a request value. */
  responseParameters?: Record<string, string>;
  responseTemplates?: Record<string, string>;
}

export interface MethodRecord {
  httpMethod: string;
  authorizationType: string;
  authorizerId?: string;
  apiKeyRequired: boolean;
  operationName?: string;
  authorizationScopes?: string[];
  requestParameters?: Record<string, boolean>;
  /** Validates the request before the integration (by its parameters and/or body). */
  requestValidatorId?: string;
  /** Content type -> model name: the body's JSON schema when the validator checks the body. */
  requestModels?: Record<string, string>;
  methodResponses?: Record<string, MethodResponseRecord>;
  methodIntegration?: IntegrationRecord;
}

export interface ResourceRecord {
  id: string;
  parentId?: string;
  pathPart?: string;
  path: string;
  resourceMethods?: Record<string, MethodRecord>;
}

export interface RestAuthorizerRecord {
  id: string;
  name: string;
  type: 'TOKEN' | 'REQUEST' | 'COGNITO_USER_POOLS';
  authorizerUri?: string;
  identitySource?: string;
  identityValidationExpression?: string;
  authorizerResultTtlInSeconds: number;
  authType?: string;
  providerARNs?: string[];
}

export interface RestDeploymentRecord {
  id: string;
  description?: string;
  createdDate: number;
  snapshot: {
    resources: ResourceRecord[];
    authorizers: RestAuthorizerRecord[];
    gatewayResponses?: Record<string, GatewayResponseRecord>;
    models?: ModelRecord[];
    requestValidators?: RequestValidatorRecord[];
    /** The API's resource policy when deployed (see resource-policy.ts); absent: none. */
    policy?: string;
  };
}

export interface RestStageRecord {
  stageName: string;
  deploymentId: string;
  description?: string;
  variables: Record<string, string>;
  createdDate: number;
  lastUpdatedDate: number;
  cacheClusterEnabled: boolean;
  /** Shown; a change empties the stage's API cache (its capacity is Nimbus's, per node). */
  cacheClusterSize?: string;
  clientCertificateId?: string;
  /** The documentation version the stage publishes (CreateStage, UpdateStage `/documentationVersion`). */
  documentationVersion?: string;
  tracingEnabled: boolean;
  methodSettings: Record<string, unknown>;
  /** `$context` access log lines to a CloudWatch Logs group. */
  accessLogSettings?: { destinationArn?: string; format?: string };
  /** The stage's canary release: another deployment serving a share of its requests. */
  canarySettings?: RestCanarySettings;
  tags: Record<string, string>;
}

/** A stage's canary release (GetStage `canarySettings`). */
export interface RestCanarySettings {
  deploymentId: string;
  /** The share of the stage's requests the canary serves, 0.0 to 100.0. */
  percentTraffic: number;
  /** Stage variables the canary's requests see instead of (or besides) the stage's. */
  stageVariableOverrides?: Record<string, string>;
  /** Whether canary requests use the stage's API cache. */
  useStageCache: boolean;
}

export interface RestApiRecord {
  id: string;
  name: string;
  description?: string;
  version?: string;
  createdDate: number;
  apiKeySource: string;
  endpointConfiguration: { types: string[] };
  disableExecuteApiEndpoint: boolean;
  binaryMediaTypes?: string[];
  minimumCompressionSize?: number;
  /** The resource policy as API Gateway saves it (`execute-api:/` expanded, JSON-escaped); deployments enforce it. */
  policy?: string;
  tags: Record<string, string>;
  rootResourceId: string;
  resources: ResourceRecord[];
  authorizers: RestAuthorizerRecord[];
  /** Customised gateway responses by type (deployed with the next deployment, as on AWS). */
  gatewayResponses?: Record<string, GatewayResponseRecord>;
  /** Models created on the API (AWS's built-in `Empty` and `Error` are implied). */
  models?: ModelRecord[];
  requestValidators?: RequestValidatorRecord[];
  deployments: RestDeploymentRecord[];
  stages: RestStageRecord[];
  generation: number;
}

export interface ApiKeyRecord {
  id: string;
  value: string;
  name: string;
  description?: string;
  customerId?: string;
  enabled: boolean;
  createdDate: number;
  lastUpdatedDate: number;
  stageKeys: string[];
  tags: Record<string, string>;
}

export interface UsagePlanRecord {
  id: string;
  name: string;
  description?: string;
  apiStages: { apiId: string; stage: string }[];
  throttle?: { burstLimit?: number; rateLimit?: number };
  quota?: { limit: number; offset: number; period: 'DAY' | 'WEEK' | 'MONTH' };
  /** When the quota was set on the plan (epoch ms): its period is the initial one, less `offset`. */
  quotaSince?: number;
  keyIds: string[];
  tags: Record<string, string>;
}

export const scopedKey = (scope: Scope, id: string) => `${scope.accountId}/${scope.region}/${id}`;

export const restErrors = {
  badRequest: (message: string) => new AwsError('BadRequestException', message, 400),
  conflict: (message: string) => new AwsError('ConflictException', message, 409),
  notFound: (message: string) => new AwsError('NotFoundException', message, 404),
  apiNotFound: (scope: Scope, apiId: string) =>
    new AwsError('NotFoundException', `Invalid API identifier specified ${scope.accountId}:${apiId}`, 404),
};

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY'];
