/**
 * REST APIs: the implicit `ServerlessRestApi` and explicit AWS::Serverless::Api resources become
 * AWS::ApiGateway::RestApi (Swagger 2.0 or OpenAPI 3 `Body`), a Deployment whose logical id hashes
 * the definition, a Stage, Lambda permissions, authorizers, CORS preflight methods and usage plans.
 */
import { buildDomain } from './domain.js';
import type { TemplateResource } from '../types.js';
import type { SamContext } from './context.js';
import type { ApiRoute } from './function.js';
import { s3Location } from './function.js';
import { clone, compact, isObject, ref, resource, sha1, type Props } from './util.js';

const ANY = 'x-amazon-apigateway-any-method';
const ALL_METHODS = 'DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT';

export const lambdaUri = (subArn: string): Props => ({
  'Fn::Sub': `arn:\${AWS::Partition}:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/${subArn}/invocations`,
});

/** `/users/{id}` + `get` -> the `execute-api` resource path in a permission's SourceArn. */
export function sourceArnPath(path: string, method: string): string {
  const m = method === 'any' || method === ANY ? '*' : method.toUpperCase();
  if (path === '$default') return '*';
  return `${m}${path.replace(/\{[^}]+\}/g, '*')}`;
}

export const executeApiArn = (apiId: string, resourcePath: string): Props => ({
  'Fn::Sub': [
    `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${__ApiId__}/\${__Stage__}/${resourcePath}`,
    { __ApiId__: ref(apiId), __Stage__: '*' },
  ],
});

export const alnum = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '');

function pathMethodKey(method: string): string {
  return method === 'any' ? ANY : method;
}

function authorizerSchemes(ctx: SamContext, apiId: string, auth: Props, cond: string | undefined): Props {
  const schemes: Props = {};
  const authorizers = isObject(auth.Authorizers) ? auth.Authorizers : {};
  for (const [name, a] of Object.entries(authorizers)) {
    if (!isObject(a)) continue;
    const identity = isObject(a.Identity) ? a.Identity : {};
    if (a.UserPoolArn !== undefined) {
      schemes[name] = {
        type: 'apiKey',
        name: identity.Header ?? 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'cognito_user_pools',
        'x-amazon-apigateway-authorizer': compact({
          type: 'cognito_user_pools',
          providerARNs: Array.isArray(a.UserPoolArn) ? a.UserPoolArn : [a.UserPoolArn],
          identityValidationExpression: identity.ValidationExpression,
        }),
      };
      continue;
    }
    if (a.FunctionArn === undefined) {
      ctx.errors.resource(apiId, `Authorizer ${name} must define 'FunctionArn' or 'UserPoolArn'.`);
      continue;
    }
    const request = a.FunctionPayloadType === 'REQUEST';
    const sources: string[] = [];
    if (request) {
      for (const h of (identity.Headers as string[] | undefined) ?? [])
        sources.push(`method.request.header.${h}`);
      for (const q of (identity.QueryStrings as string[] | undefined) ?? [])
        sources.push(`method.request.querystring.${q}`);
      for (const s of (identity.StageVariables as string[] | undefined) ?? [])
        sources.push(`stageVariables.${s}`);
      for (const c of (identity.Context as string[] | undefined) ?? []) sources.push(`context.${c}`);
    }
    schemes[name] = {
      type: 'apiKey',
      name: request ? 'Unused' : (identity.Header ?? 'Authorization'),
      in: 'header',
      'x-amazon-apigateway-authtype': 'custom',
      'x-amazon-apigateway-authorizer': compact({
        type: request ? 'request' : 'token',
        authorizerUri: {
          'Fn::Sub': [
            'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations',
            { __FunctionArn__: a.FunctionArn },
          ],
        },
        authorizerCredentials: a.FunctionInvokeRole,
        authorizerResultTtlInSeconds: identity.ReauthorizeEvery,
        identityValidationExpression: request ? undefined : identity.ValidationExpression,
        identitySource: request ? sources.join(', ') || undefined : undefined,
      }),
    };
    if (a.FunctionInvokeRole === undefined) {
      const perm: TemplateResource = resource('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: a.FunctionArn,
        Principal: 'apigateway.amazonaws.com',
        SourceArn: {
          'Fn::Sub': [
            'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/authorizers/*',
            { __ApiId__: ref(apiId) },
          ],
        },
      });
      if (cond) perm.Condition = cond;
      ctx.add(`${apiId}${name}AuthorizerPermission`, perm);
    }
  }
  return schemes;
}

