/**
 * Units of the serving core: route precedence, events against AWS's sample payloads,
 * response mapping, token buckets, CORS, IAM policy evaluation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../core/clock.js';
import { RouteTable } from './routing.js';
import {
  buildV1Event,
  buildV2AuthorizerEvent,
  buildV2Event,
  requestTime,
  type GatewayRequest,
} from './events.js';
import { MalformedResponse, isBinaryMediaType, mapV1Response, mapV2Response } from './response.js';
import { Throttler } from './throttle.js';
import { actualHeaders, preflightHeaders } from './cors.js';
import { policyAllows } from './authorizers.js';
import { validateRouteKey, functionArnOf } from './model.js';

// AWS's sample events (from the project's shared folder), kept in the repo as fixtures.
const SAMPLES = fileURLToPath(new URL('../../../test/fixtures/aws-events', import.meta.url));
const sample = (name: string) => {
  try {
    return JSON.parse(readFileSync(`${SAMPLES}/${name}`, 'utf8')) as Record<string, any>;
  } catch {
    return undefined;
  }
};

test('route precedence: exact, then variables, then greedy (longest first), then $default', () => {
  const keys = [
    '$default',
    'ANY /{proxy+}',
    'ANY /pets/{proxy+}',
    'GET /pets/{id}',
    'GET /pets/dog',
    'ANY /pets/dog',
    'GET /',
    'POST /pets/{id}/toys/{toy}',
  ];
  const t = new RouteTable(keys.map((k) => ({ routeKey: k, route: k })));
  const m = (method: string, path: string) => t.match(method, path);
  assert.equal(m('GET', '/pets/dog')?.routeKey, 'GET /pets/dog');
  assert.equal(m('DELETE', '/pets/dog')?.routeKey, 'ANY /pets/dog');
  assert.equal(m('GET', '/pets/cat')?.routeKey, 'GET /pets/{id}');
  assert.deepEqual(m('GET', '/pets/c%20t')?.pathParameters, { id: 'c t' });
  assert.equal(m('PUT', '/pets/cat')?.routeKey, 'ANY /pets/{proxy+}');
  assert.deepEqual(m('GET', '/pets/a/b/c')?.pathParameters, { proxy: 'a/b/c' });
  assert.deepEqual(m('POST', '/pets/1/toys/ball')?.pathParameters, { id: '1', toy: 'ball' });
  assert.equal(m('GET', '/')?.routeKey, 'GET /');
  assert.equal(m('POST', '/')?.routeKey, '$default');
  assert.equal(m('GET', '/other')?.routeKey, 'ANY /{proxy+}');
  assert.equal(m('GET', '/Pets/dog')?.routeKey, 'ANY /{proxy+}', 'paths are case-sensitive');
  const noDefault = new RouteTable([{ routeKey: 'GET /a', route: 1 }]);
  assert.equal(noDefault.match('GET', '/b'), undefined);
});

test('route keys are validated', () => {
  assert.equal(validateRouteKey('GET /a/{b}/{c+}'), 'GET /a/{b}/{c+}');
  for (const bad of ['get /a', 'FETCH /a', 'GET a', 'GET /{a+}/b', 'GET /a//b', '']) {
    assert.throws(() => validateRouteKey(bad), { code: 'BadRequestException' }, bad);
  }
  assert.equal(
    functionArnOf(
      'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations',
    ),
    'arn:aws:lambda:us-east-1:1:function:f',
  );
});

const req: GatewayRequest = {
  method: 'POST',
  rawPath: '/my/path',
  rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
  rawHeaders: ['Header1', 'value1', 'Header2', 'value2', 'Cookie', 'cookie1; cookie2', 'User-Agent', 'agent'],
  body: Buffer.from('{"a":1}'),
  sourceIp: '127.0.0.1',
  protocol: 'HTTP/1.1',
  domainName: 'id.execute-api.us-east-1.amazonaws.com',
  requestId: 'id',
  timeEpoch: 1583348638390,
};
const ctx = {
  accountId: '123456789012',
  apiId: 'api-id',
  stage: '$default',
  routeKey: '$default',
  pathParameters: { proxy: 'hello/world' },
  stageVariables: { stageVariable1: 'value1' },
  authorizer: { lambda: { key: 'value' } },
};

function sameKeys(actual: Record<string, any>, expected: Record<string, any>, path: string, skip: string[]) {
  for (const k of Object.keys(expected)) {
    if (skip.includes(`${path}${k}`)) continue;
    assert.ok(k in actual, `missing ${path}${k}`);
    const e = expected[k];
    if (
      e &&
      typeof e === 'object' &&
      !Array.isArray(e) &&
      ![
        'headers',
        'stageVariables',
        'queryStringParameters',
        'pathParameters',
        'claims',
        'lambda',
        'multiValueHeaders',
        'multiValueQueryStringParameters',
      ].includes(k)
    )
      sameKeys(actual[k], e, `${path}${k}.`, skip);
  }
}

test('v2 event has the fields and nesting of AWS sample payloads', (t) => {
  const s = sample('apigw-v2-request-lambda-authorizer.json');
  if (!s) return t.skip('sample payloads not present in test/fixtures/aws-events');
  const ev = buildV2Event(req, ctx);
  sameKeys(ev, s, '', ['requestContext.authentication']);
  assert.deepEqual(ev.queryStringParameters, s.queryStringParameters);
  assert.deepEqual(ev.cookies, s.cookies);
  assert.equal((ev.headers as Record<string, string>).header1, 'value1');
  assert.equal((ev.requestContext as any).time, '04/Mar/2020:19:03:58 +0000');
  assert.equal(requestTime(Date.UTC(2020, 2, 12, 19, 3, 58)), '12/Mar/2020:19:03:58 +0000');
  const a = buildV2AuthorizerEvent(req, ctx, 'arn:aws:execute-api:us-east-1:1:api/$default/$default', ['v']);
  const as = sample('apigw-v2-custom-authorizer-v2-request.json')!;
  sameKeys(a, as, '', ['requestContext.authentication']);
  assert.equal(a.body, undefined);
});

test('v1 event has the fields of AWS sample payloads', (t) => {
  const s = sample('apigw-request.json');
  if (!s) return t.skip('sample payloads not present in test/fixtures/aws-events');
  const ev = buildV1Event(
    { ...req, rawHeaders: ['X', 'a', 'X', 'b'] },
    { ...ctx, routeKey: 'POST /{proxy+}', authorizer: undefined },
  );
  sameKeys(ev, s, '', [
    'requestContext.identity.cognitoIdentityPoolId',
    'requestContext.identity.apiKey',
    'requestContext.identity.apiKeyId',
    'requestContext.identity.clientCert',
    'requestContext.authorizer',
  ]);
  assert.equal(ev.resource, '/{proxy+}');
  assert.deepEqual((ev.multiValueHeaders as any).X, ['a', 'b']);
  assert.equal((ev.headers as any).X, 'b');
  assert.deepEqual(ev.queryStringParameters, { parameter1: 'value2', parameter2: 'value' });
});

test('response mapping: 2.0 inference, structured, cookies, base64, malformed', () => {
  const b = (x: unknown) => Buffer.from(JSON.stringify(x));
  let r = mapV2Response(b({ hello: 1 }));
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers['content-type'], ['application/json']);
  assert.equal(r.body.toString(), '{"hello":1}');
  r = mapV2Response(b('text'));
  assert.equal(r.body.toString(), '"text"');
  r = mapV2Response(
    b({ statusCode: 404, cookies: ['a=1'], body: 'AAE=', isBase64Encoded: true, headers: { X: 2 } }),
  );
  assert.equal(r.status, 404);
  assert.deepEqual(r.headers['set-cookie'], ['a=1']);
  assert.deepEqual(r.headers.x, ['2']);
  assert.deepEqual([...r.body], [0, 1]);
  assert.throws(() => mapV2Response(b({ statusCode: 'x' })), MalformedResponse);
  assert.throws(() => mapV2Response(b({ statusCode: 200, body: {} })), MalformedResponse);
  assert.throws(() => mapV2Response(Buffer.from('not json')), MalformedResponse);
  r = mapV1Response(b({ statusCode: 200, multiValueHeaders: { 'Set-Cookie': ['a', 'b'] }, body: 'x' }));
  assert.deepEqual(r.headers['set-cookie'], ['a', 'b']);
  assert.throws(() => mapV1Response(b({ hello: 1 })), MalformedResponse);
  assert.throws(() => mapV1Response(b({ body: 'x' })), MalformedResponse);
  // REST: the base64 text as it is when the client did not ask for a binary type.
  const encoded = b({ statusCode: 200, body: 'AAE=', isBase64Encoded: true });
  assert.deepEqual([...mapV1Response(encoded).body], [0, 1]);
  assert.equal(mapV1Response(encoded, false).body.toString(), 'AAE=');
});

test('binary media types: exact, type/* and the any-type wildcard; parameters and case ignored', () => {
  assert.equal(isBinaryMediaType('image/png', ['image/png']), true);
  assert.equal(isBinaryMediaType('Image/PNG; q=0.9', ['image/*']), true);
  assert.equal(isBinaryMediaType('text/plain', ['*/*']), true);
  assert.equal(isBinaryMediaType(undefined, ['*/*']), true);
  assert.equal(isBinaryMediaType('*/*', ['image/*']), false);
  assert.equal(isBinaryMediaType('application/json', ['image/*', 'application/octet-stream']), false);
  assert.equal(isBinaryMediaType('image/png', []), false);
});

