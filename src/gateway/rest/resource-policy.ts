/**
 * REST API resource policies, evaluated as API Gateway evaluates them for each request to a
 * deployed stage (the policy the stage's deployment snapshotted: a policy changes nothing until
 * the API is deployed again, as on AWS).
 *
 * A policy is IAM's language: statements with Effect Allow or Deny, Principal / NotPrincipal,
 * Action / NotAction, Resource / NotResource and Condition. The request is the action
 * `execute-api:Invoke` on `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`;
 * `execute-api:/...` in Resource is short for the API's own ARN prefix (expanded when the policy
 * is saved, as API Gateway does, and again here for policies saved before that).
 *
 * The answer is `deny` when a matching Deny statement exists (explicit deny: it always wins),
 * else `allow` when a matching Allow statement exists, else `none` (implicit deny). What each
 * answer means depends on the method's authorization type: see `decide`.
 *
 * Conditions follow IAM's rules: operators AND together, keys of one operator AND together, the
 * values of one key OR together (NOR for negated operators). A key the request does not carry is
 * absent: the condition is false, except for negated operators (StringNotEquals, StringNotLike,
 * NotIpAddress, ArnNotEquals, ArnNotLike, ...: true), `...IfExists` (true) and `Null`. Nimbus
 * requests carry aws:SourceIp, aws:UserAgent and aws:Referer (when sent), aws:CurrentTime,
 * aws:EpochTime, and for signed callers of AWS_IAM methods aws:PrincipalAccount and
 * aws:PrincipalArn. Every other key is absent: aws:SourceVpc and aws:SourceVpce (no request
 * reaches Nimbus through a VPC endpoint), aws:SecureTransport, aws:PrincipalOrgID, tags, ... Operators: String*, IpAddress / NotIpAddress (IPv4 and IPv6
 * CIDRs), Bool, Null, Numeric*, Date*, Arn*, each with IfExists and ForAnyValue: / ForAllValues:.
 * A statement with another operator (BinaryEquals, a misspelling) cannot match, Allow or Deny.
 */
import { BlockList, isIP } from 'node:net';

/** The IAM caller of a SigV4-signed request (AWS_IAM methods only; every other caller is anonymous). */
export interface Caller {
  accountId: string;
  arn: string;
  /** The signing key and the principal's id (the event's identity), when known. */
  accessKeyId?: string;
  userId?: string;
}

export interface PolicyRequest {
  /** The execute-api ARN of the request. */
  resource: string;
  /** Undefined: anonymous. */
  caller?: Caller;
  /** The condition keys the request carries, by lower-case name. */
  keys: Record<string, string | undefined>;
}

/** explicit allow, explicit deny, or neither (implicit deny). */
export type PolicyEffect = 'allow' | 'deny' | 'none';

interface Statement {
  effect: 'Allow' | 'Deny';
  principal: (caller: Caller | undefined) => boolean;
  action: (action: string) => boolean;
  resource: (arn: string) => boolean;
  condition: (keys: Record<string, string | undefined>) => boolean;
}

export interface ResourcePolicy {
  statements: Statement[];
}

const ACTION = 'execute-api:Invoke';

/** The policy text as a document: plain JSON, or the escaped form GetRestApi answers. */
function parseDocument(text: string): Record<string, unknown> | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = JSON.parse(JSON.parse(`"${text}"`) as string);
    } catch {
      return undefined;
    }
  }
  if (typeof doc === 'string') return parseDocument(doc);
  return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
}

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** `arn:aws:execute-api:{region}:{account}:{apiId}` for `execute-api:/...` resources. */
export function apiArnPrefix(region: string, accountId: string, apiId: string): string {
  return `arn:aws:execute-api:${region}:${accountId}:${apiId}`;
}

function expandResource(r: unknown, prefix: string): unknown {
  return typeof r === 'string' && r.startsWith('execute-api:/') ? prefix + r.slice('execute-api:'.length) : r;
}

/**
 * The policy as API Gateway saves it: `execute-api:/...` resources expanded to the API's ARN,
 * the document compact and JSON-escaped (`{\"Version\":...}`) as GetRestApi answers it. Text
 * that is not a JSON document is kept as given.
 */
export function savedPolicy(text: string, prefix: string): string {
  const doc = parseDocument(text);
  if (!doc) return text;
  for (const s of listOf(doc.Statement)) {
    if (!s || typeof s !== 'object') continue;
    const st = s as Record<string, unknown>;
    for (const k of ['Resource', 'NotResource'])
      if (st[k] !== undefined)
        st[k] = Array.isArray(st[k])
          ? (st[k] as unknown[]).map((r) => expandResource(r, prefix))
          : expandResource(st[k], prefix);
  }
  return JSON.stringify(JSON.stringify(doc)).slice(1, -1);
}

