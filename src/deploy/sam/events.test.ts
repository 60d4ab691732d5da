import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Template } from '../types.js';
import { SAM_TRANSFORM, transformSam } from './index.js';

const opts = { region: 'us-east-1', accountId: '000000000000', stackName: 'app', parameters: {} };

function fnWith(events: Record<string, unknown>, extra: Record<string, unknown> = {}): Template {
  return {
    Transform: SAM_TRANSFORM,
    Resources: {
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: 's3://b/k',
          Handler: 'index.handler',
          Runtime: 'nodejs20.x',
          Events: events,
          ...extra,
        },
      },
      Q: { Type: 'AWS::SQS::Queue' },
      T: { Type: 'AWS::SNS::Topic' },
    },
  };
}

const get = (t: Template, id: string, type: string) => {
  const r = t.Resources[id];
  assert.ok(r, `missing ${id}; have ${Object.keys(t.Resources).join(', ')}`);
  assert.equal(r.Type, type);
  return r.Properties as Record<string, any>;
};

test('SQS event -> event source mapping with the batching options, and the SQS execution policy', () => {
  const out = transformSam(
    fnWith({
      Queue: {
        Type: 'SQS',
        Properties: {
          Queue: { 'Fn::GetAtt': ['Q', 'Arn'] },
          BatchSize: 5,
          Enabled: false,
          MaximumBatchingWindowInSeconds: 2,
          FilterCriteria: { Filters: [{ Pattern: '{"body":{"a":[1]}}' }] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 2 },
        },
      },
    }),
    opts,
  );
  const esm = get(out, 'FnQueue', 'AWS::Lambda::EventSourceMapping');
  assert.deepEqual(esm, {
    EventSourceArn: { 'Fn::GetAtt': ['Q', 'Arn'] },
    FunctionName: { Ref: 'Fn' },
    BatchSize: 5,
    Enabled: false,
    MaximumBatchingWindowInSeconds: 2,
    FilterCriteria: { Filters: [{ Pattern: '{"body":{"a":[1]}}' }] },
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    ScalingConfig: { MaximumConcurrency: 2 },
  });
  assert.ok(
    get(out, 'FnRole', 'AWS::IAM::Role').ManagedPolicyArns.includes(
      'arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole',
    ),
  );
  assert.ok(out.Resources.Q, 'plain CloudFormation resources pass through');
});

test('DynamoDB stream event -> event source mapping', () => {
  const out = transformSam(
    fnWith({
      Stream: {
        Type: 'DynamoDB',
        Properties: {
          Stream: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
          StartingPosition: 'TRIM_HORIZON',
          BatchSize: 100,
          MaximumRetryAttempts: 3,
          BisectBatchOnFunctionError: true,
          DestinationConfig: { OnFailure: { Type: 'SQS', Destination: { 'Fn::GetAtt': ['Q', 'Arn'] } } },
        },
      },
    }),
    opts,
  );
  const esm = get(out, 'FnStream', 'AWS::Lambda::EventSourceMapping');
  assert.deepEqual(esm.EventSourceArn, { 'Fn::GetAtt': ['Table', 'StreamArn'] });
  assert.equal(esm.StartingPosition, 'TRIM_HORIZON');
  assert.equal(esm.MaximumRetryAttempts, 3);
  assert.deepEqual(esm.DestinationConfig, { OnFailure: { Destination: { 'Fn::GetAtt': ['Q', 'Arn'] } } });
  assert.ok(
    get(out, 'FnRole', 'AWS::IAM::Role').ManagedPolicyArns.includes(
      'arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole',
    ),
  );
});

