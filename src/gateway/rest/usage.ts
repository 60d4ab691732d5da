/**
 * Usage plan quotas and usage reports, kept in the Store so they survive a restart (or
 * kill -9) and are shared by every node of a cluster.
 *
 * Per usage plan and API key, collection `apigw.usage` holds:
 *
 *   {account}/{region}/{planId}/{keyId}/p/{PERIOD}/{periodStartDay}
 *       -> { used, extra, day, dayUsed, left }
 *       the quota counter of the current period (DAY / WEEK / MONTH, in UTC: days start at
 *       00:00, weeks on Monday, months on the 1st): `used` in the period, `extra` granted (or
 *       taken) by UpdateUsage on top of the plan's limit, and the running day: its date, the
 *       requests counted that day and the quota left after the last of them.
 *   {account}/{region}/{planId}/{keyId}/d/{YYYY-MM-DD} -> { used, remaining }
 *       a past day, written from the counter when the key's next day (or period) begins, for
 *       GetUsage. Days older than USAGE_DAYS are dropped then.
 *
 * So a counted request reads and writes one row, in one Store transaction (serialisable: two
 * nodes or two concurrent requests never both take the last unit); the first request of a
 * new day or period also writes the day that ended and drops what is too old.
 *
 * The quota's `offset` is subtracted from the limit in the plan's initial period: the period
 * in which the quota was set on the plan (`quotaSince`).
 */
import type { Clock } from '../../core/clock.js';
import type { Store, Transaction } from '../../storage/store.js';
import {
  COLLECTION_USAGE_PLANS,
  restErrors as errors,
  scopedKey,
  type Scope,
  type UsagePlanRecord,
} from './model.js';
import { applyPatch, intValue } from './patch.js';

export const COLLECTION_USAGE = 'apigw.usage';
/** Days of usage kept, and the longest range GetUsage answers (as on AWS: 90 days). */
export const USAGE_DAYS = 90;
const DAY_MS = 86_400_000;

type Period = 'DAY' | 'WEEK' | 'MONTH';

interface PeriodCounter {
  used: number;
  extra: number;
  /** The running day (`YYYY-MM-DD`), what was counted in it and what was left after. */
  day: string;
  dayUsed: number;
  left: number;
}

interface DayUsage {
  used: number;
  remaining: number;
}

/** The Usage shape on the wire (the SDK's `items` travel as `values`). */
export interface UsageView {
  usagePlanId: string;
  startDate: string;
  endDate: string;
  values: Record<string, number[][]>;
  position?: string;
}

/** Start (epoch ms, UTC) of the quota period holding `ms`. */
export function periodStart(ms: number, period: Period): number {
  const d = new Date(ms);
  if (period === 'MONTH') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'DAY') return day;
  return day - ((d.getUTCDay() + 6) % 7) * DAY_MS; // weeks start on Monday (UTC)
}

/** `YYYY-MM-DD` (UTC) of an instant. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The plan's limit for the period holding `ms`: less the offset in the initial period. */
export function periodLimit(plan: UsagePlanRecord, ms: number): number {
  const q = plan.quota!;
  const initial =
    plan.quotaSince !== undefined && periodStart(plan.quotaSince, q.period) === periodStart(ms, q.period);
  return Math.max(0, q.limit - (initial ? q.offset || 0 : 0));
}

const keyBase = (scope: Scope, planId: string, keyId: string) => `${scopedKey(scope, planId)}/${keyId}/`;
const periodKey = (base: string, period: Period, ms: number) =>
  `${base}p/${period}/${dayOf(periodStart(ms, period))}`;
const dayKey = (base: string, day: string) => `${base}d/${day}`;

/** Prefix of every usage row of a plan (to drop them with the plan). */
export const planUsagePrefix = (scope: Scope, planId: string) => `${scopedKey(scope, planId)}/`;

function parseDay(v: unknown, what: 'start' | 'end'): number {
  if (v === undefined || v === null || v === '')
    throw errors.badRequest(`The ${what} date of the usage data must be specified`);
  const s = String(v);
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
  if (!Number.isFinite(ms) || dayOf(ms) !== s)
    throw errors.badRequest(`Invalid ${what} date specified: ${s}. Dates must be of the form yyyy-MM-dd`);
  return ms;
}

