/**
 * DynamoDB control-plane features with the real SDK: resource-based policies (tables and
 * streams, RevisionIds, ExpectedRevisionId, CreateTable's ResourcePolicy), Contributor
 * Insights (table and GSIs, ENABLING -> ENABLED, rule names, paging), OnDemandThroughput and
 * WarmThroughput (CreateTable, UpdateTable, GSIs, AWS's validation); all of them surviving
 * kill -9; and AWS::DynamoDB::Table / GlobalTable templates that use them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateTableCommand,
  DeleteResourcePolicyCommand,
  DeleteTableCommand,
  DescribeContributorInsightsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetResourcePolicyCommand,
  ListContributorInsightsCommand,
  PutResourcePolicyCommand,
  UpdateContributorInsightsCommand,
  UpdateTableCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  CloudFormationClient,
  DeleteStackCommand,
  UpdateStackCommand,
  waitUntilStackDeleteComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';

let srv: TestServer;
let ddb: DynamoDBClient;

before(async () => {
  srv = await startTestServer();
  ddb = new DynamoDBClient(srv.clientConfig);
});
after(async () => {
  ddb?.destroy();
  await srv?.close();
});

const ACCOUNT = '000000000000';
const arnOf = (table: string, region = 'us-east-1') => `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}`;

/** A table keyed pk (+ sk), with a hash-only GSI `byStatus` and an LSI when it has a sort key. */
function tableInput(name: string, extra: Partial<CreateTableCommandInput> = {}): CreateTableCommandInput {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'status', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byStatus',
        KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: 'byStatusLocal',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'status', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    ...extra,
  };
}

const policyFor = (table: string, action = 'dynamodb:GetItem') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: [action],
        Resource: arnOf(table),
      },
    ],
  });

const describe = async (c: DynamoDBClient, name: string) =>
  (await c.send(new DescribeTableCommand({ TableName: name }))).Table!;

// ------------------------------------------------------------------ resource-based policies

test('resource policies: put, idempotent re-put, get, ExpectedRevisionId, delete, as DynamoDB answers', async () => {
  await ddb.send(new CreateTableCommand(tableInput('rp-orders')));
  const arn = arnOf('rp-orders');
  const missing = `Resource-based policy not found for the provided ResourceArn: ${arn}`;
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn })),
    'PolicyNotFoundException',
    missing,
  );
  // Deleting a policy that never existed is a no-op with no RevisionId.
  assert.equal((await ddb.send(new DeleteResourcePolicyCommand({ ResourceArn: arn }))).RevisionId, undefined);

  const first = await ddb.send(
    new PutResourcePolicyCommand({ ResourceArn: arn, Policy: policyFor('rp-orders') }),
  );
  assert.match(first.RevisionId!, /^\d{13}$/);
  const got = await ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn }));
  assert.equal(got.RevisionId, first.RevisionId);
  assert.deepEqual(JSON.parse(got.Policy!), JSON.parse(policyFor('rp-orders')));

  // The same document again (pretty-printed, a one-element list as its element): no change.
  const pretty = JSON.stringify(
    {
      ...JSON.parse(policyFor('rp-orders')),
      Statement: { ...JSON.parse(policyFor('rp-orders')).Statement[0], Action: 'dynamodb:GetItem' },
    },
    null,
    2,
  );
  const again = await ddb.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: pretty }));
  assert.equal(again.RevisionId, first.RevisionId);

  const second = await ddb.send(
    new PutResourcePolicyCommand({
      ResourceArn: arn,
      Policy: policyFor('rp-orders', 'dynamodb:PutItem'),
      ExpectedRevisionId: first.RevisionId,
    }),
  );
  assert.ok(Number(second.RevisionId) > Number(first.RevisionId), 'RevisionIds grow');
  await rejects(
    ddb.send(
      new PutResourcePolicyCommand({
        ResourceArn: arn,
        Policy: policyFor('rp-orders', 'dynamodb:Query'),
        ExpectedRevisionId: first.RevisionId,
      }),
    ),
    'PolicyNotFoundException',
    `Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id ${first.RevisionId}, but the policy associated to target table rp-orders has revision id ${second.RevisionId}.`,
  );
  await rejects(
    ddb.send(
      new PutResourcePolicyCommand({
        ResourceArn: arn,
        Policy: policyFor('rp-orders'),
        ExpectedRevisionId: 'NO_POLICY',
      }),
    ),
    'PolicyNotFoundException',
    `Resource-based policy not found for the provided ResourceArn: Requested policy update expecting none to be present for table rp-orders, but a policy exists with revision id ${second.RevisionId}.`,
  );
  await rejects(
    ddb.send(new DeleteResourcePolicyCommand({ ResourceArn: arn, ExpectedRevisionId: 'unknown' })),
    'PolicyNotFoundException',
    `Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id unknown, but the policy associated to target table rp-orders has revision id ${second.RevisionId}.`,
  );
  assert.equal(
    JSON.parse((await ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy!).Statement[0]
      .Action[0],
    'dynamodb:PutItem',
  );

  // Delete answers the removed policy's RevisionId; a later delete the deletion's own.
  const deleted = await ddb.send(
    new DeleteResourcePolicyCommand({ ResourceArn: arn, ExpectedRevisionId: second.RevisionId }),
  );
  assert.equal(deleted.RevisionId, second.RevisionId);
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn })),
    'PolicyNotFoundException',
    missing,
  );
  const tombstone = (await ddb.send(new DeleteResourcePolicyCommand({ ResourceArn: arn }))).RevisionId;
  assert.match(tombstone!, /^\d{13}$/);
  assert.ok(Number(tombstone) > Number(second.RevisionId));
  // NO_POLICY: attach only when there is none.
  const third = await ddb.send(
    new PutResourcePolicyCommand({
      ResourceArn: arn,
      Policy: policyFor('rp-orders'),
      ExpectedRevisionId: 'NO_POLICY',
    }),
  );
  assert.ok(Number(third.RevisionId) > Number(tombstone));

  // DeleteTable takes the policy with it: a new table of the same name has none.
  await ddb.send(new DeleteTableCommand({ TableName: 'rp-orders' }));
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn })),
    'ResourceNotFoundException',
    'Requested resource not found: Table: rp-orders not found',
  );
  await ddb.send(new CreateTableCommand(tableInput('rp-orders')));
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn })),
    'PolicyNotFoundException',
    missing,
  );
});

