import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addNumbers,
  compareNumbers,
  compareDecimal,
  normalizeNumber,
  subtractNumbers,
  parseDecimal,
  encodeDecimalKey,
  encodeNumberKey,
  formatDecimal,
  isCanonicalInteger,
} from './number.js';

const canonical: [string, string][] = [
  ['0', '0'],
  ['-0', '0'],
  ['+0.000', '0'],
  ['007', '7'],
  ['1.50', '1.5'],
  ['-1.50', '-1.5'],
  ['1e2', '100'],
  ['1E+2', '100'],
  ['1.5e-3', '0.0015'],
  ['.5', '0.5'],
  ['5.', '5'],
  ['+12', '12'],
  ['123.456e1', '1234.56'],
  ['1E-130', `0.${'0'.repeat(129)}1`],
  ['9.9999999999999999999999999999999999999E+125', `99999999999999999999999999999999999999${'0'.repeat(88)}`],
  ['12345678901234567890123456789012345678', '12345678901234567890123456789012345678'],
  ['1000000000000000000000000000000000000000000', '1000000000000000000000000000000000000000000'],
];

test('numbers normalise to the canonical text DynamoDB returns', () => {
  for (const [input, want] of canonical) assert.equal(normalizeNumber(input), want, input);
});

const bad: [string, string][] = [
  ['abc', 'The parameter cannot be converted to a numeric value: abc'],
  ['1e', 'The parameter cannot be converted to a numeric value: 1e'],
  ['.', 'The parameter cannot be converted to a numeric value: .'],
  ['1 ', 'The parameter cannot be converted to a numeric value: 1 '],
  ['0x10', 'The parameter cannot be converted to a numeric value: 0x10'],
  ['1E+126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
  ['-1E+126', 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
  ['1E-131', 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
  [
    '1E999999999999999999',
    'Number overflow. Attempting to store a number with magnitude larger than supported range',
  ],
  [
    '123456789012345678901234567890123456789',
    'Attempting to store more than 38 significant digits in a Number',
  ],
  [
    '1.23456789012345678901234567890123456789',
    'Attempting to store more than 38 significant digits in a Number',
  ],
];

test('invalid numbers fail with DynamoDB messages', () => {
  for (const [input, message] of bad) {
    assert.throws(() => parseDecimal(input), { code: 'ValidationException', message }, input);
  }
});

test('exact decimal arithmetic (no floats)', () => {
  assert.equal(addNumbers('0.1', '0.2'), '0.3');
  assert.equal(addNumbers('1', '-1'), '0');
  assert.equal(subtractNumbers('10', '0.001'), '9.999');
  assert.equal(
    addNumbers('99999999999999999999999999999999999999', '1'),
    '100000000000000000000000000000000000000',
  );
  assert.equal(addNumbers('-5', '2.5'), '-2.5');
  assert.equal(addNumbers('1E+125', '0'), `1${'0'.repeat(125)}`);
  assert.throws(() => addNumbers('9E+125', '9E+125'), /Number overflow/);
  assert.throws(() => addNumbers('1E+100', '1'), /38 significant digits/);
});

test('numbers compare numerically', () => {
  const ordered = [
    '-1E+125',
    '-100',
    '-10.5',
    '-10',
    '-1',
    '-0.001',
    '0',
    '1E-130',
    '0.5',
    '1',
    '1.01',
    '10',
    '1E+125',
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      assert.equal(
        compareNumbers(ordered[i], ordered[j]),
        Math.sign(i - j),
        `${ordered[i]} vs ${ordered[j]}`,
      );
    }
  }
  assert.equal(compareNumbers('1.0', '1'), 0);
});

test('number key encodings sort like the numbers', () => {
  const values = [
    '-1E+125',
    '-100',
    '-10.5',
    '-10.25',
    '-10',
    '-1',
    '-0.001',
    '0',
    '1E-130',
    '0.5',
    '1',
    '1.01',
    '10',
    '1E+125',
  ];
  const enc = values.map((v) => encodeDecimalKey(parseDecimal(v)));
  const sorted = [...enc].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(sorted, enc);
});

test('the short-number fast path agrees with exact comparison', () => {
  let seed = 99;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const make = () => {
    const digits = Array.from({ length: 1 + Math.floor(rand() * 15) }, () =>
      String(Math.floor(rand() * 10)),
    ).join('');
    const point = Math.floor(rand() * digits.length);
    const text = point > 0 && rand() < 0.5 ? `${digits.slice(0, point)}.${digits.slice(point)}` : digits;
    return (rand() < 0.5 ? '-' : '') + text;
  };
  const edge = [
    '9007199254740993',
    '9007199254740992',
    '999999999999999',
    '999999999999998',
    '0.00000000000001',
    '0',
  ];
  const all = [...edge, ...Array.from({ length: 3000 }, make)];
  for (let i = 0; i + 1 < all.length; i++) {
    const exact = compareDecimal(parseDecimal(all[i]), parseDecimal(all[i + 1]));
    assert.equal(compareNumbers(all[i], all[i + 1]), exact, `${all[i]} vs ${all[i + 1]}`);
  }
});

test('canonical integers take the fast paths with the same results as the exact ones', () => {
  let s = 7;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0), s / 2 ** 32);
  const texts = [
    '0',
    '-0',
    '00',
    '007',
    '1',
    '-1',
    '10',
    '-10',
    '100',
    '+1',
    '1.0',
    '1e3',
    '',
    '-',
    'x1',
    '1x',
  ];
  for (let i = 0; i < 2000; i++) {
    const digits = 1 + Math.floor(rand() * 40);
    let d = String(1 + Math.floor(rand() * 9));
    for (let j = 1; j < digits; j++) d += rand() < 0.3 ? '0' : String(Math.floor(rand() * 10));
    texts.push(rand() < 0.5 ? `-${d}` : d);
  }
  for (const t of texts) {
    const canonical = isCanonicalInteger(t);
    let exact: string | undefined;
    try {
      exact = formatDecimal(parseDecimal(t));
    } catch {
      exact = undefined;
    }
    // Canonical means: valid and normalising to itself.
    if (canonical) assert.equal(exact, t, t);
    if (exact === t && t.replace('-', '').length <= 38) assert.ok(canonical, t);
    if (exact === undefined) {
      assert.throws(() => normalizeNumber(t));
      continue;
    }
    assert.equal(normalizeNumber(t), exact, t);
    assert.equal(encodeNumberKey(t), encodeDecimalKey(parseDecimal(t)), t);
  }
});
