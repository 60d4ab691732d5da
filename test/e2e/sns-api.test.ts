/**
 * SNS through a real Nimbus and the real @aws-sdk/client-sns (Query protocol): topics,
 * attributes, tags, subscriptions, AWS's errors, and deliveries to SQS (envelope, raw,
 * filter policies, MessageStructure json, FIFO, redrive to a DLQ).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SNSClient,
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  SetTopicAttributesCommand,
  ListTopicsCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  ListSubscriptionsCommand,
  ListSubscriptionsByTopicCommand,
  GetSubscriptionAttributesCommand,
  SetSubscriptionAttributesCommand,
  PublishCommand,
  PublishBatchCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-sns';
import {
  SQSClient,
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';

async function expectError(p: Promise<unknown>, name: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

async function queue(sqs: SQSClient, name: string, attrs: Record<string, string> = {}) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attrs }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  return { url: QueueUrl as string, arn: Attributes?.QueueArn as string };
}

/** Receives until `n` messages arrived or the deadline passed. */
async function receive(sqs: SQSClient, url: string, n: number, waitMs = 5000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + waitMs;
  while (out.length < n && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        AttributeNames: ['All'],
      }),
    );
    out.push(...(r.Messages ?? []));
  }
  return out;
}

// One server for the file (start-up dominates a test's time); each test uses its own names.
let shared: Promise<{ srv: TestServer; sns: SNSClient; sqs: SQSClient }> | undefined;
after(async () => {
  if (!shared) return;
  const { srv, sns, sqs } = await shared;
  sns.destroy();
  sqs.destroy();
  await srv.close();
});

async function withServer(fn: (srv: TestServer, sns: SNSClient, sqs: SQSClient) => Promise<void>) {
  shared ??= startTestServer().then((srv) => ({
    srv,
    sns: new SNSClient(srv.clientConfig),
    sqs: new SQSClient(srv.clientConfig),
  }));
  const { srv, sns, sqs } = await shared;
  await fn(srv, sns, sqs);
}

test('topics: create (idempotent), attributes, list, tags, delete, errors', () =>
  withServer(async (_srv, sns) => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({ Name: 'orders', Tags: [{ Key: 'team', Value: 'a' }] }),
    );
    assert.equal(TopicArn, 'arn:aws:sns:us-east-1:000000000000:orders');
    const again = await sns.send(new CreateTopicCommand({ Name: 'orders' }));
    assert.equal(again.TopicArn, TopicArn);
    await expectError(
      sns.send(new CreateTopicCommand({ Name: 'orders', Tags: [{ Key: 'team', Value: 'b' }] })),
      'InvalidParameterException',
      'Invalid parameter: Tags Reason: Topic already exists with different tags',
      400,
    );
    await expectError(
      sns.send(new CreateTopicCommand({ Name: 'bad name!' })),
      'InvalidParameterException',
      'Invalid parameter: Topic Name',
    );
    await expectError(
      sns.send(new CreateTopicCommand({ Name: 'plain', Attributes: { FifoTopic: 'true' } })),
      'InvalidParameterException',
      /Fifo Topic names must end with \.fifo/,
    );

    await sns.send(
      new SetTopicAttributesCommand({ TopicArn, AttributeName: 'DisplayName', AttributeValue: 'Orders' }),
    );
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn }));
    assert.equal(Attributes?.DisplayName, 'Orders');
    assert.equal(Attributes?.TopicArn, TopicArn);
    assert.equal(Attributes?.Owner, '000000000000');
    assert.equal(Attributes?.SubscriptionsConfirmed, '0');
    assert.ok(JSON.parse(Attributes?.Policy as string).Statement);
    assert.ok(JSON.parse(Attributes?.EffectiveDeliveryPolicy as string).http.defaultHealthyRetryPolicy);
    await expectError(
      sns.send(new SetTopicAttributesCommand({ TopicArn, AttributeName: 'Nope', AttributeValue: 'x' })),
      'InvalidParameterException',
      'Invalid parameter: AttributeName',
    );

    const fifo = await sns.send(
      new CreateTopicCommand({
        Name: 'o.fifo',
        Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    const fa = await sns.send(new GetTopicAttributesCommand({ TopicArn: fifo.TopicArn }));
    assert.equal(fa.Attributes?.FifoTopic, 'true');
    assert.equal(fa.Attributes?.ContentBasedDeduplication, 'true');

    const list = await sns.send(new ListTopicsCommand({}));
    const arns = list.Topics?.map((t) => t.TopicArn) ?? [];
    assert.ok(arns.includes(TopicArn) && arns.includes(fifo.TopicArn), 'both topics listed');

    await sns.send(new TagResourceCommand({ ResourceArn: TopicArn, Tags: [{ Key: 'env', Value: 'dev' }] }));
    await sns.send(new UntagResourceCommand({ ResourceArn: TopicArn, TagKeys: ['team'] }));
    const tags = await sns.send(new ListTagsForResourceCommand({ ResourceArn: TopicArn }));
    assert.deepEqual(tags.Tags, [{ Key: 'env', Value: 'dev' }]);
    await expectError(
      sns.send(new ListTagsForResourceCommand({ ResourceArn: 'arn:aws:sns:us-east-1:000000000000:missing' })),
      'ResourceNotFoundException',
      'Resource does not exist',
      404,
    );

    await sns.send(new DeleteTopicCommand({ TopicArn }));
    await expectError(
      sns.send(new GetTopicAttributesCommand({ TopicArn })),
      'NotFoundException',
      'Topic does not exist',
      404,
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn, Message: 'x' })),
      'NotFoundException',
      'Topic does not exist',
      404,
    );
  }));

