import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { AwsError } from '../../protocols/errors.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import { RestEngine } from './engine.js';
import { COLLECTION_USAGE, USAGE_DAYS, periodLimit, periodStart } from './usage.js';
import type { UsagePlanRecord } from './model.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };
const DAY = 86_400_000;

async function setup(t: { after: (fn: () => Promise<void>) => void }, at = Date.UTC(2026, 11, 7, 10)) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-usage-'));
  const clock = new ManualClock(at);
  const store = new SqliteStore({ dataDir: dir, clock, logger: silentLogger });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const engine = new RestEngine({ store, clock });
  const key = await engine.createApiKey(scope, { name: 'k', enabled: true });
  const plan = async (quota?: Record<string, unknown>) => {
    const p = await engine.createUsagePlan(scope, { name: 'p', ...(quota ? { quota } : {}) });
    await engine.createUsagePlanKey(scope, p.id, { keyType: 'API_KEY', keyId: key.id });
    return p.id as string;
  };
  const record = async (id: string) => (await engine.usagePlansOf(scope)).find((p) => p.id === id)!;
  const count = async (id: string) => engine.countQuota(scope, await record(id), key.id);
  const usage = (id: string, startDate: string, endDate: string, extra: Record<string, unknown> = {}) =>
    engine.getUsage(scope, id, { startDate, endDate, ...extra });
  return { clock, store, engine, keyId: key.id as string, plan, record, count, usage };
}

const rejects = async (p: Promise<unknown>, code: string, message?: RegExp) => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AwsError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
};

test('periods start at the UTC day, Monday and the 1st; the offset applies to the initial period only', () => {
  const t = Date.UTC(2026, 11, 10, 15, 30); // a Thursday
  assert.equal(periodStart(t, 'DAY'), Date.UTC(2026, 11, 10));
  assert.equal(periodStart(t, 'WEEK'), Date.UTC(2026, 11, 7));
  assert.equal(periodStart(Date.UTC(2026, 11, 13, 23), 'WEEK'), Date.UTC(2026, 11, 7)); // Sunday
  assert.equal(periodStart(Date.UTC(2026, 11, 14), 'WEEK'), Date.UTC(2026, 11, 14)); // Monday
  assert.equal(periodStart(t, 'MONTH'), Date.UTC(2026, 11, 1));
  const plan = {
    quota: { limit: 100, offset: 30, period: 'MONTH' },
    quotaSince: Date.UTC(2026, 11, 20),
  } as UsagePlanRecord;
  assert.equal(periodLimit(plan, Date.UTC(2026, 11, 31)), 70);
  assert.equal(periodLimit(plan, Date.UTC(2027, 0, 1)), 100);
  assert.equal(periodLimit({ ...plan, quota: { limit: 10, offset: 30, period: 'MONTH' } }, t), 0);
  assert.equal(periodLimit({ ...plan, quotaSince: undefined }, t), 100);
});

test('quota: counted in the Store, refused when used up, fresh the next period; offset in the first', async (t) => {
  const s = await setup(t);
  const id = await s.plan({ limit: 3, offset: 1, period: 'DAY' });
  assert.equal(await s.count(id), true);
  assert.equal(await s.count(id), true);
  assert.equal(await s.count(id), false, 'limit 3 less offset 1 on the first day');
  // A second engine on the same store (another node, or after a restart) sees the same counter.
  const other = new RestEngine({ store: s.store, clock: s.clock });
  assert.equal(await other.countQuota(scope, await s.record(id), s.keyId), false);
  s.clock.advance(DAY);
  for (let i = 0; i < 3; i++) assert.equal(await s.count(id), true);
  assert.equal(await s.count(id), false);
  // Only the current period's counter is kept.
  const periods = await s.store.scan(COLLECTION_USAGE, {
    prefix: `${scope.accountId}/${scope.region}/${id}/`,
  });
  assert.deepEqual(
    periods.filter((r) => r.key.includes('/p/')).map((r) => r.key.split('/').slice(-2).join('/')),
    ['DAY/2026-12-08'],
  );
});

