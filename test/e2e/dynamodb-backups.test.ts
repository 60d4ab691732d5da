/**
 * DynamoDB on-demand backups and point-in-time recovery end to end, with the real SDK:
 * backup -> more writes -> restore gives exactly the snapshot (GSI included); list/describe/
 * delete and their errors; PITR restores to a time in between (virtual clock); both survive
 * kill -9; CloudFormation and SAM templates turn PITR on.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchWriteItemCommand,
  CreateBackupCommand,
  CreateTableCommand,
  DeleteBackupCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ExecuteStatementCommand,
  ListBackupsCommand,
  PutItemCommand,
  QueryCommand,
  RestoreTableFromBackupCommand,
  RestoreTableToPointInTimeCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateContinuousBackupsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { OffsetClock } from '../../src/core/clock.js';
import { killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';

let srv: TestServer;
let ddb: DynamoDBClient;
const clock = new OffsetClock();

before(async () => {
  srv = await startTestServer({ start: { clock } });
  ddb = new DynamoDBClient(srv.clientConfig);
});
after(async () => {
  ddb?.destroy();
  await srv?.close();
});

async function createTable(c: DynamoDBClient, name: string) {
  await c.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'status', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-status',
          KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
}

const put = (c: DynamoDBClient, table: string, pk: string, sk: number, status: string, v = 0) =>
  c.send(
    new PutItemCommand({
      TableName: table,
      Item: { pk: { S: pk }, sk: { N: String(sk) }, status: { S: status }, v: { N: String(v) } },
    }),
  );

/** The table's items as `pk/sk -> status:v`, sorted. */
async function dump(c: DynamoDBClient, table: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let start: Record<string, any> | undefined;
  do {
    const page = await c.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const it of page.Items ?? []) out[`${it.pk.S}/${it.sk.N}`] = `${it.status.S}:${it.v?.N}`;
    start = page.LastEvaluatedKey;
  } while (start);
  return Object.fromEntries(Object.entries(out).sort());
}

async function advance(seconds: number) {
  clock.advance(seconds * 1000);
}

