/**
 * The SNS engine: topics, subscriptions, tags and Publish. A Publish writes one durable job
 * per matching subscription (in one transaction) and returns; `SnsDelivery` workers carry
 * them out. Inputs and outputs are plain typed values; `api.ts` maps the Query protocol.
 */
import type { MetricsSink } from '../../core/metrics-sink.js';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store, Transaction } from '../../storage/store.js';
import { AwsError } from '../../protocols/errors.js';
import { matchesFilterPolicy, parseFilterPolicy, type FilterScope } from './filter-policy.js';
import {
  COLLECTIONS,
  DEFAULT_EFFECTIVE_DELIVERY_POLICY,
  DELIVERED_PROTOCOLS,
  DELIVERY_QUEUE,
  effectiveRetryPolicy,
  FIFO_DELIVERY_QUEUE,
  PROTOCOLS,
  errors,
  parseJsonAttribute,
  parseSubscriptionArn,
  parseTopicArn,
  topicArn,
  validateSubscriptionDeliveryPolicy,
  validateTopicDeliveryPolicy,
  type DeliveryJob,
  type MessageAttributeInput,
  type Scope,
  type SubscriptionRecord,
  type TopicRecord,
} from './model.js';

export interface SnsEngineDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Base URL of this Nimbus for SubscribeURL / UnsubscribeURL / SigningCertURL. */
  baseUrl: () => string;
  /** Built-in AWS/SNS metrics (absent: none recorded). */
  metrics?: MetricsSink;
  /**
   * Delivers a notification to an SQS subscription inside the publish transaction. Resolves to
   * a callback to run after the commit, or undefined when it did not (the job path delivers
   * then, with retries and the subscription's redrive policy).
   */
  inlineSqs?: (
    tx: Transaction,
    sub: SubscriptionRecord,
    topic: TopicRecord,
    job: DeliveryJob,
  ) => Promise<(() => void) | undefined>;
}

export interface PublishInput {
  message: string;
  subject?: string;
  messageStructure?: string;
  messageAttributes?: Record<string, MessageAttributeInput>;
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface PublishOutput {
  MessageId: string;
  SequenceNumber?: string;
}

const TOPIC_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'DisplayName',
  'Policy',
  'KmsMasterKeyId',
  'SignatureVersion',
  'TracingConfig',
  'FifoTopic',
  'ContentBasedDeduplication',
  'ArchivePolicy',
  'DataProtectionPolicy',
  'FifoThroughputScope',
]);
const FEEDBACK_ATTRIBUTE =
  /^(Application|Firehose|HTTP|Lambda|SQS)(SuccessFeedbackRoleArn|SuccessFeedbackSampleRate|FailureFeedbackRoleArn)$/;
const SUBSCRIPTION_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_MESSAGE_BYTES = 262_144;
const DEDUP_WINDOW_MS = 5 * 60_000;
const PAGE = 100;

function scopePrefix(scope: Scope): string {
  return `arn:aws:sns:${scope.region}:${scope.accountId}:`;
}

function bool(name: string, v: string): string {
  const lower = v.toLowerCase();
  if (lower !== 'true' && lower !== 'false')
    throw errors.invalidParameter(
      `Invalid parameter: Attributes Reason: ${name}: Invalid value [${v}]. Must be true or false.`,
    );
  return lower;
}

export class SnsEngine {
  private readonly policies = new Map<string, ReturnType<typeof parseFilterPolicy>>();

  constructor(private readonly deps: SnsEngineDeps) {}

  // ---------------------------------------------------------------- topics

  async createTopic(
    scope: Scope,
    name: string | undefined,
    attributes: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): Promise<string> {
    if (!name) throw errors.invalidParameter('Invalid parameter: Topic Name');
    const fifoAttr = attributes.FifoTopic?.toLowerCase() === 'true';
    const fifoName = name.endsWith('.fifo');
    const base = fifoName ? name.slice(0, -5) : name;
    if (!TOPIC_NAME.test(base) || name.length > 256) {
      if (fifoAttr)
        throw errors.invalidParameter(
          'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
        );
      throw errors.invalidParameter('Invalid parameter: Topic Name');
    }
    if (fifoAttr && !fifoName)
      throw errors.invalidParameter(
        'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
      );
    if (fifoName && !fifoAttr) throw errors.invalidParameter('Invalid parameter: Topic Name');
    const attrs = this.checkTopicAttributes(attributes, true, fifoAttr);
    this.checkTags(tags);
    const arn = topicArn(scope, name);
    return this.deps.store.transaction(async (tx) => {
      const existing = await tx.get<TopicRecord>(COLLECTIONS.topics, arn);
      if (existing) {
        for (const [k, v] of Object.entries(attrs)) {
          if (k === 'FifoTopic') continue;
          if ((existing.attributes[k] ?? '') !== v)
            throw errors.invalidParameter(
              'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
            );
        }
        for (const [k, v] of Object.entries(tags)) {
          if (existing.tags[k] !== v)
            throw errors.invalidParameter(
              'Invalid parameter: Tags Reason: Topic already exists with different tags',
            );
        }
        return arn;
      }
      const rec: TopicRecord = {
        arn,
        name,
        accountId: scope.accountId,
        region: scope.region,
        fifo: fifoAttr,
        attributes: attrs,
        tags: { ...tags },
        createdAt: this.deps.clock.now(),
      };
      await tx.put(COLLECTIONS.topics, arn, rec);
      return arn;
    });
  }

