/**
 * OnDemandThroughput and WarmThroughput of tables and GSIs (CreateTable, UpdateTable,
 * DescribeTable). Both are recorded and described as DynamoDB does; neither is enforced
 * (Nimbus throttles nothing).
 *
 * - OnDemandThroughput (PAY_PER_REQUEST only): MaxReadRequestUnits / MaxWriteRequestUnits >= 1;
 *   an UpdateTable merges member by member and -1 removes a member (no limit).
 * - WarmThroughput is always described: what was set, but never less than the table's
 *   baseline (12,000 read / 4,000 write units per second on demand, the provisioned capacity
 *   otherwise). It never decreases: the stored value is the highest the table or index had.
 */
import { errors, type IndexMeta, type OnDemandThroughput, type TableMeta, type Warm } from './model.js';

type Billing = TableMeta['billingMode'];
type Provisioned = TableMeta['provisioned'];

/** What an on-demand table or index can serve at once without a warm throughput set. */
export const ON_DEMAND_INITIAL: Warm = { ReadUnitsPerSecond: 12000, WriteUnitsPerSecond: 4000 };

const ON_DEMAND_MEMBERS = ['MaxReadRequestUnits', 'MaxWriteRequestUnits'] as const;
const WARM_MEMBERS = ['ReadUnitsPerSecond', 'WriteUnitsPerSecond'] as const;
const CAPACITY_OF = {
  ReadUnitsPerSecond: 'ReadCapacityUnits',
  WriteUnitsPerSecond: 'WriteCapacityUnits',
} as const;
const INITIAL_DOC =
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html#on-demand-capacity-mode-initial';

/** `table` or `index` in messages. */
const what = (index?: string) => (index === undefined ? 'table' : 'index');

/**
 * The OnDemandThroughput a CreateTable or UpdateTable (`update`: -1 removes a member) asks
 * for, merged into `current`; undefined when no member is left.
 */
export function onDemandOf(
  spec: unknown,
  billing: Billing,
  current: OnDemandThroughput | undefined,
  { update, index }: { update: boolean; index?: string },
): OnDemandThroughput | undefined {
  if (spec === undefined || spec === null) return current;
  const s = spec as Record<string, unknown>;
  const given = ON_DEMAND_MEMBERS.filter((m) => s[m] !== undefined && s[m] !== null);
  if (!given.length) return current;
  if (billing !== 'PAY_PER_REQUEST')
    throw errors.invalidParams(
      `${given[0]} for OnDemandThroughput cannot be specified when ${update ? 'the table' : 'table'} BillingMode is PROVISIONED`,
    );
  const out: OnDemandThroughput = { ...current };
  for (const m of given) {
    const v = s[m];
    if (update && v === -1) delete out[m];
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 1) out[m] = v;
    else
      throw errors.invalidParams(
        `Requested ${m} for OnDemandThroughput for ${what(index)} is outside of valid range`,
      );
  }
  return Object.keys(out).length ? out : undefined;
}

/** The warm throughput a table or GSI has when none was set. */
export function baseWarm(billing: Billing, provisioned: Provisioned): Warm {
  if (billing === 'PAY_PER_REQUEST' || !provisioned) return { ...ON_DEMAND_INITIAL };
  return {
    ReadUnitsPerSecond: provisioned.ReadCapacityUnits,
    WriteUnitsPerSecond: provisioned.WriteCapacityUnits,
  };
}

function higher(a: Warm | undefined, b: Warm): Warm {
  if (!a) return b;
  return {
    ReadUnitsPerSecond: Math.max(a.ReadUnitsPerSecond, b.ReadUnitsPerSecond),
    WriteUnitsPerSecond: Math.max(a.WriteUnitsPerSecond, b.WriteUnitsPerSecond),
  };
}

/** The table's warm throughput now. */
export function tableWarm(meta: TableMeta): Warm {
  return higher(meta.warm, baseWarm(meta.billingMode, meta.provisioned));
}

/** A GSI's warm throughput now. */
export function indexWarm(meta: TableMeta, ix: IndexMeta): Warm {
  return higher(ix.warm, baseWarm(meta.billingMode, ix.provisioned ?? meta.provisioned));
}

/**
 * The WarmThroughput a CreateTable (`current` undefined: checked against the baseline) or an
 * UpdateTable (checked against `current`: it never decreases) asks for; a missing member keeps
 * its value. Undefined when `spec` is absent.
 */
export function warmOf(
  spec: unknown,
  billing: Billing,
  provisioned: Provisioned,
  current: Warm | undefined,
  index?: string,
): Warm | undefined {
  if (spec === undefined || spec === null) return undefined;
  const s = spec as Record<string, unknown>;
  const floor = current ?? baseWarm(billing, provisioned);
  const out = { ...floor };
  for (const m of WARM_MEMBERS) {
    const v = s[m];
    if (v === undefined || v === null) continue;
    const n = typeof v === 'number' && Number.isInteger(v) ? v : -Infinity;
    if (n < floor[m]) {
      const reason = current
        ? 'lower than current WarmThroughput, decreasing WarmThroughput is not supported'
        : billing === 'PAY_PER_REQUEST'
          ? `lower than initial throughput for OnDemand. See: ${INITIAL_DOC}`
          : `lower than ${CAPACITY_OF[m]} of ProvisionedThroughput`;
      throw errors.invalidParams(`Requested ${m} for WarmThroughput for ${what(index)} is ${reason}`);
    }
    out[m] = n;
  }
  return out;
}

/** DescribeTable's `WarmThroughput` of a table. */
export function describeTableWarm(meta: TableMeta): Record<string, unknown> {
  return { ...tableWarm(meta), Status: 'ACTIVE' };
}

/** DescribeTable's `WarmThroughput` of a GSI: UPDATING while the index is being built. */
export function describeIndexWarm(meta: TableMeta, ix: IndexMeta): Record<string, unknown> {
  return {
    ...indexWarm(meta, ix),
    Status: ix.status === 'ACTIVE' && !ix.backfilling ? 'ACTIVE' : 'UPDATING',
  };
}
