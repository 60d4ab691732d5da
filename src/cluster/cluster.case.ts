/**
 * The contract of the cluster primitives (leases, node registry), run against every Store:
 * sqlite (one store shared by the "nodes") and postgres (one store per node, as in a cluster).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import { LeaderElector } from './leader.js';
import { NodeRegistry } from './registry.js';

export interface ClusterFixture {
  /** One Store per node (the same object for every node is fine for single-node stores). */
  stores: Store[];
  clock: ManualClock;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function clusterContract(
  name: string,
  open: (nodes: number) => Promise<ClusterFixture>,
  opts: { skip?: string } = {},
): void {
  const electors = (f: ClusterFixture, leaseMs = 10_000) =>
    f.stores.map(
      (store, i) =>
        new LeaderElector({ store, clock: f.clock, logger: silentLogger, nodeId: `n${i}`, leaseMs }),
    );

  describe(`cluster primitives: ${name}`, { skip: opts.skip }, () => {
    test('one holder at a time; renewals keep it; expiry hands it over with a higher epoch', async () => {
      const f = await open(2);
      try {
        const [a, b] = electors(f);
        const la = await a.tryAcquire('sched');
        assert.equal(la?.epoch, 1);
        assert.equal(await b.tryAcquire('sched'), undefined);
        assert.ok(a.isLeader('sched'));
        assert.ok(!b.isLeader('sched'));
        f.clock.advance(9_000);
        assert.equal((await a.tryAcquire('sched'))?.epoch, 1, 'a renewal keeps the epoch');
        f.clock.advance(9_000);
        assert.equal(await b.tryAcquire('sched'), undefined, 'renewed: still a');
        assert.equal((await b.holder('sched'))?.holder, 'n0');
        f.clock.advance(10_001);
        assert.ok(!a.isLeader('sched'), 'a sees its own lease run out');
        const lb = await b.tryAcquire('sched');
        assert.equal(lb?.holder, 'n1');
        assert.equal(lb?.epoch, 2);
        assert.equal(await a.tryAcquire('sched'), undefined);
        assert.ok(!a.isLeader('sched'));
        // Leases are independent by name.
        assert.equal((await a.tryAcquire('other'))?.epoch, 1);
      } finally {
        await f.close();
      }
    });

    test('concurrent campaigns: exactly one winner per round', async () => {
      const f = await open(3);
      try {
        const es = Array.from(
          { length: 6 },
          (_, i) =>
            new LeaderElector({
              store: f.stores[i % f.stores.length],
              clock: f.clock,
              logger: silentLogger,
              nodeId: `c${i}`,
              leaseMs: 1000,
            }),
        );
        const seenEpochs: number[] = [];
        for (let round = 0; round < 5; round++) {
          const results = await Promise.all(es.map((e) => e.runAsLeader('tick', (l) => l.epoch)));
          const ran = results.filter((r) => r.ran);
          assert.equal(ran.length, 1, `round ${round}: one runner`);
          if (ran[0].ran) seenEpochs.push(ran[0].value);
          for (const r of results) if (!r.ran) assert.ok(r.holder?.startsWith('c'));
          f.clock.advance(1001); // nobody renews: the next round is a fresh election
        }
        assert.deepEqual(seenEpochs, [1, 2, 3, 4, 5]);
      } finally {
        await f.close();
      }
    });

    test('runAsLeader renews while the body runs; release hands over at once', async () => {
      const f = await open(2);
      try {
        const [a, b] = electors(f, 300);
        const r = await a.runAsLeader('job', async () => {
          f.clock.advance(200);
          await sleep(250); // a renewal (every 100 ms) happens at the advanced time
          f.clock.advance(200); // past the first lease's end (300)
          return b.tryAcquire('job');
        });
        assert.ok(r.ran);
        assert.equal(r.ran && r.value, undefined, 'b could not take a renewed lease');
        assert.ok(a.isLeader('job'));
        assert.equal(await a.release('job'), true);
        assert.ok(!a.isLeader('job'));
        const lb = await b.tryAcquire('job');
        assert.equal(lb?.epoch, 2);
        const ra = await a.runAsLeader('job', () => 'x');
        assert.deepEqual(ra, { ran: false, holder: 'n1' });
        await b.stop();
        assert.equal((await a.tryAcquire('job'))?.epoch, 3, 'stop released b');
      } finally {
        await f.close();
      }
    });

    test('node registry: beats, liveness within three intervals, graceful leave, pruning', async () => {
      const f = await open(2);
      try {
        const mk = (i: number) =>
          new NodeRegistry({
            store: f.stores[i],
            clock: f.clock,
            logger: silentLogger,
            version: '9.9.9',
            nodeId: `node-${i}`,
            intervalMs: 60_000, // the timer never fires in this test: beats by hand
            forgetAfterMs: 600_000,
          });
        const [a, b] = [mk(0), mk(1)];
        await a.start('http://127.0.0.1:1001');
        await b.start('http://127.0.0.1:1002');
        let list = await a.list();
        assert.deepEqual(
          list.map((n) => [n.id, n.endpoint, n.alive, n.self]),
          [
            ['node-0', 'http://127.0.0.1:1001', true, true],
            ['node-1', 'http://127.0.0.1:1002', true, false],
          ],
        );
        assert.equal(list[0].version, '9.9.9');
        f.clock.advance(150_000);
        await a.beat();
        list = await a.list();
        assert.deepEqual(
          list.map((n) => n.alive),
          [true, true],
          'b beat 150 s ago: within 3 x 60 s',
        );
        f.clock.advance(30_001);
        list = await a.list();
        assert.deepEqual(
          list.map((n) => [n.id, n.alive]),
          [
            ['node-0', true],
            ['node-1', false],
          ],
        );
        assert.equal(list[1].lastHeartbeat, new Date(f.clock.now() - 180_001).toISOString());
        f.clock.advance(600_000);
        await a.beat();
        assert.deepEqual(
          (await a.list()).map((n) => n.id),
          ['node-0'],
          'a dead node is forgotten after forgetAfterMs',
        );
        await a.stop();
        assert.deepEqual(await b.list(), [], 'a graceful stop removes the node');
        await b.stop();
      } finally {
        await f.close();
      }
    });
  });
}
