/**
 * Schedule expressions as EventBridge rules and EventBridge Scheduler write them:
 *
 *   rate(1 minute) | rate(5 minutes) | rate(1 hour) | rate(2 days)
 *   cron(minutes hours day-of-month month day-of-week year)   e.g. cron(0 12 ? * MON-FRI *)
 *   at(2026-03-01T09:30:00)                                    (Scheduler only: one time)
 *
 * Cron fields: `*`, lists `a,b`, ranges `a-b`, steps `a/n` `*\/n` `a-b/n`, month names
 * JAN-DEC, day names SUN-SAT (1 = Sunday ... 7 = Saturday), `?` in exactly one of
 * day-of-month / day-of-week, `L` (last day of month; `nL` last weekday n of the month),
 * `W` (`15W`: the weekday nearest the 15th, within the month; `LW`: last weekday of the
 * month), `#` (`3#2`: the second Tuesday). Years 1970-2199.
 *
 * Cron and at expressions read wall time in an IANA time zone (Scheduler's
 * ScheduleExpressionTimezone; UTC otherwise), through Intl. A wall time skipped by a
 * daylight-saving jump does not fire; a wall time that happens twice fires once, at its
 * first occurrence. Rate expressions count fixed periods from an anchor (the rule's creation).
 */

export type ScheduleExpression =
  | { kind: 'rate'; periodMs: number; text: string }
  | { kind: 'cron'; cron: CronSpec; text: string }
  | { kind: 'at'; wall: WallTime; text: string };

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

type DomSpec =
  | { kind: 'any' }
  | { kind: 'set'; days: Set<number> }
  | { kind: 'last'; offset: number }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

type DowSpec =
  | { kind: 'any' }
  | { kind: 'set'; days: Set<number> } // 1 = Sunday
  | { kind: 'last'; dow: number }
  | { kind: 'nth'; dow: number; n: number };

export interface CronSpec {
  minutes: number[];
  hours: number[];
  months: Set<number>;
  years: Set<number>;
  dom: DomSpec;
  dow: DowSpec;
}

export class ExpressionError extends Error {}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Parses an expression; `allowAt` is true for Scheduler. Throws ExpressionError. */
export function parseScheduleExpression(text: string, opts: { allowAt?: boolean } = {}): ScheduleExpression {
  const m = /^(rate|cron|at)\((.*)\)$/.exec(text.trim());
  if (!m) throw new ExpressionError(`not a schedule expression: ${text}`);
  const body = m[2].trim();
  if (m[1] === 'rate') {
    const r = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body);
    if (!r) throw new ExpressionError(`bad rate expression: ${text}`);
    const value = Number(r[1]);
    const unit = r[2];
    if (!Number.isSafeInteger(value) || value < 1) throw new ExpressionError('the rate must be positive');
    // EventBridge: singular unit for 1, plural for more.
    if ((value === 1) !== !unit.endsWith('s')) throw new ExpressionError(`bad rate unit: ${text}`);
    return { kind: 'rate', periodMs: value * UNIT_MS[unit.replace(/s$/, '')], text };
  }
  if (m[1] === 'at') {
    if (!opts.allowAt) throw new ExpressionError('at() is only for EventBridge Scheduler');
    const a = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
    if (!a) throw new ExpressionError(`bad at expression: ${text}`);
    const [year, month, day, hour, minute, second] = a.slice(1).map(Number);
    if (
      month < 1 ||
      month > 12 ||
      day < 1 ||
      day > daysInMonth(year, month) ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      throw new ExpressionError(`bad at expression: ${text}`);
    }
    return { kind: 'at', wall: { year, month, day, hour, minute, second }, text };
  }
  return { kind: 'cron', cron: parseCron(body), text };
}

