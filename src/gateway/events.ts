/**
 * Lambda proxy events as API Gateway builds them: payload format 2.0 (HTTP APIs) and 1.0
 * (HTTP APIs with 1.0 integrations, and REST APIs), plus the REQUEST authorizer events.
 * Pure functions over a normalised request, shared by the HTTP API and REST API halves.
 */

import type { ClientCert } from './mtls.js';

/** One incoming request, as the gateway normalised it. */
export interface GatewayRequest {
  method: string;
  /** Path as the client sent it, stage prefix included (`/prod/items/1`), not decoded. */
  rawPath: string;
  rawQueryString: string;
  /** Node's rawHeaders: name, value, name, value, ... in arrival order and case. */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
  protocol: string;
  /** Host the client addressed (the API's domain name). */
  domainName: string;
  /** Reached through a custom domain name: `rawPath` is the path as sent, mapping key included, no stage. */
  viaDomain?: boolean;
  requestId: string;
  timeEpoch: number;
  /** The client certificate a custom domain with mutual TLS trusted (events carry it). */
  clientCert?: ClientCert;
}

export interface EventContext {
  accountId: string;
  apiId: string;
  stage: string;
  routeKey: string;
  /** Route id (v1 `requestContext.resourceId`). */
  routeId?: string;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
  /** v2 `requestContext.authorizer` (`{ jwt: ... }` or `{ lambda: ... }`); v1: the flat map. */
  authorizer?: Record<string, unknown>;
  /** The SigV4 caller of an AWS_IAM route or method (v2 `authorizer.iam`, v1 `identity`). */
  iam?: IamCaller;
}

export interface IamCaller {
  accessKey: string;
  accountId: string;
  userArn: string;
  userId: string;
}

/** The event's IAM caller from what authentication resolved (an account's root when no more is known). */
export function iamCaller(who: {
  accountId: string;
  arn?: string;
  accessKeyId?: string;
  userId?: string;
}): IamCaller {
  return {
    accessKey: who.accessKeyId ?? '',
    accountId: who.accountId,
    userArn: who.arn ?? `arn:aws:iam::${who.accountId}:root`,
    userId: who.userId ?? who.accountId,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's request time format. */
export function requestTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

/** Content types whose bodies reach the function as text; everything else is base64. */
export function isTextContentType(ct: string | undefined): boolean {
  if (!ct) return true;
  const t = ct.split(';')[0].trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript' ||
    t === 'application/graphql'
  );
}

/** The client's address as events and `$context.identity.sourceIp` give it (IPv4 without the `::ffff:` prefix). */
export function sourceIpOf(req: { socket: { remoteAddress?: string } }): string {
  return (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/** Every value of the (lower-case) header `name` in Node's rawHeaders, comma-joined; undefined when absent. */
export function headerValues(raw: string[], name: string): string | undefined {
  const found: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) found.push(raw[i + 1]);
  return found.length ? found.join(',') : undefined;
}

function headerValue(raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) return raw[i + 1];
  return undefined;
}

/** Query string parsed AWS's way: names and values decoded, in order. */
function queryPairs(qs: string): [string, string][] {
  if (!qs) return [];
  const out: [string, string][] = [];
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([dec(k), dec(v)]);
  }
  return out;
}

