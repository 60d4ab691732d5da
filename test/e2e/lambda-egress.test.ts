/**
 * Network egress is a per-function opt-in (tag `nimbus:network=egress`): without it a function
 * cannot reach a TCP server on the host's loopback; with it, it can. Both functions reach
 * Nimbus's own AWS endpoint (AWS_ENDPOINT_URL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  InvokeCommand,
  TagResourceCommand,
  GetFunctionCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { detectCapabilities } from '../../src/compute/sandbox/capabilities.js';

const caps = detectCapabilities('auto');

const HANDLER = `
const net = require('node:net');
exports.handler = async (event) => {
  const tcp = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: event.port }, () => { s.end(); resolve('connected'); });
    s.on('error', (e) => resolve(e.code));
    s.setTimeout(2000, () => { s.destroy(); resolve('timeout'); });
  });
  const { LambdaClient, ListFunctionsCommand } = require('@aws-sdk/client-lambda');
  const list = await new LambdaClient({}).send(new ListFunctionsCommand({}));
  return { tcp, functions: list.Functions.map((f) => f.FunctionName).sort() };
};`;

function zip(): Buffer {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(HANDLER), '', 0o644 << 16);
  return z.toBuffer();
}

const skip = caps.level !== 'bubblewrap' ? `no network isolation without bubblewrap: ${caps.reason}` : false;

test('egress is off by default and on with the nimbus:network tag', { skip }, async (t) => {
  const hostServer = createServer((s) => s.end());
  await new Promise<void>((r) => hostServer.listen(0, '127.0.0.1', r));
  const port = (hostServer.address() as { port: number }).port;
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    hostServer.close();
  });
  const common = {
    Runtime: 'nodejs20.x' as const,
    Role: 'arn:aws:iam::000000000000:role/r',
    Handler: 'index.handler',
    Timeout: 60,
    Code: { ZipFile: zip() },
  };
  await lambda.send(new CreateFunctionCommand({ ...common, FunctionName: 'closed' }));
  const created = await lambda.send(
    new CreateFunctionCommand({ ...common, FunctionName: 'open', Tags: { 'nimbus:network': 'egress' } }),
  );
  const call = async (name: string) => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ port })) }),
    );
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    return JSON.parse(Buffer.from(out.Payload!).toString()) as { tcp: string; functions: string[] };
  };

  const closed = await call('closed');
  assert.notEqual(closed.tcp, 'connected', 'a function without egress reached the host loopback');
  assert.deepEqual(closed.functions, ['closed', 'open'], 'the AWS endpoint is reachable without egress');

  const open = await call('open');
  assert.equal(open.tcp, 'connected');
  assert.deepEqual(open.functions, ['closed', 'open']);

  // Tagging an existing function opens it from its next instance on.
  await lambda.send(
    new TagResourceCommand({
      Resource: created.FunctionArn!.replace(':open', ':closed'),
      Tags: { 'nimbus:network': 'egress' },
    }),
  );
  const tags = (await lambda.send(new GetFunctionCommand({ FunctionName: 'closed' }))).Tags;
  assert.equal(tags?.['nimbus:network'], 'egress');
  assert.equal((await call('closed')).tcp, 'connected');
});
