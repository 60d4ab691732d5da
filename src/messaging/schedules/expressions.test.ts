import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExpressionError,
  fireTimesBetween,
  instantOf,
  nextFireTime,
  parseScheduleExpression,
} from './expressions.js';

const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

/** The next `n` fire times after `from`, as ISO strings. */
function next(expr: string, from: string, n = 1, timeZone?: string): (string | undefined)[] {
  const e = parseScheduleExpression(expr, { allowAt: true });
  const out: (string | undefined)[] = [];
  let t = at(from);
  for (let i = 0; i < n; i++) {
    const x = nextFireTime(e, t, { timeZone, anchor: at(from) });
    out.push(iso(x));
    if (x === undefined) break;
    t = x;
  }
  return out;
}

test('rate expressions: units, singular/plural, periods from the anchor', () => {
  assert.deepEqual(next('rate(1 minute)', '2026-01-01T00:00:30Z', 3), [
    '2026-01-01T00:01:30.000Z',
    '2026-01-01T00:02:30.000Z',
    '2026-01-01T00:03:30.000Z',
  ]);
  assert.deepEqual(next('rate(5 minutes)', '2026-01-01T00:00:00Z'), ['2026-01-01T00:05:00.000Z']);
  assert.deepEqual(next('rate(1 hour)', '2026-01-01T00:00:00Z'), ['2026-01-01T01:00:00.000Z']);
  assert.deepEqual(next('rate(12 hours)', '2026-01-01T00:00:00Z'), ['2026-01-01T12:00:00.000Z']);
  assert.deepEqual(next('rate(1 day)', '2026-01-01T00:00:00Z'), ['2026-01-02T00:00:00.000Z']);
  assert.deepEqual(next('rate(7 days)', '2026-01-01T00:00:00Z'), ['2026-01-08T00:00:00.000Z']);
  for (const bad of [
    'rate(1 minutes)',
    'rate(2 minute)',
    'rate(0 minutes)',
    'rate(-1 minutes)',
    'rate(1 week)',
    'rate(1.5 hours)',
    'rate()',
    'rate(5)',
  ]) {
    assert.throws(() => parseScheduleExpression(bad), ExpressionError, bad);
  }
  // Between anchor ticks: the next period boundary, not "after + period".
  const e = parseScheduleExpression('rate(10 minutes)');
  assert.equal(
    iso(nextFireTime(e, at('2026-01-01T00:13:00Z'), { anchor: at('2026-01-01T00:00:00Z') })),
    '2026-01-01T00:20:00.000Z',
  );
  assert.equal(
    iso(nextFireTime(e, at('2026-01-01T00:20:00Z'), { anchor: at('2026-01-01T00:00:00Z') })),
    '2026-01-01T00:30:00.000Z',
  );
});

