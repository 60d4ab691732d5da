import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../types/attribute-value.js';
import * as keyApi from './index.js';
import {
  applyUpdate,
  compileCondition,
  compileProjection,
  compileUpdate,
  createTracker,
  evaluateCondition,
  project,
} from './index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const item: Item = {
  id: { S: 'k1' },
  n: { N: '10' },
  s: { S: 'hello world' },
  e: { S: '' },
  bin: { B: b64('abcdef') },
  flag: { BOOL: true },
  nul: { NULL: true },
  ss: { SS: ['red', 'green'] },
  ns: { NS: ['1', '2.5'] },
  bs: { BS: [b64('x'), b64('yz')] },
  arr: { L: [{ S: 'a' }, { N: '2' }, { M: { deep: { S: 'v' } } }] },
  obj: { M: { inr: { M: { x: { N: '1' } } }, 'key with space': { S: 'k' } } },
};

const values = {
  ':1': { N: '1' },
  ':10': { N: '10.0' },
  ':11': { N: '11' },
  ':hello': { S: 'hello' },
  ':world': { S: 'world' },
  ':hw': { S: 'hello world' },
  ':red': { S: 'red' },
  ':blue': { S: 'blue' },
  ':n25': { N: '2.50' },
  ':a': { S: 'a' },
  ':two': { N: '2' },
  ':abc': { B: b64('abc') },
  ':cd': { B: b64('cd') },
  ':x': { B: b64('x') },
  ':S': { S: 'S' },
  ':SS': { S: 'SS' },
  ':NULL': { S: 'NULL' },
  ':M': { S: 'M' },
  ':true': { BOOL: true },
  ':ten_s': { S: '10' },
  ':v': { S: 'v' },
  ':3': { N: '3' },
  ':11s': { N: '11' },
  ':empty': { S: '' },
  ':sset': { SS: ['green', 'red'] },
};

function check(expr: string, names?: Record<string, string>): boolean {
  return evaluateCondition(compileCondition(expr, createTracker(names, values)), item);
}

const cases: [string, boolean][] = [
  ['n = :10', true],
  ['n = :ten_s', false],
  ['n <> :ten_s', true],
  ['n <> :10', false],
  ['absent <> :1', true],
  ['absent = :1', false],
  ['n < :11', true],
  ['n <= :10', true],
  ['n > :10', false],
  ['n >= :10', true],
  ['s > :hello', true],
  ['s < :ten_s', false],
  ['n < :ten_s', false],
  ['n BETWEEN :1 AND :11', true],
  ['n BETWEEN :11 AND :11s', false],
  ['s BETWEEN :1 AND :11', false],
  ['n IN (:1, :10)', true],
  ['n IN (:1, :11)', false],
  ['absent IN (:1)', false],
  ['attribute_exists(n)', true],
  ['attribute_exists(absent)', false],
  ['attribute_not_exists(absent)', true],
  ['attribute_exists(arr[2].deep)', true],
  ['attribute_exists(arr[3])', false],
  ['attribute_exists(obj.inr.x)', true],
  ['attribute_exists(obj.inr.y)', false],
  ['attribute_exists(n.x)', false],
  ['attribute_exists(obj.#k)', true],
  ['attribute_exists(#k)', false],
  ['attribute_type(s, :S)', true],
  ['attribute_type(ss, :SS)', true],
  ['attribute_type(nul, :NULL)', true],
  ['attribute_type(obj, :M)', true],
  ['attribute_type(s, :M)', false],
  ['attribute_type(absent, :S)', false],
  ['begins_with(s, :hello)', true],
  ['begins_with(s, :world)', false],
  ['begins_with(s, :empty)', true],
  ['begins_with(bin, :abc)', true],
  ['begins_with(n, :hello)', false],
  ['contains(s, :world)', true],
  ['contains(s, :blue)', false],
  ['contains(ss, :red)', true],
  ['contains(ss, :blue)', false],
  ['contains(ns, :n25)', true],
  ['contains(bs, :x)', true],
  ['contains(arr, :a)', true],
  ['contains(arr, :two)', true],
  ['contains(bin, :cd)', true],
  ['contains(absent, :a)', false],
  ['contains(ss, :sset)', false],
  ['size(s) = :11', true],
  ['size(e) = :1', false],
  ['size(ss) = :two', true],
  ['size(arr) = :3', true],
  ['size(obj) = :two', true],
  ['size(bin) > :1', true],
  ['size(n) > :1', false],
  ['size(absent) > :1', false],
  ['arr[2].deep = :v', true],
  ['arr[1] = :two', true],
  ['flag = :true', true],
  ['ss = :sset', true],
  ['NOT n = :10', false],
  ['n = :1 OR s = :hw', true],
  ['n = :10 AND s = :hello', false],
  ['NOT (n = :1 OR n = :11) AND attribute_exists(s)', true],
];

