/**
 * Metric filters and subscription filters of CloudWatch Logs: their definitions (validated as
 * AWS does), what a metric filter publishes for a log event, and what a subscription delivers
 * (the `awslogs.data` payload a Lambda function receives).
 *
 * Both are applied by LogsEngine when events are stored (PutLogEvents and function logs alike),
 * inside the transaction that stores them; see logs.ts.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { AwsError } from '../protocols/errors.js';
import { compileFilterExtractor, type Extractor } from './filter-pattern.js';
import type { Dimension, MetricRef } from './metrics.js';

export const METRIC_FILTERS = 'logs.mfilters';
export const SUBSCRIPTION_FILTERS = 'logs.sfilters';
/** Subscription deliveries waiting to be invoked (enqueued with the events they carry). */
export const SUBSCRIPTION_QUEUE = 'logs.subscription-deliveries';

export const MAX_METRIC_FILTERS = 100;
export const MAX_SUBSCRIPTION_FILTERS = 2;

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message, 400);
export const limitExceeded = (message: string) => new AwsError('LimitExceededException', message, 400);

export interface MetricTransformation {
  metricName: string;
  metricNamespace: string;
  metricValue: string;
  defaultValue?: number;
  dimensions?: Record<string, string>;
  unit?: string;
}

export interface MetricFilter {
  filterName: string;
  filterPattern: string;
  metricTransformations: MetricTransformation[];
  creationTime: number;
  logGroupName: string;
}

export interface SubscriptionFilter {
  filterName: string;
  logGroupName: string;
  filterPattern: string;
  destinationArn: string;
  distribution: string;
  creationTime: number;
  roleArn?: string;
}

/** One subscription delivery: the events of one stream that matched one filter in one batch. */
export interface SubscriptionDelivery {
  accountId: string;
  region: string;
  destinationArn: string;
  logGroup: string;
  logStream: string;
  filterName: string;
  logEvents: { id: string; timestamp: number; message: string }[];
}

const UNITS = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

const FILTER_NAME = /^[^:*]{1,512}$/;
const METRIC_NAME = /^[^:*$]{1,255}$/;
const FIELD_REF = /^\$(\.[^\s.[\]]+|\[\d+\])+$|^\$[A-Za-z0-9_]+$/;

const constraint = (value: unknown, at: string, rule: string) =>
  invalidParameter(
    `1 validation error detected: Value '${String(value)}' at '${at}' failed to satisfy constraint: ${rule}`,
  );

export function validateFilterName(name: unknown): string {
  if (typeof name !== 'string' || !FILTER_NAME.test(name)) {
    throw constraint(name, 'filterName', 'Member must satisfy regular expression pattern: [^:*]*');
  }
  return name;
}

/** Compiles a pattern, or answers InvalidParameterException as AWS does for a bad one. */
export function compilePattern(pattern: unknown): Extractor {
  if (typeof pattern !== 'string') {
    throw constraint(pattern, 'filterPattern', 'Member must not be null');
  }
  if (pattern.length > 1024) {
    throw constraint('...', 'filterPattern', 'Member must have length less than or equal to 1024');
  }
  return compileFilterExtractor(pattern);
}

/** Validates PutMetricFilter's metricTransformations (exactly one, as AWS). */
export function validateTransformations(input: unknown): MetricTransformation[] {
  if (!Array.isArray(input) || input.length !== 1) {
    throw constraint(
      Array.isArray(input) ? `[${input.length} items]` : input,
      'metricTransformations',
      'Member must have length less than or equal to 1 and greater than or equal to 1',
    );
  }
  return input.map((raw: unknown, i) => {
    const t = (raw ?? {}) as Record<string, unknown>;
    const at = (f: string) => `metricTransformations.${i + 1}.member.${f}`;
    for (const f of ['metricName', 'metricNamespace'] as const) {
      if (typeof t[f] !== 'string' || !METRIC_NAME.test(t[f])) {
        throw constraint(t[f], at(f), 'Member must satisfy regular expression pattern: [^:*$]*');
      }
    }
    const value = t.metricValue;
    if (typeof value !== 'string' || value.length < 1 || value.length > 100) {
      throw constraint(value, at('metricValue'), 'Member must have length between 1 and 100');
    }
    if (!isNumeric(value) && !FIELD_REF.test(value)) {
      throw invalidParameter(
        `Invalid metric value: ${value}. It must be a number or a $-prefixed field of the filter pattern.`,
      );
    }
    const out: MetricTransformation = {
      metricName: t.metricName as string,
      metricNamespace: t.metricNamespace as string,
      metricValue: value,
    };
    if (t.defaultValue !== undefined && t.defaultValue !== null) {
      if (typeof t.defaultValue !== 'number' || !Number.isFinite(t.defaultValue)) {
        throw constraint(t.defaultValue, at('defaultValue'), 'Member must be a number');
      }
      out.defaultValue = t.defaultValue;
    }
    if (t.dimensions !== undefined && t.dimensions !== null) {
      const dims = t.dimensions as Record<string, unknown>;
      if (typeof dims !== 'object' || Array.isArray(dims)) throw invalidParameter('Invalid dimensions');
      const entries = Object.entries(dims);
      if (entries.length > 3) {
        throw invalidParameter('A metric filter can have at most 3 dimensions.');
      }
      for (const [k, v] of entries) {
        if (k.length < 1 || k.length > 255 || typeof v !== 'string' || !FIELD_REF.test(v)) {
          throw invalidParameter(
            `Invalid dimension ${k}: its value must be a $-prefixed field of the filter pattern.`,
          );
        }
      }
      if (entries.length > 0) {
        if (out.defaultValue !== undefined) {
          throw invalidParameter('A metric transformation with dimensions cannot have a default value.');
        }
        out.dimensions = dims as Record<string, string>;
      }
    }
    if (t.unit !== undefined && t.unit !== null) {
      if (typeof t.unit !== 'string' || !UNITS.has(t.unit)) {
        throw constraint(
          t.unit,
          at('unit'),
          `Member must satisfy enum value set: [${[...UNITS].join(', ')}]`,
        );
      }
      out.unit = t.unit;
    }
    return out;
  });
}

