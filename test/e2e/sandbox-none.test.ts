import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, json } from './sandbox-helpers.js';

test("isolation 'none': the same agent as a plain child process", async () => {
  await using f = fixture({ isolation: 'none', warmSpares: 1 });
  assert.equal(f.manager.capabilities.level, 'none');
  const code = f.code({ 'index.mjs': 'export const handler = async (e) => ({ got: e, root: process.env.LAMBDA_TASK_ROOT });' });
  const r = await f.manager.invoke(f.spec(code), f.input({ x: 1 }));
  assert.equal(r.status, 'ok', r.payload.toString());
  assert.deepEqual((json(r.payload) as { got: unknown }).got, { x: 1 });
  const hang = f.code({ 'index.js': 'exports.handler = () => new Promise(() => setInterval(() => {}, 1000));' });
  const t = await f.manager.invoke(f.spec(hang, { timeoutSec: 1 }), f.input({}, 1));
  assert.equal(t.status, 'timeout');
});
