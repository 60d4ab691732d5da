/**
 * Lambda response streaming through a real Nimbus (real sandboxes): awslambda.streamifyResponse
 * and HttpResponseStream in the Node.js runtime, InvokeWithResponseStream with the real
 * @aws-sdk/client-lambda (event stream), plain Invoke of a streamified handler (buffered), and
 * function URLs with InvokeMode RESPONSE_STREAM over plain HTTP (chunks before the handler ends).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  UpdateFunctionUrlConfigCommand,
  type InvokeWithResponseStreamCommandOutput,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { timedGet } from '../helpers/timed-get.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

const CODE = zip({
  'index.js': `
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

exports.slow = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('first;');
  await sleep(300);
  responseStream.write('second@' + Date.now() + ';');
  responseStream.end(context.awsRequestId);
});

exports.http = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'Content-Type': 'text/html', 'X-Custom': 'yes' },
    cookies: ['a=1; Path=/', 'b=2'],
  });
  stream.write('<p>');
  await sleep(300);
  stream.write('second@' + Date.now());
  stream.end('</p>');
});

exports.fail = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('partial');
  await sleep(50);
  throw new Error('boom mid-stream');
});

exports.failFirst = awslambda.streamifyResponse(async () => {
  throw new TypeError('before any byte');
});

exports.piped = awslambda.streamifyResponse(async (event, responseStream) => {
  await pipeline(Readable.from(['alpha,', 'beta,', Buffer.from('gamma')]), responseStream);
});

exports.objects = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write({ n: 1 });
  responseStream.end();
});

exports.notAsync = awslambda.streamifyResponse((event, responseStream) => {
  responseStream.end('x');
});

exports.plain = async (event) => ({ hello: 'world', got: event });
`,
});

async function collect(out: InvokeWithResponseStreamCommandOutput) {
  const chunks: string[] = [];
  /** When each chunk reached the client. */
  const arrived: number[] = [];
  let complete: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
  for await (const ev of out.EventStream!) {
    if (ev.PayloadChunk?.Payload) {
      chunks.push(Buffer.from(ev.PayloadChunk.Payload).toString('utf8'));
      arrived.push(Date.now());
    }
    if (ev.InvokeComplete) complete = ev.InvokeComplete;
  }
  return { chunks, arrived, complete };
}

