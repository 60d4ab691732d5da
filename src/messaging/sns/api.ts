/**
 * SNS over the AWS Query protocol (version 2010-03-31): decode the form parameters, call the
 * engine, shape the result. No business rules here.
 */
import type { QueryService, RequestContext } from '../../server/service.js';
import type { QueryValue } from '../../protocols/query.js';
import { xmlMap } from '../../protocols/xml.js';
import { AwsError } from '../../protocols/errors.js';
import type { PublishInput, SnsEngine } from './engine.js';
import { errors, type MessageAttributeInput, type Scope } from './model.js';

export const SNS_VERSION = '2010-03-31';
export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';

type Input = Record<string, unknown>;

function str(input: Input, name: string): string | undefined {
  const v = input[name];
  return typeof v === 'string' ? v : undefined;
}

function scope(ctx: RequestContext): Scope {
  return { accountId: ctx.accountId, region: ctx.region };
}

/** `Attributes.entry.N.key/value` decodes to a map already; accept a list of pairs too. */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const e of v)
      if (e && typeof e === 'object' && typeof e.key === 'string') out[e.key] = String(e.value ?? '');
    return out;
  }
  if (v && typeof v === 'object') {
    const entry = (v as { entry?: unknown }).entry;
    if (entry !== undefined) return stringMap(entry);
    for (const [k, val] of Object.entries(v as Record<string, QueryValue>))
      out[k] = typeof val === 'string' ? val : '';
  }
  return out;
}

