import { test } from 'node:test';
import assert from 'node:assert/strict';
import { md5Hex, md5OfAttributes } from './md5.js';

test('MD5OfMessageAttributes matches the digests AWS publishes / SDKs verify', () => {
  assert.equal(
    md5OfAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } }),
    'cd28f3b68aeee4b2eac9c66f2f694b58',
  );
  // Order-independent: names are sorted before hashing.
  assert.equal(
    md5OfAttributes({
      ordinal: { DataType: 'Number', StringValue: '1' },
      category: { DataType: 'String', StringValue: 'test' },
    }),
    'd21ae90c49061e927f57df5f5d72be1f',
  );
  assert.equal(md5OfAttributes({}), undefined);
  assert.equal(md5OfAttributes(undefined), undefined);
});

test('binary attributes hash their decoded bytes with transport type 2', () => {
  const a = md5OfAttributes({
    b: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]).toString('base64') },
  });
  const parts = [
    Buffer.from([0, 0, 0, 1]),
    Buffer.from('b'),
    Buffer.from([0, 0, 0, 6]),
    Buffer.from('Binary'),
    Buffer.from([2]),
    Buffer.from([0, 0, 0, 3]),
    Buffer.from([1, 2, 3]),
  ];
  assert.equal(a, md5Hex(Buffer.concat(parts)));
});