test('Lambda response streaming', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => lambda.destroy());
  const handlers = ['slow', 'http', 'fail', 'failFirst', 'piped', 'objects', 'notAsync', 'plain'];
  for (const h of handlers) {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: `st-${h}`,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: `index.${h}`,
        Code: { ZipFile: CODE },
      }),
    );
  }
  const stream = (
    name: string,
    extra: Partial<ConstructorParameters<typeof InvokeWithResponseStreamCommand>[0]> = {},
  ) =>
    lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: name, Payload: Buffer.from('{"k":1}'), ...extra }),
    );

  await t.test('InvokeWithResponseStream: each write is a PayloadChunk, then InvokeComplete', async () => {
    const out = await stream('st-slow', { LogType: 'Tail' });
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.ResponseStreamContentType, 'application/vnd.amazon.eventstream');
    const { chunks, arrived, complete } = await collect(out);
    assert.equal(chunks.length, 3, JSON.stringify(chunks));
    assert.equal(chunks[0], 'first;');
    assert.match(chunks[1], /^second@\d+;$/);
    // Each event goes out as it is written: the first reached the SDK before the handler wrote
    // the second (it waits 300 ms between).
    const secondWrittenAt = Number(/second@(\d+)/.exec(chunks[1])![1]);
    assert.ok(
      arrived[0] <= secondWrittenAt,
      `first chunk at ${arrived[0]}, second written at ${secondWrittenAt}`,
    );
    assert.match(chunks[2], /^[0-9a-f-]{36}$/);
    assert.ok(complete);
    assert.equal(complete.ErrorCode, undefined);
    const log = Buffer.from(complete.LogResult!, 'base64').toString('utf8');
    assert.match(log, /REPORT RequestId: /);
  });

  await t.test('InvokeWithResponseStream of a plain handler: its payload as one chunk', async () => {
    const { chunks, complete } = await collect(await stream('st-plain'));
    assert.deepEqual(chunks, ['{"hello":"world","got":{"k":1}}']);
    assert.deepEqual(complete, {});
  });

  await t.test('InvokeWithResponseStream of a Python handler: its payload as one chunk', async () => {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'st-python',
        Runtime: 'python3.12',
        Role: ROLE,
        Handler: 'app.handler',
        Code: { ZipFile: zip({ 'app.py': 'def handler(event, context):\n    return {"py": event}\n' }) },
      }),
    );
    const { chunks, complete } = await collect(await stream('st-python'));
    assert.deepEqual(
      chunks.map((c) => JSON.parse(c) as unknown),
      [{ py: { k: 1 } }],
    );
    assert.deepEqual(complete, {});
  });

  await t.test('InvokeWithResponseStream: pipeline from a Readable, non-string writes as JSON', async () => {
    const piped = await collect(await stream('st-piped'));
    assert.equal(piped.chunks.join(''), 'alpha,beta,gamma');
    assert.equal(piped.complete?.ErrorCode, undefined);
    const objects = await collect(await stream('st-objects'));
    assert.deepEqual(objects.chunks, ['{"n":1}']);
  });

  await t.test('InvokeWithResponseStream: an error mid-stream after the chunks sent', async () => {
    const { chunks, complete } = await collect(await stream('st-fail'));
    assert.deepEqual(chunks, ['partial']);
    assert.equal(complete?.ErrorCode, 'Error');
    assert.equal(complete?.ErrorDetails, 'boom mid-stream');
    const first = await collect(await stream('st-failFirst'));
    assert.deepEqual(first.chunks, []);
    assert.equal(first.complete?.ErrorCode, 'TypeError');
    const sync = await collect(await stream('st-notAsync'));
    assert.equal(sync.complete?.ErrorCode, 'string');
    assert.equal(sync.complete?.ErrorDetails, 'Streaming does not support non-async handlers.');
  });

  await t.test('InvokeWithResponseStream: errors before streaming, DryRun', async () => {
    await assert.rejects(stream('st-missing'), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'ResourceNotFoundException');
      assert.equal(
        e.message,
        'Function not found: arn:aws:lambda:us-east-1:000000000000:function:st-missing',
      );
      assert.equal(e.$metadata?.httpStatusCode, 404);
      return true;
    });
    await assert.rejects(stream('st-slow', { InvocationType: 'Event' as 'RequestResponse' }), (e: Error) => {
      assert.equal(e.name, 'ValidationException');
      assert.match(e.message, /Member must satisfy enum value set: \[RequestResponse, DryRun\]/);
      return true;
    });
    const dry = await stream('st-slow', { InvocationType: 'DryRun' });
    assert.equal(dry.$metadata.httpStatusCode, 204);
  });

  await t.test('plain Invoke of a streamified handler answers the whole body', async () => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'st-piped' }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.equal(Buffer.from(out.Payload!).toString('utf8'), 'alpha,beta,gamma');
    const failed = await lambda.send(new InvokeCommand({ FunctionName: 'st-fail' }));
    assert.equal(failed.FunctionError, 'Unhandled');
    const err = JSON.parse(Buffer.from(failed.Payload!).toString('utf8')) as Record<string, unknown>;
    assert.equal(err.errorType, 'Error');
    assert.equal(err.errorMessage, 'boom mid-stream');
  });

  const urlOf = async (fn: string, mode: 'RESPONSE_STREAM' | 'BUFFERED' = 'RESPONSE_STREAM') => {
    const c = await lambda.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'NONE', InvokeMode: mode }),
    );
    assert.equal(c.InvokeMode, mode);
    return c.FunctionUrl!;
  };

  await t.test('function URL RESPONSE_STREAM: chunks reach the client before the handler ends', async () => {
    const url = await urlOf('st-slow');
    const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'st-slow' }));
    assert.equal(got.InvokeMode, 'RESPONSE_STREAM');
    const r = await timedGet(url);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.match(r.body, /^first;second@(\d+);[0-9a-f-]{36}$/);
    const secondWrittenAt = Number(/second@(\d+)/.exec(r.body)![1]);
    assert.equal(r.chunks[0].data, 'first;');
    // The first chunk arrived before the handler wrote the second (it waits 300 ms between).
    assert.ok(
      r.chunks[0].at <= secondWrittenAt,
      `first chunk at ${r.chunks[0].at}, second written at ${secondWrittenAt}`,
    );
  });

  await t.test('function URL RESPONSE_STREAM: HttpResponseStream status, headers, cookies', async () => {
    const url = await urlOf('st-http');
    const r = await timedGet(url + 'x?y=1');
    assert.equal(r.status, 201);
    assert.equal(r.headers['content-type'], 'text/html');
    assert.equal(r.headers['x-custom'], 'yes');
    assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
    assert.match(r.body, /^<p>second@(\d+)<\/p>$/);
    const secondWrittenAt = Number(/second@(\d+)/.exec(r.body)![1]);
    assert.equal(r.chunks[0].data, '<p>');
    assert.ok(r.chunks[0].at <= secondWrittenAt);
  });

  await t.test('function URL RESPONSE_STREAM: errors, defaults, a plain handler', async () => {
    const mid = await timedGet(await urlOf('st-fail'));
    assert.equal(mid.status, 200);
    assert.equal(mid.headers['content-type'], 'application/octet-stream');
    assert.equal(mid.body, 'partial');
    assert.equal(mid.aborted, true, 'the response is cut, not ended');
    const first = await timedGet(await urlOf('st-failFirst'));
    assert.equal(first.status, 502);
    assert.deepEqual(JSON.parse(first.body), { Message: 'Internal Server Error' });
    const plain = await timedGet(await urlOf('st-plain'));
    assert.equal(plain.status, 200);
    assert.equal(JSON.parse(plain.body).hello, 'world');
    const piped = await timedGet(await urlOf('st-piped'));
    assert.equal(piped.body, 'alpha,beta,gamma');
  });

  await t.test(
    'function URL RESPONSE_STREAM: a client leaving mid-stream does not disturb the next',
    async () => {
      const got = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'st-slow' }));
      const first = await new Promise<string>((resolve, reject) => {
        const req = request(got.FunctionUrl!, (res) => {
          res.once('data', (c: Buffer) => {
            req.destroy();
            resolve(c.toString('utf8'));
          });
        });
        req.on('error', () => {});
        req.on('close', () => reject(new Error('closed before any chunk')));
        req.end();
      });
      assert.equal(first, 'first;');
      // The handler goes on writing to a closed response; the instance and the server stay fine.
      await new Promise((r) => setTimeout(r, 400));
      const again = await timedGet(got.FunctionUrl!);
      assert.equal(again.status, 200);
      assert.match(again.body, /^first;second@\d+;[0-9a-f-]{36}$/);
    },
  );

  await t.test('UpdateFunctionUrlConfig switches InvokeMode', async () => {
    const u = await lambda.send(
      new UpdateFunctionUrlConfigCommand({ FunctionName: 'st-plain', InvokeMode: 'BUFFERED' }),
    );
    assert.equal(u.InvokeMode, 'BUFFERED');
    const back = await lambda.send(
      new UpdateFunctionUrlConfigCommand({ FunctionName: 'st-plain', InvokeMode: 'RESPONSE_STREAM' }),
    );
    assert.equal(back.InvokeMode, 'RESPONSE_STREAM');
    await assert.rejects(
      lambda.send(
        new UpdateFunctionUrlConfigCommand({
          FunctionName: 'st-plain',
          InvokeMode: 'SOMETIMES' as 'BUFFERED',
        }),
      ),
      /Member must satisfy enum value set: \[BUFFERED, RESPONSE_STREAM\]/,
    );
  });
});
