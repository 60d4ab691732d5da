import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arn, parseArn, requestId, shortId } from './ids.js';

test('arn round-trips through parseArn', () => {
  const a = arn('lambda', 'us-east-1', '000000000000', 'function:hello:prod');
  assert.equal(a, 'arn:aws:lambda:us-east-1:000000000000:function:hello:prod');
  assert.deepEqual(parseArn(a), {
    partition: 'aws',
    service: 'lambda',
    region: 'us-east-1',
    account: '000000000000',
    resource: 'function:hello:prod',
  });
  assert.equal(parseArn('nope'), undefined);
});

test('request ids are UUIDs and short ids use lower-case letters and digits', () => {
  assert.match(requestId(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(shortId(10), /^[a-z0-9]{10}$/);
});
