/** The Conditions section: each condition evaluated once, conditions may use other conditions. */
import { TemplateError, type IntrinsicContext, type Template } from '../types.js';
import { intrinsicName, resolve } from './intrinsics.js';

const CONDITION_FUNCTIONS = new Set(['Fn::Equals', 'Fn::And', 'Fn::Or', 'Fn::Not', 'Fn::If', 'Condition']);

export function evaluateConditions(
  t: Template,
  ctx: Pick<IntrinsicContext, 'parameters' | 'pseudo' | 'mappings'>,
): Record<string, boolean> {
  const definitions = t.Conditions ?? {};
  const has = (name: string) => Object.prototype.hasOwnProperty.call(definitions, name);
  const values: Record<string, boolean> = {};
  const evaluating: string[] = [];

  const noResources = (name: string): never => {
    throw new TemplateError(
      `Template format error: Unresolved dependencies [${name}]. Cannot reference resources in the Conditions block of the template`,
    );
  };
  // Conditions are evaluated lazily, on first use, so that they can refer to each other in any order.
  const conditions = new Proxy(values, {
    has: (_target, name) => typeof name === 'string' && has(name),
    get: (_target, name) => (typeof name === 'string' && has(name) ? evaluate(name) : undefined),
  });
  const full: IntrinsicContext = {
    parameters: ctx.parameters,
    pseudo: ctx.pseudo,
    mappings: ctx.mappings,
    conditions,
    ref: noResources,
    getAtt: noResources,
    importValue: () => {
      throw new TemplateError('Template error: Cannot use Fn::ImportValue in Conditions.');
    },
  };

  function evaluate(name: string): boolean {
    if (Object.prototype.hasOwnProperty.call(values, name)) return values[name];
    if (evaluating.includes(name)) {
      const cycle = evaluating.slice(evaluating.indexOf(name));
      throw new TemplateError(`Circular dependency between conditions: [${cycle.join(', ')}]`);
    }
    evaluating.push(name);
    try {
      const body = definitions[name];
      const fn = intrinsicName(body);
      if (!fn || !CONDITION_FUNCTIONS.has(fn)) {
        throw new TemplateError(
          `Template format error: Conditions can only be boolean operations on parameters and other conditions`,
        );
      }
      const value = resolve(body, full);
      if (typeof value !== 'boolean') {
        throw new TemplateError(
          `Template format error: Conditions can only be boolean operations on parameters and other conditions`,
        );
      }
      values[name] = value;
      return value;
    } finally {
      evaluating.pop();
    }
  }

  for (const name of Object.keys(definitions)) evaluate(name);
  return { ...values };
}
