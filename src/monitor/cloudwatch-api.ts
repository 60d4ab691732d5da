/**
 * CloudWatch (metrics and alarms) wire adapter: AWS JSON 1.0, target
 * `GraniteServiceVersion20100801`, query-compatible errors (what @aws-sdk/client-cloudwatch
 * speaks since it left the Query protocol). Timestamps are epoch seconds.
 */
import { AwsError } from '../protocols/errors.js';
import type { JsonService, RequestContext } from '../server/service.js';
import {
  invalidParameterCombination,
  invalidParameterValue,
  missingParameter,
  type Dimension,
  type MetricRef,
  type MetricsEngine,
  type Scope,
} from './metrics.js';
import { BASIC_STATS, bucketFromStatistics, isExtendedStatistic, statistic } from './metric-stats.js';
import { evaluateExpression, type Series } from './metric-math.js';
import { COMPARISON_OPERATORS, type AlarmsEngine, type AlarmState, type MetricAlarm } from './alarms.js';

const scopeOf = (ctx: RequestContext): Scope => ({ accountId: ctx.accountId, region: ctx.region });

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes',
  'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second',
  'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second',
  'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]); // prettier-ignore

type In = Record<string, unknown>;

function req<T>(input: In, name: string): T {
  const v = input[name];
  if (v === undefined || v === null) throw missingParameter(`The parameter ${name} is required.`);
  return v as T;
}
function time(v: unknown, name: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  throw invalidParameterValue(`The parameter ${name} must be a valid timestamp.`);
}
function unit(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || !UNITS.has(v)) {
    throw invalidParameterValue(`The parameter Unit must be a value in the set ${[...UNITS].join(', ')}.`);
  }
  return v;
}
function dimensions(v: unknown, where = 'Dimensions'): Dimension[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidParameterValue(`The parameter ${where} must be a list.`);
  if (v.length > 30)
    throw invalidParameterValue(`The collection ${where} must not have a size greater than 30.`);
  const seen = new Set<string>();
  return v.map((d: { Name?: unknown; Value?: unknown }, i) => {
    if (typeof d?.Name !== 'string' || d.Name === '')
      throw missingParameter(`The parameter ${where}.member.${i + 1}.Name is required.`);
    if (typeof d.Value !== 'string' || d.Value === '')
      throw missingParameter(`The parameter ${where}.member.${i + 1}.Value is required.`);
    if (seen.has(d.Name))
      throw invalidParameterValue(`No Metric may specify the same dimension name twice: ${d.Name}.`);
    seen.add(d.Name);
    return { Name: d.Name, Value: d.Value };
  });
}
function period(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw invalidParameterValue('The parameter Period must be a positive integer.');
  if (!([1, 5, 10, 20, 30].includes(v) || v % 60 === 0))
    throw invalidParameterValue('The parameter Period must be 1, 5, 10, 20, 30, or any multiple of 60.');
  return v;
}
const toSec = (ms: number) => ms / 1000;

