/**
 * DynamoDB attribute values: types, exact numbers, ordering, key encoding, item size and
 * wire validation. Pure, no I/O.
 */
export * from './attribute-value.js';
export * from './number.js';
export * from './key-encoding.js';
export * from './size.js';
export * from './validate.js';
