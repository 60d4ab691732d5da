/**
 * REST API stage caching (the "API cache") end to end: a stage with cacheClusterEnabled and the
 * method settings' caching/* answers cached methods without calling their integration, per
 * cache key (method, resource path, the integration's cacheKeyParameters), for ttlInSeconds;
 * Cache-Control: max-age=0 with each unauthorized strategy; FlushStageCache and redeployments
 * empty it; CacheHitCount and CacheMissCount reach CloudWatch. Every answer carries a value
 * fresh per integration call ($context.requestId or a random id), so equal bodies mean a hit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  APIGatewayClient,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  FlushStageCacheCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateIntegrationCommand,
  UpdateStageCommand,
  type PatchOperation,
} from '@aws-sdk/client-api-gateway';
import { OffsetClock } from '../../src/core/clock.js';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

/** A fresh id per call; `?code=` picks the status code, `?code=throw` fails the function. */
const FRESH = `const { randomUUID } = require('node:crypto');
exports.handler = async (event) => {
  const code = (event.queryStringParameters || {}).code;
  if (code === 'throw') throw new Error('boom');
  return { statusCode: Number(code || 200), headers: { 'x-from': 'fn' }, body: randomUUID() };
};`;

const AUTH = `exports.handler = async (event) => {
  if (event.authorizationToken !== 'allow') throw new Error('Unauthorized');
  return {
    principalId: 'me',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
  };
};`;

