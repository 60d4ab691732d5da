/** SQS module: the engine plus its two wire adapters (AWS JSON 1.0 and Query). */
import type { Clock } from '../../core/clock.js';
import { OffsetClock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import type { Service } from '../../server/service.js';
import type { MetricsSink } from '../../core/metrics-sink.js';
import { SqsEngine } from './engine.js';
import { createSqsJsonService, createSqsQueryService } from './api.js';

export { SqsEngine } from './engine.js';
export type { QueueRef } from './engine.js';
export type * from './model.js';

export interface SqsModule {
  engine: SqsEngine;
  services: Service[];
  close(): Promise<void>;
}

export function createSqs(opts: {
  store: Store;
  clock: Clock;
  logger: Logger;
  endpoint: () => string;
  metrics?: MetricsSink;
}): SqsModule {
  const clock = opts.clock;
  const engine = new SqsEngine({
    ...opts,
    onClockAdvance: clock instanceof OffsetClock ? (l) => clock.onAdvance(() => l()) : undefined,
  });
  return {
    engine,
    services: [createSqsJsonService(engine), createSqsQueryService(engine)],
    close: () => engine.close(),
  };
}
