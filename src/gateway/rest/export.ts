/**
 * GetExport: a REST API stage as an OpenAPI 3.0.1 (`oas30`) or Swagger 2.0 (`swagger`) document,
 * from the stage's deployment, as `aws apigateway get-export` returns it. The `extensions`
 * parameter adds API Gateway's extensions: `integrations` (`x-amazon-apigateway-integration`),
 * `authorizers` (`x-amazon-apigateway-authorizer` security schemes) or `apigateway` (both, plus
 * request validators, gateway responses, binary media types and the API key source). A document
 * exported with `apigateway` imports back (ImportRestApi / PutRestApi) into the same API.
 */
import type {
  MethodRecord,
  RestApiRecord,
  RestAuthorizerRecord,
  RestDeploymentRecord,
  RestStageRecord,
  Scope,
} from './model.js';

import { BUILT_IN_MODELS, builtInModel } from './engine.js';

import { defined, type Doc } from '../openapi.js';
import { policyDocument } from './resource-policy.js';

export interface ExportOptions {
  type: 'oas30' | 'swagger';
  /** The `extensions` parameter, split on commas. */
  extensions: string[];
}

const lower = (s: string | undefined) => (s === undefined ? undefined : s.toLowerCase());

export function exportStage(
  scope: Scope,
  api: RestApiRecord,
  stage: RestStageRecord,
  deployment: RestDeploymentRecord,
  opts: ExportOptions,
): Doc {
  const oas3 = opts.type === 'oas30';
  const all = opts.extensions.includes('apigateway');
  const withIntegrations = all || opts.extensions.includes('integrations');
  const withAuthorizers = all || opts.extensions.includes('authorizers');
  const snap = deployment.snapshot;
  const refBase = oas3 ? '#/components/schemas/' : '#/definitions/';
  const modelUrl = `https://apigateway.amazonaws.com/restapis/${api.id}/models/`;
  const referenced = new Set<string>();
  const ref = (name: string) => {
    referenced.add(name);
    return { $ref: refBase + name };
  };
  const host = `${api.id}.execute-api.${scope.region}.amazonaws.com`;
  const validators = new Map((snap.requestValidators ?? []).map((v) => [v.id, v]));
  const authorizers = new Map(snap.authorizers.map((a) => [a.id, a]));
  const usedSchemes = new Map<string, Doc>();

  const paths: Doc = {};
  const resources = [...snap.resources].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const r of resources) {
    const methods = Object.values(r.resourceMethods ?? {});
    if (!methods.length) continue;
    const item: Doc = {};
    for (const m of methods) {
      const key = m.httpMethod === 'ANY' ? 'x-amazon-apigateway-any-method' : m.httpMethod.toLowerCase();
      item[key] = operation(m);
    }
    paths[r.path] = item;
  }

  function operation(m: MethodRecord): Doc {
    const op: Doc = {};
    if (m.operationName) op.operationId = m.operationName;
    const parameters: Doc[] = [];
    for (const [name, required] of Object.entries(m.requestParameters ?? {})) {
      const p = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(name);
      if (!p) continue;
      const where = p[1] === 'querystring' ? 'query' : p[1];
      parameters.push(
        oas3
          ? { name: p[2], in: where, required: where === 'path' || required, schema: { type: 'string' } }
          : { name: p[2], in: where, required: where === 'path' || required, type: 'string' },
      );
    }
    const models = Object.entries(m.requestModels ?? {}).filter(([, name]) => name !== 'Empty');
    if (models.length && oas3)
      op.requestBody = {
        content: Object.fromEntries(models.map(([type, name]) => [type, { schema: ref(name) }])),
        required: true,
      };
    else if (models.length) {
      op.consumes = models.map(([type]) => type);
      parameters.push({ in: 'body', name: models[0][1], required: true, schema: ref(models[0][1]) });
    }
    if (parameters.length) op.parameters = parameters;
    const responses: Doc = {};
    for (const [code, res] of Object.entries(m.methodResponses ?? {})) {
      const out: Doc = { description: `${code} response` };
      const headers = Object.keys(res.responseParameters ?? {})
        .map((h) => /^method\.response\.header\.(.+)$/.exec(h)?.[1])
        .filter((h): h is string => h !== undefined);
      if (headers.length)
        out.headers = Object.fromEntries(
          headers.map((h) => [h, oas3 ? { schema: { type: 'string' } } : { type: 'string' }]),
        );
      const responseModels = Object.entries(res.responseModels ?? {});
      if (responseModels.length && oas3)
        out.content = Object.fromEntries(responseModels.map(([type, name]) => [type, { schema: ref(name) }]));
      else if (responseModels.length) out.schema = ref(responseModels[0][1]);
      responses[code] = out;
    }
    op.responses = responses;
    const security: Doc[] = [];
    const auth = m.authorizerId ? authorizers.get(m.authorizerId) : undefined;
    if (auth && (m.authorizationType === 'CUSTOM' || m.authorizationType === 'COGNITO_USER_POOLS')) {
      security.push({ [auth.name]: m.authorizationScopes ?? [] });
      usedSchemes.set(auth.name, authorizerScheme(auth));
    } else if (m.authorizationType === 'AWS_IAM') {
      security.push({ sigv4: [] });
      usedSchemes.set('sigv4', {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      });
    }
    if (m.apiKeyRequired) {
      security.push({ api_key: [] });
      usedSchemes.set('api_key', { type: 'apiKey', name: 'x-api-key', in: 'header' });
    }
    if (security.length) op.security = security;
    const validator = m.requestValidatorId ? validators.get(m.requestValidatorId) : undefined;
    if (all && validator) op['x-amazon-apigateway-request-validator'] = validator.name;
    const integ = m.methodIntegration;
    if (withIntegrations && integ) {
      const responses = Object.values(integ.integrationResponses ?? {});
      op['x-amazon-apigateway-integration'] = defined({
        type: lower(integ.type),
        httpMethod: integ.httpMethod,
        uri: integ.uri,
        credentials: integ.credentials,
        requestParameters: integ.requestParameters,
        requestTemplates: integ.requestTemplates,
        passthroughBehavior: lower(integ.passthroughBehavior),
        contentHandling: integ.contentHandling,
        timeoutInMillis: integ.timeoutInMillis,
        cacheNamespace: integ.cacheNamespace,
        cacheKeyParameters: integ.cacheKeyParameters,
        tlsConfig: integ.tlsConfig,
        connectionType: integ.connectionType,
        connectionId: integ.connectionId,
        responseTransferMode: integ.responseTransferMode,
        responses: responses.length
          ? Object.fromEntries(
              responses.map((x) => [
                x.selectionPattern ?? 'default',
                defined({
                  statusCode: x.statusCode,
                  responseParameters: x.responseParameters,
                  responseTemplates: x.responseTemplates,
                  contentHandling: x.contentHandling,
                }),
              ]),
            )
          : undefined,
      });
    }
    return op;
  }

  function authorizerScheme(a: RestAuthorizerRecord): Doc {
    const header = /^method\.request\.header\.([^,\s]+)$/.exec(a.identitySource ?? '')?.[1] ?? 'Unused';
    const scheme: Doc = {
      type: 'apiKey',
      name: header,
      in: 'header',
      'x-amazon-apigateway-authtype': a.type === 'COGNITO_USER_POOLS' ? 'cognito_user_pools' : 'custom',
    };
    if (withAuthorizers)
      scheme['x-amazon-apigateway-authorizer'] = defined({
        type: lower(a.type),
        authorizerUri: a.authorizerUri,
        authorizerResultTtlInSeconds: a.authorizerResultTtlInSeconds,
        identitySource: a.type === 'TOKEN' ? undefined : a.identitySource,
        identityValidationExpression: a.identityValidationExpression,
        providerARNs: a.providerARNs,
      });
    return scheme;
  }

  /** A model's schema with its model URLs made local references. */
  const schemaOf = (text: string | undefined): Doc => {
    if (!text) return {};
    let schema: unknown;
    try {
      schema = JSON.parse(text);
    } catch {
      return {};
    }
    const walk = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(walk);
      if (v === null || typeof v !== 'object') return v;
      const out: Doc = {};
      for (const [k, x] of Object.entries(v as Doc)) {
        if (k === '$schema') continue;
        out[k] =
          k === '$ref' && typeof x === 'string' && x.startsWith(modelUrl)
            ? refBase + x.slice(modelUrl.length)
            : walk(x);
      }
      return out;
    };
    return walk(schema) as Doc;
  };
  const schemas = Object.fromEntries((snap.models ?? []).map((m) => [m.name, schemaOf(m.schema)]));
  // The built-in models a method names are defined too, so every reference resolves.
  for (const name of BUILT_IN_MODELS)
    if (referenced.has(name) && !(name in schemas)) schemas[name] = schemaOf(builtInModel(name).schema);
  const securitySchemes = Object.fromEntries(usedSchemes);

  const info = defined({
    title: api.name,
    description: api.description,
    version: api.version ?? new Date(deployment.createdDate * 1000).toISOString().replace('.000Z', 'Z'),
  });
  const doc: Doc = oas3
    ? {
        openapi: '3.0.1',
        info,
        servers: [
          { url: `https://${host}/{basePath}`, variables: { basePath: { default: stage.stageName } } },
        ],
        paths,
      }
    : { swagger: '2.0', info, host, basePath: `/${stage.stageName}`, schemes: ['https'], paths };
  if (oas3) {
    const components = defined({
      schemas: Object.keys(schemas).length ? schemas : undefined,
      securitySchemes: Object.keys(securitySchemes).length ? securitySchemes : undefined,
    });
    if (Object.keys(components).length) doc.components = components;
  } else {
    if (Object.keys(securitySchemes).length) doc.securityDefinitions = securitySchemes;
    if (Object.keys(schemas).length) doc.definitions = schemas;
  }
  if (all) {
    const v = snap.requestValidators ?? [];
    if (v.length)
      doc['x-amazon-apigateway-request-validators'] = Object.fromEntries(
        v.map((x) => [
          x.name,
          {
            validateRequestBody: x.validateRequestBody,
            validateRequestParameters: x.validateRequestParameters,
          },
        ]),
      );
    const responses = Object.values(snap.gatewayResponses ?? {});
    if (responses.length)
      doc['x-amazon-apigateway-gateway-responses'] = Object.fromEntries(
        responses.map((r) => [
          r.responseType,
          defined({
            statusCode: r.statusCode,
            responseParameters: r.responseParameters,
            responseTemplates: r.responseTemplates,
          }),
        ]),
      );
    if (api.binaryMediaTypes?.length) doc['x-amazon-apigateway-binary-media-types'] = api.binaryMediaTypes;
    if (api.apiKeySource !== 'HEADER') doc['x-amazon-apigateway-api-key-source'] = api.apiKeySource;
    if (api.minimumCompressionSize !== undefined)
      doc['x-amazon-apigateway-minimum-compression-size'] = api.minimumCompressionSize;
    const policy = snap.policy === undefined ? undefined : policyDocument(snap.policy);
    if (policy) doc['x-amazon-apigateway-policy'] = policy;
  }
  return doc;
}
