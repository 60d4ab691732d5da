import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { openStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import { LogsEngine } from './logs.js';
import { MetricsEngine } from './metrics.js';
import { AlarmsEngine } from './alarms.js';
import { evaluateExpression } from './metric-math.js';
import { parseEmf } from './emf.js';
import { newBucket, addValue, mergeBucket, statistic, percentile } from './metric-stats.js';

const S = { accountId: '000000000000', region: 'us-east-1' };
const T0 = Date.UTC(2026, 0, 10);

async function withStore(fn: (store: Store, clock: ManualClock) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-metrics-'));
  const clock = new ManualClock(T0);
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, clock, silentLogger);
  try {
    await fn(store, clock);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('buckets: exact percentiles while small, histogram within 2% once large, merge keeps counts', () => {
  const b = newBucket(1);
  for (let i = 2; i <= 100; i++) addValue(b, i);
  assert.equal(statistic(b, 'p50'), 50);
  assert.equal(statistic(b, 'p99'), 99);
  assert.equal(statistic(b, 'SampleCount'), 100);
  assert.equal(statistic(b, 'Average'), 50.5);
  const big = newBucket(1);
  for (let i = 2; i <= 10_000; i++) addValue(big, i);
  assert.equal(big.v, undefined, 'switched to a histogram');
  assert.ok(Object.keys(big.h!).length < 600, 'the histogram stays small');
  assert.ok(Math.abs(percentile(big, 90) - 9000) / 9000 < 0.02);
  const m = mergeBucket(newBucket(5, 3), big);
  assert.equal(m.n, 10_003);
  assert.equal(m.min, 1);
});

test('metric math: arithmetic between ids, SUM/AVG across series and over one series', () => {
  const a = new Map([
    [1, 10],
    [2, 20],
  ]);
  const b = new Map([
    [1, 1],
    [2, 3],
  ]);
  const vars = new Map([
    ['a', a],
    ['b', b],
  ]);
  assert.deepEqual(
    [...(evaluateExpression('a / (a + b) * 100', vars) as Map<number, number>).values()].map(Math.round),
    [91, 87],
  );
  assert.deepEqual(
    [...(evaluateExpression('SUM([a, b])', vars) as Map<number, number>)],
    [
      [1, 11],
      [2, 23],
    ],
  );
  assert.deepEqual(
    [...(evaluateExpression('AVG(METRICS())', vars) as Map<number, number>)],
    [
      [1, 5.5],
      [2, 11.5],
    ],
  );
  assert.equal(evaluateExpression('SUM(a)', vars), 30);
  assert.equal(evaluateExpression('2 * -3 + 1', vars), -5);
  assert.throws(() => evaluateExpression('a +', vars), { code: 'InvalidParameterValue' });
  assert.throws(() => evaluateExpression('zz * 2', vars), { code: 'InvalidParameterValue' });
});

test('EMF: metrics per dimension set, arrays of values, prefixed lines; other lines ignored', () => {
  const line = JSON.stringify({
    _aws: {
      Timestamp: 1000,
      CloudWatchMetrics: [
        {
          Namespace: 'App',
          Dimensions: [['Service'], ['Service', 'Op']],
          Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }],
        },
      ],
    },
    Service: 'api',
    Op: 'get',
    Latency: [4, 6],
  });
  const ms = parseEmf(`2026-01-01T00:00:00Z\tid\tINFO\t${line}`);
  assert.equal(ms.length, 2);
  assert.deepEqual(ms[1].metric.Dimensions, [
    { Name: 'Service', Value: 'api' },
    { Name: 'Op', Value: 'get' },
  ]);
  assert.deepEqual(ms[0].values, [4, 6]);
  assert.equal(ms[0].timestamp, 1000);
  assert.deepEqual(parseEmf('{"_aws": broken'), []);
  assert.deepEqual(parseEmf('plain text'), []);
});

