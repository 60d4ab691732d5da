/**
 * The legacy (pre-expression) parameters converted to the same ASTs: Expected,
 * QueryFilter/ScanFilter with ConditionalOperator, KeyConditions, AttributeUpdates and
 * AttributesToGet. Validation messages follow DynamoDB's.
 */
import type { AttributeValue } from '../types/attribute-value.js';
import { compareScalars, typeOf } from '../types/attribute-value.js';
import { validateAttributeValue } from '../types/validate.js';
import type { Condition, DocPath, KeyConditionAst, KeyRangeOp, Operand, UpdateAction } from './ast.js';
import { validation } from './errors.js';
import { fromLeaves, type KeyLeaf, type KeySchema } from './key-condition.js';

export interface LegacyCondition {
  ComparisonOperator?: string;
  AttributeValueList?: unknown[];
  Value?: unknown;
  Exists?: boolean;
}

export interface LegacyAttributeUpdate {
  Action?: 'PUT' | 'ADD' | 'DELETE' | string;
  Value?: unknown;
}

const invalid = (detail: string) => validation(`One or more parameter values were invalid: ${detail}`);

const ARG_COUNTS: Record<string, [number, number]> = {
  EQ: [1, 1],
  NE: [1, 1],
  LE: [1, 1],
  LT: [1, 1],
  GE: [1, 1],
  GT: [1, 1],
  CONTAINS: [1, 1],
  NOT_CONTAINS: [1, 1],
  BEGINS_WITH: [1, 1],
  NOT_NULL: [0, 0],
  NULL: [0, 0],
  IN: [1, Infinity],
  BETWEEN: [2, 2],
};

const ALLOWED_TYPES: Record<string, string[]> = {
  LE: ['S', 'N', 'B'],
  LT: ['S', 'N', 'B'],
  GE: ['S', 'N', 'B'],
  GT: ['S', 'N', 'B'],
  CONTAINS: ['S', 'N', 'B'],
  NOT_CONTAINS: ['S', 'N', 'B'],
  BEGINS_WITH: ['S', 'B'],
  IN: ['S', 'N', 'B'],
  BETWEEN: ['S', 'N', 'B'],
};

/** Checks a ComparisonOperator + values and returns the condition on attribute `name`. */
function comparison(name: string, op: string, rawValues: unknown[], checkTypes: boolean): Condition {
  const counts = ARG_COUNTS[op];
  if (counts === undefined)
    throw validation(
      `1 validation error detected: Value '${op}' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]`,
    );
  const values = rawValues.map((v) => validateAttributeValue(v));
  if (values.length < counts[0] || values.length > counts[1])
    throw invalid(`Invalid number of argument(s) for the ${op} ComparisonOperator`);
  if (values.length > 0) {
    const t = typeOf(values[0]);
    if (values.some((v) => typeOf(v) !== t))
      throw invalid('AttributeValues inside AttributeValueList must be of same type');
  }
  if (checkTypes && ALLOWED_TYPES[op]) {
    for (const v of values)
      if (!ALLOWED_TYPES[op].includes(typeOf(v)))
        throw invalid(`ComparisonOperator ${op} is not valid for ${typeOf(v)} AttributeValue type`);
  }
  if (op === 'BETWEEN' && (compareScalars(values[0], values[1]) ?? 0) > 0)
    throw validation(
      'The BETWEEN condition was provided a range where the lower bound is greater than the upper bound',
    );
  const path: Operand = { type: 'path', path: [name] };
  const val = (i: number): Operand => ({ type: 'value', value: values[i] });
  switch (op) {
    case 'EQ':
      return { type: 'compare', op: '=', left: path, right: val(0) };
    case 'NE':
      return { type: 'compare', op: '<>', left: path, right: val(0) };
    case 'LT':
      return { type: 'compare', op: '<', left: path, right: val(0) };
    case 'LE':
      return { type: 'compare', op: '<=', left: path, right: val(0) };
    case 'GT':
      return { type: 'compare', op: '>', left: path, right: val(0) };
    case 'GE':
      return { type: 'compare', op: '>=', left: path, right: val(0) };
    case 'NOT_NULL':
      return { type: 'attribute_exists', path: [name] };
    case 'NULL':
      return { type: 'attribute_not_exists', path: [name] };
    case 'CONTAINS':
      return { type: 'contains', operand: path, value: val(0) };
    case 'NOT_CONTAINS':
      return {
        type: 'and',
        left: { type: 'attribute_exists', path: [name] },
        right: { type: 'not', operand: { type: 'contains', operand: path, value: val(0) } },
      };
    case 'BEGINS_WITH':
      return { type: 'begins_with', operand: path, prefix: val(0) };
    case 'IN':
      return { type: 'in', operand: path, list: values.map((_, i) => val(i)) };
    default:
      return { type: 'between', operand: path, low: val(0), high: val(1) };
  }
}

