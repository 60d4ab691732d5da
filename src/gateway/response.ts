/**
 * Lambda proxy responses to HTTP responses, as API Gateway maps them.
 *
 * 2.0: a JSON object with `statusCode` is a structured response (statusCode, headers,
 * cookies, body, isBase64Encoded); anything else that is valid JSON is inferred as a 200 with
 * `content-type: application/json` and the payload as the body. 1.0: the structured form is
 * required (statusCode, headers, multiValueHeaders, body, isBase64Encoded).
 * A response that breaks these rules is malformed: the caller answers 502.
 */

export interface HttpResult {
  status: number;
  /** Header name -> values (several values become several header lines). */
  headers: Record<string, string[]>;
  body: Buffer;
}

export class MalformedResponse extends Error {}

function headerString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new MalformedResponse('header values must be strings, numbers or booleans');
}

function statusOf(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 599)
    throw new MalformedResponse('statusCode must be an integer between 100 and 599');
  return n;
}

function bodyOf(body: unknown, base64: unknown, decode = true): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== 'string') throw new MalformedResponse('body must be a string');
  if (decode && (base64 === true || base64 === 'true')) return Buffer.from(body, 'base64');
  return Buffer.from(body, 'utf8');
}

/** True when the media type (parameters ignored) is one of `types`; `image/*` style and the any-type wildcard match. */
export function isBinaryMediaType(mediaType: string | undefined, types: readonly string[]): boolean {
  if (!types.length) return false;
  const mt = (mediaType ?? '').split(';')[0].trim().toLowerCase();
  return types.some((b) => {
    const t = b.toLowerCase();
    if (t === '*/*') return true;
    if (t.endsWith('/*')) return mt.startsWith(t.slice(0, -1));
    return t === mt;
  });
}

function addHeaders(out: Record<string, string[]>, headers: unknown, multi: boolean): void {
  if (headers === undefined || headers === null) return;
  if (typeof headers !== 'object' || Array.isArray(headers))
    throw new MalformedResponse('headers must be an object');
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (multi) {
      if (!Array.isArray(v)) throw new MalformedResponse('multiValueHeaders values must be lists');
      out[name] = v.map(headerString);
    } else {
      out[name] = [headerString(v)];
    }
  }
}

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new MalformedResponse('the function returned invalid JSON');
  }
}

export function mapV2Response(payload: Buffer): HttpResult {
  const r = parse(payload);
  if (r === null || typeof r !== 'object' || Array.isArray(r) || !('statusCode' in r)) {
    // Inferred: the payload is the JSON body of a 200.
    return {
      status: 200,
      headers: { 'content-type': ['application/json'] },
      body: payload.length ? payload : Buffer.from('null'),
    };
  }
  const o = r as Record<string, unknown>;
  const headers: Record<string, string[]> = {};
  addHeaders(headers, o.headers, false);
  if (o.cookies !== undefined && o.cookies !== null) {
    if (!Array.isArray(o.cookies) || o.cookies.some((c) => typeof c !== 'string'))
      throw new MalformedResponse('cookies must be a list of strings');
    if (o.cookies.length)
      headers['set-cookie'] = [...(headers['set-cookie'] ?? []), ...(o.cookies as string[])];
  }
  const body = bodyOf(o.body, o.isBase64Encoded);
  if (!headers['content-type'] && body.length) headers['content-type'] = ['text/plain; charset=utf-8'];
  return { status: statusOf(o.statusCode), headers, body };
}

/**
 * `decodeBase64`: whether a body marked isBase64Encoded goes out as its bytes. HTTP APIs always
 * decode; REST APIs only when the request's first Accept type is one of the API's
 * binaryMediaTypes, and otherwise send the base64 text as it is (see binaryResponseWanted).
 */
export function mapV1Response(payload: Buffer, decodeBase64 = true): HttpResult {
  const r = parse(payload);
  if (r === null || typeof r !== 'object' || Array.isArray(r))
    throw new MalformedResponse('the response must be an object');
  const o = r as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded', 'cookies'].includes(k))
      throw new MalformedResponse(`unexpected field ${k}`);
  }
  const headers: Record<string, string[]> = {};
  addHeaders(headers, o.multiValueHeaders, true);
  // Single-value headers override multi-value ones of the same name.
  addHeaders(headers, o.headers, false);
  const body = bodyOf(o.body, o.isBase64Encoded, decodeBase64);
  if (!headers['content-type'] && body.length) headers['content-type'] = ['application/json'];
  return { status: statusOf(o.statusCode), headers, body };
}

export function jsonMessage(
  status: number,
  message: string,
  extra: Record<string, string[]> = {},
): HttpResult {
  return {
    status,
    headers: { 'content-type': ['application/json'], ...extra },
    body: Buffer.from(JSON.stringify({ message })),
  };
}
