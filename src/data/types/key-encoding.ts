/**
 * Order-preserving encodings of key attribute values. For two values of the same key type,
 * comparing `encodeKey(a)` and `encodeKey(b)` bytewise (UTF-8, i.e. code point order, which is
 * how the Store compares keys) gives DynamoDB's order for that type:
 * - S: by UTF-8 bytes. Encoded as lowercase hex of the UTF-8 bytes (2 chars per byte), so the
 *   encoding never contains NUL or surrogates and `begins_with` is a prefix of the encoding.
 * - B: bytewise; hex of the bytes, same properties.
 * - N: numerically; see encodeDecimalKey in ./number.ts (not prefix-preserving).
 * Every encoding starts with a type letter ('S', 'N', 'B').
 */
import type { AttributeValue } from './attribute-value.js';
import { decodeBinary } from './attribute-value.js';
import { encodeNumberKey, normalizeNumber } from './number.js';

/** Two lowercase hex digits of each ASCII code. */
const HEX: readonly string[] = Array.from({ length: 128 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Hex of the UTF-8 bytes of s; short ASCII strings (most keys) without a Buffer (~7x faster). */
function utf8Hex(s: string): string {
  if (s.length <= 24) {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) return Buffer.from(s, 'utf8').toString('hex');
      out += HEX[c];
    }
    return out;
  }
  return Buffer.from(s, 'utf8').toString('hex');
}

export function encodeKey(value: AttributeValue): string {
  if ('S' in value) return `S${utf8Hex(value.S)}`;
  if ('N' in value) return `N${encodeNumberKey(value.N)}`;
  if ('B' in value) return `B${decodeBinary(value.B).toString('hex')}`;
  throw new TypeError('key attributes must be S, N or B');
}

/** The encoding prefix every key starting with `prefix` has (for begins_with on S and B). */
export function encodeKeyPrefix(prefix: AttributeValue): string {
  if ('S' in prefix || 'B' in prefix) return encodeKey(prefix);
  throw new TypeError('begins_with prefixes must be S or B');
}

/** Decodes an encoding made by encodeKey back to the (canonical) attribute value. */
export function decodeKey(encoded: string): AttributeValue {
  const tag = encoded[0];
  const body = encoded.slice(1);
  if (tag === 'S') return { S: Buffer.from(body, 'hex').toString('utf8') };
  if (tag === 'B') return { B: Buffer.from(body, 'hex').toString('base64') };
  if (tag === 'N') return { N: decodeNumberKey(body) };
  throw new TypeError(`not an encoded key: ${encoded}`);
}

function decodeNumberKey(body: string): string {
  if (body === '1') return '0';
  const neg = body[0] === '0';
  let lead = Number(body.slice(1, 4));
  let digits = body.slice(4);
  if (neg) {
    lead = 999 - lead;
    digits = Array.from(digits.slice(0, -1), (c) => String(9 - Number(c))).join('');
  }
  const exp = lead - 130 - (digits.length - 1);
  return normalizeNumber(`${neg ? '-' : ''}${digits}E${exp}`);
}
