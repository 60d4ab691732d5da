/**
 * Key-range helpers shared by every Store implementation. Keys compare bytewise on their
 * UTF-8 encoding, which is Unicode code point order (not JavaScript's UTF-16 order).
 */
import type { ScanOptions } from './store.js';

/**
 * The smallest string greater than every string that starts with `prefix` (code point
 * order), or undefined when there is none (empty prefix, or only U+10FFFF characters).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  // Fast path: the last code unit is a BMP character below U+FFFF that is not a surrogate.
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last < 0xd7ff || (last >= 0xe000 && last < 0xffff))
    return prefix.slice(0, -1) + String.fromCharCode(last + 1);
  const cps = Array.from(prefix, (c) => c.codePointAt(0) as number);
  while (cps.length > 0) {
    let last = cps.pop() as number;
    if (last < 0x10ffff) {
      last += 1;
      if (last >= 0xd800 && last <= 0xdfff) last = 0xe000; // skip the surrogate range
      cps.push(last);
      return String.fromCodePoint(...cps);
    }
  }
  return undefined;
}

/** Compares two keys in code point order (what the databases do), for in-memory checks. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point order only where a surrogate (a code point above
    // U+FFFF) meets U+E000..U+FFFF: move the surrogates above that block.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

export interface RangeBound {
  op: '>=' | '>' | '<' | '<=';
  value: string;
}

/**
 * The key conditions a scan/count/deleteRange means, reduced to the tightest lower bound
 * and the tightest upper bound (at most one of each). Handing a database several lower
 * bounds (a prefix's and an `after`) makes SQLite seek on one of them and filter the rest:
 * a page in the middle of a large prefix would read the prefix from its start.
 */
export function rangeBounds(opts: Omit<ScanOptions, 'limit' | 'reverse'> = {}): RangeBound[] {
  let lo: RangeBound | undefined;
  let hi: RangeBound | undefined;
  const lower = (b: RangeBound) => {
    const c = lo ? compareKeys(b.value, lo.value) : 1;
    if (c > 0 || (c === 0 && b.op === '>')) lo = b;
  };
  const upper = (b: RangeBound) => {
    const c = hi ? compareKeys(b.value, hi.value) : -1;
    if (c < 0 || (c === 0 && b.op === '<')) hi = b;
  };
  if (opts.prefix !== undefined && opts.prefix !== '') {
    lower({ op: '>=', value: opts.prefix });
    const upperBound = prefixUpperBound(opts.prefix);
    if (upperBound !== undefined) upper({ op: '<', value: upperBound });
  }
  if (opts.start !== undefined) lower({ op: '>=', value: opts.start });
  if (opts.after !== undefined) lower({ op: '>', value: opts.after });
  if (opts.end !== undefined) upper({ op: '<', value: opts.end });
  if (opts.endInclusive !== undefined) upper({ op: '<=', value: opts.endInclusive });
  const out: RangeBound[] = [];
  if (lo) out.push(lo);
  if (hi) out.push(hi);
  return out;
}

/** A scan limit, validated: undefined means no limit. */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`scan limit must be an integer >= 0, got ${limit}`);
  return limit;
}
