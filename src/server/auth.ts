/**
 * SigV4 authentication. Dev mode trusts any key (or none) and maps it to account
 * 000000000000, unless the key is a configured or issued one (then its own account). Strict
 * mode re-signs each request with `@smithy/signature-v4` and compares signatures, in the
 * header form (`Authorization: AWS4-HMAC-SHA256 ...`) and the presigned query form
 * (`X-Amz-Signature=...`). Failures answer with the codes the protocol's clients expect.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import type { AccessKey, AuthMode } from '../core/config.js';
import type { Clock } from '../core/clock.js';
import { DEFAULT_ACCOUNT } from '../core/ids.js';
import { AwsError } from '../protocols/errors.js';

/** The credential as the request presents it (header or query form), not yet verified. */
export interface SigV4Info {
  form: 'header' | 'query';
  accessKeyId: string;
  /** yyyymmdd of the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date (yyyymmddThhmmssZ), '' when absent. */
  amzDate: string;
  /** Presigned form: X-Amz-Expires in seconds. */
  expiresSec?: number;
  sessionToken?: string;
}

export interface Principal {
  accountId: string;
  accessKeyId: string;
  arn: string;
  userId: string;
}

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** A Date, so the object is an AWS SDK credential identity as is. */
  expiration: Date;
}

/** Which error vocabulary the failing request's protocol uses. */
export type AuthFlavor = 'json' | 'rest-json' | 'query';

