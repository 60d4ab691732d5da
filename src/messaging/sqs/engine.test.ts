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
    store,
    clock,
    scope,
    async [Symbol.asyncDispose]() {
      await engine.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Counts the Store transactions the engine starts until `stop()` is called. */
function countTransactions(engine: SqsEngine): { readonly n: number; stop(): void } {
  const store = (engine as unknown as { store: { transaction: (...a: unknown[]) => unknown } }).store;
  const orig = store.transaction;
  const counter = {
    n: 0,
    stop: () => {
      store.transaction = orig;
    },
  };
  store.transaction = function (this: unknown, ...a: unknown[]) {
    counter.n++;
    return orig.apply(this, a);
  };
  return counter;
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

test("the data plane sees this node's queue changes at once and another node's within a second", async () => {
  await using f = await fixture();
  // A second engine on the same store: another cluster node.
  const other = new SqsEngine({
    store: f.store,
    clock: f.clock,
    logger: silentLogger,
    endpoint: () => 'http://127.0.0.1:4566',
  });
  try {
    const { QueueUrl } = await f.engine.createQueue(f.scope, 'cq');
    await f.engine.sendMessage(f.scope, QueueUrl, { body: 'a' });
    // This node: a new VisibilityTimeout applies to the very next receive.
    await f.engine.setQueueAttributes(f.scope, QueueUrl, { VisibilityTimeout: '5' });
    const [a] = await f.engine.receiveMessages(f.scope, QueueUrl);
    assert.equal(a.Body, 'a');
    f.clock.advance(5_000);
    assert.equal((await f.engine.receiveMessages(f.scope, QueueUrl)).length, 1, 'visible again after 5 s');
    // Another node deletes the queue: this node's sends fail once its record is a second old.
    await other.deleteQueue(f.scope, QueueUrl);
    await new Promise((r) => setTimeout(r, 1100));
    await assert.rejects(
      f.engine.sendMessage(f.scope, QueueUrl, { body: 'b' }),
      /QueueDoesNotExist|does not exist/,
    );
    // And this node's own delete is seen at once.
    const again = await f.engine.createQueue(f.scope, 'cq2');
    await f.engine.sendMessage(f.scope, again.QueueUrl, { body: 'c' });
    await f.engine.deleteQueue(f.scope, again.QueueUrl);
    await assert.rejects(f.engine.sendMessage(f.scope, again.QueueUrl, { body: 'd' }), /does not exist/);
  } finally {
    await other.close();
  }
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

test('sends answer the long polls waiting for their queues in their own transactions', async () => {
  await using f = await fixture();
  const urls: string[] = [];
  for (let i = 0; i < 5; i++) urls.push((await f.engine.createQueue(f.scope, `w${i}`)).QueueUrl);
  const polls = urls.map((u) => f.engine.receiveMessages(f.scope, u, { waitTimeSeconds: 5 }));
  await new Promise((r) => setTimeout(r, 50)); // the polls are waiting
  // Five sends (five transactions): no further transaction answers the five polls.
  const tx = countTransactions(f.engine);
  try {
    await Promise.all(urls.map((u, i) => f.engine.sendMessage(f.scope, u, { body: `m${i}` })));
    const got = await Promise.all(polls);
    assert.deepEqual(
      got.map((g) => g.map((m) => m.Body)),
      urls.map((_, i) => [`m${i}`]),
    );
    assert.equal(tx.n, 5);
  } finally {
    tx.stop();
  }
  // Received: in flight, not received again; received once.
  for (const u of urls) assert.deepEqual(await f.engine.receiveMessages(f.scope, u), []);
  f.clock.advance(31_000);
  const [again] = await f.engine.receiveMessages(f.scope, urls[0], { attributeNames: ['All'] });
  assert.equal(again.Attributes?.ApproximateReceiveCount, '2');
});

test('long polls woken by one commit share one receive transaction when the send could not answer them', async () => {
  await using f = await fixture();
  const urls: string[] = [];
  for (let i = 0; i < 5; i++) urls.push((await f.engine.createQueue(f.scope, `d${i}`)).QueueUrl);
  // Delayed messages are not visible at the send: the polls sleep until they are, then receive.
  for (let i = 0; i < 5; i++)
    await f.engine.sendMessage(f.scope, urls[i], { body: `m${i}`, delaySeconds: 1 });
  const polls = urls.map((u) => f.engine.receiveMessages(f.scope, u, { waitTimeSeconds: 5 }));
  await new Promise((r) => setTimeout(r, 50));
  const tx = countTransactions(f.engine);
  try {
    f.clock.advance(1_000);
    (f.engine as unknown as { wakeAll(): void }).wakeAll();
    const got = await Promise.all(polls);
    assert.deepEqual(
      got.map((g) => g.map((m) => m.Body)),
      urls.map((_, i) => [`m${i}`]),
    );
    assert.ok(tx.n <= 2, `${tx.n} receive transactions for 5 woken polls`);
  } finally {
    tx.stop();
  }
});

test('one send of several messages answers several polls of the queue, each with its own messages', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'many');
  const polls = [1, 2, 3].map(() => f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5 }));
  await new Promise((r) => setTimeout(r, 50));
  await f.engine.sendMessageBatch(f.scope, QueueUrl, [{ body: 'a' }, { body: 'b' }]);
  const got = (await Promise.race([
    Promise.all(polls.slice(0, 2)),
    new Promise((r) => setTimeout(r, 2000, 'late')),
  ])) as { Body: string }[][] | 'late';
  assert.notEqual(got, 'late', 'the first two polls are answered by the send');
  assert.deepEqual(
    (got as { Body: string }[][]).map((g) => g.map((m) => m.Body)),
    [['a'], ['b']],
  );
  // The third poll is still waiting and gets the next message.
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'c' });
  assert.deepEqual(
    (await polls[2]).map((m) => m.Body),
    ['c'],
  );
});

