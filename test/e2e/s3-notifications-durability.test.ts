/**
 * An acknowledged upload's notification survives kill -9: the object write and its pending
 * notification commit in one Store transaction (the outbox), so a `nimbus up` killed right
 * after answering PutObject delivers every notification after a restart on the same data dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  S3Client,
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  SQSClient,
  CreateQueueCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { NIMBUS_CLI, killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';

const config = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});

test(
  'notifications of acknowledged uploads survive kill -9 of `nimbus up`',
  { timeout: 90_000 },
  async (t) => {
    const { dir, children, clients } = killTestScaffold(t, 'nimbus-s3-notify-durable-');
    const a = await startNimbusProcess(dir);
    children.push(a.child);
    const s3 = new S3Client({ ...config(a.endpoint), forcePathStyle: true });
    const sqs1 = new SQSClient(config(a.endpoint));
    clients.push(s3, sqs1);
    await sqs1.send(new CreateQueueCommand({ QueueName: 'uploads' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'durable' }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'durable',
        NotificationConfiguration: {
          QueueConfigurations: [
            { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:uploads', Events: ['s3:ObjectCreated:*'] },
          ],
        },
      }),
    );
    const expected: string[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const key = `k${String(i).padStart(2, '0')}`;
        await s3.send(new PutObjectCommand({ Bucket: 'durable', Key: key, Body: key }));
        expected.push(key);
      }),
    );
    // Killed right after the last acknowledgement: most notifications are still in the outbox.
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));

    const b = await startNimbusProcess(dir);
    children.push(b.child);
    const sqs2 = new SQSClient(config(b.endpoint));
    clients.push(sqs2);
    // Notifications the dead node had claimed come back when their lease (30 s) runs out.
    await promisify(execFile)(process.execPath, [
      NIMBUS_CLI,
      'clock',
      'advance',
      '60',
      '--endpoint',
      b.endpoint,
    ]);
    const url = `${b.endpoint}/000000000000/uploads`;
    const seen = new Set<string>();
    const end = Date.now() + 30_000;
    while (seen.size < expected.length && Date.now() < end) {
      const got = await sqs2.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      if (!got.Messages?.length) continue;
      for (const m of got.Messages) {
        const body = JSON.parse(m.Body!) as { Records?: { s3: { object: { key: string } } }[] };
        for (const r of body.Records ?? []) seen.add(r.s3.object.key);
      }
      await sqs2.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: got.Messages.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    assert.deepEqual([...seen].sort(), expected.sort());
  },
);
