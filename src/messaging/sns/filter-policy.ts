/**
 * SNS subscription filter policies: validation (with AWS-style InvalidParameter messages)
 * and matching, for both scopes.
 *
 * - Scope `MessageAttributes`: the policy's keys are attribute names. String attributes
 *   compare as strings, Number attributes as numbers, String.Array attributes match when any
 *   element matches, Binary attributes only satisfy `exists`.
 * - Scope `MessageBody`: the message must be a JSON object; the policy nests like the body;
 *   a body array matches when any element matches.
 *
 * Operators: exact string/number/boolean/null, `prefix`, `suffix`, `equals-ignore-case`,
 * `anything-but` (a value, a list, or `{prefix}` / `{suffix}` / `{equals-ignore-case}`),
 * `numeric` ranges (`=`, `<`, `<=`, `>`, `>=`), `exists`, `cidr` (IPv4), and `$or`.
 */
import { AwsError } from '../../protocols/errors.js';

export type FilterScope = 'MessageAttributes' | 'MessageBody';

export interface AttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Buffer | string;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Policy = { [k: string]: Json };

const MAX_KEYS = 5;
const MAX_COMBINATIONS = 150;
const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);
const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

function invalid(detail: string): AwsError {
  return new AwsError('InvalidParameter', `Invalid parameter: FilterPolicy: ${detail}`, 400);
}

function isObject(v: unknown): v is { [k: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates a policy; throws InvalidParameter like SNS. An empty string clears the policy. */
export function parseFilterPolicy(text: string, scope: FilterScope): Policy | undefined {
  if (text.trim() === '' || text.trim() === '{}') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('failed to parse JSON');
  }
  if (!isObject(parsed)) throw invalid('Filter policy must be a JSON object');
  const combos = validateLevel(parsed, scope, 0);
  if (combos > MAX_COMBINATIONS) throw invalid('Filter policy is too complex');
  return parsed;
}

/**
 * EventBridge event patterns: the same operators and the same matching as a MessageBody
 * filter policy, applied to the event object (`source`, `detail-type`, `detail.…`), without
 * SNS's limits on keys and combinations. Throws InvalidEventPatternException.
 */
export function parseEventPattern(text: string): Policy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badPattern('Filter is not valid JSON');
  }
  if (!isObject(parsed)) throw badPattern('Filter is not an object');
  try {
    validateLevel(parsed, 'MessageBody', 0, true);
  } catch (e) {
    if (e instanceof AwsError) throw badPattern(e.message.replace('Invalid parameter: FilterPolicy: ', ''));
    throw e;
  }
  return parsed;
}

/** Whether an event matches a pattern from parseEventPattern. */
export function matchesEventPattern(pattern: Policy, event: object): boolean {
  return matchBody(pattern, [event as { [k: string]: Json }]);
}

export type EventPattern = Policy;

