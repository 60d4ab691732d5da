/**
 * The control plane: CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTables, tags,
 * TTL settings. Table metadata is one Store document per table (collection `ddb-tables`),
 * cached in memory for the hot path (revalidated after a second, for cluster nodes).
 */
import { replicaFields } from './replicas.js';
import { describeIndexWarm, describeTableWarm, onDemandOf, warmOf } from './throughput.js';
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Store, KvWriter } from '../storage/store.js';
import { arn } from '../core/ids.js';
import {
  checkTableName,
  constraint,
  errors,
  keysOf,
  tableKey,
  TABLES,
  type AttributeDefinition,
  type IndexMeta,
  type KeySchemaElement,
  type Projection,
  type Scope,
  type StreamMeta,
  type TableMeta,
} from './model.js';

const CACHE_MS = 1000;
const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'];

export interface TableStats {
  itemCount: number;
  sizeBytes: number;
  indexes: Record<string, { itemCount: number; sizeBytes: number }>;
}

export class Tables {
  private readonly cache = new Map<string, { meta: TableMeta | undefined; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** How long a new or updated table stays CREATING/UPDATING. */
    private readonly activationMs: number,
  ) {}

  /** The table, or ResourceNotFoundException. */
  async get(scope: Scope, name: unknown, notFound = () => errors.notFound()): Promise<TableMeta> {
    const meta = this.cached(scope, name) ?? (await this.load(scope, name));
    if (!meta) throw notFound();
    return meta;
  }

  /**
   * The table's metadata when the cache holds it fresh (the hot path: no await, no name
   * check, as only names that passed checkTableName are ever cached); undefined otherwise.
   */
  cached(scope: Scope, name: unknown): TableMeta | undefined {
    if (typeof name !== 'string') return undefined;
    const hit = this.cache.get(tableKey(scope, name));
    return hit && this.clock.now() - hit.at < CACHE_MS ? hit.meta : undefined;
  }

  private async load(scope: Scope, name: unknown): Promise<TableMeta | undefined> {
    checkTableName(name);
    const k = tableKey(scope, name);
    const now = this.clock.now();
    const meta = await this.store.get<TableMeta>(TABLES, k);
    this.cache.set(k, { meta, at: now });
    return meta;
  }

  /** Re-reads inside a transaction (for writes that must see the latest metadata). */
  async getTx(tx: KvWriter, scope: Scope, name: string): Promise<TableMeta | undefined> {
    return tx.get<TableMeta>(TABLES, tableKey(scope, name));
  }

  invalidate(scope: Scope, name: string): void {
    this.cache.delete(tableKey(scope, name));
  }

  async save(meta: TableMeta): Promise<void> {
    await this.store.put(TABLES, tableKey(meta, meta.name), meta);
    this.invalidate(meta, meta.name);
  }

  status(meta: TableMeta): string {
    if (this.clock.now() < meta.readyAt) return meta.updating ? 'UPDATING' : 'CREATING';
    return 'ACTIVE';
  }

  async list(scope: Scope): Promise<TableMeta[]> {
    const rows = await this.store.scan<TableMeta>(TABLES, { prefix: `${scope.accountId}/${scope.region}/` });
    return rows.map((r) => r.value);
  }

  async all(): Promise<TableMeta[]> {
    return (await this.store.scan<TableMeta>(TABLES)).map((r) => r.value);
  }

