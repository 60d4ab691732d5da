/**
 * The engine's one door to the attribute-value types and expression language (owned by
 * src/data/types and src/data/expressions). Everything the engine needs from them goes
 * through the functions here, so the engine does not depend on their internals.
 *
 * INTERIM: until the expressions module lands, this file carries a deliberately small
 * implementation (top-level paths, simple comparisons, SET/REMOVE/ADD) so the engine can be
 * built and tested; it is replaced by calls into src/data/expressions when that merges.
 */
import { AwsError } from '../protocols/errors.js';
import * as types from './types/index.js';

export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Record<string, AttributeValue>;
  L?: AttributeValue[];
  SS?: string[];
  NS?: string[];
  BS?: string[];
}
export type Item = Record<string, AttributeValue>;

const invalid = (m: string) => new AwsError('ValidationException', m, 400);

/** Names and values of one request, with what the request's expressions used. */
export interface ExprContext {
  names: Record<string, string> | undefined;
  values: Record<string, AttributeValue> | undefined;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

export function exprContext(
  names: Record<string, string> | undefined,
  values: Record<string, AttributeValue> | undefined,
): ExprContext {
  return { names, values, usedNames: new Set(), usedValues: new Set() };
}

/** After compiling every expression of a request: unused names/values are errors. */
export function finishExprContext(ctx: ExprContext): void {
  const unusedV = Object.keys(ctx.values ?? {}).filter((k) => !ctx.usedValues.has(k));
  if (unusedV.length)
    throw invalid(
      `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedV.join(', ')}}`,
    );
  const unusedN = Object.keys(ctx.names ?? {}).filter((k) => !ctx.usedNames.has(k));
  if (unusedN.length)
    throw invalid(
      `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedN.join(', ')}}`,
    );
}

export type Condition = (item: Item | undefined) => boolean;
export interface UpdateResult {
  item: Item;
  /** Top-level attribute names the update touched. */
  changed: string[];
}
export type Update = (item: Item | undefined) => UpdateResult;
export type Projector = (item: Item) => Item;

export type KeyOp = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE' | 'BETWEEN' | 'BEGINS_WITH';
export interface KeyCondition {
  hashValue: AttributeValue;
  range?: { op: KeyOp; values: AttributeValue[] };
}

// ---------------------------------------------------------------- interim expression bits

function name(ctx: ExprContext, tok: string, kind: string): string {
  const t = tok.trim();
  if (t.startsWith('#')) {
    const v = ctx.names?.[t];
    if (v === undefined)
      throw invalid(
        `Invalid ${kind}: An expression attribute name used in the document path is not defined; attribute name: ${t}`,
      );
    ctx.usedNames.add(t);
    return v;
  }
  return t;
}

function value(ctx: ExprContext, tok: string, kind: string): AttributeValue {
  const t = tok.trim();
  const v = ctx.values?.[t];
  if (!t.startsWith(':') || v === undefined)
    throw invalid(
      `Invalid ${kind}: An expression attribute value used in expression is not defined; attribute value: ${t}`,
    );
  ctx.usedValues.add(t);
  return v;
}

export function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  const c = types.compareScalars(a as types.AttributeValue, b as types.AttributeValue);
  if (c !== undefined) return c;
  return types.valuesEqual(a as types.AttributeValue, b as types.AttributeValue) ? 0 : undefined;
}

export function compileCondition(ctx: ExprContext, expr: string, kind = 'ConditionExpression'): Condition {
  const ors = expr.split(/\s+OR\s+/i).map((part) =>
    part.split(/\s+AND\s+/i).map((atom): Condition => {
      const fn = /^\s*(attribute_exists|attribute_not_exists)\s*\(\s*([^)]+)\)\s*$/i.exec(atom);
      if (fn) {
        const n = name(ctx, fn[2], kind);
        const want = fn[1].toLowerCase() === 'attribute_exists';
        return (item) => (item?.[n] !== undefined) === want;
      }
      const bw = /^\s*begins_with\s*\(\s*([^,]+),\s*([^)]+)\)\s*$/i.exec(atom);
      if (bw) {
        const n = name(ctx, bw[1], kind);
        const v = value(ctx, bw[2], kind);
        return (item) => {
          const a = item?.[n];
          return !!a && a.S !== undefined && v.S !== undefined && a.S.startsWith(v.S);
        };
      }
      const cmp = /^\s*(\S+)\s*(=|<>|<=|>=|<|>)\s*(\S+)\s*$/.exec(atom);
      if (!cmp)
        throw invalid(`Invalid ${kind}: Syntax error; token: "${atom.trim()}", near: "${atom.trim()}"`);
      const n = name(ctx, cmp[1], kind);
      const v = value(ctx, cmp[3], kind);
      const op = cmp[2];
      return (item) => {
        const a = item?.[n];
        if (!a) return op === '<>';
        const c = compareValues(a, v);
        if (c === undefined) return op === '<>';
        return op === '='
          ? c === 0
          : op === '<>'
            ? c !== 0
            : op === '<'
              ? c < 0
              : op === '<='
                ? c <= 0
                : op === '>'
                  ? c > 0
                  : c >= 0;
      };
    }),
  );
  return (item) => ors.some((ands) => ands.every((c) => c(item)));
}

