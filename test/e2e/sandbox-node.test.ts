import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, json } from './sandbox-helpers.js';

test('Node.js handlers in the sandbox behave as on Lambda', async (t) => {
  await using f = fixture({ warmSpares: 1 });

  await t.test('ESM async handler, context and environment', async () => {
    const code = f.code({
      'index.mjs': `export const handler = async (event, context) => ({
        event, uid: process.getuid(),
        ctx: { fn: context.functionName, ver: context.functionVersion, arn: context.invokedFunctionArn,
          mem: context.memoryLimitInMB, id: context.awsRequestId, group: context.logGroupName,
          stream: context.logStreamName, rem: context.getRemainingTimeInMillis(), wait: context.callbackWaitsForEmptyEventLoop },
        env: { region: process.env.AWS_REGION, root: process.env.LAMBDA_TASK_ROOT, handler: process.env._HANDLER,
          tz: process.env.TZ, key: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN,
          mine: process.env.MINE, trace: process.env._X_AMZN_TRACE_ID, init: process.env.AWS_LAMBDA_INITIALIZATION_TYPE },
      });`,
    });
    const spec = f.spec(code, { environment: { MINE: 'yes' } });
    const input = { ...f.input({ a: 1 }), traceId: 'Root=1-abc' };
    const r = await f.manager.invoke(spec, input);
    assert.equal(r.status, 'ok', r.payload.toString());
    assert.equal(r.coldStart, true);
    assert.ok((r.initDurationMs ?? 0) > 0);
    const body = json(r.payload) as Record<string, Record<string, unknown>>;
    assert.deepEqual(body.event, { a: 1 });
    assert.equal(body.ctx.fn, 'fn');
    assert.equal(body.ctx.ver, '$LATEST');
    assert.equal(body.ctx.mem, '128');
    assert.equal(body.ctx.id, input.requestId);
    assert.equal(body.ctx.group, '/aws/lambda/fn');
    assert.equal(body.ctx.stream, r.logStream);
    assert.match(r.logStream, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.ok((body.ctx.rem as number) > 4000 && (body.ctx.rem as number) <= 5000);
    assert.equal(body.ctx.wait, true);
    assert.equal(body.env.region, 'us-east-1');
    assert.equal(body.env.handler, 'index.handler');
    assert.equal(body.env.tz, ':UTC');
    assert.equal(body.env.key, 'AKIDTEST');
    assert.equal(body.env.token, 'tok');
    assert.equal(body.env.mine, 'yes');
    assert.equal(body.env.trace, 'Root=1-abc');
    assert.equal(body.env.init, 'on-demand');
    const r2 = await f.manager.invoke(spec, f.input({ a: 2 }));
    assert.equal(r2.coldStart, false);
    assert.equal(r2.instanceId, r.instanceId);
    assert.equal(r2.initDurationMs, undefined);
  });

  await t.test(
    '_X_AMZN_TRACE_ID: each invocation its own, seen by child processes, none without',
    async () => {
      const code = f.code({
        'index.js': `const { execFileSync } = require('node:child_process');
      exports.handler = async () => ({
        trace: process.env._X_AMZN_TRACE_ID ?? null,
        has: '_X_AMZN_TRACE_ID' in process.env,
        child: execFileSync(process.execPath, ['-e', 'process.stdout.write(process.env._X_AMZN_TRACE_ID || "none")']).toString(),
      });`,
      });
      const spec = f.spec(code);
      for (const traceId of ['Root=1-aaa;Sampled=0', 'Root=1-bbb;Sampled=1', undefined]) {
        const r = await f.manager.invoke(spec, { ...f.input(), ...(traceId ? { traceId } : {}) });
        assert.equal(r.status, 'ok', r.payload.toString());
        assert.deepEqual(json(r.payload), {
          trace: traceId ?? null,
          has: traceId !== undefined,
          child: traceId ?? 'none',
        });
      }
    },
  );

  await t.test('CommonJS, nested handler path and nested property', async () => {
    const code = f.code({
      'src/lib/app.js': `let n = 0; module.exports = { api: { handler: async () => ({ n: ++n }) } };`,
    });
    const spec = f.spec(code, { handler: 'src/lib/app.api.handler' });
    assert.deepEqual(json((await f.manager.invoke(spec, f.input())).payload), { n: 1 });
    assert.deepEqual(json((await f.manager.invoke(spec, f.input())).payload), { n: 2 }, 'module init once');
  });

  await t.test('.js under "type": "module" is ESM, returning undefined gives null', async () => {
    const code = f.code({
      'package.json': '{"type":"module"}',
      'index.js': 'export const handler = async () => {};',
    });
    const r = await f.manager.invoke(f.spec(code), f.input());
    assert.equal(r.status, 'ok');
    assert.equal(r.payload.toString(), 'null');
  });

  await t.test('callback handler waits for the empty event loop unless told not to', async () => {
    const code = f.code({
      'index.js': `let log = [];
      exports.handler = (e, ctx, cb) => {
        if (e.op === 'check') return cb(null, log);
        log = [];
        if (e.op === 'nowait') { ctx.callbackWaitsForEmptyEventLoop = false; setTimeout(() => { log.push('late'); console.log('late line'); }, 300); return cb(null, 'fast'); }
        setTimeout(() => log.push('timer'), 50);
        cb(null, 'done');
      };`,
    });
    const spec = f.spec(code);
    assert.equal((await f.manager.invoke(spec, f.input({ op: 'wait' }))).payload.toString(), '"done"');
    assert.deepEqual(json((await f.manager.invoke(spec, f.input({ op: 'check' }))).payload), ['timer']);
    const t0 = Date.now();
    assert.equal((await f.manager.invoke(spec, f.input({ op: 'nowait' }))).payload.toString(), '"fast"');
    assert.ok(Date.now() - t0 < 250);
    // What the timer logs between invocations opens the next invocation's logs.
    await new Promise((r) => setTimeout(r, 500));
    const next = await f.manager.invoke(spec, f.input({ op: 'check' }));
    assert.deepEqual(json(next.payload), ['late']);
    assert.ok(
      next.logs.some((l) => l.message.endsWith('\tINFO\tlate line')),
      JSON.stringify(next.logs),
    );
  });

  await t.test('errors: thrown Error, non-Error throw, callback error', async () => {
    const code = f.code({
      'index.js': `class MyError extends Error { constructor(m) { super(m); this.name = 'MyError'; } }
      exports.err = async () => { throw new MyError('boom'); };
      exports.str = async () => { throw 'plain'; };
      exports.cb = (e, c, cb) => cb(new Error('via cb'));`,
    });
    const r = await f.manager.invoke(f.spec(code, { handler: 'index.err', key: 'e1' }), f.input());
    assert.equal(r.status, 'error');
    assert.equal(r.functionError, 'Unhandled');
    const p = json(r.payload) as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(p.errorType, 'MyError');
    assert.equal(p.errorMessage, 'boom');
    assert.ok(Array.isArray(p.trace) && p.trace[0].startsWith('MyError: boom'));
    assert.ok(r.logs.some((l) => l.message.includes('\tERROR\tInvoke Error \t{"errorType":"MyError"')));
    const s = json(
      (await f.manager.invoke(f.spec(code, { handler: 'index.str', key: 'e2' }), f.input())).payload,
    );
    assert.deepEqual(s, { errorType: 'string', errorMessage: 'plain', trace: [] });
    const c = json(
      (await f.manager.invoke(f.spec(code, { handler: 'index.cb', key: 'e3' }), f.input())).payload,
    );
    assert.equal((c as { errorMessage: string }).errorMessage, 'via cb');
  });

  await t.test('init errors: missing module, missing handler, throw at init', async () => {
    const code = f.code({
      'index.js': 'exports.handler = async () => 1;',
      'bad.js': 'throw new TypeError("at init");',
    });
    const r1 = await f.manager.invoke(f.spec(code, { handler: 'nope.handler', key: 'i1' }), f.input());
    assert.equal(r1.status, 'error');
    const p1 = json(r1.payload) as { errorType: string; errorMessage: string };
    assert.equal(p1.errorType, 'Runtime.ImportModuleError');
    assert.match(p1.errorMessage, /^Error: Cannot find module 'nope'/);
    const p2 = json(
      (await f.manager.invoke(f.spec(code, { handler: 'index.nope', key: 'i2' }), f.input())).payload,
    );
    assert.deepEqual(p2, {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'index.nope is undefined or not exported',
      trace: [],
    });
    const r3 = await f.manager.invoke(f.spec(code, { handler: 'bad.handler', key: 'i3' }), f.input());
    assert.equal((json(r3.payload) as { errorType: string }).errorType, 'TypeError');
  });

  await t.test(
    'console format: Lambda tab-separated lines, multi-line stays one event, init logs',
    async () => {
      const code = f.code({
        'index.js': `console.log('loading');
      exports.handler = async () => { console.log('a %s', 'b', { c: 1 }); console.warn('line1\\nline2'); console.error(new Error('e').message); process.stdout.write('raw out\\n'); return 1; };`,
      });
      const input = f.input();
      const r = await f.manager.invoke(f.spec(code), input);
      assert.equal(r.initLogs.length, 1);
      assert.match(r.initLogs[0].message, /^\d{4}-\d\d-\d\dT[\d:.]+Z\tundefined\tINFO\tloading$/);
      const all = r.logs.map((l) => l.message);
      assert.equal(all.length, 4);
      // The raw write travels on stdout, the console lines on the control channel: each keeps its
      // own order, but under load the raw line may arrive first (docs/lambda.md).
      assert.ok(all.includes('raw out'), all.join(' | '));
      const msgs = all.filter((m) => m !== 'raw out');
      assert.equal(msgs[0].split('\t').slice(1).join('\t'), `${input.requestId}\tINFO\ta b { c: 1 }`);
      assert.equal(msgs[1].split('\t').slice(1).join('\t'), `${input.requestId}\tWARN\tline1\nline2`);
      assert.match(msgs[2], /\tERROR\te$/);
    },
  );

  await t.test(
    'output of child processes and raw writes belongs to its invocation, warm invokes included',
    async () => {
      const code = f.code({
        'index.mjs': `import { execSync } from 'node:child_process';
      let n = 0;
      export const handler = async (e) => {
        n++;
        if (e.child) execSync('echo from-child-' + n, { stdio: 'inherit' });
        if (e.raw) process.stderr.write('raw-' + n + '\\n');
        return n;
      };`,
      });
      const spec = f.spec(code, { key: 'child-output' });
      const call = async (event: object) => {
        const r = await f.manager.invoke(spec, { ...f.input(), payload: Buffer.from(JSON.stringify(event)) });
        return r.logs.map((l) => l.message);
      };
      assert.deepEqual(await call({}), []);
      assert.deepEqual(await call({ raw: true }), ['raw-2']);
      assert.deepEqual(await call({}), []);
      assert.deepEqual(await call({ child: true }), ['from-child-4']);
      assert.deepEqual(await call({ child: true, raw: true }), ['from-child-5', 'raw-5']);
    },
  );

  await t.test(
    'AWS SDK v3 resolves from the runtime node_modules (ESM import without bundling)',
    async () => {
      const code = f.code({
        'index.mjs': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
      export const handler = async () => typeof DynamoDBClient;`,
      });
      const r = await f.manager.invoke(f.spec(code), f.input());
      assert.equal(r.payload.toString(), '"function"', r.payload.toString());
    },
  );
});
