/**
 * The apigateway (v1) REST-JSON wire adapter: maps each path onto the RestEngine. List
 * answers use AWS's `item` member and `position` token.
 */
import type { RestRequest, RestResponse, RestRoute } from '../../server/service.js';
import type { Clock } from '../../core/clock.js';
import type { Store } from '../../storage/store.js';
import type { RestEngine } from './engine.js';
import { restErrors, type Scope } from './model.js';
import { Documentation } from './documentation.js';
import { ClientCertificates } from './client-certs.js';
import { modelTemplate } from '../model-template.js';
import { importDefinition } from './import.js';
import { routeTable } from '../route-table.js';
import { exportStage } from './export.js';
import { parseApiKeyFile } from './api-key-file.js';
import { stringify as stringifyYaml } from 'yaml';
import { parseDefinition } from '../openapi.js';

function list(p: { items: unknown[]; position?: string }): RestResponse {
  return { body: p.position ? { item: p.items, position: p.position } : { item: p.items } };
}

const q = (req: RestRequest) => Object.fromEntries(req.query.entries());

/** ImportRestApi: a new API from the definition (none when the import fails). */
async function importRestApi(engine: RestEngine, docs: Documentation, s: Scope, req: RestRequest) {
  const doc = parseDefinition(req.body.toString('utf8'));
  const types = req.query.get('endpointConfigurationTypes');
  const api = await engine.createRestApi(s, {
    name: typeof doc.info?.title === 'string' ? doc.info.title : '',
    ...(types ? { endpointConfiguration: { types: types.split(',') } } : {}),
  });
  try {
    await importDefinition(engine, s, api.id, doc, {
      mode: 'overwrite',
      basepath: req.query.get('basepath') ?? undefined,
    });
    await importDocumentation(docs, s, api.id, doc, 'overwrite', req);
  } catch (err) {
    await engine.deleteRestApi(s, api.id);
    throw err;
  }
  return engine.getRestApi(s, api.id);
}

