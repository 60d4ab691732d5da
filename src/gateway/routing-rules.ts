/**
 * Routing rules of custom domain names (apigatewayv2 CreateRoutingRule ... DeleteRoutingRule):
 * the records kept inside a domain's document, their validation, and the compiled form serving
 * matches a request against (by ascending priority; every condition must match, any value
 * within one condition may).
 *
 * What AWS documents and Nimbus follows: priorities 1 to 1,000,000, unique per domain name; up to
 * two MatchHeaders conditions and one MatchBasePaths condition; no condition at all matches every
 * request; one InvokeApi action, to a stage of a REST API; header names match in any case, value
 * globs case-sensitively with `*` only as `*suffix`, `prefix*` or `*contains*`; base paths match
 * case-sensitively; StripBasePath removes the matched base path before the API sees the path.
 */
import { AwsError } from '../protocols/errors.js';
import { keyMatches, type MappingRecord } from './domains.js';

export type RoutingMode = 'API_MAPPING_ONLY' | 'ROUTING_RULE_ONLY' | 'ROUTING_RULE_THEN_API_MAPPING';
export const ROUTING_MODES: readonly RoutingMode[] = [
  'API_MAPPING_ONLY',
  'ROUTING_RULE_ONLY',
  'ROUTING_RULE_THEN_API_MAPPING',
];
/** The apigateway (v1) API names the two mapping modes after base path mappings. */
export const V1_ROUTING_MODES: Record<string, RoutingMode> = {
  BASE_PATH_MAPPING_ONLY: 'API_MAPPING_ONLY',
  ROUTING_RULE_ONLY: 'ROUTING_RULE_ONLY',
  ROUTING_RULE_THEN_BASE_PATH_MAPPING: 'ROUTING_RULE_THEN_API_MAPPING',
};
export function v1RoutingMode(m: RoutingMode | undefined): string {
  return Object.keys(V1_ROUTING_MODES).find((k) => V1_ROUTING_MODES[k] === (m ?? 'API_MAPPING_ONLY'))!;
}

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 1_000_000;
export const MAX_HEADER_CONDITIONS = 2;
export const MAX_BASE_PATH_CONDITIONS = 1;

export interface HeaderValue {
  header: string;
  valueGlob: string;
}
export interface RuleCondition {
  matchHeaders?: { anyOf: HeaderValue[] };
  matchBasePaths?: { anyOf: string[] };
}
export interface RuleAction {
  invokeApi: { apiId: string; stage: string; stripBasePath: boolean };
}
export interface RoutingRuleRecord {
  routingRuleId: string;
  priority: number;
  conditions: RuleCondition[];
  actions: RuleAction[];
}

const badRequest = (m: string) => new AwsError('BadRequestException', m, 400);