test('resource policies: validation and ARN errors; stream policies; CreateTable ResourcePolicy', async () => {
  await ddb.send(
    new CreateTableCommand(
      tableInput('rp-stream', { StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' } }),
    ),
  );
  const arn = arnOf('rp-stream');
  const put = (ResourceArn: string, Policy = policyFor('rp-stream')) =>
    ddb.send(new PutResourcePolicyCommand({ ResourceArn, Policy }));
  const invalid = (detail: string) => `One or more parameter values were invalid: ${detail}`;
  await rejects(
    put(arn, '{not json'),
    'ValidationException',
    invalid('Invalid policy document: This policy contains invalid Json'),
  );
  await rejects(
    put(arn, '[1]'),
    'ValidationException',
    invalid('Invalid policy document: This policy contains invalid Json'),
  );
  await rejects(
    put(arn, JSON.stringify({ Version: '2012-10-17', Statement: [] })),
    'ValidationException',
    invalid('Invalid policy document: Could not parse the policy: Statement is empty!'),
  );
  await rejects(
    put(
      arn,
      JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'dynamodb:GetItem' }] }),
    ),
    'ValidationException',
    invalid('Invalid policy document: Missing required field Resource'),
  );
  // Whitespace counts towards the 20 KB.
  const big = policyFor('rp-stream') + ' '.repeat(20_480);
  await rejects(put(arn, big), 'ValidationException', invalid('Maximum policy size of 20480 bytes exceeded'));
  await rejects(put('rp-stream'), 'ValidationException', invalid("ARNs must start with 'arn:': rp-stream"));
  await rejects(
    put(arnOf('rp-stream', 'eu-west-1')),
    'ValidationException',
    invalid(`Invalid resource Arn: ${arnOf('rp-stream', 'eu-west-1')}`),
  );
  await rejects(
    put(arn.replace(ACCOUNT, '111111111111')),
    'ValidationException',
    'This action is only supported by accounts that match the resource owner’s account.',
  );
  await rejects(put(`${arn}/index/byStatus`), 'ValidationException', /only table or stream is accepted/);
  await rejects(
    put(arnOf('rp-none')),
    'ResourceNotFoundException',
    'Requested resource not found: Table: rp-none not found',
  );
  await rejects(
    ddb.send(new DeleteResourcePolicyCommand({ ResourceArn: arnOf('rp-none') })),
    'ResourceNotFoundException',
    'Requested resource not found: Table: rp-none not found',
  );
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: `${arn}/stream/2000-01-01T00:00:00.000` })),
    'ResourceNotFoundException',
    'Requested resource not found: Stream: 2000-01-01T00:00:00.000 not found for Table: rp-stream',
  );

  // The stream has its own policy, separate from the table's.
  const streamArn = (await describe(ddb, 'rp-stream')).LatestStreamArn!;
  await rejects(
    ddb.send(new GetResourcePolicyCommand({ ResourceArn: streamArn })),
    'PolicyNotFoundException',
    `Resource-based policy not found for the provided ResourceArn: ${streamArn}`,
  );
  const streamPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'dynamodb:GetRecords', Resource: streamArn },
    ],
  });
  const rev = (await put(streamArn, streamPolicy)).RevisionId;
  assert.equal((await ddb.send(new GetResourcePolicyCommand({ ResourceArn: streamArn }))).RevisionId, rev);
  await rejects(ddb.send(new GetResourcePolicyCommand({ ResourceArn: arn })), 'PolicyNotFoundException');

  // CreateTable's ResourcePolicy is the table's policy at once; an invalid one creates nothing.
  await ddb.send(
    new CreateTableCommand(tableInput('rp-created', { ResourcePolicy: policyFor('rp-created') })),
  );
  const created = await ddb.send(new GetResourcePolicyCommand({ ResourceArn: arnOf('rp-created') }));
  assert.deepEqual(JSON.parse(created.Policy!), JSON.parse(policyFor('rp-created')));
  assert.match(created.RevisionId!, /^\d{13}$/);
  await rejects(
    ddb.send(new CreateTableCommand(tableInput('rp-bad', { ResourcePolicy: '{' }))),
    'ValidationException',
    invalid('Invalid policy document: This policy contains invalid Json'),
  );
  await rejects(ddb.send(new DescribeTableCommand({ TableName: 'rp-bad' })), 'ResourceNotFoundException');
});

