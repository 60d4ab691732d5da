/**
 * DynamoDB, SQS and SNS providers against a real Nimbus through the real SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DynamoDBClient,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  SQSClient,
  GetQueueAttributesCommand,
  SendMessageCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  SNSClient,
  GetTopicAttributesCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
} from '@aws-sdk/client-sns';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers } from './index.js';

test('DynamoDB::Table: create with GSI/stream/TTL, update GSIs/billing/stream, delete', async () => {
  await using srv = await startTestServer();
  const ddb = new DynamoDBClient(srv.clientConfig);
  const ctx = testContext(srv.clientConfig, 'Table');
  const p = providers['AWS::DynamoDB::Table'];
  const props1 = {
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'g', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    ProvisionedThroughput: { ReadCapacityUnits: '5', WriteCapacityUnits: '5' },
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byG',
        KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
        ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      },
    ],
    StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
    TimeToLiveSpecification: { AttributeName: 'exp', Enabled: 'true' },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  };
  const t = await p.create(props1, ctx);
  assert.match(t.physicalId, /^test-stack-Table-[A-Z0-9]{13}$/);
  assert.equal(t.attributes.Arn, `arn:aws:dynamodb:us-east-1:000000000000:table/${t.physicalId}`);
  assert.match(String(t.attributes.StreamArn), new RegExp(`table/${t.physicalId}/stream/`));
  await ddb.send(new PutItemCommand({ TableName: t.physicalId, Item: { pk: { S: 'a' } } }));
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: t.physicalId }));
  assert.equal(ttl.TimeToLiveDescription!.AttributeName, 'exp');

  const props2 = {
    ...props1,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'h', AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    ProvisionedThroughput: undefined,
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byH',
        KeySchema: [{ AttributeName: 'h', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
    StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
  const t2 = await p.update(t.physicalId, props2, { props: props1, attributes: t.attributes }, ctx);
  assert.equal(t2.physicalId, t.physicalId);
  const d = (await ddb.send(new DescribeTableCommand({ TableName: t.physicalId }))).Table!;
  assert.deepEqual(
    d.GlobalSecondaryIndexes!.map((g) => g.IndexName),
    ['byH'],
  );
  assert.equal(d.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
  assert.equal(d.StreamSpecification!.StreamViewType, 'NEW_AND_OLD_IMAGES');
  assert.equal(t2.attributes.StreamArn, d.LatestStreamArn);

  await p.delete(t.physicalId, props2, ctx);
  await p.delete(t.physicalId, props2, ctx);
  await assert.rejects(ddb.send(new DescribeTableCommand({ TableName: t.physicalId })), {
    name: 'ResourceNotFoundException',
  });
});

test('SQS Queue/QueuePolicy and SNS Topic/Subscription/TopicPolicy', async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  const ctx = testContext(srv.clientConfig, 'Q');
  const qP = providers['AWS::SQS::Queue'];

  const dlq = await qP.create({}, ctx);
  assert.match(dlq.physicalId, /\/000000000000\/test-stack-Q-[A-Z0-9]{13}$/);
  assert.equal(dlq.attributes.QueueUrl, dlq.physicalId);
  const qProps1 = {
    QueueName: 'orders',
    VisibilityTimeout: '45',
    RedrivePolicy: { deadLetterTargetArn: dlq.attributes.Arn, maxReceiveCount: 3 },
    Tags: [{ Key: 'a', Value: '1' }],
  };
  const q = await qP.create(qProps1, ctx);
  assert.deepEqual(q.attributes, {
    Arn: 'arn:aws:sqs:us-east-1:000000000000:orders',
    QueueName: 'orders',
    QueueUrl: q.physicalId,
  });
  const attrs = async () =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.physicalId, AttributeNames: ['All'] })))
      .Attributes!;
  assert.equal((await attrs()).VisibilityTimeout, '45');
  assert.equal(JSON.parse((await attrs()).RedrivePolicy!).maxReceiveCount, 3);
  const qProps2 = { QueueName: 'orders', DelaySeconds: 2 };
  await qP.update(q.physicalId, qProps2, { props: qProps1, attributes: q.attributes }, ctx);
  const a2 = await attrs();
  assert.equal(a2.VisibilityTimeout, '30');
  assert.equal(a2.DelaySeconds, '2');
  assert.equal(a2.RedrivePolicy, undefined);

  const fifo = await qP.create({ FifoQueue: 'true', ContentBasedDeduplication: true }, ctx);
  assert.match(fifo.physicalId, /\.fifo$/);

  const polP = providers['AWS::SQS::QueuePolicy'];
  const doc = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: '*' }],
  };
  const pol = await polP.create({ Queues: [q.physicalId], PolicyDocument: doc }, ctx);
  assert.deepEqual(JSON.parse((await attrs()).Policy!), doc);
  await polP.delete(pol.physicalId, { Queues: [q.physicalId], PolicyDocument: doc }, ctx);
  assert.equal((await attrs()).Policy ?? '', '');

  // SNS topic with an inline subscription to the queue.
  const tP = providers['AWS::SNS::Topic'];
  const tProps1 = { DisplayName: 'Orders', Subscription: [{ Protocol: 'sqs', Endpoint: q.attributes.Arn }] };
  const topic = await tP.create(tProps1, { ...ctx, logicalId: 'T' });
  assert.equal(topic.physicalId, topic.attributes.TopicArn);
  assert.match(String(topic.attributes.TopicName), /^test-stack-Q-/);
  await sns.send(new PublishCommand({ TopicArn: topic.physicalId, Message: 'hello' }));
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: q.physicalId, WaitTimeSeconds: 5 }));
  assert.equal(JSON.parse(got.Messages![0].Body!).Message, 'hello');
  const tProps2 = { DisplayName: 'Orders2', Subscription: [] };
  await tP.update(topic.physicalId, tProps2, { props: tProps1, attributes: topic.attributes }, ctx);
  const ta = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic.physicalId }));
  assert.equal(ta.Attributes!.DisplayName, 'Orders2');
  const subs = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic.physicalId }));
  assert.equal(subs.Subscriptions!.length, 0);

  // A Subscription resource with a filter policy and raw delivery.
  const sP = providers['AWS::SNS::Subscription'];
  const sProps1 = {
    TopicArn: topic.physicalId,
    Protocol: 'sqs',
    Endpoint: q.attributes.Arn,
    FilterPolicy: { kind: ['a'] },
    RawMessageDelivery: 'true',
  };
  const sub = await sP.create(sProps1, ctx);
  assert.match(sub.physicalId, new RegExp(`^${topic.physicalId}:`));
  const sProps2 = { ...sProps1, FilterPolicy: { kind: ['b'] } };
  await sP.update(sub.physicalId, sProps2, { props: sProps1, attributes: sub.attributes }, ctx);
  const sa = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.physicalId }));
  assert.deepEqual(JSON.parse(sa.Attributes!.FilterPolicy!), { kind: ['b'] });
  assert.equal(sa.Attributes!.RawMessageDelivery, 'true');
  await sns.send(
    new PublishCommand({
      TopicArn: topic.physicalId,
      Message: 'raw',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'b' } },
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: q.physicalId, MessageBody: 'x' }));
  const raw = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: q.physicalId, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }),
  );
  assert.ok(raw.Messages!.some((m) => m.Body === 'raw'));

  const tpP = providers['AWS::SNS::TopicPolicy'];
  const tdoc = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sns:Publish', Resource: topic.physicalId }],
  };
  const tpol = await tpP.create({ Topics: [topic.physicalId], PolicyDocument: tdoc }, ctx);
  const ta2 = await sns.send(new GetTopicAttributesCommand({ TopicArn: topic.physicalId }));
  assert.deepEqual(JSON.parse(ta2.Attributes!.Policy!), tdoc);
  await tpP.delete(tpol.physicalId, { Topics: [topic.physicalId], PolicyDocument: tdoc }, ctx);

  for (const [prov, id] of [
    [sP, sub.physicalId],
    [tP, topic.physicalId],
    [qP, q.physicalId],
    [qP, dlq.physicalId],
    [qP, fifo.physicalId],
  ] as const) {
    await prov.delete(id, {}, ctx);
    await prov.delete(id, {}, ctx);
  }
  await assert.rejects(
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: q.physicalId })),
    /NonExistentQueue|does not exist/,
  );
  await assert.rejects(sns.send(new GetTopicAttributesCommand({ TopicArn: topic.physicalId })), {
    name: 'NotFoundException',
  });
});
