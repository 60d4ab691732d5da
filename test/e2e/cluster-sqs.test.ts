/**
 * SQS in cluster mode: two `nimbus up` nodes on one throwaway PostgreSQL. A long poll on one
 * node wakes when the other node sends (LISTEN/NOTIFY, not polling); FIFO order holds when the
 * sends alternate between nodes; and kill -9 of a node while SQS-triggered Lambda work is in
 * flight loses nothing: the survivor's poller runs every message once its visibility timeout
 * lets it go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { postgresForFile, nodeClientConfig } from '../helpers/cluster.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';

const { skip, pg } = postgresForFile();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'SQS across nodes: long polls wake across nodes, FIFO order holds',
  { skip, timeout: 120_000 },
  async () => {
    await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
    const [a, b] = cluster.nodes;
    const sa = new SQSClient(nodeClientConfig(a.endpoint));
    const sb = new SQSClient(nodeClientConfig(b.endpoint));
    try {
      const { QueueUrl } = await sa.send(new CreateQueueCommand({ QueueName: 'xq' }));
      const urlOnB = QueueUrl!.replace(a.endpoint, b.endpoint);
      // A 10 s long poll on B, then a send on A: the poll answers at once.
      const t0 = Date.now();
      const polling = sb.send(new ReceiveMessageCommand({ QueueUrl: urlOnB, WaitTimeSeconds: 10 }));
      await sleep(300);
      await sa.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
      const got = await polling;
      const waited = Date.now() - t0;
      assert.equal(got.Messages?.[0]?.Body, 'wake up');
      assert.ok(waited < 3000, `the poll on B answered ${waited} ms after it started (send at ~300 ms)`);
      await sb.send(
        new DeleteMessageCommand({ QueueUrl: urlOnB, ReceiptHandle: got.Messages![0].ReceiptHandle }),
      );

      // FIFO: sends alternate between the nodes; receives on either node see the group's order.
      const fifo = (
        await sa.send(new CreateQueueCommand({ QueueName: 'xq.fifo', Attributes: { FifoQueue: 'true' } }))
      ).QueueUrl!;
      const fifoOnB = fifo.replace(a.endpoint, b.endpoint);
      for (let i = 0; i < 12; i++) {
        const [client, url] = i % 2 ? [sb, fifoOnB] : [sa, fifo];
        await client.send(
          new SendMessageCommand({
            QueueUrl: url,
            MessageBody: `m${i}`,
            MessageGroupId: 'g',
            MessageDeduplicationId: `d${i}`,
          }),
        );
      }
      // A duplicate through the other node is deduplicated.
      await sb.send(
        new SendMessageCommand({
          QueueUrl: fifoOnB,
          MessageBody: 'dup',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd0',
        }),
      );
      const order: string[] = [];
      for (let i = 0; order.length < 12 && i < 40; i++) {
        const [client, url] = i % 2 ? [sa, fifo] : [sb, fifoOnB];
        const r = await client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 3 }));
        for (const m of r.Messages ?? []) {
          order.push(m.Body!);
          await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
        }
      }
      assert.deepEqual(
        order,
        Array.from({ length: 12 }, (_, i) => `m${i}`),
      );
    } finally {
      sa.destroy();
      sb.destroy();
    }
  },
);

test(
  'kill -9 of a node with SQS-triggered Lambda work in flight: the survivor runs every message',
  { skip, timeout: 150_000 },
  async () => {
    await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
    const [a, b] = cluster.nodes;
    const sa = new SQSClient(nodeClientConfig(a.endpoint));
    const lambda = new LambdaClient(nodeClientConfig(a.endpoint));
    const logs = new CloudWatchLogsClient(nodeClientConfig(a.endpoint));
    try {
      const { QueueUrl } = await sa.send(
        new CreateQueueCommand({ QueueName: 'work', Attributes: { VisibilityTimeout: '6' } }),
      );
      const arn = (await sa.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
        .Attributes!.QueueArn!;
      const z = new AdmZip();
      z.addFile(
        'index.js',
        Buffer.from(`exports.handler = async (event) => {
  for (const r of event.Records) {
    await new Promise((res) => setTimeout(res, 300));
    console.log('DONE ' + r.body);
  }
};`),
        '',
        0o644 << 16,
      );
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'worker',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/r',
          Handler: 'index.handler',
          Timeout: 5,
          Code: { ZipFile: z.toBuffer() },
        }),
      );
      await lambda.send(
        new CreateEventSourceMappingCommand({ FunctionName: 'worker', EventSourceArn: arn, BatchSize: 2 }),
      );
      const bodies = Array.from({ length: 30 }, (_, i) => `job-${i}`);
      for (let i = 0; i < bodies.length; i += 10) {
        await sa.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `e${j}`, MessageBody })),
          }),
        );
      }
      // Both nodes poll the queue; kill B while batches are running.
      await sleep(1200);
      await cluster.kill(b.index, 'SIGKILL');
      const done = new Set<string>();
      const t0 = Date.now();
      while (done.size < bodies.length && Date.now() - t0 < 90_000) {
        let next: string | undefined;
        do {
          const page = await logs
            .send(
              new FilterLogEventsCommand({
                logGroupName: '/aws/lambda/worker',
                filterPattern: 'DONE',
                nextToken: next,
              }),
            )
            .catch(() => ({ events: [], nextToken: undefined }));
          for (const e of page.events ?? []) {
            const m = /DONE (job-\d+)/.exec(e.message ?? '');
            if (m) done.add(m[1]);
          }
          next = page.nextToken;
        } while (next);
        if (done.size < bodies.length) await sleep(500);
      }
      assert.deepEqual([...done].sort(), [...bodies].sort(), 'every message ran at least once');
      // And the queue is empty: each was deleted after its successful batch.
      const left = await sa.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      assert.equal(left.Attributes!.ApproximateNumberOfMessages, '0');
    } finally {
      sa.destroy();
      lambda.destroy();
      logs.destroy();
    }
  },
);
