/**
 * AWS::ApiGatewayV2::* (HTTP and WebSocket APIs) through the apigatewayv2 API. An Api with a `Body` (an
 * OpenAPI 3 document with the x-amazon-apigateway-* extensions) goes to ReimportApi, which imports
 * it on the server (src/gateway/import.ts); a new Body replaces the routes, integrations and
 * authorizers of the old one.
 */
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  UpdateApiCommand,
  CreateIntegrationResponseCommand,
  UpdateIntegrationResponseCommand,
  DeleteIntegrationResponseCommand,
  ReimportApiCommand,
  DeleteApiCommand,
  CreateIntegrationCommand,
  UpdateIntegrationCommand,
  DeleteIntegrationCommand,
  CreateRouteCommand,
  UpdateRouteCommand,
  CreateRouteResponseCommand,
  UpdateRouteResponseCommand,
  DeleteRouteResponseCommand,
  DeleteRouteCommand,
  CreateAuthorizerCommand,
  UpdateAuthorizerCommand,
  DeleteAuthorizerCommand,
  CreateStageCommand,
  UpdateStageCommand,
  DeleteStageCommand,
  CreateDeploymentCommand,
  DeleteDeploymentCommand,
} from '@aws-sdk/client-apigatewayv2';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { definitionChanged, definitionOf } from './openapi.js';
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
    const body = await definitionOf(props, ctx);
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
    if (body) {
      // ReimportApi names the API after the document: the template's settings are put back after it.
      await c.send(new ReimportApiCommand({ ApiId: out.ApiId!, Body: JSON.stringify(body) }));
      await c.send(new UpdateApiCommand({ ApiId: out.ApiId!, ...apiSettings(props, body, ctx) } as any));
    }
    return { physicalId: out.ApiId!, attributes: { ApiId: out.ApiId, ApiEndpoint: out.ApiEndpoint } };
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    const body = await definitionOf(props, ctx);
    if (body && definitionChanged(props, previous.props))
      await c.send(new ReimportApiCommand({ ApiId: physicalId, Body: JSON.stringify(body) }));
    const out = await c.send(
      new UpdateApiCommand({
        ApiId: physicalId,
        // Without a name in the template the generated one stays.
        ...apiSettings(props, body),
        RouteKey: body ? undefined : str(props.RouteKey),
        Target: body ? undefined : str(props.Target),
      } as any),
    );
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

function integrationResponseInput(props: Props) {
  return clean({
    IntegrationResponseKey: String(props.IntegrationResponseKey),
    ResponseTemplates: props.ResponseTemplates as Record<string, string> | undefined,
    TemplateSelectionExpression: str(props.TemplateSelectionExpression),
    ContentHandlingStrategy: str(props.ContentHandlingStrategy) as any,
    ResponseParameters: props.ResponseParameters as Record<string, string> | undefined,
  });
}

/** AWS::ApiGatewayV2::IntegrationResponse (WebSocket APIs: a non-proxy integration's answer to two-way routes). */
export const apiGatewayV2IntegrationResponse: ResourceProvider = {
  replaceOn: ['ApiId', 'IntegrationId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateIntegrationResponseCommand({
        ApiId: String(props.ApiId),
        IntegrationId: String(props.IntegrationId),
        ...integrationResponseInput(props),
      }),
    );
    return {
      physicalId: out.IntegrationResponseId!,
      attributes: { IntegrationResponseId: out.IntegrationResponseId },
    };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateIntegrationResponseCommand({
        ApiId: String(props.ApiId),
        IntegrationId: String(props.IntegrationId),
        IntegrationResponseId: physicalId,
        ...integrationResponseInput(props),
      }),
    );
    return { physicalId, attributes: { IntegrationResponseId: physicalId } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteIntegrationResponseCommand({
          ApiId: String(props.ApiId),
          IntegrationId: String(props.IntegrationId),
          IntegrationResponseId: physicalId,
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
    ConnectionId: str(props.ConnectionId),
    TlsConfig: tlsConfig(props.TlsConfig),
    CredentialsArn: str(props.CredentialsArn),
    RequestParameters: props.RequestParameters as Record<string, string> | undefined,
    ResponseParameters: responseParameters(props.ResponseParameters),
    ContentHandlingStrategy: str(props.ContentHandlingStrategy) as any,
    PassthroughBehavior: str(props.PassthroughBehavior) as any,
    TemplateSelectionExpression: str(props.TemplateSelectionExpression),
    RequestTemplates: props.RequestTemplates as Record<string, string> | undefined,
  });
}

/** A private integration's TlsConfig (`ServerNameToVerify`). */
function tlsConfig(v: unknown) {
  const name = (v as Props | undefined)?.ServerNameToVerify;
  return v && typeof v === 'object' ? { ServerNameToVerify: str(name) } : undefined;
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
