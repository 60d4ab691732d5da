/**
 * The S3 engine: buckets, objects, listings and multipart uploads, without HTTP. Metadata in
 * Store collections, bodies in Store blobs.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store, Transaction } from '../storage/store.js';
import {
  eventBridgeEntry,
  eventMessage,
  generateId,
  nextSequencer,
  targetsFor,
  testEventMessage,
  validateConfiguration,
  type DestinationType,
  type EmittedEvent,
  type NotificationConfiguration,
} from './notifications.js';
import {
  COLLECTIONS,
  NOTIFY_QUEUE,
  MAX_PART_NUMBER,
  MIN_PART_SIZE,
  errors,
  isValidBucketName,
  objectKey,
  partKey,
  type BucketRecord,
  type ObjectHeaders,
  type ObjectRecord,
  type PartRecord,
  type S3Scope,
  type UploadRecord,
} from './model.js';

/** Where event notifications go: Lambda, SQS and SNS, through their engines (wired by the server). */
export interface NotificationTargets {
  /** Why S3 may not deliver to this destination (AWS's reason), or undefined when it may. */
  check(type: DestinationType, arn: string, bucket: BucketRecord): Promise<string | undefined>;
  /** Delivers one message; `id` is stable across redeliveries of the same notification. */
  deliver(type: DestinationType, arn: string, message: string, id: string): Promise<void>;
}

/** A pending notification in the outbox (the Store job queue NOTIFY_QUEUE). */
export interface NotifyJob {
  type: DestinationType;
  arn: string;
  message: string;
  bucket: string;
}

export interface S3Deps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Destinations of event notifications (absent: configurations naming one are refused). */
  targets?: () => NotificationTargets;
}

/** Attempts per notification before it is dead-lettered (the destination stays unreachable). */
export const NOTIFY_MAX_ATTEMPTS = 10;

export interface PutInput extends ObjectHeaders {
  metadata?: Record<string, string>;
  checksums?: Record<string, string>;
}

export interface ListInput {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  /** Exclusive start: a key or a common prefix returned earlier. */
  after?: string;
}

export interface ListOutput {
  contents: ObjectRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix of this page (the resume point). */
  last?: string;
}

const PAGE = 1000;

export class S3Engine {
  constructor(private readonly deps: S3Deps) {}

  private get store(): Store {
    return this.deps.store;
  }

  // ------------------------------------------------------------------ buckets

  async listBuckets(scope: S3Scope): Promise<BucketRecord[]> {
    const all = await this.store.scan<BucketRecord>(COLLECTIONS.buckets);
    return all.map((e) => e.value).filter((b) => b.owner === scope.accountId);
  }

  async createBucket(scope: S3Scope, name: string, locationConstraint?: string): Promise<BucketRecord> {
    if (!isValidBucketName(name)) throw errors.invalidBucketName(name);
    const region = locationConstraint || scope.region;
    const rec: BucketRecord = { name, owner: scope.accountId, region, createdAt: this.deps.clock.now() };
    const created = await this.store.insert(COLLECTIONS.buckets, name, rec);
    if (created) return rec;
    const existing = await this.store.get<BucketRecord>(COLLECTIONS.buckets, name);
    if (!existing || existing.owner !== scope.accountId) throw errors.bucketExists(name);
    // AWS's legacy behaviour: re-creating your own bucket in us-east-1 answers 200.
    if (scope.region === 'us-east-1' && existing.region === 'us-east-1') return existing;
    throw errors.bucketOwnedByYou(name);
  }

  /** The bucket, if the caller owns it (NoSuchBucket / AccessDenied otherwise). */
  async headBucket(scope: S3Scope, name: string): Promise<BucketRecord> {
    const rec = await this.store.get<BucketRecord>(COLLECTIONS.buckets, name);
    if (!rec) throw errors.noSuchBucket(name);
    if (rec.owner !== scope.accountId) throw errors.accessDenied();
    return rec;
  }

  // ------------------------------------------------------------------ notifications

  async getBucketNotificationConfiguration(scope: S3Scope, name: string): Promise<NotificationConfiguration> {
    const b = await this.headBucket(scope, name);
    return b.notification ?? { targets: [] };
  }