export function createCloudWatchService(metrics: MetricsEngine, alarms: AlarmsEngine): JsonService {
  return {
    protocol: 'json',
    signingName: 'monitoring',
    jsonVersion: '1.0',
    targetPrefix: 'GraniteServiceVersion20100801',
    queryCompatible: true,
    operations: {
      PutMetricData: async (ctx, input: In) => {
        const ns = req<string>(input, 'Namespace');
        if (typeof ns !== 'string' || ns.length < 1 || ns.length > 255 || ns.startsWith('AWS/')) {
          throw invalidParameterValue(
            ns.startsWith?.('AWS/')
              ? 'The value AWS/ for parameter Namespace is invalid.'
              : 'The parameter Namespace must be 1 to 255 characters.',
          );
        }
        const data = req<In[]>(input, 'MetricData');
        if (!Array.isArray(data) || data.length === 0)
          throw missingParameter('The parameter MetricData is required.');
        if (data.length > 1000)
          throw invalidParameterValue('The collection MetricData must not have a size greater than 1000.');
        const now = metrics.now();
        data.forEach((d, i) => {
          const name = d.MetricName;
          if (typeof name !== 'string' || name === '')
            throw missingParameter(`The parameter MetricData.member.${i + 1}.MetricName is required.`);
          const dims = dimensions(d.Dimensions, `MetricData.member.${i + 1}.Dimensions`);
          const u = unit(d.Unit);
          const ts = d.Timestamp !== undefined ? time(d.Timestamp, 'Timestamp') : undefined;
          if (ts !== undefined && (ts < now - 14 * 86_400_000 || ts > now + 2 * 3_600_000)) {
            throw invalidParameterValue(
              `The parameter MetricData.member.${i + 1}.Timestamp must specify a time no more than two weeks in the past and two hours in the future.`,
            );
          }
          const hi = d.StorageResolution === 1;
          const metric: MetricRef = { Namespace: ns, MetricName: name, Dimensions: dims };
          const sv = d.StatisticValues as
            { SampleCount: number; Sum: number; Minimum: number; Maximum: number } | undefined;
          const values = d.Values as number[] | undefined;
          const given = [d.Value !== undefined, sv !== undefined, values !== undefined].filter(
            Boolean,
          ).length;
          if (given > 1) {
            throw invalidParameterCombination(
              `The parameters MetricData.member.${i + 1}.Value, MetricData.member.${i + 1}.StatisticValues and MetricData.member.${i + 1}.Values are mutually exclusive and you have specified at least two.`,
            );
          }
          if (sv) {
            metrics.add(scopeOf(ctx), metric, [
              { statistics: bucketFromStatistics(sv, u), timestamp: ts, highResolution: hi },
            ]);
          } else if (values) {
            const counts = (d.Counts as number[] | undefined) ?? values.map(() => 1);
            if (counts.length !== values.length) {
              throw invalidParameterValue(
                `The parameters MetricData.member.${i + 1}.Values and MetricData.member.${i + 1}.Counts must be of the same size.`,
              );
            }
            metrics.add(
              scopeOf(ctx),
              metric,
              values.map((v, j) => ({
                value: v,
                count: counts[j],
                unit: u,
                timestamp: ts,
                highResolution: hi,
              })),
            );
          } else {
            if (typeof d.Value !== 'number' || !Number.isFinite(d.Value))
              throw invalidParameterValue(`The parameter MetricData.member.${i + 1}.Value is invalid.`);
            metrics.add(scopeOf(ctx), metric, [
              { value: d.Value, unit: u, timestamp: ts, highResolution: hi },
            ]);
          }
        });
        return {};
      },

      GetMetricStatistics: async (ctx, input: In) => {
        const ns = req<string>(input, 'Namespace');
        const name = req<string>(input, 'MetricName');
        const start = time(req(input, 'StartTime'), 'StartTime');
        const end = time(req(input, 'EndTime'), 'EndTime');
        if (end <= start)
          throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
        const p = period(req(input, 'Period'));
        const stats = (input.Statistics as string[] | undefined) ?? [];
        const ext = (input.ExtendedStatistics as string[] | undefined) ?? [];
        if (stats.length === 0 && ext.length === 0)
          throw missingParameter('Must specify either Statistics or ExtendedStatistics.');
        for (const s of stats)
          if (!(BASIC_STATS as readonly string[]).includes(s))
            throw invalidParameterValue(
              `The parameter Statistics.member.1 must be a value in the set SampleCount, Average, Sum, Minimum, Maximum.`,
            );
        for (const s of ext)
          if (!isExtendedStatistic(s))
            throw invalidParameterValue(
              `The parameter ExtendedStatistics.member.1 must be a valid percentile.`,
            );
        const u = unit(input.Unit);
        const series = await metrics.series(scopeOf(ctx), {
          metric: { Namespace: ns, MetricName: name, Dimensions: dimensions(input.Dimensions) },
          start,
          end,
          period: p,
          unit: u,
        });
        if (series.size > 1440)
          throw invalidParameterCombination(
            'You have requested up to 1,440 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.',
          );
        const datapoints = [...series.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([t, b]) => {
            const dp: Record<string, unknown> = { Timestamp: toSec(t), Unit: u ?? b.u ?? 'None' };
            for (const s of stats) dp[s] = statistic(b, s);
            if (ext.length) dp.ExtendedStatistics = Object.fromEntries(ext.map((s) => [s, statistic(b, s)]));
            return dp;
          });
        return { Label: name, Datapoints: datapoints };
      },

      GetMetricData: async (ctx, input: In) => {
        const queries = req<In[]>(input, 'MetricDataQueries');
        const start = time(req(input, 'StartTime'), 'StartTime');
        const end = time(req(input, 'EndTime'), 'EndTime');
        if (end <= start)
          throw invalidParameterValue('The parameter StartTime must be less than the parameter EndTime.');
        if (!Array.isArray(queries) || queries.length === 0 || queries.length > 500)
          throw invalidParameterValue(
            'The collection MetricDataQueries must have between 1 and 500 members.',
          );
        const vars = new Map<string, Series>();
        const ids = new Set<string>();
        for (const q of queries) {
          if (typeof q.Id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(q.Id))
            throw invalidParameterValue(
              `The value ${String(q.Id)} for parameter MetricDataQueries.member.Id is invalid. It must start with a lowercase letter and contain only letters, numbers and underscores.`,
            );
          if (ids.has(q.Id)) throw invalidParameterValue(`The value ${q.Id} for parameter Id is not unique.`);
          ids.add(q.Id);
          if (!!q.MetricStat === !!q.Expression)
            throw invalidParameterValue(
              `Exactly one of MetricStat and Expression must be set for MetricDataQuery ${q.Id}.`,
            );
        }
        const periodOf = new Map<string, number>();
        for (const q of queries) {
          if (!q.MetricStat) continue;
          const ms = q.MetricStat as { Metric: MetricRef; Period: number; Stat: string; Unit?: string };
          const stat = ms.Stat;
          if (!(BASIC_STATS as readonly string[]).includes(stat) && !isExtendedStatistic(stat))
            throw invalidParameterValue(
              `The value ${stat} for parameter MetricDataQueries.member.MetricStat.Stat is invalid.`,
            );
          const p = period(ms.Period);
          periodOf.set(q.Id as string, p);
          const r = await metrics.statisticSeries(
            scopeOf(ctx),
            {
              metric: {
                Namespace: ms.Metric?.Namespace,
                MetricName: ms.Metric?.MetricName,
                Dimensions: dimensions(ms.Metric?.Dimensions),
              },
              start,
              end,
              period: p,
              unit: unit(ms.Unit),
            },
            stat,
          );
          vars.set(q.Id as string, new Map(r.timestamps.map((t, i) => [t, r.values[i]])));
        }
        const allTimes = new Set<number>();
        for (const s of vars.values()) for (const t of s.keys()) allTimes.add(t);
        const results: unknown[] = [];
        const desc = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
        for (const q of queries) {
          if (q.ReturnData === false) continue;
          let s: Series;
          if (q.Expression) {
            const v = evaluateExpression(String(q.Expression), vars);
            if (typeof v === 'number') s = new Map([...allTimes].map((t) => [t, v]));
            else if (v instanceof Map) s = v;
            else
              throw invalidParameterValue(
                `The expression ${String(q.Expression)} returns more than one time series.`,
              );
          } else {
            s = vars.get(q.Id as string)!;
          }
          const entries = [...s.entries()].filter(([, v]) => Number.isFinite(v)).sort((a, b) => a[0] - b[0]);
          if (desc) entries.reverse();
          const ms = q.MetricStat as { Metric?: MetricRef } | undefined;
          results.push({
            Id: q.Id,
            Label: q.Label ?? ms?.Metric?.MetricName ?? q.Id,
            Timestamps: entries.map(([t]) => toSec(t)),
            Values: entries.map(([, v]) => v),
            StatusCode: 'Complete',
            Messages: [],
          });
        }
        return { MetricDataResults: results, Messages: [] };
      },

      ListMetrics: async (ctx, input: In) => {
        const filters = (input.Dimensions as { Name: string; Value?: string }[] | undefined) ?? [];
        const all = await metrics.listMetrics(scopeOf(ctx), {
          namespace: input.Namespace as string | undefined,
          metricName: input.MetricName as string | undefined,
          dimensions: filters,
          recentlyActive: input.RecentlyActive === 'PT3H',
        });
        const offset = input.NextToken
          ? Number(Buffer.from(String(input.NextToken), 'base64url').toString())
          : 0;
        if (!Number.isInteger(offset) || offset < 0)
          throw invalidParameterValue('The service cannot process the NextToken.');
        const page = all.slice(offset, offset + 500);
        return {
          Metrics: page,
          ...(offset + 500 < all.length
            ? { NextToken: Buffer.from(String(offset + 500)).toString('base64url') }
            : {}),
        };
      },

      PutMetricAlarm: async (ctx, input: In) => {
        const name = req<string>(input, 'AlarmName');
        if (input.Metrics !== undefined)
          throw invalidParameterValue(
            'Alarms on metric math expressions (Metrics) are not supported by Nimbus.',
          );
        const stat = input.Statistic as string | undefined;
        const ext = input.ExtendedStatistic as string | undefined;
        if (!stat && !ext) throw missingParameter('Must specify either Statistic or ExtendedStatistic.');
        if (stat && ext)
          throw invalidParameterCombination('Statistic and ExtendedStatistic are mutually exclusive.');
        if (stat && !(BASIC_STATS as readonly string[]).includes(stat))
          throw invalidParameterValue(`The value ${stat} for parameter Statistic is invalid.`);
        if (ext && !isExtendedStatistic(ext))
          throw invalidParameterValue(`The value ${ext} for parameter ExtendedStatistic is invalid.`);
        const cmp = req<string>(input, 'ComparisonOperator');
        if (!COMPARISON_OPERATORS.includes(cmp))
          throw invalidParameterValue(`The value ${cmp} for parameter ComparisonOperator is invalid.`);
        const evalPeriods = req<number>(input, 'EvaluationPeriods');
        if (!Number.isInteger(evalPeriods) || evalPeriods < 1)
          throw invalidParameterValue('The parameter EvaluationPeriods must be greater than or equal to 1.');
        const dta = input.DatapointsToAlarm as number | undefined;
        if (dta !== undefined && (dta < 1 || dta > evalPeriods))
          throw invalidParameterValue('DatapointsToAlarm must be less than or equal to EvaluationPeriods.');
        const treat = input.TreatMissingData as string | undefined;
        if (treat !== undefined && !['breaching', 'notBreaching', 'ignore', 'missing'].includes(treat))
          throw invalidParameterValue(`The value ${treat} for parameter TreatMissingData is invalid.`);
        const list = (n: string) => ((input[n] as string[] | undefined) ?? []).map(String);
        const alarm: Omit<
          MetricAlarm,
          | 'AlarmArn'
          | 'AlarmConfigurationUpdatedTimestamp'
          | 'StateValue'
          | 'StateReason'
          | 'StateUpdatedTimestamp'
          | 'StateTransitionedTimestamp'
        > = {
          AlarmName: name,
          ...(input.AlarmDescription !== undefined
            ? { AlarmDescription: String(input.AlarmDescription) }
            : {}),
          ActionsEnabled: input.ActionsEnabled !== false,
          OKActions: list('OKActions'),
          AlarmActions: list('AlarmActions'),
          InsufficientDataActions: list('InsufficientDataActions'),
          MetricName: req<string>(input, 'MetricName'),
          Namespace: req<string>(input, 'Namespace'),
          ...(stat ? { Statistic: stat } : {}),
          ...(ext ? { ExtendedStatistic: ext } : {}),
          Dimensions: dimensions(input.Dimensions),
          Period: period(req(input, 'Period')),
          ...(input.Unit !== undefined ? { Unit: unit(input.Unit) } : {}),
          EvaluationPeriods: evalPeriods,
          ...(dta !== undefined ? { DatapointsToAlarm: dta } : {}),
          Threshold: req<number>(input, 'Threshold'),
          ComparisonOperator: cmp,
          ...(treat !== undefined ? { TreatMissingData: treat } : {}),
        };
        await alarms.putMetricAlarm(scopeOf(ctx), alarm);
        return {};
      },

      DescribeAlarms: async (ctx, input: In) => {
        const types = (input.AlarmTypes as string[] | undefined) ?? ['MetricAlarm'];
        const list = types.includes('MetricAlarm')
          ? await alarms.describeAlarms(scopeOf(ctx), {
              names: input.AlarmNames as string[] | undefined,
              prefix: input.AlarmNamePrefix as string | undefined,
              state: input.StateValue as string | undefined,
              actionPrefix: input.ActionPrefix as string | undefined,
            })
          : [];
        return { MetricAlarms: list.map(alarmOut), CompositeAlarms: [] };
      },

      DescribeAlarmsForMetric: async (ctx, input: In) => {
        const ns = req<string>(input, 'Namespace');
        const name = req<string>(input, 'MetricName');
        const list = (await alarms.describeAlarms(scopeOf(ctx))).filter(
          (a) => a.Namespace === ns && a.MetricName === name,
        );
        return { MetricAlarms: list.map(alarmOut) };
      },

      DeleteAlarms: async (ctx, input: In) => {
        await alarms.deleteAlarms(scopeOf(ctx), req<string[]>(input, 'AlarmNames'));
        return {};
      },

      SetAlarmState: async (ctx, input: In) => {
        const state = req<string>(input, 'StateValue');
        if (!['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state))
          throw invalidParameterValue(`The value ${state} for parameter StateValue is invalid.`);
        const data = input.StateReasonData as string | undefined;
        if (data !== undefined) {
          try {
            JSON.parse(data);
          } catch {
            throw new AwsError('InvalidFormat', 'The StateReasonData is not valid JSON.', 400);
          }
        }
        await alarms.setAlarmState(
          scopeOf(ctx),
          req<string>(input, 'AlarmName'),
          state as AlarmState,
          req<string>(input, 'StateReason'),
          data,
        );
        return {};
      },
    },
  };
}

function alarmOut(a: MetricAlarm): Record<string, unknown> {
  return {
    ...a,
    AlarmConfigurationUpdatedTimestamp: toSec(a.AlarmConfigurationUpdatedTimestamp),
    StateUpdatedTimestamp: toSec(a.StateUpdatedTimestamp),
    StateTransitionedTimestamp: toSec(a.StateTransitionedTimestamp),
  };
}
