/**
 * CloudWatch alarms on one metric: stored on the Store, evaluated on a timer (and on
 * demand) against the MetricsEngine. A state change is decided inside a transaction that
 * re-reads the alarm, so with several nodes only one of them fires the actions.
 */
import type { Store } from '../storage/store.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { AwsError } from '../protocols/errors.js';
import { statistic } from './metric-stats.js';
import type { Dimension, MetricsEngine, Scope } from './metrics.js';

export const ALARMS = 'metrics.alarms';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface MetricAlarm {
  AlarmName: string;
  AlarmArn: string;
  AlarmDescription?: string;
  AlarmConfigurationUpdatedTimestamp: number;
  ActionsEnabled: boolean;
  OKActions: string[];
  AlarmActions: string[];
  InsufficientDataActions: string[];
  StateValue: AlarmState;
  StateReason: string;
  StateReasonData?: string;
  StateUpdatedTimestamp: number;
  StateTransitionedTimestamp: number;
  MetricName: string;
  Namespace: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions: Dimension[];
  Period: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
}

export interface AlarmActions {
  /** Invokes a function asynchronously with the alarm event. */
  invokeLambda(scope: Scope, functionArn: string, event: unknown): Promise<void>;
  /** Publishes to an SNS topic (present once messaging has landed). */
  publishSns?(scope: Scope, topicArn: string, subject: string, message: string): Promise<void>;
}

export interface AlarmsEngineOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  metrics: MetricsEngine;
  actions: AlarmActions;
  /** Evaluation timer; default 10 s. 0 disables it (tests call evaluate()). */
  evaluateIntervalMs?: number;
}

const COMPARISONS: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};
const SYMBOL: Record<string, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};
export const COMPARISON_OPERATORS = Object.keys(COMPARISONS);

const key = (s: Scope, name: string) => `${s.accountId}:${s.region}:${name}`;

