import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { LeaderElector } from '../../cluster/index.js';
import {
  FIRE_QUEUE,
  MAX_CATCH_UP,
  SchedulesEngine,
  targetPayload,
  transformInput,
  type FireJob,
} from './engine.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:f';
const TARGET = { Arn: FN, RoleArn: 'arn:aws:iam::000000000000:role/r' };

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-schedules-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 30));
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Two nodes sharing one store: only the lease holder fires.
  const node = (id: string) =>
    new SchedulesEngine({
      store,
      clock,
      logger: silentLogger,
      leader: new LeaderElector({ store, clock, logger: silentLogger, nodeId: id }),
      lambda: () => undefined,
    });
  const jobs = async () => {
    const got = await store.jobs.claim<FireJob>(FIRE_QUEUE, { limit: 1000, leaseMs: 60_000 });
    for (const j of got) await store.jobs.ack(j);
    return got.map((j) => j.payload);
  };
  return { clock, store, a: node('a'), b: node('b'), jobs };
}

test('a rate rule fires once per period cluster-wide, with the scheduled event shape', async (t) => {
  const { clock, a, b, jobs } = await setup(t);
  await a.putRule(scope, { Name: 'r', ScheduleExpression: 'rate(1 minute)' });
  await a.putTargets(scope, 'r', [
    { Id: 'plain', Arn: FN },
    { Id: 'input', Arn: FN, Input: '{"k":1}' },
    { Id: 'path', Arn: FN, InputPath: '$.resources' },
  ]);
  assert.equal(await a.tick(), 0);
  clock.advance(180_000);
  assert.equal(await a.tick(), 9);
  assert.equal(await b.tick(), 0); // not the leader
  assert.equal(await a.tick(), 0); // nothing new
  const got = await jobs();
  assert.equal(got.length, 9);
  const events = got.filter((j) => j.payload.includes('Scheduled Event')).map((j) => JSON.parse(j.payload));
  assert.deepEqual(
    events.map((e) => e.time),
    ['2026-01-01T00:01:30Z', '2026-01-01T00:02:30Z', '2026-01-01T00:03:30Z'],
  );
  assert.deepEqual(events[0].resources, ['arn:aws:events:us-east-1:000000000000:rule/r']);
  assert.equal(events[0]['detail-type'], 'Scheduled Event');
  assert.equal(got.filter((j) => j.payload === '{"k":1}').length, 3);
  assert.equal(got.filter((j) => j.payload === '["arn:aws:events:us-east-1:000000000000:rule/r"]').length, 3);
  assert.ok(got.every((j) => j.functionArn === FN && j.accountId === '000000000000'));

  // Disabled: nothing; re-enabled: counts periods from the enable.
  await a.setRuleState(scope, 'r', 'DISABLED');
  clock.advance(120_000);
  assert.equal(await a.tick(), 0);
  await a.setRuleState(scope, 'r', 'ENABLED');
  clock.advance(59_000);
  assert.equal(await a.tick(), 0);
  clock.advance(1_000);
  assert.equal(await a.tick(), 3);
});

test('the leader moves: the other node takes over once the lease runs out, without refiring', async (t) => {
  const { clock, a, b, jobs } = await setup(t);
  await a.putRule(scope, { Name: 'r', ScheduleExpression: 'cron(* * * * ? *)' });
  await a.putTargets(scope, 'r', [{ Id: 'x', Arn: FN }]);
  clock.advance(60_000);
  assert.equal(await a.tick(), 1);
  clock.advance(60_000); // a's lease (10 s) ran out: b takes over
  assert.equal(await b.tick(), 1);
  assert.equal(await a.tick(), 0);
  assert.equal((await jobs()).length, 2);
});

