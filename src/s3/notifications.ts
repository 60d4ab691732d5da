/**
 * S3 event notifications without I/O: the bucket's notification configuration, its validation
 * (event names, filter rules, overlapping configurations), which configurations an event
 * matches, and the messages S3 sends (event records, version 2.1, and `s3:TestEvent`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { errors } from './model.js';

export type DestinationType = 'lambda' | 'queue' | 'topic' | 'eventbridge';

export interface FilterRule {
  /** `Prefix` or `Suffix`. */
  Name: 'Prefix' | 'Suffix';
  Value: string;
}

export interface TargetConfiguration {
  Id: string;
  type: DestinationType;
  /** Function, queue or topic ARN. */
  arn: string;
  Events: string[];
  FilterRules?: FilterRule[];
}

export interface NotificationConfiguration {
  targets: TargetConfiguration[];
  /** EventBridgeConfiguration present: every event also goes to the account's default event bus. */
  eventBridge?: boolean;
}

/** Every event type S3 accepts in a configuration (AWS's list for SQS, SNS and Lambda). */
export const EVENT_TYPES: readonly string[] = [
  's3:ReducedRedundancyLostObject',
  's3:ObjectCreated:*',
  's3:ObjectCreated:Put',
  's3:ObjectCreated:Post',
  's3:ObjectCreated:Copy',
  's3:ObjectCreated:CompleteMultipartUpload',
  's3:ObjectRemoved:*',
  's3:ObjectRemoved:Delete',
  's3:ObjectRemoved:DeleteMarkerCreated',
  's3:ObjectRestore:*',
  's3:ObjectRestore:Post',
  's3:ObjectRestore:Completed',
  's3:ObjectRestore:Delete',
  's3:Replication:*',
  's3:Replication:OperationFailedReplication',
  's3:Replication:OperationNotTracked',
  's3:Replication:OperationMissedThreshold',
  's3:Replication:OperationReplicatedAfterThreshold',
  's3:LifecycleExpiration:*',
  's3:LifecycleExpiration:Delete',
  's3:LifecycleExpiration:DeleteMarkerCreated',
  's3:LifecycleTransition',
  's3:IntelligentTiering',
  's3:ObjectTagging:*',
  's3:ObjectTagging:Put',
  's3:ObjectTagging:Delete',
  's3:ObjectAcl:Put',
];

/** The events Nimbus emits (the operations it serves). */
export type EmittedEvent =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload'
  | 'ObjectRemoved:Delete';

/** The concrete event types a configured type stands for (a wildcard covers its family). */
function expand(type: string): string[] {
  if (!type.endsWith(':*')) return [type];
  const family = type.slice(0, -1);
  return EVENT_TYPES.filter((t) => t.startsWith(family) && !t.endsWith(':*'));
}

/** True when a configuration's event list covers `eventName` (e.g. `ObjectCreated:Put`). */
export function matchesEvent(events: readonly string[], eventName: string): boolean {
  const full = `s3:${eventName}`;
  return events.some((e) => e === full || (e.endsWith(':*') && full.startsWith(e.slice(0, -1))));
}

function rule(rules: readonly FilterRule[] | undefined, name: 'Prefix' | 'Suffix'): string {
  return rules?.find((r) => r.Name === name)?.Value ?? '';
}

/** True when the key passes the configuration's prefix and suffix rules. */
export function matchesFilter(rules: readonly FilterRule[] | undefined, key: string): boolean {
  return key.startsWith(rule(rules, 'Prefix')) && key.endsWith(rule(rules, 'Suffix'));
}

/** The configurations of `config` that an event on `key` goes to. */
export function targetsFor(
  config: NotificationConfiguration | undefined,
  eventName: string,
  key: string,
): TargetConfiguration[] {
  if (!config) return [];
  return config.targets.filter((t) => matchesEvent(t.Events, eventName) && matchesFilter(t.FilterRules, key));
}

