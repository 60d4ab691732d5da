/**
 * Global tables (version 2019.11.21): UpdateTable `ReplicaUpdates` creates and deletes replicas
 * of a table in other regions of the account; DescribeTable lists them (`Replicas`,
 * `GlobalTableVersion`).
 *
 * A replica is a table of the same name, keys, indexes and billing in its region. Adding one
 * enables the source's stream (NEW_AND_OLD_IMAGES) as DynamoDB does, gives the replica the same
 * stream, and copies the items. Every item write to a replica is applied to all the others in
 * the same Store transaction (engine applyWrite), with their indexes, streams and PITR logs: the
 * replicas never diverge, where DynamoDB replicates within about a second, last writer wins.
 */
import type { Store, Transaction } from '../storage/store.js';
import type { Item } from './bridge.js';
import { dropInsights } from './insights.js';
import { writeItemRows } from './keys.js';
import { dropPolicies } from './policies.js';
import { errors, indexSpec, TABLES, tableKey, type IndexMeta, type Scope, type TableMeta } from './model.js';
import type { Tables } from './tables.js';

type Input = Record<string, any>;

const VERSION = '2019.11.21';
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** How long a node may keep using table metadata it cached (the Tables cache). */
const META_CACHE_MS = 1100;

/** DescribeTable's fields of a table with replicas. */
export function replicaFields(meta: TableMeta): Input {
  if (!meta.replicas?.length) return {};
  return {
    GlobalTableVersion: VERSION,
    Replicas: meta.replicas.map((RegionName) => ({ RegionName, ReplicaStatus: 'ACTIVE' })),
  };
}

export class Replicas {
  constructor(
    private readonly store: Store,
    private readonly tables: Tables,
  ) {}

  /**
   * Cluster mode: other nodes may write with table metadata cached before the replica existed
   * (for up to the cache period, ~1 s), reaching the source only. After that period this makes
   * the new replica exactly the source again, in one transaction.
   */
  async resync(scope: Scope, name: string, region: string): Promise<void> {
    await new Promise((r) => setTimeout(r, META_CACHE_MS));
    await this.store.transaction(async (tx) => {
      const src = await this.tables.getTx(tx, scope, name);
      const replica = await this.tables.getTx(tx, { accountId: scope.accountId, region }, name);
      if (!src || !replica) return;
      const want = new Map((await tx.scan<Item>(src.collection)).map((r) => [r.key, r.value]));
      for (const r of await tx.scan<Item>(replica.collection))
        if (!want.has(r.key)) await writeItemRows(tx, replica, r.key, r.value, undefined);
      for (const [key, item] of want) {
        const have = await tx.get<Item>(replica.collection, key);
        if (JSON.stringify(have) !== JSON.stringify(item)) await writeItemRows(tx, replica, key, have, item);
      }
    });
  }

  /**
   * Applies `updates` (UpdateTable's ReplicaUpdates) to `meta` (the caller's copy, saved by it)
   * and to the replica tables in `tx`.
   */
  async update(tx: Transaction, scope: Scope, meta: TableMeta, updates: Input[]): Promise<void> {
    for (const u of updates) {
      if (u.Create) await this.create(tx, scope, meta, String(u.Create.RegionName ?? ''));
      else if (u.Delete) await this.delete(tx, scope, meta, String(u.Delete.RegionName ?? ''));
      else if (u.Update) {
        const region = String(u.Update.RegionName ?? '');
        if (!(meta.replicas ?? []).includes(region))
          throw errors.validation(`Update global table operation failed: Replica ${region} does not exist`);
        // Per-replica throughput and table class overrides are accepted: nothing is throttled here.
      } else throw errors.validation('One of Create, Update or Delete must be specified in a replica update');
    }
  }

