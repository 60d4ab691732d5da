/**
 * The apigatewayv2 REST-JSON wire adapter (HTTP and WebSocket APIs): maps each route onto the engine.
 */
import { modelTemplate } from './model-template.js';
import type { RestJsonService, RestRequest, RestResponse } from '../server/service.js';
import type { GatewayEngine } from './engine.js';
import { errors, type Snapshot } from './model.js';
import { routeTable } from './route-table.js';
import { exportHttpApi } from './export.js';
import { stringify as stringifyYaml } from 'yaml';
import { apiSettingsOf, importHttpDefinition } from './import.js';
import { parseDefinition } from './openapi.js';

function listQuery(req: RestRequest): Record<string, unknown> {
  return {
    maxResults: req.query.get('maxResults') ?? undefined,
    nextToken: req.query.get('nextToken') ?? undefined,
  };
}

function list(p: { items: unknown[]; nextToken?: string }): RestResponse {
  return { body: p.nextToken ? { items: p.items, nextToken: p.nextToken } : { items: p.items } };
}

/** ImportApi / ReimportApi: the definition is the `body` member, a JSON or YAML string. */
function definitionOf(req: RestRequest) {
  const input = req.json();
  if (typeof input.body !== 'string' || input.body === '') throw errors.badRequest('Body is required');
  return parseDefinition(input.body);
}

