/**
 * S3's persisted records, the errors with AWS's codes and messages, and bucket name rules.
 *
 * Buckets share one namespace across accounts (as in a partition of AWS): the record names its
 * owner. Metadata lives in Store collections, bodies in Store blobs (one blob per object
 * version written, so an overwrite commits atomically and the old blob is dropped after).
 */
import { AwsError } from '../protocols/errors.js';
import type { NotificationConfiguration, RequestInfo } from './notifications.js';

export interface S3Scope {
  accountId: string;
  region: string;
  /** The request being served (for event records); absent for internal calls. */
  request?: RequestInfo;
}

export const COLLECTIONS = {
  buckets: 's3-buckets',
  objects: 's3-objects',
  uploads: 's3-uploads',
  parts: 's3-parts',
} as const;

/** The Store job queue of pending event notifications (the outbox). */
export const NOTIFY_QUEUE = 's3-notifications';

export interface BucketRecord {
  name: string;
  owner: string;
  region: string;
  /** Epoch ms. */
  createdAt: number;
  /** PutBucketNotificationConfiguration's configuration; absent when none. */
  notification?: NotificationConfiguration;
}

/** Headers stored with an object and given back by GetObject/HeadObject. */
export interface ObjectHeaders {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
}

export interface ObjectRecord extends ObjectHeaders {
  key: string;
  size: number;
  /** Quoted, e.g. `"9e107d9d372bb6826bd81d3542a419d6"` or `"...-3"` for multipart. */
  etag: string;
  /** Epoch ms. */
  lastModified: number;
  /** `x-amz-meta-*` without the prefix, names lower-case. */
  metadata: Record<string, string>;
  /** `x-amz-checksum-<alg>` header name -> base64 value, as sent or computed. */
  checksums: Record<string, string>;
  blob: string;
  /** Parts of a multipart object (for x-amz-mp-parts-count). */
  partsCount?: number;
}

export interface UploadRecord extends ObjectHeaders {
  uploadId: string;
  bucket: string;
  key: string;
  metadata: Record<string, string>;
  initiatedAt: number;
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  blob: string;
  lastModified: number;
}

export function objectKey(bucket: string, key: string): string {
  return `${bucket}/${key}`;
}

export function partKey(uploadId: string, partNumber: number): string {
  return `${uploadId}/${String(partNumber).padStart(5, '0')}`;
}

const s3Error = (code: string, message: string, status: number, extra: Record<string, unknown> = {}) =>
  new AwsError(code, message, status, status >= 500 ? 'Receiver' : 'Sender', extra);

export const errors = {
  noSuchBucket: (bucket: string) =>
    s3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket }),
  noSuchKey: (key: string) => s3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }),
  bucketOwnedByYou: (bucket: string) =>
    s3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      { BucketName: bucket },
    ),
  bucketExists: (bucket: string) =>
    s3Error(
      'BucketAlreadyExists',
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
      409,
      { BucketName: bucket },
    ),
  invalidBucketName: (bucket: string) =>
    s3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) =>
    s3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: bucket }),
  accessDenied: () => s3Error('AccessDenied', 'Access Denied', 403),
  badDigest: (expected: string, calculated: string) =>
    s3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400, {
      ExpectedDigest: expected,
      CalculatedDigest: calculated,
    }),
  invalidDigest: (digest: string) =>
    s3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.', 400, { 'Content-MD5': digest }),
  badChecksum: (alg: string) =>
    s3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`, 400),
  invalidRange: (range: string, size: number) =>
    s3Error('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: range,
      ActualObjectSize: size,
    }),
  noSuchUpload: (uploadId: string) =>
    s3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
      { UploadId: uploadId },
    ),
  invalidPart: (partNumber: number, etag: string) =>
    s3Error(
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      400,
      { PartNumber: partNumber, ETag: etag },
    ),
  invalidPartOrder: () =>
    s3Error(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
      400,
    ),
  entityTooSmall: (size: number) =>
    s3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', 400, {
      ProposedSize: size,
      MinSizeAllowed: MIN_PART_SIZE,
    }),
  malformedXml: () =>
    s3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    ),
  invalidArgument: (message: string, name?: string, value?: string) =>
    s3Error(
      'InvalidArgument',
      message,
      400,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  /** `failures`: `ArgumentName1`/`ArgumentValue1`, ... (the destination and why). */
  invalidDestinations: (failures: Record<string, string>) =>
    s3Error('InvalidArgument', 'Unable to validate the following destination configurations', 400, failures),
  invalidRequest: (message: string) => s3Error('InvalidRequest', message, 400),
  notImplemented: (message = 'A header you provided implies functionality that is not implemented.') =>
    s3Error('NotImplemented', message, 501),
  methodNotAllowed: (method: string, resource: string) =>
    s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405, {
      Method: method,
      ResourceType: resource,
    }),
  keyTooLong: () => s3Error('KeyTooLongError', 'Your key is too long', 400),
  preconditionFailed: (condition: string) =>
    s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, {
      Condition: condition,
    }),
};

/** Every part but the last must be at least 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;

/**
 * AWS's general purpose bucket naming rules: 3-63 characters of lower-case letters, digits,
 * dots and hyphens, starting and ending with a letter or digit, no `..`, not an IP address,
 * none of the reserved prefixes/suffixes.
 */
export function isValidBucketName(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.startsWith('amzn-s3-demo-')) return false;
  if (
    name.endsWith('-s3alias') ||
    name.endsWith('--ol-s3') ||
    name.endsWith('.mrap') ||
    name.endsWith('--x-s3')
  )
    return false;
  return true;
}