test('condition evaluation follows DynamoDB semantics', () => {
  for (const [expr, want] of cases)
    assert.equal(check(expr, expr.includes('#k') ? { '#k': 'key with space' } : undefined), want, expr);
});

test('conditions on a absent item: attribute_not_exists true, comparisons false', () => {
  const c = compileCondition(
    'attribute_not_exists(id) AND NOT n = :1',
    createTracker(undefined, { ':1': { N: '1' } }),
  );
  assert.equal(evaluateCondition(c, {}), true);
});

function update(expr: string, base: Item = item, vals: Record<string, unknown> = values) {
  return applyUpdate(compileUpdate(expr, createTracker(undefined, vals)).actions, base);
}

test('SET arithmetic is exact and normalised; RHS reads the original item', () => {
  const r = update('SET n = n + :n25, m = n - :11, c = :1 + :1');
  assert.deepEqual(r.item.n, { N: '12.5' });
  assert.deepEqual(r.item.m, { N: '-1' });
  assert.deepEqual(r.item.c, { N: '2' });
  assert.deepEqual(item.n, { N: '10' }, 'input untouched');
  const swap = update('SET a = b, b = a', { a: { S: '1' }, b: { S: '2' } });
  assert.deepEqual(swap.item, { a: { S: '2' }, b: { S: '1' } });
  const tiny = update('SET x = x + :d', { x: { N: '0.1' } }, { ':d': { N: '0.2' } });
  assert.deepEqual(tiny.item.x, { N: '0.3' });
});

test('SET functions: if_not_exists, list_append, nested paths, arr index beyond end appends', () => {
  const r = update(
    'SET cnt = if_not_exists(cnt, :1), n2 = if_not_exists(n, :1), arr = list_append(arr, :l2), pre = list_append(:l2, :l2), obj.inr.y = :two, ns2 = :1',
    item,
    { ...values, ':l2': { L: [{ S: 'z' }] } },
  );
  assert.deepEqual(r.item.cnt, { N: '1' });
  assert.deepEqual(r.item.n2, { N: '10' });
  assert.equal((r.item.arr as { L: unknown[] }).L.length, 4);
  assert.deepEqual(r.item.pre, { L: [{ S: 'z' }, { S: 'z' }] });
  assert.deepEqual((r.item.obj as { M: Item }).M.inr, { M: { x: { N: '1' }, y: { N: '2' } } });
  const app = update('SET arr[10] = :a, arr[0] = :two');
  assert.deepEqual((app.item.arr as { L: unknown[] }).L, [
    { N: '2' },
    { N: '2' },
    { M: { deep: { S: 'v' } } },
    { S: 'a' },
  ]);
  assert.deepEqual(r.changedPaths.length, 6);
});

