/**
 * DynamoDB numbers: exact decimals with up to 38 significant digits and a magnitude in
 * [1E-130, 9.99...E+125] (or zero). A number is held as `coefficient * 10^exponent` with a
 * BigInt coefficient that has no trailing zeros, so arithmetic and comparison are exact
 * (never a JavaScript float).
 */
import { AwsError } from '../../protocols/errors.js';

export interface Decimal {
  /** Signed coefficient without trailing zeros (0n for zero). */
  readonly coef: bigint;
  /** Power of ten the coefficient is scaled by (0 for zero). */
  readonly exp: number;
}

export const MAX_DIGITS = 38;
/** Largest allowed decimal exponent of the leading digit (9.99...E+125). */
export const MAX_MAGNITUDE_EXPONENT = 125;
/** Smallest allowed decimal exponent of the leading digit (1E-130). */
export const MIN_MAGNITUDE_EXPONENT = -130;

export const numberErrors = {
  notNumeric: (text: string) =>
    new AwsError('ValidationException', `The parameter cannot be converted to a numeric value: ${text}`),
  tooManyDigits: () =>
    new AwsError('ValidationException', 'Attempting to store more than 38 significant digits in a Number'),
  overflow: () =>
    new AwsError(
      'ValidationException',
      'Number overflow. Attempting to store a number with magnitude larger than supported range',
    ),
  underflow: () =>
    new AwsError(
      'ValidationException',
      'Number underflow. Attempting to store a number with magnitude smaller than supported range',
    ),
};

const NUMBER_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

export const ZERO: Decimal = { coef: 0n, exp: 0 };

function make(coef: bigint, exp: number): Decimal {
  if (coef === 0n) return ZERO;
  while (coef % 10n === 0n) {
    coef /= 10n;
    exp += 1;
  }
  return { coef, exp };
}

function digitCount(coef: bigint): number {
  return (coef < 0n ? -coef : coef).toString().length;
}

/** Parses a wire number string without range checks (throws notNumeric on bad syntax). */
export function parseDecimalUnchecked(text: string): Decimal {
  const m = NUMBER_RE.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) throw numberErrors.notNumeric(text);
  const intPart = m[2];
  const fracPart = m[3] ?? '';
  const expText = m[4] ?? '0';
  // An absurd exponent is certainly out of range; keep it finite for the checks below.
  let exp = Number(expText);
  if (!Number.isSafeInteger(exp)) exp = exp > 0 ? 1e9 : -1e9;
  const digits = (intPart + fracPart).replace(/^0+/, '');
  if (digits === '') return ZERO;
  const coef = BigInt(digits) * (m[1] === '-' ? -1n : 1n);
  return make(coef, exp - fracPart.length);
}

/** Throws DynamoDB's error when a decimal does not fit a DynamoDB number. */
export function checkDecimal(d: Decimal): Decimal {
  if (d.coef === 0n) return d;
  const digits = digitCount(d.coef);
  const magnitude = d.exp + digits - 1;
  if (magnitude > MAX_MAGNITUDE_EXPONENT) throw numberErrors.overflow();
  if (magnitude < MIN_MAGNITUDE_EXPONENT) throw numberErrors.underflow();
  if (digits > MAX_DIGITS) throw numberErrors.tooManyDigits();
  return d;
}

/** Parses and validates a wire number string. */
export function parseDecimal(text: string): Decimal {
  return checkDecimal(parseDecimalUnchecked(text));
}

