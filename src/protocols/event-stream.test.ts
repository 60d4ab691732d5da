import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { crc32ForTests, decodeEventFrames, encodeEvent, encodeEventFrame } from './event-stream.js';

test('event stream frame layout: lengths, CRCs, string headers', () => {
  const payload = Buffer.from('hello');
  const f = encodeEventFrame({ ':event-type': 'PayloadChunk' }, payload);
  // header: 1 (name length) + 11 (name) + 1 (type) + 2 (value length) + 12 (value)
  const headersLength = 1 + 11 + 1 + 2 + 12;
  assert.equal(f.readUInt32BE(0), f.length);
  assert.equal(f.length, 12 + headersLength + payload.length + 4);
  assert.equal(f.readUInt32BE(4), headersLength);
  assert.equal(f.readUInt32BE(8), crc32ForTests(f.subarray(0, 8)));
  assert.equal(f.readUInt32BE(f.length - 4), crc32ForTests(f.subarray(0, f.length - 4)));
  assert.equal(f.readUInt8(12), 11);
  assert.equal(f.toString('utf8', 13, 24), ':event-type');
  assert.equal(f.readUInt8(24), 7);
  assert.equal(f.toString('utf8', f.length - 4 - payload.length, f.length - 4), 'hello');
});

test('the JavaScript CRC-32 matches zlib.crc32 where Node has it', () => {
  const z = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32ForTests(data), 0x414fa339);
  if (z) assert.equal(crc32ForTests(data), z(data));
});

test('frames round-trip, several in one buffer', () => {
  const a = encodeEvent('PayloadChunk', 'application/octet-stream', Buffer.from([0, 1, 2, 255]));
  const b = encodeEvent('InvokeComplete', 'application/json', Buffer.from('{}'));
  const out = decodeEventFrames(Buffer.concat([a, b]));
  assert.equal(out.length, 2);
  assert.deepEqual(out[0].headers, {
    ':event-type': 'PayloadChunk',
    ':content-type': 'application/octet-stream',
    ':message-type': 'event',
  });
  assert.deepEqual([...out[0].payload], [0, 1, 2, 255]);
  assert.equal(out[1].headers[':event-type'], 'InvokeComplete');
  assert.equal(out[1].payload.toString(), '{}');
  const bad = Buffer.from(a);
  bad[bad.length - 6] ^= 1;
  assert.throws(() => decodeEventFrames(bad), /message CRC mismatch/);
});
