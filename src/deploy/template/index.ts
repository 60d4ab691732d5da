/** The template engine: parse, parameters, conditions, intrinsic functions, dependency graph. */
export { parseTemplate } from './parse.js';
export { resolveParameters } from './parameters.js';
export { evaluateConditions } from './conditions.js';
export { resolve, pseudoParameters } from './intrinsics.js';
export { referencedResources, dependencyGraph, validateTemplate } from './graph.js';
// Helpers beyond the contract (for the stack engine and the SAM transform).
export { cycles } from './graph.js';
export { intrinsicName, isPseudoParameter } from './intrinsics.js';
export { cidr } from './cidr.js';
