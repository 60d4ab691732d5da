/**
 * Resource-based policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy (and
 * CreateTable's `ResourcePolicy`). A table and each of its streams have their own policy.
 *
 * Policies are stored and answered, never enforced: Nimbus evaluates no IAM. Each is one Store
 * document (collection POLICIES) read from the Store on every call, so every cluster node sees
 * a change at once. A document `{ revisionId, tableId }` without `policy` is what a
 * DeleteResourcePolicy leaves: DynamoDB answers a later delete with the deletion's revision.
 * RevisionIds are the change time in epoch milliseconds (strictly increasing per resource); a
 * Put of a document equal to the current one (JSON-equal, a one-element list equal to its
 * element) changes nothing and answers the current RevisionId.
 */
import type { Clock } from '../core/clock.js';
import type { KvReader, KvWriter, Store } from '../storage/store.js';
import {
  constraint,
  err,
  errors,
  POLICIES,
  TABLES,
  tableKey,
  tablePrefix,
  type Scope,
  type TableMeta,
} from './model.js';

type Input = Record<string, any>;

/** The largest policy document DynamoDB takes, whitespace included. */
const MAX_POLICY_BYTES = 20 * 1024;
const NO_POLICY = 'NO_POLICY';

interface PolicyDoc {
  /** The document as answered (minified); absent: deleted. */
  policy?: string;
  revisionId: string;
  /** The table it belongs to (a same-name table made later does not inherit it). */
  tableId: string;
}

interface Target {
  meta: TableMeta;
  arn: string;
  key: string;
}

const notFound = (detail: string) =>
  err('PolicyNotFoundException', `Resource-based policy not found for the provided ResourceArn: ${detail}`);

/**
 * Checks a policy document as PutResourcePolicy and CreateTable do (JSON object, size,
 * statements) and answers it minified.
 */
export function checkPolicy(policy: unknown, member = 'policy'): string {
  if (policy === undefined || policy === null)
    throw errors.constraints([constraint(null, member, 'Member must not be null')]);
  if (typeof policy !== 'string') throw errors.validation(`Unexpected value type for ${member}`);
  if (Buffer.byteLength(policy) > MAX_POLICY_BYTES)
    throw errors.invalidParams(`Maximum policy size of ${MAX_POLICY_BYTES} bytes exceeded`);
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    doc = undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw errors.invalidParams('Invalid policy document: This policy contains invalid Json');
  const statements = (doc as Input).Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  if (!list.length)
    throw errors.invalidParams('Invalid policy document: Could not parse the policy: Statement is empty!');
  for (const st of list)
    if (!st || typeof st !== 'object' || (st.Resource === undefined && st.NotResource === undefined))
      throw errors.invalidParams('Invalid policy document: Missing required field Resource');
  return JSON.stringify(doc);
}

/** JSON with sorted keys and one-element lists as their element: equal documents, equal strings. */
function canonical(json: string): string {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length === 1 ? walk(v[0]) : v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, walk((v as Input)[k])]),
      );
    return v;
  };
  return JSON.stringify(walk(JSON.parse(json)));
}

/** Stores a table's first policy (CreateTable `ResourcePolicy`), in the caller's transaction. */
export async function attachPolicy(tx: KvWriter, clock: Clock, meta: TableMeta, policy: string) {
  const doc: PolicyDoc = { policy, revisionId: String(clock.now()), tableId: meta.id };
  await tx.put(POLICIES, tablePrefix(meta, meta.name), doc);
}

/** Removes the policies of a table and its streams (DeleteTable), in the caller's transaction. */
export async function dropPolicies(tx: KvWriter, scope: Scope, name: string): Promise<void> {
  await tx.deleteRange(POLICIES, { prefix: tablePrefix(scope, name) });
}

