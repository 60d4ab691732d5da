/**
 * CloudWatch Logs filter patterns, compiled once into a predicate over the message.
 *
 * - Terms: `ERROR Exception` (all must occur), `"quoted phrase"`, `?ERROR ?WARN` (any of),
 *   `-DEBUG` (must not occur), `%regex%`. Case-sensitive, as CloudWatch.
 * - JSON: `{ $.level = "error" }`, `{ $.latency > 100 && ($.user.id = "a*" || $.ok IS FALSE) }`,
 *   `!=`, `<`, `<=`, `>`, `>=`, `IS TRUE|FALSE|NULL`, `NOT EXISTS`, `$.a[0].b`, `*` wildcards in
 *   strings. The JSON object may follow a Lambda console prefix.
 * - Space-delimited: `[ip, user, ts, request, status = 4*, bytes > 1000]`, `...` for any fields,
 *   `[w1 = ERROR || w1 = WARN, ...]`. Fields split on spaces; "quoted" and [bracketed] are one field.
 */
import { AwsError } from '../protocols/errors.js';

export type Matcher = (message: string) => boolean;

/**
 * What a matching message yields: the values a metric filter can publish or use as dimensions.
 * `extractedValues` are those TestMetricFilter shows (`$field` of a space-delimited pattern,
 * `$.path` selectors of a JSON pattern); `lookup` resolves any `$field` / `$.path` reference.
 */
export interface Extracted {
  extractedValues: Record<string, string>;
  lookup(ref: string): string | undefined;
}

/** Undefined when the message does not match. */
export type Extractor = (message: string) => Extracted | undefined;

const invalid = () => new AwsError('InvalidParameterException', 'Invalid filter pattern', 400);

const NOTHING: Extracted = { extractedValues: {}, lookup: () => undefined };

export function compileFilterPattern(pattern: string | undefined): Matcher {
  const ex = compileFilterExtractor(pattern);
  return (msg) => ex(msg) !== undefined;
}

export function compileFilterExtractor(pattern: string | undefined): Extractor {
  const p = (pattern ?? '').trim();
  if (p === '') return () => NOTHING;
  if (p.startsWith('{')) return compileJson(p);
  if (p.startsWith('[')) return compileSpaceDelimited(p);
  const m = compileTerms(p);
  return (msg) => (m(msg) ? NOTHING : undefined);
}

/** A scalar as a metric value or dimension value would read it (objects and null: none). */
function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

// ---- terms ---------------------------------------------------------------------------------

function compileTerms(p: string): Matcher {
  const all: string[] = [];
  const any: string[] = [];
  const none: string[] = [];
  const regexes: RegExp[] = [];
  const re = /([?-]?)(?:"((?:[^"\\]|\\.)*)"|%([^%]+)%|(\S+))/g;
  for (let m = re.exec(p); m; m = re.exec(p)) {
    if (m[3] !== undefined) {
      try {
        regexes.push(new RegExp(m[3]));
      } catch {
        throw invalid();
      }
      continue;
    }
    const term = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[4];
    (m[1] === '?' ? any : m[1] === '-' ? none : all).push(term);
  }
  return (msg) =>
    all.every((t) => msg.includes(t)) &&
    !none.some((t) => msg.includes(t)) &&
    (any.length === 0 || any.some((t) => msg.includes(t))) &&
    regexes.every((r) => r.test(msg));
}

// ---- shared expression parsing ---------------------------------------------------------------

type Tok = { k: 'sel' | 'str' | 'num' | 'word' | 'op'; v: string };

function tokenize(src: string, selectors: boolean): Tok[] {
  const out: Tok[] = [];
  const re =
    /\s*(?:(\$(?:\.[A-Za-z0-9_\-@*]+|\[\d+\]|\.\*)*)|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w*.])|(&&|\|\||!=|<=|>=|=|<|>|\(|\)|,|\.\.\.)|([^\s,()=!<>&|"]+))/y;
  let i = 0;
  while (i < src.length) {
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m || re.lastIndex === i) {
      if (/^\s*$/.test(src.slice(i))) break;
      throw invalid();
    }
    i = re.lastIndex;
    if (m[1] !== undefined) {
      if (!selectors) throw invalid();
      out.push({ k: 'sel', v: m[1] });
    } else if (m[2] !== undefined) out.push({ k: 'str', v: m[2].replace(/\\(.)/g, '$1') });
    else if (m[3] !== undefined) out.push({ k: 'num', v: m[3] });
    else if (m[4] !== undefined) out.push({ k: 'op', v: m[4] });
    else if (m[5] !== undefined) out.push({ k: 'word', v: m[5] });
  }
  return out;
}

