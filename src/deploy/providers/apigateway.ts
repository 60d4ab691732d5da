/**
 * AWS::ApiGateway::* (REST APIs) through the apigateway API. A RestApi's `Body` (Swagger 2.0 or
 * OpenAPI 3 with the x-amazon-apigateway-* extensions) goes to PutRestApi, which imports it on
 * the server (src/gateway/rest/import.ts), as CloudFormation does.
 */
import {
  APIGatewayClient,
  CreateRestApiCommand,
  DeleteRestApiCommand,
  CreateResourceCommand,
  DeleteResourceCommand,
  PutMethodCommand,
  DeleteMethodCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodResponseCommand,
  PutGatewayResponseCommand,
  CreateModelCommand,
  DeleteModelCommand,
  UpdateModelCommand,
  UpdateRequestValidatorCommand,
  CreateRequestValidatorCommand,
  DeleteRequestValidatorCommand,
  DeleteGatewayResponseCommand,
  CreateAuthorizerCommand,
  DeleteAuthorizerCommand,
  CreateDeploymentCommand,
  CreateStageCommand,
  UpdateRestApiCommand,
  PutRestApiCommand,
  UpdateAccountCommand,
  UpdateStageCommand,
  DeleteStageCommand,
  CreateApiKeyCommand,
  DeleteApiKeyCommand,
  CreateUsagePlanCommand,
  DeleteUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteUsagePlanKeyCommand,
  CreateDocumentationPartCommand,
  UpdateDocumentationPartCommand,
  DeleteDocumentationPartCommand,
  CreateDocumentationVersionCommand,
  UpdateDocumentationVersionCommand,
  DeleteDocumentationVersionCommand,
  GenerateClientCertificateCommand,
  UpdateClientCertificateCommand,
  DeleteClientCertificateCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-api-gateway';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { bodyOf, definitionChanged, definitionOf } from './openapi.js';
import {
  bool,
  clean,
  ignoreMissing,
  json,
  list,
  num,
  str,
  tagDiff,
  tagMap,
  type Props,
  keepAsIs,
} from './util.js';

const client = (ctx: ResourceContext) => new APIGatewayClient(ctx.clientConfig);

/**
 * The template's Body through PutRestApi (mode overwrite), as CloudFormation does: it replaces
 * the API's resources, methods, authorizers, models and validators, and names the API after the
 * document's title, so the template's own Name and Description are put back after it.
 */
async function putBody(c: APIGatewayClient, apiId: string, body: Props, props: Props): Promise<void> {
  await c.send(
    new PutRestApiCommand({ restApiId: apiId, mode: 'overwrite', body: Buffer.from(JSON.stringify(body)) }),
  );
  const ops: { op: 'replace'; path: string; value: string }[] = [];
  if (str(props.Name) !== undefined) ops.push({ op: 'replace', path: '/name', value: str(props.Name)! });
  if (str(props.Description) !== undefined)
    ops.push({ op: 'replace', path: '/description', value: str(props.Description)! });
  if (ops.length) await c.send(new UpdateRestApiCommand({ restApiId: apiId, patchOperations: ops }));
}

/** UpdateRestApi operations for the API's own properties that changed (the Body is re-imported apart). */
function restApiPatch(props: Props, before: Props) {
  const ops: { op: 'replace' | 'add' | 'remove'; path: string; value?: string }[] = [];
  const info = (bodyOf(props)?.info ?? {}) as Props;
  const prevInfo = (bodyOf(before)?.info ?? {}) as Props;
  const name = str(props.Name) ?? str(info.title);
  if (name !== undefined && name !== (str(before.Name) ?? str(prevInfo.title)))
    ops.push({ op: 'replace', path: '/name', value: name });
  const description = str(props.Description) ?? str(info.description);
  if (description !== (str(before.Description) ?? str(prevInfo.description)))
    ops.push({ op: 'replace', path: '/description', value: description ?? '' });
  const types = new Set(list<string>(props.BinaryMediaTypes));
  const prevTypes = new Set(list<string>(before.BinaryMediaTypes));
  const escape = (t: string) => t.replace(/~/g, '~0').replace(/\//g, '~1');
  for (const t of types)
    if (!prevTypes.has(t)) ops.push({ op: 'add', path: `/binaryMediaTypes/${escape(t)}` });
  for (const t of prevTypes)
    if (!types.has(t)) ops.push({ op: 'remove', path: `/binaryMediaTypes/${escape(t)}` });
  if ((str(props.ApiKeySourceType) ?? 'HEADER') !== (str(before.ApiKeySourceType) ?? 'HEADER'))
    ops.push({ op: 'replace', path: '/apiKeySource', value: str(props.ApiKeySourceType) ?? 'HEADER' });
  if ((bool(props.DisableExecuteApiEndpoint) ?? false) !== (bool(before.DisableExecuteApiEndpoint) ?? false))
    ops.push({
      op: 'replace',
      path: '/disableExecuteApiEndpoint',
      value: String(bool(props.DisableExecuteApiEndpoint) ?? false),
    });
  const compression = num(props.MinimumCompressionSize);
  if (compression !== num(before.MinimumCompressionSize))
    ops.push({
      op: 'replace',
      path: '/minimumCompressionSize',
      value: compression === undefined ? '' : String(compression),
    });
  return ops;
}

/** The resource policy the template gives: `Policy` (object or JSON string), else the Body's `x-amazon-apigateway-policy`. */
function policyOf(props: Props): string | undefined {
  return json(props.Policy) ?? json(bodyOf(props)?.['x-amazon-apigateway-policy']);
}

/** Sets (or, with none, removes) the API's resource policy. */
async function putPolicy(c: APIGatewayClient, apiId: string, policy: string | undefined): Promise<void> {
  await c.send(
    new UpdateRestApiCommand({
      restApiId: apiId,
      patchOperations: [{ op: 'replace', path: '/policy', value: policy ?? '' }],
    }),
  );
}

export const restApi: ResourceProvider = {
  replaceOn: [],
  async create(props, ctx) {
    const c = client(ctx);
    const body = await definitionOf(props, ctx);
    const info = (body?.info ?? {}) as Props;
    const endpoint = props.EndpointConfiguration as Props | undefined;
    const out = await c.send(
      new CreateRestApiCommand({
        name: str(props.Name) ?? str(info.title) ?? ctx.physicalName(128),
        description: str(props.Description) ?? str(info.description),
        binaryMediaTypes: (props.BinaryMediaTypes ?? body?.['x-amazon-apigateway-binary-media-types']) as any,
        apiKeySource: str(props.ApiKeySourceType) as any,
        endpointConfiguration: endpoint ? { types: list<string>(endpoint.Types) as any } : undefined,
        disableExecuteApiEndpoint: bool(props.DisableExecuteApiEndpoint),
        minimumCompressionSize: num(props.MinimumCompressionSize),
        policy: json(props.Policy),
      }),
    );
    if (body) await putBody(c, out.id!, body, props);
    // The template's Policy wins over the definition's.
    if (body && props.Policy !== undefined) await putPolicy(c, out.id!, json(props.Policy));
    return { physicalId: out.id!, attributes: { RestApiId: out.id, RootResourceId: out.rootResourceId } };
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    const body = definitionChanged(props, previous.props) ? await definitionOf(props, ctx) : undefined;
    if (body) await putBody(c, physicalId, body, props);
    const ops = restApiPatch(props, previous.props);
    if (ops.length) await c.send(new UpdateRestApiCommand({ restApiId: physicalId, patchOperations: ops }));
    const policy = policyOf(props);
    if (policy !== policyOf(previous.props) || (body && policy !== undefined))
      await putPolicy(c, physicalId, policy);
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteRestApiCommand({ restApiId: physicalId })));
  },
};

