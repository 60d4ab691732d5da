import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  DeleteQueueCommand,
  PurgeQueueCommand,
  TagQueueCommand,
  UntagQueueCommand,
  ListQueueTagsCommand,
  SendMessageCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand,
  ChangeMessageVisibilityBatchCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct,
  EmptyBatchRequest,
} from '@aws-sdk/client-sqs';
import { startTestServer } from '../helpers/server.js';

test('SQS through the real SDK: queues, attributes, tags, send/receive/delete, errors', async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  try {
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'orders',
        Attributes: { VisibilityTimeout: '45' },
        tags: { team: 'a' },
      }),
    );
    assert.equal(QueueUrl, `${srv.endpoint}/000000000000/orders`);
    // Idempotent with the same attributes; QueueNameExists with different ones.
    await sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '45' } }));
    await assert.rejects(
      sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '40' } })),
      (e: Error) => e instanceof QueueNameExists,
    );
    await assert.rejects(
      sqs.send(new CreateQueueCommand({ QueueName: 'bad name!' })),
      (e: Error) => e.name === 'InvalidParameterValue',
    );
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl, QueueUrl);
    const missing = await sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' })).catch((e: unknown) => e);
    assert.ok(missing instanceof QueueDoesNotExist, String(missing));
    assert.equal((missing as QueueDoesNotExist).$metadata.httpStatusCode, 400);
    assert.equal(
      (missing as QueueDoesNotExist & { Code?: string }).Code,
      'AWS.SimpleQueueService.NonExistentQueue',
    );
    assert.equal(missing.message, 'The specified queue does not exist.');

    await sqs.send(new CreateQueueCommand({ QueueName: 'other' }));
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'or' }));
    assert.deepEqual(listed.QueueUrls, [QueueUrl]);
    const page = await sqs.send(new ListQueuesCommand({ MaxResults: 1 }));
    assert.equal(page.QueueUrls?.length, 1);
    assert.ok(page.NextToken);
    const page2 = await sqs.send(new ListQueuesCommand({ MaxResults: 1, NextToken: page.NextToken }));
    assert.deepEqual(page2.QueueUrls, [`${srv.endpoint}/000000000000/other`]);

    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] })))
      .Attributes!;
    assert.equal(attrs.VisibilityTimeout, '45');
    assert.equal(attrs.QueueArn, 'arn:aws:sqs:us-east-1:000000000000:orders');
    assert.equal(attrs.ApproximateNumberOfMessages, '0');
    assert.equal(attrs.MaximumMessageSize, '262144');
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: { DelaySeconds: '0', MaximumMessageSize: '2048' },
      }),
    );
    await assert.rejects(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '99999' } })),
      (e: Error) => e.name === 'InvalidAttributeValue',
    );

    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: 'dev' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ['team'] }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { env: 'dev' });

    // Send with attributes: the SDK verifies MD5OfMessageBody and MD5OfMessageAttributes.
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'hello ✓',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'greeting' },
          n: { DataType: 'Number', StringValue: '42' },
          raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    assert.ok(sent.MessageId);
    assert.ok(sent.MD5OfMessageAttributes);
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(3000) })),
      (e: Error) => e.name === 'InvalidParameterValue' && /shorter than 2048 bytes/.test(e.message),
    );
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    assert.equal(got.Messages?.length, 1);
    const m = got.Messages![0];
    assert.equal(m.Body, 'hello ✓');
    assert.equal(m.MessageAttributes?.n.StringValue, '42');
    assert.deepEqual([...m.MessageAttributes!.raw.BinaryValue!], [1, 2, 3]);
    assert.equal(m.Attributes?.ApproximateReceiveCount, '1');
    assert.equal(m.Attributes?.SenderId, '000000000000');
    // In flight now: not visible, counted as NotVisible.
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    const counts = (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes!;
    assert.deepEqual(counts, {
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    // Visibility 0 makes it visible again; the second receive counts 2.
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 }),
    );
    const again = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    assert.equal(again.Messages?.[0].Attributes?.ApproximateReceiveCount, '2');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0].ReceiptHandle }));
    await assert.rejects(
      sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'garbage' })),
      (e: Error) => e instanceof ReceiptHandleIsInvalid,
    );
    await assert.rejects(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
      (e: Error) => e.name === 'InvalidParameterValue',
    );

    // Batches.
    const batch = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          ...Array.from({ length: 9 }, (_, i) => ({ Id: `m${i}`, MessageBody: `body ${i}` })),
          { Id: 'bad', MessageBody: 'x', DelaySeconds: 901 },
        ],
      }),
    );
    assert.equal(batch.Successful?.length, 9);
    assert.equal(batch.Failed?.length, 1);
    assert.equal(batch.Failed![0].Id, 'bad');
    assert.equal(batch.Failed![0].Code, 'InvalidParameterValue');
    await assert.rejects(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `i${i}`, MessageBody: 'x' })),
        }),
      ),
      (e: Error) => e instanceof TooManyEntriesInBatchRequest,
    );
    await assert.rejects(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: [
            { Id: 'a', MessageBody: 'x' },
            { Id: 'a', MessageBody: 'y' },
          ],
        }),
      ),
      (e: Error) => e instanceof BatchEntryIdsNotDistinct,
    );
    await assert.rejects(
      sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: [] })),
      (e: Error) => e instanceof EmptyBatchRequest,
    );
    const recv = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    assert.equal(recv.Messages?.length, 9);
    const cv = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', ReceiptHandle: recv.Messages![0].ReceiptHandle, VisibilityTimeout: 100 },
          { Id: 'b', ReceiptHandle: 'nope', VisibilityTimeout: 100 },
        ],
      }),
    );
    assert.deepEqual(cv.Successful, [{ Id: 'a' }]);
    assert.equal(cv.Failed?.[0].Code, 'ReceiptHandleIsInvalid');
    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: recv.Messages!.map((x, i) => ({ Id: `d${i}`, ReceiptHandle: x.ReceiptHandle })),
      }),
    );
    assert.equal(del.Successful?.length, 9);
    assert.equal(
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes!
        .ApproximateNumberOfMessagesNotVisible,
      '0',
    );

    // Purge, then purge again within 60 s.
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'p' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    await assert.rejects(
      sqs.send(new PurgeQueueCommand({ QueueUrl })),
      (e: Error) => e.name === 'PurgeQueueInProgress',
    );

    await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })),
      (e: Error) => e instanceof QueueDoesNotExist,
    );
  } finally {
    sqs.destroy();
  }
});

test('query requests sent to a queue URL name that queue (no QueueUrl parameter), as older SDKs send them', async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'by-path' }));
  const form = (action: string, extra: Record<string, string> = {}) =>
    fetch(`${srv.endpoint}/000000000000/by-path`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: action, Version: '2012-11-05', ...extra }).toString(),
    });
  const sent = await form('SendMessage', { MessageBody: 'via the path' });
  assert.equal(sent.status, 200);
  assert.match(await sent.text(), /<SendMessageResponse[\s\S]*<MessageId>/);
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
  assert.equal(got.Messages?.[0].Body, 'via the path');
  // A path that is not a queue's: the parameter is still required.
  const bare = await fetch(`${srv.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=SendMessage&Version=2012-11-05&MessageBody=x',
  });
  assert.equal(bare.status, 400);
  await bare.body?.cancel();
  sqs.destroy();
});
