/**
 * HTTP APIs: the implicit `ServerlessHttpApi` and explicit AWS::Serverless::HttpApi resources become
 * AWS::ApiGatewayV2::Api with an OpenAPI 3 `Body` (integrations, CORS, JWT / Lambda authorizers),
 * an AWS::ApiGatewayV2::Stage and the Lambda permissions.
 */
import type { TemplateResource } from '../types.js';
import type { SamContext } from './context.js';
import type { ApiRoute } from './function.js';
import { s3Location } from './function.js';
import { alnum, executeApiArn, lambdaUri, sourceArnPath } from './rest-api.js';
import { buildDomain } from './domain.js';
import { clone, compact, isObject, ref, resource, type Props } from './util.js';

const ANY = 'x-amazon-apigateway-any-method';

const CORS_KEYS: Record<string, string> = {
  AllowOrigins: 'allowOrigins',
  AllowHeaders: 'allowHeaders',
  AllowMethods: 'allowMethods',
  AllowCredentials: 'allowCredentials',
  ExposeHeaders: 'exposeHeaders',
  MaxAge: 'maxAge',
};

function cors(value: unknown): Props | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { allowOrigins: ['*'], allowHeaders: ['*'], allowMethods: ['*'] };
  if (!isObject(value)) return undefined;
  const out: Props = {};
  for (const [k, v] of Object.entries(value)) if (CORS_KEYS[k]) out[CORS_KEYS[k]] = v;
  return out;
}

function securitySchemes(
  ctx: SamContext,
  apiId: string,
  auth: Props,
  add: (id: string, r: TemplateResource) => void,
): Props {
  const out: Props = {};
  const authorizers = isObject(auth.Authorizers) ? auth.Authorizers : {};
  for (const [name, a] of Object.entries(authorizers)) {
    if (!isObject(a)) continue;
    if (a.JwtConfiguration !== undefined) {
      const jwt = isObject(a.JwtConfiguration) ? a.JwtConfiguration : {};
      out[name] = {
        type: 'oauth2',
        'x-amazon-apigateway-authorizer': compact({
          type: 'jwt',
          identitySource: a.IdentitySource ?? '$request.header.Authorization',
          jwtConfiguration: compact({
            issuer: jwt.issuer ?? jwt.Issuer,
            audience: jwt.audience ?? jwt.Audience,
          }),
        }),
      };
      continue;
    }
    if (a.FunctionArn === undefined) {
      ctx.errors.resource(apiId, `${name} Authorizer must define 'FunctionArn' or 'JwtConfiguration'.`);
      continue;
    }
    const identity = isObject(a.Identity) ? a.Identity : {};
    const sources: string[] = [];
    for (const h of (identity.Headers as string[] | undefined) ?? []) sources.push(`$request.header.${h}`);
    for (const q of (identity.QueryStrings as string[] | undefined) ?? [])
      sources.push(`$request.querystring.${q}`);
    for (const s of (identity.StageVariables as string[] | undefined) ?? [])
      sources.push(`$stageVariables.${s}`);
    for (const c of (identity.Context as string[] | undefined) ?? []) sources.push(`$context.${c}`);
    const version = a.AuthorizerPayloadFormatVersion;
    if (version === undefined) {
      ctx.errors.resource(
        apiId,
        `${name} Authorizer must specify AuthorizerPayloadFormatVersion for Lambda Authorizers.`,
      );
      continue;
    }
    out[name] = {
      type: 'apiKey',
      in: 'header',
      name: 'Unused',
      'x-amazon-apigateway-authorizer': compact({
        type: 'request',
        authorizerUri: {
          'Fn::Sub': [
            'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${__FunctionArn__}/invocations',
            { __FunctionArn__: a.FunctionArn },
          ],
        },
        authorizerCredentials: a.FunctionInvokeRole,
        authorizerPayloadFormatVersion: version,
        enableSimpleResponses: a.EnableSimpleResponses,
        identitySource: sources.length > 0 ? sources : undefined,
        authorizerResultTtlInSeconds: identity.ReauthorizeEvery,
      }),
    };
    if (a.FunctionInvokeRole === undefined) {
      add(
        `${apiId}${name}AuthorizerPermission`,
        resource('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: a.FunctionArn,
          Principal: 'apigateway.amazonaws.com',
          SourceArn: {
            'Fn::Sub': [
              'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/authorizers/*',
              { __ApiId__: ref(apiId) },
            ],
          },
        }),
      );
    }
  }
  return out;
}

