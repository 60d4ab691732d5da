import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import {
  awslogsEvent,
  compileMetricFilter,
  deliveryRequestId,
  isDeliveryLine,
  testMetricFilter,
  validateDestination,
  validateTransformations,
  type MetricPoint,
  type MetricTransformation,
} from './log-filters.js';

const run = (filterPattern: string, t: MetricTransformation, messages: string[]) => {
  const fn = compileMetricFilter({ filterPattern, metricTransformations: [t] });
  const out: MetricPoint[] = [];
  messages.forEach((m, i) => fn(1000 + i, m, out));
  return out.map((p) => ({ v: p.value, t: p.timestamp, d: p.metric.Dimensions, u: p.unit }));
};
const T = { metricName: 'M', metricNamespace: 'N' };

test('metric value: a constant, $.field of a JSON pattern, $field of a space-delimited pattern', () => {
  assert.deepEqual(run('ERROR', { ...T, metricValue: '1' }, ['ERROR a', 'ok', 'ERROR b']), [
    { v: 1, t: 1000, d: [], u: undefined },
    { v: 1, t: 1002, d: [], u: undefined },
  ]);
  assert.deepEqual(
    run('{ $.ms >= 0 }', { ...T, metricValue: '$.ms', unit: 'Milliseconds' }, [
      '{"ms": 12.5}',
      'INFO\t{"ms": 3}',
      '{"ms": "x"}',
      'not json',
    ]).map((p) => [p.v, p.u]),
    [
      [12.5, 'Milliseconds'],
      [3, 'Milliseconds'],
    ],
  );
  // Any field of the matching JSON document, not only those of the pattern.
  assert.deepEqual(
    run('{ $.ok IS TRUE }', { ...T, metricValue: '$.n.count' }, ['{"ok":true,"n":{"count":4}}']).map(
      (p) => p.v,
    ),
    [4],
  );
  assert.deepEqual(
    run('[ip, user, status = 5*, bytes]', { ...T, metricValue: '$bytes' }, [
      '1.1.1.1 bob 500 120',
      '1.1.1.1 bob 200 999',
      '1.1.1.1 bob 503 -',
    ]).map((p) => p.v),
    [120],
    'a non-numeric field publishes nothing',
  );
});

test('dimensions come from fields; events missing one publish nothing; defaultValue for non-matches', () => {
  assert.deepEqual(
    run('{ $.ms > 0 }', { ...T, metricValue: '$.ms', dimensions: { Route: '$.route', Code: '$.code' } }, [
      '{"ms":5,"route":"/a","code":200}',
      '{"ms":6}',
    ]),
    [
      {
        v: 5,
        t: 1000,
        d: [
          { Name: 'Route', Value: '/a' },
          { Name: 'Code', Value: '200' },
        ],
        u: undefined,
      },
    ],
  );
  assert.deepEqual(
    run('ERROR', { ...T, metricValue: '1', defaultValue: 0 }, ['ERROR', 'fine', 'ERROR']).map((p) => p.v),
    [1, 0, 1],
  );
});

test('metricTransformations validation', () => {
  const bad = (t: unknown) =>
    assert.throws(() => validateTransformations(t), { code: 'InvalidParameterException' });
  bad([]);
  bad([
    { ...T, metricValue: '1' },
    { ...T, metricValue: '1' },
  ]);
  bad([{ ...T, metricValue: 'abc' }]);
  bad([{ metricName: 'a:b', metricNamespace: 'N', metricValue: '1' }]);
  bad([{ ...T, metricValue: '$.a', dimensions: { A: '$.a' }, defaultValue: 0 }]);
  bad([{ ...T, metricValue: '1', dimensions: { A: '$.a', B: '$.b', C: '$.c', D: '$.d' } }]);
  bad([{ ...T, metricValue: '1', dimensions: { A: 'literal' } }]);
  bad([{ ...T, metricValue: '1', unit: 'Furlongs' }]);
  assert.deepEqual(validateTransformations([{ ...T, metricValue: '$.a', unit: 'Count', defaultValue: 2 }]), [
    { ...T, metricValue: '$.a', unit: 'Count', defaultValue: 2 },
  ]);
});

test('TestMetricFilter: matches numbered from 1, extracted values by pattern kind', () => {
  assert.deepEqual(testMetricFilter('[a, b = 2*, ...]', ['x 1 y', 'x 200 y z', 'x 201']).matches, [
    { eventNumber: 2, eventMessage: 'x 200 y z', extractedValues: { $a: 'x', $b: '200' } },
    { eventNumber: 3, eventMessage: 'x 201', extractedValues: { $a: 'x', $b: '201' } },
  ]);
  assert.deepEqual(
    testMetricFilter('{ $.level = "error" && $.n > 1 }', ['{"level":"error","n":2}']).matches,
    [
      {
        eventNumber: 1,
        eventMessage: '{"level":"error","n":2}',
        extractedValues: { '$.level': 'error', '$.n': '2' },
      },
    ],
  );
  assert.deepEqual(testMetricFilter('ERROR', ['ok', 'ERROR']).matches, [
    { eventNumber: 2, eventMessage: 'ERROR', extractedValues: {} },
  ]);
  assert.equal(testMetricFilter('', ['a', 'b']).matches.length, 2, 'an empty pattern matches everything');
  assert.throws(() => testMetricFilter('{ $.a = ', ['x']), { code: 'InvalidParameterException' });
  assert.throws(() => testMetricFilter('x', []), { code: 'InvalidParameterException' });
});

test('awslogs event: gzip + base64 of the DATA_MESSAGE, as AWS delivers it', () => {
  const ev = awslogsEvent({
    accountId: '123456789012',
    region: 'us-east-1',
    destinationArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    logGroup: 'g',
    logStream: 's',
    filterName: 'flt',
    logEvents: [{ id: '1', timestamp: 5, message: 'm' }],
  });
  assert.deepEqual(JSON.parse(gunzipSync(Buffer.from(ev.awslogs.data, 'base64')).toString()), {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: 'g',
    logStream: 's',
    subscriptionFilters: ['flt'],
    logEvents: [{ id: '1', timestamp: 5, message: 'm' }],
  });
});

test('delivery request ids are stable per job and recognizable in log lines', () => {
  const id = deliveryRequestId('job-1');
  assert.equal(id, deliveryRequestId('job-1'));
  assert.notEqual(id, deliveryRequestId('job-2'));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-b10c-[0-9a-f]{12}$/);
  assert.equal(isDeliveryLine(`START RequestId: ${id} Version: $LATEST`), true);
  assert.equal(isDeliveryLine(`2026-01-01T00:00:00.000Z\t${id}\tINFO\thello`), true);
  assert.equal(
    isDeliveryLine('START RequestId: 1b4e28ba-2fa1-41d2-883f-0016d3cca427 Version: $LATEST'),
    false,
  );
});

test('destinations: Lambda functions only, Kinesis and Firehose refused clearly', () => {
  assert.equal(
    validateDestination('arn:aws:lambda:us-east-1:123456789012:function:f:live'),
    'arn:aws:lambda:us-east-1:123456789012:function:f:live',
  );
  assert.throws(
    () => validateDestination('arn:aws:kinesis:us-east-1:123456789012:stream/s'),
    /Lambda functions only/,
  );
  assert.throws(
    () => validateDestination('arn:aws:firehose:us-east-1:123456789012:deliverystream/d'),
    /firehose/,
  );
  assert.throws(() => validateDestination('nope'), { code: 'InvalidParameterException' });
});
