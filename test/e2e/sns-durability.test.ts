/**
 * Acknowledged SNS publishes survive kill -9: a `nimbus up` child acknowledges Publish and
 * PublishBatch to a topic with two SQS subscriptions, dies by SIGKILL right after the last
 * acknowledgement (deliveries still pending or in flight), and a new `nimbus up` on the same
 * data dir delivers every message to both queues, each exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import {
  SNSClient,
  CreateTopicCommand,
  SubscribeCommand,
  PublishBatchCommand,
  PublishCommand,
} from '@aws-sdk/client-sns';
import { NIMBUS_CLI, killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';
import { nodeClientConfig } from '../helpers/cluster.js';

test('acknowledged SNS publishes survive kill -9 of `nimbus up`', { timeout: 90_000 }, async (t) => {
  const { dir, children, clients } = killTestScaffold(t, 'nimbus-sns-durable-');

  const a = await startNimbusProcess(dir);
  children.push(a.child);
  const sqs1 = new SQSClient(nodeClientConfig(a.endpoint));
  const sns1 = new SNSClient(nodeClientConfig(a.endpoint));
  clients.push(sqs1, sns1);
  const { TopicArn } = await sns1.send(new CreateTopicCommand({ Name: 'durable' }));
  for (const name of ['left', 'right']) {
    const { QueueUrl } = await sqs1.send(new CreateQueueCommand({ QueueName: name }));
    const attrs = await sqs1.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns1.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: attrs.Attributes!.QueueArn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
  }
  const expected: string[] = [];
  // Batches published concurrently, then one more: SIGKILL follows the last acknowledgement.
  await Promise.all(
    Array.from({ length: 6 }, async (_, b) => {
      const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `e${i}`, Message: `m-${b}-${i}` }));
      const r = await sns1.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: entries }));
      assert.equal(r.Successful?.length, 10);
      expected.push(...entries.map((e) => e.Message));
    }),
  );
  await sns1.send(new PublishCommand({ TopicArn, Message: 'last' }));
  expected.push('last');
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));

  const b = await startNimbusProcess(dir);
  children.push(b.child);
  const sqs2 = new SQSClient(nodeClientConfig(b.endpoint));
  clients.push(sqs2);
  // Deliveries claimed by the dead process come back when their leases run out: move the clock.
  await promisify(execFile)(process.execPath, [
    NIMBUS_CLI,
    'clock',
    'advance',
    '120',
    '--endpoint',
    b.endpoint,
  ]);
  for (const name of ['left', 'right']) {
    const url = `${b.endpoint}/000000000000/${name}`;
    const seen: string[] = [];
    for (let i = 0; i < 300 && seen.length < expected.length; i++) {
      const got = await sqs2.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }));
      if (!got.Messages?.length) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      for (const m of got.Messages) seen.push(m.Body!);
      await sqs2.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: got.Messages.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    // Exactly once: nothing lost, nothing delivered twice (one more look for stragglers).
    const extra = await sqs2.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }));
    seen.push(...(extra.Messages ?? []).map((m) => m.Body!));
    assert.deepEqual(seen.sort(), [...expected].sort(), `queue ${name}`);
  }
});