function corsConfig(cors: unknown): Props | undefined {
  if (cors === undefined) return undefined;
  if (typeof cors === 'string' || !isObject(cors)) return { AllowOrigin: cors };
  return cors;
}

const INVOKE = 'execute-api:Invoke';

/** `execute-api:/{stage}/{METHOD}{path}` of each method of a definition's path, as SAM names them. */
function pathResources(methods: Props, path: string, stage: string): Props[] {
  const p = path.replace(/\{[A-Za-z0-9._-]+\+?\}/g, '*').replace(/(.)\/$/, '$1');
  return Object.keys(methods)
    .filter((m) => m === ANY || m === 'any' || ALL_METHODS.split(',').includes(m.toUpperCase()))
    .map((m) => ({
      'Fn::Sub': [
        `execute-api:/\${__Stage__}/${m === ANY || m === 'any' ? '*' : m.toUpperCase()}${p}`,
        { __Stage__: stage },
      ],
    }));
}

/**
 * SAM's translation of a ResourcePolicyStatement for one path into the definition's
 * `x-amazon-apigateway-policy`: AwsAccountWhitelist / Blacklist an Allow / Deny naming the
 * accounts; IpRangeWhitelist / Blacklist an Allow for everyone and a Deny with NotIpAddress /
 * IpAddress on aws:SourceIp; SourceVpcWhitelist / Blacklist (and the Intrinsic* lists) the same
 * with StringNotEquals / StringEquals on aws:SourceVpc (`vpc-...`) and aws:SourceVpce (`vpce-...`).
 * Each statement's resources are the path's methods on the API's stage.
 */
function addResourcePolicy(body: Props, rp: Props, path: string, stage: string): void {
  const methods = isObject((body.paths as Props)[path]) ? ((body.paths as Props)[path] as Props) : {};
  const Resource = pathResources(methods, path, stage);
  const statements = policyStatements(body) as Props[];
  const addOnce = (st: Props) => {
    if (!statements.some((x) => JSON.stringify(x) === JSON.stringify(st))) statements.push(st);
  };
  const list = (v: unknown) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  for (const [key, Effect] of [
    ['AwsAccountWhitelist', 'Allow'],
    ['AwsAccountBlacklist', 'Deny'],
  ] as const) {
    const accounts = list(rp[key]);
    if (accounts?.length) statements.push({ Effect, Action: INVOKE, Resource, Principal: { AWS: accounts } });
  }
  const allowAll = { Effect: 'Allow', Action: INVOKE, Resource, Principal: '*' };
  const denyWhen = (Condition: Props) => {
    addOnce(allowAll);
    addOnce({ Effect: 'Deny', Action: INVOKE, Resource, Principal: '*', Condition });
  };
  for (const [key, op] of [
    ['IpRangeWhitelist', 'NotIpAddress'],
    ['IpRangeBlacklist', 'IpAddress'],
  ] as const) {
    const ips = list(rp[key]);
    if (ips?.length) denyWhen({ [op]: { 'aws:SourceIp': ips } });
  }
  for (const [kind, op] of [
    ['Blacklist', 'StringEquals'],
    ['Whitelist', 'StringNotEquals'],
  ] as const) {
    const cond: Props = {};
    const endpoints = (list(rp[`SourceVpc${kind}`]) ?? []).map(String);
    const vpc = [
      ...endpoints.filter((e) => e.startsWith('vpc-')),
      ...(list(rp[`IntrinsicVpc${kind}`]) ?? []),
    ];
    const vpce = [
      ...endpoints.filter((e) => e.startsWith('vpce-')),
      ...(list(rp[`IntrinsicVpce${kind}`]) ?? []),
    ];
    if (vpc.length) cond['aws:SourceVpc'] = vpc;
    if (vpce.length) cond['aws:SourceVpce'] = vpce;
    if (vpc.length || vpce.length) denyWhen({ [op]: cond });
  }
}