test('concurrent requests never take more than the quota', async (t) => {
  const s = await setup(t);
  const id = await s.plan({ limit: 5, period: 'WEEK' });
  const plan = await s.record(id);
  const got = await Promise.all(Array.from({ length: 20 }, () => s.engine.countQuota(scope, plan, s.keyId)));
  assert.equal(got.filter(Boolean).length, 5);
});

test('GetUsage: one [used, remaining] per day, days without requests carry what was left', async (t) => {
  const s = await setup(t, Date.UTC(2026, 11, 7, 10)); // Monday
  const id = await s.plan({ limit: 10, period: 'WEEK' });
  await s.count(id);
  await s.count(id);
  s.clock.advance(2 * DAY); // Wednesday
  await s.count(id);
  const u = await s.usage(id, '2026-12-06', '2026-12-31');
  assert.equal(u.usagePlanId, id);
  assert.equal(u.startDate, '2026-12-06');
  assert.equal(u.endDate, '2026-12-31');
  // Sunday (previous week, nothing), Mon 2, Tue 0, Wed 1; no days after today.
  assert.deepEqual(u.values[s.keyId], [
    [0, 10],
    [2, 8],
    [0, 8],
    [1, 7],
  ]);
  // UpdateUsage: replace /remaining gives the key what it has left this period.
  const up = await s.engine.updateUsage(scope, id, s.keyId, {
    patchOperations: [{ op: 'replace', path: '/remaining', value: '50' }],
  });
  assert.deepEqual(up, {
    usagePlanId: id,
    startDate: '2026-12-09',
    endDate: '2026-12-09',
    values: { [s.keyId]: [[1, 50]] },
  });
  assert.equal(await s.count(id), true);
  assert.deepEqual((await s.usage(id, '2026-12-09', '2026-12-09')).values[s.keyId], [[2, 49]]);
  await s.engine.updateUsage(scope, id, s.keyId, {
    patchOperations: [{ op: 'replace', path: '/remaining', value: '0' }],
  });
  assert.equal(await s.count(id), false);
  // A limit change applies to today's remaining at once.
  await s.engine.updateUsagePlan(scope, id, {
    patchOperations: [{ op: 'replace', path: '/quota/limit', value: '100' }],
  });
  assert.deepEqual((await s.usage(id, '2026-12-09', '2026-12-09')).values[s.keyId], [[2, 90]]);
  // The next week starts afresh. (A past day without requests shows what the last recorded
  // request or UpdateUsage left: the limit change was not recorded on a day.)
  s.clock.advance(5 * DAY); // Monday 14th
  assert.deepEqual((await s.usage(id, '2026-12-13', '2026-12-14')).values[s.keyId], [
    [0, 0],
    [0, 100],
  ]);
  // keyId filter, paging over keys.
  const k2 = await s.engine.createApiKey(scope, { name: 'k2', enabled: true });
  await s.engine.createUsagePlanKey(scope, id, { keyType: 'API_KEY', keyId: k2.id });
  const p1 = await s.usage(id, '2026-12-14', '2026-12-14', { limit: '1' });
  assert.equal(Object.keys(p1.values).length, 1);
  assert.ok(p1.position);
  const p2 = await s.usage(id, '2026-12-14', '2026-12-14', { limit: '1', position: p1.position });
  assert.equal(Object.keys(p2.values).length, 1);
  assert.equal(p2.position, undefined);
  assert.deepEqual(Object.keys((await s.usage(id, '2026-12-14', '2026-12-14', { keyId: k2.id })).values), [
    k2.id,
  ]);
});

