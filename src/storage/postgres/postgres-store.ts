import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../store.js';

export interface PostgresStoreOptions {
  url: string;
  clock: Clock;
  logger: Logger;
}

export async function openPostgresStore(_opts: PostgresStoreOptions): Promise<Store> {
  throw new Error('the PostgreSQL Store is not implemented yet: use storage "sqlite"');
}
