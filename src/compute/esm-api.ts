/**
 * REST-JSON routes of the event source mapping operations.
 */
import type { RestRoute } from '../server/service.js';
import { intParam, scopeOf, str } from './api.js';
import type { EventSourceMappings } from './esm.js';

export function esmRoutes(esm: EventSourceMappings): RestRoute[] {
  const P = '/2015-03-31/event-source-mappings';
  return [
    {
      method: 'POST',
      path: `${P}/`,
      operation: 'CreateEventSourceMapping',
      handler: async (ctx, req) => ({ status: 202, body: await esm.create(scopeOf(ctx), req.json()) }),
    },
    {
      method: 'GET',
      path: `${P}/`,
      operation: 'ListEventSourceMappings',
      handler: async (ctx, req) => ({
        status: 200,
        body: await esm.list(scopeOf(ctx), {
          EventSourceArn: str(req, 'EventSourceArn'),
          FunctionName: str(req, 'FunctionName'),
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
        }),
      }),
    },
    {
      method: 'GET',
      path: `${P}/{UUID}`,
      operation: 'GetEventSourceMapping',
      handler: async (ctx, req) => ({ status: 200, body: await esm.get(scopeOf(ctx), req.pathParams.UUID) }),
    },
    {
      method: 'PUT',
      path: `${P}/{UUID}`,
      operation: 'UpdateEventSourceMapping',
      handler: async (ctx, req) => ({
        status: 202,
        body: await esm.update(scopeOf(ctx), req.pathParams.UUID, req.json()),
      }),
    },
    {
      method: 'DELETE',
      path: `${P}/{UUID}`,
      operation: 'DeleteEventSourceMapping',
      handler: async (ctx, req) => ({
        status: 202,
        body: await esm.delete(scopeOf(ctx), req.pathParams.UUID),
      }),
    },
  ];
}
