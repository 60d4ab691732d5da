/**
 * Event source mappings for DynamoDB streams: the function gets the stream event (same fields
 * as AWS's sample) in order; a failing batch is retried MaximumRetryAttempts times, then its
 * failure record goes to the OnFailure destination and the shard moves on.
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
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DynamoDBClient,
  CreateTableCommand,
  PutItemCommand,
  DeleteItemCommand,
  type AttributeValue,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestServer } from '../helpers/server.js';
import { until as waitUntil } from '../helpers/until.js';

const SAMPLE = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/aws-events/dynamodb-event.json', import.meta.url), 'utf8'),
) as {
  Records: Record<string, unknown>[];
};
const ROLE = 'arn:aws:iam::000000000000:role/r';
const CODE = `exports.handler = async (event) => {
  console.log('DDBEVENT ' + JSON.stringify(event));
  if (event.Records.some((r) => r.dynamodb.NewImage && r.dynamodb.NewImage.fail)) throw new Error('bad record');
};`;

function zip(): Buffer {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(CODE), '', 0o644 << 16);
  return z.toBuffer();
}

function keysDeep(v: unknown): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>)
    .flatMap(([k, x]) => [
      k,
      ...(['Keys', 'NewImage'].includes(k) ? [] : keysDeep(x).map((s) => `${k}.${s}`)),
    ])
    .sort();
}

/** A table keyed by `id` with a stream of `view`; answers the stream's ARN. */
async function streamTable(
  ddb: DynamoDBClient,
  name: string,
  view: StreamViewType = 'NEW_IMAGE',
): Promise<string> {
  const t = await ddb.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: view },
    }),
  );
  return t.TableDescription!.LatestStreamArn!;
}

/** A function running CODE (logs each event as `DDBEVENT {...}`). */
async function createFn(lambda: LambdaClient, name: string): Promise<void> {
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
}

type Rec = Record<string, unknown> & {
  eventName?: string;
  dynamodb: { Keys: { id: { S: string } }; SequenceNumber: string };
};

