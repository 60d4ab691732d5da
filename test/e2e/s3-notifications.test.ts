/**
 * S3 event notifications through a real Nimbus and the real SDK clients: a bucket configuration
 * put and read back, a Lambda function invoked on upload (the record's fields, filters), a queue
 * getting s3:TestEvent and then the records of puts, copies, multipart uploads and deletes, an
 * SNS topic delivering to an SQS subscription, S3's validation errors, and a SAM template whose
 * function's S3 event fires on upload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  S3Client,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AddPermissionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until as waitUntil } from '../helpers/until.js';
import { deployStack } from '../helpers/stack.js';
import { createNodeFunctions, FN } from './gateway-helpers.js';

const ACCOUNT = '000000000000';
const qarn = (name: string) => `arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`;
const LOG_HANDLER = `exports.handler = async (event) => { console.log('S3EVENT ' + JSON.stringify(event)); };`;

interface S3Record {
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: Record<string, string>;
  s3: {
    s3SchemaVersion: string;
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
}

function s3Client(srv: TestServer): S3Client {
  return new S3Client({ ...srv.clientConfig, forcePathStyle: true });
}

/** `until` with this file's default wait. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000) => waitUntil(what, fn, ms);

/** The S3 records a function logged (handler LOG_HANDLER). */
async function loggedRecords(logs: CloudWatchLogsClient, fn: string): Promise<S3Record[]> {
  const out = await logs
    .send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${fn}`, filterPattern: 'S3EVENT' }))
    .catch(() => ({ events: [] as { message?: string }[] }));
  return (out.events ?? []).flatMap((e) => {
    const line = e.message ?? '';
    const i = line.indexOf('S3EVENT ');
    return i < 0 ? [] : (JSON.parse(line.slice(i + 8)) as { Records: S3Record[] }).Records;
  });
}

/** Receives until `n` message bodies arrived (or the time runs out). */
async function receive(sqs: SQSClient, queue: string, n: number): Promise<string[]> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue }));
  const bodies: string[] = [];
  await until(`${n} messages on ${queue}`, async () => {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...(r.Messages ?? []).map((m) => m.Body!));
    return bodies.length >= n ? true : undefined;
  });
  return bodies;
}

async function expectInvalidArgument(p: Promise<unknown>, message: string) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, 'InvalidArgument', `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    assert.equal(e.message, message);
    return true;
  });
}

async function allowS3(lambda: LambdaClient, fn: string) {
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: fn,
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceAccount: ACCOUNT,
    }),
  );
}

