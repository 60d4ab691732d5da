import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AttributeValue } from './attribute-value.js';
import { compareScalars, utf8Compare, valuesEqual } from './attribute-value.js';
import { decodeKey, encodeKey } from './key-encoding.js';
import { itemSize, numberSize, valueSize } from './size.js';
import { validateAttributeValue, validateItem } from './validate.js';
import { compareKeys } from '../../storage/keys.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomNumber(rand: () => number): string {
  const digits = 1 + Math.floor(rand() * 38);
  let d = String(1 + Math.floor(rand() * 9));
  for (let i = 1; i < digits; i++) d += String(Math.floor(rand() * 10));
  const lead = Math.floor(rand() * 256) - 130; // -130..125
  const exp = lead - (digits - 1);
  const sign = rand() < 0.5 ? '-' : '';
  return rand() < 0.03 ? '0' : `${sign}${d}E${exp}`;
}

function randomString(rand: () => number): string {
  const pool = [
    'a',
    'b',
    'z',
    'A',
    '0',
    '~',
    '\u00e9',
    '\u4e2d',
    '\uffff',
    '\u{1f600}',
    '\u{10437}',
    '\ue000',
    ' ',
    '\u0001',
  ];
  let s = '';
  const n = Math.floor(rand() * 6);
  for (let i = 0; i < n; i++) s += pool[Math.floor(rand() * pool.length)];
  return s;
}

test('encodeKey order equals DynamoDB order (2,000 random values per type)', () => {
  const rand = seeded(42);
  const cases: Array<() => AttributeValue> = [
    () => ({ N: randomNumber(rand) }),
    () => ({ S: randomString(rand) }),
    () => ({ B: randomBytes(Math.floor(rand() * 5)).toString('base64') }),
  ];
  for (const make of cases) {
    const values = Array.from({ length: 2000 }, make);
    const byRef = [...values].sort((a, b) => compareScalars(a, b) as number);
    const byKey = [...values].sort((a, b) => compareKeys(encodeKey(a), encodeKey(b)));
    for (let i = 0; i < values.length; i++) {
      assert.equal(compareScalars(byRef[i], byKey[i]), 0, `position ${i}`);
    }
    for (const v of values.slice(0, 200)) assert.ok(valuesEqual(decodeKey(encodeKey(v)), v));
  }
});

test('strings order by UTF-8 bytes, not UTF-16 code units', () => {
  // U+FFFF is above U+1F600's high surrogate in UTF-16, but below it in UTF-8.
  assert.equal(compareScalars({ S: '\uffff' }, { S: '\u{1f600}' }), -1);
  assert.ok(compareKeys(encodeKey({ S: '\uffff' }), encodeKey({ S: '\u{1f600}' })) < 0);
  assert.ok(encodeKey({ S: 'abc' }).startsWith(encodeKey({ S: 'ab' })));
});

test('valuesEqual: numbers by value, sets ignore order, deep L/M', () => {
  assert.ok(valuesEqual({ N: '1.0' }, { N: '1' }));
  assert.ok(valuesEqual({ SS: ['a', 'b'] }, { SS: ['b', 'a'] }));
  assert.ok(valuesEqual({ NS: ['1', '2.0'] }, { NS: ['2', '1'] }));
  assert.ok(!valuesEqual({ SS: ['a'] }, { SS: ['a', 'b'] }));
  assert.ok(valuesEqual({ M: { a: { L: [{ N: '1' }] } } }, { M: { a: { L: [{ N: '1.00' }] } } }));
  assert.ok(!valuesEqual({ L: [{ N: '1' }, { N: '2' }] }, { L: [{ N: '2' }, { N: '1' }] }));
  assert.ok(!valuesEqual({ S: '1' }, { N: '1' }));
});