test('update evaluation errors', () => {
  const msg = (m: string) => ({ code: 'ValidationException', message: m });
  assert.throws(
    () => update('SET x = absent'),
    msg('The provided expression refers to an attribute that does not exist in the item'),
  );
  assert.throws(
    () => update('SET x = s + :1'),
    msg('An operand in the update expression has an incorrect data type'),
  );
  assert.throws(
    () => update('SET x = absent + :1'),
    msg('The provided expression refers to an attribute that does not exist in the item'),
  );
  assert.throws(
    () => update('SET x = list_append(s, arr)'),
    msg('An operand in the update expression has an incorrect data type'),
  );
  assert.throws(
    () => update('SET nope.child = :1'),
    msg('The document path provided in the update expression is invalid for update'),
  );
  assert.throws(
    () => update('SET s.child = :1'),
    msg('The document path provided in the update expression is invalid for update'),
  );
  assert.throws(
    () => update('SET n[0] = :1'),
    msg('The document path provided in the update expression is invalid for update'),
  );
  assert.throws(
    () => update('ADD s :1'),
    msg('An operand in the update expression has an incorrect data type'),
  );
  assert.throws(
    () => update('ADD ss :1'),
    msg('An operand in the update expression has an incorrect data type'),
  );
  assert.throws(
    () => update('DELETE ns :sset'),
    msg('An operand in the update expression has an incorrect data type'),
  );
  assert.throws(
    () => update('SET n = n + :big', { n: { N: '9.9E+125' } }, { ':big': { N: '1E+125' } }),
    /Number overflow/,
  );
  assert.throws(
    () => update('SET n = n + :one', { n: { N: '1E+100' } }, { ':one': { N: '1' } }),
    /more than 38 significant digits/,
  );
});

test('REMOVE: attributes, nested, arr indexes shift and refer to original positions', () => {
  const base: Item = {
    l: { L: [{ N: '0' }, { N: '1' }, { N: '2' }, { N: '3' }] },
    m: { M: { a: { N: '1' }, b: { N: '2' } } },
    x: { S: 'x' },
  };
  const r = update('REMOVE l[1], l[3], m.a, x, absent, l[9], nope.deeper', base);
  assert.deepEqual(r.item, { l: { L: [{ N: '0' }, { N: '2' }] }, m: { M: { b: { N: '2' } } } });
});

test('ADD numbers and sets, DELETE from sets (empty set removes the attribute)', () => {
  const r = update('ADD n :1, newn :two, ss :sset2, newss :sset2, ns :ns DELETE bs :bsx', item, {
    ':1': { N: '1' },
    ':two': { N: '2' },
    ':sset2': { SS: ['red', 'blue'] },
    ':ns': { NS: ['2.50', '7'] },
    ':bsx': { BS: [b64('x')] },
  });
  assert.deepEqual(r.item.n, { N: '11' });
  assert.deepEqual(r.item.newn, { N: '2' });
  assert.deepEqual(r.item.ss, { SS: ['red', 'green', 'blue'] });
  assert.deepEqual(r.item.newss, { SS: ['red', 'blue'] });
  assert.deepEqual(r.item.ns, { NS: ['1', '2.5', '7'] });
  assert.deepEqual(r.item.bs, { BS: [b64('yz')] });
  const gone = update('DELETE ss :all, absent :all', item, { ':all': { SS: ['red', 'green', 'other'] } });
  assert.equal(gone.item.ss, undefined);
});

test('projection: nested paths and arr elements packed in index order', () => {
  const paths = compileProjection(
    'id, arr[2].deep, arr[0], obj.inr.x, absent, #k',
    createTracker({ '#k': 'obj.inr' }, undefined),
  ).paths;
  assert.deepEqual(project(item, paths), {
    id: { S: 'k1' },
    arr: { L: [{ S: 'a' }, { M: { deep: { S: 'v' } } }] },
    obj: { M: { inr: { M: { x: { N: '1' } } } } },
  });
});

test('key conditions evaluate like the equivalent condition', () => {
  const { compileKeyCondition, keyConditionToCondition } = keyApi;
  const tracker = createTracker(undefined, { ':p': { S: 'p' }, ':lo': { N: '2' }, ':hi': { N: '4' } });
  const kc = compileKeyCondition('pk = :p AND sk BETWEEN :lo AND :hi', tracker, { hash: 'pk', range: 'sk' });
  const cond = keyConditionToCondition(kc);
  const hits = [1, 2, 3, 4, 5].filter((n) =>
    evaluateCondition(cond, { pk: { S: 'p' }, sk: { N: String(n) } }),
  );
  assert.deepEqual(hits, [2, 3, 4]);
  assert.equal(evaluateCondition(cond, { pk: { S: 'q' }, sk: { N: '3' } }), false);
});