export const restResource: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateResourceCommand({
        restApiId: String(props.RestApiId),
        parentId: String(props.ParentId),
        pathPart: String(props.PathPart),
      }),
    );
    return { physicalId: out.id!, attributes: { ResourceId: out.id } };
  },
  update: keepAsIs,
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteResourceCommand({ restApiId: String(props.RestApiId), resourceId: physicalId }),
      ),
    );
  },
};

async function putMethod(props: Props, ctx: ResourceContext) {
  const c = client(ctx);
  const base = {
    restApiId: String(props.RestApiId),
    resourceId: String(props.ResourceId),
    httpMethod: String(props.HttpMethod).toUpperCase(),
  };
  await c.send(
    new PutMethodCommand({
      ...base,
      authorizationType: str(props.AuthorizationType) ?? 'NONE',
      authorizerId: str(props.AuthorizerId),
      authorizationScopes:
        props.AuthorizationScopes === undefined ? undefined : list<string>(props.AuthorizationScopes),
      apiKeyRequired: bool(props.ApiKeyRequired),
      operationName: str(props.OperationName),
      requestParameters: props.RequestParameters as Record<string, boolean> | undefined,
      requestModels: props.RequestModels as Record<string, string> | undefined,
      requestValidatorId: str(props.RequestValidatorId),
    }),
  );
  for (const r of list<Props>(props.MethodResponses)) {
    await c.send(
      new PutMethodResponseCommand({
        ...base,
        statusCode: String(r.StatusCode),
        responseParameters: r.ResponseParameters as Record<string, boolean> | undefined,
        responseModels: r.ResponseModels as Record<string, string> | undefined,
      }),
    );
  }
  const i = props.Integration as Props | undefined;
  if (i) {
    await c.send(
      new PutIntegrationCommand({
        ...base,
        type: String(i.Type) as any,
        integrationHttpMethod: str(i.IntegrationHttpMethod),
        uri: str(i.Uri),
        timeoutInMillis: num(i.TimeoutInMillis),
        requestParameters: i.RequestParameters as Record<string, string> | undefined,
        requestTemplates: i.RequestTemplates as Record<string, string> | undefined,
        passthroughBehavior: str(i.PassthroughBehavior),
        contentHandling: str(i.ContentHandling) as any,
        credentials: str(i.Credentials),
        connectionType: str(i.ConnectionType) as any,
        connectionId: str(i.ConnectionId),
        responseTransferMode: str(i.ResponseTransferMode) as any,
      }),
    );
    for (const r of list<Props>(i.IntegrationResponses)) {
      await c.send(
        new PutIntegrationResponseCommand({
          ...base,
          statusCode: String(r.StatusCode),
          selectionPattern: str(r.SelectionPattern),
          responseParameters: r.ResponseParameters as Record<string, string> | undefined,
          responseTemplates: r.ResponseTemplates as Record<string, string> | undefined,
        }),
      );
    }
  }
}

