/**
 * The app port (`nimbus up --api-port PORT [--api NAME|ID[/STAGE]]`): one API at the root of a
 * port of its own. HTTP APIs and REST APIs created with the real SDK clients, served over plain
 * HTTP; which API and stage it picks, and what it answers when it cannot pick.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import WebSocket from 'ws';
import { ApiGatewayV2Client, CreateApiCommand, DeleteApiCommand } from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { chooseTarget, parseApiTarget } from '../../src/gateway/app-port.js';
import { buildConfig } from '../../src/cli/up.js';
import { FN, createNodeFunctions, putProxyMethod, twoWayWebSocketApi } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ path: event.rawPath ?? event.path, stage: event.requestContext.stage, q: event.queryStringParameters }),
});`;

async function get(url: string, host?: string): Promise<{ status: number; body: string; id?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, id: res.headers['apigw-requestid'] as string }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('app port: the only HTTP API at the root; a second API makes it ask which; --api picks by name and stage', async () => {
  await using srv = await startTestServer({ apiPort: 0 });
  const app = srv.nimbus.apiPortUrl!;
  assert.match(app, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(app, srv.endpoint);

  // Before any API: a 404 that says why.
  const none = await get(`${app}/items`);
  assert.equal(none.status, 404);
  assert.deepEqual(JSON.parse(none.body), { message: 'No API is deployed yet' });

  const lambda = new LambdaClient(srv.clientConfig);
  await createNodeFunctions(lambda, { echo: ECHO });
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const one = await gw.send(
    new CreateApiCommand({ Name: 'shop', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );
  await sleep(1100); // the choice is re-read at most once a second

  const r = await get(`${app}/items/7?color=red`);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { path: '/items/7', stage: '$default', q: { color: 'red' } });
  assert.ok(r.id, 'the gateway request id header is set');
  // The AWS API is not on this port.
  assert.equal((await get(`${app}/_nimbus/health`)).status, 200); // ... it is just a path of the API
  assert.equal(JSON.parse((await get(`${app}/_nimbus/health`)).body).path, '/_nimbus/health');

  // A second API: the port cannot choose, and says so; the Host form still reaches either.
  const two = await gw.send(
    new CreateApiCommand({ Name: 'admin', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );
  await sleep(1100);
  const both = await get(`${app}/items`);
  assert.equal(both.status, 404);
  assert.match(JSON.parse(both.body).message, /^Several APIs are deployed, choose one with --api/);
  assert.match(JSON.parse(both.body).message, new RegExp(`shop \\(${one.ApiId}\\)`));
  const byHost = await get(`${app}/x`, `${two.ApiId}.execute-api.localhost`);
  assert.equal(byHost.status, 200);
  assert.equal(JSON.parse(byHost.body).path, '/x');

  // Deleting one makes the other the only API again.
  await gw.send(new DeleteApiCommand({ ApiId: two.ApiId }));
  await sleep(1100);
  assert.equal((await get(`${app}/again`)).status, 200);
});

test('app port with --api NAME/STAGE serves a REST API stage at the root (SAM Prod)', async () => {
  await using srv = await startTestServer({ apiPort: 0, api: 'hello/Prod' });
  const app = srv.nimbus.apiPortUrl!;
  const lambda = new LambdaClient(srv.clientConfig);
  await createNodeFunctions(lambda, { echo: ECHO });
  const apigw = new APIGatewayClient(srv.clientConfig);
  const api = await apigw.send(new CreateRestApiCommand({ name: 'hello' }));
  const root = (await apigw.send(new GetResourcesCommand({ restApiId: api.id }))).items!.find(
    (i) => i.path === '/',
  )!;
  const res = await apigw.send(
    new CreateResourceCommand({ restApiId: api.id, parentId: root.id, pathPart: 'hello' }),
  );
  await putProxyMethod(apigw, api.id!, res.id!, 'GET', 'echo');
  // Before the Prod stage exists the port says which stages there are.
  await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'Stage' }));
  const early = await get(`${app}/hello`);
  assert.equal(early.status, 404);
  assert.equal(JSON.parse(early.body).message, `API hello (${api.id}) has no stage Prod`);
  await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'Prod' }));
  await sleep(1100);
  const r = await get(`${app}/hello`);
  assert.equal(r.status, 200, r.body);
  assert.deepEqual(JSON.parse(r.body), { path: '/hello', stage: 'Prod', q: null });
  assert.equal((await get(`${app}/nope`)).status, 403); // REST APIs answer unknown paths 403
});

test('app port: WebSocket handshakes connect to the chosen WebSocket API', async () => {
  await using srv = await startTestServer({ apiPort: 0, api: 'chat/live' });
  const app = srv.nimbus.apiPortUrl!.replace(/^http/, 'ws');
  const lambda = new LambdaClient(srv.clientConfig);
  await createNodeFunctions(lambda, {
    wsecho: `exports.handler = async (event) => ({
      statusCode: 200,
      body: JSON.stringify({ route: event.requestContext.routeKey, stage: event.requestContext.stage, body: event.body }),
    });`,
  });
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  // Before the API exists a handshake is refused with the reason.
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(app);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
  assert.equal(refused, 404);
  await twoWayWebSocketApi(gw, 'chat', 'wsecho', 'live');
  await sleep(1100);
  const ws = new WebSocket(app);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  ws.send('{"action":"hi"}');
  assert.deepEqual(JSON.parse(await reply), { route: '$default', stage: 'live', body: '{"action":"hi"}' });
  ws.close();
});

test('the choice of API and stage', () => {
  const apis = [
    { id: 'a1', name: 'shop', stages: ['$default', 'dev'] },
    { id: 'b2', name: 'sam', stages: ['Prod', 'Stage'] },
    { id: 'c3', name: 'one', stages: ['live'] },
    { id: 'd4', name: 'twin', stages: ['x', 'y'] },
    { id: 'e5', name: 'twin', stages: [] },
  ];
  assert.deepEqual(chooseTarget(apis, { api: 'shop' }), { apiId: 'a1', stage: '$default' });
  assert.deepEqual(chooseTarget(apis, { api: 'a1', stage: 'dev' }), { apiId: 'a1', stage: 'dev' });
  assert.deepEqual(chooseTarget(apis, { api: 'sam' }), { apiId: 'b2', stage: 'Prod' });
  assert.deepEqual(chooseTarget(apis, { api: 'one' }), { apiId: 'c3', stage: 'live' });
  assert.deepEqual(chooseTarget(apis, { api: 'twin' }), {
    error: '2 APIs are named twin (d4, e5): give --api its id',
  });
  assert.deepEqual(chooseTarget(apis, { api: 'd4' }), {
    error: 'API twin (d4) has several stages, choose one with --api twin/STAGE: x, y',
  });
  assert.deepEqual(chooseTarget(apis, { api: 'e5' }), { error: 'API twin (e5) has no stage yet' });
  assert.match(
    (chooseTarget(apis, { api: 'zzz' }) as { error: string }).error,
    /^No API has the id or name zzz; there are: shop \(a1\)/,
  );
  assert.deepEqual(chooseTarget([apis[2]], {}), { apiId: 'c3', stage: 'live' });
  assert.deepEqual(parseApiTarget('shop/dev'), { api: 'shop', stage: 'dev' });
  assert.deepEqual(parseApiTarget('shop'), { api: 'shop' });
  assert.deepEqual(parseApiTarget('/$default'), { api: undefined, stage: '$default' });
  // CLI: flags and environment.
  assert.equal(buildConfig({ 'api-port': '3000', api: 'shop' }, {}).apiPort, 3000);
  assert.equal(buildConfig({}, { NIMBUS_API_PORT: '0', NIMBUS_API: 'x/Prod' }).api, 'x/Prod');
  assert.equal(buildConfig({}, {}).apiPort, undefined);
  assert.throws(() => buildConfig({ api: 'shop' }, {}), /--api needs --api-port/);
  assert.throws(() => buildConfig({ 'api-port': 'x' }, {}), /api-port/);
});
