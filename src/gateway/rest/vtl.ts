/**
 * REST API mapping templates: Velocity (VTL) with the variables API Gateway gives them
 * (`$input`, `$util`, `$context`, `$stageVariables`), evaluated with velocityjs.
 *
 * `$input.body` is the raw payload as text; `$input.json(path)` the JSON text at a JSONPath of
 * it and `$input.path(path)` the value itself (objects and lists keep their `size()`, `get()`,
 * `keySet()`; a path that leads nowhere gives an empty string); `$input.params()` the method request's `path`, `querystring` and `header` maps,
 * `$input.params(name)` one value, looked up in that order. `$util` has escapeJavaScript,
 * parseJson, urlEncode, urlDecode, base64Encode and base64Decode. `$context.responseOverride`
 * (`status`, `header.X`) lets a response template change the method response.
 */
import { Compile, parse } from 'velocityjs';

/** The method request as templates read it. */
export interface TemplateRequest {
  path: Record<string, string>;
  querystring: Record<string, string>;
  header: Record<string, string>;
}

export interface TemplateInput {
  /** `$input.body`: the request body (request templates) or the integration's answer (response templates). */
  body: string;
  request: TemplateRequest;
  /** `$context` (nested: `identity.sourceIp` is `{identity: {sourceIp}}`). */
  context: Record<string, unknown>;
  stageVariables: Record<string, string>;
}

/** What a response template may set besides the body. */
export interface ResponseOverride {
  status?: number;
  headers: Record<string, string>;
}

/** A template's input that is not JSON where the template reads it as JSON. */
export class TemplateJsonError extends Error {}

/**
 * The methods of Java strings templates use whose JavaScript namesakes differ or are missing:
 * `replaceAll` / `replaceFirst` / `matches` / `split` take regular expressions, `length()`,
 * `isEmpty()`, `equals`, `equalsIgnoreCase`, `contains`.
 */
const JAVA_STRING: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  replaceAll: (s, re, to) => s.replace(new RegExp(String(re), 'g'), String(to)),
  replaceFirst: (s, re, to) => s.replace(new RegExp(String(re)), String(to)),
  matches: (s, re) => new RegExp(`^(?:${String(re)})$`).test(s),
  split: (s, re) => s.split(new RegExp(String(re))),
  length: (s) => s.length,
  isEmpty: (s) => s.length === 0,
  equals: (s, o) => s === o,
  equalsIgnoreCase: (s, o) => typeof o === 'string' && s.toLowerCase() === o.toLowerCase(),
  contains: (s, o) => s.includes(String(o)),
};
const JAVA_STRING_METHODS = [
  {
    uid: 'java-string',
    match: (p: { property: string; context: unknown }) =>
      typeof p.context === 'string' && Object.prototype.hasOwnProperty.call(JAVA_STRING, p.property),
    resolve: (p: { property: string; context: unknown; params: unknown[] }) =>
      JAVA_STRING[p.property](p.context as string, ...p.params),
  },
];

/** Compiled templates by text (a deployment has few; bounded in case of many). */
const compiled = new Map<string, Compile>();

function compile(template: string): Compile {
  let c = compiled.get(template);
  if (!c) {
    c = new Compile(parse(template), { escape: false, customMethodHandlers: JAVA_STRING_METHODS });
    if (compiled.size > 1000) compiled.clear();
    compiled.set(template, c);
  }
  return c;
}