/** AWS::ApiGateway::Model: a JSON schema of a REST API (Ref: its name). */
export const restModel: ResourceProvider = {
  replaceOn: ['RestApiId', 'Name', 'ContentType'],
  async create(props, ctx) {
    const name = str(props.Name) ?? ctx.physicalName(64).replace(/[^A-Za-z0-9]/g, '');
    const schema = props.Schema;
    await client(ctx).send(
      new CreateModelCommand({
        restApiId: String(props.RestApiId),
        name,
        description: str(props.Description),
        contentType: str(props.ContentType) ?? 'application/json',
        schema:
          schema === undefined ? undefined : typeof schema === 'string' ? schema : JSON.stringify(schema),
      }),
    );
    return { physicalId: name, attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    const schema = props.Schema;
    await client(ctx).send(
      new UpdateModelCommand({
        restApiId: String(props.RestApiId),
        modelName: physicalId,
        patchOperations: [
          { op: 'replace', path: '/description', value: str(props.Description) ?? '' },
          ...(schema === undefined
            ? []
            : [
                {
                  op: 'replace' as const,
                  path: '/schema',
                  value: typeof schema === 'string' ? schema : JSON.stringify(schema),
                },
              ]),
        ],
      }),
    );
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteModelCommand({ restApiId: String(props.RestApiId), modelName: physicalId })),
    );
  },
};

