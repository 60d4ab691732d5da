/**
 * S3's wire adapter (REST-XML): decodes a request (path or virtual-hosted addressing, query
 * sub-resources, headers, aws-chunked bodies, checksums), calls the engine and writes the
 * reply. Errors are S3's `<Error>` documents (no body for HEAD).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.js';
import { AwsError, toAwsError } from '../protocols/errors.js';
import { parseSigV4, type Auth } from '../server/auth.js';
import { replied, writeReply } from '../server/reply-batch.js';
import {
  algorithmOfHeader,
  checksumHeader,
  computeChecksum,
  decodeAwsChunked,
  CHECKSUM_ALGORITHMS,
} from './checksums.js';
import type { PutInput, S3Engine } from './engine.js';
import { errors, type ObjectHeaders, type ObjectRecord, type S3Scope } from './model.js';
import {
  parseFilterRules,
  type DestinationType,
  type FilterRule,
  type NotificationConfiguration,
  type TargetConfiguration,
} from './notifications.js';
import { elements, escapeXml, text, xmlDocument } from './xml.js';
import { xmlList } from '../protocols/xml.js';

/** `{bucket}.localhost[:port]` or `{bucket}.s3.{anything}` (virtual-hosted addressing). */
export const S3_HOST_PATTERN =
  /^(?:[a-z0-9][a-z0-9.-]*\.localhost|[a-z0-9][a-z0-9.-]*?\.s3[.-][^:]*)(?::\d+)?$/i;

export function bucketOfHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.replace(/:\d+$/, '').toLowerCase();
  let m = /^([a-z0-9][a-z0-9.-]*)\.localhost$/.exec(h);
  if (m) return m[1];
  m = /^([a-z0-9][a-z0-9.-]*?)\.s3[.-]/.exec(h);
  return m ? m[1] : undefined;
}

/** True when the request is for S3: signed for service `s3`, or virtual-hosted addressing. */
export function isS3Request(req: IncomingMessage, query: URLSearchParams): boolean {
  const host = req.headers.host;
  if (host && S3_HOST_PATTERN.test(host)) return true;
  // Nimbus's own paths (`/_api/...`, `/_lambda-url/...`, `/_nimbus/...`) are never buckets:
  // bucket names start with a letter or digit.
  if (req.url?.startsWith('/_')) return false;
  const authz = req.headers.authorization;
  if (typeof authz === 'string') return /Credential=[^/,]*\/[^/,]*\/[^/,]*\/s3\//.test(authz);
  const cred = query.get('X-Amz-Credential');
  return cred !== null && cred.split('/')[3] === 's3';
}

export interface S3ApiDeps {
  engine: S3Engine;
  auth: Auth;
  logger: Logger;
  region: string;
  maxBodyBytes: number;
}

interface Ctx {
  scope: S3Scope;
  method: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  endpoint: string;
}

interface Out {
  status?: number;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
}

const XML = { 'content-type': 'application/xml' };

