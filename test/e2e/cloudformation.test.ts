/**
 * Real templates through @aws-sdk/client-cloudformation against a real Nimbus: a YAML
 * CloudFormation template (queue + topic + subscription + function + table) whose resources
 * work together, a SAM template, an update, a delete, and bad templates that fail with
 * CloudFormation's messages and leave nothing behind.
 */
import { after, before, test } from 'node:test';
import { request } from 'node:http';
import assert from 'node:assert/strict';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { GetFunctionCommand, LambdaClient, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let cfn: CloudFormationClient;
const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 };

before(async () => {
  srv = await startTestServer();
  cfn = new CloudFormationClient(srv.clientConfig);
});
after(async () => {
  cfn?.destroy();
  await srv?.close();
});

/** Creates a SAM stack (IAM and auto-expand capabilities), waits for it and answers its outputs by key. */
async function deploySam(StackName: string, TemplateBody: string): Promise<Record<string, string>> {
  await cfn.send(
    new CreateStackCommand({
      StackName,
      TemplateBody,
      Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_AUTO_EXPAND'],
    }),
  );
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName }))).Stacks![0];
  return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
}

const appTemplate = (retention: number) => `
AWSTemplateFormatVersion: '2010-09-09'
Description: queue, topic, subscription, function, table
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Inbox:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: ${retention}
  News:
    Type: AWS::SNS::Topic
  InboxPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Inbox]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: sns.amazonaws.com }
            Action: sqs:SendMessage
            Resource: !GetAtt Inbox.Arn
  NewsToInbox:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref News
      Protocol: sqs
      Endpoint: !GetAtt Inbox.Arn
      RawMessageDelivery: true
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  ProdOnly:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !Sub arn:aws:iam::\${AWS::AccountId}:role/worker
      Environment:
        Variables:
          TABLE: !Ref Items
          QUEUE_URL: !Ref Inbox
      Code:
        ZipFile: |
          exports.handler = async () => 'ok';
Outputs:
  QueueUrl:
    Value: !Ref Inbox
  TopicArn:
    Value: !Ref News
  Table:
    Value: !Ref Items
  Function:
    Value: !Ref Worker
`;

test('a CloudFormation template: resources created, wired together, updated and deleted', async () => {
  const { StackId } = await cfn.send(
    new CreateStackCommand({ StackName: 'app', TemplateBody: appTemplate(3600) }),
  );
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'app' });
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'app' }))).Stacks![0];
  const out = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'app' })))
    .StackResourceSummaries!;
  assert.deepEqual(
    resources.map((r) => r.LogicalResourceId).sort(),
    ['InboxPolicy', 'Inbox', 'Items', 'News', 'NewsToInbox', 'Worker'].sort(),
  );
  const sqs = new SQSClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  try {
    await sns.send(new PublishCommand({ TopicArn: out.TopicArn, Message: 'through the stack' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: out.QueueUrl, WaitTimeSeconds: 5 }));
    assert.equal(got.Messages?.[0]?.Body, 'through the stack');
    const fn = await lambda.send(new GetFunctionCommand({ FunctionName: out.Function }));
    assert.equal(fn.Configuration?.Environment?.Variables?.TABLE, out.Table);
    assert.equal(fn.Configuration?.Environment?.Variables?.QUEUE_URL, out.QueueUrl);
    assert.equal(
      (await ddb.send(new DescribeTableCommand({ TableName: out.Table }))).Table?.TableStatus,
      'ACTIVE',
    );

    await cfn.send(
      new UpdateStackCommand({
        StackName: 'app',
        TemplateBody: appTemplate(7200),
        Parameters: [{ ParameterKey: 'Stage', ParameterValue: 'prod' }],
      }),
    );
    await waitUntilStackUpdateComplete({ client: cfn, ...wait }, { StackName: 'app' });
    const after = (await cfn.send(new ListStackResourcesCommand({ StackName: 'app' })))
      .StackResourceSummaries!;
    assert.ok(after.some((r) => r.LogicalResourceId === 'ProdOnly'));
    assert.equal(after.find((r) => r.LogicalResourceId === 'Inbox')?.PhysicalResourceId, out.QueueUrl);

    await cfn.send(new DeleteStackCommand({ StackName: 'app' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: StackId });
    const queues = await sqs.send(new ListQueuesCommand({}));
    assert.deepEqual(queues.QueueUrls ?? [], []);
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: out.Function })), {
      name: 'ResourceNotFoundException',
    });
  } finally {
    sqs.destroy();
    sns.destroy();
    lambda.destroy();
    ddb.destroy();
  }
});

