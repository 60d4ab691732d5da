/**
 * DynamoDB's domain model as Nimbus stores it: table metadata documents, Store collection
 * names, limits, and the error catalogue (exact AWS codes and messages).
 */
import { AwsError } from '../protocols/errors.js';
import type { AttributeValue, Item } from './bridge.js';

export type { AttributeValue, Item };

export interface Scope {
  accountId: string;
  region: string;
}

export type KeyType = 'HASH' | 'RANGE';
export type ScalarType = 'S' | 'N' | 'B';

export interface KeySchemaElement {
  AttributeName: string;
  KeyType: KeyType;
}

export interface AttributeDefinition {
  AttributeName: string;
  AttributeType: ScalarType;
}

export interface Projection {
  ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  NonKeyAttributes?: string[];
}

/** A key schema in the form the engine uses. */
export interface Keys {
  hash: string;
  hashType: ScalarType;
  range?: string;
  rangeType?: ScalarType;
}

export interface IndexMeta {
  name: string;
  kind: 'GSI' | 'LSI';
  keys: Keys;
  keySchema: KeySchemaElement[];
  projection: Projection;
  /** Store collection holding the index entries. */
  collection: string;
  status: 'CREATING' | 'ACTIVE' | 'DELETING' | 'UPDATING';
  /** GSIs being built: backfilled before ACTIVE. */
  backfilling?: boolean;
  provisioned?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  /** GSIs of a PAY_PER_REQUEST table: the maximum request units set (see throughput.ts). */
  onDemand?: OnDemandThroughput;
  /** GSIs: the highest warm throughput this index had (see throughput.ts). */
  warm?: Warm;
}

/** OnDemandThroughput: recorded and described, never enforced. */
export interface OnDemandThroughput {
  MaxReadRequestUnits?: number;
  MaxWriteRequestUnits?: number;
}

/** WarmThroughput: recorded and described, never enforced. */
export interface Warm {
  ReadUnitsPerSecond: number;
  WriteUnitsPerSecond: number;
}

export interface StreamMeta {
  enabled: boolean;
  viewType: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
  label: string;
  arn: string;
  collection: string;
  createdAt: number;
}

export interface TableMeta {
  name: string;
  id: string;
  arn: string;
  accountId: string;
  region: string;
  createdAt: number;
  /** CREATING/UPDATING until this time, ACTIVE after. */
  readyAt: number;
  updating?: boolean;
  keys: Keys;
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
  billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST';
  provisioned?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  collection: string;
  indexes: IndexMeta[];
  stream?: StreamMeta;
  /** Older streams (disabled), kept for 24 h for ListStreams/GetRecords. */
  oldStreams?: StreamMeta[];
  ttl?: { attribute: string; enabled: boolean };
  tags: Record<string, string>;
  sse?: Record<string, unknown>;
  tableClass?: string;
  deletionProtection?: boolean;
  /** PAY_PER_REQUEST tables: the maximum request units set (see throughput.ts). */
  onDemand?: OnDemandThroughput;
  /** The highest warm throughput this table had (see throughput.ts). */
  warm?: Warm;
  /** Point-in-time recovery, present while enabled (see backups.ts). */
  pitr?: PitrMeta;
  /** Global table: the regions of all its replicas, this one included (see replicas.ts). */
  replicas?: string[];
  /** Set on a table made by RestoreTableFromBackup / RestoreTableToPointInTime. */
  restore?: {
    SourceBackupArn?: string;
    SourceTableArn?: string;
    RestoreDateTime: number;
    RestoreInProgress: boolean;
  };
}

export interface PitrMeta {
  enabledAt: number;
  periodDays: number;
  /** Collection holding the items as they were at the base time (see PITR_STATE). */
  base: string;
  /** Collection of change records: key `<15-digit ms><SEP><item store key>`, value {k, i?}. */
  log: string;
}

export const TABLES = 'ddb-tables';
export const TOKENS = 'ddb-tx-tokens';
/** Backup documents, keyed `<account>/<region>/<backup id>` (the id starts with its creation time). */
export const BACKUPS = 'ddb-backups';
/**
 * Resource-based policies, keyed `<account>/<region>/<table>/` (the table's) and
 * `<account>/<region>/<table>/stream/<label>` (a stream's): see policies.ts.
 */