export class UsageMeter {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  /**
   * Counts one request of `keyId` against the plan's quota; false (nothing counted) when the
   * period's quota is used up. One transaction: one row read and written.
   */
  async count(scope: Scope, plan: UsagePlanRecord, keyId: string): Promise<boolean> {
    const now = this.deps.clock.now();
    const limit = periodLimit(plan, now);
    const base = keyBase(scope, plan.id, keyId);
    const pKey = periodKey(base, plan.quota!.period, now);
    return this.deps.store.transaction(async (tx) => {
      const { c, dirty } = await currentCounter(tx, base, pKey, now, limit);
      const ok = c.used < limit + c.extra;
      if (ok) {
        c.used++;
        c.dayUsed++;
        c.left = limit + c.extra - c.used;
      }
      if (ok || dirty) await tx.put(COLLECTION_USAGE, pKey, c);
      return ok;
    });
  }

  /** GetUsage: per key of the plan, one [used, remaining] pair per day of the range. */
  async getUsage(scope: Scope, planId: string, input: Record<string, any>): Promise<UsageView> {
    const start = parseDay(input.startDate, 'start');
    const end = parseDay(input.endDate, 'end');
    if (end < start) throw errors.badRequest('The end date must not be before the start date');
    if (end - start >= USAGE_DAYS * DAY_MS)
      throw errors.badRequest(`The usage date range must not span more than ${USAGE_DAYS} days`);
    const store = this.deps.store;
    const plan = await store.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, planId));
    if (!plan) throw errors.notFound('Invalid Usage Plan ID specified');
    const out: UsageView = {
      usagePlanId: plan.id,
      startDate: dayOf(start),
      endDate: dayOf(end),
      values: {},
    };
    let keyIds = plan.keyIds;
    if (input.keyId !== undefined && input.keyId !== '') {
      const want = String(input.keyId);
      if (!keyIds.includes(want)) throw errors.notFound('Invalid Usage Plan Key identifier specified');
      keyIds = [want];
    }
    const max = input.limit ? Math.max(1, Math.min(500, Number(input.limit) || 25)) : 25;
    const first = input.position ? Number(Buffer.from(String(input.position), 'base64url').toString()) : 0;
    if (!Number.isInteger(first) || first < 0) throw errors.badRequest('Invalid position parameter');
    if (first + max < keyIds.length) out.position = Buffer.from(String(first + max)).toString('base64url');
    if (!plan.quota) return out; // nothing is metered without a quota
    const now = this.deps.clock.now();
    const today = periodStart(now, 'DAY');
    const from = Math.max(start, today - (USAGE_DAYS - 1) * DAY_MS);
    const to = Math.min(end, today);
    for (const keyId of keyIds.slice(first, first + max))
      out.values[keyId] = from > to ? [] : await this.daysOf(scope, plan, keyId, from, to, now);
    return out;
  }

  /**
   * The [used, remaining] pairs of the days from..to (UTC midnights). A day without a record
   * used nothing and had what the day before left (or a fresh period's limit); today's
   * remaining is the live counter's, so it follows limit changes and UpdateUsage.
   */
  private async daysOf(
    scope: Scope,
    plan: UsagePlanRecord,
    keyId: string,
    from: number,
    to: number,
    now: number,
  ): Promise<number[][]> {
    const period = plan.quota!.period;
    const base = keyBase(scope, plan.id, keyId);
    const scanFrom = periodStart(from, period);
    // The counters first: one that moves to a new day meanwhile has written the day it ends
    // as a record before the scan of the records below sees it.
    const counters = await this.deps.store.scan<PeriodCounter>(COLLECTION_USAGE, { prefix: `${base}p/` });
    const rows = await this.deps.store.scan<DayUsage>(COLLECTION_USAGE, {
      start: dayKey(base, dayOf(scanFrom)),
      endInclusive: dayKey(base, dayOf(to)),
    });
    const byDay = new Map(rows.map((r) => [r.key.slice(-10), r.value]));
    // A counter's running day is not a record yet.
    for (const { value: c } of counters)
      if (!byDay.has(c.day)) byDay.set(c.day, { used: c.dayUsed, remaining: c.left });
    const today = periodStart(now, 'DAY');
    const live = counters.find((r) => r.key === periodKey(base, period, now))?.value;
    const out: number[][] = [];
    let currentPeriod = -1;
    let remaining = 0;
    for (let d = scanFrom; d <= to; d += DAY_MS) {
      const ps = periodStart(d, period);
      if (ps !== currentPeriod) {
        currentPeriod = ps;
        remaining = periodLimit(plan, d);
      }
      const rec = byDay.get(dayOf(d));
      let used = 0;
      if (rec) {
        used = rec.used;
        remaining = rec.remaining;
      }
      if (d === today && live) remaining = periodLimit(plan, now) + live.extra - live.used;
      if (d >= from) out.push([used, remaining]);
    }
    return out;
  }

  /**
   * UpdateUsage: `replace /remaining` sets what the key has left in the current period.
   * Answers today's usage of the key.
   */
  async updateUsage(
    scope: Scope,
    planId: string,
    keyId: string,
    input: Record<string, any>,
  ): Promise<UsageView> {
    const now = this.deps.clock.now();
    const today = dayOf(now);
    const base = keyBase(scope, planId, keyId);
    return this.deps.store.transaction(async (tx) => {
      const plan = await tx.get<UsagePlanRecord>(COLLECTION_USAGE_PLANS, scopedKey(scope, planId));
      if (!plan) throw errors.notFound('Invalid Usage Plan ID specified');
      if (!plan.keyIds.includes(keyId)) throw errors.notFound('Invalid Usage Plan Key identifier specified');
      let remaining: number | undefined;
      applyPatch(input, ['/remaining'], (op) => {
        if (op.op !== 'replace' || op.path !== '/remaining') return false;
        remaining = intValue(op, 0, Number.MAX_SAFE_INTEGER, `Invalid value '${op.value}' for /remaining`);
        return true;
      });
      if (!plan.quota) throw errors.badRequest('The usage plan has no quota');
      const limit = periodLimit(plan, now);
      const pKey = periodKey(base, plan.quota.period, now);
      const { c, dirty } = await currentCounter(tx, base, pKey, now, limit);
      if (remaining !== undefined) {
        c.extra = remaining - (limit - c.used);
        c.left = remaining;
      }
      if (remaining !== undefined || dirty) await tx.put(COLLECTION_USAGE, pKey, c);
      return {
        usagePlanId: plan.id,
        startDate: today,
        endDate: today,
        values: { [keyId]: [[c.dayUsed, limit + c.extra - c.used]] },
      };
    });
  }
}

