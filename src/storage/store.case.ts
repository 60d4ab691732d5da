/**
 * The Store contract: one suite of node:test tests that every implementation must pass.
 * An implementation's test file calls `storeContract('sqlite', open)`; `open` returns a fresh,
 * empty store on a ManualClock (the suite moves time itself) and a `close` that removes it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import type { Store } from './store.js';
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS } from './backoff.js';
import { startWorker } from './worker.js';

export interface ContractFixture {
  store: Store;
  clock: ManualClock;
  close: () => Promise<void>;
}

export interface ContractOptions {
  /** A reason to skip the whole suite (e.g. server binaries missing), or undefined to run it. */
  skip?: string;
}

async function withStore(open: () => Promise<ContractFixture>, fn: (f: ContractFixture) => Promise<void>) {
  const f = await open();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

/** Keys in code point (UTF-8 byte) order, including non-ASCII and keys that prefix others. */
const ORDERED_KEYS = [
  '',
  '!',
  '0',
  'A',
  'Z',
  'a',
  'a\u0000',
  'a/',
  'a/b',
  'a/b/c',
  'a0',
  'ab',
  'b',
  '~',
  '\u007f',
  '\u00e9', // é
  '\u00e9t\u00e9',
  '\u4e2d', // 中
  '\uff5e', // ～ (BMP, above the surrogates)
  '\u{1f600}', // 😀 (astral: after U+FF5E in code point order, before it in UTF-16 order)
  '\u{1f600}x',
  '\u{10ffff}',
];

export function storeContract(
  name: string,
  open: () => Promise<ContractFixture>,
  opts: ContractOptions = {},
): void {
  const run = (title: string, fn: (f: ContractFixture) => Promise<void>) =>
    test(title, opts.skip ? { skip: opts.skip } : {}, () => withStore(open, fn));

  describe(`Store contract: ${name}`, () => {
    describe('key-value', () => {
      run('put/get round-trips JSON values; missing keys are undefined', async ({ store }) => {
        const value = {
          s: 'x',
          n: 1.5,
          b: true,
          nil: null,
          arr: [1, 'two', { three: 3 }],
          nested: { a: { b: 'c' } },
        };
        await store.put('c1', 'k', value);
        assert.deepEqual(await store.get('c1', 'k'), value);
        await store.put('c1', 'n', 42);
        assert.equal(await store.get('c1', 'n'), 42);
        await store.put('c1', 's', 'text');
        assert.equal(await store.get('c1', 's'), 'text');
        assert.equal(await store.get('c1', 'missing'), undefined);
        assert.equal(await store.get('other', 'k'), undefined, 'collections are separate');
        await store.put('c1', 'k', { replaced: true });
        assert.deepEqual(await store.get('c1', 'k'), { replaced: true });
      });

      run('insert refuses an existing key; delete reports whether a row went', async ({ store }) => {
        assert.equal(await store.insert('c', 'k', 1), true);
        assert.equal(await store.insert('c', 'k', 2), false);
        assert.equal(await store.get('c', 'k'), 1);
        assert.equal(await store.delete('c', 'k'), true);
        assert.equal(await store.delete('c', 'k'), false);
        assert.equal(await store.get('c', 'k'), undefined);
        assert.equal(await store.insert('c', 'k', 3), true);
      });

      run('getMany answers in the order asked, with undefined holes', async ({ store }) => {
        await store.put('c', 'a', 1);
        await store.put('c', 'c', 3);
        assert.deepEqual(await store.getMany('c', ['c', 'b', 'a', 'a']), [3, undefined, 1, 1]);
        assert.deepEqual(await store.getMany('c', []), []);
      });

      run(
        'scan orders keys bytewise (code point order), non-ASCII and prefixes included',
        async ({ store }) => {
          const shuffled = [...ORDERED_KEYS].sort(() => Math.random() - 0.5);
          for (const k of shuffled) await store.put('o', k, k);
          const keys = (await store.scan<string>('o')).map((e) => e.key);
          assert.deepEqual(keys, ORDERED_KEYS);
          const rev = (await store.scan('o', { reverse: true })).map((e) => e.key);
          assert.deepEqual(rev, [...ORDERED_KEYS].reverse());
          assert.equal(await store.count('o'), ORDERED_KEYS.length);
          for (const e of await store.scan<string>('o')) assert.equal(e.value, e.key);
        },
      );

      run('scan options: prefix, start, after, end, endInclusive, limit, reverse', async ({ store }) => {
        for (const k of ORDERED_KEYS) await store.put('o', k, 0);
        const keys = async (o: Parameters<Store['scan']>[1]) => (await store.scan('o', o)).map((e) => e.key);
        assert.deepEqual(await keys({ prefix: 'a/' }), ['a/', 'a/b', 'a/b/c']);
        assert.deepEqual(await keys({ prefix: 'a/b' }), ['a/b', 'a/b/c']);
        assert.deepEqual(await keys({ prefix: 'a' }), ['a', 'a\u0000', 'a/', 'a/b', 'a/b/c', 'a0', 'ab']);
        assert.deepEqual(await keys({ prefix: '\u00e9' }), ['\u00e9', '\u00e9t\u00e9']);
        assert.deepEqual(await keys({ prefix: '\u{1f600}' }), ['\u{1f600}', '\u{1f600}x']);
        assert.deepEqual(await keys({ prefix: '\u{10ffff}' }), ['\u{10ffff}']);
        assert.deepEqual(await keys({ prefix: 'nope' }), []);
        assert.deepEqual(await keys({ start: 'a/b', end: 'a0' }), ['a/b', 'a/b/c']);
        assert.deepEqual(await keys({ after: 'a/b', end: 'ab' }), ['a/b/c', 'a0']);
        assert.deepEqual(await keys({ start: 'a/b', endInclusive: 'a0' }), ['a/b', 'a/b/c', 'a0']);
        assert.deepEqual(await keys({ prefix: 'a', limit: 2 }), ['a', 'a\u0000']);
        assert.deepEqual(await keys({ prefix: 'a', limit: 2, reverse: true }), ['ab', 'a0']);
        assert.deepEqual(await keys({ prefix: 'a', after: 'a/b/c' }), ['a0', 'ab']);
        assert.deepEqual(await keys({ prefix: 'a', reverse: true, end: 'a/b/c' }), [
          'a/b',
          'a/',
          'a\u0000',
          'a',
        ]);
        assert.deepEqual(await keys({ start: '\u00e9', end: '\u{1f600}' }), [
          '\u00e9',
          '\u00e9t\u00e9',
          '\u4e2d',
          '\uff5e',
        ]);
        assert.deepEqual(await keys({ limit: 0 }), []);
        // pagination with after + limit walks everything exactly once
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await keys({ after, limit: 5 });
          if (page.length === 0) break;
          seen.push(...page);
          after = page[page.length - 1];
        }
        assert.deepEqual(seen, ORDERED_KEYS);
        assert.deepEqual(await keys({ after: '' }), ORDERED_KEYS.slice(1), 'after "" excludes only ""');
      });

      run('count and deleteRange take the same range options', async ({ store }) => {
        for (const k of ORDERED_KEYS) await store.put('o', k, 0);
        await store.put('other', 'a/b', 0);
        assert.equal(await store.count('o', { prefix: 'a/' }), 3);
        assert.equal(await store.count('o', { start: 'a', end: 'b' }), 7);
        assert.equal(await store.count('o', { after: 'a', endInclusive: 'b' }), 7);
        assert.equal(await store.deleteRange('o', { prefix: 'a/' }), 3);
        assert.equal(await store.count('o', { prefix: 'a' }), 4);
        assert.equal(await store.get('other', 'a/b'), 0, 'other collections untouched');
        assert.equal(await store.deleteRange('o', { start: '\u00e9' }), 7);
        assert.equal(await store.deleteRange('o', {}), ORDERED_KEYS.length - 10);
        assert.equal(await store.count('o'), 0);
      });

      run('large values and many keys', async ({ store }) => {
        const big = { text: 'x'.repeat(1_000_000) };
        await store.put('big', 'k', big);
        assert.equal(((await store.get('big', 'k')) as typeof big).text.length, 1_000_000);
        await store.transaction(async (tx) => {
          for (let i = 0; i < 1000; i++) await tx.put('many', String(i).padStart(4, '0'), i);
        });
        assert.equal(await store.count('many'), 1000);
        const last = await store.scan('many', { reverse: true, limit: 1 });
        assert.deepEqual(last, [{ key: '0999', value: 999 }]);
      });
    });

    describe('transactions', () => {
      run('commit makes every write visible; the callback result is returned', async ({ store }) => {
        const out = await store.transaction(async (tx) => {
          await tx.put('t', 'a', 1);
          assert.equal(await tx.insert('t', 'b', 2), true);
          assert.equal(await tx.get('t', 'a'), 1, 'a transaction reads its own writes');
          assert.deepEqual(
            (await tx.scan('t')).map((e) => e.key),
            ['a', 'b'],
          );
          assert.equal(await tx.count('t'), 2);
          assert.deepEqual(await tx.getMany('t', ['b', 'a']), [2, 1]);
          return 'done';
        });
        assert.equal(out, 'done');
        assert.deepEqual(await store.getMany('t', ['a', 'b']), [1, 2]);
      });

      run('a throw rolls everything back and rethrows', async ({ store }) => {
        await store.put('t', 'keep', 1);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.put('t', 'keep', 2);
            await tx.put('t', 'new', 1);
            assert.equal(await tx.delete('t', 'keep'), true);
            await tx.deleteRange('t', {});
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await store.get('t', 'keep'), 1);
        assert.equal(await store.get('t', 'new'), undefined);
        await store.put('t', 'after', 1); // the store is usable afterwards
        assert.equal(await store.count('t'), 2);
      });

      run('reads outside a transaction see only committed data', async ({ store }) => {
        await store.put('t', 'k', 'old');
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let inside!: () => void;
        const entered = new Promise<void>((r) => (inside = r));
        const txDone = store.transaction(async (tx) => {
          await tx.put('t', 'k', 'new');
          inside();
          await gate;
        });
        await entered;
        assert.equal(await store.get('t', 'k'), 'old');
        assert.equal(await store.count('t'), 1);
        release();
        await txDone;
        assert.equal(await store.get('t', 'k'), 'new');
      });

      run('serialisable: 200 concurrent read-modify-write increments end exact', async ({ store }) => {
        await store.put('ctr', 'n', 0);
        await Promise.all(
          Array.from({ length: 200 }, () =>
            store.transaction(async (tx) => {
              const n = (await tx.get<number>('ctr', 'n')) ?? 0;
              await tx.put('ctr', 'n', n + 1);
            }),
          ),
        );
        assert.equal(await store.get('ctr', 'n'), 200);
      });

      run('single writes racing transactions stay atomic and are never lost', async ({ store }) => {
        const work: Promise<unknown>[] = [];
        for (let i = 0; i < 50; i++) {
          work.push(
            store.transaction(async (tx) => {
              const n = (await tx.get<number>('ctr', 'n')) ?? 0;
              await tx.put('ctr', 'n', n + 1);
            }),
          );
          work.push(store.put('single', String(i), i));
        }
        await Promise.all(work);
        assert.equal(await store.get('ctr', 'n'), 50);
        assert.equal(await store.count('single'), 50);
      });
    });

    describe('blobs', () => {
      run('put/get/has/delete, including 10 MB', async ({ store }) => {
        assert.equal(await store.blobs.get('none'), undefined);
        assert.equal(await store.blobs.has('none'), false);
        const small = Buffer.from([0, 1, 2, 255, 0]);
        await store.blobs.put('small', small);
        assert.deepEqual(await store.blobs.get('small'), small);
        assert.equal(await store.blobs.has('small'), true);
        const big = Buffer.alloc(10 * 1024 * 1024);
        for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
        big[big.length - 1] = 7;
        await store.blobs.put('big', big);
        const got = await store.blobs.get('big');
        assert.ok(got && got.equals(big), '10 MB blob round-trips byte for byte');
        await store.blobs.put('small', Buffer.from('replaced'));
        assert.equal((await store.blobs.get('small'))?.toString(), 'replaced');
        assert.equal(await store.blobs.delete('small'), true);
        assert.equal(await store.blobs.delete('small'), false);
        assert.equal(await store.blobs.has('small'), false);
        await store.blobs.put('empty', Buffer.alloc(0));
        assert.equal((await store.blobs.get('empty'))?.length, 0);
      });
    });

    describe('job queue', () => {
      run(
        'enqueue then claim: oldest first, attempts counted, lease set, payload intact',
        async ({ store, clock }) => {
          const a = await store.jobs.enqueue('q', { n: 1 });
          clock.advance(1);
          const b = await store.jobs.enqueue('q', { n: 2 });
          await store.jobs.enqueue('other', { n: 0 });
          assert.equal(a.created, true);
          const jobs = await store.jobs.claim<{ n: number }>('q', { limit: 10, leaseMs: 30_000 });
          assert.deepEqual(
            jobs.map((j) => j.id),
            [a.id, b.id],
          );
          assert.deepEqual(jobs[0].payload, { n: 1 });
          assert.equal(jobs[0].queue, 'q');
          assert.equal(jobs[0].attempts, 1);
          assert.equal(jobs[0].maxAttempts, 3);
          assert.equal(jobs[0].leaseUntil, clock.now() + 30_000);
          assert.ok(jobs[0].leaseToken.length > 0);
          assert.notEqual(jobs[0].leaseToken, jobs[1].leaseToken);
          assert.deepEqual(await store.jobs.claim('q', { leaseMs: 1000 }), [], 'claimed jobs are invisible');
          assert.equal(await store.jobs.ack(jobs[0]), true);
          assert.equal(await store.jobs.ack(jobs[0]), false, 'a second ack finds nothing');
          assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 1, delayed: 0, dead: 0 });
        },
      );

      run('claim respects limit and FIFO among same-time jobs', async ({ store }) => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await store.jobs.enqueue('q', i)).id);
        const first = await store.jobs.claim('q', { limit: 2, leaseMs: 1000 });
        const rest = await store.jobs.claim('q', { limit: 10, leaseMs: 1000 });
        assert.deepEqual(
          [...first, ...rest].map((j) => j.id),
          ids,
        );
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
      });

      run('delayed jobs are invisible until the clock reaches them', async ({ store, clock }) => {
        await store.jobs.enqueue('q', 'later', { delayMs: 5000 });
        assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 0, delayed: 1, dead: 0 });
        assert.equal(await store.jobs.nextVisibleAt('q'), clock.now() + 5000);
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
        clock.advance(4999);
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
        clock.advance(1);
        const [job] = await store.jobs.claim('q', { leaseMs: 1000 });
        assert.equal(job.payload, 'later');
        assert.equal(await store.jobs.nextVisibleAt('empty'), undefined);
      });

      run('an expired lease redelivers; the stale lease token is then rejected', async ({ store, clock }) => {
        await store.jobs.enqueue('q', 'x');
        const [first] = await store.jobs.claim('q', { leaseMs: 1000 });
        assert.equal(await store.jobs.nextVisibleAt('q'), first.leaseUntil);
        clock.advance(999);
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
        clock.advance(1);
        assert.deepEqual(await store.jobs.stats('q'), { ready: 1, inFlight: 0, delayed: 0, dead: 0 });
        const [second] = await store.jobs.claim('q', { leaseMs: 1000 });
        assert.equal(second.id, first.id);
        assert.equal(second.attempts, 2);
        assert.notEqual(second.leaseToken, first.leaseToken);
        assert.equal(await store.jobs.ack(first), false);
        assert.equal(await store.jobs.retry(first), false);
        assert.equal(await store.jobs.kill(first), false);
        assert.equal(await store.jobs.extend(first, 1000), false);
        assert.equal(await store.jobs.ack({ id: first.id, leaseToken: '' }), false);
        assert.equal(await store.jobs.ack(second), true);
      });

      run('extend lengthens the lease', async ({ store, clock }) => {
        await store.jobs.enqueue('q', 'x');
        const [job] = await store.jobs.claim('q', { leaseMs: 1000 });
        clock.advance(900);
        assert.equal(await store.jobs.extend(job, 5000), true);
        clock.advance(4000);
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
        assert.equal(await store.jobs.nextVisibleAt('q'), clock.now() + 1000);
        assert.equal(await store.jobs.ack(job), true);
      });

      run(
        'retry: explicit delay, default exponential backoff, then dead letters',
        async ({ store, clock }) => {
          const { id } = await store.jobs.enqueue('q', { p: 1 }, { maxAttempts: 3 });
          let [job] = await store.jobs.claim('q', { leaseMs: 1000 });
          assert.equal(await store.jobs.retry(job, { delayMs: 200, error: 'first failure' }), true);
          assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 0, delayed: 1, dead: 0 });
          clock.advance(199);
          assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
          clock.advance(1);
          [job] = await store.jobs.claim('q', { leaseMs: 1000 });
          assert.equal(job.attempts, 2);
          assert.equal(job.lastError, 'first failure');
          // default backoff after attempt 2: between base and 2 * base (equal jitter)
          assert.equal(await store.jobs.retry(job, { error: 'second failure' }), true);
          const next = (await store.jobs.nextVisibleAt('q')) as number;
          assert.ok(
            next - clock.now() >= BACKOFF_BASE_MS && next - clock.now() <= 2 * BACKOFF_BASE_MS,
            `backoff ${next - clock.now()}`,
          );
          clock.advance(BACKOFF_CAP_MS);
          [job] = await store.jobs.claim('q', { leaseMs: 1000 });
          assert.equal(job.attempts, 3);
          assert.equal(await store.jobs.retry(job, { error: 'third failure' }), true);
          assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 0, delayed: 0, dead: 1 });
          assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
          const dead = await store.jobs.deadLetters<{ p: number }>('q');
          assert.equal(dead.length, 1);
          assert.equal(dead[0].id, id);
          assert.deepEqual(dead[0].payload, { p: 1 });
          assert.equal(dead[0].attempts, 3);
          assert.equal(dead[0].lastError, 'third failure');
          assert.equal(dead[0].diedAt, clock.now());
          assert.equal(await store.jobs.nextVisibleAt('q'), undefined);
        },
      );

      run(
        'kill dead-letters at once; a last lease that expires dead-letters too',
        async ({ store, clock }) => {
          await store.jobs.enqueue('q', 'a', { maxAttempts: 5 });
          await store.jobs.enqueue('q', 'b', { maxAttempts: 1 });
          const [a, b] = await store.jobs.claim<string>('q', { limit: 2, leaseMs: 1000 });
          assert.equal(await store.jobs.kill(a, { error: 'poison' }), true);
          clock.advance(1000); // b's only attempt: its worker died
          assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
          const dead = await store.jobs.deadLetters<string>('q');
          assert.deepEqual(
            dead.map((d) => [d.payload, d.lastError !== undefined]),
            [
              ['a', true],
              ['b', true],
            ],
          );
          assert.equal(dead[0].lastError, 'poison');
          assert.equal(b.attempts, 1);
          assert.equal((await store.jobs.deadLetters('q', { limit: 1 })).length, 1);
          assert.equal((await store.jobs.stats('q')).dead, 2);
        },
      );

      run('a caller id is idempotent', async ({ store }) => {
        const first = await store.jobs.enqueue('q', 'one', { id: 'job-1' });
        const again = await store.jobs.enqueue('q', 'two', { id: 'job-1' });
        assert.deepEqual(first, { id: 'job-1', created: true });
        assert.deepEqual(again, { id: 'job-1', created: false });
        const jobs = await store.jobs.claim('q', { limit: 10, leaseMs: 1000 });
        assert.equal(jobs.length, 1);
        assert.equal(jobs[0].payload, 'one');
        const inTx = await store.transaction((tx) => tx.enqueue('q', 'three', { id: 'job-1' }));
        assert.equal(inTx.created, false);
      });

      run('enqueue inside a transaction commits with it, or not at all', async ({ store }) => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.put('t', 'k', 1);
            await tx.enqueue('q', 'rolled back');
            throw new Error('abort');
          }),
          /abort/,
        );
        assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 0, delayed: 0, dead: 0 });
        assert.equal((await store.jobs.claim('q', { leaseMs: 1000 })).length, 0);
        await store.transaction(async (tx) => {
          await tx.put('t', 'k', 1);
          await tx.enqueue('q', 'committed', { delayMs: 10 });
        });
        assert.deepEqual(await store.jobs.stats('q'), { ready: 0, inFlight: 0, delayed: 1, dead: 0 });
      });

      run('notify wakes onNotify listeners of that channel only', async ({ store }) => {
        let a = 0;
        let b = 0;
        const offA = store.onNotify('chan-a', () => a++);
        const offB = store.onNotify('chan-b', () => b++);
        await store.notify('chan-a');
        for (let i = 0; i < 200 && a < 1; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(a, 1);
        assert.equal(b, 0);
        offA();
        await store.notify('chan-a');
        await store.notify('chan-b');
        for (let i = 0; i < 200 && b < 1; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(b, 1);
        assert.equal(a, 1, 'an unsubscribed listener is not called');
        offB();
      });

      run('onWake fires after enqueue (after commit), and after retry', async ({ store }) => {
        let woken = 0;
        const off = store.jobs.onWake('q', () => woken++);
        const waitFor = async (n: number) => {
          for (let i = 0; i < 200 && woken < n; i++) await new Promise((r) => setTimeout(r, 10));
          assert.equal(woken, n);
        };
        await store.jobs.enqueue('q', 1);
        await waitFor(1);
        await store.jobs.enqueue('other', 1);
        let duringTx = -1;
        await store.transaction(async (tx) => {
          await tx.enqueue('q', 2);
          duringTx = woken;
        });
        assert.equal(duringTx, 1, 'no wake before commit');
        await waitFor(2);
        const [job] = await store.jobs.claim('q', { leaseMs: 1000 });
        await store.jobs.retry(job, { delayMs: 0 });
        await waitFor(3);
        off();
        await store.jobs.enqueue('q', 3);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(woken, 3, 'unsubscribed');
      });

      run('stats count each state', async ({ store, clock }) => {
        await store.jobs.enqueue('q', 'ready1');
        await store.jobs.enqueue('q', 'ready2');
        await store.jobs.enqueue('q', 'flight');
        await store.jobs.enqueue('q', 'delayed', { delayMs: 60_000 });
        const [a, b] = await store.jobs.claim('q', { limit: 2, leaseMs: 10_000 });
        await store.jobs.kill(a);
        void b;
        assert.deepEqual(await store.jobs.stats('q'), { ready: 1, inFlight: 1, delayed: 1, dead: 1 });
        clock.advance(10_000);
        assert.deepEqual(await store.jobs.stats('q'), { ready: 2, inFlight: 0, delayed: 1, dead: 1 });
        assert.deepEqual(await store.jobs.stats('none'), { ready: 0, inFlight: 0, delayed: 0, dead: 0 });
      });
    });

    describe('worker helper', () => {
      run(
        'processes jobs with bounded concurrency; acks, retries with the error, stops cleanly',
        async ({ store, clock }) => {
          let running = 0;
          let maxRunning = 0;
          const done: number[] = [];
          let failedOnce = false;
          const worker = startWorker<number>({
            store,
            queue: 'w',
            concurrency: 3,
            leaseMs: 10_000,
            logger: silentLogger,
            clock,
            handle: async (job) => {
              running++;
              maxRunning = Math.max(maxRunning, running);
              await new Promise((r) => setTimeout(r, 5));
              running--;
              if (job.payload === 7 && !failedOnce) {
                failedOnce = true;
                throw Object.assign(new Error('flaky seven'), { retryDelayMs: 0 });
              }
              done.push(job.payload);
            },
          });
          try {
            for (let i = 0; i < 20; i++) await store.jobs.enqueue('w', i);
            for (let i = 0; i < 500 && done.length < 20; i++) await new Promise((r) => setTimeout(r, 10));
            assert.deepEqual(
              [...done].sort((a, b) => a - b),
              Array.from({ length: 20 }, (_, i) => i),
            );
            assert.ok(maxRunning <= 3, `max concurrency ${maxRunning}`);
            assert.ok(maxRunning >= 2, `ran in parallel (${maxRunning})`);
            // A handler's side effect comes before the worker acks its job: stop() waits for
            // the running handlers to be acked (or retried).
            await worker.stop();
            assert.deepEqual(await store.jobs.stats('w'), { ready: 0, inFlight: 0, delayed: 0, dead: 0 });
          } finally {
            await worker.stop();
          }
        },
      );

      run('a failing handler records its error and ends in the dead letters', async ({ store, clock }) => {
        const worker = startWorker({
          store,
          queue: 'bad',
          concurrency: 1,
          leaseMs: 10_000,
          logger: silentLogger,
          clock,
          handle: async () => {
            throw Object.assign(new Error('always broken'), { retryDelayMs: 0 });
          },
        });
        try {
          await store.jobs.enqueue('bad', 'x', { maxAttempts: 2 });
          for (let i = 0; i < 300 && (await store.jobs.stats('bad')).dead === 0; i++)
            await new Promise((r) => setTimeout(r, 10));
          const [dead] = await store.jobs.deadLetters('bad');
          assert.equal(dead.lastError, 'always broken');
          assert.equal(dead.attempts, 2);
        } finally {
          await worker.stop();
        }
      });

      run('stop waits for running handlers and claims nothing after', async ({ store, clock }) => {
        let finished = false;
        let started!: () => void;
        const isStarted = new Promise<void>((r) => (started = r));
        const worker = startWorker({
          store,
          queue: 's',
          concurrency: 1,
          leaseMs: 10_000,
          logger: silentLogger,
          clock,
          handle: async () => {
            started();
            await new Promise((r) => setTimeout(r, 50));
            finished = true;
          },
        });
        await store.jobs.enqueue('s', 1);
        await isStarted;
        await worker.stop();
        assert.equal(finished, true);
        await store.jobs.enqueue('s', 2);
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(await store.jobs.stats('s'), { ready: 1, inFlight: 0, delayed: 0, dead: 0 });
      });

      run(
        'a delayed job is picked up when the clock reaches it (timer, no wake)',
        async ({ store, clock }) => {
          const got: string[] = [];
          const worker = startWorker<string>({
            store,
            queue: 'd',
            concurrency: 1,
            leaseMs: 10_000,
            logger: silentLogger,
            clock,
            pollMs: 20,
            handle: async (job) => {
              got.push(job.payload);
            },
          });
          try {
            await store.jobs.enqueue('d', 'soon', { delayMs: 1000 });
            await new Promise((r) => setTimeout(r, 30));
            assert.deepEqual(got, []);
            clock.advance(1000);
            // ManualClock has no onAdvance: the worker's slow safety poll (pollMs) picks it up
            for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
            assert.deepEqual(got, ['soon']);
          } finally {
            await worker.stop();
          }
        },
      );
    });
  });
}
