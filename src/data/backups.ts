/**
 * On-demand backups and point-in-time recovery (PITR).
 *
 * A backup is a document in `ddb-backups` plus a copy of the table's items in its own
 * collection, both written in one Store transaction that also reads every item: one
 * consistent view. It outlives the table.
 *
 * PITR keeps, per table, a base collection (the items as they were at `baseAt`) and a log
 * collection: every item write appends `{k: storeKey, i?: newImage}` under
 * `<15-digit ms><SEP><storeKey>` in the same transaction as the write (engine applyWrite).
 * A record holds the whole new image (or none: deleted), so replaying any suffix of the log
 * over a state that already contains part of it gives the same result: restoring to T is
 * base + every record up to T. The sweeper folds records older than the recovery period
 * into the base. Tables without PITR pay one property check per write.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { KvWriter, Store, Transaction } from '../storage/store.js';
import { itemSize, type Item } from './bridge.js';
import { writeItemRows } from './keys.js';
import {
  BACKUPS,
  checkTableName,
  constraint,
  err,
  errors,
  indexSpec,
  PITR_STATE,
  SEP,
  TABLES,
  tableKey,
  type AttributeDefinition,
  type IndexMeta,
  type KeySchemaElement,
  type PitrMeta,
  type Scope,
  type TableMeta,
} from './model.js';
import type { Tables } from './tables.js';

type Input = Record<string, any>;

const DAY_MS = 86_400_000;
const PAGE = 500;
/** How long another node may keep using table metadata it cached (Tables' cache). */
const META_CACHE_MS = 1000;

/** How long DynamoDB keeps the SYSTEM backup of a deleted table with point-in-time recovery. */
const SYSTEM_BACKUP_DAYS = 35;

export interface BackupMeta {
  arn: string;
  /** `<14-digit ms>-<8 hex>`, as in the ARN. */
  id: string;
  name: string;
  accountId: string;
  region: string;
  createdAt: number;
  type: 'USER' | 'SYSTEM';
  /** SYSTEM backups (of a deleted PITR table): gone after this time. */
  expiresAt?: number;
  sizeBytes: number;
  itemCount: number;
  /** Store collection holding the items. */
  collection: string;
  table: {
    name: string;
    id: string;
    arn: string;
    createdAt: number;
    keySchema: KeySchemaElement[];
    attributeDefinitions: AttributeDefinition[];
    billingMode: TableMeta['billingMode'];
    provisioned?: TableMeta['provisioned'];
    indexes: IndexMeta[];
    stream?: { enabled: boolean; viewType: string };
    ttl?: TableMeta['ttl'];
    sse?: TableMeta['sse'];
    tableClass?: string;
  };
}

interface LogRecord {
  k: string;
  i?: Item;
}

const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

/** Appends the PITR record of one item change (call inside the write's transaction, only when meta.pitr). */
export function appendPitrRecord(
  tx: KvWriter,
  clock: Clock,
  meta: TableMeta,
  storeKey: string,
  next: Item | undefined,
): Promise<void> {
  const rec: LogRecord = next ? { k: storeKey, i: next } : { k: storeKey };
  return tx.put(meta.pitr!.log, pad(clock.now()) + SEP + storeKey, rec);
}

const tableNotFound = (name: unknown) => err('TableNotFoundException', `Table not found: ${String(name)}`);
const backupNotFound = (arn: unknown) => err('BackupNotFoundException', `Backup not found: ${String(arn)}`);

/** Epoch seconds (the SDK's timestamp encoding) or an ISO string, to ms. */
function timeInput(v: unknown, member: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'number' ? Math.round(v * 1000) : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw errors.validation(`Invalid value for ${member}`);
  return ms;
}

