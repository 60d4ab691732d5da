/**
 * Acknowledged DynamoDB writes survive kill -9: a `nimbus up` child acknowledges PutItem,
 * UpdateItem and TransactWriteItems (many of them concurrently), dies by SIGKILL right after
 * the last acknowledgement, and a new `nimbus up` on the same data dir has every one of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';

const client = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });

test('acknowledged DynamoDB writes survive kill -9 of `nimbus up`', { timeout: 90_000 }, async (t) => {
  const { dir, children, clients } = killTestScaffold(t, 'nimbus-ddb-durable-');

  const a = await startNimbusProcess(dir);
  children.push(a.child);
  const c1 = client(a.endpoint);
  clients.push(c1);
  await c1.send(
    new CreateTableCommand({
      TableName: 'durable',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // Writes in flight concurrently; each one counts only once it is acknowledged.
  const acked = { puts: new Set<string>(), adds: 0, tx: new Set<string>() };
  const puts = Array.from({ length: 200 }, (_, i) =>
    c1
      .send(new PutItemCommand({ TableName: 'durable', Item: { pk: { S: `p${i}` }, v: { N: String(i) } } }))
      .then(() => acked.puts.add(`p${i}`)),
  );
  const adds = Array.from({ length: 100 }, () =>
    c1
      .send(
        new UpdateItemCommand({
          TableName: 'durable',
          Key: { pk: { S: 'counter' } },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      )
      .then(() => acked.adds++),
  );
  const txs = Array.from({ length: 20 }, (_, i) =>
    c1
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: 'durable', Item: { pk: { S: `tx${i}a` }, pair: { S: `tx${i}` } } } },
            { Put: { TableName: 'durable', Item: { pk: { S: `tx${i}b` }, pair: { S: `tx${i}` } } } },
          ],
        }),
      )
      .then(() => acked.tx.add(`tx${i}`)),
  );
  await Promise.all([...puts, ...adds, ...txs]);
  // Die the moment the last write is acknowledged: nothing gets a graceful flush.
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));
  assert.equal(acked.puts.size, 200);
  assert.equal(acked.adds, 100);
  assert.equal(acked.tx.size, 20);

  const b = await startNimbusProcess(dir);
  children.push(b.child);
  const c2 = client(b.endpoint);
  clients.push(c2);
  const counter = await c2.send(new GetItemCommand({ TableName: 'durable', Key: { pk: { S: 'counter' } } }));
  assert.equal(counter.Item?.n?.N, '100');
  const seen = new Map<string, Record<string, any>>();
  let start: Record<string, any> | undefined;
  do {
    const page = await c2.send(new ScanCommand({ TableName: 'durable', ExclusiveStartKey: start }));
    for (const it of page.Items ?? []) seen.set(it.pk.S!, it);
    start = page.LastEvaluatedKey;
  } while (start);
  for (const pk of acked.puts) assert.equal(seen.get(pk)?.v?.N, pk.slice(1), `PutItem ${pk} survived`);
  for (const tx of acked.tx) {
    assert.equal(seen.get(`${tx}a`)?.pair?.S, tx, `transaction ${tx} (a) survived`);
    assert.equal(seen.get(`${tx}b`)?.pair?.S, tx, `transaction ${tx} (b) survived`);
  }
  assert.equal(seen.size, 200 + 1 + 40);
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
});