test('a Lambda function is invoked on upload with the S3 record; filters pick the keys', async () => {
  await using srv = await startTestServer();
  const s3 = s3Client(srv);
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  await createNodeFunctions(lambda, { onupload: LOG_HANDLER });
  await allowS3(lambda, 'onupload');
  await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'uploads',
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Id: 'incoming-text',
            LambdaFunctionArn: `${FN}onupload`,
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: [
                  { Name: 'prefix', Value: 'in/' },
                  { Name: 'suffix', Value: '.txt' },
                ],
              },
            },
          },
        ],
      },
    }),
  );
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'uploads' }));
  assert.deepEqual(got.LambdaFunctionConfigurations, [
    {
      Id: 'incoming-text',
      LambdaFunctionArn: `${FN}onupload`,
      Events: ['s3:ObjectCreated:*'],
      Filter: {
        Key: {
          FilterRules: [
            { Name: 'Prefix', Value: 'in/' },
            { Name: 'Suffix', Value: '.txt' },
          ],
        },
      },
    },
  ]);
  assert.equal(got.QueueConfigurations, undefined);

  const put = await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/a b.txt', Body: 'hello' }));
  const reqId = put.$metadata.requestId;
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/skip.png', Body: 'png' }));
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'out/skip.txt', Body: 'out' }));
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/second.txt', Body: '12345678' }));
  const records = await until('two invocations', async () => {
    const r = await loggedRecords(logs, 'onupload');
    return r.length >= 2 ? r : undefined;
  });
  assert.deepEqual(records.map((r) => r.s3.object.key).sort(), ['in/a+b.txt', 'in/second.txt']);
  const r = records.find((x) => x.s3.object.key === 'in/a+b.txt')!;
  assert.equal(r.eventVersion, '2.1');
  assert.equal(r.eventSource, 'aws:s3');
  assert.equal(r.awsRegion, 'us-east-1');
  assert.equal(r.eventName, 'ObjectCreated:Put');
  assert.ok(Math.abs(Date.parse(r.eventTime) - Date.now()) < 60_000, r.eventTime);
  assert.match(r.userIdentity.principalId, /^AWS:/);
  assert.match(r.requestParameters.sourceIPAddress, /127\.0\.0\.1|::1/);
  assert.equal(r.responseElements['x-amz-request-id'], reqId);
  assert.ok(r.responseElements['x-amz-id-2']);
  assert.equal(r.s3.s3SchemaVersion, '1.0');
  assert.equal(r.s3.configurationId, 'incoming-text');
  assert.equal(r.s3.bucket.name, 'uploads');
  assert.equal(r.s3.bucket.arn, 'arn:aws:s3:::uploads');
  assert.ok(r.s3.bucket.ownerIdentity.principalId);
  assert.equal(r.s3.object.size, 5);
  assert.equal(r.s3.object.eTag, put.ETag!.replace(/"/g, ''));
  assert.equal(r.s3.object.eTag, '5d41402abc4b2a76b9719d911017c592');
  assert.match(r.s3.object.sequencer, /^[0-9A-F]+$/);
  // The filtered-out keys never arrive.
  await new Promise((res) => setTimeout(res, 500));
  assert.equal((await loggedRecords(logs, 'onupload')).length, 2);

  // An empty configuration clears it: uploads no longer invoke.
  await s3.send(
    new PutBucketNotificationConfigurationCommand({ Bucket: 'uploads', NotificationConfiguration: {} }),
  );
  const cleared = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'uploads' }));
  assert.equal(cleared.LambdaFunctionConfigurations, undefined);
  await s3.send(new PutObjectCommand({ Bucket: 'uploads', Key: 'in/third.txt', Body: 'x' }));
  await new Promise((res) => setTimeout(res, 700));
  assert.equal((await loggedRecords(logs, 'onupload')).length, 2);
});

