/**
 * AWS::ApiGatewayV2::* (HTTP and WebSocket APIs) through the apigatewayv2 API. An Api with a `Body` (an
 * OpenAPI 3 document with the x-amazon-apigateway-* extensions) is imported as CloudFormation
 * does: integrations, authorizers and routes created one by one; a new Body replaces them.
 */
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  UpdateApiCommand,
  DeleteApiCommand,
  CreateIntegrationCommand,
  UpdateIntegrationCommand,
  DeleteIntegrationCommand,
  GetIntegrationsCommand,
  CreateRouteCommand,
  UpdateRouteCommand,
  CreateRouteResponseCommand,
  UpdateRouteResponseCommand,
  DeleteRouteResponseCommand,
  DeleteRouteCommand,
  GetRoutesCommand,
  CreateAuthorizerCommand,
  UpdateAuthorizerCommand,
  DeleteAuthorizerCommand,
  GetAuthorizersCommand,
  CreateStageCommand,
  UpdateStageCommand,
  DeleteStageCommand,
  CreateDeploymentCommand,
  DeleteDeploymentCommand,
} from '@aws-sdk/client-apigatewayv2';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { bodyOf, METHODS } from './openapi.js';
import { bool, clean, ignoreMissing, list, num, str, tagMap, type Props } from './util.js';

const client = (ctx: ResourceContext) => new ApiGatewayV2Client(ctx.clientConfig);

function cors(v: unknown) {
  const c = v as Props | undefined;
  if (!c) return undefined;
  const pick = (a: string, b: string) => (c[a] ?? c[b]) as string[] | undefined;
  return clean({
    AllowCredentials: bool(c.AllowCredentials ?? c.allowCredentials),
    AllowHeaders: pick('AllowHeaders', 'allowHeaders'),
    AllowMethods: pick('AllowMethods', 'allowMethods'),
    AllowOrigins: pick('AllowOrigins', 'allowOrigins'),
    ExposeHeaders: pick('ExposeHeaders', 'exposeHeaders'),
    MaxAge: num(c.MaxAge ?? c.maxAge),
  });
}

/** Creates the authorizers, integrations and routes an OpenAPI document describes. */
async function importBody(c: ApiGatewayV2Client, apiId: string, body: Props): Promise<void> {
  const schemes = ((body.components as Props | undefined)?.securitySchemes ?? {}) as Record<string, Props>;
  const authorizers = new Map<string, { id: string; type: 'JWT' | 'CUSTOM' }>();
  for (const [name, scheme] of Object.entries(schemes)) {
    const a = scheme['x-amazon-apigateway-authorizer'] as Props | undefined;
    if (!a) continue;
    const type = String(a.type).toLowerCase();
    if (type === 'jwt') {
      const jwt = (a.jwtConfiguration ?? {}) as Props;
      const out = await c.send(
        new CreateAuthorizerCommand({
          ApiId: apiId,
          Name: name,
          AuthorizerType: 'JWT',
          IdentitySource: list<string>(a.identitySource ?? '$request.header.Authorization'),
          JwtConfiguration: { Issuer: str(jwt.issuer), Audience: list<string>(jwt.audience) },
        }),
      );
      authorizers.set(name, { id: out.AuthorizerId!, type: 'JWT' });
    } else {
      const out = await c.send(
        new CreateAuthorizerCommand({
          ApiId: apiId,
          Name: name,
          AuthorizerType: 'REQUEST',
          AuthorizerUri: str(a.authorizerUri),
          AuthorizerPayloadFormatVersion: str(a.authorizerPayloadFormatVersion) ?? '2.0',
          EnableSimpleResponses: bool(a.enableSimpleResponses),
          AuthorizerResultTtlInSeconds: num(a.authorizerResultTtlInSeconds),
          IdentitySource:
            a.identitySource === undefined
              ? undefined
              : String(a.identitySource)
                  .split(',')
                  .map((s) => s.trim()),
        }),
      );
      authorizers.set(name, { id: out.AuthorizerId!, type: 'CUSTOM' });
    }
  }
  const integrations = new Map<string, string>();
  const globalSecurity = list<Props>(body.security);
  for (const [path, item] of Object.entries((body.paths ?? {}) as Record<string, Props>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method.toLowerCase())) continue;
      const o = op as Props;
      const integ = o['x-amazon-apigateway-integration'] as Props | undefined;
      let target: string | undefined;
      if (integ) {
        const key = JSON.stringify(integ);
        let id = integrations.get(key);
        if (!id) {
          const out = await c.send(
            new CreateIntegrationCommand({
              ApiId: apiId,
              IntegrationType: String(integ.type ?? 'aws_proxy').toUpperCase() as any,
              IntegrationUri: str(integ.uri),
              IntegrationSubtype: str(integ.integrationSubtype),
              CredentialsArn: str(integ.credentials),
              IntegrationMethod: str(integ.httpMethod),
              PayloadFormatVersion:
                str(integ.payloadFormatVersion) ?? (integ.integrationSubtype ? '1.0' : '2.0'),
              TimeoutInMillis: num(integ.timeoutInMillis),
              RequestParameters: integ.requestParameters as Record<string, string> | undefined,
              ResponseParameters: integ.responseParameters as
                Record<string, Record<string, string>> | undefined,
            }),
          );
          id = out.IntegrationId!;
          integrations.set(key, id);
        }
        target = `integrations/${id}`;
      }
      const verb = method.toLowerCase() === 'x-amazon-apigateway-any-method' ? 'ANY' : method.toUpperCase();
      const routeKey = path === '/$default' ? '$default' : `${verb} ${path}`;
      const security = o.security !== undefined ? list<Props>(o.security) : globalSecurity;
      let auth: { AuthorizationType: any; AuthorizerId?: string; AuthorizationScopes?: string[] } = {
        AuthorizationType: 'NONE',
      };
      for (const req of security) {
        const [name] = Object.keys(req);
        const a = name ? authorizers.get(name) : undefined;
        if (!a) continue;
        const scopes = list<string>(req[name]);
        auth = {
          AuthorizationType: a.type,
          AuthorizerId: a.id,
          AuthorizationScopes: a.type === 'JWT' && scopes.length ? scopes : undefined,
        };
        break;
      }
      await c.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: routeKey, Target: target, ...auth }));
    }
  }
}

