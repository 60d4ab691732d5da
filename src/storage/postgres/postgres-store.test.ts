import { after, before } from 'node:test';
import postgres from 'postgres';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { storeContract } from '../store.case.js';
import { PostgresStore } from './postgres-store.js';
import { findPostgresBin, POSTGRES_MISSING, startTestPostgres, type TestPostgres } from './test-server.js';

const skip = findPostgresBin() ? undefined : POSTGRES_MISSING;
let server: TestPostgres | undefined;
let admin: postgres.Sql | undefined;
let n = 0;

before(async () => {
  if (skip) return;
  server = await startTestPostgres();
  admin = postgres(server!.url, { onnotice: () => {}, max: 2 });
});

after(async () => {
  await admin?.end({ timeout: 1 });
  await server?.stop();
});

storeContract(
  'postgres',
  async () => {
    const db = `contract_${process.pid}_${++n}`;
    await admin!.unsafe(`CREATE DATABASE ${db}`);
    const clock = new ManualClock();
    const store = await PostgresStore.open({ url: server!.urlFor(db), clock, logger: silentLogger });
    return {
      store,
      clock,
      close: async () => {
        await store.close();
        await admin!.unsafe(`DROP DATABASE ${db} WITH (FORCE)`);
      },
    };
  },
  { skip },
);
