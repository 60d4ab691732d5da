/**
 * HTTP APIs: AWS service integrations (IntegrationSubtype SQS-SendMessage, SQS-ReceiveMessage,
 * SQS-DeleteMessage, EventBridge-PutEvents) through the real @aws-sdk/client-apigatewayv2, the
 * services checked with their own SDK clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  GetIntegrationCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { startTestServer } from '../helpers/server.js';

test('HTTP APIs: AWS service integrations (SQS, EventBridge)', async (t) => {
  await using srv = await startTestServer();
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const events = new EventBridgeClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    sqs.destroy();
    events.destroy();
  });
  const queue = (await sqs.send(new CreateQueueCommand({ QueueName: 'jobs' }))).QueueUrl!;
  const audit = (await sqs.send(new CreateQueueCommand({ QueueName: 'audit' }))).QueueUrl!;
  await events.send(
    new PutRuleCommand({ Name: 'orders', EventPattern: JSON.stringify({ source: ['shop'] }) }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: 'orders',
      Targets: [{ Id: 'audit', Arn: 'arn:aws:sqs:us-east-1:000000000000:audit' }],
    }),
  );
  const api = await gw.send(new CreateApiCommand({ Name: 'storage-first', ProtocolType: 'HTTP' }));
  const ApiId = api.ApiId!;
  const role = 'arn:aws:iam::000000000000:role/apigw';
  const route = async (RouteKey: string, subtype: string, params: Record<string, string>) => {
    const i = await gw.send(
      new CreateIntegrationCommand({
        ApiId,
        IntegrationType: 'AWS_PROXY',
        IntegrationSubtype: subtype,
        CredentialsArn: role,
        PayloadFormatVersion: '1.0',
        RequestParameters: params,
      }),
    );
    await gw.send(new CreateRouteCommand({ ApiId, RouteKey, Target: `integrations/${i.IntegrationId}` }));
    return i;
  };
  const send = await route('POST /jobs', 'SQS-SendMessage', {
    QueueUrl: queue,
    MessageBody: '$request.body',
    MessageAttributes: '{"tenant": {"DataType": "String", "StringValue": "${request.header.x-tenant}"}}',
  });
  await route('GET /jobs', 'SQS-ReceiveMessage', {
    QueueUrl: queue,
    MaxNumberOfMessages: '$request.querystring.max',
    MessageAttributeNames: 'All',
  });
  await route('DELETE /jobs', 'SQS-DeleteMessage', {
    QueueUrl: queue,
    ReceiptHandle: '$request.header.x-receipt',
  });
  await route('POST /orders', 'EventBridge-PutEvents', {
    Source: 'shop',
    DetailType: 'OrderPlaced',
    Detail: '$request.body',
    Resources: 'arn:aws:shop:order/${request.body.id}',
  });
  await gw.send(new CreateStageCommand({ ApiId, StageName: '$default', AutoDeploy: true }));
  const base = api.ApiEndpoint!;

  await t.test('the integration is stored as created', async () => {
    const got = await gw.send(new GetIntegrationCommand({ ApiId, IntegrationId: send.IntegrationId }));
    assert.equal(got.IntegrationType, 'AWS_PROXY');
    assert.equal(got.IntegrationSubtype, 'SQS-SendMessage');
    assert.equal(got.CredentialsArn, role);
    assert.equal(got.PayloadFormatVersion, '1.0');
    assert.equal(got.RequestParameters?.MessageBody, '$request.body');
  });

  await t.test('SQS-SendMessage, -ReceiveMessage and -DeleteMessage', async () => {
    const r = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant': 'acme' },
      body: JSON.stringify({ task: 'resize', id: 7 }),
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const sent = (await r.json()) as { SendMessageResponse: { SendMessageResult: { MessageId: string } } };
    const messageId = sent.SendMessageResponse.SendMessageResult.MessageId;
    assert.ok(messageId);

    const got = await fetch(`${base}/jobs?max=5`);
    assert.equal(got.status, 200);
    const received = (await got.json()) as {
      ReceiveMessageResponse: {
        ReceiveMessageResult: {
          Message: { MessageId: string; Body: string; ReceiptHandle: string; MessageAttribute: unknown[] }[];
        };
      };
    };
    const [m] = received.ReceiveMessageResponse.ReceiveMessageResult.Message;
    assert.equal(m.MessageId, messageId);
    assert.deepEqual(JSON.parse(m.Body), { task: 'resize', id: 7 });
    assert.deepEqual(m.MessageAttribute, [
      { Name: 'tenant', Value: { StringValue: 'acme', DataType: 'String' } },
    ]);

    const del = await fetch(`${base}/jobs`, { method: 'DELETE', headers: { 'x-receipt': m.ReceiptHandle } });
    assert.equal(del.status, 200);
    await del.body?.cancel();
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue,
        AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    assert.equal(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible, '0');

    // The service's own error passes through: an invalid receipt handle.
    const bad = await fetch(`${base}/jobs`, { method: 'DELETE', headers: { 'x-receipt': 'nope' } });
    assert.equal(bad.status, 404, 'SQS answers ReceiptHandleIsInvalid with 404');
    const err = (await bad.json()) as { Error: { Code: string } };
    assert.equal(err.Error.Code, 'ReceiptHandleIsInvalid');
  });

  await t.test('EventBridge-PutEvents reaches the rules of the bus', async () => {
    const r = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'o-1', total: 12 }),
    });
    assert.equal(r.status, 200);
    const out = (await r.json()) as { FailedEntryCount: number; Entries: { EventId: string }[] };
    assert.equal(out.FailedEntryCount, 0);
    assert.ok(out.Entries[0].EventId);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: audit, WaitTimeSeconds: 2 }));
    const event = JSON.parse(got.Messages![0].Body!) as Record<string, unknown>;
    assert.equal(event.source, 'shop');
    assert.equal(event['detail-type'], 'OrderPlaced');
    assert.deepEqual(event.detail, { id: 'o-1', total: 12 });
    assert.deepEqual(event.resources, ['arn:aws:shop:order/o-1']);
    assert.equal(event.id, out.Entries[0].EventId);
  });

  await t.test('CreateIntegration validation', async () => {
    const fails = async (input: Record<string, unknown>, message: RegExp) => {
      const e = await gw
        .send(new CreateIntegrationCommand({ ApiId, IntegrationType: 'AWS_PROXY', ...input } as never))
        .then(
          () => undefined,
          (x: unknown) => x as { name: string; message: string },
        );
      assert.equal(e?.name, 'BadRequestException');
      assert.match(e.message, message);
    };
    await fails({ IntegrationSubtype: 'SQS-Teleport', RequestParameters: {} }, /Invalid IntegrationSubtype/);
    await fails(
      { IntegrationSubtype: 'Kinesis-PutRecord', RequestParameters: { StreamName: 's' } },
      /not supported by Nimbus/,
    );
    await fails(
      { IntegrationSubtype: 'SQS-SendMessage', RequestParameters: { QueueUrl: queue } },
      /MessageBody is required/,
    );
    await fails(
      {
        IntegrationSubtype: 'SQS-SendMessage',
        RequestParameters: { QueueUrl: queue, MessageBody: 'x', Color: 'red' },
      },
      /Color is not supported/,
    );
    await fails(
      {
        IntegrationSubtype: 'SQS-PurgeQueue',
        PayloadFormatVersion: '2.0',
        RequestParameters: { QueueUrl: queue },
      },
      /PayloadFormatVersion must be 1.0/,
    );
  });
});
