/**
 * References between resources: the dependency graph the stack engine creates resources in,
 * and the structural checks CloudFormation makes before it touches anything.
 */
import { TemplateError, type Template } from '../types.js';
import { intrinsicName, isPseudoParameter, subVariables } from './intrinsics.js';

const SECTIONS = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Hooks',
  'Globals',
]);

const RESOURCE_ATTRIBUTES = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
  'Version',
]);

const PARAMETER_TYPES =
  /^(String|Number|List<Number>|CommaDelimitedList|AWS::SSM::Parameter::(Name|Value<.+>)|AWS::[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+(::[A-Za-z0-9]+)?|List<AWS::[A-Za-z0-9:]+>)$/;

/** One reference an intrinsic function makes: what kind, and to which name. */
interface Reference {
  kind: 'Ref' | 'GetAtt' | 'Sub' | 'SubAtt' | 'Condition';
  name: string;
  attribute?: string;
}

/** Every Ref / GetAtt / Sub variable / Fn::If condition in `value`, in order. */
function references(value: unknown, out: Reference[] = []): Reference[] {
  if (Array.isArray(value)) {
    for (const v of value) references(v, out);
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  const fn = intrinsicName(value);
  const arg = fn ? (value as Record<string, unknown>)[fn] : undefined;
  switch (fn) {
    case 'Ref':
      if (typeof arg === 'string') out.push({ kind: 'Ref', name: arg });
      return out;
    case 'Fn::GetAtt': {
      if (typeof arg === 'string') {
        const dot = arg.indexOf('.');
        out.push({ kind: 'GetAtt', name: dot < 0 ? arg : arg.slice(0, dot), attribute: arg.slice(dot + 1) });
      } else if (Array.isArray(arg) && typeof arg[0] === 'string') {
        out.push({
          kind: 'GetAtt',
          name: arg[0],
          attribute: typeof arg[1] === 'string' ? arg[1] : undefined,
        });
        references(arg.slice(1), out);
      }
      return out;
    }
    case 'Fn::Sub': {
      const template = Array.isArray(arg) ? arg[0] : arg;
      const vars = Array.isArray(arg) && arg[1] && typeof arg[1] === 'object' ? (arg[1] as object) : {};
      if (typeof template === 'string') {
        for (const name of subVariables(template)) {
          if (Object.prototype.hasOwnProperty.call(vars, name)) continue;
          const dot = name.startsWith('AWS::') ? -1 : name.indexOf('.');
          if (dot < 0) out.push({ kind: 'Sub', name });
          else out.push({ kind: 'SubAtt', name: name.slice(0, dot), attribute: name.slice(dot + 1) });
        }
      }
      references(Object.values(vars), out);
      return out;
    }
    case 'Fn::If':
      if (Array.isArray(arg)) {
        if (typeof arg[0] === 'string') out.push({ kind: 'Condition', name: arg[0] });
        references(arg.slice(1), out);
      }
      return out;
    case 'Condition':
      if (typeof arg === 'string') {
        out.push({ kind: 'Condition', name: arg });
        return out;
      }
      break;
  }
  for (const v of Object.values(value)) references(v, out);
  return out;
}

function dependsOn(resource: unknown): string[] {
  if (resource === null || typeof resource !== 'object') return [];
  const d = (resource as { DependsOn?: unknown }).DependsOn;
  if (typeof d === 'string') return [d];
  return Array.isArray(d) ? d.filter((x): x is string => typeof x === 'string') : [];
}

function isResourceShaped(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'Type' in value && 'DependsOn' in value;
}

/** Logical ids of the Resources `value` refers to (Ref, Fn::GetAtt, Fn::Sub, and DependsOn of a resource). */
export function referencedResources(value: unknown, t: Template): Set<string> {
  const resources = t.Resources ?? {};
  const out = new Set<string>();
  const has = (n: string) => Object.prototype.hasOwnProperty.call(resources, n);
  for (const r of references(value)) {
    if (r.kind === 'Condition') continue;
    if (has(r.name)) out.add(r.name);
  }
  if (isResourceShaped(value)) for (const d of dependsOn(value)) if (has(d)) out.add(d);
  return out;
}

/** Each resource -> the resources it needs first (references in its body and DependsOn). */
export function dependencyGraph(t: Template): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(t.Resources ?? {})) {
    const needs = referencedResources(resource, t);
    for (const d of dependsOn(resource))
      if (Object.prototype.hasOwnProperty.call(t.Resources, d)) needs.add(d);
    graph.set(id, needs);
  }
  return graph;
}

/** Strongly connected components with a cycle (Tarjan), members in template order. */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const found: string[][] = [];
  let next = 0;
  const order = [...graph.keys()];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(order.filter((n) => scc.includes(n)));
    }
  };
  for (const v of order) if (!index.has(v)) visit(v);
  return found;
}