function addNumbers(a: string, b: string, sign = 1): string {
  return sign > 0 ? types.addNumbers(a, b) : types.subtractNumbers(a, b);
}

export function compileUpdate(ctx: ExprContext, expr: string): Update {
  const kind = 'UpdateExpression';
  const ops: ((item: Item, changed: Set<string>) => void)[] = [];
  const clauses = expr.split(/\b(SET|REMOVE|ADD|DELETE)\b/i).map((s) => s.trim());
  for (let i = 1; i < clauses.length; i += 2) {
    const verb = clauses[i].toUpperCase();
    for (const action of clauses[i + 1]
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (verb === 'SET') {
        const m = /^(\S+)\s*=\s*(.+)$/.exec(action);
        if (!m)
          throw invalid(`Invalid UpdateExpression: Syntax error; token: "${action}", near: "${action}"`);
        const target = name(ctx, m[1], kind);
        const rhs = m[2].trim();
        const arith = /^(\S+)\s*([+-])\s*(\S+)$/.exec(rhs);
        const ine = /^if_not_exists\s*\(\s*([^,]+),\s*([^)]+)\)$/i.exec(rhs);
        if (arith) {
          const operand = (t: string): ((item: Item) => AttributeValue | undefined) => {
            if (t.startsWith(':')) {
              const v = value(ctx, t, kind);
              return () => v;
            }
            const n = name(ctx, t, kind);
            return (item) => item[n];
          };
          const l = operand(arith[1]);
          const r = operand(arith[3]);
          const sign = arith[2] === '+' ? 1 : -1;
          ops.push((item, ch) => {
            const a = l(item);
            const b = r(item);
            if (!a || !b)
              throw invalid('The provided expression refers to an attribute that does not exist in the item');
            if (a.N === undefined || b.N === undefined)
              throw invalid('An operand in the update expression has an incorrect data type');
            item[target] = { N: addNumbers(a.N, b.N, sign) };
            ch.add(target);
          });
        } else if (ine) {
          const src = name(ctx, ine[1], kind);
          const v = value(ctx, ine[2], kind);
          ops.push((item, ch) => {
            item[target] = item[src] ?? v;
            ch.add(target);
          });
        } else {
          const v = rhs.startsWith(':') ? value(ctx, rhs, kind) : undefined;
          const src = v ? undefined : name(ctx, rhs, kind);
          ops.push((item, ch) => {
            const nv = v ?? item[src!];
            if (!nv)
              throw invalid('The provided expression refers to an attribute that does not exist in the item');
            item[target] = nv;
            ch.add(target);
          });
        }
      } else if (verb === 'REMOVE') {
        const target = name(ctx, action, kind);
        ops.push((item, ch) => {
          if (target in item) ch.add(target);
          delete item[target];
        });
      } else {
        const m = /^(\S+)\s+(\S+)$/.exec(action);
        if (!m)
          throw invalid(`Invalid UpdateExpression: Syntax error; token: "${action}", near: "${action}"`);
        const target = name(ctx, m[1], kind);
        const v = value(ctx, m[2], kind);
        const add = verb === 'ADD';
        ops.push((item, ch) => {
          const cur = item[target];
          ch.add(target);
          if (add && v.N !== undefined) {
            if (cur && cur.N === undefined)
              throw invalid('An operand in the update expression has an incorrect data type');
            item[target] = { N: addNumbers(cur?.N ?? '0', v.N) };
            return;
          }
          const setType = (['SS', 'NS', 'BS'] as const).find((t) => v[t] !== undefined);
          if (!setType) throw invalid('An operand in the update expression has an incorrect data type');
          const have = cur?.[setType] ?? [];
          if (cur && !cur[setType])
            throw invalid('An operand in the update expression has an incorrect data type');
          const next = add
            ? [...new Set([...have, ...v[setType]!])]
            : have.filter((x) => !v[setType]!.includes(x));
          if (next.length) item[target] = { [setType]: next };
          else delete item[target];
        });
      }
    }
  }
  return (old) => {
    const item: Item = { ...(old ?? {}) };
    const changed = new Set<string>();
    for (const op of ops) op(item, changed);
    return { item, changed: [...changed] };
  };
}

