import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  matchesEventPattern,
  matchesFilterPolicy,
  parseEventPattern,
  parseFilterPolicy,
  type AttributeValue,
} from './filter-policy.js';

const S = (v: string): AttributeValue => ({ DataType: 'String', StringValue: v });
const N = (v: number): AttributeValue => ({ DataType: 'Number', StringValue: String(v) });
const A = (v: unknown[]): AttributeValue => ({ DataType: 'String.Array', StringValue: JSON.stringify(v) });

function attrs(policy: object, a: Record<string, AttributeValue>): boolean {
  const p = parseFilterPolicy(JSON.stringify(policy), 'MessageAttributes');
  assert.ok(p);
  return matchesFilterPolicy(p, 'MessageAttributes', '', a);
}

function body(policy: object, message: unknown): boolean {
  const p = parseFilterPolicy(JSON.stringify(policy), 'MessageBody');
  assert.ok(p);
  return matchesFilterPolicy(
    p,
    'MessageBody',
    typeof message === 'string' ? message : JSON.stringify(message),
    {},
  );
}

test('exact strings and numbers, AND across keys, OR within a key', () => {
  assert.equal(attrs({ color: ['red', 'blue'] }, { color: S('blue') }), true);
  assert.equal(attrs({ color: ['red'] }, { color: S('green') }), false);
  assert.equal(attrs({ color: ['red'], size: [5] }, { color: S('red'), size: N(5) }), true);
  assert.equal(attrs({ color: ['red'], size: [5] }, { color: S('red'), size: N(6) }), false);
  assert.equal(attrs({ color: ['red'] }, {}), false);
  // A number condition does not match a String attribute, nor a string a Number one.
  assert.equal(attrs({ size: [5] }, { size: S('5') }), false);
  assert.equal(attrs({ size: ['5'] }, { size: N(5) }), false);
});

test('prefix, suffix, equals-ignore-case, anything-but', () => {
  assert.equal(attrs({ c: [{ prefix: 'ord' }] }, { c: S('order-1') }), true);
  assert.equal(attrs({ c: [{ suffix: '.png' }] }, { c: S('a.png') }), true);
  assert.equal(attrs({ c: [{ suffix: '.png' }] }, { c: S('a.jpg') }), false);
  assert.equal(attrs({ c: [{ 'equals-ignore-case': 'RED' }] }, { c: S('Red') }), true);
  assert.equal(attrs({ c: [{ 'anything-but': 'red' }] }, { c: S('blue') }), true);
  assert.equal(attrs({ c: [{ 'anything-but': ['red', 'blue'] }] }, { c: S('blue') }), false);
  assert.equal(attrs({ c: [{ 'anything-but': { prefix: 'x' } }] }, { c: S('xyz') }), false);
  assert.equal(attrs({ c: [{ 'anything-but': { prefix: 'x' } }] }, { c: S('abc') }), true);
  assert.equal(attrs({ c: [{ 'anything-but': 'red' }] }, {}), false);
});

test('numeric ranges, exists, cidr, String.Array, Binary', () => {
  assert.equal(attrs({ p: [{ numeric: ['>', 0, '<=', 100] }] }, { p: N(100) }), true);
  assert.equal(attrs({ p: [{ numeric: ['>', 0, '<=', 100] }] }, { p: N(0) }), false);
  assert.equal(attrs({ p: [{ numeric: ['=', 3.5] }] }, { p: N(3.5) }), true);
  assert.equal(attrs({ p: [{ exists: true }] }, { p: S('x') }), true);
  assert.equal(attrs({ p: [{ exists: false }] }, { p: S('x') }), false);
  assert.equal(attrs({ p: [{ exists: false }] }, {}), true);
  assert.equal(attrs({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: S('10.0.0.77') }), true);
  assert.equal(attrs({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: S('10.0.1.1') }), false);
  assert.equal(attrs({ tags: ['b'] }, { tags: A(['a', 'b']) }), true);
  assert.equal(attrs({ tags: ['c'] }, { tags: A(['a', 'b']) }), false);
  assert.equal(attrs({ b: ['x'] }, { b: { DataType: 'Binary', BinaryValue: 'eA==' } }), false);
  assert.equal(attrs({ b: [{ exists: true }] }, { b: { DataType: 'Binary', BinaryValue: 'eA==' } }), true);
});

