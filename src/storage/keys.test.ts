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

test('rangeBounds ANDs every option', () => {
  assert.deepEqual(rangeBounds({ prefix: 'p', after: 'pa', endInclusive: 'pz' }), [
    { op: '>=', value: 'p' },
    { op: '<', value: 'q' },
    { op: '>', value: 'pa' },
    { op: '<=', value: 'pz' },
  ]);
  assert.deepEqual(rangeBounds({ prefix: '' }), []);
});
