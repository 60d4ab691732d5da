/**
 * Resource-based policies: AddPermission / RemovePermission / GetPolicy on functions (per
 * qualifier) and the same for layer versions. Policies are stored and returned as AWS shapes
 * them; Nimbus does not enforce them on invokes (it authorises callers by account).
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../storage/store.js';
import { AwsError } from '../protocols/errors.js';
import { constraint, errors, functionArn, functionKey, type Scope } from './model.js';

export const POLICY_COLLECTION = 'lambda.policies';

export interface PolicyRecord {
  statements: Record<string, unknown>[];
  revisionId: string;
}

export interface AddPermissionInput {
  StatementId?: string;
  Action?: string;
  Principal?: string;
  SourceArn?: string;
  SourceAccount?: string;
  EventSourceToken?: string;
  FunctionUrlAuthType?: string;
  PrincipalOrgID?: string;
  RevisionId?: string;
}

export const NOT_FOUND_MESSAGE = 'The resource you requested does not exist.';

const SID_RE = /^[a-zA-Z0-9-_.]+$/;
const ACTION_RE = /^(lambda:[*]|lambda:[a-zA-Z]+|[*])$/;
const PRINCIPAL_RE = /^[^\s]+$/;

export function policyPrecondition(): AwsError {
  return new AwsError(
    'PreconditionFailedException',
    'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
    412,
    'Sender',
    { Type: 'User' },
  );
}

/** Field checks shared by AddPermission and AddLayerVersionPermission (Lambda's patterns). */
export function permissionViolations(input: AddPermissionInput, layer: boolean): string[] {
  const v: string[] = [];
  const sid = input.StatementId;
  if (sid === undefined || sid === null)
    v.push(constraint(undefined, 'statementId', 'Member must not be null'));
  else {
    if (sid.length < 1 || sid.length > 100)
      v.push(constraint(sid, 'statementId', 'Member must have length less than or equal to 100'));
    if (!SID_RE.test(sid))
      v.push(
        constraint(sid, 'statementId', 'Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)'),
      );
  }
  const action = input.Action;
  if (action === undefined || action === null)
    v.push(constraint(undefined, 'action', 'Member must not be null'));
  else if (!layer && !ACTION_RE.test(action))
    v.push(
      constraint(
        action,
        'action',
        'Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])',
      ),
    );
  else if (layer && action !== 'lambda:GetLayerVersion')
    v.push(
      constraint(action, 'action', 'Member must satisfy regular expression pattern: lambda:GetLayerVersion'),
    );
  const principal = input.Principal;
  if (principal === undefined || principal === null)
    v.push(constraint(undefined, 'principal', 'Member must not be null'));
  else if (!PRINCIPAL_RE.test(principal))
    v.push(constraint(principal, 'principal', 'Member must satisfy regular expression pattern: [^\\s]+'));
  if (
    input.FunctionUrlAuthType !== undefined &&
    input.FunctionUrlAuthType !== 'NONE' &&
    input.FunctionUrlAuthType !== 'AWS_IAM'
  )
    v.push(
      constraint(
        input.FunctionUrlAuthType,
        'functionUrlAuthType',
        'Member must satisfy enum value set: [AWS_IAM, NONE]',
      ),
    );
  return v;
}

/** The Principal element: `*`, an account (as its root ARN), an ARN, or a service principal. */
export function principalElement(principal: string): unknown {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (principal.startsWith('arn:')) return { AWS: principal };
  return { Service: principal };
}

/** One statement as Lambda writes it into the policy document. */
export function statementOf(input: AddPermissionInput, resource: string): Record<string, unknown> {
  const st: Record<string, unknown> = {
    Sid: input.StatementId,
    Effect: 'Allow',
    Principal: principalElement(input.Principal!),
    Action: input.Action,
    Resource: resource,
  };
  const equals: Record<string, string> = {};
  const arnLike: Record<string, string> = {};
  if (input.SourceAccount) equals['AWS:SourceAccount'] = input.SourceAccount;
  if (input.EventSourceToken) equals['lambda:EventSourceToken'] = input.EventSourceToken;
  if (input.FunctionUrlAuthType) equals['lambda:FunctionUrlAuthType'] = input.FunctionUrlAuthType;
  if (input.PrincipalOrgID) equals['aws:PrincipalOrgID'] = input.PrincipalOrgID;
  if (input.SourceArn) arnLike['AWS:SourceArn'] = input.SourceArn;
  const condition: Record<string, unknown> = {};
  if (Object.keys(equals).length) condition.StringEquals = equals;
  if (Object.keys(arnLike).length) condition.ArnLike = arnLike;
  if (Object.keys(condition).length) st.Condition = condition;
  return st;
}