  private async create(tx: Transaction, scope: Scope, meta: TableMeta, region: string): Promise<void> {
    if (!REGION.test(region)) throw errors.validation(`Invalid region: ${region}`);
    const regions = meta.replicas ?? [meta.region];
    if (region === meta.region || regions.includes(region))
      throw errors.validation(`Failed to create a replica in region ${region}: the replica already exists`);
    const target: Scope = { accountId: scope.accountId, region };
    if (await this.tables.getTx(tx, target, meta.name))
      throw errors.validation(
        `Failed to create a the new replica of table with name: '${meta.name}' because one or more replicas already existed as tables.`,
      );
    if (meta.stream?.enabled && meta.stream.viewType !== 'NEW_AND_OLD_IMAGES')
      throw errors.validation(
        'Replicas need the table stream to be enabled with StreamViewType NEW_AND_OLD_IMAGES',
      );
    if (!meta.stream?.enabled) {
      if (meta.stream) (meta.oldStreams ??= []).push(meta.stream);
      meta.stream = this.tables.newStream(meta, 'NEW_AND_OLD_IMAGES');
    }
    const spec = (ix: IndexMeta) => indexSpec(ix, meta.billingMode, meta.provisioned);
    const gsis = meta.indexes.filter((i) => i.kind === 'GSI').map(spec);
    const lsis = meta.indexes.filter((i) => i.kind === 'LSI').map(spec);
    const replica = this.tables.build(target, {
      TableName: meta.name,
      AttributeDefinitions: meta.attributeDefinitions,
      KeySchema: meta.keySchema,
      BillingMode: meta.billingMode,
      ProvisionedThroughput: meta.billingMode === 'PROVISIONED' ? meta.provisioned : undefined,
      GlobalSecondaryIndexes: gsis.length ? gsis : undefined,
      LocalSecondaryIndexes: lsis.length ? lsis : undefined,
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      SSESpecification: meta.sse,
      TableClass: meta.tableClass,
    });
    for (const r of await tx.scan<Item>(meta.collection))
      await writeItemRows(tx, replica, r.key, undefined, r.value);
    const all = [...regions, region];
    replica.replicas = all;
    meta.replicas = all;
    await tx.put(TABLES, tableKey(target, meta.name), replica);
    await this.relist(tx, scope, meta, all);
  }

  private async delete(tx: Transaction, scope: Scope, meta: TableMeta, region: string): Promise<void> {
    const regions = meta.replicas ?? [];
    if (!regions.includes(region))
      throw errors.validation(`Update global table operation failed: Replica ${region} does not exist`);
    if (region === meta.region)
      throw errors.validation('A replica cannot delete itself: update the table from another replica region');
    const target: Scope = { accountId: scope.accountId, region };
    const replica = await this.tables.getTx(tx, target, meta.name);
    if (replica) {
      await tx.delete(TABLES, tableKey(target, meta.name));
      await tx.deleteRange(replica.collection, {});
      for (const ix of replica.indexes) await tx.deleteRange(ix.collection, {});
      for (const s of [replica.stream, ...(replica.oldStreams ?? [])])
        if (s) await tx.deleteRange(s.collection, {});
      await dropPolicies(tx, target, meta.name);
      await dropInsights(tx, target, meta.name);
    }
    const rest = regions.filter((r) => r !== region);
    meta.replicas = rest.length > 1 ? rest : undefined;
    await this.relist(tx, scope, meta, rest.length > 1 ? rest : []);
  }

  /** Gives the other replicas (not `meta`, which the caller saves) the list of regions. */
  private async relist(tx: Transaction, scope: Scope, meta: TableMeta, regions: string[]): Promise<void> {
    for (const region of meta.replicas ?? regions) {
      if (region === meta.region) continue;
      const other = await this.tables.getTx(tx, { accountId: scope.accountId, region }, meta.name);
      if (!other) continue;
      other.replicas = regions.length > 1 ? regions : undefined;
      await tx.put(TABLES, tableKey({ accountId: scope.accountId, region }, meta.name), other);
    }
  }

  /** When the table in `meta.region` is deleted: the other replicas forget it. */
  async forget(tx: Transaction, meta: TableMeta): Promise<void> {
    const rest = (meta.replicas ?? []).filter((r) => r !== meta.region);
    for (const region of rest) {
      const scope = { accountId: meta.accountId, region };
      const other = await this.tables.getTx(tx, scope, meta.name);
      if (!other) continue;
      other.replicas = rest.length > 1 ? rest : undefined;
      await tx.put(TABLES, tableKey(scope, meta.name), other);
    }
  }
}