test('a backup restores exactly the items it saw, with working GSIs, and outlives its table', async () => {
  await createTable(ddb, 'bk-src');
  for (let i = 0; i < 30; i++) await put(ddb, 'bk-src', `p${i % 3}`, i, i % 2 ? 'open' : 'closed', i);
  const snapshot = await dump(ddb, 'bk-src');

  const created = await ddb.send(new CreateBackupCommand({ TableName: 'bk-src', BackupName: 'nightly' }));
  const arn = created.BackupDetails!.BackupArn!;
  assert.match(arn, /^arn:aws:dynamodb:us-east-1:000000000000:table\/bk-src\/backup\/\d{14}-[0-9a-f]{8}$/);
  assert.equal(created.BackupDetails!.BackupName, 'nightly');
  assert.equal(created.BackupDetails!.BackupType, 'USER');
  assert.ok(created.BackupDetails!.BackupCreationDateTime instanceof Date);

  // Writes after the backup: none of them may show up in the restored table.
  await put(ddb, 'bk-src', 'p9', 1, 'open');
  await ddb.send(
    new UpdateItemCommand({
      TableName: 'bk-src',
      Key: { pk: { S: 'p0' }, sk: { N: '0' } },
      UpdateExpression: 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'open' } },
    }),
  );
  await ddb.send(new DeleteItemCommand({ TableName: 'bk-src', Key: { pk: { S: 'p1' }, sk: { N: '1' } } }));

  const described = (await ddb.send(new DescribeBackupCommand({ BackupArn: arn }))).BackupDescription!;
  assert.equal(described.BackupDetails!.BackupStatus, 'AVAILABLE');
  assert.equal(described.SourceTableDetails!.TableName, 'bk-src');
  assert.equal(described.SourceTableDetails!.ItemCount, 30);
  assert.equal(described.SourceTableDetails!.BillingMode, 'PAY_PER_REQUEST');
  assert.deepEqual(
    described.SourceTableFeatureDetails!.GlobalSecondaryIndexes!.map((g) => g.IndexName),
    ['by-status'],
  );
  assert.equal(described.SourceTableFeatureDetails!.StreamDescription!.StreamViewType, 'NEW_IMAGE');

  const restored = await ddb.send(
    new RestoreTableFromBackupCommand({ BackupArn: arn, TargetTableName: 'bk-restored' }),
  );
  assert.equal(restored.TableDescription!.RestoreSummary!.SourceBackupArn, arn);
  assert.equal(restored.TableDescription!.RestoreSummary!.RestoreInProgress, true);
  assert.deepEqual(await dump(ddb, 'bk-restored'), snapshot);
  const t = (await ddb.send(new DescribeTableCommand({ TableName: 'bk-restored' }))).Table!;
  assert.equal(t.TableStatus, 'ACTIVE');
  assert.equal(t.RestoreSummary!.RestoreInProgress, false);
  assert.equal(t.RestoreSummary!.SourceTableArn, described.SourceTableDetails!.TableArn);
  assert.equal(t.StreamSpecification, undefined, 'a restored table has no stream');
  assert.equal(t.GlobalSecondaryIndexes![0].IndexStatus, 'ACTIVE');
  // The GSI was rebuilt from the backup's items.
  const open = await ddb.send(
    new QueryCommand({
      TableName: 'bk-restored',
      IndexName: 'by-status',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'open' } },
    }),
  );
  assert.equal(open.Count, 15);
  assert.ok(!open.Items!.some((i) => i.pk.S === 'p9'));

  // An override drops the GSI and changes billing.
  const slim = await ddb.send(
    new RestoreTableFromBackupCommand({
      BackupArn: arn,
      TargetTableName: 'bk-slim',
      GlobalSecondaryIndexOverride: [],
      BillingModeOverride: 'PROVISIONED',
      ProvisionedThroughputOverride: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }),
  );
  assert.equal(slim.TableDescription!.GlobalSecondaryIndexes, undefined);
  assert.equal(slim.TableDescription!.ProvisionedThroughput!.ReadCapacityUnits, 5);
  assert.deepEqual(await dump(ddb, 'bk-slim'), snapshot);

  // The backup outlives its table.
  await ddb.send(new DeleteTableCommand({ TableName: 'bk-src' }));
  await ddb.send(new RestoreTableFromBackupCommand({ BackupArn: arn, TargetTableName: 'bk-again' }));
  assert.deepEqual(await dump(ddb, 'bk-again'), snapshot);
});