/** A header field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** One segment of a base path, as in API mapping keys. */
const PATH_SEGMENT = /^[A-Za-z0-9$\-_.+!*'(),]+$/;

type Input = Record<string, any>;

/** The priority, conditions and action of a Create/PutRoutingRule input, checked. */
export function parseRule(input: Input): Omit<RoutingRuleRecord, 'routingRuleId'> {
  const p = input.priority;
  if (p === undefined || p === null) throw badRequest('Priority is required');
  if (typeof p !== 'number' || !Number.isInteger(p) || p < MIN_PRIORITY || p > MAX_PRIORITY)
    throw badRequest(`Priority must be an integer between ${MIN_PRIORITY} and ${MAX_PRIORITY}`);
  return { priority: p, conditions: parseConditions(input.conditions), actions: parseActions(input.actions) };
}

function parseConditions(v: unknown): RuleCondition[] {
  if (v === undefined || v === null) throw badRequest('Conditions is required');
  if (!Array.isArray(v)) throw badRequest('Conditions must be a list');
  let headers = 0;
  let paths = 0;
  const out = v.map((c: Input): RuleCondition => {
    if (!c || typeof c !== 'object') throw badRequest('Invalid routing rule condition');
    const cond: RuleCondition = {};
    if (c.matchHeaders !== undefined && c.matchHeaders !== null) {
      headers++;
      const anyOf = (c.matchHeaders as Input).anyOf;
      if (!Array.isArray(anyOf) || anyOf.length === 0)
        throw badRequest('MatchHeaders must have at least one header in AnyOf');
      cond.matchHeaders = { anyOf: anyOf.map(parseHeaderValue) };
    }
    if (c.matchBasePaths !== undefined && c.matchBasePaths !== null) {
      paths++;
      const anyOf = (c.matchBasePaths as Input).anyOf;
      if (!Array.isArray(anyOf) || anyOf.length === 0)
        throw badRequest('MatchBasePaths must have at least one base path in AnyOf');
      cond.matchBasePaths = { anyOf: anyOf.map(parseBasePath) };
    }
    if (!cond.matchHeaders && !cond.matchBasePaths)
      throw badRequest('A routing rule condition must have MatchHeaders or MatchBasePaths');
    return cond;
  });
  if (headers > MAX_HEADER_CONDITIONS)
    throw badRequest(`A routing rule can have at most ${MAX_HEADER_CONDITIONS} MatchHeaders conditions`);
  if (paths > MAX_BASE_PATH_CONDITIONS)
    throw badRequest(`A routing rule can have at most ${MAX_BASE_PATH_CONDITIONS} MatchBasePaths condition`);
  return out;
}

function parseHeaderValue(h: Input): HeaderValue {
  const header = h?.header;
  const glob = h?.valueGlob;
  if (typeof header !== 'string' || !HEADER_NAME.test(header))
    throw badRequest(`Invalid header name: ${String(header)}`);
  if (typeof glob !== 'string' || glob === '') throw badRequest('ValueGlob is required');
  const inner = glob.slice(1, -1);
  if (inner.includes('*'))
    throw badRequest(
      `Invalid value glob: ${glob}. A wildcard (*) may only start or end the value: *suffix, prefix* or *contains*`,
    );
  return { header, valueGlob: glob };
}

function parseBasePath(b: unknown): string {
  if (typeof b !== 'string') throw badRequest('Invalid base path');
  const segs = b.split('/');
  if (b.length === 0 || b.length > 512 || segs.some((s) => !PATH_SEGMENT.test(s)))
    throw badRequest(
      `Invalid base path: ${b}. A base path is one or more segments joined by /, each of letters, numbers and $-_.+!*'(), and does not start or end with /`,
    );
  return b;
}

function parseActions(v: unknown): RuleAction[] {
  if (!Array.isArray(v) || v.length !== 1) throw badRequest('A routing rule must have exactly one action');
  const a = (v[0] ?? {}) as Input;
  const inv = a.invokeApi as Input | undefined;
  if (!inv || typeof inv !== 'object') throw badRequest('The only supported action is InvokeApi');
  if (typeof inv.apiId !== 'string' || !inv.apiId) throw badRequest('InvokeApi ApiId is required');
  if (typeof inv.stage !== 'string' || inv.stage.length < 1 || inv.stage.length > 128)
    throw badRequest('InvokeApi Stage must be a string of 1 to 128 characters');
  if (inv.stripBasePath !== undefined && inv.stripBasePath !== null && typeof inv.stripBasePath !== 'boolean')
    throw badRequest('InvokeApi StripBasePath must be a boolean');
  return [{ invokeApi: { apiId: inv.apiId, stage: inv.stage, stripBasePath: inv.stripBasePath === true } }];
}

/** A rule as the API answers it. */
export function ruleView(r: RoutingRuleRecord, arn: string): Record<string, unknown> {
  return {
    actions: r.actions,
    conditions: r.conditions,
    priority: r.priority,
    routingRuleArn: arn,
    routingRuleId: r.routingRuleId,
  };
}

// ---- serving --------------------------------------------------------------------------

/** A header value glob, compiled: `*x`, `x*`, `*x*`, `*` or a literal. */
interface HeaderTest {
  name: string;
  kind: 'exact' | 'prefix' | 'suffix' | 'contains';
  text: string;
}

/** A rule compiled for serving. */
export interface CompiledRule {
  /** Each entry one MatchHeaders condition: any of its tests. */
  headers: HeaderTest[][];
  /** The MatchBasePaths condition's paths, each with the target it gives; absent: any path. */
  basePaths?: { path: string; target: MappingRecord }[];
  /** The target when there is no base path condition. */
  target: MappingRecord;
}

function headerTest(h: HeaderValue): HeaderTest {
  const g = h.valueGlob;
  const name = h.header.toLowerCase();
  const start = g.startsWith('*');
  const end = g.length > 1 && g.endsWith('*');
  if (g === '*') return { name, kind: 'contains', text: '' };
  if (start && end) return { name, kind: 'contains', text: g.slice(1, -1) };
  if (start) return { name, kind: 'suffix', text: g.slice(1) };
  if (end) return { name, kind: 'prefix', text: g.slice(0, -1) };
  return { name, kind: 'exact', text: g };
}

/**
 * Compiles rules (any order) into what `matchRule` walks, ascending priority. The target of a
 * match is a mapping-like record: its key is the base path to strip (`''`: none), so serving
 * treats it as it treats an API mapping.
 */
export function compileRules(rules: RoutingRuleRecord[] | undefined): CompiledRule[] {
  if (!rules?.length) return [];
  return [...rules]
    .sort((a, b) => a.priority - b.priority)
    .map((r) => {
      const { apiId, stage, stripBasePath } = r.actions[0].invokeApi;
      const target = (key: string): MappingRecord => ({
        apiMappingId: r.routingRuleId,
        apiId,
        stage,
        apiMappingKey: stripBasePath ? key : '',
      });
      const paths = r.conditions.find((c) => c.matchBasePaths)?.matchBasePaths?.anyOf;
      return {
        headers: r.conditions.flatMap((c) => (c.matchHeaders ? [c.matchHeaders.anyOf.map(headerTest)] : [])),
        ...(paths ? { basePaths: paths.map((p) => ({ path: p, target: target(p) })) } : {}),
        target: target(''),
      };
    });
}

export type RequestHeaders = Record<string, string | string[] | undefined>;

function headerMatches(t: HeaderTest, headers: RequestHeaders): boolean {
  const raw = headers[t.name];
  if (raw === undefined) return false;
  const values = typeof raw === 'string' ? [raw] : raw;
  for (const v of values) {
    switch (t.kind) {
      case 'exact':
        if (v === t.text) return true;
        break;
      case 'prefix':
        if (v.startsWith(t.text)) return true;
        break;
      case 'suffix':
        if (v.endsWith(t.text)) return true;
        break;
      case 'contains':
        if (v.includes(t.text)) return true;
        break;
    }
  }
  return false;
}

/** The target of the first rule (by priority) whose conditions all match, if any. */
export function matchRule(
  rules: CompiledRule[],
  path: string,
  headers: RequestHeaders | undefined,
): MappingRecord | undefined {
  outer: for (const r of rules) {
    for (const anyOf of r.headers) {
      if (!headers || !anyOf.some((t) => headerMatches(t, headers))) continue outer;
    }
    if (!r.basePaths) return r.target;
    for (const b of r.basePaths) if (keyMatches(b.path, path)) return b.target;
  }
  return undefined;
}