/** Removes what a previous Body created (routes first: they point at the rest). */
async function clearApi(c: ApiGatewayV2Client, apiId: string): Promise<void> {
  const routes = (await c.send(new GetRoutesCommand({ ApiId: apiId, MaxResults: '500' }))).Items ?? [];
  for (const r of routes) await c.send(new DeleteRouteCommand({ ApiId: apiId, RouteId: r.RouteId }));
  const integs = (await c.send(new GetIntegrationsCommand({ ApiId: apiId, MaxResults: '500' }))).Items ?? [];
  for (const i of integs)
    await c.send(new DeleteIntegrationCommand({ ApiId: apiId, IntegrationId: i.IntegrationId }));
  const auths = (await c.send(new GetAuthorizersCommand({ ApiId: apiId, MaxResults: '500' }))).Items ?? [];
  for (const a of auths)
    await c.send(new DeleteAuthorizerCommand({ ApiId: apiId, AuthorizerId: a.AuthorizerId }));
}

function apiSettings(props: Props, body: Props | undefined, ctx?: ResourceContext) {
  const info = (body?.info ?? {}) as Props;
  return clean({
    RouteSelectionExpression: str(props.RouteSelectionExpression),
    ApiKeySelectionExpression: str(props.ApiKeySelectionExpression),
    Name: str(props.Name) ?? str(info.title) ?? ctx?.physicalName(128),
    Description: str(props.Description) ?? str(info.description),
    CorsConfiguration: cors(props.CorsConfiguration ?? body?.['x-amazon-apigateway-cors']),
    DisableExecuteApiEndpoint: bool(props.DisableExecuteApiEndpoint),
    Version: str(props.Version) ?? str(info.version),
  });
}

export const apiGatewayV2Api: ResourceProvider = {
  replaceOn: ['ProtocolType'],
  async create(props, ctx) {
    const c = client(ctx);
    const body = bodyOf(props);
    const out = await c.send(
      new CreateApiCommand({
        ...apiSettings(props, body, ctx),
        ProtocolType: (str(props.ProtocolType) ?? 'HTTP') as any,
        RouteKey: body ? undefined : str(props.RouteKey),
        Target: body ? undefined : str(props.Target),
        CredentialsArn: str(props.CredentialsArn),
        Tags: Object.keys(tagMap(props.Tags)).length ? tagMap(props.Tags) : (props.Tags as any),
      } as any),
    );
    if (body) await importBody(c, out.ApiId!, body);
    return { physicalId: out.ApiId!, attributes: { ApiId: out.ApiId, ApiEndpoint: out.ApiEndpoint } };
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    const body = bodyOf(props);
    const out = await c.send(
      new UpdateApiCommand({
        ApiId: physicalId,
        // Without a name in the template the generated one stays.
        ...apiSettings(props, body),
        RouteKey: body ? undefined : str(props.RouteKey),
        Target: body ? undefined : str(props.Target),
      } as any),
    );
    if (body && JSON.stringify(body) !== JSON.stringify(bodyOf(previous.props))) {
      await clearApi(c, physicalId);
      await importBody(c, physicalId, body);
    }
    return { physicalId, attributes: { ApiId: physicalId, ApiEndpoint: out.ApiEndpoint } };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteApiCommand({ ApiId: physicalId })));
  },
};