/** AWS::ApiGateway::RequestValidator (Ref: its id). */
export const restRequestValidator: ResourceProvider = {
  replaceOn: ['RestApiId'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateRequestValidatorCommand({
        restApiId: String(props.RestApiId),
        name: str(props.Name) ?? ctx.physicalName(64),
        validateRequestBody: bool(props.ValidateRequestBody) ?? false,
        validateRequestParameters: bool(props.ValidateRequestParameters) ?? false,
      }),
    );
    return { physicalId: out.id!, attributes: { RequestValidatorId: out.id } };
  },
  async update(physicalId, props, previous, ctx) {
    await client(ctx).send(
      new UpdateRequestValidatorCommand({
        restApiId: String(props.RestApiId),
        requestValidatorId: physicalId,
        patchOperations: [
          { op: 'replace', path: '/name', value: str(props.Name) ?? str(previous.props.Name) ?? physicalId },
          {
            op: 'replace',
            path: '/validateRequestBody',
            value: String(bool(props.ValidateRequestBody) ?? false),
          },
          {
            op: 'replace',
            path: '/validateRequestParameters',
            value: String(bool(props.ValidateRequestParameters) ?? false),
          },
        ],
      }),
    );
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteRequestValidatorCommand({
          restApiId: String(props.RestApiId),
          requestValidatorId: physicalId,
        }),
      ),
    );
  },
};

/**
 * AWS::ApiGateway::Account: the region's CloudWatch Logs role for API Gateway (UpdateAccount).
 * Deleting the resource leaves the setting as it is, as CloudFormation does.
 */
export const restAccount: ResourceProvider = {
  replaceOn: [],
  async create(props, ctx) {
    await setCloudWatchRole(props, ctx);
    return { physicalId: ctx.physicalName(), attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await setCloudWatchRole(props, ctx);
    return { physicalId, attributes: {} };
  },
  async delete() {},
};

async function setCloudWatchRole(props: Props, ctx: ResourceContext) {
  const role = str(props.CloudWatchRoleArn);
  if (role === undefined) return;
  await client(ctx).send(
    new UpdateAccountCommand({
      patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: role }],
    }),
  );
}

/** AWS::ApiGateway::GatewayResponse: one customised response type of a REST API. */
export const restGatewayResponse: ResourceProvider = {
  replaceOn: ['RestApiId', 'ResponseType'],
  async create(props, ctx) {
    await putGatewayResponse(props, ctx);
    return { physicalId: ctx.physicalName(), attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await putGatewayResponse(props, ctx);
    return { physicalId, attributes: {} };
  },
  async delete(_physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteGatewayResponseCommand({
          restApiId: String(props.RestApiId),
          responseType: String(props.ResponseType) as any,
        }),
      ),
    );
  },
};

async function putGatewayResponse(props: Props, ctx: ResourceContext) {
  await client(ctx).send(
    new PutGatewayResponseCommand({
      restApiId: String(props.RestApiId),
      responseType: String(props.ResponseType) as any,
      statusCode: str(props.StatusCode),
      responseParameters: props.ResponseParameters as Record<string, string> | undefined,
      responseTemplates: props.ResponseTemplates as Record<string, string> | undefined,
    }),
  );
}