test('cron: every field kind (lists, ranges, steps, names)', () => {
  assert.deepEqual(next('cron(0 12 * * ? *)', '2026-01-01T12:00:00Z', 2), [
    '2026-01-02T12:00:00.000Z',
    '2026-01-03T12:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(*/15 * * * ? *)', '2026-01-01T00:07:00Z', 3), [
    '2026-01-01T00:15:00.000Z',
    '2026-01-01T00:30:00.000Z',
    '2026-01-01T00:45:00.000Z',
  ]);
  assert.deepEqual(next('cron(5/20 * * * ? *)', '2026-01-01T00:00:00Z', 4), [
    '2026-01-01T00:05:00.000Z',
    '2026-01-01T00:25:00.000Z',
    '2026-01-01T00:45:00.000Z',
    '2026-01-01T01:05:00.000Z',
  ]);
  assert.deepEqual(next('cron(0,30 8-9 * * ? *)', '2026-01-01T00:00:00Z', 5), [
    '2026-01-01T08:00:00.000Z',
    '2026-01-01T08:30:00.000Z',
    '2026-01-01T09:00:00.000Z',
    '2026-01-01T09:30:00.000Z',
    '2026-01-02T08:00:00.000Z',
  ]);
  // 2026-01-01 is a Thursday. MON-FRI at 18:00.
  assert.deepEqual(next('cron(0 18 ? * MON-FRI *)', '2026-01-01T19:00:00Z', 3), [
    '2026-01-02T18:00:00.000Z',
    '2026-01-05T18:00:00.000Z',
    '2026-01-06T18:00:00.000Z',
  ]);
  // Numeric days: 1 = Sunday, 7 = Saturday.
  assert.deepEqual(next('cron(0 0 ? * 1,7 *)', '2026-01-01T00:00:00Z', 3), [
    '2026-01-03T00:00:00.000Z',
    '2026-01-04T00:00:00.000Z',
    '2026-01-10T00:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(15 10 ? * 6L 2026)', '2026-01-01T00:00:00Z', 2), [
    '2026-01-30T10:15:00.000Z',
    '2026-02-27T10:15:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 9 1 JAN,jul ? *)', '2026-01-01T10:00:00Z', 2), [
    '2026-07-01T09:00:00.000Z',
    '2027-01-01T09:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 0 1 1 ? 2027-2028)', '2026-05-01T00:00:00Z', 3), [
    '2027-01-01T00:00:00.000Z',
    '2028-01-01T00:00:00.000Z',
    undefined,
  ]);
  assert.deepEqual(next('cron(0 0 29 2 ? *)', '2026-01-01T00:00:00Z'), ['2028-02-29T00:00:00.000Z']);
});

test('cron: L, W, LW and # in the day fields', () => {
  assert.deepEqual(next('cron(0 0 L * ? *)', '2026-01-01T00:00:00Z', 3), [
    '2026-01-31T00:00:00.000Z',
    '2026-02-28T00:00:00.000Z',
    '2026-03-31T00:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 0 L 2 ? 2028)', '2026-01-01T00:00:00Z'), ['2028-02-29T00:00:00.000Z']);
  // 2026-02-15 is a Sunday -> Monday 16th; 2026-03-15 is a Sunday too; 2026-08-15 a Saturday -> Friday 14th.
  assert.deepEqual(next('cron(0 0 15W * ? 2026)', '2026-02-01T00:00:00Z', 2), [
    '2026-02-16T00:00:00.000Z',
    '2026-03-16T00:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 0 15W 8 ? 2026)', '2026-01-01T00:00:00Z'), ['2026-08-14T00:00:00.000Z']);
  // 1W when the 1st is a Saturday (2026-08-01): Monday the 3rd, never the previous month.
  assert.deepEqual(next('cron(0 0 1W 8 ? 2026)', '2026-01-01T00:00:00Z'), ['2026-08-03T00:00:00.000Z']);
  // Last weekday: 2026-01-31 is a Saturday -> Friday 30th.
  assert.deepEqual(next('cron(0 0 LW * ? *)', '2026-01-01T00:00:00Z', 2), [
    '2026-01-30T00:00:00.000Z',
    '2026-02-27T00:00:00.000Z',
  ]);
  // Second Tuesday (3#2), first Monday (MON#1).
  assert.deepEqual(next('cron(0 12 ? * 3#2 *)', '2026-01-01T00:00:00Z', 2), [
    '2026-01-13T12:00:00.000Z',
    '2026-02-10T12:00:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 12 ? * MON#1 *)', '2026-01-01T00:00:00Z'), ['2026-01-05T12:00:00.000Z']);
  // A fifth Friday only in some months.
  assert.deepEqual(next('cron(0 0 ? * 6#5 *)', '2026-01-01T00:00:00Z', 2), [
    '2026-01-30T00:00:00.000Z',
    '2026-05-29T00:00:00.000Z',
  ]);
});