export function buildHttpApi(
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
  if (props.DefinitionBody !== undefined && props.DefinitionUri !== undefined) {
    ctx.errors.resource(apiId, "Specify either 'DefinitionUri' or 'DefinitionBody' property and not both.");
    return;
  }
  const stageRaw = implicit ? '$default' : (ctx.resolver.resolve(props.StageName) ?? '$default');
  if (typeof stageRaw !== 'string') {
    ctx.errors.resource(apiId, "Type of property 'StageName' is invalid.");
    return;
  }
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
    bodyS3 = compact({ Bucket: loc.Bucket, Key: loc.Key, Version: loc.Version });
  } else {
    body = isObject(props.DefinitionBody)
      ? clone(props.DefinitionBody)
      : { openapi: '3.0.1', info: { version: '1.0', title: ref('AWS::StackName') }, paths: {} };
  }

  const auth = isObject(props.Auth) ? props.Auth : {};
  const schemes = securitySchemes(ctx, apiId, auth, add);
  const defaultAuth = typeof auth.DefaultAuthorizer === 'string' ? auth.DefaultAuthorizer : undefined;
  if (defaultAuth && defaultAuth !== 'AWS_IAM' && !schemes[defaultAuth]) {
    ctx.errors.resource(
      apiId,
      `Unable to set DefaultAuthorizer because '${defaultAuth}' was not defined in 'Authorizers'.`,
    );
    return;
  }

  let usesIam = false;
  if (body) {
    const paths = (body.paths = isObject(body.paths) ? body.paths : {}) as Props;
    for (const r of routes) {
      const methods = (paths[r.path] = isObject(paths[r.path]) ? paths[r.path] : {}) as Props;
      const key = r.method === 'any' ? ANY : r.method;
      const op: Props = {
        'x-amazon-apigateway-integration': compact({
          type: 'aws_proxy',
          httpMethod: 'POST',
          uri: lambdaUri(r.target.subArn),
          payloadFormatVersion: r.props.PayloadFormatVersion ?? '2.0',
          timeoutInMillis: r.props.TimeoutInMillis,
        }),
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
      if (authorizer === 'AWS_IAM') {
        usesIam = true;
        op.security = [{ AWS_IAM: [] }];
      } else if (authorizer && authorizer !== 'NONE')
        op.security = [
          { [authorizer]: Array.isArray(evAuth.AuthorizationScopes) ? evAuth.AuthorizationScopes : [] },
        ];
      if (r.props.RouteSettings !== undefined) {
        // SAM moves per-event RouteSettings onto the stage, keyed by route.
        ctx.httpRouteSettings.push({
          apiId,
          key: `${r.method === 'any' ? 'ANY' : r.method.toUpperCase()} ${r.path}`,
          settings: r.props.RouteSettings,
        });
      }
      methods[key] = op;
    }
    if (usesIam) {
      schemes.AWS_IAM = {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      };
    }
    if (Object.keys(schemes).length > 0) {
      const components = (body.components = isObject(body.components) ? body.components : {}) as Props;
      const existing = isObject(components.securitySchemes) ? components.securitySchemes : {};
      components.securitySchemes = { ...existing, ...schemes };
    }
    const c = cors(props.CorsConfiguration);
    if (c) body['x-amazon-apigateway-cors'] = c;
    body.tags = [
      ...(Array.isArray(body.tags) ? body.tags : []),
      { name: 'httpapi:createdBy', 'x-amazon-apigateway-tag-value': 'SAM' },
      ...(isObject(props.Tags)
        ? Object.entries(props.Tags).map(([name, value]) => ({
            name,
            'x-amazon-apigateway-tag-value': value,
          }))
        : []),
    ];
  }

  add(
    apiId,
    resource('AWS::ApiGatewayV2::Api', {
      Name: props.Name,
      Description: props.Description,
      Body: body,
      BodyS3Location: bodyS3,
      FailOnWarnings: props.FailOnWarnings,
      DisableExecuteApiEndpoint: props.DisableExecuteApiEndpoint,
    }),
  );

  const routeSettings: Props = isObject(props.RouteSettings) ? clone(props.RouteSettings) : {};
  for (const rs of ctx.httpRouteSettings.filter((x) => x.apiId === apiId))
    routeSettings[rs.key] = rs.settings;
  const stageId =
    stageRaw === '$default' ? `${apiId}ApiGatewayDefaultStage` : `${apiId}${alnum(stageRaw)}Stage`;
  add(
    stageId,
    resource('AWS::ApiGatewayV2::Stage', {
      ApiId: ref(apiId),
      StageName: stageRaw,
      AutoDeploy: true,
      StageVariables: props.StageVariables,
      DefaultRouteSettings: props.DefaultRouteSettings,
      RouteSettings: Object.keys(routeSettings).length > 0 ? routeSettings : undefined,
      AccessLogSettings: props.AccessLogSettings,
      Tags: { 'httpapi:createdBy': 'SAM', ...(isObject(props.Tags) ? props.Tags : {}) },
    }),
  );
  ctx.specialRefs[`${apiId}.Stage`] = stageId;
  buildDomain(ctx, apiId, props.Domain, stageId, 'HTTP', add);

  for (const r of routes) {
    const perm = resource('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: r.target.ref,
      Principal: 'apigateway.amazonaws.com',
      SourceArn: executeApiArn(apiId, sourceArnPath(r.path, r.method)),
    });
    if (r.target.condition) perm.Condition = r.target.condition;
    ctx.add(`${r.fnId}${r.eventId}Permission`, perm);
  }
}
