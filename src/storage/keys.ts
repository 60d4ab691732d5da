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
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export interface RangeBound {
  op: '>=' | '>' | '<' | '<=';
  value: string;
}

/** The key conditions a scan/count/deleteRange means, as simple comparisons ANDed together. */
export function rangeBounds(opts: Omit<ScanOptions, 'limit' | 'reverse'> = {}): RangeBound[] {
  const out: RangeBound[] = [];
  if (opts.prefix !== undefined && opts.prefix !== '') {
    out.push({ op: '>=', value: opts.prefix });
    const upper = prefixUpperBound(opts.prefix);
    if (upper !== undefined) out.push({ op: '<', value: upper });
  }
  if (opts.start !== undefined) out.push({ op: '>=', value: opts.start });
  if (opts.after !== undefined) out.push({ op: '>', value: opts.after });
  if (opts.end !== undefined) out.push({ op: '<', value: opts.end });
  if (opts.endInclusive !== undefined) out.push({ op: '<=', value: opts.endInclusive });
  return out;
}

/** A scan limit, validated: undefined means no limit. */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isInteger(limit) || limit < 0)
    throw new RangeError(`scan limit must be an integer >= 0, got ${limit}`);
  return limit;
}
