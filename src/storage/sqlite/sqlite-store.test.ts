import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { storeContract } from '../store.case.js';
import { SqliteStore } from './sqlite-store.js';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-sqlite-'));
  const clock = new ManualClock();
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  return {
    store,
    clock,
    close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })),
  };
});
