/**
 * The `@connections` management API (apigatewaymanagementapi) at the root of the Nimbus port:
 * `POST|GET|DELETE /@connections/{ConnectionId}`. This is where `@aws-sdk/client-apigatewaymanagementapi`
 * goes when no endpoint is given and `AWS_ENDPOINT_URL` names Nimbus (as in every Lambda
 * sandbox); a connection id alone names the connection, within the caller's account.
 * The stage URL form (`/_api/{apiId}/{stage}/@connections/{id}`) is served in serve.ts.
 */
import type { RestJsonService, RestRoute } from '../../server/service.js';
import type { Connections, Operation } from './connections.js';

export function connectionsService(connections: Connections): RestJsonService {
  const route = (method: string, operation: Operation): RestRoute => ({
    method,
    path: '/@connections/{ConnectionId}',
    operation,
    handler: async (ctx, req) => {
      const query = req.query.toString();
      const out = await connections.call(
        operation,
        req.pathParams.ConnectionId,
        { accountId: ctx.accountId },
        {
          method: req.method,
          url: query ? `${req.path}?${query}` : req.path,
          headers: req.headers,
          body: req.body,
        },
      );
      return { status: out.status, body: out.body };
    },
  });
  return {
    protocol: 'rest-json',
    signingName: 'execute-api',
    routes: [
      route('POST', 'PostToConnection'),
      route('GET', 'GetConnection'),
      route('DELETE', 'DeleteConnection'),
    ],
  };
}