// ------------------------------------------------------------------ contributor insights

test('contributor insights: ENABLING -> ENABLED, rule names, GSIs, modes, list paging, disable', async () => {
  await ddb.send(new CreateTableCommand(tableInput('ci-orders')));
  await ddb.send(
    new CreateTableCommand({
      TableName: 'ci-other',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const describeCi = (TableName: string, IndexName?: string) =>
    ddb.send(new DescribeContributorInsightsCommand({ TableName, IndexName }));
  const fresh = await describeCi('ci-orders');
  assert.equal(fresh.ContributorInsightsStatus, 'DISABLED');
  assert.equal(fresh.TableName, 'ci-orders');
  assert.equal(fresh.ContributorInsightsRuleList, undefined);
  assert.equal(fresh.LastUpdateDateTime, undefined);
  assert.deepEqual(
    (await ddb.send(new ListContributorInsightsCommand({ TableName: 'ci-orders' })))
      .ContributorInsightsSummaries,
    [],
  );
  // Disabling what was never enabled changes nothing.
  const noop = await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-orders', ContributorInsightsAction: 'DISABLE' }),
  );
  assert.equal(noop.ContributorInsightsStatus, 'DISABLED');

  const enabled = await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-orders', ContributorInsightsAction: 'ENABLE' }),
  );
  assert.equal(enabled.ContributorInsightsStatus, 'ENABLING');
  assert.equal(enabled.ContributorInsightsMode, 'ACCESSED_AND_THROTTLED_KEYS');
  const table = await describeCi('ci-orders');
  assert.equal(table.ContributorInsightsStatus, 'ENABLED');
  assert.ok(table.LastUpdateDateTime instanceof Date);
  const at = /-(\d{13})$/.exec(table.ContributorInsightsRuleList![0])![1];
  assert.deepEqual(
    table.ContributorInsightsRuleList,
    ['PKC', 'PKT', 'SKC', 'SKT'].map((k) => `DynamoDBContributorInsights-${k}-ci-orders-${at}`),
  );
  // Enabling again with the same mode: nothing changes.
  const again = await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-orders', ContributorInsightsAction: 'ENABLE' }),
  );
  assert.equal(again.ContributorInsightsStatus, 'ENABLED');

  // A GSI (hash key only), throttled keys only; the table ARN works as TableName.
  const gsi = await ddb.send(
    new UpdateContributorInsightsCommand({
      TableName: arnOf('ci-orders'),
      IndexName: 'byStatus',
      ContributorInsightsAction: 'ENABLE',
      ContributorInsightsMode: 'THROTTLED_KEYS',
    }),
  );
  assert.deepEqual(
    { status: gsi.ContributorInsightsStatus, index: gsi.IndexName, mode: gsi.ContributorInsightsMode },
    { status: 'ENABLING', index: 'byStatus', mode: 'THROTTLED_KEYS' },
  );
  const ix = await describeCi('ci-orders', 'byStatus');
  assert.equal(ix.IndexName, 'byStatus');
  assert.equal(ix.ContributorInsightsStatus, 'ENABLED');
  assert.match(
    ix.ContributorInsightsRuleList!.join(),
    /^DynamoDBContributorInsights-PKT-ci-orders-byStatus-\d{13}$/,
  );

  await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-other', ContributorInsightsAction: 'ENABLE' }),
  );
  // One table: the table first, then its GSIs; pages of MaxResults.
  const p1 = await ddb.send(new ListContributorInsightsCommand({ TableName: 'ci-orders', MaxResults: 1 }));
  assert.deepEqual(p1.ContributorInsightsSummaries, [
    {
      TableName: 'ci-orders',
      ContributorInsightsStatus: 'ENABLED',
      ContributorInsightsMode: 'ACCESSED_AND_THROTTLED_KEYS',
    },
  ]);
  assert.ok(p1.NextToken);
  const p2 = await ddb.send(
    new ListContributorInsightsCommand({ TableName: 'ci-orders', MaxResults: 1, NextToken: p1.NextToken }),
  );
  assert.deepEqual(p2.ContributorInsightsSummaries, [
    {
      TableName: 'ci-orders',
      IndexName: 'byStatus',
      ContributorInsightsStatus: 'ENABLED',
      ContributorInsightsMode: 'THROTTLED_KEYS',
    },
  ]);
  assert.equal(p2.NextToken, undefined);
  const all = (await ddb.send(new ListContributorInsightsCommand({}))).ContributorInsightsSummaries!;
  assert.deepEqual(
    all.map((s) => `${s.TableName}/${s.IndexName ?? ''}`),
    ['ci-orders/', 'ci-orders/byStatus', 'ci-other/'],
  );

  // DISABLE: DISABLING, then DISABLED with the mode and time kept; gone from the list.
  const off = await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-orders', ContributorInsightsAction: 'DISABLE' }),
  );
  assert.equal(off.ContributorInsightsStatus, 'DISABLING');
  const disabled = await describeCi('ci-orders');
  assert.equal(disabled.ContributorInsightsStatus, 'DISABLED');
  assert.equal(disabled.ContributorInsightsMode, 'ACCESSED_AND_THROTTLED_KEYS');
  assert.equal(disabled.ContributorInsightsRuleList, undefined);
  assert.ok(disabled.LastUpdateDateTime instanceof Date);
  assert.deepEqual(
    (
      await ddb.send(new ListContributorInsightsCommand({ TableName: 'ci-orders' }))
    ).ContributorInsightsSummaries!.map((s) => s.IndexName),
    ['byStatus'],
  );
  // Re-enabling makes new rules (a new creation time).
  await new Promise((r) => setTimeout(r, 5));
  await ddb.send(
    new UpdateContributorInsightsCommand({ TableName: 'ci-orders', ContributorInsightsAction: 'ENABLE' }),
  );
  assert.notEqual(/-(\d{13})$/.exec((await describeCi('ci-orders')).ContributorInsightsRuleList![0])![1], at);

  // Deleting the GSI forgets its setting; deleting the table forgets them all.
  await ddb.send(
    new UpdateTableCommand({
      TableName: 'ci-orders',
      GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'byStatus' } }],
    }),
  );
  await ddb.send(
    new UpdateTableCommand({
      TableName: 'ci-orders',
      AttributeDefinitions: [{ AttributeName: 'status', AttributeType: 'S' }],
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            IndexName: 'byStatus',
            KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        },
      ],
    }),
  );
  assert.equal((await describeCi('ci-orders', 'byStatus')).ContributorInsightsStatus, 'DISABLED');
  await ddb.send(new DeleteTableCommand({ TableName: 'ci-other' }));
  await ddb.send(
    new CreateTableCommand({
      TableName: 'ci-other',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  assert.equal((await describeCi('ci-other')).ContributorInsightsStatus, 'DISABLED');
});

test('contributor insights: unknown table or index, bad action', async () => {
  await ddb.send(new CreateTableCommand(tableInput('ci-errors')));
  const noTable = 'Requested resource not found: Table: ci-none not found';
  await rejects(
    ddb.send(new DescribeContributorInsightsCommand({ TableName: 'ci-none' })),
    'ResourceNotFoundException',
    noTable,
  );
  await rejects(
    ddb.send(
      new UpdateContributorInsightsCommand({ TableName: 'ci-none', ContributorInsightsAction: 'ENABLE' }),
    ),
    'ResourceNotFoundException',
    noTable,
  );
  await rejects(
    ddb.send(new ListContributorInsightsCommand({ TableName: 'ci-none' })),
    'ResourceNotFoundException',
    noTable,
  );
  for (const index of ['ghost', 'byStatusLocal'])
    await rejects(
      ddb.send(
        new UpdateContributorInsightsCommand({
          TableName: 'ci-errors',
          IndexName: index,
          ContributorInsightsAction: 'ENABLE',
        }),
      ),
      'ResourceNotFoundException',
      `Requested resource not found: Index: ${index} not found for table: ci-errors`,
    );
  await rejects(
    ddb.send(new DescribeContributorInsightsCommand({ TableName: 'ci-errors', IndexName: 'ghost' })),
    'ResourceNotFoundException',
    'Requested resource not found: Index: ghost not found for table: ci-errors',
  );
  await rejects(
    ddb.send(
      new UpdateContributorInsightsCommand({
        TableName: 'ci-errors',
        ContributorInsightsAction: 'PAUSE' as any,
      }),
    ),
    'ValidationException',
    "1 validation error detected: Value 'PAUSE' at 'contributorInsightsAction' failed to satisfy constraint: Member must satisfy enum value set: [ENABLE, DISABLE]",
  );
});

// ------------------------------------------------------------------ on-demand and warm throughput

test('OnDemandThroughput and WarmThroughput: CreateTable, DescribeTable, GSIs', async () => {
  const created = await ddb.send(
    new CreateTableCommand(
      tableInput('tp-ondemand', {
        OnDemandThroughput: { MaxReadRequestUnits: 100, MaxWriteRequestUnits: 50 },
        WarmThroughput: { ReadUnitsPerSecond: 13000, WriteUnitsPerSecond: 5000 },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byStatus',
            KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
            OnDemandThroughput: { MaxReadRequestUnits: 10 },
            WarmThroughput: { ReadUnitsPerSecond: 12001 },
          },
        ],
      }),
    ),
  );
  assert.deepEqual(created.TableDescription!.OnDemandThroughput, {
    MaxReadRequestUnits: 100,
    MaxWriteRequestUnits: 50,
  });
  const t = await describe(ddb, 'tp-ondemand');
  assert.deepEqual(t.OnDemandThroughput, { MaxReadRequestUnits: 100, MaxWriteRequestUnits: 50 });
  assert.deepEqual(t.WarmThroughput, {
    ReadUnitsPerSecond: 13000,
    WriteUnitsPerSecond: 5000,
    Status: 'ACTIVE',
  });
  const g = t.GlobalSecondaryIndexes![0];
  assert.deepEqual(g.OnDemandThroughput, { MaxReadRequestUnits: 10 });
  assert.deepEqual(g.WarmThroughput, {
    ReadUnitsPerSecond: 12001,
    WriteUnitsPerSecond: 4000,
    Status: 'ACTIVE',
  });
  assert.equal(t.LocalSecondaryIndexes![0].IndexName, 'byStatusLocal');
  assert.equal((t.LocalSecondaryIndexes![0] as any).WarmThroughput, undefined);

  // Without either: no OnDemandThroughput; warm throughput is on demand's initial 12000/4000.
  const plain = await ddb.send(new CreateTableCommand(tableInput('tp-plain')));
  assert.equal(plain.TableDescription!.WarmThroughput, undefined);
  const p = await describe(ddb, 'tp-plain');
  assert.equal(p.OnDemandThroughput, undefined);
  assert.deepEqual(p.WarmThroughput, {
    ReadUnitsPerSecond: 12000,
    WriteUnitsPerSecond: 4000,
    Status: 'ACTIVE',
  });

  // PROVISIONED: warm throughput follows the highest capacity the table had.
  await ddb.send(
    new CreateTableCommand({
      TableName: 'tp-provisioned',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }),
  );
  assert.deepEqual((await describe(ddb, 'tp-provisioned')).WarmThroughput, {
    ReadUnitsPerSecond: 5,
    WriteUnitsPerSecond: 5,
    Status: 'ACTIVE',
  });
  for (const [r, w] of [
    [10, 20],
    [1, 1],
  ])
    await ddb.send(
      new UpdateTableCommand({
        TableName: 'tp-provisioned',
        ProvisionedThroughput: { ReadCapacityUnits: r, WriteCapacityUnits: w },
      }),
    );
  const prov = await describe(ddb, 'tp-provisioned');
  assert.equal(prov.ProvisionedThroughput!.ReadCapacityUnits, 1);
  assert.deepEqual(prov.WarmThroughput, {
    ReadUnitsPerSecond: 10,
    WriteUnitsPerSecond: 20,
    Status: 'ACTIVE',
  });
});