test('backup errors, ListBackups filters and paging, DeleteBackup', async () => {
  await rejects(
    ddb.send(new CreateBackupCommand({ TableName: 'no-such-table', BackupName: 'bk1' })),
    'TableNotFoundException',
    'Table not found: no-such-table',
  );
  await createTable(ddb, 'bk-list');
  await put(ddb, 'bk-list', 'a', 1, 'open');
  await rejects(
    ddb.send(new CreateBackupCommand({ TableName: 'bk-list', BackupName: 'x' })),
    'ValidationException',
    /Value 'x' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3/,
  );
  const arns: string[] = [];
  const t0 = new Date(clock.now());
  for (let i = 0; i < 5; i++) {
    const b = await ddb.send(new CreateBackupCommand({ TableName: 'bk-list', BackupName: `b${i}-x` }));
    arns.push(b.BackupDetails!.BackupArn!);
    await advance(60);
  }
  const mine = await ddb.send(new ListBackupsCommand({ TableName: 'bk-list' }));
  assert.deepEqual(
    mine.BackupSummaries!.map((b) => b.BackupArn),
    arns,
  );
  assert.equal(mine.LastEvaluatedBackupArn, undefined);
  assert.equal(mine.BackupSummaries![0].TableName, 'bk-list');
  assert.equal(mine.BackupSummaries![0].BackupStatus, 'AVAILABLE');
  // Paging.
  const seen: string[] = [];
  let start: string | undefined;
  do {
    const page = await ddb.send(
      new ListBackupsCommand({ TableName: 'bk-list', Limit: 2, ExclusiveStartBackupArn: start }),
    );
    assert.ok(page.BackupSummaries!.length <= 2);
    seen.push(...page.BackupSummaries!.map((b) => b.BackupArn!));
    start = page.LastEvaluatedBackupArn;
  } while (start);
  assert.deepEqual(seen, arns);
  // Time range: lower bound inclusive, upper bound exclusive.
  const ranged = await ddb.send(
    new ListBackupsCommand({
      TableName: 'bk-list',
      TimeRangeLowerBound: new Date(t0.getTime() + 60_000),
      TimeRangeUpperBound: new Date(t0.getTime() + 180_000),
    }),
  );
  assert.deepEqual(
    ranged.BackupSummaries!.map((b) => b.BackupArn),
    arns.slice(1, 3),
  );
  const system = await ddb.send(new ListBackupsCommand({ TableName: 'bk-list', BackupType: 'SYSTEM' }));
  assert.deepEqual(system.BackupSummaries, []);
  await rejects(ddb.send(new ListBackupsCommand({ Limit: 0 })), 'ValidationException');

  // DeleteBackup answers DELETED; the backup is gone afterwards.
  const del = await ddb.send(new DeleteBackupCommand({ BackupArn: arns[0] }));
  assert.equal(del.BackupDescription!.BackupDetails!.BackupStatus, 'DELETED');
  await rejects(
    ddb.send(new DescribeBackupCommand({ BackupArn: arns[0] })),
    'BackupNotFoundException',
    `Backup not found: ${arns[0]}`,
  );
  await rejects(ddb.send(new DeleteBackupCommand({ BackupArn: arns[0] })), 'BackupNotFoundException');
  await rejects(
    ddb.send(new RestoreTableFromBackupCommand({ BackupArn: arns[0], TargetTableName: 'bk-nope' })),
    'BackupNotFoundException',
  );
  assert.equal((await ddb.send(new ListBackupsCommand({ TableName: 'bk-list' }))).BackupSummaries!.length, 4);
  // The target name is taken.
  await rejects(
    ddb.send(new RestoreTableFromBackupCommand({ BackupArn: arns[1], TargetTableName: 'bk-list' })),
    'TableAlreadyExistsException',
    'Table already exists: bk-list',
  );
});

