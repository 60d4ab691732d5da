/**
 * Intrinsic functions: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, ... resolved against an
 * IntrinsicContext. `Ref: AWS::NoValue` removes the enclosing key or array element.
 */
import { TemplateError, type IntrinsicContext, type PseudoParameters } from '../types.js';
import { cidr } from './cidr.js';

/** What `Ref: AWS::NoValue` (and an `Fn::If` branch choosing it) resolves to before it is dropped. */
const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export const PSEUDO_PARAMETERS = [
  'AWS::AccountId',
  'AWS::Region',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::Partition',
  'AWS::URLSuffix',
  'AWS::NotificationARNs',
  'AWS::NoValue',
] as const;

export function isPseudoParameter(name: string): boolean {
  return (PSEUDO_PARAMETERS as readonly string[]).includes(name);
}

export function pseudoParameters(o: {
  accountId: string;
  region: string;
  stackName: string;
  stackId: string;
}): PseudoParameters {
  return {
    'AWS::AccountId': o.accountId,
    'AWS::Region': o.region,
    'AWS::StackName': o.stackName,
    'AWS::StackId': o.stackId,
    'AWS::Partition': o.region.startsWith('cn-')
      ? 'aws-cn'
      : o.region.startsWith('us-gov-')
        ? 'aws-us-gov'
        : 'aws',
    'AWS::URLSuffix': o.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com',
    'AWS::NotificationARNs': [],
  };
}

/** A one-key object whose key is an intrinsic function: its name, else undefined. */
export function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0];
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::') ? key : undefined;
}

/** Resolve every intrinsic function in `value` (recursively). `Ref: AWS::NoValue` at the top answers undefined. */
export function resolve(value: unknown, ctx: IntrinsicContext): unknown {
  const out = resolveValue(value, ctx);
  return out === NO_VALUE ? undefined : out;
}

