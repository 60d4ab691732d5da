/**
 * Acknowledged SendMessage survives kill -9: a `nimbus up` child acknowledges sends (some
 * received and in flight), dies by SIGKILL, and a new `nimbus up` on the same data dir
 * delivers every message. Also drives `nimbus clock advance` against the child.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  SQSClient,
  CreateQueueCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { NIMBUS_CLI, killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';

const client = (endpoint: string) =>
  new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

test('acknowledged SQS messages survive kill -9 of `nimbus up`', { timeout: 90_000 }, async (t) => {
  const { dir, children, clients } = killTestScaffold(t, 'nimbus-sqs-durable-');

  const a = await startNimbusProcess(dir);
  children.push(a.child);
  const s1 = client(a.endpoint);
  clients.push(s1);
  const { QueueUrl } = await s1.send(
    new CreateQueueCommand({ QueueName: 'durable', Attributes: { VisibilityTimeout: '600' } }),
  );
  const expected = new Set<string>();
  for (let b = 0; b < 5; b++) {
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, MessageBody: `m-${b}-${i}` }));
    const r = await s1.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
    assert.equal(r.Successful?.length, 10);
    for (const e of entries) expected.add(e.MessageBody);
  }
  // Some are in flight (received, not deleted) when the node dies.
  const inFlight = await s1.send(new ReceiveMessageCommand({ QueueUrl: QueueUrl!, MaxNumberOfMessages: 10 }));
  assert.equal(inFlight.Messages?.length, 10);
  await s1.send(new SendMessageCommand({ QueueUrl, MessageBody: 'last' }));
  expected.add('last');
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));

  const b = await startNimbusProcess(dir);
  children.push(b.child);
  const s2 = client(b.endpoint);
  clients.push(s2);
  const url2 = `${b.endpoint}/000000000000/durable`;
  // The in-flight ones come back after their 600 s visibility: move the clock with the CLI.
  const exec = promisify(execFile);
  const adv = await exec(process.execPath, [
    NIMBUS_CLI,
    'clock',
    'advance',
    '601',
    '--endpoint',
    b.endpoint,
    '--json',
  ]);
  assert.ok((JSON.parse(adv.stdout) as { offsetSeconds: number }).offsetSeconds >= 601);
  const seen = new Set<string>();
  for (let i = 0; i < 20 && seen.size < expected.size; i++) {
    const got = await s2.send(new ReceiveMessageCommand({ QueueUrl: url2, MaxNumberOfMessages: 10 }));
    if (!got.Messages?.length) break;
    for (const m of got.Messages) seen.add(m.Body!);
    await s2.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url2,
        Entries: got.Messages.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  assert.deepEqual([...seen].sort(), [...expected].sort());
});
