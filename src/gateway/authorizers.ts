/**
 * HTTP API authorizers.
 *
 * JWT: the token comes from the identity source (a `Bearer ` prefix is removed); the issuer's
 * `/.well-known/openid-configuration` gives the `jwks_uri` (both cached); the signature
 * (RS*, ES*, PS*, EdDSA), `iss`, `exp`, `nbf` are verified by `jose`; `aud` or `client_id` must
 * be one of the configured audiences; a route's AuthorizationScopes need one of them in the
 * token's `scope` (or `scp`) claim. `http://` issuers are accepted on loopback addresses only.
 * 401 `Unauthorized` for a missing or invalid token, 403 `Forbidden` for missing scopes.
 *
 * Lambda REQUEST: identity sources must all be present (else 401); the function gets the 1.0
 * or 2.0 authorizer event; simple responses (`isAuthorized`) or IAM policies
 * (`execute-api:Invoke` on the route ARN); results cached per stage, authorizer and identity
 * values for AuthorizerResultTtlInSeconds. Denied: 403 `Forbidden`; failures: 500.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../core/clock.js';
import type { AuthorizerRecord } from './model.js';

export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403 | 500,
    readonly publicMessage: string,
    message: string,
    readonly wwwAuthenticate?: string,
  ) {
    super(message);
  }
}

export const unauthorized = (why: string, www?: string) => new AuthFailure(401, 'Unauthorized', why, www);
export const forbidden = (why: string, www?: string) => new AuthFailure(403, 'Forbidden', why, www);
export const authorizerError = (why: string) => new AuthFailure(500, 'Internal Server Error', why);

/** Values an identity source expression can read. */
export interface IdentityInputs {
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  context: Record<string, string>;
  stageVariables: Record<string, string>;
}

/** The values of the identity sources, in order; undefined when one is missing or empty. */
export function identityValues(sources: string[], inp: IdentityInputs): string[] | undefined {
  const out: string[] = [];
  for (const s of sources) {
    let v: string | undefined;
    if (s.startsWith('$request.header.')) v = inp.header(s.slice(16).toLowerCase());
    else if (s.startsWith('$request.querystring.')) v = inp.query(s.slice(21));
    else if (s.startsWith('$context.')) v = inp.context[s.slice(9)];
    else if (s.startsWith('$stageVariables.')) v = inp.stageVariables[s.slice(16)];
    if (v === undefined || v === '') return undefined;
    out.push(v);
  }
  return out;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function claimString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}]`;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

interface IssuerEntry {
  jwks: ReturnType<typeof createRemoteJWKSet>;
  fetchedAt: number;
}

const DISCOVERY_TTL_MS = 3600_000;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

export class JwtVerifier {
  private readonly issuers = new Map<string, Promise<IssuerEntry>>();

  constructor(private readonly clock: Clock) {}

  private async issuer(iss: string): Promise<IssuerEntry> {
    const hit = this.issuers.get(iss);
    if (hit) {
      const e = await hit.catch(() => undefined);
      if (e && this.clock.now() - e.fetchedAt < DISCOVERY_TTL_MS) return e;
      this.issuers.delete(iss);
    }
    const p = this.discover(iss);
    this.issuers.set(iss, p);
    p.catch(() => this.issuers.delete(iss));
    return p;
  }

  private async discover(iss: string): Promise<IssuerEntry> {
    let url: URL;
    try {
      url = new URL(iss);
    } catch {
      throw unauthorized(`issuer ${iss} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))
      throw unauthorized(`issuer ${iss} must use https (http is accepted on loopback only)`);
    const disc = `${iss.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(disc, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => {
      throw unauthorized(`issuer discovery failed: ${String(e)}`);
    });
    if (!res.ok) throw unauthorized(`issuer discovery answered ${res.status}`);
    const doc = (await res.json().catch(() => ({}))) as { jwks_uri?: string };
    if (!doc.jwks_uri) throw unauthorized('issuer discovery document has no jwks_uri');
    const jwksUrl = new URL(doc.jwks_uri);
    if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && isLoopbackHost(jwksUrl.hostname)))
      throw unauthorized('jwks_uri must use https (http is accepted on loopback only)');
    return {
      jwks: createRemoteJWKSet(jwksUrl, {
        cacheMaxAge: 600_000,
        cooldownDuration: 30_000,
        timeoutDuration: 5000,
      }),
      fetchedAt: this.clock.now(),
    };
  }

  /** Verifies the token; returns `requestContext.authorizer.jwt`. */
  async verify(
    auth: AuthorizerRecord,
    rawToken: string | undefined,
    routeScopes: string[] | undefined,
  ): Promise<{ claims: Record<string, string>; scopes: string[] | null }> {
    const invalid = (d: string) =>
      unauthorized(d, `Bearer scope="" error="invalid_token" error_description="${d.replace(/"/g, "'")}"`);
    if (!rawToken) throw unauthorized('no token', undefined);
    const token = rawToken.replace(/^Bearer\s+/i, '').trim();
    const iss = auth.jwtConfiguration?.issuer ?? '';
    let payload: JWTPayload;
    try {
      const { jwks } = await this.issuer(iss);
      const r = await jwtVerify(token, jwks, {
        issuer: iss,
        algorithms: ALGORITHMS,
        currentDate: new Date(this.clock.now()),
      });
      payload = r.payload;
    } catch (e) {
      if (e instanceof AuthFailure) throw e;
      if (e instanceof joseErrors.JWTExpired) throw invalid('the token has expired');
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw invalid(`the token ${e.claim} is invalid`);
      throw invalid('signature is invalid');
    }
    const audiences = auth.jwtConfiguration?.audience ?? [];
    const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
    const audOk =
      aud.some((a) => audiences.includes(a)) ||
      (aud.length === 0 && !!clientId && audiences.includes(clientId));
    if (!audOk) throw invalid('the token does not have a valid audience');
    const scopeClaim = payload.scope ?? payload.scp;
    const tokenScopes =
      typeof scopeClaim === 'string'
        ? scopeClaim.split(' ').filter(Boolean)
        : Array.isArray(scopeClaim)
          ? scopeClaim.map(String)
          : [];
    if (routeScopes?.length && !routeScopes.some((s) => tokenScopes.includes(s))) {
      throw forbidden(
        'insufficient scope',
        `Bearer scope="${routeScopes.join(' ')}" error="insufficient_scope" error_description="expected scopes: ${routeScopes.join(' ')}"`,
      );
    }
    const claims: Record<string, string> = {};
    for (const [k, v] of Object.entries(payload)) claims[k] = claimString(v);
    return { claims, scopes: tokenScopes.length ? tokenScopes : null };
  }
}

