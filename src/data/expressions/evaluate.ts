/** Condition evaluation with DynamoDB's semantics, and document path access. */
import type { AttributeValue, Item } from '../types/attribute-value.js';
import { compareScalars, decodeBinary, setHas, typeOf, valuesEqual } from '../types/attribute-value.js';
import type { Condition, DocPath, Operand } from './ast.js';

/** The value at a document path, or undefined when any step is missing or of the wrong type. */
export function getPath(item: Item, path: DocPath): AttributeValue | undefined {
  let cur: AttributeValue | undefined = item[path[0] as string];
  if (typeof path[0] !== 'string' || !Object.hasOwn(item, path[0])) return undefined;
  for (let i = 1; i < path.length && cur !== undefined; i++) {
    const step = path[i];
    if (typeof step === 'number') cur = 'L' in cur ? cur.L[step] : undefined;
    else cur = 'M' in cur && Object.hasOwn(cur.M, step) ? cur.M[step] : undefined;
  }
  return cur;
}

/** size(): string length in UTF-8 bytes, binary bytes, set/list/map element count. */
export function sizeOf(v: AttributeValue): number | undefined {
  if ('S' in v) return Buffer.byteLength(v.S, 'utf8');
  if ('B' in v) return decodeBinary(v.B).length;
  if ('SS' in v) return v.SS.length;
  if ('NS' in v) return v.NS.length;
  if ('BS' in v) return v.BS.length;
  if ('L' in v) return v.L.length;
  if ('M' in v) return Object.keys(v.M).length;
  return undefined;
}

export function resolveOperand(o: Operand, item: Item): AttributeValue | undefined {
  switch (o.type) {
    case 'path':
      return getPath(item, o.path);
    case 'value':
      return o.value;
    case 'size': {
      const v = resolveOperand(o.operand, item);
      const n = v === undefined ? undefined : sizeOf(v);
      return n === undefined ? undefined : { N: String(n) };
    }
  }
}

function ordered(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  return compareScalars(a, b);
}

function beginsWith(v: AttributeValue | undefined, prefix: AttributeValue | undefined): boolean {
  if (v === undefined || prefix === undefined) return false;
  if ('S' in v && 'S' in prefix) return v.S.startsWith(prefix.S);
  if ('B' in v && 'B' in prefix) {
    const a = decodeBinary(v.B);
    const p = decodeBinary(prefix.B);
    return a.length >= p.length && a.subarray(0, p.length).equals(p);
  }
  return false;
}

function contains(v: AttributeValue | undefined, x: AttributeValue | undefined): boolean {
  if (v === undefined || x === undefined) return false;
  if ('S' in v) return 'S' in x && v.S.includes(x.S);
  if ('B' in v) return 'B' in x && decodeBinary(v.B).includes(decodeBinary(x.B));
  if ('SS' in v) return 'S' in x && setHas('SS', v.SS, x.S);
  if ('NS' in v) return 'N' in x && setHas('NS', v.NS, x.N);
  if ('BS' in v) return 'B' in x && setHas('BS', v.BS, x.B);
  if ('L' in v) return v.L.some((e) => valuesEqual(e, x));
  return false;
}

/**
 * Evaluates a condition against an item (an empty object for "no item"). A missing
 * attribute or a type mismatch makes comparisons false, except `<>` which is then true.
 */
export function evaluateCondition(c: Condition, item: Item): boolean {
  switch (c.type) {
    case 'true':
      return true;
    case 'and':
      return evaluateCondition(c.left, item) && evaluateCondition(c.right, item);
    case 'or':
      return evaluateCondition(c.left, item) || evaluateCondition(c.right, item);
    case 'not':
      return !evaluateCondition(c.operand, item);
    case 'attribute_exists':
      return getPath(item, c.path) !== undefined;
    case 'attribute_not_exists':
      return getPath(item, c.path) === undefined;
    case 'attribute_type': {
      const v = getPath(item, c.path);
      const t = resolveOperand(c.attrType, item);
      return v !== undefined && t !== undefined && 'S' in t && typeOf(v) === t.S;
    }
    case 'begins_with':
      return beginsWith(resolveOperand(c.operand, item), resolveOperand(c.prefix, item));
    case 'contains':
      return contains(resolveOperand(c.operand, item), resolveOperand(c.value, item));
    case 'compare': {
      const a = resolveOperand(c.left, item);
      const b = resolveOperand(c.right, item);
      if (c.op === '=') return a !== undefined && b !== undefined && valuesEqual(a, b);
      if (c.op === '<>') return !(a !== undefined && b !== undefined && valuesEqual(a, b));
      const o = ordered(a, b);
      if (o === undefined) return false;
      return c.op === '<' ? o < 0 : c.op === '<=' ? o <= 0 : c.op === '>' ? o > 0 : o >= 0;
    }
    case 'between': {
      const v = resolveOperand(c.operand, item);
      const lo = ordered(v, resolveOperand(c.low, item));
      const hi = ordered(v, resolveOperand(c.high, item));
      return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    }
    case 'in': {
      const v = resolveOperand(c.operand, item);
      if (v === undefined) return false;
      return c.list.some((o) => {
        const x = resolveOperand(o, item);
        return x !== undefined && valuesEqual(v, x);
      });
    }
  }
}
