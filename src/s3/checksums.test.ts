import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeChecksum, decodeAwsChunked } from './checksums.js';

const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

test('checksums match the standard check values of "123456789"', () => {
  const data = Buffer.from('123456789');
  assert.equal(hex(computeChecksum('CRC32', data)), 'cbf43926');
  assert.equal(hex(computeChecksum('CRC32C', data)), 'e3069283');
  assert.equal(hex(computeChecksum('CRC64NVME', data)), 'ae8b14860a799888');
  assert.equal(hex(computeChecksum('SHA1', data)), 'f7c3bc1d808e04732adf679965ccc34ca7ae3441');
});

test('aws-chunked bodies decode to data and trailers', () => {
  const body = Buffer.from(
    '5\r\nhello\r\n6;chunk-signature=abc\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
  );
  const d = decodeAwsChunked(body);
  assert.equal(d?.data.toString(), 'hello world');
  assert.deepEqual(d?.trailers, { 'x-amz-checksum-crc32': 'DUoRhQ==' });
  assert.equal(computeChecksum('CRC32', Buffer.from('hello world')), 'DUoRhQ==');
  assert.equal(decodeAwsChunked(Buffer.from('5\r\nhel')), undefined);
  assert.equal(decodeAwsChunked(Buffer.from('zz\r\n')), undefined);
});