export const restMethod: ResourceProvider = {
  replaceOn: ['RestApiId', 'ResourceId', 'HttpMethod'],
  async create(props, ctx) {
    await putMethod(props, ctx);
    return { physicalId: ctx.physicalName(), attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await methodGone(props, ctx);
    await putMethod(props, ctx);
    return { physicalId, attributes: {} };
  },
  async delete(_physicalId, props, ctx) {
    await methodGone(props, ctx);
  },
};

async function methodGone(props: Props, ctx: ResourceContext) {
  await ignoreMissing(() =>
    client(ctx).send(
      new DeleteMethodCommand({
        restApiId: String(props.RestApiId),
        resourceId: String(props.ResourceId),
        httpMethod: String(props.HttpMethod).toUpperCase(),
      }),
    ),
  );
}

export const restDeployment: ResourceProvider = {
  replaceOn: ['RestApiId', 'StageName', 'DeploymentCanarySettings'],
  async create(props, ctx) {
    const sd = props.StageDescription as Props | undefined;
    const out = await client(ctx).send(
      new CreateDeploymentCommand({
        restApiId: String(props.RestApiId),
        stageName: str(props.StageName),
        description: str(props.Description),
        stageDescription: str(sd?.Description),
        variables: sd?.Variables as Record<string, string> | undefined,
        cacheClusterEnabled: bool(sd?.CacheClusterEnabled),
        cacheClusterSize: str(sd?.CacheClusterSize) as any,
        tracingEnabled: bool(sd?.TracingEnabled),
        canarySettings: deploymentCanary(props.DeploymentCanarySettings as Props | undefined),
      }),
    );
    // The stage it creates takes the StageDescription's other settings.
    const settings =
      sd && str(props.StageName)
        ? [
            ...stageSettingsPatch(stageOfDescription(sd), {
              // Set by CreateDeployment already.
              TracingEnabled: sd.TracingEnabled,
              CacheClusterEnabled: sd.CacheClusterEnabled,
              CacheClusterSize: sd.CacheClusterSize,
            }),
            ...documentationVersionPatch(sd, {}),
            ...canaryPatch(sd.CanarySetting as Props | undefined, undefined),
          ]
        : [];
    if (settings.length)
      await client(ctx).send(
        new UpdateStageCommand({
          restApiId: String(props.RestApiId),
          stageName: str(props.StageName),
          patchOperations: settings,
        }),
      );
    return { physicalId: out.id!, attributes: { DeploymentId: out.id } };
  },
  // Description / StageDescription only: the deployment itself is a snapshot.
  update: keepAsIs,
  async delete(_physicalId, props, ctx) {
    // Deleting a REST API deployment is not in Nimbus's apigateway API; the API's deletion removes it.
    // A canary deployment's stage was there before it (AWS requires it): it stays.
    if (props.StageName && !props.DeploymentCanarySettings) {
      await ignoreMissing(() =>
        client(ctx).send(
          new DeleteStageCommand({ restApiId: String(props.RestApiId), stageName: String(props.StageName) }),
        ),
      );
    }
  },
};

/** A Deployment's DeploymentCanarySettings as CreateDeployment's canarySettings. */
function deploymentCanary(p: Props | undefined) {
  if (!p) return undefined;
  return clean({
    percentTraffic: num(p.PercentTraffic),
    stageVariableOverrides: p.StageVariableOverrides as Record<string, string> | undefined,
    useStageCache: bool(p.UseStageCache),
  });
}

/**
 * A CanarySetting (a Stage's, or a Deployment's StageDescription's) as UpdateStage operations
 * against the previous one: `remove /canarySettings` when it is gone, else its changed fields.
 */
function canaryPatch(now: Props | undefined, before: Props | undefined) {
  const ops: { op: 'replace' | 'remove'; path: string; value?: string }[] = [];
  if (!now) {
    if (before) ops.push({ op: 'remove', path: '/canarySettings' });
    return ops;
  }
  const prev = before ?? {};
  for (const [prop, field] of [
    ['DeploymentId', 'deploymentId'],
    ['PercentTraffic', 'percentTraffic'],
    ['UseStageCache', 'useStageCache'],
  ] as const)
    if (now[prop] !== undefined && (!before || String(now[prop]) !== String(prev[prop])))
      ops.push({ op: 'replace', path: `/canarySettings/${field}`, value: String(now[prop]) });
  const vars = (now.StageVariableOverrides ?? {}) as Props;
  const old = (prev.StageVariableOverrides ?? {}) as Props;
  for (const [k, v] of Object.entries(vars))
    if (old[k] !== v)
      ops.push({ op: 'replace', path: `/canarySettings/stageVariableOverrides/${k}`, value: String(v) });
  for (const k of Object.keys(old))
    if (!(k in vars)) ops.push({ op: 'remove', path: `/canarySettings/stageVariableOverrides/${k}` });
  return ops;
}

/** A Stage's CanarySetting as CreateStage's canarySettings. */
function stageCanary(p: Props | undefined) {
  if (!p) return undefined;
  return clean({ deploymentId: str(p.DeploymentId), ...deploymentCanary(p) });
}

/**
 * Stage settings CreateStage does not take, as UpdateStage patch operations: AccessLogSetting,
 * the MethodSettings throttling (stage-wide and per method) and TracingEnabled (against `before`, the previous
 * properties, on update).
 */
function stageSettingsPatch(props: Props, before: Props = {}) {
  const ops: { op: 'replace' | 'remove'; path: string; value?: string }[] = [];
  const als = (props.AccessLogSetting ?? {}) as Props;
  const prevAls = (before.AccessLogSetting ?? {}) as Props;
  if (str(als.DestinationArn) !== str(prevAls.DestinationArn) || str(als.Format) !== str(prevAls.Format)) {
    if (als.DestinationArn && als.Format) {
      ops.push({ op: 'replace', path: '/accessLogSettings/destinationArn', value: str(als.DestinationArn) });
      ops.push({ op: 'replace', path: '/accessLogSettings/format', value: str(als.Format) });
    } else if (prevAls.DestinationArn) ops.push({ op: 'remove', path: '/accessLogSettings' });
  }
  // MethodSettings by the stage's key: `*/*` for ResourcePath `/*` and HttpMethod `*`, else the
  // resource path with `/` written `~1` and the method (`~1items~1{id}/GET`).
  const byKey = (settings: unknown) => {
    const out = new Map<string, Props>();
    for (const m of list<Props>(settings)) {
      const rp = str(m.ResourcePath) ?? '/*';
      const hm = (str(m.HttpMethod) ?? '*').toUpperCase();
      out.set((rp === '/*' || rp === '*') && hm === '*' ? '*/*' : `${rp.replace(/\//g, '~1')}/${hm}`, m);
    }
    return out;
  };
  const now = byKey(props.MethodSettings);
  const prev = byKey(before.MethodSettings);
  for (const [key, m] of now)
    for (const [prop, field] of METHOD_SETTING_PATHS)
      if (m[prop] !== undefined && String(m[prop]) !== String(prev.get(key)?.[prop]))
        ops.push({ op: 'replace', path: `/${key}/${field}`, value: String(m[prop]) });
  for (const key of prev.keys()) if (!now.has(key)) ops.push({ op: 'remove', path: `/${key}` });
  if ((bool(props.TracingEnabled) ?? false) !== (bool(before.TracingEnabled) ?? false))
    ops.push({ op: 'replace', path: '/tracingEnabled', value: String(bool(props.TracingEnabled) ?? false) });
  if ((bool(props.CacheClusterEnabled) ?? false) !== (bool(before.CacheClusterEnabled) ?? false))
    ops.push({
      op: 'replace',
      path: '/cacheClusterEnabled',
      value: String(bool(props.CacheClusterEnabled) ?? false),
    });
  if (
    str(props.CacheClusterSize) !== undefined &&
    str(props.CacheClusterSize) !== str(before.CacheClusterSize)
  )
    ops.push({ op: 'replace', path: '/cacheClusterSize', value: str(props.CacheClusterSize) });
  if (str(props.ClientCertificateId) !== str(before.ClientCertificateId))
    ops.push({ op: 'replace', path: '/clientCertificateId', value: str(props.ClientCertificateId) ?? '' });
  return ops;
}

/** A Stage's DocumentationVersion change (CreateStage takes it; an update patches it). */
function documentationVersionPatch(props: Props, before: Props) {
  return str(props.DocumentationVersion) === str(before.DocumentationVersion)
    ? []
    : [
        {
          op: 'replace' as const,
          path: '/documentationVersion',
          value: str(props.DocumentationVersion) ?? '',
        },
      ];
}

/** A MethodSettings entry's properties and their UpdateStage patch paths below `/{resource}/{method}`. */
const METHOD_SETTING_PATHS = [
  ['ThrottlingRateLimit', 'throttling/rateLimit'],
  ['ThrottlingBurstLimit', 'throttling/burstLimit'],
  ['LoggingLevel', 'logging/loglevel'],
  ['MetricsEnabled', 'metrics/enabled'],
  ['DataTraceEnabled', 'logging/dataTrace'],
  ['CachingEnabled', 'caching/enabled'],
  ['CacheTtlInSeconds', 'caching/ttlInSeconds'],
  ['CacheDataEncrypted', 'caching/dataEncrypted'],
] as const;

/**
 * A Deployment's StageDescription as the properties of a Stage: its stage-wide logging, metrics,
 * caching and throttling properties make the `*` `/*` method setting, as CloudFormation applies them.
 */
function stageOfDescription(sd: Props): Props {
  const all: Props = { ResourcePath: '/*', HttpMethod: '*' };
  for (const [prop] of METHOD_SETTING_PATHS) if (sd[prop] !== undefined) all[prop] = sd[prop];
  const settings = list<Props>(sd.MethodSettings);
  return {
    ...sd,
    MethodSettings: Object.keys(all).length > 2 ? [all, ...settings] : settings,
  };
}

export const restStage: ResourceProvider = {
  replaceOn: ['RestApiId', 'StageName'],
  async create(props, ctx) {
    const name = str(props.StageName) ?? ctx.physicalName(128);
    await client(ctx).send(
      new CreateStageCommand({
        restApiId: String(props.RestApiId),
        stageName: name,
        deploymentId: String(props.DeploymentId),
        description: str(props.Description),
        variables: props.Variables as Record<string, string> | undefined,
        documentationVersion: str(props.DocumentationVersion),
        canarySettings: stageCanary(props.CanarySetting as Props | undefined),
      }),
    );
    const settings = stageSettingsPatch(props);
    if (settings.length)
      await client(ctx).send(
        new UpdateStageCommand({
          restApiId: String(props.RestApiId),
          stageName: name,
          patchOperations: settings,
        }),
      );
    return { physicalId: name, attributes: {} };
  },
  async update(physicalId, props, previous, ctx) {
    const ops = [];
    if (str(props.DeploymentId) !== str(previous.props.DeploymentId)) {
      ops.push({ op: 'replace' as const, path: '/deploymentId', value: str(props.DeploymentId) });
    }
    if (str(props.Description) !== str(previous.props.Description)) {
      ops.push({ op: 'replace' as const, path: '/description', value: str(props.Description) ?? '' });
    }
    const vars = (props.Variables ?? {}) as Props;
    const before = (previous.props.Variables ?? {}) as Props;
    for (const [k, v] of Object.entries(vars)) {
      if (before[k] !== v) ops.push({ op: 'replace' as const, path: `/variables/${k}`, value: String(v) });
    }
    for (const k of Object.keys(before))
      if (!(k in vars)) ops.push({ op: 'remove' as const, path: `/variables/${k}` });
    ops.push(...stageSettingsPatch(props, previous.props));
    ops.push(...documentationVersionPatch(props, previous.props));
    ops.push(
      ...canaryPatch(
        props.CanarySetting as Props | undefined,
        previous.props.CanarySetting as Props | undefined,
      ),
    );
    if (ops.length) {
      await client(ctx).send(
        new UpdateStageCommand({
          restApiId: String(props.RestApiId),
          stageName: physicalId,
          patchOperations: ops,
        }),
      );
    }
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteStageCommand({ restApiId: String(props.RestApiId), stageName: physicalId })),
    );
  },
};

