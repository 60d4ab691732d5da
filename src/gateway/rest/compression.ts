/**
 * REST API payload compression, as API Gateway does it for an API whose `minimumCompressionSize`
 * is set (0 to 10,485,760 bytes; unset: off):
 *
 * - Requests: a body sent with `Content-Encoding: gzip` or `deflate` (at least
 *   minimumCompressionSize bytes) is decompressed before templates and integrations see it, and
 *   its Content-Encoding header is dropped; `identity` is left alone. Another coding, or a body
 *   that is not what its coding says: 415 Unsupported Media Type.
 * - Responses: compressed with the highest-priority coding of the request's `Accept-Encoding`
 *   when that is `gzip` or `deflate` (no header, `*`, `identity` or an unsupported coding such as
 *   `br` first: not compressed), unless the answer already has a Content-Encoding or is smaller
 *   than minimumCompressionSize (measured after the response template).
 */
import { deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { HttpResult } from '../response.js';

export const MAX_MINIMUM_COMPRESSION_SIZE = 10_485_760;

type Coding = 'gzip' | 'deflate';
const SUPPORTED = new Set(['gzip', 'deflate', 'identity']);

/**
 * The request body as integrations get it: decoded by its Content-Encoding when compression is
 * on. `undefined`: an unsupported coding or a body that does not decode (415).
 */
export function decodeRequestBody(
  body: Buffer,
  contentEncoding: string | undefined,
  minimumCompressionSize: number | undefined,
): { body: Buffer; decoded: boolean } | undefined {
  if (minimumCompressionSize === undefined || !contentEncoding || body.length === 0)
    return { body, decoded: false };
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  if (codings.every((c) => c === 'identity')) return { body, decoded: false };
  if (body.length < minimumCompressionSize) return { body, decoded: false };
  let out = body;
  try {
    // Codings apply in the order listed: undo the last first.
    for (const c of codings.reverse()) {
      if (c === 'gzip' || c === 'x-gzip') out = gunzipSync(out);
      else if (c === 'deflate') out = inflateDeflate(out);
      else if (c !== 'identity') return undefined;
    }
  } catch {
    return undefined;
  }
  return { body: out, decoded: true };
}

/** HTTP's `deflate` is zlib-wrapped; some clients send raw deflate. */
function inflateDeflate(b: Buffer): Buffer {
  try {
    return inflateSync(b);
  } catch {
    return inflateRawSync(b);
  }
}

/** The coding a response is compressed with for this Accept-Encoding (undefined: none). */
export function responseCoding(acceptEncoding: string | undefined): Coding | undefined {
  if (!acceptEncoding) return undefined;
  let best: { coding: string; q: number } | undefined;
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim());
    if (!name) continue;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([0-9.]+)$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!(q > 0)) continue;
    const coding = name.toLowerCase();
    // The highest quality wins; among equals, a coding API Gateway supports comes first.
    if (!best || q > best.q || (q === best.q && !SUPPORTED.has(best.coding) && SUPPORTED.has(coding)))
      best = { coding, q };
  }
  return best?.coding === 'gzip' || best?.coding === 'deflate' ? best.coding : undefined;
}

/** The answer compressed for the client when the API's compression applies to it. */
export function compressResponse(
  result: HttpResult,
  acceptEncoding: string | undefined,
  minimumCompressionSize: number | undefined,
): HttpResult {
  if (minimumCompressionSize === undefined || result.body.length < minimumCompressionSize) return result;
  if (Object.keys(result.headers).some((k) => k.toLowerCase() === 'content-encoding')) return result;
  const coding = responseCoding(acceptEncoding);
  if (!coding) return result;
  const body = coding === 'gzip' ? gzipSync(result.body) : deflateSync(result.body);
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(result.headers))
    if (k.toLowerCase() !== 'content-length') headers[k] = v;
  headers['content-encoding'] = [coding];
  return { ...result, headers, body };
}