/** Two configurations overlap when they share an event type and some key passes both filters. */
export function overlaps(a: TargetConfiguration, b: TargetConfiguration): boolean {
  const ea = new Set(a.Events.flatMap(expand));
  if (!b.Events.flatMap(expand).some((e) => ea.has(e))) return false;
  const pa = rule(a.FilterRules, 'Prefix');
  const pb = rule(b.FilterRules, 'Prefix');
  const sa = rule(a.FilterRules, 'Suffix');
  const sb = rule(b.FilterRules, 'Suffix');
  const prefixesMeet = pa.startsWith(pb) || pb.startsWith(pa);
  const suffixesMeet = sa.endsWith(sb) || sb.endsWith(sa);
  return prefixesMeet && suffixesMeet;
}

/** A configuration id as S3 generates one when the request has none. */
export function generateId(): string {
  return randomBytes(24).toString('base64').replace(/[+/=]/g, '').slice(0, 30);
}

/**
 * Checks a configuration as S3 does before it looks at the destinations: event names, filter
 * rules, overlapping configurations. Throws S3's InvalidArgument / MalformedXML.
 */
export function validateConfiguration(config: NotificationConfiguration): void {
  const ids = new Set<string>();
  for (const t of config.targets) {
    if (t.Events.length === 0 || !t.arn) throw errors.malformedXml();
    for (const e of t.Events) {
      if (!EVENT_TYPES.includes(e))
        throw errors.invalidArgument('The event is not supported for notifications', 'Event', e);
    }
    if (t.Id.length > 255)
      throw errors.invalidArgument(
        'The ID of a configuration cannot be longer than 255 characters',
        'Id',
        t.Id,
      );
    if (ids.has(t.Id))
      throw errors.invalidArgument('Cannot have two configurations with the same ID', 'Id', t.Id);
    ids.add(t.Id);
  }
  for (let i = 0; i < config.targets.length; i++) {
    for (let j = i + 1; j < config.targets.length; j++) {
      if (overlaps(config.targets[i], config.targets[j]))
        throw errors.invalidArgument(
          'Configurations overlap. Configurations on the same bucket cannot share a common event type.',
        );
    }
  }
}

/**
 * Filter rules as written in a request (names in any case); throws S3's errors for an unknown
 * name or a repeated one.
 */
export function parseFilterRules(rules: { Name?: string; Value?: string }[]): FilterRule[] {
  const out: FilterRule[] = [];
  for (const r of rules) {
    const name = (r.Name ?? '').toLowerCase();
    if (name !== 'prefix' && name !== 'suffix')
      throw errors.invalidArgument('filter rule name must be either prefix or suffix', 'FilterRule', r.Name);
    const Name = name === 'prefix' ? 'Prefix' : 'Suffix';
    if (out.some((x) => x.Name === Name))
      throw errors.invalidArgument(
        `Cannot specify more than one ${name} rule in a filter.`,
        'FilterRule',
        r.Name,
      );
    const Value = r.Value ?? '';
    if (Buffer.byteLength(Value) > 1024)
      throw errors.invalidArgument(
        'Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation',
        'FilterRule',
        Name,
      );
    out.push({ Name, Value });
  }
  return out;
}

/**
 * An object key as S3 writes it in event records: form-URL-encoded (UTF-8 bytes as `%XX`, a
 * space as `+`; letters, digits and `-_.*` kept), except `/`, which S3 leaves as is. Decode with
 * `decodeURIComponent(key.replace(/\+/g, ' '))`.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Who and where an operation came from, for the record's identity and response elements. */
export interface RequestInfo {
  requestId: string;
  hostId: string;
  sourceIp: string;
  /** The caller's IAM user id (`AWS:<id>` in the record). */
  principalId: string;
}

