import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkItem } from './bridge.js';
import { checkKey } from './keys.js';
import type { TableMeta } from './model.js';

const table = (range?: 'S' | 'N' | 'B') =>
  ({
    keys: { hash: 'pk', hashType: 'S', ...(range ? { range: 'sk', rangeType: range } : {}) },
    indexes: [],
  }) as unknown as TableMeta;

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('checkKey: the plain-key fast path returns what the full validation returns, in the key order', () => {
  const keys: [TableMeta, Record<string, unknown>][] = [
    [table(), { pk: { S: 'a' } }],
    [table('N'), { pk: { S: 'a' }, sk: { N: '12' } }],
    [table('N'), { sk: { N: '-120' }, pk: { S: 'a' } }],
    [table('N'), { pk: { S: 'a' }, sk: { N: '0' } }],
    // Not plain: the full path (normalised numbers, binary, ignored null members).
    [table('N'), { pk: { S: 'a' }, sk: { N: '012.50' } }],
    [table('N'), { pk: { S: 'a' }, sk: { N: '-0' } }],
    [table('B'), { pk: { S: 'a' }, sk: { B: 'AQI=' } }],
    [table(), { pk: { S: 'a', N: null } }],
  ];
  for (const [meta, key] of keys) {
    const got = checkKey(meta, key);
    const want = checkItem(key, 'key');
    assert.equal(JSON.stringify(got), JSON.stringify(want), JSON.stringify(key));
    assert.notEqual(got, key);
  }
});

test('checkKey: errors are the same whichever path looks at the key first', () => {
  const mismatch = 'The provided key element does not match the schema';
  const cases: [TableMeta, unknown, string][] = [
    [table(), { pk: { N: '1' } }, mismatch],
    [table(), { pk: { S: 'a' }, x: { S: 'b' } }, mismatch],
    [table('N'), { pk: { S: 'a' } }, mismatch],
    [table('N'), { pk: { S: 'a' }, sk: { S: '1' } }, mismatch],
    [table(), [], mismatch],
    [table(), null, mismatch],
    [
      table(),
      { pk: { S: '' } },
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk',
    ],
    [
      table(),
      { pk: { S: 'a', N: '1' } },
      'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
    ],
    [
      table(),
      { pk: {} },
      'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes',
    ],
    [
      table('N'),
      { pk: { S: 'a' }, sk: { N: 'x' } },
      'The parameter cannot be converted to a numeric value: x',
    ],
    [
      table(),
      { pk: { S: 'x'.repeat(2049) } },
      'One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes',
    ],
    [
      table('S'),
      { pk: { S: 'a' }, sk: { S: 'y'.repeat(1025) } },
      'One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes',
    ],
  ];
  for (const [meta, key, want] of cases)
    assert.equal(
      message(() => checkKey(meta, key)),
      want,
      JSON.stringify(key),
    );
});