function routeInput(props: Props) {
  return clean({
    RouteKey: String(props.RouteKey),
    Target: str(props.Target),
    AuthorizationType: (str(props.AuthorizationType) ?? 'NONE') as any,
    AuthorizerId: str(props.AuthorizerId),
    AuthorizationScopes: props.AuthorizationScopes as string[] | undefined,
    ApiKeyRequired: bool(props.ApiKeyRequired),
    OperationName: str(props.OperationName),
    // WebSocket APIs: `$default` makes the route two-way.
    RouteResponseSelectionExpression: str(props.RouteResponseSelectionExpression),
    ModelSelectionExpression: str(props.ModelSelectionExpression),
    RequestModels: props.RequestModels as Record<string, string> | undefined,
    RequestParameters: props.RequestParameters as any,
  });
}

export const apiGatewayV2Route: ResourceProvider = {
  replaceOn: ['ApiId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateRouteCommand({ ApiId: String(props.ApiId), ...routeInput(props) }),
    );
    return { physicalId: out.RouteId!, attributes: { RouteId: out.RouteId } };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateRouteCommand({ ApiId: String(props.ApiId), RouteId: physicalId, ...routeInput(props) }),
    );
    return { physicalId, attributes: { RouteId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteRouteCommand({ ApiId: String(props.ApiId), RouteId: physicalId })),
    );
  },
};

function routeResponseInput(props: Props) {
  return clean({
    RouteResponseKey: String(props.RouteResponseKey),
    ModelSelectionExpression: str(props.ModelSelectionExpression),
    ResponseModels: props.ResponseModels as Record<string, string> | undefined,
    ResponseParameters: props.ResponseParameters as any,
  });
}

/** AWS::ApiGatewayV2::RouteResponse (WebSocket APIs: `$default` on a two-way route). */
export const apiGatewayV2RouteResponse: ResourceProvider = {
  replaceOn: ['ApiId', 'RouteId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateRouteResponseCommand({
        ApiId: String(props.ApiId),
        RouteId: String(props.RouteId),
        ...routeResponseInput(props),
      }),
    );
    return { physicalId: out.RouteResponseId!, attributes: { RouteResponseId: out.RouteResponseId } };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateRouteResponseCommand({
        ApiId: String(props.ApiId),
        RouteId: String(props.RouteId),
        RouteResponseId: physicalId,
        ...routeResponseInput(props),
      }),
    );
    return { physicalId, attributes: { RouteResponseId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteRouteResponseCommand({
          ApiId: String(props.ApiId),
          RouteId: String(props.RouteId),
          RouteResponseId: physicalId,
        }),
      ),
    );
  },
};

function integrationInput(props: Props) {
  return clean({
    IntegrationType: String(props.IntegrationType) as any,
    IntegrationUri: str(props.IntegrationUri),
    IntegrationSubtype: str(props.IntegrationSubtype),
    IntegrationMethod: str(props.IntegrationMethod),
    PayloadFormatVersion: str(props.PayloadFormatVersion),
    TimeoutInMillis: num(props.TimeoutInMillis),
    Description: str(props.Description),
    ConnectionType: str(props.ConnectionType) as any,
    CredentialsArn: str(props.CredentialsArn),
    RequestParameters: props.RequestParameters as Record<string, string> | undefined,
    ResponseParameters: responseParameters(props.ResponseParameters),
    ContentHandlingStrategy: str(props.ContentHandlingStrategy) as any,
    PassthroughBehavior: str(props.PassthroughBehavior) as any,
    TemplateSelectionExpression: str(props.TemplateSelectionExpression),
    RequestTemplates: props.RequestTemplates as Record<string, string> | undefined,
  });
}

