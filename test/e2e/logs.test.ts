import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';

test('CloudWatch Logs through the real SDK: groups, streams, put/get/filter, errors', async () => {
  await using srv = await startTestServer();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/hello' }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/other' }));
    await assert.rejects(
      logs.send(new CreateLogGroupCommand({ logGroupName: '/aws/lambda/hello' })),
      (e: any) => {
        assert.equal(e.name, 'ResourceAlreadyExistsException');
        assert.equal(e.message, 'The specified log group already exists');
        assert.equal(e.$metadata.httpStatusCode, 400);
        return true;
      },
    );

    const groups = await logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/', limit: 1 }),
    );
    assert.deepEqual(
      groups.logGroups?.map((g) => g.logGroupName),
      ['/aws/lambda/hello'],
    );
    assert.equal(
      groups.logGroups?.[0].arn,
      'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/hello:*',
    );
    assert.ok(groups.nextToken);
    const page2 = await logs.send(
      new DescribeLogGroupsCommand({
        logGroupNamePrefix: '/aws/lambda/',
        limit: 1,
        nextToken: groups.nextToken,
      }),
    );
    assert.deepEqual(
      page2.logGroups?.map((g) => g.logGroupName),
      ['/aws/lambda/other'],
    );
    assert.equal(page2.nextToken, undefined);

    const group = '/aws/lambda/hello';
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'a' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'b' }));
    await assert.rejects(
      logs.send(new CreateLogStreamCommand({ logGroupName: 'missing', logStreamName: 'a' })),
      {
        name: 'ResourceNotFoundException',
        message: 'The specified log group does not exist.',
      },
    );

    const t0 = Date.now() - 60_000;
    const put = await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'a',
        logEvents: Array.from({ length: 5 }, (_, i) => ({
          timestamp: t0 + i,
          message: `line ${i} ERROR=${i % 2}`,
        })),
      }),
    );
    assert.equal(put.rejectedLogEventsInfo, undefined);
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'b',
        logEvents: [{ timestamp: t0 + 2, message: 'from b ERROR=1' }],
      }),
    );
    await assert.rejects(
      logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: 'zzz',
          logEvents: [{ timestamp: t0, message: 'x' }],
        }),
      ),
      { name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' },
    );
    await assert.rejects(
      logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: 'a',
          logEvents: [
            { timestamp: t0 + 10, message: 'x' },
            { timestamp: t0, message: 'y' },
          ],
        }),
      ),
      { name: 'InvalidParameterException' },
    );
    const rejected = await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 'a',
        logEvents: [{ timestamp: Date.now() + 5 * 3600_000, message: 'from the future' }],
      }),
    );
    assert.equal(rejected.rejectedLogEventsInfo?.tooNewLogEventStartIndex, 0);

    // Tail (default): the latest events, oldest first.
    const tail = await logs.send(
      new GetLogEventsCommand({ logGroupName: group, logStreamName: 'a', limit: 2 }),
    );
    assert.deepEqual(
      tail.events?.map((e) => e.message),
      ['line 3 ERROR=1', 'line 4 ERROR=0'],
    );
    const back = await logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: 'a',
        limit: 2,
        nextToken: tail.nextBackwardToken,
      }),
    );
    assert.deepEqual(
      back.events?.map((e) => e.message),
      ['line 1 ERROR=1', 'line 2 ERROR=0'],
    );
    // Forward from the head, page by page, until the token stops changing.
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await logs.send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: 'a',
          startFromHead: true,
          limit: 2,
          nextToken: token,
        }),
      );
      seen.push(...(page.events ?? []).map((e) => e.message!));
      if (page.nextForwardToken === token) break;
      token = page.nextForwardToken;
    }
    assert.equal(seen.length, 5);
    assert.equal(seen[0], 'line 0 ERROR=0');
    // A time window.
    const win = await logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: 'a',
        startTime: t0 + 1,
        endTime: t0 + 3,
        startFromHead: true,
      }),
    );
    assert.deepEqual(
      win.events?.map((e) => e.timestamp),
      [t0 + 1, t0 + 2],
    );
    assert.ok(win.events?.[0].ingestionTime);

    const streams = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: group, orderBy: 'LastEventTime', descending: true }),
    );
    assert.deepEqual(
      streams.logStreams?.map((s) => s.logStreamName),
      ['a', 'b'],
    );
    assert.equal(streams.logStreams?.[0].lastEventTimestamp, t0 + 4);
    assert.equal(streams.logStreams?.[0].firstEventTimestamp, t0);
    const byName = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: 'b' }),
    );
    assert.deepEqual(
      byName.logStreams?.map((s) => s.logStreamName),
      ['b'],
    );

    const filtered = await logs.send(
      new FilterLogEventsCommand({ logGroupName: group, filterPattern: 'ERROR=1' }),
    );
    assert.deepEqual(
      filtered.events?.map((e) => `${e.logStreamName}:${e.message}`),
      ['a:line 1 ERROR=1', 'b:from b ERROR=1', 'a:line 3 ERROR=1'],
    );
    const paged = await logs.send(new FilterLogEventsCommand({ logGroupName: group, limit: 4 }));
    assert.equal(paged.events?.length, 4);
    assert.ok(paged.nextToken);
    const rest = await logs.send(
      new FilterLogEventsCommand({ logGroupName: group, limit: 4, nextToken: paged.nextToken }),
    );
    assert.equal(rest.events?.length, 2);
    assert.equal(rest.nextToken, undefined);
    const onlyB = await logs.send(new FilterLogEventsCommand({ logGroupName: group, logStreamNames: ['b'] }));
    assert.deepEqual(
      onlyB.events?.map((e) => e.message),
      ['from b ERROR=1'],
    );

    await logs.send(new DeleteLogGroupCommand({ logGroupName: group }));
    await assert.rejects(logs.send(new DeleteLogGroupCommand({ logGroupName: group })), {
      name: 'ResourceNotFoundException',
    });
    await assert.rejects(logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 'a' })), {
      name: 'ResourceNotFoundException',
      message: 'The specified log group does not exist.',
    });
  } finally {
    logs.destroy();
  }
});

test('the LogSink auto-creates groups and streams and is readable after flush()', async () => {
  await using srv = await startTestServer();
  const sink = srv.nimbus.logs;
  const ref = {
    accountId: '000000000000',
    region: 'us-east-1',
    group: '/aws/lambda/fn',
    stream: '2026/01/01/[$LATEST]abc',
  };
  sink.append(ref, [
    { timestamp: Date.now(), message: 'START RequestId: 1' },
    { timestamp: Date.now(), message: 'END RequestId: 1' },
  ]);
  await sink.flush();
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  try {
    const got = await logs.send(
      new GetLogEventsCommand({ logGroupName: ref.group, logStreamName: ref.stream, startFromHead: true }),
    );
    assert.deepEqual(
      got.events?.map((e) => e.message),
      ['START RequestId: 1', 'END RequestId: 1'],
    );
    // Another account does not see it.
    const other = new CloudWatchLogsClient(srv.clientConfig);
    const groups = await other.send(new DescribeLogGroupsCommand({}));
    assert.deepEqual(
      groups.logGroups?.map((g) => g.logGroupName),
      ['/aws/lambda/fn'],
    );
    other.destroy();
    sink.append({ ...ref, accountId: '999999999999' }, [{ timestamp: Date.now(), message: 'hidden' }]);
    await sink.flush();
    const again = await logs.send(new DescribeLogGroupsCommand({}));
    assert.equal(again.logGroups?.length, 1);
  } finally {
    logs.destroy();
  }
});