function resolveValue(value: unknown, ctx: IntrinsicContext): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const r = resolveValue(item, ctx);
      if (r !== NO_VALUE) out.push(r);
    }
    return out;
  }
  if (value === null || typeof value !== 'object') return value;
  const fn = intrinsicName(value);
  if (fn) {
    const arg = (value as Record<string, unknown>)[fn];
    // `Condition` is only a function where a condition name is meant (Fn::If, Fn::And, ...); elsewhere it
    // is a plain key (IAM policy statements have one), so it is left alone unless it names a condition.
    if (fn !== 'Condition' || (typeof arg === 'string' && arg in ctx.conditions)) {
      return callFunction(fn, arg, ctx);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const r = resolveValue(v, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

function fail(message: string): never {
  throw new TemplateError(message);
}

function listArg(fn: string, arg: unknown, min: number, max = min): unknown[] {
  if (!Array.isArray(arg) || arg.length < min || arg.length > max) {
    fail(`Template error: every ${fn} object requires ${describeCount(min, max)}`);
  }
  return arg;
}

function describeCount(min: number, max: number): string {
  const words = ['zero', 'one', 'two', 'three', 'four', 'five'];
  const w = (n: number) => words[n] ?? String(n);
  return min === max ? `${w(min)} parameters` : `between ${w(min)} and ${w(max)} parameters`;
}

/** A scalar as a string, the way string functions use it. */
export function stringify(fn: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fail(`Template error: every ${fn} object requires string values, found ${describe(value)}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null || value === undefined) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

function resolveRef(name: unknown, ctx: IntrinsicContext): unknown {
  if (typeof name !== 'string') fail('Template error: every Ref object must have a single String value.');
  if (name === 'AWS::NoValue') return NO_VALUE;
  if (Object.prototype.hasOwnProperty.call(ctx.parameters, name)) return ctx.parameters[name];
  if (Object.prototype.hasOwnProperty.call(ctx.pseudo, name))
    return ctx.pseudo[name as keyof PseudoParameters];
  return ctx.ref(name);
}

/** `Fn::GetAtt` arguments as [logicalId, attribute] (the attribute may be a Ref in the list form). */
function getAttArgs(arg: unknown, ctx: IntrinsicContext): [string, string] {
  let parts: unknown[];
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    parts = dot < 0 ? [arg] : [arg.slice(0, dot), arg.slice(dot + 1)];
  } else parts = Array.isArray(arg) ? arg : [];
  const [id, attr] = parts.length === 2 ? [parts[0], resolveValue(parts[1], ctx)] : [];
  if (typeof id !== 'string' || typeof attr !== 'string' || !id || !attr) {
    fail(
      'Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute',
    );
  }
  return [id, attr];
}

/** The variables of an `Fn::Sub` string, in order (`${!Literal}` excluded). */
export function subVariables(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(/\$\{([^}]*)\}/g)) {
    if (!m[1].startsWith('!')) names.push(m[1].trim());
  }
  return names;
}

function resolveSub(arg: unknown, ctx: IntrinsicContext): string {
  let template: unknown = arg;
  let vars: Record<string, unknown> = {};
  if (Array.isArray(arg)) {
    if (arg.length !== 2 || arg[1] === null || typeof arg[1] !== 'object' || Array.isArray(arg[1])) {
      fail(
        "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
      );
    }
    template = arg[0];
    vars = resolveValue(arg[1], ctx) as Record<string, unknown>;
  }
  if (typeof template !== 'string') {
    fail(
      "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
    );
  }
  return template.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
    if (inner.startsWith('!')) return '${' + inner.slice(1) + '}';
    const name = inner.trim();
    let value: unknown;
    if (Object.prototype.hasOwnProperty.call(vars, name)) value = vars[name];
    else if (name.includes('.') && !name.startsWith('AWS::')) {
      const dot = name.indexOf('.');
      value = ctx.getAtt(name.slice(0, dot), name.slice(dot + 1));
    } else {
      value = resolveRef(name, ctx);
      if (value === NO_VALUE) value = '';
    }
    if (Array.isArray(value)) return value.map((v) => stringify('Fn::Sub', v)).join(',');
    return value === undefined ? whole : stringify('Fn::Sub', value);
  });
}

function toBoolean(fn: string, value: unknown, ctx: IntrinsicContext): boolean {
  const r =
    intrinsicName(value) === 'Condition'
      ? conditionValue((value as { Condition: unknown }).Condition, ctx, fn)
      : resolveValue(value, ctx);
  if (typeof r === 'boolean') return r;
  if (r === 'true') return true;
  if (r === 'false') return false;
  return fail(`Template error: every ${fn} object requires boolean parameters`);
}

function conditionValue(name: unknown, ctx: IntrinsicContext, fn = 'Fn::If'): boolean {
  if (typeof name !== 'string' || !(name in ctx.conditions)) {
    fail(`Template error: unresolved condition dependency ${String(name)} in ${fn}`);
  }
  return ctx.conditions[name];
}

function equalValues(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (scalar(a) && scalar(b)) return String(a) === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

function findInMap(arg: unknown, ctx: IntrinsicContext): unknown {
  const args = listArg('Fn::FindInMap', arg, 3, 4);
  const [map, top, second] = args.slice(0, 3).map((a) => resolveValue(a, ctx));
  let fallback: unknown = NO_VALUE;
  if (args.length === 4) {
    const opts = args[3] as Record<string, unknown> | null;
    if (opts === null || typeof opts !== 'object' || !('DefaultValue' in opts)) {
      fail(
        'Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value',
      );
    }
    fallback = resolveValue(opts.DefaultValue, ctx);
  }
  const keys = [map, top, second].map((k) => stringify('Fn::FindInMap', k));
  const found = ctx.mappings[keys[0]]?.[keys[1]]?.[keys[2]];
  if (found !== undefined) return found;
  if (fallback !== NO_VALUE) return fallback;
  if (!ctx.mappings[keys[0]])
    fail(`Template error: Mapping named '${keys[0]}' is not present in the 'Mappings' section of template.`);
  return fail(`Template error: Unable to get mapping for ${keys.join('::')}`);
}

function callFunction(fn: string, arg: unknown, ctx: IntrinsicContext): unknown {
  switch (fn) {
    case 'Ref':
      return resolveRef(arg, ctx);
    case 'Condition':
      return conditionValue(arg, ctx);
    case 'Fn::GetAtt': {
      const [id, attr] = getAttArgs(arg, ctx);
      return ctx.getAtt(id, attr);
    }
    case 'Fn::Sub':
      return resolveSub(arg, ctx);
    case 'Fn::Join': {
      const [delimiter, list] = listArg(fn, arg, 2);
      const d = resolveValue(delimiter, ctx);
      const items = resolveValue(list, ctx);
      if (typeof d !== 'string' || !Array.isArray(items)) {
        fail(
          'Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
        );
      }
      return items.map((v) => stringify(fn, v)).join(d);
    }
    case 'Fn::Select': {
      const [index, list] = listArg(fn, arg, 2);
      const i = Number(resolveValue(index, ctx));
      const items = resolveValue(list, ctx);
      if (!Array.isArray(items) || !Number.isInteger(i)) {
        fail(
          'Template error: Fn::Select requires a list argument with two elements: an integer index and a list',
        );
      }
      if (i < 0 || i >= items.length)
        fail(`Template error: Fn::Select cannot select nonexistent value at index ${i}`);
      return items[i];
    }
    case 'Fn::Split': {
      const [delimiter, source] = listArg(fn, arg, 2).map((a) => resolveValue(a, ctx));
      if (typeof delimiter !== 'string' || !delimiter) {
        fail(
          'Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
        );
      }
      return stringify(fn, source).split(delimiter);
    }
    case 'Fn::If': {
      const [cond, whenTrue, whenFalse] = listArg(fn, arg, 3);
      return resolveValue(conditionValue(cond, ctx) ? whenTrue : whenFalse, ctx);
    }
    case 'Fn::Equals': {
      const [a, b] = listArg(fn, arg, 2).map((v) => resolveValue(v, ctx));
      return equalValues(a, b);
    }
    case 'Fn::And':
      return listArg(fn, arg, 2, 10).every((c) => toBoolean(fn, c, ctx));
    case 'Fn::Or':
      return listArg(fn, arg, 2, 10).some((c) => toBoolean(fn, c, ctx));
    case 'Fn::Not':
      return !toBoolean(fn, listArg(fn, arg, 1)[0], ctx);
    case 'Fn::FindInMap':
      return findInMap(arg, ctx);
    case 'Fn::GetAZs': {
      const region = resolveValue(arg, ctx);
      const r =
        region === '' || region === null || region === undefined
          ? ctx.pseudo['AWS::Region']
          : stringify(fn, region);
      return ['a', 'b', 'c'].map((z) => `${r}${z}`);
    }
    case 'Fn::Base64':
      return Buffer.from(stringify(fn, resolveValue(arg, ctx)), 'utf8').toString('base64');
    case 'Fn::Cidr': {
      const [block, count, bits] = listArg(fn, arg, 3).map((a) => resolveValue(a, ctx));
      return cidr(stringify(fn, block), Number(count), Number(bits));
    }
    case 'Fn::ImportValue':
      return ctx.importValue(stringify(fn, resolveValue(arg, ctx)));
    case 'Fn::Length': {
      const list = resolveValue(arg, ctx);
      if (!Array.isArray(list)) fail('Template error: Fn::Length requires a list');
      return list.length;
    }
    case 'Fn::ToJsonString':
      return JSON.stringify(resolveValue(arg, ctx));
    case 'Fn::Transform':
      return fail('Template error: Nimbus does not run template macros (Fn::Transform)');
    default:
      return fail(
        `Template error: Encountered unsupported function: ${fn} Supported functions are: [Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn, Fn::ValueOf, Fn::ValueOfAll, Fn::RefAll, Fn::Sub, Fn::Cidr]`,
      );
  }
}
