/**
 * SQS wire adapters. One set of handlers takes the AWS JSON 1.0 input shape (what current
 * SDKs send: `X-Amz-Target: AmazonSQS.<Op>`); the Query protocol (form `Action=...`, XML
 * replies, for older clients) converts its parameters into that shape, runs the same handler
 * and renders the result as SQS's XML, with the legacy error codes.
 */
import { AwsError } from '../../protocols/errors.js';
import { pairsToMap } from '../../protocols/query.js';
import { xmlList, xmlMap } from '../../protocols/xml.js';
import type { JsonService, Operation, QueryService, RequestContext } from '../../server/service.js';
import type { SqsEngine } from './engine.js';
import { errors, queryCodeOf } from './errors.js';
import type { MessageAttributeValue, Scope, SendInput } from './model.js';

type Input = Record<string, any>;

const scopeOf = (ctx: RequestContext): Scope => ({
  accountId: ctx.accountId,
  region: ctx.region,
  endpoint: ctx.endpoint,
});

function str(input: Input, name: string): string {
  const v = input[name];
  if (v === undefined || v === null || v === '') throw errors.missingParameter(name);
  if (typeof v !== 'string')
    throw errors.invalidParameterValue(`Value ${String(v)} for parameter ${name} is invalid.`);
  return v;
}

function optStr(input: Input, name: string): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string')
    throw errors.invalidParameterValue(`Value ${String(v)} for parameter ${name} is invalid.`);
  return v;
}

function optInt(input: Input, name: string): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) {
    throw errors.invalidParameterValue(
      `Value ${String(v)} for parameter ${name} is invalid. Reason: Must be an integer.`,
    );
  }
  return n;
}

function strMap(v: unknown, name: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw errors.invalidParameterValue(`Invalid value for ${name}.`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = String(x);
  return out;
}

function strList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return [String(v)];
  return v.map(String);
}

function attrMap(v: unknown): Record<string, MessageAttributeValue> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v))
    throw errors.invalidParameterValue('Invalid message attributes.');
  const out: Record<string, MessageAttributeValue> = {};
  for (const [k, a] of Object.entries(v as Record<string, Input>)) {
    out[k] = {
      DataType: a?.DataType,
      ...(a?.StringValue !== undefined ? { StringValue: String(a.StringValue) } : {}),
      ...(a?.BinaryValue !== undefined ? { BinaryValue: String(a.BinaryValue) } : {}),
    };
  }
  return out;
}

function sendInput(e: Input): SendInput {
  return {
    body: e.MessageBody as string,
    messageAttributes: attrMap(e.MessageAttributes),
    messageSystemAttributes: attrMap(e.MessageSystemAttributes),
    messageGroupId: optStr(e, 'MessageGroupId'),
    messageDeduplicationId: optStr(e, 'MessageDeduplicationId'),
    delaySeconds: optInt(e, 'DelaySeconds'),
  };
}

const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;

function batchEntries(input: Input, what: string): Input[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) throw errors.emptyBatch(what);
  if (entries.length > 10) throw errors.tooManyEntries(entries.length);
  const ids = new Set<string>();
  for (const e of entries as Input[]) {
    if (typeof e?.Id !== 'string' || !BATCH_ID.test(e.Id)) throw errors.invalidBatchEntryId();
    if (ids.has(e.Id)) throw errors.idsNotDistinct();
    ids.add(e.Id);
  }
  return entries as Input[];
}

function failure(id: string, e: AwsError) {
  return { Id: id, SenderFault: e.fault === 'Sender', Code: queryCodeOf(e), Message: e.message };
}

