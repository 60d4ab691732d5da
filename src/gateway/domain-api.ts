/**
 * The wire adapters of custom domain names: apigatewayv2 (`/v2/domainnames...`: DomainName,
 * ApiMapping, RoutingRule) and apigateway v1 (`/domainnames...`: DomainName, BasePathMapping), both onto
 * the one DomainEngine.
 */
import type { RestRequest, RestResponse, RestRoute } from '../server/service.js';
import type { DomainEngine } from './domains.js';
import { patchOperations } from './rest/patch.js';
import { routeTable } from './route-table.js';

export function domainRoutes(engine: DomainEngine): RestRoute[] {
  const { routes, route } = routeTable();
  const ok = (x: unknown, status = 200): RestResponse => ({ status, body: x });
  const v2List = (p: { items: unknown[]; nextToken?: string }): RestResponse =>
    ok(p.nextToken ? { items: p.items, nextToken: p.nextToken } : { items: p.items });
  const v1List = (p: { items: unknown[]; position?: string }): RestResponse =>
    ok(p.position ? { item: p.items, position: p.position } : { item: p.items });
  const v2Query = (req: RestRequest) => ({
    maxResults: req.query.get('maxResults') ?? undefined,
    nextToken: req.query.get('nextToken') ?? undefined,
  });
  const v1Query = (req: RestRequest) => ({
    limit: req.query.get('limit') ?? undefined,
    position: req.query.get('position') ?? undefined,
  });

  // apigatewayv2
  const D2 = '/v2/domainnames/{DomainName}';
  route('POST', '/v2/domainnames', 'CreateDomainName', async (s, _p, req) =>
    ok(await engine.createDomainName(s, req.json()), 201),
  );
  route('GET', '/v2/domainnames', 'GetDomainNames', async (s, _p, req) =>
    v2List(await engine.getDomainNames(s, v2Query(req))),
  );
  route('GET', D2, 'GetDomainName', async (s, p) => ok(await engine.getDomainName(s, p.DomainName)));
  route('PATCH', D2, 'UpdateDomainName', async (s, p, req) =>
    ok(await engine.updateDomainName(s, p.DomainName, req.json())),
  );
  route('DELETE', D2, 'DeleteDomainName', async (s, p) => {
    await engine.deleteDomainName(s, p.DomainName);
    return { status: 204 };
  });
  route('POST', `${D2}/apimappings`, 'CreateApiMapping', async (s, p, req) =>
    ok(await engine.createApiMapping(s, p.DomainName, req.json()), 201),
  );
  route('GET', `${D2}/apimappings`, 'GetApiMappings', async (s, p, req) =>
    v2List(await engine.getApiMappings(s, p.DomainName, v2Query(req))),
  );
  route('GET', `${D2}/apimappings/{ApiMappingId}`, 'GetApiMapping', async (s, p) =>
    ok(await engine.getApiMapping(s, p.DomainName, p.ApiMappingId)),
  );
  route('PATCH', `${D2}/apimappings/{ApiMappingId}`, 'UpdateApiMapping', async (s, p, req) =>
    ok(await engine.updateApiMapping(s, p.DomainName, p.ApiMappingId, req.json())),
  );
  route('DELETE', `${D2}/apimappings/{ApiMappingId}`, 'DeleteApiMapping', async (s, p) => {
    await engine.deleteApiMapping(s, p.DomainName, p.ApiMappingId);
    return { status: 204 };
  });

  // Routing rules: the `domainNameId` query parameter (private custom domain names) is accepted
  // and not needed (Nimbus's domain names are public, found by name).
  const R = `${D2}/routingrules`;
  route('POST', R, 'CreateRoutingRule', async (s, p, req) =>
    ok(await engine.createRoutingRule(s, p.DomainName, req.json()), 201),
  );
  route('GET', R, 'ListRoutingRules', async (s, p, req) => {
    const page = await engine.listRoutingRules(s, p.DomainName, v2Query(req));
    return ok(
      page.nextToken ? { routingRules: page.items, nextToken: page.nextToken } : { routingRules: page.items },
    );
  });
  route('GET', `${R}/{RoutingRuleId}`, 'GetRoutingRule', async (s, p) =>
    ok(await engine.getRoutingRule(s, p.DomainName, p.RoutingRuleId)),
  );
  route('PUT', `${R}/{RoutingRuleId}`, 'PutRoutingRule', async (s, p, req) =>
    ok(await engine.putRoutingRule(s, p.DomainName, p.RoutingRuleId, req.json())),
  );
  route('DELETE', `${R}/{RoutingRuleId}`, 'DeleteRoutingRule', async (s, p) => {
    await engine.deleteRoutingRule(s, p.DomainName, p.RoutingRuleId);
    return { status: 204 };
  });

  // apigateway v1
  const D1 = '/domainnames/{domain_name}';
  route('POST', '/domainnames', 'CreateDomainName', async (s, _p, req) =>
    ok(await engine.createDomainNameV1(s, req.json()), 201),
  );
  route('GET', '/domainnames', 'GetDomainNames', async (s, _p, req) =>
    v1List(await engine.getDomainNamesV1(s, v1Query(req))),
  );
  route('GET', D1, 'GetDomainName', async (s, p) => ok(await engine.getDomainNameV1(s, p.domain_name)));
  route('PATCH', D1, 'UpdateDomainName', async (s, p, req) =>
    ok(await engine.updateDomainNameV1(s, p.domain_name, patchOperations(req.json()))),
  );
  route('DELETE', D1, 'DeleteDomainName', async (s, p) => {
    await engine.deleteDomainNameV1(s, p.domain_name);
    return { status: 202 };
  });
  route('POST', `${D1}/basepathmappings`, 'CreateBasePathMapping', async (s, p, req) =>
    ok(await engine.createBasePathMapping(s, p.domain_name, req.json()), 201),
  );
  route('GET', `${D1}/basepathmappings`, 'GetBasePathMappings', async (s, p, req) =>
    v1List(await engine.getBasePathMappings(s, p.domain_name, v1Query(req))),
  );
  route('GET', `${D1}/basepathmappings/{base_path}`, 'GetBasePathMapping', async (s, p) =>
    ok(await engine.getBasePathMapping(s, p.domain_name, p.base_path)),
  );
  route('PATCH', `${D1}/basepathmappings/{base_path}`, 'UpdateBasePathMapping', async (s, p, req) =>
    ok(await engine.updateBasePathMapping(s, p.domain_name, p.base_path, patchOperations(req.json()))),
  );
  route('DELETE', `${D1}/basepathmappings/{base_path}`, 'DeleteBasePathMapping', async (s, p) => {
    await engine.deleteBasePathMapping(s, p.domain_name, p.base_path);
    return { status: 202 };
  });
  return routes;
}
