/**
 * The management routes of the gateway's services (apigatewayv2, apigateway v1, custom domain
 * names, tags, the serving side's own operations): each handler gets the caller's account and
 * region, the route's path parameters, the request and its context.
 */
import type { RequestContext, RestRequest, RestResponse, RestRoute } from '../server/service.js';

export interface Scope {
  accountId: string;
  region: string;
}

export type RouteHandler = (
  scope: Scope,
  params: Record<string, string>,
  req: RestRequest,
  ctx: RequestContext,
) => Promise<RestResponse>;

/** A list of routes and the function that adds one. */
export function routeTable(): {
  routes: RestRoute[];
  route: (method: string, path: string, operation: string, fn: RouteHandler) => void;
} {
  const routes: RestRoute[] = [];
  const route = (method: string, path: string, operation: string, fn: RouteHandler) => {
    routes.push({
      method,
      path,
      operation,
      handler: (ctx, req) => fn({ accountId: ctx.accountId, region: ctx.region }, req.pathParams, req, ctx),
    });
  };
  return { routes, route };
}
