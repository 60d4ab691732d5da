/**
 * AWS REST-JSON (Lambda and friends): operations chosen by method and path template.
 * Templates are compiled once into segment lists; `{Name}` matches one segment, `{Name+}`
 * (greedy, last) the rest of the path. Parameter values are URL-decoded.
 * Errors: `x-amzn-ErrorType: Code`, body `{"Type": "User"|"Service", "message": "..."}`
 * plus the AwsError's extra members.
 */
import { AwsError } from './errors.js';
import type { Reply } from './reply.js';

type Segment = { kind: 'lit'; value: string } | { kind: 'param'; name: string; greedy: boolean };

export interface CompiledRoute<R> {
  method: string;
  template: string;
  segments: Segment[];
  /** Number of literal segments: more literal routes win over parametrised ones. */
  score: number;
  route: R;
}

export interface RouteMatch<R> {
  route: R;
  params: Record<string, string>;
}

function compile(template: string): Segment[] {
  const path = template.split('?')[0];
  const parts = path.split('/').slice(1);
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p, i) => {
    const m = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(p);
    if (!m) return { kind: 'lit', value: p } as Segment;
    if (m[2] === '+' && i !== parts.length - 1) throw new Error(`greedy label must be last: ${template}`);
    return { kind: 'param', name: m[1], greedy: m[2] === '+' } as Segment;
  });
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Routes indexed by method and first path segment, so a request only tries a few candidates. */
export class RestRouter<R> {
  private readonly byKey = new Map<string, CompiledRoute<R>[]>();

  add(method: string, template: string, route: R): void {
    const segments = compile(template);
    const first = segments[0];
    const key = `${method.toUpperCase()} ${first && first.kind === 'lit' ? first.value : '*'}`;
    const list = this.byKey.get(key) ?? [];
    list.push({
      method: method.toUpperCase(),
      template,
      segments,
      score: segments.filter((s) => s.kind === 'lit').length,
      route,
    });
    list.sort((a, b) => b.score - a.score || b.segments.length - a.segments.length);
    this.byKey.set(key, list);
  }

  get size(): number {
    let n = 0;
    for (const l of this.byKey.values()) n += l.length;
    return n;
  }

  /** `path` is the raw request path without the query string. */
  match(method: string, path: string): RouteMatch<R> | undefined {
    const parts = path.split('/').slice(1);
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    const m = method.toUpperCase();
    return (
      this.tryList(this.byKey.get(`${m} ${parts[0] ?? ''}`), parts) ??
      this.tryList(this.byKey.get(`${m} *`), parts)
    );
  }

  /** True when some route has this path under another method (for a 405-ish answer). */
  hasPath(path: string): boolean {
    for (const [key, list] of this.byKey) {
      const method = key.slice(0, key.indexOf(' '));
      if (list.length && this.match(method, path)) return true;
    }
    return false;
  }

  private tryList(list: CompiledRoute<R>[] | undefined, parts: string[]): RouteMatch<R> | undefined {
    if (!list) return undefined;
    outer: for (const r of list) {
      const segs = r.segments;
      const params: Record<string, string> = {};
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i];
        if (s.kind === 'param' && s.greedy) {
          if (i >= parts.length) continue outer;
          const rest = parts.slice(i).join('/');
          if (rest === '') continue outer;
          params[s.name] = decode(rest);
          return { route: r.route, params };
        }
        if (i >= parts.length) continue outer;
        const p = parts[i];
        if (s.kind === 'lit') {
          if (s.value !== p) continue outer;
        } else {
          if (p === '') continue outer;
          params[s.name] = decode(p);
        }
      }
      if (segs.length !== parts.length) continue;
      return { route: r.route, params };
    }
    return undefined;
  }
}

export function encodeRestJsonError(err: AwsError): Reply {
  const body: Record<string, unknown> = {
    Type: err.fault === 'Sender' ? 'User' : 'Service',
    message: err.message,
    ...err.extra,
  };
  return {
    status: err.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': err.code, ...err.headers },
    body: JSON.stringify(body),
  };
}

/** Encodes a handler's RestResponse body: Buffer/string as is, undefined as nothing, else JSON. */
export function encodeRestBody(
  body: unknown,
  headers: Record<string, string>,
): { body: Buffer | string; headers: Record<string, string> } {
  if (body === undefined) return { body: '', headers };
  if (Buffer.isBuffer(body) || typeof body === 'string') return { body, headers };
  // Copied key by key into a fresh literal: adding a key to a `{ ...headers }` clone costs µs in Node 20.
  const h: Record<string, string> = {};
  let typed = false;
  for (const k of Object.keys(headers)) {
    h[k] = headers[k];
    if (!typed && k.toLowerCase() === 'content-type') typed = true;
  }
  if (!typed) h['content-type'] = 'application/json';
  return { body: JSON.stringify(body), headers: h };
}