const lambdaUri = (fn: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${fn}/invocations`;

/** Signed as far as Nimbus looks (it does not evaluate IAM policies). */
const SIGNED = 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/execute-api/aws4_request, Signature=x';

test('REST APIs: stage caching (the API cache)', async (t) => {
  const clock = new OffsetClock();
  await using srv = await startTestServer({ start: { clock } });
  const gw = new APIGatewayClient(srv.clientConfig);
  await createNodeFunctions(new LambdaClient(srv.clientConfig), { fresh: FRESH, auth: AUTH });

  const api = await gw.send(new CreateRestApiCommand({ name: 'cached' }));
  const restApiId = api.id!;
  const resource = async (parentId: string, pathPart: string) =>
    (await gw.send(new CreateResourceCommand({ restApiId, parentId, pathPart }))).id!;
  /** A MOCK method answering `{"status": <code>, "id": <request id>}` for the codes it lists. */
  const mock = async (
    resourceId: string,
    httpMethod: string,
    opts: {
      requestParameters?: Record<string, boolean>;
      cacheKeyParameters?: string[];
      codes?: string[];
    } = {},
  ) => {
    const where = { restApiId, resourceId, httpMethod };
    await gw.send(
      new PutMethodCommand({
        ...where,
        authorizationType: 'NONE',
        requestParameters: opts.requestParameters,
      }),
    );
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'MOCK',
        requestTemplates: {
          'application/json': opts.codes ? `{"statusCode": $input.params('code')}` : '{"statusCode": 200}',
        },
        cacheKeyParameters: opts.cacheKeyParameters,
      }),
    );
    for (const code of opts.codes ?? ['200']) {
      await gw.send(new PutMethodResponseCommand({ ...where, statusCode: code }));
      await gw.send(
        new PutIntegrationResponseCommand({
          ...where,
          statusCode: code,
          selectionPattern: opts.codes ? code : undefined,
          responseTemplates: { 'application/json': `{"status": ${code}, "id": "$context.requestId"}` },
        }),
      );
    }
  };

  const root = api.rootResourceId!;
  const items = await resource(root, 'items');
  await mock(items, 'GET', {
    requestParameters: { 'method.request.querystring.type': false, 'method.request.header.x-tenant': false },
    cacheKeyParameters: ['method.request.querystring.type', 'method.request.header.x-tenant'],
  });
  await mock(items, 'POST');
  const item = await resource(items, '{id}');
  await mock(item, 'GET', { requestParameters: { 'method.request.path.id': true } });
  const status = await resource(root, 'status');
  await mock(status, 'GET', {
    requestParameters: { 'method.request.querystring.code': false },
    cacheKeyParameters: ['method.request.querystring.code'],
    codes: ['200', '404'],
  });
  const fn = await resource(root, 'fn');
  await gw.send(
    new PutMethodCommand({
      restApiId,
      resourceId: fn,
      httpMethod: 'GET',
      authorizationType: 'NONE',
      requestParameters: { 'method.request.querystring.code': false },
    }),
  );
  await gw.send(
    new PutIntegrationCommand({
      restApiId,
      resourceId: fn,
      httpMethod: 'GET',
      type: 'AWS_PROXY',
      integrationHttpMethod: 'POST',
      uri: lambdaUri('fresh'),
      cacheKeyParameters: ['method.request.querystring.code'],
    }),
  );
  const authorizer = await gw.send(
    new CreateAuthorizerCommand({
      restApiId,
      name: 'tok',
      type: 'TOKEN',
      authorizerUri: lambdaUri('auth'),
      identitySource: 'method.request.header.Authorization',
      authorizerResultTtlInSeconds: 0,
    }),
  );
  const guarded = await resource(root, 'guarded');
  await gw.send(
    new PutMethodCommand({
      restApiId,
      resourceId: guarded,
      httpMethod: 'GET',
      authorizationType: 'CUSTOM',
      authorizerId: authorizer.id,
    }),
  );
  await gw.send(
    new PutIntegrationCommand({
      restApiId,
      resourceId: guarded,
      httpMethod: 'GET',
      type: 'AWS_PROXY',
      integrationHttpMethod: 'POST',
      uri: lambdaUri('fresh'),
    }),
  );

  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod', cacheClusterEnabled: true }));
  const updateStage = (...patchOperations: PatchOperation[]) =>
    gw.send(new UpdateStageCommand({ restApiId, stageName: 'prod', patchOperations }));
  const set = (path: string, value: string): PatchOperation => ({ op: 'replace', path, value });
  await updateStage(
    set('/*/*/caching/enabled', 'true'),
    set('/*/*/caching/ttlInSeconds', '60'),
    set('/~1status/GET/metrics/enabled', 'true'),
  );

  const base = `${srv.endpoint}/_api/${restApiId}/prod`;
  const call = async (path: string, init: RequestInit = {}) => {
    const r = await fetch(`${base}${path}`, init);
    return { status: r.status, headers: r.headers, body: await r.text() };
  };
  const body = async (path: string, init: RequestInit = {}) => (await call(path, init)).body;

  await t.test(
    'the stage reports its cache; a cached GET answers without calling the integration',
    async () => {
      const stage = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
      assert.equal(stage.cacheClusterEnabled, true);
      assert.equal(stage.cacheClusterStatus, 'AVAILABLE');
      assert.equal(stage.cacheClusterSize, '0.5');
      assert.equal(stage.methodSettings?.['*/*']?.cachingEnabled, true);

      const first = await call('/fn');
      assert.equal(first.status, 200);
      const again = await call('/fn');
      assert.equal(again.body, first.body, 'served from the cache: the function was not called');
      assert.equal(again.headers.get('x-from'), 'fn', 'with the stored headers');
      assert.notEqual(again.headers.get('x-amzn-requestid'), first.headers.get('x-amzn-requestid'));
      assert.equal(await body('/items'), await body('/items'));
    },
  );

  await t.test('cache key parameters separate entries; other parameters and path values do not', async () => {
    const a = await body('/items?type=a');
    assert.equal(await body('/items?type=a&department=x'), a, 'department is not a cache key');
    assert.notEqual(await body('/items?type=b'), a);
    assert.notEqual(await body('/items?type=a', { headers: { 'x-tenant': 't1' } }), a);
    assert.equal(
      await body('/items?type=a', { headers: { 'X-Tenant': 't1' } }),
      await body('/items?type=a', { headers: { 'x-tenant': 't1' } }),
    );
    // Path parameters are keys only when named: /items/1 and /items/2 share the method's entry...
    const one = await body('/items/1');
    assert.equal(await body('/items/2'), one);
    // ...until the integration names method.request.path.id and the API is deployed again.
    await gw.send(
      new UpdateIntegrationCommand({
        restApiId,
        resourceId: item,
        httpMethod: 'GET',
        patchOperations: [{ op: 'add', path: '/cacheKeyParameters/method.request.path.id' }],
      }),
    );
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const again = await body('/items/1');
    assert.notEqual(again, one, 'a new deployment starts an empty cache');
    assert.notEqual(await body('/items/2'), again);
    assert.equal(await body('/items/1'), again);
  });

  await t.test('entries expire after ttlInSeconds', async () => {
    const first = await body('/fn');
    clock.advance(59_000);
    assert.equal(await body('/fn'), first);
    clock.advance(2_000);
    const fresh = await body('/fn');
    assert.notEqual(fresh, first);
    assert.equal(await body('/fn'), fresh);
  });

  await t.test(
    'only GET methods are cached by */*; another method by its own setting; ttl 0 caches nothing',
    async () => {
      assert.notEqual(await body('/items', { method: 'POST' }), await body('/items', { method: 'POST' }));
      await updateStage(set('/~1items/POST/caching/enabled', 'true'));
      assert.equal(await body('/items', { method: 'POST' }), await body('/items', { method: 'POST' }));
      await updateStage(set('/~1items/GET/caching/ttlInSeconds', '0'));
      assert.notEqual(await body('/items'), await body('/items'));
      await updateStage(
        set('/~1items/GET/caching/enabled', 'false'),
        set('/~1items/GET/caching/ttlInSeconds', '60'),
      );
      assert.notEqual(await body('/items'), await body('/items'), 'caching/enabled false for the method');
      assert.equal(await body('/fn'), await body('/fn'), 'the other methods still cache');
    },
  );

  await t.test('Cache-Control: max-age=0 and the unauthorized strategies', async () => {
    const cached = await body('/fn');
    // Default: authorization required, SUCCEED_WITH_RESPONSE_HEADER.
    const unsigned = await call('/fn', { headers: { 'cache-control': 'max-age=0' } });
    assert.equal(unsigned.body, cached, 'an unsigned caller cannot invalidate');
    assert.equal(
      unsigned.headers.get('warning'),
      '199 Cache-control headers were ignored because the caller was unauthorized.',
    );
    assert.equal((await call('/fn')).headers.get('warning'), null);
    const signed = await call('/fn', { headers: { 'cache-control': 'max-age=0', authorization: SIGNED } });
    assert.notEqual(signed.body, cached, 'a signed caller gets a fresh answer');
    assert.equal(signed.headers.get('warning'), null);
    assert.equal(await body('/fn'), signed.body, 'which replaced the entry');

    await updateStage(
      set('/*/*/caching/unauthorizedCacheControlHeaderStrategy', 'SUCCEED_WITHOUT_RESPONSE_HEADER'),
    );
    const quiet1 = await body('/fn');
    const quiet = await call('/fn', { headers: { 'cache-control': 'no-cache, max-age=0' } });
    assert.equal(quiet.body, quiet1);
    assert.equal(quiet.headers.get('warning'), null);

    await updateStage(set('/*/*/caching/unauthorizedCacheControlHeaderStrategy', 'FAIL_WITH_403'));
    const kept = await body('/fn');
    const refused = await call('/fn', { headers: { 'cache-control': 'max-age=0' } });
    assert.equal(refused.status, 403);
    assert.deepEqual(JSON.parse(refused.body), { message: 'Unauthorized' });
    assert.equal(await body('/fn'), kept, 'the entry is kept');
    assert.equal(
      await body('/fn', { headers: { 'cache-control': 'max-age=60' } }),
      kept,
      'other values are ignored',
    );

    await updateStage(set('/*/*/caching/requireAuthorizationForCacheControl', 'false'));
    const before = await body('/fn');
    const anyone = await body('/fn', { headers: { 'cache-control': 'max-age=0' } });
    assert.notEqual(anyone, before, 'without required authorization any caller invalidates');
    assert.equal(await body('/fn'), anyone);
  });

  await t.test('integration answers are cached whatever their status; gateway errors are not', async () => {
    const notFound = await call('/status?code=404');
    assert.equal(notFound.status, 404);
    const again = await call('/status?code=404');
    assert.deepEqual([again.status, again.body], [404, notFound.body]);
    const ok = await call('/status?code=200');
    assert.equal(ok.status, 200);
    assert.notEqual(ok.body, notFound.body);
    // No integration response for 500: the gateway's own error, twice from the integration.
    assert.equal((await call('/status?code=500')).status, 500);
    assert.equal((await call('/status?code=500')).status, 500);
    const proxied = await call('/fn?code=418');
    assert.deepEqual([proxied.status, (await call('/fn?code=418')).body], [418, proxied.body]);
    assert.equal((await call('/fn?code=throw')).status, 502);

    const cw = new CloudWatchClient(srv.clientConfig);
    const sum = async (name: string) => {
      const r = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/ApiGateway',
          MetricName: name,
          Dimensions: [
            { Name: 'ApiName', Value: 'cached' },
            { Name: 'Method', Value: 'GET' },
            { Name: 'Resource', Value: '/status' },
            { Name: 'Stage', Value: 'prod' },
          ],
          StartTime: new Date(clock.now() - 3600_000),
          EndTime: new Date(clock.now() + 600_000),
          Period: 3600,
          Statistics: ['Sum'],
        }),
      );
      return (r.Datapoints ?? []).reduce((a, d) => a + (d.Sum ?? 0), 0);
    };
    assert.equal(await sum('CacheHitCount'), 1, 'the second 404');
    assert.equal(await sum('CacheMissCount'), 4, 'the first 404, the 200, both 500s');
  });

  await t.test(
    'authorizers run before the cache: a refused caller never gets the cached answer',
    async () => {
      const allowed = await call('/guarded', { headers: { authorization: 'allow' } });
      assert.equal(allowed.status, 200);
      assert.equal((await call('/guarded')).status, 401);
      const refused = await call('/guarded', { headers: { authorization: 'nope' } });
      assert.equal(refused.status, 401);
      assert.notEqual(refused.body, allowed.body);
      assert.equal(await body('/guarded', { headers: { authorization: 'allow' } }), allowed.body);
    },
  );

  await t.test('FlushStageCache empties the stage cache', async () => {
    const first = await body('/fn');
    assert.equal(await body('/fn'), first);
    await gw.send(new FlushStageCacheCommand({ restApiId, stageName: 'prod' }));
    const fresh = await body('/fn');
    assert.notEqual(fresh, first);
    assert.equal(await body('/fn'), fresh);
  });

  await t.test('a new deployment empties the stage cache', async () => {
    const first = await body('/fn');
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const fresh = await body('/fn');
    assert.notEqual(fresh, first);
    assert.equal(await body('/fn'), fresh);
  });

  await t.test('turning the stage cache off serves every request from the integration', async () => {
    const cached = await body('/fn');
    await updateStage(set('/cacheClusterEnabled', 'false'));
    const stage = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(stage.cacheClusterEnabled, false);
    const a = await body('/fn');
    assert.notEqual(a, cached);
    assert.notEqual(await body('/fn'), a);
    // Turned on again: a new, empty cache.
    await updateStage(set('/cacheClusterEnabled', 'true'));
    const b = await body('/fn');
    assert.notEqual(b, cached);
    assert.equal(await body('/fn'), b);
  });
});
