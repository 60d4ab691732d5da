import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRuntimeApi } from './runtime-api.js';

test('Runtime API: next delivers the event with headers, response 202, a second response 400', async () => {
  let ready = false;
  const api = await startRuntimeApi({ port: 0, onFirstNext: () => (ready = true), onInitError: () => {} });
  const base = `http://127.0.0.1:${api.port}/2018-06-01/runtime`;
  const next = fetch(`${base}/invocation/next`);
  const result = api.invoke({
    t: 'invoke',
    requestId: 'req-1',
    payload: '{"a":1}',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    remainingMs: 3000,
    traceId: 'Root=1-x',
  });
  const res = await next;
  assert.equal(ready, true);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('lambda-runtime-aws-request-id'), 'req-1');
  assert.equal(res.headers.get('lambda-runtime-invoked-function-arn'), 'arn:aws:lambda:us-east-1:000000000000:function:f');
  assert.equal(res.headers.get('lambda-runtime-trace-id'), 'Root=1-x');
  assert.ok(Number(res.headers.get('lambda-runtime-deadline-ms')) > Date.now());
  assert.deepEqual(await res.json(), { a: 1 });
  const post = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: '"done"' });
  assert.equal(post.status, 202);
  assert.deepEqual(await result, { ok: true, payload: '"done"' });
  const again = await fetch(`${base}/invocation/req-1/response`, { method: 'POST', body: '1' });
  assert.equal(again.status, 400);
  await again.text();
});
