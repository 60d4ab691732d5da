/**
 * PartiQL through the real SDK: ExecuteStatement (client-dynamodb and lib-dynamodb),
 * BatchExecuteStatement and ExecuteTransaction for SELECT / INSERT / UPDATE / DELETE / EXISTS
 * on one table, errors, paging.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchExecuteStatementCommand,
  CreateTableCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  ExecuteTransactionCommand,
  GetItemCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  ExecuteStatementCommand as DocExecute,
  ExecuteTransactionCommand as DocTransaction,
} from '@aws-sdk/lib-dynamodb';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';

let srv: TestServer;
let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;

before(async () => {
  srv = await startTestServer();
  ddb = new DynamoDBClient(srv.clientConfig);
  doc = DynamoDBDocumentClient.from(ddb);
  await ddb.send(
    new CreateTableCommand({
      TableName: 'music',
      AttributeDefinitions: [
        { AttributeName: 'artist', AttributeType: 'S' },
        { AttributeName: 'song', AttributeType: 'S' },
        { AttributeName: 'year', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'artist', KeyType: 'HASH' },
        { AttributeName: 'song', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byYear',
          KeySchema: [{ AttributeName: 'year', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});
after(async () => {
  ddb.destroy();
  await srv?.close();
});

const exec = (Statement: string, Parameters?: any[], extra: Record<string, unknown> = {}) =>
  ddb.send(new ExecuteStatementCommand({ Statement, Parameters, ...extra }));

test('INSERT with literals and ? parameters, duplicate key', async () => {
  await exec(
    `INSERT INTO "music" VALUE {'artist': 'Acme', 'song': 'One', 'year': 2001, 'tags': <<'a', 'b'>>}`,
  );
  await exec(`INSERT INTO music VALUE {'artist': ?, 'song': ?, 'year': ?, 'info': {'len': 3, 'ok': true}}`, [
    { S: 'Acme' },
    { S: 'Two' },
    { N: '2002' },
  ]);
  const got = await ddb.send(
    new GetItemCommand({ TableName: 'music', Key: { artist: { S: 'Acme' }, song: { S: 'Two' } } }),
  );
  assert.deepEqual(got.Item?.info, { M: { len: { N: '3' }, ok: { BOOL: true } } });
  await rejects(
    exec(`INSERT INTO music VALUE {'artist': 'Acme', 'song': 'One'}`),
    'DuplicateItemException',
    'Duplicate primary key exists in table',
  );
  await doc.send(
    new DocExecute({
      Statement: "INSERT INTO music VALUE {'artist': ?, 'song': ?, 'year': ?}",
      Parameters: ['Other', 'Three', 2001],
    }),
  );
});

test('SELECT: key, filters, projection, index, lib-dynamodb', async () => {
  const q = await exec(`SELECT * FROM music WHERE artist = 'Acme' AND song >= 'O'`);
  assert.deepEqual(
    q.Items?.map((i) => i.song.S),
    ['One', 'Two'],
  );
  const f = await exec(`SELECT song, info.len FROM "music" WHERE "artist" = ? AND year > ?`, [
    { S: 'Acme' },
    { N: '2001' },
  ]);
  assert.deepEqual(f.Items, [{ song: { S: 'Two' }, info: { M: { len: { N: '3' } } } }]);
  const scan = await exec(`SELECT artist FROM music WHERE year = 2001 AND begins_with(song, 'T')`);
  assert.deepEqual(scan.Items, [{ artist: { S: 'Other' } }]);
  const ix = await exec(`SELECT song FROM "music"."byYear" WHERE year = 2001`);
  assert.deepEqual(ix.Items?.map((i) => i.song.S).sort(), ['One', 'Three']);
  const missing = await exec(`SELECT song FROM music WHERE info IS MISSING AND artist IN ['Acme', 'Other']`);
  assert.deepEqual(missing.Items?.map((i) => i.song.S).sort(), ['One', 'Three']);
  const d = await doc.send(
    new DocExecute({
      Statement: 'SELECT * FROM music WHERE artist = ? AND song = ?',
      Parameters: ['Acme', 'Two'],
    }),
  );
  assert.deepEqual(d.Items, [{ artist: 'Acme', song: 'Two', year: 2002, info: { len: 3, ok: true } }]);
});

test('UPDATE SET/REMOVE with WHERE on the key, conditions, DELETE', async () => {
  await exec(
    `UPDATE music SET year = year + 10 SET plays = 1 REMOVE tags WHERE artist = 'Acme' AND song = 'One'`,
  );
  let got = await ddb.send(
    new GetItemCommand({ TableName: 'music', Key: { artist: { S: 'Acme' }, song: { S: 'One' } } }),
  );
  assert.equal(got.Item?.year?.N, '2011');
  assert.equal(got.Item?.plays?.N, '1');
  assert.equal(got.Item?.tags, undefined);
  await exec(`UPDATE music SET plays = plays + ? WHERE artist = 'Acme' AND song = 'One' AND plays = 1`, [
    { N: '5' },
  ]);
  await rejects(
    exec(`UPDATE music SET plays = 0 WHERE artist = 'Acme' AND song = 'One' AND plays = 1`),
    'ConditionalCheckFailedException',
    'The conditional request failed',
  );
  await rejects(
    exec(`UPDATE music SET plays = 0 WHERE artist = 'Acme' AND song = 'Nope'`),
    'ConditionalCheckFailedException',
  );
  await rejects(
    exec(`UPDATE music SET plays = 0 WHERE artist = 'Acme'`),
    'ValidationException',
    'Where clause does not contain a mandatory equality on all key attributes',
  );
  await rejects(
    exec(`DELETE FROM music WHERE artist = 'Acme' AND song = 'One' AND plays = 1`),
    'ConditionalCheckFailedException',
  );
  await exec(`DELETE FROM music WHERE artist = 'Acme' AND song = 'One' AND plays = 6`);
  got = await ddb.send(
    new GetItemCommand({ TableName: 'music', Key: { artist: { S: 'Acme' }, song: { S: 'One' } } }),
  );
  assert.equal(got.Item, undefined);
});

test('errors: syntax, parameters, unknown table', async () => {
  await rejects(
    exec(`SELEC * FROM music`),
    'ValidationException',
    /^Statement wasn't well formed, can't be processed/,
  );
  await rejects(exec(`SELECT * FROM music WHERE`), 'ValidationException', /^Statement wasn't well formed/);
  await rejects(
    exec(`SELECT * FROM music WHERE artist = ?`),
    'ValidationException',
    "Number of parameters in request and statement don't match.",
  );
  await rejects(
    exec(`SELECT * FROM music WHERE artist = 'x'`, [{ S: 'extra' }]),
    'ValidationException',
    "Number of parameters in request and statement don't match.",
  );
  await rejects(exec(`SELECT * FROM nope`), 'ResourceNotFoundException');
});

test('NextToken paging with Limit', async () => {
  for (let i = 0; i < 7; i++)
    await exec(`INSERT INTO music VALUE {'artist': 'Pager', 'song': ?}`, [{ S: `s${i}` }]);
  const seen: string[] = [];
  let NextToken: string | undefined;
  let pages = 0;
  do {
    const r = await exec(`SELECT song FROM music WHERE artist = 'Pager'`, undefined, { Limit: 3, NextToken });
    seen.push(...(r.Items ?? []).map((i) => i.song.S!));
    NextToken = r.NextToken;
    pages++;
  } while (NextToken);
  assert.deepEqual(seen, ['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
  assert.ok(pages >= 3);
  await rejects(
    exec(`SELECT song FROM music WHERE artist = 'Pager'`, undefined, { NextToken: 'garbage' }),
    'ValidationException',
  );
});

test('BatchExecuteStatement: writes with per-statement errors, reads by full key', async () => {
  const w = await ddb.send(
    new BatchExecuteStatementCommand({
      Statements: [
        { Statement: `INSERT INTO music VALUE {'artist': 'Batch', 'song': 'a'}` },
        { Statement: `INSERT INTO music VALUE {'artist': 'Acme', 'song': 'Two'}` },
        { Statement: `UPDATE music SET n = 1 WHERE artist = 'Batch' AND song = 'zzz'` },
        { Statement: `DELETE FROM music WHERE artist = 'Pager' AND song = ?`, Parameters: [{ S: 's0' }] },
      ],
    }),
  );
  assert.deepEqual(
    w.Responses?.map((r) => r.Error?.Code ?? 'ok'),
    ['ok', 'DuplicateItem', 'ConditionalCheckFailed', 'ok'],
  );
  const r = await ddb.send(
    new BatchExecuteStatementCommand({
      Statements: [
        { Statement: `SELECT * FROM music WHERE artist = 'Batch' AND song = 'a'` },
        { Statement: `SELECT * FROM music WHERE artist = 'Pager' AND song = 's0'` },
        { Statement: `SELECT * FROM music WHERE artist = 'Pager'` },
      ],
    }),
  );
  assert.deepEqual(r.Responses?.[0].Item, { artist: { S: 'Batch' }, song: { S: 'a' } });
  assert.equal(r.Responses?.[1].Item, undefined);
  assert.equal(r.Responses?.[1].Error, undefined);
  assert.equal(r.Responses?.[2].Error?.Code, 'ValidationError');
});

test('ExecuteTransaction: writes all or nothing with EXISTS checks, reads by full key, idempotency', async () => {
  const tx = (TransactStatements: { Statement: string; Parameters?: any[] }[], extra = {}) =>
    ddb.send(new ExecuteTransactionCommand({ TransactStatements, ...extra }));
  const get = async (artist: string, song: string) =>
    (
      await ddb.send(
        new GetItemCommand({ TableName: 'music', Key: { artist: { S: artist }, song: { S: song } } }),
      )
    ).Item;
  await tx([
    { Statement: `INSERT INTO music VALUE {'artist': 'Tx', 'song': 'a', 'n': 1}` },
    {
      Statement: `INSERT INTO music VALUE {'artist': ?, 'song': ?, 'n': 2}`,
      Parameters: [{ S: 'Tx' }, { S: 'b' }],
    },
  ]);
  assert.equal((await get('Tx', 'b'))?.n.N, '2');

  // EXISTS holds: the writes happen together.
  await tx([
    { Statement: `EXISTS(SELECT * FROM music WHERE artist = 'Tx' AND song = 'a' AND n = 1)` },
    { Statement: `UPDATE music SET n = n + 10 WHERE artist = 'Tx' AND song = 'b'` },
    { Statement: `INSERT INTO music VALUE {'artist': 'Tx', 'song': 'e'}` },
  ]);
  assert.equal((await get('Tx', 'b'))?.n.N, '12');
  assert.ok(await get('Tx', 'e'));
  await tx([{ Statement: `DELETE FROM music WHERE artist = 'Tx' AND song = 'a'` }]);
  assert.equal(await get('Tx', 'a'), undefined);

  // A failing EXISTS (item gone), a duplicate INSERT: nothing is written, reasons per statement.
  await assert.rejects(
    tx([
      { Statement: `EXISTS(SELECT * FROM music WHERE artist = 'Tx' AND song = 'a')` },
      { Statement: `UPDATE music SET n = 99 WHERE artist = 'Tx' AND song = 'b'` },
      { Statement: `INSERT INTO music VALUE {'artist': 'Tx', 'song': 'e'}` },
      { Statement: `INSERT INTO music VALUE {'artist': 'Tx', 'song': 'c'}` },
    ]),
    (e: unknown) => {
      assert.ok(e instanceof TransactionCanceledException, String(e));
      assert.deepEqual(
        e.CancellationReasons?.map((r) => r.Code),
        ['ConditionalCheckFailed', 'None', 'DuplicateItem', 'None'],
      );
      assert.match(e.message, /\[ConditionalCheckFailed, None, DuplicateItem, None\]/);
      return true;
    },
  );
  assert.equal((await get('Tx', 'b'))?.n.N, '12');
  assert.equal(await get('Tx', 'c'), undefined);

  // Reads: one consistent snapshot, in statement order; an absent item is an empty response.
  const r = await tx([
    { Statement: `SELECT n FROM music WHERE artist = 'Tx' AND song = 'b'` },
    { Statement: `SELECT * FROM music WHERE artist = 'Tx' AND song = 'zz'` },
  ]);
  assert.deepEqual(r.Responses, [{ Item: { n: { N: '12' } } }, {}]);
  const d = await doc.send(
    new DocTransaction({
      TransactStatements: [
        { Statement: 'SELECT * FROM music WHERE artist = ? AND song = ?', Parameters: ['Tx', 'b'] },
      ],
    }),
  );
  assert.deepEqual(d.Responses?.[0].Item, { artist: 'Tx', song: 'b', n: 12 });

  // ClientRequestToken: a retry is not applied twice; the same token with other statements is refused.
  const bump = [{ Statement: `UPDATE music SET n = n + 1 WHERE artist = 'Tx' AND song = 'b'` }];
  await tx(bump, { ClientRequestToken: 'tok-1' });
  await tx(bump, { ClientRequestToken: 'tok-1' });
  assert.equal((await get('Tx', 'b'))?.n.N, '13');
  await rejects(
    tx([{ Statement: `UPDATE music SET n = 0 WHERE artist = 'Tx' AND song = 'b'` }], {
      ClientRequestToken: 'tok-1',
    }),
    'IdempotentParameterMismatchException',
  );

  // Bad requests.
  await rejects(
    tx([
      { Statement: `SELECT * FROM music WHERE artist = 'Tx' AND song = 'b'` },
      { Statement: `DELETE FROM music WHERE artist = 'Tx' AND song = 'b'` },
    ]),
    'ValidationException',
    'Transaction statements must be either all reads or all writes',
  );
  await rejects(
    tx([{ Statement: `SELECT * FROM music WHERE artist = 'Tx'` }]),
    'ValidationException',
    /full primary key/,
  );
  await rejects(tx([]), 'ValidationException', /Member must have length greater than or equal to 1/);
  await rejects(
    tx([
      { Statement: `UPDATE music SET n = 1 WHERE artist = 'Tx' AND song = 'b'` },
      { Statement: `DELETE FROM music WHERE artist = 'Tx' AND song = 'b'` },
    ]),
    'ValidationException',
    'Transaction request cannot include multiple operations on one item',
  );
  await rejects(
    exec(`EXISTS(SELECT * FROM music WHERE artist = 'Tx' AND song = 'b')`),
    'ValidationException',
    /transaction/,
  );
  await rejects(tx([{ Statement: `INSERT INTO nope VALUE {'a': 1}` }]), 'ResourceNotFoundException');
  assert.equal((await get('Tx', 'b'))?.n.N, '13');
});

test('RETURNING on UPDATE and DELETE, set_add / set_delete in SET', async () => {
  await exec(`INSERT INTO "music" VALUE {'artist': 'R', 'song': 'one', 'plays': 1, 'tags': <<'rock'>>}`);
  const updated = await exec(
    `UPDATE "music" SET plays = plays + 1 WHERE artist = 'R' AND song = 'one' RETURNING ALL NEW *`,
  );
  assert.deepEqual(updated.Items, [
    { artist: { S: 'R' }, song: { S: 'one' }, plays: { N: '2' }, tags: { SS: ['rock'] } },
  ]);
  const modified = await exec(
    `UPDATE "music" SET plays = 10 WHERE artist = 'R' AND song = 'one' RETURNING MODIFIED OLD *`,
  );
  assert.deepEqual(modified.Items, [{ plays: { N: '2' } }]);
  // set_add / set_delete: the ADD and DELETE actions on a set attribute.
  const tagged = await exec(
    `UPDATE "music" SET tags = set_add(tags, <<'live', 'indie'>>) WHERE artist = 'R' AND song = 'one' RETURNING MODIFIED NEW *`,
  );
  assert.deepEqual([...(tagged.Items?.[0].tags.SS ?? [])].sort(), ['indie', 'live', 'rock']);
  await exec(`UPDATE "music" SET tags = set_delete(tags, <<'rock'>>) WHERE artist = 'R' AND song = 'one'`);
  const item = await ddb.send(
    new GetItemCommand({ TableName: 'music', Key: { artist: { S: 'R' }, song: { S: 'one' } } }),
  );
  assert.deepEqual([...(item.Item?.tags.SS ?? [])].sort(), ['indie', 'live']);
  const deleted = await exec(`DELETE FROM "music" WHERE artist = 'R' AND song = 'one' RETURNING ALL OLD *`);
  assert.equal(deleted.Items?.[0].plays.N, '10');
  // Deleting what is not there returns no item.
  assert.deepEqual(
    (await exec(`DELETE FROM "music" WHERE artist = 'R' AND song = 'one' RETURNING ALL OLD *`)).Items,
    [],
  );
  await rejects(
    exec(`DELETE FROM "music" WHERE artist = 'R' AND song = 'one' RETURNING ALL NEW *`),
    'ValidationException',
    'DELETE statements support only RETURNING ALL OLD *',
  );
  await rejects(
    ddb.send(
      new ExecuteTransactionCommand({
        TransactStatements: [
          {
            Statement: `UPDATE "music" SET plays = 1 WHERE artist = 'R' AND song = 'two' RETURNING ALL NEW *`,
          },
        ],
      }),
    ),
    'ValidationException',
    'RETURNING is not supported in ExecuteTransaction',
  );
  const batch = await ddb.send(
    new BatchExecuteStatementCommand({
      Statements: [
        { Statement: `UPDATE "music" SET plays = 1 WHERE artist = 'R' AND song = 'two' RETURNING ALL NEW *` },
      ],
    }),
  );
  assert.equal(batch.Responses?.[0].Error?.Code, 'ValidationError');
  await rejects(
    exec(`UPDATE "music" SET tags = set_add(other, <<'x'>>) WHERE artist = 'R' AND song = 'one'`),
    'ValidationException',
    'set_add must take the attribute it sets as its first argument',
  );
});