/** The handlers, on the JSON input/output shapes. */
export function sqsHandlers(engine: SqsEngine): Record<string, Operation<Input, unknown>> {
  return {
    CreateQueue: async (ctx, input) =>
      engine.createQueue(
        scopeOf(ctx),
        str(input, 'QueueName'),
        strMap(input.Attributes, 'Attributes'),
        strMap(input.tags, 'tags'),
      ),
    GetQueueUrl: async (ctx, input) =>
      engine.getQueueUrl(scopeOf(ctx), str(input, 'QueueName'), optStr(input, 'QueueOwnerAWSAccountId')),
    ListQueues: async (ctx, input) => {
      const out = await engine.listQueues(scopeOf(ctx), {
        prefix: optStr(input, 'QueueNamePrefix'),
        maxResults: optInt(input, 'MaxResults'),
        nextToken: optStr(input, 'NextToken'),
      });
      return out.QueueUrls.length ? out : {};
    },
    DeleteQueue: async (ctx, input) => {
      await engine.deleteQueue(scopeOf(ctx), str(input, 'QueueUrl'));
      return {};
    },
    PurgeQueue: async (ctx, input) => {
      await engine.purgeQueue(scopeOf(ctx), str(input, 'QueueUrl'));
      return {};
    },
    GetQueueAttributes: async (ctx, input) => {
      const names = strList(input.AttributeNames);
      const attrs = await engine.getQueueAttributes(scopeOf(ctx), str(input, 'QueueUrl'), names);
      return names.length && Object.keys(attrs).length ? { Attributes: attrs } : {};
    },
    SetQueueAttributes: async (ctx, input) => {
      await engine.setQueueAttributes(
        scopeOf(ctx),
        str(input, 'QueueUrl'),
        strMap(input.Attributes, 'Attributes'),
      );
      return {};
    },
    TagQueue: async (ctx, input) => {
      await engine.tagQueue(scopeOf(ctx), str(input, 'QueueUrl'), strMap(input.Tags, 'Tags'));
      return {};
    },
    UntagQueue: async (ctx, input) => {
      await engine.untagQueue(scopeOf(ctx), str(input, 'QueueUrl'), strList(input.TagKeys));
      return {};
    },
    ListQueueTags: async (ctx, input) => {
      const tags = await engine.listQueueTags(scopeOf(ctx), str(input, 'QueueUrl'));
      return Object.keys(tags).length ? { Tags: tags } : {};
    },
    ListDeadLetterSourceQueues: async (ctx, input) =>
      engine.listDeadLetterSourceQueues(scopeOf(ctx), str(input, 'QueueUrl')),
    SendMessage: async (ctx, input) => {
      const url = str(input, 'QueueUrl');
      if (input.MessageBody === undefined || input.MessageBody === null)
        throw errors.missingParameter('MessageBody');
      return engine.sendMessage(scopeOf(ctx), url, sendInput(input));
    },
    SendMessageBatch: async (ctx, input) => {
      const url = str(input, 'QueueUrl');
      const entries = batchEntries(input, 'SendMessageBatchRequestEntry');
      let size = 0;
      for (const e of entries) size += Buffer.byteLength(String(e.MessageBody ?? ''));
      if (size > 262144) throw errors.batchTooLong(size);
      const results = await engine.sendMessageBatch(scopeOf(ctx), url, entries.map(sendInput));
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      results.forEach((r, i) => {
        if ('error' in r) Failed.push(failure(entries[i].Id, r.error));
        else Successful.push({ Id: entries[i].Id, ...r });
      });
      return { Successful, Failed };
    },
    ReceiveMessage: async (ctx, input) => {
      const messages = await engine.receiveMessages(scopeOf(ctx), str(input, 'QueueUrl'), {
        maxNumberOfMessages: optInt(input, 'MaxNumberOfMessages'),
        visibilityTimeout: optInt(input, 'VisibilityTimeout'),
        waitTimeSeconds: optInt(input, 'WaitTimeSeconds'),
        attributeNames: [...strList(input.AttributeNames), ...strList(input.MessageSystemAttributeNames)],
        messageAttributeNames: strList(input.MessageAttributeNames),
        signal: ctx.signal,
      });
      return messages.length ? { Messages: messages } : {};
    },
    DeleteMessage: async (ctx, input) => {
      await engine.deleteMessage(scopeOf(ctx), str(input, 'QueueUrl'), str(input, 'ReceiptHandle'));
      return {};
    },
    DeleteMessageBatch: async (ctx, input) => {
      const url = str(input, 'QueueUrl');
      const entries = batchEntries(input, 'DeleteMessageBatchRequestEntry');
      const results = await engine.deleteMessageBatch(
        scopeOf(ctx),
        url,
        entries.map((e) => String(e.ReceiptHandle ?? '')),
      );
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      results.forEach((r, i) =>
        r ? Failed.push(failure(entries[i].Id, r)) : Successful.push({ Id: entries[i].Id }),
      );
      return { Successful, Failed };
    },
    ChangeMessageVisibility: async (ctx, input) => {
      const vt = optInt(input, 'VisibilityTimeout');
      if (vt === undefined) throw errors.missingParameter('VisibilityTimeout');
      await engine.changeMessageVisibility(
        scopeOf(ctx),
        str(input, 'QueueUrl'),
        str(input, 'ReceiptHandle'),
        vt,
      );
      return {};
    },
    ChangeMessageVisibilityBatch: async (ctx, input) => {
      const url = str(input, 'QueueUrl');
      const entries = batchEntries(input, 'ChangeMessageVisibilityBatchRequestEntry');
      const results = await engine.changeMessageVisibilityBatch(
        scopeOf(ctx),
        url,
        entries.map((e) => ({
          receiptHandle: String(e.ReceiptHandle ?? ''),
          visibilityTimeout: Number(e.VisibilityTimeout),
        })),
      );
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      results.forEach((r, i) =>
        r ? Failed.push(failure(entries[i].Id, r)) : Successful.push({ Id: entries[i].Id }),
      );
      return { Successful, Failed };
    },
    StartMessageMoveTask: async (ctx, input) =>
      engine.startMessageMoveTask(
        scopeOf(ctx),
        str(input, 'SourceArn'),
        optStr(input, 'DestinationArn'),
        optInt(input, 'MaxNumberOfMessagesPerSecond'),
      ),
    ListMessageMoveTasks: async (_ctx, input) => {
      const tasks = await engine.listMessageMoveTasks(
        str(input, 'SourceArn'),
        optInt(input, 'MaxResults') ?? 1,
      );
      return {
        Results: tasks.map((t) => ({
          ...(t.status === 'RUNNING' ? { TaskHandle: t.taskHandle } : {}),
          Status: t.status,
          SourceArn: t.sourceArn,
          ...(t.destinationArn ? { DestinationArn: t.destinationArn } : {}),
          ...(t.maxPerSecond ? { MaxNumberOfMessagesPerSecond: t.maxPerSecond } : {}),
          ApproximateNumberOfMessagesMoved: t.moved,
          ApproximateNumberOfMessagesToMove: t.toMove,
          ...(t.failureReason ? { FailureReason: t.failureReason } : {}),
          StartedTimestamp: t.startedAt,
        })),
      };
    },
    CancelMessageMoveTask: async (_ctx, input) => engine.cancelMessageMoveTask(str(input, 'TaskHandle')),
    AddPermission: async (ctx, input) => {
      await engine.getQueue(scopeOf(ctx), str(input, 'QueueUrl'));
      str(input, 'Label');
      return {};
    },
    RemovePermission: async (ctx, input) => {
      await engine.getQueue(scopeOf(ctx), str(input, 'QueueUrl'));
      str(input, 'Label');
      return {};
    },
  };
}

