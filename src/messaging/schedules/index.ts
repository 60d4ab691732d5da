/**
 * Wires schedules into a Nimbus process: the engine (rules, schedules, the firing tick and
 * its worker), the EventBridge JSON service and the Scheduler REST-JSON service.
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import type { LeaderElector } from '../../cluster/index.js';
import type { JsonService, RestJsonService } from '../../server/service.js';
import { SchedulesEngine, type LambdaInvoker, type MessageTargets } from './engine.js';
import { createEventsService, createSchedulerService } from './api.js';

export { SchedulesEngine } from './engine.js';
export type { LambdaInvoker, MessageTargets } from './engine.js';

export interface SchedulesModule {
  engine: SchedulesEngine;
  services: [JsonService, RestJsonService];
  start(): void;
  stop(): Promise<void>;
}

export function createSchedules(deps: {
  store: Store;
  clock: Clock;
  logger: Logger;
  leader: LeaderElector;
  lambda: () => LambdaInvoker | undefined;
  messages?: () => MessageTargets | undefined;
  tickMs?: number;
}): SchedulesModule {
  const engine = new SchedulesEngine(deps);
  return {
    engine,
    services: [createEventsService(engine), createSchedulerService(engine)],
    start: () => engine.start(),
    stop: () => engine.stop(),
  };
}
