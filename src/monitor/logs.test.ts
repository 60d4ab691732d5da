import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { openStore } from '../storage/index.js';
import { LogsEngine, compileFilterPattern } from './logs.js';

async function withEngine(fn: (e: LogsEngine, clock: ManualClock) => Promise<void>, flushIntervalMs = 5) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-logs-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, clock, silentLogger);
  const engine = new LogsEngine({ store, clock, logger: silentLogger, flushIntervalMs });
  try {
    await fn(engine, clock);
  } finally {
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const S = { accountId: '000000000000', region: 'us-east-1' };

test('filter patterns: all terms must occur; quoted phrases; empty matches all', () => {
  assert.equal(compileFilterPattern('')('x'), true);
  const m = compileFilterPattern('ERROR "request id"');
  assert.equal(m('ERROR for request id 7'), true);
  assert.equal(m('ERROR for request 7'), false);
  assert.throws(() => compileFilterPattern('{ $.level = }'), { code: 'InvalidParameterException' });
});

test('GetLogEvents tokens: forward paging ends on the same token; backward paging from the tail', async () => {
  await withEngine(async (e, clock) => {
    await e.createLogGroup(S, 'g');
    await e.createLogStream(S, 'g', 's');
    const t = clock.now() - 1000;
    await e.putLogEvents(
      S,
      'g',
      's',
      Array.from({ length: 7 }, (_, i) => ({ timestamp: t + i, message: `m${i}` })),
    );
    const head = await e.getLogEvents(S, 'g', 's', { startFromHead: true, limit: 3 });
    assert.deepEqual(
      head.events.map((x) => x.message),
      ['m0', 'm1', 'm2'],
    );
    const p2 = await e.getLogEvents(S, 'g', 's', { nextToken: head.nextForwardToken, limit: 3 });
    const p3 = await e.getLogEvents(S, 'g', 's', { nextToken: p2.nextForwardToken, limit: 3 });
    const p4 = await e.getLogEvents(S, 'g', 's', { nextToken: p3.nextForwardToken, limit: 3 });
    assert.deepEqual(
      [...p2.events, ...p3.events].map((x) => x.message),
      ['m3', 'm4', 'm5', 'm6'],
    );
    assert.deepEqual(p4.events, []);
    assert.equal(p4.nextForwardToken, p3.nextForwardToken);
    // New events show up on the saved forward token.
    await e.putLogEvents(S, 'g', 's', [{ timestamp: t + 10, message: 'late' }]);
    const p5 = await e.getLogEvents(S, 'g', 's', { nextToken: p4.nextForwardToken });
    assert.deepEqual(
      p5.events.map((x) => x.message),
      ['late'],
    );

    const tail = await e.getLogEvents(S, 'g', 's', { limit: 3 });
    assert.deepEqual(
      tail.events.map((x) => x.message),
      ['m5', 'm6', 'late'],
    );
    let token = tail.nextBackwardToken;
    const older: string[] = [];
    for (;;) {
      const page = await e.getLogEvents(S, 'g', 's', { nextToken: token, limit: 3 });
      older.unshift(...page.events.map((x) => x.message));
      if (page.nextBackwardToken === token) break;
      token = page.nextBackwardToken;
    }
    assert.deepEqual(older, ['m0', 'm1', 'm2', 'm3', 'm4']);
    await assert.rejects(e.getLogEvents(S, 'g', 's', { nextToken: 'garbage' }), {
      code: 'InvalidParameterException',
    });
  });
});

test('PutLogEvents rejects too old, too new and expired events and stores the rest', async () => {
  await withEngine(async (e, clock) => {
    await e.createLogGroup(S, 'g');
    await e.createLogStream(S, 'g', 's');
    const now = clock.now();
    const day = 86_400_000;
    const r = await e.putLogEvents(S, 'g', 's', [
      { timestamp: now - 15 * day, message: 'too old' },
      { timestamp: now - 15 * day + 1000, message: 'too old 2' },
    ]);
    assert.deepEqual(r.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 2 });
    await e.putRetentionPolicy(S, 'g', 1);
    const r2 = await e.putLogEvents(S, 'g', 's', [
      { timestamp: now - day - 600_000, message: 'expired' },
      { timestamp: now - 1_000_000, message: 'kept' },
    ]);
    assert.deepEqual(r2.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
    const r3 = await e.putLogEvents(S, 'g', 's', [{ timestamp: now + 3 * 3600_000, message: 'future' }]);
    assert.deepEqual(r3.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 0 });
    const got = await e.getLogEvents(S, 'g', 's', { startFromHead: true });
    assert.deepEqual(
      got.events.map((x) => x.message),
      ['kept'],
    );
  });
});

