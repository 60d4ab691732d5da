/**
 * CloudWatch Logs engine: log groups, streams and events on the Store, and the LogSink that
 * function logs are appended to (buffered, flushed in one transaction every ~200 ms; reads on
 * this node flush first, so they see every event appended before them).
 *
 * Key design (collections are per kind; `:` never occurs in group or stream names):
 *   logs.groups   `<account>:<region>:<group>`
 *   logs.streams  `<account>:<region>:<group>:<stream>`
 *   logs.events   `<account>:<region>:<group>:<stream>:<pos>`   one stream, by time
 *   logs.gevents  `<account>:<region>:<group>:<pos>:<stream>`   whole group, by time (FilterLogEvents)
 * `<pos>` is 36 digits: the event timestamp (15) + ingestion time (15) + a counter (6), so a
 * time window is a key range, and a page boundary is a key. The rows of both event indexes are
 * chunks of events keyed by their first event (see log-chunks.ts).
 */
import type { Store, Transaction } from '../storage/store.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LogEventInput, LogSink, LogStreamRef } from '../core/log-sink.js';
import { AwsError } from '../protocols/errors.js';
import { compileFilterPattern } from './filter-pattern.js';
import {
  MAX_METRIC_FILTERS,
  MAX_SUBSCRIPTION_FILTERS,
  METRIC_FILTERS,
  SUBSCRIPTION_FILTERS,
  SUBSCRIPTION_QUEUE,
  compileMetricFilter,
  compilePattern,
  isDeliveryLine,
  lambdaFunctionName,
  limitExceeded,
  validateDestination,
  validateFilterName,
  validateTransformations,
  type MetricFilter,
  type MetricFilterFn,
  type MetricPoint,
  type SubscriptionDelivery,
  type SubscriptionFilter,
} from './log-filters.js';
import {
  eventPos,
  eventsForward,
  eventsReverse,
  pad15,
  putChunks,
  trimBefore,
  type LogEvent,
  type NewEvent,
} from './log-chunks.js';

export const GROUPS = 'logs.groups';
export const STREAMS = 'logs.streams';
export const EVENTS = 'logs.events';
export const GROUP_EVENTS = 'logs.gevents';

const EVENT_OVERHEAD = 26;
const MAX_BATCH_BYTES = 1_048_576;
const MAX_BATCH_EVENTS = 10_000;
const MAX_READ_BYTES = 1_048_576;
const DAY_MS = 24 * 3600 * 1000;
const ZEROS21 = '0'.repeat(21);

export interface LogGroup {
  logGroupName: string;
  creationTime: number;
  retentionInDays?: number;
  metricFilterCount: number;
  arn: string;
  logGroupArn: string;
  storedBytes: number;
  logGroupClass: string;
}

export interface LogStream {
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  uploadSequenceToken: string;
  arn: string;
  storedBytes: number;
}

export interface OutputLogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface FilteredLogEvent extends OutputLogEvent {
  logStreamName: string;
  eventId: string;
}

export interface Scope {
  accountId: string;
  region: string;
}

const groupKey = (s: Scope, g: string) => `${s.accountId}:${s.region}:${g}`;
const streamKey = (s: Scope, g: string, st: string) => `${s.accountId}:${s.region}:${g}:${st}`;

export const notFoundGroup = () =>
  new AwsError('ResourceNotFoundException', 'The specified log group does not exist.', 400);
export const notFoundStream = () =>
  new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.', 400);
export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message, 400);

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
export function validateGroupName(name: unknown): string {
  if (typeof name !== 'string' || !GROUP_NAME.test(name)) {
    throw invalidParameter(
      `1 validation error detected: Value '${String(name)}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
    );
  }
  return name;
}
export function validateStreamName(name: unknown): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 512 || /[:*]/.test(name)) {
    throw invalidParameter(
      `1 validation error detected: Value '${String(name)}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
    );
  }
  return name;
}

export { compileFilterPattern } from './filter-pattern.js';

function encodeToken(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
function decodeToken(t: unknown): string {
  if (typeof t !== 'string' || t === '') throw invalidParameter('The specified nextToken is invalid.');
  return Buffer.from(t, 'base64url').toString('utf8');
}

export interface LogsEngineOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** How long appended events wait before a batch write (default 200 ms). */
  flushIntervalMs?: number;
  /** How often events past their group's retention are deleted (default 10 min; 0: never). */
  retentionIntervalMs?: number;
}

/** Where metric filters' values go (the metrics engine, wired by the monitoring module). */
export type MetricFilterSink = (scope: Scope, points: MetricPoint[]) => void;

/** Checks a subscription destination when a filter is put (the function must exist). */
export type DestinationCheck = (scope: Scope, destinationArn: string, logGroupName: string) => Promise<void>;

interface PendingEvent {
  ref: LogStreamRef;
  event: LogEventInput;
}

interface WriteItem {
  scope: Scope;
  group: string;
  stream: string;
  timestamp: number;
  message: string;
}

