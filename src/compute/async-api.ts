/**
 * REST-JSON routes of the EventInvokeConfig operations (Put/Get/Update/Delete/List).
 */
import type { RestRoute } from '../server/service.js';
import { intParam, scopeOf, str } from './api.js';
import type { AsyncInvocations } from './async.js';

export function asyncRoutes(policy: AsyncInvocations): RestRoute[] {
  const P = '/2019-09-25/functions/{FunctionName}/event-invoke-config';
  return [
    {
      method: 'PUT',
      path: P,
      operation: 'PutFunctionEventInvokeConfig',
      handler: async (ctx, req) => ({
        status: 200,
        body: await policy.put(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'), req.json()),
      }),
    },
    {
      method: 'POST',
      path: P,
      operation: 'UpdateFunctionEventInvokeConfig',
      handler: async (ctx, req) => ({
        status: 200,
        body: await policy.update(
          scopeOf(ctx),
          req.pathParams.FunctionName,
          str(req, 'Qualifier'),
          req.json(),
        ),
      }),
    },
    {
      method: 'GET',
      path: P,
      operation: 'GetFunctionEventInvokeConfig',
      handler: async (ctx, req) => ({
        status: 200,
        body: await policy.get(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier')),
      }),
    },
    {
      method: 'DELETE',
      path: P,
      operation: 'DeleteFunctionEventInvokeConfig',
      handler: async (ctx, req) => {
        await policy.delete(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'));
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: `${P}/list`,
      operation: 'ListFunctionEventInvokeConfigs',
      handler: async (ctx, req) => ({
        status: 200,
        body: await policy.list(scopeOf(ctx), req.pathParams.FunctionName, {
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
        }),
      }),
    },
  ];
}
