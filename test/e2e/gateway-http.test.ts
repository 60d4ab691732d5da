/**
 * HTTP APIs end to end: the real @aws-sdk/client-apigatewayv2 for management, plain HTTP
 * (fetch / node:http) for serving, real Lambda handlers behind the routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  GetApiCommand,
  GetApisCommand,
  GetRoutesCommand,
  GetStageCommand,
  UpdateApiCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-apigatewayv2';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';
import { apisCommand } from '../../src/gateway/cli.js';

import { FN, ROLE, zip } from './gateway-helpers.js';

const HANDLER = `exports.handler = async (event) => {
  const p = event.rawPath ?? event.path;
  if (p.endsWith('/plain')) return { hello: 'world' };
  if (p.endsWith('/bad')) return { statusCode: 'abc', body: 42 };
  if (p.endsWith('/fail')) throw new Error('boom');
  if (p.endsWith('/slow')) { await new Promise((r) => setTimeout(r, 1500)); return 'late'; }
  if (p.endsWith('/binary')) return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
  if (p.endsWith('/cookies')) return { statusCode: 201, cookies: ['a=1; Path=/', 'b=2'], headers: { 'x-one': 1 }, body: 'ok' };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) };
};`;

async function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (b: Buffer) => JSON.parse(b.toString('utf8'));

test('HTTP APIs: management through the SDK and serving through plain HTTP', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
    logs.destroy();
  });
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'echo',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 10,
      Code: { ZipFile: zip({ 'index.js': HANDLER }) },
    }),
  );

  await t.test('quick create answers the $default stage at once', async () => {
    const api = await gw.send(
      new CreateApiCommand({
        Name: 'quick',
        ProtocolType: 'HTTP',
        Target: `${FN}echo`,
        CorsConfiguration: {
          AllowOrigins: ['https://app.example'],
          AllowMethods: ['GET', 'POST'],
          AllowHeaders: ['content-type'],
          MaxAge: 60,
        },
      }),
    );
    assert.match(api.ApiId!, /^[a-z0-9]{10}$/);
    assert.equal(api.ApiEndpoint, `${srv.endpoint}/_api/${api.ApiId}`);
    assert.equal(api.RouteSelectionExpression, '$request.method $request.path');
    assert.ok(api.CreatedDate instanceof Date);
    const routes = await gw.send(new GetRoutesCommand({ ApiId: api.ApiId }));
    assert.equal(routes.Items?.[0].RouteKey, '$default');
    assert.equal(routes.Items?.[0].ApiGatewayManaged, true);

    const r = await http(`${api.ApiEndpoint}/any/path?x=1&x=2&y=%20z`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: 'c1=v1; c2=v2', 'x-multi': 'a' },
      body: '{"a":1}',
    });
    assert.equal(r.status, 200);
    assert.ok(r.headers['apigw-requestid']);
    const ev = json(r.body);
    assert.equal(ev.version, '2.0');
    assert.equal(ev.routeKey, '$default');
    assert.equal(ev.rawPath, '/any/path');
    assert.equal(ev.rawQueryString, 'x=1&x=2&y=%20z');
    assert.deepEqual(ev.queryStringParameters, { x: '1,2', y: ' z' });
    assert.deepEqual(ev.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(ev.headers['x-multi'], 'a');
    assert.equal(ev.headers.cookie, undefined);
    assert.equal(ev.body, '{"a":1}');
    assert.equal(ev.isBase64Encoded, false);
    assert.equal(ev.requestContext.http.method, 'POST');
    assert.equal(ev.requestContext.stage, '$default');
    assert.equal(ev.requestContext.apiId, api.ApiId);
    assert.equal(ev.requestContext.accountId, '000000000000');
    assert.match(ev.requestContext.time, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    assert.equal(typeof ev.requestContext.timeEpoch, 'number');

    // Host-based addressing reaches the same API.
    const port = new URL(srv.endpoint).port;
    const h = await http(`http://127.0.0.1:${port}/plain`, {
      headers: { host: `${api.ApiId}.execute-api.us-east-1.amazonaws.com` },
    });
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-type'], 'application/json');
    assert.deepEqual(json(h.body), { hello: 'world' });

    // Response rules.
    const bad = await http(`${api.ApiEndpoint}/bad`);
    assert.equal(bad.status, 502);
    assert.deepEqual(json(bad.body), { message: 'Internal Server Error' });
    const fail = await http(`${api.ApiEndpoint}/fail`);
    assert.equal(fail.status, 500);
    assert.deepEqual(json(fail.body), { message: 'Internal Server Error' });
    const bin = await http(`${api.ApiEndpoint}/binary`);
    assert.deepEqual([...bin.body], [0, 1, 2, 255]);
    const ck = await http(`${api.ApiEndpoint}/cookies`);
    assert.equal(ck.status, 201);
    assert.deepEqual(ck.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
    assert.equal(ck.headers['x-one'], '1');
    const binIn = await http(`${api.ApiEndpoint}/echo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([1, 2, 3]),
    });
    const evb = json(binIn.body);
    assert.equal(evb.isBase64Encoded, true);
    assert.equal(evb.body, Buffer.from([1, 2, 3]).toString('base64'));

    // CORS: preflight answered by the gateway, actual responses get the headers.
    const pre = await http(`${api.ApiEndpoint}/x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(pre.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(pre.headers['access-control-allow-headers'], 'content-type');
    assert.equal(pre.headers['access-control-max-age'], '60');
    const preBad = await http(`${api.ApiEndpoint}/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preBad.headers['access-control-allow-origin'], undefined);
    const actual = await http(`${api.ApiEndpoint}/plain`, { headers: { origin: 'https://app.example' } });
    assert.equal(actual.headers['access-control-allow-origin'], 'https://app.example');

    // 10 MB limit.
    const big = await http(`${api.ApiEndpoint}/echo`, {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    assert.equal(big.status, 413);
    assert.deepEqual(json(big.body), { message: 'Request Entity Too Large' });

    const upd = await gw.send(new UpdateApiCommand({ ApiId: api.ApiId, Name: 'quick2' }));
    assert.equal(upd.Name, 'quick2');
    const list = await gw.send(new GetApisCommand({}));
    assert.ok(list.Items?.some((a) => a.ApiId === api.ApiId && a.Name === 'quick2'));
    await gw.send(new DeleteApiCommand({ ApiId: api.ApiId }));
    await assert.rejects(gw.send(new GetApiCommand({ ApiId: api.ApiId })), (e: Error) => {
      assert.equal(e.name, 'NotFoundException');
      assert.equal(e.message, `Invalid API identifier specified 000000000000:${api.ApiId}`);
      return true;
    });
    const gone = await http(`${srv.endpoint}/_api/${api.ApiId}/plain`);
    assert.equal(gone.status, 404);
    assert.deepEqual(json(gone.body), { message: 'Not Found' });
  });

  await t.test('routes, precedence, payload 1.0, stages, deployments, throttling, access logs', async () => {
    const api = await gw.send(new CreateApiCommand({ Name: 'full', ProtocolType: 'HTTP' }));
    const id = api.ApiId!;
    const v2 = await gw.send(
      new CreateIntegrationCommand({
        ApiId: id,
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: `${FN}echo`,
        PayloadFormatVersion: '2.0',
      }),
    );
    const v1 = await gw.send(
      new CreateIntegrationCommand({
        ApiId: id,
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}echo/invocations`,
        PayloadFormatVersion: '1.0',
      }),
    );
    const slow = await gw.send(
      new CreateIntegrationCommand({
        ApiId: id,
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: `${FN}echo`,
        PayloadFormatVersion: '2.0',
        TimeoutInMillis: 500,
      }),
    );
    const target = (i: { IntegrationId?: string }) => `integrations/${i.IntegrationId}`;
    for (const [key, integ] of [
      ['GET /items/{id}', v2],
      ['GET /items/special', v2],
      ['ANY /items/{proxy+}', v2],
      ['ANY /{proxy+}', v2],
      ['GET /v1/{name}', v1],
      ['GET /slow', slow],
    ] as const) {
      await gw.send(new CreateRouteCommand({ ApiId: id, RouteKey: key, Target: target(integ) }));
    }
    await assert.rejects(gw.send(new CreateRouteCommand({ ApiId: id, RouteKey: 'GET /items/{id}' })), {
      name: 'ConflictException',
    });
    await assert.rejects(gw.send(new CreateRouteCommand({ ApiId: id, RouteKey: 'FETCH /x' })), {
      name: 'BadRequestException',
    });

    // A stage without auto-deploy serves nothing until deployed.
    await gw.send(
      new CreateStageCommand({
        ApiId: id,
        StageName: 'prod',
        StageVariables: { color: 'blue' },
        RouteSettings: { 'GET /items/special': { ThrottlingBurstLimit: 2, ThrottlingRateLimit: 0.001 } },
        AccessLogSettings: {
          DestinationArn: 'arn:aws:logs:us-east-1:000000000000:log-group:api-access',
          Format: '$context.requestId $context.httpMethod $context.routeKey $context.status',
        },
      }),
    );
    const base = `${srv.endpoint}/_api/${id}/prod`;
    assert.equal((await http(`${base}/items/1`)).status, 404);
    const dep = await gw.send(
      new CreateDeploymentCommand({ ApiId: id, StageName: 'prod', Description: 'first' }),
    );
    assert.equal(dep.DeploymentStatus, 'DEPLOYED');
    const stage = await gw.send(new GetStageCommand({ ApiId: id, StageName: 'prod' }));
    assert.equal(stage.DeploymentId, dep.DeploymentId);
    assert.equal(stage.AutoDeploy, false);

    const get = async (p: string, method = 'GET') => json((await http(`${base}${p}`, { method })).body);
    let ev = await get('/items/42');
    assert.equal(ev.routeKey, 'GET /items/{id}');
    assert.deepEqual(ev.pathParameters, { id: '42' });
    assert.equal(ev.rawPath, '/prod/items/42');
    assert.deepEqual(ev.stageVariables, { color: 'blue' });
    assert.equal(ev.requestContext.stage, 'prod');
    ev = await get('/items/special');
    assert.equal(ev.routeKey, 'GET /items/special');
    ev = await get('/items/42', 'DELETE');
    assert.equal(ev.routeKey, 'ANY /items/{proxy+}');
    assert.deepEqual(ev.pathParameters, { proxy: '42' });
    ev = await get('/items/a/b');
    assert.equal(ev.routeKey, 'ANY /items/{proxy+}');
    ev = await get('/other/thing');
    assert.equal(ev.routeKey, 'ANY /{proxy+}');

    // Payload 1.0.
    const r1 = await http(`${base}/v1/bob?a=1&a=2`, { headers: { 'x-h': 'v' } });
    const e1 = json(r1.body);
    assert.equal(e1.version, '1.0');
    assert.equal(e1.resource, '/v1/{name}');
    assert.equal(e1.httpMethod, 'GET');
    assert.deepEqual(e1.pathParameters, { name: 'bob' });
    assert.deepEqual(e1.queryStringParameters, { a: '2' });
    assert.deepEqual(e1.multiValueQueryStringParameters, { a: ['1', '2'] });
    assert.deepEqual(e1.multiValueHeaders['x-h'], ['v']);
    assert.equal(e1.body, null);
    assert.equal(e1.requestContext.identity.sourceIp, '127.0.0.1');

    // Stage variables in the integration URI pick the function.
    const byVar = await gw.send(
      new CreateIntegrationCommand({
        ApiId: id,
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: `${FN}\${stageVariables.fn}`,
        PayloadFormatVersion: '2.0',
      }),
    );
    await gw.send(new CreateRouteCommand({ ApiId: id, RouteKey: 'GET /byvar/plain', Target: target(byVar) }));
    await gw.send(new UpdateStageCommand({ ApiId: id, StageName: 'prod', StageVariables: { fn: 'echo' } }));
    await gw.send(new CreateDeploymentCommand({ ApiId: id, StageName: 'prod' }));
    assert.deepEqual(json((await http(`${base}/byvar/plain`)).body), { hello: 'world' });

    // Integration timeout: 503.
    const s = await http(`${base}/slow`);
    assert.equal(s.status, 503);
    assert.deepEqual(json(s.body), { message: 'Service Unavailable' });

    // Route throttling: burst 2 (one token went to the precedence check above), then 429.
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await http(`${base}/items/special`)).status);
    assert.deepEqual(codes, [200, 429, 429]);
    const th = await http(`${base}/items/special`);
    assert.deepEqual(json(th.body), { message: 'Too Many Requests' });

    // A new route is not served by prod until the next deployment.
    await gw.send(new CreateRouteCommand({ ApiId: id, RouteKey: 'GET /new', Target: target(v2) }));
    assert.equal(json((await http(`${base}/new`)).body).routeKey, 'ANY /{proxy+}');
    await gw.send(new UpdateStageCommand({ ApiId: id, StageName: 'prod', AutoDeploy: true }));
    assert.equal(json((await http(`${base}/new`)).body).routeKey, 'GET /new');

    // Access log lines land in CloudWatch Logs.
    let lines: string[] = [];
    for (let i = 0; i < 40 && lines.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const out = await logs.send(new FilterLogEventsCommand({ logGroupName: 'api-access' }));
      lines = (out.events ?? []).map((e) => e.message!);
    }
    assert.ok(
      lines.some((l) => /^\S+ GET GET \/items\/\{id\} 200$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.some((l) => l.endsWith(' 429')));
  });
  await t.test('nimbus apis lists the APIs with their stage URLs', async () => {
    let out = '';
    const io = { out: (x: string) => (out += x), err: (x: string) => (out += x), env: {} };
    assert.equal(await apisCommand.run(['--endpoint', srv.endpoint], io), 0);
    const line = out.split('\n').find((l) => l.includes(' full '));
    assert.ok(line, out);
    assert.match(line, /HTTP\s+prod\s+http:\/\/127\.0\.0\.1:\d+\/_api\/[a-z0-9]{10}\/prod\/$/);
    out = '';
    assert.equal(await apisCommand.run(['--json', '--endpoint', srv.endpoint], io), 0);
    assert.ok(JSON.parse(out).some((r: { stage: string }) => r.stage === 'prod'));
  });
});
