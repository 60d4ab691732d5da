/**
 * Aggregates of metric datapoints ("buckets"): count, sum, min, max, and a value distribution
 * for percentiles. Small buckets keep the exact values; once a bucket holds more than
 * EXACT_VALUES values it keeps a log-scale histogram instead (1% relative resolution), so
 * a bucket stays small however many datapoints it absorbs. Pure functions, no I/O.
 */
export interface Bucket {
  n: number;
  sum: number;
  min: number;
  max: number;
  /** Exact values while the bucket is small. */
  v?: number[];
  /** Histogram (log-scale bin -> count) once it is not. */
  h?: Record<string, number>;
  /** The unit of the datapoints (the last one seen). */
  u?: string;
}

export const EXACT_VALUES = 200;
const LOG_BASE = Math.log(1.02);

// Bin names by index, built once: a hot bucket adds a value without making a string.
const POS_BINS = new Map<number, string>();
const NEG_BINS = new Map<number, string>();

function bin(x: number): string {
  if (x === 0) return 'z';
  const i = Math.floor(Math.log(Math.abs(x)) / LOG_BASE);
  const names = x < 0 ? NEG_BINS : POS_BINS;
  let name = names.get(i);
  if (name === undefined) {
    name = (x < 0 ? 'n' : 'p') + i;
    // Finite values span a few thousand bins; NaN/Infinity names are not kept.
    if (Number.isFinite(i) && names.size < 10_000) names.set(i, name);
  }
  return name;
}
function binValue(b: string): number {
  if (b === 'z') return 0;
  const i = Number(b.slice(1));
  const mid = Math.exp((i + 0.5) * LOG_BASE);
  return b[0] === 'n' ? -mid : mid;
}

function toHistogram(values: number[], into: Record<string, number> = {}): Record<string, number> {
  for (const x of values) {
    const k = bin(x);
    into[k] = (into[k] ?? 0) + 1;
  }
  return into;
}

export function newBucket(value: number, count = 1, unit?: string): Bucket {
  const b: Bucket = { n: count, sum: value * count, min: value, max: value, v: [] };
  for (let i = 0; i < Math.min(count, EXACT_VALUES + 1); i++) b.v!.push(value);
  if (count > EXACT_VALUES) {
    b.h = { [bin(value)]: count };
    delete b.v;
  }
  if (unit) b.u = unit;
  return b;
}

/** A bucket from a StatisticSet (no distribution: percentiles read min/avg/max). */
export function bucketFromStatistics(
  s: { SampleCount: number; Sum: number; Minimum: number; Maximum: number },
  unit?: string,
): Bucket {
  const avg = s.SampleCount > 0 ? s.Sum / s.SampleCount : 0;
  const h: Record<string, number> = {};
  h[bin(s.Minimum)] = (h[bin(s.Minimum)] ?? 0) + 1;
  if (s.SampleCount > 1) h[bin(s.Maximum)] = (h[bin(s.Maximum)] ?? 0) + 1;
  if (s.SampleCount > 2) h[bin(avg)] = (h[bin(avg)] ?? 0) + (s.SampleCount - 2);
  return { n: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum, h, ...(unit ? { u: unit } : {}) };
}

/** Adds one value in place. */
export function addValue(b: Bucket, value: number, unit?: string): void {
  b.n += 1;
  b.sum += value;
  if (value < b.min) b.min = value;
  if (value > b.max) b.max = value;
  if (unit) b.u = unit;
  if (b.v) {
    b.v.push(value);
    if (b.v.length > EXACT_VALUES) {
      b.h = toHistogram(b.v, b.h);
      delete b.v;
    }
  } else {
    const k = bin(value);
    b.h = b.h ?? {};
    b.h[k] = (b.h[k] ?? 0) + 1;
  }
}

/** Merges `src` into `dst` in place and returns dst. */
export function mergeBucket(dst: Bucket, src: Bucket): Bucket {
  dst.n += src.n;
  dst.sum += src.sum;
  dst.min = Math.min(dst.min, src.min);
  dst.max = Math.max(dst.max, src.max);
  if (src.u) dst.u = src.u;
  if (dst.v && src.v && !src.h && !dst.h && dst.v.length + src.v.length <= EXACT_VALUES) {
    dst.v.push(...src.v);
    return dst;
  }
  const h = dst.h ?? {};
  if (dst.v) toHistogram(dst.v, h);
  if (src.v) toHistogram(src.v, h);
  if (src.h) for (const [k, c] of Object.entries(src.h)) h[k] = (h[k] ?? 0) + c;
  dst.h = h;
  delete dst.v;
  return dst;
}

export function cloneBucket(b: Bucket): Bucket {
  return { ...b, ...(b.v ? { v: [...b.v] } : {}), ...(b.h ? { h: { ...b.h } } : {}) };
}

/** Nearest-rank percentile (p in 0..100); from the histogram once the bucket is large. */
export function percentile(b: Bucket, p: number): number {
  if (b.n === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * b.n));
  if (b.v && !b.h) {
    const sorted = [...b.v].sort((x, y) => x - y);
    return sorted[Math.min(sorted.length, rank) - 1];
  }
  const entries = Object.entries(b.h ?? {})
    .map(([k, c]) => [binValue(k), c] as const)
    .sort((x, y) => x[0] - y[0]);
  let seen = 0;
  for (const [value, c] of entries) {
    seen += c;
    if (seen >= rank) return Math.min(b.max, Math.max(b.min, value));
  }
  return b.max;
}

export const BASIC_STATS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
const EXTENDED = /^p(\d{1,2}(?:\.\d{1,10})?|100)$/;

export function isExtendedStatistic(s: string): boolean {
  const m = EXTENDED.exec(s);
  return !!m && Number(m[1]) >= 0 && Number(m[1]) <= 100;
}

/** One statistic of a bucket: SampleCount, Average, Sum, Minimum, Maximum or pNN(.N). */
export function statistic(b: Bucket, stat: string): number {
  switch (stat) {
    case 'SampleCount':
      return b.n;
    case 'Sum':
      return b.sum;
    case 'Average':
      return b.n ? b.sum / b.n : NaN;
    case 'Minimum':
      return b.min;
    case 'Maximum':
      return b.max;
  }
  const m = EXTENDED.exec(stat);
  if (m) return percentile(b, Number(m[1]));
  throw new Error(`unknown statistic ${stat}`);
}