test('SNS event -> subscription + permission; with SqsSubscription -> queue, policy, subscription, mapping', () => {
  const out = transformSam(
    fnWith({
      Direct: { Type: 'SNS', Properties: { Topic: { Ref: 'T' }, FilterPolicy: { kind: ['a'] } } },
      Buffered: { Type: 'SNS', Properties: { Topic: { Ref: 'T' }, SqsSubscription: true } },
    }),
    opts,
  );
  const sub = get(out, 'FnDirect', 'AWS::SNS::Subscription');
  assert.deepEqual(sub, {
    Endpoint: { 'Fn::GetAtt': ['Fn', 'Arn'] },
    Protocol: 'lambda',
    TopicArn: { Ref: 'T' },
    FilterPolicy: { kind: ['a'] },
  });
  const perm = get(out, 'FnDirectPermission', 'AWS::Lambda::Permission');
  assert.equal(perm.Principal, 'sns.amazonaws.com');
  assert.deepEqual(perm.SourceArn, { Ref: 'T' });

  get(out, 'FnBufferedQueue', 'AWS::SQS::Queue');
  const policy = get(out, 'FnBufferedQueuePolicy', 'AWS::SQS::QueuePolicy');
  assert.deepEqual(policy.Queues, [{ Ref: 'FnBufferedQueue' }]);
  assert.deepEqual(policy.PolicyDocument.Statement[0].Condition, {
    ArnEquals: { 'aws:SourceArn': { Ref: 'T' } },
  });
  const qsub = get(out, 'FnBuffered', 'AWS::SNS::Subscription');
  assert.equal(qsub.Protocol, 'sqs');
  assert.deepEqual(qsub.Endpoint, { 'Fn::GetAtt': ['FnBufferedQueue', 'Arn'] });
  const esm = get(out, 'FnBufferedEventSourceMapping', 'AWS::Lambda::EventSourceMapping');
  assert.deepEqual(esm.EventSourceArn, { 'Fn::GetAtt': ['FnBufferedQueue', 'Arn'] });
  assert.equal(esm.BatchSize, 10);
});

test('Schedule, ScheduleV2 and EventBridgeRule events', () => {
  const out = transformSam(
    fnWith({
      Tick: {
        Type: 'Schedule',
        Properties: {
          Schedule: 'rate(5 minutes)',
          Input: '{"a":1}',
          Enabled: false,
          Name: 'tick',
          Description: 'd',
        },
      },
      Tock: {
        Type: 'ScheduleV2',
        Properties: {
          ScheduleExpression: 'cron(0 12 * * ? *)',
          ScheduleExpressionTimezone: 'Europe/Paris',
          Input: '{}',
        },
      },
      Changes: { Type: 'EventBridgeRule', Properties: { Pattern: { source: ['my.app'] } } },
    }),
    opts,
  );
  const rule = get(out, 'FnTick', 'AWS::Events::Rule');
  assert.equal(rule.ScheduleExpression, 'rate(5 minutes)');
  assert.equal(rule.State, 'DISABLED');
  assert.equal(rule.Name, 'tick');
  assert.deepEqual(rule.Targets, [
    { Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Id: 'FnTickLambdaTarget', Input: '{"a":1}' },
  ]);
  const perm = get(out, 'FnTickPermission', 'AWS::Lambda::Permission');
  assert.equal(perm.Principal, 'events.amazonaws.com');
  assert.deepEqual(perm.SourceArn, { 'Fn::GetAtt': ['FnTick', 'Arn'] });

  const sched = get(out, 'FnTock', 'AWS::Scheduler::Schedule');
  assert.equal(sched.ScheduleExpressionTimezone, 'Europe/Paris');
  assert.deepEqual(sched.FlexibleTimeWindow, { Mode: 'OFF' });
  assert.deepEqual(sched.Target, {
    Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] },
    RoleArn: { 'Fn::GetAtt': ['FnTockRole', 'Arn'] },
    Input: '{}',
  });
  const role = get(out, 'FnTockRole', 'AWS::IAM::Role');
  assert.deepEqual(role.AssumeRolePolicyDocument.Statement[0].Principal, {
    Service: ['scheduler.amazonaws.com'],
  });

  const ebr = get(out, 'FnChanges', 'AWS::Events::Rule');
  assert.deepEqual(ebr.EventPattern, { source: ['my.app'] });
  get(out, 'FnChangesPermission', 'AWS::Lambda::Permission');
});

