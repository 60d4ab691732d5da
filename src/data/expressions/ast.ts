/**
 * Expression ASTs. Placeholders are already resolved: `#n` became the attribute name it
 * stands for and `:v` the AttributeValue, so evaluators never see the request's maps.
 */
import type { AttributeValue } from '../types/attribute-value.js';

/** A document path: attribute names (strings) and list indexes (numbers), e.g. a.b[2].c. */
export type DocPath = Array<string | number>;

/** A value a condition or update reads. */
export type Operand =
  | { type: 'path'; path: DocPath }
  | { type: 'value'; value: AttributeValue; placeholder?: string }
  | { type: 'size'; operand: Operand };

export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { type: 'compare'; op: Comparator; left: Operand; right: Operand }
  | { type: 'between'; operand: Operand; low: Operand; high: Operand }
  | { type: 'in'; operand: Operand; list: Operand[] }
  | { type: 'and'; left: Condition; right: Condition }
  | { type: 'or'; left: Condition; right: Condition }
  | { type: 'not'; operand: Condition }
  | { type: 'attribute_exists'; path: DocPath }
  | { type: 'attribute_not_exists'; path: DocPath }
  | { type: 'attribute_type'; path: DocPath; attrType: Operand }
  | { type: 'begins_with'; operand: Operand; prefix: Operand }
  | { type: 'contains'; operand: Operand; value: Operand }
  /** Always true (an empty legacy condition). */
  | { type: 'true' };

/** The right-hand side of a SET action. */
export type SetValue =
  | { type: 'operand'; operand: Operand }
  | { type: 'plus' | 'minus'; left: SetValue; right: SetValue }
  | { type: 'if_not_exists'; path: DocPath; fallback: SetValue }
  | { type: 'list_append'; first: SetValue; second: SetValue };

export type UpdateAction =
  | { type: 'SET'; path: DocPath; value: SetValue }
  | { type: 'REMOVE'; path: DocPath }
  | { type: 'ADD'; path: DocPath; value: AttributeValue }
  | { type: 'DELETE'; path: DocPath; value: AttributeValue };

export interface UpdateAst {
  actions: UpdateAction[];
}

export interface ProjectionAst {
  paths: DocPath[];
}

export type KeyRangeOp = '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'BEGINS_WITH';

/** A validated key condition: equality on the hash key, optionally one range-key condition. */
export interface KeyConditionAst {
  hash: { name: string; value: AttributeValue };
  range?: { name: string; op: KeyRangeOp; values: AttributeValue[] };
}

/** Formats a path as DynamoDB's messages do: [a, b, [2]]. */
export function pathToString(path: DocPath): string {
  return `[${path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join(', ')}]`;
}
