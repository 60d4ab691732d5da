/**
 * Metric math for GetMetricData: arithmetic (+ - * /, parentheses, numbers) between query ids,
 * and SUM/AVG/MIN/MAX over a series array `[m1, m2]` or `METRICS()` (per timestamp) or over
 * one series (a scalar, as CloudWatch does). A series is a Map timestamp -> value.
 */
import { invalidParameterValue } from './metrics.js';

export type Series = Map<number, number>;
export type MathValue = number | Series | Series[];

type Token = { k: 'num'; v: number } | { k: 'id'; v: string } | { k: 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < src.length && (m = re.exec(src))) {
    if (m[1] !== undefined) out.push({ k: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ k: 'id', v: m[2] });
    else if (m[3] !== undefined && m[3].trim() !== '') {
      if (!'+-*/(),[]'.includes(m[3])) throw bad(src);
      out.push({ k: 'op', v: m[3] });
    }
  }
  return out;
}

const bad = (expr: string) => invalidParameterValue(`Invalid metrics math expression: ${expr}`);

export function evaluateExpression(expr: string, vars: Map<string, Series>): MathValue {
  const toks = tokenize(expr);
  let i = 0;
  const peek = () => toks[i];
  const eat = (v?: string) => {
    const t = toks[i++];
    if (!t || (v !== undefined && t.v !== v)) throw bad(expr);
    return t;
  };
  const primary = (): MathValue => {
    const t = eat();
    if (t.k === 'num') return t.v;
    if (t.k === 'op' && t.v === '(') {
      const v = sum();
      eat(')');
      return v;
    }
    if (t.k === 'op' && t.v === '-') return binary('*', -1, primary());
    if (t.k === 'op' && t.v === '[') {
      const arr: Series[] = [];
      while (peek()?.v !== ']') {
        const v = sum();
        if (v instanceof Map) arr.push(v);
        else if (Array.isArray(v)) arr.push(...v);
        else throw bad(expr);
        if (peek()?.v === ',') eat(',');
      }
      eat(']');
      return arr;
    }
    if (t.k === 'id') {
      if (peek()?.v === '(') {
        eat('(');
        const args: MathValue[] = [];
        while (peek()?.v !== ')') {
          args.push(sum());
          if (peek()?.v === ',') eat(',');
        }
        eat(')');
        return call(t.v.toUpperCase(), args, vars, expr);
      }
      const s = vars.get(t.v);
      if (!s) throw invalidParameterValue(`Unrecognized metric id ${t.v} in expression ${expr}`);
      return s;
    }
    throw bad(expr);
  };
  const product = (): MathValue => {
    let v = primary();
    while (peek()?.v === '*' || peek()?.v === '/') v = binary(eat().v as string, v, primary());
    return v;
  };
  const sum = (): MathValue => {
    let v = product();
    while (peek()?.v === '+' || peek()?.v === '-') v = binary(eat().v as string, v, product());
    return v;
  };
  const v = sum();
  if (i !== toks.length) throw bad(expr);
  return v;
}

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return a / b;
  }
}

function binary(op: string, a: MathValue, b: MathValue): MathValue {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (Array.isArray(a)) return a.map((s) => binary(op, s, b) as Series);
    return (b as Series[]).map((s) => binary(op, a, s) as Series);
  }
  if (typeof a === 'number' && typeof b === 'number') return apply(op, a, b);
  if (typeof a === 'number') return new Map([...(b as Series)].map(([t, v]) => [t, apply(op, a, v)]));
  if (typeof b === 'number') return new Map([...a].map(([t, v]) => [t, apply(op, v, b)]));
  const out: Series = new Map();
  for (const [t, v] of a) {
    const w = b.get(t);
    if (w !== undefined) out.set(t, apply(op, v, w));
  }
  return out;
}

function call(fn: string, args: MathValue[], vars: Map<string, Series>, expr: string): MathValue {
  if (fn === 'METRICS') return [...vars.values()];
  const reducers: Record<string, (xs: number[]) => number> = {
    SUM: (xs) => xs.reduce((a, b) => a + b, 0),
    AVG: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
    MIN: (xs) => Math.min(...xs),
    MAX: (xs) => Math.max(...xs),
  };
  const r = reducers[fn];
  if (fn === 'ABS' && args.length === 1) return binaryMap(args[0], Math.abs);
  if (!r || args.length !== 1)
    throw invalidParameterValue(`Unsupported function ${fn} in expression ${expr}`);
  const a = args[0];
  if (typeof a === 'number') return a;
  if (a instanceof Map) return a.size ? r([...a.values()]) : NaN;
  const out: Series = new Map();
  const times = new Set<number>();
  for (const s of a) for (const t of s.keys()) times.add(t);
  for (const t of [...times].sort((x, y) => x - y)) {
    const xs = a.map((s) => s.get(t)).filter((x): x is number => x !== undefined);
    out.set(t, r(xs));
  }
  return out;
}

function binaryMap(a: MathValue, f: (x: number) => number): MathValue {
  if (typeof a === 'number') return f(a);
  if (a instanceof Map) return new Map([...a].map(([t, v]) => [t, f(v)]));
  return a.map((s) => binaryMap(s, f) as Series);
}
