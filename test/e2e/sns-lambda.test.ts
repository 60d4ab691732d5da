/**
 * SNS -> Lambda: a subscribed function receives the SNS event (an async invoke through
 * Lambda's durable queue) with the shape of AWS's sample event; a missing function sends the
 * message to the subscription's DLQ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AdmZip from 'adm-zip';
import { LambdaClient, CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand } from '@aws-sdk/client-sns';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { startTestServer } from '../helpers/server.js';

const SAMPLE = JSON.parse(
  readFileSync(
    new URL('../../../test/fixtures/aws-events/sns-event.json', import.meta.url),
    'utf8',
  ).toString(),
) as {
  Records: Record<string, unknown>[];
};

function keysDeep(v: unknown): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>)
    .flatMap(([k, x]) => [k, ...(k === 'MessageAttributes' ? [] : keysDeep(x).map((s) => `${k}.${s}`))])
    .sort();
}

test('SNS delivers to Lambda with the SNS event shape; a missing function goes to the DLQ', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  try {
    const z = new AdmZip();
    z.addFile(
      'index.js',
      Buffer.from(
        `exports.handler = async (event) => { console.log('SNSEVENT ' + JSON.stringify(event)); return 1; };`,
      ),
      '',
      0o644 << 16,
    );
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'on-sns',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: z.toBuffer() },
      }),
    );
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'to-lambda' }));
    const sub = await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'lambda', Endpoint: fn.FunctionArn }),
    );
    const pub = await sns.send(
      new PublishCommand({
        TopicArn,
        Message: 'Hello from SNS!',
        Subject: 'TestInvoke',
        MessageAttributes: {
          Test: { DataType: 'String', StringValue: 'TestString' },
          TestBinary: { DataType: 'Binary', BinaryValue: Buffer.from('TestBinary') },
        },
      }),
    );
    let event: { Records: Record<string, unknown>[] } | undefined;
    for (let i = 0; i < 300 && !event; i++) {
      const ev = await logs
        .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/on-sns', filterPattern: 'SNSEVENT' }))
        .catch(() => ({ events: [] as { message?: string }[] })); // no log group before the first run
      const line = ev.events?.find((e) => e.message?.includes('SNSEVENT'))?.message;
      if (line) event = JSON.parse(line.slice(line.indexOf('SNSEVENT ') + 9));
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(event, 'the function ran with the SNS event');
    assert.deepEqual(
      keysDeep(event.Records[0]),
      keysDeep(SAMPLE.Records[0]),
      'same fields as the AWS sample event',
    );
    const rec = event.Records[0] as { EventSubscriptionArn: string; Sns: Record<string, unknown> };
    assert.equal(rec.EventSubscriptionArn, sub.SubscriptionArn);
    assert.equal(rec.Sns.MessageId, pub.MessageId);
    assert.equal(rec.Sns.Message, 'Hello from SNS!');
    assert.equal(rec.Sns.Subject, 'TestInvoke');
    assert.deepEqual(rec.Sns.MessageAttributes, {
      Test: { Type: 'String', Value: 'TestString' },
      TestBinary: { Type: 'Binary', Value: Buffer.from('TestBinary').toString('base64') },
    });

    // A subscription to a function that does not exist: straight to the DLQ.
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'lambda-dlq' }));
    const qa = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'lambda',
        Endpoint: 'arn:aws:lambda:us-east-1:000000000000:function:missing',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: qa.Attributes?.QueueArn }) },
      }),
    );
    await sns.send(new PublishCommand({ TopicArn, Message: 'nobody home' }));
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 15, MessageAttributeNames: ['All'] }),
    );
    assert.equal(r.Messages?.[0]?.Body, 'nobody home');
    assert.equal(r.Messages?.[0]?.MessageAttributes?.ErrorCode?.StringValue, 'ResourceNotFoundException');
  } finally {
    lambda.destroy();
    logs.destroy();
    sns.destroy();
    sqs.destroy();
  }
});
