/**
 * HTTP API parameter mapping: an integration's `requestParameters` change the request before it
 * reaches the integration (`append|overwrite|remove:header.X`, `append|overwrite|remove:querystring.X`,
 * `overwrite:path`), and its `responseParameters` (by the integration's status code) change the
 * answer before the client gets it (`append|overwrite|remove:header.X`, `overwrite:statuscode`).
 *
 * Values are static text with references in it, written `$request.header.x` or `${request.header.x}`
 * (braces to put several in one value): `request.header|querystring|path.NAME`, `request.path`,
 * `request.body` and `request.body.a.b[0]` (a JSON path into the body's first 100 KB),
 * `response.header.NAME`, `response.body...`, `context.NAME`, `stageVariables.NAME`.
 */
import { headerValues, type GatewayRequest } from './events.js';
import type { HttpResult } from './response.js';
import { AwsError } from '../protocols/errors.js';
import { valueAtPath } from '../core/json-path.js';

const REQUEST_KEY = /^(?:(append|overwrite|remove):(header|querystring)\.([^\s]+)|overwrite:path)$/;
const RESPONSE_KEY = /^(?:(append|overwrite|remove):header\.([^\s]+)|overwrite:statuscode)$/;
const REFERENCE =
  /\$\{([^}]+)\}|\$((?:request|response|context|stageVariables)(?:\.[A-Za-z0-9_-]+(?:\[\d+\])*)*)/g;
const BODY_BYTES = 100 * 1024;

const invalid = (what: string) =>
  new AwsError('BadRequestException', `Invalid mapping expression specified: ${what}`, 400);

/** Checks an integration's requestParameters; answers the map to store. */
export function checkRequestParameters(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('requestParameters must be a map');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!REQUEST_KEY.test(k)) throw invalid(k);
    if (typeof x !== 'string') throw invalid(`${k}: the value must be a string`);
    out[k] = x;
  }
  return out;
}

const WEBSOCKET_KEY = /^integration\.request\.(?:header|querystring|path)\.[a-zA-Z0-9._$-]+$/;
const WEBSOCKET_SOURCE =
  /^(?:'[^']*'|route\.request\.(?:header|querystring|multivalueheader|multivaluequerystring)\.[a-zA-Z0-9._$-]+|route\.request\.body\.\S+|context\.[A-Za-z0-9_.-]+|stageVariables\.[A-Za-z0-9_.-]+)$/;

/**
 * Checks a WebSocket API non-proxy integration's RequestParameters
 * (`integration.request.{header,querystring,path}.X` -> a WebSocket data mapping expression).
 */
export function checkWebSocketRequestParameters(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('RequestParameters must be a map');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (!WEBSOCKET_KEY.test(k)) throw invalid(k);
    if (typeof x !== 'string' || !WEBSOCKET_SOURCE.test(x.trim())) throw invalid(String(x));
    out[k] = x;
  }
  return out;
}

/** Checks an integration's responseParameters (status code 200-599 -> mappings). */
export function checkResponseParameters(v: unknown): Record<string, Record<string, string>> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid('responseParameters must be a map');
  const out: Record<string, Record<string, string>> = {};
  for (const [status, m] of Object.entries(v as Record<string, unknown>)) {
    if (!/^[2-5]\d\d$/.test(status))
      throw invalid(`${status}: the key must be a status code from 200 to 599`);
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalid(`${status} must map to a map`);
    out[status] = {};
    for (const [k, x] of Object.entries(m as Record<string, unknown>)) {
      if (!RESPONSE_KEY.test(k)) throw invalid(k);
      if (typeof x !== 'string') throw invalid(`${k}: the value must be a string`);
      out[status][k] = x;
    }
  }
  return out;
}

/** What the references of a mapping value read. */
export interface MappingSources {
  request: GatewayRequest;
  /** The request path below the stage. */
  path: string;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
  context: Record<string, string | number | undefined>;
  response?: HttpResult;
}