export class AlarmsEngine {
  private readonly o: AlarmsEngineOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(opts: AlarmsEngineOptions) {
    this.o = opts;
    const every = opts.evaluateIntervalMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.evaluateAll(), every);
      this.timer.unref();
    }
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.running ?? Promise.resolve();
  }

  async putMetricAlarm(
    scope: Scope,
    input: Omit<
      MetricAlarm,
      | 'AlarmArn'
      | 'AlarmConfigurationUpdatedTimestamp'
      | 'StateValue'
      | 'StateReason'
      | 'StateUpdatedTimestamp'
      | 'StateTransitionedTimestamp'
    >,
  ): Promise<void> {
    const now = this.o.clock.now();
    await this.o.store.transaction(async (tx) => {
      const prev = await tx.get<MetricAlarm>(ALARMS, key(scope, input.AlarmName));
      const alarm: MetricAlarm = {
        ...input,
        AlarmArn: `arn:aws:cloudwatch:${scope.region}:${scope.accountId}:alarm:${input.AlarmName}`,
        AlarmConfigurationUpdatedTimestamp: now,
        StateValue: prev?.StateValue ?? 'INSUFFICIENT_DATA',
        StateReason: prev?.StateReason ?? 'Unchecked: Initial alarm creation',
        StateUpdatedTimestamp: prev?.StateUpdatedTimestamp ?? now,
        StateTransitionedTimestamp: prev?.StateTransitionedTimestamp ?? now,
        ...(prev?.StateReasonData ? { StateReasonData: prev.StateReasonData } : {}),
      };
      await tx.put(ALARMS, key(scope, input.AlarmName), alarm);
    });
    await this.evaluate(scope, input.AlarmName);
  }

  async describeAlarms(
    scope: Scope,
    opts: { names?: string[]; prefix?: string; state?: string; actionPrefix?: string } = {},
  ): Promise<MetricAlarm[]> {
    const base = `${scope.accountId}:${scope.region}:`;
    const rows = await this.o.store.scan<MetricAlarm>(ALARMS, { prefix: base + (opts.prefix ?? '') });
    return rows
      .map((r) => r.value)
      .filter((a) => !opts.names?.length || opts.names.includes(a.AlarmName))
      .filter((a) => !opts.state || a.StateValue === opts.state)
      .filter(
        (a) =>
          !opts.actionPrefix ||
          [...a.AlarmActions, ...a.OKActions, ...a.InsufficientDataActions].some((x) =>
            x.startsWith(opts.actionPrefix!),
          ),
      );
  }

  async deleteAlarms(scope: Scope, names: string[]): Promise<void> {
    await this.o.store.transaction(async (tx) => {
      for (const n of names) {
        if (!(await tx.get(ALARMS, key(scope, n)))) {
          throw new AwsError('ResourceNotFound', `The following alarms were not found: [${n}]`, 404);
        }
      }
      for (const n of names) await tx.delete(ALARMS, key(scope, n));
    });
  }

  async setAlarmState(
    scope: Scope,
    name: string,
    state: AlarmState,
    reason: string,
    reasonData?: string,
  ): Promise<void> {
    const changed = await this.transition(scope, name, () => ({ state, reason, reasonData }), true);
    if (changed === undefined) {
      throw new AwsError('ResourceNotFound', `Alarm ${name} not found`, 404);
    }
  }

  /** Evaluates every alarm of every account (the timer). */
  evaluateAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const rows = await this.o.store.scan<MetricAlarm>(ALARMS, {});
        for (const r of rows) {
          const [accountId, region] = r.key.split(':');
          await this.evaluate({ accountId, region }, r.value.AlarmName);
        }
      } catch (e) {
        this.o.logger.error('alarm evaluation failed', { err: e });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Evaluates one alarm now; resolves once its actions (if any) have been started. */
  async evaluate(scope: Scope, name: string): Promise<AlarmState | undefined> {
    const alarm = await this.o.store.get<MetricAlarm>(ALARMS, key(scope, name));
    if (!alarm) return undefined;
    const decision = await this.decide(scope, alarm);
    await this.transition(scope, name, () => decision, false);
    return decision.state ?? alarm.StateValue;
  }

  private async decide(
    scope: Scope,
    a: MetricAlarm,
  ): Promise<{ state?: AlarmState; reason: string; reasonData?: string }> {
    const periodMs = a.Period * 1000;
    const now = this.o.clock.now();
    const end = now - (now % periodMs) + periodMs;
    const n = a.EvaluationPeriods;
    const start = end - n * periodMs;
    const stat = a.ExtendedStatistic ?? a.Statistic ?? 'Average';
    const series = await this.o.metrics.series(scope, {
      metric: { Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions },
      start,
      end,
      period: a.Period,
      unit: a.Unit,
    });
    const cmp = COMPARISONS[a.ComparisonOperator];
    const m = a.DatapointsToAlarm ?? n;
    const treat = a.TreatMissingData ?? 'missing';
    const points: { t: number; v: number }[] = [];
    let breaching = 0;
    let missing = 0;
    for (let t = start; t < end; t += periodMs) {
      const b = series.get(t);
      if (!b || b.n === 0) {
        missing++;
        if (treat === 'breaching') breaching++;
        continue;
      }
      const v = statistic(b, stat);
      points.push({ t, v });
      if (cmp(v, a.Threshold)) breaching++;
    }
    const recent = points
      .slice(-m)
      .reverse()
      .map((p) => `${p.v} (${fmtDate(p.t)})`)
      .join(', ');
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: new Date(now).toISOString(),
      startDate: new Date(start).toISOString(),
      statistic: stat,
      period: a.Period,
      recentDatapoints: points.map((p) => p.v),
      threshold: a.Threshold,
      evaluatedDatapoints: points.map((p) => ({ timestamp: new Date(p.t).toISOString(), value: p.v })),
    });
    if (missing === n && (treat === 'missing' || treat === 'ignore')) {
      if (treat === 'ignore') return { reason: '' };
      return {
        state: 'INSUFFICIENT_DATA',
        reason: `Insufficient Data: ${n} datapoint${n > 1 ? 's were' : ' was'} unknown.`,
        reasonData,
      };
    }
    const state: AlarmState = breaching >= m ? 'ALARM' : 'OK';
    const verb = state === 'ALARM' ? 'was' : 'was not';
    const transition = state === 'ALARM' ? 'OK -> ALARM' : 'ALARM -> OK';
    return {
      state,
      reason: `Threshold Crossed: ${points.length} out of the last ${n} datapoints [${recent}] ${verb} ${
        SYMBOL[a.ComparisonOperator]
      } the threshold (${a.Threshold}) (minimum ${m} datapoint${m > 1 ? 's' : ''} for ${transition} transition).`,
      reasonData,
    };
  }

  /** Applies a decision; fires actions when the state changed. Undefined when the alarm is gone. */
  private async transition(
    scope: Scope,
    name: string,
    decide: () => { state?: AlarmState; reason: string; reasonData?: string },
    forced: boolean,
  ): Promise<boolean | undefined> {
    const now = this.o.clock.now();
    const d = decide();
    const result = await this.o.store.transaction(async (tx) => {
      const a = await tx.get<MetricAlarm>(ALARMS, key(scope, name));
      if (!a) return undefined;
      if (!d.state) return { changed: false, alarm: a, old: a.StateValue };
      const old = a.StateValue;
      if (old === d.state && !forced) return { changed: false, alarm: a, old };
      a.StateValue = d.state;
      a.StateReason = d.reason;
      if (d.reasonData !== undefined) a.StateReasonData = d.reasonData;
      else delete a.StateReasonData;
      a.StateUpdatedTimestamp = now;
      if (old !== d.state) a.StateTransitionedTimestamp = now;
      await tx.put(ALARMS, key(scope, name), a);
      return { changed: old !== d.state, alarm: a, old };
    });
    if (!result) return undefined;
    if (result.changed && result.alarm.ActionsEnabled) await this.fire(scope, result.alarm, result.old, now);
    return result.changed;
  }

  private async fire(scope: Scope, a: MetricAlarm, old: AlarmState, now: number): Promise<void> {
    const targets =
      a.StateValue === 'ALARM'
        ? a.AlarmActions
        : a.StateValue === 'OK'
          ? a.OKActions
          : a.InsufficientDataActions;
    for (const arn of targets) {
      try {
        if (arn.startsWith('arn:aws:lambda:')) {
          await this.o.actions.invokeLambda(scope, arn, lambdaEvent(scope, a, old, now));
        } else if (arn.startsWith('arn:aws:sns:')) {
          if (!this.o.actions.publishSns) {
            this.o.logger.warn('alarm action skipped: SNS is not available', { alarm: a.AlarmName, arn });
            continue;
          }
          await this.o.actions.publishSns(
            scope,
            arn,
            `${a.StateValue}: "${a.AlarmName}" in ${scope.region}`,
            JSON.stringify(snsMessage(scope, a, old, now)),
          );
        } else {
          this.o.logger.warn('alarm action not supported', { alarm: a.AlarmName, arn });
        }
      } catch (e) {
        this.o.logger.error('alarm action failed', { alarm: a.AlarmName, arn, err: e });
      }
    }
  }
}

