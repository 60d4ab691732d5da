/**
 * Event source mappings for SQS: the API (states, Lambda's validation), the poller feeding the
 * function the SQS event (same fields as AWS's sample), deletes on success, partial batch
 * failures (ReportBatchItemFailures) and failed messages following the queue's redrive policy
 * on the virtual clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  CreateEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  UpdateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  SQSClient,
  CreateQueueCommand,
  SendMessageCommand,
  ReceiveMessageCommand,
  GetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { until as waitUntil } from '../helpers/until.js';

const SAMPLE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/aws-events/sqs-event.json', import.meta.url), 'utf8'),
) as {
  Records: Record<string, unknown>[];
};
const ROLE = 'arn:aws:iam::000000000000:role/r';
const qarn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

const CODE = `exports.handler = async (event) => {
  console.log('SQSEVENT ' + JSON.stringify(event));
  const failures = event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId }));
  return { batchItemFailures: failures };
};`;

function zip(): Buffer {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(CODE), '', 0o644 << 16);
  return z.toBuffer();
}

function keysDeep(v: unknown): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>)
    .flatMap(([k, x]) => [k, ...(k === 'messageAttributes' ? [] : keysDeep(x).map((s) => `${k}.${s}`))])
    .sort();
}

async function advance(srv: TestServer, seconds: number): Promise<void> {
  const r = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(r.status, 200);
}

/** `until` with this file's default wait. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000) => waitUntil(what, fn, ms);

test('event source mappings: API, states and validation', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'src' }));
  await sqs.send(new CreateQueueCommand({ QueueName: 'src.fifo', Attributes: { FifoQueue: 'true' } }));
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'esm-api',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'esm-api',
        EventSourceArn: qarn('src'),
        BatchSize: 11,
      }),
    ),
    {
      name: 'InvalidParameterValueException',
      message:
        'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    },
  );
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'esm-api',
        EventSourceArn: qarn('src.fifo'),
        BatchSize: 20,
      }),
    ),
    { name: 'InvalidParameterValueException' },
  );
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'esm-api',
        EventSourceArn: qarn('src'),
        BatchSize: 10001,
      }),
    ),
    { name: 'ValidationException', message: /batchSize.*less than or equal to 10000/ },
  );
  // Stream-only settings on a queue.
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'esm-api',
        EventSourceArn: qarn('src'),
        TumblingWindowInSeconds: 60,
      }),
    ),
    {
      name: 'InvalidParameterValueException',
      message: 'TumblingWindowInSeconds is not supported for SQS event sources.',
    },
  );
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: 'esm-api', EventSourceArn: qarn('nope') }),
    ),
    { name: 'InvalidParameterValueException', message: /NonExistentQueue/ },
  );
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: 'missing', EventSourceArn: qarn('src') }),
    ),
    { name: 'ResourceNotFoundException' },
  );
  const created = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'esm-api',
      EventSourceArn: qarn('src'),
      Enabled: false,
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 3 },
    }),
  );
  assert.equal(created.$metadata.httpStatusCode, 202);
  assert.equal(created.State, 'Creating');
  assert.equal(created.FunctionArn, fn.FunctionArn);
  assert.equal(created.BatchSize, 50);
  assert.deepEqual(created.ScalingConfig, { MaximumConcurrency: 3 });
  assert.deepEqual(created.FunctionResponseTypes, []);
  assert.ok(created.LastModified instanceof Date);
  await assert.rejects(
    lambda.send(
      new CreateEventSourceMappingCommand({ FunctionName: 'esm-api', EventSourceArn: qarn('src') }),
    ),
    { name: 'ResourceConflictException' },
  );
  const uuid = created.UUID!;
  await until('Disabled', async () => {
    const g = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    return g.State === 'Disabled' ? g : undefined;
  });
  const upd = await lambda.send(
    new UpdateEventSourceMappingCommand({
      UUID: uuid,
      Enabled: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    }),
  );
  assert.equal(upd.State, 'Enabling');
  assert.deepEqual(upd.FunctionResponseTypes, ['ReportBatchItemFailures']);
  await until('Enabled', async () => {
    const g = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    return g.State === 'Enabled' ? g : undefined;
  });
  const list = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'esm-api' }));
  assert.deepEqual(
    list.EventSourceMappings?.map((m) => m.UUID),
    [uuid],
  );
  const none = await lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: qarn('src.fifo') }));
  assert.deepEqual(none.EventSourceMappings, []);
  const del = await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  assert.equal(del.State, 'Deleting');
  await assert.rejects(lambda.send(new GetEventSourceMappingCommand({ UUID: uuid })), {
    name: 'ResourceNotFoundException',
    message: 'The resource you requested does not exist.',
  });
});

test('SQS poller: sample event shape, deletes on success, partial failures follow the redrive policy', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'esm-dlq' }));
  const src = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'esm-src',
      Attributes: {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: qarn('esm-dlq'), maxReceiveCount: 2 }),
      },
    }),
  );
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'esm-fn',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'esm-fn',
      EventSourceArn: qarn('esm-src'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    }),
  );
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl: src.QueueUrl,
      MessageBody: 'good one',
      MessageAttributes: { Attribute1: { DataType: 'String', StringValue: 'AttributeValue1' } },
    }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody: 'bad one' }));

  type Rec = Record<string, unknown> & {
    messageId: string;
    body: string;
    attributes: Record<string, string>;
  };
  const seen = async (): Promise<Rec[]> => {
    const ev = await logs
      .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/esm-fn', filterPattern: 'SQSEVENT' }))
      .catch(() => ({ events: [] as { message?: string }[] }));
    return (ev.events ?? []).flatMap((e) => {
      const line = e.message ?? '';
      const i = line.indexOf('SQSEVENT ');
      return i < 0 ? [] : (JSON.parse(line.slice(i + 9)) as { Records: Rec[] }).Records;
    });
  };
  const first = await until('both messages delivered', async () => {
    const r = await seen();
    return r.length >= 2 ? r : undefined;
  });
  const good = first.find((r) => r.body === 'good one')!;
  assert.deepEqual(keysDeep(good), keysDeep(SAMPLE.Records[0]), 'same fields as the AWS sample event');
  assert.equal(good.messageId, sent.MessageId);
  assert.equal(good.eventSource, 'aws:sqs');
  assert.equal(good.eventSourceARN, qarn('esm-src'));
  assert.equal(good.awsRegion, 'us-east-1');
  assert.equal(good.md5OfBody, sent.MD5OfMessageBody);
  assert.equal(good.md5OfMessageAttributes, sent.MD5OfMessageAttributes);
  assert.equal(good.attributes.ApproximateReceiveCount, '1');
  assert.deepEqual(good.messageAttributes, {
    Attribute1: {
      stringValue: 'AttributeValue1',
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    },
  });

  const counts = async () => {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: src.QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return `${a.Attributes?.ApproximateNumberOfMessages}/${a.Attributes?.ApproximateNumberOfMessagesNotVisible}`;
  };
  // The good message was deleted; the bad one is in flight until the visibility timeout.
  await until('good deleted', async () => ((await counts()) === '0/1' ? true : undefined));
  await advance(srv, 31);
  await until('bad retried', async () =>
    (await seen()).some((r) => r.body === 'bad one' && r.attributes.ApproximateReceiveCount === '2')
      ? true
      : undefined,
  );
  await advance(srv, 31);
  // maxReceiveCount 2: the poller's next receive moves it to the dead-letter queue.
  const moved = await until('dead-lettered', async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1 }));
    return r.Messages?.[0];
  });
  assert.equal(moved.Body, 'bad one');
  assert.equal(await counts(), '0/0');
  assert.equal((await seen()).filter((r) => r.body === 'good one').length, 1, 'good processed once');
});

test('SQS FIFO poller: batches in group order, deleted after success', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const src = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'orders.fifo',
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' },
    }),
  );
  for (let i = 0; i < 5; i++) {
    await sqs.send(
      new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody: `m${i}`, MessageGroupId: 'g' }),
    );
  }
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'fifo-fn',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'fifo-fn',
      EventSourceArn: qarn('orders.fifo'),
      BatchSize: 10,
    }),
  );
  type Rec = { body: string; attributes: Record<string, string> };
  const records = await until('all five processed', async () => {
    const ev = await logs
      .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/fifo-fn', filterPattern: 'SQSEVENT' }))
      .catch(() => ({ events: [] as { message?: string }[] }));
    const recs = (ev.events ?? []).flatMap((e) => {
      const line = e.message ?? '';
      return (JSON.parse(line.slice(line.indexOf('SQSEVENT ') + 9)) as { Records: Rec[] }).Records;
    });
    return recs.length >= 5 ? recs : undefined;
  });
  assert.deepEqual(
    records.map((r) => r.body),
    ['m0', 'm1', 'm2', 'm3', 'm4'],
  );
  assert.equal(records[0].attributes.MessageGroupId, 'g');
  assert.ok(records[0].attributes.SequenceNumber);
  assert.ok(records[0].attributes.MessageDeduplicationId);
  await until('queue drained', async () => {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: src.QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return a.Attributes?.ApproximateNumberOfMessages === '0' &&
      a.Attributes?.ApproximateNumberOfMessagesNotVisible === '0'
      ? true
      : undefined;
  });
});

test('SQS FilterCriteria: matching messages reach the function, the others are deleted unseen', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'filter-dlq' }));
  const src = await sqs.send(
    new CreateQueueCommand({
      QueueName: 'filter-src',
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: qarn('filter-dlq'), maxReceiveCount: 1 }),
      },
    }),
  );
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'filter-fn',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  const create = (FilterCriteria: { Filters: { Pattern: string }[] }) =>
    lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'filter-fn',
        EventSourceArn: qarn('filter-src'),
        FilterCriteria,
      }),
    );
  const six = Array.from({ length: 6 }, (_, i) => ({ Pattern: JSON.stringify({ body: { n: [i] } }) }));
  await assert.rejects(create({ Filters: six }), { name: 'InvalidParameterValueException' });
  await assert.rejects(create({ Filters: [{ Pattern: '{"body": {"kind": "order"}}' }] }), {
    name: 'InvalidParameterValueException',
    message: 'Invalid filter pattern definition.',
  });
  await assert.rejects(create({ Filters: [{ Pattern: 'not json' }] }), {
    name: 'InvalidParameterValueException',
    message: 'Invalid filter pattern definition.',
  });
  assert.deepEqual(
    (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'filter-fn' })))
      .EventSourceMappings,
    [],
    'nothing created by the refused calls',
  );

  const filters = [
    { Pattern: JSON.stringify({ body: { kind: ['order'], total: [{ numeric: ['>', 10] }] } }) },
    { Pattern: JSON.stringify({ body: [{ prefix: 'urgent' }] }) },
  ];
  const m = await create({ Filters: filters });
  assert.deepEqual(m.FilterCriteria, { Filters: filters });
  const uuid = m.UUID!;
  const g = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  assert.deepEqual(g.FilterCriteria, { Filters: filters });

  const bodies = [
    JSON.stringify({ kind: 'order', total: 50 }),
    JSON.stringify({ kind: 'order', total: 5 }),
    JSON.stringify({ kind: 'refund', total: 50 }),
    'urgent: call back',
    'bad but filtered out',
    JSON.stringify('urgent'),
  ];
  for (const MessageBody of bodies)
    await sqs.send(new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody }));

  type Rec = { messageId: string; body: string };
  const batches = async (): Promise<Rec[][]> => {
    const ev = await logs
      .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/filter-fn', filterPattern: 'SQSEVENT' }))
      .catch(() => ({ events: [] as { message?: string }[] }));
    return (ev.events ?? []).map((e) => {
      const line = e.message ?? '';
      return (JSON.parse(line.slice(line.indexOf('SQSEVENT ') + 9)) as { Records: Rec[] }).Records;
    });
  };
  const seen = async () => (await batches()).flat().map((r) => r.body);
  const counts = async () => {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: src.QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return `${a.Attributes?.ApproximateNumberOfMessages}/${a.Attributes?.ApproximateNumberOfMessagesNotVisible}`;
  };
  const drained = () => until('queue drained', async () => ((await counts()) === '0/0' ? true : undefined));
  await until('matching messages delivered', async () => ((await seen()).length >= 2 ? true : undefined));
  await drained();
  assert.deepEqual(
    (await seen()).sort(),
    [JSON.stringify({ kind: 'order', total: 50 }), 'urgent: call back'].sort(),
    'only the matching messages, bodies as sent',
  );
  // Filtered-out messages are consumed: not retried, not dead-lettered.
  const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 1 }));
  assert.equal(dead.Messages, undefined);

  const waitEnabled = () =>
    until('Enabled', async () => {
      const s = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      return s.State === 'Enabled' ? s : undefined;
    });
  await waitEnabled();
  await assert.rejects(
    lambda.send(
      new UpdateEventSourceMappingCommand({
        UUID: uuid,
        FilterCriteria: { Filters: [{ Pattern: '{"body":' }] },
      }),
    ),
    { name: 'InvalidParameterValueException', message: 'Invalid filter pattern definition.' },
  );
  const refunds = [{ Pattern: JSON.stringify({ body: { kind: ['refund'] } }) }];
  const upd = await lambda.send(
    new UpdateEventSourceMappingCommand({ UUID: uuid, FilterCriteria: { Filters: refunds } }),
  );
  assert.deepEqual(upd.FilterCriteria, { Filters: refunds });
  await waitEnabled();
  await sqs.send(
    new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody: '{"kind":"order","total":99}' }),
  );
  await sqs.send(new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody: '{"kind":"refund","id":7}' }));
  await until('refund delivered', async () =>
    (await seen()).includes('{"kind":"refund","id":7}') ? true : undefined,
  );
  await drained();
  assert.equal((await seen()).includes('{"kind":"order","total":99}'), false, 'orders no longer pass');

  // FilterCriteria {} removes the filters: everything is delivered again.
  const cleared = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, FilterCriteria: {} }));
  assert.equal(cleared.FilterCriteria, undefined);
  assert.equal((await waitEnabled()).FilterCriteria, undefined);
  await sqs.send(new SendMessageCommand({ QueueUrl: src.QueueUrl, MessageBody: 'plain after clear' }));
  await until('unfiltered delivery', async () =>
    (await seen()).includes('plain after clear') ? true : undefined,
  );
  await drained();
  assert.ok(
    (await batches()).every((b) => b.length > 0),
    'the function is never invoked with an empty batch',
  );
});
