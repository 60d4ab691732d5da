/** Parameter values: given, previous or default; checked against the constraints the template sets. */
import { TemplateError, type ParameterValues, type Template, type TemplateParameter } from '../types.js';

function fail(message: string): never {
  throw new TemplateError(message);
}

function isList(type: string): boolean {
  return type === 'CommaDelimitedList' || type.startsWith('List<');
}

/** A template value (Default, AllowedValues entry) as the string a user would have passed. */
function asString(value: unknown): string {
  if (Array.isArray(value)) return value.map(asString).join(',');
  return value === null || value === undefined ? '' : String(value);
}

function toNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function isNumber(s: string): boolean {
  return s.trim() !== '' && Number.isFinite(Number(s));
}

function noEcho(p: TemplateParameter): boolean {
  return p.NoEcho === true || String(p.NoEcho).toLowerCase() === 'true';
}

function check(name: string, p: TemplateParameter, value: string): void {
  const type = p.Type;
  const custom = p.ConstraintDescription;
  const violated = (generic: string): never =>
    fail(
      custom
        ? `Parameter '${name}' failed to satisfy constraint: ${custom}`
        : `Parameter '${name}' ${generic}`,
    );
  if (type === 'Number' && !isNumber(value)) fail(`Parameter '${name}' must be a number`);
  if (type === 'List<Number>') {
    for (const item of value.split(','))
      if (!isNumber(item)) fail(`Parameter '${name}' must be a number list`);
  }
  const items = isList(type)
    ? value.split(',').map((s) => (type === 'CommaDelimitedList' ? s : s.trim()))
    : [value];
  if (Array.isArray(p.AllowedValues) && p.AllowedValues.length) {
    const allowed = p.AllowedValues.map(asString);
    for (const item of items) if (!allowed.includes(item)) violated('must be one of AllowedValues');
  }
  if (p.AllowedPattern !== undefined && (type === 'String' || !isList(type))) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${p.AllowedPattern})$`);
    } catch {
      return fail(
        `Template format error: Parameter '${name}' AllowedPattern is not a valid regular expression`,
      );
    }
    if (!re.test(value)) violated(`must match pattern ${p.AllowedPattern}`);
  }
  const minLength = toNumber(p.MinLength);
  const maxLength = toNumber(p.MaxLength);
  if (minLength !== undefined && value.length < minLength) {
    violated(`must contain at least ${minLength} characters`);
  }
  if (maxLength !== undefined && value.length > maxLength) {
    violated(`must contain at most ${maxLength} characters`);
  }
  const minValue = toNumber(p.MinValue);
  const maxValue = toNumber(p.MaxValue);
  if (type === 'Number' || type === 'List<Number>') {
    for (const item of items) {
      const n = Number(item);
      if (minValue !== undefined && n < minValue) violated(`must be a number not less than ${minValue}`);
      if (maxValue !== undefined && n > maxValue) violated(`must be a number not greater than ${maxValue}`);
    }
  }
}

/**
 * Validate parameter values. `given` wins, then `previous` for names in `usePrevious`, then Default.
 * List types become arrays; `described` is what DescribeStacks shows (NoEcho values as `****`).
 */
export function resolveParameters(
  t: Template,
  given: Record<string, string>,
  previous?: Record<string, string>,
  usePrevious?: string[],
): { values: ParameterValues; described: { ParameterKey: string; ParameterValue: string }[] } {
  const declared = t.Parameters ?? {};
  const has = (n: string) => Object.prototype.hasOwnProperty.call(declared, n);
  const unknown = [...Object.keys(given), ...(usePrevious ?? [])].filter((n) => !has(n));
  if (unknown.length) fail(`Parameters: [${[...new Set(unknown)].join(', ')}] do not exist in the template`);

  const raw: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, p] of Object.entries(declared)) {
    const type = String(p.Type);
    if (type.startsWith('AWS::SSM::Parameter::Value<')) {
      fail(
        `Parameter '${name}': Nimbus does not resolve SSM parameter types (${type}); declare it as String and pass the value`,
      );
    }
    if (Object.prototype.hasOwnProperty.call(given, name)) raw[name] = String(given[name]);
    else if (
      usePrevious?.includes(name) &&
      previous &&
      Object.prototype.hasOwnProperty.call(previous, name)
    ) {
      raw[name] = previous[name];
    } else if (p.Default !== undefined) raw[name] = asString(p.Default);
    else missing.push(name);
  }
  if (missing.length) fail(`Parameters: [${missing.join(', ')}] must have values`);

  const values: ParameterValues = {};
  const described: { ParameterKey: string; ParameterValue: string }[] = [];
  for (const [name, p] of Object.entries(declared)) {
    const value = raw[name];
    check(name, p, value);
    const type = String(p.Type);
    if (isList(type)) {
      values[name] =
        value === '' ? [] : value.split(',').map((s) => (type === 'CommaDelimitedList' ? s : s.trim()));
    } else values[name] = value;
    described.push({ ParameterKey: name, ParameterValue: noEcho(p) ? '****' : value });
  }
  return { values, described };
}