test('a SAM template: function with an SQS event', async () => {
  const sam = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Handler:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/handler
      InlineCode: "exports.handler = async () => ({});"
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 5
Outputs:
  Fn:
    Value: !Ref Handler
`;
  await assert.rejects(cfn.send(new CreateStackCommand({ StackName: 'sam', TemplateBody: sam })), {
    name: 'InsufficientCapabilitiesException',
    message: 'Requires capabilities : [CAPABILITY_AUTO_EXPAND]',
  });
  const { StackId } = await cfn.send(
    new CreateStackCommand({ StackName: 'sam', TemplateBody: sam, Capabilities: ['CAPABILITY_AUTO_EXPAND'] }),
  );
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'sam' });
  const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'sam' })))
    .StackResourceSummaries!;
  assert.deepEqual(resources.map((r) => `${r.LogicalResourceId} ${r.ResourceType}`).sort(), [
    'Handler AWS::Lambda::Function',
    'HandlerWork AWS::Lambda::EventSourceMapping',
    'Jobs AWS::SQS::Queue',
  ]);
  const lambda = new LambdaClient(srv.clientConfig);
  try {
    const fnName = (await cfn.send(new DescribeStacksCommand({ StackName: 'sam' }))).Stacks![0].Outputs![0]
      .OutputValue;
    const esm = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fnName }));
    assert.equal(esm.EventSourceMappings?.[0]?.BatchSize, 5);
  } finally {
    lambda.destroy();
  }
  await cfn.send(new DeleteStackCommand({ StackName: 'sam' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: StackId });
});

test('bad templates: cycle, unknown ref, unsupported type, bad parameter -> errors, nothing left behind', async () => {
  const bad: [string, string, RegExp][] = [
    [
      'cycle',
      'Resources:\n  A:\n    Type: AWS::SQS::Queue\n    DependsOn: B\n  B:\n    Type: AWS::SQS::Queue\n    DependsOn: A\n',
      /^Circular dependency between resources: \[A, B\]$/,
    ],
    [
      'ref',
      'Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Ref Nope\n',
      /^Template format error: Unresolved resource dependencies \[Nope\] in the Resources block of the template$/,
    ],
    [
      'type',
      'Resources:\n  A:\n    Type: AWS::SQS::Queue\n  B:\n    Type: AWS::Foo::Bar\n',
      /^Template format error: Unrecognized resource types: \[AWS::Foo::Bar\]$/,
    ],
    [
      'param',
      'Parameters:\n  Size:\n    Type: Number\nResources:\n  A:\n    Type: AWS::SQS::Queue\n',
      /^Parameters: \[Size\] must have values$/,
    ],
    ['yaml', 'Resources: [unclosed', /^Template format error: YAML not well-formed/],
  ];
  for (const [name, body, message] of bad)
    await assert.rejects(cfn.send(new CreateStackCommand({ StackName: `bad-${name}`, TemplateBody: body })), {
      name: 'ValidationError',
      message,
    });
  const stacks = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
  assert.ok(!stacks.some((s) => s.StackName?.startsWith('bad-')));
  const sqs = new SQSClient(srv.clientConfig);
  try {
    assert.deepEqual((await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [], []);
  } finally {
    sqs.destroy();
  }
});

test('a SAM template with an HttpApi event: the URL answers with the function', async () => {
  const sam = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/hello
      InlineCode: "exports.handler = async (e) => ({ statusCode: 200, body: 'hi from ' + e.rawPath });"
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: GET
Outputs:
  ApiId:
    Value: !Ref ServerlessHttpApi
`;
  const { StackId } = await cfn.send(
    new CreateStackCommand({
      StackName: 'sam-http',
      TemplateBody: sam,
      Capabilities: ['CAPABILITY_AUTO_EXPAND'],
    }),
  );
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'sam-http' });
  const apiId = (await cfn.send(new DescribeStacksCommand({ StackName: 'sam-http' }))).Stacks![0].Outputs![0]
    .OutputValue;
  const res = await fetch(`${srv.endpoint}/_api/${apiId}/hello`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hi from /hello');
  await cfn.send(new DeleteStackCommand({ StackName: 'sam-http' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: StackId });
  assert.equal((await fetch(`${srv.endpoint}/_api/${apiId}/hello`)).status, 404);
});

