/**
 * The S3 service: `createS3(deps)` gives the engine and the raw HTTP handler the front door
 * hands S3 requests to (see `isS3Request`). `readObject` is how other services (Lambda code,
 * layers, deployments) read an object through the engine.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Auth } from '../server/auth.js';
import type { Store } from '../storage/store.js';
import { startWorker, type Worker } from '../storage/worker.js';
import { s3Handler } from './api.js';
import { S3Engine, type NotificationTargets, type NotifyJob } from './engine.js';
import { NOTIFY_QUEUE, type S3Scope } from './model.js';

export { S3Engine, type NotificationTargets } from './engine.js';
export { isS3Request, S3_HOST_PATTERN, bucketOfHost } from './api.js';
export type { S3Scope, ObjectRecord, BucketRecord } from './model.js';

export interface S3Service {
  engine: S3Engine;
  handler: ReturnType<typeof s3Handler>;
  /** Starts delivering event notifications from the outbox. */
  start(): void;
  /** Stops delivering (pending notifications stay in the Store). */
  close(): Promise<void>;
}

export function createS3(deps: {
  store: Store;
  clock: Clock;
  logger: Logger;
  auth: Auth;
  region: string;
  maxBodyBytes: number;
  /** Lambda / SQS / SNS, once they exist. */
  targets?: () => NotificationTargets;
}): S3Service {
  const engine = new S3Engine(deps);
  let worker: Worker | undefined;
  return {
    engine,
    start() {
      if (worker || !deps.targets) return;
      const targets = deps.targets;
      worker = startWorker<NotifyJob>({
        store: deps.store,
        queue: NOTIFY_QUEUE,
        clock: deps.clock,
        logger: deps.logger,
        concurrency: 4,
        handle: async (job) => {
          const { type, arn, message } = job.payload;
          try {
            await targets().deliver(type, arn, message, job.id);
          } catch (err) {
            deps.logger.warn('s3 event notification not delivered', {
              bucket: job.payload.bucket,
              destination: arn,
              attempts: job.attempts,
              err,
            });
            throw err;
          }
        },
      });
    },
    async close() {
      await worker?.stop();
      worker = undefined;
    },
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