function badPattern(reason: string): AwsError {
  return new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`, 400);
}

/**
 * Returns the number of value combinations of this level (AWS limits them to 150). An event
 * pattern (`eventPattern`) has no limit on keys and may use `wildcard`.
 */
function validateLevel(policy: Policy, scope: FilterScope, depth: number, eventPattern = false): number {
  const keys = Object.keys(policy);
  if (keys.length === 0) throw invalid('Filter policy can not be empty');
  let leafKeys = 0;
  let combos = 1;
  for (const key of keys) {
    const value = policy[key];
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject))
        throw invalid('$or must be an array of at least 2 JSON objects');
      let sum = 0;
      for (const branch of value) sum += validateLevel(branch as Policy, scope, depth, eventPattern);
      combos *= sum;
      continue;
    }
    if (Array.isArray(value)) {
      if (value.length === 0) throw invalid(`Empty arrays are not allowed`);
      for (const cond of value) validateCondition(key, cond, eventPattern);
      leafKeys++;
      combos *= value.length;
    } else if (isObject(value)) {
      if (scope === 'MessageAttributes')
        throw invalid('Filter policy scope MessageAttributes does not support nested filter policy');
      combos *= validateLevel(value, scope, depth + 1, eventPattern);
    } else {
      throw invalid(`"${key}" must be an object or an array`);
    }
  }
  if (!eventPattern && leafKeys > MAX_KEYS) throw invalid('Filter policy can not have more than 5 keys');
  return combos;
}

function validateCondition(key: string, cond: Json, eventPattern = false): void {
  if (cond === null || typeof cond === 'string' || typeof cond === 'boolean') return;
  if (typeof cond === 'number') {
    if (!Number.isFinite(cond)) throw invalid(`Match value must be String, number, true, false, or null`);
    return;
  }
  if (Array.isArray(cond)) throw invalid('Match value must be String, number, true, false, or null');
  const ops = Object.keys(cond);
  if (ops.length !== 1) throw invalid(`Only one key allowed in match expression`);
  const op = ops[0];
  const arg = cond[op];
  if (op === 'wildcard' && eventPattern) {
    if (typeof arg !== 'string') throw invalid('wildcard match pattern must be a string');
    return;
  }
  if (!OPERATORS.has(op)) throw invalid(`Unrecognized match type ${op}`);
  switch (op) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw invalid(`${op} match pattern must be a string`);
      return;
    case 'exists':
      if (typeof arg !== 'boolean') throw invalid('exists match pattern must be either true or false.');
      return;
    case 'cidr':
      if (typeof arg !== 'string' || !parseCidr(arg)) throw invalid("Malformed CIDR, one '/' required");
      return;
    case 'anything-but':
      if (typeof arg === 'string' || typeof arg === 'number') return;
      if (Array.isArray(arg)) {
        if (arg.length === 0 || !arg.every((x) => typeof x === 'string' || typeof x === 'number'))
          throw invalid('Inside anything but list, start|null|boolean is not supported.');
        return;
      }
      if (isObject(arg)) {
        const inner = Object.keys(arg);
        if (
          inner.length !== 1 ||
          !['prefix', 'suffix', 'equals-ignore-case'].includes(inner[0]) ||
          typeof arg[inner[0]] !== 'string'
        )
          throw invalid('Unsupported anything-but pattern');
        return;
      }
      throw invalid('Value of anything-but must be an array or single string/number value.');
    case 'numeric':
      validateNumeric(arg);
      return;
  }
  void key;
}

function validateNumeric(arg: Json): void {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0 || arg.length > 4)
    throw invalid('Value of numeric must be an array.');
  let lower = 0;
  let upper = 0;
  let equals = 0;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op))
      throw invalid(`Unrecognized numeric range operator: ${String(op)}`);
    if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(`Value of ${op} must be numeric`);
    if (op === '=') equals++;
    else if (op === '>' || op === '>=') lower++;
    else upper++;
  }
  if (equals > 0 && arg.length > 2) throw invalid('Too many elements in numeric expression');
  if (lower > 1 || upper > 1) throw invalid('Too many elements in numeric expression');
  if (lower === 1 && upper === 1) {
    const lo = arg[0] === '>' || arg[0] === '>=' ? (arg[1] as number) : (arg[3] as number);
    const hi = arg[0] === '>' || arg[0] === '>=' ? (arg[3] as number) : (arg[1] as number);
    if (lo >= hi) throw invalid('Bottom must be less than top');
  }
}

// ---------------------------------------------------------------- matching

/** A field as the matcher sees it: whether it is present, and its comparable values. */
interface Field {
  present: boolean;
  values: Json[];
}

function attributeField(attr: AttributeValue | undefined): Field {
  if (!attr) return { present: false, values: [] };
  const type = attr.DataType;
  if (type.startsWith('Binary')) return { present: true, values: [] };
  const s = attr.StringValue ?? '';
  if (type.startsWith('Number')) {
    const n = Number(s);
    return { present: true, values: Number.isFinite(n) ? [n] : [] };
  }
  if (type.startsWith('String.Array')) {
    try {
      const arr = JSON.parse(s);
      if (Array.isArray(arr))
        return { present: true, values: arr.filter((x) => !isObject(x) && !Array.isArray(x)) };
    } catch {
      // not an array: no values
    }
    return { present: true, values: [] };
  }
  return { present: true, values: [s] };
}

export function matchesFilterPolicy(
  policy: Policy,
  scope: FilterScope,
  message: string,
  attributes: Record<string, AttributeValue>,
): boolean {
  if (scope === 'MessageAttributes') {
    return matchLevel(policy, (key) => ({ kind: 'leaf', field: attributeField(attributes[key]) }));
  }
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return false;
  }
  if (!isObject(body)) return false;
  return matchBody(policy, [body]);
}

type Lookup = (key: string) => { kind: 'leaf'; field: Field };

function matchLevel(policy: Policy, lookup: Lookup): boolean {
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or') {
      if (!(value as Policy[]).some((branch) => matchLevel(branch, lookup))) return false;
      continue;
    }
    if (!matchConditions(value as Json[], lookup(key).field)) return false;
  }
  return true;
}

/** Body scope: `objects` are the candidate objects at this level (arrays of objects fan out). */
function matchBody(policy: Policy, objects: { [k: string]: Json }[]): boolean {
  return objects.some((obj) => {
    for (const [key, value] of Object.entries(policy)) {
      if (key === '$or') {
        if (!(value as Policy[]).some((branch) => matchBody(branch, [obj]))) return false;
        continue;
      }
      const present = Object.prototype.hasOwnProperty.call(obj, key);
      const raw = present ? obj[key] : undefined;
      if (Array.isArray(value)) {
        const values = raw === undefined ? [] : Array.isArray(raw) ? raw.flat(Infinity as 1) : [raw];
        const field: Field = { present, values: values.filter((v) => !isObject(v)) as Json[] };
        if (!matchConditions(value, field)) return false;
      } else {
        const inner =
          raw === undefined ? [] : Array.isArray(raw) ? raw.filter(isObject) : isObject(raw) ? [raw] : [];
        if (inner.length === 0) {
          // A nested policy over a missing object can still match through `exists: false`.
          if (!matchBody(value as Policy, [{}])) return false;
        } else if (!matchBody(value as Policy, inner)) return false;
      }
    }
    return true;
  });
}

function matchConditions(conds: Json[], field: Field): boolean {
  return conds.some((c) => matchCondition(c, field));
}

function matchCondition(cond: Json, field: Field): boolean {
  if (isObject(cond)) {
    const op = Object.keys(cond)[0];
    const arg = cond[op];
    if (op === 'exists') return arg === field.present;
    if (!field.present) return false;
    return field.values.some((v) => matchOperator(op, arg, v));
  }
  if (!field.present) return false;
  return field.values.some((v) => v === cond);
}

function matchOperator(op: string, arg: Json, v: Json): boolean {
  switch (op) {
    case 'prefix':
      return typeof v === 'string' && v.startsWith(arg as string);
    case 'suffix':
      return typeof v === 'string' && v.endsWith(arg as string);
    case 'equals-ignore-case':
      return typeof v === 'string' && v.toLowerCase() === (arg as string).toLowerCase();
    case 'numeric':
      return typeof v === 'number' && numericMatch(arg as Json[], v);
    case 'cidr':
      return typeof v === 'string' && cidrMatch(arg as string, v);
    case 'wildcard':
      return typeof v === 'string' && wildcardRegExp(arg as string).test(v);
    case 'anything-but': {
      if (Array.isArray(arg)) return !arg.some((x) => x === v);
      if (isObject(arg)) {
        const inner = Object.keys(arg)[0];
        if (typeof v !== 'string') return true;
        return !matchOperator(inner, arg[inner], v);
      }
      return v !== arg;
    }
    default:
      return false;
  }
}

const wildcards = new Map<string, RegExp>();

/** EventBridge `wildcard`: `*` matches any run of characters, `\\*` a literal star. */
function wildcardRegExp(pattern: string): RegExp {
  let re = wildcards.get(pattern);
  if (!re) {
    let src = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\' && pattern[i + 1] === '*') {
        src += '\\*';
        i++;
      } else if (c === '*') src += '[\\s\\S]*';
      else src += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`);
    if (wildcards.size > 1000) wildcards.clear();
    wildcards.set(pattern, re);
  }
  return re;
}

function numericMatch(range: Json[], v: number): boolean {
  for (let i = 0; i < range.length; i += 2) {
    const n = range[i + 1] as number;
    switch (range[i]) {
      case '=':
        if (!(v === n)) return false;
        break;
      case '<':
        if (!(v < n)) return false;
        break;
      case '<=':
        if (!(v <= n)) return false;
        break;
      case '>':
        if (!(v > n)) return false;
        break;
      case '>=':
        if (!(v >= n)) return false;
        break;
    }
  }
  return true;
}

function ipv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function parseCidr(s: string): { base: number; bits: number } | undefined {
  const [addr, bitsText, extra] = s.split('/');
  if (extra !== undefined || bitsText === undefined || !/^\d{1,2}$/.test(bitsText)) return undefined;
  const base = ipv4(addr);
  const bits = Number(bitsText);
  if (base === undefined || bits > 32) return undefined;
  return { base, bits };
}

function cidrMatch(cidr: string, value: string): boolean {
  const c = parseCidr(cidr);
  const ip = ipv4(value);
  if (!c || ip === undefined) return false;
  const size = 2 ** (32 - c.bits);
  return Math.floor(ip / size) === Math.floor(c.base / size);
}