export const restApiKey: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateApiKeyCommand({
        name: str(props.Name) ?? ctx.physicalName(128),
        description: str(props.Description),
        enabled: bool(props.Enabled) ?? false,
        value: str(props.Value),
        stageKeys: list<Props>(props.StageKeys).map((s) => ({
          restApiId: str(s.RestApiId),
          stageName: str(s.StageName),
        })),
      }),
    );
    return { physicalId: out.id!, attributes: { APIKeyId: out.id } };
  },
  update: keepAsIs,
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteApiKeyCommand({ apiKey: physicalId })));
  },
};

export const restUsagePlan: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const q = props.Quota as Props | undefined;
    const t = props.Throttle as Props | undefined;
    const out = await client(ctx).send(
      new CreateUsagePlanCommand({
        name: str(props.UsagePlanName) ?? ctx.physicalName(128),
        description: str(props.Description),
        apiStages: list<Props>(props.ApiStages).map((s) => ({ apiId: str(s.ApiId), stage: str(s.Stage) })),
        quota: q
          ? clean({ limit: num(q.Limit), offset: num(q.Offset), period: str(q.Period) as any })
          : undefined,
        throttle: t ? clean({ burstLimit: num(t.BurstLimit), rateLimit: num(t.RateLimit) }) : undefined,
      }),
    );
    return { physicalId: out.id!, attributes: { Id: out.id } };
  },
  update: keepAsIs,
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteUsagePlanCommand({ usagePlanId: physicalId })));
  },
};