const isNumeric = (s: string) => /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(s.trim());

/** One value a metric filter publishes. */
export interface MetricPoint {
  metric: MetricRef;
  value: number;
  unit?: string;
  timestamp: number;
}

export type MetricFilterFn = (timestamp: number, message: string, out: MetricPoint[]) => void;

/**
 * What a metric filter publishes for one event: on a match, metricValue (a number, or the
 * value of a field; an event whose field is missing or not a number publishes nothing) with
 * its dimensions (an event missing a dimension field publishes nothing); otherwise the
 * defaultValue, when there is one.
 */
export function compileMetricFilter(f: Pick<MetricFilter, 'filterPattern' | 'metricTransformations'>) {
  const extract = compileFilterExtractor(f.filterPattern);
  const fn: MetricFilterFn = (timestamp, message, out) => {
    const x = extract(message);
    for (const t of f.metricTransformations) {
      if (!x) {
        if (t.defaultValue !== undefined) {
          out.push({
            metric: { Namespace: t.metricNamespace, MetricName: t.metricName, Dimensions: [] },
            value: t.defaultValue,
            unit: t.unit,
            timestamp,
          });
        }
        continue;
      }
      const raw = isNumeric(t.metricValue) ? t.metricValue : x.lookup(t.metricValue);
      if (raw === undefined || !isNumeric(raw)) continue;
      const dims: Dimension[] = [];
      let ok = true;
      for (const [Name, ref] of Object.entries(t.dimensions ?? {})) {
        const Value = x.lookup(ref);
        if (Value === undefined || Value === '') {
          ok = false;
          break;
        }
        dims.push({ Name, Value });
      }
      if (!ok) continue;
      out.push({
        metric: { Namespace: t.metricNamespace, MetricName: t.metricName, Dimensions: dims },
        value: Number(raw),
        unit: t.unit,
        timestamp,
      });
    }
  };
  return fn;
}

/** TestMetricFilter: the messages that match, numbered from 1, with the values extracted. */
export function testMetricFilter(
  pattern: unknown,
  messages: unknown,
): { matches: { eventNumber: number; eventMessage: string; extractedValues: Record<string, string> }[] } {
  const extract = compilePattern(pattern);
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 50) {
    throw constraint(
      Array.isArray(messages) ? `[${messages.length} items]` : messages,
      'logEventMessages',
      'Member must have length less than or equal to 50 and greater than or equal to 1',
    );
  }
  const matches = [];
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (typeof m !== 'string' || m.length === 0) {
      throw constraint(
        m,
        `logEventMessages.${i + 1}.member`,
        'Member must have length greater than or equal to 1',
      );
    }
    const x = extract(m);
    if (x) matches.push({ eventNumber: i + 1, eventMessage: m, extractedValues: x.extractedValues });
  }
  return { matches };
}

/** The `{"awslogs":{"data":...}}` event of a delivery: gzip + base64 of the DATA_MESSAGE JSON. */
export function awslogsEvent(d: SubscriptionDelivery): { awslogs: { data: string } } {
  const message = {
    messageType: 'DATA_MESSAGE',
    owner: d.accountId,
    logGroup: d.logGroup,
    logStream: d.logStream,
    subscriptionFilters: [d.filterName],
    logEvents: d.logEvents,
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(message))).toString('base64') } };
}

/**
 * The request id a delivery is invoked with: derived from the delivery's job id (a retried
 * delivery is the same invocation, which the Lambda async queue runs once), and marked (UUID
 * version 8, `b10c` variant group) so that the logs of a delivery invocation can be recognized.
 */
export function deliveryRequestId(jobId: string): string {
  const h = createHash('sha256').update(jobId).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-b10c-${h.slice(20, 32)}`;
}

const DELIVERY_ID = /\b[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-b10c-[0-9a-f]{12}\b/;

/**
 * True for a line a subscription-delivery invocation may have written: START/END/REPORT and
 * console lines carry its request id; INIT_START/INIT_REPORT carry none, so all are counted.
 * Such lines are not delivered back to the function that wrote them: a function subscribed to
 * its own log group would otherwise trigger itself forever.
 */
export function isDeliveryLine(message: string): boolean {
  if (message.startsWith('INIT_')) return true;
  return DELIVERY_ID.test(message.length > 200 ? message.slice(0, 200) : message);
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → name; else undefined. */
export function lambdaFunctionName(arn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:([^:]+)(:[^:]+)?$/.exec(arn);
  return m?.[1];
}

/** Validates a destination ARN: Lambda functions are served; Kinesis, Firehose and Logs destinations are not. */
export function validateDestination(arn: unknown): string {
  if (typeof arn !== 'string' || arn === '') {
    throw constraint(arn, 'destinationArn', 'Member must have length greater than or equal to 1');
  }
  if (lambdaFunctionName(arn)) return arn;
  const service = /^arn:aws[a-z-]*:([^:]+):/.exec(arn)?.[1];
  if (service === 'kinesis' || service === 'firehose' || service === 'logs') {
    throw invalidParameter(
      `Nimbus delivers subscription filters to Lambda functions only; ${service} destinations are not served (${arn}).`,
    );
  }
  throw invalidParameter(`Invalid destinationArn: ${arn}`);
}