test('a queue gets s3:TestEvent, then records of put, copy, multipart and deletes', async () => {
  await using srv = await startTestServer();
  const s3 = s3Client(srv);
  const sqs = new SQSClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'events' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'docs' }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'docs',
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            QueueArn: qarn('events'),
            Events: ['s3:ObjectCreated:Put', 's3:ObjectCreated:CompleteMultipartUpload'],
          },
          { Id: 'copies', QueueArn: qarn('events'), Events: ['s3:ObjectCreated:Copy'] },
          { Id: 'removed', QueueArn: qarn('events'), Events: ['s3:ObjectRemoved:*'] },
        ],
      },
    }),
  );
  const conf = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'docs' }));
  assert.equal(conf.QueueConfigurations!.length, 3);
  const generatedId = conf.QueueConfigurations![0].Id!;
  assert.ok(generatedId.length > 0, 'an id is generated when absent');

  // One test event per destination queue.
  const [testBody] = await receive(sqs, 'events', 1);
  const test = JSON.parse(testBody);
  assert.equal(test.Service, 'Amazon S3');
  assert.equal(test.Event, 's3:TestEvent');
  assert.equal(test.Bucket, 'docs');
  assert.ok(!Number.isNaN(Date.parse(test.Time)));
  assert.ok(test.RequestId);
  assert.ok(test.HostId);

  const put = await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'a.txt', Body: 'abc' }));
  await s3.send(new CopyObjectCommand({ Bucket: 'docs', Key: 'b.txt', CopySource: 'docs/a.txt' }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'docs', Key: 'big.bin' }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: 'docs',
      Key: 'big.bin',
      UploadId: up.UploadId,
      PartNumber: 1,
      Body: 'part',
    }),
  );
  const done = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'docs',
      Key: 'big.bin',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  await s3.send(new DeleteObjectCommand({ Bucket: 'docs', Key: 'a.txt' }));
  await s3.send(
    new DeleteObjectsCommand({ Bucket: 'docs', Delete: { Objects: [{ Key: 'b.txt' }, { Key: 'big.bin' }] } }),
  );
  const bodies = await receive(sqs, 'events', 6);
  const records = bodies.map((b) => (JSON.parse(b) as { Records: S3Record[] }).Records[0]);
  const by = (name: string, key: string) =>
    records.find((r) => r.eventName === name && r.s3.object.key === key);
  const created = by('ObjectCreated:Put', 'a.txt')!;
  assert.ok(created, JSON.stringify(records.map((r) => [r.eventName, r.s3.object.key])));
  assert.equal(created.s3.configurationId, generatedId);
  assert.equal(created.s3.object.size, 3);
  assert.equal(created.s3.object.eTag, put.ETag!.replace(/"/g, ''));
  const copied = by('ObjectCreated:Copy', 'b.txt')!;
  assert.equal(copied.s3.configurationId, 'copies');
  assert.equal(copied.s3.object.size, 3);
  const multi = by('ObjectCreated:CompleteMultipartUpload', 'big.bin')!;
  assert.equal(multi.s3.object.size, 4);
  assert.equal(multi.s3.object.eTag, done.ETag!.replace(/"/g, ''));
  for (const key of ['a.txt', 'b.txt', 'big.bin']) {
    const removed = by('ObjectRemoved:Delete', key)!;
    assert.ok(removed, `ObjectRemoved:Delete for ${key}`);
    assert.equal(removed.s3.configurationId, 'removed');
    assert.equal(removed.s3.object.size, undefined);
    assert.equal(removed.s3.object.eTag, undefined);
    assert.ok(removed.s3.object.sequencer);
  }
  assert.equal(records.length, 6);
});

test('an SNS topic delivers the records to its SQS subscription with S3 subject', async () => {
  await using srv = await startTestServer();
  const s3 = s3Client(srv);
  const sqs = new SQSClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'fanout' }));
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'bucket-events' }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: qarn('fanout') }));
  await s3.send(new CreateBucketCommand({ Bucket: 'media' }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'media',
      NotificationConfiguration: {
        TopicConfigurations: [{ Id: 'to-topic', TopicArn, Events: ['s3:ObjectCreated:*'] }],
      },
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'media', Key: 'v/clip.mp4', Body: 'frames' }));
  const envelopes = (await receive(sqs, 'fanout', 2)).map((b) => JSON.parse(b));
  for (const e of envelopes) {
    assert.equal(e.Type, 'Notification');
    assert.equal(e.TopicArn, TopicArn);
    assert.equal(e.Subject, 'Amazon S3 Notification');
  }
  const messages = envelopes.map((e) => JSON.parse(e.Message));
  assert.ok(messages.some((m) => m.Event === 's3:TestEvent' && m.Bucket === 'media'));
  const rec = messages.find((m) => m.Records)!.Records[0] as S3Record;
  assert.equal(rec.eventName, 'ObjectCreated:Put');
  assert.equal(rec.s3.configurationId, 'to-topic');
  assert.equal(rec.s3.object.key, 'v/clip.mp4');
  assert.equal(rec.s3.object.size, 6);
});

