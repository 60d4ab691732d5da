/**
 * Validation of attribute values as they arrive on the wire, with DynamoDB's messages.
 * Returns normalised copies (numbers in canonical form) so stored items compare exactly.
 */
import { AwsError } from '../../protocols/errors.js';
import type { AttributeValue, Item } from './attribute-value.js';
import { ATTRIBUTE_TYPES, setMemberKey } from './attribute-value.js';
import { normalizeNumber } from './number.js';

/** Maximum nesting of L/M values (a document path may go 32 levels deep). */
export const MAX_NESTING_DEPTH = 32;

const invalid = (message: string) => new AwsError('ValidationException', message);

export const valueErrors = {
  empty: () =>
    invalid('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'),
  multiple: () =>
    invalid(
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    ),
  nullNotTrue: () =>
    invalid(
      'One or more parameter values were invalid: Null attribute value types must have the value of true',
    ),
  emptySS: () => invalid('One or more parameter values were invalid: An string set  may not be empty'),
  emptyNS: () => invalid('One or more parameter values were invalid: An number set  may not be empty'),
  emptyBS: () => invalid('One or more parameter values were invalid: Binary sets should not be empty'),
  duplicateSS: (members: string[]) =>
    invalid(
      `One or more parameter values were invalid: Input collection [${members.join(', ')}] contains duplicates.`,
    ),
  duplicateNS: () => invalid('Input collection contains duplicates'),
  duplicateBS: (members: string[]) =>
    invalid(
      `One or more parameter values were invalid: Input collection [${members.join(', ')}]of type BS contains duplicates.`,
    ),
  nesting: () => invalid('Nesting Levels have exceeded supported limits'),
  notNumeric: () => invalid('The parameter cannot be converted to a numeric value'),
};

function hasDuplicate(type: 'SS' | 'NS' | 'BS', members: string[]): boolean {
  const seen = new Set<string>();
  for (const m of members) {
    const k = setMemberKey(type, m);
    if (seen.has(k)) return true;
    seen.add(k);
  }
  return false;
}

function number(text: unknown): string {
  if (typeof text !== 'string' || text === '') throw valueErrors.notNumeric();
  return normalizeNumber(text);
}

/**
 * Validates one wire attribute value (any depth) and returns it normalised. `depth` is the
 * nesting level of this value (top-level attributes are level 1).
 */
export function validateAttributeValue(raw: unknown, depth = 1): AttributeValue {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw valueErrors.empty();
  let out: AttributeValue | undefined;
  let count = 0;
  for (const type in raw as Record<string, unknown>) {
    const v = (raw as Record<string, unknown>)[type];
    if (v === undefined || v === null || !TYPES.has(type)) continue;
    const checked = validateOne(type, v, depth); // DynamoDB reports a bad member before "more than one"
    count++;
    out ??= checked;
  }
  if (out === undefined) throw valueErrors.empty();
  if (count > 1) throw valueErrors.multiple();
  return out;
}

const TYPES: ReadonlySet<string> = new Set(ATTRIBUTE_TYPES);

function validateOne(type: string, v: unknown, depth: number): AttributeValue {
  switch (type) {
    case 'S':
      return { S: String(v) };
    case 'B':
      return { B: String(v) };
    case 'BOOL':
      return { BOOL: Boolean(v) };
    case 'NULL':
      if (v !== true) throw valueErrors.nullNotTrue();
      return { NULL: true };
    case 'N':
      return { N: number(v) };
    case 'SS': {
      const members = (v as unknown[]).map(String);
      if (members.length === 0) throw valueErrors.emptySS();
      if (hasDuplicate('SS', members)) throw valueErrors.duplicateSS(members);
      return { SS: members };
    }
    case 'NS': {
      const raw = v as unknown[];
      if (raw.length === 0) throw valueErrors.emptyNS();
      const members = raw.map(number);
      if (hasDuplicate('NS', members)) throw valueErrors.duplicateNS();
      return { NS: members };
    }
    case 'BS': {
      const members = (v as unknown[]).map(String);
      if (members.length === 0) throw valueErrors.emptyBS();
      if (hasDuplicate('BS', members)) throw valueErrors.duplicateBS(members);
      return { BS: members };
    }
    case 'L': {
      if (depth > MAX_NESTING_DEPTH) throw valueErrors.nesting();
      return { L: (v as unknown[]).map((e) => validateAttributeValue(e, depth + 1)) };
    }
    case 'M': {
      if (depth > MAX_NESTING_DEPTH) throw valueErrors.nesting();
      const m: Record<string, AttributeValue> = {};
      for (const [k, e] of Object.entries(v as Record<string, unknown>))
        m[k] = validateAttributeValue(e, depth + 1);
      return { M: m };
    }
  }
  throw valueErrors.empty();
}

/** Validates a whole wire item (attribute name -> value) and returns it normalised. */
export function validateItem(raw: Record<string, unknown>): Item {
  const item: Item = {};
  for (const [k, v] of Object.entries(raw)) item[k] = validateAttributeValue(v);
  return item;
}