test('the SAM hello-world shape: an Api event makes ServerlessRestApi with a Prod stage', async () => {
  const sam = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 3
Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.lambdaHandler
      InlineCode: |
        exports.lambdaHandler = async (event) => ({
          statusCode: 200,
          body: JSON.stringify({ message: 'hello world', path: event.path, resource: event.resource }),
        });
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get
Outputs:
  HelloWorldApi:
    Description: API Gateway endpoint URL for Prod stage for Hello World function
    Value: !Sub "https://\${ServerlessRestApi}.execute-api.\${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Value: !GetAtt HelloWorldFunctionRole.Arn
`;
  const outputs = await deploySam('sam-app', sam);
  const url = new URL(outputs.HelloWorldApi);
  assert.match(outputs.HelloWorldFunction, /^arn:aws:lambda:/);
  assert.match(outputs.HelloWorldFunctionIamRole, /^arn:aws:iam::/);
  // The output URL works as it is, with its Host header, against the Nimbus port.
  // (fetch may not set Host: a plain request does, as curl -H 'Host: ...' would.)
  const port = new URL(srv.endpoint).port;
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: url.pathname, headers: { host: url.host } }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(JSON.parse(res.body), { message: 'hello world', path: '/hello/', resource: '/hello' });
  const byPath = await fetch(`${srv.endpoint}/_api/${url.host.split('.')[0]}/Prod/hello`);
  assert.equal(byPath.status, 200);
  await cfn.send(new DeleteStackCommand({ StackName: 'sam-app' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: 'sam-app' });
});

test('a SAM Api with Cors, GatewayResponses and a validated RequestModel', async () => {
  const sam = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Cors:
        AllowOrigin: "'https://app.example'"
        AllowHeaders: "'Content-Type,Authorization'"
        MaxAge: "'600'"
      GatewayResponses:
        DEFAULT_4XX:
          ResponseParameters:
            Headers:
              Access-Control-Allow-Origin: "'https://app.example'"
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: 404
          ResponseParameters:
            Headers:
              X-Reason: "'no-route'"
          ResponseTemplates:
            "application/json": '{"error":"no route","requestId":"$context.requestId"}'
      Models:
        Item:
          type: object
          required: [name]
          properties:
            name: { type: string, minLength: 1 }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: "exports.handler = async () => ({ statusCode: 200, headers: { 'Access-Control-Allow-Origin': 'https://app.example' }, body: 'hi' });"
      Events:
        Get:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /hello, Method: post }
        Create:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /items
            Method: post
            RequestParameters:
              - method.request.header.x-tenant:
                  Required: true
            RequestModel:
              Model: Item
              Required: true
              ValidateBody: true
              ValidateParameters: true
Outputs:
  ApiId:
    Value: !Ref Api
`;
  const base = `${srv.endpoint}/_api/${(await deploySam('sam-cors', sam)).ApiId}/prod`;
  // What a browser sends before a cross-origin POST with a JSON body.
  const pre = await fetch(`${base}/hello`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  assert.equal(pre.headers.get('access-control-allow-methods'), 'OPTIONS,POST');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'Content-Type,Authorization');
  assert.equal(pre.headers.get('access-control-max-age'), '600');
  const post = await fetch(`${base}/hello`, { method: 'POST', body: '{}' });
  assert.equal(await post.text(), 'hi');
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('x-reason'), 'no-route');
  // A type with its own response does not take DEFAULT_4XX's headers (as on AWS).
  assert.equal(missing.headers.get('access-control-allow-origin'), null);
  assert.deepEqual(await missing.json(), {
    error: 'no route',
    requestId: missing.headers.get('x-amzn-requestid'),
  });
  // The RequestModel with ValidateBody / ValidateParameters: checked before the function runs.
  const create = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/items`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const noTenant = await create('{"name":"a"}', {});
  assert.equal(noTenant.status, 400);
  assert.deepEqual(await noTenant.json(), { message: 'Missing required request parameters: [x-tenant]' });
  const badBody = await create('{"name":""}', { 'x-tenant': 't' });
  assert.equal(badBody.status, 400);
  assert.deepEqual(await badBody.json(), { message: 'Invalid request body' });
  assert.equal(badBody.headers.get('access-control-allow-origin'), 'https://app.example', 'DEFAULT_4XX');
  const created = await create('{"name":"a"}', { 'x-tenant': 't' });
  assert.equal(created.status, 200);
  await cfn.send(new DeleteStackCommand({ StackName: 'sam-cors' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: 'sam-cors' });
});