test('subscriptions: subscribe, attributes, list, unsubscribe, errors', () =>
  withServer(async (_srv, sns, sqs) => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'subs-topic' }));
    const q = await queue(sqs, 'q1');
    await expectError(
      sns.send(new SubscribeCommand({ TopicArn, Protocol: 'carrier-pigeon', Endpoint: 'x' })),
      'InvalidParameterException',
      'Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon',
    );
    await expectError(
      sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: 'not-an-arn' })),
      'InvalidParameterException',
      'Invalid parameter: SQS endpoint ARN',
    );
    await expectError(
      sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: q.arn,
          Attributes: { FilterPolicy: '{"a": "x"}' },
        }),
      ),
      'InvalidParameterException',
      /^Invalid parameter: FilterPolicy: /,
    );
    const { SubscriptionArn } = await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: q.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    assert.match(SubscriptionArn as string, new RegExp(`^${TopicArn}:[0-9a-f-]{36}$`));
    const same = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: q.arn }));
    assert.equal(same.SubscriptionArn, SubscriptionArn);

    await sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn,
        AttributeName: 'FilterPolicy',
        AttributeValue: JSON.stringify({ kind: ['a'] }),
      }),
    );
    const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
    assert.equal(Attributes?.RawMessageDelivery, 'true');
    assert.equal(Attributes?.Protocol, 'sqs');
    assert.equal(Attributes?.Endpoint, q.arn);
    assert.equal(Attributes?.PendingConfirmation, 'false');
    assert.equal(Attributes?.FilterPolicyScope, 'MessageAttributes');
    assert.deepEqual(JSON.parse(Attributes?.FilterPolicy as string), { kind: ['a'] });

    const all = (await sns.send(new ListSubscriptionsCommand({}))).Subscriptions?.filter(
      (x) => x.TopicArn === TopicArn,
    );
    assert.equal(all?.length, 1);
    assert.deepEqual(all?.[0], {
      SubscriptionArn,
      Owner: '000000000000',
      Protocol: 'sqs',
      Endpoint: q.arn,
      TopicArn,
    });
    const byTopic = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    assert.equal(byTopic.Subscriptions?.[0].SubscriptionArn, SubscriptionArn);

    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    await expectError(
      sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn })),
      'NotFoundException',
      'Subscription does not exist',
      404,
    );
    await expectError(
      sns.send(new UnsubscribeCommand({ SubscriptionArn: 'garbage' })),
      'InvalidParameterException',
      'Invalid parameter: SubscriptionArn',
    );
  }));

