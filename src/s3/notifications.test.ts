import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AwsError } from '../protocols/errors.js';
import {
  encodeEventKey,
  eventRecord,
  matchesEvent,
  matchesFilter,
  overlaps,
  parseFilterRules,
  targetsFor,
  validateConfiguration,
  type TargetConfiguration,
} from './notifications.js';
import { policyAllowsS3 } from './targets.js';
import { parseNotificationXml, renderNotificationXml } from './api.js';

const cfg = (
  Id: string,
  Events: string[],
  prefix?: string,
  suffix?: string,
  arn = 'arn:aws:sqs:us-east-1:000000000000:q',
): TargetConfiguration => {
  const t: TargetConfiguration = { Id, type: 'queue', arn, Events };
  const rules = [];
  if (prefix !== undefined) rules.push({ Name: 'Prefix' as const, Value: prefix });
  if (suffix !== undefined) rules.push({ Name: 'Suffix' as const, Value: suffix });
  if (rules.length) t.FilterRules = rules;
  return t;
};

function invalidArgument(message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof AwsError);
    assert.equal(e.code, 'InvalidArgument');
    assert.equal(e.status, 400);
    assert.equal(e.message, message);
    return true;
  };
}

test('event matching: exact names and the family wildcards', () => {
  assert.ok(matchesEvent(['s3:ObjectCreated:*'], 'ObjectCreated:Put'));
  assert.ok(matchesEvent(['s3:ObjectCreated:*'], 'ObjectCreated:CompleteMultipartUpload'));
  assert.ok(!matchesEvent(['s3:ObjectCreated:*'], 'ObjectRemoved:Delete'));
  assert.ok(matchesEvent(['s3:ObjectRemoved:*'], 'ObjectRemoved:Delete'));
  assert.ok(matchesEvent(['s3:ObjectCreated:Copy', 's3:ObjectRemoved:Delete'], 'ObjectRemoved:Delete'));
  assert.ok(!matchesEvent(['s3:ObjectCreated:Put'], 'ObjectCreated:Copy'));
  assert.ok(!matchesEvent(['s3:ObjectCreated:Put'], 'ObjectCreated:PutX'));
});

test('prefix and suffix filters on the (unencoded) key', () => {
  const rules = parseFilterRules([
    { Name: 'prefix', Value: 'images/' },
    { Name: 'Suffix', Value: '.jpg' },
  ]);
  assert.deepEqual(rules, [
    { Name: 'Prefix', Value: 'images/' },
    { Name: 'Suffix', Value: '.jpg' },
  ]);
  assert.ok(matchesFilter(rules, 'images/a b.jpg'));
  assert.ok(!matchesFilter(rules, 'images/a.png'));
  assert.ok(!matchesFilter(rules, 'docs/a.jpg'));
  assert.ok(matchesFilter(undefined, 'anything'));
  const config = {
    targets: [cfg('jpg', ['s3:ObjectCreated:*'], 'images/', '.jpg'), cfg('all', ['s3:ObjectRemoved:*'])],
  };
  assert.deepEqual(
    targetsFor(config, 'ObjectCreated:Put', 'images/x.jpg').map((t) => t.Id),
    ['jpg'],
  );
  assert.deepEqual(targetsFor(config, 'ObjectCreated:Put', 'images/x.png'), []);
  assert.deepEqual(
    targetsFor(config, 'ObjectRemoved:Delete', 'images/x.png').map((t) => t.Id),
    ['all'],
  );
});

test('filter rules: unknown names and repeated rules are refused with S3 texts', () => {
  assert.throws(
    () => parseFilterRules([{ Name: 'contains', Value: 'x' }]),
    invalidArgument('filter rule name must be either prefix or suffix'),
  );
  assert.throws(
    () =>
      parseFilterRules([
        { Name: 'prefix', Value: 'a' },
        { Name: 'Prefix', Value: 'b' },
      ]),
    invalidArgument('Cannot specify more than one prefix rule in a filter.'),
  );
});

