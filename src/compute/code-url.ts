/**
 * Code.Location: like Lambda's presigned S3 URL, a time-limited link on Nimbus itself
 * (`/_nimbus/lambda/code/<account>/<region>/<function>/<sha256 hex>?Expires=..&Signature=..`),
 * signed with an HMAC secret kept in the Store so every node of a cluster accepts it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../storage/store.js';
import type { Clock } from '../core/clock.js';
import type { Scope } from './model.js';

export const CODE_URL_PREFIX = '/_nimbus/lambda/code/';
const META = 'lambda.meta';
const TTL_MS = 10 * 60 * 1000;

export class CodeUrls {
  private secret: Buffer | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  private async key(): Promise<Buffer> {
    if (this.secret) return this.secret;
    await this.store.insert(META, 'code-url-secret', randomBytes(32).toString('base64'));
    const s = await this.store.get<string>(META, 'code-url-secret');
    this.secret = Buffer.from(s!, 'base64');
    return this.secret;
  }

  private sign(key: Buffer, path: string, expires: number): string {
    return createHmac('sha256', key).update(`${path}\n${expires}`).digest('hex');
  }

  async url(endpoint: string, scope: Scope, name: string, hex: string): Promise<string> {
    const path = `${CODE_URL_PREFIX}${scope.accountId}/${scope.region}/${name}/${hex}`;
    const expires = Math.floor((this.clock.now() + TTL_MS) / 1000);
    return `${endpoint}${path}?Expires=${expires}&Signature=${this.sign(await this.key(), path, expires)}`;
  }

  /** Checks a request; returns what it names, or undefined when the link is bad or expired. */
  async verify(
    path: string,
    query: URLSearchParams,
  ): Promise<{ scope: Scope; name: string; hex: string } | undefined> {
    const parts = path.slice(CODE_URL_PREFIX.length).split('/');
    if (parts.length !== 4 || !/^[0-9a-f]{64}$/.test(parts[3])) return undefined;
    const expires = Number(query.get('Expires'));
    const sig = Buffer.from(query.get('Signature') ?? '', 'utf8');
    if (!Number.isFinite(expires) || expires * 1000 < this.clock.now()) return undefined;
    const want = Buffer.from(this.sign(await this.key(), path, expires), 'utf8');
    if (sig.length !== want.length || !timingSafeEqual(sig, want)) return undefined;
    return { scope: { accountId: parts[0], region: parts[1] }, name: parts[2], hex: parts[3] };
  }
}

/** The raw HTTP handler to mount at CODE_URL_PREFIX: serves the zip to a valid link. */
export function codeDownloadHandler(
  urls: CodeUrls,
  getZip: (scope: Scope, name: string, hex: string) => Promise<Buffer>,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
      );
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return fail(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const target = await urls.verify(u.pathname, u.searchParams);
    if (!target) return fail(403, 'AccessDenied', 'Request has expired or the signature does not match.');
    let zip: Buffer;
    try {
      zip = await getZip(target.scope, target.name, target.hex);
    } catch {
      return fail(404, 'NoSuchKey', 'The specified key does not exist.');
    }
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(zip.length) });
    res.end(req.method === 'HEAD' ? undefined : zip);
  };
}
