/**
 * KeyConditionExpression: parsed with the condition grammar, then checked for the shape a
 * Query accepts (hash = :v [AND one range-key condition]) against the table's key schema.
 */
import type { AttributeValue } from '../types/attribute-value.js';
import { typeOf } from '../types/attribute-value.js';
import type { Condition, KeyConditionAst, KeyRangeOp, Operand } from './ast.js';
import { validation } from './errors.js';

export interface KeySchema {
  hash: string;
  range?: string;
  /** Attribute types of the key attributes (S, N or B), to check the values' types. */
  types?: Record<string, 'S' | 'N' | 'B'>;
}

interface Leaf {
  name: string;
  op: KeyRangeOp;
  values: AttributeValue[];
}

const FLIP: Record<string, KeyRangeOp> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function keyName(o: Operand): string | undefined {
  if (o.type !== 'path') return undefined;
  if (o.path.length > 1)
    throw validation('KeyConditionExpressions cannot have conditions on nested attributes');
  return o.path[0] as string;
}

function value(o: Operand): AttributeValue {
  if (o.type === 'value') return o.value;
  throw validation('KeyConditionExpressions cannot contain nested operations');
}

function leaves(c: Condition, out: Leaf[]): void {
  switch (c.type) {
    case 'and':
      leaves(c.left, out);
      leaves(c.right, out);
      return;
    case 'or':
    case 'not':
    case 'in':
      throw validation(`Invalid operator used in KeyConditionExpression: ${c.type.toUpperCase()}`);
    case 'attribute_exists':
    case 'attribute_not_exists':
    case 'attribute_type':
    case 'contains':
      throw validation(`Invalid operator used in KeyConditionExpression: ${c.type}`);
    case 'true':
      throw validation('KeyConditionExpressions cannot contain nested operations');
    case 'compare': {
      if (c.op === '<>') throw validation('Invalid operator used in KeyConditionExpression: <>');
      if (c.left.type === 'size' || c.right.type === 'size')
        throw validation('KeyConditionExpressions cannot contain nested operations');
      const l = keyName(c.left);
      const r = keyName(c.right);
      if (l !== undefined && r !== undefined)
        throw validation(
          'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
        );
      if (l === undefined && r === undefined)
        throw validation('Invalid condition in KeyConditionExpression: No key attribute specified');
      if (l !== undefined) out.push({ name: l, op: c.op, values: [value(c.right)] });
      else out.push({ name: r as string, op: FLIP[c.op], values: [value(c.left)] });
      return;
    }
    case 'between': {
      const n = keyName(c.operand);
      if (n === undefined)
        throw validation(
          'Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand',
        );
      out.push({ name: n, op: 'BETWEEN', values: [value(c.low), value(c.high)] });
      return;
    }
    case 'begins_with': {
      const n = keyName(c.operand);
      if (n === undefined)
        throw validation(
          'Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand',
        );
      out.push({ name: n, op: 'BEGINS_WITH', values: [value(c.prefix)] });
      return;
    }
  }
}

/** Turns a parsed condition into a key condition, or throws (detail errors are ExpressionError). */
export function toKeyCondition(c: Condition, schema: KeySchema): KeyConditionAst {
  const list: Leaf[] = [];
  leaves(c, list);
  const seen = new Set<string>();
  for (const l of list) {
    if (seen.has(l.name)) throw validation('KeyConditionExpressions must only contain one condition per key');
    seen.add(l.name);
  }
  return fromLeaves(list, schema);
}

/** Shared with the legacy KeyConditions parameter: schema checks on per-key conditions. */
export function fromLeaves(list: Leaf[], schema: KeySchema): KeyConditionAst {
  if (list.length > 2) throw validation('Conditions can be of length 1 or 2 only');
  const hash = list.find((l) => l.name === schema.hash);
  if (hash === undefined) throw validation(`Query condition missed key schema element: ${schema.hash}`);
  const others = list.filter((l) => l !== hash);
  if (hash.op !== '=') throw validation('Query key condition not supported');
  if (others.length === 1 && others[0].name !== schema.range) {
    if (schema.range === undefined) throw validation('Query key condition not supported');
    throw validation(`Query condition missed key schema element: ${schema.range}`);
  }
  for (const l of list) {
    const want = schema.types?.[l.name];
    if (want !== undefined && l.values.some((v) => typeOf(v) !== want))
      throw validation(
        'One or more parameter values were invalid: Condition parameter type does not match schema type',
      );
    if (l.op === 'BEGINS_WITH' && l.values.some((v) => typeOf(v) === 'N'))
      throw validation('Query key condition not supported');
  }
  const range = others[0];
  return {
    hash: { name: hash.name, value: hash.values[0] },
    ...(range ? { range: { name: range.name, op: range.op, values: range.values } } : {}),
  };
}

export type { Leaf as KeyLeaf };
