/**
 * CloudWatch Contributor Insights settings: UpdateContributorInsights,
 * DescribeContributorInsights, ListContributorInsights, for a table and each of its GSIs.
 *
 * Only the settings exist: no CloudWatch rule is made and no contributor data is produced. A
 * setting is one Store document (collection INSIGHTS) read from the Store on every call, so
 * every cluster node sees a change at once. ENABLE answers ENABLING and DISABLE DISABLING; the
 * status settles (ENABLED / DISABLED) after `activationMs` (default 0: from the next call), as
 * a table's CREATING does. Rule names follow DynamoDB's format,
 * `DynamoDBContributorInsights-{PKC,PKT,SKC,SKT}-<table>[-<index>]-<enabled at, epoch ms>`.
 */
import type { Clock } from '../core/clock.js';
import type { KvReader, KvWriter, Store } from '../storage/store.js';
import {
  checkTableName,
  constraint,
  errors,
  INSIGHTS,
  TABLES,
  tableKey,
  tablePrefix,
  type Scope,
  type TableMeta,
} from './model.js';

type Input = Record<string, any>;

const MODES = ['ACCESSED_AND_THROTTLED_KEYS', 'THROTTLED_KEYS'];
const ACTIONS = ['ENABLE', 'DISABLE'];
const MAX_RESULTS = 100;

interface InsightsDoc {
  tableId: string;
  enabled: boolean;
  mode: string;
  /** When the rules were made (their names end with it). */
  rulesAt: number;
  updatedAt: number;
  /** ENABLING / DISABLING until then. */
  settleAt: number;
}

const key = (scope: Scope, table: string, index?: string) => tablePrefix(scope, table) + (index ?? '');

/** Removes the settings of a table and its indexes (DeleteTable), in the caller's transaction. */
export async function dropInsights(tx: KvWriter, scope: Scope, table: string): Promise<void> {
  await tx.deleteRange(INSIGHTS, { prefix: tablePrefix(scope, table) });
}

/** Removes a deleted GSI's settings. */
export async function dropIndexInsights(w: KvWriter, scope: Scope, table: string, index: string) {
  await w.delete(INSIGHTS, key(scope, table, index));
}

/** A table name, or the name in a table ARN (these operations take either). */
function tableNameOf(v: unknown): string {
  if (typeof v === 'string' && v.startsWith('arn:')) {
    const m = /^arn:[^:]*:dynamodb:[^:]*:[^:]*:table\/([^/]+)$/.exec(v);
    if (!m) throw errors.validation(`Invalid TableArn: ${v}`);
    return m[1];
  }
  checkTableName(v);
  return v;
}