export function createSqsJsonService(engine: SqsEngine): JsonService {
  return {
    protocol: 'json',
    signingName: 'sqs',
    jsonVersion: '1.0',
    targetPrefix: 'AmazonSQS',
    errorTypePrefix: 'com.amazonaws.sqs#',
    queryCompatible: true,
    operations: sqsHandlers(engine),
  };
}

// ---- Query protocol ----

const LIST_RENAMES: Record<string, string> = {
  AttributeName: 'AttributeNames',
  MessageAttributeName: 'MessageAttributeNames',
  MessageSystemAttributeName: 'MessageSystemAttributeNames',
  TagKey: 'TagKeys',
  SendMessageBatchRequestEntry: 'Entries',
  DeleteMessageBatchRequestEntry: 'Entries',
  ChangeMessageVisibilityBatchRequestEntry: 'Entries',
};

function fromQuery(params: Input): Input {
  const out: Input = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Attribute') out.Attributes = pairsToMap(v);
    else if (k === 'Tag')
      out[params.QueueName !== undefined ? 'tags' : 'Tags'] = pairsToMap(v, 'Key', 'Value');
    else if (k === 'MessageAttribute') out.MessageAttributes = pairsToMap(v);
    else if (k === 'MessageSystemAttribute') out.MessageSystemAttributes = pairsToMap(v);
    else if (LIST_RENAMES[k]) {
      const list = Array.isArray(v) ? v : [v];
      out[LIST_RENAMES[k]] = k.endsWith('Entry') ? list.map((e) => fromQuery(e as Input)) : list;
    } else out[k] = v;
  }
  return out;
}

