import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQueryParams, pairsToMap, parseForm } from './query.js';
import { encodeQueryError, encodeQueryResult, escapeXml, renderContent, xmlList, xmlMap } from './xml.js';
import { AwsError } from './errors.js';

const q = (s: string) => decodeQueryParams(new URLSearchParams(s));

test('query decoding: scalars, nested structures, Action/Version/X-Amz-* dropped', () => {
  assert.deepEqual(q('Action=Publish&Version=2010-03-31&TopicArn=arn%3Ax&Message=a+b&X-Amz-Date=1'), {
    TopicArn: 'arn:x',
    Message: 'a b',
  });
  assert.deepEqual(q('A.B.C=1&A.D=2'), { A: { B: { C: '1' }, D: '2' } });
});

test('query decoding: A.member.N and A.N lists, ordered by index', () => {
  assert.deepEqual(q('L.member.2=b&L.member.1=a&L.member.10=c'), { L: ['a', 'b', 'c'] });
  assert.deepEqual(q('AttributeName.1=All&AttributeName.2=Policy'), { AttributeName: ['All', 'Policy'] });
  assert.deepEqual(q('T.member.1.Key=k&T.member.1.Value=v'), { T: [{ Key: 'k', Value: 'v' }] });
});

test('query decoding: A.entry.N.key/value maps and A.N.Name/Value pairs', () => {
  assert.deepEqual(q('Attributes.entry.1.key=Policy&Attributes.entry.1.value=x&Attributes.entry.2.key=D'), {
    Attributes: { Policy: 'x', D: '' },
  });
  const m = q(
    'MessageAttributes.entry.1.Name=ignored&MessageAttributes.entry.1.key=color&MessageAttributes.entry.1.value.DataType=String&MessageAttributes.entry.1.value.StringValue=red',
  );
  assert.deepEqual(m, { MessageAttributes: { color: { DataType: 'String', StringValue: 'red' } } });
  const p = q('Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Attribute.2.Name=DelaySeconds');
  assert.deepEqual(p.Attribute, [{ Name: 'VisibilityTimeout', Value: '30' }, { Name: 'DelaySeconds' }]);
  assert.deepEqual(pairsToMap(p.Attribute), { VisibilityTimeout: '30', DelaySeconds: '' });
  assert.deepEqual(pairsToMap(undefined), {});
});

test('query decoding: only positive indexes without leading zeros make lists; empty segments are keys', () => {
  assert.deepEqual(q('A.01=x&A.1=y'), { A: { '01': 'x', '1': 'y' } });
  assert.deepEqual(q('A.0=x'), { A: { '0': 'x' } });
  assert.deepEqual(q('A.10=b&A.2=a'), { A: ['a', 'b'] });
  assert.deepEqual(q('A..B=x&C.=y'), { A: { '': { B: 'x' } }, C: { '': 'y' } });
  assert.deepEqual(q('A=x&A.B=y'), { A: { B: 'y' } });
  assert.deepEqual(q('A.B=y&A=x'), { A: { B: 'y' } });
});

test('parseForm merges the body over the query string', () => {
  const p = parseForm(Buffer.from('Action=B&X=1'), new URLSearchParams('Action=A&Y=2'));
  assert.equal(p.get('Action'), 'B');
  assert.equal(p.get('Y'), '2');
  assert.equal(p.get('X'), '1');
});

test('XML: escaping, lists as <member>, custom list and map names, dates', () => {
  assert.equal(escapeXml(`<a href="x">&'\r`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&#xD;');
  assert.equal(
    renderContent({ A: ['x', 'y'], B: undefined, C: 1 }),
    '<A><member>x</member><member>y</member></A><C>1</C>',
  );
  assert.equal(renderContent({ L: xmlList([1], { member: 'item' }) }), '<L><item>1</item></L>');
  assert.equal(renderContent({ L: xmlList([1, 2], { flattened: true }) }), '<L>1</L><L>2</L>');
  assert.equal(
    renderContent({ M: xmlMap({ k: 'v' }) }),
    '<M><entry><key>k</key><value>v</value></entry></M>',
  );
  assert.equal(
    renderContent({ Attribute: xmlMap({ k: 'v' }, { key: 'Name', value: 'Value', flattened: true }) }),
    '<Attribute><Name>k</Name><Value>v</Value></Attribute>',
  );
  assert.equal(renderContent({ D: new Date(0) }), '<D>1970-01-01T00:00:00.000Z</D>');
  assert.equal(renderContent({ E: {} }), '<E></E>');
});

test('XML query result and error envelopes', () => {
  const r = encodeQueryResult(
    'GetCallerIdentity',
    'https://sts.amazonaws.com/doc/2011-06-15/',
    { Account: '1' },
    'rid',
  );
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/xml');
  assert.equal(
    r.body,
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Account>1</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
  );
  assert.equal(
    encodeQueryResult('DeleteTopic', 'ns', undefined, 'r').body,
    '<DeleteTopicResponse xmlns="ns"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteTopicResponse>',
  );
  const e = encodeQueryError('ns', new AwsError('NotFound', 'a<b', 404), 'rid');
  assert.equal(e.status, 404);
  assert.equal(
    e.body,
    '<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>NotFound</Code><Message>a&lt;b</Message></Error><RequestId>rid</RequestId></ErrorResponse>',
  );
  assert.match(
    encodeQueryError('ns', new AwsError('X', 'y', 500), 'r').body as string,
    /<Type>Receiver<\/Type>/,
  );
});
