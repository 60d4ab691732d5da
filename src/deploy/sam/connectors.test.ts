import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Template } from '../types.js';
import { SAM_TRANSFORM, transformSam } from './index.js';

const opts = { region: 'us-east-1', accountId: '000000000000', stackName: 'app', parameters: {} };

const fn = (extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::Serverless::Function',
  Properties: { CodeUri: 's3://b/k', Handler: 'index.handler', Runtime: 'nodejs20.x' },
  ...extra,
});

const sam = (resources: Template['Resources']) =>
  transformSam({ Transform: SAM_TRANSFORM, Resources: resources }, opts);

test('an embedded connector from a function to a table becomes a managed policy on its role', () => {
  const out = sam({
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Writer: fn({
      Connectors: {
        TableConn: { Properties: { Destination: { Id: 'Table' }, Permissions: ['Read', 'Write'] } },
      },
    }),
  });
  const policy = out.Resources.WriterTableConnPolicy;
  assert.equal(policy.Type, 'AWS::IAM::ManagedPolicy');
  const props = policy.Properties as Record<string, any>;
  assert.deepEqual(props.Roles, [{ Ref: 'WriterRole' }]);
  const actions = props.PolicyDocument.Statement.flatMap((s: { Action: string[] }) => s.Action);
  assert.ok(actions.includes('dynamodb:GetItem') && actions.includes('dynamodb:PutItem'));
  assert.deepEqual(props.PolicyDocument.Statement[0].Resource[0], { 'Fn::GetAtt': ['Table', 'Arn'] });
  assert.equal(
    (out.Resources.Writer as { Connectors?: unknown }).Connectors,
    undefined,
    'the attribute is gone',
  );
});

test('S3 -> function: a Lambda permission for s3.amazonaws.com that the bucket depends on', () => {
  const out = sam({
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Handler: fn(),
    BucketToHandler: {
      Type: 'AWS::Serverless::Connector',
      Properties: { Source: { Id: 'Bucket' }, Destination: { Id: 'Handler' }, Permissions: ['Write'] },
    },
  });
  const perm = out.Resources.BucketToHandlerWriteLambdaPermission;
  assert.equal(perm.Type, 'AWS::Lambda::Permission');
  assert.deepEqual(perm.Properties, {
    Action: 'lambda:InvokeFunction',
    FunctionName: { 'Fn::GetAtt': ['Handler', 'Arn'] },
    Principal: 's3.amazonaws.com',
    SourceAccount: { Ref: 'AWS::AccountId' },
  });
  assert.deepEqual(out.Resources.Bucket.DependsOn, ['BucketToHandlerWriteLambdaPermission']);
  assert.equal(out.Resources.BucketToHandler, undefined, 'the connector itself is not a resource');
});

test('SNS -> SQS and a rule -> topic: resource policies; an API -> function: a permission on the API', () => {
  const out = sam({
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Rule: { Type: 'AWS::Events::Rule', Properties: {} },
    Api: { Type: 'AWS::Serverless::HttpApi', Properties: {} },
    Handler: fn(),
    C1: {
      Type: 'AWS::Serverless::Connector',
      Properties: { Source: { Id: 'Topic' }, Destination: { Id: 'Queue' }, Permissions: ['Write'] },
    },
    C2: {
      Type: 'AWS::Serverless::Connector',
      Properties: {
        Source: { Id: 'Rule' },
        Destination: [{ Id: 'Topic' }, { Id: 'Queue' }],
        Permissions: ['Write'],
      },
    },
    C3: {
      Type: 'AWS::Serverless::Connector',
      Properties: { Source: { Id: 'Api' }, Destination: { Id: 'Handler' }, Permissions: ['Write'] },
    },
  });
  const qp = out.Resources.C1QueuePolicy.Properties as Record<string, any>;
  assert.deepEqual(qp.Queues, [{ Ref: 'Queue' }]);
  assert.deepEqual(qp.PolicyDocument.Statement[0].Principal, { Service: 'sns.amazonaws.com' });
  assert.deepEqual(qp.PolicyDocument.Statement[0].Condition, {
    ArnEquals: { 'aws:SourceArn': { Ref: 'Topic' } },
  });
  assert.equal(out.Resources.C2Destination0TopicPolicy.Type, 'AWS::SNS::TopicPolicy');
  assert.equal(out.Resources.C2Destination1QueuePolicy.Type, 'AWS::SQS::QueuePolicy');
  const perm = out.Resources.C3WriteLambdaPermission.Properties as Record<string, any>;
  assert.equal(perm.Principal, 'apigateway.amazonaws.com');
  assert.deepEqual(perm.SourceArn, {
    'Fn::Sub': 'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*',
  });
});

test('unsupported pairs and permissions fail the transform with SAM-style errors', () => {
  assert.throws(
    () =>
      sam({
        Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        C: {
          Type: 'AWS::Serverless::Connector',
          Properties: { Source: { Id: 'Queue' }, Destination: { Id: 'Topic' }, Permissions: ['Write'] },
        },
      }),
    /Unable to create connector from AWS::SQS::Queue to AWS::SNS::Topic/,
  );
  assert.throws(
    () =>
      sam({
        Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
        Handler: fn(),
        C: {
          Type: 'AWS::Serverless::Connector',
          Properties: { Source: { Id: 'Bucket' }, Destination: { Id: 'Handler' }, Permissions: ['Read'] },
        },
      }),
    /Unsupported 'Permissions' provided for connector from AWS::S3::Bucket to AWS::Serverless::Function; valid values are: Write/,
  );
  assert.throws(
    () =>
      sam({
        Handler: fn({
          Connectors: { C: { Properties: { Destination: { Id: 'Nope' }, Permissions: ['Write'] } } },
        }),
      }),
    /Unable to find resource with id \[Nope\]/,
  );
});