/** The policy document (for export), or undefined when the text is not one. */
export function policyDocument(text: string): Record<string, unknown> | undefined {
  return parseDocument(text);
}

/** IAM's wildcards: `*` any run of characters, `?` one character. */
function glob(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : '\\' + c));
  return new RegExp(`^${body}$`, flags + 's');
}

function anyOf(values: unknown[], flags: string, map: (s: string) => string = (s) => s) {
  const res = values.filter((v): v is string => typeof v === 'string').map((v) => glob(map(v), flags));
  return (s: string) => res.some((r) => r.test(s));
}

/** `arn:aws:iam::{account}:role/{path/}name` names every session of the role. */
function arnMatches(pattern: string, arn: string): boolean {
  if (pattern === arn) return true;
  const role = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(pattern);
  const session = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(arn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2];
}

function principalMatcher(p: unknown): ((c: Caller | undefined) => boolean) | undefined {
  if (p === '*') return () => true;
  if (!p || typeof p !== 'object' || Array.isArray(p)) return undefined;
  const aws = listOf((p as Record<string, unknown>).AWS).map(String);
  if (aws.includes('*')) return () => true;
  return (c) =>
    !!c &&
    aws.some((a) => {
      const account = /^\d{12}$/.test(a) ? a : /^arn:aws[\w-]*:iam::(\d{12}):root$/.exec(a)?.[1];
      return account !== undefined ? account === c.accountId : arnMatches(a, c.arn);
    });
}

// ------------------------------------------------------------------ conditions

type KeyTest = (value: string | undefined) => boolean;

/** One value against the policy's values (non-negated form); undefined for an unknown operator. */
function valueTest(op: string, values: string[]): ((v: string) => boolean) | undefined {
  switch (op) {
    case 'StringEquals':
      return (v) => values.includes(v);
    case 'StringEqualsIgnoreCase':
      return (v) => values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'StringLike':
    case 'ArnLike':
    case 'ArnEquals':
      return anyOf(values, '');
    case 'IpAddress': {
      const list = new BlockList();
      for (const cidr of values) {
        const [addr, bits] = cidr.split('/');
        const type = isIP(addr);
        if (!type) continue;
        const prefix = bits === undefined ? (type === 4 ? 32 : 128) : Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (type === 4 ? 32 : 128)) continue;
        list.addSubnet(addr, prefix, type === 4 ? 'ipv4' : 'ipv6');
      }
      return (v) => {
        const type = isIP(v);
        return type !== 0 && list.check(v, type === 4 ? 'ipv4' : 'ipv6');
      };
    }
    case 'Bool':
      return (v) => values.some((x) => x.toLowerCase() === v.toLowerCase());
    case 'NumericEquals':
    case 'NumericLessThan':
    case 'NumericLessThanEquals':
    case 'NumericGreaterThan':
    case 'NumericGreaterThanEquals':
      return compare(op.slice(7), values, Number);
    case 'DateEquals':
    case 'DateLessThan':
    case 'DateLessThanEquals':
    case 'DateGreaterThan':
    case 'DateGreaterThanEquals':
      return compare(op.slice(4), values, dateOf);
  }
  return undefined;
}

/** Dates are ISO 8601 or epoch seconds. */
function dateOf(s: string): number {
  return /^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s);
}

function compare(how: string, values: string[], num: (s: string) => number): (v: string) => boolean {
  const ns = values.map(num).filter((n) => !Number.isNaN(n));
  return (v) => {
    const x = num(v);
    if (Number.isNaN(x)) return false;
    return ns.some((n) =>
      how === 'Equals'
        ? x === n
        : how === 'LessThan'
          ? x < n
          : how === 'LessThanEquals'
            ? x <= n
            : how === 'GreaterThan'
              ? x > n
              : x >= n,
    );
  };
}

/** The negated operators and the operator they negate. */
const NEGATED: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  NotIpAddress: 'IpAddress',
  NumericNotEquals: 'NumericEquals',
  DateNotEquals: 'DateEquals',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
};

/** One operator's test of one key; undefined when the operator is not one Nimbus knows. */
function keyTest(operator: string, values: string[]): KeyTest | undefined {
  let op = operator;
  let set: 'any' | 'all' | undefined;
  if (op.startsWith('ForAnyValue:')) [set, op] = ['any', op.slice(12)];
  else if (op.startsWith('ForAllValues:')) [set, op] = ['all', op.slice(13)];
  if (op === 'Null') {
    const want = values.map((v) => v.toLowerCase());
    return (v) => want.includes(v === undefined ? 'true' : 'false');
  }
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -8);
  const negated = NEGATED[op] !== undefined;
  const test = valueTest(NEGATED[op] ?? op, values);
  if (!test) return undefined;
  return (v) => {
    // Every request key is single-valued: the set operators reduce to the plain test, apart from
    // their absent-key rule (ForAllValues holds for no values, ForAnyValue does not).
    if (v === undefined) return set === 'all' || (set === undefined && (ifExists || negated));
    return negated ? !test(v) : test(v);
  };
}