export function compileProjection(ctx: ExprContext, expr: string): Projector {
  const names = expr.split(',').map((p) => name(ctx, p, 'ProjectionExpression'));
  return (item) => {
    const out: Item = {};
    for (const n of names) if (item[n] !== undefined) out[n] = item[n];
    return out;
  };
}

export function attributesToGetProjector(list: string[]): Projector {
  return (item) => {
    const out: Item = {};
    for (const n of list) if (item[n] !== undefined) out[n] = item[n];
    return out;
  };
}

export function compileKeyCondition(
  ctx: ExprContext,
  expr: string,
  keys: { hash: string; range?: string },
): KeyCondition {
  const kind = 'KeyConditionExpression';
  const parts = expr.split(/\s+AND\s+(?![^(]*\))/i);
  // BETWEEN a AND b got split: join it back.
  const atoms: string[] = [];
  for (const p of parts) {
    if (atoms.length && /\sBETWEEN\s+\S+$/i.test(atoms[atoms.length - 1]))
      atoms[atoms.length - 1] += ' AND ' + p;
    else atoms.push(p);
  }
  let hashValue: AttributeValue | undefined;
  let range: KeyCondition['range'];
  for (const atom of atoms) {
    const bw = /^\s*begins_with\s*\(\s*([^,]+),\s*([^)]+)\)\s*$/i.exec(atom);
    const bt = /^\s*(\S+)\s+BETWEEN\s+(\S+)\s+AND\s+(\S+)\s*$/i.exec(atom);
    const cmp = /^\s*(\S+)\s*(=|<=|>=|<|>)\s*(\S+)\s*$/.exec(atom);
    let n: string;
    if (bw) {
      n = name(ctx, bw[1], kind);
      range = { op: 'BEGINS_WITH', values: [value(ctx, bw[2], kind)] };
    } else if (bt) {
      n = name(ctx, bt[1], kind);
      range = { op: 'BETWEEN', values: [value(ctx, bt[2], kind), value(ctx, bt[3], kind)] };
    } else if (cmp) {
      n = name(ctx, cmp[1], kind);
      const v = value(ctx, cmp[3], kind);
      if (n === keys.hash && cmp[2] === '=') {
        hashValue = v;
        continue;
      }
      const op = ({ '=': 'EQ', '<': 'LT', '<=': 'LE', '>': 'GT', '>=': 'GE' } as const)[cmp[2] as '='];
      range = { op, values: [v] };
    } else {
      throw invalid(
        `Invalid KeyConditionExpression: Syntax error; token: "${atom.trim()}", near: "${atom.trim()}"`,
      );
    }
    if (n !== keys.range)
      throw invalid('Query condition missed key schema element: ' + (keys.range ?? keys.hash));
  }
  if (!hashValue) throw invalid(`Query condition missed key schema element: ${keys.hash}`);
  return { hashValue, range };
}

// ---------------------------------------------------------------- values and keys

/** An order-preserving Store-key encoding of a key value (S, N or B); never contains \u0000. */
export function encodeKeyValue(v: AttributeValue): string {
  return types.encodeKey(v as types.AttributeValue);
}

/** Item size as DynamoDB counts it. */
export function itemSize(item: Item): number {
  return types.itemSize(item as types.Item);
}

/** Validates a wire item and returns it normalised (numbers in canonical form). */
export function checkItem(raw: unknown, member = 'item'): Item {
  if (raw === null || raw === undefined)
    throw invalid(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalid('Start of structure or map found where not expected.');
  return types.validateItem(raw as Record<string, unknown>) as Item;
}