export function parseCron(body: string): CronSpec {
  const fields = body.split(/\s+/);
  if (fields.length !== 6) throw new ExpressionError('a cron expression has 6 fields');
  const [fMin, fHour, fDom, fMonth, fDow, fYear] = fields;
  if ((fDom === '?') === (fDow === '?')) {
    throw new ExpressionError('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: [...parseField(fMin, 0, 59)].sort((a, b) => a - b),
    hours: [...parseField(fHour, 0, 23)].sort((a, b) => a - b),
    months: parseField(fMonth, 1, 12, MONTHS),
    years: parseField(fYear, MIN_YEAR, MAX_YEAR),
    dom: parseDom(fDom),
    dow: parseDow(fDow),
  };
}

function parseDom(f: string): DomSpec {
  if (f === '?' || f === '*') return { kind: 'any' };
  if (f === 'L') return { kind: 'last', offset: 0 };
  const lo = /^L-(\d{1,2})$/.exec(f);
  if (lo) {
    const offset = Number(lo[1]);
    if (offset > 30) throw new ExpressionError(`bad day-of-month: ${f}`);
    return { kind: 'last', offset };
  }
  if (f === 'LW') return { kind: 'lastWeekday' };
  const w = /^(\d{1,2})W$/.exec(f);
  if (w) {
    const day = Number(w[1]);
    if (day < 1 || day > 31) throw new ExpressionError(`bad day-of-month: ${f}`);
    return { kind: 'nearestWeekday', day };
  }
  return { kind: 'set', days: parseField(f, 1, 31) };
}

function parseDow(f: string): DowSpec {
  if (f === '?' || f === '*') return { kind: 'any' };
  if (f === 'L') return { kind: 'set', days: new Set([7]) };
  const l = /^([A-Za-z]{3}|\d)L$/.exec(f);
  if (l) return { kind: 'last', dow: atom(l[1], 1, 7, DAYS) };
  const n = /^([A-Za-z]{3}|\d)#(\d)$/.exec(f);
  if (n) {
    const nth = Number(n[2]);
    if (nth < 1 || nth > 5) throw new ExpressionError(`bad day-of-week: ${f}`);
    return { kind: 'nth', dow: atom(n[1], 1, 7, DAYS), n: nth };
  }
  return { kind: 'set', days: parseField(f, 1, 7, DAYS) };
}

function atom(s: string, min: number, max: number, names?: string[]): number {
  let v: number;
  if (/^\d+$/.test(s)) v = Number(s);
  else {
    const i = names ? names.indexOf(s.toUpperCase()) : -1;
    if (i < 0) throw new ExpressionError(`bad value: ${s}`);
    v = i + min;
  }
  if (v < min || v > max) throw new ExpressionError(`value out of range ${min}-${max}: ${s}`);
  return v;
}

function parseField(f: string, min: number, max: number, names?: string[]): Set<number> {
  const out = new Set<number>();
  for (const part of f.split(',')) {
    if (part === '') throw new ExpressionError(`bad field: ${f}`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new ExpressionError(`bad field: ${f}`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new ExpressionError(`bad step: ${part}`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined) throw new ExpressionError(`bad range: ${part}`);
      lo = atom(a, min, max, names);
      hi = atom(b, min, max, names);
      if (hi < lo) throw new ExpressionError(`bad range: ${part}`);
    } else {
      lo = atom(range, min, max, names);
      // `a/n`: from a to the end of the range, every n.
      hi = stepText !== undefined ? max : lo;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

// ---- calendar helpers (proleptic Gregorian, in "wall" terms) ----

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 = Sunday ... 7 = Saturday. */
function dayOfWeek(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

function isWeekday(year: number, month: number, day: number): boolean {
  const d = dayOfWeek(year, month, day);
  return d !== 1 && d !== 7;
}

function domMatches(spec: DomSpec, y: number, m: number, d: number): boolean {
  const last = daysInMonth(y, m);
  switch (spec.kind) {
    case 'any':
      return true;
    case 'set':
      return spec.days.has(d);
    case 'last':
      return d === last - spec.offset;
    case 'lastWeekday': {
      let x = last;
      while (!isWeekday(y, m, x)) x--;
      return d === x;
    }
    case 'nearestWeekday': {
      const target = Math.min(spec.day, last);
      let x = target;
      const dow = dayOfWeek(y, m, target);
      if (dow === 7)
        x = target === 1 ? target + 2 : target - 1; // Saturday
      else if (dow === 1) x = target === last ? target - 2 : target + 1; // Sunday
      return d === x;
    }
  }
}

function dowMatches(spec: DowSpec, y: number, m: number, d: number): boolean {
  const dow = dayOfWeek(y, m, d);
  switch (spec.kind) {
    case 'any':
      return true;
    case 'set':
      return spec.days.has(dow);
    case 'last':
      return dow === spec.dow && d + 7 > daysInMonth(y, m);
    case 'nth':
      return dow === spec.dow && Math.ceil(d / 7) === spec.n;
  }
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when Intl knows the IANA zone. */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall time in `tz` at instant `t` (ms). */
export function wallTimeAt(t: number, tz: string): WallTime {
  if (tz === 'UTC' || tz === 'Etc/UTC') {
    const d = new Date(t);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(t))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second };
}

function wallMs(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** Offset of `tz` from UTC at instant t, in ms (wall - utc). */
function offsetAt(t: number, tz: string): number {
  return wallMs(wallTimeAt(Math.floor(t / 1000) * 1000, tz)) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant a wall time happens in `tz`: the earliest one when it happens twice (fall
 * back), undefined when it does not happen (spring forward).
 */
export function instantOf(w: WallTime, tz: string): number | undefined {
  const guess = wallMs(w);
  if (tz === 'UTC' || tz === 'Etc/UTC') return guess;
  const candidates = new Set([offsetAt(guess - 43_200_000, tz), offsetAt(guess + 43_200_000, tz)]);
  let best: number | undefined;
  for (const o of candidates) {
    const t = guess - o;
    if (wallMs(wallTimeAt(t, tz)) === guess && (best === undefined || t < best)) best = t;
  }
  return best;
}

// ---- next fire ----

/**
 * The first fire time strictly after `after` (ms), or undefined when there is none.
 * `anchor` is where rate() periods are counted from (default: `after`).
 */
export function nextFireTime(
  expr: ScheduleExpression,
  after: number,
  opts: { timeZone?: string; anchor?: number } = {},
): number | undefined {
  const tz = opts.timeZone || 'UTC';
  if (expr.kind === 'rate') {
    const anchor = opts.anchor ?? after;
    if (after < anchor) return anchor + expr.periodMs;
    const k = Math.floor((after - anchor) / expr.periodMs) + 1;
    return anchor + k * expr.periodMs;
  }
  if (expr.kind === 'at') {
    const t = instantOf(expr.wall, tz);
    return t !== undefined && t > after ? t : undefined;
  }
  return nextCron(expr.cron, after, tz);
}

function nextCron(c: CronSpec, after: number, tz: string): number | undefined {
  const start = wallTimeAt(after, tz);
  let y = start.year;
  let m = start.month;
  let d = start.day;
  // Walk wall days from the day of `after`; jump over years and months that cannot match.
  for (let guard = 0; guard < 200_000; guard++) {
    if (y > MAX_YEAR) return undefined;
    if (!c.years.has(y)) {
      y++;
      m = 1;
      d = 1;
      continue;
    }
    if (!c.months.has(m)) {
      m++;
      d = 1;
      if (m > 12) {
        m = 1;
        y++;
      }
      continue;
    }
    if (domMatches(c.dom, y, m, d) && dowMatches(c.dow, y, m, d)) {
      for (const hour of c.hours) {
        for (const minute of c.minutes) {
          const t = instantOf({ year: y, month: m, day: d, hour, minute, second: 0 }, tz);
          if (t !== undefined && t > after) return t;
        }
      }
    }
    d++;
    if (d > daysInMonth(y, m)) {
      d = 1;
      m++;
      if (m > 12) {
        m = 1;
        y++;
      }
    }
  }
  return undefined;
}

/** Every fire time in (after, until], at most `limit` of them. */
export function fireTimesBetween(
  expr: ScheduleExpression,
  after: number,
  until: number,
  opts: { timeZone?: string; anchor?: number; limit?: number } = {},
): number[] {
  const out: number[] = [];
  const limit = opts.limit ?? 1000;
  let t = after;
  while (out.length < limit) {
    const n = nextFireTime(expr, t, opts);
    if (n === undefined || n > until) break;
    out.push(n);
    t = n;
  }
  return out;
}
