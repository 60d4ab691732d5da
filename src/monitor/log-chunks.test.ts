/**
 * Log events stored as chunks (log-chunks.ts): every read answers exactly what one row per
 * event answered — checked against a model of the events sorted by position, over writes whose
 * timestamps overlap and spread past a chunk's span, rows written before chunks, paging in both
 * directions, time windows, FilterLogEvents across streams, and the retention sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { openStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import { LogsEngine, EVENTS, GROUP_EVENTS } from './logs.js';
import { CHUNK_SPAN_MS, eventPos } from './log-chunks.js';

const S = { accountId: '000000000000', region: 'us-east-1' };
const T0 = Date.UTC(2026, 0, 10);

interface Model {
  stream: string;
  t: number;
  m: string;
  pos: string;
}

async function withEngine(fn: (e: LogsEngine, store: Store, clock: ManualClock) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-log-chunks-'));
  const clock = new ManualClock(T0);
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, clock, silentLogger);
  const engine = new LogsEngine({
    store,
    clock,
    logger: silentLogger,
    flushIntervalMs: 5,
    retentionIntervalMs: 0,
  });
  try {
    await fn(engine, store, clock);
  } finally {
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A small deterministic random source. */
function rng(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** Writes the same events the engine would see into the model, plus legacy one-event rows. */
async function fill(e: LogsEngine, store: Store, clock: ManualClock): Promise<Model[]> {
  const model: Model[] = [];
  const rand = rng(7);
  await e.createLogGroup(S, 'g');
  for (const s of ['a', 'b', 'c']) await e.createLogStream(S, 'g', s);
  // Rows as stored before chunks: one event per row in each index.
  const legacyT = T0 - 50_000;
  for (let k = 0; k < 5; k++) {
    const t = legacyT + k * 7_000;
    const pos = eventPos(t, T0 - 60_000, 900_000 + k);
    const base = `${S.accountId}:${S.region}:g`;
    await store.put(EVENTS, `${base}:a:${pos}`, { t, m: `legacy ${k}`, i: T0 - 60_000 });
    await store.put(GROUP_EVENTS, `${base}:${pos}:a`, { t, m: `legacy ${k}`, i: T0 - 60_000, s: 'a' });
    model.push({ stream: 'a', t, m: `legacy ${k}`, pos });
  }
  let counter = 0;
  for (let w = 0; w < 12; w++) {
    clock.advance(1000);
    const stream = ['a', 'b', 'c'][w % 3];
    // Timestamps spread over 40 s (several chunk spans), overlapping earlier writes.
    const n = 1 + Math.floor(rand() * 60);
    const start = T0 - 45_000 + Math.floor(rand() * 20_000);
    const ts = Array.from({ length: n }, () => start + Math.floor(rand() * 4 * CHUNK_SPAN_MS)).sort(
      (x, y) => x - y,
    );
    const events = ts.map((t, k) => ({ timestamp: t, message: `w${w} e${k}` }));
    await e.putLogEvents(S, 'g', stream, events);
    for (const ev of events)
      model.push({
        stream,
        t: ev.timestamp,
        m: ev.message,
        pos: eventPos(ev.timestamp, clock.now(), counter++),
      });
  }
  // The function-log sink: many streams in one flush, one event of which is out of order.
  clock.advance(1000);
  const sinkT = T0 - 10_000;
  for (let k = 0; k < 30; k++) {
    const stream = k % 2 ? 'a' : 'b';
    const t = k === 29 ? sinkT - 30_000 : sinkT + k * 500;
    e.append({ ...S, group: 'g', stream }, [{ timestamp: t, message: `sink ${k}` }]);
    model.push({ stream, t, m: `sink ${k}`, pos: eventPos(t, clock.now(), counter++) });
  }
  await e.flush();
  model.sort((x, y) => (x.pos < y.pos ? -1 : x.pos > y.pos ? 1 : x.stream < y.stream ? -1 : 1));
  return model;
}

test('chunked log events read back as one row per event did: paging, windows, streams, legacy rows', async () => {
  await withEngine(async (e, store, clock) => {
    const model = await fill(e, store, clock);
    // Rows: far fewer than events (each write is a few chunks per index).
    const rows = (await store.scan(EVENTS, {})).length;
    assert.ok(rows < model.length / 3, `${rows} rows for ${model.length} events`);

    for (const stream of ['a', 'b', 'c']) {
      const want = model.filter((x) => x.stream === stream).map((x) => x.m);
      // Forward from the head, 7 at a time, to the end (the token then stays put).
      const got: string[] = [];
      let page = await e.getLogEvents(S, 'g', stream, { startFromHead: true, limit: 7 });
      for (;;) {
        got.push(...page.events.map((x) => x.message));
        const next = await e.getLogEvents(S, 'g', stream, { nextToken: page.nextForwardToken, limit: 7 });
        if (next.events.length === 0) {
          assert.equal(next.nextForwardToken, page.nextForwardToken);
          break;
        }
        page = next;
      }
      assert.deepEqual(got, want, `forward, stream ${stream}`);
      // Backward from the tail, 5 at a time.
      const back: string[] = [];
      let b = await e.getLogEvents(S, 'g', stream, { limit: 5 });
      back.unshift(...b.events.map((x) => x.message));
      for (;;) {
        const prev = await e.getLogEvents(S, 'g', stream, { nextToken: b.nextBackwardToken, limit: 5 });
        if (prev.events.length === 0) break;
        back.unshift(...prev.events.map((x) => x.message));
        b = prev;
      }
      assert.deepEqual(back, want, `backward, stream ${stream}`);
      // A time window inside chunks, both directions.
      const from = T0 - 37_000;
      const to = T0 - 21_000;
      const inWindow = model.filter((x) => x.stream === stream && x.t >= from && x.t < to).map((x) => x.m);
      const fw = await e.getLogEvents(S, 'g', stream, { startFromHead: true, startTime: from, endTime: to });
      assert.deepEqual(
        fw.events.map((x) => x.message),
        inWindow,
      );
      const bw = await e.getLogEvents(S, 'g', stream, { startTime: from, endTime: to, limit: 3 });
      assert.deepEqual(
        bw.events.map((x) => x.message),
        inWindow.slice(-3),
      );
    }

    // FilterLogEvents: the whole group in position order, 9 per page; then a pattern and a window.
    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await e.filterLogEvents(S, 'g', { limit: 9, ...(token ? { nextToken: token } : {}) });
      all.push(...r.events.map((x) => `${x.logStreamName}/${x.message}`));
      for (const x of r.events) assert.match(x.eventId, /^\d{36}$/);
      token = r.nextToken;
      pages++;
    } while (token && pages < 1000);
    assert.deepEqual(
      all,
      model.map((x) => `${x.stream}/${x.m}`),
    );
    const sink = await e.filterLogEvents(S, 'g', { filterPattern: 'sink', logStreamNames: ['b'] });
    assert.deepEqual(
      sink.events.map((x) => x.message),
      model.filter((x) => x.stream === 'b' && x.m.startsWith('sink')).map((x) => x.m),
    );
    const win = await e.filterLogEvents(S, 'g', {
      startTime: T0 - 30_000,
      endTime: T0 - 29_000 + CHUNK_SPAN_MS,
    });
    assert.deepEqual(
      win.events.map((x) => x.message),
      model.filter((x) => x.t >= T0 - 30_000 && x.t < T0 - 29_000 + CHUNK_SPAN_MS).map((x) => x.m),
    );
  });
});

