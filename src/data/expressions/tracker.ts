/**
 * The request's ExpressionAttributeNames / ExpressionAttributeValues, and which of them the
 * request's expressions used. DynamoDB checks "unused" across all expressions of a request,
 * so the caller compiles every expression with one tracker, then calls `assertAllUsed()`.
 */
import type { AttributeValue } from '../types/attribute-value.js';
import { validateAttributeValue } from '../types/validate.js';
import { isAwsError } from '../../protocols/errors.js';
import { validation } from './errors.js';

const NAME_KEY = /^#[0-9A-Za-z_]+$/;
const VALUE_KEY = /^:[0-9A-Za-z_]+$/;

export class ExpressionTracker {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();

  /** Use `createTracker` for wire input: it validates the maps first. */
  constructor(
    readonly names: Readonly<Record<string, string>> = {},
    readonly values: Readonly<Record<string, AttributeValue>> = {},
  ) {}

  /** The attribute name a `#placeholder` stands for (and marks it used), or undefined. */
  name(placeholder: string): string | undefined {
    if (!Object.hasOwn(this.names, placeholder)) return undefined;
    this.usedNames.add(placeholder);
    return this.names[placeholder];
  }

  /** The value a `:placeholder` stands for (and marks it used), or undefined. */
  value(placeholder: string): AttributeValue | undefined {
    if (!Object.hasOwn(this.values, placeholder)) return undefined;
    this.usedValues.add(placeholder);
    return this.values[placeholder];
  }

  /** Throws DynamoDB's "unused" error for names first, then values. */
  assertAllUsed(): void {
    const names = Object.keys(this.names).filter((k) => !this.usedNames.has(k));
    if (names.length > 0)
      throw validation(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${names.join(', ')}}`,
      );
    const values = Object.keys(this.values).filter((k) => !this.usedValues.has(k));
    if (values.length > 0)
      throw validation(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${values.join(', ')}}`,
      );
  }
}

/**
 * Validates the wire maps (empty maps, key syntax, each value) with DynamoDB's messages and
 * returns a tracker whose values are normalised (canonical numbers).
 */
export function createTracker(
  names: Record<string, string> | undefined,
  values: Record<string, unknown> | undefined,
): ExpressionTracker {
  if (names !== undefined) {
    const keys = Object.keys(names);
    if (keys.length === 0) throw validation('ExpressionAttributeNames must not be empty');
    for (const k of keys)
      if (!NAME_KEY.test(k))
        throw validation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
  }
  const checked: Record<string, AttributeValue> = {};
  if (values !== undefined) {
    const keys = Object.keys(values);
    if (keys.length === 0) throw validation('ExpressionAttributeValues must not be empty');
    for (const k of keys)
      if (!VALUE_KEY.test(k))
        throw validation(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
    for (const k of keys) {
      try {
        checked[k] = validateAttributeValue(values[k]);
      } catch (e) {
        if (!isAwsError(e)) throw e;
        throw validation(`ExpressionAttributeValues contains invalid value: ${e.message} for key ${k}`);
      }
    }
  }
  return new ExpressionTracker(names ?? {}, checked);
}
