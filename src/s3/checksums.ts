/**
 * Body integrity for S3: the flexible checksums the SDK sends (`x-amz-checksum-*`), and the
 * `aws-chunked` content encoding newer SDKs use for streaming uploads (the data in chunks,
 * the checksum in a trailer after the last one).
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
];

/** The `x-amz-checksum-<alg>` header name of an algorithm. */
export function checksumHeader(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

let crc32cTable: Uint32Array | undefined;

function crc32c(data: Buffer): number {
  if (!crc32cTable) {
    crc32cTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crc32cTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crc32cTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

let crc64Table: BigUint64Array | undefined;

/** CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and xorout all ones). */
function crc64nvme(data: Buffer): bigint {
  if (!crc64Table) {
    crc64Table = new BigUint64Array(256);
    const poly = 0x9a6c9329ac4bc9b5n;
    for (let n = 0; n < 256; n++) {
      let c = BigInt(n);
      for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n;
      crc64Table[n] = c;
    }
  }
  const mask = 0xffffffffffffffffn;
  let crc = mask;
  for (let i = 0; i < data.length; i++)
    crc = crc64Table[Number((crc ^ BigInt(data[i])) & 0xffn)] ^ (crc >> 8n);
  return (crc ^ mask) & mask;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The base64 checksum of `data`, as the `x-amz-checksum-*` headers carry it. */
export function computeChecksum(alg: ChecksumAlgorithm, data: Buffer): string {
  switch (alg) {
    case 'CRC32':
      return u32(zlibCrc32(data)).toString('base64');
    case 'CRC32C':
      return u32(crc32c(data)).toString('base64');
    case 'CRC64NVME': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(crc64nvme(data));
      return b.toString('base64');
    }
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64');
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64');
  }
}

export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const lower = name.toLowerCase();
  return CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === lower);
}

export interface DecodedChunked {
  data: Buffer;
  /** Trailing headers (lower-case names), e.g. `x-amz-checksum-crc32`. */
  trailers: Record<string, string>;
}

/**
 * Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` chunks, a
 * zero-size chunk, then `name:value\r\n` trailers and a blank line. Returns undefined when
 * the body is not well formed.
 */
export function decodeAwsChunked(body: Buffer): DecodedChunked | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const header = body.toString('latin1', pos, eol);
    const size = parseInt(header.split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0) return undefined;
    pos = eol + 2;
    if (size === 0) break;
    if (pos + size > body.length) return undefined;
    parts.push(body.subarray(pos, pos + size));
    pos += size;
    if (body.toString('latin1', pos, pos + 2) !== '\r\n') return undefined;
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of body.toString('latin1', pos).split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { data: parts.length === 1 ? parts[0] : Buffer.concat(parts), trailers };
}
