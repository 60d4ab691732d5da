/**
 * Global tables (version 2019.11.21) with the real SDK: UpdateTable ReplicaUpdates adds a
 * replica in another region (items copied, stream enabled), writes in either region reach the
 * other (items, indexes, streams), DescribeTable lists the replicas, a replica is removed; and
 * AWS::DynamoDB::GlobalTable deploys and deletes through CloudFormation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeContinuousBackupsCommand,
  UpdateTableCommand,
  PutItemCommand,
  GetItemCommand,
  DeleteItemCommand,
  QueryCommand,
  ListTagsOfResourceCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBStreamsClient,
  DescribeStreamCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import {
  CloudFormationClient,
  DeleteStackCommand,
  waitUntilStackDeleteComplete,
} from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';

test('global tables: ReplicaUpdates, writes in both regions, streams, removal; AWS::DynamoDB::GlobalTable', async () => {
  await using srv = await startTestServer();
  const east = new DynamoDBClient(srv.clientConfig);
  const west = new DynamoDBClient({ ...srv.clientConfig, region: 'eu-west-1' });
  await east.send(
    new CreateTableCommand({
      TableName: 'users',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'team', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byTeam',
          KeySchema: [{ AttributeName: 'team', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await east.send(new PutItemCommand({ TableName: 'users', Item: { id: { S: 'u1' }, team: { S: 'red' } } }));
  await east.send(
    new UpdateTableCommand({ TableName: 'users', ReplicaUpdates: [{ Create: { RegionName: 'eu-west-1' } }] }),
  );
  const t = (await east.send(new DescribeTableCommand({ TableName: 'users' }))).Table!;
  assert.equal(t.GlobalTableVersion, '2019.11.21');
  assert.deepEqual(
    t.Replicas!.map((r) => [r.RegionName, r.ReplicaStatus]),
    [
      ['us-east-1', 'ACTIVE'],
      ['eu-west-1', 'ACTIVE'],
    ],
  );
  assert.deepEqual(t.StreamSpecification, { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  const w = (await west.send(new DescribeTableCommand({ TableName: 'users' }))).Table!;
  assert.match(w.TableArn!, /^arn:aws:dynamodb:eu-west-1:000000000000:table\/users$/);
  assert.equal(w.Replicas!.length, 2);

  // Existing items were copied; writes in either region reach the other, indexes included.
  assert.equal(
    (await west.send(new GetItemCommand({ TableName: 'users', Key: { id: { S: 'u1' } } }))).Item?.team.S,
    'red',
  );
  await west.send(new PutItemCommand({ TableName: 'users', Item: { id: { S: 'u2' }, team: { S: 'red' } } }));
  const red = await east.send(
    new QueryCommand({
      TableName: 'users',
      IndexName: 'byTeam',
      KeyConditionExpression: 'team = :t',
      ExpressionAttributeValues: { ':t': { S: 'red' } },
    }),
  );
  assert.deepEqual(red.Items!.map((i) => i.id.S).sort(), ['u1', 'u2']);
  await east.send(new DeleteItemCommand({ TableName: 'users', Key: { id: { S: 'u1' } } }));
  assert.equal(
    (await west.send(new GetItemCommand({ TableName: 'users', Key: { id: { S: 'u1' } } }))).Item,
    undefined,
  );

  // The west replica's stream has the writes made in the east (and its own).
  const streams = new DynamoDBStreamsClient({ ...srv.clientConfig, region: 'eu-west-1' });
  const d = await streams.send(new DescribeStreamCommand({ StreamArn: w.LatestStreamArn }));
  const it = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: w.LatestStreamArn,
      ShardId: d.StreamDescription!.Shards![0].ShardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const recs = await streams.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
  assert.deepEqual(
    recs.Records!.map((r) => [r.eventName, r.dynamodb!.Keys!.id.S]),
    [
      ['INSERT', 'u2'],
      ['REMOVE', 'u1'],
    ],
  );

  await assert.rejects(
    east.send(
      new UpdateTableCommand({
        TableName: 'users',
        ReplicaUpdates: [{ Create: { RegionName: 'eu-west-1' } }],
      }),
    ),
    { name: 'ValidationException' },
  );
  await east.send(
    new UpdateTableCommand({ TableName: 'users', ReplicaUpdates: [{ Delete: { RegionName: 'eu-west-1' } }] }),
  );
  await assert.rejects(west.send(new DescribeTableCommand({ TableName: 'users' })), {
    name: 'ResourceNotFoundException',
  });
  const alone = (await east.send(new DescribeTableCommand({ TableName: 'users' }))).Table!;
  assert.equal(alone.Replicas, undefined);
  await east.send(new PutItemCommand({ TableName: 'users', Item: { id: { S: 'u3' }, team: { S: 'blue' } } }));

  // AWS::DynamoDB::GlobalTable.
  const cfn = new CloudFormationClient(srv.clientConfig);
  const template = JSON.stringify({
    Resources: {
      Sessions: {
        Type: 'AWS::DynamoDB::GlobalTable',
        Properties: {
          TableName: 'sessions',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
          TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
          Replicas: [
            {
              Region: 'us-east-1',
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              Tags: [{ Key: 'app', Value: 'web' }],
            },
            { Region: 'ap-southeast-2', Tags: [{ Key: 'app', Value: 'web-ap' }] },
          ],
        },
      },
    },
    Outputs: {
      Arn: { Value: { 'Fn::GetAtt': ['Sessions', 'Arn'] } },
      StreamArn: { Value: { 'Fn::GetAtt': ['Sessions', 'StreamArn'] } },
    },
  });
  const stack = await deployStack(cfn, 'global', template);
  assert.equal(stack.phys('Sessions'), 'sessions');
  assert.equal(stack.output('Arn'), 'arn:aws:dynamodb:us-east-1:000000000000:table/sessions');
  assert.match(stack.output('StreamArn'), /table\/sessions\/stream\//);
  const ap = new DynamoDBClient({ ...srv.clientConfig, region: 'ap-southeast-2' });
  await ap.send(new PutItemCommand({ TableName: 'sessions', Item: { pk: { S: 's1' } } }));
  assert.ok((await east.send(new GetItemCommand({ TableName: 'sessions', Key: { pk: { S: 's1' } } }))).Item);
  const pitr = await east.send(new DescribeContinuousBackupsCommand({ TableName: 'sessions' }));
  assert.equal(
    pitr.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.PointInTimeRecoveryStatus,
    'ENABLED',
  );
  const apTable = (await ap.send(new DescribeTableCommand({ TableName: 'sessions' }))).Table!;
  const apTags = await ap.send(new ListTagsOfResourceCommand({ ResourceArn: apTable.TableArn }));
  assert.deepEqual(apTags.Tags, [{ Key: 'app', Value: 'web-ap' }]);

  await cfn.send(new DeleteStackCommand({ StackName: 'global' }));
  await waitUntilStackDeleteComplete(
    { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { StackName: 'global' },
  );
  for (const c of [east, ap])
    await assert.rejects(c.send(new DescribeTableCommand({ TableName: 'sessions' })), {
      name: 'ResourceNotFoundException',
    });
});