const nameValue = { key: 'Name', value: 'Value', flattened: true };

function toXml(action: string, out: any): unknown {
  if (!out || typeof out !== 'object') return out;
  switch (action) {
    case 'ListQueues':
      return { QueueUrl: xmlList(out.QueueUrls ?? [], { flattened: true }), NextToken: out.NextToken };
    case 'ListDeadLetterSourceQueues':
      return { QueueUrl: xmlList(out.queueUrls ?? [], { flattened: true }), NextToken: out.NextToken };
    case 'GetQueueAttributes':
      return { Attribute: xmlMap(out.Attributes ?? {}, nameValue) };
    case 'ListQueueTags':
      return { Tag: xmlMap(out.Tags ?? {}, { key: 'Key', value: 'Value', flattened: true }) };
    case 'ReceiveMessage':
      return {
        Message: xmlList(
          (out.Messages ?? []).map((m: any) => ({
            MessageId: m.MessageId,
            ReceiptHandle: m.ReceiptHandle,
            MD5OfBody: m.MD5OfBody,
            Body: m.Body,
            Attribute: m.Attributes ? xmlMap(m.Attributes, nameValue) : undefined,
            MD5OfMessageAttributes: m.MD5OfMessageAttributes,
            MessageAttribute: m.MessageAttributes
              ? xmlMap(
                  Object.fromEntries(
                    Object.entries(m.MessageAttributes as Record<string, MessageAttributeValue>).map(
                      ([k, a]) => [
                        k,
                        { StringValue: a.StringValue, BinaryValue: a.BinaryValue, DataType: a.DataType },
                      ],
                    ),
                  ),
                  nameValue,
                )
              : undefined,
          })),
          { flattened: true },
        ),
      };
    case 'SendMessageBatch':
    case 'DeleteMessageBatch':
    case 'ChangeMessageVisibilityBatch':
      return {
        [`${action}ResultEntry`]: xmlList(out.Successful ?? [], { flattened: true }),
        BatchResultErrorEntry: xmlList(out.Failed ?? [], { flattened: true }),
      };
    case 'ListMessageMoveTasks':
      return { ListMessageMoveTasksResultEntry: xmlList(out.Results ?? [], { flattened: true }) };
    default:
      return Object.keys(out).length ? out : undefined;
  }
}

export function createSqsQueryService(engine: SqsEngine): QueryService {
  const handlers = sqsHandlers(engine);
  const operations: QueryService['operations'] = {};
  for (const [action, handler] of Object.entries(handlers)) {
    operations[action] = async (ctx, params) => {
      try {
        return toXml(action, await handler(ctx, fromQuery(params)));
      } catch (e) {
        if (e instanceof AwsError && e.headers['x-amzn-query-error']) {
          throw new AwsError(queryCodeOf(e), e.message, e.status, e.fault);
        }
        throw e;
      }
    };
  }
  return {
    protocol: 'query',
    signingName: 'sqs',
    version: '2012-11-05',
    xmlNamespace: 'http://queue.amazonaws.com/doc/2012-11-05/',
    operations,
    // `POST /{account}/{queue}` without a QueueUrl parameter: that queue.
    paramsOfPath: (path) => (/^\/\d{12}\/[^/]+$/.test(path) ? { QueueUrl: path } : undefined),
  };
}