test('AutoPublishAlias: version (retained, hashed id) + alias; events and Fn.Alias refs target the alias', () => {
  const tpl = (handler: string): Template => ({
    ...fnWith(
      {
        Queue: { Type: 'SQS', Properties: { Queue: { 'Fn::GetAtt': ['Q', 'Arn'] } } },
        Get: { Type: 'Api', Properties: { Path: '/', Method: 'get' } },
      },
      { AutoPublishAlias: { Ref: 'AliasName' }, Handler: handler },
    ),
    Parameters: { AliasName: { Type: 'String', Default: 'live' } },
    Outputs: { Alias: { Value: { Ref: 'Fn.Alias' } }, Version: { Value: { Ref: 'Fn.Version' } } },
  });
  const out = transformSam(tpl('a.handler'), opts);
  const versionId = Object.keys(out.Resources).find((k) => /^FnVersion[0-9a-f]{10}$/.test(k));
  assert.ok(versionId);
  assert.equal(out.Resources[versionId].Type, 'AWS::Lambda::Version');
  assert.equal(out.Resources[versionId].DeletionPolicy, 'Retain');
  const alias = get(out, 'FnAliaslive', 'AWS::Lambda::Alias');
  assert.deepEqual(alias, {
    Name: 'live',
    FunctionName: { Ref: 'Fn' },
    FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
  });
  assert.deepEqual(get(out, 'FnQueue', 'AWS::Lambda::EventSourceMapping').FunctionName, {
    Ref: 'FnAliaslive',
  });
  const body = get(out, 'ServerlessRestApi', 'AWS::ApiGateway::RestApi').Body;
  assert.match(
    body.paths['/'].get['x-amazon-apigateway-integration'].uri['Fn::Sub'],
    /\$\{FnAliaslive\}\/invocations$/,
  );
  assert.deepEqual(out.Outputs?.Alias.Value, { Ref: 'FnAliaslive' });
  assert.deepEqual(out.Outputs?.Version.Value, { Ref: versionId });

  const changed = transformSam(tpl('b.handler'), opts);
  assert.equal(changed.Resources[versionId], undefined, 'new code/config -> new version id');
  const again = transformSam(tpl('a.handler'), { ...opts, parameters: { AliasName: 'live' } });
  assert.ok(again.Resources[versionId]);
});

test('EventInvokeConfig with destinations and FunctionUrlConfig', () => {
  const out = transformSam(
    fnWith(
      {},
      {
        EventInvokeConfig: {
          MaximumEventAgeInSeconds: 60,
          MaximumRetryAttempts: 1,
          DestinationConfig: {
            OnSuccess: { Type: 'SQS' },
            OnFailure: { Type: 'SNS', Destination: { Ref: 'T' } },
          },
        },
        FunctionUrlConfig: { AuthType: 'NONE', Cors: { AllowOrigins: ['*'] } },
      },
    ),
    opts,
  );
  const eic = get(out, 'FnEventInvokeConfig', 'AWS::Lambda::EventInvokeConfig');
  assert.deepEqual(eic, {
    FunctionName: { Ref: 'Fn' },
    Qualifier: '$LATEST',
    MaximumEventAgeInSeconds: 60,
    MaximumRetryAttempts: 1,
    DestinationConfig: {
      OnSuccess: { Destination: { 'Fn::GetAtt': ['FnEventInvokeConfigOnSuccessQueue', 'Arn'] } },
      OnFailure: { Destination: { Ref: 'T' } },
    },
  });
  get(out, 'FnEventInvokeConfigOnSuccessQueue', 'AWS::SQS::Queue');
  const policies = get(out, 'FnRole', 'AWS::IAM::Role').Policies.map(
    (p: any) => p.PolicyDocument.Statement[0].Action,
  );
  assert.deepEqual(policies, ['sqs:SendMessage', 'sns:publish']);

  const url = get(out, 'FnUrl', 'AWS::Lambda::Url');
  assert.deepEqual(url, {
    TargetFunctionArn: { Ref: 'Fn' },
    AuthType: 'NONE',
    Cors: { AllowOrigins: ['*'] },
  });
  const perm = get(out, 'FnUrlPublicPermissions', 'AWS::Lambda::Permission');
  assert.deepEqual(perm, {
    Action: 'lambda:InvokeFunctionUrl',
    FunctionName: { Ref: 'Fn' },
    Principal: '*',
    FunctionUrlAuthType: 'NONE',
  });
});

