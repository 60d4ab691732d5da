import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJsonBody, encodeJsonError, encodeJsonResult, parseTarget } from './json.js';
import { AwsError } from './errors.js';

test('parseTarget splits at the last dot', () => {
  assert.deepEqual(parseTarget('Logs_20140328.PutLogEvents'), {
    prefix: 'Logs_20140328',
    operation: 'PutLogEvents',
  });
  assert.deepEqual(parseTarget('com.amazonaws.x.Op'), { prefix: 'com.amazonaws.x', operation: 'Op' });
  assert.equal(parseTarget('NoDot'), undefined);
  assert.equal(parseTarget('Trailing.'), undefined);
});

test('decodeJsonBody: empty is {}, bad JSON and non-objects are SerializationException', () => {
  assert.deepEqual(decodeJsonBody(Buffer.alloc(0)), {});
  assert.deepEqual(decodeJsonBody(Buffer.from('{"a":1}')), { a: 1 });
  for (const bad of ['{', '[1]', '"x"', 'null']) {
    assert.throws(
      () => decodeJsonBody(Buffer.from(bad)),
      (e: unknown) => e instanceof AwsError && e.code === 'SerializationException',
    );
  }
});

test('JSON 1.1 result and error shapes', () => {
  const ok = encodeJsonResult({ jsonVersion: '1.1' }, { a: 1 });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['content-type'], 'application/x-amz-json-1.1');
  assert.equal(ok.body, '{"a":1}');

  const err = new AwsError('ResourceNotFoundException', 'nope', 400, 'Sender', { extraMember: 1 });
  const r = encodeJsonError(
    { jsonVersion: '1.0', errorTypePrefix: 'com.amazonaws.dynamodb.v20120810#' },
    err,
  );
  assert.equal(r.status, 400);
  assert.equal(r.headers['content-type'], 'application/x-amz-json-1.0');
  assert.equal(r.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  assert.equal(r.headers['x-amzn-query-error'], undefined);
  assert.deepEqual(JSON.parse(r.body as string), {
    __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
    message: 'nope',
    extraMember: 1,
  });
});

test('query-compatible services also send x-amzn-query-error', () => {
  const r = encodeJsonError(
    { jsonVersion: '1.0', queryCompatible: true },
    new AwsError('QueueDoesNotExist', 'x'),
  );
  assert.equal(r.headers['x-amzn-query-error'], 'QueueDoesNotExist;Sender');
  const s = encodeJsonError({ jsonVersion: '1.0', queryCompatible: true }, new AwsError('Boom', 'x', 500));
  assert.equal(s.headers['x-amzn-query-error'], 'Boom;Receiver');
});

test('a full __type per code overrides the prefix; an extra Message replaces message', () => {
  const opts = {
    jsonVersion: '1.0' as const,
    errorTypePrefix: 'com.amazonaws.dynamodb.v20120810#',
    errorTypes: { ValidationException: 'com.amazon.coral.validate#ValidationException' },
  };
  assert.deepEqual(
    JSON.parse(encodeJsonError(opts, new AwsError('ValidationException', 'bad')).body as string),
    {
      __type: 'com.amazon.coral.validate#ValidationException',
      message: 'bad',
    },
  );
  const t = new AwsError('TransactionCanceledException', 'x', 400, 'Sender', {
    CancellationReasons: [],
    Message: 'x',
  });
  assert.deepEqual(JSON.parse(encodeJsonError(opts, t).body as string), {
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    CancellationReasons: [],
    Message: 'x',
  });
});
