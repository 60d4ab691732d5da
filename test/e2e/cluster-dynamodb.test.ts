/**
 * DynamoDB in cluster mode: two real `nimbus up --storage postgres://...` nodes sharing one
 * throwaway PostgreSQL. A table created on A is used on B, and its resource policy and
 * contributor insights changed on one node are seen by the other at once; 1,000 concurrent
 * `ADD counter :1` spread over both nodes end at exactly 1,000; optimistic-locking writers
 * racing on both nodes (conditional writes that conflict) lose no update.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteResourcePolicyCommand,
  DescribeContributorInsightsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  GetResourcePolicyCommand,
  PutItemCommand,
  PutResourcePolicyCommand,
  QueryCommand,
  UpdateContributorInsightsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Agent } from 'node:http';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { postgresForFile } from '../helpers/cluster.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';

const { skip, pg } = postgresForFile();
const client = (endpoint: string) =>
  new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }) }),
  });

test(
  'two nodes: one table, put on A / get on B, exact counters, no lost conditional update',
  { skip, timeout: 180_000 },
  async () => {
    await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
    const [a, b] = cluster.nodes.map((n) => client(n.endpoint));
    try {
      await a.send(
        new CreateTableCommand({
          TableName: 'shared',
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
      const d = await b.send(new DescribeTableCommand({ TableName: 'shared' }));
      assert.equal(d.Table?.TableName, 'shared');
      assert.deepEqual(
        d.Table?.KeySchema?.map((k) => k.AttributeName),
        ['pk', 'sk'],
      );

      // Resource policies and contributor insights are read from the Store: the other node
      // sees a change at once (no metadata cache in between).
      const arn = d.Table!.TableArn!;
      const policy = JSON.stringify({
        Statement: [
          { Effect: 'Allow', Principal: { AWS: '000000000000' }, Action: 'dynamodb:*', Resource: arn },
        ],
      });
      const put = await a.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: policy }));
      assert.equal(
        (await b.send(new GetResourcePolicyCommand({ ResourceArn: arn }))).RevisionId,
        put.RevisionId,
      );
      await b.send(new DeleteResourcePolicyCommand({ ResourceArn: arn, ExpectedRevisionId: put.RevisionId }));
      await assert.rejects(a.send(new GetResourcePolicyCommand({ ResourceArn: arn })), {
        name: 'PolicyNotFoundException',
      });
      await a.send(
        new UpdateContributorInsightsCommand({ TableName: 'shared', ContributorInsightsAction: 'ENABLE' }),
      );
      const insights = await b.send(new DescribeContributorInsightsCommand({ TableName: 'shared' }));
      assert.equal(insights.ContributorInsightsStatus, 'ENABLED');

      // Put on A, get (and query) on B.
      await a.send(
        new PutItemCommand({
          TableName: 'shared',
          Item: { pk: { S: 'x' }, sk: { N: '1' }, v: { S: 'from-a' } },
        }),
      );
      await b.send(
        new PutItemCommand({
          TableName: 'shared',
          Item: { pk: { S: 'x' }, sk: { N: '2' }, v: { S: 'from-b' } },
        }),
      );
      const got = await b.send(
        new GetItemCommand({ TableName: 'shared', Key: { pk: { S: 'x' }, sk: { N: '1' } } }),
      );
      assert.equal(got.Item?.v?.S, 'from-a');
      const q = await a.send(
        new QueryCommand({
          TableName: 'shared',
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'x' } },
        }),
      );
      assert.deepEqual(
        q.Items?.map((i) => i.v.S),
        ['from-a', 'from-b'],
      );

      // 1,000 concurrent ADDs, alternating nodes.
      const nodes = [a, b];
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          nodes[i % 2].send(
            new UpdateItemCommand({
              TableName: 'shared',
              Key: { pk: { S: 'counter' }, sk: { N: '0' } },
              UpdateExpression: 'ADD #c :one',
              ExpressionAttributeNames: { '#c': 'counter' },
              ExpressionAttributeValues: { ':one': { N: '1' } },
            }),
          ),
        ),
      );
      for (const c of nodes) {
        const r = await c.send(
          new GetItemCommand({
            TableName: 'shared',
            Key: { pk: { S: 'counter' }, sk: { N: '0' } },
            ConsistentRead: true,
          }),
        );
        assert.equal(r.Item?.counter?.N, '1000');
      }

      // Optimistic locking: 30 writers (half per node) read the version and write version+1 on
      // condition; the losers re-read and retry. Every writer's id must be in the final list.
      await a.send(
        new PutItemCommand({
          TableName: 'shared',
          Item: { pk: { S: 'lock' }, sk: { N: '0' }, ver: { N: '0' }, ids: { L: [] } },
        }),
      );
      let conflicts = 0;
      const writer = async (id: number) => {
        const c = nodes[id % 2];
        for (;;) {
          const cur = await c.send(
            new GetItemCommand({
              TableName: 'shared',
              Key: { pk: { S: 'lock' }, sk: { N: '0' } },
              ConsistentRead: true,
            }),
          );
          const ver = cur.Item!.ver.N!;
          try {
            await c.send(
              new UpdateItemCommand({
                TableName: 'shared',
                Key: { pk: { S: 'lock' }, sk: { N: '0' } },
                UpdateExpression: 'SET ver = :next, ids = list_append(ids, :me)',
                ConditionExpression: 'ver = :ver',
                ExpressionAttributeValues: {
                  ':ver': { N: ver },
                  ':next': { N: String(Number(ver) + 1) },
                  ':me': { L: [{ N: String(id) }] },
                },
              }),
            );
            return;
          } catch (e) {
            if (!(e instanceof ConditionalCheckFailedException)) throw e;
            conflicts++;
          }
        }
      };
      await Promise.all(Array.from({ length: 30 }, (_, i) => writer(i)));
      const fin = await b.send(
        new GetItemCommand({
          TableName: 'shared',
          Key: { pk: { S: 'lock' }, sk: { N: '0' } },
          ConsistentRead: true,
        }),
      );
      assert.equal(fin.Item?.ver?.N, '30');
      const ids = fin.Item!.ids.L!.map((v) => Number(v.N)).sort((x, y) => x - y);
      assert.deepEqual(
        ids,
        Array.from({ length: 30 }, (_, i) => i),
      );
      assert.ok(conflicts > 0, 'the writers really conflicted');
    } finally {
      a.destroy();
      b.destroy();
    }
  },
);