export class LogsEngine implements LogSink {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly flushIntervalMs: number;
  private pending: PendingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private counter = 0;
  private closed = false;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(ref: LogStreamRef, events: LogEventInput[]) => void>();
  private metricSink: MetricFilterSink | undefined;
  private destinationCheck: DestinationCheck | undefined;
  /** Compiled metric filters, by their definition. */
  private readonly compiled = new Map<string, MetricFilterFn>();

  constructor(opts: LogsEngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.flushIntervalMs = opts.flushIntervalMs ?? 200;
    const every = opts.retentionIntervalMs ?? 600_000;
    if (every > 0) {
      this.retentionTimer = setInterval(() => {
        this.enforceRetention().catch((e: unknown) =>
          this.logger.error('log retention sweep failed', { err: e }),
        );
      }, every);
      this.retentionTimer.unref();
    }
  }

  /** Sees every batch of events stored (function logs and PutLogEvents): EMF extraction uses it. */
  onEvents(listener: (ref: LogStreamRef, events: LogEventInput[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Metric filters publish through this (without one, they publish nothing). */
  setMetricSink(sink: MetricFilterSink | undefined): void {
    this.metricSink = sink;
  }

  /** PutSubscriptionFilter checks its destination through this. */
  setDestinationCheck(check: DestinationCheck | undefined): void {
    this.destinationCheck = check;
  }

  private publish(points: Map<string, { scope: Scope; points: MetricPoint[] }>): void {
    if (!this.metricSink) return;
    for (const { scope, points: p } of points.values()) {
      try {
        this.metricSink(scope, p);
      } catch (e) {
        this.logger.error('metric filter values could not be recorded', { err: e });
      }
    }
  }

  private emit(ref: LogStreamRef, events: LogEventInput[]): void {
    for (const l of this.listeners) {
      try {
        l(ref, events);
      } catch (e) {
        this.logger.error('a log listener failed', { err: e });
      }
    }
  }

  // ---- LogSink ---------------------------------------------------------------------------

  append(ref: LogStreamRef, events: LogEventInput[]): void {
    if (events.length === 0) return;
    if (this.listeners.size) this.emit(ref, events);
    for (const event of events) this.pending.push({ ref, event });
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => void this.flush(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() => this.writeSinkBatch(batch));
    }
    return this.writing;
  }

  /** Flushes and stops the timer; later appends are still accepted and written by flush(). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.flush();
  }

  /** The earliest event time a read may return: retention (by the clock) and the caller's start. */
  private retainedFrom(g: LogGroup | undefined, startTime: number | undefined): number | undefined {
    if (g?.retentionInDays === undefined) return startTime;
    const cutoff = this.clock.now() - g.retentionInDays * DAY_MS;
    return startTime === undefined ? cutoff : Math.max(startTime, cutoff);
  }

  /**
   * Deletes events older than their group's retention (reads already hide them). Runs on a
   * timer; returns how many events were removed.
   */
  async enforceRetention(): Promise<number> {
    await this.flush();
    const now = this.clock.now();
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const groups = await this.store.scan<LogGroup>(GROUPS, { after, limit: 100 });
      if (groups.length === 0) break;
      after = groups[groups.length - 1].key;
      for (const { key: gk, value: g } of groups) {
        if (g.retentionInDays === undefined) continue;
        const cut = pad15(now - g.retentionInDays * DAY_MS) + ZEROS21;
        removed += await this.store.transaction(async (tx) => {
          await trimBefore(tx, GROUP_EVENTS, gk + ':', cut, false);
          const streams = await tx.scan<LogStream>(STREAMS, { prefix: gk + ':' });
          let n = 0;
          for (const s of streams) {
            const sk = s.key;
            const dropped = await trimBefore(tx, EVENTS, sk + ':', cut);
            if (dropped.length === 0) continue;
            n += dropped.length;
            let bytes = 0;
            for (const e of dropped) bytes += Buffer.byteLength(e.m) + EVENT_OVERHEAD;
            s.value.storedBytes = Math.max(0, s.value.storedBytes - bytes);
            await tx.put(STREAMS, sk, s.value);
            const group = await tx.get<LogGroup>(GROUPS, gk);
            if (group) {
              group.storedBytes = Math.max(0, group.storedBytes - bytes);
              await tx.put(GROUPS, gk, group);
            }
          }
          return n;
        });
      }
    }
    return removed;
  }

  private async writeSinkBatch(batch: PendingEvent[]): Promise<void> {
    const items: WriteItem[] = batch.map(({ ref, event }) => ({
      scope: { accountId: ref.accountId, region: ref.region },
      group: ref.group,
      stream: ref.stream,
      timestamp: event.timestamp,
      message: event.message,
    }));
    try {
      this.publish(await this.store.transaction((tx) => this.writeItems(tx, items, true)));
    } catch (e) {
      this.logger.error('dropping log events: the batch could not be stored', {
        count: items.length,
        err: e,
      });
    }
  }

  /**
   * Writes events, updating stream/group statistics; with autoCreate, missing groups/streams
   * are made. Applies the groups' filters: subscription deliveries are enqueued in the same
   * transaction; the metric filters' values are returned (recorded once it commits).
   */
  private async writeItems(
    tx: Transaction,
    items: WriteItem[],
    autoCreate: boolean,
  ): Promise<Map<string, { scope: Scope; points: MetricPoint[] }>> {
    const now = this.clock.now();
    const streams = new Map<
      string,
      { scope: Scope; group: string; stream: string; value?: LogStream; events: NewEvent[] }
    >();
    const groupBytes = new Map<string, { scope: Scope; group: string; bytes: number }>();
    // Each item's stream entry, looked up once.
    const entries: { value?: LogStream; events: NewEvent[] }[] = [];
    const counters: number[] = [];
    for (const it of items) {
      const sk = streamKey(it.scope, it.group, it.stream);
      let e = streams.get(sk);
      if (!e) streams.set(sk, (e = { scope: it.scope, group: it.group, stream: it.stream, events: [] }));
      entries.push(e);
    }
    for (const [sk, s] of streams) {
      let value = await tx.get<LogStream>(STREAMS, sk);
      if (!value) {
        if (!autoCreate) throw notFoundStream();
        const gk = groupKey(s.scope, s.group);
        if (!(await tx.get(GROUPS, gk))) await tx.put(GROUPS, gk, newGroup(s.scope, s.group, now));
        value = newStream(s.scope, s.group, s.stream, now);
      }
      s.value = value;
    }
    // Each stream's events become a few chunk rows in each index (see log-chunks.ts). The rows
    // are issued together and awaited once: a transaction runs its statements in order (SQLite
    // at once, PostgreSQL pipelined), and a failure still fails the whole batch.
    const writes: Promise<void>[] = [];
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      const base = `${it.scope.accountId}:${it.scope.region}:${it.group}`;
      const counter = this.counter++ % 1_000_000;
      counters.push(counter);
      entries[k].events.push({ t: it.timestamp, m: it.message, counter });
      const s = entries[k].value!;
      const bytes = Buffer.byteLength(it.message) + EVENT_OVERHEAD;
      s.firstEventTimestamp = Math.min(s.firstEventTimestamp ?? it.timestamp, it.timestamp);
      s.lastEventTimestamp = Math.max(s.lastEventTimestamp ?? it.timestamp, it.timestamp);
      s.lastIngestionTime = now;
      s.storedBytes += bytes;
      const g = groupBytes.get(base) ?? { scope: it.scope, group: it.group, bytes: 0 };
      g.bytes += bytes;
      groupBytes.set(base, g);
    }
    for (const [sk, { scope, group, stream, events }] of streams) {
      writes.push(
        ...putChunks(tx, now, events, [
          { collection: EVENTS, prefix: sk + ':' },
          { collection: GROUP_EVENTS, prefix: groupKey(scope, group) + ':', stream },
        ]),
      );
    }
    await Promise.all(writes);
    for (const [sk, s] of streams) {
      s.value!.uploadSequenceToken = sequenceToken(now, this.counter);
      await tx.put(STREAMS, sk, s.value);
    }
    const points = new Map<string, { scope: Scope; points: MetricPoint[] }>();
    for (const g of groupBytes.values()) {
      const gk = groupKey(g.scope, g.group);
      const group = await tx.get<LogGroup>(GROUPS, gk);
      if (!group) continue;
      group.storedBytes += g.bytes;
      await tx.put(GROUPS, gk, group);
      const mine = (it: WriteItem) => it.group === g.group && groupKey(it.scope, it.group) === gk;
      if (group.metricFilterCount > 0) {
        const filters = await tx.scan<MetricFilter>(METRIC_FILTERS, { prefix: gk + ':' });
        const fns = filters.map((f) => this.metricFilterFn(f.value));
        const scopeKey = `${g.scope.accountId}:${g.scope.region}`;
        let out = points.get(scopeKey);
        if (!out) points.set(scopeKey, (out = { scope: g.scope, points: [] }));
        for (const it of items) {
          if (!mine(it)) continue;
          for (const fn of fns) fn(it.timestamp, it.message, out.points);
        }
      }
      const subs = await tx.scan<SubscriptionFilter>(SUBSCRIPTION_FILTERS, { prefix: gk + ':' });
      for (const { value: sub } of subs) {
        const matches = this.subscriptionMatcher(sub.filterPattern);
        const fn = lambdaFunctionName(sub.destinationArn);
        // A delivery invocation's own lines are not delivered back to the function (a loop).
        const own = fn !== undefined && g.group === `/aws/lambda/${fn}`;
        const byStream = new Map<string, SubscriptionDelivery>();
        for (let k = 0; k < items.length; k++) {
          const it = items[k];
          if (!mine(it) || !matches(it.message)) continue;
          if (own && isDeliveryLine(it.message)) continue;
          let d = byStream.get(it.stream);
          if (!d) {
            byStream.set(
              it.stream,
              (d = {
                accountId: g.scope.accountId,
                region: g.scope.region,
                destinationArn: sub.destinationArn,
                logGroup: g.group,
                logStream: it.stream,
                filterName: sub.filterName,
                logEvents: [],
              }),
            );
          }
          d.logEvents.push({
            id: eventPos(it.timestamp, now, counters[k]),
            timestamp: it.timestamp,
            message: it.message,
          });
        }
        for (const d of byStream.values()) await tx.enqueue(SUBSCRIPTION_QUEUE, d, { maxAttempts: 10 });
      }
    }
    return points;
  }