test('EventBridge: with EventBridgeConfiguration every event reaches the default bus as aws.s3', async () => {
  await using srv = await startTestServer();
  const s3 = s3Client(srv);
  const sqs = new SQSClient(srv.clientConfig);
  const events = new EventBridgeClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'bus-seen' }));
  await events.send(
    new PutRuleCommand({
      Name: 's3-jpgs',
      EventPattern: JSON.stringify({
        source: ['aws.s3'],
        'detail-type': ['Object Created', 'Object Deleted'],
        detail: { bucket: { name: ['photos'] }, object: { key: [{ suffix: '.jpg' }] } },
      }),
    }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: 's3-jpgs', Targets: [{ Id: 'q', Arn: qarn('bus-seen') }] }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: 'photos' }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: 'photos',
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    }),
  );
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'photos' }));
  assert.deepEqual(got.EventBridgeConfiguration, {});
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a b.jpg', Body: 'pixels' }));
  await s3.send(new PutObjectCommand({ Bucket: 'photos', Key: 'notes.txt', Body: 'text' }));
  await s3.send(new DeleteObjectCommand({ Bucket: 'photos', Key: 'a b.jpg' }));
  const seen = (await receive(sqs, 'bus-seen', 2)).map((b) => JSON.parse(b) as Record<string, any>);
  assert.deepEqual(
    seen.map((e) => e['detail-type']),
    ['Object Created', 'Object Deleted'],
  );
  const [created, deleted] = seen;
  assert.equal(created.source, 'aws.s3');
  assert.deepEqual(created.resources, ['arn:aws:s3:::photos']);
  assert.equal(created.detail.object.key, 'a b.jpg');
  assert.equal(created.detail.object.size, 6);
  assert.equal(created.detail.reason, 'PutObject');
  assert.equal(deleted.detail.reason, 'DeleteObject');
  assert.equal(deleted.detail['deletion-type'], 'Permanently Deleted');
  // Only S3 itself may send aws.s3 events: a client's PutEvents with that source is refused.
  const own = await events.send(
    new PutEventsCommand({ Entries: [{ Source: 'aws.s3', DetailType: 'Object Created', Detail: '{}' }] }),
  );
  assert.equal(own.Entries?.[0].ErrorCode, 'NotAuthorizedForSourceException');
  sqs.destroy();
  events.destroy();
});

test("validation errors with S3's codes and messages", async () => {
  await using srv = await startTestServer();
  const s3 = s3Client(srv);
  const lambda = new LambdaClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'q1' }));
  await createNodeFunctions(lambda, { noperm: LOG_HANDLER });
  await s3.send(new CreateBucketCommand({ Bucket: 'strict' }));
  const put = (NotificationConfiguration: object) =>
    s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'strict', NotificationConfiguration }));
  await expectInvalidArgument(
    put({ QueueConfigurations: [{ QueueArn: qarn('q1'), Events: ['s3:ObjectCreated:Upload'] }] }),
    'The event is not supported for notifications',
  );
  await expectInvalidArgument(
    put({ QueueConfigurations: [{ QueueArn: qarn('nope'), Events: ['s3:ObjectCreated:*'] }] }),
    'Unable to validate the following destination configurations',
  );
  // The function exists but its policy does not let S3 invoke it.
  await expectInvalidArgument(
    put({
      LambdaFunctionConfigurations: [{ LambdaFunctionArn: `${FN}noperm`, Events: ['s3:ObjectCreated:*'] }],
    }),
    'Unable to validate the following destination configurations',
  );
  await expectInvalidArgument(
    put({
      QueueConfigurations: [
        {
          QueueArn: qarn('q1'),
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
        },
        {
          QueueArn: qarn('q1'),
          Events: ['s3:ObjectCreated:Put'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/b/' }] } },
        },
      ],
    }),
    'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
  );
  // Nothing was stored by the failed calls.
  const none = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'strict' }));
  assert.equal(none.QueueConfigurations, undefined);
  assert.equal(none.LambdaFunctionConfigurations, undefined);
  // Disjoint prefixes are fine; the permission makes the function valid; EventBridge is kept.
  await allowS3(lambda, 'noperm');
  await put({
    QueueConfigurations: [
      {
        QueueArn: qarn('q1'),
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'a/' }] } },
      },
      {
        QueueArn: qarn('q1'),
        Events: ['s3:ObjectCreated:Put'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'b/' }] } },
      },
    ],
    LambdaFunctionConfigurations: [{ LambdaFunctionArn: `${FN}noperm`, Events: ['s3:ObjectRemoved:*'] }],
    EventBridgeConfiguration: {},
  });
  const got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'strict' }));
  assert.equal(got.QueueConfigurations!.length, 2);
  assert.equal(got.LambdaFunctionConfigurations![0].LambdaFunctionArn, `${FN}noperm`);
  assert.deepEqual(got.EventBridgeConfiguration, {});
  await assert.rejects(s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'no-such-bucket' })), {
    name: 'NoSuchBucket',
  });
});

