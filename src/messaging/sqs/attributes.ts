/** Queue attribute rules: defaults, ranges, and which names exist. */
import { errors } from './errors.js';

export const DEFAULTS: Record<string, string> = {
  VisibilityTimeout: '30',
  DelaySeconds: '0',
  MessageRetentionPeriod: '345600',
  MaximumMessageSize: '262144',
  ReceiveMessageWaitTimeSeconds: '0',
  SqsManagedSseEnabled: 'true',
};

export const FIFO_DEFAULTS: Record<string, string> = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'queue',
  FifoThroughputLimit: 'perQueue',
};

const RANGES: Record<string, [number, number]> = {
  VisibilityTimeout: [0, 43200],
  DelaySeconds: [0, 900],
  MessageRetentionPeriod: [60, 1209600],
  MaximumMessageSize: [1024, 262144],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  KmsDataKeyReusePeriodSeconds: [60, 86400],
};

const SETTABLE = new Set([
  ...Object.keys(RANGES),
  'Policy',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);

export const READ_ONLY = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
];

export const ALL_NAMES = new Set([...SETTABLE, 'FifoQueue', ...READ_ONLY]);

const invalidValue = (name: string) =>
  errors.invalidAttributeValue(`Invalid value for the parameter ${name}.`);

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** Parses a RedrivePolicy attribute (a JSON string; maxReceiveCount may be a string). */
export function parseRedrivePolicy(value: string | undefined): RedrivePolicy | undefined {
  if (!value) return undefined;
  let p: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
  try {
    p = JSON.parse(value) as typeof p;
  } catch {
    throw errors.invalidAttributeValue(
      'Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.',
    );
  }
  const count = Number(p.maxReceiveCount);
  if (typeof p.deadLetterTargetArn !== 'string' || !p.deadLetterTargetArn.startsWith('arn:')) {
    throw errors.invalidAttributeValue(
      'Value ' +
        value +
        ' for parameter RedrivePolicy is invalid. Reason: Invalid value for deadLetterTargetArn.',
    );
  }
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw errors.invalidAttributeValue(
      'Value ' +
        value +
        ' for parameter RedrivePolicy is invalid. Reason: Invalid value for maxReceiveCount: ' +
        String(p.maxReceiveCount) +
        ', valid values are from 1 to 1000 both inclusive.',
    );
  }
  return { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: count };
}

/**
 * Validates attributes given to CreateQueue/SetQueueAttributes and returns them normalised.
 * `fifo` is the queue's type (for CreateQueue: from the name).
 */
export function validateAttributes(
  attrs: Record<string, string>,
  fifo: boolean,
  creating: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(attrs)) {
    const value = String(raw);
    if (name === 'FifoQueue') {
      if (!creating) throw errors.invalidAttributeName(`Unknown Attribute ${name}.`);
      if (value !== 'true' && value !== 'false') throw invalidValue(name);
      if ((value === 'true') !== fifo) {
        throw errors.invalidParameterValue(
          fifo
            ? 'The queue name is for a FIFO queue, but FifoQueue is false.'
            : 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.',
        );
      }
      continue;
    }
    if (!SETTABLE.has(name)) throw errors.invalidAttributeName(`Unknown Attribute ${name}.`);
    const range = RANGES[name];
    if (range) {
      const n = Number(value);
      if (value.trim() === '' || !Number.isInteger(n) || n < range[0] || n > range[1])
        throw invalidValue(name);
      out[name] = String(n);
      continue;
    }
    if (
      name === 'ContentBasedDeduplication' ||
      name === 'DeduplicationScope' ||
      name === 'FifoThroughputLimit'
    ) {
      if (!fifo) {
        throw errors.invalidAttributeName(`Unknown Attribute ${name}.`);
      }
      const ok =
        name === 'ContentBasedDeduplication'
          ? value === 'true' || value === 'false'
          : name === 'DeduplicationScope'
            ? value === 'queue' || value === 'messageGroup'
            : value === 'perQueue' || value === 'perMessageGroupId';
      if (!ok) throw invalidValue(name);
      out[name] = value;
      continue;
    }
    if (name === 'SqsManagedSseEnabled') {
      if (value !== 'true' && value !== 'false') throw invalidValue(name);
      out[name] = value;
      continue;
    }
    if (name === 'RedrivePolicy') {
      if (value === '') {
        out[name] = '';
        continue;
      }
      const p = parseRedrivePolicy(value);
      out[name] = JSON.stringify(p);
      continue;
    }
    if (name === 'RedriveAllowPolicy' && value !== '') {
      try {
        const p = JSON.parse(value) as { redrivePermission?: string };
        if (!['allowAll', 'denyAll', 'byQueue'].includes(p.redrivePermission ?? '')) throw new Error('bad');
      } catch {
        throw errors.invalidAttributeValue(
          `Value ${value} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it's in an unsupported format.`,
        );
      }
    }
    out[name] = value;
  }
  return out;
}