  /** A stored filter's pattern was validated when put; one that no longer compiles matches nothing. */
  private subscriptionMatcher(pattern: string): (message: string) => unknown {
    try {
      return compilePattern(pattern);
    } catch {
      return () => undefined;
    }
  }

  private metricFilterFn(f: MetricFilter): MetricFilterFn {
    const k = JSON.stringify([f.filterPattern, f.metricTransformations]);
    let fn = this.compiled.get(k);
    if (!fn) {
      try {
        fn = compileMetricFilter(f);
      } catch {
        fn = () => undefined; // stored filters were validated; a pattern that no longer compiles does nothing
      }
      if (this.compiled.size > 10_000) this.compiled.clear();
      this.compiled.set(k, fn);
    }
    return fn;
  }

  // ---- groups ----------------------------------------------------------------------------

  async createLogGroup(scope: Scope, name: string, opts: { logGroupClass?: string } = {}): Promise<void> {
    validateGroupName(name);
    const created = await this.store.insert(GROUPS, groupKey(scope, name), {
      ...newGroup(scope, name, this.clock.now()),
      ...(opts.logGroupClass ? { logGroupClass: opts.logGroupClass } : {}),
    });
    if (!created)
      throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists', 400);
  }

  async deleteLogGroup(scope: Scope, name: string): Promise<void> {
    await this.flush(); // pending events of the group are stored, then deleted with it
    validateGroupName(name);
    const gk = groupKey(scope, name);
    await this.store.transaction(async (tx) => {
      if (!(await tx.delete(GROUPS, gk))) throw notFoundGroup();
      await tx.deleteRange(STREAMS, { prefix: gk + ':' });
      await tx.deleteRange(EVENTS, { prefix: gk + ':' });
      await tx.deleteRange(GROUP_EVENTS, { prefix: gk + ':' });
      await tx.deleteRange(METRIC_FILTERS, { prefix: gk + ':' });
      await tx.deleteRange(SUBSCRIPTION_FILTERS, { prefix: gk + ':' });
    });
  }

