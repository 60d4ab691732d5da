/**
 * SNS records, collections, errors and delivery policies.
 */
import { AwsError } from '../../protocols/errors.js';
import type { AttributeValue } from './filter-policy.js';

export const COLLECTIONS = {
  topics: 'sns-topics',
  subscriptions: 'sns-subscriptions',
  tokens: 'sns-tokens',
  dedup: 'sns-dedup',
  sequence: 'sns-sequence',
} as const;

/** Job queues: standard topics fan out concurrently; FIFO topics deliver one at a time, in order. */
export const DELIVERY_QUEUE = 'sns-delivery';
export const FIFO_DELIVERY_QUEUE = 'sns-delivery-fifo';

export interface Scope {
  accountId: string;
  region: string;
}

export interface TopicRecord {
  arn: string;
  name: string;
  accountId: string;
  region: string;
  fifo: boolean;
  /** User-settable attributes as given (strings). */
  attributes: Record<string, string>;
  tags: Record<string, string>;
  createdAt: number;
}

export interface SubscriptionRecord {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  owner: string;
  confirmed: boolean;
  /** Set by ConfirmSubscription with AuthenticateOnUnsubscribe. */
  authenticateOnUnsubscribe?: boolean;
  attributes: Record<string, string>;
  createdAt: number;
}

export type MessageAttributeInput = AttributeValue;

/** One delivery: a job in the Store's queue, so an acknowledged Publish survives kill -9. */
export interface DeliveryJob {
  kind: 'notification' | 'confirmation';
  subscriptionArn: string;
  topicArn: string;
  messageId: string;
  /** The message for this subscription's protocol (MessageStructure json already resolved). */
  message: string;
  subject?: string;
  /** ISO 8601 with milliseconds. */
  timestamp: string;
  /** Binary values are base64. */
  messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
  sequenceNumber?: string;
  /** Confirmation only. */
  token?: string;
  protocol?: string;
  endpoint?: string;
}

export const PROTOCOLS = [
  'http',
  'https',
  'sqs',
  'lambda',
  'email',
  'email-json',
  'sms',
  'application',
  'firehose',
];
/** Protocols Nimbus delivers to; the others are refused at Subscribe. */
export const DELIVERED_PROTOCOLS = new Set(['http', 'https', 'sqs', 'lambda']);

export const errors = {
  invalidParameter: (message: string) => new AwsError('InvalidParameter', message, 400),
  invalidParameterValue: (message: string) => new AwsError('ParameterValueInvalid', message, 400),
  topicNotFound: () => new AwsError('NotFound', 'Topic does not exist', 404),
  subscriptionNotFound: () => new AwsError('NotFound', 'Subscription does not exist', 404),
  resourceNotFound: () => new AwsError('ResourceNotFound', 'Resource does not exist', 404),
  authorization: (message: string) => new AwsError('AuthorizationError', message, 403),
};

export function topicArn(scope: Scope, name: string): string {
  return `arn:aws:sns:${scope.region}:${scope.accountId}:${name}`;
}

/** `arn:aws:sns:region:account:name` -> parts, or undefined when it is not a topic ARN. */
export function parseTopicArn(arn: string): (Scope & { name: string }) | undefined {
  const m = /^arn:aws[\w-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$/.exec(arn);
  return m ? { region: m[1], accountId: m[2], name: m[3] } : undefined;
}

export function parseSubscriptionArn(arn: string): { topicArn: string; id: string } | undefined {
  const i = arn.lastIndexOf(':');
  if (i < 0) return undefined;
  const topic = arn.slice(0, i);
  const id = arn.slice(i + 1);
  if (!parseTopicArn(topic) || !/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return { topicArn: topic, id };
}

// ---------------------------------------------------------------- delivery policy

export interface RetryPolicy {
  minDelayTarget: number;
  maxDelayTarget: number;
  numRetries: number;
  numNoDelayRetries: number;
  numMinDelayRetries: number;
  numMaxDelayRetries: number;
  backoffFunction: 'linear' | 'arithmetic' | 'geometric' | 'exponential';
}

export const DEFAULT_HTTP_RETRY: RetryPolicy = {
  minDelayTarget: 20,
  maxDelayTarget: 20,
  numRetries: 3,
  numMaxDelayRetries: 0,
  numNoDelayRetries: 0,
  numMinDelayRetries: 0,
  backoffFunction: 'linear',
};

/**
 * AWS-managed endpoints (SQS, Lambda): 3 immediate retries, 2 at 1 s, 10 backing off from
 * 1 s to 20 s, then every 20 s: 100,015 retries over about 23 days.
 */
export const MANAGED_RETRY: RetryPolicy = {
  minDelayTarget: 1,
  maxDelayTarget: 20,
  numRetries: 100_015,
  numNoDelayRetries: 3,
  numMinDelayRetries: 2,
  numMaxDelayRetries: 100_000,
  backoffFunction: 'exponential',
};

export const DEFAULT_EFFECTIVE_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: DEFAULT_HTTP_RETRY,
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
});

