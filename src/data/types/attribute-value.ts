/**
 * DynamoDB attribute values in their wire shape. Binary values (B, BS) stay base64 strings
 * exactly as they arrive in the JSON body: the engine stores items as JSON, and the few
 * operations that need bytes (ordering, size, begins_with/contains) decode them.
 * Numbers (N, NS) are strings; use ./number.ts for arithmetic and comparison.
 */
import { compareNumbers, parseDecimalUnchecked } from './number.js';

export type AttributeValue =
  | { S: string }
  | { N: string }
  | { B: string }
  | { BOOL: boolean }
  | { NULL: true }
  | { M: Record<string, AttributeValue> }
  | { L: AttributeValue[] }
  | { SS: string[] }
  | { NS: string[] }
  | { BS: string[] };

export type Item = Record<string, AttributeValue>;

export type AttributeType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';

export const ATTRIBUTE_TYPES: readonly AttributeType[] = [
  'S',
  'N',
  'B',
  'BOOL',
  'NULL',
  'M',
  'L',
  'SS',
  'NS',
  'BS',
];

/** The type tag of a (valid) attribute value. */
export function typeOf(v: AttributeValue): AttributeType {
  for (const k in v) return k as AttributeType;
  throw new TypeError('empty AttributeValue');
}

/** The payload of a value whatever its type (for code that already switched on typeOf). */
export function payload(v: AttributeValue): unknown {
  return (v as Record<string, unknown>)[typeOf(v)];
}

export function decodeBinary(b64: string): Buffer {
  return Buffer.from(b64, 'base64');
}

/** Maps a UTF-16 code unit so that unit order equals code point (= UTF-8 byte) order. */
function fixup(u: number): number {
  return u >= 0xe000 ? u - 0x800 : u >= 0xd800 ? u + 0x2000 : u;
}

/** Compares strings in UTF-8 byte order without encoding them. */
export function utf8Compare(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) < fixup(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/**
 * Orders two scalar values of the same type as DynamoDB does (S by UTF-8 bytes, N
 * numerically, B bytewise). Returns undefined when the values are not comparable (different
 * types, or a type with no order).
 */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if ('S' in a && 'S' in b) return Math.sign(utf8Compare(a.S, b.S));
  if ('N' in a && 'N' in b) return compareNumbers(a.N, b.N);
  if ('B' in a && 'B' in b) return Math.sign(Buffer.compare(decodeBinary(a.B), decodeBinary(b.B)));
  return undefined;
}

function setKey(type: 'SS' | 'NS' | 'BS', member: string): string {
  if (type === 'NS') {
    const d = parseDecimalUnchecked(member);
    return `${d.coef}e${d.exp}`;
  }
  if (type === 'BS') return decodeBinary(member).toString('base64');
  return member;
}

/** Deep equality with DynamoDB semantics (numbers by value, sets ignore order). */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  switch (ta) {
    case 'S':
    case 'N':
    case 'B':
      return compareScalars(a, b) === 0;
    case 'BOOL':
      return (a as { BOOL: boolean }).BOOL === (b as { BOOL: boolean }).BOOL;
    case 'NULL':
      return true;
    case 'SS':
    case 'NS':
    case 'BS': {
      const xa = payload(a) as string[];
      const xb = payload(b) as string[];
      if (xa.length !== xb.length) return false;
      const keys = new Set(xa.map((m) => setKey(ta, m)));
      return xb.every((m) => keys.has(setKey(ta, m)));
    }
    case 'L': {
      const la = (a as { L: AttributeValue[] }).L;
      const lb = (b as { L: AttributeValue[] }).L;
      return la.length === lb.length && la.every((v, i) => valuesEqual(v, lb[i]));
    }
    case 'M': {
      const ma = (a as { M: Item }).M;
      const mb = (b as { M: Item }).M;
      const ka = Object.keys(ma);
      if (ka.length !== Object.keys(mb).length) return false;
      return ka.every((k) => Object.hasOwn(mb, k) && valuesEqual(ma[k], mb[k]));
    }
  }
}

/** True when `set` (SS/NS/BS payload of the given type) contains `member` by value. */
export function setHas(type: 'SS' | 'NS' | 'BS', set: readonly string[], member: string): boolean {
  const k = setKey(type, member);
  return set.some((m) => setKey(type, m) === k);
}

/** Canonical identity of a set member (numbers by value, binaries by bytes). */
export function setMemberKey(type: 'SS' | 'NS' | 'BS', member: string): string {
  return setKey(type, member);
}