test('point-in-time recovery: exact state at a time in between, latest time, errors', async () => {
  await createTable(ddb, 'pitr-src');
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: 'pitr-src',
      TimeToLiveSpecification: { Enabled: true, AttributeName: 'exp' },
    }),
  );
  // Every table answers DescribeContinuousBackups (Terraform reads it on every refresh).
  const off = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: 'pitr-src' }));
  assert.deepEqual(off.ContinuousBackupsDescription, {
    ContinuousBackupsStatus: 'ENABLED',
    PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' },
  });
  await rejects(
    ddb.send(new DescribeContinuousBackupsCommand({ TableName: 'no-such-table' })),
    'TableNotFoundException',
    'Table not found: no-such-table',
  );
  await rejects(
    ddb.send(
      new RestoreTableToPointInTimeCommand({
        SourceTableName: 'pitr-src',
        TargetTableName: 'pitr-x',
        UseLatestRestorableTime: true,
      }),
    ),
    'PointInTimeRecoveryUnavailableException',
  );
  await rejects(
    ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: 'pitr-src',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 36 },
      }),
    ),
    'ValidationException',
    /Member must have value less than or equal to 35/,
  );

  await put(ddb, 'pitr-src', 'a', 1, 'open', 1); // before PITR: in the base snapshot
  const on = await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'pitr-src',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  const d = on.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!;
  assert.equal(d.PointInTimeRecoveryStatus, 'ENABLED');
  assert.equal(d.RecoveryPeriodInDays, 35);
  assert.ok(d.EarliestRestorableDateTime instanceof Date && d.LatestRestorableDateTime instanceof Date);
  const enabledAt = clock.now();

  await advance(10);
  await put(ddb, 'pitr-src', 'b', 1, 'open', 1);
  await put(ddb, 'pitr-src', 'a', 1, 'open', 2); // overwrite
  await advance(10);
  const t1 = new Date(clock.now());
  const atT1 = await dump(ddb, 'pitr-src');
  await advance(10);
  // Every write path records: batch, transaction, PartiQL, UpdateItem, DeleteItem.
  await ddb.send(
    new BatchWriteItemCommand({
      RequestItems: {
        'pitr-src': [
          { PutRequest: { Item: { pk: { S: 'c' }, sk: { N: '1' }, status: { S: 'open' }, v: { N: '1' } } } },
          { DeleteRequest: { Key: { pk: { S: 'b' }, sk: { N: '1' } } } },
        ],
      },
    }),
  );
  await ddb.send(
    new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: 'pitr-src',
            Item: { pk: { S: 'd' }, sk: { N: '1' }, status: { S: 'x' }, v: { N: '1' } },
          },
        },
      ],
    }),
  );
  await ddb.send(
    new ExecuteStatementCommand({ Statement: `UPDATE "pitr-src" SET v = 9 WHERE pk = 'a' AND sk = 1` }),
  );
  await advance(10);
  const t2 = new Date(clock.now());
  const atT2 = await dump(ddb, 'pitr-src');
  await advance(10);
  await ddb.send(new DeleteItemCommand({ TableName: 'pitr-src', Key: { pk: { S: 'a' }, sk: { N: '1' } } }));
  // A TTL delete is recorded too (the sweeper runs every 5 s of real time).
  await ddb.send(
    new PutItemCommand({
      TableName: 'pitr-src',
      Item: {
        pk: { S: 'ttl' },
        sk: { N: '1' },
        status: { S: 'x' },
        exp: { N: String(Math.floor(clock.now() / 1000) + 5) },
      },
    }),
  );
  await advance(10);
  const deadline = Date.now() + 15_000;
  while (Object.keys(await dump(ddb, 'pitr-src')).includes('ttl/1') && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 200));
  const latest = await dump(ddb, 'pitr-src');
  assert.ok(!('ttl/1' in latest), 'the TTL sweeper deleted the item');

  assert.notDeepEqual(atT1, atT2);
  const r1 = await ddb.send(
    new RestoreTableToPointInTimeCommand({
      SourceTableName: 'pitr-src',
      TargetTableName: 'pitr-t1',
      RestoreDateTime: t1,
    }),
  );
  assert.equal(
    r1.TableDescription!.RestoreSummary!.SourceTableArn,
    r1.TableDescription!.TableArn!.replace('pitr-t1', 'pitr-src'),
  );
  assert.equal(r1.TableDescription!.RestoreSummary!.RestoreDateTime!.getTime(), t1.getTime());
  assert.deepEqual(await dump(ddb, 'pitr-t1'), atT1);
  const srcArn = r1.TableDescription!.RestoreSummary!.SourceTableArn!;
  await ddb.send(
    new RestoreTableToPointInTimeCommand({
      SourceTableArn: srcArn,
      TargetTableName: 'pitr-t2',
      RestoreDateTime: t2,
    }),
  );
  assert.deepEqual(await dump(ddb, 'pitr-t2'), atT2);
  await ddb.send(
    new RestoreTableToPointInTimeCommand({
      SourceTableName: 'pitr-src',
      TargetTableName: 'pitr-latest',
      UseLatestRestorableTime: true,
    }),
  );
  assert.deepEqual(await dump(ddb, 'pitr-latest'), latest);
  // GSIs on the restored table; no TTL, no stream, no PITR.
  const x = await ddb.send(
    new QueryCommand({
      TableName: 'pitr-t2',
      IndexName: 'by-status',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'x' } },
    }),
  );
  assert.deepEqual(
    x.Items!.map((i) => i.pk.S),
    ['d'],
  );
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: 'pitr-t2' }));
  assert.equal(ttl.TimeToLiveDescription!.TimeToLiveStatus, 'DISABLED');
  const cb = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: 'pitr-t2' }));
  assert.equal(
    cb.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.PointInTimeRecoveryStatus,
    'DISABLED',
  );
  assert.equal(
    (await ddb.send(new DescribeTableCommand({ TableName: 'pitr-t2' }))).Table!.StreamSpecification,
    undefined,
  );

  // Outside the window: before PITR was enabled, or in the future.
  for (const when of [new Date(enabledAt - 5000), new Date(clock.now() + 60_000)])
    await rejects(
      ddb.send(
        new RestoreTableToPointInTimeCommand({
          SourceTableName: 'pitr-src',
          TargetTableName: 'pitr-bad',
          RestoreDateTime: when,
        }),
      ),
      'InvalidRestoreTimeException',
    );
  await rejects(
    ddb.send(
      new RestoreTableToPointInTimeCommand({
        SourceTableName: 'pitr-src',
        TargetTableName: 'pitr-t1',
        RestoreDateTime: t1,
      }),
    ),
    'TableAlreadyExistsException',
    'Table already exists: pitr-t1',
  );
  await rejects(
    ddb.send(
      new RestoreTableToPointInTimeCommand({
        SourceTableName: 'no-such-table',
        TargetTableName: 'pitr-bad',
        UseLatestRestorableTime: true,
      }),
    ),
    'TableNotFoundException',
  );
  // Turned off: DISABLED again, and restores refused.
  const disabled = await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'pitr-src',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    }),
  );
  assert.equal(
    disabled.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.PointInTimeRecoveryStatus,
    'DISABLED',
  );
  await rejects(
    ddb.send(
      new RestoreTableToPointInTimeCommand({
        SourceTableName: 'pitr-src',
        TargetTableName: 'pitr-bad',
        RestoreDateTime: t2,
      }),
    ),
    'PointInTimeRecoveryUnavailableException',
  );
});