/** The definition's `x-amazon-apigateway-policy` statements (made, with its Version, when absent), to add to. */
function policyStatements(body: Props): unknown[] {
  const policy = (body['x-amazon-apigateway-policy'] = isObject(body['x-amazon-apigateway-policy'])
    ? body['x-amazon-apigateway-policy']
    : {}) as Props;
  policy.Version = '2012-10-17';
  return (policy.Statement = Array.isArray(policy.Statement)
    ? policy.Statement
    : policy.Statement === undefined
      ? []
      : [policy.Statement]) as unknown[];
}

/** A ResourcePolicyStatement's CustomStatements, added once (not per path) as SAM does. */
function addCustomStatements(body: Props, rp: Props): void {
  const custom = rp.CustomStatements;
  if (custom === undefined || custom === null) return;
  const statements = policyStatements(body);
  for (const s of Array.isArray(custom) ? custom : [custom])
    if (!statements.some((x) => JSON.stringify(x) === JSON.stringify(s))) statements.push(s);
}

/** Adds SAM's mock OPTIONS method to every path; `security` is what SAM puts on the preflight (default authorizer, API key). */
function addCors(paths: Props, cors: Props, security: Props[]): void {
  for (const [path, methods] of Object.entries(paths)) {
    if (!isObject(methods) || methods.options !== undefined) continue;
    const verbs = Object.keys(methods)
      .filter((m) => m !== 'parameters')
      .map((m) => (m === ANY ? ALL_METHODS : m.toUpperCase()));
    const allowMethods =
      cors.AllowMethods ?? `'${[...new Set([...verbs.join(',').split(','), 'OPTIONS'])].sort().join(',')}'`;
    const params: Props = compact({
      'method.response.header.Access-Control-Allow-Origin': cors.AllowOrigin,
      'method.response.header.Access-Control-Allow-Methods': allowMethods,
      'method.response.header.Access-Control-Allow-Headers': cors.AllowHeaders,
      'method.response.header.Access-Control-Max-Age': cors.MaxAge,
      'method.response.header.Access-Control-Allow-Credentials':
        cors.AllowCredentials === true ? "'true'" : undefined,
    });
    const headers: Props = {};
    for (const k of Object.keys(params))
      headers[k.slice('method.response.header.'.length)] = { type: 'string' };
    methods.options = {
      summary: 'CORS support',
      consumes: ['application/json'],
      produces: ['application/json'],
      'x-amazon-apigateway-integration': {
        type: 'mock',
        requestTemplates: { 'application/json': '{\n  "statusCode" : 200\n}\n' },
        responses: {
          default: {
            statusCode: '200',
            responseParameters: params,
            responseTemplates: { 'application/json': '{}\n' },
          },
        },
      },
      responses: { '200': { description: 'Default response for CORS method', headers } },
    };
    if (security.length > 0) (methods.options as Props).security = security;
    paths[path] = methods;
  }
}

/** The request validator names SAM gives to each combination. */
function validatorName(body: boolean, params: boolean): string {
  if (body && params) return 'body-and-params';
  if (body) return 'body-only';
  if (params) return 'params-only';
  return 'no-validation';
}

