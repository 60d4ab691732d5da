import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { openStore } from '../../storage/index.js';
import { SqsEngine } from './engine.js';

async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-sqs-unit-'));
  const clock = new ManualClock();
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, clock, silentLogger);
  const engine = new SqsEngine({
    store,
    clock,
    logger: silentLogger,
    endpoint: () => 'http://127.0.0.1:4566',
  });
  const scope = { accountId: '000000000000', region: 'us-east-1' };
  return {
    engine,
    clock,
    scope,
    async [Symbol.asyncDispose]() {
      await engine.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('queue URLs and ARNs resolve to the same queue; the engine accepts either', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'q1');
  assert.equal(QueueUrl, 'http://127.0.0.1:4566/000000000000/q1');
  assert.deepEqual(f.engine.queueArnToRef('arn:aws:sqs:us-east-1:000000000000:q1'), {
    accountId: '000000000000',
    region: 'us-east-1',
    name: 'q1',
  });
  assert.equal(f.engine.queueArnToRef('arn:aws:sns:us-east-1:000000000000:t'), undefined);
  await f.engine.sendMessage(f.scope, 'arn:aws:sqs:us-east-1:000000000000:q1', { body: 'via arn' });
  const [m] = await f.engine.receiveMessages(f.scope, QueueUrl);
  assert.equal(m.Body, 'via arn');
  const attrs = await f.engine.getQueueAttributes(f.scope, QueueUrl, [
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  assert.deepEqual(attrs, { ApproximateNumberOfMessagesNotVisible: '1' });
});

test('retention drops messages older than MessageRetentionPeriod', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'r', { MessageRetentionPeriod: '60' });
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'old' });
  f.clock.advance(61_000);
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'new' });
  const got = await f.engine.receiveMessages(f.scope, QueueUrl, { maxNumberOfMessages: 10 });
  assert.deepEqual(
    got.map((m) => m.Body),
    ['new'],
  );
});

test('FIFO deduplication scoped per message group', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'g.fifo', {
    FifoQueue: 'true',
    DeduplicationScope: 'messageGroup',
    FifoThroughputLimit: 'perMessageGroupId',
  });
  const a = await f.engine.sendMessage(f.scope, QueueUrl, {
    body: 'x',
    messageGroupId: 'a',
    messageDeduplicationId: 'd',
  });
  const b = await f.engine.sendMessage(f.scope, QueueUrl, {
    body: 'x',
    messageGroupId: 'b',
    messageDeduplicationId: 'd',
  });
  const a2 = await f.engine.sendMessage(f.scope, QueueUrl, {
    body: 'x',
    messageGroupId: 'a',
    messageDeduplicationId: 'd',
  });
  assert.notEqual(a.MessageId, b.MessageId);
  assert.equal(a.MessageId, a2.MessageId);
  assert.ok(BigInt(b.SequenceNumber!) > BigInt(a.SequenceNumber!));
  await assert.rejects(
    f.engine.sendMessage(f.scope, QueueUrl, { body: 'x', messageGroupId: 'a', delaySeconds: 5 }),
    /DelaySeconds is invalid/,
  );
});

test('FIFO needs both the FifoQueue attribute and the .fifo suffix', async () => {
  await using f = await fixture();
  await assert.rejects(f.engine.createQueue(f.scope, 'x.fifo'), { code: 'InvalidParameterValueException' });
  await assert.rejects(f.engine.createQueue(f.scope, 'x', { FifoQueue: 'true' }), /must end with .fifo/);
  await assert.rejects(f.engine.createQueue(f.scope, 'x', { ContentBasedDeduplication: 'true' }), {
    code: 'InvalidAttributeName',
  });
});

test('message body rules: invalid characters and the size limit', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'b');
  await assert.rejects(f.engine.sendMessage(f.scope, QueueUrl, { body: 'bad \u0001' }), {
    code: 'InvalidMessageContents',
  });
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'x'.repeat(262144) });
  await assert.rejects(
    f.engine.sendMessage(f.scope, QueueUrl, { body: 'x'.repeat(262145) }),
    /shorter than 262144/,
  );
  await assert.rejects(
    f.engine.sendMessage(f.scope, QueueUrl, {
      body: 'x'.repeat(262140),
      messageAttributes: { a: { DataType: 'String', StringValue: 'abcdef' } },
    }),
    /shorter than 262144/,
  );
});

test('expired FIFO deduplication ids are swept by later sends', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'sweep.fifo', {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'true',
  });
  for (let i = 0; i < 5; i++)
    await f.engine.sendMessage(f.scope, QueueUrl, { body: `b${i}`, messageGroupId: 'g' });
  const store = (f.engine as unknown as { store: import('../../storage/store.js').Store }).store;
  assert.equal(await store.count('sqs-dedup'), 5);
  f.clock.advance(5 * 60_000 + 1);
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'later', messageGroupId: 'g' });
  assert.equal(await store.count('sqs-dedup'), 1);
  assert.equal(await store.count('sqs-dedup-expiry'), 1);
});
