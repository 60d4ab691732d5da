/**
 * The CloudFormation API through a real Nimbus and the real @aws-sdk/client-cloudformation:
 * create / update / delete a stack of a Lambda function, events, resources, templates, change
 * sets, exports, and AWS's errors for bad requests (nothing left behind).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListExportsCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  UpdateStackCommand,
  ValidateTemplateCommand,
  waitUntilChangeSetCreateComplete,
  waitUntilStackCreateComplete,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let cfn: CloudFormationClient;
let lambda: LambdaClient;
const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 };

before(async () => {
  srv = await startTestServer();
  cfn = new CloudFormationClient(srv.clientConfig);
  lambda = new LambdaClient(srv.clientConfig);
});
after(async () => {
  cfn?.destroy();
  lambda?.destroy();
  await srv?.close();
});

const fnTemplate = (memory: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'one function',
    Parameters: { Greeting: { Type: 'String', Default: 'hello' } },
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          MemorySize: memory,
          Role: 'arn:aws:iam::000000000000:role/lambda-role',
          Environment: { Variables: { GREETING: { Ref: 'Greeting' } } },
          Code: { ZipFile: 'exports.handler = async () => process.env.GREETING;' },
        },
      },
      ...extra,
    },
    Outputs: {
      FnArn: { Value: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Export: { Name: 'fn-arn' } },
      FnName: { Value: { Ref: 'Fn' }, Description: 'the name' },
    },
  });

test('create, describe, update and delete a stack of a function', async () => {
  const v = await cfn.send(new ValidateTemplateCommand({ TemplateBody: fnTemplate(128) }));
  assert.equal(v.Description, 'one function');
  assert.deepEqual(v.Parameters, [{ ParameterKey: 'Greeting', DefaultValue: 'hello', NoEcho: false }]);
  const { StackId } = await cfn.send(
    new CreateStackCommand({
      StackName: 'fn-stack',
      TemplateBody: fnTemplate(128),
      Tags: [{ Key: 'team', Value: 'a' }],
    }),
  );
  assert.match(StackId ?? '', /^arn:aws:cloudformation:us-east-1:000000000000:stack\/fn-stack\//);
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'fn-stack' });
  const [stack] = (await cfn.send(new DescribeStacksCommand({ StackName: 'fn-stack' }))).Stacks ?? [];
  assert.equal(stack.StackStatus, 'CREATE_COMPLETE');
  assert.ok(stack.CreationTime instanceof Date);
  assert.deepEqual(stack.Tags, [{ Key: 'team', Value: 'a' }]);
  assert.deepEqual(stack.Parameters, [{ ParameterKey: 'Greeting', ParameterValue: 'hello' }]);
  const name = stack.Outputs?.find((o) => o.OutputKey === 'FnName')?.OutputValue ?? '';
  assert.match(name, /^fn-stack-Fn-[A-Z0-9]{13}$/);
  assert.equal(stack.Outputs?.find((o) => o.OutputKey === 'FnArn')?.ExportName, 'fn-arn');
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  assert.equal(fn.Configuration?.MemorySize, 128);
  assert.equal(fn.Configuration?.Environment?.Variables?.GREETING, 'hello');

  const res = await cfn.send(new ListStackResourcesCommand({ StackName: 'fn-stack' }));
  assert.equal(res.StackResourceSummaries?.[0].PhysicalResourceId, name);
  assert.equal(res.StackResourceSummaries?.[0].ResourceStatus, 'CREATE_COMPLETE');
  const one = await cfn.send(
    new DescribeStackResourceCommand({ StackName: StackId, LogicalResourceId: 'Fn' }),
  );
  assert.equal(one.StackResourceDetail?.ResourceType, 'AWS::Lambda::Function');
  const events =
    (await cfn.send(new DescribeStackEventsCommand({ StackName: 'fn-stack' }))).StackEvents ?? [];
  assert.deepEqual(
    events.map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}`),
    [
      'fn-stack CREATE_COMPLETE',
      'Fn CREATE_COMPLETE',
      'Fn CREATE_IN_PROGRESS',
      'fn-stack CREATE_IN_PROGRESS',
    ],
  );
  const tpl = await cfn.send(new GetTemplateCommand({ StackName: 'fn-stack' }));
  assert.equal(tpl.TemplateBody, fnTemplate(128));
  const exp = await cfn.send(new ListExportsCommand({}));
  assert.deepEqual(
    exp.Exports?.map((e) => [e.Name, e.Value]),
    [['fn-arn', fn.Configuration?.FunctionArn]],
  );

  await assert.rejects(
    cfn.send(new UpdateStackCommand({ StackName: 'fn-stack', TemplateBody: fnTemplate(128) })),
    {
      name: 'ValidationError',
      message: 'No updates are to be performed.',
    },
  );
  await cfn.send(
    new UpdateStackCommand({
      StackName: 'fn-stack',
      TemplateBody: fnTemplate(256),
      Parameters: [{ ParameterKey: 'Greeting', ParameterValue: 'hi' }],
    }),
  );
  await waitUntilStackUpdateComplete({ client: cfn, ...wait }, { StackName: 'fn-stack' });
  const updated = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  assert.equal(updated.Configuration?.MemorySize, 256);
  assert.equal(updated.Configuration?.Environment?.Variables?.GREETING, 'hi');

  await cfn.send(new DeleteStackCommand({ StackName: 'fn-stack' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: StackId });
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: name })), {
    name: 'ResourceNotFoundException',
  });
  await assert.rejects(cfn.send(new DescribeStacksCommand({ StackName: 'fn-stack' })), {
    name: 'ValidationError',
    message: 'Stack with id fn-stack does not exist',
  });
  const byId = (await cfn.send(new DescribeStacksCommand({ StackName: StackId }))).Stacks?.[0];
  assert.equal(byId?.StackStatus, 'DELETE_COMPLETE');
  const listed = await cfn.send(new ListStacksCommand({ StackStatusFilter: ['DELETE_COMPLETE'] }));
  assert.ok(listed.StackSummaries?.some((s) => s.StackId === StackId));
  assert.deepEqual((await cfn.send(new ListExportsCommand({}))).Exports, []);
});

test('change sets: CREATE, describe, execute; no changes -> FAILED', async () => {
  const { Id } = await cfn.send(
    new CreateChangeSetCommand({
      StackName: 'cs-stack',
      ChangeSetName: 'first',
      ChangeSetType: 'CREATE',
      TemplateBody: fnTemplate(128).replace('fn-arn', 'cs-fn-arn'),
    }),
  );
  await waitUntilChangeSetCreateComplete({ client: cfn, ...wait }, { ChangeSetName: Id });
  const cs = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: 'first', StackName: 'cs-stack' }));
  assert.equal(cs.Status, 'CREATE_COMPLETE');
  assert.equal(cs.ExecutionStatus, 'AVAILABLE');
  assert.deepEqual(
    cs.Changes?.map((c) => [c.Type, c.ResourceChange?.Action, c.ResourceChange?.LogicalResourceId]),
    [['Resource', 'Add', 'Fn']],
  );
  const review = (await cfn.send(new DescribeStacksCommand({ StackName: 'cs-stack' }))).Stacks?.[0];
  assert.equal(review?.StackStatus, 'REVIEW_IN_PROGRESS');
  await cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: Id }));
  await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'cs-stack' });
  const same = await cfn.send(
    new CreateChangeSetCommand({
      StackName: 'cs-stack',
      ChangeSetName: 'same',
      UsePreviousTemplate: true,
      Parameters: [{ ParameterKey: 'Greeting', UsePreviousValue: true }],
    }),
  );
  const failed = await cfn.send(new DescribeChangeSetCommand({ ChangeSetName: same.Id }));
  assert.equal(failed.Status, 'FAILED');
  assert.equal(
    failed.StatusReason,
    "The submitted information didn't contain changes. Submit different information to create a change set.",
  );
  await assert.rejects(
    cfn.send(new DescribeChangeSetCommand({ ChangeSetName: 'nope', StackName: 'cs-stack' })),
    {
      name: 'ChangeSetNotFoundException',
    },
  );
  await cfn.send(new DeleteStackCommand({ StackName: 'cs-stack' }));
  await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: same.StackId });
});

test('bad requests answer as AWS does and leave nothing behind', async () => {
  await assert.rejects(
    cfn.send(
      new CreateStackCommand({
        StackName: 'bad',
        TemplateBody: JSON.stringify({ Resources: { X: { Type: 'AWS::Foo::Bar' } } }),
      }),
    ),
    {
      name: 'ValidationError',
      message: 'Template format error: Unrecognized resource types: [AWS::Foo::Bar]',
    },
  );
  await assert.rejects(
    cfn.send(
      new CreateStackCommand({
        StackName: 'bad',
        TemplateBody: JSON.stringify({ Resources: { R: { Type: 'AWS::IAM::Role', Properties: {} } } }),
      }),
    ),
    (e: Error) =>
      e.name === 'InsufficientCapabilitiesException' || /Unrecognized resource types/.test(e.message),
  );
  await assert.rejects(
    cfn.send(new CreateStackCommand({ StackName: 'bad', TemplateBody: JSON.stringify({ Resources: {} }) })),
    {
      name: 'ValidationError',
      message: 'Template format error: At least one Resources member must be defined.',
    },
  );
  await assert.rejects(
    cfn.send(new CreateStackCommand({ StackName: '1bad', TemplateBody: fnTemplate(128) })),
    {
      name: 'ValidationError',
    },
  );
  const summary = await cfn.send(new GetTemplateSummaryCommand({ TemplateBody: fnTemplate(128) }));
  assert.deepEqual(summary.ResourceTypes, ['AWS::Lambda::Function']);
  const stacks = await cfn.send(new ListStacksCommand({}));
  assert.ok(!stacks.StackSummaries?.some((s) => s.StackName === 'bad'));
  await assert.rejects(cfn.send(new DescribeStacksCommand({ StackName: 'bad' })), {
    message: 'Stack with id bad does not exist',
  });
});

test("TemplateURL reads the template from an object in this Nimbus's S3", async () => {
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'templates' }));
    const body = JSON.stringify({ Resources: { Q: { Type: 'AWS::SQS::Queue' } } });
    await s3.send(new PutObjectCommand({ Bucket: 'templates', Key: 'dir/queue.json', Body: body }));
    await cfn.send(
      new CreateStackCommand({
        StackName: 'from-url',
        TemplateURL: `${srv.endpoint}/templates/dir/queue.json`,
      }),
    );
    await waitUntilStackCreateComplete({ client: cfn, ...wait }, { StackName: 'from-url' });
    assert.equal((await cfn.send(new GetTemplateCommand({ StackName: 'from-url' }))).TemplateBody, body);
    await assert.rejects(
      cfn.send(
        new CreateStackCommand({
          StackName: 'no-url',
          TemplateURL: `${srv.endpoint}/templates/missing.json`,
        }),
      ),
      { name: 'ValidationError', message: 'S3 error: The specified key does not exist.' },
    );
    await cfn.send(new DeleteStackCommand({ StackName: 'from-url' }));
    await waitUntilStackDeleteComplete({ client: cfn, ...wait }, { StackName: 'from-url' }).catch(() => {});
  } finally {
    s3.destroy();
  }
});