  private checkTopicAttributes(
    attributes: Record<string, string>,
    creating: boolean,
    fifo: boolean,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(attributes)) {
      if (!TOPIC_ATTRIBUTES.has(k) && !FEEDBACK_ATTRIBUTE.test(k))
        throw errors.invalidParameter(`Invalid parameter: AttributeName`);
      let value = v;
      if (k === 'FifoTopic') {
        if (!creating) throw errors.invalidParameter('Invalid parameter: AttributeName');
        value = bool(k, v);
      } else if (k === 'ContentBasedDeduplication') {
        value = bool(k, v);
        if (!fifo && value === 'true')
          throw errors.invalidParameter(
            'Invalid parameter: ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO topics',
          );
      } else if (k === 'SignatureVersion') {
        if (v !== '1' && v !== '2')
          throw errors.invalidParameter('Invalid parameter: SignatureVersion Reason: must be 1 or 2');
      } else if (k === 'DeliveryPolicy') {
        if (v !== '') validateTopicDeliveryPolicy(v);
      } else if (k === 'Policy' || k === 'DataProtectionPolicy' || k === 'ArchivePolicy') {
        if (v !== '') parseJsonAttribute(k, v);
      } else if (k === 'TracingConfig') {
        if (v !== 'Active' && v !== 'PassThrough')
          throw errors.invalidParameter('Invalid parameter: Attributes Reason: TracingConfig: Invalid value');
      } else if (k === 'DisplayName' && v.length > 100) {
        throw errors.invalidParameter('Invalid parameter: DisplayName');
      }
      out[k] = value;
    }
    return out;
  }

  private checkTags(tags: Record<string, string>): void {
    if (Object.keys(tags).length > 50)
      throw new AwsError(
        'TagLimitExceeded',
        'Could not complete request: tag quota of per resource exceeded',
        400,
      );
    for (const [k, v] of Object.entries(tags)) {
      if (k.length < 1 || k.length > 128)
        throw errors.invalidParameter('Invalid parameter: Tags Reason: Tag key length');
      if (v.length > 256) throw errors.invalidParameter('Invalid parameter: Tags Reason: Tag value length');
    }
  }

  async getTopic(arn: string | undefined): Promise<TopicRecord> {
    if (!arn) throw errors.invalidParameter('Invalid parameter: TopicArn');
    if (!parseTopicArn(arn)) throw errors.invalidParameter('Invalid parameter: TopicArn');
    const t = await this.deps.store.get<TopicRecord>(COLLECTIONS.topics, arn);
    if (!t) throw errors.topicNotFound();
    return t;
  }

  async deleteTopic(arn: string | undefined): Promise<void> {
    if (!arn || !parseTopicArn(arn)) throw errors.invalidParameter('Invalid parameter: TopicArn');
    await this.deps.store.transaction(async (tx) => {
      // Deleting a topic that does not exist succeeds, as in AWS.
      await tx.delete(COLLECTIONS.topics, arn);
      await tx.deleteRange(COLLECTIONS.subscriptions, { prefix: `${arn}:` });
      await tx.delete(COLLECTIONS.sequence, arn);
    });
  }

  async listTopics(
    scope: Scope,
    nextToken?: string,
  ): Promise<{ Topics: { TopicArn: string }[]; NextToken?: string }> {
    const after = nextToken ? decodeToken(nextToken) : undefined;
    const rows = await this.deps.store.scan<TopicRecord>(COLLECTIONS.topics, {
      prefix: scopePrefix(scope),
      after,
      limit: PAGE + 1,
    });
    const page = rows.slice(0, PAGE);
    return {
      Topics: page.map((r) => ({ TopicArn: r.key })),
      NextToken: rows.length > PAGE ? encodeToken(page[page.length - 1].key) : undefined,
    };
  }

  async getTopicAttributes(arn: string | undefined): Promise<Record<string, string>> {
    const t = await this.getTopic(arn);
    const subs = await this.deps.store.scan<SubscriptionRecord>(COLLECTIONS.subscriptions, {
      prefix: `${t.arn}:`,
    });
    const confirmed = subs.filter((s) => s.value.confirmed).length;
    const out: Record<string, string> = {
      Policy: t.attributes.Policy ?? defaultTopicPolicy(t),
      Owner: t.accountId,
      SubscriptionsPending: String(subs.length - confirmed),
      TopicArn: t.arn,
      EffectiveDeliveryPolicy: t.attributes.DeliveryPolicy || DEFAULT_EFFECTIVE_DELIVERY_POLICY,
      SubscriptionsConfirmed: String(confirmed),
      DisplayName: t.attributes.DisplayName ?? '',
      SubscriptionsDeleted: '0',
    };
    for (const [k, v] of Object.entries(t.attributes)) if (k !== 'FifoTopic') out[k] = v;
    if (t.fifo) {
      out.FifoTopic = 'true';
      out.ContentBasedDeduplication = t.attributes.ContentBasedDeduplication ?? 'false';
    }
    return out;
  }

  async setTopicAttributes(
    arn: string | undefined,
    name: string | undefined,
    value: string | undefined,
  ): Promise<void> {
    if (!name) throw errors.invalidParameter('Invalid parameter: AttributeName');
    const t = await this.getTopic(arn);
    const checked = this.checkTopicAttributes({ [name]: value ?? '' }, false, t.fifo);
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<TopicRecord>(COLLECTIONS.topics, t.arn);
      if (!cur) throw errors.topicNotFound();
      if ((value ?? '') === '' && name !== 'DisplayName') delete cur.attributes[name];
      else cur.attributes[name] = checked[name];
      await tx.put(COLLECTIONS.topics, t.arn, cur);
    });
  }

  // ---------------------------------------------------------------- tags

  private async tagTarget(resourceArn: string | undefined): Promise<string> {
    if (!resourceArn || !parseTopicArn(resourceArn))
      throw errors.invalidParameter('Invalid parameter: ResourceArn');
    const t = await this.deps.store.get<TopicRecord>(COLLECTIONS.topics, resourceArn);
    if (!t) throw errors.resourceNotFound();
    return resourceArn;
  }

  async tagResource(resourceArn: string | undefined, tags: Record<string, string>): Promise<void> {
    const arn = await this.tagTarget(resourceArn);
    this.checkTags(tags);
    await this.deps.store.transaction(async (tx) => {
      const t = await tx.get<TopicRecord>(COLLECTIONS.topics, arn);
      if (!t) throw errors.resourceNotFound();
      const merged = { ...t.tags, ...tags };
      if (Object.keys(merged).length > 50)
        throw new AwsError(
          'TagLimitExceeded',
          'Could not complete request: tag quota of per resource exceeded',
          400,
        );
      t.tags = merged;
      await tx.put(COLLECTIONS.topics, arn, t);
    });
  }

  async untagResource(resourceArn: string | undefined, keys: string[]): Promise<void> {
    const arn = await this.tagTarget(resourceArn);
    await this.deps.store.transaction(async (tx) => {
      const t = await tx.get<TopicRecord>(COLLECTIONS.topics, arn);
      if (!t) throw errors.resourceNotFound();
      for (const k of keys) delete t.tags[k];
      await tx.put(COLLECTIONS.topics, arn, t);
    });
  }

  async listTags(resourceArn: string | undefined): Promise<{ Key: string; Value: string }[]> {
    const arn = await this.tagTarget(resourceArn);
    const t = (await this.deps.store.get<TopicRecord>(COLLECTIONS.topics, arn)) as TopicRecord;
    return Object.entries(t.tags).map(([Key, Value]) => ({ Key, Value }));
  }

  // ---------------------------------------------------------------- subscriptions

  async subscribe(
    scope: Scope,
    input: {
      topicArn?: string;
      protocol?: string;
      endpoint?: string;
      attributes?: Record<string, string>;
      returnSubscriptionArn?: boolean;
    },
  ): Promise<string> {
    const protocol = input.protocol ?? '';
    if (!input.topicArn || !parseTopicArn(input.topicArn))
      throw errors.invalidParameter('Invalid parameter: TopicArn');
    if (!protocol) throw errors.invalidParameter('Invalid parameter: Protocol');
    if (!PROTOCOLS.includes(protocol))
      throw errors.invalidParameter(
        `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`,
      );
    const endpoint = input.endpoint ?? '';
    this.checkEndpoint(protocol, endpoint);
    const topic = await this.getTopic(input.topicArn);
    if (!DELIVERED_PROTOCOLS.has(protocol))
      throw errors.invalidParameter(`Invalid parameter: Nimbus does not deliver to protocol ${protocol}`);
    if (topic.fifo && protocol !== 'sqs')
      throw errors.invalidParameter(`Invalid parameter: Invalid protocol type: ${protocol}`);
    const attrs = this.checkSubscriptionAttributes(input.attributes ?? {}, protocol);
    const needsConfirmation = protocol === 'http' || protocol === 'https';
    const created = await this.deps.store.transaction(async (tx) => {
      const subs = await tx.scan<SubscriptionRecord>(COLLECTIONS.subscriptions, { prefix: `${topic.arn}:` });
      const same = subs.find((s) => s.value.protocol === protocol && s.value.endpoint === endpoint);
      if (same) {
        for (const [k, v] of Object.entries(attrs)) {
          if ((same.value.attributes[k] ?? '') !== v)
            throw errors.invalidParameter(
              'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
            );
        }
        return { rec: same.value, isNew: false };
      }
      const rec: SubscriptionRecord = {
        arn: `${topic.arn}:${randomUUID()}`,
        topicArn: topic.arn,
        protocol,
        endpoint,
        owner: scope.accountId,
        confirmed: !needsConfirmation,
        attributes: attrs,
        createdAt: this.deps.clock.now(),
      };
      await tx.put(COLLECTIONS.subscriptions, rec.arn, rec);
      if (needsConfirmation) await this.enqueueConfirmation(tx, topic, rec);
      return { rec, isNew: true };
    });
    const { rec } = created;
    if (!rec.confirmed && !input.returnSubscriptionArn) return 'pending confirmation';
    return rec.arn;
  }

  private async enqueueConfirmation(
    tx: Parameters<Parameters<Store['transaction']>[0]>[0],
    topic: TopicRecord,
    sub: SubscriptionRecord,
  ): Promise<void> {
    const token = randomBytes(64).toString('hex');
    await tx.put(COLLECTIONS.tokens, token, {
      subscriptionArn: sub.arn,
      topicArn: topic.arn,
      expiresAt: this.deps.clock.now() + 3 * 86_400_000,
    });
    const job: DeliveryJob = {
      kind: 'confirmation',
      subscriptionArn: sub.arn,
      topicArn: topic.arn,
      messageId: randomUUID(),
      message: `You have chosen to subscribe to the topic ${topic.arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      timestamp: new Date(this.deps.clock.now()).toISOString(),
      token,
      protocol: sub.protocol,
      endpoint: sub.endpoint,
    };
    await tx.enqueue(DELIVERY_QUEUE, job, { maxAttempts: 4 });
  }

  private checkEndpoint(protocol: string, endpoint: string): void {
    switch (protocol) {
      case 'http':
      case 'https':
        if (!endpoint.toLowerCase().startsWith(`${protocol}://`))
          throw errors.invalidParameter('Invalid parameter: Endpoint must match the specified protocol');
        try {
          new URL(endpoint);
        } catch {
          throw errors.invalidParameter('Invalid parameter: Endpoint must match the specified protocol');
        }
        return;
      case 'sqs':
        if (!/^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w.-]+$/.test(endpoint))
          throw errors.invalidParameter('Invalid parameter: SQS endpoint ARN');
        return;
      case 'lambda':
        if (!/^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(endpoint))
          throw errors.invalidParameter('Invalid parameter: Lambda endpoint ARN');
        return;
      default:
        if (!endpoint) throw errors.invalidParameter('Invalid parameter: Endpoint');
    }
  }

  private checkSubscriptionAttributes(
    attributes: Record<string, string>,
    protocol: string,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(attributes))
      out[k] = this.checkSubscriptionAttribute(k, v, protocol, attributes);
    return out;
  }

  private checkSubscriptionAttribute(
    name: string,
    value: string,
    protocol: string,
    all: Record<string, string>,
  ): string {
    if (!SUBSCRIPTION_ATTRIBUTES.has(name)) throw errors.invalidParameter('Invalid parameter: AttributeName');
    switch (name) {
      case 'RawMessageDelivery': {
        const b = value.toLowerCase();
        if (b !== 'true' && b !== 'false')
          throw errors.invalidParameter(
            'Invalid parameter: RawMessageDelivery: Invalid value [' + value + ']. Must be true or false.',
          );
        if (b === 'true' && !['sqs', 'http', 'https', 'firehose'].includes(protocol))
          throw errors.invalidParameter(
            `Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [true]. Raw message delivery is not supported for protocol ${protocol}`,
          );
        return b;
      }
      case 'FilterPolicyScope':
        if (value !== 'MessageAttributes' && value !== 'MessageBody')
          throw errors.invalidParameter(
            'Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [' +
              value +
              ']. Please use either MessageBody or MessageAttributes',
          );
        return value;
      case 'FilterPolicy': {
        const scope = (all.FilterPolicyScope ?? 'MessageAttributes') as FilterScope;
        parseFilterPolicy(value, scope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes');
        return value;
      }
      case 'RedrivePolicy': {
        if (value === '') return value;
        const v = parseJsonAttribute('RedrivePolicy', value);
        const target = v.deadLetterTargetArn;
        if (typeof target !== 'string' || !/^arn:aws[\w-]*:sqs:[a-z0-9-]+:\d{12}:[\w.-]+$/.test(target))
          throw errors.invalidParameter('Invalid parameter: RedrivePolicy: deadLetterTargetArn is invalid');
        return value;
      }
      case 'DeliveryPolicy':
        if (value !== '') validateSubscriptionDeliveryPolicy(value);
        return value;
      default:
        return value;
    }
  }

  async getSubscription(arn: string | undefined): Promise<SubscriptionRecord> {
    if (!arn || !parseSubscriptionArn(arn))
      throw errors.invalidParameter('Invalid parameter: SubscriptionArn');
    const s = await this.deps.store.get<SubscriptionRecord>(COLLECTIONS.subscriptions, arn);
    if (!s) throw errors.subscriptionNotFound();
    return s;
  }

  async getSubscriptionAttributes(arn: string | undefined): Promise<Record<string, string>> {
    const s = await this.getSubscription(arn);
    const topic = await this.deps.store.get<TopicRecord>(COLLECTIONS.topics, s.topicArn);
    const out: Record<string, string> = {
      Owner: s.owner,
      RawMessageDelivery: s.attributes.RawMessageDelivery ?? 'false',
      TopicArn: s.topicArn,
      Endpoint: s.endpoint,
      Protocol: s.protocol,
      PendingConfirmation: String(!s.confirmed),
      ConfirmationWasAuthenticated: String(s.confirmed),
      SubscriptionArn: s.arn,
      SubscriptionPrincipal: `arn:aws:iam::${s.owner}:user/nimbus`,
    };
    for (const [k, v] of Object.entries(s.attributes)) if (v !== '') out[k] = v;
    if (s.attributes.FilterPolicy && !out.FilterPolicyScope) out.FilterPolicyScope = 'MessageAttributes';
    if (s.protocol === 'http' || s.protocol === 'https') {
      out.EffectiveDeliveryPolicy = JSON.stringify({
        healthyRetryPolicy: effectiveRetryPolicy(topic, s),
      });
    }
    return out;
  }

  async setSubscriptionAttributes(
    arn: string | undefined,
    name: string | undefined,
    value: string | undefined,
  ): Promise<void> {
    if (!name) throw errors.invalidParameter('Invalid parameter: AttributeName');
    const s = await this.getSubscription(arn);
    const v = value ?? '';
    const checked = this.checkSubscriptionAttribute(name, v, s.protocol, { ...s.attributes, [name]: v });
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<SubscriptionRecord>(COLLECTIONS.subscriptions, s.arn);
      if (!cur) throw errors.subscriptionNotFound();
      if (checked === '' && name !== 'RawMessageDelivery') delete cur.attributes[name];
      else cur.attributes[name] = checked;
      if (name === 'FilterPolicyScope' && cur.attributes.FilterPolicy) {
        // The existing policy must be valid for the new scope.
        parseFilterPolicy(cur.attributes.FilterPolicy, checked as FilterScope);
      }
      await tx.put(COLLECTIONS.subscriptions, s.arn, cur);
    });
  }

  async confirmSubscription(
    topicArnIn: string | undefined,
    token: string | undefined,
    authenticateOnUnsubscribe?: string,
  ): Promise<string> {
    if (!topicArnIn || !parseTopicArn(topicArnIn))
      throw errors.invalidParameter('Invalid parameter: TopicArn');
    if (!token) throw errors.invalidParameter('Invalid parameter: Token');
    return this.deps.store.transaction(async (tx) => {
      const t = await tx.get<{ subscriptionArn: string; topicArn: string; expiresAt: number }>(
        COLLECTIONS.tokens,
        token,
      );
      if (!t || t.topicArn !== topicArnIn || t.expiresAt < this.deps.clock.now())
        throw errors.invalidParameter('Invalid token');
      const sub = await tx.get<SubscriptionRecord>(COLLECTIONS.subscriptions, t.subscriptionArn);
      if (!sub) throw errors.subscriptionNotFound();
      if (!sub.confirmed) {
        sub.confirmed = true;
        sub.authenticateOnUnsubscribe = authenticateOnUnsubscribe?.toLowerCase() === 'true';
        await tx.put(COLLECTIONS.subscriptions, sub.arn, sub);
      }
      return sub.arn;
    });
  }

  async unsubscribe(arn: string | undefined): Promise<void> {
    if (!arn || !parseSubscriptionArn(arn))
      throw errors.invalidParameter('Invalid parameter: SubscriptionArn');
    const deleted = await this.deps.store.delete(COLLECTIONS.subscriptions, arn);
    if (!deleted) throw errors.subscriptionNotFound();
  }

  private listRow(s: SubscriptionRecord) {
    return {
      SubscriptionArn: s.confirmed ? s.arn : 'PendingConfirmation',
      Owner: s.owner,
      Protocol: s.protocol,
      Endpoint: s.endpoint,
      TopicArn: s.topicArn,
    };
  }

  async listSubscriptions(scope: Scope, nextToken?: string) {
    return this.pageSubscriptions(scopePrefix(scope), nextToken);
  }

  async listSubscriptionsByTopic(arn: string | undefined, nextToken?: string) {
    const t = await this.getTopic(arn);
    return this.pageSubscriptions(`${t.arn}:`, nextToken);
  }

  private async pageSubscriptions(prefix: string, nextToken?: string) {
    const rows = await this.deps.store.scan<SubscriptionRecord>(COLLECTIONS.subscriptions, {
      prefix,
      after: nextToken ? decodeToken(nextToken) : undefined,
      limit: PAGE + 1,
    });
    const page = rows.slice(0, PAGE);
    return {
      Subscriptions: page.map((r) => this.listRow(r.value)),
      NextToken: rows.length > PAGE ? encodeToken(page[page.length - 1].key) : undefined,
    };
  }

  // ---------------------------------------------------------------- publish

  /** Validates one message against its topic; throws InvalidParameter like SNS. */
  private checkMessage(topic: TopicRecord, input: PublishInput): void {
    if (input.message === undefined || input.message === null)
      throw errors.invalidParameter('Invalid parameter: Message');
    if (input.message === '') throw errors.invalidParameter('Invalid parameter: Empty message');
    let size = Buffer.byteLength(input.message);
    for (const [k, v] of Object.entries(input.messageAttributes ?? {})) {
      size += Buffer.byteLength(k) + Buffer.byteLength(v.DataType) + Buffer.byteLength(v.StringValue ?? '');
      if (v.BinaryValue)
        size += Buffer.isBuffer(v.BinaryValue)
          ? v.BinaryValue.length
          : Buffer.byteLength(v.BinaryValue, 'base64');
    }
    if (size > MAX_MESSAGE_BYTES) throw errors.invalidParameter('Invalid parameter: Message too long');
    if (input.subject !== undefined) {
      if (input.subject === '' || input.subject.length > 100 || !/^[\x20-\x7e]+$/.test(input.subject))
        throw errors.invalidParameter('Invalid parameter: Subject');
    }
    if (input.messageStructure !== undefined) {
      if (input.messageStructure !== 'json')
        throw errors.invalidParameter('Invalid parameter: MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.message);
      } catch {
        throw errors.invalidParameter(
          'Invalid parameter: Message Structure - JSON message body failed to parse',
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw errors.invalidParameter(
          'Invalid parameter: Message Structure - JSON message body failed to parse',
        );
      if (typeof (parsed as Record<string, unknown>).default !== 'string')
        throw errors.invalidParameter(
          'Invalid parameter: Message Structure - No default entry in JSON message body',
        );
    }
    this.checkAttributes(input.messageAttributes ?? {});
    if (topic.fifo) {
      if (!input.messageGroupId)
        throw errors.invalidParameter(
          'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
        );
      if (!/^[\x21-\x7e]{1,128}$/.test(input.messageGroupId))
        throw errors.invalidParameter(
          'Invalid parameter: MessageGroupId Reason: must be 1-128 printable ASCII characters',
        );
      if (!input.messageDeduplicationId && topic.attributes.ContentBasedDeduplication !== 'true')
        throw errors.invalidParameter(
          'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
        );
    } else if (input.messageDeduplicationId !== undefined) {
      throw errors.invalidParameter(
        'Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type',
      );
    }
    if (
      input.messageDeduplicationId !== undefined &&
      !/^[\x21-\x7e]{1,128}$/.test(input.messageDeduplicationId)
    )
      throw errors.invalidParameter(
        'Invalid parameter: MessageDeduplicationId Reason: must be 1-128 printable ASCII characters',
      );
  }

  private checkAttributes(attrs: Record<string, MessageAttributeInput>): void {
    const names = Object.keys(attrs);
    if (names.length > 10)
      throw errors.invalidParameter(
        'Invalid parameter: MessageAttributes Reason: Number of message attributes [' +
          names.length +
          '] exceeds the allowed maximum [10].',
      );
    for (const [name, v] of Object.entries(attrs)) {
      if (
        !/^[A-Za-z0-9_.-]{1,256}$/.test(name) ||
        name.startsWith('.') ||
        name.endsWith('.') ||
        name.includes('..') ||
        /^(aws|amazon)\./i.test(name)
      )
        throw errors.invalidParameterValue(`The message attribute name '${name}' is invalid.`);
      const type = v.DataType ?? '';
      if (!type)
        throw errors.invalidParameterValue(
          `The message attribute '${name}' must contain non-empty message attribute type.`,
        );
      const base = type.split('.')[0];
      if (!['String', 'Number', 'Binary'].includes(base))
        throw errors.invalidParameterValue(
          `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
      if (base === 'Binary') {
        if (v.BinaryValue === undefined || v.BinaryValue.length === 0)
          throw errors.invalidParameterValue(
            `The message attribute '${name}' with type 'Binary' must use field 'Binary'.`,
          );
        continue;
      }
      if (v.StringValue === undefined || v.StringValue === '')
        throw errors.invalidParameterValue(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
        );
      if (base === 'Number' && !Number.isFinite(Number(v.StringValue)))
        throw errors.invalidParameterValue(`Could not cast message attribute '${name}' value to number.`);
      if (type.startsWith('String.Array')) {
        let ok = false;
        try {
          ok = Array.isArray(JSON.parse(v.StringValue));
        } catch {
          ok = false;
        }
        if (!ok)
          throw errors.invalidParameterValue(
            `The message attribute '${name}' with type 'String.Array' must use field 'String'.`,
          );
      }
    }
  }

  /** Publish to a topic: for the API and for other engines (Lambda destinations, alarms). */
  async publish(scope: Scope, topicArnIn: string | undefined, input: PublishInput): Promise<PublishOutput> {
    const topic = await this.getTopic(topicArnIn);
    if (topic.accountId !== scope.accountId)
      throw errors.authorization('User is not authorized to access this resource');
    this.checkMessage(topic, input);
    const [out] = await this.publishChecked(topic, [input]);
    return out;
  }

  /** Publish up to 10 messages; each entry either succeeds or fails with its own error. */
  async publishBatch(
    scope: Scope,
    topicArnIn: string | undefined,
    entries: (PublishInput & { id: string })[],
  ): Promise<{
    ok: (PublishOutput & { Id: string })[];
    failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[];
  }> {
    const topic = await this.getTopic(topicArnIn);
    if (topic.accountId !== scope.accountId)
      throw errors.authorization('User is not authorized to access this resource');
    const good: (PublishInput & { id: string })[] = [];
    const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
    for (const e of entries) {
      try {
        this.checkMessage(topic, e);
        good.push(e);
      } catch (err) {
        const ae = err as { code?: string; message: string };
        failed.push({ Id: e.id, Code: ae.code ?? 'InternalError', Message: ae.message, SenderFault: true });
      }
    }
    const outs = good.length ? await this.publishChecked(topic, good) : [];
    return { ok: outs.map((o, i) => ({ Id: good[i].id, ...o })), failed };
  }

  private parsedPolicy(text: string, scope: FilterScope) {
    const key = `${scope}\u0000${text}`;
    let p = this.policies.get(key);
    if (p === undefined && !this.policies.has(key)) {
      p = parseFilterPolicy(text, scope);
      if (this.policies.size > 1000) this.policies.clear();
      this.policies.set(key, p);
    }
    return p;
  }

  private async publishChecked(topic: TopicRecord, inputs: PublishInput[]): Promise<PublishOutput[]> {
    const subs = (
      await this.deps.store.scan<SubscriptionRecord>(COLLECTIONS.subscriptions, { prefix: `${topic.arn}:` })
    )
      .map((r) => r.value)
      .filter((s) => s.confirmed);
    const now = this.deps.clock.now();
    const timestamp = new Date(now).toISOString();
    const queue = topic.fifo ? FIFO_DELIVERY_QUEUE : DELIVERY_QUEUE;
    const prepared = inputs.map((input) => {
      const attrs = input.messageAttributes ?? {};
      const wireAttrs: DeliveryJob['messageAttributes'] = {};
      for (const [k, v] of Object.entries(attrs)) {
        wireAttrs[k] = {
          DataType: v.DataType,
          StringValue: v.StringValue,
          BinaryValue:
            v.BinaryValue === undefined
              ? undefined
              : Buffer.isBuffer(v.BinaryValue)
                ? v.BinaryValue.toString('base64')
                : v.BinaryValue,
        };
      }
      const structured =
        input.messageStructure === 'json'
          ? (JSON.parse(input.message) as Record<string, unknown>)
          : undefined;
      const dedupId =
        input.messageDeduplicationId ??
        (topic.fifo ? createHash('sha256').update(input.message).digest('hex') : undefined);
      const targets = subs.filter((s) => {
        const text = s.attributes.FilterPolicy;
        if (!text) return true;
        const scope: FilterScope =
          s.attributes.FilterPolicyScope === 'MessageBody' ? 'MessageBody' : 'MessageAttributes';
        const policy = this.parsedPolicy(text, scope);
        if (!policy) return true;
        const body = structured ? String(structured[s.protocol] ?? structured.default) : input.message;
        return matchesFilterPolicy(policy, scope, body, attrs);
      });
      return { input, wireAttrs, structured, dedupId, targets };
    });
    const afterCommit: (() => void)[] = [];
    const published = this.deps.store.transaction(async (tx) => {
      afterCommit.length = 0;
      const outs: PublishOutput[] = [];
      for (const p of prepared) {
        const messageId = randomUUID();
        let sequenceNumber: string | undefined;
        if (topic.fifo) {
          const dkey = `${topic.arn}\u0000${p.dedupId}`;
          const seen = await tx.get<{ messageId: string; sequenceNumber: string; expiresAt: number }>(
            COLLECTIONS.dedup,
            dkey,
          );
          if (seen && seen.expiresAt > now) {
            outs.push({ MessageId: seen.messageId, SequenceNumber: seen.sequenceNumber });
            continue;
          }
          const seq = ((await tx.get<number>(COLLECTIONS.sequence, topic.arn)) ?? 0) + 1;
          await tx.put(COLLECTIONS.sequence, topic.arn, seq);
          sequenceNumber = `1${String(seq).padStart(19, '0')}`;
          await tx.put(COLLECTIONS.dedup, dkey, {
            messageId,
            sequenceNumber,
            expiresAt: now + DEDUP_WINDOW_MS,
          });
        }
        for (const s of p.targets) {
          const message = p.structured
            ? String(p.structured[s.protocol] ?? p.structured.default)
            : p.input.message;
          const job: DeliveryJob = {
            kind: 'notification',
            subscriptionArn: s.arn,
            topicArn: topic.arn,
            messageId,
            message,
            subject: p.input.subject,
            timestamp,
            messageAttributes: Object.keys(p.wireAttrs ?? {}).length ? p.wireAttrs : undefined,
            messageGroupId: p.input.messageGroupId,
            messageDeduplicationId: topic.fifo ? p.dedupId : undefined,
            sequenceNumber,
          };
          // Standard topics deliver to their SQS subscriptions in this transaction: the message
          // is in the queue when Publish answers. FIFO topics keep the ordered job path.
          const done =
            !topic.fifo && s.protocol === 'sqs' && this.deps.inlineSqs
              ? await this.deps.inlineSqs(tx, s, topic, job)
              : undefined;
          if (done) afterCommit.push(done);
          else await tx.enqueue(queue, job, { maxAttempts: 1_000_000 });
        }
        outs.push(
          sequenceNumber
            ? { MessageId: messageId, SequenceNumber: sequenceNumber }
            : { MessageId: messageId },
        );
      }
      return outs;
    });
    const outs = await published;
    for (const done of afterCommit) done();
    const metrics = this.deps.metrics;
    if (metrics) {
      const dims = [{ Name: 'TopicName', Value: topic.name }];
      for (const p of prepared) {
        metrics.record(topic, 'AWS/SNS', 'NumberOfMessagesPublished', dims, 1, 'Count');
        metrics.record(topic, 'AWS/SNS', 'PublishSize', dims, Buffer.byteLength(p.input.message), 'Bytes');
      }
    }
    return outs;
  }
}

function encodeToken(key: string): string {
  return Buffer.from(key).toString('base64url');
}

function decodeToken(token: string): string {
  const key = Buffer.from(token, 'base64url').toString('utf8');
  if (!key.startsWith('arn:aws:sns:')) throw errors.invalidParameter('Invalid parameter: NextToken');
  return key;
}

/** The policy SNS gives a new topic (a CloudFormation TopicPolicy restores it when removed). */
export function defaultTopicPolicy(t: Pick<TopicRecord, 'arn' | 'accountId'>): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: t.arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': t.accountId } },
      },
    ],
  });
}
