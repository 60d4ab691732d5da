/**
 * DynamoDB exports to S3: ExportTableToPointInTime, DescribeExport, ListExports.
 *
 * An export needs point-in-time recovery on the table (as on AWS) and reads the items as they
 * were at ExportTime (default: now) from the PITR base and log (backups.ts). The request
 * records the export (IN_PROGRESS) and enqueues its job in one Store transaction, so an
 * acknowledged export survives a crash; a worker (any node) writes the files to the bucket in
 * Nimbus's S3 in DynamoDB's layout, then marks it COMPLETED (or FAILED, e.g. S3NoSuchBucket):
 *
 *   {prefix/}AWSDynamoDB/{exportId}/_started
 *   {prefix/}AWSDynamoDB/{exportId}/data/{name}.json.gz   lines of {"Item": {...}}
 *   {prefix/}AWSDynamoDB/{exportId}/manifest-files.json  a JSON line per data file
 *   {prefix/}AWSDynamoDB/{exportId}/manifest-summary.json
 *   {prefix/}AWSDynamoDB/{exportId}/manifest-files.md5, manifest-summary.md5
 *
 * Full exports in DYNAMODB_JSON; ION and incremental exports are refused (ValidationException).
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { S3Engine } from '../s3/engine.js';
import { AwsError } from '../protocols/errors.js';
import type { Store } from '../storage/store.js';
import { itemSize, type Item } from './bridge.js';
import type { Backups } from './backups.js';
import { constraint, err, errors, type Scope } from './model.js';
import { S3Jobs } from './s3-jobs.js';
import type { Tables } from './tables.js';

type Input = Record<string, any>;

/** A ClientToken names the same export for 8 hours (as on AWS). */
const TOKEN_MS = 8 * 3600_000;
const ITEMS_PER_FILE = 10_000;
const TABLE_ARN = /^arn:aws[\w-]*:dynamodb:([^:]+):(\d{12}):table\/([^/]+)$/;

interface ExportRecord {
  arn: string;
  id: string;
  accountId: string;
  region: string;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  startTime: number;
  endTime?: number;
  exportTime: number;
  tableArn: string;
  tableId: string;
  tableName: string;
  clientToken: string;
  bucket: string;
  bucketOwner?: string;
  prefix?: string;
  sseAlgorithm: string;
  sseKmsKeyId?: string;
  manifest?: string;
  itemCount?: number;
  billedSizeBytes?: number;
  failureCode?: string;
  failureMessage?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Seconds since the epoch from the SDK's timestamp (a number of seconds, or an ISO string). */
function timeOf(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? v * 1000 : Date.parse(String(v));
  if (!Number.isFinite(ms)) throw errors.validation(`Invalid ExportTime: ${String(v)}`);
  return ms;
}

function describe(r: ExportRecord) {
  return {
    ExportArn: r.arn,
    ExportStatus: r.status,
    StartTime: r.startTime / 1000,
    ...(r.endTime !== undefined ? { EndTime: r.endTime / 1000 } : {}),
    ...(r.manifest ? { ExportManifest: r.manifest } : {}),
    TableArn: r.tableArn,
    TableId: r.tableId,
    ExportTime: r.exportTime / 1000,
    ClientToken: r.clientToken,
    S3Bucket: r.bucket,
    ...(r.bucketOwner ? { S3BucketOwner: r.bucketOwner } : {}),
    ...(r.prefix ? { S3Prefix: r.prefix } : {}),
    S3SseAlgorithm: r.sseAlgorithm,
    ...(r.sseKmsKeyId ? { S3SseKmsKeyId: r.sseKmsKeyId } : {}),
    ...(r.failureCode ? { FailureCode: r.failureCode, FailureMessage: r.failureMessage } : {}),
    ExportFormat: 'DYNAMODB_JSON',
    ...(r.billedSizeBytes !== undefined ? { BilledSizeBytes: r.billedSizeBytes } : {}),
    ...(r.itemCount !== undefined ? { ItemCount: r.itemCount } : {}),
    ExportType: 'FULL_EXPORT',
  };
}

export class Exports {
  private readonly jobs: S3Jobs<ExportRecord>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tables: Tables,
    private readonly backups: Backups,
  ) {
    this.jobs = new S3Jobs(store, clock, 'ddb-exports', 'export');
  }