function combine(conditions: Condition[], conditionalOperator: string | undefined): Condition {
  if (conditions.length === 0) return { type: 'true' };
  const type = conditionalOperator === 'OR' ? 'or' : 'and';
  return conditions.reduce((left, right) => ({ type, left, right }));
}

/** `Expected` (PutItem/UpdateItem/DeleteItem) with its `ConditionalOperator`. */
export function expectedToCondition(
  expected: Record<string, LegacyCondition>,
  conditionalOperator?: string,
): Condition {
  const out: Condition[] = [];
  for (const [name, c] of Object.entries(expected)) {
    if (c.AttributeValueList !== undefined && c.Value !== undefined)
      throw invalid(`Value and AttributeValueList cannot be used together for Attribute: ${name}`);
    if (c.ComparisonOperator !== undefined) {
      if (c.Exists !== undefined)
        throw invalid(`Exists and ComparisonOperator cannot be used together for Attribute: ${name}`);
      const list = c.AttributeValueList ?? (c.Value !== undefined ? [c.Value] : []);
      if (
        c.ComparisonOperator !== 'NULL' &&
        c.ComparisonOperator !== 'NOT_NULL' &&
        c.AttributeValueList === undefined &&
        c.Value === undefined
      )
        throw invalid(
          `Value or AttributeValueList must be used with ComparisonOperator: ${c.ComparisonOperator} for Attribute: ${name}`,
        );
      out.push(comparison(name, c.ComparisonOperator, list, false));
    } else if (c.AttributeValueList !== undefined) {
      throw invalid(`AttributeValueList can only be used with a ComparisonOperator for Attribute: ${name}`);
    } else {
      const exists = c.Exists === undefined || c.Exists;
      if (exists && c.Value === undefined)
        throw invalid(
          `Value must be provided when Exists is ${c.Exists === undefined ? 'null' : String(c.Exists)} for Attribute: ${name}`,
        );
      if (!exists && c.Value !== undefined)
        throw invalid(`Value cannot be used when Exists is false for Attribute: ${name}`);
      out.push(
        exists ? comparison(name, 'EQ', [c.Value], false) : { type: 'attribute_not_exists', path: [name] },
      );
    }
  }
  return combine(out, conditionalOperator);
}

/** `QueryFilter` / `ScanFilter` with their `ConditionalOperator`. */
export function filterToCondition(
  filter: Record<string, LegacyCondition>,
  conditionalOperator?: string,
): Condition {
  const out = Object.entries(filter).map(([name, c]) =>
    comparison(name, c.ComparisonOperator ?? '', c.AttributeValueList ?? [], true),
  );
  return combine(out, conditionalOperator);
}

const KEY_OPS: Record<string, KeyRangeOp> = {
  EQ: '=',
  LT: '<',
  LE: '<=',
  GT: '>',
  GE: '>=',
  BETWEEN: 'BETWEEN',
  BEGINS_WITH: 'BEGINS_WITH',
};

/** Legacy `KeyConditions` of a Query. */
export function keyConditionsToAst(
  keyConditions: Record<string, LegacyCondition>,
  schema: KeySchema,
): KeyConditionAst {
  const leaves: KeyLeaf[] = [];
  for (const [name, c] of Object.entries(keyConditions)) {
    const op = c.ComparisonOperator ?? '';
    comparison(name, op, c.AttributeValueList ?? [], true); // validates count and types
    const mapped = KEY_OPS[op];
    if (mapped === undefined)
      throw validation('Attempted conditional constraint is not an indexable operation');
    leaves.push({
      name,
      op: mapped,
      values: (c.AttributeValueList ?? []).map((v) => validateAttributeValue(v)),
    });
  }
  return fromLeaves(leaves, schema);
}