test('DeleteTable with PITR on keeps a SYSTEM backup for 35 days, which restores the table', async () => {
  await createTable(ddb, 'pitr-gone');
  for (let i = 0; i < 5; i++) await put(ddb, 'pitr-gone', 'p', i, 'live', i);
  await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'pitr-gone',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  const before = await dump(ddb, 'pitr-gone');
  await ddb.send(new DeleteTableCommand({ TableName: 'pitr-gone' }));
  const listed = await ddb.send(new ListBackupsCommand({ TableName: 'pitr-gone', BackupType: 'SYSTEM' }));
  assert.equal(listed.BackupSummaries?.length, 1);
  const sys = listed.BackupSummaries![0];
  assert.equal(sys.BackupName, 'pitr-gone$DeletedTableBackup');
  assert.equal(sys.BackupType, 'SYSTEM');
  assert.equal(sys.BackupExpiryDateTime!.getTime() - sys.BackupCreationDateTime!.getTime(), 35 * 86_400_000);
  // USER listings (the default) leave it out; it restores like any backup.
  assert.equal(
    (await ddb.send(new ListBackupsCommand({ TableName: 'pitr-gone' }))).BackupSummaries?.length,
    0,
  );
  await ddb.send(
    new RestoreTableFromBackupCommand({ TargetTableName: 'pitr-back', BackupArn: sys.BackupArn }),
  );
  assert.deepEqual(await dump(ddb, 'pitr-back'), before);
  // A table deleted without PITR keeps nothing.
  await createTable(ddb, 'plain-gone');
  await ddb.send(new DeleteTableCommand({ TableName: 'plain-gone' }));
  assert.equal(
    (await ddb.send(new ListBackupsCommand({ TableName: 'plain-gone', BackupType: 'ALL' }))).BackupSummaries
      ?.length,
    0,
  );
  // After 35 days it is gone.
  await advance(35 * 86_400 + 1);
  assert.equal(
    (await ddb.send(new ListBackupsCommand({ TableName: 'pitr-gone', BackupType: 'SYSTEM' }))).BackupSummaries
      ?.length,
    0,
  );
  await rejects(ddb.send(new DescribeBackupCommand({ BackupArn: sys.BackupArn })), 'BackupNotFoundException');
});

