import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, json } from './sandbox-helpers.js';

test('timeouts, crashes and OOM kill the instance; the next invoke gets a fresh one', async (t) => {
  await using f = fixture({ warmSpares: 0 });

  await t.test('timeout: Sandbox.Timedout and a fresh instance next', async () => {
    const code = f.code({
      'index.js': `exports.handler = async (e) => { console.log('before'); if (e.hang) await new Promise(() => setInterval(() => {}, 1000)); return 'ok'; };`,
    });
    const spec = f.spec(code, { timeoutSec: 1 });
    const input = f.input({ hang: true }, 1);
    const r = await f.manager.invoke(spec, input);
    assert.equal(r.status, 'timeout');
    assert.equal(r.functionError, 'Unhandled');
    assert.deepEqual(json(r.payload), {
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${input.requestId} Error: Task timed out after 1.00 seconds`,
    });
    assert.ok(r.logs.some((l) => l.message.endsWith('\tINFO\tbefore')));
    assert.match(r.logs[r.logs.length - 1].message, new RegExp(`^\\S+Z ${input.requestId} Task timed out after 1.00 seconds$`));
    const r2 = await f.manager.invoke(spec, f.input({}, 1));
    assert.equal(r2.status, 'ok');
    assert.equal(r2.coldStart, true);
    assert.notEqual(r2.instanceId, r.instanceId);
  });

  await t.test('process.exit during an invoke: Runtime.ExitError exit status N', async () => {
    const code = f.code({ 'index.js': 'exports.handler = async () => { process.exit(3); };' });
    const input = f.input();
    const r = await f.manager.invoke(f.spec(code), input);
    assert.equal(r.status, 'crashed');
    assert.deepEqual(json(r.payload), {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${input.requestId} Error: Runtime exited with error: exit status 3`,
    });
  });

  await t.test('OOM: 128 MB function allocating 300 MB is killed (signal: killed)', { skip: f.manager.capabilities.cgroups === 'none' && 'no cgroups on this host: memory limits are not enforced' }, async () => {
    const code = f.code({
      'index.js': `exports.handler = async () => { const a = []; for (let i = 0; i < 300; i++) a.push(Buffer.alloc(1024 * 1024, 1)); return a.length; };`,
    });
    const input = f.input({}, 20);
    const r = await f.manager.invoke(f.spec(code, { memoryMb: 128, timeoutSec: 20 }), input);
    assert.equal(r.status, 'crashed', r.payload.toString());
    assert.deepEqual(json(r.payload), {
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${input.requestId} Error: Runtime exited with error: signal: killed`,
    });
    assert.ok(r.maxMemoryUsedMb >= 120, String(r.maxMemoryUsedMb));
  });

  await t.test('retire stops idle instances; close removes everything', async () => {
    const code = f.code({ 'index.js': 'exports.handler = async () => 1;' });
    const spec = f.spec(code, { key: 'retire-me:1' });
    const before = f.manager.stats().idle;
    await f.manager.invoke(spec, f.input());
    assert.equal(f.manager.stats().idle, before + 1);
    f.manager.retire('retire-me:');
    assert.equal(f.manager.stats().idle, before);
  });
});
