/**
 * DynamoDB end to end: batches, transactions, GSIs/LSIs, Streams, TTL (virtual clock).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  DescribeTimeToLiveCommand,
  DescribeTableCommand,
  DeleteItemCommand,
} from '@aws-sdk/client-dynamodb';
import { OffsetClock } from '../../src/core/clock.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let ddb: DynamoDBClient;
const clock = new OffsetClock();

before(async () => {
  srv = await startTestServer({ start: { clock } });
  ddb = new DynamoDBClient(srv.clientConfig);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
        { AttributeName: 'total', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-status',
          KeySchema: [
            { AttributeName: 'status', KeyType: 'HASH' },
            { AttributeName: 'total', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      LocalSecondaryIndexes: [
        {
          IndexName: 'by-total',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'total', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
});

after(async () => {
  ddb?.destroy();
  await srv?.close();
});

const item = (pk: string, sk: string, status: string, total: number) => ({
  pk: { S: pk },
  sk: { S: sk },
  status: { S: status },
  total: { N: String(total) },
});

test('batch write and batch get', async () => {
  const r = await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        orders: [
          { PutRequest: { Item: item('u1', 'o1', 'open', 30) } },
          { PutRequest: { Item: item('u1', 'o2', 'open', 10) } },
          { PutRequest: { Item: item('u1', 'o3', 'done', 20) } },
          { PutRequest: { Item: item('u2', 'o1', 'open', 5) } },
        ],
      },
    }),
  );
  assert.deepEqual(r.UnprocessedItems, {});
  const g = await ddb.send(
    new BatchGetItemCommand({
      RequestItems: {
        orders: {
          Keys: [
            { pk: { S: 'u1' }, sk: { S: 'o1' } },
            { pk: { S: 'u2' }, sk: { S: 'o1' } },
            { pk: { S: 'zz' }, sk: { S: 'o1' } },
          ],
        },
      },
    }),
  );
  assert.equal(g.Responses?.orders.length, 2);
  await assert.rejects(
    ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          orders: Array.from({ length: 26 }, (_, i) => ({
            PutRequest: { Item: item('b', `x${i}`, 'open', i) },
          })),
        },
      }),
    ),
    { name: 'ValidationException', message: /Member must have length less than or equal to 25/ },
  );
});

test('GSI and LSI queries follow writes', async () => {
  const open = await ddb.send(
    new QueryCommand({
      TableName: 'orders',
      IndexName: 'by-status',
      KeyConditionExpression: '#s = :s AND #t >= :min',
      ExpressionAttributeNames: { '#s': 'status', '#t': 'total' },
      ExpressionAttributeValues: { ':s': { S: 'open' }, ':min': { N: '6' } },
    }),
  );
  assert.deepEqual(
    open.Items!.map((i) => [i.pk.S, i.sk.S, i.total.N]),
    [
      ['u1', 'o2', '10'],
      ['u1', 'o1', '30'],
    ],
  );
  assert.equal(open.Items![0].status.S, 'open');
  await ddb.send(new DeleteItemCommand({ TableName: 'orders', Key: { pk: { S: 'u1' }, sk: { S: 'o2' } } }));
  const lsi = await ddb.send(
    new QueryCommand({
      TableName: 'orders',
      IndexName: 'by-total',
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': { S: 'u1' } },
      ScanIndexForward: false,
    }),
  );
  assert.deepEqual(
    lsi.Items!.map((i) => i.total.N),
    ['30', '20'],
  );
  await assert.rejects(
    ddb.send(
      new QueryCommand({
        TableName: 'orders',
        IndexName: 'by-status',
        ConsistentRead: true,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'open' } },
      }),
    ),
    {
      name: 'ValidationException',
      message: 'Consistent reads are not supported on global secondary indexes',
    },
  );
  // A GSI added later is backfilled.
  await ddb.send(
    new UpdateTableCommand({
      TableName: 'orders',
      AttributeDefinitions: [{ AttributeName: 'sk', AttributeType: 'S' }],
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            IndexName: 'by-sk',
            KeySchema: [{ AttributeName: 'sk', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        },
      ],
    }),
  );
  const d = await ddb.send(new DescribeTableCommand({ TableName: 'orders' }));
  assert.equal(d.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === 'by-sk')?.IndexStatus, 'ACTIVE');
  const bySk = await ddb.send(
    new QueryCommand({
      TableName: 'orders',
      IndexName: 'by-sk',
      KeyConditionExpression: 'sk = :s',
      ExpressionAttributeValues: { ':s': { S: 'o1' } },
    }),
  );
  assert.equal(bySk.Count, 2);
});

test('transactions: all or nothing, cancellation reasons, idempotency', async () => {
  await ddb.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: 'orders', Item: item('t', 'a', 'open', 1) } },
        { Put: { TableName: 'orders', Item: item('t', 'b', 'open', 2) } },
      ],
    }),
  );
  try {
    await ddb.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: 'orders',
              Item: item('t', 'a', 'open', 100),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: { TableName: 'orders', Item: item('t', 'c', 'open', 3) } },
        ],
      }),
    );
    assert.fail('expected a cancellation');
  } catch (e: any) {
    assert.equal(e.name, 'TransactionCanceledException');
    assert.equal(
      e.message,
      'Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]',
    );
    assert.deepEqual(
      e.CancellationReasons.map((r: any) => r.Code),
      ['ConditionalCheckFailed', 'None'],
    );
  }
  const c = await ddb.send(
    new GetItemCommand({ TableName: 'orders', Key: { pk: { S: 't' }, sk: { S: 'c' } } }),
  );
  assert.equal(c.Item, undefined);
  const token = 'tok-1';
  const tx = () =>
    ddb.send(
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [
          {
            Update: {
              TableName: 'orders',
              Key: { pk: { S: 't' }, sk: { S: 'a' } },
              UpdateExpression: 'SET #t = #t + :one',
              ExpressionAttributeNames: { '#t': 'total' },
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      }),
    );
  await tx();
  await tx();
  const g = await ddb.send(
    new TransactGetItemsCommand({
      TransactItems: [
        { Get: { TableName: 'orders', Key: { pk: { S: 't' }, sk: { S: 'a' } } } },
        { Get: { TableName: 'orders', Key: { pk: { S: 't' }, sk: { S: 'zz' } } } },
      ],
    }),
  );
  assert.equal(g.Responses?.[0].Item?.total.N, '2');
  assert.equal(g.Responses?.[1].Item, undefined);
});

/** @aws-sdk/client-dynamodb-streams is not installed: its JSON 1.0 calls made by hand (unsigned, dev mode). */
async function streamsCall(op: string, input: Record<string, unknown>): Promise<any> {
  const res = await fetch(srv.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDBStreams_20120810.${op}`,
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw Object.assign(new Error(body.message), { name: body.__type });
  return body;
}

test('streams: records for inserts, modifies and removes', async () => {
  {
    const l = await streamsCall('ListStreams', { TableName: 'orders' });
    assert.equal(l.Streams?.length, 1);
    const arn = l.Streams![0].StreamArn!;
    const d = await streamsCall('DescribeStream', { StreamArn: arn });
    assert.equal(d.StreamDescription?.StreamViewType, 'NEW_AND_OLD_IMAGES');
    const shard = d.StreamDescription!.Shards![0].ShardId!;
    const it = await streamsCall('GetShardIterator', {
      StreamArn: arn,
      ShardId: shard,
      ShardIteratorType: 'LATEST',
    });
    await ddb.send(new PutItemCommand({ TableName: 'orders', Item: item('s', '1', 'open', 1) }));
    await ddb.send(new PutItemCommand({ TableName: 'orders', Item: item('s', '1', 'done', 1) }));
    await ddb.send(new DeleteItemCommand({ TableName: 'orders', Key: { pk: { S: 's' }, sk: { S: '1' } } }));
    const r = await streamsCall('GetRecords', { ShardIterator: it.ShardIterator });
    assert.deepEqual(
      r.Records.map((x: any) => x.eventName),
      ['INSERT', 'MODIFY', 'REMOVE'],
    );
    assert.equal(r.Records![1].dynamodb?.OldImage?.status.S, 'open');
    assert.equal(r.Records![1].dynamodb?.NewImage?.status.S, 'done');
    const again = await streamsCall('GetRecords', { ShardIterator: r.NextShardIterator });
    assert.equal(again.Records?.length, 0);
    const trim = await streamsCall('GetShardIterator', {
      StreamArn: arn,
      ShardId: shard,
      ShardIteratorType: 'TRIM_HORIZON',
    });
    const allRecs = await streamsCall('GetRecords', { ShardIterator: trim.ShardIterator });
    assert.ok(allRecs.Records!.length >= 10);
  }
});

test('TTL: expired items are deleted by the sweep, stream records marked as TTL deletes', async () => {
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: 'orders',
      TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
    }),
  );
  const d = await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'orders' }));
  assert.deepEqual(d.TimeToLiveDescription, { TimeToLiveStatus: 'ENABLED', AttributeName: 'expires' });
  const now = Math.floor(clock.now() / 1000);
  await ddb.send(
    new PutItemCommand({
      TableName: 'orders',
      Item: { ...item('ttl', '1', 'open', 1), expires: { N: String(now + 3600) } },
    }),
  );
  clock.advance(3601_000);
  // The background sweep runs every 5 s (real time) and compares against the virtual clock.
  let g = await ddb.send(
    new GetItemCommand({ TableName: 'orders', Key: { pk: { S: 'ttl' }, sk: { S: '1' } } }),
  );
  for (let i = 0; i < 60 && g.Item; i++) {
    await new Promise((r) => setTimeout(r, 250));
    g = await ddb.send(
      new GetItemCommand({ TableName: 'orders', Key: { pk: { S: 'ttl' }, sk: { S: '1' } } }),
    );
  }
  assert.equal(g.Item, undefined);
});