/** Milliseconds to wait before retry number `retry` (1-based). */
export function retryDelayMs(p: RetryPolicy, retry: number): number {
  const backoffCount = Math.max(
    0,
    p.numRetries - p.numNoDelayRetries - p.numMinDelayRetries - p.numMaxDelayRetries,
  );
  if (retry <= p.numNoDelayRetries) return 0;
  let k = retry - p.numNoDelayRetries;
  if (k <= p.numMinDelayRetries) return p.minDelayTarget * 1000;
  k -= p.numMinDelayRetries;
  if (k <= backoffCount) {
    const f = backoffCount <= 1 ? 1 : (k - 1) / (backoffCount - 1);
    const lo = p.minDelayTarget;
    const hi = p.maxDelayTarget;
    let s: number;
    switch (p.backoffFunction) {
      case 'exponential':
        s = lo * Math.pow(hi / Math.max(lo, 0.001), f);
        break;
      case 'geometric':
        s = lo + (hi - lo) * f * f;
        break;
      case 'arithmetic':
        s = lo + (hi - lo) * ((f * (f + 1)) / 2);
        break;
      default:
        s = lo + (hi - lo) * f;
    }
    return Math.round(s * 1000);
  }
  return p.maxDelayTarget * 1000;
}

function policyError(detail: string): AwsError {
  return errors.invalidParameter(`Invalid parameter: DeliveryPolicy: ${detail}`);
}

/** Validates a retry policy object (topic `defaultHealthyRetryPolicy` or subscription `healthyRetryPolicy`). */
export function parseRetryPolicy(raw: unknown): RetryPolicy {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw policyError('healthyRetryPolicy must be an object');
  const r = raw as Record<string, unknown>;
  const num = (k: string, def: number, min: number, max: number): number => {
    const v = r[k] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw policyError(`${k} must be an integer between ${min} and ${max}`);
    return v;
  };
  const p: RetryPolicy = {
    minDelayTarget: num('minDelayTarget', 20, 1, 3600),
    maxDelayTarget: num('maxDelayTarget', 20, 1, 3600),
    numRetries: num('numRetries', 3, 0, 100),
    numNoDelayRetries: num('numNoDelayRetries', 0, 0, 100),
    numMinDelayRetries: num('numMinDelayRetries', 0, 0, 100),
    numMaxDelayRetries: num('numMaxDelayRetries', 0, 0, 100),
    backoffFunction: (r.backoffFunction ?? 'linear') as RetryPolicy['backoffFunction'],
  };
  if (!['linear', 'arithmetic', 'geometric', 'exponential'].includes(p.backoffFunction))
    throw policyError('backoffFunction must be one of linear, arithmetic, geometric, exponential');
  if (p.minDelayTarget > p.maxDelayTarget) throw policyError('minDelayTarget must be <= maxDelayTarget');
  if (p.numNoDelayRetries + p.numMinDelayRetries + p.numMaxDelayRetries > p.numRetries)
    throw policyError('numRetries must be >= numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries');
  return p;
}

export function parseJsonAttribute(name: string, value: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw errors.invalidParameter(`Invalid parameter: ${name}: failed to parse JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw errors.invalidParameter(`Invalid parameter: ${name}: must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Validates a topic DeliveryPolicy (`{"http": {"defaultHealthyRetryPolicy": ...}}`). */
export function validateTopicDeliveryPolicy(value: string): void {
  const v = parseJsonAttribute('DeliveryPolicy', value);
  const http = v.http as Record<string, unknown> | undefined;
  if (http?.defaultHealthyRetryPolicy !== undefined) parseRetryPolicy(http.defaultHealthyRetryPolicy);
}

/** Validates a subscription DeliveryPolicy (`{"healthyRetryPolicy": ...}`). */
export function validateSubscriptionDeliveryPolicy(value: string): void {
  const v = parseJsonAttribute('DeliveryPolicy', value);
  if (v.healthyRetryPolicy !== undefined) parseRetryPolicy(v.healthyRetryPolicy);
}

/** The retry policy in force for an HTTP/HTTPS subscription. */
export function effectiveRetryPolicy(topic: TopicRecord | undefined, sub: SubscriptionRecord): RetryPolicy {
  if (sub.protocol !== 'http' && sub.protocol !== 'https') return MANAGED_RETRY;
  let topicHttp: Record<string, unknown> | undefined;
  try {
    topicHttp = topic?.attributes.DeliveryPolicy
      ? (JSON.parse(topic.attributes.DeliveryPolicy).http as Record<string, unknown> | undefined)
      : undefined;
  } catch {
    topicHttp = undefined;
  }
  const overridesDisabled = topicHttp?.disableSubscriptionOverrides === true;
  if (!overridesDisabled && sub.attributes.DeliveryPolicy) {
    try {
      const s = JSON.parse(sub.attributes.DeliveryPolicy) as Record<string, unknown>;
      if (s.healthyRetryPolicy) return parseRetryPolicy(s.healthyRetryPolicy);
    } catch {
      // validated on write; fall through
    }
  }
  if (topicHttp?.defaultHealthyRetryPolicy) return parseRetryPolicy(topicHttp.defaultHealthyRetryPolicy);
  return DEFAULT_HTTP_RETRY;
}