function dec(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function bodyFields(req: GatewayRequest): { body?: string; isBase64Encoded: boolean } {
  if (req.body.length === 0) return { isBase64Encoded: false };
  const text = isTextContentType(headerValue(req.rawHeaders, 'content-type'));
  return text
    ? { body: req.body.toString('utf8'), isBase64Encoded: false }
    : { body: req.body.toString('base64'), isBase64Encoded: true };
}

function forwardedHeaders(req: GatewayRequest): [string, string][] {
  const extra: [string, string][] = [];
  const xff = headerValue(req.rawHeaders, 'x-forwarded-for');
  extra.push(['x-forwarded-for', xff ? `${xff}, ${req.sourceIp}` : req.sourceIp]);
  if (!headerValue(req.rawHeaders, 'x-forwarded-proto')) extra.push(['x-forwarded-proto', 'http']);
  extra.push([
    'x-amzn-trace-id',
    `Root=1-${Math.floor(req.timeEpoch / 1000).toString(16)}-${req.requestId.replace(/-/g, '').slice(0, 24)}`,
  ]);
  return extra;
}

/** Headers of a v2 event: lower-case names, repeated values comma-joined, cookies removed. */
function v2Headers(req: GatewayRequest): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    if (name === 'cookie') {
      for (const c of value.split(';')) {
        const t = c.trim();
        if (t) cookies.push(t);
      }
      continue;
    }
    if (name === 'x-forwarded-for') continue;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  for (const [k, v] of forwardedHeaders(req)) if (!(k in headers)) headers[k] = v;
  return { headers, cookies };
}

/** Payload format 2.0. */
export function buildV2Event(req: GatewayRequest, ctx: EventContext): Record<string, unknown> {
  const { headers, cookies } = v2Headers(req);
  const ev: Record<string, unknown> = {
    version: '2.0',
    routeKey: ctx.routeKey,
    rawPath: req.rawPath,
    rawQueryString: req.rawQueryString,
  };
  if (cookies.length) ev.cookies = cookies;
  ev.headers = headers;
  const pairs = queryPairs(req.rawQueryString);
  if (pairs.length) {
    const q: Record<string, string> = {};
    for (const [k, v] of pairs) q[k] = k in q ? `${q[k]},${v}` : v;
    ev.queryStringParameters = q;
  }
  if (Object.keys(ctx.pathParameters).length) ev.pathParameters = ctx.pathParameters;
  const rc: Record<string, unknown> = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
  };
  if (req.clientCert) rc.authentication = { clientCert: req.clientCert };
  if (ctx.authorizer) rc.authorizer = ctx.authorizer;
  else if (ctx.iam)
    rc.authorizer = {
      iam: {
        accessKey: ctx.iam.accessKey,
        accountId: ctx.iam.accountId,
        callerId: ctx.iam.userId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: ctx.iam.userArn,
        userId: ctx.iam.userId,
      },
    };
  Object.assign(rc, {
    domainName: req.domainName,
    domainPrefix: req.domainName.split('.')[0],
    http: {
      method: req.method,
      path: req.rawPath,
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: req.requestId,
    routeKey: ctx.routeKey,
    stage: ctx.stage,
    time: requestTime(req.timeEpoch),
    timeEpoch: req.timeEpoch,
  });
  ev.requestContext = rc;
  if (Object.keys(ctx.stageVariables).length) ev.stageVariables = ctx.stageVariables;
  const b = bodyFields(req);
  if (b.body !== undefined) ev.body = b.body;
  ev.isBase64Encoded = b.isBase64Encoded;
  return ev;
}

function v1HeaderMaps(req: GatewayRequest): {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
} {
  const headers: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  const add = (name: string, value: string) => {
    headers[name] = value;
    (multi[name] ??= []).push(value);
  };
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() === 'x-forwarded-for') continue;
    add(raw[i], raw[i + 1]);
  }
  for (const [k, v] of forwardedHeaders(req)) {
    const titled = k.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
    if (!Object.keys(headers).some((h) => h.toLowerCase() === k)) add(titled, v);
  }
  return { headers, multiValueHeaders: multi };
}

/** The path below the stage (v1 `path` is the stage-less path on HTTP APIs' $default and REST APIs'... see docs). */
function v1Query(req: GatewayRequest) {
  const pairs = queryPairs(req.rawQueryString);
  if (!pairs.length) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const { last, all } = lastAndAll(pairs);
  return { queryStringParameters: last, multiValueQueryStringParameters: all };
}

/** API Gateway's single- and multi-value maps of name/value pairs: the last value of each name, and all of them. */
export function lastAndAll(pairs: Iterable<readonly [string, string]>): {
  last: Record<string, string>;
  all: Record<string, string[]>;
} {
  const last: Record<string, string> = {};
  const all: Record<string, string[]> = {};
  for (const [k, v] of pairs) {
    last[k] = v;
    (all[k] ??= []).push(v);
  }
  return { last, all };
}

