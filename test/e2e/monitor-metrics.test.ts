/**
 * Monitoring end to end: real functions invoked through @aws-sdk/client-lambda, their
 * AWS/Lambda metrics read back with @aws-sdk/client-cloudwatch (exact counts, percentiles),
 * custom metrics, metric math, EMF lines, an alarm that invokes a function, usage, /metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

function zip(code: string): Uint8Array {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(code), '', 0o644 << 16);
  return z.toBuffer();
}

const APP = zip(`exports.handler = async (event) => {
  console.log(JSON.stringify({ level: event.fail ? 'error' : 'info', n: event.n, trace: process.env._X_AMZN_TRACE_ID ?? null }));
  if (event.fail) throw new Error('boom ' + event.n);
  if (event.emf) {
    process.stdout.write(JSON.stringify({
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: 'Shop', Dimensions: [['Service']],
        Metrics: [{ Name: 'Orders', Unit: 'Count' }] }] },
      Service: 'checkout', Orders: event.emf,
    }) + '\\n');
  }
  return { ok: true };
};`);

const SINK = zip(
  `exports.handler = async (event) => { console.log('ALARM-EVENT ' + JSON.stringify(event)); return {}; };`,
);

test('AWS/Lambda metrics, custom metrics, EMF, alarms with a Lambda action, usage and /metrics', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const cw = new CloudWatchClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  try {
    for (const [name, code] of [
      ['shop', APP],
      ['sink', SINK],
    ] as const) {
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { ZipFile: code },
        }),
      );
    }
    const t0 = Date.now() - 60_000;
    const invoke = (p: unknown) =>
      lambda.send(new InvokeCommand({ FunctionName: 'shop', Payload: Buffer.from(JSON.stringify(p)) }));
    for (let n = 0; n < 5; n++) await invoke({ n });
    for (let n = 5; n < 7; n++) await invoke({ n, fail: true });
    await invoke({ n: 7, emf: 3 });
    await invoke({ n: 8, emf: 4 });
    await srv.nimbus.logs.flush();

    const dims = [{ Name: 'FunctionName', Value: 'shop' }];
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: dims,
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Sum', 'SampleCount'],
      }),
    );
    assert.equal(stats.Datapoints?.length, 1);
    assert.equal(stats.Datapoints?.[0].Sum, 9);
    assert.equal(stats.Datapoints?.[0].Unit, 'Count');
    const errs = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: dims,
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    assert.equal(errs.Datapoints?.[0].Sum, 2);
    const dur = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: dims,
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        ExtendedStatistics: ['p50', 'p99'],
        Statistics: ['Maximum'],
      }),
    );
    const p = dur.Datapoints?.[0].ExtendedStatistics;
    assert.ok(p && p.p50 > 0 && p.p50 <= p.p99 && p.p99 <= dur.Datapoints![0].Maximum!);
    const cold = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'ColdStarts',
        Dimensions: dims,
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    assert.ok(cold.Datapoints![0].Sum! >= 1, 'the first invoke was a cold start');

    // EMF lines became metrics.
    const orders = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Shop',
        MetricName: 'Orders',
        Dimensions: [{ Name: 'Service', Value: 'checkout' }],
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ['Sum', 'SampleCount'],
      }),
    );
    assert.equal(orders.Datapoints?.[0].Sum, 7);
    assert.equal(orders.Datapoints?.[0].SampleCount, 2);

    // Logs by JSON pattern, and the trace header reached the function.
    const found = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: '/aws/lambda/shop',
        filterPattern: '{ $.level = "error" }',
      }),
    );
    assert.equal(found.events?.length, 2);
    assert.match(
      found.events![0].message!,
      /"trace":"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1"/,
    );

    // Custom metrics and metric math.
    const now = new Date();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'App',
        MetricData: [
          { MetricName: 'Hits', Value: 10, Unit: 'Count', Timestamp: now },
          { MetricName: 'Misses', Value: 5, Unit: 'Count', Timestamp: now },
          {
            MetricName: 'Latency',
            Unit: 'Milliseconds',
            Timestamp: now,
            StatisticValues: { SampleCount: 4, Sum: 40, Minimum: 5, Maximum: 20 },
          },
          { MetricName: 'Latency', Unit: 'Milliseconds', Timestamp: now, Values: [1, 2], Counts: [3, 1] },
        ],
      }),
    );
    const md = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(t0),
        EndTime: new Date(Date.now() + 60_000),
        MetricDataQueries: [
          {
            Id: 'h',
            MetricStat: { Metric: { Namespace: 'App', MetricName: 'Hits' }, Period: 3600, Stat: 'Sum' },
            ReturnData: false,
          },
          {
            Id: 'm',
            MetricStat: { Metric: { Namespace: 'App', MetricName: 'Misses' }, Period: 3600, Stat: 'Sum' },
            ReturnData: false,
          },
          { Id: 'ratio', Expression: '100 * h / (h + m)', Label: 'HitRatio' },
          { Id: 'total', Expression: 'SUM([h, m])' },
          {
            Id: 'lat',
            MetricStat: {
              Metric: { Namespace: 'App', MetricName: 'Latency' },
              Period: 3600,
              Stat: 'SampleCount',
            },
          },
        ],
      }),
    );
    const byId = Object.fromEntries(md.MetricDataResults!.map((r) => [r.Id, r]));
    assert.equal(byId.ratio.Label, 'HitRatio');
    assert.ok(Math.abs(byId.ratio.Values![0] - 66.6666) < 0.01);
    assert.equal(byId.total.Values![0], 15);
    assert.equal(byId.lat.Values![0], 8);
    assert.equal(byId.h, undefined);
    const listed = await cw.send(
      new ListMetricsCommand({ Namespace: 'AWS/Lambda', MetricName: 'Invocations' }),
    );
    assert.ok(
      listed.Metrics!.some((m) => m.Dimensions?.length === 1 && m.Dimensions[0].Value === 'shop'),
      'ListMetrics lists the per-function metric',
    );

    // Errors answer like CloudWatch (query-compatible codes).
    await assert.rejects(
      cw.send(
        new PutMetricDataCommand({ Namespace: 'AWS/Mine', MetricData: [{ MetricName: 'x', Value: 1 }] }),
      ),
      (e: Error & { $metadata: { httpStatusCode?: number } }) => {
        assert.match(e.name, /InvalidParameterValue/);
        assert.equal(e.$metadata.httpStatusCode, 400);
        return true;
      },
    );

    // An alarm on errors that invokes `sink`.
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'shop-errors',
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: dims,
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: ['arn:aws:lambda:us-east-1:000000000000:function:sink'],
      }),
    );
    const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['shop-errors'] }));
    assert.equal(described.MetricAlarms?.[0].StateValue, 'ALARM');
    assert.match(described.MetricAlarms![0].StateReason!, /^Threshold Crossed/);
    let alarmEvent: string | undefined;
    for (let i = 0; i < 100 && !alarmEvent; i++) {
      await srv.nimbus.logs.flush();
      const ev = await logs
        .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/sink', filterPattern: 'ALARM-EVENT' }))
        .catch(() => undefined);
      alarmEvent = ev?.events?.[0]?.message;
      if (!alarmEvent) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(alarmEvent, 'the alarm action invoked the function');
    const event = JSON.parse(alarmEvent.slice(alarmEvent.indexOf('{')));
    assert.equal(event.source, 'aws.cloudwatch');
    assert.equal(event.alarmData.state.value, 'ALARM');
    assert.equal(event.alarmData.previousState.value, 'INSUFFICIENT_DATA');
    await cw.send(
      new SetAlarmStateCommand({ AlarmName: 'shop-errors', StateValue: 'OK', StateReason: 'manual' }),
    );
    const after = await cw.send(new DescribeAlarmsCommand({ StateValue: 'OK' }));
    assert.deepEqual(
      after.MetricAlarms?.map((a) => a.AlarmName),
      ['shop-errors'],
    );
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['shop-errors'] }));
    assert.equal((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms?.length, 0);

    // Usage matches the invocations made.
    const usage = (await (await fetch(`${srv.endpoint}/_nimbus/usage?since=1h`)).json()) as {
      functions: { functionName: string; requests: number; errors: number; gbSeconds: number }[];
      cost: { total: number; totalBeforeFreeTier: number };
    };
    const shop = usage.functions.find((f) => f.functionName === 'shop')!;
    assert.equal(shop.requests, 9);
    assert.equal(shop.errors, 2);
    assert.ok(shop.gbSeconds > 0);
    assert.equal(usage.cost.total, 0, 'inside the free tier');
    assert.ok(usage.cost.totalBeforeFreeTier > 0);

    // Prometheus.
    const res = await fetch(`${srv.endpoint}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(
      text,
      /nimbus_lambda_invocations_total\{account="000000000000",region="us-east-1",function="shop"\} 9/,
    );
    assert.match(text, /nimbus_lambda_errors_total\{[^}]*function="shop"\} 2/);
    assert.match(text, /nimbus_process_cpu_user_seconds_total/);
  } finally {
    lambda.destroy();
    cw.destroy();
    logs.destroy();
  }
});
