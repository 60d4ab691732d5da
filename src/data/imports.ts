/**
 * DynamoDB imports from S3: ImportTable, DescribeImport, ListImports.
 *
 * ImportTable creates the table (TableCreationParameters) at once and records the import
 * (IN_PROGRESS) with its job in one Store transaction; a worker (any node) reads every object
 * under S3KeyPrefix in the bucket of Nimbus's S3 (GZIP, ZSTD where Node.js has it, or NONE),
 * parses DYNAMODB_JSON lines (`{"Item": {...}}`, as exports write them) or CSV (a header line or
 * InputFormatOptions.Csv.HeaderList; key attributes typed by the AttributeDefinitions, every
 * other value a string, empty values left out), and puts the items. An item that does not
 * parse or fit the table counts in ErrorCount and is skipped, as on AWS. ION is refused.
 */
import type { LogSink } from '../core/log-sink.js';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { S3Engine } from '../s3/engine.js';
import type { Store } from '../storage/store.js';
import type { DynamoEngine } from './engine.js';
import { S3Jobs } from './s3-jobs.js';
import { constraint, err, errors, type Scope } from './model.js';

type Input = Record<string, any>;

const TOKEN_MS = 8 * 3600_000;
/** DynamoDB's log group for the items an import could not import (one stream per import). */
const IMPORT_LOG_GROUP = '/aws-dynamodb/imports';
const BATCH = 25;

const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;

interface ImportRecord {
  arn: string;
  id: string;
  accountId: string;
  region: string;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  tableArn: string;
  tableId: string;
  tableName: string;
  clientToken: string;
  source: { S3Bucket: string; S3KeyPrefix?: string; S3BucketOwner?: string };
  inputFormat: 'DYNAMODB_JSON' | 'CSV';
  formatOptions?: { Csv?: { Delimiter?: string; HeaderList?: string[] } };
  compression: 'GZIP' | 'ZSTD' | 'NONE';
  creation: Input;
  startTime: number;
  endTime?: number;
  processedSizeBytes?: number;
  processedItemCount?: number;
  importedItemCount?: number;
  errorCount?: number;
  failureCode?: string;
  failureMessage?: string;
}

function describe(r: ImportRecord) {
  return {
    ImportArn: r.arn,
    ImportStatus: r.status,
    TableArn: r.tableArn,
    TableId: r.tableId,
    ClientToken: r.clientToken,
    S3BucketSource: r.source,
    ErrorCount: r.errorCount ?? 0,
    CloudWatchLogGroupArn: `arn:aws:logs:${r.region}:${r.accountId}:log-group:${IMPORT_LOG_GROUP}:*`,
    InputFormat: r.inputFormat,
    ...(r.formatOptions ? { InputFormatOptions: r.formatOptions } : {}),
    InputCompressionType: r.compression,
    TableCreationParameters: r.creation,
    StartTime: r.startTime / 1000,
    ...(r.endTime !== undefined ? { EndTime: r.endTime / 1000 } : {}),
    ProcessedSizeBytes: r.processedSizeBytes ?? 0,
    ProcessedItemCount: r.processedItemCount ?? 0,
    ImportedItemCount: r.importedItemCount ?? 0,
    ...(r.failureCode ? { FailureCode: r.failureCode, FailureMessage: r.failureMessage } : {}),
  };
}