/** Payload format 1.0. `resource` is the route's path (`/items/{id}`, or `$default`). */
export function buildV1Event(req: GatewayRequest, ctx: EventContext): Record<string, unknown> {
  const { headers, multiValueHeaders } = v1HeaderMaps(req);
  const resource =
    ctx.routeKey === '$default' ? '$default' : ctx.routeKey.slice(ctx.routeKey.indexOf(' ') + 1);
  const ua = headerValue(req.rawHeaders, 'user-agent') ?? '';
  const b = bodyFields(req);
  const requestContext: Record<string, unknown> = {
    accountId: ctx.accountId,
    apiId: ctx.apiId,
    domainName: req.domainName,
    domainPrefix: req.domainName.split('.')[0],
    extendedRequestId: req.requestId,
    httpMethod: req.method,
    identity: {
      accessKey: ctx.iam?.accessKey ?? null,
      accountId: ctx.iam?.accountId ?? null,
      caller: ctx.iam?.userId ?? null,
      cognitoAmr: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: req.sourceIp,
      user: ctx.iam?.userId ?? null,
      userAgent: ua,
      userArn: ctx.iam?.userArn ?? null,
      ...(req.clientCert ? { clientCert: req.clientCert } : {}),
    },
    path: req.rawPath,
    protocol: req.protocol,
    requestId: req.requestId,
    requestTime: requestTime(req.timeEpoch),
    requestTimeEpoch: req.timeEpoch,
    resourceId: ctx.routeId ?? ctx.routeKey,
    resourcePath: resource,
    stage: ctx.stage,
  };
  if (ctx.authorizer) requestContext.authorizer = ctx.authorizer;
  return {
    version: '1.0',
    resource,
    path: req.rawPath,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    ...v1Query(req),
    requestContext,
    pathParameters: Object.keys(ctx.pathParameters).length ? ctx.pathParameters : null,
    stageVariables: Object.keys(ctx.stageVariables).length ? ctx.stageVariables : null,
    body: b.body ?? null,
    isBase64Encoded: b.isBase64Encoded,
  };
}

/** The REQUEST authorizer event, format 2.0: the request without its body, plus routeArn and identitySource. */
export function buildV2AuthorizerEvent(
  req: GatewayRequest,
  ctx: EventContext,
  routeArn: string,
  identitySource: string[],
): Record<string, unknown> {
  const ev = buildV2Event(req, { ...ctx, authorizer: undefined });
  delete ev.body;
  delete ev.isBase64Encoded;
  return { version: '2.0', type: 'REQUEST', routeArn, identitySource, ...ev };
}

/** The REQUEST authorizer event, format 1.0 (as REST APIs send it). */
export function buildV1AuthorizerEvent(
  req: GatewayRequest,
  ctx: EventContext,
  methodArn: string,
  identitySource: string[],
): Record<string, unknown> {
  const ev = buildV1Event(req, { ...ctx, authorizer: undefined });
  delete ev.body;
  delete ev.isBase64Encoded;
  return {
    version: '1.0',
    type: 'REQUEST',
    methodArn,
    identitySource: identitySource.join(','),
    authorizationToken: identitySource.join(','),
    ...ev,
  };
}

/** `$context.identity.clientCert.*` (mapping expressions, templates, access logs) of a mutual TLS request. */
export function clientCertContext(c: ClientCert | undefined): Record<string, string> {
  if (!c) return {};
  return {
    'identity.clientCert.clientCertPem': c.clientCertPem,
    'identity.clientCert.subjectDN': c.subjectDN,
    'identity.clientCert.issuerDN': c.issuerDN,
    'identity.clientCert.serialNumber': c.serialNumber,
    'identity.clientCert.validity.notBefore': c.validity.notBefore,
    'identity.clientCert.validity.notAfter': c.validity.notAfter,
  };
}
