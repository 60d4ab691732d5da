/**
 * ImportApi and ReimportApi: an HTTP API from an OpenAPI 3 definition with API Gateway's
 * extensions (JSON or YAML), as `aws apigatewayv2 import-api`, Terraform's
 * `aws_apigatewayv2_api` `body` and CloudFormation's `AWS::ApiGatewayV2::Api` `Body` send it.
 *
 * What a definition makes: the API's name (`info.title`), description, version, CORS
 * (`x-amazon-apigateway-cors`) and `disableExecuteApiEndpoint`; JWT and Lambda (REQUEST)
 * authorizers from `x-amazon-apigateway-authorizer` security schemes, IAM from
 * `x-amazon-apigateway-authtype: awsSigv4`; one route per path and operation (`/$default`:
 * the `$default` route; `x-amazon-apigateway-any-method`: ANY) with the integration of its
 * `x-amazon-apigateway-integration` (inline, or a `$ref` to
 * `#/components/x-amazon-apigateway-integrations/...`; operations with the same integration share
 * one). Reimporting replaces the routes, integrations and authorizers (stages stay; auto-deploy
 * stages deploy the new routes). A definition that fails part way leaves the API as it was (an
 * import leaves no API).
 */
import { errors, type Scope } from './model.js';
import type { GatewayEngine } from './engine.js';
import { OPENAPI_METHODS, defined, importedPaths, isObject, list, str, type Doc } from './openapi.js';

type Input = Record<string, any>;

/** The API-level settings a definition names (ImportApi creates with them, ReimportApi updates). */
export function apiSettingsOf(doc: Doc): Input {
  const info = isObject(doc.info) ? doc.info : {};
  const c = doc['x-amazon-apigateway-cors'];
  const endpoint = doc['x-amazon-apigateway-endpoint-configuration'];
  return defined({
    name: typeof info.title === 'string' ? info.title : undefined,
    description: str(info.description),
    version: str(info.version),
    corsConfiguration: isObject(c)
      ? defined({
          allowCredentials: c.allowCredentials,
          allowHeaders: c.allowHeaders,
          allowMethods: c.allowMethods,
          allowOrigins: c.allowOrigins,
          exposeHeaders: c.exposeHeaders,
          maxAge: c.maxAge,
        })
      : undefined,
    disableExecuteApiEndpoint: isObject(endpoint) ? endpoint.disableExecuteApiEndpoint === true : undefined,
  });
}

/** Replaces the API's routes, integrations and authorizers with the definition's. */
export async function importHttpDefinition(
  engine: GatewayEngine,
  scope: Scope,
  apiId: string,
  doc: Doc,
  basepath: string | undefined,
  endpoint: string,
): Promise<void> {
  const paths = importedPaths(doc, basepath);
  // One write of the API's record at the end (auto-deploy stages deploy it once), none when a step fails.
  await engine.staged(scope, apiId, async (staged) => {
    const before = structuredClone(await engine.getApiRecord(staged, apiId));
    if (before.protocolType !== 'HTTP')
      throw errors.badRequest('Importing an OpenAPI definition is only supported for HTTP APIs');
    for (const r of before.routes) await engine.deleteRoute(staged, apiId, r.routeId);
    for (const i of before.integrations) await engine.deleteIntegration(staged, apiId, i.integrationId);
    for (const a of before.authorizers) await engine.deleteAuthorizer(staged, apiId, a.authorizerId);
    const settings = apiSettingsOf(doc);
    await engine.updateApi(staged, apiId, settings, endpoint);
    if (!settings.corsConfiguration && before.corsConfiguration)
      await engine.deleteCorsConfiguration(staged, apiId);
    await importPaths(engine, staged, apiId, doc, paths);
  });
}