const COGNITO_POOL_ARN = /^arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):\d{12}:userpool\/(\S+)$/;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A time claim as REST API Cognito authorizers pass it on: `Wed Jul 24 17:53:53 UTC 2019`. */
function javaDate(seconds: number): string {
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}

/**
 * Where a user pool's signing keys are read: `NIMBUS_COGNITO_JWKS` (`poolId=url,...`) names a
 * local JWKS for a pool (tests, or tokens minted by a local identity provider); otherwise the
 * pool's own `https://cognito-idp.{region}.amazonaws.com/{poolId}/.well-known/jwks.json`.
 */
function cognitoJwksUrl(issuer: string, poolId: string): string {
  for (const pair of (process.env.NIMBUS_COGNITO_JWKS ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0 && pair.slice(0, i).trim() === poolId) return pair.slice(i + 1).trim();
  }
  return `${issuer}/.well-known/jwks.json`;
}

/**
 * REST API COGNITO_USER_POOLS authorizers: the token (a `Bearer ` prefix is tolerated) must be
 * signed by one of the authorizer's user pools (its `iss`), unexpired; without the method's
 * AuthorizationScopes it must be an ID token, with them an access token holding one of the
 * scopes; the identity validation expression, when set, must match its `aud`. Every failure
 * is a 401. Answers the claims as the integration sees them (all strings; `exp`, `iat` as dates).
 */
export class CognitoVerifier {
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

  constructor(private readonly clock: Clock) {}