export function gatewayV2Service(engine: GatewayEngine): RestJsonService {
  const { routes, route } = routeTable();
  const A = '/v2/apis/{ApiId}';
  const body = (x: unknown, status = 200): RestResponse => ({ status, body: x });
  const none: RestResponse = { status: 204 };

  route('POST', '/v2/apis', 'CreateApi', async (s, _p, req, ctx) =>
    body(await engine.createApi(s, req.json(), ctx.endpoint), 201),
  );
  route('GET', '/v2/apis', 'GetApis', async (s, _p, req, ctx) =>
    list(await engine.getApis(s, listQuery(req), ctx.endpoint)),
  );
  route('GET', A, 'GetApi', async (s, p, _r, ctx) => body(await engine.getApi(s, p.ApiId, ctx.endpoint)));
  route('PATCH', A, 'UpdateApi', async (s, p, req, ctx) =>
    body(await engine.updateApi(s, p.ApiId, req.json(), ctx.endpoint)),
  );
  route('DELETE', A, 'DeleteApi', async (s, p) => (await engine.deleteApi(s, p.ApiId), none));
  route('GET', `${A}/exports/{Specification}`, 'ExportApi', async (s, p, req) => {
    if (p.Specification !== 'OAS30')
      throw errors.badRequest(`Invalid specification: ${p.Specification}. Valid options are OAS30`);
    const outputType = req.query.get('outputType');
    if (outputType !== 'JSON' && outputType !== 'YAML')
      throw errors.badRequest('OutputType is required and must be one of JSON, YAML');
    const api = await engine.getApiRecord(s, p.ApiId);
    if (api.protocolType !== 'HTTP') throw errors.badRequest('Export is only supported for HTTP APIs');
    const stageName = req.query.get('stageName') ?? undefined;
    let what: Snapshot = api;
    if (stageName !== undefined) {
      const stage = await engine.getStage(s, p.ApiId, stageName);
      const d = api.deployments.find((x) => x.deploymentId === stage.deploymentId);
      if (!d) throw errors.badRequest(`Stage ${stageName} has no deployment to export`);
      what = d.snapshot;
    }
    const doc = exportHttpApi(s, api, what, stageName, req.query.get('includeExtensions') !== 'false');
    return {
      headers: { 'content-type': outputType === 'YAML' ? 'application/yaml' : 'application/json' },
      body: outputType === 'YAML' ? stringifyYaml(doc) : JSON.stringify(doc, null, 2),
    };
  });
  route('PUT', '/v2/apis', 'ImportApi', async (s, _p, req, ctx) => {
    const doc = definitionOf(req);
    const api = await engine.createApi(s, { ...apiSettingsOf(doc), protocolType: 'HTTP' }, ctx.endpoint);
    const apiId = String(api.apiId);
    try {
      await importHttpDefinition(engine, s, apiId, doc, req.query.get('basepath') ?? undefined, ctx.endpoint);
    } catch (err) {
      await engine.deleteApi(s, apiId);
      throw err;
    }
    return body(await engine.getApi(s, apiId, ctx.endpoint), 201);
  });
  route('PUT', A, 'ReimportApi', async (s, p, req, ctx) => {
    await engine.getApiRecord(s, p.ApiId);
    const doc = definitionOf(req);
    await importHttpDefinition(engine, s, p.ApiId, doc, req.query.get('basepath') ?? undefined, ctx.endpoint);
    return body(await engine.getApi(s, p.ApiId, ctx.endpoint), 201);
  });
  route('DELETE', `${A}/cors`, 'DeleteCorsConfiguration', async (s, p) => {
    await engine.deleteCorsConfiguration(s, p.ApiId);
    return none;
  });

  route('POST', `${A}/integrations`, 'CreateIntegration', async (s, p, req) =>
    body(await engine.createIntegration(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/integrations`, 'GetIntegrations', async (s, p, req) =>
    list(await engine.getIntegrations(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/integrations/{IntegrationId}`, 'GetIntegration', async (s, p) =>
    body(await engine.getIntegration(s, p.ApiId, p.IntegrationId)),
  );
  route('PATCH', `${A}/integrations/{IntegrationId}`, 'UpdateIntegration', async (s, p, req) =>
    body(await engine.updateIntegration(s, p.ApiId, p.IntegrationId, req.json())),
  );
  route('DELETE', `${A}/integrations/{IntegrationId}`, 'DeleteIntegration', async (s, p) => {
    await engine.deleteIntegration(s, p.ApiId, p.IntegrationId);
    return none;
  });

  route('POST', `${A}/models`, 'CreateModel', async (s, p, req) =>
    body(await engine.createModel(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/models`, 'GetModels', async (s, p, req) =>
    list(await engine.getModels(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/models/{ModelId}`, 'GetModel', async (s, p) =>
    body(await engine.getModel(s, p.ApiId, p.ModelId)),
  );
  route('GET', `${A}/models/{ModelId}/template`, 'GetModelTemplate', async (s, p) => {
    const model = await engine.getModel(s, p.ApiId, p.ModelId);
    const { items } = await engine.getModels(s, p.ApiId, { maxResults: 500 });
    const schemaOf = (name: string) => items.find((m) => m.name === name)?.schema;
    return body({ value: modelTemplate(model.schema, schemaOf) });
  });
  route('PATCH', `${A}/models/{ModelId}`, 'UpdateModel', async (s, p, req) =>
    body(await engine.updateModel(s, p.ApiId, p.ModelId, req.json())),
  );
  route('DELETE', `${A}/models/{ModelId}`, 'DeleteModel', async (s, p) => {
    await engine.deleteModel(s, p.ApiId, p.ModelId);
    return none;
  });

  const IR = `${A}/integrations/{IntegrationId}/integrationresponses`;
  route('POST', IR, 'CreateIntegrationResponse', async (s, p, req) =>
    body(await engine.createIntegrationResponse(s, p.ApiId, p.IntegrationId, req.json()), 201),
  );
  route('GET', IR, 'GetIntegrationResponses', async (s, p, req) =>
    list(await engine.getIntegrationResponses(s, p.ApiId, p.IntegrationId, listQuery(req))),
  );
  route('GET', `${IR}/{IntegrationResponseId}`, 'GetIntegrationResponse', async (s, p) =>
    body(await engine.getIntegrationResponse(s, p.ApiId, p.IntegrationId, p.IntegrationResponseId)),
  );
  route('PATCH', `${IR}/{IntegrationResponseId}`, 'UpdateIntegrationResponse', async (s, p, req) =>
    body(
      await engine.updateIntegrationResponse(
        s,
        p.ApiId,
        p.IntegrationId,
        p.IntegrationResponseId,
        req.json(),
      ),
    ),
  );
  route('DELETE', `${IR}/{IntegrationResponseId}`, 'DeleteIntegrationResponse', async (s, p) => {
    await engine.deleteIntegrationResponse(s, p.ApiId, p.IntegrationId, p.IntegrationResponseId);
    return none;
  });

  route('POST', `${A}/routes`, 'CreateRoute', async (s, p, req) =>
    body(await engine.createRoute(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/routes`, 'GetRoutes', async (s, p, req) =>
    list(await engine.getRoutes(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/routes/{RouteId}`, 'GetRoute', async (s, p) =>
    body(await engine.getRoute(s, p.ApiId, p.RouteId)),
  );
  route('PATCH', `${A}/routes/{RouteId}`, 'UpdateRoute', async (s, p, req) =>
    body(await engine.updateRoute(s, p.ApiId, p.RouteId, req.json())),
  );
  route('DELETE', `${A}/routes/{RouteId}`, 'DeleteRoute', async (s, p) => {
    await engine.deleteRoute(s, p.ApiId, p.RouteId);
    return none;
  });

  const RR = `${A}/routes/{RouteId}/routeresponses`;
  route('POST', RR, 'CreateRouteResponse', async (s, p, req) =>
    body(await engine.createRouteResponse(s, p.ApiId, p.RouteId, req.json()), 201),
  );
  route('GET', RR, 'GetRouteResponses', async (s, p, req) =>
    list(await engine.getRouteResponses(s, p.ApiId, p.RouteId, listQuery(req))),
  );
  route('GET', `${RR}/{RouteResponseId}`, 'GetRouteResponse', async (s, p) =>
    body(await engine.getRouteResponse(s, p.ApiId, p.RouteId, p.RouteResponseId)),
  );
  route('PATCH', `${RR}/{RouteResponseId}`, 'UpdateRouteResponse', async (s, p, req) =>
    body(await engine.updateRouteResponse(s, p.ApiId, p.RouteId, p.RouteResponseId, req.json())),
  );
  route('DELETE', `${RR}/{RouteResponseId}`, 'DeleteRouteResponse', async (s, p) => {
    await engine.deleteRouteResponse(s, p.ApiId, p.RouteId, p.RouteResponseId);
    return none;
  });

  route('POST', `${A}/authorizers`, 'CreateAuthorizer', async (s, p, req) =>
    body(await engine.createAuthorizer(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/authorizers`, 'GetAuthorizers', async (s, p, req) =>
    list(await engine.getAuthorizers(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/authorizers/{AuthorizerId}`, 'GetAuthorizer', async (s, p) =>
    body(await engine.getAuthorizer(s, p.ApiId, p.AuthorizerId)),
  );
  route('PATCH', `${A}/authorizers/{AuthorizerId}`, 'UpdateAuthorizer', async (s, p, req) =>
    body(await engine.updateAuthorizer(s, p.ApiId, p.AuthorizerId, req.json())),
  );
  route('DELETE', `${A}/authorizers/{AuthorizerId}`, 'DeleteAuthorizer', async (s, p) => {
    await engine.deleteAuthorizer(s, p.ApiId, p.AuthorizerId);
    return none;
  });

  route('POST', `${A}/stages`, 'CreateStage', async (s, p, req) =>
    body(await engine.createStage(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/stages`, 'GetStages', async (s, p, req) =>
    list(await engine.getStages(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/stages/{StageName}`, 'GetStage', async (s, p) =>
    body(await engine.getStage(s, p.ApiId, p.StageName)),
  );
  route('PATCH', `${A}/stages/{StageName}`, 'UpdateStage', async (s, p, req) =>
    body(await engine.updateStage(s, p.ApiId, p.StageName, req.json())),
  );
  route('DELETE', `${A}/stages/{StageName}`, 'DeleteStage', async (s, p) => {
    await engine.deleteStage(s, p.ApiId, p.StageName);
    return none;
  });
  route('DELETE', `${A}/stages/{StageName}/routesettings/{RouteKey}`, 'DeleteRouteSettings', async (s, p) => {
    await engine.deleteRouteSettings(s, p.ApiId, p.StageName, p.RouteKey);
    return none;
  });

  route('POST', `${A}/deployments`, 'CreateDeployment', async (s, p, req) =>
    body(await engine.createDeployment(s, p.ApiId, req.json()), 201),
  );
  route('GET', `${A}/deployments`, 'GetDeployments', async (s, p, req) =>
    list(await engine.getDeployments(s, p.ApiId, listQuery(req))),
  );
  route('GET', `${A}/deployments/{DeploymentId}`, 'GetDeployment', async (s, p) =>
    body(await engine.getDeployment(s, p.ApiId, p.DeploymentId)),
  );
  route('PATCH', `${A}/deployments/{DeploymentId}`, 'UpdateDeployment', async (s, p, req) =>
    body(await engine.updateDeployment(s, p.ApiId, p.DeploymentId, req.json())),
  );
  route('DELETE', `${A}/deployments/{DeploymentId}`, 'DeleteDeployment', async (s, p) => {
    await engine.deleteDeployment(s, p.ApiId, p.DeploymentId);
    return none;
  });

  return { protocol: 'rest-json', signingName: 'apigateway', routes };
}