function gatewayResponses(responses: unknown): Props | undefined {
  if (!isObject(responses)) return undefined;
  const out: Props = {};
  for (const [type, r] of Object.entries(responses)) {
    if (!isObject(r)) continue;
    const params: Props = {};
    const rp = isObject(r.ResponseParameters) ? r.ResponseParameters : {};
    for (const [kind, prefix] of [
      ['Headers', 'header'],
      ['Paths', 'path'],
      ['QueryStrings', 'querystring'],
    ] as const) {
      for (const [k, v] of Object.entries(isObject(rp[kind]) ? (rp[kind] as Props) : {}))
        params[`gatewayresponse.${prefix}.${k}`] = v;
    }
    out[type] = compact({
      responseParameters: Object.keys(params).length > 0 ? params : undefined,
      responseTemplates: r.ResponseTemplates,
      statusCode: r.StatusCode,
    });
  }
  return out;
}

export function buildRestApi(
  ctx: SamContext,
  apiId: string,
  props: Props,
  routes: ApiRoute[],
  implicit: boolean,
  src?: TemplateResource,
): void {
  const cond = src?.Condition;
  const add = (id: string, res: TemplateResource) => {
    if (cond) res.Condition = cond;
    ctx.add(id, res);
  };
  const stageRaw = implicit ? 'Prod' : ctx.resolver.resolve(props.StageName);
  if (stageRaw === undefined) {
    ctx.errors.resource(apiId, "Missing required property 'StageName'.");
    return;
  }
  if (typeof stageRaw !== 'string') {
    ctx.errors.resource(apiId, "Type of property 'StageName' is invalid.");
    return;
  }
  if (props.DefinitionBody !== undefined && props.DefinitionUri !== undefined) {
    ctx.errors.resource(apiId, "Specify either 'DefinitionUri' or 'DefinitionBody' property and not both.");
    return;
  }
  const openApi = typeof props.OpenApiVersion === 'string' && /^3\./.test(props.OpenApiVersion);
  let body: Props | undefined;
  let bodyS3: Props | undefined;
  if (props.DefinitionUri !== undefined) {
    const loc = s3Location(ctx.resolver.resolve(props.DefinitionUri));
    if (loc === undefined || loc === 'local') {
      ctx.errors.resource(
        apiId,
        "'DefinitionUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter.",
      );
      return;
    }
    bodyS3 = compact({ ...loc });
  } else if (isObject(props.DefinitionBody)) {
    body = clone(props.DefinitionBody);
  } else {
    body = openApi
      ? { openapi: props.OpenApiVersion, info: { version: '1.0', title: ref('AWS::StackName') }, paths: {} }
      : { swagger: '2.0', info: { version: '1.0', title: ref('AWS::StackName') }, paths: {} };
  }

  const auth = isObject(props.Auth) ? props.Auth : {};
  const schemes = authorizerSchemes(ctx, apiId, auth, cond);
  const defaultAuth = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
  if (defaultAuth && defaultAuth !== 'AWS_IAM' && !schemes[defaultAuth]) {
    ctx.errors.resource(
      apiId,
      `Unable to set DefaultAuthorizer because '${defaultAuth}' was not defined in 'Authorizers'.`,
    );
    return;
  }
  let usesApiKey = false;
  let usesIam = false;

  if (body) {
    const paths = (body.paths = isObject(body.paths) ? body.paths : {}) as Props;
    const validators: Props = {};
    for (const r of routes) {
      const methods = (paths[r.path] = isObject(paths[r.path]) ? paths[r.path] : {}) as Props;
      const key = pathMethodKey(r.method);
      const op: Props = {
        'x-amazon-apigateway-integration': {
          type: 'aws_proxy',
          httpMethod: 'POST',
          uri: lambdaUri(r.target.subArn),
        },
        responses: {},
      };
      const evAuth = isObject(r.props.Auth) ? r.props.Auth : {};
      const authorizer = typeof evAuth.Authorizer === 'string' ? evAuth.Authorizer : defaultAuth;
      if (authorizer && authorizer !== 'NONE' && authorizer !== 'AWS_IAM' && !schemes[authorizer]) {
        ctx.errors.event(
          r.fnId,
          r.eventId,
          `Unable to set Authorizer [${authorizer}] on API method [${r.method}] for path [${r.path}] because it wasn't defined in the API's Authorizers.`,
        );
        continue;
      }
      const security: Props[] = [];
      if (authorizer === 'AWS_IAM') {
        usesIam = true;
        security.push({ AWS_IAM: [] });
      } else if (authorizer && authorizer !== 'NONE') {
        security.push({
          [authorizer]: Array.isArray(evAuth.AuthorizationScopes) ? evAuth.AuthorizationScopes : [],
        });
      }
      const apiKey = evAuth.ApiKeyRequired ?? auth.ApiKeyRequired;
      if (apiKey === true) {
        usesApiKey = true;
        security.push({ api_key: [] });
      }
      if (security.length > 0) op.security = security;
      if (Array.isArray(r.props.RequestParameters)) {
        const parameters: Props[] = [];
        const cacheKeys: string[] = [];
        for (const p of r.props.RequestParameters) {
          const [name, opts] =
            typeof p === 'string' ? [p, {}] : isObject(p) ? Object.entries(p)[0] : ['', {}];
          const m = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(String(name));
          if (!m) {
            ctx.errors.event(
              r.fnId,
              r.eventId,
              "Invalid value for 'RequestParameters' property. Keys must be in the format 'method.request.[querystring|path|header].{value}', e.g 'method.request.header.Authorization'.",
            );
            continue;
          }
          const o = isObject(opts) ? opts : {};
          parameters.push({
            in: m[1] === 'querystring' ? 'query' : m[1],
            name: m[2],
            required: o.Required === true,
            type: 'string',
          });
          if (o.Caching === true) cacheKeys.push(String(name));
        }
        op.parameters = parameters;
        if (cacheKeys.length > 0)
          (op['x-amazon-apigateway-integration'] as Props).cacheKeyParameters = cacheKeys;
      }
      if (isObject(r.props.RequestModel)) {
        const rm = r.props.RequestModel;
        const model = String(rm.Model ?? '');
        if (!isObject(props.Models) || !(model in props.Models)) {
          ctx.errors.event(
            r.fnId,
            r.eventId,
            `Unable to set RequestModel [${model}] on API method [${r.method}] for path [${r.path}] because it wasn't defined in the API's Models.`,
          );
          continue;
        }
        // SAM names the definitions after the models, lower-cased.
        const name = model.toLowerCase();
        if (openApi)
          op.requestBody = compact({
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } },
            required: rm.Required === true ? true : undefined,
          });
        else
          op.parameters = [
            ...((op.parameters as Props[] | undefined) ?? []),
            compact({
              in: 'body',
              name,
              required: rm.Required === true ? true : undefined,
              schema: { $ref: `#/definitions/${name}` },
            }),
          ];
        if (rm.ValidateBody !== undefined || rm.ValidateParameters !== undefined) {
          const validator = validatorName(rm.ValidateBody === true, rm.ValidateParameters === true);
          op['x-amazon-apigateway-request-validator'] = validator;
          validators[validator] = {
            validateRequestBody: rm.ValidateBody === true,
            validateRequestParameters: rm.ValidateParameters === true,
          };
        }
      }
      methods[key] = op;
      // The event's own ResourcePolicy: statements for its path.
      if (isObject(evAuth.ResourcePolicy)) {
        addResourcePolicy(body, evAuth.ResourcePolicy, r.path, stageRaw);
        addCustomStatements(body, evAuth.ResourcePolicy);
      }
    }
    const securityDefs: Props = { ...schemes };
    if (usesApiKey) securityDefs.api_key = { type: 'apiKey', name: 'x-api-key', in: 'header' };
    if (usesIam)
      securityDefs.AWS_IAM = {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      };
    if (Object.keys(securityDefs).length > 0) {
      if (openApi) {
        const components = (body.components = isObject(body.components) ? body.components : {}) as Props;
        components.securitySchemes = {
          ...(isObject(components.securitySchemes) ? components.securitySchemes : {}),
          ...securityDefs,
        };
      } else {
        body.securityDefinitions = {
          ...(isObject(body.securityDefinitions) ? body.securityDefinitions : {}),
          ...securityDefs,
        };
      }
    }
    const cors = corsConfig(props.Cors);
    if (cors) {
      // SAM puts the default authorizer and the API key on preflight methods unless told not to.
      const preflight: Props[] = [];
      if (defaultAuth && auth.AddDefaultAuthorizerToCorsPreflight !== false)
        preflight.push({ [defaultAuth]: [] });
      if (auth.ApiKeyRequired === true && auth.AddApiKeyRequiredToCorsPreflight !== false)
        preflight.push({ api_key: [] });
      addCors(paths, cors, preflight);
    }
    // Auth.ResourcePolicy: statements for every path of the definition, then the custom ones.
    if (auth.ResourcePolicy !== undefined) {
      if (!isObject(auth.ResourcePolicy)) {
        ctx.errors.resource(apiId, 'ResourcePolicy must be a map (ResourcePolicyStatement).');
        return;
      }
      for (const path of Object.keys(paths)) addResourcePolicy(body, auth.ResourcePolicy, path, stageRaw);
      addCustomStatements(body, auth.ResourcePolicy);
    }
    const gw = gatewayResponses(props.GatewayResponses);
    if (gw) body['x-amazon-apigateway-gateway-responses'] = gw;
    if (isObject(props.Models)) {
      const defs: Props = {};
      for (const [name, schema] of Object.entries(props.Models)) defs[name.toLowerCase()] = schema;
      if (openApi) {
        const components = (body.components = isObject(body.components) ? body.components : {}) as Props;
        components.schemas = { ...(isObject(components.schemas) ? components.schemas : {}), ...defs };
      } else body.definitions = { ...(isObject(body.definitions) ? body.definitions : {}), ...defs };
    }
    if (Object.keys(validators).length)
      body['x-amazon-apigateway-request-validators'] = {
        ...(isObject(body['x-amazon-apigateway-request-validators'])
          ? body['x-amazon-apigateway-request-validators']
          : {}),
        ...validators,
      };
    if (Array.isArray(props.BinaryMediaTypes))
      body['x-amazon-apigateway-binary-media-types'] = props.BinaryMediaTypes.map((t) =>
        typeof t === 'string' ? t.replace(/~1/g, '/') : t,
      );
  }

  const endpointType = isObject(props.EndpointConfiguration)
    ? props.EndpointConfiguration.Type
    : props.EndpointConfiguration;
  add(
    apiId,
    resource('AWS::ApiGateway::RestApi', {
      Name: props.Name,
      Description: props.Description,
      Body: body,
      BodyS3Location: bodyS3,
      EndpointConfiguration:
        endpointType !== undefined
          ? compact({
              Types: [endpointType],
              VpcEndpointIds: isObject(props.EndpointConfiguration)
                ? props.EndpointConfiguration.VPCEndpointIds
                : undefined,
            })
          : undefined,
      Parameters: endpointType !== undefined ? { endpointConfigurationTypes: endpointType } : undefined,
      BinaryMediaTypes: Array.isArray(props.BinaryMediaTypes)
        ? props.BinaryMediaTypes.map((t) => (typeof t === 'string' ? t.replace(/~1/g, '/') : t))
        : undefined,
      MinimumCompressionSize: props.MinimumCompressionSize,
      ApiKeySourceType: props.ApiKeySourceType,
      DisableExecuteApiEndpoint: props.DisableExecuteApiEndpoint,
      Mode: props.Mode,
      FailOnWarnings: props.FailOnWarnings,
      Tags: isObject(props.Tags)
        ? Object.entries(props.Tags).map(([Key, Value]) => ({ Key, Value }))
        : undefined,
    }),
  );

  const digest = sha1({ body: body ?? bodyS3, openApi: props.OpenApiVersion ?? null });
  const deploymentId = `${apiId}Deployment${digest.slice(0, 10)}`;
  add(
    deploymentId,
    resource('AWS::ApiGateway::Deployment', {
      RestApiId: ref(apiId),
      Description: `RestApi deployment id: ${digest}`,
      StageName: openApi ? undefined : 'Stage',
    }),
  );
  const stageId = `${apiId}${alnum(stageRaw)}Stage`;
  add(
    stageId,
    resource('AWS::ApiGateway::Stage', {
      DeploymentId: ref(deploymentId),
      RestApiId: ref(apiId),
      StageName: stageRaw,
      Variables: props.Variables,
      MethodSettings: props.MethodSettings,
      CacheClusterEnabled: props.CacheClusterEnabled,
      CacheClusterSize: props.CacheClusterSize,
      TracingEnabled: props.TracingEnabled,
      AccessLogSetting: props.AccessLogSetting,
      CanarySetting: props.CanarySetting,
    }),
  );
  ctx.specialRefs[`${apiId}.Stage`] = stageId;
  ctx.specialRefs[`${apiId}.Deployment`] = deploymentId;
  buildDomain(ctx, apiId, props.Domain, stageId, 'REST', add);

  for (const r of routes) {
    const perm = resource('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: r.target.ref,
      Principal: 'apigateway.amazonaws.com',
      SourceArn: executeApiArn(apiId, sourceArnPath(r.path, r.method)),
    });
    if (r.target.condition) perm.Condition = r.target.condition;
    ctx.add(`${r.fnId}${r.eventId}Permission${alnum(stageRaw)}`, perm);
  }

  usagePlan(ctx, apiId, stageId, auth, add);
}

