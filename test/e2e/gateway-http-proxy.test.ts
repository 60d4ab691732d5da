/**
 * HTTP APIs with HTTP_PROXY integrations: requests go to a backend URL as they came (method,
 * path variables, query string, headers, body, a Forwarded header) and the backend's answer
 * comes back unchanged; quick create with an HTTP Target; timeouts (503), unreachable backends
 * (500) and bad integration input (BadRequestException). The backend is a local server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
} from '@aws-sdk/client-apigatewayv2';
import { startTestServer } from '../helpers/server.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

test('HTTP_PROXY integrations forward to a backend and return its answer', async (t) => {
  await using srv = await startTestServer();
  const seen: Seen[] = [];
  const backend = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (req.url!.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 1500);
        return;
      }
      res.writeHead(req.url!.includes('missing') ? 404 : 201, {
        'content-type': 'application/json',
        'x-backend': 'yes',
        'set-cookie': ['a=1', 'b=2'],
      });
      res.end(JSON.stringify({ got: req.url }));
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => backend.close());
  const base = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  const gw = new ApiGatewayV2Client(srv.clientConfig);

  const api = await gw.send(new CreateApiCommand({ Name: 'proxy', ProtocolType: 'HTTP' }));
  const integ = await gw.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: 'HTTP_PROXY',
      IntegrationMethod: 'ANY',
      IntegrationUri: `${base}/backend/{proxy}`,
      PayloadFormatVersion: '1.0',
      TimeoutInMillis: 500,
    }),
  );
  assert.equal(integ.IntegrationType, 'HTTP_PROXY');
  await gw.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: 'ANY /svc/{proxy+}',
      Target: `integrations/${integ.IntegrationId}`,
    }),
  );
  await gw.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: '$default', AutoDeploy: true }));

  const res = await fetch(`${api.ApiEndpoint}/svc/a/b?x=1&y=2`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-client': 'me' },
    body: 'hello backend',
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-backend'), 'yes');
  assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  assert.deepEqual(await res.json(), { got: '/backend/a/b?x=1&y=2' });
  const s = seen.at(-1)!;
  assert.equal(s.method, 'POST');
  assert.equal(s.body, 'hello backend');
  assert.equal(s.headers['x-client'], 'me');
  assert.match(String(s.headers.forwarded), /for=127\.0\.0\.1;host=/);
  // The backend's status passes through, 404 included.
  assert.equal((await fetch(`${api.ApiEndpoint}/svc/missing`)).status, 404);
  assert.equal(seen.at(-1)!.method, 'GET');

  // Timeout after TimeoutInMillis: 503, as for Lambda integrations.
  const api2 = await gw.send(
    new CreateApiCommand({
      Name: 'quick',
      ProtocolType: 'HTTP',
      Target: `${base}/slow`,
      RouteKey: 'GET /late',
    }),
  );
  const late = await fetch(`${api2.ApiEndpoint}/late`);
  // Quick create uses the default 30 s timeout: the backend answers after 1.5 s.
  assert.equal(late.status, 200);
  assert.equal(await late.text(), 'late');
  const timeoutInteg = await gw.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: 'HTTP_PROXY',
      IntegrationMethod: 'GET',
      IntegrationUri: `${base}/slow`,
      TimeoutInMillis: 200,
    }),
  );
  await gw.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: 'GET /too-slow',
      Target: `integrations/${timeoutInteg.IntegrationId}`,
    }),
  );
  const timedOut = await fetch(`${api.ApiEndpoint}/too-slow`);
  assert.equal(timedOut.status, 503);
  assert.deepEqual(await timedOut.json(), { message: 'Service Unavailable' });

  // Nothing listening: 500.
  const dead = await gw.send(
    new CreateApiCommand({ Name: 'dead', ProtocolType: 'HTTP', Target: 'http://127.0.0.1:9/' }),
  );
  const down = await fetch(`${dead.ApiEndpoint}/anything`);
  assert.equal(down.status, 500);
  await down.arrayBuffer();

  // Bad input.
  await assert.rejects(
    gw.send(
      new CreateIntegrationCommand({
        ApiId: api.ApiId,
        IntegrationType: 'HTTP_PROXY',
        IntegrationMethod: 'GET',
        IntegrationUri: 'not a url',
      }),
    ),
    { name: 'BadRequestException' },
  );
  await assert.rejects(
    gw.send(
      new CreateIntegrationCommand({
        ApiId: api.ApiId,
        IntegrationType: 'HTTP_PROXY',
        IntegrationUri: `${base}/x`,
      }),
    ),
    { name: 'BadRequestException', message: 'IntegrationMethod is required for HTTP_PROXY integrations' },
  );
});
