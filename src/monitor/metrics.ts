/**
 * CloudWatch Metrics engine: datapoints aggregated into time buckets on the Store, with
 * downsampling, and the queries (GetMetricStatistics, GetMetricData, ListMetrics).
 *
 * Recording is cheap: `record()` merges into an in-memory bucket; buckets are written in one
 * transaction per flush (every second by default). Queries flush first, so a read on this
 * node sees every datapoint recorded before it.
 *
 * Storage (per kind, `<scope>` = `<account>:<region>`):
 *   metrics.defs  `<scope>:<namespace>\t<name>\t<dims>`   the metric (ListMetrics)
 *   metrics.data  `<scope>:<id>:<res>:<t15>`               one bucket; id = hash of the metric
 * Resolutions: `s` 1-second buckets (only for StorageResolution 1, kept `rawRetentionMs`),
 * `m` 1-minute buckets (kept `minuteRetentionMs`, then rolled up into) `h` 1-hour buckets
 * (kept `hourRetentionMs`). `m` and `h` never hold the same datapoint twice.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../storage/store.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { AwsError } from '../protocols/errors.js';
import { addValue, cloneBucket, mergeBucket, newBucket, statistic, type Bucket } from './metric-stats.js';

export const DEFS = 'metrics.defs';
export const DATA = 'metrics.data';

export interface Dimension {
  Name: string;
  Value: string;
}

export interface MetricRef {
  Namespace: string;
  MetricName: string;
  Dimensions?: Dimension[];
}

interface StoredDef {
  Namespace: string;
  MetricName: string;
  Dimensions: Dimension[];
  last: number;
}

export interface Scope {
  accountId: string;
  region: string;
}

export type Resolution = 's' | 'm' | 'h';
const RES_MS: Record<Resolution, number> = { s: 1000, m: 60_000, h: 3_600_000 };

export interface MetricsRetention {
  /** 1-second buckets (high-resolution metrics). Default 3 hours. */
  rawRetentionMs: number;
  /** 1-minute buckets, rolled up into 1-hour buckets after this. Default 15 days. */
  minuteRetentionMs: number;
  /** 1-hour buckets. Default 455 days (AWS's figure). */
  hourRetentionMs: number;
}

export const DEFAULT_RETENTION: MetricsRetention = {
  rawRetentionMs: 3 * 3_600_000,
  minuteRetentionMs: 15 * 86_400_000,
  hourRetentionMs: 455 * 86_400_000,
};

export interface MetricsEngineOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  flushIntervalMs?: number;
  retention?: Partial<MetricsRetention>;
  /** How often compaction (roll-up and expiry) runs; default 10 minutes. 0 disables the timer. */
  compactIntervalMs?: number;
}

/** One datapoint to record (what other services call). */
export interface Datapoint {
  value?: number;
  /** A pre-aggregated set instead of a single value. */
  statistics?: Bucket;
  unit?: string;
  timestamp?: number;
  highResolution?: boolean;
  /** Count the value this many times (PutMetricData Values/Counts). */
  count?: number;
}

export const invalidParameterValue = (message: string) => new AwsError('InvalidParameterValue', message, 400);
export const missingParameter = (message: string) => new AwsError('MissingParameter', message, 400);
export const invalidParameterCombination = (message: string) =>
  new AwsError('InvalidParameterCombination', message, 400);

const pad15 = (n: number) => String(Math.max(0, Math.trunc(n))).padStart(15, '0');

/** Dimensions sorted by name, as one string: `a=1,b=2` (escaped), the identity of a metric. */
export function canonicalDimensions(dims: readonly Dimension[] | undefined): string {
  if (!dims || dims.length === 0) return '';
  return [...dims]
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    .map((d) => `${escapeDim(d.Name)}=${escapeDim(d.Value)}`)
    .join(',');
}
const escapeDim = (s: string) => s.replace(/[\\,=\t]/g, (c) => '\\' + c);

function defSuffix(ns: string, name: string, dims: string): string {
  return `${ns}\t${name}\t${dims}`;
}
function metricHash(suffix: string): string {
  return createHash('sha1').update(suffix).digest('base64url').slice(0, 16);
}

