/**
 * DynamoDB expressions: parse, validate and evaluate. Pure, no I/O.
 *
 * Public API (stable; the engine imports only from here):
 *
 *   const tracker = createTracker(req.ExpressionAttributeNames, req.ExpressionAttributeValues);
 *   const cond  = compileCondition(req.ConditionExpression, tracker);            // Condition
 *   const filt  = compileCondition(req.FilterExpression, tracker, 'FilterExpression');
 *   const upd   = compileUpdate(req.UpdateExpression, tracker);                  // UpdateAst
 *   const proj  = compileProjection(req.ProjectionExpression, tracker);          // ProjectionAst
 *   const kc    = compileKeyCondition(req.KeyConditionExpression, tracker, { hash, range, types });
 *   tracker.assertAllUsed();      // once per request, after every expression was compiled
 *
 *   evaluateCondition(cond, item)            -> boolean (item = {} when there is no item)
 *   applyUpdate(upd.actions, item)           -> { item, changedPaths } (input not modified)
 *   project(item, proj.paths)                -> Item
 *   keyConditionToCondition(kc)              -> Condition (to test an item against a key condition)
 *
 * Legacy parameters map to the same ASTs: expectedToCondition, filterToCondition,
 * keyConditionsToAst, attributeUpdatesToActions, attributesToGetToPaths; and
 * assertNoMixedParameters(request, exprParams, legacyParams) raises DynamoDB's "Can not use
 * both expression and non-expression parameters" error.
 *
 * Notes for the engine: compile in DynamoDB's order (Update, Condition, KeyCondition, Filter,
 * Projection) so the first error reported matches; UPDATED_NEW / UPDATED_OLD are
 * project(newItem | oldItem, changedPaths); key attributes in changedPaths must be refused
 * by the engine ("Cannot update attribute ..."); item size and key checks are the engine's.
 *
 * Every error is an AwsError (ValidationException, 400) with DynamoDB's message, prefixed
 * "Invalid <Kind>: " for errors found in an expression.
 */
import type { Condition, KeyConditionAst, ProjectionAst, UpdateAst } from './ast.js';
import { ExpressionError, invalidExpression, type ExpressionKind } from './errors.js';
import type { KeySchema } from './key-condition.js';
import { toKeyCondition } from './key-condition.js';
import { parseConditionExpression, parseProjectionExpression, parseUpdateExpression } from './parser.js';
import type { ExpressionTracker } from './tracker.js';

export * from './ast.js';
export { ExpressionTracker, createTracker } from './tracker.js';
export { evaluateCondition, getPath, resolveOperand, sizeOf } from './evaluate.js';
export { applyUpdate, type UpdateResult } from './update.js';
export { project } from './projection.js';
export type { KeySchema } from './key-condition.js';
export {
  expectedToCondition,
  filterToCondition,
  keyConditionsToAst,
  attributeUpdatesToActions,
  attributesToGetToPaths,
  assertNoMixedParameters,
  type LegacyCondition,
  type LegacyAttributeUpdate,
} from './legacy.js';
export { RESERVED_WORDS, isReservedWord } from './reserved-words.js';
export { evalErrors } from './errors.js';
export type { ExpressionKind } from './errors.js';

/** DynamoDB's limit on an expression string (4 KB). */
export const MAX_EXPRESSION_BYTES = 4096;

function compile<T>(kind: ExpressionKind, expr: string, body: () => T): T {
  if (Buffer.byteLength(expr, 'utf8') > MAX_EXPRESSION_BYTES)
    throw invalidExpression(kind, 'Expression size has exceeded the maximum allowed size;');
  try {
    return body();
  } catch (e) {
    if (e instanceof ExpressionError) throw invalidExpression(kind, e.detail);
    throw e;
  }
}

export function compileCondition(
  expr: string,
  tracker: ExpressionTracker,
  kind: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression',
): Condition {
  return compile(kind, expr, () => parseConditionExpression(expr, tracker));
}

export function compileUpdate(expr: string, tracker: ExpressionTracker): UpdateAst {
  return compile('UpdateExpression', expr, () => ({ actions: parseUpdateExpression(expr, tracker) }));
}

export function compileProjection(expr: string, tracker: ExpressionTracker): ProjectionAst {
  return compile('ProjectionExpression', expr, () => ({ paths: parseProjectionExpression(expr, tracker) }));
}

export function compileKeyCondition(
  expr: string,
  tracker: ExpressionTracker,
  schema: KeySchema,
): KeyConditionAst {
  return compile('KeyConditionExpression', expr, () =>
    toKeyCondition(parseConditionExpression(expr, tracker), schema),
  );
}

/** A key condition as a plain condition (hash equality AND the range condition). */
export function keyConditionToCondition(kc: KeyConditionAst): Condition {
  const hash: Condition = {
    type: 'compare',
    op: '=',
    left: { type: 'path', path: [kc.hash.name] },
    right: { type: 'value', value: kc.hash.value },
  };
  if (!kc.range) return hash;
  const path = { type: 'path' as const, path: [kc.range.name] };
  const v = kc.range.values.map((value) => ({ type: 'value' as const, value }));
  let range: Condition;
  if (kc.range.op === 'BETWEEN') range = { type: 'between', operand: path, low: v[0], high: v[1] };
  else if (kc.range.op === 'BEGINS_WITH') range = { type: 'begins_with', operand: path, prefix: v[0] };
  else range = { type: 'compare', op: kc.range.op, left: path, right: v[0] };
  return { type: 'and', left: hash, right: range };
}