  async exportTableToPointInTime(scope: Scope, input: Input) {
    const missing: string[] = [];
    if (input.TableArn === undefined || input.TableArn === null)
      missing.push(constraint(null, 'tableArn', 'Member must not be null'));
    if (input.S3Bucket === undefined || input.S3Bucket === null)
      missing.push(constraint(null, 's3Bucket', 'Member must not be null'));
    if (missing.length) throw errors.constraints(missing);
    const format = input.ExportFormat ?? 'DYNAMODB_JSON';
    if (format !== 'DYNAMODB_JSON' && format !== 'ION')
      throw errors.constraints([
        constraint(format, 'exportFormat', 'Member must satisfy enum value set: [DYNAMODB_JSON, ION]'),
      ]);
    if (format === 'ION') throw errors.validation('Nimbus exports DYNAMODB_JSON only: ION is not supported');
    if ((input.ExportType ?? 'FULL_EXPORT') !== 'FULL_EXPORT')
      throw errors.validation('Nimbus exports FULL_EXPORT only: incremental exports are not supported');
    const m = TABLE_ARN.exec(String(input.TableArn));
    if (!m) throw errors.validation(`Invalid TableArn provided as input: ${String(input.TableArn)}`);
    const notFound = () => err('TableNotFoundException', `Table not found: ${String(input.TableArn)}`);
    if (m[1] !== scope.region || m[2] !== scope.accountId) throw notFound();
    const meta = await this.tables.get(scope, m[3], notFound);
    if (!meta.pitr)
      throw err(
        'PointInTimeRecoveryUnavailableException',
        `Point in time recovery is not enabled for table '${meta.name}'`,
      );
    const { earliest, latest } = await this.backups.window(meta);
    const exportTime = timeOf(input.ExportTime) ?? latest;
    if (exportTime < earliest || exportTime > latest)
      throw err(
        'InvalidExportTimeException',
        'Export time must be within the point in time recovery window of the table',
      );
    const now = this.clock.now();
    const clientToken = String(input.ClientToken ?? randomBytes(16).toString('hex'));
    const prefix = input.S3Prefix ? String(input.S3Prefix) : undefined;
    const id = `${String(now).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const rec: ExportRecord = {
      arn: `${meta.arn}/export/${id}`,
      id,
      accountId: scope.accountId,
      region: scope.region,
      status: 'IN_PROGRESS',
      startTime: now,
      exportTime,
      tableArn: meta.arn,
      tableId: meta.id,
      tableName: meta.name,
      clientToken,
      bucket: String(input.S3Bucket),
      bucketOwner: input.S3BucketOwner ? String(input.S3BucketOwner) : undefined,
      prefix,
      sseAlgorithm: String(input.S3SseAlgorithm ?? 'AES256'),
      sseKmsKeyId: input.S3SseKmsKeyId ? String(input.S3SseKmsKeyId) : undefined,
    };
    const same = (r: ExportRecord) =>
      r.tableArn === rec.tableArn &&
      r.bucket === rec.bucket &&
      r.prefix === rec.prefix &&
      (input.ExportTime === undefined || r.exportTime === rec.exportTime);
    const out = await this.store.transaction(async (tx) => {
      // The same ClientToken within 8 hours names the same export (a retried request).
      for (const e of await this.jobs.all(scope, tx)) {
        if (e.clientToken !== clientToken || now - e.startTime > TOKEN_MS) continue;
        if (!same(e))
          throw err(
            'ExportConflictException',
            'There was a conflict when writing to the specified S3 bucket: an export with this ClientToken and other parameters exists',
          );
        return e;
      }
      await this.jobs.add(tx, scope, rec);
      return rec;
    });
    return { ExportDescription: describe(out) };
  }

  async describeExport(scope: Scope, input: Input) {
    return { ExportDescription: describe(await this.jobs.byArn(scope, input.ExportArn, 'exportArn')) };
  }

  async listExports(scope: Scope, input: Input) {
    const { records, next } = await this.jobs.page(scope, {
      size: input.MaxResults,
      sizeMember: 'maxResults',
      nextToken: input.NextToken,
      tableArn: input.TableArn,
    });
    return {
      ExportSummaries: records.map((r) => ({
        ExportArn: r.arn,
        ExportStatus: r.status,
        ExportType: 'FULL_EXPORT',
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  /** Runs the export jobs (any node), writing to `s3`. */
  start(s3: S3Engine, logger: Logger): void {
    this.jobs.start(logger, (key) => this.run(key, s3));
  }

  stop(): Promise<void> {
    return this.jobs.stop();
  }

  private finish(key: string, patch: Partial<ExportRecord>): Promise<void> {
    return this.jobs.save(key, { ...patch, endTime: this.clock.now() });
  }

  private async run(key: string, s3: S3Engine): Promise<void> {
    const rec = await this.jobs.get(key);
    if (!rec || rec.status !== 'IN_PROGRESS') return;
    const scope = { accountId: rec.accountId, region: rec.region };
    const meta = await this.tables.get(scope, rec.tableName).catch(() => undefined);
    if (!meta || meta.id !== rec.tableId || !meta.pitr) {
      await this.finish(key, {
        status: 'FAILED',
        failureCode: 'UNKNOWN',
        failureMessage: 'The table or its point in time recovery was removed during the export',
      });
      return;
    }
    const base = `${rec.prefix ? rec.prefix.replace(/\/$/, '') + '/' : ''}AWSDynamoDB/${rec.id}`;
    const put = (name: string, body: Buffer | string, contentType: string) =>
      s3.putObject(scope, rec.bucket, `${base}/${name}`, Buffer.from(body), { contentType });
    try {
      await put('_started', '', 'application/octet-stream');
    } catch (e) {
      if (e instanceof AwsError && e.code === 'NoSuchBucket') {
        await this.finish(key, {
          status: 'FAILED',
          failureCode: 'S3NoSuchBucket',
          failureMessage: 'The specified bucket does not exist',
        });
        return;
      }
      throw e;
    }
    const items = [...(await this.backups.itemsAt(meta.pitr, rec.exportTime)).entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, item]) => item);
    let billed = 0;
    const files: string[] = [];
    for (let i = 0; i < items.length; i += ITEMS_PER_FILE) {
      const chunk: Item[] = items.slice(i, i + ITEMS_PER_FILE);
      for (const it of chunk) billed += itemSize(it);
      const data = gzipSync(chunk.map((it) => JSON.stringify({ Item: it })).join('\n') + '\n');
      const name = `data/${randomBytes(13).toString('hex').slice(0, 26)}.json.gz`;
      await put(name, data, 'application/x-gzip');
      const md5 = createHash('md5').update(data).digest();
      files.push(
        JSON.stringify({
          itemCount: chunk.length,
          md5Checksum: md5.toString('base64'),
          etag: md5.toString('hex'),
          dataFileS3Key: `${base}/${name}`,
        }),
      );
    }
    const manifestFiles = files.map((f) => f + '\n').join('');
    await put('manifest-files.json', manifestFiles, 'application/json');
    await put('manifest-files.md5', createHash('md5').update(manifestFiles).digest('hex'), 'text/plain');
    const manifest = `${base}/manifest-summary.json`;
    const endTime = this.clock.now();
    const summary = JSON.stringify({
      version: '2020-06-30',
      exportArn: rec.arn,
      startTime: iso(rec.startTime),
      endTime: iso(endTime),
      tableArn: rec.tableArn,
      tableId: rec.tableId,
      exportTime: iso(rec.exportTime),
      s3Bucket: rec.bucket,
      s3Prefix: rec.prefix ?? null,
      s3SseAlgorithm: rec.sseAlgorithm,
      s3SseKmsKeyId: rec.sseKmsKeyId ?? null,
      manifestFilesS3Key: `${base}/manifest-files.json`,
      billedSizeBytes: billed,
      itemCount: items.length,
      outputFormat: 'DYNAMODB_JSON',
      exportType: 'FULL_EXPORT',
    });
    await put('manifest-summary.json', summary, 'application/json');
    await put('manifest-summary.md5', createHash('md5').update(summary).digest('hex'), 'text/plain');
    await this.finish(key, {
      status: 'COMPLETED',
      manifest,
      itemCount: items.length,
      billedSizeBytes: billed,
    });
  }
}
