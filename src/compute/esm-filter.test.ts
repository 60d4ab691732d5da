import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsError } from '../protocols/errors.js';
import { parseFilterCriteria, recordFilter, type EventSourceKind } from './esm-filter.js';

const sqsRecord = (body: string) => ({
  messageId: 'm-1',
  receiptHandle: 'rh',
  body,
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1545082649183' },
  messageAttributes: {},
  md5OfBody: 'x',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
  awsRegion: 'us-east-1',
});

const streamRecord = (eventName: string, image?: Record<string, unknown>) => ({
  eventID: 'e1',
  eventName,
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    Keys: { id: { S: 'a' } },
    ...(image ? { NewImage: image } : {}),
    SequenceNumber: '100',
    SizeBytes: 26,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
    ApproximateCreationDateTime: 1700000000,
  },
  eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024',
});

function matcher(kind: EventSourceKind, ...patterns: object[]) {
  const stored = parseFilterCriteria({ Filters: patterns.map((p) => ({ Pattern: JSON.stringify(p) })) });
  const m = recordFilter(kind, stored);
  assert.ok(m);
  return m;
}

test('SQS: a JSON body is matched in its parsed form', () => {
  const m = matcher('sqs', { body: { RequestCode: ['BBBB'], RecordNumber: [{ numeric: ['>', 9999] }] } });
  assert.equal(m(sqsRecord(JSON.stringify({ RequestCode: 'BBBB', RecordNumber: 10000 }))), true);
  assert.equal(m(sqsRecord(JSON.stringify({ RequestCode: 'BBBB', RecordNumber: 12 }))), false);
  assert.equal(m(sqsRecord(JSON.stringify({ RequestCode: 'AAAA', RecordNumber: 10000 }))), false);
  // Nested fields and arrays of objects.
  const nested = matcher('sqs', { body: { order: { lines: { sku: [{ prefix: 'X-' }] } } } });
  assert.equal(
    nested(sqsRecord(JSON.stringify({ order: { lines: [{ sku: 'A-1' }, { sku: 'X-2' }] } }))),
    true,
  );
  assert.equal(nested(sqsRecord(JSON.stringify({ order: { lines: [{ sku: 'A-1' }] } }))), false);
});

test('SQS: a plain body only matches a pattern that lists plain values under body', () => {
  const plain = matcher('sqs', { body: [{ prefix: 'Result: ' }] });
  assert.equal(plain(sqsRecord('Result: ok')), true);
  assert.equal(plain(sqsRecord('Error: no')), false);
  assert.equal(matcher('sqs', { body: ['hello'] })(sqsRecord('hello')), true);
  // A JSON body does not match a plain-string pattern, even one that would hold on its text.
  assert.equal(matcher('sqs', { body: [{ prefix: '{' }] })(sqsRecord('{"a":1}')), false);
  assert.equal(matcher('sqs', { body: [{ exists: true }] })(sqsRecord('{"a":1}')), false);
  // A plain body does not match a pattern that nests under body, even `exists: false`.
  assert.equal(matcher('sqs', { body: { a: [{ exists: false }] } })(sqsRecord('hello')), false);
  assert.equal(matcher('sqs', { body: { a: [1] } })(sqsRecord('{"a":1}')), true);
  // Bodies that parse as JSON scalars stay plain strings.
  assert.equal(matcher('sqs', { body: ['42'] })(sqsRecord('42')), true);
});

test('SQS: metadata keys and $or at the top level', () => {
  assert.equal(matcher('sqs', { eventSource: ['aws:sqs'] })(sqsRecord('anything')), true);
  assert.equal(matcher('sqs', { attributes: { ApproximateReceiveCount: ['2'] } })(sqsRecord('x')), false);
  const or = matcher('sqs', { $or: [{ body: { kind: ['a'] } }, { body: ['plain'] }] });
  assert.equal(or(sqsRecord('{"kind":"a"}')), true);
  assert.equal(or(sqsRecord('plain')), true);
  assert.equal(or(sqsRecord('{"kind":"b"}')), false);
  assert.equal(or(sqsRecord('other')), false);
});

test('DynamoDB: eventName and NewImage attributes', () => {
  const m = matcher('dynamodb', {
    eventName: ['INSERT'],
    dynamodb: { NewImage: { status: { S: ['active'] } } },
  });
  assert.equal(m(streamRecord('INSERT', { id: { S: 'a' }, status: { S: 'active' } })), true);
  assert.equal(m(streamRecord('MODIFY', { id: { S: 'a' }, status: { S: 'active' } })), false);
  assert.equal(m(streamRecord('INSERT', { id: { S: 'a' }, status: { S: 'done' } })), false);
  assert.equal(m(streamRecord('INSERT')), false, 'no NewImage');
  const missing = matcher('dynamodb', { dynamodb: { NewImage: { flag: [{ exists: false }] } } });
  assert.equal(missing(streamRecord('INSERT', { id: { S: 'a' } })), true);
  assert.equal(missing(streamRecord('INSERT', { id: { S: 'a' }, flag: { BOOL: true } })), false);
});

test('filters are ORed: a record passes when any filter matches', () => {
  const m = matcher('dynamodb', { eventName: ['INSERT'] }, { eventName: ['REMOVE'] });
  assert.equal(m(streamRecord('INSERT')), true);
  assert.equal(m(streamRecord('REMOVE')), true);
  assert.equal(m(streamRecord('MODIFY')), false);
});

test('no filters: no matcher; {} and { Filters: [] } clear the filters', () => {
  assert.equal(recordFilter('sqs', undefined), undefined);
  assert.equal(recordFilter('sqs', []), undefined);
  assert.deepEqual(parseFilterCriteria({}), []);
  assert.deepEqual(parseFilterCriteria({ Filters: [] }), []);
  assert.deepEqual(parseFilterCriteria({ Filters: [{ Pattern: '{"body":["a"]}' }] }), ['{"body":["a"]}']);
});

test('invalid filter criteria answer as Lambda does', () => {
  const invalid = (Filters: { Pattern?: string }[]) => {
    assert.throws(
      () => parseFilterCriteria({ Filters }),
      (e: unknown) =>
        e instanceof AwsError &&
        e.code === 'InvalidParameterValueException' &&
        e.message === 'Invalid filter pattern definition.',
    );
  };
  invalid([{ Pattern: 'not json' }]);
  invalid([{ Pattern: '' }]);
  invalid([{}]);
  invalid([{ Pattern: '[1,2]' }]);
  invalid([{ Pattern: '{}' }]);
  invalid([{ Pattern: '{"body":"a"}' }]);
  invalid([{ Pattern: '{"body":[]}' }]);
  invalid([{ Pattern: '{"body":[{"prefix":1}]}' }]);
  invalid([{ Pattern: '{"body":[{"nope":"x"}]}' }]);
  invalid([{ Pattern: '{"eventName":["INSERT"]}' }, { Pattern: '{"x":' }]);
  const six = Array.from({ length: 6 }, (_, i) => ({ Pattern: JSON.stringify({ body: [`v${i}`] }) }));
  assert.throws(
    () => parseFilterCriteria({ Filters: six }),
    (e: unknown) =>
      e instanceof AwsError && e.code === 'InvalidParameterValueException' && /5/.test(e.message),
  );
  assert.equal(parseFilterCriteria({ Filters: six.slice(0, 5) }).length, 5);
  const long = { Pattern: JSON.stringify({ body: ['x'.repeat(4100)] }) };
  assert.throws(
    () => parseFilterCriteria({ Filters: [long] }),
    (e: unknown) => e instanceof AwsError && e.code === 'ValidationException',
  );
});
