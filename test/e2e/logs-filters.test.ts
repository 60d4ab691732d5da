/**
 * CloudWatch Logs metric filters and subscription filters through the real SDKs: values read
 * back with GetMetricStatistics, awslogs payloads received (and decoded) by a real function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { AddPermissionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteMetricFilterCommand,
  DeleteSubscriptionFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  DescribeSubscriptionFiltersCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
  PutSubscriptionFilterCommand,
  TestMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CloudFormationClient,
  DeleteStackCommand,
  waitUntilStackDeleteComplete,
} from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';
import { createNodeFunctions, FN } from './gateway-helpers.js';

const rejectsWith = (p: Promise<unknown>, name: string, message?: RegExp) =>
  assert.rejects(p, (e: any) => {
    assert.equal(e.name, name);
    assert.equal(e.$metadata.httpStatusCode, 400);
    if (message) assert.match(e.message, message);
    return true;
  });

/** The awslogs payloads a function logged (`AWSLOGS <data>`), decoded. */
async function received(logs: CloudWatchLogsClient, fn: string): Promise<any[]> {
  try {
    const out = await logs.send(
      new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${fn}`, filterPattern: 'AWSLOGS' }),
    );
    return (out.events ?? []).map((e) => {
      const data = /AWSLOGS (\S+)/.exec(e.message!)![1];
      return JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8'));
    });
  } catch (e: any) {
    if (e.name === 'ResourceNotFoundException') return [];
    throw e;
  }
}

async function waitFor<T>(what: () => Promise<T>, done: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const SINK = `exports.handler = async (event) => { console.log('AWSLOGS ' + event.awslogs.data); return {}; };`;

/** Lets CloudWatch Logs invoke a function, as a subscription filter needs (what SAM generates). */
async function allowLogs(lambda: LambdaClient, fn: string, group?: string): Promise<void> {
  await lambda.send(
    new AddPermissionCommand({
      FunctionName: fn,
      StatementId: 'cloudwatch-logs',
      Action: 'lambda:InvokeFunction',
      Principal: 'logs.amazonaws.com',
      SourceArn: group ? `arn:aws:logs:us-east-1:000000000000:log-group:${group}:*` : undefined,
    }),
  );
}

test('metric filters: PutLogEvents values reach GetMetricStatistics ($.field values, dimensions, default)', async () => {
  await using srv = await startTestServer();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const cw = new CloudWatchClient(srv.clientConfig);
  try {
    const group = 'app';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's' }));
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: group,
        filterName: 'errors',
        filterPattern: 'ERROR',
        metricTransformations: [
          { metricName: 'Errors', metricNamespace: 'App', metricValue: '1', defaultValue: 0 },
        ],
      }),
    );
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: group,
        filterName: 'latency',
        filterPattern: '{ $.latency > 0 }',
        metricTransformations: [
          {
            metricName: 'Latency',
            metricNamespace: 'App',
            metricValue: '$.latency',
            unit: 'Milliseconds',
            dimensions: { Route: '$.route' },
          },
        ],
      }),
    );
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: group,
        filterName: 'bytes',
        filterPattern: '[ip, method, status=2*, bytes]',
        metricTransformations: [{ metricName: 'Bytes', metricNamespace: 'App', metricValue: '$bytes' }],
      }),
    );

    const t = Date.now() - 30_000;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 's',
        logEvents: [
          { timestamp: t, message: 'ERROR db down' },
          { timestamp: t, message: 'ERROR again' },
          { timestamp: t, message: 'all fine' },
          { timestamp: t + 1, message: JSON.stringify({ route: '/a', latency: 100 }) },
          { timestamp: t + 1, message: JSON.stringify({ route: '/a', latency: 50 }) },
          { timestamp: t + 1, message: JSON.stringify({ route: '/b', latency: 7 }) },
          { timestamp: t + 1, message: JSON.stringify({ latency: 9 }) }, // no route: no value
          { timestamp: t + 2, message: '10.0.0.1 GET 200 512' },
          { timestamp: t + 2, message: '10.0.0.1 GET 404 999' },
          { timestamp: t + 2, message: '10.0.0.2 PUT 201 488' },
        ],
      }),
    );
    const stat = async (name: string, dims: { Name: string; Value: string }[] = []) => {
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'App',
          MetricName: name,
          Dimensions: dims,
          StartTime: new Date(t - 120_000),
          EndTime: new Date(t + 120_000),
          Period: 3600,
          Statistics: ['Sum', 'SampleCount', 'Maximum'],
        }),
      );
      assert.ok((out.Datapoints?.length ?? 0) <= 1);
      return out.Datapoints?.[0];
    };
    const errors = await stat('Errors');
    assert.equal(errors?.Sum, 2);
    assert.equal(errors?.SampleCount, 10, 'the default value 0 for each non-matching event');
    const a = await stat('Latency', [{ Name: 'Route', Value: '/a' }]);
    assert.equal(a?.Sum, 150);
    assert.equal(a?.SampleCount, 2);
    assert.equal(a?.Unit, 'Milliseconds');
    assert.equal((await stat('Latency', [{ Name: 'Route', Value: '/b' }]))?.Sum, 7);
    assert.equal(await stat('Latency'), undefined, 'only published with its dimension');
    const bytes = await stat('Bytes');
    assert.equal(bytes?.Sum, 1000);
    assert.equal(bytes?.Maximum, 512);

    // Describe: by group, prefix, metric; paging; the group's metricFilterCount.
    const all = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: group }));
    assert.deepEqual(
      all.metricFilters?.map((f) => f.filterName),
      ['bytes', 'errors', 'latency'],
    );
    assert.equal(all.metricFilters?.[2].metricTransformations?.[0].dimensions?.Route, '$.route');
    assert.equal(all.metricFilters?.[2].logGroupName, group);
    assert.ok(all.metricFilters?.[0].creationTime);
    const byPrefix = await logs.send(
      new DescribeMetricFiltersCommand({ logGroupName: group, filterNamePrefix: 'la' }),
    );
    assert.deepEqual(
      byPrefix.metricFilters?.map((f) => f.filterName),
      ['latency'],
    );
    const byMetric = await logs.send(
      new DescribeMetricFiltersCommand({ metricName: 'Errors', metricNamespace: 'App' }),
    );
    assert.deepEqual(
      byMetric.metricFilters?.map((f) => f.filterName),
      ['errors'],
    );
    const p1 = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: group, limit: 2 }));
    assert.equal(p1.metricFilters?.length, 2);
    const p2 = await logs.send(
      new DescribeMetricFiltersCommand({ logGroupName: group, limit: 2, nextToken: p1.nextToken }),
    );
    assert.deepEqual(
      p2.metricFilters?.map((f) => f.filterName),
      ['latency'],
    );
    assert.equal(p2.nextToken, undefined);
    const g = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
    assert.equal(g.logGroups?.[0].metricFilterCount, 3);

    // TestMetricFilter.
    const tested = await logs.send(
      new TestMetricFilterCommand({
        filterPattern: '[ip, method, status=4*, bytes]',
        logEventMessages: ['1.2.3.4 GET 200 10', '1.2.3.4 GET 404 20'],
      }),
    );
    assert.deepEqual(tested.matches, [
      {
        eventNumber: 2,
        eventMessage: '1.2.3.4 GET 404 20',
        extractedValues: { $ip: '1.2.3.4', $method: 'GET', $status: '404', $bytes: '20' },
      },
    ]);

    // Errors.
    await rejectsWith(
      logs.send(
        new PutMetricFilterCommand({
          logGroupName: 'missing',
          filterName: 'f',
          filterPattern: 'x',
          metricTransformations: [{ metricName: 'M', metricNamespace: 'N', metricValue: '1' }],
        }),
      ),
      'ResourceNotFoundException',
      /log group does not exist/,
    );
    await rejectsWith(
      logs.send(
        new PutMetricFilterCommand({
          logGroupName: group,
          filterName: 'bad',
          filterPattern: '{ $.x = }',
          metricTransformations: [{ metricName: 'M', metricNamespace: 'N', metricValue: '1' }],
        }),
      ),
      'InvalidParameterException',
      /Invalid filter pattern/,
    );
    await rejectsWith(
      logs.send(new TestMetricFilterCommand({ filterPattern: '[a, b', logEventMessages: ['x'] })),
      'InvalidParameterException',
    );
    await rejectsWith(
      logs.send(
        new PutMetricFilterCommand({
          logGroupName: group,
          filterName: 'dims-default',
          filterPattern: '{ $.a > 0 }',
          metricTransformations: [
            {
              metricName: 'M',
              metricNamespace: 'N',
              metricValue: '$.a',
              defaultValue: 0,
              dimensions: { A: '$.a' },
            },
          ],
        }),
      ),
      'InvalidParameterException',
    );
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'many' }));
    for (let i = 0; i < 100; i++) {
      await logs.send(
        new PutMetricFilterCommand({
          logGroupName: 'many',
          filterName: `f${i}`,
          filterPattern: 'x',
          metricTransformations: [{ metricName: 'M', metricNamespace: 'N', metricValue: '1' }],
        }),
      );
    }
    await rejectsWith(
      logs.send(
        new PutMetricFilterCommand({
          logGroupName: 'many',
          filterName: 'f100',
          filterPattern: 'x',
          metricTransformations: [{ metricName: 'M', metricNamespace: 'N', metricValue: '1' }],
        }),
      ),
      'LimitExceededException',
    );
    // Updating an existing one is not a new filter.
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: 'many',
        filterName: 'f0',
        filterPattern: 'y',
        metricTransformations: [{ metricName: 'M', metricNamespace: 'N', metricValue: '2' }],
      }),
    );
    await logs.send(new DeleteMetricFilterCommand({ logGroupName: group, filterName: 'errors' }));
    await rejectsWith(
      logs.send(new DeleteMetricFilterCommand({ logGroupName: group, filterName: 'errors' })),
      'ResourceNotFoundException',
    );
    // A deleted filter publishes nothing more.
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 's',
        logEvents: [{ timestamp: t + 3, message: 'ERROR later' }],
      }),
    );
    assert.equal((await stat('Errors'))?.Sum, 2);
  } finally {
    logs.destroy();
    cw.destroy();
  }
});

test('metric filters see function logs', async () => {
  await using srv = await startTestServer();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const cw = new CloudWatchClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  try {
    await createNodeFunctions(lambda, {
      worker: `exports.handler = async (e) => { console.log(JSON.stringify({ orders: e.n })); return {}; };`,
    });
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/worker' }));
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: '/aws/lambda/worker',
        filterName: 'orders',
        filterPattern: '{ $.orders = * }',
        metricTransformations: [{ metricName: 'Orders', metricNamespace: 'Shop', metricValue: '$.orders' }],
      }),
    );
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    for (const n of [3, 4]) {
      await lambda.send(
        new InvokeCommand({ FunctionName: 'worker', Payload: Buffer.from(JSON.stringify({ n })) }),
      );
    }
    await srv.nimbus.logs.flush();
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Shop',
        MetricName: 'Orders',
        StartTime: new Date(Date.now() - 600_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    assert.equal(
      out.Datapoints?.reduce((s, d) => s + (d.Sum ?? 0), 0),
      7,
    );
  } finally {
    logs.destroy();
    cw.destroy();
    lambda.destroy();
  }
});

test('subscription filters deliver matching events to a Lambda function (awslogs payload)', async () => {
  await using srv = await startTestServer();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  try {
    await createNodeFunctions(lambda, { sink: SINK, other: SINK, closed: SINK });
    const group = 'orders';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' }));
    await allowLogs(lambda, 'sink', group);
    await allowLogs(lambda, 'other');
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: group,
        filterName: 'errors-to-sink',
        filterPattern: '?ERROR ?FATAL',
        destinationArn: `${FN}sink`,
        distribution: 'Random',
      }),
    );
    const described = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: group }));
    assert.equal(described.subscriptionFilters?.length, 1);
    assert.equal(described.subscriptionFilters?.[0].filterName, 'errors-to-sink');
    assert.equal(described.subscriptionFilters?.[0].destinationArn, `${FN}sink`);
    assert.equal(described.subscriptionFilters?.[0].distribution, 'Random');
    assert.equal(described.subscriptionFilters?.[0].filterPattern, '?ERROR ?FATAL');

    const t = Date.now() - 1000;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 's1',
        logEvents: [
          { timestamp: t, message: 'ERROR one' },
          { timestamp: t + 1, message: 'INFO skipped' },
          { timestamp: t + 2, message: 'FATAL two' },
        ],
      }),
    );
    const got = await waitFor(
      () => received(logs, 'sink'),
      (r) => r.length >= 1,
    );
    assert.equal(got.length, 1, 'one delivery for one PutLogEvents call');
    const d = got[0];
    assert.deepEqual(Object.keys(d), [
      'messageType',
      'owner',
      'logGroup',
      'logStream',
      'subscriptionFilters',
      'logEvents',
    ]);
    assert.equal(d.messageType, 'DATA_MESSAGE');
    assert.equal(d.owner, '000000000000');
    assert.equal(d.logGroup, group);
    assert.equal(d.logStream, 's1');
    assert.deepEqual(d.subscriptionFilters, ['errors-to-sink']);
    assert.deepEqual(
      d.logEvents.map((e: any) => [e.timestamp, e.message]),
      [
        [t, 'ERROR one'],
        [t + 2, 'FATAL two'],
      ],
    );
    for (const e of d.logEvents) assert.match(e.id, /^\d{36}$/);
    assert.notEqual(d.logEvents[0].id, d.logEvents[1].id);

    // Errors: the group, the destination, the limit of 2, Kinesis/Firehose refused.
    const put = (over: Record<string, unknown>) =>
      logs.send(
        new PutSubscriptionFilterCommand({
          logGroupName: group,
          filterName: 'f',
          filterPattern: '',
          destinationArn: `${FN}other`,
          ...over,
        }),
      );
    await rejectsWith(put({ logGroupName: 'nope' }), 'ResourceNotFoundException', /log group/);
    await rejectsWith(put({ destinationArn: `${FN}ghost` }), 'InvalidParameterException', /lambda function/);
    // A function whose resource policy does not let CloudWatch Logs invoke it: refused, as on AWS.
    await rejectsWith(put({ destinationArn: `${FN}closed` }), 'InvalidParameterException', /permission/);
    await rejectsWith(
      put({ destinationArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' }),
      'InvalidParameterException',
      /Lambda functions only; kinesis/,
    );
    await rejectsWith(
      put({ destinationArn: 'arn:aws:firehose:us-east-1:000000000000:deliverystream/d' }),
      'InvalidParameterException',
      /firehose/,
    );
    await rejectsWith(put({ filterPattern: '{ $.a = ' }), 'InvalidParameterException', /filter pattern/);
    await put({ filterName: 'second' });
    await rejectsWith(put({ filterName: 'third' }), 'LimitExceededException');
    await put({ filterName: 'second', filterPattern: 'WARN' }); // an update is not a third
    await logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: group, filterName: 'second' }));
    await rejectsWith(
      logs.send(new DeleteSubscriptionFilterCommand({ logGroupName: group, filterName: 'second' })),
      'ResourceNotFoundException',
    );
    assert.equal(
      (await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: group }))).subscriptionFilters
        ?.length,
      1,
    );
  } finally {
    logs.destroy();
    lambda.destroy();
  }
});

test('a function subscribed to its own log group is not re-triggered by its own delivery logs', async () => {
  await using srv = await startTestServer();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  try {
    await createNodeFunctions(lambda, { selfie: SINK });
    const group = '/aws/lambda/selfie';
    await allowLogs(lambda, 'selfie', group);
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'manual' }));
    await logs.send(
      new PutSubscriptionFilterCommand({
        logGroupName: group,
        filterName: 'all',
        filterPattern: '',
        destinationArn: `${FN}selfie`,
      }),
    );
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'manual',
        logEvents: [{ timestamp: Date.now(), message: 'hello' }],
      }),
    );
    const got = await waitFor(
      () => received(logs, 'selfie'),
      (r) => r.length >= 1,
    );
    assert.equal(got[0].logEvents[0].message, 'hello');
    // Give a loop time to show itself: nothing more is delivered.
    await new Promise((r) => setTimeout(r, 1500));
    await srv.nimbus.logs.flush();
    const starts = await logs.send(
      new FilterLogEventsCommand({ logGroupName: group, filterPattern: '"START RequestId"' }),
    );
    assert.equal(starts.events?.length, 1);
    assert.equal((await received(logs, 'selfie')).length, 1);
  } finally {
    logs.destroy();
    lambda.destroy();
  }
});

test('SAM: a CloudWatchLogs event and an AWS::Logs::MetricFilter deployed through CloudFormation', async () => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const cw = new CloudWatchClient(srv.clientConfig);
  try {
    const template = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: app-logs
  Alerts:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        exports.handler = async (event) => { console.log('AWSLOGS ' + event.awslogs.data); };
      Events:
        Errors:
          Type: CloudWatchLogs
          Properties:
            LogGroupName: !Ref AppLogs
            FilterPattern: ERROR
  ErrorCount:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: !Ref AppLogs
      FilterPattern: '{ $.level = "ERROR" }'
      MetricTransformations:
        - MetricName: ErrorCount
          MetricNamespace: SamApp
          MetricValue: $.count
          Dimensions:
            - Key: Service
              Value: $.service
`;
    const { phys, type } = await deployStack(cfn, 'alerts', template);
    assert.equal(type('AlertsErrors'), 'AWS::Logs::SubscriptionFilter');
    assert.equal(type('AlertsErrorsPermission'), 'AWS::Lambda::Permission');
    const fn = phys('Alerts');
    const subs = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: 'app-logs' }));
    assert.equal(subs.subscriptionFilters?.[0].filterName, phys('AlertsErrors'));
    assert.equal(subs.subscriptionFilters?.[0].destinationArn, `${FN}${fn}`);
    const mf = await logs.send(new DescribeMetricFiltersCommand({ logGroupName: 'app-logs' }));
    assert.equal(mf.metricFilters?.[0].filterName, phys('ErrorCount'));

    await logs.send(new CreateLogStreamCommand({ logGroupName: 'app-logs', logStreamName: 'web' }));
    const t = Date.now() - 5000;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'app-logs',
        logStreamName: 'web',
        logEvents: [
          { timestamp: t, message: JSON.stringify({ level: 'ERROR', count: 2, service: 'web' }) },
          { timestamp: t + 1, message: JSON.stringify({ level: 'INFO', count: 5, service: 'web' }) },
        ],
      }),
    );
    const got = await waitFor(
      () => received(logs, fn),
      (r) => r.length >= 1,
    );
    assert.equal(got.length, 1);
    assert.equal(got[0].logGroup, 'app-logs');
    assert.equal(got[0].logStream, 'web');
    assert.deepEqual(got[0].subscriptionFilters, [phys('AlertsErrors')]);
    assert.deepEqual(
      got[0].logEvents.map((e: any) => JSON.parse(e.message).level),
      ['ERROR'],
    );
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'SamApp',
        MetricName: 'ErrorCount',
        Dimensions: [{ Name: 'Service', Value: 'web' }],
        StartTime: new Date(t - 60_000),
        EndTime: new Date(t + 60_000),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    assert.equal(stats.Datapoints?.[0]?.Sum, 2);

    await cfn.send(new DeleteStackCommand({ StackName: 'alerts' }));
    await waitUntilStackDeleteComplete(
      { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { StackName: 'alerts' },
    );
    await rejectsWith(
      logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName: 'app-logs' })),
      'ResourceNotFoundException',
    );
  } finally {
    cfn.destroy();
    logs.destroy();
    cw.destroy();
  }
});