test('OnDemandThroughput and WarmThroughput: UpdateTable merges, -1 removes, never lowers warm', async () => {
  await ddb.send(new CreateTableCommand(tableInput('tp-update')));
  const update = (input: Record<string, unknown>) =>
    ddb.send(new UpdateTableCommand({ TableName: 'tp-update', ...input }));
  // Each of these alone is a valid UpdateTable.
  await update({ OnDemandThroughput: { MaxReadRequestUnits: 1000, MaxWriteRequestUnits: 500 } });
  assert.deepEqual((await describe(ddb, 'tp-update')).OnDemandThroughput, {
    MaxReadRequestUnits: 1000,
    MaxWriteRequestUnits: 500,
  });
  await update({ OnDemandThroughput: { MaxReadRequestUnits: 2000 } });
  assert.deepEqual((await describe(ddb, 'tp-update')).OnDemandThroughput, {
    MaxReadRequestUnits: 2000,
    MaxWriteRequestUnits: 500,
  });
  await update({ OnDemandThroughput: { MaxReadRequestUnits: -1 } });
  assert.deepEqual((await describe(ddb, 'tp-update')).OnDemandThroughput, { MaxWriteRequestUnits: 500 });
  await update({ OnDemandThroughput: { MaxWriteRequestUnits: -1 } });
  assert.equal((await describe(ddb, 'tp-update')).OnDemandThroughput, undefined);
  await rejects(
    update({ OnDemandThroughput: { MaxReadRequestUnits: 0 } }),
    'ValidationException',
    'One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range',
  );

  await update({ WarmThroughput: { ReadUnitsPerSecond: 14000 } });
  assert.deepEqual((await describe(ddb, 'tp-update')).WarmThroughput, {
    ReadUnitsPerSecond: 14000,
    WriteUnitsPerSecond: 4000,
    Status: 'ACTIVE',
  });
  await update({ WarmThroughput: { ReadUnitsPerSecond: 14000, WriteUnitsPerSecond: 4000 } });
  await rejects(
    update({ WarmThroughput: { ReadUnitsPerSecond: 13000 } }),
    'ValidationException',
    'One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported',
  );
  await update({ TableClass: 'STANDARD_INFREQUENT_ACCESS' });
  await update({ DeletionProtectionEnabled: true });
  await update({ DeletionProtectionEnabled: false });
  await update({ SSESpecification: { Enabled: true, SSEType: 'KMS' } });
  const t = await describe(ddb, 'tp-update');
  assert.equal(t.TableClassSummary?.TableClass, 'STANDARD_INFREQUENT_ACCESS');
  assert.equal(t.SSEDescription?.Status, 'ENABLED');
  await rejects(
    update({}),
    'ValidationException',
    'At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required',
  );

  // GSIs: Update with only on-demand or warm throughput; Create with both.
  await update({
    GlobalSecondaryIndexUpdates: [
      { Update: { IndexName: 'byStatus', OnDemandThroughput: { MaxWriteRequestUnits: 40 } } },
    ],
  });
  await update({
    GlobalSecondaryIndexUpdates: [
      { Update: { IndexName: 'byStatus', WarmThroughput: { WriteUnitsPerSecond: 4500 } } },
    ],
  });
  await rejects(
    update({
      GlobalSecondaryIndexUpdates: [
        { Update: { IndexName: 'byStatus', WarmThroughput: { WriteUnitsPerSecond: 4000 } } },
      ],
    }),
    'ValidationException',
    /Requested WriteUnitsPerSecond for WarmThroughput for index is lower than current WarmThroughput/,
  );
  await update({
    AttributeDefinitions: [{ AttributeName: 'sk', AttributeType: 'S' }],
    GlobalSecondaryIndexUpdates: [
      {
        Create: {
          IndexName: 'bySk',
          KeySchema: [{ AttributeName: 'sk', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
          OnDemandThroughput: { MaxReadRequestUnits: 7 },
          WarmThroughput: { ReadUnitsPerSecond: 20000, WriteUnitsPerSecond: 4000 },
        },
      },
    ],
  });
  const gsis = Object.fromEntries(
    (await describe(ddb, 'tp-update')).GlobalSecondaryIndexes!.map((g) => [g.IndexName, g]),
  );
  assert.deepEqual(gsis.byStatus.OnDemandThroughput, { MaxWriteRequestUnits: 40 });
  assert.deepEqual(gsis.byStatus.WarmThroughput, {
    ReadUnitsPerSecond: 12000,
    WriteUnitsPerSecond: 4500,
    Status: 'ACTIVE',
  });
  assert.deepEqual(gsis.bySk.OnDemandThroughput, { MaxReadRequestUnits: 7 });
  assert.deepEqual(gsis.bySk.WarmThroughput, {
    ReadUnitsPerSecond: 20000,
    WriteUnitsPerSecond: 4000,
    Status: 'ACTIVE',
  });
});

test('OnDemandThroughput and WarmThroughput: CreateTable and UpdateTable errors', async () => {
  const invalid = (detail: string) => `One or more parameter values were invalid: ${detail}`;
  await rejects(
    ddb.send(
      new CreateTableCommand(
        tableInput('tp-bad', {
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
          GlobalSecondaryIndexes: undefined,
          OnDemandThroughput: { MaxReadRequestUnits: 5 },
        }),
      ),
    ),
    'ValidationException',
    invalid(
      'MaxReadRequestUnits for OnDemandThroughput cannot be specified when table BillingMode is PROVISIONED',
    ),
  );
  for (const v of [0, -1, -2])
    await rejects(
      ddb.send(
        new CreateTableCommand(tableInput('tp-bad', { OnDemandThroughput: { MaxReadRequestUnits: v } })),
      ),
      'ValidationException',
      invalid('Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range'),
    );
  await rejects(
    ddb.send(
      new CreateTableCommand(
        tableInput('tp-bad', { WarmThroughput: { ReadUnitsPerSecond: 1, WriteUnitsPerSecond: 1 } }),
      ),
    ),
    'ValidationException',
    invalid(
      'Requested ReadUnitsPerSecond for WarmThroughput for table is lower than initial throughput for OnDemand. See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial',
    ),
  );
  await rejects(
    ddb.send(
      new CreateTableCommand(
        tableInput('tp-bad', {
          BillingMode: 'PROVISIONED',
          ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 10 },
          GlobalSecondaryIndexes: undefined,
          WarmThroughput: { ReadUnitsPerSecond: 5, WriteUnitsPerSecond: 5 },
        }),
      ),
    ),
    'ValidationException',
    invalid(
      'Requested ReadUnitsPerSecond for WarmThroughput for table is lower than ReadCapacityUnits of ProvisionedThroughput',
    ),
  );
  await rejects(ddb.send(new DescribeTableCommand({ TableName: 'tp-bad' })), 'ResourceNotFoundException');
  await ddb.send(
    new CreateTableCommand({
      TableName: 'tp-prov2',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }),
  );
  await rejects(
    ddb.send(
      new UpdateTableCommand({ TableName: 'tp-prov2', OnDemandThroughput: { MaxReadRequestUnits: 100 } }),
    ),
    'ValidationException',
    invalid(
      'MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED',
    ),
  );
  // Switching to on demand in the same request allows it.
  await ddb.send(
    new UpdateTableCommand({
      TableName: 'tp-prov2',
      BillingMode: 'PAY_PER_REQUEST',
      OnDemandThroughput: { MaxReadRequestUnits: 100 },
    }),
  );
  const t = await describe(ddb, 'tp-prov2');
  assert.deepEqual(t.OnDemandThroughput, { MaxReadRequestUnits: 100 });
  assert.deepEqual(t.WarmThroughput, {
    ReadUnitsPerSecond: 12000,
    WriteUnitsPerSecond: 4000,
    Status: 'ACTIVE',
  });
});

// ------------------------------------------------------------------ durability

test(
  'policies, contributor insights and throughput settings survive kill -9 of `nimbus up`',
  { timeout: 90_000 },
  async (t) => {
    const { dir, children, clients } = killTestScaffold(t, 'nimbus-ddb-control-');
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
    await c1.send(
      new CreateTableCommand(
        tableInput('durable-ctl', {
          ResourcePolicy: policyFor('durable-ctl'),
          OnDemandThroughput: { MaxWriteRequestUnits: 300 },
          WarmThroughput: { ReadUnitsPerSecond: 15000 },
        }),
      ),
    );
    const rev = (
      await c1.send(
        new PutResourcePolicyCommand({
          ResourceArn: arnOf('durable-ctl'),
          Policy: policyFor('durable-ctl', 'dynamodb:Scan'),
        }),
      )
    ).RevisionId;
    await c1.send(
      new UpdateContributorInsightsCommand({ TableName: 'durable-ctl', ContributorInsightsAction: 'ENABLE' }),
    );
    await c1.send(
      new UpdateContributorInsightsCommand({
        TableName: 'durable-ctl',
        IndexName: 'byStatus',
        ContributorInsightsAction: 'ENABLE',
      }),
    );
    const rules = (await c1.send(new DescribeContributorInsightsCommand({ TableName: 'durable-ctl' })))
      .ContributorInsightsRuleList;
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));

    const b = await startNimbusProcess(dir);
    children.push(b.child);
    const c2 = client(b.endpoint);
    const policy = await c2.send(new GetResourcePolicyCommand({ ResourceArn: arnOf('durable-ctl') }));
    assert.equal(policy.RevisionId, rev);
    assert.deepEqual(JSON.parse(policy.Policy!), JSON.parse(policyFor('durable-ctl', 'dynamodb:Scan')));
    const ci = await c2.send(new DescribeContributorInsightsCommand({ TableName: 'durable-ctl' }));
    assert.equal(ci.ContributorInsightsStatus, 'ENABLED');
    assert.deepEqual(ci.ContributorInsightsRuleList, rules);
    const listed = await c2.send(new ListContributorInsightsCommand({ TableName: 'durable-ctl' }));
    assert.deepEqual(
      listed.ContributorInsightsSummaries!.map((s) => s.IndexName),
      [undefined, 'byStatus'],
    );
    const table = await describe(c2, 'durable-ctl');
    assert.deepEqual(table.OnDemandThroughput, { MaxWriteRequestUnits: 300 });
    assert.deepEqual(table.WarmThroughput, {
      ReadUnitsPerSecond: 15000,
      WriteUnitsPerSecond: 4000,
      Status: 'ACTIVE',
    });
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  },
);