export interface AuthRequest {
  method: string;
  /** Raw path as sent (still percent-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface KnownKey {
  secretAccessKey: string;
  accountId: string;
  sessionToken?: string;
  expiration?: number;
  arn: string;
  userId: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * Parses the credential of a request; undefined when it carries none; throws when malformed.
 * Runs for every request, so it scans the header in place (no split/field map) and builds the
 * result in one object literal (in Node 20, adding keys to a spread-built object costs µs).
 */
export function parseSigV4(headers: IncomingHttpHeaders, query: URLSearchParams): SigV4Info | undefined {
  const authz = headers.authorization;
  if (typeof authz === 'string' && authz.length > 0) {
    if (!authz.startsWith(ALGORITHM + ' ')) {
      throw new AwsError(
        'IncompleteSignatureException',
        `Unsupported authorization type: ${authz.split(' ')[0]}`,
        400,
      );
    }
    // Comma-separated `Name=value` parts, both sides trimmed; a later duplicate wins.
    let credential = '';
    let signedHeaders = '';
    let signature = '';
    for (let start = ALGORITHM.length + 1; start <= authz.length;) {
      let end = authz.indexOf(',', start);
      if (end < 0) end = authz.length;
      const eq = authz.indexOf('=', start);
      if (eq > start && eq < end) {
        const name = authz.slice(start, eq).trim();
        if (name === 'Credential') credential = authz.slice(eq + 1, end).trim();
        else if (name === 'SignedHeaders') signedHeaders = authz.slice(eq + 1, end).trim();
        else if (name === 'Signature') signature = authz.slice(eq + 1, end).trim();
      }
      start = end + 1;
    }
    const missing = !credential
      ? 'Credential'
      : !signedHeaders
        ? 'SignedHeaders'
        : !signature
          ? 'Signature'
          : undefined;
    if (missing) {
      throw new AwsError(
        'IncompleteSignatureException',
        `Authorization header requires '${missing}' parameter. Authorization=${authz}`,
        400,
      );
    }
    const scope = parseScope(credential);
    const token = headers['x-amz-security-token'];
    return {
      form: 'header',
      accessKeyId: scope[0],
      scopeDate: scope[1],
      region: scope[2],
      service: scope[3],
      signedHeaders: signedHeaders.split(';'),
      signature,
      amzDate: String(headers['x-amz-date'] ?? ''),
      sessionToken: typeof token === 'string' ? token : undefined,
    };
  }
  const credential = query.get('X-Amz-Credential');
  if (credential !== null) {
    if (query.get('X-Amz-Algorithm') !== ALGORITHM) {
      throw new AwsError(
        'IncompleteSignatureException',
        'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        400,
      );
    }
    const scope = parseScope(credential);
    return {
      form: 'query',
      accessKeyId: scope[0],
      scopeDate: scope[1],
      region: scope[2],
      service: scope[3],
      signedHeaders: (query.get('X-Amz-SignedHeaders') ?? 'host').split(';'),
      signature: query.get('X-Amz-Signature') ?? '',
      amzDate: query.get('X-Amz-Date') ?? '',
      expiresSec: Number(query.get('X-Amz-Expires') ?? '900'),
      sessionToken: query.get('X-Amz-Security-Token') ?? undefined,
    };
  }
  return undefined;
}

/**
 * `<key>/<yyyymmdd>/<region>/<service>/aws4_request`, cut at its four slashes (indexOf: `split`
 * costs ~300 ns on a header string fresh from the parser).
 */
function parseScope(credential: string): [string, string, string, string] {
  const a = credential.indexOf('/');
  const b = credential.indexOf('/', a + 1);
  const c = credential.indexOf('/', b + 1);
  const d = credential.indexOf('/', c + 1);
  // Exactly five parts, the last `aws4_request` (a < b < c < d once all are found).
  if (a < 0 || b < 0 || c < 0 || d !== credential.length - 13 || !credential.endsWith('/aws4_request')) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Credential should be scoped to a valid region. Credential=${credential}`,
      400,
    );
  }
  return [
    credential.slice(0, a),
    credential.slice(a + 1, b),
    credential.slice(b + 1, c),
    credential.slice(c + 1, d),
  ];
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** node:crypto behind the smithy Checksum interface (SHA-256, HMAC when given a secret). */
function toBytes(d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof d === 'string') return d;
  if (ArrayBuffer.isView(d)) return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  return new Uint8Array(d);
}

export class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.h.digest();
  }
  reset(): void {}
}

export class Auth {
  readonly mode: AuthMode;
  private readonly keys = new Map<string, KnownKey>();
  private readonly signers = new Map<string, SignatureV4>();

  constructor(opts: { mode: AuthMode; keys: AccessKey[]; clock: Clock }) {
    this.mode = opts.mode;
    this.clock = opts.clock;
    for (const k of opts.keys) {
      this.keys.set(k.accessKeyId, {
        secretAccessKey: k.secretAccessKey,
        accountId: k.accountId,
        arn: `arn:aws:iam::${k.accountId}:root`,
        userId: k.accountId,
      });
    }
  }

  private readonly clock: Clock;

  /**
   * Mints temporary credentials (ASIA...) for an account, accepted in strict mode until they
   * expire. The compute layer hands them to sandboxes.
   */
  issueCredentials(
    accountId: string,
    opts: { ttlMs?: number; roleName?: string; sessionName?: string } = {},
  ): IssuedCredentials {
    if (++this.issuedSinceSweep >= 1000) this.sweepExpired();
    const accessKeyId = 'ASIA' + randomAlnum(16);
    const secretAccessKey = randomBytes(30).toString('base64');
    const sessionToken = randomBytes(96).toString('base64');
    const expiration = this.clock.now() + (opts.ttlMs ?? 12 * 3600 * 1000);
    const role = opts.roleName ?? 'nimbus-execution';
    const session = opts.sessionName ?? 'nimbus';
    const roleId = 'AROA' + randomAlnum(17);
    this.keys.set(accessKeyId, {
      secretAccessKey,
      accountId,
      sessionToken,
      expiration,
      arn: `arn:aws:sts::${accountId}:assumed-role/${role}/${session}`,
      userId: `${roleId}:${session}`,
    });
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiration) };
  }

  /** The identity behind a key a request was authenticated with (GetCallerIdentity). */
  principalFor(accessKeyId: string, accountId: string): Principal {
    const known = this.liveKey(accessKeyId);
    if (known) return principalOf(accessKeyId, known);
    return { accountId, accessKeyId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId };
  }

  /** Forgets issued credentials (e.g. when a sandbox ends). */
  revoke(accessKeyId: string): void {
    const k = this.keys.get(accessKeyId);
    if (k?.sessionToken) this.keys.delete(accessKeyId);
  }

  /**
   * Dev mode: the caller, resolved synchronously (what authenticate() answers, without its
   * promise); undefined in strict mode, where authenticate() verifies the signature.
   */
  devPrincipalFor(sig: SigV4Info | undefined): Principal | undefined {
    if (this.mode !== 'dev') return undefined;
    if (!sig) return devPrincipal('');
    const known = this.liveKey(sig.accessKeyId);
    if (known) return principalOf(sig.accessKeyId, known);
    return devPrincipal(sig.accessKeyId);
  }

  /** Resolves the caller. `sig` is what parseSigV4 returned for the request. */
  async authenticate(req: AuthRequest, sig: SigV4Info | undefined, flavor: AuthFlavor): Promise<Principal> {
    const dev = this.devPrincipalFor(sig);
    if (dev) return dev;
    if (!sig) throw missingToken(flavor);
    const known = this.liveKey(sig.accessKeyId);
    if (!known) throw invalidToken(flavor);
    if (known.sessionToken !== undefined && sig.sessionToken !== known.sessionToken)
      throw invalidToken(flavor);
    const signedAt = parseAmzDate(sig.amzDate);
    if (signedAt === undefined) {
      throw new AwsError(
        'IncompleteSignatureException',
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        400,
      );
    }
    const now = this.clock.now();
    if (sig.form === 'header') {
      if (signedAt < now - MAX_SKEW_MS) {
        throw expired(
          flavor,
          `Signature expired: ${sig.amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`,
        );
      }
      if (signedAt > now + MAX_SKEW_MS) {
        throw expired(
          flavor,
          `Signature not yet current: ${sig.amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`,
        );
      }
    } else {
      const expiresMs = (Number.isFinite(sig.expiresSec) ? sig.expiresSec! : 0) * 1000;
      if (now > signedAt + expiresMs) {
        throw expired(
          flavor,
          `Signature expired: ${sig.amzDate} is now earlier than ${formatAmzDate(now - expiresMs)} (${formatAmzDate(now)} - ${sig.expiresSec} sec.)`,
        );
      }
      if (signedAt > now + MAX_SKEW_MS) {
        throw expired(
          flavor,
          `Signature not yet current: ${sig.amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)}`,
        );
      }
    }
    // A signed body hash must be the body's hash, or the signature would not cover the body.
    const declaredHash = req.headers['x-amz-content-sha256'];
    if (typeof declaredHash === 'string' && /^[0-9a-f]{64}$/.test(declaredHash)) {
      const actual = createHash('sha256').update(req.body).digest('hex');
      if (actual !== declaredHash) {
        throw new AwsError(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          400,
        );
      }
    }
    const expected = await this.computeSignature(req, sig, known, new Date(signedAt));
    const a = Buffer.from(expected);
    const b = Buffer.from(sig.signature);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw badSignature(flavor);
    return principalOf(sig.accessKeyId, known);
  }

  private issuedSinceSweep = 0;

  /** Drops expired issued credentials (they live in memory only). */
  private sweepExpired(): void {
    this.issuedSinceSweep = 0;
    const now = this.clock.now();
    for (const [id, k] of this.keys)
      if (k.expiration !== undefined && k.expiration <= now) this.keys.delete(id);
  }

  private liveKey(accessKeyId: string): KnownKey | undefined {
    const k = this.keys.get(accessKeyId);
    if (!k) return undefined;
    if (k.expiration !== undefined && k.expiration <= this.clock.now()) {
      this.keys.delete(accessKeyId);
      return undefined;
    }
    return k;
  }

  private signerFor(sig: SigV4Info, known: KnownKey): SignatureV4 {
    const id = `${sig.accessKeyId}\0${sig.region}\0${sig.service}`;
    let signer = this.signers.get(id);
    if (!signer) {
      if (this.signers.size > 10_000) this.signers.clear();
      signer = new SignatureV4({
        credentials: {
          accessKeyId: sig.accessKeyId,
          secretAccessKey: known.secretAccessKey,
          sessionToken: known.sessionToken,
        },
        region: sig.region,
        service: sig.service,
        sha256: NodeSha256,
        applyChecksum: false,
        // S3 signs the path as sent (no normalising, no second escaping); every other service escapes it.
        uriEscapePath: sig.service !== 's3',
      });
      this.signers.set(id, signer);
    }
    return signer;
  }

  private async computeSignature(
    req: AuthRequest,
    sig: SigV4Info,
    known: KnownKey,
    date: Date,
  ): Promise<string> {
    const signer = this.signerFor(sig, known);
    const signable = new Set(sig.signedHeaders);
    const headers: Record<string, string> = {};
    for (const name of sig.signedHeaders) {
      const v = req.headers[name];
      if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(',') : v;
    }
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of req.query) {
      if (sig.form === 'query' && k.startsWith('X-Amz-') && k !== 'X-Amz-Content-Sha256') continue;
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const request = new HttpRequest({
      method: req.method,
      protocol: 'http:',
      hostname: 'localhost',
      path: req.path,
      query,
      headers,
      body: req.body.length > 0 ? req.body : undefined,
    });
    const opts = {
      signingDate: date,
      signableHeaders: signable,
      signingRegion: sig.region,
      signingService: sig.service,
    };
    if (sig.form === 'query') {
      const signed = await signer.presign(request, { ...opts, expiresIn: sig.expiresSec });
      return String(signed.query?.['X-Amz-Signature'] ?? '');
    }
    const signed = await signer.sign(request, opts);
    const authz = String(signed.headers.authorization ?? signed.headers.Authorization ?? '');
    return authz.slice(authz.lastIndexOf('Signature=') + 'Signature='.length);
  }
}

function randomAlnum(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const buf = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[buf[i] & 31];
  return s;
}

function devPrincipal(accessKeyId: string): Principal {
  return {
    accountId: DEFAULT_ACCOUNT,
    accessKeyId,
    arn: `arn:aws:iam::${DEFAULT_ACCOUNT}:root`,
    userId: DEFAULT_ACCOUNT,
  };
}

function principalOf(accessKeyId: string, k: KnownKey): Principal {
  return { accountId: k.accountId, accessKeyId, arn: k.arn, userId: k.userId };
}

function missingToken(flavor: AuthFlavor): AwsError {
  if (flavor === 'query')
    return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
  if (flavor === 'json') {
    return new AwsError(
      'MissingAuthenticationTokenException',
      'Request is missing Authentication Token',
      400,
    );
  }
  return new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
}

function invalidToken(flavor: AuthFlavor): AwsError {
  if (flavor === 'query') return new AwsError('InvalidClientTokenId', INVALID_TOKEN, 403);
  return new AwsError('UnrecognizedClientException', INVALID_TOKEN, flavor === 'json' ? 400 : 403);
}

function badSignature(flavor: AuthFlavor): AwsError {
  if (flavor === 'query') return new AwsError('SignatureDoesNotMatch', SIGNATURE_MISMATCH, 403);
  return new AwsError('InvalidSignatureException', SIGNATURE_MISMATCH, flavor === 'json' ? 400 : 403);
}

function expired(flavor: AuthFlavor, message: string): AwsError {
  if (flavor === 'query') return new AwsError('SignatureDoesNotMatch', message, 403);
  return new AwsError('InvalidSignatureException', message, flavor === 'json' ? 400 : 403);
}