test('publish validation errors', () =>
  withServer(async (_srv, sns) => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'pub-topic' }));
    const fifo = (
      await sns.send(new CreateTopicCommand({ Name: 't.fifo', Attributes: { FifoTopic: 'true' } }))
    ).TopicArn;
    await expectError(
      sns.send(new PublishCommand({ TopicArn, Message: '' })),
      'InvalidParameterException',
      'Invalid parameter: Empty message',
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn, Message: 'x'.repeat(262_145) })),
      'InvalidParameterException',
      'Invalid parameter: Message too long',
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn, Message: '{"a":1}', MessageStructure: 'json' })),
      'InvalidParameterException',
      'Invalid parameter: Message Structure - No default entry in JSON message body',
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn, Message: 'nope', MessageStructure: 'json' })),
      'InvalidParameterException',
      'Invalid parameter: Message Structure - JSON message body failed to parse',
    );
    await expectError(
      sns.send(
        new PublishCommand({
          TopicArn,
          Message: 'x',
          MessageAttributes: { a: { DataType: 'Blob', StringValue: 'x' } },
        }),
      ),
      'InvalidParameterValueException',
      "The message attribute 'a' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.",
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn: fifo, Message: 'x' })),
      'InvalidParameterException',
      'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
    );
    await expectError(
      sns.send(new PublishCommand({ TopicArn: fifo, Message: 'x', MessageGroupId: 'g' })),
      'InvalidParameterException',
      'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: 'ok', Message: 'fine' },
          { Id: 'bad', Message: '' },
        ],
      }),
    );
    assert.equal(batch.Successful?.length, 1);
    assert.equal(batch.Successful?.[0].Id, 'ok');
    assert.deepEqual(batch.Failed, [
      { Id: 'bad', Code: 'InvalidParameter', Message: 'Invalid parameter: Empty message', SenderFault: true },
    ]);
    await expectError(
      sns.send(
        new PublishBatchCommand({
          TopicArn,
          PublishBatchRequestEntries: [
            { Id: 'a', Message: '1' },
            { Id: 'a', Message: '2' },
          ],
        }),
      ),
      'BatchEntryIdsNotDistinctException',
    );
  }));

test('SQS delivery: the notification envelope, raw delivery, filter policies, MessageStructure json', () =>
  withServer(async (srv, sns, sqs) => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'fan' }));
    const env = await queue(sqs, 'envelope');
    const raw = await queue(sqs, 'raw');
    const filtered = await queue(sqs, 'filtered');
    const bodyFiltered = await queue(sqs, 'body-filtered');
    const envSub = (await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: env.arn })))
      .SubscriptionArn;
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: raw.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: filtered.arn,
        Attributes: {
          FilterPolicy: JSON.stringify({ price: [{ numeric: ['>=', 100] }], kind: [{ prefix: 'ord' }] }),
        },
      }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: bodyFiltered.arn,
        Attributes: {
          FilterPolicyScope: 'MessageBody',
          FilterPolicy: JSON.stringify({ order: { status: ['paid'] } }),
        },
      }),
    );

    const pub = await sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'hello',
        Message: JSON.stringify({ order: { status: 'paid' } }),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'order' },
          price: { DataType: 'Number', StringValue: '150' },
          bin: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    assert.match(pub.MessageId as string, /^[0-9a-f-]{36}$/);
    await sns.send(
      new PublishCommand({
        TopicArn,
        Message: JSON.stringify({ order: { status: 'open' } }),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'order' },
          price: { DataType: 'Number', StringValue: '5' },
        },
      }),
    );

    const [e1, e2] = await receive(sqs, env.url, 2);
    assert.ok(e1 && e2, 'both notifications arrive');
    const first = [e1, e2]
      .map((m) => JSON.parse(m.Body as string))
      .find((b) => b.MessageId === pub.MessageId);
    assert.deepEqual(Object.keys(first), [
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    assert.equal(first.Type, 'Notification');
    assert.equal(first.TopicArn, TopicArn);
    assert.equal(first.Subject, 'hello');
    assert.equal(first.SignatureVersion, '1');
    assert.match(first.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(first.MessageAttributes, {
      kind: { Type: 'String', Value: 'order' },
      price: { Type: 'Number', Value: '150' },
      bin: { Type: 'Binary', Value: Buffer.from([1, 2, 3]).toString('base64') },
    });
    assert.equal(
      first.UnsubscribeURL,
      `${srv.endpoint}/_nimbus/sns/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(envSub as string)}`,
    );
    const cert = await fetch(first.SigningCertURL);
    assert.equal(cert.status, 200);
    assert.match(await cert.text(), /^-----BEGIN CERTIFICATE-----/);

    const raws = await receive(sqs, raw.url, 2);
    assert.equal(raws.length, 2);
    const rawFirst = raws.find((m) => m.MessageAttributes?.price?.StringValue === '150');
    assert.equal(rawFirst?.Body, JSON.stringify({ order: { status: 'paid' } }));
    assert.equal(rawFirst?.MessageAttributes?.kind?.StringValue, 'order');
    assert.deepEqual(
      Buffer.from(rawFirst?.MessageAttributes?.bin?.BinaryValue as Uint8Array),
      Buffer.from([1, 2, 3]),
    );

    const f = await receive(sqs, filtered.url, 2, 1500);
    assert.equal(f.length, 1, 'only the message with price >= 100 passes the attribute filter');
    assert.equal(JSON.parse(f[0].Body as string).MessageId, pub.MessageId);
    const bf = await receive(sqs, bodyFiltered.url, 2, 1500);
    assert.equal(bf.length, 1, 'only the paid order passes the body filter');

    // MessageStructure json: each protocol gets its own text.
    await sns.send(
      new PublishCommand({
        TopicArn,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'dflt', sqs: 'for-sqs' }),
      }),
    );
    const [structured] = await receive(sqs, raw.url, 1);
    assert.equal(structured.Body, 'for-sqs');
  }));