test('SAM: a function with an S3 event runs when a file is uploaded to the bucket', async () => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  const s3 = s3Client(srv);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const template = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Photos:
    Type: AWS::S3::Bucket
  Thumbnailer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        exports.handler = async (event) => { console.log('S3EVENT ' + JSON.stringify(event)); };
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Photos
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - Name: suffix
                    Value: .jpg
Outputs:
  BucketName:
    Value: !Ref Photos
  FunctionName:
    Value: !Ref Thumbnailer
`;
  const { phys } = await deployStack(cfn, 'photos', template);
  const bucket = phys('Photos');
  const fn = phys('Thumbnailer');
  assert.match(bucket, /^photos-photos-[a-z0-9]+$/);
  assert.ok(phys('ThumbnailerUploadPermission'));
  const conf = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  assert.equal(conf.LambdaFunctionConfigurations!.length, 1);
  assert.match(conf.LambdaFunctionConfigurations![0].LambdaFunctionArn!, new RegExp(`:function:${fn}$`));

  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cat.jpg', Body: 'meow' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'notes.txt', Body: 'skip' }));
  const records = await until(
    'the S3 event',
    async () => {
      const r = await loggedRecords(logs, fn);
      return r.length ? r : undefined;
    },
    30_000,
  );
  assert.equal(records[0].eventName, 'ObjectCreated:Put');
  assert.equal(records[0].s3.bucket.name, bucket);
  assert.equal(records[0].s3.object.key, 'cat.jpg');
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(
    (await loggedRecords(logs, fn)).map((r) => r.s3.object.key),
    ['cat.jpg'],
  );
});

test('SAM connectors: a bucket connected to a function (its permission) notifies it; function -> table policy', async () => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  const s3 = s3Client(srv);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Notes:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Inbox:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Indexer.Arn
    Connectors:
      ToIndexer:
        Properties:
          Destination: { Id: Indexer }
          Permissions: [Write]
  Indexer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        exports.handler = async (event) => { console.log('S3EVENT ' + JSON.stringify(event)); };
      Environment:
        Variables:
          TABLE: !Ref Notes
    Connectors:
      ToNotes:
        Properties:
          Destination: { Id: Notes }
          Permissions: [Read, Write]
`;
  const { phys, type } = await deployStack(cfn, 'connected', template);
  assert.equal(type('InboxToIndexerWriteLambdaPermission'), 'AWS::Lambda::Permission');
  assert.equal(type('IndexerToNotesPolicy'), 'AWS::IAM::ManagedPolicy');
  await s3.send(new PutObjectCommand({ Bucket: phys('Inbox'), Key: 'todo.txt', Body: 'milk' }));
  const records = await until(
    'the S3 event',
    async () => {
      const r = await loggedRecords(logs, phys('Indexer'));
      return r.length ? r : undefined;
    },
    30_000,
  );
  assert.equal(records[0].s3.object.key, 'todo.txt');
});