/** The canonical text DynamoDB returns: plain notation, no leading/trailing zeros, `-0` is `0`. */
export function formatDecimal(d: Decimal): string {
  if (d.coef === 0n) return '0';
  const neg = d.coef < 0n;
  const digits = (neg ? -d.coef : d.coef).toString();
  let out: string;
  if (d.exp >= 0) out = digits + '0'.repeat(d.exp);
  else {
    const point = digits.length + d.exp;
    out = point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  return neg ? `-${out}` : out;
}

/** Normalises a wire number string to DynamoDB's canonical form (validating it). */
export function normalizeNumber(text: string): string {
  if (isCanonicalInteger(text)) return text;
  return formatDecimal(parseDecimal(text));
}

/**
 * True for the text of a plain integer already in canonical form (`0`, or `-?[1-9][0-9]*` with
 * at most 38 digits): what most numbers on the wire look like. Such a text is valid (at most
 * 38 significant digits, magnitude below 10^38) and normalises to itself, so the callers on
 * the hot path skip parsing it into a Decimal.
 */
export function isCanonicalInteger(text: string): boolean {
  const n = text.length;
  const start = text.charCodeAt(0) === 45 ? 1 : 0; // '-'
  if (n === start || n - start > MAX_DIGITS) return false;
  const first = text.charCodeAt(start);
  if (first === 48) return n === 1; // '0' alone; '-0', '007' are not canonical
  if (first < 49 || first > 57) return false;
  for (let i = start + 1; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const exp = Math.min(a.exp, b.exp);
  return [a.coef * 10n ** BigInt(a.exp - exp), b.coef * 10n ** BigInt(b.exp - exp), exp];
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.coef === 0n) return b;
  if (b.coef === 0n) return a;
  const [x, y, exp] = align(a, b);
  return checkDecimal(make(x + y, exp));
}

export function negateDecimal(a: Decimal): Decimal {
  return a.coef === 0n ? ZERO : { coef: -a.coef, exp: a.exp };
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, negateDecimal(b));
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  const sa = a.coef === 0n ? 0 : a.coef < 0n ? -1 : 1;
  const sb = b.coef === 0n ? 0 : b.coef < 0n ? -1 : 1;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  // Same sign: compare magnitudes by leading-digit exponent first (cheap), then exactly.
  const ma = a.exp + digitCount(a.coef);
  const mb = b.exp + digitCount(b.coef);
  if (ma !== mb) return (ma < mb ? -1 : 1) * sa;
  const [x, y] = align(a, b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Adds two wire number strings exactly; the result is canonical. */
export function addNumbers(a: string, b: string): string {
  return formatDecimal(addDecimal(parseDecimal(a), parseDecimal(b)));
}

/** Subtracts two wire number strings exactly; the result is canonical. */
export function subtractNumbers(a: string, b: string): string {
  return formatDecimal(subtractDecimal(parseDecimal(a), parseDecimal(b)));
}

/** Plain decimals with at most 15 significant digits convert to doubles without losing order. */
const SHORT_PLAIN = /^-?\d+(?:\.\d+)?$/;

/** Compares two wire number strings numerically. */
export function compareNumbers(a: string, b: string): number {
  if (a.length <= 15 && b.length <= 15 && SHORT_PLAIN.test(a) && SHORT_PLAIN.test(b)) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareDecimal(parseDecimalUnchecked(a), parseDecimalUnchecked(b));
}

/**
 * An order-preserving text encoding: comparing encodings bytewise gives numeric order.
 * Layout: class char ('0' negative, '1' zero, '2' positive), then for non-zero a 3-digit
 * exponent of the leading digit (offset by 130; complemented for negatives), then the
 * significant digits (complemented for negatives, followed by '~' so a shorter negative
 * mantissa sorts after a longer one with the same prefix).
 */
/** encodeDecimalKey(parseDecimal(text)), without the Decimal for canonical integers. */
export function encodeNumberKey(text: string): string {
  if (!isCanonicalInteger(text)) return encodeDecimalKey(parseDecimal(text));
  if (text === '0') return '1';
  const neg = text.charCodeAt(0) === 45;
  const start = neg ? 1 : 0;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48) end--; // trailing zeros are not significant digits
  const digits = text.slice(start, end);
  const lead = text.length - start - 1 - MIN_MAGNITUDE_EXPONENT;
  if (!neg) return `2${String(lead).padStart(3, '0')}${digits}`;
  let inv = '';
  for (let i = 0; i < digits.length; i++) inv += String.fromCharCode(105 - digits.charCodeAt(i)); // '9' - d
  return `0${String(999 - lead).padStart(3, '0')}${inv}~`;
}

export function encodeDecimalKey(d: Decimal): string {
  if (d.coef === 0n) return '1';
  const neg = d.coef < 0n;
  const digits = (neg ? -d.coef : d.coef).toString();
  const lead = d.exp + digits.length - 1 - MIN_MAGNITUDE_EXPONENT; // 0..255 when in range
  if (!neg) return `2${String(lead).padStart(3, '0')}${digits}`;
  let inv = '';
  for (let i = 0; i < digits.length; i++) inv += String.fromCharCode(105 - digits.charCodeAt(i)); // '9' - d
  return `0${String(999 - lead).padStart(3, '0')}${inv}~`;
}
