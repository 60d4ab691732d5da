import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsError } from './errors.js';
import { encodeQueryErrorJson, encodeQueryResult, encodeQueryResultJson, xmlList, xmlMap } from './xml.js';

const result = {
  MessageId: 'm-1',
  Count: 2,
  Skipped: undefined,
  Urls: xmlList(['a', 'b'], { flattened: true }),
  Attribute: xmlMap({ k: 'v' }, { key: 'Name', value: 'Value', flattened: true }),
};

test('a Query reply as XML and, for Accept: application/json, as JSON with the same tree', () => {
  const xml = encodeQueryResult('Send', 'urn:x', result, 'r-1');
  assert.equal(
    xml.body,
    '<SendResponse xmlns="urn:x"><SendResult><MessageId>m-1</MessageId><Count>2</Count><Urls>a</Urls><Urls>b</Urls>' +
      '<Attribute><Name>k</Name><Value>v</Value></Attribute></SendResult>' +
      '<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></SendResponse>',
  );
  const json = encodeQueryResultJson('Send', result, 'r-1');
  assert.equal(json.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(String(json.body)), {
    SendResponse: {
      SendResult: { MessageId: 'm-1', Count: '2', Urls: ['a', 'b'], Attribute: [{ Name: 'k', Value: 'v' }] },
      ResponseMetadata: { RequestId: 'r-1' },
    },
  });
});

test('a Query error as JSON', () => {
  const reply = encodeQueryErrorJson(new AwsError('QueueDoesNotExist', 'no such queue', 400), 'r-2');
  assert.equal(reply.status, 400);
  assert.deepEqual(JSON.parse(String(reply.body)), {
    Error: { Type: 'Sender', Code: 'QueueDoesNotExist', Message: 'no such queue' },
    RequestId: 'r-2',
  });
});