test('the sink batches appends and auto-creates; DescribeLogStreams pages by name', async () => {
  await withEngine(async (e, clock) => {
    for (let i = 0; i < 5; i++) {
      e.append({ ...S, group: '/aws/lambda/f', stream: `s${i}` }, [
        { timestamp: clock.now(), message: `hi ${i}` },
      ]);
    }
    await e.flush();
    const p1 = await e.describeLogStreams(S, '/aws/lambda/f', { limit: 2 });
    assert.deepEqual(
      p1.logStreams.map((s) => s.logStreamName),
      ['s0', 's1'],
    );
    const p2 = await e.describeLogStreams(S, '/aws/lambda/f', { limit: 2, nextToken: p1.nextToken });
    assert.deepEqual(
      p2.logStreams.map((s) => s.logStreamName),
      ['s2', 's3'],
    );
    const desc = await e.describeLogStreams(S, '/aws/lambda/f', { descending: true, limit: 2 });
    assert.deepEqual(
      desc.logStreams.map((s) => s.logStreamName),
      ['s4', 's3'],
    );
    const desc2 = await e.describeLogStreams(S, '/aws/lambda/f', {
      descending: true,
      limit: 2,
      nextToken: desc.nextToken,
    });
    assert.deepEqual(
      desc2.logStreams.map((s) => s.logStreamName),
      ['s2', 's1'],
    );
    // The timer flushes on its own too.
    e.append({ ...S, group: '/aws/lambda/f', stream: 's0' }, [
      { timestamp: clock.now(), message: 'by timer' },
    ]);
    await new Promise((r) => setTimeout(r, 100));
    const got = await e.getLogEvents(S, '/aws/lambda/f', 's0', {});
    assert.deepEqual(
      got.events.map((x) => x.message),
      ['hi 0', 'by timer'],
    );
    const g = await e.getLogGroup(S, '/aws/lambda/f');
    assert.ok(g && g.storedBytes > 0);
  });
});

test('appended (function) log events are seen by every read before the batch timer fires', async () => {
  await withEngine(async (e, clock) => {
    const ref = { ...S, group: '/aws/lambda/f', stream: '2026/01/10/[$LATEST]abc' };
    const t = clock.now();
    e.append(ref, [
      { timestamp: t, message: 'START RequestId: r1' },
      { timestamp: t, message: 'END RequestId: r1' },
    ]);
    const got = await e.getLogEvents(S, ref.group, ref.stream, { startFromHead: true });
    assert.deepEqual(
      got.events.map((x) => x.message),
      ['START RequestId: r1', 'END RequestId: r1'],
    );
    e.append(ref, [{ timestamp: t + 1, message: 'REPORT RequestId: r1' }]);
    const filtered = await e.filterLogEvents(S, ref.group, { filterPattern: 'REPORT' });
    assert.deepEqual(
      filtered.events.map((x) => x.message),
      ['REPORT RequestId: r1'],
    );
    e.append(ref, [{ timestamp: t + 2, message: 'late' }]);
    const streams = await e.describeLogStreams(S, ref.group, {});
    assert.equal(streams.logStreams[0].lastEventTimestamp, t + 2);
  }, 3_600_000);
});
