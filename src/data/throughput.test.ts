import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseWarm, onDemandOf, warmOf } from './throughput.js';

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('onDemandOf: create needs >= 1; update merges member by member and -1 removes one', () => {
  assert.deepEqual(onDemandOf({ MaxReadRequestUnits: 5 }, 'PAY_PER_REQUEST', undefined, { update: false }), {
    MaxReadRequestUnits: 5,
  });
  assert.equal(onDemandOf({}, 'PAY_PER_REQUEST', undefined, { update: false }), undefined);
  assert.match(
    message(() => onDemandOf({ MaxWriteRequestUnits: -1 }, 'PAY_PER_REQUEST', undefined, { update: false })),
    /Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of valid range$/,
  );
  const cur = { MaxReadRequestUnits: 5, MaxWriteRequestUnits: 6 };
  assert.deepEqual(onDemandOf({ MaxReadRequestUnits: -1 }, 'PAY_PER_REQUEST', cur, { update: true }), {
    MaxWriteRequestUnits: 6,
  });
  assert.equal(
    onDemandOf({ MaxReadRequestUnits: -1, MaxWriteRequestUnits: -1 }, 'PAY_PER_REQUEST', cur, {
      update: true,
    }),
    undefined,
  );
  assert.match(
    message(() =>
      onDemandOf({ MaxReadRequestUnits: 1.5 }, 'PAY_PER_REQUEST', cur, { update: true, index: 'g' }),
    ),
    /for index is outside of valid range$/,
  );
  assert.match(
    message(() => onDemandOf({ MaxWriteRequestUnits: 9 }, 'PROVISIONED', undefined, { update: true })),
    /MaxWriteRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED$/,
  );
});

test('warmOf: never below the baseline (create) or the current value (update); a missing member keeps its value', () => {
  const provisioned = { ReadCapacityUnits: 10, WriteCapacityUnits: 20 };
  assert.deepEqual(baseWarm('PROVISIONED', provisioned), { ReadUnitsPerSecond: 10, WriteUnitsPerSecond: 20 });
  assert.deepEqual(baseWarm('PAY_PER_REQUEST', undefined), {
    ReadUnitsPerSecond: 12000,
    WriteUnitsPerSecond: 4000,
  });
  assert.deepEqual(warmOf({ WriteUnitsPerSecond: 25 }, 'PROVISIONED', provisioned, undefined), {
    ReadUnitsPerSecond: 10,
    WriteUnitsPerSecond: 25,
  });
  assert.match(
    message(() => warmOf({ WriteUnitsPerSecond: 19 }, 'PROVISIONED', provisioned, undefined)),
    /WriteUnitsPerSecond for WarmThroughput for table is lower than WriteCapacityUnits of ProvisionedThroughput$/,
  );
  const cur = { ReadUnitsPerSecond: 13000, WriteUnitsPerSecond: 4000 };
  assert.deepEqual(warmOf({ ReadUnitsPerSecond: 13000 }, 'PAY_PER_REQUEST', undefined, cur), cur);
  assert.match(
    message(() => warmOf({ ReadUnitsPerSecond: 12999 }, 'PAY_PER_REQUEST', undefined, cur, 'g')),
    /for index is lower than current WarmThroughput, decreasing WarmThroughput is not supported$/,
  );
  assert.equal(warmOf(undefined, 'PAY_PER_REQUEST', undefined, cur), undefined);
});
