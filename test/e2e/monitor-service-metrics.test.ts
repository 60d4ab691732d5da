/**
 * Built-in metrics of the other services, read back with @aws-sdk/client-cloudwatch after
 * real traffic: AWS/SQS (sent, received, empty receives, deleted, sizes), AWS/SNS (published,
 * delivered), AWS/DynamoDB (consumed read and write capacity) and AWS/ApiGateway (count, 4xx,
 * latency of an HTTP API in front of a function).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ApiGatewayV2Client, CreateApiCommand, UpdateStageCommand } from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateStageCommand as UpdateRestStageCommand,
} from '@aws-sdk/client-api-gateway';
import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, GetMetricStatisticsCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import {
  SQSClient,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  DynamoDBClient,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  BatchWriteItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startTestServer } from '../helpers/server.js';

test('built-in AWS/SQS, AWS/SNS, AWS/DynamoDB and AWS/ApiGateway metrics', async () => {
  await using srv = await startTestServer();
  const cw = new CloudWatchClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const t0 = new Date(Date.now() - 120_000);
  const sum = async (Namespace: string, MetricName: string, Dimensions: Dimension[], stat = 'Sum') => {
    const r = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace,
        MetricName,
        Dimensions,
        StartTime: t0,
        EndTime: new Date(Date.now() + 120_000),
        Period: 3600,
        Statistics: [stat as 'Sum'],
      }),
    );
    const dp = r.Datapoints ?? [];
    return dp.reduce((s, d) => s + ((d as Record<string, number>)[stat] ?? 0), 0);
  };

  // SQS: 3 sent (one through SNS), 2 received in one call, 1 empty receive, 2 deleted.
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'world!' }));
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'events' }));
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: arn,
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  await sns.send(new PublishCommand({ TopicArn, Message: 'via sns' }));
  const got: string[] = [];
  for (let i = 0; i < 50 && got.length < 3; i++) {
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of r.Messages ?? []) {
      got.push(m.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  assert.equal(got.length, 3);
  await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
  const q = [{ Name: 'QueueName', Value: 'orders' }];
  assert.equal(await sum('AWS/SQS', 'NumberOfMessagesSent', q), 3);
  assert.equal(await sum('AWS/SQS', 'NumberOfMessagesReceived', q), 3);
  assert.equal(await sum('AWS/SQS', 'NumberOfMessagesDeleted', q), 3);
  assert.ok((await sum('AWS/SQS', 'NumberOfEmptyReceives', q)) >= 1);
  assert.equal(await sum('AWS/SQS', 'SentMessageSize', q, 'Maximum'), 7);
  const t = [{ Name: 'TopicName', Value: 'events' }];
  assert.equal(await sum('AWS/SNS', 'NumberOfMessagesPublished', t), 1);
  assert.equal(await sum('AWS/SNS', 'NumberOfNotificationsDelivered', t), 1);
  assert.equal(await sum('AWS/SNS', 'PublishSize', t), 7);

  // DynamoDB: a 1 KB item written (1 WCU) and read eventually consistent (0.5 RCU), plus a batch of 2.
  await ddb.send(
    new CreateTableCommand({
      TableName: 'things',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new PutItemCommand({ TableName: 'things', Item: { id: { S: 'a' }, v: { S: 'x'.repeat(500) } } }),
  );
  await ddb.send(new GetItemCommand({ TableName: 'things', Key: { id: { S: 'a' } } }));
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        things: [{ PutRequest: { Item: { id: { S: 'b' } } } }, { PutRequest: { Item: { id: { S: 'c' } } } }],
      },
    }),
  );
  const tb = [{ Name: 'TableName', Value: 'things' }];
  assert.equal(await sum('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', tb), 3);
  assert.equal(await sum('AWS/DynamoDB', 'ConsumedReadCapacityUnits', tb), 0.5);

  // API Gateway: an HTTP API quick-created in front of a function; two 200s and one 404.
  const lambda = new LambdaClient(srv.clientConfig);
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from('exports.handler = async () => ({ ok: true });'), '', 0o644 << 16);
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'api-fn',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      Code: { ZipFile: z.toBuffer() },
    }),
  );
  const api = await new ApiGatewayV2Client(srv.clientConfig).send(
    new CreateApiCommand({ Name: 'm', ProtocolType: 'HTTP', Target: fn.FunctionArn, RouteKey: 'GET /hi' }),
  );
  for (const p of ['hi', 'hi', 'nope']) await (await fetch(`${api.ApiEndpoint}/${p}`)).arrayBuffer();
  const a = [{ Name: 'ApiId', Value: api.ApiId! }];
  assert.equal(await sum('AWS/ApiGateway', 'Count', a), 3);
  assert.equal(await sum('AWS/ApiGateway', '4xx', a), 1);
  assert.equal(await sum('AWS/ApiGateway', '5xx', a), 0);
  assert.equal(await sum('AWS/ApiGateway', 'Count', [...a, { Name: 'Stage', Value: '$default' }]), 3);
  assert.ok((await sum('AWS/ApiGateway', 'Latency', a, 'SampleCount')) === 3);
  assert.ok((await sum('AWS/ApiGateway', 'IntegrationLatency', a, 'SampleCount')) === 2);
  // No per-route metrics until detailed metrics are on; then ApiId+Stage+Route too.
  const route = [...a, { Name: 'Stage', Value: '$default' }, { Name: 'Route', Value: 'GET /hi' }];
  assert.equal(await sum('AWS/ApiGateway', 'Count', route), 0);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  await v2.send(
    new UpdateStageCommand({
      ApiId: api.ApiId,
      StageName: '$default',
      DefaultRouteSettings: { DetailedMetricsEnabled: true },
    }),
  );
  await sleep(1100);
  for (const p of ['hi', 'hi']) await (await fetch(`${api.ApiEndpoint}/${p}`)).arrayBuffer();
  assert.equal(await sum('AWS/ApiGateway', 'Count', route), 2);
  v2.destroy();

  // REST APIs: the stage's `*/*` metrics/enabled adds ApiName+Method+Resource+Stage.
  const rest = new APIGatewayClient(srv.clientConfig);
  const r = await rest.send(new CreateRestApiCommand({ name: 'metered' }));
  const res = await rest.send(
    new CreateResourceCommand({ restApiId: r.id, parentId: r.rootResourceId, pathPart: 'ping' }),
  );
  await rest.send(
    new PutMethodCommand({
      restApiId: r.id,
      resourceId: res.id,
      httpMethod: 'GET',
      authorizationType: 'NONE',
    }),
  );
  await rest.send(
    new PutIntegrationCommand({
      restApiId: r.id,
      resourceId: res.id,
      httpMethod: 'GET',
      type: 'MOCK',
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
    }),
  );
  await rest.send(
    new PutMethodResponseCommand({
      restApiId: r.id,
      resourceId: res.id,
      httpMethod: 'GET',
      statusCode: '200',
    }),
  );
  await rest.send(
    new PutIntegrationResponseCommand({
      restApiId: r.id,
      resourceId: res.id,
      httpMethod: 'GET',
      statusCode: '200',
    }),
  );
  await rest.send(new CreateDeploymentCommand({ restApiId: r.id, stageName: 'prod' }));
  await rest.send(
    new UpdateRestStageCommand({
      restApiId: r.id,
      stageName: 'prod',
      patchOperations: [
        { op: 'replace', path: '/*/*/metrics/enabled', value: 'true' },
        { op: 'replace', path: '/*/*/logging/loglevel', value: 'INFO' },
      ],
    }),
  );
  await sleep(1100);
  for (let i = 0; i < 3; i++) await (await fetch(`${srv.endpoint}/_api/${r.id}/prod/ping`)).arrayBuffer();
  const method = [
    { Name: 'ApiName', Value: 'metered' },
    { Name: 'Method', Value: 'GET' },
    { Name: 'Resource', Value: '/ping' },
    { Name: 'Stage', Value: 'prod' },
  ];
  assert.equal(await sum('AWS/ApiGateway', 'Count', method), 3);
  assert.equal(await sum('AWS/ApiGateway', 'Count', [{ Name: 'ApiName', Value: 'metered' }]), 3);
  // logging/loglevel INFO: the execution log of every request.
  const cwl = new CloudWatchLogsClient(srv.clientConfig);
  const exec = await cwl.send(
    new FilterLogEventsCommand({
      logGroupName: `API-Gateway-Execution-Logs_${r.id}/prod`,
      filterPattern: '"Method completed with status: 200"',
    }),
  );
  assert.equal(exec.events?.length, 3);
  assert.match(exec.events![0].message!, /^\([0-9a-f-]+\) Method completed with status: 200$/);
  cwl.destroy();
  rest.destroy();
});
