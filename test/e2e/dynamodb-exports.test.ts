/**
 * DynamoDB exports to S3 and imports from it with the real SDK: ExportTableToPointInTime
 * writes the table as it was at ExportTime into Nimbus's S3 in DynamoDB's layout (data files of
 * `{"Item": ...}` lines, the two manifests); DescribeExport / ListExports follow it to
 * COMPLETED; ImportTable reads those files (or CSV) into a new table; errors as AWS's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  DynamoDBClient,
  CreateTableCommand,
  PutItemCommand,
  DeleteItemCommand,
  UpdateContinuousBackupsCommand,
  ExportTableToPointInTimeCommand,
  DescribeExportCommand,
  ListExportsCommand,
  ImportTableCommand,
  DescribeImportCommand,
  ListImportsCommand,
  ScanCommand,
  type ImportTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  S3Client,
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { OffsetClock } from '../../src/core/clock.js';
import { startTestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

test('ExportTableToPointInTime and ImportTable: the table at ExportTime in S3, manifests, imports of JSON and CSV, errors', async () => {
  const clock = new OffsetClock();
  await using srv = await startTestServer({ start: { clock } });
  const ddb = new DynamoDBClient(srv.clientConfig);
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'exports' }));
  const t = await ddb.send(
    new CreateTableCommand({
      TableName: 'orders',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  const tableArn = t.TableDescription!.TableArn!;
  const exportOf = (extra: Record<string, unknown> = {}) =>
    ddb.send(new ExportTableToPointInTimeCommand({ TableArn: tableArn, S3Bucket: 'exports', ...extra }));

  await assert.rejects(exportOf(), {
    name: 'PointInTimeRecoveryUnavailableException',
    message: "Point in time recovery is not enabled for table 'orders'",
  });
  await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: 'orders',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  for (const id of ['a', 'b', 'c'])
    await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: id }, n: { N: '1' } } }));
  clock.advance(60_000);
  const exportTime = new Date(clock.now());
  clock.advance(60_000);
  // Written after ExportTime: not in the export.
  await ddb.send(new DeleteItemCommand({ TableName: 'orders', Key: { id: { S: 'a' } } }));
  await ddb.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'd' }, n: { N: '2' } } }));

  const started = await exportOf({
    ExportTime: exportTime,
    S3Prefix: 'backups/orders',
    ClientToken: 'tok-1',
  });
  const arn = started.ExportDescription!.ExportArn!;
  assert.match(arn, new RegExp(`^${tableArn}/export/\\d{14}-[0-9a-f]{8}$`));
  assert.equal(started.ExportDescription!.ExportStatus, 'IN_PROGRESS');
  assert.equal(started.ExportDescription!.ExportTime!.getTime(), exportTime.getTime());
  // The same ClientToken again is the same export; with other parameters, a conflict.
  const again = await exportOf({ ExportTime: exportTime, S3Prefix: 'backups/orders', ClientToken: 'tok-1' });
  assert.equal(again.ExportDescription!.ExportArn, arn);
  await assert.rejects(exportOf({ S3Prefix: 'elsewhere', ClientToken: 'tok-1' }), {
    name: 'ExportConflictException',
  });

  const done = await until(
    'the export completes',
    async () => {
      const d = (await ddb.send(new DescribeExportCommand({ ExportArn: arn }))).ExportDescription!;
      return d.ExportStatus === 'COMPLETED' ? d : undefined;
    },
    10_000,
  );
  assert.equal(done.ItemCount, 3);
  assert.equal(done.ExportFormat, 'DYNAMODB_JSON');
  assert.equal(done.ExportType, 'FULL_EXPORT');
  assert.equal(done.S3Prefix, 'backups/orders');
  const exportId = arn.split('/').pop()!;
  const base = `backups/orders/AWSDynamoDB/${exportId}`;
  assert.equal(done.ExportManifest, `${base}/manifest-summary.json`);

  const get = async (key: string) =>
    Buffer.from(
      await (
        await s3.send(new GetObjectCommand({ Bucket: 'exports', Key: key }))
      ).Body!.transformToByteArray(),
    );
  const summary = JSON.parse((await get(done.ExportManifest!)).toString()) as Record<string, unknown>;
  assert.equal(summary.exportArn, arn);
  assert.equal(summary.itemCount, 3);
  assert.equal(summary.outputFormat, 'DYNAMODB_JSON');
  assert.equal(summary.exportTime, exportTime.toISOString());
  const files = (await get(summary.manifestFilesS3Key as string))
    .toString()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { itemCount: number; md5Checksum: string; dataFileS3Key: string });
  const items: unknown[] = [];
  for (const f of files) {
    const data = await get(f.dataFileS3Key);
    assert.equal(createHash('md5').update(data).digest('base64'), f.md5Checksum);
    const lines = gunzipSync(data).toString().trim().split('\n');
    assert.equal(lines.length, f.itemCount);
    items.push(...lines.map((l) => JSON.parse(l)));
  }
  assert.deepEqual(
    items.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
    ['a', 'b', 'c'].map((id) => ({ Item: { id: { S: id }, n: { N: '1' } } })),
  );
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: base }));
  const names = listed.Contents!.map((o) => o.Key!.slice(base.length + 1)).sort();
  assert.deepEqual(
    names.filter((n) => !n.startsWith('data/')),
    [
      '_started',
      'manifest-files.json',
      'manifest-files.md5',
      'manifest-summary.json',
      'manifest-summary.md5',
    ],
  );

  // A bucket that does not exist: the export fails with S3NoSuchBucket.
  const lost = await exportOf({ S3Bucket: 'no-such-bucket' });
  const failed = await until(
    'the export fails',
    async () => {
      const d = (await ddb.send(new DescribeExportCommand({ ExportArn: lost.ExportDescription!.ExportArn })))
        .ExportDescription!;
      return d.ExportStatus === 'FAILED' ? d : undefined;
    },
    10_000,
  );
  assert.equal(failed.FailureCode, 'S3NoSuchBucket');

  const list = await ddb.send(new ListExportsCommand({ TableArn: tableArn }));
  assert.deepEqual(
    list.ExportSummaries!.map((e) => [e.ExportArn, e.ExportStatus]),
    [
      [arn, 'COMPLETED'],
      [lost.ExportDescription!.ExportArn, 'FAILED'],
    ],
  );
  const paged = await ddb.send(new ListExportsCommand({ MaxResults: 1 }));
  assert.equal(paged.ExportSummaries!.length, 1);
  const rest = await ddb.send(new ListExportsCommand({ MaxResults: 1, NextToken: paged.NextToken }));
  assert.equal(rest.ExportSummaries![0].ExportArn, lost.ExportDescription!.ExportArn);

  await assert.rejects(exportOf({ ExportTime: new Date(clock.now() + 3600_000) }), {
    name: 'InvalidExportTimeException',
  });
  await assert.rejects(exportOf({ TableArn: tableArn.replace('orders', 'missing') }), {
    name: 'TableNotFoundException',
  });
  await assert.rejects(exportOf({ ExportFormat: 'ION' }), { name: 'ValidationException' });
  await assert.rejects(
    ddb.send(new DescribeExportCommand({ ExportArn: `${tableArn}/export/01234567890123-abcdef01` })),
    {
      name: 'ExportNotFoundException',
    },
  );

  // ImportTable reads the export's data files back into a new table.
  const importOf = async (input: Partial<ImportTableCommandInput>, name: string) => {
    const r = await ddb.send(
      new ImportTableCommand({
        S3BucketSource: { S3Bucket: 'exports', S3KeyPrefix: `${base}/data/` },
        InputFormat: 'DYNAMODB_JSON',
        InputCompressionType: 'GZIP',
        TableCreationParameters: {
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        },
        ...input,
      }),
    );
    const arn = r.ImportTableDescription!.ImportArn!;
    assert.equal(r.ImportTableDescription!.ImportStatus, 'IN_PROGRESS');
    return until(
      `import ${name}`,
      async () => {
        const d = (await ddb.send(new DescribeImportCommand({ ImportArn: arn }))).ImportTableDescription!;
        return d.ImportStatus !== 'IN_PROGRESS' ? d : undefined;
      },
      10_000,
    );
  };
  const back = await importOf({}, 'orders-copy');
  assert.equal(back.ImportStatus, 'COMPLETED');
  assert.equal(back.ImportedItemCount, 3);
  assert.equal(back.ErrorCount, 0);
  const copied = await ddb.send(new ScanCommand({ TableName: 'orders-copy' }));
  assert.deepEqual(copied.Items!.map((i) => i.id.S).sort(), ['a', 'b', 'c']);
  await assert.rejects(importOf({}, 'orders-copy'), { name: 'ResourceInUseException' });

  // CSV with a header line: keys typed by the AttributeDefinitions, other values strings; a row
  // without the key counts as an error.
  await s3.send(
    new PutObjectCommand({
      Bucket: 'exports',
      Key: 'csv/people.csv',
      Body: 'id,name,age\n1,"Smith, Ann",40\n2,Bob,\n,NoKey,3\n',
    }),
  );
  const people = await importOf(
    {
      S3BucketSource: { S3Bucket: 'exports', S3KeyPrefix: 'csv/' },
      InputFormat: 'CSV',
      InputCompressionType: 'NONE',
      TableCreationParameters: {
        TableName: 'people',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'N' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      },
    },
    'people',
  );
  assert.deepEqual([people.ImportedItemCount, people.ErrorCount, people.ProcessedItemCount], [2, 1, 3]);
  // The item that was not imported is reported in CloudWatch Logs, as DynamoDB reports it.
  assert.equal(
    people.CloudWatchLogGroupArn,
    'arn:aws:logs:us-east-1:000000000000:log-group:/aws-dynamodb/imports:*',
  );
  const logsClient = new CloudWatchLogsClient(srv.clientConfig);
  const logged = await logsClient.send(
    new FilterLogEventsCommand({
      logGroupName: '/aws-dynamodb/imports',
      filterPattern: `"${people.ImportArn}"`,
    }),
  );
  logsClient.destroy();
  assert.equal(logged.events?.length, 1);
  const entry = JSON.parse(logged.events![0].message!);
  assert.deepEqual(entry.itemS3Pointer, { bucket: 'exports', key: 'csv/people.csv', itemIndex: 2 });
  assert.equal(entry.importArn, people.ImportArn);
  assert.equal(entry.errorMessages.length, 1);
  const rows = (await ddb.send(new ScanCommand({ TableName: 'people' }))).Items!;
  assert.deepEqual(
    rows.sort((x, y) => Number(x.id.N) - Number(y.id.N)),
    [
      { id: { N: '1' }, name: { S: 'Smith, Ann' }, age: { S: '40' } },
      { id: { N: '2' }, name: { S: 'Bob' } },
    ],
  );
  const empty = await importOf(
    { S3BucketSource: { S3Bucket: 'exports', S3KeyPrefix: 'nothing-here/' } },
    'empty',
  );
  assert.equal(empty.ImportStatus, 'FAILED');
  const imports = await ddb.send(new ListImportsCommand({}));
  assert.deepEqual(
    imports.ImportSummaryList!.map((i) => i.ImportStatus),
    ['COMPLETED', 'COMPLETED', 'FAILED'],
  );
  await assert.rejects(
    ddb.send(new DescribeImportCommand({ ImportArn: `${tableArn}/import/01234567890123-abcdef01` })),
    { name: 'ImportNotFoundException' },
  );
});