export interface MetricHandle {
  readonly pk: string;
  readonly scope: Scope;
  readonly suffix: string;
  readonly metric: MetricRef;
  minute: number;
  minuteKey: string;
}

interface Pending {
  scope: Scope;
  suffix: string;
  def: StoredDef;
  buckets: Map<string, Bucket>;
}

interface RecordedSeries {
  handle: MetricHandle;
  sinks: ((value: number, unit?: string) => void)[];
}

/** See `MetricsEngine.onSeries`. */
export type SeriesListener = (
  scope: Scope,
  namespace: string,
  name: string,
  dimensions: readonly Dimension[],
) => ((value: number, unit?: string) => void) | undefined;

export interface SeriesQuery {
  metric: MetricRef;
  start: number;
  end: number;
  period: number;
  unit?: string;
}

export class MetricsEngine {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushIntervalMs: number;
  readonly retention: MetricsRetention;
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly hashes = new Map<string, string>();
  private readonly listeners = new Set<
    (scope: Scope, ns: string, name: string, dims: readonly Dimension[], value: number, unit?: string) => void
  >();
  private readonly seriesListeners = new Set<SeriesListener>();
  /** What `record()` has seen, by a cheap key of scope, namespace, name and dimensions. */
  private readonly recorded = new Map<string, RecordedSeries>();
  private seriesGeneration = 0;

  constructor(opts: MetricsEngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.retention = { ...DEFAULT_RETENTION, ...opts.retention };
    const every = opts.compactIntervalMs ?? 600_000;
    if (every > 0) {
      this.compactTimer = setInterval(() => {
        this.compact().catch((e: unknown) => this.logger.error('metrics compaction failed', { err: e }));
      }, every);
      this.compactTimer.unref();
    }
  }

  now(): number {
    return this.clock.now();
  }

  /** Listeners see every value recorded through `record()`. */
  onRecord(
    l: (
      scope: Scope,
      ns: string,
      name: string,
      dims: readonly Dimension[],
      value: number,
      unit?: string,
    ) => void,
  ): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /**
   * Series listeners: called once per series (scope, namespace, name, dimensions) on its first
   * `record()`, they return what sees each of its values (or nothing). Cheaper than `onRecord`
   * for per-series state (the Prometheus exporter keeps its counters this way).
   */
  onSeries(l: SeriesListener): () => void {
    this.seriesListeners.add(l);
    this.forgetSeries();
    return () => {
      this.seriesListeners.delete(l);
      this.forgetSeries();
    };
  }

  /**
   * The API other services call: one value of a metric, now (or at `timestamp`).
   * `metrics.record(scope, 'AWS/SQS', 'NumberOfMessagesSent', [{Name:'QueueName',Value:q}], 1, 'Count')`
   *
   * Per call: one string key and one map lookup; the metric's identity (canonical dimensions,
   * storage keys) and the series listeners' state are built on the series' first value.
   */
  record(
    scope: Scope,
    namespace: string,
    name: string,
    dimensions: readonly Dimension[],
    value: number,
    unit?: string,
    timestamp?: number,
  ): void {
    const now = this.clock.now();
    this.recordOn(
      this.seriesOf(scope, namespace, name, dimensions),
      scope,
      namespace,
      name,
      dimensions,
      value,
      unit,
      timestamp ?? now,
      now,
    );
  }

  /** `record()` of one series, looked up once (MetricsSink.recorder). */
  recorder(
    scope: Scope,
    namespace: string,
    name: string,
    dimensions: readonly Dimension[],
    unit?: string,
  ): (value: number) => void {
    const at = { accountId: scope.accountId, region: scope.region };
    const dims = [...dimensions];
    let s = this.seriesOf(at, namespace, name, dims);
    let generation = this.seriesGeneration;
    return (value) => {
      if (generation !== this.seriesGeneration) {
        s = this.seriesOf(at, namespace, name, dims);
        generation = this.seriesGeneration;
      }
      const now = this.clock.now();
      this.recordOn(s, at, namespace, name, dims, value, unit, now, now);
    };
  }

