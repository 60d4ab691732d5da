/**
 * DynamoDB's wire adapters (JSON 1.0): `DynamoDB_20120810` and `DynamoDBStreams_20120810`.
 * They only map operations onto the engine.
 */
import type { JsonService, Operation, RequestContext } from '../server/service.js';
import type { DynamoEngine } from './engine.js';
import type { Scope } from './model.js';
import { PartiQl } from './partiql.js';

const scope = (ctx: RequestContext): Scope => ({ accountId: ctx.accountId, region: ctx.region });

/**
 * DynamoDB answers request validation errors from its front end's namespace, the others from
 * the service's: `{"__type":"com.amazon.coral.validate#ValidationException","message":...}`
 * (responses quoted in AdRoll/goamz#15 and by clients written against live DynamoDB).
 */
const VALIDATION_TYPE = { ValidationException: 'com.amazon.coral.validate#ValidationException' } as const;

type Handler = (s: Scope, input: any, ctx: RequestContext) => Promise<unknown> | unknown;

function ops(map: Record<string, Handler>): Record<string, Operation> {
  const out: Record<string, Operation> = {};
  // Not an async wrapper: the handler's own promise is handed on as it is (an async function
  // returning a promise adds promise jobs to every request); a synchronous throw still rejects.
  for (const [name, h] of Object.entries(map))
    out[name] = (ctx, input) => {
      try {
        return Promise.resolve(h(scope(ctx), input ?? {}, ctx));
      } catch (e) {
        return Promise.reject(e);
      }
    };
  return out;
}

export function dynamoDbService(engine: DynamoEngine): JsonService {
  const e = engine;
  const pq = new PartiQl(engine);
  return {
    protocol: 'json',
    signingName: 'dynamodb',
    jsonVersion: '1.0',
    targetPrefix: 'DynamoDB_20120810',
    errorTypePrefix: 'com.amazonaws.dynamodb.v20120810#',
    errorTypes: VALIDATION_TYPE,
    operations: ops({
      CreateTable: (s, i) => e.createTable(s, i),
      DescribeTable: (s, i) => e.describeTable(s, i),
      UpdateTable: (s, i) => e.updateTable(s, i),
      DeleteTable: (s, i) => e.deleteTable(s, i),
      ListTables: (s, i) => e.listTables(s, i),
      TagResource: (s, i) => e.tagResource(s, i),
      UntagResource: (s, i) => e.untagResource(s, i),
      ListTagsOfResource: (s, i) => e.listTagsOfResource(s, i),
      UpdateTimeToLive: (s, i) => e.updateTimeToLive(s, i),
      DescribeTimeToLive: (s, i) => e.describeTimeToLive(s, i),
      DescribeLimits: () => e.describeLimits(),
      DescribeEndpoints: (_s, _i, ctx) => e.describeEndpoints(ctx.endpoint),
      PutItem: (s, i) => e.putItem(s, i),
      GetItem: (s, i) => e.getItem(s, i),
      UpdateItem: (s, i) => e.updateItem(s, i),
      DeleteItem: (s, i) => e.deleteItem(s, i),
      Query: (s, i) => e.query(s, i),
      Scan: (s, i) => e.scan(s, i),
      BatchGetItem: (s, i) => e.batchGetItem(s, i),
      BatchWriteItem: (s, i) => e.batchWriteItem(s, i),
      TransactWriteItems: (s, i) => e.transactWriteItems(s, i),
      TransactGetItems: (s, i) => e.transactGetItems(s, i),
      CreateBackup: (s, i) => e.backups.createBackup(s, i),
      DescribeBackup: (s, i) => e.backups.describeBackup(s, i),
      ListBackups: (s, i) => e.backups.listBackups(s, i),
      DeleteBackup: (s, i) => e.backups.deleteBackup(s, i),
      RestoreTableFromBackup: (s, i) => e.backups.restoreTableFromBackup(s, i),
      UpdateContinuousBackups: (s, i) => e.backups.updateContinuousBackups(s, i),
      DescribeContinuousBackups: (s, i) => e.backups.describeContinuousBackups(s, i),
      RestoreTableToPointInTime: (s, i) => e.backups.restoreTableToPointInTime(s, i),
      ExportTableToPointInTime: (s, i) => e.exports.exportTableToPointInTime(s, i),
      DescribeExport: (s, i) => e.exports.describeExport(s, i),
      ListExports: (s, i) => e.exports.listExports(s, i),
      ImportTable: (s, i) => e.imports.importTable(s, i),
      DescribeImport: (s, i) => e.imports.describeImport(s, i),
      ListImports: (s, i) => e.imports.listImports(s, i),
      PutResourcePolicy: (s, i) => e.policies.putResourcePolicy(s, i),
      GetResourcePolicy: (s, i) => e.policies.getResourcePolicy(s, i),
      DeleteResourcePolicy: (s, i) => e.policies.deleteResourcePolicy(s, i),
      UpdateContributorInsights: (s, i) => e.insights.updateContributorInsights(s, i),
      DescribeContributorInsights: (s, i) => e.insights.describeContributorInsights(s, i),
      ListContributorInsights: (s, i) => e.insights.listContributorInsights(s, i),
      ExecuteStatement: (s, i) => pq.executeStatement(s, i),
      BatchExecuteStatement: (s, i) => pq.batchExecuteStatement(s, i),
      ExecuteTransaction: (s, i) => pq.executeTransaction(s, i),
    }),
  };
}

export function dynamoDbStreamsService(engine: DynamoEngine): JsonService {
  const st = engine.streams;
  return {
    protocol: 'json',
    // DynamoDB Streams signs with the `dynamodb` name too (its endpoint is streams.dynamodb.<region>).
    signingName: 'dynamodb',
    jsonVersion: '1.0',
    targetPrefix: 'DynamoDBStreams_20120810',
    errorTypePrefix: 'com.amazonaws.dynamodb.v20120810#',
    errorTypes: VALIDATION_TYPE,
    operations: ops({
      ListStreams: (s, i) => st.listStreams(s, i),
      DescribeStream: (s, i) => st.describeStream(s, i),
      GetShardIterator: (s, i) => st.getShardIterator(s, i),
      GetRecords: (s, i) => st.getRecords(s, i),
    }),
  };
}
