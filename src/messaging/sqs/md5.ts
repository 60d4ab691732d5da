/**
 * The MD5 digests SQS returns and the SDK verifies: of the body (hex MD5 of its UTF-8 bytes)
 * and of the message (system) attributes, in AWS's encoding: attributes sorted by name, each
 * as length-prefixed (4-byte big-endian) name, length-prefixed data type, one transport byte
 * (1 = String/Number, 2 = Binary), then the length-prefixed value bytes.
 */
import { createHash } from 'node:crypto';
import type { MessageAttributeValue } from './model.js';

export function md5Hex(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function lengthPrefixed(parts: Buffer[], data: Buffer): void {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(data.length, 0);
  parts.push(len, data);
}

/** Undefined when there are no attributes (SQS then omits the digest). */
export function md5OfAttributes(
  attrs: Record<string, MessageAttributeValue> | undefined,
): string | undefined {
  if (!attrs) return undefined;
  const names = Object.keys(attrs).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const a = attrs[name];
    lengthPrefixed(parts, Buffer.from(name, 'utf8'));
    lengthPrefixed(parts, Buffer.from(a.DataType, 'utf8'));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(parts, Buffer.from(a.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(parts, Buffer.from(a.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}