// ------------------------------------------------------------------ CloudFormation

test('AWS::DynamoDB::Table and GlobalTable: ResourcePolicy, ContributorInsightsSpecification, OnDemand and WarmThroughput', async () => {
  const cfn = new CloudFormationClient(srv.clientConfig);
  const west = new DynamoDBClient({ ...srv.clientConfig, region: 'eu-west-1' });
  const wait = { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 };
  const doc = (action: string) => ({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: action, Resource: '*' },
    ],
  });
  const template = (v: 1 | 2) =>
    JSON.stringify({
      AWSTemplateFormatVersion: '2010-09-09',
      Resources: {
        Orders: {
          Type: 'AWS::DynamoDB::Table',
          Properties: {
            TableName: 'cfn-orders',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'status', AttributeType: 'S' },
            ],
            KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
            GlobalSecondaryIndexes: [
              {
                IndexName: 'byStatus',
                KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'ALL' },
                ContributorInsightsSpecification: { Enabled: v === 1 },
                OnDemandThroughput: { MaxReadRequestUnits: v === 1 ? 50 : 60 },
                WarmThroughput: { ReadUnitsPerSecond: 12500 },
              },
            ],
            StreamSpecification: {
              StreamViewType: 'NEW_IMAGE',
              ResourcePolicy: { PolicyDocument: doc('dynamodb:GetRecords') },
            },
            // An object in v1, a JSON string in v2 (CloudFormation takes both).
            ResourcePolicy: {
              PolicyDocument: v === 1 ? doc('dynamodb:GetItem') : JSON.stringify(doc('dynamodb:Query')),
            },
            ContributorInsightsSpecification: { Enabled: v === 1 },
            OnDemandThroughput:
              v === 1 ? { MaxReadRequestUnits: 100, MaxWriteRequestUnits: 50 } : { MaxReadRequestUnits: 200 },
            WarmThroughput: { ReadUnitsPerSecond: v === 1 ? 13000 : 14000, WriteUnitsPerSecond: 4000 },
          },
        },
        Sessions: {
          Type: 'AWS::DynamoDB::GlobalTable',
          Properties: {
            TableName: 'cfn-sessions',
            AttributeDefinitions: [
              { AttributeName: 'id', AttributeType: 'S' },
              { AttributeName: 'user', AttributeType: 'S' },
            ],
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            BillingMode: 'PAY_PER_REQUEST',
            StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
            WriteOnDemandThroughputSettings: { MaxWriteRequestUnits: 70 },
            WarmThroughput: { ReadUnitsPerSecond: 12100 },
            GlobalSecondaryIndexes: [
              {
                IndexName: 'byUser',
                KeySchema: [{ AttributeName: 'user', KeyType: 'HASH' }],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ],
            Replicas: [
              {
                Region: 'us-east-1',
                ResourcePolicy: { PolicyDocument: doc('dynamodb:GetItem') },
                ContributorInsightsSpecification: { Enabled: true },
                ReadOnDemandThroughputSettings: { MaxReadRequestUnits: 80 },
                GlobalSecondaryIndexes: [
                  { IndexName: 'byUser', ContributorInsightsSpecification: { Enabled: true } },
                ],
              },
              {
                Region: 'eu-west-1',
                ResourcePolicy: { PolicyDocument: doc(v === 1 ? 'dynamodb:PutItem' : 'dynamodb:Scan') },
                ContributorInsightsSpecification: { Enabled: v === 2 },
                GlobalSecondaryIndexes: [
                  { IndexName: 'byUser', ContributorInsightsSpecification: { Enabled: true } },
                ],
              },
            ],
          },
        },
      },
    });
  const action = async (c: DynamoDBClient, arn: string) =>
    JSON.parse((await c.send(new GetResourcePolicyCommand({ ResourceArn: arn }))).Policy!).Statement[0]
      .Action;
  const ci = async (c: DynamoDBClient, TableName: string, IndexName?: string) =>
    (await c.send(new DescribeContributorInsightsCommand({ TableName, IndexName })))
      .ContributorInsightsStatus;
  try {
    await deployStack(cfn, 'ctl-stack', template(1));
    let orders = await describe(ddb, 'cfn-orders');
    assert.equal(await action(ddb, orders.TableArn!), 'dynamodb:GetItem');
    assert.equal(await action(ddb, orders.LatestStreamArn!), 'dynamodb:GetRecords');
    assert.equal(await ci(ddb, 'cfn-orders'), 'ENABLED');
    assert.equal(await ci(ddb, 'cfn-orders', 'byStatus'), 'ENABLED');
    assert.deepEqual(orders.OnDemandThroughput, { MaxReadRequestUnits: 100, MaxWriteRequestUnits: 50 });
    assert.deepEqual(orders.WarmThroughput, {
      ReadUnitsPerSecond: 13000,
      WriteUnitsPerSecond: 4000,
      Status: 'ACTIVE',
    });
    assert.deepEqual(orders.GlobalSecondaryIndexes![0].OnDemandThroughput, { MaxReadRequestUnits: 50 });
    assert.equal(orders.GlobalSecondaryIndexes![0].WarmThroughput!.ReadUnitsPerSecond, 12500);

    const east = await describe(ddb, 'cfn-sessions');
    assert.equal(await action(ddb, east.TableArn!), 'dynamodb:GetItem');
    assert.equal(await ci(ddb, 'cfn-sessions'), 'ENABLED');
    assert.equal(await ci(ddb, 'cfn-sessions', 'byUser'), 'ENABLED');
    assert.deepEqual(east.OnDemandThroughput, { MaxReadRequestUnits: 80, MaxWriteRequestUnits: 70 });
    assert.equal(east.WarmThroughput!.ReadUnitsPerSecond, 12100);
    const westTable = await describe(west, 'cfn-sessions');
    assert.equal(await action(west, westTable.TableArn!), 'dynamodb:PutItem');
    assert.equal(await ci(west, 'cfn-sessions'), 'DISABLED');
    assert.equal(await ci(west, 'cfn-sessions', 'byUser'), 'ENABLED');

    await cfn.send(new UpdateStackCommand({ StackName: 'ctl-stack', TemplateBody: template(2) }));
    await waitUntilStackUpdateComplete(wait, { StackName: 'ctl-stack' });
    orders = await describe(ddb, 'cfn-orders');
    assert.equal(await action(ddb, orders.TableArn!), 'dynamodb:Query');
    assert.equal(await action(ddb, orders.LatestStreamArn!), 'dynamodb:GetRecords');
    assert.equal(await ci(ddb, 'cfn-orders'), 'DISABLED');
    assert.equal(await ci(ddb, 'cfn-orders', 'byStatus'), 'DISABLED');
    assert.deepEqual(orders.OnDemandThroughput, { MaxReadRequestUnits: 200 });
    assert.equal(orders.WarmThroughput!.ReadUnitsPerSecond, 14000);
    assert.deepEqual(orders.GlobalSecondaryIndexes![0].OnDemandThroughput, { MaxReadRequestUnits: 60 });
    assert.equal(await action(west, westTable.TableArn!), 'dynamodb:Scan');
    assert.equal(await ci(west, 'cfn-sessions'), 'ENABLED');

    await cfn.send(new DeleteStackCommand({ StackName: 'ctl-stack' }));
    await waitUntilStackDeleteComplete(wait, { StackName: 'ctl-stack' });
    await rejects(
      ddb.send(new GetResourcePolicyCommand({ ResourceArn: orders.TableArn })),
      'ResourceNotFoundException',
    );
  } finally {
    cfn.destroy();
    west.destroy();
  }
});