test('cron: invalid expressions are refused', () => {
  for (const bad of [
    'cron(0 12 * * * *)', // both day fields
    'cron(0 12 ? * ? *)', // neither
    'cron(0 12 * *  ?)', // 5 fields
    'cron(60 * * * ? *)',
    'cron(0 24 * * ? *)',
    'cron(0 0 32 * ? *)',
    'cron(0 0 ? * 8 *)',
    'cron(0 0 ? 13 * *)'.replace('? 13 *', '* 13 ?'),
    'cron(0 0 ? * FOO *)',
    'cron(0 0 ? * 2#6 *)',
    'cron(0 0 * * ? 1969)',
    'cron(0 0 * * ? 2200)',
    'cron(5-1 * * * ? *)',
    'cron(*/0 * * * ? *)',
    'cron(1,,2 * * * ? *)',
    'weekly',
    'at(2026-01-01T00:00:00)', // at() is for Scheduler only
  ]) {
    assert.throws(() => parseScheduleExpression(bad), ExpressionError, bad);
  }
});

test('at(): one time, in a time zone', () => {
  assert.deepEqual(next('at(2026-03-01T09:30:00)', '2026-01-01T00:00:00Z', 2), [
    '2026-03-01T09:30:00.000Z',
    undefined,
  ]);
  assert.deepEqual(next('at(2026-03-01T09:30:00)', '2026-01-01T00:00:00Z', 1, 'Europe/Paris'), [
    '2026-03-01T08:30:00.000Z',
  ]);
  assert.deepEqual(next('at(2025-03-01T09:30:00)', '2026-01-01T00:00:00Z'), [undefined]);
  for (const bad of ['at(2026-02-30T00:00:00)', 'at(2026-01-01 00:00:00)', 'at(2026-01-01T24:00:00)']) {
    assert.throws(() => parseScheduleExpression(bad, { allowAt: true }), ExpressionError, bad);
  }
});

test('time zones: wall time in the zone, DST gaps skipped, repeated hours fire once', () => {
  // 09:00 New York is 14:00Z in winter, 13:00Z in summer.
  assert.deepEqual(next('cron(0 9 * * ? *)', '2026-03-06T15:00:00Z', 4, 'America/New_York'), [
    '2026-03-07T14:00:00.000Z',
    '2026-03-08T13:00:00.000Z',
    '2026-03-09T13:00:00.000Z',
    '2026-03-10T13:00:00.000Z',
  ]);
  // 02:30 does not exist on 2026-03-08 in New York: that day is skipped.
  assert.deepEqual(next('cron(30 2 * * ? *)', '2026-03-07T00:00:00Z', 3, 'America/New_York'), [
    '2026-03-07T07:30:00.000Z',
    '2026-03-09T06:30:00.000Z',
    '2026-03-10T06:30:00.000Z',
  ]);
  // 01:30 happens twice on 2026-11-01: it fires once, at the first (EDT) occurrence.
  assert.deepEqual(next('cron(30 1 * * ? *)', '2026-10-31T12:00:00Z', 3, 'America/New_York'), [
    '2026-11-01T05:30:00.000Z',
    '2026-11-02T06:30:00.000Z',
    '2026-11-03T06:30:00.000Z',
  ]);
  // Half-hour zones; the day boundary in the zone, not in UTC.
  assert.deepEqual(next('cron(0 0 ? * MON *)', '2026-01-01T00:00:00Z', 1, 'Asia/Kolkata'), [
    '2026-01-04T18:30:00.000Z',
  ]);
  assert.deepEqual(next('cron(0 0 1 * ? *)', '2026-01-01T00:00:00Z', 1, 'Pacific/Auckland'), [
    '2026-01-31T11:00:00.000Z',
  ]);
  assert.equal(
    instantOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin'),
    undefined,
  );
});

test('fireTimesBetween: every due time, bounded', () => {
  const e = parseScheduleExpression('rate(1 minute)');
  const t0 = at('2026-01-01T00:00:00Z');
  assert.equal(fireTimesBetween(e, t0, t0 + 180_000, { anchor: t0 }).length, 3);
  assert.equal(fireTimesBetween(e, t0, t0 + 179_999, { anchor: t0 }).length, 2);
  assert.equal(fireTimesBetween(e, t0, t0 + 86_400_000, { anchor: t0, limit: 10 }).length, 10);
  const c = parseScheduleExpression('cron(0 * * * ? *)');
  assert.deepEqual(
    fireTimesBetween(c, t0, t0 + 3 * 3_600_000).map((t) => iso(t)),
    ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'],
  );
});