/** One CSV record per line; `"` quotes fields (`""` inside is a quote, newlines are allowed). */
export function parseCsv(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export class Imports {
  private readonly jobs: S3Jobs<ImportRecord>;

  private logs: LogSink | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly engine: DynamoEngine,
  ) {
    this.jobs = new S3Jobs(store, clock, 'ddb-imports', 'import');
  }

  async importTable(scope: Scope, input: Input) {
    const problems: string[] = [];
    if (!input.S3BucketSource) problems.push(constraint(null, 's3BucketSource', 'Member must not be null'));
    if (!input.InputFormat) problems.push(constraint(null, 'inputFormat', 'Member must not be null'));
    if (!input.TableCreationParameters)
      problems.push(constraint(null, 'tableCreationParameters', 'Member must not be null'));
    if (input.InputFormat && !['DYNAMODB_JSON', 'ION', 'CSV'].includes(input.InputFormat))
      problems.push(
        constraint(
          input.InputFormat,
          'inputFormat',
          'Member must satisfy enum value set: [ION, CSV, DYNAMODB_JSON]',
        ),
      );
    const compression = input.InputCompressionType ?? 'NONE';
    if (!['GZIP', 'ZSTD', 'NONE'].includes(compression))
      problems.push(
        constraint(
          compression,
          'inputCompressionType',
          'Member must satisfy enum value set: [GZIP, ZSTD, NONE]',
        ),
      );
    if (problems.length) throw errors.constraints(problems);
    if (!input.S3BucketSource.S3Bucket)
      throw errors.constraints([constraint(null, 's3BucketSource.s3Bucket', 'Member must not be null')]);
    if (input.InputFormat === 'ION')
      throw errors.validation('Nimbus imports DYNAMODB_JSON and CSV: ION is not supported');
    if (compression === 'ZSTD' && !zstd)
      throw errors.validation(
        `ZSTD input needs Node.js 22.15 or later (this server runs ${process.version})`,
      );
    if (input.InputFormatOptions && input.InputFormat !== 'CSV')
      throw errors.validation('InputFormatOptions can only be specified for CSV input format');
    const now = this.clock.now();
    const clientToken = String(input.ClientToken ?? randomBytes(16).toString('hex'));
    const prior = await this.byToken(scope, clientToken, now);
    if (prior) {
      if (prior.tableName !== input.TableCreationParameters.TableName)
        throw err(
          'ImportConflictException',
          'There was a conflict when importing from the specified S3 source',
        );
      return { ImportTableDescription: describe(prior) };
    }
    const creation: Input = { ...input.TableCreationParameters };
    const created = (await this.engine.createTable(scope, creation)) as unknown as {
      TableDescription: { TableArn: string; TableId: string; TableName: string };
    };
    const id = `${String(now).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const rec: ImportRecord = {
      arn: `${created.TableDescription.TableArn}/import/${id}`,
      id,
      accountId: scope.accountId,
      region: scope.region,
      status: 'IN_PROGRESS',
      tableArn: created.TableDescription.TableArn,
      tableId: created.TableDescription.TableId,
      tableName: created.TableDescription.TableName,
      clientToken,
      source: {
        S3Bucket: String(input.S3BucketSource.S3Bucket),
        ...(input.S3BucketSource.S3KeyPrefix
          ? { S3KeyPrefix: String(input.S3BucketSource.S3KeyPrefix) }
          : {}),
        ...(input.S3BucketSource.S3BucketOwner
          ? { S3BucketOwner: String(input.S3BucketSource.S3BucketOwner) }
          : {}),
      },
      inputFormat: input.InputFormat,
      formatOptions: input.InputFormatOptions,
      compression,
      creation,
      startTime: now,
    };
    await this.store.transaction((tx) => this.jobs.add(tx, scope, rec));
    return { ImportTableDescription: describe(rec) };
  }

  private async byToken(scope: Scope, token: string, now: number): Promise<ImportRecord | undefined> {
    return (await this.jobs.all(scope)).find((r) => r.clientToken === token && now - r.startTime <= TOKEN_MS);
  }

  async describeImport(scope: Scope, input: Input) {
    return { ImportTableDescription: describe(await this.jobs.byArn(scope, input.ImportArn, 'importArn')) };
  }

  async listImports(scope: Scope, input: Input) {
    const { records, next } = await this.jobs.page(scope, {
      size: input.PageSize,
      sizeMember: 'pageSize',
      nextToken: input.NextToken,
      tableArn: input.TableArn,
    });
    return {
      ImportSummaryList: records.map((r) => ({
        ImportArn: r.arn,
        ImportStatus: r.status,
        TableArn: r.tableArn,
        S3BucketSource: r.source,
        InputFormat: r.inputFormat,
        StartTime: r.startTime / 1000,
        ...(r.endTime !== undefined ? { EndTime: r.endTime / 1000 } : {}),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  /** Runs the import jobs (any node), reading from `s3`. */
  /** `logs`: where the items that could not be imported are reported (group /aws-dynamodb/imports). */
  start(s3: S3Engine, logger: Logger, logs?: LogSink): void {
    this.logs = logs;
    this.jobs.start(logger, (key) => this.run(key, s3));
  }

  stop(): Promise<void> {
    return this.jobs.stop();
  }

  /** The items of one object, each with its index in it, and the items that could not be read. */
  private parse(
    rec: ImportRecord,
    text: string,
    keyTypes: Map<string, string>,
  ): { items: { item: Input; index: number }[]; bad: { index: number; message: string }[] } {
    const items: { item: Input; index: number }[] = [];
    const bad: { index: number; message: string }[] = [];
    if (rec.inputFormat === 'DYNAMODB_JSON') {
      let index = 0;
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const v = JSON.parse(line) as { Item?: unknown };
          if (v && typeof v.Item === 'object' && v.Item !== null)
            items.push({ item: v.Item as Input, index });
          else bad.push({ index, message: 'The line has no Item' });
        } catch (e) {
          bad.push({ index, message: `Unable to parse the line as JSON: ${(e as Error).message}` });
        }
        index++;
      }
      return { items, bad };
    }
    const csv = rec.formatOptions?.Csv;
    const rows = parseCsv(text, csv?.Delimiter ?? ',');
    const header = csv?.HeaderList ?? rows.shift() ?? [];
    rows.forEach((row, index) => {
      if (row.length > header.length) {
        bad.push({ index, message: `The row has ${row.length} values for ${header.length} columns` });
        return;
      }
      const item: Input = {};
      header.forEach((name, i) => {
        const v = row[i];
        if (v === undefined || v === '') return;
        const t = keyTypes.get(name);
        item[name] = t === 'N' ? { N: v } : t === 'B' ? { B: v } : { S: v };
      });
      items.push({ item, index });
    });
    return { items, bad };
  }

  private async run(key: string, s3: S3Engine): Promise<void> {
    const rec = await this.jobs.get(key);
    if (!rec || rec.status !== 'IN_PROGRESS') return;
    const scope = { accountId: rec.accountId, region: rec.region };
    const fail = (code: string, message: string) =>
      this.jobs.save(key, {
        status: 'FAILED',
        failureCode: code,
        failureMessage: message,
        endTime: this.clock.now(),
      });
    const objects: string[] = [];
    try {
      let after: string | undefined;
      for (;;) {
        const page = await s3.listObjects(scope, rec.source.S3Bucket, {
          prefix: rec.source.S3KeyPrefix ?? '',
          after,
        });
        for (const o of page.contents) objects.push(o.key);
        if (!page.isTruncated) break;
        after = page.last;
      }
    } catch (e) {
      await fail('S3NoSuchBucket', e instanceof Error ? e.message : String(e));
      return;
    }
    if (!objects.length) {
      await fail('InvalidS3Prefix', 'No objects were found under the specified S3 source');
      return;
    }
    const keyTypes = new Map<string, string>(
      ((rec.creation.AttributeDefinitions ?? []) as { AttributeName: string; AttributeType: string }[]).map(
        (a) => [a.AttributeName, a.AttributeType],
      ),
    );
    let processedBytes = 0;
    let processed = 0;
    let imported = 0;
    let errorCount = 0;
    // Each item that is not imported is reported in CloudWatch Logs, as DynamoDB reports it.
    const report = (objKey: string, itemIndex: number, message: string) => {
      errorCount++;
      this.logs?.append(
        { accountId: rec.accountId, region: rec.region, group: IMPORT_LOG_GROUP, stream: rec.id },
        [
          {
            timestamp: this.clock.now(),
            message: JSON.stringify({
              itemS3Pointer: { bucket: rec.source.S3Bucket, key: objKey, itemIndex },
              importArn: rec.arn,
              errorMessages: [message],
            }),
          },
        ],
      );
    };
    for (const objKey of objects) {
      let body = (await s3.getObject(scope, rec.source.S3Bucket, objKey)).data;
      processedBytes += body.length;
      try {
        if (rec.compression === 'GZIP') body = gunzipSync(body);
        else if (rec.compression === 'ZSTD') body = zstd!(body);
      } catch (e) {
        report(objKey, 0, `Unable to decompress the object: ${(e as Error).message}`);
        continue;
      }
      const { items, bad } = this.parse(rec, body.toString('utf8'), keyTypes);
      for (const b of bad) report(objKey, b.index, b.message);
      processed += items.length + bad.length;
      for (let i = 0; i < items.length; i += BATCH) {
        const chunk = items.slice(i, i + BATCH);
        try {
          await this.engine.batchWriteItem(scope, {
            RequestItems: { [rec.tableName]: chunk.map(({ item }) => ({ PutRequest: { Item: item } })) },
          });
          imported += chunk.length;
        } catch {
          // One bad item fails its batch: put them one by one to count it alone.
          for (const { item, index } of chunk) {
            try {
              await this.engine.putItem(scope, { TableName: rec.tableName, Item: item });
              imported++;
            } catch (e) {
              report(objKey, index, e instanceof Error ? e.message : String(e));
            }
          }
        }
      }
    }
    await this.logs?.flush();
    await this.jobs.save(key, {
      status: 'COMPLETED',
      endTime: this.clock.now(),
      processedSizeBytes: processedBytes,
      processedItemCount: processed,
      importedItemCount: imported,
      errorCount,
    });
  }
}