async function importPaths(
  engine: GatewayEngine,
  scope: Scope,
  apiId: string,
  doc: Doc,
  paths: [string, Doc][],
): Promise<void> {
  const schemes = (isObject(doc.components?.securitySchemes) ? doc.components.securitySchemes : {}) as Record<
    string,
    Doc
  >;
  const authorizers = new Map<string, { id?: string; type: 'JWT' | 'CUSTOM' | 'AWS_IAM' }>();
  for (const [name, scheme] of Object.entries(schemes)) {
    if (!isObject(scheme)) continue;
    if (String(scheme['x-amazon-apigateway-authtype'] ?? '').toLowerCase() === 'awssigv4') {
      authorizers.set(name, { type: 'AWS_IAM' });
      continue;
    }
    const a = scheme['x-amazon-apigateway-authorizer'];
    if (!isObject(a)) continue;
    if (String(a.type).toLowerCase() === 'jwt') {
      const jwt = isObject(a.jwtConfiguration) ? a.jwtConfiguration : {};
      const out = await engine.createAuthorizer(scope, apiId, {
        name,
        authorizerType: 'JWT',
        identitySource: identitySources(a.identitySource) ?? ['$request.header.Authorization'],
        jwtConfiguration: defined({ issuer: str(jwt.issuer), audience: list<string>(jwt.audience) }),
      });
      authorizers.set(name, { id: out.authorizerId, type: 'JWT' });
    } else {
      const out = await engine.createAuthorizer(
        scope,
        apiId,
        defined({
          name,
          authorizerType: 'REQUEST',
          authorizerUri: str(a.authorizerUri),
          authorizerCredentialsArn: str(a.authorizerCredentials),
          authorizerPayloadFormatVersion: str(a.authorizerPayloadFormatVersion) ?? '2.0',
          enableSimpleResponses:
            typeof a.enableSimpleResponses === 'boolean' ? a.enableSimpleResponses : undefined,
          authorizerResultTtlInSeconds:
            a.authorizerResultTtlInSeconds === undefined ? undefined : Number(a.authorizerResultTtlInSeconds),
          identitySource: identitySources(a.identitySource),
        }),
      );
      authorizers.set(name, { id: out.authorizerId, type: 'CUSTOM' });
    }
  }
  const shared = isObject(doc.components?.['x-amazon-apigateway-integrations'])
    ? (doc.components['x-amazon-apigateway-integrations'] as Record<string, unknown>)
    : {};
  const integrations = new Map<string, string>();
  const globalSecurity = list(doc.security);
  for (const [path, item] of paths) {
    if (!isObject(item)) throw malformed('path', path);
    for (const [method, op] of Object.entries(item)) {
      if (!OPENAPI_METHODS.includes(method.toLowerCase())) continue;
      if (!isObject(op)) throw malformed('method', path);
      let integ = op['x-amazon-apigateway-integration'];
      if (isObject(integ) && typeof integ.$ref === 'string') {
        const prefix = '#/components/x-amazon-apigateway-integrations/';
        integ = integ.$ref.startsWith(prefix) ? shared[integ.$ref.slice(prefix.length)] : undefined;
        if (!isObject(integ)) throw malformed('integration', path);
      }
      let target: string | undefined;
      if (integ !== undefined) {
        if (!isObject(integ)) throw malformed('integration', path);
        const key = JSON.stringify(integ);
        let id = integrations.get(key);
        if (!id) {
          const subtype = str(integ.integrationSubtype);
          const out = await engine.createIntegration(
            scope,
            apiId,
            defined({
              integrationType: String(integ.type ?? 'aws_proxy').toUpperCase(),
              integrationUri: str(integ.uri),
              integrationSubtype: subtype,
              credentialsArn: str(integ.credentials),
              integrationMethod: str(integ.httpMethod),
              connectionType: str(integ.connectionType)?.toUpperCase(),
              connectionId: str(integ.connectionId),
              tlsConfig: integ.tlsConfig,
              payloadFormatVersion: str(integ.payloadFormatVersion) ?? (subtype ? '1.0' : '2.0'),
              timeoutInMillis:
                integ.timeoutInMillis === undefined ? undefined : Number(integ.timeoutInMillis),
              requestParameters: integ.requestParameters,
              responseParameters: integ.responseParameters,
            }),
          );
          id = String(out.integrationId);
          integrations.set(key, id);
        }
        target = `integrations/${id}`;
      }
      const verb = method.toLowerCase() === 'x-amazon-apigateway-any-method' ? 'ANY' : method.toUpperCase();
      const routeKey = path === '/$default' ? '$default' : `${verb} ${path}`;
      const security = op.security !== undefined ? list(op.security) : globalSecurity;
      const auth: Input = { authorizationType: 'NONE' };
      for (const req of security) {
        const name = Object.keys(req ?? {})[0];
        const a = name === undefined ? undefined : authorizers.get(name);
        if (!a) continue;
        auth.authorizationType = a.type;
        if (a.id) auth.authorizerId = a.id;
        const scopes = list<string>(req[name!]).map(String);
        if (a.type === 'JWT' && scopes.length) auth.authorizationScopes = scopes;
        break;
      }
      await engine.createRoute(
        scope,
        apiId,
        defined({ routeKey, target, operationName: str(op.operationId), ...auth }),
      );
    }
  }
}

/** An authorizer's identity sources: a list, or one string of comma-separated sources. */
function identitySources(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function malformed(what: string, path: string) {
  return errors.badRequest(`Unable to parse API definition because of a malformed ${what} at path ${path}.`);
}
