/**
 * AWS::SQS::Queue, AWS::SQS::QueuePolicy, AWS::SNS::Topic, AWS::SNS::Subscription and
 * AWS::SNS::TopicPolicy through the SQS and SNS APIs.
 */
import {
  SQSClient,
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  UntagQueueCommand,
} from '@aws-sdk/client-sqs';
import {
  SNSClient,
  CreateTopicCommand,
  DeleteTopicCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  ListSubscriptionsByTopicCommand,
  SetSubscriptionAttributesCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-sns';
import { defaultTopicPolicy } from '../../messaging/sns/engine.js';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { changed, ignoreMissing, json, list, str, tagDiff, tagList, tagMap, type Props } from './util.js';

const sqs = (ctx: ResourceContext) => new SQSClient(ctx.clientConfig);
const sns = (ctx: ResourceContext) => new SNSClient(ctx.clientConfig);

/** CloudFormation queue properties that are SQS queue attributes, with SQS's defaults. */
const QUEUE_ATTRS: Record<string, string | undefined> = {
  ContentBasedDeduplication: undefined,
  DeduplicationScope: undefined,
  DelaySeconds: '0',
  FifoThroughputLimit: undefined,
  KmsDataKeyReusePeriodSeconds: '300',
  KmsMasterKeyId: undefined,
  MaximumMessageSize: '262144',
  MessageRetentionPeriod: '345600',
  ReceiveMessageWaitTimeSeconds: '0',
  RedriveAllowPolicy: '',
  RedrivePolicy: '',
  SqsManagedSseEnabled: undefined,
  VisibilityTimeout: '30',
};

function queueAttributes(props: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(QUEUE_ATTRS)) {
    const v = props[k];
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function queueName(props: Props, ctx: ResourceContext): string {
  if (props.QueueName) return String(props.QueueName);
  const fifo = String(props.FifoQueue) === 'true';
  return fifo ? `${ctx.physicalName(75)}.fifo` : ctx.physicalName(80);
}

async function queueResult(c: SQSClient, url: string) {
  const a = await c.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = a.Attributes!.QueueArn!;
  return { physicalId: url, attributes: { Arn: arn, QueueName: arn.split(':').pop(), QueueUrl: url } };
}

export const sqsQueue: ResourceProvider = {
  replaceOn: ['QueueName', 'FifoQueue'],
  async create(props, ctx) {
    const c = sqs(ctx);
    const fifo = String(props.FifoQueue) === 'true';
    const out = await c.send(
      new CreateQueueCommand({
        QueueName: queueName(props, ctx),
        Attributes: { ...queueAttributes(props), ...(fifo ? { FifoQueue: 'true' } : {}) },
        tags: tagMap(props.Tags),
      }),
    );
    return queueResult(c, out.QueueUrl!);
  },
  async update(physicalId, props, previous, ctx) {
    const c = sqs(ctx);
    const next = queueAttributes(props);
    const prev = queueAttributes(previous.props);
    const set: Record<string, string> = {};
    for (const [k, v] of Object.entries(next)) if (prev[k] !== v) set[k] = v;
    for (const k of Object.keys(prev)) {
      if (!(k in next) && QUEUE_ATTRS[k] !== undefined) set[k] = QUEUE_ATTRS[k]!;
    }
    if (Object.keys(set).length)
      await c.send(new SetQueueAttributesCommand({ QueueUrl: physicalId, Attributes: set }));
    const { set: tags, remove } = tagDiff(previous.props.Tags, props.Tags);
    if (remove.length) await c.send(new UntagQueueCommand({ QueueUrl: physicalId, TagKeys: remove }));
    if (Object.keys(tags).length) await c.send(new TagQueueCommand({ QueueUrl: physicalId, Tags: tags }));
    return queueResult(c, physicalId);
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => sqs(ctx).send(new DeleteQueueCommand({ QueueUrl: physicalId })));
  },
};

async function setQueuePolicies(ctx: ResourceContext, queues: string[], policy: string) {
  for (const q of queues) {
    await sqs(ctx).send(new SetQueueAttributesCommand({ QueueUrl: q, Attributes: { Policy: policy } }));
  }
}

export const sqsQueuePolicy: ResourceProvider = {
  replaceOn: [],
  async create(props, ctx) {
    await setQueuePolicies(ctx, list<string>(props.Queues), json(props.PolicyDocument)!);
    const id = ctx.physicalName();
    return { physicalId: id, attributes: { Id: id } };
  },
  async update(physicalId, props, previous, ctx) {
    const now = list<string>(props.Queues);
    const gone = list<string>(previous.props.Queues).filter((q) => !now.includes(q));
    for (const q of gone) {
      await ignoreMissing(() => setQueuePolicies(ctx, [q], ''));
    }
    await setQueuePolicies(ctx, now, json(props.PolicyDocument)!);
    return { physicalId, attributes: { Id: physicalId } };
  },
  async delete(_physicalId, props, ctx) {
    for (const q of list<string>(props.Queues)) await ignoreMissing(() => setQueuePolicies(ctx, [q], ''));
  },
};

/** CloudFormation topic properties that are SNS topic attributes. */
const TOPIC_ATTRS = [
  'DisplayName',
  'KmsMasterKeyId',
  'ContentBasedDeduplication',
  'SignatureVersion',
  'TracingConfig',
  'ArchivePolicy',
  'DataProtectionPolicy',
];

function topicAttributes(props: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of TOPIC_ATTRS) {
    const v = props[k];
    if (v !== undefined && v !== null) out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

const subKey = (s: Props) => `${String(s.Protocol)}|${String(s.Endpoint)}`;

export const snsTopic: ResourceProvider = {
  replaceOn: ['TopicName', 'FifoTopic'],
  async create(props, ctx) {
    const c = sns(ctx);
    const fifo = String(props.FifoTopic) === 'true';
    const name = props.TopicName
      ? String(props.TopicName)
      : fifo
        ? `${ctx.physicalName(251)}.fifo`
        : ctx.physicalName(256);
    const tags = tagList(props.Tags);
    const out = await c.send(
      new CreateTopicCommand({
        Name: name,
        Attributes: { ...topicAttributes(props), ...(fifo ? { FifoTopic: 'true' } : {}) },
        Tags: tags.length ? tags : undefined,
      }),
    );
    const arn = out.TopicArn!;
    for (const s of list<Props>(props.Subscription)) {
      await c.send(
        new SubscribeCommand({ TopicArn: arn, Protocol: String(s.Protocol), Endpoint: str(s.Endpoint) }),
      );
    }
    return { physicalId: arn, attributes: { TopicArn: arn, TopicName: name } };
  },
  async update(physicalId, props, previous, ctx) {
    const c = sns(ctx);
    const next = topicAttributes(props);
    const prev = topicAttributes(previous.props);
    for (const k of new Set([...Object.keys(next), ...Object.keys(prev)])) {
      if (next[k] !== prev[k]) {
        await c.send(
          new SetTopicAttributesCommand({
            TopicArn: physicalId,
            AttributeName: k,
            AttributeValue: next[k] ?? '',
          }),
        );
      }
    }
    if (changed(previous.props, props).has('Subscription')) {
      const want = new Map(list<Props>(props.Subscription).map((s) => [subKey(s), s]));
      const had = new Set(list<Props>(previous.props.Subscription).map(subKey));
      const existing = await listSubscriptions(c, physicalId);
      for (const s of existing) {
        const key = `${s.Protocol}|${s.Endpoint}`;
        if (had.has(key) && !want.has(key) && s.SubscriptionArn?.startsWith('arn:')) {
          await ignoreMissing(() => c.send(new UnsubscribeCommand({ SubscriptionArn: s.SubscriptionArn })));
        }
      }
      for (const [key, s] of want) {
        if (!had.has(key)) {
          await c.send(
            new SubscribeCommand({
              TopicArn: physicalId,
              Protocol: String(s.Protocol),
              Endpoint: str(s.Endpoint),
            }),
          );
        }
      }
    }
    const { set, remove } = tagDiff(previous.props.Tags, props.Tags);
    if (remove.length) await c.send(new UntagResourceCommand({ ResourceArn: physicalId, TagKeys: remove }));
    if (Object.keys(set).length) {
      await c.send(new TagResourceCommand({ ResourceArn: physicalId, Tags: tagList(tagsOf(set)) }));
    }
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => sns(ctx).send(new DeleteTopicCommand({ TopicArn: physicalId })));
  },
};

const tagsOf = (m: Record<string, string>) => Object.entries(m).map(([Key, Value]) => ({ Key, Value }));

async function listSubscriptions(c: SNSClient, topicArn: string) {
  const out = [];
  let token: string | undefined;
  do {
    const page = await c.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
    out.push(...(page.Subscriptions ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

/** Subscription properties that are subscription attributes; removing one resets it. */
const SUB_ATTRS: Record<string, string> = {
  FilterPolicy: '',
  FilterPolicyScope: 'MessageAttributes',
  RawMessageDelivery: 'false',
  RedrivePolicy: '',
  DeliveryPolicy: '',
  SubscriptionRoleArn: '',
  ReplayPolicy: '',
};

function subAttributes(props: Props): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(SUB_ATTRS)) {
    const v = props[k];
    if (v !== undefined && v !== null) out[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

export const snsSubscription: ResourceProvider = {
  replaceOn: ['Endpoint', 'Protocol', 'TopicArn'],
  async create(props, ctx) {
    const out = await sns(ctx).send(
      new SubscribeCommand({
        TopicArn: String(props.TopicArn),
        Protocol: String(props.Protocol),
        Endpoint: str(props.Endpoint),
        Attributes: subAttributes(props),
        ReturnSubscriptionArn: true,
      }),
    );
    return { physicalId: out.SubscriptionArn!, attributes: { Arn: out.SubscriptionArn } };
  },
  async update(physicalId, props, previous, ctx) {
    const next = subAttributes(props);
    const prev = subAttributes(previous.props);
    // The scope is set before the policy it applies to.
    const keys = [...new Set([...Object.keys(next), ...Object.keys(prev)])].sort((a, b) =>
      a === 'FilterPolicyScope' ? -1 : b === 'FilterPolicyScope' ? 1 : 0,
    );
    for (const k of keys) {
      if (next[k] === prev[k]) continue;
      await sns(ctx).send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: physicalId,
          AttributeName: k,
          AttributeValue: next[k] ?? SUB_ATTRS[k],
        }),
      );
    }
    return { physicalId, attributes: { Arn: physicalId } };
  },
  async delete(physicalId, _props, ctx) {
    if (!physicalId.startsWith('arn:')) return;
    await ignoreMissing(() => sns(ctx).send(new UnsubscribeCommand({ SubscriptionArn: physicalId })));
  },
};

/** The policy SNS gives a new topic (restored when a TopicPolicy goes away). */
const defaultPolicyOf = (topicArn: string) =>
  defaultTopicPolicy({ arn: topicArn, accountId: topicArn.split(':')[4] });

async function setTopicPolicy(ctx: ResourceContext, topic: string, policy: string) {
  await sns(ctx).send(
    new SetTopicAttributesCommand({ TopicArn: topic, AttributeName: 'Policy', AttributeValue: policy }),
  );
}

export const snsTopicPolicy: ResourceProvider = {
  replaceOn: [],
  async create(props, ctx) {
    for (const t of list<string>(props.Topics)) await setTopicPolicy(ctx, t, json(props.PolicyDocument)!);
    const id = ctx.physicalName();
    return { physicalId: id, attributes: { Id: id } };
  },
  async update(physicalId, props, previous, ctx) {
    const now = list<string>(props.Topics);
    for (const t of list<string>(previous.props.Topics).filter((x) => !now.includes(x))) {
      await ignoreMissing(() => setTopicPolicy(ctx, t, defaultPolicyOf(t)));
    }
    for (const t of now) await setTopicPolicy(ctx, t, json(props.PolicyDocument)!);
    return { physicalId, attributes: { Id: physicalId } };
  },
  async delete(_physicalId, props, ctx) {
    for (const t of list<string>(props.Topics)) {
      await ignoreMissing(() => setTopicPolicy(ctx, t, defaultPolicyOf(t)));
    }
  },
};
