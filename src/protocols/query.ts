/**
 * AWS Query protocol input: a form body (or a GET query string) of flat `Name.Path=value`
 * pairs, decoded into nested objects. The rules, applied to every node bottom-up:
 *
 * 1. Keys split on `.` build a tree; leaves are strings (never converted to numbers).
 * 2. A node whose keys are all positive integers becomes an array ordered by index
 *    (`A.1=x&A.2=y` -> `A: ['x', 'y']`), gaps closed.
 * 3. A node whose only key is `member` holding such an array becomes that array
 *    (`A.member.1=x` -> `A: ['x']`).
 * 4. A node whose only key is `entry` holding an array of `{key, value}` objects becomes a
 *    map (`A.entry.1.key=k&A.entry.1.value=v` -> `A: {k: 'v'}`); a value may itself be nested.
 * 5. `A.N.Name` / `A.N.Value` pairs (SQS attributes) stay an array of objects; services turn
 *    them into a map with `pairsToMap(list, 'Name', 'Value')`.
 *
 * `Action`, `Version` and the SigV4 query parameters (`X-Amz-*`) are not part of the input.
 */
export type QueryValue = string | QueryValue[] | { [key: string]: QueryValue };

type Tree = { [key: string]: Tree | string };

export function decodeQueryParams(params: URLSearchParams): Record<string, QueryValue> {
  const root: Tree = {};
  // forEach and indexOf/slice rather than entries() and split('.'): no array per parameter.
  params.forEach((value, name) => {
    if (name === 'Action' || name === 'Version' || name.startsWith('X-Amz-')) return;
    let node = root;
    let start = 0;
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', start)) {
      const seg = name.slice(start, dot);
      const next = node[seg];
      if (next === undefined || typeof next === 'string') {
        const created: Tree = {};
        node[seg] = created;
        node = created;
      } else {
        node = next;
      }
      start = dot + 1;
    }
    const last = name.slice(start);
    if (typeof node[last] !== 'object') node[last] = value;
  });
  return normalizeObject(root);
}

function normalizeObject(tree: Tree): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const k of Object.keys(tree)) out[k] = normalize(tree[k]);
  return out;
}

/** A positive integer without leading zeros (`/^[1-9][0-9]*$/`). */
function isIndex(k: string): boolean {
  const n = k.length;
  if (n === 0) return false;
  let c = k.charCodeAt(0);
  if (c < 49 || c > 57) return false;
  for (let i = 1; i < n; i++) {
    c = k.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function allIndexes(keys: string[]): boolean {
  for (const k of keys) if (!isIndex(k)) return false;
  return keys.length > 0;
}

function normalize(node: Tree | string): QueryValue {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  if (allIndexes(keys)) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => normalize(node[String(i)]));
  }
  if (keys.length === 1 && keys[0] === 'member') {
    const inner = normalize(node.member);
    if (Array.isArray(inner)) return inner;
    return { member: inner };
  }
  if (keys.length === 1 && keys[0] === 'entry') {
    const inner = normalize(node.entry);
    if (
      Array.isArray(inner) &&
      inner.every((e) => typeof e === 'object' && !Array.isArray(e) && typeof e.key === 'string')
    ) {
      const map: Record<string, QueryValue> = {};
      for (const e of inner as Record<string, QueryValue>[]) map[e.key as string] = e.value ?? '';
      return map;
    }
    return { entry: inner };
  }
  return normalizeObject(node);
}

/** `[{Name: 'a', Value: '1'}]` -> `{a: '1'}` (SQS `Attribute.N.Name/Value` and the like). */
export function pairsToMap(list: unknown, keyName = 'Name', valueName = 'Value'): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (item && typeof item === 'object' && typeof item[keyName] === 'string') {
      out[item[keyName] as string] = item[valueName] ?? '';
    }
  }
  return out;
}

/** Parses an `application/x-www-form-urlencoded` body, merged over the URL's query string. */
export function parseForm(body: Buffer, query?: URLSearchParams): URLSearchParams {
  const params = new URLSearchParams(query);
  if (body.length > 0) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.set(k, v);
  }
  return params;
}
