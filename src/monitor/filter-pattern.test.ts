import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilterPattern, splitFields } from './filter-pattern.js';

const m = (p: string, msg: string) => compileFilterPattern(p)(msg);

test('terms: all, ?any, -exclusions, quoted phrases, %regex%', () => {
  assert.equal(m('ERROR', 'an ERROR here'), true);
  assert.equal(m('ERROR', 'an error here'), false, 'case-sensitive');
  assert.equal(m('ERROR timeout', 'ERROR: db timeout'), true);
  assert.equal(m('ERROR timeout', 'ERROR: db down'), false);
  assert.equal(m('?ERROR ?WARN', 'WARN disk'), true);
  assert.equal(m('?ERROR ?WARN', 'INFO ok'), false);
  assert.equal(m('ERROR -Retrying', 'ERROR Retrying now'), false);
  assert.equal(m('ERROR -Retrying', 'ERROR fatal'), true);
  assert.equal(m('"request id"', 'the request id is'), true);
  assert.equal(m('%user-[0-9]+%', 'login by user-42'), true);
  assert.equal(m('%user-[0-9]+%', 'login by user-x'), false);
});

test('JSON patterns: comparisons, wildcards, && ||, IS, NOT EXISTS, arrays, console prefix', () => {
  const line = JSON.stringify({
    level: 'error',
    latency: 250,
    user: { id: 'alice' },
    ok: false,
    tags: ['a', 'b'],
    n: null,
  });
  assert.equal(m('{ $.level = "error" }', line), true);
  assert.equal(m('{ $.level = "info" }', line), false);
  assert.equal(m('{ $.level != "info" }', line), true);
  assert.equal(m('{ $.latency > 200 }', line), true);
  assert.equal(m('{ $.latency >= 251 }', line), false);
  assert.equal(m('{ $.user.id = "al*" }', line), true);
  assert.equal(m('{ ($.latency < 100) || ($.user.id = "alice" && $.ok IS FALSE) }', line), true);
  assert.equal(m('{ $.latency < 100 && $.level = "error" }', line), false);
  assert.equal(m('{ $.tags[1] = "b" }', line), true);
  assert.equal(m('{ $.n IS NULL }', line), true);
  assert.equal(m('{ $.missing NOT EXISTS }', line), true);
  assert.equal(m('{ $.level NOT EXISTS }', line), false);
  assert.equal(m('{ $.level = "error" }', 'not json'), false);
  assert.equal(m('{ $.level = "error" }', `2026-01-01T00:00:00.000Z\tabc\tINFO\t${line}`), true);
  assert.throws(() => compileFilterPattern('{ $.level = }'), { code: 'InvalidParameterException' });
  assert.throws(() => compileFilterPattern('{ level = "x" }'), { code: 'InvalidParameterException' });
});

test('space-delimited patterns: fields, conditions, wildcards, ellipsis, quoted and bracketed fields', () => {
  const line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';
  assert.deepEqual(splitFields(line).length, 7);
  assert.equal(m('[ip, identity, user, timestamp, request, status, bytes]', line), true);
  assert.equal(m('[ip, identity, user, timestamp, request, status = 404, bytes]', line), true);
  assert.equal(m('[ip, identity, user, timestamp, request, status = 4*, bytes > 1000]', line), true);
  assert.equal(m('[ip, identity, user, timestamp, request, status = 200, bytes]', line), false);
  assert.equal(
    m('[ip, identity, user, timestamp, request, status = 200 || status = 404, bytes]', line),
    true,
  );
  assert.equal(m('[ip, ..., status = 404, bytes]', line), true);
  assert.equal(m('[..., bytes < 1000]', line), false);
  assert.equal(m('[ip, user]', line), false, 'field count must match without an ellipsis');
  assert.equal(m('[ip = 127.0.0.*, ...]', line), true);
  assert.equal(m('[a, b, c, d, request = "GET*", ...]', line), true);
});
