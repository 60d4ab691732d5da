/**
 * HTTP API AWS service integrations (`IntegrationSubtype`): an AWS_PROXY integration whose
 * `requestParameters` name the parameters of one service action (`QueueUrl`, `MessageBody`, ...)
 * instead of a Lambda function. The gateway makes that call on this Nimbus (src/server/self-call.ts)
 * and answers with the service's response.
 */
import { AwsError } from '../protocols/errors.js';
import type { ServiceRequest } from '../server/self-call.js';

interface Subtype {
  service: 'sqs' | 'events';
  action: string;
  required: string[];
  optional: string[];
}

const SUBTYPES: Record<string, Subtype> = {
  'SQS-SendMessage': {
    service: 'sqs',
    action: 'SendMessage',
    required: ['QueueUrl', 'MessageBody'],
    optional: [
      'DelaySeconds',
      'MessageAttributes',
      'MessageDeduplicationId',
      'MessageGroupId',
      'MessageSystemAttributes',
      'Region',
    ],
  },
  'SQS-ReceiveMessage': {
    service: 'sqs',
    action: 'ReceiveMessage',
    required: ['QueueUrl'],
    optional: [
      'AttributeNames',
      'MaxNumberOfMessages',
      'MessageAttributeNames',
      'ReceiveRequestAttemptId',
      'VisibilityTimeout',
      'WaitTimeSeconds',
      'Region',
    ],
  },
  'SQS-DeleteMessage': {
    service: 'sqs',
    action: 'DeleteMessage',
    required: ['QueueUrl', 'ReceiptHandle'],
    optional: ['Region'],
  },
  'SQS-PurgeQueue': { service: 'sqs', action: 'PurgeQueue', required: ['QueueUrl'], optional: ['Region'] },
  'EventBridge-PutEvents': {
    service: 'events',
    action: 'PutEvents',
    required: ['Detail', 'DetailType', 'Source'],
    optional: ['Time', 'EventBusName', 'Resources', 'Region', 'TraceHeader'],
  },
};

/** Subtypes AWS has for services Nimbus does not serve. */
const ELSEWHERE = [
  'AppConfig-GetConfiguration',
  'Kinesis-PutRecord',
  'StepFunctions-StartExecution',
  'StepFunctions-StartSyncExecution',
  'StepFunctions-StopExecution',
];

const bad = (message: string) => new AwsError('BadRequestException', message, 400);

/** Checks a subtype integration's settings; answers its parameters to store. */
export function checkSubtype(
  subtype: string,
  params: unknown,
  payloadFormatVersion: string | undefined,
): Record<string, string> {
  const s = SUBTYPES[subtype];
  if (!s) {
    if (ELSEWHERE.includes(subtype))
      throw bad(
        `IntegrationSubtype ${subtype} is not supported by Nimbus (it serves ${Object.keys(SUBTYPES).join(', ')})`,
      );
    throw bad(`Invalid IntegrationSubtype: ${subtype}`);
  }
  if (payloadFormatVersion !== undefined && payloadFormatVersion !== '1.0')
    throw bad('PayloadFormatVersion must be 1.0 for AWS service integrations');
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    throw bad(`RequestParameters are required for IntegrationSubtype ${subtype}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
    if (!s.required.includes(k) && !s.optional.includes(k))
      throw bad(`Parameter ${k} is not supported for IntegrationSubtype ${subtype}`);
    if (typeof v !== 'string') throw bad(`Parameter ${k}: the value must be a string`);
    out[k] = v;
  }
  for (const k of s.required)
    if (out[k] === undefined) throw bad(`Parameter ${k} is required for IntegrationSubtype ${subtype}`);
  return out;
}

/** A list parameter: a JSON array, else comma-separated values. */
function listOf(v: string): string[] {
  try {
    const parsed = JSON.parse(v) as unknown;
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    /* not JSON */
  }
  return v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/**
 * The service call of a subtype with its parameters' values (undefined: not given): SQS actions
 * in the query protocol (asking for JSON answers), EventBridge in JSON 1.1.
 */
export function subtypeRequest(
  subtype: string,
  values: Record<string, string | undefined>,
  defaultRegion: string,
  timeoutMs: number,
): ServiceRequest {
  const s = SUBTYPES[subtype];
  const region = values.Region || defaultRegion;
  const base = {
    region,
    service: s.service,
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    timeoutMs,
  };
  if (s.service === 'events') {
    const entry: Record<string, unknown> = {
      Detail: values.Detail,
      DetailType: values.DetailType,
      Source: values.Source,
    };
    if (values.Time) entry.Time = /^\d+$/.test(values.Time) ? Number(values.Time) : values.Time;
    if (values.EventBusName) entry.EventBusName = values.EventBusName;
    if (values.Resources) entry.Resources = listOf(values.Resources);
    if (values.TraceHeader) entry.TraceHeader = values.TraceHeader;
    return {
      ...base,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSEvents.${s.action}` },
      body: Buffer.from(JSON.stringify({ Entries: [entry] })),
    };
  }
  const form = new URLSearchParams({ Action: s.action, Version: '2012-11-05' });
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || k === 'Region') continue;
    if (k === 'AttributeNames' || k === 'MessageAttributeNames') {
      const name = k === 'AttributeNames' ? 'AttributeName' : 'MessageAttributeName';
      listOf(v).forEach((x, i) => form.set(`${name}.${i + 1}`, x));
    } else if (k === 'MessageAttributes' || k === 'MessageSystemAttributes') {
      // A JSON map: {"name": {"DataType": "String", "StringValue": "x"}}.
      const prefix = k === 'MessageAttributes' ? 'MessageAttribute' : 'MessageSystemAttribute';
      let attrs: Record<string, Record<string, unknown>>;
      try {
        attrs = JSON.parse(v) as Record<string, Record<string, unknown>>;
      } catch {
        throw bad(`Parameter ${k} must be a JSON map of attributes`);
      }
      Object.entries(attrs ?? {}).forEach(([name, a], i) => {
        form.set(`${prefix}.${i + 1}.Name`, name);
        for (const [field, x] of Object.entries(a ?? {}))
          if (x !== undefined && x !== null) form.set(`${prefix}.${i + 1}.Value.${field}`, String(x));
      });
    } else form.set(k, v);
  }
  return {
    ...base,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: Buffer.from(form.toString()),
  };
}
