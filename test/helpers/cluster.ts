/**
 * The prelude of a cluster end-to-end file: one throwaway PostgreSQL for the file's tests,
 * started before them and stopped after, or a skip reason a user accepts where the PostgreSQL
 * binaries (or what `also` names) are missing; and the SDK client settings for a node.
 *
 *   const { skip, pg } = postgresForFile();
 *   test('...', { skip }, async () => { await using c = await startTestCluster({ nodes: 2, postgres: pg() }); });
 */
import { after, before } from 'node:test';
import {
  findPostgresBin,
  POSTGRES_MISSING,
  startTestPostgres,
  type TestPostgres,
} from '../../src/storage/postgres/test-server.js';

export function postgresForFile(also?: () => string | undefined): {
  skip: string | undefined;
  pg: () => TestPostgres;
} {
  const skip = findPostgresBin() ? also?.() : POSTGRES_MISSING;
  let pg: TestPostgres | undefined;
  before(async () => {
    if (!skip) pg = await startTestPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  return {
    skip,
    pg: () => {
      if (!pg) throw new Error('PostgreSQL is not running (the test should have been skipped)');
      return pg;
    },
  };
}

/** SDK client settings for one node (dev-mode credentials, no retries). */
export const nodeClientConfig = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});