test('metrics engine: periods, units, high resolution, roll-up into hours and expiry', async () => {
  await withStore(async (store, clock) => {
    const metrics = new MetricsEngine({
      store,
      clock,
      logger: silentLogger,
      compactIntervalMs: 0,
      retention: {
        rawRetentionMs: 3_600_000,
        minuteRetentionMs: 86_400_000,
        hourRetentionMs: 10 * 86_400_000,
      },
    });
    try {
      const m = { Namespace: 'App', MetricName: 'Hits', Dimensions: [{ Name: 'Route', Value: '/' }] };
      for (let i = 0; i < 120; i++)
        metrics.add(S, m, [{ value: i % 2, unit: 'Count', timestamp: T0 + i * 30_000 }]);
      metrics.add(S, m, [{ value: 5, unit: 'Count', timestamp: T0 + 1500, highResolution: true }]);
      const q = { metric: m, start: T0, end: T0 + 3_600_000 };
      const per10 = await metrics.statisticSeries(S, { ...q, period: 600 }, 'Sum');
      assert.equal(per10.values.length, 6);
      assert.equal(per10.values[0], 10 + 5);
      const hi = await metrics.statisticSeries(S, { ...q, period: 1 }, 'Sum');
      assert.deepEqual(hi, { timestamps: [T0 + 1000], values: [5] });
      assert.equal((await metrics.series(S, { ...q, period: 3600, unit: 'Seconds' })).size, 0);
      const before = await metrics.bucketCounts(S, m);
      assert.deepEqual(before, { s: 1, m: 60, h: 0 });

      clock.advance(2 * 86_400_000);
      const r = await metrics.compact();
      assert.equal(r.rolledUp, 60);
      assert.deepEqual(await metrics.bucketCounts(S, m), { s: 0, m: 0, h: 1 });
      const after = await metrics.statisticSeries(S, { ...q, period: 3600 }, 'SampleCount');
      assert.deepEqual(after.values, [121], 'the hour bucket holds every datapoint');

      clock.advance(20 * 86_400_000);
      await metrics.compact();
      assert.deepEqual(await metrics.bucketCounts(S, m), { s: 0, m: 0, h: 0 });
      assert.deepEqual(await metrics.listMetrics(S, {}), []);
    } finally {
      await metrics.close();
    }
  });
});