test('catch-up is bounded; schedules honour StartDate, EndDate and ActionAfterCompletion', async (t) => {
  const { clock, a, jobs } = await setup(t);
  await a.putRule(scope, { Name: 'r', ScheduleExpression: 'rate(1 minute)' });
  await a.putTargets(scope, 'r', [{ Id: 'x', Arn: FN }]);
  clock.advance(1000 * 60_000);
  assert.equal(await a.tick(), MAX_CATCH_UP);
  await jobs();

  const now = clock.now();
  await a.createSchedule(scope, {
    Name: 'once',
    ScheduleExpression: `at(${new Date(now + 30_000).toISOString().slice(0, 19)})`,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { ...TARGET, Input: '{"once":true}' },
    ActionAfterCompletion: 'DELETE',
  });
  await a.createSchedule(scope, {
    Name: 'window',
    ScheduleExpression: 'rate(1 minute)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: TARGET,
    StartDate: (now + 120_000) / 1000,
    EndDate: (now + 300_000) / 1000,
  });
  await a.removeTargets(scope, 'r', ['x']);
  await a.deleteRule(scope, 'r');
  clock.advance(600_000);
  await a.tick();
  const got = await jobs();
  assert.equal(got.filter((j) => j.payload === '{"once":true}').length, 1);
  // StartDate +2 min, EndDate +5 min: fires at +3, +4, +5 minutes.
  assert.equal(got.filter((j) => j.payload === '{}').length, 3);
  await assert.rejects(a.getSchedule(scope, 'once'), /does not exist/);
  assert.equal((await a.getSchedule(scope, 'window')).name, 'window'); // NONE: kept
});

test('targetPayload: Input as is, InputPath, or the event', () => {
  const ev = { detail: { a: 1 }, resources: ['x'] };
  assert.equal(targetPayload({ Id: 'i', Arn: FN, Input: '"s"' }, ev), '"s"');
  assert.equal(targetPayload({ Id: 'i', Arn: FN, InputPath: '$.detail' }, ev), '{"a":1}');
  assert.equal(targetPayload({ Id: 'i', Arn: FN, InputPath: '$' }, ev), JSON.stringify(ev));
  assert.equal(targetPayload({ Id: 'i', Arn: FN, InputPath: '$.nope' }, ev), undefined);
  assert.equal(targetPayload({ Id: 'i', Arn: FN }, ev), JSON.stringify(ev));
});

test('InputTransformer: values as JSON outside strings, as text inside them, predefined variables', () => {
  const ev = { id: 'e1', detail: { id: 'o-1', n: 3, tags: ['a', 'b'], q: 'say "hi"' } };
  const rule = { arn: 'arn:aws:events:us-east-1:000000000000:rule/r', name: 'r' };
  const t = (InputTemplate: string, InputPathsMap: Record<string, string> = {}) =>
    transformInput({ InputTemplate, InputPathsMap }, ev, rule, Date.UTC(2026, 0, 2));
  const map = {
    id: '$.detail.id',
    n: '$.detail.n',
    tags: '$.detail.tags',
    first: '$.detail.tags[0]',
    q: '$.detail.q',
  };
  assert.deepEqual(JSON.parse(t('{"order": <id>, "count": <n>, "tags": <tags>, "first": "<first>"}', map)), {
    order: 'o-1',
    count: 3,
    tags: ['a', 'b'],
    first: 'a',
  });
  assert.deepEqual(JSON.parse(t('{"text": "Order <id> has <n> items: <tags>", "q": "<q>"}', map)), {
    text: 'Order o-1 has 3 items: ["a","b"]',
    q: 'say "hi"',
  });
  // A path with no value is null; a name not in the map is not a placeholder.
  assert.deepEqual(JSON.parse(t('{"m": <none>, "raw": "<nope>"}', { none: '$.detail.absent' })), {
    m: null,
    raw: '<nope>',
  });
  assert.equal(t('"<aws.events.rule-name> fired"'), '"r fired"');
  assert.deepEqual(
    JSON.parse(
      t('{"rule": <aws.events.rule-arn>, "at": <aws.events.event.ingestion-time>, "e": <aws.events.event>}'),
    ),
    {
      rule: rule.arn,
      at: '2026-01-02T00:00:00.000Z',
      e: ev,
    },
  );
  // Text that only looks like a placeholder stays.
  assert.equal(t('a <b> c'), 'a <b> c');
  assert.equal(
    targetPayload(
      { Id: 'i', Arn: FN, InputTransformer: { InputTemplate: '<x>', InputPathsMap: { x: '$.id' } } },
      ev,
      rule,
    ),
    '"e1"',
  );
});
