/**
 * This session's shared state in cluster mode (two `nimbus up` nodes on one throwaway
 * PostgreSQL): a custom domain name created on one node is served by the other within its
 * refresh period; a global table replica added through one node receives writes made through
 * the other, in both directions; a DynamoDB export requested on one node completes (its job
 * runs on whichever node claims it) and is described on the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateApiMappingCommand,
  CreateDomainNameCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
} from '@aws-sdk/client-apigatewayv2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeExportCommand,
  ExportTableToPointInTimeCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { postgresForFile, nodeClientConfig } from '../helpers/cluster.js';
import { until } from '../helpers/until.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const { skip, pg } = postgresForFile();

/** A GET with its own Host header (fetch always sends the URL's). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    })
      .on('error', reject)
      .end();
  });
}

test('custom domains, global tables and exports across two nodes', { skip, timeout: 120_000 }, async () => {
  await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
  const [a, b] = cluster.nodes;

  // A custom domain made on A is served by B.
  const gwA = new ApiGatewayV2Client(nodeClientConfig(a.endpoint));
  await createNodeFunctions(new LambdaClient(nodeClientConfig(a.endpoint)), {
    hello: `exports.handler = async (e) => ({ statusCode: 200, body: e.requestContext.domainName + ' ' + e.rawPath });`,
  });
  const api = await gwA.send(new CreateApiCommand({ Name: 'c', ProtocolType: 'HTTP' }));
  const integ = await gwA.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: `${FN}hello`,
      PayloadFormatVersion: '2.0',
    }),
  );
  await gwA.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: 'GET /hi',
      Target: `integrations/${integ.IntegrationId}`,
    }),
  );
  await gwA.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: '$default', AutoDeploy: true }));
  await gwA.send(new CreateDomainNameCommand({ DomainName: 'api.cluster.test' }));
  await gwA.send(
    new CreateApiMappingCommand({
      DomainName: 'api.cluster.test',
      ApiId: api.ApiId,
      Stage: '$default',
      ApiMappingKey: 'v1',
    }),
  );
  const viaB = await until(
    'node B serves the domain',
    async () => {
      const r = await getWithHost(`${b.endpoint}/v1/hi`, 'api.cluster.test');
      return r.status === 200 ? r.body : undefined;
    },
    15_000,
  );
  assert.equal(viaB, 'api.cluster.test /v1/hi');

  // A global table replica added through A takes writes made through B, both ways.
  const eastA = new DynamoDBClient(nodeClientConfig(a.endpoint));
  const eastB = new DynamoDBClient(nodeClientConfig(b.endpoint));
  const westB = new DynamoDBClient({ ...nodeClientConfig(b.endpoint), region: 'eu-west-1' });
  await eastA.send(
    new CreateTableCommand({
      TableName: 'glob',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  await eastA.send(
    new UpdateTableCommand({ TableName: 'glob', ReplicaUpdates: [{ Create: { RegionName: 'eu-west-1' } }] }),
  );
  await eastB.send(new PutItemCommand({ TableName: 'glob', Item: { id: { S: 'from-east-b' } } }));
  await westB.send(new PutItemCommand({ TableName: 'glob', Item: { id: { S: 'from-west-b' } } }));
  const westA = new DynamoDBClient({ ...nodeClientConfig(a.endpoint), region: 'eu-west-1' });
  assert.ok(
    (await westA.send(new GetItemCommand({ TableName: 'glob', Key: { id: { S: 'from-east-b' } } }))).Item,
  );
  assert.ok(
    (await eastA.send(new GetItemCommand({ TableName: 'glob', Key: { id: { S: 'from-west-b' } } }))).Item,
  );

  // An export requested on A completes and is seen on B.
  await new S3Client({ ...nodeClientConfig(a.endpoint), forcePathStyle: true }).send(
    new CreateBucketCommand({ Bucket: 'cluster-exports' }),
  );
  await eastA.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'glob',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  const exp = await eastA.send(
    new ExportTableToPointInTimeCommand({
      TableArn: 'arn:aws:dynamodb:us-east-1:000000000000:table/glob',
      S3Bucket: 'cluster-exports',
    }),
  );
  const done = await until(
    'the export completes',
    async () => {
      const d = (await eastB.send(new DescribeExportCommand({ ExportArn: exp.ExportDescription!.ExportArn })))
        .ExportDescription!;
      return d.ExportStatus === 'COMPLETED' ? d : undefined;
    },
    20_000,
  );
  assert.equal(done.ItemCount, 2);
});