function header(h: IncomingMessage['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

export function s3Handler(deps: S3ApiDeps) {
  const { engine, auth, logger } = deps;

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > deps.maxBodyBytes) {
        throw new AwsError(
          'EntityTooLarge',
          'Your proposed upload exceeds the maximum allowed object size.',
          400,
        );
      }
      chunks.push(c);
    }
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
  }

  return async (req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const hostId = randomBytes(24).toString('base64');
    const base: Record<string, string | number> = {
      'x-amz-request-id': requestId,
      'x-amzn-RequestId': requestId,
      'x-amz-id-2': hostId,
    };
    let bucket = bucketOfHost(req.headers.host) ?? '';
    let key: string;
    try {
      const decoded = decodeURIComponent(rawPath);
      if (bucket) key = decoded.slice(1);
      else {
        const slash = decoded.indexOf('/', 1);
        bucket = slash < 0 ? decoded.slice(1) : decoded.slice(1, slash);
        key = slash < 0 ? '' : decoded.slice(slash + 1);
      }
    } catch {
      key = '';
    }
    let out: Out;
    try {
      const body = await readBody(req);
      const sig = parseSigV4(req.headers, query);
      const who = await auth.authenticate(
        { method, path: rawPath, query, headers: req.headers, body },
        sig,
        'rest-json',
      );
      const ctx: Ctx = {
        scope: {
          accountId: who.accountId,
          region: sig?.region ?? deps.region,
          request: {
            requestId,
            hostId,
            sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
            principalId: who.userId,
          },
        },
        method,
        bucket,
        key,
        query,
        headers: req.headers,
        body,
        endpoint: `http://${req.headers.host ?? 'localhost'}`,
      };
      out = await route(ctx);
    } catch (e) {
      const err = s3Error(e);
      if (!(e instanceof AwsError)) logger.error('s3 operation failed', { requestId, err: e });
      const extra = Object.entries(err.extra)
        .map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`)
        .join('');
      out = {
        status: err.status,
        headers: { ...XML, ...err.headers },
        body:
          method === 'HEAD'
            ? undefined
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(err.code)}</Code>` +
              `<Message>${escapeXml(err.message)}</Message>${extra}<RequestId>${requestId}</RequestId>` +
              `<HostId>${hostId}</HostId></Error>`,
      };
    }
    if (replied(res)) return;
    const headers = { ...base, ...out.headers };
    const body = out.body ?? '';
    if (headers['content-length'] === undefined)
      headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    writeReply(res, out.status ?? 200, headers, method === 'HEAD' ? undefined : body);
  };

  function route(c: Ctx): Promise<Out> {
    const { method, bucket, key, query } = c;
    if (!bucket) {
      if (method === 'GET') return listBuckets(c);
      throw errors.methodNotAllowed(method, 'SERVICE');
    }
    if (!key) {
      switch (method) {
        case 'PUT':
          if (query.has('notification')) return putNotification(c);
          if (query.size > 0) throw errors.notImplemented();
          return createBucket(c);
        case 'HEAD':
          return headBucket(c);
        case 'DELETE':
          if (query.size > 0) throw errors.notImplemented();
          return deleteBucket(c);
        case 'POST':
          if (query.has('delete')) return deleteObjects(c);
          throw errors.notImplemented();
        case 'GET':
          if (query.has('location')) return getBucketLocation(c);
          if (query.has('versioning')) return getBucketVersioning(c);
          if (query.has('notification')) return getNotification(c);
          if (query.has('uploads')) return listUploads(c);
          if (query.get('list-type') === '2') return listObjects(c, 2);
          for (const k of query.keys())
            if (
              !['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type', 'x-id'].includes(k) &&
              !k.startsWith('X-Amz-')
            )
              throw errors.notImplemented();
          return listObjects(c, 1);
      }
      throw errors.methodNotAllowed(method, 'BUCKET');
    }
    const uploadId = query.get('uploadId');
    switch (method) {
      case 'PUT':
        if (uploadId !== null) {
          if (header(c.headers, 'x-amz-copy-source'))
            throw errors.notImplemented('UploadPartCopy is not supported by Nimbus.');
          return uploadPart(c, uploadId);
        }
        if (header(c.headers, 'x-amz-copy-source')) return copyObject(c);
        if (hasSubresource(query)) throw errors.notImplemented();
        return putObject(c);
      case 'GET':
        if (uploadId !== null) return listParts(c, uploadId);
        if (hasSubresource(query)) throw errors.notImplemented();
        return getObject(c, false);
      case 'HEAD':
        return getObject(c, true);
      case 'DELETE':
        if (uploadId !== null) return abortUpload(c, uploadId);
        return deleteObject(c);
      case 'POST':
        if (query.has('uploads')) return createUpload(c);
        if (uploadId !== null) return completeUpload(c, uploadId);
        throw errors.notImplemented();
    }
    throw errors.methodNotAllowed(method, 'OBJECT');
  }

  // ---------------------------------------------------------------- buckets

  async function listBuckets(c: Ctx): Promise<Out> {
    const prefix = c.query.get('prefix') ?? '';
    const all = (await engine.listBuckets(c.scope)).filter((b) => b.name.startsWith(prefix));
    all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const body = xmlDocument('ListAllMyBucketsResult', {
      Owner: { ID: ownerId(c.scope.accountId), DisplayName: 'nimbus' },
      Buckets: xmlList(
        all.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: b.region })),
        { member: 'Bucket' },
      ),
      Prefix: prefix || undefined,
    });
    return { headers: XML, body };
  }

  async function createBucket(c: Ctx): Promise<Out> {
    let constraint: string | undefined;
    if (c.body.length > 0) {
      const xml = c.body.toString('utf8');
      if (!xml.includes('CreateBucketConfiguration')) throw errors.malformedXml();
      constraint = text(xml, 'LocationConstraint') || undefined;
    }
    await engine.createBucket(c.scope, c.bucket, constraint);
    return { headers: { location: `/${c.bucket}` } };
  }

  async function headBucket(c: Ctx): Promise<Out> {
    const b = await engine.headBucket(c.scope, c.bucket);
    return { headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' } };
  }

  async function deleteBucket(c: Ctx): Promise<Out> {
    await engine.deleteBucket(c.scope, c.bucket);
    return { status: 204 };
  }

  async function getBucketLocation(c: Ctx): Promise<Out> {
    const b = await engine.headBucket(c.scope, c.bucket);
    return {
      headers: XML,
      body: xmlDocument('LocationConstraint', b.region === 'us-east-1' ? '' : b.region),
    };
  }

  async function getBucketVersioning(c: Ctx): Promise<Out> {
    await engine.headBucket(c.scope, c.bucket);
    return { headers: XML, body: xmlDocument('VersioningConfiguration', '') };
  }

  // ---------------------------------------------------------------- notifications

  async function putNotification(c: Ctx): Promise<Out> {
    const { data } = verifiedBody(c);
    const config = parseNotificationXml(data.toString('utf8'));
    await engine.putBucketNotificationConfiguration(c.scope, c.bucket, config, {
      skipDestinationValidation: header(c.headers, 'x-amz-skip-destination-validation') === 'true',
    });
    return {};
  }

  async function getNotification(c: Ctx): Promise<Out> {
    const config = await engine.getBucketNotificationConfiguration(c.scope, c.bucket);
    return { headers: XML, body: renderNotificationXml(config) };
  }

  // ---------------------------------------------------------------- listings

  async function listObjects(c: Ctx, version: 1 | 2): Promise<Out> {
    const q = c.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeysRaw = q.get('max-keys');
    const maxKeys = maxKeysRaw === null ? 1000 : Number(maxKeysRaw);
    if (!Number.isInteger(maxKeys) || maxKeys < 0)
      throw errors.invalidArgument(
        'Provided max-keys not an integer or within integer range',
        'max-keys',
        maxKeysRaw ?? '',
      );
    const encodingType = q.get('encoding-type');
    if (encodingType !== null && encodingType !== 'url')
      throw errors.invalidArgument(
        'Invalid Encoding Method specified in Request',
        'encoding-type',
        encodingType,
      );
    const enc = (s: string | undefined) =>
      s === undefined ? undefined : encodingType === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s;
    let after: string | undefined;
    const token = q.get('continuation-token');
    const startAfter = q.get('start-after') ?? undefined;
    if (version === 2) {
      if (token !== null) {
        after = Buffer.from(token, 'base64url').toString('utf8');
        if (!token || !after)
          throw errors.invalidArgument(
            'The continuation token provided is incorrect',
            'continuation-token',
            token,
          );
      } else after = startAfter;
    } else after = q.get('marker') ?? undefined;
    const page = await engine.listObjects(c.scope, c.bucket, {
      prefix,
      delimiter,
      maxKeys: Math.min(maxKeys, 1000),
      after: after || undefined,
    });
    const contents = page.contents.map((o) => ({
      Key: enc(o.key),
      LastModified: isoDate(o.lastModified),
      ETag: o.etag,
      ...(o.checksums && Object.keys(o.checksums).length
        ? {
            ChecksumAlgorithm: Object.keys(o.checksums)
              .map((h) => algorithmOfHeader(h))
              .filter(Boolean)[0],
          }
        : {}),
      Size: o.size,
      ...(version === 1 ? { Owner: { ID: ownerId(c.scope.accountId), DisplayName: 'nimbus' } } : {}),
      StorageClass: 'STANDARD',
    }));
    const common = page.commonPrefixes.map((p) => ({ Prefix: enc(p) }));
    let inner = '';
    const el = (name: string, v: unknown) =>
      v === undefined || v === null ? '' : `<${name}>${escapeXml(String(v))}</${name}>`;
    inner += el('Name', c.bucket) + el('Prefix', enc(prefix));
    if (version === 1) {
      inner += el('Marker', enc(after ?? ''));
      if (page.isTruncated && delimiter) inner += el('NextMarker', enc(page.last));
    }
    inner += el('MaxKeys', maxKeys);
    if (delimiter) inner += el('Delimiter', enc(delimiter));
    inner += el('IsTruncated', page.isTruncated);
    if (version === 2) {
      inner += el('KeyCount', contents.length + common.length);
      if (token !== null) inner += el('ContinuationToken', token);
      if (page.isTruncated && page.last !== undefined)
        inner += el('NextContinuationToken', Buffer.from(page.last, 'utf8').toString('base64url'));
      if (startAfter !== undefined) inner += el('StartAfter', enc(startAfter));
    }
    if (encodingType) inner += el('EncodingType', encodingType);
    for (const o of contents) {
      let x = '';
      for (const [k, v] of Object.entries(o)) {
        if (v === undefined) continue;
        if (k === 'Owner')
          x += `<Owner><ID>${ownerId(c.scope.accountId)}</ID><DisplayName>nimbus</DisplayName></Owner>`;
        else x += el(k, v);
      }
      inner += `<Contents>${x}</Contents>`;
    }
    for (const p of common) inner += `<CommonPrefixes>${el('Prefix', p.Prefix)}</CommonPrefixes>`;
    return {
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListBucketResult>`,
    };
  }

  // ---------------------------------------------------------------- objects

  async function putObject(c: Ctx): Promise<Out> {
    const { data, checksums } = verifiedBody(c);
    const rec = await engine.putObject(c.scope, c.bucket, c.key, data, {
      ...objectInput(c.headers),
      checksums,
    });
    return { headers: { etag: rec.etag, ...checksums } };
  }

  async function getObject(c: Ctx, head: boolean): Promise<Out> {
    let rec: ObjectRecord;
    let data: Buffer | undefined;
    if (head) rec = await engine.headObject(c.scope, c.bucket, c.key);
    else ({ record: rec, data } = await engine.getObject(c.scope, c.bucket, c.key));
    const h = c.headers;
    const lastModSec = Math.floor(rec.lastModified / 1000) * 1000;
    const ifMatch = header(h, 'if-match');
    const ifNoneMatch = header(h, 'if-none-match');
    const ifModifiedSince = header(h, 'if-modified-since');
    const ifUnmodifiedSince = header(h, 'if-unmodified-since');
    if (ifMatch !== undefined && !etagMatches(ifMatch, rec.etag)) throw errors.preconditionFailed('If-Match');
    if (ifMatch === undefined && ifUnmodifiedSince !== undefined) {
      const t = Date.parse(ifUnmodifiedSince);
      if (!Number.isNaN(t) && lastModSec > t) throw errors.preconditionFailed('If-Unmodified-Since');
    }
    const notModified = {
      status: 304,
      headers: { etag: rec.etag, 'last-modified': httpDate(rec.lastModified) },
    };
    if (ifNoneMatch !== undefined) {
      if (etagMatches(ifNoneMatch, rec.etag)) return notModified;
    } else if (ifModifiedSince !== undefined) {
      const t = Date.parse(ifModifiedSince);
      if (!Number.isNaN(t) && lastModSec <= t) return notModified;
    }
    const headers: Record<string, string | number> = {
      'content-type': rec.contentType ?? 'binary/octet-stream',
      etag: rec.etag,
      'last-modified': httpDate(rec.lastModified),
      'accept-ranges': 'bytes',
    };
    if (rec.cacheControl) headers['cache-control'] = rec.cacheControl;
    if (rec.contentDisposition) headers['content-disposition'] = rec.contentDisposition;
    if (rec.contentEncoding) headers['content-encoding'] = rec.contentEncoding;
    if (rec.contentLanguage) headers['content-language'] = rec.contentLanguage;
    if (rec.expires) headers.expires = rec.expires;
    for (const [k, v] of Object.entries(rec.metadata)) headers[`x-amz-meta-${k}`] = v;
    const overrides: [string, string][] = [
      ['response-content-type', 'content-type'],
      ['response-content-disposition', 'content-disposition'],
      ['response-cache-control', 'cache-control'],
      ['response-content-encoding', 'content-encoding'],
      ['response-content-language', 'content-language'],
      ['response-expires', 'expires'],
    ];
    for (const [param, name] of overrides) {
      const v = c.query.get(param);
      if (v !== null) headers[name] = v;
    }
    if (rec.partsCount && c.query.has('partNumber')) headers['x-amz-mp-parts-count'] = rec.partsCount;
    const range = header(h, 'range');
    if (range !== undefined) {
      const r = parseRange(range, rec.size);
      if (r) {
        headers['content-range'] = `bytes ${r.start}-${r.end}/${rec.size}`;
        headers['content-length'] = r.end - r.start + 1;
        return { status: 206, headers, body: data?.subarray(r.start, r.end + 1) };
      }
    }
    if (header(h, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      Object.assign(headers, rec.checksums);
      if (Object.keys(rec.checksums).length) headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    headers['content-length'] = rec.size;
    return { headers, body: data };
  }

  async function deleteObject(c: Ctx): Promise<Out> {
    await engine.deleteObject(c.scope, c.bucket, c.key);
    return { status: 204 };
  }

  async function deleteObjects(c: Ctx): Promise<Out> {
    const { data } = verifiedBody(c);
    const xml = data.toString('utf8');
    if (!xml.includes('<Delete')) throw errors.malformedXml();
    const quiet = text(xml, 'Quiet') === 'true';
    const objects = elements(xml, 'Object').map((o) => text(o, 'Key'));
    if (objects.length > 1000 || objects.some((k) => k === undefined)) throw errors.malformedXml();
    await engine.headBucket(c.scope, c.bucket);
    let inner = '';
    for (const k of objects as string[]) {
      try {
        await engine.deleteObject(c.scope, c.bucket, k);
        if (!quiet) inner += `<Deleted><Key>${escapeXml(k)}</Key></Deleted>`;
      } catch (e) {
        const err = s3Error(e);
        inner += `<Error><Key>${escapeXml(k)}</Key><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error>`;
      }
    }
    return {
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</DeleteResult>`,
    };
  }

  async function copyObject(c: Ctx): Promise<Out> {
    const raw = header(c.headers, 'x-amz-copy-source')!;
    const noVersion = raw.split('?')[0];
    let source: string;
    try {
      source = decodeURIComponent(noVersion).replace(/^\//, '');
    } catch {
      throw errors.invalidArgument('Invalid copy source encoding', 'x-amz-copy-source', raw);
    }
    const slash = source.indexOf('/');
    if (slash <= 0 || slash === source.length - 1)
      throw errors.invalidArgument('Invalid copy source object key', 'x-amz-copy-source', raw);
    const directive = (header(c.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
    if (directive !== 'COPY' && directive !== 'REPLACE')
      throw errors.invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
    const rec = await engine.copyObject(
      c.scope,
      { bucket: source.slice(0, slash), key: source.slice(slash + 1) },
      { bucket: c.bucket, key: c.key },
      directive === 'REPLACE' ? objectInput(c.headers) : undefined,
    );
    return {
      headers: XML,
      body: xmlDocument('CopyObjectResult', { LastModified: isoDate(rec.lastModified), ETag: rec.etag }),
    };
  }

  // ---------------------------------------------------------------- multipart

  async function createUpload(c: Ctx): Promise<Out> {
    const up = await engine.createMultipartUpload(c.scope, c.bucket, c.key, objectInput(c.headers));
    return {
      headers: XML,
      body: xmlDocument('InitiateMultipartUploadResult', {
        Bucket: c.bucket,
        Key: c.key,
        UploadId: up.uploadId,
      }),
    };
  }

  async function uploadPart(c: Ctx, uploadId: string): Promise<Out> {
    const { data, checksums } = verifiedBody(c);
    const partNumber = Number(c.query.get('partNumber'));
    const part = await engine.uploadPart(c.scope, c.bucket, c.key, uploadId, partNumber, data);
    return { headers: { etag: part.etag, ...checksums } };
  }

  async function listParts(c: Ctx, uploadId: string): Promise<Out> {
    const parts = await engine.listParts(c.scope, c.bucket, c.key, uploadId);
    let inner = `<Bucket>${escapeXml(c.bucket)}</Bucket><Key>${escapeXml(c.key)}</Key><UploadId>${escapeXml(uploadId)}</UploadId>`;
    inner += `<StorageClass>STANDARD</StorageClass><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>`;
    for (const p of parts)
      inner += `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${isoDate(p.lastModified)}</LastModified><ETag>${escapeXml(p.etag)}</ETag><Size>${p.size}</Size></Part>`;
    return {
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListPartsResult>`,
    };
  }

  async function listUploads(c: Ctx): Promise<Out> {
    const ups = await engine.listMultipartUploads(c.scope, c.bucket);
    let inner = `<Bucket>${escapeXml(c.bucket)}</Bucket><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>`;
    for (const u of ups)
      inner += `<Upload><Key>${escapeXml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${isoDate(u.initiatedAt)}</Initiated></Upload>`;
    return {
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</ListMultipartUploadsResult>`,
    };
  }

  async function completeUpload(c: Ctx, uploadId: string): Promise<Out> {
    const xml = c.body.toString('utf8');
    if (!xml.includes('<CompleteMultipartUpload')) throw errors.malformedXml();
    const parts = elements(xml, 'Part').map((p) => {
      const n = Number(text(p, 'PartNumber'));
      const etag = text(p, 'ETag');
      if (!Number.isInteger(n) || etag === undefined) throw errors.malformedXml();
      return { partNumber: n, etag };
    });
    const rec = await engine.completeMultipartUpload(c.scope, c.bucket, c.key, uploadId, parts);
    return {
      headers: XML,
      body: xmlDocument('CompleteMultipartUploadResult', {
        Location: `${c.endpoint}/${c.bucket}/${encodeURIComponent(c.key).replace(/%2F/g, '/')}`,
        Bucket: c.bucket,
        Key: c.key,
        ETag: rec.etag,
      }),
    };
  }

  async function abortUpload(c: Ctx, uploadId: string): Promise<Out> {
    await engine.abortMultipartUpload(c.scope, c.bucket, c.key, uploadId);
    return { status: 204 };
  }
}

/** The XML element names of each destination type (the SDK's wire names). */
const NOTIFICATION_ELEMENTS: [DestinationType, string, string][] = [
  ['topic', 'TopicConfiguration', 'Topic'],
  ['queue', 'QueueConfiguration', 'Queue'],
  ['lambda', 'CloudFunctionConfiguration', 'CloudFunction'],
];

/** A `<NotificationConfiguration>` request body. */
export function parseNotificationXml(xml: string): NotificationConfiguration {
  if (xml.trim() && !xml.includes('<NotificationConfiguration')) throw errors.malformedXml();
  const targets: TargetConfiguration[] = [];
  for (const [type, element, arnElement] of NOTIFICATION_ELEMENTS) {
    for (const inner of elements(xml, element)) {
      const rules = elements(inner, 'FilterRule').map((r) => ({
        Name: text(r, 'Name'),
        Value: text(r, 'Value'),
      }));
      const events = elements(inner, 'Event').map((e) => text(`<Event>${e}</Event>`, 'Event') ?? '');
      const t: TargetConfiguration = {
        Id: text(inner, 'Id') ?? '',
        type,
        arn: text(inner, arnElement) ?? '',
        Events: events.map((e) => e.trim()),
      };
      const filter = parseFilterRules(rules);
      if (filter.length) t.FilterRules = filter;
      targets.push(t);
    }
  }
  const config: NotificationConfiguration = { targets };
  if (/<EventBridgeConfiguration\s*\/?>/.test(xml)) config.eventBridge = true;
  return config;
}

export function renderNotificationXml(config: NotificationConfiguration): string {
  const el = (name: string, v: string) => `<${name}>${escapeXml(v)}</${name}>`;
  const filter = (rules: FilterRule[] | undefined) =>
    rules?.length
      ? `<Filter><S3Key>${rules.map((r) => `<FilterRule>${el('Name', r.Name)}${el('Value', r.Value)}</FilterRule>`).join('')}</S3Key></Filter>`
      : '';
  let inner = '';
  for (const [type, element, arnElement] of NOTIFICATION_ELEMENTS) {
    for (const t of config.targets.filter((x) => x.type === type)) {
      inner +=
        `<${element}>${el('Id', t.Id)}${el(arnElement, t.arn)}` +
        t.Events.map((e) => el('Event', e)).join('') +
        `${filter(t.FilterRules)}</${element}>`;
    }
  }
  if (config.eventBridge) inner += '<EventBridgeConfiguration></EventBridgeConfiguration>';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</NotificationConfiguration>`;
}

function hasSubresource(q: URLSearchParams): boolean {
  for (const k of q.keys()) {
    if (
      k === 'x-id' ||
      k === 'partNumber' ||
      k === 'versionId' ||
      k.startsWith('response-') ||
      k.startsWith('X-Amz-')
    )
      continue;
    return true;
  }
  return false;
}

function ownerId(accountId: string): string {
  return createHash('sha256').update(accountId).digest('hex');
}

function etagMatches(condition: string, etag: string): boolean {
  return condition.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === etag || `"${v}"` === etag;
  });
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined for a malformed or multi-range header (whole object, as S3 does). */
function parseRange(range: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw errors.invalidRange(range, size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) throw errors.invalidRange(range, size);
  return { start, end };
}

/** Content-Type, the other stored headers and `x-amz-meta-*` of a write request. */
function objectInput(h: IncomingMessage['headers']): PutInput {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith('x-amz-meta-') && v !== undefined)
      metadata[k.slice(11)] = Array.isArray(v) ? v.join(',') : v;
  }
  const encoding = header(h, 'content-encoding')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'aws-chunked')
    .join(',');
  const out: ObjectHeaders & PutInput = {
    metadata,
    contentType: header(h, 'content-type'),
    cacheControl: header(h, 'cache-control'),
    contentDisposition: header(h, 'content-disposition'),
    contentEncoding: encoding || undefined,
    contentLanguage: header(h, 'content-language'),
    expires: header(h, 'expires'),
  };
  return out;
}

/**
 * The request body with any aws-chunked framing removed, after checking Content-MD5 and
 * the `x-amz-checksum-*` values (headers or trailers); returns the checksums to store.
 */
function verifiedBody(c: Ctx): { data: Buffer; checksums: Record<string, string> } {
  const h = c.headers;
  let data = c.body;
  const given: Record<string, string> = {};
  const sha = header(h, 'x-amz-content-sha256') ?? '';
  const chunked =
    sha.startsWith('STREAMING-') ||
    (header(h, 'content-encoding') ?? '').split(',').some((s) => s.trim() === 'aws-chunked');
  if (chunked) {
    const decoded = decodeAwsChunked(data);
    if (!decoded) throw errors.invalidRequest('Malformed aws-chunked body.');
    data = decoded.data;
    const declared = header(h, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== data.length) {
      throw new AwsError(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header',
        400,
      );
    }
    for (const [k, v] of Object.entries(decoded.trailers)) if (algorithmOfHeader(k)) given[k] = v;
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = header(h, checksumHeader(alg));
    if (v !== undefined) given[checksumHeader(alg)] = v;
  }
  const md5 = header(h, 'content-md5');
  if (md5 !== undefined) {
    const raw = Buffer.from(md5, 'base64');
    if (raw.length !== 16) throw errors.invalidDigest(md5);
    const actual = createHash('md5').update(data).digest('base64');
    if (actual !== md5) throw errors.badDigest(md5, actual);
  }
  for (const [name, value] of Object.entries(given)) {
    const alg = algorithmOfHeader(name)!;
    if (computeChecksum(alg, data) !== value) throw errors.badChecksum(alg.toLowerCase());
  }
  return { data, checksums: given };
}

/** Maps the front door's authentication errors onto S3's codes. */
function s3Error(e: unknown): AwsError {
  const err = toAwsError(e);
  switch (err.code) {
    case 'InvalidSignatureException':
      return new AwsError('SignatureDoesNotMatch', err.message, 403);
    case 'UnrecognizedClientException':
      return new AwsError(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        403,
      );
    case 'MissingAuthenticationTokenException':
      return new AwsError('AccessDenied', 'Access Denied', 403);
    case 'InternalFailure':
      return new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
  }
  return err;
}