/** A JSON path (`a.b[0].c`) into a body; strings as they are, anything else as JSON. */
function bodyPath(body: Buffer, path: string): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.subarray(0, BODY_BYTES).toString('utf8'));
  } catch {
    return undefined;
  }
  const v = valueAtPath(doc, path);
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function resolve(ref: string, s: MappingSources): string | undefined {
  const dot = ref.indexOf('.');
  const head = dot < 0 ? ref : ref.slice(0, dot);
  const rest = dot < 0 ? '' : ref.slice(dot + 1);
  if (head === 'context') return s.context[rest] === undefined ? undefined : String(s.context[rest]);
  if (head === 'stageVariables') return s.stageVariables[rest];
  const src = head === 'request' ? s.request : head === 'response' ? s.response : undefined;
  if (!src) return undefined;
  const kdot = rest.indexOf('.');
  const kind = kdot < 0 ? rest : rest.slice(0, kdot);
  const name = kdot < 0 ? '' : rest.slice(kdot + 1);
  if (kind === 'body') {
    const body = src.body;
    return name ? bodyPath(body, name) : body.toString('utf8');
  }
  if (head === 'request') {
    if (kind === 'header') return headerValues(s.request.rawHeaders, name.toLowerCase());
    if (kind === 'querystring') {
      const all = new URLSearchParams(s.request.rawQueryString).getAll(name);
      return all.length ? all.join(',') : undefined;
    }
    if (kind === 'path') return name ? s.pathParameters[name] : s.path;
    return undefined;
  }
  if (kind === 'header') return s.response!.headers[name.toLowerCase()]?.join(',');
  return undefined;
}

/** A mapping value with its references filled in; undefined when every reference is missing. */
export function evaluate(value: string, s: MappingSources): string | undefined {
  let refs = 0;
  let found = 0;
  const out = value.replace(REFERENCE, (_all, braced: string | undefined, bare: string | undefined) => {
    refs++;
    const v = resolve((braced ?? bare)!, s);
    if (v !== undefined) found++;
    return v ?? '';
  });
  return refs > 0 && found === 0 ? undefined : out;
}

/** The request as the integration gets it, and the backend path when `overwrite:path` set one. */
export function mapRequest(
  params: Record<string, string> | undefined,
  s: MappingSources,
): { request: GatewayRequest; path?: string } {
  if (!params) return { request: s.request };
  // Every value reads the request as it came, before any change.
  const changes = Object.entries(params).map(([k, v]) => [k, evaluate(v, s)] as const);
  let headers = [...s.request.rawHeaders];
  const query = [...new URLSearchParams(s.request.rawQueryString)];
  let path: string | undefined;
  for (const [key, value] of changes) {
    if (key === 'overwrite:path') {
      if (value !== undefined) path = value.startsWith('/') ? value : `/${value}`;
      continue;
    }
    const [, action, where, name] = REQUEST_KEY.exec(key)!;
    if (where === 'header') {
      const lower = name.toLowerCase();
      if (action !== 'append') headers = dropHeader(headers, lower);
      if (action !== 'remove' && value !== undefined) headers.push(name, value);
    } else {
      if (action !== 'append')
        for (let i = query.length - 1; i >= 0; i--) if (query[i][0] === name) query.splice(i, 1);
      if (action !== 'remove' && value !== undefined) query.push([name, value]);
    }
  }
  const rawQueryString = new URLSearchParams(query).toString();
  const prefix = s.request.rawPath.slice(0, s.request.rawPath.length - s.path.length);
  return {
    request: {
      ...s.request,
      rawHeaders: headers,
      rawQueryString,
      rawPath: path ? prefix + path : s.request.rawPath,
    },
    path,
  };
}

/** Node-style raw headers (name, value, ...) without those named `lower`. */
function dropHeader(headers: string[], lower: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2)
    if (headers[i].toLowerCase() !== lower) out.push(headers[i], headers[i + 1]);
  return out;
}

/** The answer after the integration's responseParameters for its status code. */
export function mapResponse(
  params: Record<string, Record<string, string>> | undefined,
  result: HttpResult,
  s: MappingSources,
): HttpResult {
  const m = params?.[String(result.status)];
  if (!m) return result;
  const src: MappingSources = { ...s, response: result };
  const changes = Object.entries(m).map(([k, v]) => [k, evaluate(v, src)] as const);
  const headers: Record<string, string[]> = { ...result.headers };
  let status = result.status;
  for (const [key, value] of changes) {
    if (key === 'overwrite:statuscode') {
      const n = Number(value);
      if (Number.isInteger(n) && n >= 100 && n <= 599) status = n;
      continue;
    }
    const [, action, name] = RESPONSE_KEY.exec(key)!;
    const lower = name.toLowerCase();
    if (action === 'remove') delete headers[lower];
    else if (value !== undefined)
      headers[lower] = action === 'append' ? [...(headers[lower] ?? []), value] : [value];
  }
  return { status, headers, body: result.body };
}