  /**
   * Replaces the bucket's configuration (an empty one clears it) after S3's checks; queues and
   * topics it names get `s3:TestEvent`, enqueued in the same transaction.
   */
  async putBucketNotificationConfiguration(
    scope: S3Scope,
    name: string,
    config: NotificationConfiguration,
    opts: { skipDestinationValidation?: boolean } = {},
  ): Promise<void> {
    const bucket = await this.headBucket(scope, name);
    for (const t of config.targets) if (!t.Id) t.Id = generateId();
    validateConfiguration(config);
    if (!opts.skipDestinationValidation) {
      const failures: Record<string, string> = {};
      let n = 0;
      for (const t of config.targets) {
        const why = this.deps.targets
          ? await this.deps.targets().check(t.type, t.arn, bucket)
          : 'Destinations are not available';
        if (why === undefined) continue;
        n++;
        failures[`ArgumentName${n}`] = `${t.arn}, null`;
        failures[`ArgumentValue${n}`] = why;
      }
      if (n > 0) throw errors.invalidDestinations(failures);
    }
    const now = this.deps.clock.now();
    const requestId = scope.request?.requestId ?? randomUUID();
    const hostId = scope.request?.hostId ?? '';
    await this.store.transaction(async (tx) => {
      const cur = await tx.get<BucketRecord>(COLLECTIONS.buckets, name);
      if (!cur) throw errors.noSuchBucket(name);
      const next: BucketRecord = { ...cur };
      if (config.targets.length > 0 || config.eventBridge) next.notification = config;
      else delete next.notification;
      await tx.put(COLLECTIONS.buckets, name, next);
      const tested = new Set<string>();
      for (const t of config.targets) {
        if (t.type === 'lambda' || tested.has(t.arn)) continue;
        tested.add(t.arn);
        const job: NotifyJob = {
          type: t.type,
          arn: t.arn,
          bucket: name,
          message: testEventMessage(name, now, requestId, hostId),
        };
        await tx.enqueue(NOTIFY_QUEUE, job, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
      }
    });
  }

  /** Enqueues, in the write's transaction, one notification per configuration the event matches. */
  private async emit(
    tx: Transaction,
    scope: S3Scope,
    bucket: BucketRecord,
    eventName: EmittedEvent,
    key: string,
    object?: { size: number; etag: string },
  ): Promise<void> {
    const targets = targetsFor(bucket.notification, eventName, key);
    const toBus = bucket.notification?.eventBridge === true;
    if (targets.length === 0 && !toBus) return;
    const ev = {
      eventName,
      bucket: bucket.name,
      owner: bucket.owner,
      region: bucket.region,
      key,
      size: object?.size,
      etag: object?.etag,
      time: this.deps.clock.now(),
      sequencer: nextSequencer(this.deps.clock.now()),
      request: scope.request,
    };
    for (const t of targets) {
      const job: NotifyJob = {
        type: t.type,
        arn: t.arn,
        bucket: bucket.name,
        message: eventMessage(ev, t.Id),
      };
      await tx.enqueue(NOTIFY_QUEUE, job, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
    }
    if (toBus) {
      // EventBridge gets every event of the bucket (rules filter them), on the owner's default bus.
      const job: NotifyJob = {
        type: 'eventbridge',
        arn: `arn:aws:events:${bucket.region}:${bucket.owner}:event-bus/default`,
        bucket: bucket.name,
        message: JSON.stringify(eventBridgeEntry(ev)),
      };
      await tx.enqueue(NOTIFY_QUEUE, job, { maxAttempts: NOTIFY_MAX_ATTEMPTS });
    }
  }

  async deleteBucket(scope: S3Scope, name: string): Promise<void> {
    await this.headBucket(scope, name);
    const uploads = await this.store.scan<UploadRecord>(COLLECTIONS.uploads, { prefix: `${name}/` });
    await this.store.transaction(async (tx) => {
      if ((await tx.count(COLLECTIONS.objects, { prefix: `${name}/` })) > 0)
        throw errors.bucketNotEmpty(name);
      await tx.delete(COLLECTIONS.buckets, name);
    });
    for (const u of uploads) await this.abortMultipartUpload(scope, name, u.value.key, u.value.uploadId);
  }

  // ------------------------------------------------------------------ objects

  async putObject(scope: S3Scope, bucket: string, key: string, data: Buffer, input: PutInput = {}) {
    await this.headBucket(scope, bucket);
    const etag = `"${createHash('md5').update(data).digest('hex')}"`;
    return this.store_(scope, 'ObjectCreated:Put', bucket, key, data, etag, input);
  }

  private async store_(
    scope: S3Scope,
    eventName: EmittedEvent,
    bucket: string,
    key: string,
    data: Buffer,
    etag: string,
    input: PutInput,
    partsCount?: number,
  ): Promise<ObjectRecord> {
    checkKey(key);
    const blob = `s3/${bucket}/${randomUUID()}`;
    await this.store.blobs.put(blob, data);
    const rec: ObjectRecord = {
      key,
      size: data.length,
      etag,
      lastModified: this.deps.clock.now(),
      metadata: input.metadata ?? {},
      checksums: input.checksums ?? {},
      blob,
      contentType: input.contentType,
      cacheControl: input.cacheControl,
      contentDisposition: input.contentDisposition,
      contentEncoding: input.contentEncoding,
      contentLanguage: input.contentLanguage,
      expires: input.expires,
      partsCount,
    };
    for (const k of Object.keys(rec) as (keyof ObjectRecord)[]) if (rec[k] === undefined) delete rec[k];
    let old: ObjectRecord | undefined;
    try {
      old = await this.store.transaction(async (tx) => {
        const b = await tx.get<BucketRecord>(COLLECTIONS.buckets, bucket);
        if (!b) throw errors.noSuchBucket(bucket);
        const prev = await tx.get<ObjectRecord>(COLLECTIONS.objects, objectKey(bucket, key));
        await tx.put(COLLECTIONS.objects, objectKey(bucket, key), rec);
        await this.emit(tx, scope, b, eventName, key, { size: rec.size, etag: rec.etag });
        return prev;
      });
    } catch (e) {
      await this.store.blobs.delete(blob);
      throw e;
    }
    if (old) await this.store.blobs.delete(old.blob);
    return rec;
  }

  async headObject(scope: S3Scope, bucket: string, key: string): Promise<ObjectRecord> {
    await this.headBucket(scope, bucket);
    const rec = await this.store.get<ObjectRecord>(COLLECTIONS.objects, objectKey(bucket, key));
    if (!rec) throw errors.noSuchKey(key);
    return rec;
  }

  async getObject(
    scope: S3Scope,
    bucket: string,
    key: string,
  ): Promise<{ record: ObjectRecord; data: Buffer }> {
    // The blob of a record read just before an overwrite may be gone: read the record again.
    for (let attempt = 0; ; attempt++) {
      const record = await this.headObject(scope, bucket, key);
      const data = await this.store.blobs.get(record.blob);
      if (data) return { record, data };
      if (attempt >= 3) throw errors.noSuchKey(key);
    }
  }

  async deleteObject(scope: S3Scope, bucket: string, key: string): Promise<void> {
    await this.headBucket(scope, bucket);
    const old = await this.store.transaction(async (tx) => {
      const b = await tx.get<BucketRecord>(COLLECTIONS.buckets, bucket);
      if (!b) throw errors.noSuchBucket(bucket);
      const prev = await tx.get<ObjectRecord>(COLLECTIONS.objects, objectKey(bucket, key));
      if (prev) await tx.delete(COLLECTIONS.objects, objectKey(bucket, key));
      // S3 answers 204 and notifies for a key that did not exist too (unversioned bucket).
      await this.emit(tx, scope, b, 'ObjectRemoved:Delete', key);
      return prev;
    });
    if (old) await this.store.blobs.delete(old.blob);
  }

  async copyObject(
    scope: S3Scope,
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string },
    replace: PutInput | undefined,
  ): Promise<ObjectRecord> {
    const { record, data } = await this.getObject(scope, src.bucket, src.key);
    await this.headBucket(scope, dst.bucket);
    if (!replace && src.bucket === dst.bucket && src.key === dst.key) {
      throw errors.invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const input: PutInput = replace ?? {
      metadata: record.metadata,
      contentType: record.contentType,
      cacheControl: record.cacheControl,
      contentDisposition: record.contentDisposition,
      contentEncoding: record.contentEncoding,
      contentLanguage: record.contentLanguage,
      expires: record.expires,
    };
    const etag = record.partsCount ? `"${createHash('md5').update(data).digest('hex')}"` : record.etag;
    return this.store_(scope, 'ObjectCreated:Copy', dst.bucket, dst.key, data, etag, {
      ...input,
      checksums: record.checksums,
    });
  }

  /**
   * One page of keys under `prefix` in UTF-8 byte order, with keys that share the part up to
   * the next `delimiter` rolled up into common prefixes (each counting once toward maxKeys).
   */
  async listObjects(scope: S3Scope, bucket: string, input: ListInput): Promise<ListOutput> {
    await this.headBucket(scope, bucket);
    const prefix = input.prefix ?? '';
    const delimiter = input.delimiter ?? '';
    const maxKeys = input.maxKeys ?? 1000;
    const out: ListOutput = { contents: [], commonPrefixes: [], isTruncated: false };
    if (maxKeys <= 0) return out;
    const base = `${bucket}/`;
    let after = input.after !== undefined && input.after >= prefix ? base + input.after : undefined;
    const skipPrefix = input.after !== undefined && delimiter !== '' && input.after.endsWith(delimiter);
    let lastPrefix = skipPrefix ? input.after : undefined;
    let count = 0;
    for (;;) {
      const page = await this.store.scan<ObjectRecord>(COLLECTIONS.objects, {
        prefix: base + prefix,
        after,
        limit: PAGE,
      });
      for (const e of page) {
        const key = e.value.key;
        let cp: string | undefined;
        if (delimiter) {
          const i = key.indexOf(delimiter, prefix.length);
          if (i >= 0) cp = key.slice(0, i + delimiter.length);
        }
        if (cp !== undefined && cp === lastPrefix) continue;
        if (count === maxKeys) {
          out.isTruncated = true;
          return out;
        }
        count++;
        if (cp !== undefined) {
          out.commonPrefixes.push(cp);
          lastPrefix = cp;
          out.last = cp;
        } else {
          out.contents.push(e.value);
          out.last = key;
        }
      }
      if (page.length < PAGE) return out;
      after = page[page.length - 1].key;
    }
  }

  // ------------------------------------------------------------------ multipart

  async createMultipartUpload(scope: S3Scope, bucket: string, key: string, input: PutInput = {}) {
    await this.headBucket(scope, bucket);
    checkKey(key);
    const uploadId = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
    const rec: UploadRecord = {
      uploadId,
      bucket,
      key,
      metadata: input.metadata ?? {},
      initiatedAt: this.deps.clock.now(),
      contentType: input.contentType,
      cacheControl: input.cacheControl,
      contentDisposition: input.contentDisposition,
      contentEncoding: input.contentEncoding,
      contentLanguage: input.contentLanguage,
      expires: input.expires,
    };
    for (const k of Object.keys(rec) as (keyof UploadRecord)[]) if (rec[k] === undefined) delete rec[k];
    await this.store.put(COLLECTIONS.uploads, `${bucket}/${uploadId}`, rec);
    return rec;
  }

  private async upload(scope: S3Scope, bucket: string, key: string, uploadId: string): Promise<UploadRecord> {
    await this.headBucket(scope, bucket);
    const rec = await this.store.get<UploadRecord>(COLLECTIONS.uploads, `${bucket}/${uploadId}`);
    if (!rec || rec.key !== key) throw errors.noSuchUpload(uploadId);
    return rec;
  }

  async uploadPart(
    scope: S3Scope,
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    data: Buffer,
  ): Promise<PartRecord> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw errors.invalidArgument(
        'Part number must be an integer between 1 and 10000, inclusive',
        'partNumber',
        String(partNumber),
      );
    }
    await this.upload(scope, bucket, key, uploadId);
    const blob = `s3mp/${uploadId}/${partNumber}/${randomUUID()}`;
    await this.store.blobs.put(blob, data);
    const rec: PartRecord = {
      partNumber,
      etag: `"${createHash('md5').update(data).digest('hex')}"`,
      size: data.length,
      blob,
      lastModified: this.deps.clock.now(),
    };
    const old = await this.store.transaction(async (tx) => {
      const prev = await tx.get<PartRecord>(COLLECTIONS.parts, partKey(uploadId, partNumber));
      await tx.put(COLLECTIONS.parts, partKey(uploadId, partNumber), rec);
      return prev;
    });
    if (old) await this.store.blobs.delete(old.blob);
    return rec;
  }

