import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { statSync } from 'node:fs';
import { createLogger } from '../../src/core/logger.js';
import { OffsetClock } from '../../src/core/clock.js';
import { AwsError } from '../../src/protocols/errors.js';
import type { JsonService, RestJsonService } from '../../src/server/service.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const aborts: string[] = [];

const ECHO: JsonService = {
  protocol: 'json',
  signingName: 'echo',
  jsonVersion: '1.0',
  targetPrefix: 'Echo_20200101',
  queryCompatible: true,
  operations: {
    Echo: async (ctx, input) => ({
      input,
      account: ctx.accountId,
      region: ctx.region,
      requestId: ctx.requestId,
    }),
    Boom: async () => {
      throw new Error('secret internal detail /etc/passwd');
    },
    NotFound: async () => {
      throw new AwsError('ResourceNotFoundException', 'Thing not found', 400);
    },
    Slow: async (ctx, input: { ms: number }) => {
      await new Promise((r) => setTimeout(r, input.ms));
      return { done: true, aborted: ctx.signal.aborted };
    },
    /** Waits until its signal aborts (the client went away) and reports it in `aborts`. */
    Hang: async (ctx) => {
      ctx.logger.info('hanging');
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      aborts.push(ctx.requestId);
      return {};
    },
    Context: async (ctx) => ({
      requestId: ctx.requestId,
      accountId: ctx.accountId,
      accessKeyId: ctx.accessKeyId,
      region: ctx.region,
      endpoint: ctx.endpoint,
      aborted: ctx.signal.aborted,
      logger: typeof ctx.logger.info,
    }),
  },
};

const REST: RestJsonService = {
  protocol: 'rest-json',
  signingName: 'lambda',
  routes: [
    {
      method: 'GET',
      path: '/2015-03-31/functions/{FunctionName}',
      operation: 'GetFunction',
      handler: async (_ctx, req) => {
        if (req.pathParams.FunctionName === 'missing') {
          throw new AwsError('ResourceNotFoundException', 'Function not found: missing', 404, 'Sender', {
            Type: 'User',
          });
        }
        return { body: { name: req.pathParams.FunctionName, q: req.query.get('Qualifier') } };
      },
    },
  ],
};

function post(endpoint: string, target: string, body: string, headers: Record<string, string> = {}) {
  return fetch(endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0', ...headers },
    body,
  });
}

test('health, request ids, JSON and REST-JSON dispatch, error shapes, 500 hides internals', async () => {
  const lines: string[] = [];
  await using srv = await startTestServer({
    start: {
      extraServices: () => [ECHO, REST],
      isolation: () => ({ level: 'none', reason: 'test' }),
      logger: createLogger({ level: 'error', sink: (l) => lines.push(l) }),
    },
  });
  const health = await fetch(`${srv.endpoint}/_nimbus/health`);
  assert.equal(health.status, 200);
  const h = (await health.json()) as Record<string, any>;
  assert.equal(h.status, 'ok');
  assert.equal(typeof h.version, 'string');
  assert.deepEqual(h.isolation, { level: 'none', reason: 'test' });
  assert.ok(h.services.includes('sts') && h.services.includes('logs') && h.services.includes('lambda'));
  assert.equal(typeof h.uptimeSeconds, 'number');
  assert.ok(h.storage.kind);

  const ok = await post(srv.endpoint, 'Echo_20200101.Echo', '{"a":1}');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/x-amz-json-1.0');
  const rid = ok.headers.get('x-amzn-requestid');
  assert.match(rid ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(ok.headers.get('x-amz-request-id'), rid);
  const okBody = (await ok.json()) as Record<string, unknown>;
  assert.deepEqual(okBody, { input: { a: 1 }, account: '000000000000', region: 'us-east-1', requestId: rid });

  const nf = await post(srv.endpoint, 'Echo_20200101.NotFound', '{}');
  assert.equal(nf.status, 400);
  assert.equal(nf.headers.get('x-amzn-query-error'), 'ResourceNotFoundException;Sender');
  assert.deepEqual(await nf.json(), { __type: 'ResourceNotFoundException', message: 'Thing not found' });

  const boom = await post(srv.endpoint, 'Echo_20200101.Boom', '{}');
  assert.equal(boom.status, 500);
  const boomText = await boom.text();
  assert.doesNotMatch(boomText, /passwd|secret/);
  assert.equal(JSON.parse(boomText).__type, 'InternalFailure');
  assert.ok(
    lines.some(
      (l) => l.includes('secret internal detail') && l.includes(boom.headers.get('x-amzn-requestid')!),
    ),
    'the cause is logged with the request id',
  );

  const unknownOp = await post(srv.endpoint, 'Echo_20200101.Nope', '{}');
  assert.equal(unknownOp.status, 400);
  assert.equal(((await unknownOp.json()) as { __type: string }).__type, 'UnknownOperationException');
  const unknownPrefix = await post(srv.endpoint, 'Nothing_1.Op', '{}');
  assert.equal(((await unknownPrefix.json()) as { __type: string }).__type, 'UnknownOperationException');
  const badJson = await post(srv.endpoint, 'Echo_20200101.Echo', '{not json');
  assert.equal(((await badJson.json()) as { __type: string }).__type, 'SerializationException');

  const fn = await fetch(`${srv.endpoint}/2015-03-31/functions/my%3Afn?Qualifier=prod`);
  assert.equal(fn.status, 200);
  assert.deepEqual(await fn.json(), { name: 'my:fn', q: 'prod' });
  const missing = await fetch(`${srv.endpoint}/2015-03-31/functions/missing`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
  assert.deepEqual(await missing.json(), { Type: 'User', message: 'Function not found: missing' });

  const query = await fetch(srv.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=Nope&Version=2011-06-15',
  });
  assert.equal(query.status, 400);
  assert.match(await query.text(), /<Code>InvalidAction<\/Code>/);

  const nowhere = await fetch(`${srv.endpoint}/no/such/path`);
  assert.equal(nowhere.status, 404);
  assert.ok(nowhere.headers.get('x-amzn-requestid'));
});

test('bodies over the cap get 413 in the protocol shape', async () => {
  await using srv = await startTestServer({ start: { extraServices: () => [ECHO], maxBodyBytes: 1024 } });
  const big = await post(srv.endpoint, 'Echo_20200101.Echo', JSON.stringify({ x: 'y'.repeat(2000) }));
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { __type: string }).__type, 'RequestEntityTooLargeException');
  const fine = await post(srv.endpoint, 'Echo_20200101.Echo', '{}');
  assert.equal(fine.status, 200);
});