export class Backups {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tables: Tables,
    private readonly activationMs: number,
  ) {}

  // ------------------------------------------------------------------ on-demand backups

  async createBackup(scope: Scope, input: Input) {
    checkTableName(input.TableName);
    const name = input.BackupName;
    const list: string[] = [];
    if (name === undefined || name === null)
      list.push(constraint(null, 'backupName', 'Member must not be null'));
    else if (typeof name !== 'string') throw errors.validation('Unexpected value type for backupName');
    else {
      if (!/^[a-zA-Z0-9_.-]+$/.test(name))
        list.push(
          constraint(name, 'backupName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'),
        );
      if (name.length < 3)
        list.push(constraint(name, 'backupName', 'Member must have length greater than or equal to 3'));
      if (name.length > 255)
        list.push(constraint(name, 'backupName', 'Member must have length less than or equal to 255'));
    }
    if (list.length) throw errors.constraints(list);
    const meta = await this.tables.get(scope, input.TableName, () => tableNotFound(input.TableName));
    if (this.tables.status(meta) === 'CREATING')
      throw err('TableInUseException', `Table is being created: ${meta.name}`);
    const backup = await this.store.transaction(async (tx) => {
      const cur = await this.tables.getTx(tx, scope, meta.name);
      if (!cur) throw tableNotFound(meta.name);
      return this.snapshot(tx, scope, cur, name, 'USER');
    });
    // Like CreateTable answering CREATING: the backup is complete already (DescribeBackup: AVAILABLE).
    return { BackupDetails: { ...details(backup), BackupStatus: 'CREATING' } };
  }

  /**
   * DeleteTable of a table with point-in-time recovery: a SYSTEM backup of it (`{table}$DeletedTableBackup`),
   * kept 35 days, in the deleting transaction, as DynamoDB keeps one.
   */
  async systemBackupOnDelete(tx: Transaction, scope: Scope, meta: TableMeta): Promise<void> {
    await this.snapshot(tx, scope, meta, `${meta.name}$DeletedTableBackup`, 'SYSTEM');
  }

  /** The table's definition and items copied into a new backup, in `tx` (one consistent view). */
  private async snapshot(
    tx: Transaction,
    scope: Scope,
    cur: TableMeta,
    name: string,
    type: 'USER' | 'SYSTEM',
  ): Promise<BackupMeta> {
    const createdAt = this.clock.now();
    const id = `${String(createdAt).padStart(14, '0')}-${randomBytes(4).toString('hex')}`;
    const b: BackupMeta = {
      arn: `${cur.arn}/backup/${id}`,
      id,
      name,
      accountId: scope.accountId,
      region: scope.region,
      createdAt,
      type,
      sizeBytes: 0,
      itemCount: 0,
      collection: `ddbb:${cur.id}:${id}`,
      table: {
        name: cur.name,
        id: cur.id,
        arn: cur.arn,
        createdAt: cur.createdAt,
        keySchema: cur.keySchema,
        attributeDefinitions: cur.attributeDefinitions,
        billingMode: cur.billingMode,
        provisioned: cur.provisioned,
        indexes: cur.indexes.filter((i) => i.status === 'ACTIVE' && !i.backfilling),
        stream: cur.stream?.enabled ? { enabled: true, viewType: cur.stream.viewType } : undefined,
        ttl: cur.ttl,
        sse: cur.sse,
        tableClass: cur.tableClass,
      },
    };
    if (type === 'SYSTEM') b.expiresAt = createdAt + SYSTEM_BACKUP_DAYS * 86_400_000;
    let after: string | undefined;
    for (;;) {
      const rows = await tx.scan<Item>(cur.collection, { after, limit: PAGE });
      for (const r of rows) {
        await tx.put(b.collection, r.key, r.value);
        b.itemCount++;
        b.sizeBytes += itemSize(r.value);
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1].key;
    }
    await tx.put(BACKUPS, `${scope.accountId}/${scope.region}/${id}`, b);
    return b;
  }

  /** A SYSTEM backup past its 35 days: it is dropped when a call next meets it. */
  private expired(b: BackupMeta): boolean {
    return b.expiresAt !== undefined && b.expiresAt <= this.clock.now();
  }

  private async drop(b: BackupMeta): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.delete(BACKUPS, `${b.accountId}/${b.region}/${b.id}`);
      await tx.deleteRange(b.collection, {});
    });
  }

  private async find(scope: Scope, backupArn: unknown): Promise<BackupMeta> {
    if (backupArn === undefined || backupArn === null)
      throw errors.constraints([constraint(null, 'backupArn', 'Member must not be null')]);
    const m =
      typeof backupArn === 'string'
        ? /^arn:aws[\w-]*:dynamodb:([^:]+):(\d+):table\/[^/]+\/backup\/(\d{14}-[0-9a-f]{8})$/.exec(backupArn)
        : null;
    if (!m) throw errors.validation(`Invalid BackupArn provided as input: ${String(backupArn)}`);
    if (m[1] !== scope.region || m[2] !== scope.accountId) throw backupNotFound(backupArn);
    const b = await this.store.get<BackupMeta>(BACKUPS, `${scope.accountId}/${scope.region}/${m[3]}`);
    if (b && this.expired(b)) await this.drop(b);
    if (!b || b.arn !== backupArn || this.expired(b)) throw backupNotFound(backupArn);
    return b;
  }

  async describeBackup(scope: Scope, input: Input) {
    return { BackupDescription: description(await this.find(scope, input.BackupArn)) };
  }

  async deleteBackup(scope: Scope, input: Input) {
    const b = await this.find(scope, input.BackupArn);
    await this.drop(b);
    const desc = description(b);
    desc.BackupDetails.BackupStatus = 'DELETED';
    return { BackupDescription: desc };
  }

  async listBackups(scope: Scope, input: Input) {
    const limit = input.Limit ?? 100;
    if (typeof limit !== 'number' || limit < 1 || limit > 100)
      throw errors.constraints([
        constraint(
          limit,
          'limit',
          `Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
        ),
      ]);
    const type = input.BackupType ?? 'USER';
    if (!['USER', 'SYSTEM', 'AWS_BACKUP', 'ALL'].includes(type))
      throw errors.constraints([
        constraint(type, 'backupType', 'Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]'),
      ]);
    if (input.TableName !== undefined) checkTableName(input.TableName);
    const lower = timeInput(input.TimeRangeLowerBound, 'TimeRangeLowerBound');
    const upper = timeInput(input.TimeRangeUpperBound, 'TimeRangeUpperBound');
    if (lower !== undefined && upper !== undefined && lower > upper)
      throw errors.validation('TimeRangeUpperBound must be greater than TimeRangeLowerBound');
    const prefix = `${scope.accountId}/${scope.region}/`;
    let after: string | undefined;
    if (input.ExclusiveStartBackupArn !== undefined) {
      const m = /\/backup\/(\d{14}-[0-9a-f]{8})$/.exec(String(input.ExclusiveStartBackupArn));
      if (!m) throw errors.validation(`Invalid ExclusiveStartBackupArn: ${input.ExclusiveStartBackupArn}`);
      after = prefix + m[1];
    }
    const rows = (await this.store.scan<BackupMeta>(BACKUPS, { prefix, after })).map((r) => r.value);
    for (const b of rows) if (this.expired(b)) await this.drop(b);
    const match = rows.filter(
      (b) =>
        !this.expired(b) &&
        (input.TableName === undefined || b.table.name === input.TableName) &&
        (type === 'ALL' || type === b.type) &&
        (lower === undefined || b.createdAt >= lower) &&
        (upper === undefined || b.createdAt < upper),
    );
    const page = match.slice(0, limit);
    const out: Record<string, unknown> = {
      BackupSummaries: page.map((b) => ({
        TableName: b.table.name,
        TableId: b.table.id,
        TableArn: b.table.arn,
        ...details(b),
      })),
    };
    if (match.length > limit) out.LastEvaluatedBackupArn = page[page.length - 1].arn;
    return out;
  }

  async restoreTableFromBackup(scope: Scope, input: Input) {
    checkTableName(input.TargetTableName, 'targetTableName');
    const b = await this.find(scope, input.BackupArn);
    await this.checkTarget(scope, input.TargetTableName);
    const meta = this.targetMeta(scope, input, b.table, {
      SourceBackupArn: b.arn,
      SourceTableArn: b.table.arn,
      RestoreDateTime: b.createdAt / 1000,
      RestoreInProgress: true,
    });
    return this.fill(scope, meta, async (write) => {
      let after: string | undefined;
      for (;;) {
        const rows = await this.store.scan<Item>(b.collection, { after, limit: PAGE });
        await write(rows.map((r) => [r.key, r.value]));
        if (rows.length < PAGE) return;
        after = rows[rows.length - 1].key;
      }
    });
  }

  /** TableAlreadyExistsException / TableInUseException when the target name is taken. */
  private async checkTarget(scope: Scope, name: string): Promise<void> {
    const existing = await this.store.get<TableMeta>(TABLES, tableKey(scope, name));
    if (!existing) return;
    if (this.tables.status(existing) === 'CREATING')
      throw err('TableInUseException', `Table is being created: ${name}`);
    throw err('TableAlreadyExistsException', `Table already exists: ${name}`);
  }

  /** The restored table's metadata: the source's keys and indexes, or the overrides. */
  private targetMeta(
    scope: Scope,
    input: Input,
    src: BackupMeta['table'],
    restore: NonNullable<TableMeta['restore']>,
  ): TableMeta {
    const billing = input.BillingModeOverride ?? src.billingMode;
    const provisioned =
      billing === 'PAY_PER_REQUEST'
        ? undefined
        : (input.ProvisionedThroughputOverride ??
          (src.billingMode === 'PROVISIONED' ? src.provisioned : undefined));
    const spec = (ix: IndexMeta) => indexSpec(ix, billing, provisioned);
    const gsis: Input[] =
      input.GlobalSecondaryIndexOverride ?? src.indexes.filter((i) => i.kind === 'GSI').map(spec);
    const lsis: Input[] =
      input.LocalSecondaryIndexOverride ?? src.indexes.filter((i) => i.kind === 'LSI').map(spec);
    const used = new Set<string>();
    for (const ks of [src.keySchema, ...gsis.map((g) => g.KeySchema), ...lsis.map((l) => l.KeySchema)])
      for (const k of (ks ?? []) as KeySchemaElement[]) used.add(k.AttributeName);
    const meta = this.tables.build(scope, {
      TableName: input.TargetTableName,
      AttributeDefinitions: src.attributeDefinitions.filter((d) => used.has(d.AttributeName)),
      KeySchema: src.keySchema,
      BillingMode: billing,
      ProvisionedThroughput: provisioned,
      GlobalSecondaryIndexes: gsis.length ? gsis : undefined,
      LocalSecondaryIndexes: lsis.length ? lsis : undefined,
      SSESpecification: input.SSESpecificationOverride ?? src.sse,
      TableClass: src.tableClass,
    });
    meta.restore = restore;
    // CREATING until every item is in (see fill).
    meta.readyAt = Number.MAX_SAFE_INTEGER;
    return meta;
  }

  /** Creates the table, writes the items (and index entries) page by page, then marks it ACTIVE. */
  private async fill(
    scope: Scope,
    meta: TableMeta,
    produce: (write: (rows: [string, Item][]) => Promise<void>) => Promise<void>,
  ) {
    if (!(await this.store.insert(TABLES, tableKey(scope, meta.name), meta)))
      throw err('TableAlreadyExistsException', `Table already exists: ${meta.name}`);
    this.tables.invalidate(scope, meta.name);
    const answer = { TableDescription: { ...this.tables.describe(meta), TableStatus: 'CREATING' } };
    await produce(async (rows) => {
      if (!rows.length) return;
      await this.store.transaction(async (tx) => {
        for (const [k, item] of rows) await writeItemRows(tx, meta, k, undefined, item);
      });
    });
    await this.store.transaction(async (tx) => {
      const cur = await this.tables.getTx(tx, scope, meta.name);
      if (!cur || cur.id !== meta.id) return;
      cur.readyAt = this.clock.now() + this.activationMs;
      if (cur.restore) cur.restore.RestoreInProgress = false;
      await tx.put(TABLES, tableKey(scope, meta.name), cur);
    });
    this.tables.invalidate(scope, meta.name);
    return answer;
  }

  // ------------------------------------------------------------------ point-in-time recovery

  async describeContinuousBackups(scope: Scope, input: Input) {
    const meta = await this.tables.get(scope, input.TableName, () => tableNotFound(input.TableName));
    return { ContinuousBackupsDescription: await this.continuous(meta) };
  }

  private async continuous(meta: TableMeta) {
    if (!meta.pitr)
      return {
        ContinuousBackupsStatus: 'ENABLED',
        PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' },
      };
    const { earliest, latest } = await this.window(meta);
    return {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: {
        PointInTimeRecoveryStatus: 'ENABLED',
        RecoveryPeriodInDays: meta.pitr.periodDays,
        EarliestRestorableDateTime: earliest / 1000,
        LatestRestorableDateTime: latest / 1000,
      },
    };
  }

  /** The restorable window in ms: from the base (or the recovery period) to now. */
  async window(meta: TableMeta): Promise<{ earliest: number; latest: number; baseAt: number }> {
    const baseAt = await this.ensureBase(meta);
    const now = this.clock.now();
    return { earliest: Math.max(baseAt, now - meta.pitr!.periodDays * DAY_MS), latest: now, baseAt };
  }

  async updateContinuousBackups(scope: Scope, input: Input) {
    const spec = input.PointInTimeRecoverySpecification;
    if (!spec)
      throw errors.constraints([
        constraint(null, 'pointInTimeRecoverySpecification', 'Member must not be null'),
      ]);
    if (spec.PointInTimeRecoveryEnabled === undefined || spec.PointInTimeRecoveryEnabled === null)
      throw errors.constraints([
        constraint(
          null,
          'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled',
          'Member must not be null',
        ),
      ]);
    const days = spec.RecoveryPeriodInDays;
    if (days !== undefined && (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 35))
      throw errors.constraints([
        constraint(
          days,
          'pointInTimeRecoverySpecification.recoveryPeriodInDays',
          `Member must have value ${Number(days) < 1 ? 'greater than or equal to 1' : 'less than or equal to 35'}`,
        ),
      ]);
    if (days !== undefined && !spec.PointInTimeRecoveryEnabled)
      throw errors.validation(
        'RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is set to true',
      );
    const meta = structuredClone(
      await this.tables.get(scope, input.TableName, () => tableNotFound(input.TableName)),
    );
    const key = tableKey(scope, meta.name);
    if (spec.PointInTimeRecoveryEnabled) {
      if (meta.pitr) {
        if (days !== undefined && days !== meta.pitr.periodDays) {
          meta.pitr.periodDays = days;
          await this.tables.save(meta);
        }
      } else {
        const at = this.clock.now();
        meta.pitr = {
          enabledAt: at,
          periodDays: days ?? 35,
          base: `ddbp:${meta.id}:${at}:base`,
          log: `ddbp:${meta.id}:${at}:log`,
        };
        // Recording starts first (this node at once; others once their cached metadata is
        // older than a second), the base snapshot after: records written in between are
        // replayed over a base that may hold them already, which changes nothing.
        await this.tables.save(meta);
        if (this.store.kind === 'postgres') await sleep(META_CACHE_MS + 100);
        await this.ensureBase(meta);
      }
    } else if (meta.pitr) {
      const p = meta.pitr;
      delete meta.pitr;
      await this.store.transaction(async (tx) => {
        await tx.put(TABLES, key, meta);
        await dropPitr(tx, p);
      });
      this.tables.invalidate(scope, meta.name);
    }
    return { ContinuousBackupsDescription: await this.continuous(meta) };
  }

  /** Takes the base snapshot if it is not there yet (the enabling call was interrupted); returns baseAt. */
  private async ensureBase(meta: TableMeta): Promise<number> {
    const p = meta.pitr!;
    const have = await this.store.get<{ baseAt: number }>(PITR_STATE, p.log);
    if (have) return have.baseAt;
    return this.store.transaction(async (tx) => {
      const again = await tx.get<{ baseAt: number }>(PITR_STATE, p.log);
      if (again) return again.baseAt;
      await tx.deleteRange(p.base, {});
      let after: string | undefined;
      for (;;) {
        const rows = await tx.scan<Item>(meta.collection, { after, limit: PAGE });
        for (const r of rows) await tx.put(p.base, r.key, r.value);
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1].key;
      }
      const baseAt = this.clock.now();
      await tx.put(PITR_STATE, p.log, { baseAt });
      return baseAt;
    });
  }

  async restoreTableToPointInTime(scope: Scope, input: Input) {
    checkTableName(input.TargetTableName, 'targetTableName');
    let sourceName = input.SourceTableName;
    if (sourceName === undefined && input.SourceTableArn !== undefined) {
      const m = /^arn:aws[\w-]*:dynamodb:([^:]+):(\d+):table\/([^/]+)$/.exec(String(input.SourceTableArn));
      if (!m) throw errors.validation(`Invalid SourceTableArn provided as input: ${input.SourceTableArn}`);
      if (m[1] !== scope.region || m[2] !== scope.accountId) throw tableNotFound(input.SourceTableArn);
      sourceName = m[3];
    } else if (sourceName === undefined)
      throw errors.validation('Either SourceTableArn or SourceTableName must be specified');
    else if (input.SourceTableArn !== undefined)
      throw errors.validation('Only one of SourceTableArn or SourceTableName can be specified');
    const src = await this.tables.get(scope, sourceName, () => tableNotFound(sourceName));
    const useLatest = input.UseLatestRestorableTime === true;
    const requested = timeInput(input.RestoreDateTime, 'RestoreDateTime');
    if (useLatest && requested !== undefined)
      throw errors.validation('Only one of RestoreDateTime or UseLatestRestorableTime can be specified');
    if (!useLatest && requested === undefined)
      throw errors.validation('RestoreDateTime must be specified if UseLatestRestorableTime is false');
    if (!src.pitr)
      throw err(
        'PointInTimeRecoveryUnavailableException',
        `Point in time recovery is not enabled for table '${src.name}'`,
      );
    await this.checkTarget(scope, input.TargetTableName);
    const { earliest, latest } = await this.window(src);
    const at = useLatest ? latest : requested!;
    if (at < earliest || at > latest)
      throw err(
        'InvalidRestoreTimeException',
        'An invalid restore time was specified. RestoreDateTime must be between EarliestRestorableDateTime and LatestRestorableDateTime.',
      );
    const state = await this.itemsAt(src.pitr, at);
    const meta = this.targetMeta(
      scope,
      input,
      {
        ...src,
        indexes: src.indexes.filter((i) => i.status === 'ACTIVE' && !i.backfilling),
      },
      { SourceTableArn: src.arn, RestoreDateTime: at / 1000, RestoreInProgress: true },
    );
    const rows = [...state].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return this.fill(scope, meta, async (write) => {
      for (let i = 0; i < rows.length; i += PAGE) await write(rows.slice(i, i + PAGE));
    });
  }

  /** The items of a PITR table as they were at `at` (ms), by store key: base + log up to it. */
  async itemsAt(p: PitrMeta, at: number): Promise<Map<string, Item>> {
    // One read transaction: the base and the log are never seen half folded.
    return this.store.transaction(async (tx) => {
      const items = new Map<string, Item>();
      for (const r of await tx.scan<Item>(p.base)) items.set(r.key, r.value);
      for (const r of await tx.scan<LogRecord>(p.log, { end: pad(at + 1) })) {
        if (r.value.i) items.set(r.value.k, r.value.i);
        else items.delete(r.value.k);
      }
      return items;
    });
  }

  /** Folds log records older than the recovery period into the base (the sweeper calls it). */
  async fold(meta: TableMeta): Promise<void> {
    const p = meta.pitr;
    if (!p) return;
    const state = await this.store.get<{ baseAt: number }>(PITR_STATE, p.log);
    if (!state) return;
    const cutoff = this.clock.now() - p.periodDays * DAY_MS;
    if (state.baseAt >= cutoff) return;
    for (;;) {
      const done = await this.store.transaction(async (tx) => {
        const rows = await tx.scan<LogRecord>(p.log, { end: pad(cutoff), limit: PAGE });
        for (const r of rows) {
          if (r.value.i) await tx.put(p.base, r.value.k, r.value.i);
          else await tx.delete(p.base, r.value.k);
          await tx.delete(p.log, r.key);
        }
        if (rows.length === PAGE) return false;
        await tx.put(PITR_STATE, p.log, { baseAt: cutoff });
        return true;
      });
      if (done) return;
    }
  }
}

/** Removes a table's PITR base, log and state (in the caller's transaction). */
export async function dropPitr(tx: KvWriter, p: NonNullable<TableMeta['pitr']>): Promise<void> {
  await tx.deleteRange(p.base, {});
  await tx.deleteRange(p.log, {});
  await tx.delete(PITR_STATE, p.log);
}

function details(b: BackupMeta) {
  return {
    BackupArn: b.arn,
    BackupName: b.name,
    BackupSizeBytes: b.sizeBytes,
    BackupStatus: 'AVAILABLE',
    BackupType: b.type,
    BackupCreationDateTime: b.createdAt / 1000,
    ...(b.expiresAt ? { BackupExpiryDateTime: b.expiresAt / 1000 } : {}),
  };
}

function description(b: BackupMeta) {
  const t = b.table;
  const throughput = (p?: { ReadCapacityUnits: number; WriteCapacityUnits: number }) => ({
    ReadCapacityUnits: p?.ReadCapacityUnits ?? 0,
    WriteCapacityUnits: p?.WriteCapacityUnits ?? 0,
  });
  const features: Record<string, unknown> = {};
  const lsis = t.indexes.filter((i) => i.kind === 'LSI');
  const gsis = t.indexes.filter((i) => i.kind === 'GSI');
  if (lsis.length)
    features.LocalSecondaryIndexes = lsis.map((i) => ({
      IndexName: i.name,
      KeySchema: i.keySchema,
      Projection: i.projection,
    }));
  if (gsis.length)
    features.GlobalSecondaryIndexes = gsis.map((i) => ({
      IndexName: i.name,
      KeySchema: i.keySchema,
      Projection: i.projection,
      ProvisionedThroughput: throughput(i.provisioned),
    }));
  if (t.stream) features.StreamDescription = { StreamEnabled: true, StreamViewType: t.stream.viewType };
  if (t.ttl)
    features.TimeToLiveDescription = {
      TimeToLiveStatus: t.ttl.enabled ? 'ENABLED' : 'DISABLED',
      AttributeName: t.ttl.attribute,
    };
  if (t.sse?.Enabled) features.SSEDescription = { Status: 'ENABLED', SSEType: t.sse.SSEType ?? 'KMS' };
  return {
    BackupDetails: details(b),
    SourceTableDetails: {
      TableName: t.name,
      TableId: t.id,
      TableArn: t.arn,
      TableSizeBytes: b.sizeBytes,
      KeySchema: t.keySchema,
      TableCreationDateTime: t.createdAt / 1000,
      ProvisionedThroughput: throughput(t.provisioned),
      ItemCount: b.itemCount,
      BillingMode: t.billingMode,
    },
    SourceTableFeatureDetails: features,
  };
}