function fail(message: string): never {
  throw new TemplateError(message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Structure, references and cycles, with CloudFormation's messages. */
export function validateTemplate(t: Template): void {
  if (!isObject(t)) fail('Template format error: unsupported structure.');
  const unknown = Object.keys(t).filter((k) => !SECTIONS.has(k));
  if (unknown.length)
    fail(`Template format error: Invalid template property or properties [${unknown.join(', ')}]`);
  if (!isObject(t.Resources) || Object.keys(t.Resources).length === 0) {
    fail('Template format error: At least one Resources member must be defined.');
  }
  const parameters = isObject(t.Parameters) ? t.Parameters : {};
  for (const [name, p] of Object.entries(parameters)) {
    if (!isObject(p) || typeof p.Type !== 'string') {
      fail(`Template format error: Every Parameters object must contain a Type member.`);
    }
    if (!PARAMETER_TYPES.test(p.Type)) fail(`Template format error: Unrecognized parameter type: ${p.Type}`);
    void name;
  }
  const resources = t.Resources;
  const conditions = isObject(t.Conditions) ? t.Conditions : {};
  const isParam = (n: string) => Object.prototype.hasOwnProperty.call(parameters, n);
  const isResource = (n: string) => Object.prototype.hasOwnProperty.call(resources, n);
  const isCondition = (n: string) => Object.prototype.hasOwnProperty.call(conditions, n);

  // Conditions: only parameters, pseudo parameters, mappings and other conditions.
  for (const [name, body] of Object.entries(conditions)) {
    const refs = references(body);
    const bad = refs.filter((r) => r.kind !== 'Condition' && !isParam(r.name) && !isPseudoParameter(r.name));
    if (bad.length) {
      fail(
        `Template format error: Unresolved dependencies [${unique(bad.map((r) => r.name)).join(', ')}]. Cannot reference resources in the Conditions block of the template`,
      );
    }
    const missing = refs.filter((r) => r.kind === 'Condition' && !isCondition(r.name));
    if (missing.length) {
      fail(`Template error: unresolved condition dependency ${missing[0].name} in Fn::If`);
    }
    void name;
  }

  // Reference checks: all unresolved names of a block are reported together.
  const checkRefs = (value: unknown, unresolved: string[]) => {
    for (const r of references(value)) {
      if (r.kind === 'Condition') {
        if (!isCondition(r.name)) fail(`Template error: unresolved condition dependency ${r.name} in Fn::If`);
      } else if (r.kind === 'GetAtt' || r.kind === 'SubAtt') {
        if (isResource(r.name)) continue;
        if (isParam(r.name) || isPseudoParameter(r.name)) {
          fail(
            `Template error: resource ${r.name} does not support attribute type ${r.attribute ?? ''} in Fn::GetAtt`,
          );
        }
        if (r.kind === 'GetAtt')
          fail(`Template error: instance of Fn::GetAtt references undefined resource ${r.name}`);
        unresolved.push(r.name);
      } else if (!isResource(r.name) && !isParam(r.name) && !isPseudoParameter(r.name)) {
        unresolved.push(r.name);
      }
    }
  };
  const report = (unresolved: string[], where: string) => {
    if (unresolved.length) {
      fail(
        `Template format error: Unresolved resource dependencies [${unique(unresolved).join(', ')}] in the ${where} block of the template`,
      );
    }
  };

  const transforms = Array.isArray(t.Transform) ? t.Transform : [t.Transform];
  const sam = transforms.includes('AWS::Serverless-2016-10-31');
  for (const [id, resource] of Object.entries(resources)) {
    if (!isObject(resource) || typeof resource.Type !== 'string' || !resource.Type) {
      fail(`Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`);
    }
    if (!resource.Type.startsWith('AWS::Serverless::')) {
      for (const key of Object.keys(resource)) {
        // SAM lets any resource of its templates carry embedded connectors.
        if (key === 'Connectors' && sam) continue;
        if (!RESOURCE_ATTRIBUTES.has(key))
          fail(`Template format error: Invalid template resource property '${key}'`);
      }
    }
    if (resource.Condition !== undefined) {
      if (typeof resource.Condition !== 'string' || !isCondition(resource.Condition)) {
        fail(
          `Template format error: Unresolved condition dependencies [${String(resource.Condition)}] in the Resources block of the template`,
        );
      }
    }
  }
  const outputs = isObject(t.Outputs) ? t.Outputs : {};
  for (const output of Object.values(outputs)) {
    if (!isObject(output) || output.Value === undefined) {
      fail('Template format error: Every Outputs member must contain a Value object');
    }
    if (
      output.Condition !== undefined &&
      (typeof output.Condition !== 'string' || !isCondition(output.Condition))
    ) {
      fail(
        `Template format error: Unresolved condition dependencies [${String(output.Condition)}] in the Outputs block of the template`,
      );
    }
  }

  // Before a transform (SAM, macros) references may name resources the transform creates
  // (`ServerlessRestApi`, `MyFunctionRole`, ...): they are checked on the transformed template.
  const transformed =
    t.Transform === undefined &&
    !Object.values(resources).some((r) => r.Type.startsWith('AWS::Serverless::'));
  if (!transformed) return;

  const unresolved: string[] = [];
  for (const resource of Object.values(resources)) {
    const { DependsOn: _d, Condition: _c, Type: _t, ...rest } = resource;
    checkRefs(rest, unresolved);
    for (const d of dependsOn(resource)) if (!isResource(d)) unresolved.push(d);
  }
  report(unresolved, 'Resources');

  const found = cycles(dependencyGraph(t));
  if (found.length) fail(`Circular dependency between resources: [${found.flat().join(', ')}]`);

  const unresolvedOutputs: string[] = [];
  for (const output of Object.values(outputs)) {
    const { Condition: _c, ...rest } = output;
    checkRefs(rest, unresolvedOutputs);
  }
  report(unresolvedOutputs, 'Outputs');
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