test('token buckets: burst, then the steady rate, on the injected clock', () => {
  const clock = new ManualClock();
  const th = new Throttler(clock, { rate: 10_000, burst: 5_000 });
  const lim = { rate: 2, burst: 3 };
  const got = Array.from({ length: 5 }, () => th.allow('acct', 'r', lim));
  assert.deepEqual(got, [true, true, true, false, false]);
  clock.advance(500);
  assert.equal(th.allow('acct', 'r', lim), true);
  assert.equal(th.allow('acct', 'r', lim), false);
  assert.equal(th.allow('acct', 'other', {}), true, 'routes without limits only use the account bucket');
  const acct = new Throttler(clock, { rate: 1, burst: 2 });
  assert.deepEqual(
    [acct.allow('a', 'x', {}), acct.allow('a', 'y', {}), acct.allow('a', 'z', {})],
    [true, true, false],
  );
  assert.equal(acct.allow('b', 'x', {}), true, 'accounts have their own bucket');
  assert.equal(new Throttler(clock).allow('a', 'r', { rate: 0, burst: 0 }), false, 'zero limits block');
});

test('CORS preflight and actual headers', () => {
  const cors = {
    allowOrigins: ['https://a.example'],
    allowMethods: ['GET'],
    allowHeaders: ['x-h'],
    exposeHeaders: ['x-e'],
    maxAge: 10,
    allowCredentials: true,
  };
  assert.deepEqual(preflightHeaders(cors, 'https://a.example', 'GET', 'X-H'), {
    'access-control-allow-origin': 'https://a.example',
    'access-control-allow-methods': 'GET',
    'access-control-allow-headers': 'x-h',
    'access-control-allow-credentials': 'true',
    'access-control-max-age': '10',
  });
  assert.deepEqual(preflightHeaders(cors, 'https://a.example', 'PUT', undefined), {});
  assert.deepEqual(preflightHeaders(cors, 'https://a.example', 'GET', 'x-other'), {});
  assert.deepEqual(preflightHeaders(cors, 'https://b.example', 'GET', undefined), {});
  assert.deepEqual(actualHeaders({ allowOrigins: ['*'] }, 'https://z'), {
    'access-control-allow-origin': '*',
  });
  assert.equal(actualHeaders(cors, 'https://a.example')['access-control-expose-headers'], 'x-e');
  assert.deepEqual(actualHeaders(cors, undefined), {});
});

test('IAM policy answers: explicit deny wins, wildcards, nothing means deny', () => {
  const arn = 'arn:aws:execute-api:us-east-1:1:api/prod/GET/items';
  const st = (Effect: string, Resource: string | string[], Action = 'execute-api:Invoke') => ({
    Effect,
    Resource,
    Action,
  });
  assert.equal(policyAllows({ Statement: [st('Allow', arn)] }, arn), true);
  assert.equal(
    policyAllows({ Statement: [st('Allow', 'arn:aws:execute-api:us-east-1:1:api/*')] }, arn),
    true,
  );
  assert.equal(policyAllows({ Statement: [st('Allow', '*'), st('Deny', arn)] }, arn), false);
  assert.equal(policyAllows({ Statement: [st('Allow', arn, 's3:GetObject')] }, arn), false);
  assert.equal(policyAllows({ Statement: [] }, arn), false);
  assert.equal(policyAllows({ Statement: st('Allow', [arn]) }, arn), true);
});