/** The batches a function logged (`DDBEVENT {...}` lines), oldest first. */
async function loggedBatches(logs: CloudWatchLogsClient, fn: string): Promise<Rec[][]> {
  const ev = await logs
    .send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${fn}`, filterPattern: 'DDBEVENT' }))
    .catch(() => ({ events: [] as { message?: string }[] }));
  return (ev.events ?? []).map((e) => {
    const line = e.message ?? '';
    return (JSON.parse(line.slice(line.indexOf('DDBEVENT ') + 9)) as { Records: Rec[] }).Records;
  });
}

/** `until` with this file's default wait. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000) => waitUntil(what, fn, ms);

test('DynamoDB stream mapping: stream events in order, retries, OnFailure record', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const failQ = await sqs.send(new CreateQueueCommand({ QueueName: 'stream-failures' }));
  const streamArn = await streamTable(ddb, 'orders');
  await createFn(lambda, 'ddb-fn');
  await assert.rejects(
    lambda.send(new CreateEventSourceMappingCommand({ FunctionName: 'ddb-fn', EventSourceArn: streamArn })),
    { name: 'InvalidParameterValueException' },
  );
  await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'a' } } }));
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'ddb-fn',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:stream-failures' } },
    }),
  );
  assert.equal(m.StartingPosition, 'TRIM_HORIZON');
  assert.equal(m.MaximumRetryAttempts, 1);
  const events = () => loggedBatches(logs, 'ddb-fn');

  const first = await until('first batch', async () =>
    (await events()).length ? await events() : undefined,
  );
  const rec = first[0][0];
  assert.deepEqual(keysDeep(rec), keysDeep(SAMPLE.Records[1]), 'same fields as the AWS sample event');
  assert.equal(rec.eventSourceARN, streamArn);
  assert.equal(rec.dynamodb.Keys.id.S, 'a');

  await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'b' }, fail: { BOOL: true } } }));
  const failure = await until('OnFailure record', async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failQ.QueueUrl, WaitTimeSeconds: 1 }));
    return r.Messages?.[0];
  });
  const f = JSON.parse(failure.Body!);
  assert.equal(f.requestContext.condition, 'RetryAttemptsExhausted');
  assert.equal(f.requestContext.approximateInvokeCount, 2);
  assert.equal(f.DDBStreamBatchInfo.streamArn, streamArn);
  assert.equal(f.DDBStreamBatchInfo.batchSize, 1);
  // The shard moved on: a later record is processed.
  await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'c' } } }));
  const all = await until('c processed', async () => {
    const e = await events();
    return e.some((b) => b.some((r) => r.dynamodb.Keys.id.S === 'c')) ? e : undefined;
  });
  const order = all.flat().map((r) => r.dynamodb.Keys.id.S);
  assert.deepEqual(order, ['a', 'b', 'b', 'c'], 'b tried twice (1 retry), then skipped');
  const g = await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
  assert.equal(g.State, 'Enabled');
});

test('DynamoDB stream mapping: BisectBatchOnFunctionError narrows a failing batch to the bad record', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const failQ = await sqs.send(new CreateQueueCommand({ QueueName: 'bisect-failures' }));
  const streamArn = await streamTable(ddb, 'bisect');
  for (const id of ['r1', 'r2', 'bad', 'r4']) {
    const Item: Record<string, AttributeValue> = { id: { S: id } };
    if (id === 'bad') Item.fail = { BOOL: true };
    await ddb.send(new PutItemCommand({ TableName: 'bisect', Item }));
  }
  await createFn(lambda, 'bisect-fn');
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'bisect-fn',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumRetryAttempts: 0,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:bisect-failures' } },
    }),
  );
  assert.equal(m.BisectBatchOnFunctionError, true);
  const failure = await until('OnFailure record', async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failQ.QueueUrl, WaitTimeSeconds: 1 }));
    return r.Messages?.[0];
  });
  assert.equal(JSON.parse(failure.Body!).DDBStreamBatchInfo.batchSize, 1, 'only the bad record is given up');
  const batches = await until('r4 processed after the bad record', async () => {
    const b = (await loggedBatches(logs, 'bisect-fn')).map((recs) => recs.map((r) => r.dynamodb.Keys.id.S));
    return b.length >= 5 ? b : undefined;
  });
  // Split in two on each whole-batch failure; the halves that succeed are not retried.
  assert.deepEqual(batches, [['r1', 'r2', 'bad', 'r4'], ['r1', 'r2'], ['bad', 'r4'], ['bad'], ['r4']]);
});

test('DynamoDB stream mapping: FilterCriteria on eventName and NewImage; filtered records are skipped', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const streamArn = await streamTable(ddb, 'filtered', 'NEW_AND_OLD_IMAGES');
  await createFn(lambda, 'ddb-filter-fn');
  const put = (id: string, status: string, extra: Record<string, AttributeValue> = {}) =>
    ddb.send(
      new PutItemCommand({ TableName: 'filtered', Item: { id: { S: id }, status: { S: status }, ...extra } }),
    );
  // Written before the mapping (TRIM_HORIZON): a record the function would fail on, filtered out.
  await put('x', 'inactive', { fail: { BOOL: true } });
  await put('a', 'active');
  const filters = [
    {
      Pattern: JSON.stringify({
        eventName: ['INSERT'],
        dynamodb: { NewImage: { status: { S: ['active'] } } },
      }),
    },
    { Pattern: JSON.stringify({ eventName: ['REMOVE'] }) },
  ];
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'ddb-filter-fn',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      FilterCriteria: { Filters: filters },
    }),
  );
  assert.deepEqual(m.FilterCriteria, { Filters: filters });
  assert.deepEqual((await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }))).FilterCriteria, {
    Filters: filters,
  });
  await put('b', 'inactive');
  await put('a', 'active'); // MODIFY
  await put('c', 'active');
  await ddb.send(new DeleteItemCommand({ TableName: 'filtered', Key: { id: { S: 'b' } } }));

  const batches = () => loggedBatches(logs, 'ddb-filter-fn');

  const seen = async () => (await batches()).flat().map((r) => `${r.eventName} ${r.dynamodb.Keys.id.S}`);
  await until('REMOVE b delivered', async () => ((await seen()).includes('REMOVE b') ? true : undefined));
  // The failing record x was skipped (no retries block the shard), so were the MODIFY and b's INSERT.
  assert.deepEqual(await seen(), ['INSERT a', 'INSERT c', 'REMOVE b']);

  await until('Enabled', async () => {
    const s = await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
    return s.State === 'Enabled' ? true : undefined;
  });
  const modifies = [{ Pattern: JSON.stringify({ eventName: ['MODIFY'] }) }];
  const upd = await lambda.send(
    new UpdateEventSourceMappingCommand({ UUID: m.UUID, FilterCriteria: { Filters: modifies } }),
  );
  assert.deepEqual(upd.FilterCriteria, { Filters: modifies });
  await put('d', 'active'); // INSERT: no longer passes
  await put('c', 'done'); // MODIFY
  await until('MODIFY c delivered', async () => ((await seen()).includes('MODIFY c') ? true : undefined));
  assert.deepEqual(await seen(), ['INSERT a', 'INSERT c', 'REMOVE b', 'MODIFY c']);
  assert.ok(
    (await batches()).every((b) => b.length > 0),
    'the function is never invoked with an empty batch',
  );
});

test('DynamoDB stream mapping: MaximumRecordAgeInSeconds discards old records to OnFailure; stream settings validated', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const failQ = await sqs.send(new CreateQueueCommand({ QueueName: 'aged-out' }));
  const streamArn = await streamTable(ddb, 'aged');
  await createFn(lambda, 'aged-fn');
  const fails = async (input: Record<string, unknown>, name: string, message: RegExp) => {
    const e = await lambda
      .send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'aged-fn',
          EventSourceArn: streamArn,
          StartingPosition: 'TRIM_HORIZON',
          ...input,
        }),
      )
      .then(
        () => undefined,
        (x: unknown) => x as { name: string; message: string },
      );
    assert.equal(e?.name, name);
    assert.match(e.message, message);
  };
  await fails({ MaximumRecordAgeInSeconds: 604801 }, 'ValidationException', /less than or equal to 604800/);
  await fails(
    { MaximumRecordAgeInSeconds: 30 },
    'InvalidParameterValueException',
    /-1 or between 60 and 604800/,
  );
  await fails({ ParallelizationFactor: 11 }, 'ValidationException', /less than or equal to 10/);
  await fails({ TumblingWindowInSeconds: 901 }, 'ValidationException', /less than or equal to 900/);

  // Two items written, then the clock moves two minutes on before the mapping starts reading.
  await ddb.send(new PutItemCommand({ TableName: 'aged', Item: { id: { S: 'old-1' } } }));
  await ddb.send(new PutItemCommand({ TableName: 'aged', Item: { id: { S: 'old-2' } } }));
  const moved = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 120 }),
  });
  assert.equal(moved.status, 200);
  await moved.body?.cancel();
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'aged-fn',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      MaximumRecordAgeInSeconds: 60,
      ParallelizationFactor: 2,
      DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:aged-out' } },
    }),
  );
  assert.equal(m.MaximumRecordAgeInSeconds, 60);
  assert.equal(m.ParallelizationFactor, 2);
  const failure = await until('RecordAgeExceeded record', async () => {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: failQ.QueueUrl, WaitTimeSeconds: 1 }));
    return r.Messages?.[0];
  });
  const body = JSON.parse(failure.Body!) as {
    requestContext: { condition: string; approximateInvokeCount: number };
    DDBStreamBatchInfo: { batchSize: number };
  };
  assert.equal(body.requestContext.condition, 'RecordAgeExceeded');
  assert.equal(body.requestContext.approximateInvokeCount, 0);
  assert.equal(body.DDBStreamBatchInfo.batchSize, 2);

  // A fresh record reaches the function; the old ones never did.
  await ddb.send(new PutItemCommand({ TableName: 'aged', Item: { id: { S: 'new-1' } } }));
  const seen = await until('the fresh record', async () => {
    const ids = (await loggedBatches(logs, 'aged-fn')).flat().map((r) => r.dynamodb.Keys.id.S);
    return ids.length ? ids : undefined;
  });
  assert.deepEqual(seen, ['new-1']);
  const updated = await lambda.send(
    new UpdateEventSourceMappingCommand({
      UUID: m.UUID,
      MaximumRecordAgeInSeconds: -1,
      ParallelizationFactor: 1,
    }),
  );
  assert.equal(updated.MaximumRecordAgeInSeconds, -1);
  assert.equal(updated.ParallelizationFactor, 1);
  const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
  assert.equal(got.MaximumRecordAgeInSeconds, -1);
  lambda.destroy();
  logs.destroy();
  ddb.destroy();
  sqs.destroy();
});

const WINDOW_CODE = `exports.handler = async (event) => {
  console.log('WINEVENT ' + JSON.stringify({
    ids: event.Records.map((r) => r.dynamodb.Keys.id.S),
    window: event.window, state: event.state, shardId: event.shardId, arn: event.eventSourceARN,
    final: event.isFinalInvokeForWindow, early: event.isWindowTerminatedEarly,
  }));
  if (event.isFinalInvokeForWindow) return {};
  if (event.Records.some((r) => r.dynamodb.NewImage.nostate)) return { batchItemFailures: [] };
  return { state: { count: (event.state.count || 0) + event.Records.length } };
};`;

test('DynamoDB stream mapping with TumblingWindowInSeconds: state carried within a window, a final invoke at its end', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  const clock = async (advanceSeconds?: number) => {
    const r = await fetch(`${srv.endpoint}/_nimbus/clock`, {
      method: advanceSeconds === undefined ? 'GET' : 'POST',
      body: advanceSeconds === undefined ? undefined : JSON.stringify({ advanceSeconds }),
    });
    assert.equal(r.status, 200);
    return ((await r.json()) as { epochMillis: number }).epochMillis;
  };
  // Start one second into a minute, so that the first window holds everything written below.
  const now = await clock();
  const w0 = (Math.floor(now / 60_000) + 1) * 60_000;
  await clock((w0 + 1000 - now) / 1000);
  const streamArn = await streamTable(ddb, 'windowed', 'NEW_IMAGE');
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(WINDOW_CODE), '', 0o644 << 16);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'win-fn',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: z.toBuffer() },
    }),
  );
  for (const id of ['a', 'b', 'c'])
    await ddb.send(new PutItemCommand({ TableName: 'windowed', Item: { id: { S: id } } }));
  const m = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: 'win-fn',
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 2,
      TumblingWindowInSeconds: 60,
    }),
  );
  assert.equal(m.TumblingWindowInSeconds, 60);
  type Win = {
    ids: string[];
    window: { start: string; end: string };
    state: { count?: number };
    shardId: string;
    arn: string;
    final: boolean;
    early: boolean;
  };
  const invokes = async () => {
    const ev = await logs
      .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/win-fn', filterPattern: 'WINEVENT' }))
      .catch(() => ({ events: [] as { message?: string }[] }));
    return (ev.events ?? []).map((e) => {
      const line = e.message ?? '';
      return JSON.parse(line.slice(line.indexOf('WINEVENT ') + 9)) as Win;
    });
  };
  const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
  const first = await until('two batches of the first window', async () => {
    const l = await invokes();
    return l.length >= 2 ? l : undefined;
  });
  assert.deepEqual(
    first.map((w) => [w.ids, w.state, w.final, w.early]),
    [
      [['a', 'b'], {}, false, false],
      [['c'], { count: 2 }, false, false],
    ],
  );
  assert.deepEqual(first[0].window, { start: iso(w0), end: iso(w0 + 60_000) });
  assert.equal(first[0].arn, streamArn);
  assert.match(first[0].shardId, /^shardId-/);

  // The window's end passes: one final invoke with the state, no records; then a fresh window.
  await clock(60);
  const closed = await until('the final invoke', async () => {
    const l = await invokes();
    return l.length >= 3 ? l : undefined;
  });
  assert.deepEqual(
    [closed[2].ids, closed[2].state, closed[2].final, closed[2].window.start],
    [[], { count: 3 }, true, iso(w0)],
  );
  await ddb.send(new PutItemCommand({ TableName: 'windowed', Item: { id: { S: 'd' } } }));
  const next = await until('the next window', async () => {
    const l = await invokes();
    return l.length >= 4 ? l : undefined;
  });
  assert.deepEqual([next[3].ids, next[3].state, next[3].final], [['d'], {}, false]);
  assert.equal(next[3].window.start, iso(w0 + 60_000));

  // A response without `state` fails the batch (retried); the checkpoint stays.
  await ddb.send(
    new PutItemCommand({ TableName: 'windowed', Item: { id: { S: 'e' }, nostate: { BOOL: true } } }),
  );
  const retried = await until('a retried batch', async () => {
    const l = await invokes();
    return l.filter((w) => w.ids.includes('e')).length >= 2 ? l : undefined;
  });
  const withE = retried.filter((w) => w.ids.includes('e'));
  assert.deepEqual(withE[0].state, { count: 1 });
  assert.deepEqual(withE[1].state, { count: 1 }, 'the failed batch did not change the state');
  const got = await lambda.send(new GetEventSourceMappingCommand({ UUID: m.UUID }));
  assert.equal(got.TumblingWindowInSeconds, 60);
});