function conditionMatcher(cond: unknown): ((keys: PolicyRequest['keys']) => boolean) | undefined {
  if (cond === undefined) return () => true;
  if (!cond || typeof cond !== 'object' || Array.isArray(cond)) return undefined;
  const tests: [string, KeyTest][] = [];
  for (const [operator, block] of Object.entries(cond as Record<string, unknown>)) {
    if (!block || typeof block !== 'object' || Array.isArray(block)) return undefined;
    for (const [key, vals] of Object.entries(block as Record<string, unknown>)) {
      const t = keyTest(operator, listOf(vals).map(String));
      if (!t) return undefined;
      tests.push([key.toLowerCase(), t]);
    }
  }
  return (keys) => tests.every(([k, t]) => t(keys[k]));
}

// ------------------------------------------------------------------ statements

function statementOf(raw: unknown, prefix: string): Statement | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const s = raw as Record<string, unknown>;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return undefined;
  let principal: Statement['principal'] | undefined;
  if (s.Principal !== undefined) principal = principalMatcher(s.Principal);
  else if (s.NotPrincipal !== undefined) {
    const not = principalMatcher(s.NotPrincipal);
    if (not) principal = (c) => !not(c);
  }
  const pick = (yes: unknown, no: unknown, flags: string, map?: (s: string) => string) => {
    if (yes !== undefined) return anyOf(listOf(yes), flags, map);
    if (no === undefined) return undefined;
    const m = anyOf(listOf(no), flags, map);
    return (x: string) => !m(x);
  };
  const action = pick(s.Action, s.NotAction, 'i');
  const expand = (r: string) => expandResource(r, prefix) as string;
  const resource = pick(s.Resource, s.NotResource, '', expand);
  const condition = conditionMatcher(s.Condition);
  if (!principal || !action || !resource || !condition) return undefined;
  return { effect: s.Effect, principal, action, resource, condition };
}

/**
 * The policy, compiled for evaluation. `prefix` is the API's ARN prefix (`apiArnPrefix`). A
 * statement that cannot match (a missing Effect, Principal, Action or Resource; an unknown
 * condition operator) is left out; text that is not a policy document grants nothing.
 */
export function compilePolicy(text: string, prefix: string): ResourcePolicy {
  const doc = parseDocument(text);
  const statements: Statement[] = [];
  for (const raw of listOf(doc?.Statement)) {
    const s = statementOf(raw, prefix);
    if (s) statements.push(s);
  }
  return { statements };
}

export function evaluatePolicy(policy: ResourcePolicy, req: PolicyRequest): PolicyEffect {
  let allowed = false;
  for (const s of policy.statements) {
    if (!s.action(ACTION) || !s.resource(req.resource) || !s.principal(req.caller)) continue;
    if (!s.condition(req.keys)) continue;
    if (s.effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

/**
 * The outcome for a method's authorization type (API Gateway's "How resource policies affect
 * the authorization workflow"):
 * - NONE and COGNITO_USER_POOLS (after the token is accepted): only an explicit Allow lets the
 *   request through.
 * - CUSTOM: an explicit Deny refuses the request before the authorizer runs; otherwise the
 *   authorizer's Allow is enough (table A: authorizer Allow + policy silent = Allow).
 * - AWS_IAM: a caller of the API's own account passes unless explicitly denied (the IAM policy
 *   may allow, and Nimbus does not evaluate IAM policies: a signed caller counts as allowed);
 *   another account's caller needs an explicit Allow as well (table B).
 */
export function decide(
  authorizationType: string | undefined,
  effect: PolicyEffect,
  sameAccount: boolean,
): 'allow' | 'deny' | 'implicit' {
  if (effect === 'deny') return 'deny';
  if (effect === 'allow') return 'allow';
  if (authorizationType === 'CUSTOM') return 'allow';
  if (authorizationType === 'AWS_IAM' && sameAccount) return 'allow';
  return 'implicit';
}

/**
 * AWS's message for a refused request: the account in the resource ARN masked but for its last
 * four digits, ` with an explicit deny` when a Deny statement matched.
 */
export function deniedMessage(user: string, resource: string, explicit: boolean): string {
  const masked = resource.replace(/^(arn:[^:]*:execute-api:[^:]*:)(\d{8})(\d{4}):/, '$1********$3:');
  return `User: ${user} is not authorized to perform: ${ACTION} on resource: ${masked}${explicit ? ' with an explicit deny' : ''}`;
}