export interface ObjectEvent {
  eventName: EmittedEvent;
  bucket: string;
  /** The bucket owner's account. */
  owner: string;
  region: string;
  key: string;
  /** ObjectCreated only. */
  size?: number;
  /** Quoted, as stored; written unquoted. ObjectCreated only. */
  etag?: string;
  /** Epoch ms. */
  time: number;
  sequencer: string;
  request?: RequestInfo;
}

/** The bucket owner's canonical-looking principal id (stable per account). */
export function ownerPrincipal(accountId: string): string {
  return `A${createHash('sha256').update(accountId).digest('hex').slice(0, 13).toUpperCase()}`;
}

/** One event record (version 2.1 of the S3 event message structure). */
export function eventRecord(ev: ObjectEvent, configurationId: string): Record<string, unknown> {
  const object: Record<string, unknown> = { key: encodeEventKey(ev.key) };
  if (ev.size !== undefined) object.size = ev.size;
  if (ev.etag !== undefined) object.eTag = ev.etag.replace(/^"|"$/g, '');
  object.sequencer = ev.sequencer;
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: ev.region,
    eventTime: new Date(ev.time).toISOString(),
    eventName: ev.eventName,
    userIdentity: { principalId: ev.request ? `AWS:${ev.request.principalId}` : ownerPrincipal(ev.owner) },
    requestParameters: { sourceIPAddress: ev.request?.sourceIp ?? '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': ev.request?.requestId ?? '',
      'x-amz-id-2': ev.request?.hostId ?? '',
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: {
        name: ev.bucket,
        ownerIdentity: { principalId: ownerPrincipal(ev.owner) },
        arn: `arn:aws:s3:::${ev.bucket}`,
      },
      object,
    },
  };
}

const REASONS: Record<EmittedEvent, string> = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:CompleteMultipartUpload': 'CompleteMultipartUpload',
  'ObjectRemoved:Delete': 'DeleteObject',
};

/**
 * The PutEvents entry of an event for EventBridge (source `aws.s3`, detail-type `Object Created` /
 * `Object Deleted`, the bucket as resource), as S3 sends it when EventBridge is enabled.
 */
export function eventBridgeEntry(ev: ObjectEvent): Record<string, unknown> {
  const created = ev.eventName.startsWith('ObjectCreated');
  const object: Record<string, unknown> = { key: ev.key };
  if (ev.size !== undefined) object.size = ev.size;
  if (ev.etag !== undefined) object.etag = ev.etag.replace(/^"|"$/g, '');
  object.sequencer = ev.sequencer;
  const detail: Record<string, unknown> = {
    version: '0',
    bucket: { name: ev.bucket },
    object,
    'request-id': ev.request?.requestId ?? '',
    requester: ev.owner,
    'source-ip-address': ev.request?.sourceIp ?? '127.0.0.1',
    reason: REASONS[ev.eventName],
  };
  if (!created) detail['deletion-type'] = 'Permanently Deleted';
  return {
    Source: 'aws.s3',
    DetailType: created ? 'Object Created' : 'Object Deleted',
    Detail: JSON.stringify(detail),
    Resources: [`arn:aws:s3:::${ev.bucket}`],
    Time: new Date(ev.time).toISOString(),
  };
}

/** The message S3 sends to a destination: `{"Records":[record]}`. */
export function eventMessage(ev: ObjectEvent, configurationId: string): string {
  return JSON.stringify({ Records: [eventRecord(ev, configurationId)] });
}

/** The message queues and topics get when a configuration naming them is put. */
export function testEventMessage(bucket: string, time: number, requestId: string, hostId: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: new Date(time).toISOString(),
    Bucket: bucket,
    RequestId: requestId,
    HostId: hostId,
  });
}

let lastSeq = 0n;
/** A hex sequencer that grows with time (and within a millisecond), as S3's do for one key. */
export function nextSequencer(now: number): string {
  let v = BigInt(now) * 1000n;
  if (v <= lastSeq) v = lastSeq + 1n;
  lastSeq = v;
  return v.toString(16).toUpperCase().padStart(16, '0');
}