function usagePlan(
  ctx: SamContext,
  apiId: string,
  stageId: string,
  auth: Props,
  add: (id: string, res: TemplateResource) => void,
): void {
  const plan = isObject(auth.UsagePlan) ? auth.UsagePlan : undefined;
  if (!plan) return;
  const mode = plan.CreateUsagePlan;
  if (!['PER_API', 'SHARED', 'NONE'].includes(String(mode))) {
    ctx.errors.resource(apiId, "'CreateUsagePlan' accepts one of ['PER_API', 'SHARED', 'NONE'].");
    return;
  }
  if (mode === 'NONE') return;
  const prefix = mode === 'PER_API' ? apiId : 'Serverless';
  const planId = `${prefix}UsagePlan`;
  const stage = { ApiId: ref(apiId), Stage: ref(stageId) };
  const existing = ctx.out[planId];
  if (existing && mode === 'SHARED') {
    (existing.Properties!.ApiStages as Props[]).push(stage);
    (existing.DependsOn as string[]).push(apiId);
    return;
  }
  add(
    planId,
    resource(
      'AWS::ApiGateway::UsagePlan',
      {
        ApiStages: [stage],
        Description: plan.Description,
        Quota: plan.Quota,
        Throttle: plan.Throttle,
        UsagePlanName: plan.UsagePlanName,
        Tags: plan.Tags,
      },
      { DependsOn: [apiId] },
    ),
  );
  add(
    `${prefix}ApiKey`,
    resource(
      'AWS::ApiGateway::ApiKey',
      { Enabled: true, StageKeys: [{ RestApiId: ref(apiId), StageName: ref(stageId) }] },
      { DependsOn: [planId] },
    ),
  );
  add(
    `${prefix}UsagePlanKey`,
    resource(
      'AWS::ApiGateway::UsagePlanKey',
      { KeyId: ref(`${prefix}ApiKey`), UsagePlanId: ref(planId), KeyType: 'API_KEY' },
      { DependsOn: [`${prefix}ApiKey`] },
    ),
  );
}
