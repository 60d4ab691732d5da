/**
 * HTTP API parameter mapping through the real @aws-sdk/client-apigatewayv2: an integration's
 * requestParameters change headers, query string and path before an HTTP_PROXY backend or a
 * Lambda function sees the request; its responseParameters change the status code and headers
 * of the answer, by status code. Bad mapping keys answer BadRequestException.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  GetIntegrationCommand,
  UpdateIntegrationCommand,
  type UpdateIntegrationCommandInput,
} from '@aws-sdk/client-apigatewayv2';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

test('HTTP APIs: request and response parameter mapping', async (t) => {
  await using srv = await startTestServer();
  const seen: { url: string; headers: IncomingMessage['headers'] }[] = [];
  const backend = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json', 'x-internal': 'secret', 'x-version': '7' });
      res.end(JSON.stringify({ id: 'abc', nested: { n: 3 } }));
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => backend.close());
  const backendUrl = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    lambda.destroy();
  });
  await createNodeFunctions(lambda, {
    echo: `exports.handler = async (e) => ({ statusCode: 200, headers: { 'x-fn': 'yes' }, body: JSON.stringify({ rawPath: e.rawPath, rawQueryString: e.rawQueryString, headers: e.headers }) });`,
  });
  const api = await gw.send(new CreateApiCommand({ Name: 'mapping', ProtocolType: 'HTTP' }));
  const ApiId = api.ApiId!;

  const proxy = await gw.send(
    new CreateIntegrationCommand({
      ApiId,
      IntegrationType: 'HTTP_PROXY',
      IntegrationMethod: 'ANY',
      IntegrationUri: `${backendUrl}/v1/{proxy}`,
      PayloadFormatVersion: '1.0',
      RequestParameters: {
        'append:header.x-tenant': '$request.header.x-user',
        'overwrite:header.x-route': '${context.routeKey} via ${request.path.proxy}',
        'remove:header.x-drop': "''",
        'overwrite:querystring.page': '$request.querystring.p',
        'remove:querystring.p': "''",
        'append:querystring.stage': '$stageVariables.env',
      },
      ResponseParameters: {
        '200': {
          'overwrite:statuscode': '202',
          'remove:header.x-internal': "''",
          'append:header.x-id': '$response.body.id',
          'overwrite:header.x-depth': '${response.body.nested.n}-${response.header.x-version}',
        },
      },
    }),
  );
  assert.equal(proxy.RequestParameters?.['append:header.x-tenant'], '$request.header.x-user');
  assert.deepEqual(proxy.ResponseParameters?.['200']?.['overwrite:statuscode'], '202');
  await gw.send(
    new CreateRouteCommand({
      ApiId,
      RouteKey: 'ANY /svc/{proxy+}',
      Target: `integrations/${proxy.IntegrationId}`,
    }),
  );
  const fn = await gw.send(
    new CreateIntegrationCommand({
      ApiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: `${FN}echo`,
      PayloadFormatVersion: '2.0',
      RequestParameters: {
        'overwrite:path': '/rewritten/$request.path.id',
        'overwrite:header.x-who': 'static',
      },
      ResponseParameters: { '200': { 'overwrite:header.x-fn': 'mapped' } },
    }),
  );
  await gw.send(
    new CreateRouteCommand({ ApiId, RouteKey: 'GET /fn/{id}', Target: `integrations/${fn.IntegrationId}` }),
  );
  await gw.send(
    new CreateStageCommand({
      ApiId,
      StageName: '$default',
      AutoDeploy: true,
      StageVariables: { env: 'dev' },
    }),
  );

  await t.test('HTTP_PROXY: headers, query string and the answer mapped', async () => {
    const r = await fetch(`${api.ApiEndpoint}/svc/a/b?p=2&keep=1`, {
      headers: { 'x-user': 'u1', 'x-drop': 'gone', 'x-tenant': 't0' },
    });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('x-internal'), null);
    assert.equal(r.headers.get('x-id'), 'abc');
    assert.equal(r.headers.get('x-depth'), '3-7');
    const got = seen.at(-1)!;
    assert.equal(got.url, '/v1/a/b?keep=1&page=2&stage=dev');
    assert.equal(got.headers['x-tenant'], 't0, u1');
    assert.equal(got.headers['x-route'], 'ANY /svc/{proxy+} via a/b');
    assert.equal(got.headers['x-drop'], undefined);
  });

  await t.test('Lambda: the event carries the mapped path and headers', async () => {
    const r = await fetch(`${api.ApiEndpoint}/fn/42`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-fn'), 'mapped');
    const ev = (await r.json()) as { rawPath: string; headers: Record<string, string> };
    assert.equal(ev.rawPath, '/rewritten/42');
    assert.equal(ev.headers['x-who'], 'static');
  });

  await t.test('updates and bad mapping keys', async () => {
    await gw.send(
      new UpdateIntegrationCommand({
        ApiId,
        IntegrationId: fn.IntegrationId,
        ResponseParameters: { '200': { 'overwrite:statuscode': '201' } },
      }),
    );
    const got = await gw.send(new GetIntegrationCommand({ ApiId, IntegrationId: fn.IntegrationId }));
    assert.deepEqual(got.ResponseParameters, { '200': { 'overwrite:statuscode': '201' } });
    assert.equal(got.RequestParameters?.['overwrite:header.x-who'], 'static', 'kept when not given');
    assert.equal((await fetch(`${api.ApiEndpoint}/fn/1`)).status, 201);
    const bads: Pick<UpdateIntegrationCommandInput, 'RequestParameters' | 'ResponseParameters'>[] = [
      { RequestParameters: { 'rewrite:header.x': 'v' } },
      { RequestParameters: { 'overwrite:body': 'v' } },
      { ResponseParameters: { '100': { 'overwrite:statuscode': '200' } } },
      { ResponseParameters: { '200': { 'overwrite:querystring.x': 'v' } } },
    ];
    for (const bad of bads)
      await assert.rejects(
        gw.send(new UpdateIntegrationCommand({ ApiId, IntegrationId: fn.IntegrationId, ...bad })),
        (e: Error) => e.name === 'BadRequestException' && /Invalid mapping expression/.test(e.message),
        JSON.stringify(bad),
      );
  });
});
