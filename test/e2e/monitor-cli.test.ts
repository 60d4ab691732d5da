/**
 * `nimbus logs` (with --filter and --follow), `nimbus metrics` and `nimbus usage` against a
 * real server, plus CloudWatch Logs pagination tokens and space-delimited patterns through the SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';
import { monitorCommands, type MonitorIo } from '../../src/monitor/cli.js';

const cmd = (name: string) => monitorCommands.find((c) => c.name === name)!;

function capture(endpoint: string, signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const io: MonitorIo = {
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    env: { NIMBUS_ENDPOINT: endpoint, AWS_REGION: 'us-east-1' },
    signal,
    color: false,
  };
  return { io, out, err };
}

test('nimbus logs / metrics / usage, and log tokens and patterns through the SDK', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  try {
    const z = new AdmZip();
    z.addFile(
      'index.js',
      Buffer.from(
        `exports.handler = async (e) => { console.log('hello ' + e.n); if (e.fail) console.error('bad thing'); return e.n; };`,
      ),
      '',
      0o644 << 16,
    );
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'greeter',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: z.toBuffer() },
      }),
    );
    const invoke = (p: object) =>
      lambda.send(new InvokeCommand({ FunctionName: 'greeter', Payload: Buffer.from(JSON.stringify(p)) }));
    await invoke({ n: 1 });
    await invoke({ n: 2, fail: true });
    await srv.nimbus.logs.flush();

    let c = capture(srv.endpoint);
    assert.equal(await cmd('logs').run(['greeter'], c.io), 0);
    const all = c.out.join('');
    assert.match(all, /START RequestId: /);
    assert.match(all, /REPORT RequestId: .*Duration: /);
    assert.match(all, /hello 1/);
    c = capture(srv.endpoint);
    assert.equal(await cmd('logs').run(['greeter', '--filter', '?"bad thing" ?nothing'], c.io), 0);
    assert.equal(c.out.length, 1);
    assert.match(c.out[0], /bad thing/);

    // --follow prints an event that arrives later, within a fraction of a second.
    const ac = new AbortController();
    c = capture(srv.endpoint, ac.signal);
    const following = cmd('logs').run(['greeter', '--follow', '--filter', 'hello'], c.io);
    await new Promise((r) => setTimeout(r, 300));
    const before = c.out.length;
    assert.equal(before, 2);
    await invoke({ n: 3 });
    const t0 = Date.now();
    while (c.out.length === before && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    assert.equal(await following, 0);
    assert.match(c.out[before], /hello 3/);
    assert.equal(c.out.length, before + 1, 'no duplicates while following');

    c = capture(srv.endpoint);
    assert.equal(await cmd('metrics').run(['greeter', '--json'], c.io), 0);
    const row = JSON.parse(c.out.join(''));
    assert.equal(row.invocations, 3);
    assert.equal(row.errors, 0, 'console.error is not a function error');
    assert.ok(row.coldStarts >= 1);
    assert.ok(row.p50Ms > 0 && row.p99Ms >= row.p50Ms);
    c = capture(srv.endpoint);
    assert.equal(await cmd('metrics').run(['greeter'], c.io), 0);
    assert.match(c.out.join(''), /invocations\s+3/);

    c = capture(srv.endpoint);
    assert.equal(await cmd('usage').run(['--since', '1h', '--json'], c.io), 0);
    const usage = JSON.parse(c.out.join(''));
    assert.equal(usage.functions[0].functionName, 'greeter');
    assert.equal(usage.functions[0].requests, 3);
    c = capture(srv.endpoint);
    assert.equal(await cmd('usage').run(['--since', '1h'], c.io), 0);
    assert.match(c.out.join(''), /greeter\s+3\s+0/);

    // Pagination tokens forward and backward, and a space-delimited pattern.
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'access' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'access', logStreamName: 'web' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'access',
        logStreamName: 'web',
        logEvents: [200, 404, 500, 404, 200].map((status, i) => ({
          timestamp: now + i,
          message: `10.0.0.${i} - - [10/Oct/2026:13:55:36 +0000] "GET /p${i} HTTP/1.1" ${status} ${100 * (i + 1)}`,
        })),
      }),
    );
    const notFound = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: 'access',
        filterPattern: '[ip, id, user, ts, request, status = 404, bytes > 150]',
      }),
    );
    assert.deepEqual(
      notFound.events?.map((e) => e.message?.split(' ')[0]),
      ['10.0.0.1', '10.0.0.3'],
    );
    const first = await logs.send(
      new GetLogEventsCommand({
        logGroupName: 'access',
        logStreamName: 'web',
        startFromHead: true,
        limit: 2,
      }),
    );
    assert.equal(first.events?.length, 2);
    const second = await logs.send(
      new GetLogEventsCommand({
        logGroupName: 'access',
        logStreamName: 'web',
        nextToken: first.nextForwardToken,
        limit: 2,
      }),
    );
    assert.deepEqual(
      second.events?.map((e) => e.timestamp),
      [now + 2, now + 3],
    );
    const back = await logs.send(
      new GetLogEventsCommand({
        logGroupName: 'access',
        logStreamName: 'web',
        nextToken: second.nextBackwardToken,
        limit: 2,
      }),
    );
    assert.deepEqual(
      back.events?.map((e) => e.timestamp),
      [now, now + 1],
    );

    c = capture(srv.endpoint);
    assert.equal(await cmd('logs').run(['nope'], c.io), 1);
    assert.match(c.err.join(''), /ResourceNotFoundException/);
  } finally {
    lambda.destroy();
    logs.destroy();
  }
});