  async verify(
    providerArns: string[],
    rawToken: string | undefined,
    scopes: string[] | undefined,
    audExpression: string | undefined,
  ): Promise<Record<string, string>> {
    if (!rawToken) throw unauthorized('no token');
    const token = rawToken.replace(/^Bearer\s+/i, '').trim();
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw unauthorized('the token is not a JWT');
    }
    const pool = providerArns
      .map((a) => COGNITO_POOL_ARN.exec(a))
      .find((m) => m && iss === `https://cognito-idp.${m[1]}.amazonaws.com/${m[2]}`);
    if (!pool) throw unauthorized('the token was not issued by a user pool of this authorizer');
    const issuer = iss as string;
    let keys = this.jwks.get(issuer);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(cognitoJwksUrl(issuer, pool[2])), {
        cacheMaxAge: 600_000,
        cooldownDuration: 30_000,
        timeoutDuration: 5000,
      });
      this.jwks.set(issuer, keys);
    }
    let payload: JWTPayload;
    try {
      payload = (
        await jwtVerify(token, keys, {
          issuer,
          algorithms: ALGORITHMS,
          currentDate: new Date(this.clock.now()),
        })
      ).payload;
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw unauthorized('the token has expired');
      throw unauthorized(`the token is invalid: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (scopes?.length) {
      const granted = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
      if (payload.token_use !== 'access' || !scopes.some((x) => granted.includes(x)))
        throw unauthorized('the method needs an access token with one of its scopes');
    } else if (payload.token_use !== 'id') throw unauthorized('the method needs an ID token');
    if (audExpression) {
      const aud = typeof payload.aud === 'string' ? payload.aud : String(payload.client_id ?? '');
      if (!new RegExp(`^(?:${audExpression})$`).test(aud))
        throw unauthorized('the token audience does not match the validation expression');
    }
    const claims: Record<string, string> = {};
    for (const [k, v] of Object.entries(payload))
      claims[k] = (k === 'exp' || k === 'iat') && typeof v === 'number' ? javaDate(v) : claimString(v);
    return claims;
  }
}

/** `*` and `?` wildcards of IAM resource ARNs. */
function arnMatches(pattern: string, arn: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
  );
  return re.test(arn);
}

function asList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}

/** Evaluates an IAM policy answer: an explicit Deny wins, then an Allow; nothing means deny. */
export function policyAllows(policy: unknown, routeArn: string): boolean {
  if (!policy || typeof policy !== 'object')
    throw authorizerError('the authorizer returned no policyDocument');
  const raw = (policy as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw ? [raw] : [];
  let allowed = false;
  for (const s of statements as Record<string, unknown>[]) {
    const actions = asList(s.Action);
    if (!actions.some((a) => a === '*' || a === 'execute-api:*' || a === 'execute-api:Invoke')) continue;
    if (!asList(s.Resource).some((r) => arnMatches(r, routeArn))) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

export interface LambdaAuthResult {
  allowed: boolean;
  context: Record<string, unknown>;
  principalId?: string;
}

/** Interprets a Lambda authorizer's answer. */
export function lambdaAuthResult(
  auth: AuthorizerRecord,
  payload: Buffer,
  routeArn: string,
): LambdaAuthResult {
  let r: unknown;
  try {
    r = JSON.parse(payload.toString('utf8'));
  } catch {
    throw authorizerError('the authorizer returned invalid JSON');
  }
  if (!r || typeof r !== 'object') throw authorizerError('the authorizer returned no object');
  const o = r as Record<string, unknown>;
  const context = o.context && typeof o.context === 'object' ? (o.context as Record<string, unknown>) : {};
  if (auth.enableSimpleResponses) {
    if (typeof o.isAuthorized !== 'boolean') throw authorizerError('isAuthorized must be a boolean');
    return { allowed: o.isAuthorized, context };
  }
  return {
    allowed: policyAllows(o.policyDocument, routeArn),
    context,
    principalId: typeof o.principalId === 'string' ? o.principalId : undefined,
  };
}

/** Cached Lambda authorizer results: key -> result, until `expires`. */
export class AuthorizerCache {
  private readonly entries = new Map<string, { result: LambdaAuthResult; expires: number }>();
  constructor(private readonly clock: Clock) {}
  get(key: string): LambdaAuthResult | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.result;
  }
  set(key: string, result: LambdaAuthResult, ttlSeconds: number): void {
    if (ttlSeconds <= 0) return;
    if (this.entries.size > 50_000) this.entries.clear();
    this.entries.set(key, { result, expires: this.clock.now() + ttlSeconds * 1000 });
  }
  clearPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
