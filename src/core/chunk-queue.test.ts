import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkQueue } from './chunk-queue.js';

test('a chunk queue: chunks in order as they come, then its end', async () => {
  const q = new ChunkQueue<number>();
  const read = (async () => {
    const got: number[] = [];
    for await (const n of q) got.push(n);
    return got;
  })();
  let started = false;
  void q.started.then(() => (started = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(started, false);
  q.push(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(started, true);
  q.push(2);
  q.push(3);
  q.end();
  q.push(4); // after the end: dropped
  assert.deepEqual(await read, [1, 2, 3]);
});

test("a chunk queue's failure reaches the reader after the chunks before it", async () => {
  const q = new ChunkQueue<string>();
  q.push('a');
  q.fail(new Error('boom'));
  q.fail(new Error('again')); // the first failure stands
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const s of q) got.push(s);
    })(),
    /boom/,
  );
  assert.deepEqual(got, ['a']);
});
