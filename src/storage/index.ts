/**
 * Opens the Store the configuration names: `sqlite` (the default, one file under the data
 * dir) or a `postgres://` / `postgresql://` URL (cluster mode).
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export type { Store } from './store.js';

export interface OpenStoreOptions {
  /** `sqlite` or a PostgreSQL URL. */
  storage: string;
  dataDir: string;
}

export async function openStore(opts: OpenStoreOptions, clock: Clock, logger: Logger): Promise<Store> {
  const storage = opts.storage.trim();
  if (storage === '' || storage === 'sqlite') {
    const store = await openSqliteStore({ dataDir: opts.dataDir, clock, logger });
    logger.info('store opened', { store: store.description });
    return store;
  }
  if (/^postgres(ql)?:\/\//.test(storage)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    const store = await openPostgresStore({ url: storage, clock, logger });
    logger.info('store opened', { store: store.description });
    return store;
  }
  throw new Error(`unknown storage "${storage}": use "sqlite" or a postgres:// URL`);
}
