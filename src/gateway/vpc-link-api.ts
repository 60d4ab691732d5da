/**
 * The wire adapters of VPC links: apigatewayv2 (`/v2/vpclinks...`) and apigateway v1
 * (`/vpclinks...`), onto the one VpcLinks engine.
 */
import type { RestResponse, RestRoute } from '../server/service.js';
import { routeTable } from './route-table.js';
import type { VpcLinks } from './vpc-links.js';

export function vpcLinkRoutes(links: VpcLinks): RestRoute[] {
  const { routes, route } = routeTable();
  const ok = (x: unknown, status = 200): RestResponse => ({ status, body: x });

  // apigatewayv2
  route('POST', '/v2/vpclinks', 'CreateVpcLink', async (s, _p, req) =>
    ok(await links.createV2(s, req.json()), 201),
  );
  route('GET', '/v2/vpclinks', 'GetVpcLinks', async (s, _p, req) => {
    const p = await links.listV2(s, {
      maxResults: req.query.get('maxResults') ?? undefined,
      nextToken: req.query.get('nextToken') ?? undefined,
    });
    return ok(p.nextToken ? { items: p.items, nextToken: p.nextToken } : { items: p.items });
  });
  route('GET', '/v2/vpclinks/{VpcLinkId}', 'GetVpcLink', async (s, p) =>
    ok(await links.getV2(s, p.VpcLinkId)),
  );
  route('PATCH', '/v2/vpclinks/{VpcLinkId}', 'UpdateVpcLink', async (s, p, req) =>
    ok(await links.updateV2(s, p.VpcLinkId, req.json())),
  );
  route('DELETE', '/v2/vpclinks/{VpcLinkId}', 'DeleteVpcLink', async (s, p) => {
    await links.deleteV2(s, p.VpcLinkId);
    return ok({}, 202);
  });

  // apigateway (v1)
  route('POST', '/vpclinks', 'CreateVpcLink', async (s, _p, req) =>
    ok(await links.createV1(s, req.json()), 202),
  );
  route('GET', '/vpclinks', 'GetVpcLinks', async (s, _p, req) => {
    const p = await links.listV1(s, {
      limit: req.query.get('limit') ?? undefined,
      position: req.query.get('position') ?? undefined,
    });
    return ok(p.position ? { item: p.items, position: p.position } : { item: p.items });
  });
  route('GET', '/vpclinks/{vpclink_id}', 'GetVpcLink', async (s, p) =>
    ok(await links.getV1(s, p.vpclink_id)),
  );
  route('PATCH', '/vpclinks/{vpclink_id}', 'UpdateVpcLink', async (s, p, req) =>
    ok(await links.updateV1(s, p.vpclink_id, req.json())),
  );
  route('DELETE', '/vpclinks/{vpclink_id}', 'DeleteVpcLink', async (s, p) => {
    await links.deleteV1(s, p.vpclink_id);
    return { status: 202 };
  });
  return routes;
}