test('S3 event -> the bucket gets LambdaConfigurations and depends on a permission for s3.amazonaws.com', () => {
  const t = fnWith({
    Upload: {
      Type: 'S3',
      Properties: {
        Bucket: { Ref: 'B' },
        Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:Delete'],
        Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.jpg' }] } },
      },
    },
    Other: { Type: 'S3', Properties: { Bucket: { Ref: 'B' }, Events: 's3:ObjectRestore:*' } },
  });
  t.Resources.B = {
    Type: 'AWS::S3::Bucket',
    DependsOn: 'Q',
    Properties: {
      NotificationConfiguration: {
        QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['Q', 'Arn'] } }],
      },
    },
  };
  const out = transformSam(t, opts);
  const perm = get(out, 'FnUploadPermission', 'AWS::Lambda::Permission');
  assert.deepEqual(perm, {
    Action: 'lambda:InvokeFunction',
    FunctionName: { Ref: 'Fn' },
    Principal: 's3.amazonaws.com',
    SourceAccount: { Ref: 'AWS::AccountId' },
  });
  get(out, 'FnOtherPermission', 'AWS::Lambda::Permission');
  const bucket = get(out, 'B', 'AWS::S3::Bucket');
  const fnArn = { 'Fn::GetAtt': ['Fn', 'Arn'] };
  assert.deepEqual(bucket.NotificationConfiguration, {
    QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': ['Q', 'Arn'] } }],
    LambdaConfigurations: [
      {
        Event: 's3:ObjectCreated:*',
        Function: fnArn,
        Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.jpg' }] } },
      },
      {
        Event: 's3:ObjectRemoved:Delete',
        Function: fnArn,
        Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.jpg' }] } },
      },
      { Event: 's3:ObjectRestore:*', Function: fnArn },
    ],
  });
  assert.deepEqual(out.Resources.B.DependsOn, ['Q', 'FnUploadPermission', 'FnOtherPermission']);
});

test('S3 event: the bucket must be an AWS::S3::Bucket of the same template', () => {
  for (const bucket of ['name-of-a-bucket', { Ref: 'Q' }, { Ref: 'Missing' }]) {
    assert.throws(
      () =>
        transformSam(
          fnWith({ Upload: { Type: 'S3', Properties: { Bucket: bucket, Events: 's3:ObjectCreated:*' } } }),
          opts,
        ),
      /Resource with id \[Fn\] is invalid\. Event with id \[Upload\] is invalid\. S3 events must reference an S3 bucket in the same template\./,
    );
  }
});

test('an unsupported event type is named in the error', () => {
  assert.throws(
    () =>
      transformSam(
        fnWith({
          Stream: { Type: 'MSK', Properties: { Stream: 'arn:aws:kafka:us-east-1:000000000000:cluster/c/1' } },
        }),
        opts,
      ),
    /Resource with id \[Fn\] is invalid\. Event with id \[Stream\] is invalid\. Event type 'MSK' is not supported by Nimbus/,
  );
});

test('CloudWatchLogs event -> a subscription filter after a logs.amazonaws.com permission, as SAM', () => {
  const out = transformSam(
    fnWith({
      Errors: {
        Type: 'CloudWatchLogs',
        Properties: { LogGroupName: { Ref: 'Q' }, FilterPattern: '?ERROR ?FATAL' },
      },
    }),
    opts,
  );
  const perm = get(out, 'FnErrorsPermission', 'AWS::Lambda::Permission');
  assert.deepEqual(perm, {
    Action: 'lambda:InvokeFunction',
    FunctionName: { Ref: 'Fn' },
    Principal: 'logs.amazonaws.com',
    SourceArn: {
      'Fn::Sub': [
        'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${__LogGroupName__}:*',
        { __LogGroupName__: { Ref: 'Q' } },
      ],
    },
  });
  const filter = get(out, 'FnErrors', 'AWS::Logs::SubscriptionFilter');
  assert.deepEqual(filter, {
    DestinationArn: { 'Fn::GetAtt': ['Fn', 'Arn'] },
    FilterPattern: '?ERROR ?FATAL',
    LogGroupName: { Ref: 'Q' },
  });
  assert.deepEqual(out.Resources.FnErrors.DependsOn, ['FnErrorsPermission']);
  assert.throws(
    () => transformSam(fnWith({ L: { Type: 'CloudWatchLogs', Properties: { LogGroupName: 'g' } } }), opts),
    /Resource with id \[Fn\] is invalid\. Event with id \[L\] is invalid\. Missing required property 'FilterPattern'\./,
  );
});