test('overlap: a shared event type (wildcards expanded) with filters some key passes both', () => {
  const overlap =
    'Configurations overlap. Configurations on the same bucket cannot share a common event type.';
  // Same event, no filters.
  assert.ok(overlaps(cfg('a', ['s3:ObjectCreated:Put']), cfg('b', ['s3:ObjectCreated:Put'])));
  // A wildcard covers the specific type.
  assert.ok(overlaps(cfg('a', ['s3:ObjectCreated:*']), cfg('b', ['s3:ObjectCreated:Copy'])));
  // Different event types never overlap.
  assert.ok(!overlaps(cfg('a', ['s3:ObjectCreated:*']), cfg('b', ['s3:ObjectRemoved:*'])));
  // Disjoint prefixes do not overlap; nested prefixes do.
  assert.ok(
    !overlaps(cfg('a', ['s3:ObjectCreated:*'], 'images/'), cfg('b', ['s3:ObjectCreated:*'], 'docs/')),
  );
  assert.ok(
    overlaps(cfg('a', ['s3:ObjectCreated:*'], 'images/'), cfg('b', ['s3:ObjectCreated:*'], 'images/2024/')),
  );
  // Disjoint suffixes do not overlap; a prefix-only and a suffix-only config do.
  assert.ok(
    !overlaps(
      cfg('a', ['s3:ObjectCreated:*'], undefined, '.jpg'),
      cfg('b', ['s3:ObjectCreated:*'], undefined, '.png'),
    ),
  );
  assert.ok(
    overlaps(
      cfg('a', ['s3:ObjectCreated:*'], 'images/'),
      cfg('b', ['s3:ObjectCreated:*'], undefined, '.png'),
    ),
  );
  assert.ok(
    overlaps(
      cfg('a', ['s3:ObjectCreated:*'], undefined, 'x.jpg'),
      cfg('b', ['s3:ObjectCreated:*'], undefined, '.jpg'),
    ),
  );
  assert.throws(
    () =>
      validateConfiguration({
        targets: [cfg('a', ['s3:ObjectCreated:*'], 'in/'), cfg('b', ['s3:ObjectCreated:Put'], 'in/x')],
      }),
    invalidArgument(overlap),
  );
  validateConfiguration({
    targets: [cfg('a', ['s3:ObjectCreated:*'], 'in/'), cfg('b', ['s3:ObjectCreated:Put'], 'out/')],
  });
});

test('validation: unknown event names and duplicate ids', () => {
  assert.throws(
    () => validateConfiguration({ targets: [cfg('a', ['s3:ObjectCreated:Upload'])] }),
    invalidArgument('The event is not supported for notifications'),
  );
  assert.throws(
    () => validateConfiguration({ targets: [cfg('a', ['ObjectCreated:Put'])] }),
    invalidArgument('The event is not supported for notifications'),
  );
  assert.throws(
    () =>
      validateConfiguration({
        targets: [cfg('a', ['s3:ObjectCreated:Put']), cfg('a', ['s3:ObjectRemoved:*'])],
      }),
    invalidArgument('Cannot have two configurations with the same ID'),
  );
});

test('keys in records are form-URL-encoded as S3 writes them (space as +, / kept)', () => {
  assert.equal(encodeEventKey('photos/red flower.jpg'), 'photos/red+flower.jpg');
  assert.equal(encodeEventKey('a+b=c&d.txt'), 'a%2Bb%3Dc%26d.txt');
  assert.equal(encodeEventKey('café (1).txt'), 'caf%C3%A9+%281%29.txt');
  assert.equal(encodeEventKey('x_y-z.*~'), 'x_y-z.*%7E');
  // What handlers do to read it back.
  const k = 'dir/a b+c (d).txt';
  assert.equal(decodeURIComponent(encodeEventKey(k).replace(/\+/g, ' ')), k);
});