/** CloudFormation's ResponseParameters (`{"200": {ResponseParameters: [{Destination, Source}]}}`) as the API's map. */
function responseParameters(v: unknown): Record<string, Record<string, string>> | undefined {
  if (v === undefined || v === null || typeof v !== 'object') return undefined;
  const out: Record<string, Record<string, string>> = {};
  for (const [status, entry] of Object.entries(v as Props)) {
    out[status] = {};
    for (const p of list<Props>((entry as Props | undefined)?.ResponseParameters))
      if (typeof p.Destination === 'string') out[status][p.Destination] = String(p.Source ?? '');
  }
  return out;
}

export const apiGatewayV2Integration: ResourceProvider = {
  replaceOn: ['ApiId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateIntegrationCommand({ ApiId: String(props.ApiId), ...integrationInput(props) }),
    );
    return { physicalId: out.IntegrationId!, attributes: { IntegrationId: out.IntegrationId } };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateIntegrationCommand({
        ApiId: String(props.ApiId),
        IntegrationId: physicalId,
        ...integrationInput(props),
      }),
    );
    return { physicalId, attributes: { IntegrationId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteIntegrationCommand({ ApiId: String(props.ApiId), IntegrationId: physicalId }),
      ),
    );
  },
};

function authorizerInput(props: Props) {
  const jwt = props.JwtConfiguration as Props | undefined;
  return clean({
    Name: String(props.Name),
    AuthorizerType: String(props.AuthorizerType) as any,
    AuthorizerUri: str(props.AuthorizerUri),
    AuthorizerPayloadFormatVersion: str(props.AuthorizerPayloadFormatVersion),
    AuthorizerResultTtlInSeconds: num(props.AuthorizerResultTtlInSeconds),
    EnableSimpleResponses: bool(props.EnableSimpleResponses),
    IdentitySource: props.IdentitySource as string[] | undefined,
    JwtConfiguration: jwt
      ? { Issuer: str(jwt.Issuer), Audience: jwt.Audience as string[] | undefined }
      : undefined,
  });
}

export const apiGatewayV2Authorizer: ResourceProvider = {
  replaceOn: ['ApiId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateAuthorizerCommand({ ApiId: String(props.ApiId), ...authorizerInput(props) }),
    );
    return { physicalId: out.AuthorizerId!, attributes: { AuthorizerId: out.AuthorizerId } };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateAuthorizerCommand({
        ApiId: String(props.ApiId),
        AuthorizerId: physicalId,
        ...authorizerInput(props),
      }),
    );
    return { physicalId, attributes: { AuthorizerId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteAuthorizerCommand({ ApiId: String(props.ApiId), AuthorizerId: physicalId })),
    );
  },
};

function stageInput(props: Props) {
  return clean({
    AutoDeploy: bool(props.AutoDeploy),
    DeploymentId: str(props.DeploymentId),
    Description: str(props.Description),
    StageVariables: props.StageVariables as Record<string, string> | undefined,
    DefaultRouteSettings: props.DefaultRouteSettings as any,
    RouteSettings: props.RouteSettings as any,
  });
}

export const apiGatewayV2Stage: ResourceProvider = {
  replaceOn: ['ApiId', 'StageName'],
  async create(props, ctx) {
    await client(ctx).send(
      new CreateStageCommand({
        ApiId: String(props.ApiId),
        StageName: String(props.StageName),
        ...stageInput(props),
      }),
    );
    return { physicalId: String(props.StageName), attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateStageCommand({ ApiId: String(props.ApiId), StageName: physicalId, ...stageInput(props) }),
    );
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteStageCommand({ ApiId: String(props.ApiId), StageName: physicalId })),
    );
  },
};

export const apiGatewayV2Deployment: ResourceProvider = {
  replaceOn: ['ApiId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateDeploymentCommand({
        ApiId: String(props.ApiId),
        Description: str(props.Description),
        StageName: str(props.StageName),
      }),
    );
    return { physicalId: out.DeploymentId!, attributes: { DeploymentId: out.DeploymentId } };
  },
  async update(physicalId, props, previous, ctx) {
    // A deployment is a snapshot: a changed one is a new snapshot of the API.
    const next = await apiGatewayV2Deployment.create(props, ctx);
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteDeploymentCommand({ ApiId: String(previous.props.ApiId), DeploymentId: physicalId }),
      ),
    );
    return next;
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteDeploymentCommand({ ApiId: String(props.ApiId), DeploymentId: physicalId })),
    );
  },
};
