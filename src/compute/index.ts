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
import { AsyncInvocations } from './async.js';
import { asyncRoutes } from './async-api.js';
import type { Engines } from '../server/engines.js';
import type { LeaderElector } from '../cluster/leader.js';
import { EventSourceMappings } from './esm.js';
import { esmRoutes } from './esm-api.js';
import { Layers } from './layers.js';
import { FunctionUrls } from './function-urls.js';
import { FunctionPolicies, extraRoutes } from './extras-api.js';

export { CODE_URL_PREFIX } from './code-url.js';
export { FUNCTION_URL_PATH_PREFIX, FUNCTION_URL_HOST_PATTERN } from './function-urls.js';
export { layerZipFromContent } from './layers.js';

export { LambdaEngine } from './engine.js';
export type { LambdaDeps, UsageRecord, AsyncInvocationRecord } from './engine.js';

export interface Lambda {
  engine: LambdaEngine;
  service: RestJsonService;
  /** Mount at CODE_URL_PREFIX (`frontDoor.mount`): serves Code.Location links. */
  codeDownload: ReturnType<typeof codeDownloadHandler>;
  /** Retries and destinations of Event invokes. */
  async: AsyncInvocations;
  /** Event source mappings and their pollers. */
  eventSources: EventSourceMappings;
  /** Layer versions. */
  layers: Layers;
  /** Function URLs: mount `pathHandler` at FUNCTION_URL_PATH_PREFIX and `hostHandler` for FUNCTION_URL_HOST_PATTERN. */
  functionUrls: FunctionUrls;
  /** Function resource policies (AddPermission). */
  policies: FunctionPolicies;
  /**
   * Gives the destinations (SQS, SNS, Lambda) their engines once every service exists and,
   * with a leader elector, starts the event source pollers (one node per mapping).
   */
  attach(engines: Engines, leader?: LeaderElector): void;
  /** Stops the event source pollers (before the services they read from close). */
  stopPollers(): Promise<void>;
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

/** A throttled or failed Event invoke goes back to the queue for a later try. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryDelayMs = 1000,
  ) {
    super(message);
  }
}

export function createLambda(deps: LambdaDeps, opts: LambdaOptions = {}): Lambda {
  const engine = new LambdaEngine(deps);
  let worker: Worker | undefined;
  const policy = new AsyncInvocations(deps, engine);
  engine.asyncPolicy = policy;
  const service = lambdaService(engine);
  service.routes.push(...asyncRoutes(policy));
  const eventSources = new EventSourceMappings(deps, engine);
  service.routes.push(...esmRoutes(eventSources));
  const layers = new Layers(
    { store: deps.store, clock: deps.clock, limits: deps.config.compute.limits },
    engine.code,
    deps.codeCacheDir,
  );
  engine.layers = layers;
  const functionUrls = new FunctionUrls(
    { store: deps.store, clock: deps.clock, logger: deps.logger, auth: deps.auth },
    engine,
  );
  const policies = new FunctionPolicies(deps.store, engine);
  engine.deleteHooks.push(
    (scope, name, qualifier) => functionUrls.functionDeleted(scope, name, qualifier),
    (scope, name, qualifier) => policies.functionDeleted(scope, name, qualifier),
  );
  service.routes.push(...extraRoutes(policies, layers, functionUrls));
  return {
    engine,
    service,
    layers,
    functionUrls,
    policies,
    async: policy,
    eventSources,
    attach(engines, leader) {
      policy.attach(engines);
      if (leader) eventSources.start(engines, leader);
    },
    stopPollers: () => eventSources.stop(),
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
          if (typeof outcome === 'object') throw new RetryLater('retry', outcome.retryInMs);
        },
      });
    },
    async stop() {
      await eventSources.stop();
      await worker?.stop();
      worker = undefined;
      await engine.close();
    },
  };
}