export const restUsagePlanKey: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateUsagePlanKeyCommand({
        usagePlanId: String(props.UsagePlanId),
        keyId: String(props.KeyId),
        keyType: String(props.KeyType ?? 'API_KEY'),
      }),
    );
    return { physicalId: out.id!, attributes: { Id: out.id } };
  },
  update: keepAsIs,
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteUsagePlanKeyCommand({ usagePlanId: String(props.UsagePlanId), keyId: physicalId }),
      ),
    );
  },
};

export const restAuthorizer: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateAuthorizerCommand({
        restApiId: String(props.RestApiId),
        name: String(props.Name),
        type: String(props.Type) as any,
        authorizerUri: str(props.AuthorizerUri),
        authorizerResultTtlInSeconds: num(props.AuthorizerResultTtlInSeconds),
        identitySource: str(props.IdentitySource),
        identityValidationExpression: str(props.IdentityValidationExpression),
        providerARNs: props.ProviderARNs as string[] | undefined,
      }),
    );
    return { physicalId: out.id!, attributes: { AuthorizerId: out.id } };
  },
  update: keepAsIs,
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteAuthorizerCommand({ restApiId: String(props.RestApiId), authorizerId: physicalId }),
      ),
    );
  },
};

/** AWS::ApiGateway::DocumentationPart (Ref: its id); a new Properties is an in-place update. */
export const restDocumentationPart: ResourceProvider = {
  replaceOn: ['RestApiId', 'Location'],
  async create(props, ctx) {
    const loc = (props.Location ?? {}) as Props;
    const out = await client(ctx).send(
      new CreateDocumentationPartCommand({
        restApiId: String(props.RestApiId),
        location: clean({
          type: str(loc.Type) as any,
          path: str(loc.Path),
          method: str(loc.Method),
          statusCode: str(loc.StatusCode),
          name: str(loc.Name),
        }),
        properties: propertiesText(props.Properties),
      }),
    );
    return { physicalId: out.id!, attributes: { DocumentationPartId: out.id } };
  },
  async update(physicalId, props, previous, ctx) {
    await client(ctx).send(
      new UpdateDocumentationPartCommand({
        restApiId: String(props.RestApiId),
        documentationPartId: physicalId,
        patchOperations: [{ op: 'replace', path: '/properties', value: propertiesText(props.Properties) }],
      }),
    );
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteDocumentationPartCommand({
          restApiId: String(props.RestApiId),
          documentationPartId: physicalId,
        }),
      ),
    );
  },
};