  /** Validates a CreateTable request and builds the metadata. */
  build(scope: Scope, input: Record<string, any>): TableMeta {
    checkTableName(input.TableName);
    const list: string[] = [];
    if (input.AttributeDefinitions == null)
      list.push(constraint(null, 'attributeDefinitions', 'Member must not be null'));
    if (input.KeySchema == null) list.push(constraint(null, 'keySchema', 'Member must not be null'));
    if (list.length) throw errors.constraints(list);
    const defs = input.AttributeDefinitions as AttributeDefinition[];
    const keySchema = input.KeySchema as KeySchemaElement[];
    checkKeySchema(keySchema, 'keySchema');
    for (const d of defs)
      if (!['S', 'N', 'B'].includes(d.AttributeType))
        throw errors.constraints([
          constraint(
            d.AttributeType,
            'attributeDefinitions.member.attributeType',
            'Member must satisfy enum value set: [B, N, S]',
          ),
        ]);
    const defined = new Set(defs.map((d) => d.AttributeName));
    const used = new Set<string>();
    const checkDefined = (ks: KeySchemaElement[], table = false) => {
      const missing = ks.filter((k) => !defined.has(k.AttributeName));
      // The table's own hash + range key short of a definition has its own, older text.
      if (missing.length && table && ks.length === 2)
        throw errors.validation('Invalid KeySchema: Some index key attribute have no definition');
      if (missing.length)
        throw errors.invalidParams(
          `Some index key attributes are not defined in AttributeDefinitions. Keys: [${ks.map((k) => k.AttributeName).join(', ')}], AttributeDefinitions: [${defs.map((d) => d.AttributeName).join(', ')}]`,
        );
      for (const k of ks) used.add(k.AttributeName);
    };
    checkDefined(keySchema, true);
    const billingMode = input.BillingMode ?? 'PROVISIONED';
    const provisioned = checkThroughput(billingMode, input.ProvisionedThroughput);
    const onDemand = onDemandOf(input.OnDemandThroughput, billingMode, undefined, { update: false });
    const warm = warmOf(input.WarmThroughput, billingMode, provisioned, undefined);
    const id = randomUUIDish();
    const tableArn = arn('dynamodb', scope.region, scope.accountId, `table/${input.TableName}`);
    const keys = keysOf(keySchema, defs);
    const indexes: IndexMeta[] = [];
    const names = new Set<string>();
    const lsis = (input.LocalSecondaryIndexes ?? []) as any[];
    if (lsis.length && !keys.range)
      throw errors.invalidParams(
        'Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex',
      );
    if (lsis.length > 5)
      throw errors.invalidParams('Cannot have more than 5 local secondary indexes per table');
    for (const l of lsis) {
      checkKeySchema(l.KeySchema, 'localSecondaryIndexes.member.keySchema');
      checkDefined(l.KeySchema);
      if (l.KeySchema[0].AttributeName !== keys.hash)
        throw errors.invalidParams(
          `Index KeySchema does not have the same leading hash key as table KeySchema for index: ${l.IndexName}. index hash key: ${l.KeySchema[0].AttributeName}, table hash key: ${keys.hash}`,
        );
      if (names.has(l.IndexName)) throw errors.invalidParams(`Duplicate index name: ${l.IndexName}`);
      names.add(l.IndexName);
      indexes.push(this.indexMeta(id, 'LSI', l, defs, 'ACTIVE'));
    }
    const gsis = (input.GlobalSecondaryIndexes ?? []) as any[];
    if (gsis.length > 20)
      throw errors.limitExceeded(
        'Subscriber limit exceeded: Only 20 global secondary indexes are allowed per table',
      );
    for (const g of gsis) {
      checkKeySchema(g.KeySchema, 'globalSecondaryIndexes.member.keySchema');
      checkDefined(g.KeySchema);
      if (names.has(g.IndexName)) throw errors.invalidParams(`Duplicate index name: ${g.IndexName}`);
      names.add(g.IndexName);
      const ix = this.indexMeta(id, 'GSI', g, defs, 'ACTIVE');
      ix.provisioned = checkThroughput(billingMode, g.ProvisionedThroughput, g.IndexName);
      const index = g.IndexName as string;
      ix.onDemand = onDemandOf(g.OnDemandThroughput, billingMode, undefined, { update: false, index });
      ix.warm = warmOf(g.WarmThroughput, billingMode, ix.provisioned, undefined, index);
      indexes.push(ix);
    }
    if (used.size !== defined.size)
      throw errors.invalidParams(
        'Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions',
      );
    const now = this.clock.now();
    const meta: TableMeta = {
      name: input.TableName,
      id,
      arn: tableArn,
      accountId: scope.accountId,
      region: scope.region,
      createdAt: now,
      readyAt: now + this.activationMs,
      keys,
      keySchema,
      attributeDefinitions: defs,
      billingMode,
      provisioned,
      collection: `ddb:${id}`,
      indexes,
      tags: Object.fromEntries(
        ((input.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
      ),
      sse: input.SSESpecification,
      tableClass: input.TableClass,
      deletionProtection: input.DeletionProtectionEnabled === true,
      ...(onDemand ? { onDemand } : {}),
      ...(warm ? { warm } : {}),
    };
    if (input.StreamSpecification?.StreamEnabled)
      meta.stream = this.newStream(meta, input.StreamSpecification.StreamViewType);
    return meta;
  }

  indexMeta(
    tableId: string,
    kind: 'GSI' | 'LSI',
    spec: { IndexName: string; KeySchema: KeySchemaElement[]; Projection?: Projection },
    defs: AttributeDefinition[],
    status: IndexMeta['status'],
  ): IndexMeta {
    if (!spec.Projection?.ProjectionType) throw errors.invalidParams(`Unknown ProjectionType: null`);
    if (spec.Projection.ProjectionType !== 'INCLUDE' && spec.Projection.NonKeyAttributes)
      throw errors.invalidParams(
        `ProjectionType is ${spec.Projection.ProjectionType}, but NonKeyAttributes is specified`,
      );
    return {
      name: spec.IndexName,
      kind,
      keys: keysOf(spec.KeySchema, defs),
      keySchema: spec.KeySchema,
      projection: spec.Projection,
      collection: `ddbi:${tableId}:${spec.IndexName}`,
      status,
    };
  }

  newStream(meta: TableMeta, viewType: string): StreamMeta {
    if (!STREAM_VIEW_TYPES.includes(viewType))
      throw errors.invalidParams('StreamViewType must be specified when StreamEnabled is true');
    const label = new Date(this.clock.now()).toISOString().replace('Z', '');
    return {
      enabled: true,
      viewType: viewType as StreamMeta['viewType'],
      label,
      arn: `${meta.arn}/stream/${label}`,
      collection: `ddbs:${meta.id}:${label}`,
      createdAt: this.clock.now(),
    };
  }

  describe(meta: TableMeta, stats?: TableStats): Record<string, unknown> {
    const status = this.status(meta);
    const throughput = (p?: { ReadCapacityUnits: number; WriteCapacityUnits: number }) => ({
      NumberOfDecreasesToday: 0,
      ReadCapacityUnits: p?.ReadCapacityUnits ?? 0,
      WriteCapacityUnits: p?.WriteCapacityUnits ?? 0,
    });
    const out: Record<string, unknown> = {
      AttributeDefinitions: meta.attributeDefinitions,
      CreationDateTime: meta.createdAt / 1000,
      ItemCount: stats?.itemCount ?? 0,
      KeySchema: meta.keySchema,
      ProvisionedThroughput: throughput(meta.provisioned),
      TableArn: meta.arn,
      TableId: meta.id,
      TableName: meta.name,
      TableSizeBytes: stats?.sizeBytes ?? 0,
      TableStatus: status,
      DeletionProtectionEnabled: meta.deletionProtection ?? false,
    };
    if (meta.onDemand && meta.billingMode === 'PAY_PER_REQUEST')
      out.OnDemandThroughput = { ...meta.onDemand };
    out.WarmThroughput = describeTableWarm(meta);
    if (meta.billingMode === 'PAY_PER_REQUEST')
      out.BillingModeSummary = {
        BillingMode: 'PAY_PER_REQUEST',
        LastUpdateToPayPerRequestDateTime: meta.createdAt / 1000,
      };
    const ixOut = (ix: IndexMeta) => ({
      IndexName: ix.name,
      KeySchema: ix.keySchema,
      Projection: ix.projection,
      IndexSizeBytes: stats?.indexes[ix.name]?.sizeBytes ?? 0,
      ItemCount: stats?.indexes[ix.name]?.itemCount ?? 0,
      IndexArn: `${meta.arn}/index/${ix.name}`,
      ...(ix.kind === 'GSI'
        ? {
            IndexStatus: ix.status === 'ACTIVE' && status === 'CREATING' ? 'CREATING' : ix.status,
            ProvisionedThroughput: throughput(ix.provisioned),
            ...(ix.onDemand ? { OnDemandThroughput: { ...ix.onDemand } } : {}),
            WarmThroughput: describeIndexWarm(meta, ix),
            ...(ix.backfilling ? { Backfilling: true } : {}),
          }
        : {}),
    });
    const gsis = meta.indexes.filter((i) => i.kind === 'GSI');
    const lsis = meta.indexes.filter((i) => i.kind === 'LSI');
    if (gsis.length) out.GlobalSecondaryIndexes = gsis.map(ixOut);
    if (lsis.length) out.LocalSecondaryIndexes = lsis.map(ixOut);
    if (meta.stream) {
      out.StreamSpecification = { StreamEnabled: meta.stream.enabled, StreamViewType: meta.stream.viewType };
      out.LatestStreamLabel = meta.stream.label;
      out.LatestStreamArn = meta.stream.arn;
    }
    if (meta.sse?.Enabled)
      out.SSEDescription = {
        Status: 'ENABLED',
        SSEType: meta.sse.SSEType ?? 'KMS',
        KMSMasterKeyArn: arn('kms', meta.region, meta.accountId, 'key/nimbus-default'),
      };
    if (meta.tableClass) out.TableClassSummary = { TableClass: meta.tableClass };
    if (meta.restore) out.RestoreSummary = { ...meta.restore };
    if (meta.replicas) Object.assign(out, replicaFields(meta));
    return out;
  }
}

function checkKeySchema(ks: unknown, member: string): asserts ks is KeySchemaElement[] {
  if (!Array.isArray(ks) || ks.length < 1 || ks.length > 2) {
    const n = Array.isArray(ks) ? ks.length : 0;
    throw errors.constraints([
      n < 1
        ? constraint('[]', member, 'Member must have length greater than or equal to 1')
        : constraint(`[${ks}]`, member, 'Member must have length less than or equal to 2'),
    ]);
  }
  // DynamoDB checks the names before the key types, and answers this one without the
  // "One or more parameter values were invalid: " prefix.
  if (ks.length === 2 && ks[0].AttributeName === ks[1].AttributeName)
    throw errors.validation(
      'Both the Hash Key and the Range Key element in the KeySchema have the same name',
    );
  if (ks[0].KeyType !== 'HASH')
    throw errors.validation('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (ks.length === 2 && ks[1].KeyType !== 'RANGE')
    throw errors.validation('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
}

function checkThroughput(
  mode: string,
  p: { ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined,
  index?: string,
): { ReadCapacityUnits: number; WriteCapacityUnits: number } | undefined {
  if (mode !== 'PROVISIONED' && mode !== 'PAY_PER_REQUEST')
    throw errors.constraints([
      constraint(mode, 'billingMode', 'Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]'),
    ]);
  if (mode === 'PAY_PER_REQUEST') {
    if (p)
      throw errors.invalidParams(
        'Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST',
      );
    return undefined;
  }
  if (!p || p.ReadCapacityUnits == null || p.WriteCapacityUnits == null)
    throw errors.invalidParams(
      index
        ? `ProvisionedThroughput should not be null for index: ${index}`
        : 'ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED',
    );
  for (const [k, v] of Object.entries(p))
    if ((v as number) < 1)
      throw errors.constraints([
        constraint(
          v,
          `provisionedThroughput.${k[0].toLowerCase()}${k.slice(1)}`,
          'Member must have value greater than or equal to 1',
        ),
      ]);
  return { ReadCapacityUnits: p.ReadCapacityUnits, WriteCapacityUnits: p.WriteCapacityUnits };
}

function randomUUIDish(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
