import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, prefixUpperBound, rangeBounds } from './keys.js';

test('prefixUpperBound is the next string in code point order after every key with the prefix', () => {
  assert.equal(prefixUpperBound('a/'), 'a0');
  assert.equal(prefixUpperBound('ab'), 'ac');
  assert.equal(prefixUpperBound('\ud7ff'), '\ue000', 'skips the surrogate range');
  assert.equal(prefixUpperBound('a\u{10ffff}'), 'b');
  assert.equal(prefixUpperBound('\u{10ffff}'), undefined);
  assert.equal(prefixUpperBound(''), undefined);
  for (const k of ['a/', 'a/\u{10ffff}\u{10ffff}', 'a/\uffff', 'a/\u{1f600}']) {
    assert.ok(compareKeys(k, prefixUpperBound('a/') as string) < 0, k);
  }
});

test('compareKeys is code point order, not UTF-16 order', () => {
  assert.ok('\u{1f600}' < '\uff5e', 'JavaScript compares UTF-16 code units');
  assert.ok(compareKeys('\u{1f600}', '\uff5e') > 0);
});

test('rangeBounds keeps the tightest lower and upper bound (one of each)', () => {
  assert.deepEqual(rangeBounds({ prefix: 'p', after: 'pa', endInclusive: 'pz' }), [
    { op: '>', value: 'pa' },
    { op: '<=', value: 'pz' },
  ]);
  assert.deepEqual(rangeBounds({ prefix: 'p' }), [
    { op: '>=', value: 'p' },
    { op: '<', value: 'q' },
  ]);
  assert.deepEqual(rangeBounds({ prefix: 'pb', start: 'pa', end: 'pz' }), [
    { op: '>=', value: 'pb' },
    { op: '<', value: 'pc' },
  ]);
  // Equal values: the exclusive bound is the tighter one.
  assert.deepEqual(rangeBounds({ start: 'k', after: 'k', end: 'z', endInclusive: 'z' }), [
    { op: '>', value: 'k' },
    { op: '<', value: 'z' },
  ]);
  // Code point order, not UTF-16 order.
  assert.deepEqual(rangeBounds({ after: '\uff5e', start: '\u{1f600}' }), [{ op: '>=', value: '\u{1f600}' }]);
  assert.deepEqual(rangeBounds({ prefix: '' }), []);
});

test('compareKeys agrees with UTF-8 byte order', () => {
  const keys = [
    '',
    'a',
    'ab',
    '\u007f',
    '\u0080',
    '\ud7ff',
    '\ue000',
    '\uffff',
    '\u{10000}',
    '\u{1f600}',
    '\u{10ffff}',
    'a\u{1f600}',
    'a\uffff',
  ];
  for (const a of keys)
    for (const b of keys)
      assert.equal(
        Math.sign(compareKeys(a, b)),
        Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))),
        `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
      );
});