test('event record: version 2.1 fields; removals carry no size or eTag', () => {
  const base = {
    bucket: 'bkt',
    owner: '000000000000',
    region: 'eu-west-1',
    key: 'in/a b.txt',
    time: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    sequencer: '0061A2B3C4D5E6F7',
    request: { requestId: 'REQ', hostId: 'HOST', sourceIp: '10.0.0.1', principalId: 'AIDAEXAMPLE' },
  };
  const r = eventRecord({ ...base, eventName: 'ObjectCreated:Put', size: 5, etag: '"abc"' }, 'cfg-1') as any;
  assert.equal(r.eventVersion, '2.1');
  assert.equal(r.eventSource, 'aws:s3');
  assert.equal(r.awsRegion, 'eu-west-1');
  assert.equal(r.eventTime, '2024-01-02T03:04:05.006Z');
  assert.equal(r.eventName, 'ObjectCreated:Put');
  assert.deepEqual(r.userIdentity, { principalId: 'AWS:AIDAEXAMPLE' });
  assert.deepEqual(r.requestParameters, { sourceIPAddress: '10.0.0.1' });
  assert.deepEqual(r.responseElements, { 'x-amz-request-id': 'REQ', 'x-amz-id-2': 'HOST' });
  assert.equal(r.s3.s3SchemaVersion, '1.0');
  assert.equal(r.s3.configurationId, 'cfg-1');
  assert.equal(r.s3.bucket.name, 'bkt');
  assert.equal(r.s3.bucket.arn, 'arn:aws:s3:::bkt');
  assert.match(r.s3.bucket.ownerIdentity.principalId, /^A[0-9A-F]{13}$/);
  assert.deepEqual(r.s3.object, { key: 'in/a+b.txt', size: 5, eTag: 'abc', sequencer: '0061A2B3C4D5E6F7' });
  const d = eventRecord({ ...base, eventName: 'ObjectRemoved:Delete' }, 'cfg-1') as any;
  assert.deepEqual(d.s3.object, { key: 'in/a+b.txt', sequencer: '0061A2B3C4D5E6F7' });
});

test('NotificationConfiguration XML: the SDK wire names both ways', () => {
  const xml = `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <TopicConfiguration><Id>t</Id><Topic>arn:aws:sns:us-east-1:000000000000:t</Topic><Event>s3:ObjectRemoved:*</Event></TopicConfiguration>
    <QueueConfiguration><Queue>arn:aws:sqs:us-east-1:000000000000:q</Queue><Event>s3:ObjectCreated:Put</Event><Event>s3:ObjectCreated:Copy</Event>
      <Filter><S3Key><FilterRule><Name>prefix</Name><Value>a&amp;b/</Value></FilterRule></S3Key></Filter></QueueConfiguration>
    <CloudFunctionConfiguration><Id>f</Id><CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction><Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration>
    <EventBridgeConfiguration></EventBridgeConfiguration>
  </NotificationConfiguration>`;
  const c = parseNotificationXml(xml);
  assert.equal(c.eventBridge, true);
  assert.deepEqual(
    c.targets.map((t) => [t.type, t.Id, t.arn.split(':')[5], t.Events, t.FilterRules]),
    [
      ['topic', 't', 't', ['s3:ObjectRemoved:*'], undefined],
      [
        'queue',
        '',
        'q',
        ['s3:ObjectCreated:Put', 's3:ObjectCreated:Copy'],
        [{ Name: 'Prefix', Value: 'a&b/' }],
      ],
      ['lambda', 'f', 'function', ['s3:ObjectCreated:*'], undefined],
    ],
  );
  c.targets[1].Id = 'q';
  assert.deepEqual(parseNotificationXml(renderNotificationXml(c)), c);
  assert.deepEqual(parseNotificationXml('<NotificationConfiguration/>'), { targets: [] });
});

test('Lambda resource policy: s3.amazonaws.com with SourceAccount / SourceArn conditions', () => {
  const bucket = { name: 'uploads', owner: '111111111111', region: 'us-east-1', createdAt: 0 };
  const st = (extra: Record<string, unknown> = {}) => ({
    Sid: 's',
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: 'arn:aws:lambda:us-east-1:111111111111:function:f',
    ...extra,
  });
  assert.ok(policyAllowsS3([st()], bucket));
  assert.ok(
    policyAllowsS3([st({ Condition: { StringEquals: { 'AWS:SourceAccount': '111111111111' } } })], bucket),
  );
  assert.ok(
    !policyAllowsS3([st({ Condition: { StringEquals: { 'AWS:SourceAccount': '222222222222' } } })], bucket),
  );
  assert.ok(
    policyAllowsS3([st({ Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::upl*' } } })], bucket),
  );
  assert.ok(
    !policyAllowsS3([st({ Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::other' } } })], bucket),
  );
  assert.ok(!policyAllowsS3([st({ Principal: { Service: 'sns.amazonaws.com' } })], bucket));
  assert.ok(!policyAllowsS3([st({ Action: 'lambda:GetFunction' })], bucket));
  assert.ok(!policyAllowsS3([], bucket));
});
