/**
 * Libraries built on the AWS SDK, used as their users use them: ElectroDB (single-table
 * entities, composite keys, GSIs, cursors, updates, transactions) and dynamoose (models,
 * table creation, conditional creates, queries on indexes, scans, atomic updates,
 * transactions). Each runs unchanged against Nimbus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { Entity, Service } from 'electrodb';
import dynamoose from 'dynamoose';
import { startTestServer } from '../helpers/server.js';

test('ElectroDB: entities, composite keys, GSI queries, cursors, updates, batch and transactions', async () => {
  await using srv = await startTestServer();
  const client = new DynamoDBClient(srv.clientConfig);
  await client.send(
    new CreateTableCommand({
      TableName: 'tasks',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((n) => ({
        AttributeName: n,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'gsi1',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  const task = new Entity(
    {
      model: { entity: 'task', version: '1', service: 'taskapp' },
      attributes: {
        taskId: { type: 'string', required: true },
        project: { type: 'string', required: true },
        employee: { type: 'string', required: true },
        description: { type: 'string' },
        status: { type: ['open', 'in-progress', 'closed'] as const, default: 'open' },
        points: { type: 'number', default: 0 },
        tags: { type: 'set', items: 'string' },
        comments: {
          type: 'list',
          items: { type: 'map', properties: { user: { type: 'string' }, body: { type: 'string' } } },
        },
      },
      indexes: {
        byProject: {
          pk: { field: 'pk', composite: ['project'] },
          sk: { field: 'sk', composite: ['taskId'] },
        },
        byEmployee: {
          index: 'gsi1',
          pk: { field: 'gsi1pk', composite: ['employee'] },
          sk: { field: 'gsi1sk', composite: ['status', 'taskId'] },
        },
      },
    },
    { client, table: 'tasks' },
  );
  const app = new Service({ task }, { client, table: 'tasks' });

  for (let i = 1; i <= 5; i++)
    await task
      .create({ taskId: `t${i}`, project: 'apollo', employee: i % 2 ? 'ann' : 'bob', tags: ['x'], points: i })
      .go();
  // create is a conditional put: the same key again fails.
  await assert.rejects(
    task.create({ taskId: 't1', project: 'apollo', employee: 'ann' }).go(),
    /conditional/i,
  );

  const got = await task.get({ project: 'apollo', taskId: 't3' }).go();
  assert.deepEqual(
    { ...got.data, tags: [...(got.data?.tags ?? [])] },
    { taskId: 't3', project: 'apollo', employee: 'ann', status: 'open', points: 3, tags: ['x'] },
  );

  const all = await task.query.byProject({ project: 'apollo' }).go();
  assert.deepEqual(
    all.data.map((t) => t.taskId),
    ['t1', 't2', 't3', 't4', 't5'],
  );
  const after = await task.query.byProject({ project: 'apollo' }).gt({ taskId: 't3' }).go();
  assert.deepEqual(
    after.data.map((t) => t.taskId),
    ['t4', 't5'],
  );
  const annOpen = await task.query.byEmployee({ employee: 'ann', status: 'open' }).go();
  assert.deepEqual(
    annOpen.data.map((t) => t.taskId),
    ['t1', 't3', 't5'],
  );
  const filtered = await task.query
    .byProject({ project: 'apollo' })
    .where(({ points }, { gte }) => gte(points, 4))
    .go();
  assert.deepEqual(
    filtered.data.map((t) => t.taskId),
    ['t4', 't5'],
  );

  // Cursor paging.
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { data: { taskId: string }[]; cursor: string | null } = await task.query
      .byProject({ project: 'apollo' })
      .go({ limit: 2, cursor });
    seen.push(...page.data.map((t) => t.taskId));
    cursor = page.cursor;
  } while (cursor);
  assert.deepEqual(seen, ['t1', 't2', 't3', 't4', 't5']);

  // Updates: set (with the GSI key recomputed), add, append, remove; patch needs the item.
  const updated = await task
    .update({ project: 'apollo', taskId: 't1' })
    .set({ status: 'closed', description: 'done' })
    .add({ points: 10 })
    .append({ comments: [{ user: 'ann', body: 'shipped' }] })
    .go({ response: 'all_new' });
  assert.equal(updated.data.status, 'closed');
  assert.equal(updated.data.points, 11);
  assert.deepEqual(updated.data.comments, [{ user: 'ann', body: 'shipped' }]);
  const closed = await task.query.byEmployee({ employee: 'ann', status: 'closed' }).go();
  assert.deepEqual(
    closed.data.map((t) => t.taskId),
    ['t1'],
  );
  await task.update({ project: 'apollo', taskId: 't1' }).remove(['description']).go();
  assert.equal((await task.get({ project: 'apollo', taskId: 't1' }).go()).data?.description, undefined);
  await assert.rejects(
    task.patch({ project: 'apollo', taskId: 'nope' }).set({ status: 'closed' }).go(),
    /conditional/i,
  );

  // Batch get, delete, transactions.
  const batch = await task
    .get([
      { project: 'apollo', taskId: 't2' },
      { project: 'apollo', taskId: 't4' },
    ])
    .go();
  assert.deepEqual(batch.data.map((t) => t.taskId).sort(), ['t2', 't4']);
  await task.delete({ project: 'apollo', taskId: 't5' }).go();
  assert.equal((await task.get({ project: 'apollo', taskId: 't5' }).go()).data, null);
  const tx = await app.transaction
    .write(({ task: t }) => [
      t.create({ taskId: 't6', project: 'apollo', employee: 'bob' }).commit(),
      t.patch({ project: 'apollo', taskId: 't2' }).set({ status: 'in-progress' }).commit(),
    ])
    .go();
  assert.equal(tx.canceled, false);
  assert.equal((await task.get({ project: 'apollo', taskId: 't2' }).go()).data?.status, 'in-progress');
  const failed = await app.transaction
    .write(({ task: t }) => [
      t.create({ taskId: 't7', project: 'apollo', employee: 'bob' }).commit(),
      t.create({ taskId: 't6', project: 'apollo', employee: 'bob' }).commit(),
    ])
    .go();
  assert.equal(failed.canceled, true);
  assert.deepEqual(
    failed.data.map((r) => r.code),
    ['None', 'ConditionalCheckFailed'],
  );
  assert.equal((await task.get({ project: 'apollo', taskId: 't7' }).go()).data, null);
});

test('dynamoose: models, table creation, conditional creates, index queries, scans, updates, transactions', async () => {
  await using srv = await startTestServer();
  dynamoose.aws.ddb.set(new dynamoose.aws.ddb.DynamoDB(srv.clientConfig));
  const Cat = dynamoose.model(
    'Cat',
    new dynamoose.Schema(
      {
        id: Number,
        name: { type: String, index: { name: 'nameIndex', type: 'global' } },
        age: Number,
        owner: { type: Object, schema: { name: String, city: String } },
        tags: { type: Set, schema: [String] },
      },
      { timestamps: true },
    ),
  );
  const table = new dynamoose.Table('CatTable', [Cat], {
    create: true,
    waitForActive: true,
    initialize: false,
  });
  await table.initialize();

  await Cat.create({
    id: 1,
    name: 'Fluffy',
    age: 3,
    owner: { name: 'Ann', city: 'Oslo' },
    tags: new Set(['a']),
  });
  await Cat.create({ id: 2, name: 'Tom', age: 5 });
  await Cat.create({ id: 3, name: 'Fluffy', age: 1 });
  await assert.rejects(Cat.create({ id: 1, name: 'Again', age: 9 }), {
    name: 'ConditionalCheckFailedException',
  });

  const fluffy = await Cat.get(1);
  assert.equal(fluffy.name, 'Fluffy');
  assert.deepEqual(fluffy.owner, { name: 'Ann', city: 'Oslo' });
  assert.deepEqual([...(fluffy.tags as Set<string>)], ['a']);
  assert.equal(typeof fluffy.createdAt, 'object');

  const byName = await Cat.query('name').eq('Fluffy').using('nameIndex').exec();
  assert.deepEqual(byName.map((c) => c.id).sort(), [1, 3]);
  const older = await Cat.scan('age').gt(2).exec();
  assert.deepEqual(older.map((c) => c.id).sort(), [1, 2]);
  assert.equal((await Cat.scan().count().exec()).count, 3);

  const aged = await Cat.update(
    { id: 1 },
    { $ADD: { age: 1 }, $SET: { owner: { name: 'Ann', city: 'Bergen' } } },
  );
  assert.equal(aged.age, 4);
  assert.deepEqual(aged.owner, { name: 'Ann', city: 'Bergen' });
  await Cat.update({ id: 2 }, { $REMOVE: ['age'] });
  assert.equal((await Cat.get(2)).age, undefined);

  await dynamoose.transaction([
    Cat.transaction.create({ id: 4, name: 'Kit', age: 0 }),
    Cat.transaction.update({ id: 3 }, { $ADD: { age: 1 } }),
  ]);
  assert.equal((await Cat.get(3)).age, 2);
  await assert.rejects(
    dynamoose.transaction([
      Cat.transaction.create({ id: 5, name: 'Nope', age: 0 }),
      Cat.transaction.create({ id: 4, name: 'Kit again', age: 0 }),
    ]),
    { name: 'TransactionCanceledException' },
  );
  assert.equal(await Cat.get(5), undefined);
  await Cat.delete(4);
  assert.equal(await Cat.get(4), undefined);
});
