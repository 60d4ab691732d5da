/**
 * HTTP API route selection, by AWS's precedence: a full match of path and method first, then
 * routes with a greedy path variable (`{proxy+}`, longest literal prefix first), then
 * `$default`. Within each tier a literal segment beats a `{variable}` at the same position, and
 * a route for the request's method beats `ANY`. Matching is case-sensitive.
 */

type Seg = { lit: string } | { param: string; greedy: boolean };

export interface CompiledRoute<R> {
  routeKey: string;
  method: string;
  segs: Seg[];
  greedy: boolean;
  route: R;
}

export interface RouteMatch<R> {
  route: R;
  routeKey: string;
  pathParameters: Record<string, string>;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function compile<R>(routeKey: string, route: R): CompiledRoute<R> | undefined {
  if (routeKey === '$default') return undefined;
  const sp = routeKey.indexOf(' ');
  const method = routeKey.slice(0, sp);
  const path = routeKey.slice(sp + 1);
  const parts = path === '/' ? [] : path.split('/').slice(1);
  const segs: Seg[] = parts.map((p) => {
    const m = /^\{([^{}]+?)(\+?)\}$/.exec(p);
    return m ? { param: m[1], greedy: m[2] === '+' } : { lit: p };
  });
  const last = segs[segs.length - 1];
  return { routeKey, method, segs, greedy: !!last && 'param' in last && last.greedy, route };
}

/** Negative when a is more specific than b. */
function compare<R>(a: CompiledRoute<R>, b: CompiledRoute<R>): number {
  if (a.greedy !== b.greedy) return a.greedy ? 1 : -1;
  if (a.greedy && a.segs.length !== b.segs.length) return b.segs.length - a.segs.length;
  const n = Math.min(a.segs.length, b.segs.length);
  for (let i = 0; i < n; i++) {
    const al = 'lit' in a.segs[i];
    const bl = 'lit' in b.segs[i];
    if (al !== bl) return al ? -1 : 1;
  }
  if ((a.method === 'ANY') !== (b.method === 'ANY')) return a.method === 'ANY' ? 1 : -1;
  return 0;
}

export class RouteTable<R> {
  private readonly routes: CompiledRoute<R>[] = [];
  private defaultRoute: R | undefined;

  constructor(entries: { routeKey: string; route: R }[]) {
    for (const e of entries) {
      const c = compile(e.routeKey, e.route);
      if (c) this.routes.push(c);
      else this.defaultRoute = e.route;
    }
    this.routes.sort(compare);
  }

  /** `path` is the request path below the stage, raw (not yet decoded). */
  match(method: string, path: string): RouteMatch<R> | undefined {
    const parts = path === '/' || path === '' ? [] : path.split('/').slice(1);
    outer: for (const r of this.routes) {
      if (r.method !== method && r.method !== 'ANY') continue;
      const params: Record<string, string> = {};
      const segs = r.segs;
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i];
        if ('param' in s && s.greedy) {
          const rest = parts.slice(i);
          if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) continue outer;
          params[s.param] = decode(rest.join('/'));
          return { route: r.route, routeKey: r.routeKey, pathParameters: params };
        }
        if (i >= parts.length) continue outer;
        if ('lit' in s) {
          if (s.lit !== parts[i]) continue outer;
        } else {
          if (parts[i] === '') continue outer;
          params[s.param] = decode(parts[i]);
        }
      }
      if (segs.length !== parts.length) continue;
      return { route: r.route, routeKey: r.routeKey, pathParameters: params };
    }
    if (this.defaultRoute !== undefined)
      return { route: this.defaultRoute, routeKey: '$default', pathParameters: {} };
    return undefined;
  }
}
