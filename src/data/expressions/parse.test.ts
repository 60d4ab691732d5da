import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileCondition,
  compileKeyCondition,
  compileProjection,
  compileUpdate,
  createTracker,
  type KeySchema,
} from './index.js';
import { RESERVED_WORDS } from './reserved-words.js';

type Names = Record<string, string>;
type Values = Record<string, unknown>;

const V: Values = {
  ':s': { S: 'x' },
  ':t': { S: 'y' },
  ':n': { N: '1' },
  ':m': { N: '5' },
  ':l': { L: [] },
  ':ss': { SS: ['a'] },
  ':b': { BOOL: true },
  ':type': { S: 'N' },
  ':badtype': { S: 'X' },
  ':map': { M: {} },
};
const N: Names = { '#s': 'status', '#a': 'a', '#b': 'b' };

function cond(expr: string, names: Names = N, values: Values = V) {
  return compileCondition(expr, createTracker(names, values));
}
function upd(expr: string, names: Names = N, values: Values = V) {
  return compileUpdate(expr, createTracker(names, values));
}
function proj(expr: string, names: Names = N) {
  return compileProjection(expr, createTracker(names, undefined));
}

function throwsMessage(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.message, message);
    assert.equal(err.code, 'ValidationException');
    return true;
  });
}

test('condition precedence: NOT > AND > OR, parentheses override', () => {
  assert.deepEqual(cond('a = :n OR b = :n AND NOT c = :n'), {
    type: 'or',
    left: {
      type: 'compare',
      op: '=',
      left: { type: 'path', path: ['a'] },
      right: { type: 'value', value: { N: '1' }, placeholder: ':n' },
    },
    right: {
      type: 'and',
      left: {
        type: 'compare',
        op: '=',
        left: { type: 'path', path: ['b'] },
        right: { type: 'value', value: { N: '1' }, placeholder: ':n' },
      },
      right: {
        type: 'not',
        operand: {
          type: 'compare',
          op: '=',
          left: { type: 'path', path: ['c'] },
          right: { type: 'value', value: { N: '1' }, placeholder: ':n' },
        },
      },
    },
  });
  const grouped = cond('(a = :n or b = :n) and c = :n');
  assert.equal(grouped.type, 'and');
  assert.equal((grouped as { left: { type: string } }).left.type, 'or');
});

test('condition grammar accepts every operator and function', () => {
  const ok = [
    'a = :n',
    'a <> :n',
    'a < :n',
    'a <= :n',
    'a > :n',
    'a >= :n',
    'a BETWEEN :n AND :m',
    'a between :n and :m',
    'a IN (:n, :m)',
    'a.b[2].c = :n',
    '#a.#b = :n',
    '#s = :s',
    'attribute_exists(a)',
    'attribute_not_exists(a.b[1])',
    'attribute_type(a, :type)',
    'begins_with(a, :s)',
    'contains(a, :s)',
    'size(a) > :n',
    ':n < size(a)',
    'size(a) BETWEEN :n AND :m',
    'NOT attribute_exists(a)',
    'NOT (a = :n)',
    'not not a = :n',
    '((a = :n) OR (b = :n))',
    'a = b',
  ];
  for (const e of ok) assert.doesNotThrow(() => cond(e), e);
});