/** Evaluates a mapping template; `override` receives `$context.responseOverride` settings. */
export function renderTemplate(template: string, input: TemplateInput, override?: ResponseOverride): string {
  let parsed: { value: unknown } | undefined;
  const doc = (): unknown => {
    if (!parsed) {
      if (input.body.trim() === '') parsed = { value: {} };
      else {
        try {
          parsed = { value: JSON.parse(input.body) };
        } catch (e) {
          throw new TemplateJsonError(e instanceof Error ? e.message : String(e));
        }
      }
    }
    return parsed.value;
  };
  const responseOverride = { status: undefined as unknown, header: {} as Record<string, unknown> };
  const context = { ...input.context, responseOverride };
  const vars = {
    input: {
      body: input.body,
      // A path that leads nowhere reads as an empty string, as in API Gateway.
      json: (path: string) => JSON.stringify(jsonPath(doc(), String(path)) ?? ''),
      path: (path: string) => jsonPath(doc(), String(path)) ?? '',
      params: (name?: string) => {
        if (name === undefined) return input.request;
        const n = String(name);
        const lower = n.toLowerCase();
        const header = Object.keys(input.request.header).find((h) => h.toLowerCase() === lower);
        return (
          input.request.path[n] ??
          input.request.querystring[n] ??
          (header === undefined ? undefined : input.request.header[header]) ??
          ''
        );
      },
    },
    util: UTIL,
    context,
    stageVariables: input.stageVariables,
  };
  // Undefined references render as nothing (API Gateway's behaviour), not as their own text.
  const out = compile(template).render(vars, undefined, true);
  if (override) {
    const status = Number(responseOverride.status);
    if (responseOverride.status !== undefined && Number.isInteger(status)) override.status = status;
    for (const [k, v] of Object.entries(responseOverride.header))
      if (v !== undefined && v !== null) override.headers[k.toLowerCase()] = String(v);
  }
  return out;
}

const UTIL = {
  escapeJavaScript: (s: unknown) => escapeJavaScript(String(s ?? '')),
  parseJson: (s: unknown) => JSON.parse(String(s)) as unknown,
  urlEncode: (s: unknown) => encodeURIComponent(String(s ?? '')).replace(/%20/g, '+'),
  urlDecode: (s: unknown) => decodeURIComponent(String(s ?? '').replace(/\+/g, ' ')),
  base64Encode: (s: unknown) => Buffer.from(String(s ?? '')).toString('base64'),
  base64Decode: (s: unknown) => Buffer.from(String(s ?? ''), 'base64').toString(),
};

/**
 * JavaScript string escaping as API Gateway's `$util.escapeJavaScript` does it: quotes (single
 * ones too), backslash, slash and control characters escaped, characters beyond ASCII as `\uXXXX`.
 */
export function escapeJavaScript(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '/':
        out += '\\/';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
    }
    if (code < 0x20 || code > 0x7e) {
      for (let i = 0; i < ch.length; i++)
        out += '\\u' + ch.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  }
  return out;
}

/**
 * The value at a JSONPath: `$`, `.name`, `['name']`, `[n]` (negative counts from the end) and the
 * wildcards `.*` / `[*]` (which make the result a list). Undefined when the path leads nowhere.
 */
export function jsonPath(doc: unknown, path: string): unknown {
  const p = path.trim();
  if (!p.startsWith('$')) return undefined;
  const steps: (string | number | '*')[] = [];
  const re =
    /\.\*|\[\*\]|\.([^.[\]]+)|\[\s*(-?\d+)\s*\]|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*"((?:[^"\\]|\\.)*)"\s*\]/y;
  re.lastIndex = 1;
  while (re.lastIndex < p.length) {
    const m = re.exec(p);
    if (!m) return undefined;
    if (m[0] === '.*' || m[0] === '[*]') steps.push('*');
    else if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(m[3] ?? m[4]);
  }
  let values: unknown[] = [doc];
  let many = false;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || typeof v !== 'object') continue;
      if (step === '*') {
        next.push(...(Array.isArray(v) ? v : Object.values(v)));
        many = true;
      } else if (typeof step === 'number') {
        if (!Array.isArray(v)) continue;
        const x = v[step < 0 ? v.length + step : step];
        if (x !== undefined) next.push(x);
      } else if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, step))
        next.push((v as Record<string, unknown>)[step]);
    }
    values = next;
  }
  return many ? values : values[0];
}
