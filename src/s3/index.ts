/**
 * The S3 service: `createS3(deps)` gives the engine and the raw HTTP handler the front door
 * hands S3 requests to (see `isS3Request`). `readObject` is how other services (Lambda code,
 * layers, deployments) read an object through the engine.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Auth } from '../server/auth.js';
import type { Store } from '../storage/store.js';
import { s3Handler } from './api.js';
import { S3Engine } from './engine.js';
import type { S3Scope } from './model.js';

export { S3Engine } from './engine.js';
export { isS3Request, S3_HOST_PATTERN, bucketOfHost } from './api.js';
export type { S3Scope, ObjectRecord, BucketRecord } from './model.js';

export interface S3Service {
  engine: S3Engine;
  handler: ReturnType<typeof s3Handler>;
}

export function createS3(deps: {
  store: Store;
  clock: Clock;
  logger: Logger;
  auth: Auth;
  region: string;
  maxBodyBytes: number;
}): S3Service {
  const engine = new S3Engine(deps);
  return {
    engine,
    handler: s3Handler({
      engine,
      auth: deps.auth,
      logger: deps.logger,
      region: deps.region,
      maxBodyBytes: deps.maxBodyBytes,
    }),
  };
}

/**
 * The body of `bucket/key` as the account `scope` sees it. Throws S3's AwsErrors
 * (NoSuchBucket, NoSuchKey: status 404, AccessDenied: 403).
 */
export async function readObject(
  engines: { s3: S3Engine },
  scope: S3Scope,
  bucket: string,
  key: string,
): Promise<Buffer> {
  return (await engines.s3.getObject(scope, bucket, key)).data;
}