test('item size follows the documented formula', () => {
  assert.equal(valueSize({ S: 'h\u00e9' }), 3);
  assert.equal(valueSize({ B: Buffer.from('abcd').toString('base64') }), 4);
  assert.equal(numberSize('0'), 1);
  assert.equal(numberSize('1'), 2);
  assert.equal(numberSize('12'), 2);
  assert.equal(numberSize('1.2'), 3);
  assert.equal(numberSize('123'), 3);
  assert.equal(numberSize('-12'), 3);
  assert.equal(numberSize('12345678901234567890123456789012345678'), 20);
  // Plain integers take a fast path: it must agree with the general one (an exponent form).
  for (const t of [
    '1',
    '9',
    '10',
    '99',
    '100',
    '101',
    '1000',
    '1200',
    '12000',
    '-1',
    '-10',
    '-100',
    '-1230',
    '123456789',
    '1234567890',
    '98765432109876543210987654321098765432',
    '10000000000000000000000000000000000000',
    '-5000000000000000000000000000000000000',
    '7000000000000000000000000000000000000000',
    '0',
    '-0',
    '007',
    '+7',
  ])
    assert.equal(numberSize(t), numberSize(`${t}E0`), t);
  for (let i = 0; i < 2000; i++) {
    const t = String(Math.floor(Math.random() * 10 ** (1 + (i % 15)))) + '0'.repeat(i % 4);
    assert.equal(numberSize(t), numberSize(`${t}e0`), t);
    assert.equal(numberSize('-' + t), numberSize(`-${t}e0`), '-' + t);
  }
  assert.equal(valueSize({ BOOL: true }), 1);
  assert.equal(valueSize({ NULL: true }), 1);
  assert.equal(valueSize({ SS: ['ab', 'c'] }), 3);
  assert.equal(valueSize({ L: [] }), 3);
  assert.equal(valueSize({ L: [{ S: 'ab' }] }), 6);
  assert.equal(valueSize({ M: { k: { S: 'ab' } } }), 7);
  assert.equal(itemSize({ id: { S: 'abc' }, n: { N: '12' } }), 2 + 3 + 1 + 2);
});

const invalidValues: [unknown, string][] = [
  [{}, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
  [
    { S: 'a', N: '1' },
    'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes',
  ],
  [{ SS: [] }, 'One or more parameter values were invalid: An string set  may not be empty'],
  [{ NS: [] }, 'One or more parameter values were invalid: An number set  may not be empty'],
  [{ BS: [] }, 'One or more parameter values were invalid: Binary sets should not be empty'],
  [
    { SS: ['a', 'a'] },
    'One or more parameter values were invalid: Input collection [a, a] contains duplicates.',
  ],
  [{ NS: ['1', '1.0'] }, 'Input collection contains duplicates'],
  [
    { NULL: false },
    'One or more parameter values were invalid: Null attribute value types must have the value of true',
  ],
  [{ N: 'x' }, 'The parameter cannot be converted to a numeric value: x'],
  [{ N: '' }, 'The parameter cannot be converted to a numeric value'],
  [
    { M: { a: { NS: ['1E+200'] } } },
    'Number overflow. Attempting to store a number with magnitude larger than supported range',
  ],
];

test('wire validation errors match DynamoDB', () => {
  for (const [value, message] of invalidValues) {
    assert.throws(
      () => validateAttributeValue(value),
      { code: 'ValidationException', message },
      JSON.stringify(value),
    );
  }
});

test('validation normalises numbers and allows empty strings and deep nesting up to 32', () => {
  assert.deepEqual(validateItem({ a: { N: '1.50' }, b: { S: '' }, c: { NS: ['01', '2e1'] } }), {
    a: { N: '1.5' },
    b: { S: '' },
    c: { NS: ['1', '20'] },
  });
  let deep: unknown = { S: 'x' };
  for (let i = 0; i < 32; i++) deep = { L: [deep] };
  assert.ok(validateAttributeValue(deep));
  assert.throws(() => validateAttributeValue({ L: [deep] }), /Nesting Levels have exceeded supported limits/);
});

test('utf8Compare equals a UTF-8 byte comparison (surrogates included)', () => {
  const rand = seeded(7);
  for (let i = 0; i < 2000; i++) {
    const a = randomString(rand);
    const b = randomString(rand);
    const want = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    assert.equal(utf8Compare(a, b), want, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
});

test('S keys encode as the hex of their UTF-8 bytes, short ASCII ones included', () => {
  const rand = seeded(9);
  const samples = [
    '',
    'a',
    'p0',
    'x'.repeat(24),
    'y'.repeat(25),
    '\u007f',
    '\u0080',
    'ab\u00e9',
    'a\u{1f600}',
  ];
  for (let i = 0; i < 500; i++) samples.push(randomString(rand), `user#${i}`, 'k'.repeat(i % 40));
  for (const s of samples)
    assert.equal(encodeKey({ S: s }), `S${Buffer.from(s, 'utf8').toString('hex')}`, JSON.stringify(s));
});
