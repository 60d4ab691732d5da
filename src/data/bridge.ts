/**
 * The engine's one door to the attribute-value types and expression language (owned by
 * src/data/types and src/data/expressions). Everything the engine needs from them goes
 * through the functions here, so the engine does not depend on their internals.
 *
 */
import { AwsError } from '../protocols/errors.js';
import * as types from './types/index.js';
import * as X from './expressions/index.js';

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

/** The names and values of one request, with what its expressions used. */
export type ExprContext = X.ExpressionTracker;

/** Validates (and normalises) ExpressionAttributeNames/Values. */
export function exprContext(names: Record<string, string> | undefined, values: unknown): ExprContext {
  // Without names and values nothing can be looked up or marked used: one shared tracker.
  if (names === undefined && values === undefined) return EMPTY_CONTEXT;
  return X.createTracker(names, values as Record<string, unknown> | undefined);
}

const EMPTY_CONTEXT: ExprContext = X.createTracker(undefined, undefined);

/** After compiling every expression of a request: unused names/values are errors. */
export function finishExprContext(ctx: ExprContext): void {
  ctx.assertAllUsed();
}

export type Condition = (item: Item | undefined) => boolean;
export interface UpdateResult {
  item: Item;
  /** Top-level attribute names the update touched. */
  changed: string[];
  /**
   * ReturnValues UPDATED_OLD / UPDATED_NEW: only the document paths the update wrote (nested
   * fragments, not whole top-level attributes), from the item before (`old`: every action's
   * path) or after it (`new`: all but REMOVE), as DynamoDB answers.
   */
  updated: (item: Item, when: 'old' | 'new') => Item;
}
export type Update = (item: Item | undefined) => UpdateResult;
export type Projector = (item: Item) => Item;

export type KeyOp = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE' | 'BETWEEN' | 'BEGINS_WITH';
export interface KeyCondition {
  hashValue: AttributeValue;
  range?: { op: KeyOp; values: AttributeValue[] };
}

const OPS: Record<X.KeyRangeOp, KeyOp> = {
  '=': 'EQ',
  '<': 'LT',
  '<=': 'LE',
  '>': 'GT',
  '>=': 'GE',
  BETWEEN: 'BETWEEN',
  BEGINS_WITH: 'BEGINS_WITH',
};

function asCondition(c: X.Condition): Condition {
  return (item) => X.evaluateCondition(c, (item ?? {}) as types.Item);
}

export function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  const c = types.compareScalars(a as types.AttributeValue, b as types.AttributeValue);
  if (c !== undefined) return c;
  return types.valuesEqual(a as types.AttributeValue, b as types.AttributeValue) ? 0 : undefined;
}

export function compileCondition(
  ctx: ExprContext,
  expr: string,
  kind: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression',
): Condition {
  return asCondition(X.compileCondition(expr, ctx, kind));
}

/** Legacy Expected (+ ConditionalOperator). */
export function expectedCondition(expected: Record<string, unknown>, op?: string): Condition {
  return asCondition(X.expectedToCondition(expected as Record<string, X.LegacyCondition>, op));
}

/** Legacy QueryFilter / ScanFilter (+ ConditionalOperator). */
export function legacyFilter(filter: Record<string, unknown>, op?: string): Condition {
  return asCondition(X.filterToCondition(filter as Record<string, X.LegacyCondition>, op));
}

function asUpdate(actions: readonly X.UpdateAction[]): Update {
  const written = actions.filter((a) => a.type !== 'REMOVE').map((a) => a.path);
  const updated = (item: Item, when: 'old' | 'new'): Item =>
    X.project(item as types.Item, when === 'new' ? written : actions.map((a) => a.path)) as Item;
  return (old) => {
    const r = X.applyUpdate(actions, (old ?? {}) as types.Item);
    const changed = [...new Set(r.changedPaths.map((p) => String(p[0])))];
    return { item: r.item as Item, changed, updated };
  };
}

export function compileUpdate(ctx: ExprContext, expr: string): Update {
  return asUpdate(X.compileUpdate(expr, ctx).actions);
}

/** Legacy AttributeUpdates. */
export function attributeUpdates(au: Record<string, unknown>): Update {
  return asUpdate(X.attributeUpdatesToActions(au as Record<string, X.LegacyAttributeUpdate>));
}

export function compileProjection(ctx: ExprContext, expr: string): Projector {
  const { paths } = X.compileProjection(expr, ctx);
  return (item) => X.project(item as types.Item, paths) as Item;
}

export function attributesToGetProjector(list: string[]): Projector {
  const paths = X.attributesToGetToPaths(list);
  return (item) => X.project(item as types.Item, paths) as Item;
}

export interface KeySchemaTypes {
  hash: string;
  hashType: 'S' | 'N' | 'B';
  range?: string;
  rangeType?: 'S' | 'N' | 'B';
}

function schemaOf(keys: KeySchemaTypes): X.KeySchema {
  const t: Record<string, 'S' | 'N' | 'B'> = { [keys.hash]: keys.hashType };
  if (keys.range) t[keys.range] = keys.rangeType!;
  return { hash: keys.hash, range: keys.range, types: t };
}

function asKeyCondition(kc: X.KeyConditionAst): KeyCondition {
  return {
    hashValue: kc.hash.value,
    range: kc.range ? { op: OPS[kc.range.op], values: kc.range.values } : undefined,
  };
}

export function compileKeyCondition(ctx: ExprContext, expr: string, keys: KeySchemaTypes): KeyCondition {
  return asKeyCondition(X.compileKeyCondition(expr, ctx, schemaOf(keys)));
}

/** Legacy KeyConditions. */
export function legacyKeyConditions(kc: Record<string, unknown>, keys: KeySchemaTypes): KeyCondition {
  return asKeyCondition(X.keyConditionsToAst(kc as Record<string, X.LegacyCondition>, schemaOf(keys)));
}

export const assertNoMixedParameters = X.assertNoMixedParameters;

/** A canonical plain integer text (valid, and normalises to itself). */
export const isCanonicalInteger = types.isCanonicalInteger;

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
