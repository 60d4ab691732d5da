/**
 * The Lambda engine on the real sandbox InstanceManager and the real SQLite store (no HTTP):
 * real handlers from zips, platform log lines, errors, timeouts, Tail and Event invokes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { systemClock } from '../../src/core/clock.js';
import { defaultConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import type { LogEventInput, LogSink, LogStreamRef } from '../../src/core/log-sink.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { SandboxInstanceManager } from '../../src/compute/sandbox/manager.js';
import { createLambda } from '../../src/compute/index.js';

const S = { accountId: '000000000000', region: 'us-east-1' };
const ROLE = 'arn:aws:iam::000000000000:role/r';

function zip(files: Record<string, string>): Buffer {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

class Logs implements LogSink {
  events: { ref: LogStreamRef; e: LogEventInput }[] = [];
  append(ref: LogStreamRef, events: LogEventInput[]) {
    for (const e of events) this.events.push({ ref, e });
  }
  async flush() {}
}

test('Lambda engine on real sandboxes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-lambda-sbx-'));
  chmodSync(dir, 0o711);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  const config = defaultConfig({ dataDir });
  config.compute.warmSpares = 0;
  config.compute.sandboxUidBase = 230000 + (process.pid % 200) * 20;
  const store = await openSqliteStore({ dataDir, clock: systemClock, logger: silentLogger });
  const instances = new SandboxInstanceManager({ config: config.compute, dataDir, endpointPort: 4566 });
  const logs = new Logs();
  const lambda = createLambda({
    store,
    clock: systemClock,
    logger: silentLogger,
    config,
    logs,
    instances,
    credentialsFor: () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }),
    codeCacheDir: join(dataDir, 'code'),
  });
  await lambda.start();
  const e = lambda.engine;
  t.after(async () => {
    await lambda.stop();
    await instances.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  await t.test(
    'a real handler runs; logs carry INIT_START with the real Node version and REPORT',
    async () => {
      await e.createFunction(S, {
        FunctionName: 'echo',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Environment: { Variables: { GREETING: 'hi' } },
        Code: {
          ZipFile: zip({
            'index.js': `console.log('init'); exports.handler = async (ev, ctx) => { console.log('got', JSON.stringify(ev)); return { ev, greeting: process.env.GREETING, fn: ctx.functionName }; };`,
          }),
        },
      });
      const out = await e.invoke(S, {
        FunctionName: 'echo',
        Payload: Buffer.from('{"x":1}'),
        LogType: 'Tail',
      });
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined);
      assert.deepEqual(JSON.parse(out.Payload!.toString()), { ev: { x: 1 }, greeting: 'hi', fn: 'echo' });
      assert.equal(out.ExecutedVersion, '$LATEST');
      const tail = Buffer.from(out.LogResult!, 'base64').toString();
      const nodeVersion = instances.capabilities.runtimes.node;
      assert.ok(nodeVersion);
      assert.match(
        tail,
        new RegExp(`^INIT_START Runtime Version: nodejs:20\\.v${nodeVersion.replace(/\./g, '\\.')}\\t`),
      );
      assert.match(tail, /\nSTART RequestId: [0-9a-f-]{36} Version: \$LATEST\n/);
      assert.match(tail, /got \{"x":1\}/);
      assert.match(
        tail,
        /REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n$/,
      );
      assert.ok(logs.events.every((x) => x.ref.group === '/aws/lambda/echo'));
      const warm = await e.invoke(S, { FunctionName: 'echo', Payload: Buffer.from('{}'), LogType: 'Tail' });
      assert.doesNotMatch(Buffer.from(warm.LogResult!, 'base64').toString(), /INIT_START|Init Duration/);
    },
  );

  await t.test('handler errors and timeouts', async () => {
    await e.createFunction(S, {
      FunctionName: 'bad',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 1,
      Code: {
        ZipFile: zip({
          'index.js': `exports.handler = async (ev) => { if (ev.sleep) await new Promise(r => setTimeout(r, 5000)); throw new TypeError('boom'); };`,
        }),
      },
    });
    const err = await e.invoke(S, { FunctionName: 'bad', Payload: Buffer.from('{}') });
    assert.equal(err.FunctionError, 'Unhandled');
    const body = JSON.parse(err.Payload!.toString());
    assert.equal(body.errorType, 'TypeError');
    assert.equal(body.errorMessage, 'boom');
    const to = await e.invoke(S, {
      FunctionName: 'bad',
      Payload: Buffer.from('{"sleep":true}'),
      LogType: 'Tail',
    });
    assert.equal(to.FunctionError, 'Unhandled');
    const tail = Buffer.from(to.LogResult!, 'base64').toString();
    assert.match(tail, /Task timed out after 1\.00 seconds/);
    assert.match(tail, /Status: timeout\n$/);
  });

  await t.test('an Event invoke runs on the worker', async () => {
    const out = await e.invoke(S, {
      FunctionName: 'echo',
      InvocationType: 'Event',
      Payload: Buffer.from('{"async":true}'),
    });
    assert.equal(out.StatusCode, 202);
    let rec;
    for (let i = 0; i < 300 && !(rec = await e.asyncInvocation(out.RequestId)); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(rec, 'the Event invoke ran');
    assert.equal(rec.status, 'succeeded');
    assert.ok(logs.events.some((x) => x.e.message.includes('got {"async":true}')));
  });
  await t.test('a streamified handler streams chunks to the caller as it writes them', async () => {
    await e.createFunction(S, {
      FunctionName: 'streamer',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Timeout: 1,
      Code: {
        ZipFile: zip({
          'index.js': `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
exports.handler = awslambda.streamifyResponse(async (ev, stream) => {
  stream.setContentType('text/csv');
  stream.write('uid=' + process.getuid() + ';cwd=' + process.cwd() + ';');
  if (ev.hang) await sleep(5000);
  await sleep(300);
  stream.write('t=' + Date.now());
  if (ev.big) stream.write(Buffer.alloc(ev.big, 120));
  stream.end();
});`,
        }),
      },
    });
    const run = async (event: unknown) => {
      const got: { at: number; data: string; contentType?: string }[] = [];
      const out = await e.invokeWithResponseStream(
        S,
        { FunctionName: 'streamer', Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail' },
        (chunk, contentType) => got.push({ at: Date.now(), data: chunk.toString(), contentType }),
      );
      return { out, got };
    };
    const { out, got } = await run({});
    assert.equal(out.StatusCode, 200);
    assert.equal(out.Streamed, true);
    assert.equal(out.ResponseStreamContentType, 'text/csv');
    assert.equal(out.ErrorCode, undefined);
    assert.equal(out.Payload, undefined);
    assert.equal(got.length, 2);
    assert.equal(got[0].contentType, 'text/csv');
    assert.equal(got[1].contentType, undefined);
    if (instances.capabilities.level === 'bubblewrap') {
      // It ran in the sandbox: its code at /var/task, as an unprivileged uid.
      assert.match(got[0].data, /^uid=[1-9]\d*;cwd=\/var\/task;$/);
    }
    const writtenAt = Number(/^t=(\d+)$/.exec(got[1].data)![1]);
    assert.ok(got[0].at <= writtenAt, `first chunk at ${got[0].at}, second written at ${writtenAt}`);
    assert.match(Buffer.from(out.LogResult!, 'base64').toString(), /REPORT RequestId/);

    // A timeout mid-stream: what was written has gone out, then the error.
    const timedOut = await run({ hang: true });
    assert.equal(timedOut.got.length, 1);
    assert.equal(timedOut.out.ErrorCode, 'Sandbox.Timedout');
    assert.match(timedOut.out.ErrorDetails!, /Task timed out after 1\.00 seconds/);

    // Over the streamed response limit: the chunks stop there and the invocation fails.
    const limits = config.compute.limits;
    const saved = limits.streamResponseBytes;
    limits.streamResponseBytes = 1000;
    try {
      const big = await run({ big: 5000 });
      assert.equal(big.out.ErrorCode, 'Function.ResponseSizeTooLarge');
      assert.ok(big.got.reduce((n, c) => n + c.data.length, 0) <= 1000);
    } finally {
      limits.streamResponseBytes = saved;
    }

    // A plain Invoke gathers the chunks into one payload.
    const buffered = await e.invoke(S, { FunctionName: 'streamer', Payload: Buffer.from('{}') });
    assert.equal(buffered.FunctionError, undefined);
    assert.match(buffered.Payload!.toString(), /^uid=\d+;cwd=[^;]+;t=\d+$/);
  });
});