test("a message handed to a waiting poll keeps the poll's visibility timeout and attributes", async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'vt');
  const poll = f.engine.receiveMessages(f.scope, QueueUrl, {
    waitTimeSeconds: 5,
    visibilityTimeout: 5,
    attributeNames: ['All'],
    messageAttributeNames: ['All'],
  });
  await new Promise((r) => setTimeout(r, 50));
  await f.engine.sendMessage(f.scope, QueueUrl, {
    body: 'hello',
    messageAttributes: { color: { DataType: 'String', StringValue: 'red' } },
  });
  const [m] = await poll;
  assert.equal(m.Body, 'hello');
  assert.equal(m.Attributes?.ApproximateReceiveCount, '1');
  assert.equal(m.MessageAttributes?.color?.StringValue, 'red');
  f.clock.advance(4_000);
  assert.deepEqual(await f.engine.receiveMessages(f.scope, QueueUrl), []);
  f.clock.advance(1_001);
  const [again] = await f.engine.receiveMessages(f.scope, QueueUrl, { attributeNames: ['All'] });
  assert.equal(again?.Body, 'hello');
  assert.equal(again.Attributes?.ApproximateReceiveCount, '2');
  // A receipt handle from a hand-off deletes the message like any other.
  const poll2 = f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5 });
  await new Promise((r) => setTimeout(r, 50));
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'second' });
  const [m2] = await poll2;
  assert.equal(m2.Body, 'second');
  await f.engine.deleteMessage(f.scope, QueueUrl, m2.ReceiptHandle);
  f.clock.advance(60_000);
  assert.deepEqual(
    (await f.engine.receiveMessages(f.scope, QueueUrl, { maxNumberOfMessages: 10 })).map((x) => x.Body),
    ['hello'],
  );
});

test('a poll that ends before the send commits leaves the message visible, never received', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'gone');
  const ac = new AbortController();
  const poll = f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5, signal: ac.signal });
  await new Promise((r) => setTimeout(r, 50));
  // The send's transaction receives for the poll; the poll's client goes away before the commit.
  const done = await f.store.transaction(async (tx) => {
    const r = await f.engine.sendInTransaction(tx, f.scope, QueueUrl, { body: 'kept' });
    ac.abort();
    return r.done;
  });
  done();
  assert.deepEqual(await poll, []);
  // Visible again at once (not after the visibility timeout), as if never received.
  let got: Awaited<ReturnType<SqsEngine['receiveMessages']>> = [];
  for (let i = 0; i < 50 && !got.length; i++) {
    got = await f.engine.receiveMessages(f.scope, QueueUrl, { attributeNames: ['All'] });
    if (!got.length) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(got[0]?.Body, 'kept');
  assert.equal(got[0].Attributes?.ApproximateReceiveCount, '1');
});

test('a sender transaction that fails leaves its poll to the next send, at once', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'failing');
  const poll = f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5 });
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(
    f.store.transaction(async (tx) => {
      await f.engine.sendInTransaction(tx, f.scope, QueueUrl, { body: 'rolled back' });
      throw new Error('boom');
    }),
    /boom/,
  );
  const t0 = performance.now();
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'next' });
  assert.deepEqual(
    (await poll).map((m) => m.Body),
    ['next'],
  );
  assert.ok(performance.now() - t0 < 500, 'answered by the next send, not by its timer');
});

test('a long poll of a queue with many messages in flight still wakes for a new one', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'busy');
  await f.engine.sendMessageBatch(
    f.scope,
    QueueUrl,
    Array.from({ length: 10 }, (_, i) => ({ body: `old${i}` })),
  );
  assert.equal((await f.engine.receiveMessages(f.scope, QueueUrl, { maxNumberOfMessages: 10 })).length, 10);
  const poll = f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5, maxNumberOfMessages: 10 });
  await new Promise((r) => setTimeout(r, 30));
  await f.engine.sendMessage(f.scope, QueueUrl, { body: 'new' });
  assert.deepEqual(
    (await poll).map((m) => m.Body),
    ['new'],
  );
  // The visibility timeout runs out: the ten come back (one lower and one upper bound still finds them).
  f.clock.advance(31_000);
  assert.equal((await f.engine.receiveMessages(f.scope, QueueUrl, { maxNumberOfMessages: 10 })).length, 10);
});

test('a long poll behind a FIFO group in flight sleeps until the group frees (no busy retries), and wakes on the delete', async () => {
  await using f = await fixture();
  const { QueueUrl } = await f.engine.createQueue(f.scope, 'held.fifo', {
    FifoQueue: 'true',
    ContentBasedDeduplication: 'true',
  });
  for (const body of ['first', 'second'])
    await f.engine.sendMessage(f.scope, QueueUrl, { body, messageGroupId: 'g' });
  const [head] = await f.engine.receiveMessages(f.scope, QueueUrl);
  assert.equal(head.Body, 'first');
  const tx = countTransactions(f.engine);
  try {
    // `second` is visible but its group is held by `first`: the poll must wait, not retry every ms.
    const poll = f.engine.receiveMessages(f.scope, QueueUrl, { waitTimeSeconds: 5 });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(tx.n <= 2, `${tx.n} transactions while the group was held`);
    const t0 = Date.now();
    await f.engine.deleteMessage(f.scope, QueueUrl, head.ReceiptHandle);
    assert.deepEqual(
      (await poll).map((m) => m.Body),
      ['second'],
    );
    assert.ok(Date.now() - t0 < 1000, 'woken by the delete');
  } finally {
    tx.stop();
  }
});