test('$or', () => {
  const p = { source: ['aws.cloudwatch'], $or: [{ metric: ['CPU'] }, { level: [{ numeric: ['>=', 3] }] }] };
  assert.equal(attrs(p, { source: S('aws.cloudwatch'), metric: S('CPU') }), true);
  assert.equal(attrs(p, { source: S('aws.cloudwatch'), level: N(4) }), true);
  assert.equal(attrs(p, { source: S('aws.cloudwatch'), level: N(2) }), false);
  assert.equal(attrs(p, { source: S('other'), metric: S('CPU') }), false);
});

test('MessageBody scope: nesting, arrays, non-JSON bodies', () => {
  const p = { order: { status: ['paid'], total: [{ numeric: ['>', 10] }] } };
  assert.equal(body(p, { order: { status: 'paid', total: 20 } }), true);
  assert.equal(body(p, { order: { status: 'paid', total: 5 } }), false);
  assert.equal(body({ items: { sku: ['b'] } }, { items: [{ sku: 'a' }, { sku: 'b' }] }), true);
  assert.equal(body({ tags: ['x'] }, { tags: ['w', 'x'] }), true);
  assert.equal(body({ flag: [true], none: [null] }, { flag: true, none: null }), true);
  assert.equal(body({ a: ['x'] }, 'not json'), false);
  assert.equal(body({ a: { b: [{ exists: false }] } }, { c: 1 }), true);
});

test('validation errors are InvalidParameter with the FilterPolicy prefix', () => {
  const bad = [
    'not json',
    '[1]',
    '{"a": "x"}',
    '{"a": [{"prefixx": "x"}]}',
    '{"a": [{"numeric": [">", "x"]}]}',
    '{"a": [{"numeric": [">", 5, "<", 1]}]}',
    '{"a": [{"exists": "yes"}]}',
    '{"a": [{"wildcard": "x*"}]}',
    '{"a": []}',
    '{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}',
  ];
  for (const text of bad) {
    assert.throws(
      () => parseFilterPolicy(text, 'MessageAttributes'),
      (e: Error & { code?: string }) =>
        e.code === 'InvalidParameter' && e.message.startsWith('Invalid parameter: FilterPolicy: '),
      text,
    );
  }
  assert.throws(
    () => parseFilterPolicy('{"a": {"b": ["x"]}}', 'MessageAttributes'),
    /does not support nested/,
  );
  assert.ok(parseFilterPolicy('{"a": {"b": ["x"]}}', 'MessageBody'));
  // 6 * 6 * 5 = 180 combinations > 150
  const big = { a: [1, 2, 3, 4, 5, 6], b: [1, 2, 3, 4, 5, 6], c: [1, 2, 3, 4, 5] };
  assert.throws(() => parseFilterPolicy(JSON.stringify(big), 'MessageAttributes'), /too complex/);
});

test('event patterns: the same operators plus wildcard, without SNS limits; InvalidEventPatternException', () => {
  const event = { source: 'shop.orders', 'detail-type': 'Order Placed', detail: { n: 7, tags: ['a', 'b'] } };
  const m = (pattern: object) => matchesEventPattern(parseEventPattern(JSON.stringify(pattern)), event);
  assert.equal(m({ source: ['shop.orders'], detail: { n: [{ numeric: ['>', 5] }], tags: ['b'] } }), true);
  assert.equal(m({ source: [{ wildcard: 'shop.*' }], 'detail-type': [{ wildcard: 'Order *' }] }), true);
  assert.equal(m({ source: [{ wildcard: 'shop' }] }), false);
  assert.equal(m({ detail: { missing: [{ exists: false }] } }), true);
  // Six keys at one level: more than an SNS policy may have, a valid event pattern.
  const six = { a: [1], b: [1], c: [1], d: [1], e: [1], f: [1] };
  assert.ok(parseEventPattern(JSON.stringify(six)));
  for (const text of ['not json', '[1]', '{"source": "x"}', '{"source": [{"nope": 1}]}', '{}']) {
    assert.throws(
      () => parseEventPattern(text),
      (e: Error & { code?: string }) =>
        e.code === 'InvalidEventPatternException' &&
        e.message.startsWith('Event pattern is not valid. Reason: '),
      text,
    );
  }
});