export class ContributorInsights {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly activationMs: number,
  ) {}

  /** The table (read from the Store) and, when named, its GSI: else ResourceNotFoundException. */
  private async find(r: KvReader, scope: Scope, input: Input): Promise<{ meta: TableMeta; index?: string }> {
    const name = tableNameOf(input.TableName);
    const index = input.IndexName as string | undefined;
    if (index !== undefined) checkTableName(index, 'indexName');
    const meta = await r.get<TableMeta>(TABLES, tableKey(scope, name));
    if (!meta) throw errors.tableNotFound(name);
    if (index !== undefined && !meta.indexes.some((i) => i.kind === 'GSI' && i.name === index))
      throw errors.notFound(`Requested resource not found: Index: ${index} not found for table: ${name}`);
    return { meta, index };
  }

  private async current(r: KvReader, scope: Scope, meta: TableMeta, index?: string) {
    const doc = await r.get<InsightsDoc>(INSIGHTS, key(scope, meta.name, index));
    return doc && doc.tableId === meta.id ? doc : undefined;
  }

  private status(doc: InsightsDoc | undefined): string {
    if (!doc) return 'DISABLED';
    const settling = this.clock.now() < doc.settleAt;
    if (doc.enabled) return settling ? 'ENABLING' : 'ENABLED';
    return settling ? 'DISABLING' : 'DISABLED';
  }

  async updateContributorInsights(scope: Scope, input: Input) {
    const action = input.ContributorInsightsAction;
    if (action === undefined || action === null)
      throw errors.constraints([constraint(null, 'contributorInsightsAction', 'Member must not be null')]);
    if (!ACTIONS.includes(action))
      throw errors.constraints([
        constraint(
          action,
          'contributorInsightsAction',
          'Member must satisfy enum value set: [ENABLE, DISABLE]',
        ),
      ]);
    const mode = input.ContributorInsightsMode;
    if (mode !== undefined && !MODES.includes(mode))
      throw errors.constraints([
        constraint(
          mode,
          'contributorInsightsMode',
          `Member must satisfy enum value set: [${MODES.join(', ')}]`,
        ),
      ]);
    return this.store.transaction(async (tx) => {
      const { meta, index } = await this.find(tx, scope, input);
      const cur = await this.current(tx, scope, meta, index);
      const now = this.clock.now();
      let next: InsightsDoc | undefined;
      if (action === 'ENABLE') {
        // Enabling what is enabled with the same mode changes nothing; another mode re-enables.
        const want = mode ?? MODES[0];
        if (!cur?.enabled || cur.mode !== want)
          next = {
            tableId: meta.id,
            enabled: true,
            mode: want,
            rulesAt: cur?.enabled ? cur.rulesAt : now,
            updatedAt: now,
            settleAt: now + this.activationMs,
          };
      } else if (cur?.enabled)
        next = { ...cur, enabled: false, updatedAt: now, settleAt: now + this.activationMs };
      if (next) await tx.put(INSIGHTS, key(scope, meta.name, index), next);
      const doc = next ?? cur;
      return {
        TableName: meta.name,
        ...(index !== undefined ? { IndexName: index } : {}),
        ContributorInsightsStatus: next ? (next.enabled ? 'ENABLING' : 'DISABLING') : this.status(cur),
        ...(doc ? { ContributorInsightsMode: doc.mode } : {}),
      };
    });
  }

  async describeContributorInsights(scope: Scope, input: Input) {
    const { meta, index } = await this.find(this.store, scope, input);
    const doc = await this.current(this.store, scope, meta, index);
    const status = this.status(doc);
    const out: Record<string, unknown> = { TableName: meta.name };
    if (index !== undefined) out.IndexName = index;
    if (doc && status !== 'DISABLED') out.ContributorInsightsRuleList = this.rules(meta, doc, index);
    out.ContributorInsightsStatus = status;
    if (doc) {
      out.LastUpdateDateTime = doc.updatedAt / 1000;
      out.ContributorInsightsMode = doc.mode;
    }
    return out;
  }

  /** The CloudWatch rule names DynamoDB would make (sort-key rules only with a sort key). */
  private rules(meta: TableMeta, doc: InsightsDoc, index?: string): string[] {
    const keys = index === undefined ? meta.keys : meta.indexes.find((i) => i.name === index)!.keys;
    const kinds = doc.mode === 'THROTTLED_KEYS' ? ['PKT'] : ['PKC', 'PKT'];
    if (keys.range) kinds.push(...kinds.map((k) => `S${k.slice(1)}`));
    const resource = index === undefined ? meta.name : `${meta.name}-${index}`;
    return kinds.map((k) => `DynamoDBContributorInsights-${k}-${resource}-${doc.rulesAt}`);
  }

  /**
   * The settings that are not DISABLED, of one table (table first, then its GSIs) or of the
   * whole account and region, in pages.
   */
  async listContributorInsights(scope: Scope, input: Input) {
    const max = input.MaxResults ?? MAX_RESULTS;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_RESULTS)
      throw errors.constraints([
        constraint(
          max,
          'maxResults',
          `Member must have value ${Number(max) > MAX_RESULTS ? `less than or equal to ${MAX_RESULTS}` : 'greater than or equal to 1'}`,
        ),
      ]);
    let prefix = `${scope.accountId}/${scope.region}/`;
    const tables = new Map<string, TableMeta>();
    if (input.TableName !== undefined && input.TableName !== null) {
      const { meta } = await this.find(this.store, scope, { TableName: input.TableName });
      tables.set(meta.name, meta);
      prefix = tablePrefix(scope, meta.name);
    } else
      for (const r of await this.store.scan<TableMeta>(TABLES, { prefix })) tables.set(r.value.name, r.value);
    let after: string | undefined;
    if (input.NextToken !== undefined && input.NextToken !== null) {
      after = Buffer.from(String(input.NextToken), 'base64url').toString();
      if (!after.startsWith(prefix)) throw errors.validation('Invalid NextToken');
    }
    const page: Record<string, unknown>[] = [];
    let last: string | undefined;
    let more = false;
    for (const r of await this.store.scan<InsightsDoc>(INSIGHTS, { prefix, after })) {
      const rest = r.key.slice(`${scope.accountId}/${scope.region}/`.length);
      const slash = rest.indexOf('/');
      const table = tables.get(rest.slice(0, slash));
      const index = rest.slice(slash + 1) || undefined;
      if (!table || table.id !== r.value.tableId) continue;
      if (index !== undefined && !table.indexes.some((i) => i.kind === 'GSI' && i.name === index)) continue;
      const status = this.status(r.value);
      if (status === 'DISABLED') continue;
      if (page.length === max) {
        more = true;
        break;
      }
      page.push({
        TableName: table.name,
        ...(index !== undefined ? { IndexName: index } : {}),
        ContributorInsightsStatus: status,
        ContributorInsightsMode: r.value.mode,
      });
      last = r.key;
    }
    const out: Record<string, unknown> = { ContributorInsightsSummaries: page };
    if (more && last) out.NextToken = Buffer.from(last).toString('base64url');
    return out;
  }
}