test('alarms: evaluation periods, datapoints to alarm, missing data treatments, actions on transitions', async () => {
  await withStore(async (store, clock) => {
    const metrics = new MetricsEngine({ store, clock, logger: silentLogger, compactIntervalMs: 0 });
    const fired: { arn: string; event: any }[] = [];
    const alarms = new AlarmsEngine({
      store,
      clock,
      logger: silentLogger,
      metrics,
      evaluateIntervalMs: 0,
      actions: {
        invokeLambda: async (_s, arn, event) => void fired.push({ arn, event }),
        publishSns: async (_s, arn, _subject, message) =>
          void fired.push({ arn, event: JSON.parse(message) }),
      },
    });
    try {
      const m = { Namespace: 'App', MetricName: 'Errors', Dimensions: [] };
      const base = {
        Namespace: 'App',
        MetricName: 'Errors',
        Dimensions: [],
        Statistic: 'Sum',
        Period: 60,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        ActionsEnabled: true,
        AlarmActions: ['arn:aws:lambda:us-east-1:000000000000:function:pager'],
        OKActions: ['arn:aws:sns:us-east-1:000000000000:ops'],
        InsufficientDataActions: [],
      };
      await alarms.putMetricAlarm(S, { ...base, AlarmName: 'a', EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      await alarms.putMetricAlarm(S, {
        ...base,
        AlarmName: 'b',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
      });
      let [a, b] = await alarms.describeAlarms(S);
      assert.equal(a.StateValue, 'INSUFFICIENT_DATA');
      assert.equal(b.StateValue, 'ALARM', 'missing data treated as breaching');

      // One breaching minute out of three: not enough for 2-of-3.
      metrics.add(S, m, [{ value: 9, timestamp: clock.now() }]);
      await alarms.evaluateAll();
      [a] = await alarms.describeAlarms(S, { names: ['a'] });
      assert.equal(a.StateValue, 'OK');
      clock.advance(60_000);
      metrics.add(S, m, [{ value: 7, timestamp: clock.now() }]);
      await alarms.evaluateAll();
      [a, b] = await alarms.describeAlarms(S);
      assert.equal(a.StateValue, 'ALARM');
      assert.match(
        a.StateReason,
        /^Threshold Crossed: 2 out of the last 3 datapoints \[7 \(.*\), 9 \(.*\)\] was greater than the threshold \(5\)/,
      );
      assert.equal(b.StateValue, 'ALARM');
      const pages = fired.filter((f) => f.arn.includes(':function:pager'));
      assert.ok(
        pages.some(
          (p) => p.event.alarmData.alarmName === 'a' && p.event.alarmData.previousState.value === 'OK',
        ),
      );

      // Quiet for a while: `a` has no data left -> INSUFFICIENT_DATA; `b` keeps breaching on missing data.
      clock.advance(10 * 60_000);
      await alarms.evaluateAll();
      [a, b] = await alarms.describeAlarms(S);
      assert.equal(a.StateValue, 'INSUFFICIENT_DATA');
      assert.equal(b.StateValue, 'ALARM');

      await alarms.setAlarmState(S, 'b', 'OK', 'manual');
      const sns = fired.filter((f) => f.arn.startsWith('arn:aws:sns:')).pop();
      assert.equal(sns?.event.NewStateValue, 'OK');
      assert.equal(sns?.event.OldStateValue, 'ALARM');
      await assert.rejects(alarms.deleteAlarms(S, ['nope']), { code: 'ResourceNotFound' });
      await alarms.deleteAlarms(S, ['a', 'b']);
      assert.equal((await alarms.describeAlarms(S)).length, 0);
    } finally {
      await alarms.close();
      await metrics.close();
    }
  });
});

test('log retention is enforced by the clock: hidden at once, deleted by the sweep', async () => {
  await withStore(async (store, clock) => {
    const logs = new LogsEngine({
      store,
      clock,
      logger: silentLogger,
      flushIntervalMs: 5,
      retentionIntervalMs: 0,
    });
    try {
      await logs.createLogGroup(S, 'g');
      await logs.createLogStream(S, 'g', 's');
      await logs.putLogEvents(S, 'g', 's', [{ timestamp: clock.now() - 3 * 86_400_000, message: 'old' }]);
      await logs.putLogEvents(S, 'g', 's', [{ timestamp: clock.now(), message: 'new' }]);
      await logs.putRetentionPolicy(S, 'g', 1);
      const got = await logs.getLogEvents(S, 'g', 's', { startFromHead: true });
      assert.deepEqual(
        got.events.map((e) => e.message),
        ['new'],
      );
      clock.advance(2 * 86_400_000);
      assert.equal((await logs.filterLogEvents(S, 'g', {})).events.length, 0);
      const before = (await logs.getLogGroup(S, 'g'))!.storedBytes;
      assert.equal(await logs.enforceRetention(), 2);
      assert.equal((await logs.getLogGroup(S, 'g'))!.storedBytes, before - 2 * 29);
    } finally {
      await logs.close();
    }
  });
});

test('record: one series whatever the dimension order; recorder() is record(); series listeners once per series', async () => {
  await withStore(async (store, clock) => {
    const metrics = new MetricsEngine({ store, clock, logger: silentLogger, compactIntervalMs: 0 });
    const seen: string[] = [];
    const values: number[] = [];
    const off = metrics.onSeries((_s, ns, name, dims) => {
      seen.push(`${ns}/${name}/${dims.map((d) => `${d.Name}=${d.Value}`).join(',')}`);
      return (v) => values.push(v);
    });
    const a = { Name: 'A', Value: '1' };
    const b = { Name: 'B', Value: '2' };
    metrics.record(S, 'AWS/Test', 'M', [a, b], 1, 'Count');
    metrics.record(S, 'AWS/Test', 'M', [a, b], 2, 'Count');
    metrics.record(S, 'AWS/Test', 'M', [b, a], 4, 'Count');
    const rec = metrics.recorder(S, 'AWS/Test', 'M', [a, b], 'Count');
    rec(8);
    // Names that would collide if the parts were only joined: different series.
    metrics.record(S, 'AWS/Test', 'M', [{ Name: 'A', Value: '12' }], 16, 'Count');
    metrics.record(S, 'AWS/Test', 'M', [{ Name: 'A1', Value: '2' }], 32, 'Count');
    const q = { start: T0, end: T0 + 60_000, period: 60 };
    const sum = async (dims: { Name: string; Value: string }[]) =>
      (
        await metrics.statisticSeries(
          S,
          { ...q, metric: { Namespace: 'AWS/Test', MetricName: 'M', Dimensions: dims } },
          'Sum',
        )
      ).values;
    assert.deepEqual(await sum([b, a]), [15]);
    assert.deepEqual(await sum([{ Name: 'A', Value: '12' }]), [16]);
    assert.deepEqual(await sum([{ Name: 'A1', Value: '2' }]), [32]);
    assert.deepEqual(values, [1, 2, 4, 8, 16, 32]);
    assert.equal(seen.filter((x) => x === 'AWS/Test/M/A=1,B=2').length, 1);
    assert.equal(
      seen.filter((x) => x === 'AWS/Test/M/B=2,A=1').length,
      1,
      'another order: its own listener state',
    );
    off();
    rec(64);
    assert.equal(values.length, 6, 'a removed listener sees nothing more');
    assert.deepEqual(await sum([a, b]), [79]);
    await metrics.close();
  });
});