function fmtDate(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

const iso = (t: number) => new Date(t).toISOString().replace('Z', '+0000');

/** The event a Lambda alarm action receives (source aws.cloudwatch). */
export function lambdaEvent(scope: Scope, a: MetricAlarm, old: AlarmState, now: number): unknown {
  return {
    source: 'aws.cloudwatch',
    alarmArn: a.AlarmArn,
    accountId: scope.accountId,
    time: iso(now),
    region: scope.region,
    alarmData: {
      alarmName: a.AlarmName,
      state: {
        value: a.StateValue,
        reason: a.StateReason,
        ...(a.StateReasonData ? { reasonData: a.StateReasonData } : {}),
        timestamp: iso(now),
      },
      previousState: { value: old },
      configuration: {
        ...(a.AlarmDescription ? { description: a.AlarmDescription } : {}),
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: a.Namespace,
                name: a.MetricName,
                dimensions: Object.fromEntries(a.Dimensions.map((d) => [d.Name, d.Value])),
              },
              period: a.Period,
              stat: a.ExtendedStatistic ?? a.Statistic,
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

/** The JSON message an SNS alarm action publishes. */
export function snsMessage(scope: Scope, a: MetricAlarm, old: AlarmState, now: number): unknown {
  return {
    AlarmName: a.AlarmName,
    AlarmDescription: a.AlarmDescription ?? null,
    AWSAccountId: scope.accountId,
    NewStateValue: a.StateValue,
    NewStateReason: a.StateReason,
    StateChangeTime: iso(now),
    Region: scope.region,
    AlarmArn: a.AlarmArn,
    OldStateValue: old,
    Trigger: {
      MetricName: a.MetricName,
      Namespace: a.Namespace,
      StatisticType: a.ExtendedStatistic ? 'ExtendedStatistic' : 'Statistic',
      ...(a.ExtendedStatistic
        ? { ExtendedStatistic: a.ExtendedStatistic }
        : { Statistic: (a.Statistic ?? 'Average').toUpperCase() }),
      Unit: a.Unit ?? null,
      Dimensions: a.Dimensions.map((d) => ({ value: d.Value, name: d.Name })),
      Period: a.Period,
      EvaluationPeriods: a.EvaluationPeriods,
      ComparisonOperator: a.ComparisonOperator,
      Threshold: a.Threshold,
      TreatMissingData: a.TreatMissingData ?? 'missing',
      EvaluateLowSampleCountPercentile: '',
    },
  };
}