function tags(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(v)) return out;
  for (const t of v) {
    if (!t || typeof t !== 'object') continue;
    const key = (t as { Key?: unknown }).Key;
    const value = (t as { Value?: unknown }).Value;
    if (typeof key !== 'string')
      throw errors.invalidParameter('Invalid parameter: Tags Reason: Tag key is missing');
    out[key] = typeof value === 'string' ? value : '';
  }
  return out;
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType|StringValue|BinaryValue`. */
function messageAttributes(v: unknown): Record<string, MessageAttributeInput> | undefined {
  if (v === undefined) return undefined;
  let list: unknown = v;
  if (v && typeof v === 'object' && !Array.isArray(v) && 'entry' in v) list = (v as { entry: unknown }).entry;
  if (list && typeof list === 'object' && !Array.isArray(list)) list = [list];
  const out: Record<string, MessageAttributeInput> = {};
  if (!Array.isArray(list)) return out;
  for (const e of list) {
    if (!e || typeof e !== 'object') continue;
    const name = (e as { Name?: unknown }).Name;
    const value = ((e as { Value?: unknown }).Value ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string') continue;
    out[name] = {
      DataType: typeof value.DataType === 'string' ? value.DataType : '',
      StringValue: typeof value.StringValue === 'string' ? value.StringValue : undefined,
      BinaryValue: typeof value.BinaryValue === 'string' ? value.BinaryValue : undefined,
    };
  }
  return out;
}

function publishInput(input: Input): PublishInput {
  return {
    message: str(input, 'Message') as string,
    subject: str(input, 'Subject'),
    messageStructure: str(input, 'MessageStructure'),
    messageAttributes: messageAttributes(input.MessageAttributes),
    messageGroupId: str(input, 'MessageGroupId'),
    messageDeduplicationId: str(input, 'MessageDeduplicationId'),
  };
}

export function createSnsService(engine: SnsEngine): QueryService {
  return {
    protocol: 'query',
    signingName: 'sns',
    version: SNS_VERSION,
    xmlNamespace: SNS_XMLNS,
    operations: {
      CreateTopic: async (ctx, input) => ({
        TopicArn: await engine.createTopic(
          scope(ctx),
          str(input, 'Name'),
          {
            ...stringMap(input.Attributes),
            ...(str(input, 'DataProtectionPolicy')
              ? { DataProtectionPolicy: str(input, 'DataProtectionPolicy') as string }
              : {}),
          },
          tags(input.Tags),
        ),
      }),
      DeleteTopic: async (_ctx, input) => {
        await engine.deleteTopic(str(input, 'TopicArn'));
        return undefined;
      },
      ListTopics: async (ctx, input) => engine.listTopics(scope(ctx), str(input, 'NextToken')),
      GetTopicAttributes: async (_ctx, input) => ({
        Attributes: xmlMap(await engine.getTopicAttributes(str(input, 'TopicArn'))),
      }),
      SetTopicAttributes: async (_ctx, input) => {
        await engine.setTopicAttributes(
          str(input, 'TopicArn'),
          str(input, 'AttributeName'),
          str(input, 'AttributeValue'),
        );
        return undefined;
      },
      Subscribe: async (ctx, input) => ({
        SubscriptionArn: await engine.subscribe(scope(ctx), {
          topicArn: str(input, 'TopicArn'),
          protocol: str(input, 'Protocol'),
          endpoint: str(input, 'Endpoint'),
          attributes: stringMap(input.Attributes),
          returnSubscriptionArn: str(input, 'ReturnSubscriptionArn') === 'true',
        }),
      }),
      ConfirmSubscription: async (_ctx, input) => ({
        SubscriptionArn: await engine.confirmSubscription(
          str(input, 'TopicArn'),
          str(input, 'Token'),
          str(input, 'AuthenticateOnUnsubscribe'),
        ),
      }),
      Unsubscribe: async (_ctx, input) => {
        await engine.unsubscribe(str(input, 'SubscriptionArn'));
        return undefined;
      },
      ListSubscriptions: async (ctx, input) => engine.listSubscriptions(scope(ctx), str(input, 'NextToken')),
      ListSubscriptionsByTopic: async (_ctx, input) =>
        engine.listSubscriptionsByTopic(str(input, 'TopicArn'), str(input, 'NextToken')),
      GetSubscriptionAttributes: async (_ctx, input) => ({
        Attributes: xmlMap(await engine.getSubscriptionAttributes(str(input, 'SubscriptionArn'))),
      }),
      SetSubscriptionAttributes: async (_ctx, input) => {
        await engine.setSubscriptionAttributes(
          str(input, 'SubscriptionArn'),
          str(input, 'AttributeName'),
          str(input, 'AttributeValue'),
        );
        return undefined;
      },
      Publish: async (ctx, input) => {
        if (str(input, 'PhoneNumber') !== undefined)
          throw errors.invalidParameter('Invalid parameter: PhoneNumber Reason: Nimbus does not send SMS');
        const arn = str(input, 'TopicArn') ?? str(input, 'TargetArn');
        if (!arn)
          throw errors.invalidParameter(
            'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
          );
        return engine.publish(scope(ctx), arn, publishInput(input));
      },
      PublishBatch: async (ctx, input) => {
        const raw = input.PublishBatchRequestEntries;
        const entries = Array.isArray(raw) ? (raw as Input[]) : [];
        if (entries.length === 0)
          throw new AwsError('EmptyBatchRequest', 'The batch request does not contain any entries.', 400);
        if (entries.length > 10)
          throw new AwsError(
            'TooManyEntriesInBatchRequest',
            'The batch request contains more entries than permissible.',
            400,
          );
        const ids = new Set<string>();
        let total = 0;
        for (const e of entries) {
          const id = str(e, 'Id') ?? '';
          if (!/^[A-Za-z0-9_-]{1,80}$/.test(id))
            throw new AwsError(
              'InvalidBatchEntryId',
              'The Id of a batch entry in a batch request does not abide by the specification.',
              400,
            );
          if (ids.has(id))
            throw new AwsError(
              'BatchEntryIdsNotDistinct',
              'Two or more batch entries in the request have the same Id.',
              400,
            );
          ids.add(id);
          total += Buffer.byteLength(str(e, 'Message') ?? '');
        }
        if (total > 262_144)
          throw new AwsError(
            'BatchRequestTooLong',
            'The length of all the messages put together is more than the limit.',
            400,
          );
        const res = await engine.publishBatch(
          scope(ctx),
          str(input, 'TopicArn'),
          entries.map((e) => ({ id: str(e, 'Id') as string, ...publishInput(e) })),
        );
        return { Successful: res.ok, Failed: res.failed };
      },
      TagResource: async (_ctx, input) => {
        await engine.tagResource(str(input, 'ResourceArn'), tags(input.Tags));
        return {};
      },
      UntagResource: async (_ctx, input) => {
        const keys = Array.isArray(input.TagKeys) ? (input.TagKeys as unknown[]).map(String) : [];
        await engine.untagResource(str(input, 'ResourceArn'), keys);
        return {};
      },
      ListTagsForResource: async (_ctx, input) => ({
        Tags: await engine.listTags(str(input, 'ResourceArn')),
      }),
    },
  };
}