/** GetExport: the stage's deployment as an OpenAPI 3 / Swagger 2.0 document (JSON, or YAML by `Accept`). */
async function getExport(
  engine: RestEngine,
  docs: Documentation,
  s: Scope,
  p: Record<string, string>,
  req: RestRequest,
) {
  const type = p.export_type;
  if (type !== 'oas30' && type !== 'swagger')
    throw restErrors.badRequest(`Invalid export type specified: ${type}. Valid options are oas30,swagger`);
  const api = await engine.readRecord(s, p.restapi_id);
  const stage = api.stages.find((x) => x.stageName === p.stage_name);
  if (!stage) throw restErrors.notFound('Invalid stage identifier specified');
  const deployment = api.deployments.find((d) => d.id === stage.deploymentId);
  if (!deployment) throw restErrors.notFound('Invalid deployment identifier specified');
  const extensions = (req.query.get('extensions') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const doc = exportStage(s, api, stage, deployment, { type, extensions });
  // `documentation`: the parts of the documentation version the stage publishes.
  if (extensions.includes('documentation') && stage.documentationVersion) {
    const ext = await docs.exportExtension(s, api.id, stage.documentationVersion);
    if (ext) (doc as Record<string, unknown>)['x-amazon-apigateway-documentation'] = ext;
  }
  const yaml = /yaml/i.test(String(req.headers.accept ?? ''));
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  return {
    headers: {
      'content-type': yaml ? 'application/yaml' : 'application/json',
      'content-disposition': `attachment; filename="${type}_${stamp}.${yaml ? 'yaml' : 'json'}"`,
    },
    body: yaml ? stringifyYaml(doc) : JSON.stringify(doc, null, 2),
  };
}

/** The definition's `x-amazon-apigateway-documentation` parts, when it has them. */
async function importDocumentation(
  docs: Documentation,
  s: Scope,
  apiId: string,
  doc: Record<string, any>,
  mode: string,
  req: RestRequest,
) {
  if (!doc['x-amazon-apigateway-documentation']) return;
  await docs.importParts(s, apiId, doc, { mode, failOnWarnings: req.query.get('failonwarnings') === 'true' });
}

/** PutRestApi: the definition merged into (`mode=merge`, the default) or put in place of (`overwrite`) the API's. */
async function putRestApi(
  engine: RestEngine,
  docs: Documentation,
  s: Scope,
  apiId: string,
  req: RestRequest,
) {
  const mode = req.query.get('mode') ?? 'merge';
  if (mode !== 'merge' && mode !== 'overwrite')
    throw restErrors.badRequest(`Invalid mode specified: ${mode}. Valid options are merge,overwrite`);
  await engine.getRestApi(s, apiId);
  const doc = parseDefinition(req.body.toString('utf8'));
  await importDefinition(engine, s, apiId, doc, { mode, basepath: req.query.get('basepath') ?? undefined });
  await importDocumentation(docs, s, apiId, doc, mode, req);
  return engine.getRestApi(s, apiId);
}

/** A stage's references (CreateStage, UpdateStage): its documentation version and client certificate must exist. */
async function checkStageReferences(
  docs: Documentation,
  certs: ClientCertificates,
  s: Scope,
  apiId: string,
  input: Record<string, any>,
) {
  if (input.documentationVersion) await docs.checkReference(s, apiId, String(input.documentationVersion));
  for (const op of Array.isArray(input.patchOperations) ? input.patchOperations : []) {
    if (op?.op !== 'replace' || !op.value) continue;
    if (op.path === '/documentationVersion') await docs.checkReference(s, apiId, String(op.value));
    if (op.path === '/clientCertificateId') await certs.checkReference(s, String(op.value));
  }
}

/** ImportApiKeys: the keys of a CSV file (api-key-file.ts). */
async function importApiKeys(engine: RestEngine, s: Scope, req: RestRequest) {
  const mode = req.query.get('mode');
  if (mode !== 'import')
    throw restErrors.badRequest(`Invalid mode specified: ${mode}. Valid options are import`);
  const format = req.query.get('format');
  if (format !== 'csv')
    throw restErrors.badRequest(
      format ? `Invalid format specified: ${format}. Valid options are csv` : 'Format must be specified',
    );
  const rows = parseApiKeyFile(req.body.toString('utf8'));
  return engine.importApiKeys(s, rows, req.query.get('failonwarnings') === 'true');
}

export function restApiRoutes(engine: RestEngine, deps: { store: Store; clock: Clock }): RestRoute[] {
  const { routes, route } = routeTable();
  const docs = new Documentation({ ...deps, rest: engine });
  const certs = new ClientCertificates(deps);
  const ok = (x: unknown, status = 200): RestResponse => ({ status, body: x });
  const none: RestResponse = { status: 202 };
  const A = '/restapis/{restapi_id}';
  const M = `${A}/resources/{resource_id}/methods/{http_method}`;
  const where = (p: Record<string, string>) => [p.restapi_id, p.resource_id, p.http_method] as const;

  // ImportRestApi is `POST /restapis?mode=import`: the body is the definition, not JSON input.
  route('POST', '/restapis', 'CreateRestApi', async (s, _p, req) =>
    req.query.get('mode') === 'import'
      ? ok(await importRestApi(engine, docs, s, req), 201)
      : ok(await engine.createRestApi(s, req.json()), 201),
  );
  route('GET', `${A}/stages/{stage_name}/exports/{export_type}`, 'GetExport', (s, p, req) =>
    getExport(engine, docs, s, p, req),
  );
  route('PUT', A, 'PutRestApi', async (s, p, req) =>
    ok(await putRestApi(engine, docs, s, p.restapi_id, req)),
  );
  route('GET', '/restapis', 'GetRestApis', async (s, _p, req) => list(await engine.getRestApis(s, q(req))));
  route('GET', A, 'GetRestApi', async (s, p) => ok(await engine.getRestApi(s, p.restapi_id)));
  route('PATCH', A, 'UpdateRestApi', async (s, p, req) =>
    ok(await engine.updateRestApi(s, p.restapi_id, req.json())),
  );
  route('DELETE', A, 'DeleteRestApi', async (s, p) => (await engine.deleteRestApi(s, p.restapi_id), none));

  route('GET', `${A}/resources`, 'GetResources', async (s, p, req) =>
    list(await engine.getResources(s, p.restapi_id, q(req))),
  );
  route('GET', `${A}/resources/{resource_id}`, 'GetResource', async (s, p) =>
    ok(await engine.getResource(s, p.restapi_id, p.resource_id)),
  );
  route('POST', `${A}/resources/{parent_id}`, 'CreateResource', async (s, p, req) =>
    ok(await engine.createResource(s, p.restapi_id, p.parent_id, req.json()), 201),
  );
  route('PATCH', `${A}/resources/{resource_id}`, 'UpdateResource', async (s, p, req) =>
    ok(await engine.updateResource(s, p.restapi_id, p.resource_id, req.json())),
  );
  route('DELETE', `${A}/resources/{resource_id}`, 'DeleteResource', async (s, p) => {
    await engine.deleteResource(s, p.restapi_id, p.resource_id);
    return none;
  });
  route('PUT', M, 'PutMethod', async (s, p, req) =>
    ok(await engine.putMethod(s, p.restapi_id, p.resource_id, p.http_method, req.json()), 201),
  );
  route('GET', M, 'GetMethod', async (s, p) =>
    ok(await engine.getMethod(s, p.restapi_id, p.resource_id, p.http_method)),
  );
  route('PATCH', M, 'UpdateMethod', async (s, p, req) =>
    ok(await engine.updateMethod(s, p.restapi_id, p.resource_id, p.http_method, req.json())),
  );
  route('DELETE', M, 'DeleteMethod', async (s, p) => {
    await engine.deleteMethod(s, p.restapi_id, p.resource_id, p.http_method);
    return none;
  });
  route('PUT', `${M}/integration`, 'PutIntegration', async (s, p, req) =>
    ok(await engine.putIntegration(s, p.restapi_id, p.resource_id, p.http_method, req.json()), 201),
  );
  route('GET', `${M}/integration`, 'GetIntegration', async (s, p) =>
    ok(await engine.getIntegration(s, p.restapi_id, p.resource_id, p.http_method)),
  );

  route('PATCH', `${M}/integration`, 'UpdateIntegration', async (s, p, req) =>
    ok(await engine.updateIntegration(s, p.restapi_id, p.resource_id, p.http_method, req.json())),
  );
  route('DELETE', `${M}/integration`, 'DeleteIntegration', async (s, p) => {
    await engine.deleteIntegration(s, p.restapi_id, p.resource_id, p.http_method);
    return none;
  });

  route('PUT', `${M}/responses/{status_code}`, 'PutMethodResponse', async (s, p, req) =>
    ok(await engine.putMethodResponse(s, ...where(p), p.status_code, req.json()), 201),
  );
  route('PUT', `${M}/integration/responses/{status_code}`, 'PutIntegrationResponse', async (s, p, req) =>
    ok(await engine.putIntegrationResponse(s, ...where(p), p.status_code, req.json()), 201),
  );
  for (const [kind, path, name] of [
    ['method', `${M}/responses/{status_code}`, 'MethodResponse'],
    ['integration', `${M}/integration/responses/{status_code}`, 'IntegrationResponse'],
  ] as const) {
    route('GET', path, `Get${name}`, async (s, p) =>
      ok(await engine.getResponse(s, ...where(p), kind, p.status_code)),
    );
    route('PATCH', path, `Update${name}`, async (s, p, req) =>
      ok(await engine.updateResponse(s, ...where(p), kind, p.status_code, req.json())),
    );
    route('DELETE', path, `Delete${name}`, async (s, p) => {
      await engine.deleteResponse(s, ...where(p), kind, p.status_code);
      return none;
    });
  }

  route('POST', `${A}/models`, 'CreateModel', async (s, p, req) =>
    ok(await engine.createModel(s, p.restapi_id, req.json()), 201),
  );
  route('GET', `${A}/models`, 'GetModels', async (s, p) => ({
    body: { item: await engine.getModels(s, p.restapi_id) },
  }));
  route('GET', `${A}/models/{model_name}`, 'GetModel', async (s, p) =>
    ok(await engine.getModel(s, p.restapi_id, p.model_name)),
  );
  route('GET', `${A}/models/{model_name}/default_template`, 'GetModelTemplate', async (s, p) => {
    const model = await engine.getModel(s, p.restapi_id, p.model_name);
    const models = await engine.getModels(s, p.restapi_id);
    const schemaOf = (name: string) => models.find((m) => m.name === name)?.schema as string | undefined;
    return ok({ value: modelTemplate(String(model.schema ?? '{}'), schemaOf) });
  });
  route('PATCH', `${A}/models/{model_name}`, 'UpdateModel', async (s, p, req) =>
    ok(await engine.updateModel(s, p.restapi_id, p.model_name, req.json())),
  );
  route('DELETE', `${A}/models/{model_name}`, 'DeleteModel', async (s, p) => {
    await engine.deleteModel(s, p.restapi_id, p.model_name);
    return none;
  });
  const V = `${A}/requestvalidators`;
  route('POST', V, 'CreateRequestValidator', async (s, p, req) =>
    ok(await engine.createRequestValidator(s, p.restapi_id, req.json()), 201),
  );
  route('GET', V, 'GetRequestValidators', async (s, p) => ({
    body: { item: await engine.getRequestValidators(s, p.restapi_id) },
  }));
  route('GET', `${V}/{requestvalidator_id}`, 'GetRequestValidator', async (s, p) =>
    ok(await engine.getRequestValidator(s, p.restapi_id, p.requestvalidator_id)),
  );
  route('PATCH', `${V}/{requestvalidator_id}`, 'UpdateRequestValidator', async (s, p, req) =>
    ok(await engine.updateRequestValidator(s, p.restapi_id, p.requestvalidator_id, req.json())),
  );
  route('DELETE', `${V}/{requestvalidator_id}`, 'DeleteRequestValidator', async (s, p) => {
    await engine.deleteRequestValidator(s, p.restapi_id, p.requestvalidator_id);
    return none;
  });

  const G = `${A}/gatewayresponses`;
  route('PUT', `${G}/{response_type}`, 'PutGatewayResponse', async (s, p, req) =>
    ok(await engine.putGatewayResponse(s, p.restapi_id, p.response_type, req.json()), 201),
  );
  route('GET', `${G}/{response_type}`, 'GetGatewayResponse', async (s, p) =>
    ok(await engine.getGatewayResponse(s, p.restapi_id, p.response_type)),
  );
  route('GET', G, 'GetGatewayResponses', async (s, p) => ({
    body: { item: await engine.getGatewayResponses(s, p.restapi_id) },
  }));
  route('PATCH', `${G}/{response_type}`, 'UpdateGatewayResponse', async (s, p, req) =>
    ok(await engine.updateGatewayResponse(s, p.restapi_id, p.response_type, req.json())),
  );
  route('DELETE', `${G}/{response_type}`, 'DeleteGatewayResponse', async (s, p) => {
    await engine.deleteGatewayResponse(s, p.restapi_id, p.response_type);
    return none;
  });

  route('POST', `${A}/authorizers`, 'CreateAuthorizer', async (s, p, req) =>
    ok(await engine.createAuthorizer(s, p.restapi_id, req.json()), 201),
  );
  route('GET', `${A}/authorizers`, 'GetAuthorizers', async (s, p, req) =>
    list(await engine.getAuthorizers(s, p.restapi_id, q(req))),
  );
  route('GET', `${A}/authorizers/{authorizer_id}`, 'GetAuthorizer', async (s, p) =>
    ok(await engine.getAuthorizer(s, p.restapi_id, p.authorizer_id)),
  );

  route('PATCH', `${A}/authorizers/{authorizer_id}`, 'UpdateAuthorizer', async (s, p, req) =>
    ok(await engine.updateAuthorizer(s, p.restapi_id, p.authorizer_id, req.json())),
  );
  route('DELETE', `${A}/authorizers/{authorizer_id}`, 'DeleteAuthorizer', async (s, p) => {
    await engine.deleteAuthorizer(s, p.restapi_id, p.authorizer_id);
    return none;
  });

  route('POST', `${A}/deployments`, 'CreateDeployment', async (s, p, req) =>
    ok(await engine.createDeployment(s, p.restapi_id, req.json()), 201),
  );
  route('GET', `${A}/deployments`, 'GetDeployments', async (s, p, req) =>
    list(await engine.getDeployments(s, p.restapi_id, q(req))),
  );
  route('GET', `${A}/deployments/{deployment_id}`, 'GetDeployment', async (s, p) =>
    ok(await engine.getDeployment(s, p.restapi_id, p.deployment_id)),
  );
  route('PATCH', `${A}/deployments/{deployment_id}`, 'UpdateDeployment', async (s, p, req) =>
    ok(await engine.updateDeployment(s, p.restapi_id, p.deployment_id, req.json())),
  );
  route('DELETE', `${A}/deployments/{deployment_id}`, 'DeleteDeployment', async (s, p) => {
    await engine.deleteDeployment(s, p.restapi_id, p.deployment_id);
    return none;
  });
  route('POST', `${A}/stages`, 'CreateStage', async (s, p, req) => {
    await checkStageReferences(docs, certs, s, p.restapi_id, req.json());
    return ok(await engine.createStage(s, p.restapi_id, req.json()), 201);
  });
  route('GET', `${A}/stages`, 'GetStages', async (s, p, req) => ({
    body: { item: await engine.getStages(s, p.restapi_id, req.query.get('deploymentId') ?? undefined) },
  }));
  route('GET', `${A}/stages/{stage_name}`, 'GetStage', async (s, p) =>
    ok(await engine.getStage(s, p.restapi_id, p.stage_name)),
  );
  route('PATCH', `${A}/stages/{stage_name}`, 'UpdateStage', async (s, p, req) => {
    await checkStageReferences(docs, certs, s, p.restapi_id, req.json());
    return ok(await engine.updateStage(s, p.restapi_id, p.stage_name, req.json()));
  });

  const D = `${A}/documentation/parts`;
  route('POST', D, 'CreateDocumentationPart', async (s, p, req) =>
    ok(await docs.createPart(s, p.restapi_id, req.json()), 201),
  );
  route('GET', D, 'GetDocumentationParts', async (s, p, req) =>
    list(await docs.getParts(s, p.restapi_id, q(req))),
  );
  // ImportDocumentationParts: the body is an OpenAPI document, not JSON input.
  route('PUT', D, 'ImportDocumentationParts', async (s, p, req) =>
    ok(
      await docs.importParts(s, p.restapi_id, parseDefinition(req.body.toString('utf8')), {
        mode: req.query.get('mode') ?? 'merge',
        failOnWarnings: req.query.get('failonwarnings') === 'true',
      }),
    ),
  );
  route('GET', `${D}/{part_id}`, 'GetDocumentationPart', async (s, p) =>
    ok(await docs.getPart(s, p.restapi_id, p.part_id)),
  );
  route('PATCH', `${D}/{part_id}`, 'UpdateDocumentationPart', async (s, p, req) =>
    ok(await docs.updatePart(s, p.restapi_id, p.part_id, req.json())),
  );
  route('DELETE', `${D}/{part_id}`, 'DeleteDocumentationPart', async (s, p) => {
    await docs.deletePart(s, p.restapi_id, p.part_id);
    return none;
  });
  const DV = `${A}/documentation/versions`;
  route('POST', DV, 'CreateDocumentationVersion', async (s, p, req) =>
    ok(await docs.createVersion(s, p.restapi_id, req.json()), 201),
  );
  route('GET', DV, 'GetDocumentationVersions', async (s, p, req) =>
    list(await docs.getVersions(s, p.restapi_id, q(req))),
  );
  route('GET', `${DV}/{doc_version}`, 'GetDocumentationVersion', async (s, p) =>
    ok(await docs.getVersion(s, p.restapi_id, p.doc_version)),
  );
  route('PATCH', `${DV}/{doc_version}`, 'UpdateDocumentationVersion', async (s, p, req) =>
    ok(await docs.updateVersion(s, p.restapi_id, p.doc_version, req.json())),
  );
  route('DELETE', `${DV}/{doc_version}`, 'DeleteDocumentationVersion', async (s, p) => {
    await docs.deleteVersion(s, p.restapi_id, p.doc_version);
    return none;
  });

  route('POST', '/clientcertificates', 'GenerateClientCertificate', async (s, _p, req) =>
    ok(await certs.generate(s, req.json()), 201),
  );
  route('GET', '/clientcertificates', 'GetClientCertificates', async (s, _p, req) =>
    list(await certs.list(s, q(req))),
  );
  route('GET', '/clientcertificates/{clientcertificate_id}', 'GetClientCertificate', async (s, p) =>
    ok(await certs.get(s, p.clientcertificate_id)),
  );
  route('PATCH', '/clientcertificates/{clientcertificate_id}', 'UpdateClientCertificate', async (s, p, req) =>
    ok(await certs.update(s, p.clientcertificate_id, req.json())),
  );
  route('DELETE', '/clientcertificates/{clientcertificate_id}', 'DeleteClientCertificate', async (s, p) => {
    await certs.delete(s, p.clientcertificate_id);
    return none;
  });
  route('DELETE', `${A}/stages/{stage_name}`, 'DeleteStage', async (s, p) => {
    await engine.deleteStage(s, p.restapi_id, p.stage_name);
    return none;
  });

  // ImportApiKeys is `POST /apikeys?mode=import&format=csv`: the body is the CSV file, not JSON input.
  route('POST', '/apikeys', 'CreateApiKey', async (s, _p, req) =>
    req.query.has('mode')
      ? ok(await importApiKeys(engine, s, req), 201)
      : ok(await engine.createApiKey(s, req.json()), 201),
  );
  route('GET', '/apikeys', 'GetApiKeys', async (s, _p, req) => list(await engine.getApiKeys(s, q(req))));
  route('GET', '/apikeys/{api_Key}', 'GetApiKey', async (s, p, req) =>
    ok(await engine.getApiKey(s, p.api_Key, req.query.get('includeValue') === 'true')),
  );
  route(
    'DELETE',
    '/apikeys/{api_Key}',
    'DeleteApiKey',
    async (s, p) => (await engine.deleteApiKey(s, p.api_Key), none),
  );
  route('PATCH', '/apikeys/{api_Key}', 'UpdateApiKey', async (s, p, req) =>
    ok(await engine.updateApiKey(s, p.api_Key, req.json())),
  );
  route('POST', '/usageplans', 'CreateUsagePlan', async (s, _p, req) =>
    ok(await engine.createUsagePlan(s, req.json()), 201),
  );
  route('GET', '/usageplans', 'GetUsagePlans', async (s, _p, req) =>
    list(await engine.getUsagePlans(s, q(req))),
  );
  route('GET', '/usageplans/{usageplanId}', 'GetUsagePlan', async (s, p) =>
    ok(await engine.getUsagePlan(s, p.usageplanId)),
  );
  route('PATCH', '/usageplans/{usageplanId}', 'UpdateUsagePlan', async (s, p, req) =>
    ok(await engine.updateUsagePlan(s, p.usageplanId, req.json())),
  );
  route('DELETE', '/usageplans/{usageplanId}', 'DeleteUsagePlan', async (s, p) => {
    await engine.deleteUsagePlan(s, p.usageplanId);
    return none;
  });
  route('POST', '/usageplans/{usageplanId}/keys', 'CreateUsagePlanKey', async (s, p, req) =>
    ok(await engine.createUsagePlanKey(s, p.usageplanId, req.json()), 201),
  );
  route('GET', '/usageplans/{usageplanId}/keys', 'GetUsagePlanKeys', async (s, p, req) =>
    list(await engine.getUsagePlanKeys(s, p.usageplanId, q(req))),
  );
  route('GET', '/usageplans/{usageplanId}/keys/{keyId}', 'GetUsagePlanKey', async (s, p) =>
    ok(await engine.getUsagePlanKey(s, p.usageplanId, p.keyId)),
  );
  route('DELETE', '/usageplans/{usageplanId}/keys/{keyId}', 'DeleteUsagePlanKey', async (s, p) => {
    await engine.deleteUsagePlanKey(s, p.usageplanId, p.keyId);
    return none;
  });

  route('GET', '/usageplans/{usageplanId}/usage', 'GetUsage', async (s, p, req) =>
    ok(await engine.getUsage(s, p.usageplanId, q(req))),
  );
  route('PATCH', '/usageplans/{usageplanId}/keys/{keyId}/usage', 'UpdateUsage', async (s, p, req) =>
    ok(await engine.updateUsage(s, p.usageplanId, p.keyId, req.json())),
  );

  route('GET', '/account', 'GetAccount', async (s) => ok(await engine.getAccount(s)));
  route('PATCH', '/account', 'UpdateAccount', async (s, _p, req) =>
    ok(await engine.updateAccount(s, req.json())),
  );

  route('GET', '/tags/{resource_arn}', 'GetTags', async (s, p) =>
    ok({ tags: await engine.getTags(s, p.resource_arn) }),
  );
  route('PUT', '/tags/{resource_arn}', 'TagResource', async (s, p, req) => {
    await engine.tagResource(s, p.resource_arn, req.json());
    return { status: 204 };
  });
  route('DELETE', '/tags/{resource_arn}', 'UntagResource', async (s, p, req) => {
    await engine.untagResource(s, p.resource_arn, req.query.getAll('tagKeys'));
    return { status: 204 };
  });
  return routes;
}