test('GetUsage and UpdateUsage validation', async (t) => {
  const s = await setup(t);
  const id = await s.plan({ limit: 10, period: 'DAY' });
  await rejects(s.engine.getUsage(scope, id, { endDate: '2026-12-07' }), 'BadRequestException', /start date/);
  await rejects(s.engine.getUsage(scope, id, { startDate: '2026-12-07' }), 'BadRequestException', /end date/);
  await rejects(s.usage(id, '2026-13-01', '2026-12-07'), 'BadRequestException', /Invalid start date/);
  await rejects(s.usage(id, '2026-12-07', '2026-12-06'), 'BadRequestException', /before the start/);
  await rejects(s.usage(id, '2026-01-01', '2026-12-07'), 'BadRequestException', /90 days/);
  await rejects(s.usage('nope', '2026-12-07', '2026-12-07'), 'NotFoundException', /Usage Plan ID/);
  await rejects(s.usage(id, '2026-12-07', '2026-12-07', { keyId: 'nokey' }), 'NotFoundException');
  const ok = (ops: unknown[]) => s.engine.updateUsage(scope, id, s.keyId, { patchOperations: ops });
  await rejects(ok([{ op: 'add', path: '/remaining', value: '1' }]), 'BadRequestException', /\/remaining/);
  await rejects(
    ok([{ op: 'replace', path: '/used', value: '1' }]),
    'BadRequestException',
    /Invalid patch path/,
  );
  await rejects(ok([{ op: 'replace', path: '/remaining', value: '-1' }]), 'BadRequestException');
  await rejects(
    s.engine.updateUsage(scope, 'nope', s.keyId, { patchOperations: [] }),
    'NotFoundException',
    /Usage Plan ID/,
  );
  await rejects(s.engine.updateUsage(scope, id, 'nokey', { patchOperations: [] }), 'NotFoundException');
  const bare = await s.plan();
  await rejects(
    s.engine.updateUsage(scope, bare, s.keyId, {
      patchOperations: [{ op: 'replace', path: '/remaining', value: '5' }],
    }),
    'BadRequestException',
    /no quota/,
  );
  assert.deepEqual((await s.usage(bare, '2026-12-07', '2026-12-07')).values, {});
});

test('old days are dropped; deleting the plan drops its usage', async (t) => {
  const s = await setup(t);
  const id = await s.plan({ limit: 1000, period: 'MONTH' });
  for (let i = 0; i < USAGE_DAYS + 10; i++) {
    await s.count(id);
    s.clock.advance(DAY);
  }
  await s.count(id);
  const rows = await s.store.scan(COLLECTION_USAGE, { prefix: `${scope.accountId}/${scope.region}/${id}/` });
  // Past days are day records; today is the counter's running day.
  const days = rows.filter((r) => r.key.includes('/d/'));
  assert.equal(days.length, USAGE_DAYS - 1);
  assert.equal(rows.length - days.length, 1, 'one period counter');
  const now = s.clock.now();
  const u = await s.usage(
    id,
    new Date(now - (USAGE_DAYS - 1) * DAY).toISOString().slice(0, 10),
    new Date(now).toISOString().slice(0, 10),
  );
  assert.equal(u.values[s.keyId].length, USAGE_DAYS);
  assert.ok(u.values[s.keyId].every(([used]) => used === 1));
  await s.engine.deleteUsagePlan(scope, id);
  assert.equal(await s.store.count(COLLECTION_USAGE), 0);
});

test("changing the plan's period starts a new counter; the day keeps what it counted", async (t) => {
  const s = await setup(t);
  const id = await s.plan({ limit: 5, period: 'DAY' });
  await s.count(id);
  await s.count(id);
  await s.engine.updateUsagePlan(scope, id, {
    patchOperations: [
      { op: 'replace', path: '/quota/period', value: 'WEEK' },
      { op: 'replace', path: '/quota/limit', value: '3' },
    ],
  });
  await s.count(id);
  assert.deepEqual((await s.usage(id, '2026-12-07', '2026-12-07')).values[s.keyId], [[3, 2]]);
  const rows = await s.store.scan(COLLECTION_USAGE, { prefix: `${scope.accountId}/${scope.region}/${id}/` });
  assert.deepEqual(
    rows.map((r) => r.key.split('/').slice(-3).join('/')),
    ['p/WEEK/2026-12-07'],
  );
});