/** A DocumentationPart's Properties: the JSON text (an object in a YAML template is written as JSON). */
function propertiesText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? {});
}

/** AWS::ApiGateway::DocumentationVersion (Ref: the version); a new Description is an in-place update. */
export const restDocumentationVersion: ResourceProvider = {
  replaceOn: ['RestApiId', 'DocumentationVersion'],
  async create(props, ctx) {
    const version = String(props.DocumentationVersion);
    await client(ctx).send(
      new CreateDocumentationVersionCommand({
        restApiId: String(props.RestApiId),
        documentationVersion: version,
        description: str(props.Description),
      }),
    );
    return { physicalId: version, attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await client(ctx).send(
      new UpdateDocumentationVersionCommand({
        restApiId: String(props.RestApiId),
        documentationVersion: physicalId,
        patchOperations: [{ op: 'replace', path: '/description', value: str(props.Description) ?? '' }],
      }),
    );
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteDocumentationVersionCommand({
          restApiId: String(props.RestApiId),
          documentationVersion: physicalId,
        }),
      ),
    );
  },
};

/** AWS::ApiGateway::ClientCertificate (Ref: its id); Description and Tags change in place. */
export const restClientCertificate: ResourceProvider = {
  replaceOn: [],
  async create(props, ctx) {
    const tags = tagMap(props.Tags);
    const out = await client(ctx).send(
      new GenerateClientCertificateCommand({
        description: str(props.Description),
        tags: Object.keys(tags).length ? tags : undefined,
      }),
    );
    return {
      physicalId: out.clientCertificateId!,
      attributes: { ClientCertificateId: out.clientCertificateId },
    };
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    if (str(props.Description) !== str(previous.props.Description))
      await c.send(
        new UpdateClientCertificateCommand({
          clientCertificateId: physicalId,
          patchOperations: [{ op: 'replace', path: '/description', value: str(props.Description) ?? '' }],
        }),
      );
    const arn = `arn:aws:apigateway:${ctx.region}::/clientcertificates/${physicalId}`;
    const { set, remove } = tagDiff(previous.props.Tags, props.Tags);
    if (Object.keys(set).length) await c.send(new TagResourceCommand({ resourceArn: arn, tags: set }));
    if (remove.length) await c.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(new DeleteClientCertificateCommand({ clientCertificateId: physicalId })),
    );
  },
};
