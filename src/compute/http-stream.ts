/**
 * The HTTP integration format of a streamed Lambda response (what `awslambda.HttpResponseStream.from`
 * writes): a JSON prelude (`{statusCode, headers, cookies}`), 8 NUL bytes, then the body. Read by
 * function URLs in RESPONSE_STREAM mode and by REST API integrations in STREAM mode.
 */

/** The content type HttpResponseStream.from sets on the stream. */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';

/** Status and headers of a prelude; `set-cookie` holds its cookies. */
export interface PreludeHead {
  status: number;
  headers: Record<string, string | string[]>;
}

/** Status, headers and cookies of an HttpResponseStream prelude (`{statusCode, headers, cookies}`). */
export function httpPrelude(json: Buffer): PreludeHead {
  let p: { statusCode?: unknown; headers?: unknown; cookies?: unknown } = {};
  try {
    const v = JSON.parse(json.toString('utf8')) as unknown;
    if (v && typeof v === 'object') p = v as typeof p;
  } catch {
    // an unreadable prelude answers the defaults
  }
  const status =
    typeof p.statusCode === 'number' &&
    Number.isInteger(p.statusCode) &&
    p.statusCode >= 100 &&
    p.statusCode <= 599
      ? p.statusCode
      : 200;
  const headers: Record<string, string | string[]> = {};
  if (p.headers && typeof p.headers === 'object') {
    for (const [k, v] of Object.entries(p.headers as Record<string, unknown>)) {
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
    }
  }
  if (headers['content-type'] === undefined) headers['content-type'] = DEFAULT_STREAM_CONTENT_TYPE;
  if (Array.isArray(p.cookies) && p.cookies.length > 0) headers['set-cookie'] = p.cookies.map(String);
  return { status, headers };
}

/**
 * Collects the first chunks of a stream until the prelude's delimiter: `feed` answers the head
 * and the body bytes after the delimiter once it has arrived, undefined before.
 */
export class PreludeReader {
  private buffered: Buffer | undefined;

  /** Bytes held while waiting for the delimiter. */
  get pending(): number {
    return this.buffered?.length ?? 0;
  }

  feed(chunk: Buffer): { head: PreludeHead; rest: Buffer } | undefined {
    const all = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    // JSON holds no NUL: the first NUL starts the 8-byte delimiter.
    const nul = all.indexOf(0);
    if (nul < 0 || all.length < nul + 8) {
      this.buffered = all;
      return undefined;
    }
    this.buffered = undefined;
    return { head: httpPrelude(all.subarray(0, nul)), rest: all.subarray(nul + 8) };
  }
}