export class ResourcePolicies {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The table (read from the Store) and the policy key of a table or stream ARN. */
  private async target(r: KvReader, scope: Scope, resourceArn: unknown): Promise<Target> {
    if (resourceArn === undefined || resourceArn === null)
      throw errors.constraints([constraint(null, 'resourceArn', 'Member must not be null')]);
    if (typeof resourceArn !== 'string') throw errors.validation('Unexpected value type for resourceArn');
    const arn = resourceArn;
    if (!arn.startsWith('arn:')) throw errors.invalidParams(`ARNs must start with 'arn:': ${arn}`);
    const m = /^arn:([^:]*):dynamodb:([^:]*):([^:]*):table\/([^/]+)(?:\/(stream|index)\/(.+))?$/.exec(arn);
    if (!m) throw errors.invalidParams(`Provided Arn is not a DynamoDB resource arn: ${arn}`);
    const [, partition, region, account, name, kind, label] = m;
    if (kind === 'index')
      throw errors.invalidParams(
        `Invalid resource arn provided, only table or stream is accepted. Provided resource arn: ${arn}`,
      );
    if (partition !== 'aws' || region !== scope.region)
      throw errors.invalidParams(`Invalid resource Arn: ${arn}`);
    if (account !== scope.accountId)
      throw errors.validation(
        'This action is only supported by accounts that match the resource owner’s account.',
      );
    const meta = await r.get<TableMeta>(TABLES, tableKey(scope, name));
    if (!meta) throw errors.tableNotFound(name);
    const key = tablePrefix(scope, name);
    if (kind !== 'stream') return { meta, arn, key };
    const streams = [meta.stream, ...(meta.oldStreams ?? [])];
    if (!streams.some((s) => s?.label === label))
      throw errors.notFound(`Requested resource not found: Stream: ${label} not found for Table: ${name}`);
    return { meta, arn, key: `${key}stream/${label}` };
  }

  private async current(r: KvReader, t: Target): Promise<PolicyDoc | undefined> {
    const doc = await r.get<PolicyDoc>(POLICIES, t.key);
    return doc && doc.tableId === t.meta.id ? doc : undefined;
  }

  /** A new RevisionId: now in ms, after the previous one. */
  private revision(prev: PolicyDoc | undefined): string {
    return String(Math.max(this.clock.now(), prev ? Number(prev.revisionId) + 1 : 0));
  }

  /** PolicyNotFoundException when ExpectedRevisionId does not name the current revision. */
  private expect(expected: unknown, doc: PolicyDoc | undefined, table: string): void {
    if (expected === undefined || expected === null) return;
    if (expected === NO_POLICY) {
      if (doc?.policy !== undefined)
        throw notFound(
          `Requested policy update expecting none to be present for table ${table}, but a policy exists with revision id ${doc.revisionId}.`,
        );
      return;
    }
    if (!doc)
      throw notFound(
        `Requested update for policy with revision id ${String(expected)}, but table ${table} has no associated policy.`,
      );
    if (doc.revisionId !== expected)
      throw notFound(
        `Requested update for policy with revision id ${String(expected)}, but the policy associated to target table ${table} has revision id ${doc.revisionId}.`,
      );
  }

  async putResourcePolicy(scope: Scope, input: Input) {
    const policy = checkPolicy(input.Policy);
    return this.store.transaction(async (tx) => {
      const t = await this.target(tx, scope, input.ResourceArn);
      const cur = await this.current(tx, t);
      this.expect(input.ExpectedRevisionId, cur, t.meta.name);
      if (cur?.policy !== undefined && canonical(cur.policy) === canonical(policy))
        return { RevisionId: cur.revisionId };
      const doc: PolicyDoc = { policy, revisionId: this.revision(cur), tableId: t.meta.id };
      await tx.put(POLICIES, t.key, doc);
      return { RevisionId: doc.revisionId };
    });
  }

  async getResourcePolicy(scope: Scope, input: Input) {
    const t = await this.target(this.store, scope, input.ResourceArn);
    const cur = await this.current(this.store, t);
    if (cur?.policy === undefined) throw notFound(t.arn);
    return { Policy: cur.policy, RevisionId: cur.revisionId };
  }

  /**
   * Answers the removed policy's RevisionId; with no policy, `{}` if there never was one, else
   * the RevisionId of the deletion (as DynamoDB does).
   */
  async deleteResourcePolicy(scope: Scope, input: Input) {
    return this.store.transaction(async (tx) => {
      const t = await this.target(tx, scope, input.ResourceArn);
      const cur = await this.current(tx, t);
      this.expect(input.ExpectedRevisionId, cur, t.meta.name);
      if (!cur) return {};
      if (cur.policy === undefined) return { RevisionId: cur.revisionId };
      const gone: PolicyDoc = { revisionId: this.revision(cur), tableId: t.meta.id };
      await tx.put(POLICIES, t.key, gone);
      return { RevisionId: cur.revisionId };
    });
  }
}
