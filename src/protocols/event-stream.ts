/**
 * AWS event stream framing (`application/vnd.amazon.eventstream`), the binary framing of
 * streaming operations such as Lambda's InvokeWithResponseStream:
 *
 *   total length (u32) | headers length (u32) | prelude CRC32 | headers | payload | message CRC32
 *
 * Each header is name length (u8), name, value type (u8; 7 = string), value length (u16), value.
 * Only string headers are written: the `:event-type`, `:message-type` and `:content-type` a
 * service's events carry.
 */
import * as zlib from 'node:zlib';

const crc32: (data: Uint8Array, value?: number) => number =
  (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32 ?? crc32Js;

const STRING = 7;

/** One event stream message with string headers. */
export function encodeEventFrame(headers: Record<string, string>, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let headersLength = 0;
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.allocUnsafe(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(STRING, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    parts.push(h);
    headersLength += h.length;
  }
  const total = 12 + headersLength + payload.length + 4;
  const frame = Buffer.allocUnsafe(total);
  frame.writeUInt32BE(total, 0);
  frame.writeUInt32BE(headersLength, 4);
  frame.writeUInt32BE(crc32(frame.subarray(0, 8)) >>> 0, 8);
  let at = 12;
  for (const h of parts) {
    h.copy(frame, at);
    at += h.length;
  }
  payload.copy(frame, at);
  frame.writeUInt32BE(crc32(frame.subarray(0, total - 4)) >>> 0, total - 4);
  return frame;
}

/** An `event` message of the given type. */
export function encodeEvent(eventType: string, contentType: string, payload: Buffer): Buffer {
  return encodeEventFrame(
    { ':event-type': eventType, ':content-type': contentType, ':message-type': 'event' },
    payload,
  );
}

/** Decodes consecutive frames (for tests and clients of Nimbus's own streams). */
export function decodeEventFrames(data: Buffer): { headers: Record<string, string>; payload: Buffer }[] {
  const out: { headers: Record<string, string>; payload: Buffer }[] = [];
  let at = 0;
  while (at + 16 <= data.length) {
    const total = data.readUInt32BE(at);
    const headersLength = data.readUInt32BE(at + 4);
    const frame = data.subarray(at, at + total);
    if (crc32(frame.subarray(0, 8)) >>> 0 !== frame.readUInt32BE(8)) throw new Error('prelude CRC mismatch');
    if (crc32(frame.subarray(0, total - 4)) >>> 0 !== frame.readUInt32BE(total - 4))
      throw new Error('message CRC mismatch');
    const headers: Record<string, string> = {};
    let h = 12;
    while (h < 12 + headersLength) {
      const nl = frame.readUInt8(h);
      const name = frame.toString('utf8', h + 1, h + 1 + nl);
      const type = frame.readUInt8(h + 1 + nl);
      if (type !== STRING) throw new Error(`header type ${type} not supported`);
      const vl = frame.readUInt16BE(h + 2 + nl);
      headers[name] = frame.toString('utf8', h + 4 + nl, h + 4 + nl + vl);
      h += 4 + nl + vl;
    }
    out.push({ headers, payload: Buffer.from(frame.subarray(12 + headersLength, total - 4)) });
    at += total;
  }
  return out;
}

let table: Uint32Array | undefined;

/** CRC-32 (IEEE) for Node versions before zlib.crc32 (20.15). */
function crc32Js(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = ~value >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

export { crc32Js as crc32ForTests };