function wildcard(s: string): RegExp {
  return new RegExp(
    '^' +
      s
        .split('*')
        .map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
}

/** Compares a value against a literal token with an operator. */
function compare(value: unknown, op: string, lit: Tok): boolean {
  if (value === undefined || value === null || typeof value === 'object')
    return op === '!=' && value !== undefined;
  if (lit.k === 'num') {
    const n = typeof value === 'number' ? value : Number(value);
    if (typeof value === 'boolean' || (typeof value === 'string' && value.trim() === '') || Number.isNaN(n))
      return op === '!=';
    const x = Number(lit.v);
    switch (op) {
      case '=':
        return n === x;
      case '!=':
        return n !== x;
      case '<':
        return n < x;
      case '<=':
        return n <= x;
      case '>':
        return n > x;
      case '>=':
        return n >= x;
    }
    return false;
  }
  if (op !== '=' && op !== '!=') throw invalid();
  const s = String(value);
  const eq = lit.v.includes('*') ? wildcard(lit.v).test(s) : s === lit.v;
  return op === '=' ? eq : !eq;
}

/**
 * Boolean expression over `cond` (a parser for one condition): `a && (b || c)`.
 * `cond` consumes tokens from `t` starting at `pos.i`.
 */
function parseBool<T>(t: Tok[], pos: { i: number }, cond: () => (x: T) => boolean): (x: T) => boolean {
  const primary = (): ((x: T) => boolean) => {
    if (t[pos.i]?.k === 'op' && t[pos.i].v === '(') {
      pos.i++;
      const e = or();
      if (t[pos.i]?.v !== ')') throw invalid();
      pos.i++;
      return e;
    }
    return cond();
  };
  const and = () => {
    let l = primary();
    while (t[pos.i]?.k === 'op' && t[pos.i].v === '&&') {
      pos.i++;
      const a = l;
      const b = primary();
      l = (x) => a(x) && b(x);
    }
    return l;
  };
  const or = () => {
    let l = and();
    while (t[pos.i]?.k === 'op' && t[pos.i].v === '||') {
      pos.i++;
      const a = l;
      const b = and();
      l = (x) => a(x) || b(x);
    }
    return l;
  };
  return or();
}

// ---- JSON ------------------------------------------------------------------------------------

function select(doc: unknown, sel: string): unknown {
  const parts = sel.slice(1).match(/\.[^.[]+|\[\d+\]/g) ?? [];
  let cur: unknown = doc;
  for (const part of parts) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const k = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

function compileJson(p: string): Extractor {
  if (!p.endsWith('}')) throw invalid();
  const t = tokenize(p.slice(1, -1), true);
  const pos = { i: 0 };
  const cond = (): ((doc: unknown) => boolean) => {
    const s = t[pos.i++];
    if (!s || s.k !== 'sel') throw invalid();
    const next = t[pos.i];
    if (next?.k === 'word' && next.v.toUpperCase() === 'IS') {
      const what = t[pos.i + 1]?.v.toUpperCase();
      pos.i += 2;
      if (what === 'TRUE') return (d) => select(d, s.v) === true;
      if (what === 'FALSE') return (d) => select(d, s.v) === false;
      if (what === 'NULL') return (d) => select(d, s.v) === null;
      throw invalid();
    }
    if (next?.k === 'word' && next.v.toUpperCase() === 'NOT' && t[pos.i + 1]?.v.toUpperCase() === 'EXISTS') {
      pos.i += 2;
      return (d) => select(d, s.v) === undefined;
    }
    if (next?.k !== 'op' || !['=', '!=', '<', '<=', '>', '>='].includes(next.v)) throw invalid();
    pos.i++;
    const lit = t[pos.i++];
    if (!lit || (lit.k !== 'str' && lit.k !== 'num' && lit.k !== 'word')) throw invalid();
    return (d) => compare(select(d, s.v), next.v, lit);
  };
  const expr = parseBool(t, pos, cond);
  if (pos.i !== t.length) throw invalid();
  const selectors = [...new Set(t.filter((x) => x.k === 'sel').map((x) => x.v))];
  return (msg) => {
    const at = msg.indexOf('{');
    if (at < 0) return undefined;
    let doc: unknown;
    try {
      doc = JSON.parse(msg.slice(at));
    } catch {
      return undefined;
    }
    if (!expr(doc)) return undefined;
    const extractedValues: Record<string, string> = {};
    for (const sel of selectors) {
      const v = scalar(select(doc, sel));
      if (v !== undefined) extractedValues[sel] = v;
    }
    return {
      extractedValues,
      lookup: (ref) => (ref.startsWith('$.') ? scalar(select(doc, ref)) : undefined),
    };
  };
}

// ---- space-delimited -------------------------------------------------------------------------

/** Splits a log line into fields: whitespace-separated, "quoted" and [bracketed] kept whole. */
export function splitFields(msg: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|\[([^\]]*)\]|(\S+)/g;
  for (let m = re.exec(msg); m; m = re.exec(msg)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

interface FieldSpec {
  name: string;
  ellipsis: boolean;
  cond?: (fields: Map<string, string>) => boolean;
}

function compileSpaceDelimited(p: string): Extractor {
  if (!p.endsWith(']')) throw invalid();
  const t = tokenize(p.slice(1, -1), false);
  const pos = { i: 0 };
  const specs: FieldSpec[] = [];
  while (pos.i < t.length) {
    const tok = t[pos.i];
    if (tok.k === 'op' && tok.v === '...') {
      specs.push({ name: `...${specs.length}`, ellipsis: true });
      pos.i++;
    } else if (tok.k === 'word') {
      const name = tok.v;
      pos.i++;
      let cond: FieldSpec['cond'];
      if (t[pos.i]?.k === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(t[pos.i].v)) {
        pos.i--;
        cond = parseBool<Map<string, string>>(t, pos, () => {
          const f = t[pos.i++];
          const op = t[pos.i++];
          const lit = t[pos.i++];
          if (!f || f.k !== 'word' || !op || op.k !== 'op' || !lit || lit.k === 'op') throw invalid();
          return (fields) => fields.has(f.v) && compare(fields.get(f.v), op.v, lit);
        });
      }
      specs.push({ name, ellipsis: false, cond });
    } else {
      throw invalid();
    }
    if (pos.i < t.length) {
      if (t[pos.i].k !== 'op' || t[pos.i].v !== ',') throw invalid();
      pos.i++;
    }
  }
  return (msg) => {
    const fields = splitFields(msg);
    const assigned = assign(specs, fields);
    if (!assigned) return undefined;
    if (!specs.every((s) => !s.cond || s.cond(assigned))) return undefined;
    const extractedValues: Record<string, string> = {};
    for (const [name, value] of assigned) extractedValues['$' + name] = value;
    return {
      extractedValues,
      lookup: (ref) => (ref.startsWith('$') ? assigned.get(ref.slice(1)) : undefined),
    };
  };
}

/** Maps field names to values; `...` absorbs any number of fields. Undefined when counts do not fit. */
function assign(specs: FieldSpec[], fields: string[]): Map<string, string> | undefined {
  const named = specs.filter((s) => !s.ellipsis).length;
  const ellipses = specs.length - named;
  if (ellipses === 0 ? fields.length !== named : fields.length < named) return undefined;
  const out = new Map<string, string>();
  // Ellipses are greedy left to right: the first one absorbs all spare fields.
  let spare = fields.length - named;
  let i = 0;
  for (const s of specs) {
    if (s.ellipsis) {
      i += spare;
      spare = 0;
    } else {
      out.set(s.name, fields[i++]);
    }
  }
  return out;
}