/**
 * The key's counter of the current period, its running day moved to today. The day that
 * ended (or the counters of a period that ended) become day records first, and days too old
 * for GetUsage are dropped. `dirty`: the counter must be written even if nothing is counted.
 */
async function currentCounter(
  tx: Transaction,
  base: string,
  pKey: string,
  now: number,
  freshLimit: number,
): Promise<{ c: PeriodCounter; dirty: boolean }> {
  const today = dayOf(now);
  const c = await tx.get<PeriodCounter>(COLLECTION_USAGE, pKey);
  if (c && c.day === today) return { c, dirty: false };
  if (c) {
    await writeDay(tx, base, c);
    await dropOldDays(tx, base, now);
    return { c: { ...c, day: today, dayUsed: 0 }, dirty: true };
  }
  // A new period (or the key's first request): the other periods' counters end here.
  const fresh: PeriodCounter = { used: 0, extra: 0, day: today, dayUsed: 0, left: freshLimit };
  const old = await tx.scan<PeriodCounter>(COLLECTION_USAGE, { prefix: `${base}p/` });
  for (const o of old) {
    if (o.value.day === today)
      fresh.dayUsed += o.value.dayUsed; // the plan's period changed today
    else await writeDay(tx, base, o.value);
    await tx.delete(COLLECTION_USAGE, o.key);
  }
  if (old.length) await dropOldDays(tx, base, now);
  return { c: fresh, dirty: true };
}

const writeDay = (tx: Transaction, base: string, c: PeriodCounter) =>
  tx.put<DayUsage>(COLLECTION_USAGE, dayKey(base, c.day), { used: c.dayUsed, remaining: c.left });

/** Drops the key's day records older than what GetUsage can ask for. */
async function dropOldDays(tx: Transaction, base: string, now: number): Promise<void> {
  const oldest = dayOf(periodStart(now, 'DAY') - (USAGE_DAYS - 1) * DAY_MS);
  await tx.deleteRange(COLLECTION_USAGE, { prefix: `${base}d/`, end: dayKey(base, oldest) });
}