  /** One value of a looked-up series: stored, then handed to its series sinks and the listeners. */
  private recordOn(
    s: RecordedSeries,
    scope: Scope,
    namespace: string,
    name: string,
    dimensions: readonly Dimension[],
    value: number,
    unit: string | undefined,
    t: number,
    now: number,
  ): void {
    this.addAt(s.handle, value, unit, t, now);
    for (const f of s.sinks) f(value, unit);
    for (const l of this.listeners) l(scope, namespace, name, dimensions, value, unit);
  }

  private seriesOf(
    scope: Scope,
    namespace: string,
    name: string,
    dimensions: readonly Dimension[],
  ): RecordedSeries {
    // Length-prefixed parts: no escaping, and no two different series share a key.
    let key = `${scope.accountId.length}:${scope.accountId}${scope.region.length}:${scope.region}${namespace.length}:${namespace}${name.length}:${name}`;
    for (const d of dimensions) key += `${d.Name.length}:${d.Name}${d.Value.length}:${d.Value}`;
    let s = this.recorded.get(key);
    if (!s) {
      const metric: MetricRef = { Namespace: namespace, MetricName: name, Dimensions: [...dimensions] };
      const sinks: ((value: number, unit?: string) => void)[] = [];
      for (const l of this.seriesListeners) {
        const f = l({ ...scope }, namespace, name, metric.Dimensions!);
        if (f) sinks.push(f);
      }
      s = { handle: this.handle({ accountId: scope.accountId, region: scope.region }, metric), sinks };
      if (this.recorded.size > 100_000) this.forgetSeries();
      this.recorded.set(key, s);
    }
    return s;
  }

  private forgetSeries(): void {
    this.recorded.clear();
    this.seriesGeneration++;
  }

  /**
   * A handle for a metric that is recorded often (built-in metrics): `addTo(handle, ...)`
   * skips the key building that `add` does on every call.
   */
  handle(scope: Scope, metric: MetricRef): MetricHandle {
    const suffix = defSuffix(metric.Namespace, metric.MetricName, canonicalDimensions(metric.Dimensions));
    return {
      pk: `${scope.accountId}:${scope.region}:${suffix}`,
      scope,
      suffix,
      metric,
      minute: -1,
      minuteKey: '',
    };
  }

  /** Adds one value through a handle (standard resolution). */
  addTo(h: MetricHandle, value: number, unit: string | undefined, t: number): void {
    this.addAt(h, value, unit, t, t);
  }

  private addAt(h: MetricHandle, value: number, unit: string | undefined, t: number, now: number): void {
    let p = this.pending.get(h.pk);
    if (!p) p = this.newPending(h.pk, h.scope, h.suffix, h.metric, now);
    if (t > p.def.last) p.def.last = t;
    const bt = t - (t % 60_000);
    if (bt !== h.minute) {
      h.minute = bt;
      h.minuteKey = `m:${pad15(bt)}`;
    }
    const b = p.buckets.get(h.minuteKey);
    if (b) addValue(b, value, unit);
    else p.buckets.set(h.minuteKey, newBucket(value, 1, unit));
    this.arm();
  }

  private newPending(pk: string, scope: Scope, suffix: string, metric: MetricRef, now: number): Pending {
    const p: Pending = {
      scope,
      suffix,
      def: {
        Namespace: metric.Namespace,
        MetricName: metric.MetricName,
        Dimensions: sortDims(metric.Dimensions ?? []),
        last: now,
      },
      buckets: new Map(),
    };
    this.pending.set(pk, p);
    return p;
  }

