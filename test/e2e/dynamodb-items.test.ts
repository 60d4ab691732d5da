/**
 * DynamoDB end to end with the real SDK: tables, items, conditions, query/scan, errors,
 * serialisable concurrent updates.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  GetCommand,
  QueryCommand as DocQuery,
} from '@aws-sdk/lib-dynamodb';
import { startTestServer, type TestServer } from '../helpers/server.js';

let srv: TestServer;
let ddb: DynamoDBClient;

before(async () => {
  srv = await startTestServer();
  ddb = new DynamoDBClient(srv.clientConfig);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'items',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: 'counters',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }),
  );
});

after(async () => {
  ddb?.destroy();
  await srv?.close();
});

async function rejects(p: Promise<unknown>, name: string, message: string | RegExp): Promise<any> {
  try {
    await p;
  } catch (e: any) {
    assert.equal(e.name, name, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${name}`);
}

test('tables: create goes ACTIVE for the waiter, describe, list, duplicate, delete', async () => {
  const r = await ddb.send(
    new CreateTableCommand({
      TableName: 'tmp-table',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  assert.equal(r.TableDescription?.TableStatus, 'CREATING');
  await waitUntilTableExists({ client: ddb, maxWaitTime: 30 }, { TableName: 'tmp-table' });
  const d = await ddb.send(new DescribeTableCommand({ TableName: 'tmp-table' }));
  assert.equal(d.Table?.TableStatus, 'ACTIVE');
  assert.equal(d.Table?.TableArn, 'arn:aws:dynamodb:us-east-1:000000000000:table/tmp-table');
  assert.equal(d.Table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
  const l = await ddb.send(new ListTablesCommand({}));
  assert.deepEqual(l.TableNames, ['counters', 'items', 'tmp-table']);
  const l2 = await ddb.send(new ListTablesCommand({ Limit: 1, ExclusiveStartTableName: 'counters' }));
  assert.deepEqual(l2.TableNames, ['items']);
  assert.equal(l2.LastEvaluatedTableName, 'items');
  await rejects(
    ddb.send(
      new CreateTableCommand({
        TableName: 'tmp-table',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
    'ResourceInUseException',
    'Table already exists: tmp-table',
  );
  const del = await ddb.send(new DeleteTableCommand({ TableName: 'tmp-table' }));
  assert.equal(del.TableDescription?.TableStatus, 'DELETING');
  await rejects(
    ddb.send(new DescribeTableCommand({ TableName: 'tmp-table' })),
    'ResourceNotFoundException',
    'Requested resource not found: Table: tmp-table not found',
  );
});

test('tables: validation errors', async () => {
  await rejects(
    ddb.send(new DescribeTableCommand({ TableName: undefined as any })),
    'ValidationException',
    "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
  );
  await rejects(
    ddb.send(new DescribeTableCommand({ TableName: 'a!' })),
    'ValidationException',
    "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
  );
  await rejects(
    ddb.send(
      new CreateTableCommand({
        TableName: 'bad',
        AttributeDefinitions: [{ AttributeName: 'x', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
    'ValidationException',
    'One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [id], AttributeDefinitions: [x]',
  );
  await rejects(
    ddb.send(
      new CreateTableCommand({
        TableName: 'bad',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    ),
    'ValidationException',
    'One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
  );
});

test('items: put, get, projection, return values, conditions', async () => {
  const Item = { pk: { S: 'a' }, sk: { N: '1' }, name: { S: 'first' }, n: { N: '5' } };
  const p = await ddb.send(new PutItemCommand({ TableName: 'items', Item, ReturnValues: 'ALL_OLD' }));
  assert.equal(p.Attributes, undefined);
  const g = await ddb.send(
    new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' }, sk: { N: '1' } } }),
  );
  assert.deepEqual(g.Item, Item);
  const pr = await ddb.send(
    new GetItemCommand({
      TableName: 'items',
      Key: { pk: { S: 'a' }, sk: { N: '1' } },
      ProjectionExpression: '#n',
      ExpressionAttributeNames: { '#n': 'name' },
    }),
  );
  assert.deepEqual(pr.Item, { name: { S: 'first' } });
  const missing = await ddb.send(
    new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'zz' }, sk: { N: '1' } } }),
  );
  assert.equal(missing.Item, undefined);

  const e = await rejects(
    ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    ),
    'ConditionalCheckFailedException',
    'The conditional request failed',
  );
  assert.deepEqual(e.Item, Item);
  const old = await ddb.send(
    new PutItemCommand({
      TableName: 'items',
      Item: { ...Item, name: { S: 'second' } },
      ReturnValues: 'ALL_OLD',
    }),
  );
  assert.deepEqual(old.Attributes, Item);

  const u = await ddb.send(
    new UpdateItemCommand({
      TableName: 'items',
      Key: { pk: { S: 'a' }, sk: { N: '1' } },
      UpdateExpression: 'SET #n = :v, n = n + :one REMOVE gone',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':v': { S: 'third' }, ':one': { N: '1' } },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  assert.deepEqual(u.Attributes, { name: { S: 'third' }, n: { N: '6' } });
  const d = await ddb.send(
    new DeleteItemCommand({
      TableName: 'items',
      Key: { pk: { S: 'a' }, sk: { N: '1' } },
      ReturnValues: 'ALL_OLD',
    }),
  );
  assert.equal(d.Attributes?.name.S, 'third');
});

test('items: UPDATED_OLD / UPDATED_NEW return only the fragments the update wrote', async () => {
  const Key = { pk: { S: 'frag' }, sk: { N: '1' } };
  await ddb.send(
    new PutItemCommand({
      TableName: 'items',
      Item: {
        ...Key,
        m: { M: { a: { M: { b: { S: 'old-b' }, c: { N: '1' } } }, keep: { S: 'mk' } } },
        l: { L: [{ M: { a: { S: 'old0' }, b: { S: 'b0' } } }, { M: { a: { S: 'old1' } } }] },
        root: { L: [{ S: 'x' }, { S: 'y' }] },
        gone: { S: 'g' },
      },
    }),
  );
  const update = async (expr: string, rv: 'UPDATED_OLD' | 'UPDATED_NEW', values?: Record<string, any>) =>
    (
      await ddb.send(
        new UpdateItemCommand({
          TableName: 'items',
          Key,
          UpdateExpression: expr,
          ExpressionAttributeValues: values,
          ReturnValues: rv,
        }),
      )
    ).Attributes;
  assert.deepEqual(await update('SET m.a.b = :v', 'UPDATED_NEW', { ':v': { S: 'new-b' } }), {
    m: { M: { a: { M: { b: { S: 'new-b' } } } } },
  });
  assert.deepEqual(await update('SET m.a.b = :v', 'UPDATED_OLD', { ':v': { S: 'newer-b' } }), {
    m: { M: { a: { M: { b: { S: 'new-b' } } } } },
  });
  assert.deepEqual(
    await update('SET l[1].a = :v, m.keep = :k', 'UPDATED_NEW', { ':v': { S: 'new1' }, ':k': { S: 'k2' } }),
    {
      l: { L: [{ M: { a: { S: 'new1' } } }] },
      m: { M: { keep: { S: 'k2' } } },
    },
  );
  // An element appended past the end of a list is not at the path written: nothing to return.
  assert.equal(await update('SET root[5] = :v', 'UPDATED_NEW', { ':v': { S: 'z' } }), undefined);
  // REMOVE: the old value for UPDATED_OLD, nothing for UPDATED_NEW.
  assert.deepEqual(await update('REMOVE l[0].b', 'UPDATED_OLD'), { l: { L: [{ M: { b: { S: 'b0' } } }] } });
  assert.equal(await update('REMOVE gone', 'UPDATED_NEW'), undefined);
  // A new attribute has no old value.
  assert.equal(await update('SET fresh = :v', 'UPDATED_OLD', { ':v': { N: '1' } }), undefined);
  assert.deepEqual(await update('ADD fresh :v', 'UPDATED_NEW', { ':v': { N: '2' } }), { fresh: { N: '3' } });
  await ddb.send(new DeleteItemCommand({ TableName: 'items', Key }));
});

test('items: errors users match on', async () => {
  await rejects(
    ddb.send(new GetItemCommand({ TableName: 'nope', Key: { id: { S: 'x' } } })),
    'ResourceNotFoundException',
    'Requested resource not found',
  );
  await rejects(
    ddb.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'x' } } })),
    'ValidationException',
    'The provided key element does not match the schema',
  );
  await rejects(
    ddb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'x' } } })),
    'ValidationException',
    'One or more parameter values were invalid: Missing the key sk in the item',
  );
  await rejects(
    ddb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { N: '1' }, sk: { N: '1' } } })),
    'ValidationException',
    'One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N',
  );
  await rejects(
    ddb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: '' }, sk: { N: '1' } } })),
    'ValidationException',
    'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk',
  );
  await rejects(
    ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item: { pk: { S: 'big' }, sk: { N: '1' }, blob: { S: 'x'.repeat(410_000) } },
      }),
    ),
    'ValidationException',
    'Item size has exceeded the maximum allowed size',
  );
  await rejects(
    ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item: { pk: { S: 'x' }, sk: { N: '1' } },
        ExpressionAttributeValues: { ':unused': { S: 'x' } },
      }),
    ),
    'ValidationException',
    /ExpressionAttributeValues/,
  );
});

test('query and scan: ranges, order, paging, filter, count', async () => {
  for (let i = 0; i < 30; i++)
    await ddb.send(
      new PutItemCommand({
        TableName: 'items',
        Item: { pk: { S: 'q' }, sk: { N: String(i - 10) }, odd: { BOOL: i % 2 === 1 } },
      }),
    );
  await ddb.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'other' }, sk: { N: '0' } } }));
  const all = await ddb.send(
    new QueryCommand({
      TableName: 'items',
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': { S: 'q' } },
    }),
  );
  assert.equal(all.Count, 30);
  assert.deepEqual(
    all.Items!.map((x) => Number(x.sk.N)),
    Array.from({ length: 30 }, (_, i) => i - 10),
  );
  const between = await ddb.send(
    new QueryCommand({
      TableName: 'items',
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':p': { S: 'q' }, ':a': { N: '-2' }, ':b': { N: '3' } },
      ScanIndexForward: false,
    }),
  );
  assert.deepEqual(
    between.Items!.map((x) => Number(x.sk.N)),
    [3, 2, 1, 0, -1, -2],
  );
  // Paging with Limit.
  const seen: number[] = [];
  let esk: any;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: 'items',
        KeyConditionExpression: 'pk = :p AND sk > :z',
        ExpressionAttributeValues: { ':p': { S: 'q' }, ':z': { N: '9' } },
        Limit: 4,
        ExclusiveStartKey: esk,
      }),
    );
    seen.push(...page.Items!.map((x) => Number(x.sk.N)));
    esk = page.LastEvaluatedKey;
  } while (esk);
  assert.deepEqual(seen, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const filtered = await ddb.send(
    new QueryCommand({
      TableName: 'items',
      KeyConditionExpression: 'pk = :p',
      FilterExpression: 'odd = :t',
      ExpressionAttributeValues: { ':p': { S: 'q' }, ':t': { BOOL: true } },
      Select: 'COUNT',
    }),
  );
  assert.equal(filtered.Count, 15);
  assert.equal(filtered.ScannedCount, 30);
  assert.equal(filtered.Items, undefined);
  const scan = await ddb.send(new ScanCommand({ TableName: 'items' }));
  assert.equal(scan.Count, 31);
  let segTotal = 0;
  for (let s = 0; s < 3; s++)
    segTotal += (await ddb.send(new ScanCommand({ TableName: 'items', Segment: s, TotalSegments: 3 })))
      .Count!;
  assert.equal(segTotal, 31);
  await rejects(
    ddb.send(new QueryCommand({ TableName: 'items' })),
    'ValidationException',
    'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
  );
  await rejects(
    ddb.send(new ScanCommand({ TableName: 'items', Segment: 3, TotalSegments: 3 })),
    'ValidationException',
    'The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 3',
  );
});

test('document client round trip', async () => {
  const doc = DynamoDBDocumentClient.from(ddb);
  await doc.send(
    new PutCommand({ TableName: 'items', Item: { pk: 'doc', sk: 1, tags: ['a', 'b'], m: { x: 1 } } }),
  );
  const g = await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'doc', sk: 1 } }));
  assert.deepEqual(g.Item, { pk: 'doc', sk: 1, tags: ['a', 'b'], m: { x: 1 } });
  const q = await doc.send(
    new DocQuery({
      TableName: 'items',
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': 'doc' },
    }),
  );
  assert.equal(q.Count, 1);
});

test('1,000 parallel ADD counter :1 end at exactly 1,000', async () => {
  await Promise.all(
    Array.from({ length: 1000 }, () =>
      ddb.send(
        new UpdateItemCommand({
          TableName: 'counters',
          Key: { id: { S: 'c' } },
          UpdateExpression: 'ADD #c :one',
          ExpressionAttributeNames: { '#c': 'count' },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      ),
    ),
  );
  const g = await ddb.send(
    new GetItemCommand({ TableName: 'counters', Key: { id: { S: 'c' } }, ConsistentRead: true }),
  );
  assert.equal(g.Item?.count.N, '1000');
});
