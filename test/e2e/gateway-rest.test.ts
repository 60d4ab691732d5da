/**
 * REST APIs (apigateway v1) end to end: the real @aws-sdk/client-api-gateway for management,
 * plain HTTP for serving, real Lambda handlers and authorizers behind the methods.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  FlushStageAuthorizersCacheCommand,
  FlushStageCacheCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteResourceCommand,
  DeleteRestApiCommand,
  GetApiKeysCommand,
  GetDeploymentsCommand,
  GetMethodCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  GetStageCommand,
  GetStagesCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import { OffsetClock } from '../../src/core/clock.js';
import { startTestServer } from '../helpers/server.js';
import { apisCommand } from '../../src/gateway/cli.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => {
  if (event.path.endsWith('/bad')) return { statusCode: 200, body: 42 };
  if (event.path.endsWith('/image'))
    return { statusCode: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, multiValueHeaders: { 'x-multi': ['a', 'b'] }, body: JSON.stringify(event) };
};`;

const TOKEN_AUTH = `exports.handler = async (event) => {
  const t = event.authorizationToken;
  if (t === 'fail') throw new Error('Unauthorized');
  const effect = t === 'allow' ? 'Allow' : 'Deny';
  return {
    principalId: 'user-' + t,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }] },
    context: { stamp: String(Date.now()) + ':' + Math.random(), type: event.type, arn: event.methodArn },
  };
};`;

const REQUEST_AUTH = `exports.handler = async (event) => ({
  principalId: 'req',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: event.queryStringParameters.who === 'ok' ? 'Allow' : 'Deny', Resource: 'arn:aws:execute-api:*' }] },
  context: { stamp: String(Math.random()), type: event.type, tenant: event.headers['x-tenant'], res: event.resource },
});`;

const json = (b: string) => JSON.parse(b) as Record<string, any>;

async function http(url: string, init: RequestInit = {}) {
  const r = await fetch(url, init);
  return { status: r.status, headers: r.headers, body: await r.text() };
}

/** node:http, because fetch does not let a caller choose the Host header. */
function httpWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const lambdaUri = (name: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${name}/invocations`;

test('REST APIs: management through the SDK, serving, keys, usage plans and authorizers', async (t) => {
  const clock = new OffsetClock();
  await using srv = await startTestServer({ start: { clock } });
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
  });
  await createNodeFunctions(
    lambda,
    { echo: ECHO, tokenauth: TOKEN_AUTH, reqauth: REQUEST_AUTH },
    { Timeout: 10 },
  );

  const api = await gw.send(
    new CreateRestApiCommand({ name: 'shop', description: 'd', binaryMediaTypes: ['image/*'] }),
  );
  const apiId = api.id!;
  const root = api.rootResourceId!;
  const put = async (resourceId: string, httpMethod: string, extra: Record<string, unknown> = {}) => {
    await gw.send(
      new PutMethodCommand({ restApiId: apiId, resourceId, httpMethod, authorizationType: 'NONE', ...extra }),
    );
    await gw.send(
      new PutIntegrationCommand({
        restApiId: apiId,
        resourceId,
        httpMethod,
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: lambdaUri('echo'),
      }),
    );
  };
  const base = `${srv.endpoint}/_api/${apiId}/prod`;

  await t.test('resources, methods, deployments and stages', async () => {
    assert.match(apiId, /^[a-z0-9]{10}$/);
    assert.ok(api.createdDate instanceof Date);
    const got = await gw.send(new GetRestApiCommand({ restApiId: apiId }));
    assert.equal(got.name, 'shop');
    const all = await gw.send(new GetRestApisCommand({}));
    assert.ok(all.items?.some((a) => a.id === apiId));

    const items = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'items' }),
    );
    assert.equal(items.path, '/items');
    const item = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: items.id, pathPart: '{id}' }),
    );
    assert.equal(item.path, '/items/{id}');
    const proxy = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: '{proxy+}' }),
    );
    const keyed = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'keyed' }),
    );
    const tok = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'tok' }),
    );
    const req = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'req' }),
    );
    const gone = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'gone' }),
    );
    await assert.rejects(
      gw.send(new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'items' })),
      { name: 'ConflictException' },
    );
    await gw.send(new DeleteResourceCommand({ restApiId: apiId, resourceId: gone.id }));

    await put(item.id!, 'GET');
    await put(proxy.id!, 'ANY');
    await put(keyed.id!, 'GET', { apiKeyRequired: true });
    const iam = await gw.send(
      new CreateResourceCommand({ restApiId: apiId, parentId: root, pathPart: 'iam' }),
    );
    await put(iam.id!, 'GET', { authorizationType: 'AWS_IAM' });
    const ta = await gw.send(
      new CreateAuthorizerCommand({
        restApiId: apiId,
        name: 'tok',
        type: 'TOKEN',
        authorizerUri: lambdaUri('tokenauth'),
        identitySource: 'method.request.header.Authorization',
        authorizerResultTtlInSeconds: 300,
      }),
    );
    assert.equal(ta.authorizerResultTtlInSeconds, 300);
    const ra = await gw.send(
      new CreateAuthorizerCommand({
        restApiId: apiId,
        name: 'req',
        type: 'REQUEST',
        authorizerUri: lambdaUri('reqauth'),
        identitySource: 'method.request.header.X-Tenant, method.request.querystring.who',
        authorizerResultTtlInSeconds: 0,
      }),
    );
    await put(tok.id!, 'GET', { authorizationType: 'CUSTOM', authorizerId: ta.id });
    await put(req.id!, 'GET', { authorizationType: 'CUSTOM', authorizerId: ra.id });
    const m = await gw.send(
      new GetMethodCommand({ restApiId: apiId, resourceId: tok.id, httpMethod: 'GET' }),
    );
    assert.equal(m.authorizationType, 'CUSTOM');
    assert.equal(m.methodIntegration?.type, 'AWS_PROXY');
    assert.equal(m.methodIntegration?.uri, lambdaUri('echo'));

    const res = await gw.send(new GetResourcesCommand({ restApiId: apiId, limit: 100 }));
    assert.deepEqual(res.items?.map((r) => r.path).sort(), [
      '/',
      '/iam',
      '/items',
      '/items/{id}',
      '/keyed',
      '/req',
      '/tok',
      '/{proxy+}',
    ]);
    assert.ok(res.items?.find((r) => r.path === '/items/{id}')?.resourceMethods?.GET);

    const d = await gw.send(
      new CreateDeploymentCommand({ restApiId: apiId, stageName: 'prod', variables: { color: 'blue' } }),
    );
    const deps = await gw.send(new GetDeploymentsCommand({ restApiId: apiId }));
    assert.deepEqual(
      deps.items?.map((x) => x.id),
      [d.id],
    );
    const st = await gw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    assert.equal(st.deploymentId, d.id);
    assert.deepEqual(st.variables, { color: 'blue' });
    await gw.send(new CreateStageCommand({ restApiId: apiId, stageName: 'beta', deploymentId: d.id }));
    const upd = await gw.send(
      new UpdateStageCommand({
        restApiId: apiId,
        stageName: 'beta',
        patchOperations: [{ op: 'replace', path: '/variables/color', value: 'green' }],
      }),
    );
    assert.deepEqual(upd.variables, { color: 'green' });
    const stages = await gw.send(new GetStagesCommand({ restApiId: apiId }));
    assert.deepEqual(stages.item?.map((s) => s.stageName).sort(), ['beta', 'prod']);
    await assert.rejects(gw.send(new GetRestApiCommand({ restApiId: 'nope000000' })), {
      name: 'NotFoundException',
      message: 'Invalid API identifier specified 000000000000:nope000000',
    });
  });

  await t.test('payload 1.0 events exactly as REST APIs send them', async () => {
    const r = await http(`${base}/items/42?name=me&name=you&x=%20y`, {
      headers: { 'x-custom': 'v', 'user-agent': 'tester/1' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-multi'), 'a, b');
    assert.ok(r.headers.get('x-amzn-requestid'));
    const ev = json(r.body);
    assert.equal(ev.version, undefined);
    assert.equal(ev.resource, '/items/{id}');
    assert.equal(ev.path, '/items/42');
    assert.equal(ev.httpMethod, 'GET');
    assert.equal(ev.headers['x-custom'], 'v');
    assert.deepEqual(ev.multiValueHeaders['x-custom'], ['v']);
    assert.deepEqual(ev.queryStringParameters, { name: 'you', x: ' y' });
    assert.deepEqual(ev.multiValueQueryStringParameters, { name: ['me', 'you'], x: [' y'] });
    assert.deepEqual(ev.pathParameters, { id: '42' });
    assert.deepEqual(ev.stageVariables, { color: 'blue' });
    assert.equal(ev.body, null);
    assert.equal(ev.isBase64Encoded, false);
    const rc = ev.requestContext;
    assert.equal(rc.resourcePath, '/items/{id}');
    assert.equal(rc.stage, 'prod');
    assert.equal(rc.path, '/prod/items/42');
    assert.equal(rc.httpMethod, 'GET');
    assert.equal(rc.apiId, apiId);
    assert.equal(rc.accountId, '000000000000');
    assert.equal(rc.identity.userAgent, 'tester/1');
    assert.equal(rc.identity.sourceIp, '127.0.0.1');
    assert.equal(rc.identity.apiKey, null);
    assert.match(rc.requestTime, /^\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);

    const p = await http(`${base}/hello/world`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    const pe = json(p.body);
    assert.equal(pe.resource, '/{proxy+}');
    assert.deepEqual(pe.pathParameters, { proxy: 'hello/world' });
    assert.equal(pe.body, '{"a":1}');
    assert.equal(pe.httpMethod, 'POST');

    const bin = json(
      (
        await http(`${base}/upload`, {
          method: 'PUT',
          body: 'héllo',
          headers: { 'content-type': 'application/octet-stream' },
        })
      ).body,
    );
    assert.equal(bin.body, 'héllo', 'text unless binaryMediaTypes says otherwise');
    assert.equal(bin.isBase64Encoded, false);
    const png = json(
      (
        await http(`${base}/upload`, {
          method: 'PUT',
          body: Buffer.from([0, 255, 1]),
          headers: { 'content-type': 'image/png' },
        })
      ).body,
    );
    assert.equal(png.body, Buffer.from([0, 255, 1]).toString('base64'));
    assert.equal(png.isBase64Encoded, true);

    // A base64 answer goes out as bytes only when the first Accept type is a binary media type.
    const image = async (accept?: string) => {
      const r = await fetch(`${base}/files/image`, { headers: accept ? { accept } : {} });
      return { type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
    };
    for (const accept of ['image/png', 'image/webp,image/*,*/*;q=0.8']) {
      const r = await image(accept);
      assert.deepEqual([...r.bytes], [0, 255, 1], accept);
      assert.equal(r.type, 'image/png');
    }
    for (const accept of ['application/json', '*/*', 'text/html,image/png', undefined]) {
      const r = await image(accept);
      assert.equal(r.bytes.toString('utf8'), 'AP8B', `base64 text for Accept ${accept}`);
      assert.equal(r.type, 'image/png');
    }

    const beta = json((await http(`${srv.endpoint}/_api/${apiId}/beta/items/1`)).body);
    assert.deepEqual(beta.stageVariables, { color: 'green' });
    // The Host form.
    const host = await httpWithHost(
      `${srv.endpoint}/prod/items/7`,
      `${apiId}.execute-api.us-east-1.amazonaws.com`,
    );
    assert.equal(json(host.body).pathParameters.id, '7');
  });

  await t.test('unknown resources, stages and malformed responses', async () => {
    const miss = await http(`${base}/items`);
    assert.equal(miss.status, 403);
    assert.deepEqual(json(miss.body), { message: 'Missing Authentication Token' });
    assert.equal(miss.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const iam = await http(`${base}/iam`);
    assert.equal(iam.status, 403, 'AWS_IAM methods need a signed request');
    assert.deepEqual(json(iam.body), { message: 'Missing Authentication Token' });
    const post = await http(`${base}/items/1`, { method: 'DELETE' });
    assert.equal(post.status, 403);
    assert.deepEqual(json(post.body), { message: 'Missing Authentication Token' });
    const stage = await http(`${srv.endpoint}/_api/${apiId}/nostage/items/1`);
    assert.equal(stage.status, 403);
    const bad = await http(`${base}/x/bad`);
    assert.equal(bad.status, 502);
    assert.deepEqual(json(bad.body), { message: 'Internal server error' });
  });

  await t.test('API keys and usage plans: 403, throttle 429 and quota 429', async () => {
    const none = await http(`${base}/keyed`);
    assert.equal(none.status, 403);
    assert.deepEqual(json(none.body), { message: 'Forbidden' });
    const k1 = await gw.send(
      new CreateApiKeyCommand({ name: 'k1', enabled: true, value: 'k1-value-0123456789abcdef' }),
    );
    const k2 = await gw.send(new CreateApiKeyCommand({ name: 'k2', enabled: true }));
    assert.ok(k2.value && k2.value.length >= 20);
    const keys = await gw.send(new GetApiKeysCommand({ includeValues: true }));
    assert.ok(keys.items?.some((k) => k.value === 'k1-value-0123456789abcdef'));
    // A key that is in no usage plan is refused.
    assert.equal((await http(`${base}/keyed`, { headers: { 'x-api-key': k1.value! } })).status, 403);
    const throttled = await gw.send(
      new CreateUsagePlanCommand({
        name: 'throttled',
        apiStages: [{ apiId, stage: 'prod' }],
        throttle: { rateLimit: 0.001, burstLimit: 2 },
      }),
    );
    await gw.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: throttled.id, keyId: k1.id, keyType: 'API_KEY' }),
    );
    const quota = await gw.send(
      new CreateUsagePlanCommand({
        name: 'quota',
        apiStages: [{ apiId, stage: 'prod' }],
        quota: { limit: 2, period: 'DAY' },
      }),
    );
    await gw.send(new CreateUsagePlanKeyCommand({ usagePlanId: quota.id, keyId: k2.id, keyType: 'API_KEY' }));

    const call = (key: string) => http(`${base}/keyed`, { headers: { 'x-api-key': key } });
    const ok = await call(k1.value!);
    assert.equal(ok.status, 200);
    const ev = json(ok.body);
    assert.equal(ev.requestContext.identity.apiKey, k1.value);
    assert.equal(ev.requestContext.identity.apiKeyId, k1.id);
    assert.equal((await call(k1.value!)).status, 200);
    const t3 = await call(k1.value!);
    assert.equal(t3.status, 429);
    assert.deepEqual(json(t3.body), { message: 'Too Many Requests' });

    assert.equal((await call(k2.value!)).status, 200);
    assert.equal((await call(k2.value!)).status, 200);
    const q3 = await call(k2.value!);
    assert.equal(q3.status, 429);
    assert.deepEqual(json(q3.body), { message: 'Limit Exceeded' });
    clock.advance(86_400_000);
    assert.equal((await call(k2.value!)).status, 200);
    // Keys are per stage: beta is in no plan.
    assert.equal(
      (await http(`${srv.endpoint}/_api/${apiId}/beta/keyed`, { headers: { 'x-api-key': k2.value! } }))
        .status,
      403,
    );
  });

  await t.test('TOKEN authorizer: 401, 403, context and result caching', async () => {
    const missing = await http(`${base}/tok`);
    assert.equal(missing.status, 401);
    assert.deepEqual(json(missing.body), { message: 'Unauthorized' });
    const fail = await http(`${base}/tok`, { headers: { authorization: 'fail' } });
    assert.equal(fail.status, 401);
    const deny = await http(`${base}/tok`, { headers: { authorization: 'deny' } });
    assert.equal(deny.status, 403);
    assert.deepEqual(json(deny.body), { Message: 'User is not authorized to access this resource' });
    const a = await http(`${base}/tok`, { headers: { authorization: 'allow' } });
    assert.equal(a.status, 200);
    const auth = json(a.body).requestContext.authorizer;
    assert.equal(auth.principalId, 'user-allow');
    assert.equal(auth.type, 'TOKEN');
    assert.equal(auth.arn, `arn:aws:execute-api:us-east-1:000000000000:${apiId}/prod/GET/tok`);
    const b = json((await http(`${base}/tok`, { headers: { authorization: 'allow' } })).body);
    assert.equal(b.requestContext.authorizer.stamp, auth.stamp, 'cached for the TTL');
    await gw.send(new FlushStageAuthorizersCacheCommand({ restApiId: apiId, stageName: 'prod' }));
    const flushed = json((await http(`${base}/tok`, { headers: { authorization: 'allow' } })).body);
    assert.notEqual(flushed.requestContext.authorizer.stamp, auth.stamp, 'called again after the flush');
    await gw.send(new FlushStageCacheCommand({ restApiId: apiId, stageName: 'prod' }));
    await assert.rejects(
      gw.send(new FlushStageAuthorizersCacheCommand({ restApiId: apiId, stageName: 'nostage' })),
      (e: Error) => e.name === 'NotFoundException',
    );
    clock.advance(301_000);
    const c = json((await http(`${base}/tok`, { headers: { authorization: 'allow' } })).body);
    assert.notEqual(
      c.requestContext.authorizer.stamp,
      flushed.requestContext.authorizer.stamp,
      'called again after the TTL',
    );
  });

  await t.test('REQUEST authorizer: identity sources, event and no caching at TTL 0', async () => {
    const missing = await http(`${base}/req?who=ok`);
    assert.equal(missing.status, 401);
    const deny = await http(`${base}/req?who=no`, { headers: { 'x-tenant': 't1' } });
    assert.equal(deny.status, 403);
    const a = json((await http(`${base}/req?who=ok`, { headers: { 'x-tenant': 't1' } })).body);
    assert.equal(a.requestContext.authorizer.principalId, 'req');
    assert.equal(a.requestContext.authorizer.type, 'REQUEST');
    assert.equal(a.requestContext.authorizer.tenant, 't1');
    assert.equal(a.requestContext.authorizer.res, '/req');
    const b = json((await http(`${base}/req?who=ok`, { headers: { 'x-tenant': 't1' } })).body);
    assert.notEqual(b.requestContext.authorizer.stamp, a.requestContext.authorizer.stamp);
  });

  await t.test('stage throttling (methodSettings */*) answers 429', async () => {
    const st = await gw.send(
      new UpdateStageCommand({
        restApiId: apiId,
        stageName: 'beta',
        patchOperations: [
          { op: 'replace', path: '/*/*/throttling/rateLimit', value: '0.001' },
          { op: 'replace', path: '/*/*/throttling/burstLimit', value: '1' },
        ],
      }),
    );
    const all = st.methodSettings?.['*/*'];
    assert.deepEqual([all?.throttlingRateLimit, all?.throttlingBurstLimit], [0.001, 1]);
    // The rest of the entry shows AWS's defaults.
    assert.deepEqual([all?.loggingLevel, all?.metricsEnabled, all?.cacheTtlInSeconds], ['OFF', false, 300]);
    // Logging, metrics and caching settings are kept and shown (Terraform's aws_api_gateway_method_settings).
    const set = await gw.send(
      new UpdateStageCommand({
        restApiId: apiId,
        stageName: 'beta',
        patchOperations: [
          { op: 'replace', path: '/*/*/logging/loglevel', value: 'ERROR' },
          { op: 'replace', path: '/*/*/metrics/enabled', value: 'true' },
          {
            op: 'replace',
            path: '/*/*/caching/unauthorizedCacheControlHeaderStrategy',
            value: 'FAIL_WITH_403',
          },
        ],
      }),
    );
    const kept = set.methodSettings?.['*/*'];
    assert.deepEqual(
      [
        kept?.loggingLevel,
        kept?.metricsEnabled,
        kept?.unauthorizedCacheControlHeaderStrategy,
        kept?.throttlingBurstLimit,
      ],
      ['ERROR', true, 'FAIL_WITH_403', 1],
    );
    await assert.rejects(
      gw.send(
        new UpdateStageCommand({
          restApiId: apiId,
          stageName: 'beta',
          patchOperations: [{ op: 'replace', path: '/*/*/logging/loglevel', value: 'LOUD' }],
        }),
      ),
      /Invalid logging level: LOUD/,
    );
    await assert.rejects(
      gw.send(
        new UpdateStageCommand({
          restApiId: apiId,
          stageName: 'beta',
          patchOperations: [{ op: 'replace', path: '/cacheClusterSize', value: '2' }],
        }),
      ),
      /Invalid cache cluster size specified: 2/,
    );
    const beta = `${srv.endpoint}/_api/${apiId}/beta/items/1`;
    assert.equal((await http(beta)).status, 200);
    const r = await http(beta);
    assert.equal(r.status, 429);
    assert.deepEqual(json(r.body), { message: 'Too Many Requests' });
    assert.equal((await http(`${base}/items/1`)).status, 200, 'other stages are not throttled');
  });

  await t.test('nimbus apis lists REST APIs with their stage URLs', async () => {
    let out = '';
    const io = { out: (x: string) => (out += x), err: (x: string) => (out += x), env: {} };
    assert.equal(await apisCommand.run(['--endpoint', srv.endpoint], io), 0);
    const line = out.split('\n').find((l) => l.startsWith(apiId) && / prod /.test(l));
    assert.ok(line, out);
    assert.match(line, /REST\s+prod\s+http:\/\/127\.0\.0\.1:\d+\/_api\/[a-z0-9]{10}\/prod\/$/);
    assert.equal((await http(line.split(/\s+/).pop()! + 'items/1')).status, 200);
  });

  await t.test('DeleteRestApi stops serving', async () => {
    await gw.send(new DeleteRestApiCommand({ restApiId: apiId }));
    await assert.rejects(gw.send(new GetRestApiCommand({ restApiId: apiId })), { name: 'NotFoundException' });
    const r = await http(`${base}/items/1`);
    assert.equal(r.status, 404);
  });
});
