import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  StartMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  ListDeadLetterSourceQueuesCommand,
} from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';

async function advance(srv: TestServer, seconds: number): Promise<void> {
  const res = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(res.status, 200, await res.text());
}

test('SQS delivery: virtual clock, delays, long polling, FIFO, DLQ redrive and move tasks', async (t) => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  t.after(() => sqs.destroy());

  await t.test('a 2-minute visibility timeout passes in milliseconds with the virtual clock', async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'vt', Attributes: { VisibilityTimeout: '120' } }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'tick' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
    assert.equal(first.Messages?.length, 1);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    const before = (await (await fetch(`${srv.endpoint}/_nimbus/clock`)).json()) as { epochMillis: number };
    const started = Date.now();
    await advance(srv, 121);
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ['All'] }),
    );
    assert.equal(again.Messages?.[0].Body, 'tick');
    assert.equal(again.Messages?.[0].Attributes?.ApproximateReceiveCount, '2');
    assert.ok(Date.now() - started < 2000);
    const after = (await (await fetch(`${srv.endpoint}/_nimbus/clock`)).json()) as {
      epochMillis: number;
      offsetSeconds: number;
    };
    assert.ok(after.epochMillis - before.epochMillis >= 121_000);
    assert.ok(after.offsetSeconds >= 121);
    const backwards = await fetch(`${srv.endpoint}/_nimbus/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceSeconds: -5 }),
    });
    assert.equal(backwards.status, 400);
    assert.match(((await backwards.json()) as { message: string }).message, /only moves forward/);
  });

  await t.test('per-message and queue delays follow the clock; delayed messages are counted', async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'delayed', Attributes: { DelaySeconds: '60' } }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'queue delay' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'msg delay', DelaySeconds: 300 }));
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] })))
      .Attributes!;
    assert.equal(attrs.ApproximateNumberOfMessagesDelayed, '2');
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    await advance(srv, 61);
    assert.deepEqual(
      (
        await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 3600 }),
        )
      ).Messages?.map((m) => m.Body),
      ['queue delay'],
    );
    await advance(srv, 240);
    assert.deepEqual(
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }))).Messages?.map(
        (m) => m.Body,
      ),
      ['msg delay'],
    );
  });

  await t.test('a long poll wakes on send, not at the end of its wait', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'poll' }));
    const started = Date.now();
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 150));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    const got = await polling;
    assert.equal(got.Messages?.[0].Body, 'wake up');
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    // An empty long poll waits about its WaitTimeSeconds.
    const t0 = Date.now();
    assert.equal(
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }))).Messages,
      undefined,
    );
    assert.ok(Date.now() - t0 >= 900);
  });

  await t.test('FIFO: order per group, a group in flight is blocked, 5-minute deduplication', async () => {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'jobs.fifo',
        Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })),
      (e: Error) => e.name === 'MissingParameter',
    );
    const r1 = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }));
    assert.match(r1.SequenceNumber ?? '', /^[0-9]{20}$/);
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }));
    assert.equal(dup.MessageId, r1.MessageId);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: '1', MessageBody: 'b1', MessageGroupId: 'b' },
          { Id: '2', MessageBody: 'a2', MessageGroupId: 'a' },
          { Id: '3', MessageBody: 'b2', MessageGroupId: 'b', MessageDeduplicationId: 'explicit' },
        ],
      }),
    );
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1 }));
    assert.equal(first.Messages?.[0].Body, 'a1');
    // Group a is in flight: the next receive gets group b in order, never a2.
    const next = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }),
    );
    assert.deepEqual(
      next.Messages?.map((m) => m.Body),
      ['b1', 'b2'],
    );
    assert.equal(next.Messages?.[0].Attributes?.MessageGroupId, 'b');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages![0].ReceiptHandle }));
    const a2 = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(
      a2.Messages?.map((m) => m.Body),
      ['a2'],
    );
    // After 5 minutes the same content is a new message.
    await advance(srv, 301);
    const fresh = await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'c' }),
    );
    assert.notEqual(fresh.MessageId, r1.MessageId);
  });

  await t.test(
    'dead-letter redrive after maxReceiveCount, then StartMessageMoveTask moves it back',
    async () => {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }));
      const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:dlq';
      const { QueueUrl } = await sqs.send(
        new CreateQueueCommand({
          QueueName: 'work',
          Attributes: {
            VisibilityTimeout: '30',
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
          },
        }),
      );
      await assert.rejects(
        sqs.send(
          new CreateQueueCommand({
            QueueName: 'work2',
            Attributes: {
              RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${dlqArn}-missing`, maxReceiveCount: 2 }),
            },
          }),
        ),
        (e: Error) => e.name === 'InvalidParameterValue',
      );
      const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.QueueUrl }));
      assert.deepEqual(sources.queueUrls, [QueueUrl]);
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
      for (let i = 0; i < 2; i++) {
        assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages?.length, 1);
        await advance(srv, 31);
      }
      assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
      const dead = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.QueueUrl,
          MessageSystemAttributeNames: ['All'],
          VisibilityTimeout: 0,
        }),
      );
      assert.equal(dead.Messages?.[0].Body, 'poison');
      assert.equal(
        dead.Messages?.[0].Attributes?.DeadLetterQueueSourceArn,
        'arn:aws:sqs:us-east-1:000000000000:work',
      );

      const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
      assert.ok(task.TaskHandle);
      let status = '';
      for (let i = 0; i < 100 && status !== 'COMPLETED'; i++) {
        const list = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
        status = list.Results?.[0]?.Status ?? '';
        if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 20));
        else assert.equal(list.Results?.[0].ApproximateNumberOfMessagesMoved, 1);
      }
      assert.equal(status, 'COMPLETED');
      const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl }));
      assert.equal(back.Messages?.[0].Body, 'poison');
      await assert.rejects(
        sqs.send(new StartMessageMoveTaskCommand({ SourceArn: 'arn:aws:sqs:us-east-1:000000000000:work' })),
        (e: Error) => e.name === 'InvalidParameterValue',
      );
    },
  );

  await t.test('the Query protocol (form + XML) for older clients', async () => {
    const post = async (form: Record<string, string>) => {
      const res = await fetch(srv.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ Version: '2012-11-05', ...form }).toString(),
      });
      return { status: res.status, text: await res.text() };
    };
    const created = await post({
      Action: 'CreateQueue',
      QueueName: 'legacy',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '10',
    });
    assert.equal(created.status, 200, created.text);
    const url = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(created.text)![1];
    assert.equal(url, `${srv.endpoint}/000000000000/legacy`);
    const sent = await post({
      Action: 'SendMessage',
      QueueUrl: url,
      MessageBody: 'from an old client',
      'MessageAttribute.1.Name': 'k',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'v',
    });
    assert.match(
      sent.text,
      /<SendMessageResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/"><SendMessageResult><MessageId>/,
    );
    assert.match(sent.text, /<MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes>/);
    const recv = await post({
      Action: 'ReceiveMessage',
      QueueUrl: url,
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
    });
    assert.match(recv.text, /<Message><MessageId>[^<]+<\/MessageId><ReceiptHandle>[^<]+<\/ReceiptHandle>/);
    assert.match(recv.text, /<Body>from an old client<\/Body>/);
    assert.match(recv.text, /<Attribute><Name>ApproximateReceiveCount<\/Name><Value>1<\/Value><\/Attribute>/);
    assert.match(
      recv.text,
      /<MessageAttribute><Name>k<\/Name><Value><StringValue>v<\/StringValue><DataType>String<\/DataType><\/Value><\/MessageAttribute>/,
    );
    const attrs = await post({
      Action: 'GetQueueAttributes',
      QueueUrl: url,
      'AttributeName.1': 'VisibilityTimeout',
    });
    assert.match(attrs.text, /<Attribute><Name>VisibilityTimeout<\/Name><Value>10<\/Value><\/Attribute>/);
    const missing = await post({ Action: 'GetQueueUrl', QueueName: 'nope' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /<Code>AWS.SimpleQueueService.NonExistentQueue<\/Code>/);
    assert.match(missing.text, /<Type>Sender<\/Type>/);
  });
});