/** Legacy `AttributeUpdates` of UpdateItem. */
export function attributeUpdatesToActions(updates: Record<string, LegacyAttributeUpdate>): UpdateAction[] {
  const out: UpdateAction[] = [];
  for (const [name, u] of Object.entries(updates)) {
    const action = u.Action ?? 'PUT';
    const path: DocPath = [name];
    const value = u.Value === undefined ? undefined : validateAttributeValue(u.Value);
    if (action === 'PUT') {
      if (value === undefined)
        throw invalid('Only DELETE action is allowed when no attribute value is specified');
      out.push({ type: 'SET', path, value: { type: 'operand', operand: { type: 'value', value } } });
    } else if (action === 'DELETE') {
      if (value === undefined) out.push({ type: 'REMOVE', path });
      else {
        const t = typeOf(value);
        if (t !== 'SS' && t !== 'NS' && t !== 'BS')
          throw invalid(`DELETE action with value is not supported for the type ${t}`);
        out.push({ type: 'DELETE', path, value });
      }
    } else if (action === 'ADD') {
      if (value === undefined)
        throw invalid('Only DELETE action is allowed when no attribute value is specified');
      const t = typeOf(value);
      if (t === 'L') {
        const empty: AttributeValue = { L: [] };
        out.push({
          type: 'SET',
          path,
          value: {
            type: 'list_append',
            first: {
              type: 'if_not_exists',
              path,
              fallback: { type: 'operand', operand: { type: 'value', value: empty } },
            },
            second: { type: 'operand', operand: { type: 'value', value } },
          },
        });
      } else if (t === 'N' || t === 'SS' || t === 'NS' || t === 'BS') out.push({ type: 'ADD', path, value });
      else throw invalid(`ADD action is not supported for the type ${t}`);
    } else {
      throw validation(
        `1 validation error detected: Value '${action}' at 'attributeUpdates.${name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]`,
      );
    }
  }
  return out;
}

/** Legacy `AttributesToGet`: top-level attribute names as projection paths. */
export function attributesToGetToPaths(names: string[]): DocPath[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw invalid(`Duplicate value in attribute name: ${n}`);
    seen.add(n);
  }
  return names.map((n) => [n]);
}

/**
 * DynamoDB refuses a request that mixes legacy and expression parameters. `expressionParams`
 * and `legacyParams` list the parameter names the operation supports, in DynamoDB's order
 * (e.g. for Query: ['ProjectionExpression', 'FilterExpression', 'KeyConditionExpression'] and
 * ['AttributesToGet', 'QueryFilter', 'ConditionalOperator', 'KeyConditions']).
 */
export function assertNoMixedParameters(
  request: Record<string, unknown>,
  expressionParams: readonly string[],
  legacyParams: readonly string[],
): void {
  const usedExpr = expressionParams.filter((p) => request[p] !== undefined && request[p] !== null);
  let usedLegacy = legacyParams.filter((p) => request[p] !== undefined && request[p] !== null);
  if (request.KeyConditions != null && request.KeyConditionExpression == null)
    usedLegacy = usedLegacy.filter((p) => p !== 'KeyConditions');
  if (usedExpr.length > 0 && usedLegacy.length > 0)
    throw validation(
      `Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${usedLegacy.join(', ')}} Expression parameters: {${usedExpr.join(', ')}}`,
    );
  if (request.ExpressionAttributeNames != null && usedExpr.length === 0)
    throw validation('ExpressionAttributeNames can only be specified when using expressions');
  const valueExprs = expressionParams.filter((p) => p !== 'ProjectionExpression');
  if (
    request.ExpressionAttributeValues != null &&
    valueExprs.length > 0 &&
    valueExprs.every((p) => request[p] == null)
  )
    throw validation(
      `ExpressionAttributeValues can only be specified when using expressions: ${valueExprs.join(' and ')} ${valueExprs.length > 1 ? 'are' : 'is'} null`,
    );
}