  async getLogGroup(scope: Scope, name: string): Promise<LogGroup | undefined> {
    await this.flush(); // what was appended before this read is stored first
    return this.store.get<LogGroup>(GROUPS, groupKey(scope, name));
  }

  async putRetentionPolicy(scope: Scope, name: string, days: number | undefined): Promise<void> {
    const gk = groupKey(scope, name);
    await this.store.transaction(async (tx) => {
      const g = await tx.get<LogGroup>(GROUPS, gk);
      if (!g) throw notFoundGroup();
      if (days === undefined) delete g.retentionInDays;
      else g.retentionInDays = days;
      await tx.put(GROUPS, gk, g);
    });
  }

  async describeLogGroups(
    scope: Scope,
    opts: { prefix?: string; limit?: number; nextToken?: string },
  ): Promise<{ logGroups: LogGroup[]; nextToken?: string }> {
    await this.flush(); // what was appended before this read is stored first
    const limit = checkLimit(opts.limit, 50, 50);
    const base = `${scope.accountId}:${scope.region}:`;
    const rows = await this.store.scan<LogGroup>(GROUPS, {
      prefix: base + (opts.prefix ?? ''),
      after: opts.nextToken !== undefined ? base + decodeToken(opts.nextToken) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit).map((r) => r.value);
    return {
      logGroups: page,
      nextToken: rows.length > limit ? encodeToken(page[page.length - 1].logGroupName) : undefined,
    };
  }

  // ---- metric filters and subscription filters ------------------------------------------

  async putMetricFilter(
    scope: Scope,
    input: {
      logGroupName: string;
      filterName: unknown;
      filterPattern: unknown;
      metricTransformations: unknown;
    },
  ): Promise<void> {
    validateGroupName(input.logGroupName);
    const filterName = validateFilterName(input.filterName);
    compilePattern(input.filterPattern);
    const metricTransformations = validateTransformations(input.metricTransformations);
    const gk = groupKey(scope, input.logGroupName);
    await this.store.transaction(async (tx) => {
      const group = await tx.get<LogGroup>(GROUPS, gk);
      if (!group) throw notFoundGroup();
      const key = `${gk}:${filterName}`;
      const existing = await tx.get<MetricFilter>(METRIC_FILTERS, key);
      if (!existing) {
        if (group.metricFilterCount >= MAX_METRIC_FILTERS) throw limitExceeded('Resource limit exceeded.');
        group.metricFilterCount++;
        await tx.put(GROUPS, gk, group);
      }
      const f: MetricFilter = {
        filterName,
        filterPattern: input.filterPattern as string,
        metricTransformations,
        creationTime: existing?.creationTime ?? this.clock.now(),
        logGroupName: input.logGroupName,
      };
      await tx.put(METRIC_FILTERS, key, f);
    });
  }

  async deleteMetricFilter(scope: Scope, group: string, filterName: string): Promise<void> {
    const gk = groupKey(scope, group);
    await this.store.transaction(async (tx) => {
      const g = await tx.get<LogGroup>(GROUPS, gk);
      if (!g) throw notFoundGroup();
      if (!(await tx.delete(METRIC_FILTERS, `${gk}:${filterName}`))) {
        throw new AwsError('ResourceNotFoundException', 'The specified metric filter does not exist.', 400);
      }
      g.metricFilterCount = Math.max(0, g.metricFilterCount - 1);
      await tx.put(GROUPS, gk, g);
    });
  }

  async describeMetricFilters(
    scope: Scope,
    opts: {
      logGroupName?: string;
      filterNamePrefix?: string;
      metricName?: string;
      metricNamespace?: string;
      limit?: number;
      nextToken?: string;
    },
  ): Promise<{ metricFilters: MetricFilter[]; nextToken?: string }> {
    const limit = checkLimit(opts.limit, 50, 50);
    if (opts.filterNamePrefix !== undefined && opts.logGroupName === undefined) {
      throw invalidParameter('If you specify filterNamePrefix, you must also specify logGroupName.');
    }
    if ((opts.metricName === undefined) !== (opts.metricNamespace === undefined)) {
      throw invalidParameter('metricName and metricNamespace must be specified together.');
    }
    const base = `${scope.accountId}:${scope.region}:`;
    let prefix = base;
    if (opts.logGroupName !== undefined) {
      const gk = groupKey(scope, opts.logGroupName);
      if (!(await this.store.get(GROUPS, gk))) throw notFoundGroup();
      prefix = `${gk}:${opts.filterNamePrefix ?? ''}`;
    }
    const after = opts.nextToken !== undefined ? base + decodeToken(opts.nextToken) : undefined;
    const rows = (await this.store.scan<MetricFilter>(METRIC_FILTERS, { prefix, after })).filter(
      (r) =>
        opts.metricName === undefined ||
        r.value.metricTransformations.some(
          (t) => t.metricName === opts.metricName && t.metricNamespace === opts.metricNamespace,
        ),
    );
    const page = rows.slice(0, limit);
    return {
      metricFilters: page.map((r) => r.value),
      nextToken: rows.length > limit ? encodeToken(page[page.length - 1].key.slice(base.length)) : undefined,
    };
  }

  async putSubscriptionFilter(
    scope: Scope,
    input: {
      logGroupName: string;
      filterName: unknown;
      filterPattern: unknown;
      destinationArn: unknown;
      roleArn?: string;
      distribution?: string;
    },
  ): Promise<void> {
    validateGroupName(input.logGroupName);
    const filterName = validateFilterName(input.filterName);
    compilePattern(input.filterPattern);
    const destinationArn = validateDestination(input.destinationArn);
    const distribution = input.distribution ?? 'ByLogStream';
    if (distribution !== 'ByLogStream' && distribution !== 'Random') {
      throw invalidParameter(
        `1 validation error detected: Value '${distribution}' at 'distribution' failed to satisfy constraint: Member must satisfy enum value set: [Random, ByLogStream]`,
      );
    }
    const gk = groupKey(scope, input.logGroupName);
    if (!(await this.store.get(GROUPS, gk))) throw notFoundGroup();
    await this.destinationCheck?.(scope, destinationArn, input.logGroupName);
    await this.store.transaction(async (tx) => {
      if (!(await tx.get(GROUPS, gk))) throw notFoundGroup();
      const key = `${gk}:${filterName}`;
      const existing = await tx.get<SubscriptionFilter>(SUBSCRIPTION_FILTERS, key);
      if (!existing) {
        const n = (await tx.scan(SUBSCRIPTION_FILTERS, { prefix: gk + ':' })).length;
        if (n >= MAX_SUBSCRIPTION_FILTERS) throw limitExceeded('Resource limit exceeded.');
      }
      const f: SubscriptionFilter = {
        filterName,
        logGroupName: input.logGroupName,
        filterPattern: input.filterPattern as string,
        destinationArn,
        distribution,
        creationTime: existing?.creationTime ?? this.clock.now(),
        ...(input.roleArn ? { roleArn: input.roleArn } : {}),
      };
      await tx.put(SUBSCRIPTION_FILTERS, key, f);
    });
  }

  async deleteSubscriptionFilter(scope: Scope, group: string, filterName: string): Promise<void> {
    const gk = groupKey(scope, group);
    await this.store.transaction(async (tx) => {
      if (!(await tx.get(GROUPS, gk))) throw notFoundGroup();
      if (!(await tx.delete(SUBSCRIPTION_FILTERS, `${gk}:${filterName}`))) {
        throw new AwsError(
          'ResourceNotFoundException',
          'The specified subscription filter does not exist.',
          400,
        );
      }
    });
  }

  async describeSubscriptionFilters(
    scope: Scope,
    group: string,
    opts: { filterNamePrefix?: string; limit?: number; nextToken?: string },
  ): Promise<{ subscriptionFilters: SubscriptionFilter[]; nextToken?: string }> {
    const limit = checkLimit(opts.limit, 50, 50);
    const gk = groupKey(scope, group);
    if (!(await this.store.get(GROUPS, gk))) throw notFoundGroup();
    const base = gk + ':';
    const rows = await this.store.scan<SubscriptionFilter>(SUBSCRIPTION_FILTERS, {
      prefix: base + (opts.filterNamePrefix ?? ''),
      after: opts.nextToken !== undefined ? base + decodeToken(opts.nextToken) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      subscriptionFilters: page.map((r) => r.value),
      nextToken: rows.length > limit ? encodeToken(page[page.length - 1].value.filterName) : undefined,
    };
  }

  // ---- streams ---------------------------------------------------------------------------

  async createLogStream(scope: Scope, group: string, stream: string): Promise<void> {
    validateGroupName(group);
    validateStreamName(stream);
    await this.store.transaction(async (tx) => {
      if (!(await tx.get(GROUPS, groupKey(scope, group)))) throw notFoundGroup();
      const ok = await tx.insert(
        STREAMS,
        streamKey(scope, group, stream),
        newStream(scope, group, stream, this.clock.now()),
      );
      if (!ok)
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists', 400);
    });
  }

  async deleteLogStream(scope: Scope, group: string, stream: string): Promise<void> {
    await this.flush(); // pending events of the stream are stored, then deleted with it
    const sk = streamKey(scope, group, stream);
    await this.store.transaction(async (tx) => {
      if (!(await tx.get(GROUPS, groupKey(scope, group)))) throw notFoundGroup();
      if (!(await tx.delete(STREAMS, sk))) throw notFoundStream();
      await tx.deleteRange(EVENTS, { prefix: sk + ':' });
      const gk = groupKey(scope, group) + ':';
      const suffix = ':' + stream;
      const rows = await tx.scan<{ s?: string }>(GROUP_EVENTS, { prefix: gk });
      for (const r of rows)
        if (r.key.endsWith(suffix) && r.value.s === stream) await tx.delete(GROUP_EVENTS, r.key);
    });
  }

  async describeLogStreams(
    scope: Scope,
    group: string,
    opts: { prefix?: string; orderBy?: string; descending?: boolean; limit?: number; nextToken?: string },
  ): Promise<{ logStreams: LogStream[]; nextToken?: string }> {
    await this.flush(); // what was appended before this read is stored first
    const limit = checkLimit(opts.limit, 50, 50);
    const gk = groupKey(scope, group);
    if (!(await this.store.get(GROUPS, gk))) throw notFoundGroup();
    const orderBy = opts.orderBy ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
      throw invalidParameter(
        `1 validation error detected: Value '${orderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]`,
      );
    }
    const base = gk + ':';
    if (orderBy === 'LastEventTime') {
      if (opts.prefix) throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
      const all = (await this.store.scan<LogStream>(STREAMS, { prefix: base })).map((r) => r.value);
      const t = (s: LogStream) => s.lastEventTimestamp ?? 0;
      all.sort((a, b) => t(a) - t(b) || (a.logStreamName < b.logStreamName ? -1 : 1));
      if (opts.descending) all.reverse();
      const offset = opts.nextToken !== undefined ? Number(decodeToken(opts.nextToken)) : 0;
      if (!Number.isInteger(offset) || offset < 0)
        throw invalidParameter('The specified nextToken is invalid.');
      const page = all.slice(offset, offset + limit);
      return {
        logStreams: page,
        nextToken: offset + limit < all.length ? encodeToken(String(offset + limit)) : undefined,
      };
    }
    const prefix = base + (opts.prefix ?? '');
    const token = opts.nextToken !== undefined ? base + decodeToken(opts.nextToken) : undefined;
    const rows = await this.store.scan<LogStream>(STREAMS, {
      prefix,
      ...(token ? (opts.descending ? { end: token } : { after: token }) : {}),
      reverse: opts.descending ?? false,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit).map((r) => r.value);
    return {
      logStreams: page,
      nextToken: rows.length > limit ? encodeToken(page[page.length - 1].logStreamName) : undefined,
    };
  }

  // ---- events ----------------------------------------------------------------------------

  async putLogEvents(
    scope: Scope,
    group: string,
    stream: string,
    events: LogEventInput[],
  ): Promise<{
    nextSequenceToken: string;
    rejectedLogEventsInfo?: {
      tooNewLogEventStartIndex?: number;
      tooOldLogEventEndIndex?: number;
      expiredLogEventEndIndex?: number;
    };
  }> {
    if (!Array.isArray(events) || events.length === 0) {
      throw invalidParameter(
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (events.length > MAX_BATCH_EVENTS) {
      throw invalidParameter(
        `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${MAX_BATCH_EVENTS}`,
      );
    }
    let bytes = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (!e || typeof e.message !== 'string' || typeof e.timestamp !== 'number') {
        throw invalidParameter('Each log event needs a numeric timestamp and a string message.');
      }
      if (e.message.length === 0) {
        throw invalidParameter(
          `1 validation error detected: Value '' at 'logEvents.${i + 1}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`,
        );
      }
      if (i > 0 && e.timestamp < events[i - 1].timestamp) {
        throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
      }
      bytes += Buffer.byteLength(e.message) + EVENT_OVERHEAD;
    }
    if (bytes > MAX_BATCH_BYTES)
      throw invalidParameter(`Upload too large: ${bytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    if (events[events.length - 1].timestamp - events[0].timestamp > DAY_MS) {
      throw invalidParameter(
        'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
      );
    }
    const now = this.clock.now();
    const info: {
      tooNewLogEventStartIndex?: number;
      tooOldLogEventEndIndex?: number;
      expiredLogEventEndIndex?: number;
    } = {};
    const accepted: WriteItem[] = [];
    let retention: number | undefined;
    let points = new Map<string, { scope: Scope; points: MetricPoint[] }>();
    const reply = await this.store.transaction(async (tx) => {
      const g = await tx.get<LogGroup>(GROUPS, groupKey(scope, group));
      if (!g) throw notFoundGroup();
      if (!(await tx.get(STREAMS, streamKey(scope, group, stream)))) throw notFoundStream();
      retention = g.retentionInDays;
      accepted.length = 0;
      delete info.tooNewLogEventStartIndex;
      delete info.tooOldLogEventEndIndex;
      delete info.expiredLogEventEndIndex;
      events.forEach((e, i) => {
        if (e.timestamp > now + 2 * 3600 * 1000) {
          if (info.tooNewLogEventStartIndex === undefined) info.tooNewLogEventStartIndex = i;
        } else if (e.timestamp < now - 14 * DAY_MS) {
          info.tooOldLogEventEndIndex = i + 1;
        } else if (retention !== undefined && e.timestamp < now - retention * DAY_MS) {
          info.expiredLogEventEndIndex = i + 1;
        } else {
          accepted.push({ scope, group, stream, timestamp: e.timestamp, message: e.message });
        }
      });
      points = accepted.length ? await this.writeItems(tx, accepted, false) : new Map();
      return {
        nextSequenceToken: sequenceToken(now, this.counter),
        ...(Object.keys(info).length ? { rejectedLogEventsInfo: { ...info } } : {}),
      };
    });
    this.publish(points);
    if (this.listeners.size && accepted.length) {
      this.emit(
        { accountId: scope.accountId, region: scope.region, group, stream },
        accepted.map((a) => ({ timestamp: a.timestamp, message: a.message })),
      );
    }
    return reply;
  }

  async getLogEvents(
    scope: Scope,
    group: string,
    stream: string,
    opts: {
      startTime?: number;
      endTime?: number;
      limit?: number;
      nextToken?: string;
      startFromHead?: boolean;
    },
  ): Promise<{ events: OutputLogEvent[]; nextForwardToken: string; nextBackwardToken: string }> {
    await this.flush(); // what was appended before this read is stored first
    const limit = checkLimit(opts.limit, 10_000, 10_000);
    const sk = streamKey(scope, group, stream);
    const g = await this.store.get<LogGroup>(GROUPS, groupKey(scope, group));
    if (!(await this.store.get(STREAMS, sk))) {
      if (!g) throw notFoundGroup();
      throw notFoundStream();
    }
    const prefix = sk + ':';
    const from = this.retainedFrom(g, opts.startTime);
    const lo = from !== undefined ? pad15(from) + ZEROS21 : '';
    const hi = opts.endTime !== undefined ? pad15(opts.endTime) + ZEROS21 : '~';
    let dir: 'f' | 'b';
    let pos: string | undefined;
    if (opts.nextToken !== undefined) {
      const m = /^([fb])\/(\d{36})$/.exec(opts.nextToken);
      if (!m) throw invalidParameter('The specified nextToken is invalid.');
      dir = m[1] as 'f' | 'b';
      pos = m[2];
    } else {
      dir = opts.startFromHead ? 'f' : 'b';
    }
    let rows: LogEvent[] = [];
    const read =
      dir === 'f'
        ? pos !== undefined && pos >= lo
          ? eventsForward(this.store, EVENTS, prefix, pos, true, hi)
          : eventsForward(this.store, EVENTS, prefix, lo, false, hi)
        : eventsReverse(this.store, EVENTS, prefix, lo, pos !== undefined && pos < hi ? pos : hi);
    for await (const ev of read) {
      rows.push(ev);
      if (rows.length >= limit) break;
    }
    if (dir === 'b') rows.reverse();
    // Keep the reply under 1 MB, dropping from the far end of the read direction.
    let size = 0;
    let cut = rows.length;
    const order = dir === 'f' ? rows : [...rows].reverse();
    for (let i = 0; i < order.length; i++) {
      size += Buffer.byteLength(order[i].m) + EVENT_OVERHEAD;
      if (size > MAX_READ_BYTES) {
        cut = i;
        break;
      }
    }
    if (cut < rows.length) rows = dir === 'f' ? rows.slice(0, cut) : rows.slice(rows.length - cut);
    const events = rows.map((r) => ({ timestamp: r.t, message: r.m, ingestionTime: r.i }));
    const first = rows.length ? rows[0].key : undefined;
    const last = rows.length ? rows[rows.length - 1].key : undefined;
    const zero = '0'.repeat(36);
    const lowPos = opts.startTime !== undefined ? pad15(opts.startTime - 1) + '9'.repeat(21) : zero;
    return {
      events,
      nextForwardToken: last
        ? `f/${last}`
        : dir === 'f' && pos !== undefined
          ? `f/${pos}`
          : `f/${pos ?? lowPos}`,
      nextBackwardToken: first
        ? `b/${first}`
        : dir === 'b' && pos !== undefined
          ? `b/${pos}`
          : `b/${pos ?? lowPos}`,
    };
  }

  async filterLogEvents(
    scope: Scope,
    group: string,
    opts: {
      logStreamNames?: string[];
      logStreamNamePrefix?: string;
      startTime?: number;
      endTime?: number;
      filterPattern?: string;
      limit?: number;
      nextToken?: string;
    },
  ): Promise<{ events: FilteredLogEvent[]; nextToken?: string; searchedLogStreams: unknown[] }> {
    await this.flush(); // what was appended before this read is stored first
    const limit = checkLimit(opts.limit, 10_000, 10_000);
    const gk = groupKey(scope, group);
    const g = await this.store.get<LogGroup>(GROUPS, gk);
    if (!g) throw notFoundGroup();
    if (opts.logStreamNames && opts.logStreamNamePrefix) {
      throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive');
    }
    const matches = compileFilterPattern(opts.filterPattern);
    const names = opts.logStreamNames ? new Set(opts.logStreamNames) : undefined;
    const prefix = gk + ':';
    const from = this.retainedFrom(g, opts.startTime);
    const lo = from !== undefined ? pad15(from) + ZEROS21 : '';
    const hi = opts.endTime !== undefined ? pad15(opts.endTime) + ZEROS21 : '~';
    let cursor = opts.nextToken !== undefined ? decodeToken(opts.nextToken) : undefined;
    if (cursor !== undefined && !/^\d{36}/.test(cursor))
      throw invalidParameter('The specified nextToken is invalid.');
    const events: FilteredLogEvent[] = [];
    let scanned = 0;
    const maxScan = 100_000;
    let exhausted = true;
    let size = 0;
    const read =
      cursor !== undefined && cursor >= lo
        ? eventsForward(this.store, GROUP_EVENTS, prefix, cursor, true, hi)
        : eventsForward(this.store, GROUP_EVENTS, prefix, lo, false, hi);
    for await (const e of read) {
      if (events.length >= limit || size >= MAX_READ_BYTES || scanned >= maxScan) {
        exhausted = false;
        break;
      }
      scanned++;
      cursor = e.key;
      const stream = e.s ?? '';
      if (names && !names.has(stream)) continue;
      if (opts.logStreamNamePrefix && !stream.startsWith(opts.logStreamNamePrefix)) continue;
      if (!matches(e.m)) continue;
      size += Buffer.byteLength(e.m) + EVENT_OVERHEAD;
      events.push({
        logStreamName: stream,
        timestamp: e.t,
        message: e.m,
        ingestionTime: e.i,
        eventId: e.key.slice(0, 36),
      });
    }
    return {
      events,
      nextToken: !exhausted && cursor !== undefined ? encodeToken(cursor) : undefined,
      searchedLogStreams: [],
    };
  }
}

function checkLimit(limit: number | undefined, max: number, dflt: number): number {
  if (limit === undefined || limit === null) return dflt;
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw invalidParameter(
      `1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`,
    );
  }
  return limit;
}

function sequenceToken(now: number, counter: number): string {
  return pad15(now) + String(counter).padStart(41, '0');
}

function newGroup(scope: Scope, name: string, now: number): LogGroup {
  const logGroupArn = `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
  return {
    logGroupName: name,
    creationTime: now,
    metricFilterCount: 0,
    arn: `${logGroupArn}:*`,
    logGroupArn,
    storedBytes: 0,
    logGroupClass: 'STANDARD',
  };
}

function newStream(scope: Scope, group: string, stream: string, now: number): LogStream {
  return {
    logStreamName: stream,
    creationTime: now,
    uploadSequenceToken: sequenceToken(now, 0),
    arn: `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${group}:log-stream:${stream}`,
    storedBytes: 0,
  };
}
