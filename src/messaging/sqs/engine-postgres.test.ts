/** SQS on PostgreSQL: two nodes on one database; a send on one wakes a long poll on the other. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { PostgresStore } from '../../storage/postgres/postgres-store.js';
import {
  findPostgresBin,
  POSTGRES_MISSING,
  startTestPostgres,
  type TestPostgres,
} from '../../storage/postgres/test-server.js';
import { SqsEngine } from './engine.js';

const skip = findPostgresBin() ? undefined : POSTGRES_MISSING;
let server: TestPostgres | undefined;

before(async () => {
  if (!skip) server = await startTestPostgres();
});
after(async () => {
  await server?.stop();
});

test('two nodes on PostgreSQL: cross-node long-poll wake, visibility, FIFO order', { skip }, async () => {
  const admin = postgres(server!.url, { onnotice: () => {}, max: 1 });
  await admin.unsafe('CREATE SCHEMA sqs_nodes');
  const open = () =>
    PostgresStore.open({ url: server!.url, schema: 'sqs_nodes', clock: systemClock, logger: silentLogger });
  const s1 = await open();
  const s2 = await open();
  const mk = (store: PostgresStore) =>
    new SqsEngine({
      store,
      clock: systemClock,
      logger: silentLogger,
      endpoint: () => 'http://127.0.0.1:4566',
    });
  const a = mk(s1);
  const b = mk(s2);
  const scope = { accountId: '000000000000', region: 'us-east-1' };
  try {
    const { QueueUrl } = await a.createQueue(scope, 'shared');
    const t0 = performance.now();
    const polling = a.receiveMessages(scope, QueueUrl, { waitTimeSeconds: 10 });
    await new Promise((r) => setTimeout(r, 100));
    await b.sendMessage(scope, QueueUrl, { body: 'from node b' });
    const got = await polling;
    const waited = performance.now() - t0;
    assert.equal(got[0]?.Body, 'from node b');
    assert.ok(waited < 800, `woken after ${Math.round(waited)} ms (the fallback poll is 1 s)`);
    // The other node sees it in flight and can delete it with the handle.
    assert.deepEqual(await b.receiveMessages(scope, QueueUrl), []);
    await b.deleteMessage(scope, QueueUrl, got[0].ReceiptHandle);
    assert.equal(
      (await a.getQueueAttributes(scope, QueueUrl, ['All'])).ApproximateNumberOfMessagesNotVisible,
      '0',
    );

    const fifo = (
      await a.createQueue(scope, 'f.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' })
    ).QueueUrl;
    for (const body of ['1', '2', '3']) await b.sendMessage(scope, fifo, { body, messageGroupId: 'g' });
    const first = await a.receiveMessages(scope, fifo, { maxNumberOfMessages: 10 });
    assert.deepEqual(
      first.map((m) => m.Body),
      ['1', '2', '3'],
    );
  } finally {
    await a.close();
    await b.close();
    await s1.close();
    await s2.close();
    await admin.unsafe('DROP SCHEMA sqs_nodes CASCADE');
    await admin.end({ timeout: 1 });
  }
});
