/**
 * Item size as DynamoDB counts it (for the 400 KB item limit, capacity units and the 1 MB
 * page limit). The formula, per the DynamoDB Developer Guide "Item sizes and formats":
 * - attribute names and S values: their UTF-8 byte length;
 * - B: the raw byte length (not the base64 text);
 * - N: 1 byte + 1 byte per pair of significant digits (digits are stored base-100 with pairs
 *   aligned on even powers of ten, so 1.2 takes two pairs but 12 one), + 1 byte if negative;
 *   zero is 1 byte;
 * - BOOL and NULL: 1 byte; SS/NS/BS: the sum of their members;
 * - L and M: 3 bytes + 1 byte per element + the elements (and for M the key names).
 */
import type { AttributeValue, Item } from './attribute-value.js';
import { decodeBinary } from './attribute-value.js';
import { parseDecimalUnchecked } from './number.js';

export const MAX_ITEM_SIZE = 400 * 1024;

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * numberSize of a plain integer (`-?[1-9][0-9]*`, what most stored numbers look like) without
 * parsing it into a Decimal; undefined for anything else.
 */
function integerSize(text: string): number | undefined {
  const n = text.length;
  const neg = text.charCodeAt(0) === 45; // '-'
  const start = neg ? 1 : 0;
  if (n === start || n - start > 38) return undefined;
  const first = text.charCodeAt(start);
  if (first < 49 || first > 57) return undefined; // a leading zero, '+', '.', ...: the general path
  for (let i = start + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  let end = n;
  while (text.charCodeAt(end - 1) === 48) end--; // trailing zeros are not significant digits
  const digits = end - start;
  const lead = n - start - 1; // power of ten of the leading digit
  const positions = digits + (lead % 2 === 0 ? 1 : 0);
  return 1 + Math.ceil(positions / 2) + (neg ? 1 : 0);
}

export function numberSize(text: string): number {
  const fast = integerSize(text);
  if (fast !== undefined) return fast;
  const d = parseDecimalUnchecked(text);
  if (d.coef === 0n) return 1;
  const neg = d.coef < 0n;
  const digits = (neg ? -d.coef : d.coef).toString().length;
  const lead = d.exp + digits - 1; // power of ten of the leading digit
  const positions = digits + (lead % 2 === 0 ? 1 : 0);
  return 1 + Math.ceil(positions / 2) + (neg ? 1 : 0);
}

export function valueSize(v: AttributeValue): number {
  if ('S' in v) return utf8Length(v.S);
  if ('N' in v) return numberSize(v.N);
  if ('B' in v) return decodeBinary(v.B).length;
  if ('BOOL' in v || 'NULL' in v) return 1;
  if ('SS' in v) return v.SS.reduce((n, s) => n + utf8Length(s), 0);
  if ('NS' in v) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if ('BS' in v) return v.BS.reduce((n, s) => n + decodeBinary(s).length, 0);
  if ('L' in v) return v.L.reduce((n, e) => n + 1 + valueSize(e), 3);
  if ('M' in v) {
    let n = 3;
    const m = v.M;
    for (const k in m) n += 1 + utf8Length(k) + valueSize(m[k]);
    return n;
  }
  throw new TypeError('unknown AttributeValue');
}

/** Size of a whole item: for each attribute, its name's UTF-8 length plus its value size. */
export function itemSize(item: Item): number {
  // for...in, not Object.entries: no array of pairs per item (items are plain JSON objects).
  let n = 0;
  for (const k in item) n += utf8Length(k) + valueSize(item[k]);
  return n;
}