test('FIFO topic to a FIFO queue: order, sequence numbers, deduplication', () =>
  withServer(async (_srv, sns, sqs) => {
    const { TopicArn } = await sns.send(
      new CreateTopicCommand({
        Name: 'f.fifo',
        Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    const q = await queue(sqs, 'f.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: q.arn,
        Attributes: { RawMessageDelivery: 'true' },
      }),
    );
    const seqs: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await sns.send(new PublishCommand({ TopicArn, Message: `m${i}`, MessageGroupId: 'g' }));
      assert.match(r.SequenceNumber as string, /^\d{20}$/);
      seqs.push(r.SequenceNumber as string);
    }
    assert.deepEqual([...seqs].sort(), seqs);
    const dup = await sns.send(new PublishCommand({ TopicArn, Message: 'm0', MessageGroupId: 'g' }));
    const batch = await sns.send(
      new PublishBatchCommand({
        TopicArn,
        PublishBatchRequestEntries: [
          { Id: 'x', Message: 'm5', MessageGroupId: 'g', MessageDeduplicationId: 'd5' },
        ],
      }),
    );
    assert.equal(batch.Successful?.length, 1);
    assert.ok(dup.MessageId);
    const got: string[] = [];
    const deadline = Date.now() + 5000;
    while (got.length < 6 && Date.now() < deadline) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of r.Messages ?? []) {
        got.push(m.Body as string);
        await sqs.send(
          new (await import('@aws-sdk/client-sqs')).DeleteMessageCommand({
            QueueUrl: q.url,
            ReceiptHandle: m.ReceiptHandle,
          }),
        );
      }
    }
    assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'], 'in order, the duplicate dropped');
  }));

test('a delivery to a deleted queue goes to the subscription redrive DLQ with the error', () =>
  withServer(async (_srv, sns, sqs) => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'dlq-topic' }));
    const target = await queue(sqs, 'gone');
    const dlq = await queue(sqs, 'dlq');
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'sqs',
        Endpoint: target.arn,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn }) },
      }),
    );
    await sqs.send(new DeleteQueueCommand({ QueueUrl: target.url }));
    const pub = await sns.send(new PublishCommand({ TopicArn, Message: 'lost?' }));
    const [m] = await receive(sqs, dlq.url, 1);
    assert.ok(m, 'the message reached the DLQ');
    const body = JSON.parse(m.Body as string);
    assert.equal(body.Message, 'lost?');
    assert.equal(body.MessageId, pub.MessageId);
    assert.equal(m.MessageAttributes?.RequestID?.StringValue, pub.MessageId);
    assert.ok(m.MessageAttributes?.ErrorCode?.StringValue);
    await expectError(
      sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: (await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn })))
            .Subscriptions?.[0].SubscriptionArn,
          AttributeName: 'RedrivePolicy',
          AttributeValue: '{"deadLetterTargetArn": "nope"}',
        }),
      ),
      'InvalidParameterException',
      /RedrivePolicy/,
    );
  }));
