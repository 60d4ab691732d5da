/**
 * WebSocket route selection expressions (`$request.body.action`, `${request.body.type}-v1`):
 * literal text and `$request.body.{path}` variables, bare or in braces; `\$` is a literal
 * dollar. Parsed once when the API is created or updated, evaluated on every message.
 */

export type SelectionPart = { literal: string } | { bodyPath: string[] };

/** Parses an expression; undefined when it is not one API Gateway accepts for WebSocket APIs. */
export function parseSelectionExpression(expr: string): SelectionPart[] | undefined {
  const parts: SelectionPart[] = [];
  let literal = '';
  let variables = 0;
  for (let i = 0; i < expr.length;) {
    const ch = expr[i];
    if (ch === '\\' && expr[i + 1] === '$') {
      literal += '$';
      i += 2;
      continue;
    }
    if (ch !== '$') {
      literal += ch;
      i++;
      continue;
    }
    let name: string;
    if (expr[i + 1] === '{') {
      const end = expr.indexOf('}', i + 2);
      if (end < 0) return undefined;
      name = expr.slice(i + 2, end);
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_.-]+/.exec(expr.slice(i + 1));
      if (!m) return undefined;
      name = m[0];
      i += 1 + name.length;
    }
    const path = bodyPathOf(name);
    if (!path) return undefined;
    if (literal) parts.push({ literal });
    literal = '';
    parts.push({ bodyPath: path });
    variables++;
  }
  if (literal) parts.push({ literal });
  return variables > 0 ? parts : undefined;
}

/** `request.body.a.b` -> ['a', 'b']; `request.body` -> []. */
function bodyPathOf(name: string): string[] | undefined {
  if (name === 'request.body') return [];
  if (!name.startsWith('request.body.')) return undefined;
  const path = name.slice('request.body.'.length).split('.');
  return path.every((p) => p !== '') ? path : undefined;
}

/**
 * The route key a message selects, or undefined when a variable has no value (the body is not
 * JSON, or the path leads nowhere): the message then goes to `$default`.
 */
export function evaluateSelection(parts: SelectionPart[], body: string): string | undefined {
  let json: unknown;
  let parsed = false;
  let out = '';
  for (const p of parts) {
    if ('literal' in p) {
      out += p.literal;
      continue;
    }
    if (!parsed) {
      parsed = true;
      try {
        json = JSON.parse(body);
      } catch {
        return undefined;
      }
    }
    let v: unknown = json;
    for (const k of p.bodyPath) {
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
      v = (v as Record<string, unknown>)[k];
    }
    if (v === null || v === undefined) return undefined;
    out += typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}