test('retention trims chunks that straddle the cut-off and keeps their later events', async () => {
  await withEngine(async (e, store, clock) => {
    const model = await fill(e, store, clock);
    const bytes = (m: string) => Buffer.byteLength(m) + 26;
    const group0 = (await e.getLogGroup(S, 'g'))!.storedBytes;
    // (the legacy rows were put by the test, not counted in the group's bytes)
    const sum = (xs: Model[]) => xs.reduce((n, x) => n + bytes(x.m), 0);
    assert.equal(group0, sum(model.filter((x) => !x.m.startsWith('legacy'))));
    // One day's retention, with the clock put so that the cut-off falls inside the events.
    await e.putRetentionPolicy(S, 'g', 1);
    const cut = T0 - 25_000;
    clock.set(cut + 86_400_000);
    const kept = model.filter((x) => x.t >= cut);
    const straddling = (await store.scan<{ e?: (number | string)[] }>(EVENTS, {})).filter(
      ({ value: { e: ev } }) => {
        const ts = (ev ?? []).filter((_, k) => k % 3 === 0) as number[];
        return ts.some((t) => t < cut) && ts.some((t) => t >= cut);
      },
    );
    assert.ok(straddling.length > 0, 'some chunk holds events on both sides of the cut-off');
    const removed = await e.enforceRetention();
    assert.equal(removed, model.length - kept.length);
    assert.equal((await e.getLogGroup(S, 'g'))!.storedBytes, group0 - sum(model.filter((x) => x.t < cut)));
    // What is left is exactly the later events, in order, from the rows themselves.
    const r = await e.filterLogEvents(S, 'g', {});
    assert.deepEqual(
      r.events.map((x) => x.message),
      kept.map((x) => x.m),
    );
    await e.putRetentionPolicy(S, 'g', undefined);
    const again = await e.filterLogEvents(S, 'g', {});
    assert.deepEqual(
      again.events.map((x) => x.message),
      kept.map((x) => x.m),
    );
    for (const stream of ['a', 'b', 'c']) {
      const g = await e.getLogEvents(S, 'g', stream, { startFromHead: true });
      assert.deepEqual(
        g.events.map((x) => x.message),
        kept.filter((x) => x.stream === stream).map((x) => x.m),
      );
    }
    // Deleting a stream removes its events from the group index too.
    await e.deleteLogStream(S, 'g', 'a');
    const rest = await e.filterLogEvents(S, 'g', {});
    assert.deepEqual(
      rest.events.map((x) => x.message),
      kept.filter((x) => x.stream !== 'a').map((x) => x.m),
    );
    assert.equal((await store.scan(EVENTS, { prefix: `${S.accountId}:${S.region}:g:a:` })).length, 0);
  });
});
