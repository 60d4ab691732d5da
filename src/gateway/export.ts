/**
 * ExportApi: an HTTP API as an OpenAPI 3.0.1 document (`aws apigatewayv2 export-api
 * --specification OAS30 --output-type YAML`): the routes, their authorizers and, with
 * `includeExtensions` (the default), API Gateway's extensions (`x-amazon-apigateway-integration`,
 * `x-amazon-apigateway-authorizer`, `x-amazon-apigateway-cors`,
 * `x-amazon-apigateway-importexport-version`). With `stageName` the stage's deployment is
 * exported, else the API as it is now. The result imports back with ImportApi / ReimportApi.
 */
import type {
  ApiRecord,
  AuthorizerRecord,
  IntegrationRecord,
  RouteRecord,
  Scope,
  Snapshot,
} from './model.js';

import { defined, type Doc } from './openapi.js';

export function exportHttpApi(
  scope: Scope,
  api: ApiRecord,
  what: Snapshot,
  stageName: string | undefined,
  extensions: boolean,
): Doc {
  const integrations = new Map(what.integrations.map((i) => [i.integrationId, i]));
  const authorizers = new Map(what.authorizers.map((a) => [a.authorizerId, a]));
  const schemes = new Map<string, Doc>();
  const paths: Doc = {};
  const routes = [...what.routes].sort((a, b) =>
    a.routeKey < b.routeKey ? -1 : a.routeKey > b.routeKey ? 1 : 0,
  );
  for (const r of routes) {
    const [method, path] = r.routeKey === '$default' ? ['ANY', '/$default'] : r.routeKey.split(' ', 2);
    const key = method === 'ANY' ? 'x-amazon-apigateway-any-method' : method.toLowerCase();
    (paths[path] ??= {})[key] = operation(r, path);
  }

  function operation(r: RouteRecord, path: string): Doc {
    const op: Doc = {};
    if (r.operationName) op.operationId = r.operationName;
    const params = [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]);
    if (params.length)
      op.parameters = params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
    op.responses = { default: { description: `Default response for ${r.routeKey}` } };
    const auth = r.authorizerId ? authorizers.get(r.authorizerId) : undefined;
    if (auth && (r.authorizationType === 'JWT' || r.authorizationType === 'CUSTOM')) {
      op.security = [{ [auth.name]: r.authorizationScopes ?? [] }];
      schemes.set(auth.name, scheme(auth));
    } else if (r.authorizationType === 'AWS_IAM') {
      op.security = [{ sigv4: [] }];
      schemes.set('sigv4', {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      });
    }
    const id = r.target?.startsWith('integrations/') ? r.target.slice('integrations/'.length) : undefined;
    const integ = id ? integrations.get(id) : undefined;
    if (extensions && integ) op['x-amazon-apigateway-integration'] = integration(integ);
    return op;
  }

  function integration(i: IntegrationRecord): Doc {
    return defined({
      type: i.integrationType.toLowerCase(),
      integrationSubtype: i.integrationSubtype,
      httpMethod: i.integrationMethod ?? (i.integrationType === 'AWS_PROXY' ? 'POST' : undefined),
      uri: i.integrationUri,
      credentials: i.credentialsArn,
      connectionType: i.connectionType,
      connectionId: i.connectionId,
      tlsConfig: i.tlsConfig,
      payloadFormatVersion: i.payloadFormatVersion,
      timeoutInMillis: i.timeoutInMillis,
      requestParameters: i.requestParameters,
      responseParameters: i.responseParameters,
    });
  }

  function scheme(a: AuthorizerRecord): Doc {
    if (a.authorizerType === 'JWT')
      return defined({
        type: 'oauth2',
        flows: {},
        'x-amazon-apigateway-authorizer': extensions
          ? defined({
              type: 'jwt',
              identitySource: a.identitySource.join(','),
              jwtConfiguration: defined({
                issuer: a.jwtConfiguration?.issuer,
                audience: a.jwtConfiguration?.audience,
              }),
            })
          : undefined,
      });
    return defined({
      type: 'apiKey',
      name: /^\$request\.header\.(.+)$/.exec(a.identitySource[0] ?? '')?.[1] ?? 'Unused',
      in: 'header',
      'x-amazon-apigateway-authorizer': extensions
        ? defined({
            type: 'request',
            identitySource: a.identitySource.join(','),
            authorizerUri: a.authorizerUri,
            authorizerCredentials: a.authorizerCredentialsArn,
            authorizerPayloadFormatVersion: a.authorizerPayloadFormatVersion,
            authorizerResultTtlInSeconds: a.authorizerResultTtlInSeconds,
            enableSimpleResponses: a.enableSimpleResponses,
          })
        : undefined,
    });
  }

  const doc: Doc = {
    openapi: '3.0.1',
    info: defined({ title: api.name, description: api.description, version: api.version ?? api.createdDate }),
    servers: [
      {
        url: `https://${api.apiId}.execute-api.${scope.region}.amazonaws.com/{basePath}`,
        variables: {
          basePath: { default: stageName === undefined || stageName === '$default' ? '' : stageName },
        },
      },
    ],
    paths,
  };
  if (schemes.size) doc.components = { securitySchemes: Object.fromEntries(schemes) };
  if (extensions) {
    const c = api.corsConfiguration;
    if (c)
      doc['x-amazon-apigateway-cors'] = defined({
        allowOrigins: c.allowOrigins,
        allowCredentials: c.allowCredentials,
        allowHeaders: c.allowHeaders,
        allowMethods: c.allowMethods,
        exposeHeaders: c.exposeHeaders,
        maxAge: c.maxAge,
      });
    doc['x-amazon-apigateway-importexport-version'] = '1.0';
  }
  return doc;
}