test('the Unix socket serves the same APIs and is world-writable', async () => {
  await using srv = await startTestServer();
  assert.equal(statSync(srv.nimbus.socketPath).mode & 0o777, 0o666);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        socketPath: srv.nimbus.socketPath,
        method: 'GET',
        path: '/?Action=GetCallerIdentity&Version=2011-06-15',
      },
      (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.match(body, /<Account>000000000000<\/Account>/);
});

async function untilInflight(srv: TestServer): Promise<void> {
  const deadline = Date.now() + 5000;
  while (srv.nimbus.frontDoor.inflightCount < 1) {
    if (Date.now() > deadline) throw new Error('the request never arrived');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('the operation context: ids, caller, region, endpoint as addressed, a live signal and a logger', async () => {
  await using srv = await startTestServer({ start: { extraServices: () => [ECHO] } });
  const authz =
    'AWS4-HMAC-SHA256 Credential=AKIDCTX/20260101/eu-central-1/echo/aws4_request, SignedHeaders=host, Signature=0';
  const res = await post(srv.endpoint, 'Echo_20200101.Context', '{}', { authorization: authz });
  assert.equal(res.status, 200);
  const out = (await res.json()) as Record<string, unknown>;
  assert.equal(out.requestId, res.headers.get('x-amzn-requestid'));
  assert.match(
    String(out.requestId),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.deepEqual(
    { ...out, requestId: undefined },
    {
      requestId: undefined,
      accountId: '000000000000',
      accessKeyId: 'AKIDCTX',
      region: 'eu-central-1',
      endpoint: srv.endpoint.replace(/\/$/, ''),
      aborted: false,
      logger: 'function',
    },
  );
});

test("a client that goes away aborts its operation's signal, and the request leaves the in-flight set", async () => {
  await using srv = await startTestServer({ start: { extraServices: () => [ECHO] } });
  const url = new URL(srv.endpoint);
  const req = request({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: '/',
    headers: { 'x-amz-target': 'Echo_20200101.Hang', 'content-type': 'application/x-amz-json-1.0' },
  });
  req.on('error', () => {});
  req.end('{}');
  await untilInflight(srv);
  req.destroy();
  const deadline = Date.now() + 5000;
  while (aborts.length === 0 || srv.nimbus.frontDoor.inflightCount > 0) {
    if (Date.now() > deadline) throw new Error('the operation was not aborted');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(aborts.length, 1);
});

test('graceful shutdown finishes an in-flight request, then refuses new connections', async () => {
  await using srv = await startTestServer({ start: { extraServices: () => [ECHO], shutdownGraceMs: 5000 } });
  const inflight = post(srv.endpoint, 'Echo_20200101.Slow', '{"ms":300}');
  await untilInflight(srv);
  const closing = srv.close();
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { done: true, aborted: false });
  await closing;
  await assert.rejects(fetch(`${srv.endpoint}/_nimbus/health`));
});

test('shutdown grace is bounded: a request that outlives it is aborted', async () => {
  await using srv = await startTestServer({ start: { extraServices: () => [ECHO], shutdownGraceMs: 100 } });
  const inflight = post(srv.endpoint, 'Echo_20200101.Slow', '{"ms":2000}').then(
    () => 'answered',
    () => 'dropped',
  );
  await untilInflight(srv);
  const t = Date.now();
  await srv.close();
  assert.ok(Date.now() - t < 1500, 'close waited only for the grace period');
  assert.equal(await inflight, 'dropped');
});

test('the virtual clock can be read and advanced in dev mode, not in strict mode', async () => {
  await using srv = await startTestServer({ start: { clock: new OffsetClock() } });
  type State = { offsetSeconds: number; epochMillis: number };
  const before = (await (await fetch(`${srv.endpoint}/_nimbus/clock`)).json()) as State;
  assert.equal(before.offsetSeconds, 0);
  const moved = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: '{"advanceSeconds":60}',
  });
  assert.equal(moved.status, 200);
  const after = (await moved.json()) as State;
  assert.equal(after.offsetSeconds, 60);
  assert.ok(after.epochMillis - before.epochMillis >= 60_000);
  const bad = await fetch(`${srv.endpoint}/_nimbus/clock`, { method: 'POST', body: '{"advanceSeconds":-1}' });
  assert.equal(bad.status, 400);
  await using strict = await startTestServer({
    auth: {
      mode: 'strict',
      keys: [{ accessKeyId: 'AKIDSTRICT', secretAccessKey: 's', accountId: '111111111111' }],
    },
  });
  const refused = await fetch(`${strict.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: '{"advanceSeconds":1}',
  });
  assert.equal(refused.status, 403);
});