export const POLICIES = 'ddb-policies';
/**
 * Contributor Insights settings, keyed `<account>/<region>/<table>/` (the table's) and
 * `<account>/<region>/<table>/<index>` (a GSI's): see insights.ts.
 */
export const INSIGHTS = 'ddb-insights';
/** Per PITR log collection: `{ baseAt }`, the time the base collection's items stand for. */
export const PITR_STATE = 'ddb-pitr';
export const SEP = '\u0000';
export const MAX_ITEM_BYTES = 400 * 1024;
export const PAGE_BYTES = 1024 * 1024;

export function tableKey(scope: Scope, name: string): string {
  return `${scope.accountId}/${scope.region}/${name}`;
}

/**
 * The prefix of every key a table owns in POLICIES and INSIGHTS (`/` cannot occur in a table
 * name, so `t` never matches `t2`).
 */
export function tablePrefix(scope: Scope, name: string): string {
  return `${scope.accountId}/${scope.region}/${name}/`;
}

export function err(code: string, message: string, extra?: Record<string, unknown>): AwsError {
  return new AwsError(code, message, 400, 'Sender', extra);
}

export const errors = {
  validation: (message: string) => err('ValidationException', message),
  constraints: (list: string[]) =>
    err(
      'ValidationException',
      `${list.length} validation error${list.length === 1 ? '' : 's'} detected: ${list.join('; ')}`,
    ),
  notFound: (message = 'Requested resource not found') => err('ResourceNotFoundException', message),
  tableNotFound: (name: string) =>
    err('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`),
  inUse: (message: string) => err('ResourceInUseException', message),
  conditionFailed: (item?: Item) =>
    err(
      'ConditionalCheckFailedException',
      'The conditional request failed',
      item ? { Item: item } : undefined,
    ),
  keyMismatch: () => err('ValidationException', 'The provided key element does not match the schema'),
  invalidParams: (detail: string) =>
    err('ValidationException', `One or more parameter values were invalid: ${detail}`),
  limitExceeded: (message: string) => err('LimitExceededException', message),
  idempotentMismatch: () =>
    err(
      'IdempotentParameterMismatchException',
      'The request with the same client token was made with different parameters',
    ),
};

/** `Value 'x' at 'member' failed to satisfy constraint: ...` */
export function constraint(value: unknown, member: string, rule: string): string {
  const shown = value === null || value === undefined ? 'null' : `'${String(value)}'`;
  return `Value ${shown} at '${member}' failed to satisfy constraint: ${rule}`;
}

/** Throws the AWS constraint message for a table name. */
export function checkTableName(name: unknown, member = 'tableName'): asserts name is string {
  const list: string[] = [];
  if (name === undefined || name === null) {
    list.push(constraint(null, member, 'Member must not be null'));
  } else if (typeof name !== 'string') {
    throw errors.validation(`Unexpected value type for ${member}`);
  } else {
    if (!/^[a-zA-Z0-9_.-]+$/.test(name))
      list.push(constraint(name, member, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'));
    if (name.length < 3)
      list.push(constraint(name, member, 'Member must have length greater than or equal to 3'));
    if (name.length > 255)
      list.push(constraint(name, member, 'Member must have length less than or equal to 255'));
  }
  if (list.length) throw errors.constraints(list);
}

export function keysOf(schema: KeySchemaElement[], defs: AttributeDefinition[]): Keys {
  const typeOf = (n: string) => defs.find((d) => d.AttributeName === n)?.AttributeType as ScalarType;
  const h = schema.find((k) => k.KeyType === 'HASH')!;
  const r = schema.find((k) => k.KeyType === 'RANGE');
  return {
    hash: h.AttributeName,
    hashType: typeOf(h.AttributeName),
    range: r?.AttributeName,
    rangeType: r ? typeOf(r.AttributeName) : undefined,
  };
}

/**
 * An index as CreateTable takes it (a table made from another: a restore, a replica): a GSI of
 * a PROVISIONED table keeps its own throughput, else the table's.
 */
export function indexSpec(
  ix: IndexMeta,
  billing: TableMeta['billingMode'],
  provisioned: TableMeta['provisioned'],
): Record<string, unknown> {
  return {
    IndexName: ix.name,
    KeySchema: ix.keySchema,
    Projection: ix.projection,
    ...(ix.kind === 'GSI' && billing === 'PROVISIONED'
      ? { ProvisionedThroughput: ix.provisioned ?? provisioned }
      : {}),
  };
}