test('CloudFormation and SAM tables with PointInTimeRecoverySpecification have PITR on', async () => {
  const cfn = new CloudFormationClient(srv.clientConfig);
  try {
    const template = JSON.stringify({
      AWSTemplateFormatVersion: '2010-09-09',
      Transform: 'AWS::Serverless-2016-10-31',
      Resources: {
        Plain: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 },
          },
        },
        Simple: {
          Type: 'AWS::Serverless::SimpleTable',
          Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } },
        },
        Off: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
          },
        },
      },
    });
    const stack = await deployStack(cfn, 'pitr-stack', template);
    const status = async (logical: string) =>
      (await ddb.send(new DescribeContinuousBackupsCommand({ TableName: stack.phys(logical) })))
        .ContinuousBackupsDescription!.PointInTimeRecoveryDescription!;
    const plain = await status('Plain');
    assert.equal(plain.PointInTimeRecoveryStatus, 'ENABLED');
    assert.equal(plain.RecoveryPeriodInDays, 7);
    assert.equal((await status('Simple')).PointInTimeRecoveryStatus, 'ENABLED');
    assert.equal((await status('Off')).PointInTimeRecoveryStatus, 'DISABLED');
  } finally {
    cfn.destroy();
  }
});

test('backups and PITR history survive kill -9 of `nimbus up`', { timeout: 90_000 }, async (t) => {
  const { dir, children, clients } = killTestScaffold(t, 'nimbus-ddb-backups-');
  const client = (endpoint: string) => {
    const c = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    clients.push(c);
    return c;
  };
  const a = await startNimbusProcess(dir);
  children.push(a.child);
  const c1 = client(a.endpoint);
  await createTable(c1, 'durable');
  await c1.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'durable',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  for (let i = 0; i < 20; i++) await put(c1, 'durable', 'k', i, 'open', 1);
  const backup = await c1.send(new CreateBackupCommand({ TableName: 'durable', BackupName: 'pre-crash' }));
  const atBackup = await dump(c1, 'durable');
  // Real time (the virtual clock's offset does not survive a restart): 50 ms apart.
  await new Promise((r) => setTimeout(r, 50));
  const mid = new Date();
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 20; i += 2)
    await c1.send(
      new DeleteItemCommand({ TableName: 'durable', Key: { pk: { S: 'k' }, sk: { N: String(i) } } }),
    );
  await put(c1, 'durable', 'k', 1, 'closed', 7);
  const final = await dump(c1, 'durable');
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));

  const b = await startNimbusProcess(dir);
  children.push(b.child);
  const c2 = client(b.endpoint);
  const d = await c2.send(new DescribeBackupCommand({ BackupArn: backup.BackupDetails!.BackupArn }));
  assert.equal(d.BackupDescription!.BackupDetails!.BackupStatus, 'AVAILABLE');
  await c2.send(
    new RestoreTableFromBackupCommand({
      BackupArn: backup.BackupDetails!.BackupArn,
      TargetTableName: 'from-backup',
    }),
  );
  assert.deepEqual(await dump(c2, 'from-backup'), atBackup);
  const cb = await c2.send(new DescribeContinuousBackupsCommand({ TableName: 'durable' }));
  assert.equal(
    cb.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.PointInTimeRecoveryStatus,
    'ENABLED',
  );
  await c2.send(
    new RestoreTableToPointInTimeCommand({
      SourceTableName: 'durable',
      TargetTableName: 'at-mid',
      RestoreDateTime: mid,
    }),
  );
  assert.deepEqual(await dump(c2, 'at-mid'), atBackup);
  await c2.send(
    new RestoreTableToPointInTimeCommand({
      SourceTableName: 'durable',
      TargetTableName: 'at-latest',
      UseLatestRestorableTime: true,
    }),
  );
  assert.deepEqual(await dump(c2, 'at-latest'), final);
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
});