  async listParts(scope: S3Scope, bucket: string, key: string, uploadId: string): Promise<PartRecord[]> {
    await this.upload(scope, bucket, key, uploadId);
    return (await this.store.scan<PartRecord>(COLLECTIONS.parts, { prefix: `${uploadId}/` })).map(
      (e) => e.value,
    );
  }

  async completeMultipartUpload(
    scope: S3Scope,
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<ObjectRecord> {
    const upload = await this.upload(scope, bucket, key, uploadId);
    if (parts.length === 0) throw errors.malformedXml();
    const stored = new Map(
      (await this.store.scan<PartRecord>(COLLECTIONS.parts, { prefix: `${uploadId}/` })).map((e) => [
        e.value.partNumber,
        e.value,
      ]),
    );
    const chosen: PartRecord[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i > 0 && p.partNumber <= parts[i - 1].partNumber) throw errors.invalidPartOrder();
      const rec = stored.get(p.partNumber);
      const want = p.etag.startsWith('"') ? p.etag : `"${p.etag}"`;
      if (!rec || rec.etag !== want) throw errors.invalidPart(p.partNumber, p.etag);
      chosen.push(rec);
    }
    for (let i = 0; i < chosen.length - 1; i++)
      if (chosen[i].size < MIN_PART_SIZE) throw errors.entityTooSmall(chosen[i].size);
    const buffers: Buffer[] = [];
    const md5s: Buffer[] = [];
    for (const p of chosen) {
      const b = await this.store.blobs.get(p.blob);
      if (!b) throw errors.invalidPart(p.partNumber, p.etag);
      buffers.push(b);
      md5s.push(Buffer.from(p.etag.slice(1, -1), 'hex'));
    }
    const etag = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-${chosen.length}"`;
    const rec = await this.store_(
      scope,
      'ObjectCreated:CompleteMultipartUpload',
      bucket,
      key,
      Buffer.concat(buffers),
      etag,
      upload,
      chosen.length,
    );
    await this.dropUpload(bucket, uploadId, [...stored.values()]);
    return rec;
  }

  async abortMultipartUpload(scope: S3Scope, bucket: string, key: string, uploadId: string): Promise<void> {
    await this.upload(scope, bucket, key, uploadId);
    const parts = await this.store.scan<PartRecord>(COLLECTIONS.parts, { prefix: `${uploadId}/` });
    await this.dropUpload(
      bucket,
      uploadId,
      parts.map((e) => e.value),
    );
  }

  async listMultipartUploads(scope: S3Scope, bucket: string): Promise<UploadRecord[]> {
    await this.headBucket(scope, bucket);
    return (await this.store.scan<UploadRecord>(COLLECTIONS.uploads, { prefix: `${bucket}/` })).map(
      (e) => e.value,
    );
  }

  private async dropUpload(bucket: string, uploadId: string, parts: PartRecord[]): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.delete(COLLECTIONS.uploads, `${bucket}/${uploadId}`);
      for (const p of parts) await tx.delete(COLLECTIONS.parts, partKey(uploadId, p.partNumber));
    });
    for (const p of parts) await this.store.blobs.delete(p.blob);
  }
}

function checkKey(key: string): void {
  if (key === '') throw errors.invalidArgument('Invalid key', 'key', key);
  if (Buffer.byteLength(key) > 1024) throw errors.keyTooLong();
}