  private arm(): void {
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Adds datapoints of one metric (validated by the caller). */
  add(scope: Scope, metric: MetricRef, points: Datapoint[]): void {
    const dims = canonicalDimensions(metric.Dimensions);
    const suffix = defSuffix(metric.Namespace, metric.MetricName, dims);
    const pk = `${scope.accountId}:${scope.region}:${suffix}`;
    const now = this.clock.now();
    const p = this.pending.get(pk) ?? this.newPending(pk, scope, suffix, metric, now);
    for (const d of points) {
      const t = d.timestamp ?? now;
      if (t > p.def.last) p.def.last = t;
      const resolutions: Resolution[] = d.highResolution ? ['s', 'm'] : ['m'];
      for (const res of resolutions) {
        const bt = t - (t % RES_MS[res]);
        const bk = `${res}:${pad15(bt)}`;
        const existing = p.buckets.get(bk);
        if (d.statistics) {
          if (existing) mergeBucket(existing, cloneBucket(d.statistics));
          else p.buckets.set(bk, cloneBucket(d.statistics));
        } else if (d.value !== undefined) {
          const count = d.count ?? 1;
          if (existing && count === 1) addValue(existing, d.value, d.unit);
          else if (existing) mergeBucket(existing, newBucket(d.value, count, d.unit));
          else p.buckets.set(bk, newBucket(d.value, count, d.unit));
        }
      }
    }
    this.arm();
  }

  private hashOf(suffix: string): string {
    let h = this.hashes.get(suffix);
    if (!h) {
      h = metricHash(suffix);
      if (this.hashes.size > 100_000) this.hashes.clear();
      this.hashes.set(suffix, h);
    }
    return h;
  }

  /** Writes what was recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.size === 0) return this.writing;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.writing = this.writing.then(() =>
      this.store
        .transaction(async (tx) => {
          for (const p of batch) {
            const base = `${p.scope.accountId}:${p.scope.region}:`;
            const prev = await tx.get<StoredDef>(DEFS, base + p.suffix);
            if (!prev || prev.last < p.def.last) await tx.put(DEFS, base + p.suffix, p.def);
            const id = this.hashOf(p.suffix);
            for (const [bk, b] of p.buckets) {
              const key = `${base}${id}:${bk}`;
              const old = await tx.get<Bucket>(DATA, key);
              await tx.put(DATA, key, old ? mergeBucket(old, cloneBucket(b)) : b);
            }
          }
        })
        .catch((e: unknown) =>
          this.logger.error('dropping metric datapoints: store write failed', { err: e }),
        ),
    );
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = undefined;
    await this.flush();
  }

  /** Buckets of one metric per period start in [start, end), merged across stored resolutions. */
  async series(scope: Scope, q: SeriesQuery): Promise<Map<number, Bucket>> {
    await this.flush();
    const dims = canonicalDimensions(q.metric.Dimensions);
    const id = this.hashOf(defSuffix(q.metric.Namespace, q.metric.MetricName, dims));
    const base = `${scope.accountId}:${scope.region}:${id}:`;
    const out = new Map<number, Bucket>();
    const resolutions: Resolution[] = q.period < 60 ? ['s'] : ['m', 'h'];
    for (const res of resolutions) {
      // A coarse bucket that starts before `start` may still hold datapoints inside the window.
      const from = res === 'h' ? q.start - (q.start % RES_MS.h) : q.start;
      const rows = await this.store.scan<Bucket>(DATA, {
        start: `${base}${res}:${pad15(from)}`,
        end: `${base}${res}:${pad15(q.end)}`,
      });
      for (const r of rows) {
        const t = Number(r.key.slice(r.key.length - 15));
        if (q.unit && r.value.u && r.value.u !== q.unit) continue;
        if (q.unit && !r.value.u && q.unit !== 'None') continue;
        const slot = Math.max(
          q.start,
          q.start + Math.floor((t - q.start) / (q.period * 1000)) * q.period * 1000,
        );
        const b = out.get(slot);
        if (b) mergeBucket(b, r.value);
        else out.set(slot, r.value);
      }
    }
    return out;
  }

  /** One statistic per period, oldest first. */
  async statisticSeries(
    scope: Scope,
    q: SeriesQuery,
    stat: string,
  ): Promise<{ timestamps: number[]; values: number[] }> {
    const s = await this.series(scope, q);
    const ts = [...s.keys()].sort((a, b) => a - b);
    return { timestamps: ts, values: ts.map((t) => statistic(s.get(t)!, stat)) };
  }

  async listMetrics(
    scope: Scope,
    opts: {
      namespace?: string;
      metricName?: string;
      dimensions?: { Name: string; Value?: string }[];
      recentlyActive?: boolean;
    },
  ): Promise<MetricRef[]> {
    await this.flush();
    const base = `${scope.accountId}:${scope.region}:`;
    const prefix = base + (opts.namespace !== undefined ? opts.namespace + '\t' : '');
    const rows = await this.store.scan<StoredDef>(DEFS, { prefix });
    const now = this.clock.now();
    const since = opts.recentlyActive ? now - 3 * 3_600_000 : now - 14 * 86_400_000;
    return rows
      .map((r) => r.value)
      .filter((d) => d.last >= since)
      .filter((d) => opts.metricName === undefined || d.MetricName === opts.metricName)
      .filter((d) =>
        (opts.dimensions ?? []).every((f) =>
          d.Dimensions.some((x) => x.Name === f.Name && (f.Value === undefined || x.Value === f.Value)),
        ),
      )
      .map((d) => ({ Namespace: d.Namespace, MetricName: d.MetricName, Dimensions: d.Dimensions }));
  }

  /** Rolls old minute buckets up into hour buckets and drops what is past retention. */
  async compact(): Promise<{ rolledUp: number; expired: number }> {
    await this.flush();
    const now = this.clock.now();
    const r = this.retention;
    let rolledUp = 0;
    let expired = 0;
    const defs = await this.store.scan<StoredDef>(DEFS, {});
    for (const d of defs) {
      const sep = d.key.indexOf(':', d.key.indexOf(':') + 1);
      const base = d.key.slice(0, sep + 1);
      const id = this.hashOf(d.key.slice(sep + 1));
      const mCut = now - r.minuteRetentionMs;
      const n = await this.store.transaction(async (tx) => {
        const rows = await tx.scan<Bucket>(DATA, {
          start: `${base}${id}:m:`,
          end: `${base}${id}:m:${pad15(mCut)}`,
        });
        const hours = new Map<number, Bucket>();
        for (const row of rows) {
          const t = Number(row.key.slice(row.key.length - 15));
          const h = t - (t % RES_MS.h);
          const b = hours.get(h);
          if (b) mergeBucket(b, row.value);
          else hours.set(h, row.value);
          await tx.delete(DATA, row.key);
        }
        for (const [h, b] of hours) {
          const key = `${base}${id}:h:${pad15(h)}`;
          const old = await tx.get<Bucket>(DATA, key);
          await tx.put(DATA, key, old ? mergeBucket(old, b) : b);
        }
        let gone = await tx.deleteRange(DATA, {
          start: `${base}${id}:s:`,
          end: `${base}${id}:s:${pad15(now - r.rawRetentionMs)}`,
        });
        gone += await tx.deleteRange(DATA, {
          start: `${base}${id}:h:`,
          end: `${base}${id}:h:${pad15(now - r.hourRetentionMs)}`,
        });
        if (d.value.last < now - r.hourRetentionMs) await tx.delete(DEFS, d.key);
        return { rolled: rows.length, gone };
      });
      rolledUp += n.rolled;
      expired += n.gone;
    }
    return { rolledUp, expired };
  }

  /** How many stored buckets a metric has per resolution (for tests and `nimbus metrics`). */
  async bucketCounts(scope: Scope, metric: MetricRef): Promise<Record<Resolution, number>> {
    await this.flush();
    const id = this.hashOf(
      defSuffix(metric.Namespace, metric.MetricName, canonicalDimensions(metric.Dimensions)),
    );
    const base = `${scope.accountId}:${scope.region}:${id}:`;
    const out = { s: 0, m: 0, h: 0 };
    for (const res of ['s', 'm', 'h'] as const)
      out[res] = await this.store.count(DATA, { prefix: `${base}${res}:` });
    return out;
  }
}

function sortDims(d: Dimension[]): Dimension[] {
  return [...d].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}