export function policyDocument(rec: PolicyRecord): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: rec.statements });
}

/** Policies of functions (per qualifier) and layer versions, in one collection. */
export class PolicyStore {
  constructor(private readonly store: Store) {}

  /** Adds a statement; throws ResourceConflictException for a duplicate Sid. */
  async add(key: string, input: AddPermissionInput, resource: string): Promise<Record<string, unknown>> {
    const st = statementOf(input, resource);
    await this.store.transaction(async (tx) => {
      const rec = (await tx.get<PolicyRecord>(POLICY_COLLECTION, key)) ?? { statements: [], revisionId: '' };
      if (input.RevisionId !== undefined && input.RevisionId !== rec.revisionId) throw policyPrecondition();
      if (rec.statements.some((s) => s.Sid === input.StatementId)) {
        throw errors.conflict(
          `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
        );
      }
      rec.statements.push(st);
      rec.revisionId = randomUUID();
      await tx.put(POLICY_COLLECTION, key, rec);
    });
    return st;
  }

  async remove(key: string, sid: string, revisionId?: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const rec = await tx.get<PolicyRecord>(POLICY_COLLECTION, key);
      if (!rec || rec.statements.length === 0)
        throw errors.notFound('No policy is associated with the given resource.');
      if (revisionId !== undefined && revisionId !== rec.revisionId) throw policyPrecondition();
      const i = rec.statements.findIndex((s) => s.Sid === sid);
      if (i < 0) throw errors.notFound(`Statement ${sid} is not found in resource policy.`);
      rec.statements.splice(i, 1);
      rec.revisionId = randomUUID();
      if (rec.statements.length === 0) await tx.delete(POLICY_COLLECTION, key);
      else await tx.put(POLICY_COLLECTION, key, rec);
    });
  }

  async get(key: string): Promise<{ Policy: string; RevisionId: string }> {
    const rec = await this.store.get<PolicyRecord>(POLICY_COLLECTION, key);
    if (!rec || rec.statements.length === 0) throw errors.notFound(NOT_FOUND_MESSAGE);
    return { Policy: policyDocument(rec), RevisionId: rec.revisionId };
  }

  /** Drops one policy (a deleted version, alias or layer version). */
  async drop(key: string): Promise<void> {
    await this.store.delete(POLICY_COLLECTION, key);
  }

  /** Drops every policy whose key starts with prefix (a deleted function). */
  async dropPrefix(prefix: string): Promise<void> {
    await this.store.deleteRange(POLICY_COLLECTION, { prefix });
  }
}

/** Key of a function's policy: `fn:{acct}/{region}/{name}|{qualifier or $LATEST}`. */
export function functionPolicyKey(scope: Scope, name: string, qualifier?: string): string {
  return `fn:${functionKey(scope, name)}|${qualifier ?? ''}`;
}

export function functionPolicyResource(scope: Scope, name: string, qualifier?: string): string {
  return functionArn(scope, name, qualifier);
}

/** `*` and `?` wildcards of an ArnLike / StringLike condition. */
function like(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/**
 * True when one Allow statement of a function's resource policy lets an AWS service
 * (`s3.amazonaws.com`, `logs.amazonaws.com`, ...) invoke it on behalf of a source (its account
 * and ARN, checked against `AWS:SourceAccount` / `AWS:SourceArn` conditions, `*Like` with wildcards).
 */
export function policyAllowsService(
  statements: Record<string, unknown>[],
  service: string,
  source: { account: string; arn: string },
): boolean {
  return statements.some((st) => {
    if (st.Effect !== 'Allow') return false;
    const p = st.Principal as { Service?: unknown; AWS?: unknown } | string | undefined;
    const principalOk =
      p === '*' ||
      (typeof p === 'object' &&
        p !== null &&
        (asList(p.Service).includes(service) || asList(p.AWS).includes('*')));
    if (!principalOk) return false;
    const actions = asList(st.Action).map(String);
    if (!actions.some((a) => a === '*' || a === 'lambda:*' || a === 'lambda:InvokeFunction')) return false;
    const cond = (st.Condition ?? {}) as Record<string, Record<string, unknown>>;
    for (const [op, entries] of Object.entries(cond)) {
      for (const [k, v] of Object.entries(entries)) {
        const key = k.toLowerCase();
        const actual =
          key === 'aws:sourceaccount' ? source.account : key === 'aws:sourcearn' ? source.arn : undefined;
        if (actual === undefined) continue;
        const wanted = asList(v).map(String);
        const ok = /like/i.test(op) ? wanted.some((w) => like(w, actual)) : wanted.some((w) => w === actual);
        if (!ok) return false;
      }
    }
    return true;
  });
}