const conditionErrors: [string, string][] = [
  ['a', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "a"'],
  ['a = ', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'],
  ['my-attr = :n', 'Invalid ConditionExpression: Syntax error; token: "-", near: "my-attr"'],
  ['a = :n AND', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'],
  ['a == :n', 'Invalid ConditionExpression: Syntax error; token: "=", near: "== :n"'],
  [
    'status = :s',
    'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status',
  ],
  [
    'a.Name = :s',
    'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name',
  ],
  [
    '#x = :s',
    'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x',
  ],
  [
    'a = :y',
    'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :y',
  ],
  ['foo(a)', 'Invalid ConditionExpression: Invalid function name; function: foo'],
  ['Begins_with(a, :s)', 'Invalid ConditionExpression: Invalid function name; function: Begins_with'],
  [
    'begins_with(a)',
    'Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1',
  ],
  [
    'attribute_exists(:s)',
    'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists',
  ],
  [
    'begins_with(a, :n)',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N',
  ],
  [
    'attribute_type(a, :badtype)',
    'Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}',
  ],
  [
    'attribute_type(a, :n)',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N',
  ],
  [
    'size(:b) > :n',
    'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: BOOL',
  ],
  [
    'size(a)',
    'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size',
  ],
  [
    'begins_with(a, :s) = :b',
    'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: begins_with',
  ],
  [
    'a = a',
    'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]',
  ],
  [
    'a BETWEEN :m AND :n',
    'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}',
  ],
  [
    'a BETWEEN :n AND :s',
    'Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}',
  ],
  ['((a = :n))', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
  ['', 'Invalid ConditionExpression: The expression can not be empty;'],
  // reserved word beats an undefined value; an unknown function beats a reserved word
  [
    'status = :zz',
    'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status',
  ],
  ['foo(status)', 'Invalid ConditionExpression: Invalid function name; function: foo'],
];

test('condition errors carry DynamoDB messages', () => {
  for (const [expr, message] of conditionErrors) throwsMessage(() => cond(expr), message);
  throwsMessage(
    () => compileCondition('a = :zz', createTracker(undefined, { ':n': { N: '1' } }), 'FilterExpression'),
    'Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :zz',
  );
});

test('IN accepts 100 operands, not 101; expressions over 4 KB and 300 operators are rejected', () => {
  const values: Values = {};
  for (let i = 0; i < 101; i++) values[`:v${i}`] = { N: String(i) };
  const list = (n: number) => Array.from({ length: n }, (_, i) => `:v${i}`).join(', ');
  assert.doesNotThrow(() => compileCondition(`a IN (${list(100)})`, createTracker(undefined, values)));
  throwsMessage(
    () => compileCondition(`a IN (${list(101)})`, createTracker(undefined, values)),
    'Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101',
  );
  const many = Array.from({ length: 151 }, () => 'a = :n').join(' AND ');
  throwsMessage(
    () => cond(many.slice(0, 4000)),
    'Invalid ConditionExpression: The expression contains too many operators; operator count: 301',
  );
  throwsMessage(
    () => cond(`a = :n${' '.repeat(4100)}`),
    'Invalid ConditionExpression: Expression size has exceeded the maximum allowed size;',
  );
});

test('every reserved word is rejected as a bare attribute name (573 words)', () => {
  assert.equal(RESERVED_WORDS.size, 573);
  for (const w of RESERVED_WORDS) {
    const word = w.toLowerCase();
    throwsMessage(
      () => compileProjection(`x, ${word}`, createTracker(undefined, undefined)),
      `Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: ${word}`,
    );
  }
  assert.doesNotThrow(() => proj('#s', { '#s': 'status' }));
});

test('update grammar: SET arithmetic, functions, REMOVE, ADD, DELETE in any order, once each', () => {
  const ast = upd(
    'SET a = a + :n, b = if_not_exists(b, :n) - :m, c = list_append(c, :l), d = (a + :n) REMOVE e, f[2] ADD g :n DELETE h :ss',
  );
  assert.deepEqual(
    ast.actions.map((a) => [a.type, a.path]),
    [
      ['SET', ['a']],
      ['SET', ['b']],
      ['SET', ['c']],
      ['SET', ['d']],
      ['REMOVE', ['e']],
      ['REMOVE', ['f', 2]],
      ['ADD', ['g']],
      ['DELETE', ['h']],
    ],
  );
  assert.doesNotThrow(() => upd('remove a set b = :n'));
});

const updateErrors: [string, string][] = [
  ['SET', 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET"'],
  ['SET a = :n,', 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'],
  ['ADD hits : incr', 'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"'],
  ['INVALID SYNTAX HERE', 'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"'],
  ['SET a = :n, , b = :n', 'Invalid UpdateExpression: Syntax error; token: ",", near: ", , b"'],
  [
    'SET a = :n SET b = :n',
    'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;',
  ],
  [
    'SET a = :n, a.b = :n',
    'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
  ],
  [
    'SET a = :n REMOVE a',
    'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]',
  ],
  [
    'SET a[1] = :n REMOVE a.b',
    'Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1]], path two: [a, b]',
  ],
  ['SET a = foo(b)', 'Invalid UpdateExpression: Invalid function name; function: foo'],
  [
    'SET a = if_not_exists(:n, :n)',
    'Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists',
  ],
  [
    'SET a = list_append(:n, b)',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: N',
  ],
  [
    'SET a = :s + b',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S',
  ],
  [
    'SET a = list_append(b)',
    'Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1',
  ],
  [
    'ADD a :s',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING',
  ],
  [
    'DELETE a :n',
    'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER',
  ],
  ['ADD a b', 'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"'],
  [
    'SET status = :n',
    'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status',
  ],
  [
    'SET #nope = :n',
    'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #nope',
  ],
  [
    'SET a = :nope',
    'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope',
  ],
  ['', 'Invalid UpdateExpression: The expression can not be empty;'],
];

test('update errors carry DynamoDB messages', () => {
  for (const [expr, message] of updateErrors) throwsMessage(() => upd(expr), message);
});

test('projection paths, overlaps and syntax', () => {
  assert.deepEqual(proj('a, b.c[2].d, x[0]').paths, [['a'], ['b', 'c', 2, 'd'], ['x', 0]]);
  assert.deepEqual(proj('x.y[10], #b').paths, [['x', 'y', 10], ['b']]);
  throwsMessage(
    () => proj('a, a.b'),
    'Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]',
  );
  throwsMessage(
    () => proj('a[0], a.b'),
    'Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]',
  );
  throwsMessage(() => proj('a,'), 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","');
  throwsMessage(() => proj('a[x]'), 'Invalid ProjectionExpression: Syntax error; token: "x", near: "[x]"');
});

test('unused names and values are reported once per request, across expressions', () => {
  const tracker = createTracker({ '#a': 'a', '#u': 'u' }, { ':n': { N: '1' }, ':u': { N: '2' } });
  compileCondition('#a = :n', tracker);
  throwsMessage(
    () => tracker.assertAllUsed(),
    'Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}',
  );
  compileProjection('#u', tracker);
  throwsMessage(
    () => tracker.assertAllUsed(),
    'Value provided in ExpressionAttributeValues unused in expressions: keys: {:u}',
  );
});

test('attribute maps are validated with DynamoDB messages', () => {
  throwsMessage(() => createTracker({}, undefined), 'ExpressionAttributeNames must not be empty');
  throwsMessage(() => createTracker(undefined, {}), 'ExpressionAttributeValues must not be empty');
  throwsMessage(
    () => createTracker({ a: 'a' }, undefined),
    'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"',
  );
  throwsMessage(
    () => createTracker(undefined, { v: { S: 'a' } }),
    'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"',
  );
  throwsMessage(
    () => createTracker(undefined, { ':v': { SS: [] } }),
    'ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :v',
  );
  assert.deepEqual(createTracker(undefined, { ':v': { N: '01.50' } }).values[':v'], { N: '1.5' });
});

const schema: KeySchema = { hash: 'pk', range: 'sk', types: { pk: 'S', sk: 'N' } };
function kc(
  expr: string,
  values: Values = { ':p': { S: 'x' }, ':a': { N: '1' }, ':b': { N: '2' }, ':s': { S: 'z' } },
  names?: Names,
) {
  return compileKeyCondition(expr, createTracker(names, values), schema);
}

test('key conditions: hash equality plus every range operator', () => {
  assert.deepEqual(kc('pk = :p'), { hash: { name: 'pk', value: { S: 'x' } } });
  assert.deepEqual(kc('pk = :p AND sk BETWEEN :a AND :b').range, {
    name: 'sk',
    op: 'BETWEEN',
    values: [{ N: '1' }, { N: '2' }],
  });
  assert.deepEqual(kc(':a < sk AND :p = pk').range, { name: 'sk', op: '>', values: [{ N: '1' }] });
  for (const op of ['=', '<', '<=', '>', '>=']) assert.equal(kc(`pk = :p AND sk ${op} :a`).range?.op, op);
  const str = compileKeyCondition(
    '#p = :p AND begins_with(#s, :s)',
    createTracker({ '#p': 'pk', '#s': 'sk' }, { ':p': { S: 'x' }, ':s': { S: 'z' } }),
    { hash: 'pk', range: 'sk' },
  );
  assert.equal(str.range?.op, 'BEGINS_WITH');
});

const keyErrors: [string, string][] = [
  ['pk = :p OR sk = :a', 'Invalid operator used in KeyConditionExpression: OR'],
  ['NOT pk = :p', 'Invalid operator used in KeyConditionExpression: NOT'],
  ['pk IN (:p)', 'Invalid operator used in KeyConditionExpression: IN'],
  ['pk <> :p', 'Invalid operator used in KeyConditionExpression: <>'],
  ['pk = :p AND attribute_exists(sk)', 'Invalid operator used in KeyConditionExpression: attribute_exists'],
  ['pk = :p AND contains(sk, :a)', 'Invalid operator used in KeyConditionExpression: contains'],
  ['pk = :p AND size(sk) = :a', 'KeyConditionExpressions cannot contain nested operations'],
  [
    'pk = :p AND sk = pk',
    'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition',
  ],
  ['pk = :p AND :a = :b', 'Invalid condition in KeyConditionExpression: No key attribute specified'],
  ['pk.x = :p', 'KeyConditionExpressions cannot have conditions on nested attributes'],
  ['pk = :p AND pk = :p', 'KeyConditionExpressions must only contain one condition per key'],
  ['sk = :a', 'Query condition missed key schema element: pk'],
  ['pk > :p', 'Query key condition not supported'],
  ['pk = :p AND foo = :a', 'Query condition missed key schema element: sk'],
  [
    'pk = :a',
    'One or more parameter values were invalid: Condition parameter type does not match schema type',
  ],
  ['pk = :p AND', 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND"'],
];

test('key condition errors carry DynamoDB messages', () => {
  for (const [expr, message] of keyErrors) throwsMessage(() => kc(expr), message);
});
