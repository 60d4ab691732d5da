/**
 * The Lambda service: `createLambda(deps)` gives the engine, its REST-JSON service and the
 * async-invoke worker (Event invokes are durable jobs in the `lambda-async` queue).
 *
 * CreateFunction stages the code synchronously (blob + extraction), so functions are
 * `State: Active` as soon as CreateFunction returns.
 */
import { startWorker, type Worker } from '../storage/worker.js';
import type { RestJsonService } from '../server/service.js';
import { lambdaService } from './api.js';
import { LambdaEngine, type AsyncJobPayload, type LambdaDeps } from './engine.js';
import { ASYNC_QUEUE } from './model.js';
import { codeDownloadHandler } from './code-url.js';

export { CODE_URL_PREFIX } from './code-url.js';

export { LambdaEngine } from './engine.js';
export type { LambdaDeps, UsageRecord, AsyncInvocationRecord } from './engine.js';

export interface Lambda {
  engine: LambdaEngine;
  service: RestJsonService;
  /** Mount at CODE_URL_PREFIX (`frontDoor.mount`): serves Code.Location links. */
  codeDownload: ReturnType<typeof codeDownloadHandler>;
  /** Starts the async-invoke worker. */
  start(): Promise<void>;
  /** Stops the worker (waiting for running invokes) and flushes buffered usage. */
  stop(): Promise<void>;
}

export interface LambdaOptions {
  /** Event invokes run at once by this node (default 4). */
  asyncConcurrency?: number;
  /** Lease of a claimed Event invoke; extended while it runs (default 10 s). */
  asyncLeaseMs?: number;
}

/** A throttled Event invoke goes back to the queue for a later try. */
class RetryLater extends Error {
  readonly retryDelayMs = 1000;
}

export function createLambda(deps: LambdaDeps, opts: LambdaOptions = {}): Lambda {
  const engine = new LambdaEngine(deps);
  let worker: Worker | undefined;
  return {
    engine,
    service: lambdaService(engine),
    codeDownload: codeDownloadHandler(engine.codeUrls, (scope, name, hex) =>
      engine.getCodeZip(scope, name, hex),
    ),
    async start() {
      if (worker) return;
      worker = startWorker<AsyncJobPayload>({
        store: deps.store,
        queue: ASYNC_QUEUE,
        clock: deps.clock,
        logger: deps.logger,
        concurrency: opts.asyncConcurrency ?? 4,
        leaseMs: opts.asyncLeaseMs ?? 10_000,
        handle: async (job) => {
          const outcome = await engine.runAsyncJob(job.payload, job.attempts);
          if (outcome === 'retry') throw new RetryLater('throttled');
        },
      });
    },
    async stop() {
      await worker?.stop();
      worker = undefined;
      await engine.close();
    },
  };
}
