/**
 * XML replies of the AWS Query protocol.
 *
 * Values render as: objects -> one child element per key (in key order); arrays -> one
 * `<member>` per item; `xmlList(items, {member, flattened})` and `xmlMap(obj, {entry, key,
 * value, flattened})` pick other element names; Date -> ISO 8601; Buffer -> base64;
 * undefined/null -> omitted; everything else -> `String(value)`, escaped.
 */
import { AwsError } from './errors.js';
import type { Reply } from './reply.js';

export class XmlList {
  constructor(
    readonly items: readonly unknown[],
    readonly member = 'member',
    readonly flattened = false,
  ) {}
}

export class XmlMap {
  constructor(
    readonly entries: Record<string, unknown>,
    readonly names: { entry: string; key: string; value: string },
    readonly flattened = false,
  ) {}
}

export function xmlList(
  items: readonly unknown[],
  opts: { member?: string; flattened?: boolean } = {},
): XmlList {
  return new XmlList(items, opts.member ?? 'member', opts.flattened ?? false);
}

export function xmlMap(
  entries: Record<string, unknown>,
  opts: { entry?: string; key?: string; value?: string; flattened?: boolean } = {},
): XmlMap {
  return new XmlMap(
    entries,
    { entry: opts.entry ?? 'entry', key: opts.key ?? 'key', value: opts.value ?? 'value' },
    opts.flattened ?? false,
  );
}

const ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
};

export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ESC[c]);
}

/** Renders `<name>value</name>` (empty element for an empty object/list). */
export function element(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof XmlList) {
    if (value.flattened) return value.items.map((i) => element(name, i)).join('');
    return `<${name}>${renderList(value)}</${name}>`;
  }
  if (value instanceof XmlMap) {
    if (value.flattened) return renderMapEntries(value, name);
    return `<${name}>${renderMapEntries(value, value.names.entry)}</${name}>`;
  }
  return `<${name}>${renderContent(value)}</${name}>`;
}

function renderList(list: XmlList): string {
  return list.items.map((i) => element(list.member, i)).join('');
}

function renderMapEntries(map: XmlMap, entryName: string): string {
  const { key, value } = map.names;
  return Object.entries(map.entries)
    .map(([k, v]) => `<${entryName}>${element(key, k)}${element(value, v)}</${entryName}>`)
    .join('');
}

/** The inside of an element. */
export function renderContent(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return renderList(new XmlList(value));
  if (value instanceof XmlList) return renderList(value);
  if (value instanceof XmlMap) return renderMapEntries(value, value.names.entry);
  if (typeof value === 'object') {
    let out = '';
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out += element(k, v);
    return out;
  }
  return escapeXml(String(value));
}

const XML_HEADERS = { 'content-type': 'text/xml' };

/** `<OpResponse xmlns><OpResult>...</OpResult><ResponseMetadata>...</ResponseMetadata></OpResponse>`. */
export function encodeQueryResult(op: string, xmlns: string, result: unknown, requestId: string): Reply {
  const inner = result === undefined || result === null ? '' : element(`${op}Result`, result);
  const body =
    `<${op}Response xmlns="${escapeXml(xmlns)}">${inner}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${op}Response>`;
  return { status: 200, headers: { ...XML_HEADERS }, body };
}

export function encodeQueryError(xmlns: string, err: AwsError, requestId: string): Reply {
  let extra = '';
  for (const [k, v] of Object.entries(err.extra)) extra += element(k, v);
  const body =
    `<ErrorResponse xmlns="${escapeXml(xmlns)}"><Error><Type>${err.fault}</Type>` +
    `<Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>${extra}</Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
  return { status: err.status, headers: { ...XML_HEADERS, ...err.headers }, body };
}

/**
 * The JSON form of a Query reply, which AWS's Query services answer to `Accept: application/json`
 * (API Gateway's AWS integrations read it so): the same tree, lists as arrays, maps as lists of
 * key/value objects, scalars as strings.
 */
export function jsonContent(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(jsonContent);
  if (value instanceof XmlList) return value.items.map(jsonContent);
  if (value instanceof XmlMap) {
    const { key, value: val } = value.names;
    return Object.entries(value.entries).map(([k, v]) => ({ [key]: k, [val]: jsonContent(v) }));
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      if (v !== undefined && v !== null) out[k] = jsonContent(v);
    return out;
  }
  return String(value);
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** `{"OpResponse": {"OpResult": ..., "ResponseMetadata": {"RequestId": ...}}}`. */
export function encodeQueryResultJson(op: string, result: unknown, requestId: string): Reply {
  const body = JSON.stringify({
    [`${op}Response`]: { [`${op}Result`]: jsonContent(result), ResponseMetadata: { RequestId: requestId } },
  });
  return { status: 200, headers: { ...JSON_HEADERS }, body };
}

export function encodeQueryErrorJson(err: AwsError, requestId: string): Reply {
  const error: Record<string, unknown> = { Type: err.fault, Code: err.code, Message: err.message };
  for (const [k, v] of Object.entries(err.extra)) error[k] = jsonContent(v);
  return {
    status: err.status,
    headers: { ...JSON_HEADERS, ...err.headers },
    body: JSON.stringify({ Error: error, RequestId: requestId }),
  };
}
