/**
 * DynamoDB + DynamoDB Streams: `createDynamoDb(deps)` gives the engine, both JSON services
 * and the TTL sweeper (start/stop).
 */
import type { LogSink } from '../core/log-sink.js';
import type { Clock } from '../core/clock.js';
import type { NimbusConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { MetricsSink } from '../core/metrics-sink.js';
import type { JsonService } from '../server/service.js';
import type { Store } from '../storage/store.js';
import type { S3Engine } from '../s3/engine.js';
import { dynamoDbService, dynamoDbStreamsService } from './api.js';
import { DynamoEngine } from './engine.js';

export { DynamoEngine } from './engine.js';

export interface DynamoDbDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  config?: NimbusConfig;
  /** TTL sweep period in real milliseconds (default 5 s); it compares against the injected clock. */
  ttlSweepMs?: number;
  activationMs?: number;
  /** Built-in AWS/DynamoDB metrics. */
  metrics?: MetricsSink;
  /** CloudWatch Logs (an import reports the items it could not import there). */
  logs?: LogSink;
}

export interface DynamoDb {
  engine: DynamoEngine;
  service: JsonService;
  streamsService: JsonService;
  start(): Promise<void>;
  /** Starts the export and import workers (they use S3, which starts after DynamoDB). */
  startS3Jobs(s3: S3Engine): void;
  stop(): Promise<void>;
}

export function createDynamoDb(deps: DynamoDbDeps): DynamoDb {
  const engine = new DynamoEngine({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    activationMs: deps.activationMs,
    metrics: deps.metrics,
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    if (running) return;
    running = engine
      .sweepTtl()
      .then((n) => n && deps.logger.debug('ttl sweep', { deleted: n }))
      .catch((e: unknown) => deps.logger.warn('ttl sweep failed', { err: e }))
      .finally(() => (running = undefined));
  };
  return {
    engine,
    service: dynamoDbService(engine),
    streamsService: dynamoDbStreamsService(engine),
    async start() {
      timer ??= setInterval(sweep, deps.ttlSweepMs ?? 5000);
      timer.unref();
    },
    startS3Jobs(s3) {
      engine.exports.start(s3, deps.logger);
      engine.imports.start(s3, deps.logger, deps.logs);
    },
    async stop() {
      await engine.exports.stop();
      await engine.imports.stop();
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
