/**
 * Schedules end to end with the real SDK clients: the EventBridge rules/targets API and the
 * Scheduler API with AWS's errors, and firing into Lambda driven by the virtual clock
 * (advancing 3 minutes fires a rate(1 minute) rule 3 times, with the scheduled event shape).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { LambdaClient, CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  EventBridgeClient,
  PutRuleCommand,
  DescribeRuleCommand,
  ListRulesCommand,
  DeleteRuleCommand,
  EnableRuleCommand,
  DisableRuleCommand,
  PutTargetsCommand,
  ListTargetsByRuleCommand,
  RemoveTargetsCommand,
  PutEventsCommand,
  TestEventPatternCommand,
  CreateEventBusCommand,
  DescribeEventBusCommand,
  ListEventBusesCommand,
  DeleteEventBusCommand,
} from '@aws-sdk/client-eventbridge';
import {
  SchedulerClient,
  CreateScheduleCommand,
  GetScheduleCommand,
  UpdateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
} from '@aws-sdk/client-scheduler';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
} from '@aws-sdk/client-sqs';
import { SNSClient, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';

/** The bodies of up to `n` messages of a queue, polling for up to ~5 s. */
async function receiveBodies(sqs: SQSClient, QueueUrl: string, n: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < 100 && bodies.length < n; i++) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    for (const m of got.Messages ?? []) bodies.push(m.Body!);
    if (!got.Messages?.length) await new Promise((res) => setTimeout(res, 50));
  }
  return bodies;
}

test('EventBridge rules and targets: CRUD and AWS errors', async () => {
  await using srv = await startTestServer();
  const eb = new EventBridgeClient(srv.clientConfig);
  const fnArn = 'arn:aws:lambda:us-east-1:000000000000:function:f';
  const { RuleArn } = await eb.send(
    new PutRuleCommand({ Name: 'every-minute', ScheduleExpression: 'rate(1 minute)', Description: 'd' }),
  );
  assert.equal(RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/every-minute');
  const d = await eb.send(new DescribeRuleCommand({ Name: 'every-minute' }));
  assert.equal(d.State, 'ENABLED');
  assert.equal(d.ScheduleExpression, 'rate(1 minute)');
  assert.equal(d.EventBusName, 'default');
  assert.equal(d.Arn, RuleArn);
  await eb.send(
    new PutRuleCommand({ Name: 'nightly', ScheduleExpression: 'cron(0 2 * * ? *)', State: 'DISABLED' }),
  );
  await eb.send(
    new PutRuleCommand({ Name: 'pattern', EventPattern: JSON.stringify({ source: ['my.app'] }) }),
  );

  const all = await eb.send(new ListRulesCommand({}));
  assert.deepEqual(
    all.Rules?.map((r) => r.Name),
    ['every-minute', 'nightly', 'pattern'],
  );
  const pre = await eb.send(new ListRulesCommand({ NamePrefix: 'n' }));
  assert.deepEqual(
    pre.Rules?.map((r) => [r.Name, r.State]),
    [['nightly', 'DISABLED']],
  );
  const p1 = await eb.send(new ListRulesCommand({ Limit: 2 }));
  assert.equal(p1.Rules?.length, 2);
  const p2 = await eb.send(new ListRulesCommand({ Limit: 2, NextToken: p1.NextToken }));
  assert.deepEqual(
    p2.Rules?.map((r) => r.Name),
    ['pattern'],
  );
  assert.equal(p2.NextToken, undefined);

  await eb.send(new DisableRuleCommand({ Name: 'every-minute' }));
  assert.equal((await eb.send(new DescribeRuleCommand({ Name: 'every-minute' }))).State, 'DISABLED');
  await eb.send(new EnableRuleCommand({ Name: 'every-minute' }));
  assert.equal((await eb.send(new DescribeRuleCommand({ Name: 'every-minute' }))).State, 'ENABLED');

  const put = await eb.send(
    new PutTargetsCommand({
      Rule: 'every-minute',
      Targets: [
        { Id: 't1', Arn: fnArn },
        { Id: 't2', Arn: fnArn, Input: '{"hello":"world"}' },
      ],
    }),
  );
  assert.equal(put.FailedEntryCount, 0);
  const targets = await eb.send(new ListTargetsByRuleCommand({ Rule: 'every-minute' }));
  assert.deepEqual(
    targets.Targets?.map((t) => [t.Id, t.Input]),
    [
      ['t1', undefined],
      ['t2', '{"hello":"world"}'],
    ],
  );

  // AWS's errors.
  const missing = 'Rule nope does not exist on EventBus default.';
  await rejects(eb.send(new DescribeRuleCommand({ Name: 'nope' })), 'ResourceNotFoundException', missing);
  await rejects(eb.send(new EnableRuleCommand({ Name: 'nope' })), 'ResourceNotFoundException', missing);
  await rejects(
    eb.send(new PutTargetsCommand({ Rule: 'nope', Targets: [{ Id: 'x', Arn: fnArn }] })),
    'ResourceNotFoundException',
    missing,
  );
  await rejects(
    eb.send(new ListTargetsByRuleCommand({ Rule: 'nope' })),
    'ResourceNotFoundException',
    missing,
  );
  await rejects(
    eb.send(new PutRuleCommand({ Name: 'bad', ScheduleExpression: 'rate(1 minutes)' })),
    'ValidationException',
    'Parameter ScheduleExpression is not valid.',
  );
  await rejects(
    eb.send(new PutRuleCommand({ Name: 'bad', ScheduleExpression: 'cron(0 12 * * * *)' })),
    'ValidationException',
    'Parameter ScheduleExpression is not valid.',
  );
  await rejects(
    eb.send(new PutRuleCommand({ Name: 'bad' })),
    'ValidationException',
    'Parameter(s) EventPattern or ScheduleExpression must be specified.',
  );
  await rejects(
    eb.send(new DeleteRuleCommand({ Name: 'every-minute' })),
    'ValidationException',
    "Rule can't be deleted since it has targets.",
  );

  await eb.send(new RemoveTargetsCommand({ Rule: 'every-minute', Ids: ['t1', 't2'] }));
  assert.deepEqual((await eb.send(new ListTargetsByRuleCommand({ Rule: 'every-minute' }))).Targets, []);
  await eb.send(new DeleteRuleCommand({ Name: 'every-minute' }));
  await eb.send(new DeleteRuleCommand({ Name: 'every-minute' })); // a missing rule: no error, as in AWS
  await rejects(eb.send(new DescribeRuleCommand({ Name: 'every-minute' })), 'ResourceNotFoundException');
});

test('Scheduler schedules: CRUD and AWS errors', async () => {
  await using srv = await startTestServer();
  const sch = new SchedulerClient(srv.clientConfig);
  const Target = {
    Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    RoleArn: 'arn:aws:iam::000000000000:role/r',
  };
  const c = await sch.send(
    new CreateScheduleCommand({
      Name: 's1',
      ScheduleExpression: 'cron(0 9 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { ...Target, Input: '{"a":1}' },
    }),
  );
  assert.equal(c.ScheduleArn, 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/s1');
  const g = await sch.send(new GetScheduleCommand({ Name: 's1' }));
  assert.equal(g.GroupName, 'default');
  assert.equal(g.State, 'ENABLED');
  assert.equal(g.ScheduleExpressionTimezone, 'Europe/Paris');
  assert.equal(g.Target?.Input, '{"a":1}');
  assert.equal(g.ActionAfterCompletion, 'NONE');
  assert.ok(g.CreationDate instanceof Date);
  await sch.send(
    new UpdateScheduleCommand({
      Name: 's1',
      ScheduleExpression: 'rate(5 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target,
      State: 'DISABLED',
    }),
  );
  const u = await sch.send(new GetScheduleCommand({ Name: 's1' }));
  assert.equal(u.ScheduleExpression, 'rate(5 minutes)');
  assert.equal(u.State, 'DISABLED');
  await sch.send(
    new CreateScheduleCommand({
      Name: 's2',
      ScheduleExpression: 'at(2030-01-01T00:00:00)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target,
    }),
  );
  const l = await sch.send(new ListSchedulesCommand({}));
  assert.deepEqual(
    l.Schedules?.map((s) => [s.Name, s.State, s.Target?.Arn]),
    [
      ['s1', 'DISABLED', Target.Arn],
      ['s2', 'ENABLED', Target.Arn],
    ],
  );
  assert.deepEqual(
    (await sch.send(new ListSchedulesCommand({ State: 'ENABLED' }))).Schedules?.map((s) => s.Name),
    ['s2'],
  );
  const p1 = await sch.send(new ListSchedulesCommand({ MaxResults: 1 }));
  const p2 = await sch.send(new ListSchedulesCommand({ MaxResults: 1, NextToken: p1.NextToken }));
  assert.deepEqual([p1.Schedules?.[0].Name, p2.Schedules?.[0].Name, p2.NextToken], ['s1', 's2', undefined]);

  await rejects(
    sch.send(
      new CreateScheduleCommand({
        Name: 's1',
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target,
      }),
    ),
    'ConflictException',
    'Schedule s1 already exists.',
  );
  await rejects(
    sch.send(new GetScheduleCommand({ Name: 'nope' })),
    'ResourceNotFoundException',
    'Schedule nope does not exist.',
  );
  await rejects(
    sch.send(new DeleteScheduleCommand({ Name: 'nope' })),
    'ResourceNotFoundException',
    'Schedule nope does not exist.',
  );
  await rejects(
    sch.send(
      new CreateScheduleCommand({
        Name: 'bad',
        ScheduleExpression: 'rate(1 fortnight)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target,
      }),
    ),
    'ValidationException',
    'Invalid Schedule Expression rate(1 fortnight).',
  );
  await rejects(
    sch.send(
      new CreateScheduleCommand({
        Name: 'bad',
        ScheduleExpression: 'rate(1 hour)',
        ScheduleExpressionTimezone: 'Mars/Olympus',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target,
      }),
    ),
    'ValidationException',
  );
  await sch.send(new DeleteScheduleCommand({ Name: 's1' }));
  assert.deepEqual(
    (await sch.send(new ListSchedulesCommand({}))).Schedules?.map((s) => s.Name),
    ['s2'],
  );
});

test('firing: the virtual clock drives rules and schedules into Lambda', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const eb = new EventBridgeClient(srv.clientConfig);
  const sch = new SchedulerClient(srv.clientConfig);
  const z = new AdmZip();
  z.addFile(
    'index.js',
    Buffer.from(
      `exports.handler = async (event) => { console.log('SCHEDEVENT ' + JSON.stringify(event)); return 1; };`,
    ),
    '',
    0o644 << 16,
  );
  const fn = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'on-tick',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      Code: { ZipFile: z.toBuffer() },
    }),
  );
  const { RuleArn } = await eb.send(
    new PutRuleCommand({ Name: 'tick', ScheduleExpression: 'rate(1 minute)' }),
  );
  await eb.send(new PutTargetsCommand({ Rule: 'tick', Targets: [{ Id: 'fn', Arn: fn.FunctionArn! }] }));
  const at = new Date(Date.now() + 90_000 + (await clockOffset(srv.endpoint)) * 1000);
  const atText = at.toISOString().slice(0, 19);
  await sch.send(
    new CreateScheduleCommand({
      Name: 'once',
      ScheduleExpression: `at(${atText})`,
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: fn.FunctionArn!,
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        Input: '{"from":"scheduler"}',
      },
      ActionAfterCompletion: 'DELETE',
    }),
  );

  const res = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 180 }),
  });
  assert.equal(res.status, 200);

  const events = await waitForEvents(logs, 4);
  const scheduled = events.filter((e) => e['detail-type'] === 'Scheduled Event');
  assert.equal(scheduled.length, 3, JSON.stringify(events));
  for (const e of scheduled) {
    assert.deepEqual(Object.keys(e).sort(), [
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    assert.equal(e.version, '0');
    assert.equal(e.source, 'aws.events');
    assert.equal(e.account, '000000000000');
    assert.equal(e.region, 'us-east-1');
    assert.deepEqual(e.resources, [RuleArn]);
    assert.deepEqual(e.detail, {});
    assert.match(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  const times = scheduled.map((e) => Date.parse(String(e.time))).sort();
  assert.deepEqual([times[1] - times[0], times[2] - times[1]], [60_000, 60_000]);
  assert.deepEqual(
    events.filter((e) => e.from === 'scheduler'),
    [{ from: 'scheduler' }],
  );
  // ActionAfterCompletion DELETE: the one-time schedule is gone once it fired.
  await rejects(sch.send(new GetScheduleCommand({ Name: 'once' })), 'ResourceNotFoundException');
  // Disabled rules do not fire.
  await eb.send(new DisableRuleCommand({ Name: 'tick' }));
  await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 120 }),
  });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await waitForEvents(logs, 4)).length, 4);
});

test('firing: rules and schedules deliver to SQS queues (standard and FIFO) and SNS topics', async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  const sns = new SNSClient(srv.clientConfig);
  const eb = new EventBridgeClient(srv.clientConfig);
  const sch = new SchedulerClient(srv.clientConfig);
  const arnOf = async (QueueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!
      .QueueArn!;
  const plain = (await sqs.send(new CreateQueueCommand({ QueueName: 'ticks' }))).QueueUrl!;
  const fifo = (
    await sqs.send(new CreateQueueCommand({ QueueName: 'ticks.fifo', Attributes: { FifoQueue: 'true' } }))
  ).QueueUrl!;
  const viaTopic = (await sqs.send(new CreateQueueCommand({ QueueName: 'via-topic' }))).QueueUrl!;
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'ticks' }));
  await sns.send(
    new SubscribeCommand({
      TopicArn,
      Protocol: 'sqs',
      Endpoint: await arnOf(viaTopic),
      Attributes: { RawMessageDelivery: 'true' },
    }),
  );
  await eb.send(new PutRuleCommand({ Name: 'tick', ScheduleExpression: 'rate(1 minute)' }));
  await eb.send(
    new PutTargetsCommand({
      Rule: 'tick',
      Targets: [
        { Id: 'q', Arn: await arnOf(plain) },
        { Id: 'f', Arn: await arnOf(fifo), SqsParameters: { MessageGroupId: 'g1' } },
        { Id: 't', Arn: TopicArn!, Input: '{"via":"topic"}' },
      ],
    }),
  );
  await sch.send(
    new CreateScheduleCommand({
      Name: 'to-queue',
      ScheduleExpression: 'rate(2 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: await arnOf(plain),
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        Input: '{"from":"scheduler"}',
      },
    }),
  );
  await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 120 }),
  });

  const drain = async (QueueUrl: string, n: number) => {
    const bodies: string[] = [];
    for (let i = 0; i < 100 && bodies.length < n; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          AttributeNames: ['All'],
        }),
      );
      for (const m of r.Messages ?? []) {
        bodies.push(m.Body!);
        if (QueueUrl === fifo) assert.equal(m.Attributes?.MessageGroupId, 'g1');
      }
      if (!r.Messages?.length) await new Promise((res) => setTimeout(res, 50));
    }
    return bodies;
  };
  const onPlain = await drain(plain, 3);
  assert.equal(onPlain.length, 3, JSON.stringify(onPlain));
  const events = onPlain.map((b) => JSON.parse(b) as Record<string, unknown>);
  assert.equal(events.filter((e) => e['detail-type'] === 'Scheduled Event').length, 2);
  assert.deepEqual(
    events.filter((e) => e.from === 'scheduler'),
    [{ from: 'scheduler' }],
  );
  const onFifo = await drain(fifo, 2);
  assert.equal(onFifo.length, 2);
  assert.ok(onFifo.every((b) => (JSON.parse(b) as { source: string }).source === 'aws.events'));
  assert.deepEqual(await drain(viaTopic, 2), ['{"via":"topic"}', '{"via":"topic"}']);
});

async function clockOffset(endpoint: string): Promise<number> {
  const r = (await (await fetch(`${endpoint}/_nimbus/clock`)).json()) as { offsetSeconds: number };
  return r.offsetSeconds;
}

async function waitForEvents(logs: CloudWatchLogsClient, n: number): Promise<Record<string, unknown>[]> {
  let found: Record<string, unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    const ev = await logs
      .send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/on-tick', filterPattern: 'SCHEDEVENT' }))
      .catch(() => ({ events: [] as { message?: string }[] }));
    found = (ev.events ?? [])
      .map((e) => e.message ?? '')
      .filter((m) => m.includes('SCHEDEVENT '))
      .map((m) => JSON.parse(m.slice(m.indexOf('SCHEDEVENT ') + 11).trim()) as Record<string, unknown>);
    if (found.length >= n) return found;
    await new Promise((r) => setTimeout(r, 100));
  }
  return found;
}

test("PutEvents: events matching a rule's pattern reach its targets; others do not", async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  const eb = new EventBridgeClient(srv.clientConfig);
  const queue = async (QueueName: string) => {
    const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName }))).QueueUrl!;
    const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
      .Attributes!.QueueArn!;
    return { QueueUrl, arn };
  };
  const big = await queue('big-orders');
  const any = await queue('any-order');
  await eb.send(
    new PutRuleCommand({
      Name: 'big-orders',
      EventPattern: JSON.stringify({
        source: ['shop.orders'],
        'detail-type': ['OrderPlaced'],
        detail: { amount: [{ numeric: ['>', 100] }], country: [{ 'anything-but': 'XX' }] },
      }),
    }),
  );
  await eb.send(new PutTargetsCommand({ Rule: 'big-orders', Targets: [{ Id: 'q', Arn: big.arn }] }));
  await eb.send(
    new PutRuleCommand({
      Name: 'any-order',
      EventPattern: JSON.stringify({ source: [{ prefix: 'shop.' }] }),
    }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'any-order',
      Targets: [{ Id: 'amount', Arn: any.arn, InputPath: '$.detail.amount' }],
    }),
  );
  // A disabled rule never fires.
  await eb.send(
    new PutRuleCommand({
      Name: 'off',
      State: 'DISABLED',
      EventPattern: JSON.stringify({ source: ['shop.orders'] }),
    }),
  );
  await eb.send(new PutTargetsCommand({ Rule: 'off', Targets: [{ Id: 'q', Arn: any.arn }] }));

  const at = new Date('2026-03-01T12:00:00Z');
  const r = await eb.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: 'shop.orders',
          DetailType: 'OrderPlaced',
          Detail: JSON.stringify({ amount: 250, country: 'FR' }),
          Resources: ['arn:aws:shop:order/1'],
          Time: at,
        },
        {
          Source: 'shop.orders',
          DetailType: 'OrderPlaced',
          Detail: JSON.stringify({ amount: 5, country: 'FR' }),
        },
        { Source: 'shop.orders', DetailType: 'OrderPlaced', Detail: '[1]' },
        { Source: 'aws.ec2', DetailType: 'x', Detail: '{}' },
        { Source: 'shop.orders', Detail: '{}' },
      ],
    }),
  );
  assert.equal(r.FailedEntryCount, 3);
  assert.match(r.Entries![0].EventId!, /^[0-9a-f-]{36}$/);
  assert.match(r.Entries![1].EventId!, /^[0-9a-f-]{36}$/);
  assert.deepEqual(
    r.Entries!.slice(2).map((e) => e.ErrorCode),
    ['MalformedDetail', 'NotAuthorizedForSourceException', 'InvalidArgument'],
  );

  const drain = (QueueUrl: string, n: number) => receiveBodies(sqs, QueueUrl, n);
  const onBig = await drain(big.QueueUrl, 1);
  assert.equal(onBig.length, 1);
  assert.deepEqual(JSON.parse(onBig[0]), {
    version: '0',
    id: r.Entries![0].EventId,
    'detail-type': 'OrderPlaced',
    source: 'shop.orders',
    account: '000000000000',
    time: '2026-03-01T12:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:shop:order/1'],
    detail: { amount: 250, country: 'FR' },
  });
  assert.deepEqual((await drain(any.QueueUrl, 2)).sort(), ['250', '5']);
  // Nothing more arrives (the small order, the disabled rule).
  await new Promise((res) => setTimeout(res, 300));
  for (const QueueUrl of [big.QueueUrl, any.QueueUrl]) {
    const late = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    assert.equal(late.Messages, undefined, QueueUrl);
  }

  // TestEventPattern and pattern validation.
  const event = JSON.stringify({
    id: '1',
    source: 'shop.orders',
    'detail-type': 'OrderPlaced',
    account: '000000000000',
    time: '2026-03-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { amount: 101, tags: ['a', 'vip'] },
  });
  const test1 = await eb.send(
    new TestEventPatternCommand({
      EventPattern: JSON.stringify({ detail: { amount: [{ numeric: ['>=', 101] }], tags: ['vip'] } }),
      Event: event,
    }),
  );
  assert.equal(test1.Result, true);
  const test2 = await eb.send(
    new TestEventPatternCommand({
      EventPattern: JSON.stringify({ detail: { amount: [{ exists: false }] } }),
      Event: event,
    }),
  );
  assert.equal(test2.Result, false);
  const wild = async (w: string) =>
    (
      await eb.send(
        new TestEventPatternCommand({
          EventPattern: JSON.stringify({ 'detail-type': [{ wildcard: w }] }),
          Event: event,
        }),
      )
    ).Result;
  assert.deepEqual(
    [
      await wild('Order*'),
      await wild('*Placed'),
      await wild('O*d*d'),
      await wild('Order'),
      await wild('Order\\*'),
    ],
    [true, true, true, false, false],
  );
  await rejects(
    eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: JSON.stringify({ source: 'not-an-array' }) })),
    'InvalidEventPatternException',
    /^Event pattern is not valid\. Reason: /,
  );
  await rejects(eb.send(new PutEventsCommand({ Entries: [] })), 'ValidationException');
});

test('custom event buses: create, rules and PutEvents on them, listing, and deletion', async () => {
  await using srv = await startTestServer();
  const sqs = new SQSClient(srv.clientConfig);
  const eb = new EventBridgeClient(srv.clientConfig);
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders-bus' }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] })))
    .Attributes!.QueueArn!;

  const created = await eb.send(new CreateEventBusCommand({ Name: 'orders', Description: 'shop events' }));
  assert.equal(created.EventBusArn, 'arn:aws:events:us-east-1:000000000000:event-bus/orders');
  await rejects(eb.send(new CreateEventBusCommand({ Name: 'orders' })), 'ResourceAlreadyExistsException');
  await rejects(eb.send(new CreateEventBusCommand({ Name: 'default' })), 'ResourceAlreadyExistsException');
  const described = await eb.send(new DescribeEventBusCommand({ Name: created.EventBusArn }));
  assert.equal(described.Name, 'orders');
  assert.equal(described.Description, 'shop events');
  assert.equal((await eb.send(new DescribeEventBusCommand({}))).Name, 'default');
  await rejects(
    eb.send(new DescribeEventBusCommand({ Name: 'nope' })),
    'ResourceNotFoundException',
    'Event bus nope does not exist.',
  );
  const listed = await eb.send(new ListEventBusesCommand({}));
  assert.deepEqual(
    listed.EventBuses?.map((b) => b.Name),
    ['default', 'orders'],
  );

  // A rule of the same name on each bus; only the custom bus's rule sees the custom bus's events.
  const pattern = JSON.stringify({ source: ['shop'] });
  const rule = await eb.send(
    new PutRuleCommand({ Name: 'placed', EventBusName: 'orders', EventPattern: pattern }),
  );
  assert.equal(rule.RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/orders/placed');
  await eb.send(new PutRuleCommand({ Name: 'placed', EventPattern: pattern }));
  const tr = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders-bus-tr' }))).QueueUrl!;
  const trArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: tr, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  await eb.send(
    new PutTargetsCommand({
      Rule: 'placed',
      EventBusName: created.EventBusArn,
      Targets: [
        { Id: 'q', Arn: arn, InputPath: '$.detail.n' },
        {
          Id: 'tr',
          Arn: trArn,
          InputTransformer: {
            InputPathsMap: { n: '$.detail.n', src: '$.source' },
            InputTemplate: '{"n": <n>, "line": "<src> event on <aws.events.rule-name>"}',
          },
        },
      ],
    }),
  );
  await rejects(
    eb.send(
      new PutTargetsCommand({
        Rule: 'placed',
        EventBusName: 'orders',
        Targets: [{ Id: 'bad', Arn: arn, Input: '{}', InputTransformer: { InputTemplate: '{}' } }],
      }),
    ),
    'ValidationException',
    'Only one of Input, InputPath, or InputTransformer must be provided.',
  );
  await rejects(
    eb.send(
      new PutRuleCommand({ Name: 'tick', EventBusName: 'orders', ScheduleExpression: 'rate(1 minute)' }),
    ),
    'ValidationException',
  );
  await rejects(
    eb.send(new PutRuleCommand({ Name: 'x', EventBusName: 'nope', EventPattern: pattern })),
    'ResourceNotFoundException',
  );
  // A bus whose name starts with another's: its rules stay its own.
  await eb.send(new CreateEventBusCommand({ Name: 'orders/eu' }));
  await eb.send(new PutRuleCommand({ Name: 'eu-only', EventBusName: 'orders/eu', EventPattern: pattern }));
  const onOrders = await eb.send(new ListRulesCommand({ EventBusName: 'orders' }));
  assert.deepEqual(
    onOrders.Rules?.map((r) => [r.Name, r.EventBusName]),
    [['placed', 'orders']],
  );
  const onDefault = await eb.send(new ListRulesCommand({}));
  assert.deepEqual(
    onDefault.Rules?.map((r) => [r.Name, r.EventBusName]),
    [['placed', 'default']],
  );
  assert.equal(
    (await eb.send(new ListTargetsByRuleCommand({ Rule: 'placed', EventBusName: 'orders' }))).Targets?.length,
    2,
  );
  assert.equal((await eb.send(new ListTargetsByRuleCommand({ Rule: 'placed' }))).Targets?.length, 0);

  const put = await eb.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: 'orders', Source: 'shop', DetailType: 'Placed', Detail: '{"n":1}' },
        { Source: 'shop', DetailType: 'Placed', Detail: '{"n":2}' },
        { EventBusName: created.EventBusArn, Source: 'shop', DetailType: 'Placed', Detail: '{"n":3}' },
        { EventBusName: 'nope', Source: 'shop', DetailType: 'Placed', Detail: '{"n":4}' },
      ],
    }),
  );
  assert.equal(put.FailedEntryCount, 1);
  assert.equal(put.Entries![3].ErrorCode, 'InvalidArgument');
  const bodies = await receiveBodies(sqs, QueueUrl, 2);
  assert.deepEqual(bodies.sort(), ['1', '3'], 'the default bus event did not reach the custom bus rule');
  const transformed = await receiveBodies(sqs, tr, 2);
  assert.deepEqual(
    transformed.map((b) => JSON.parse(b)).sort((a, b) => a.n - b.n),
    [
      { n: 1, line: 'shop event on placed' },
      { n: 3, line: 'shop event on placed' },
    ],
  );

  assert.deepEqual(
    (await eb.send(new ListRulesCommand({ EventBusName: 'orders/eu' }))).Rules?.map((r) => r.Name),
    ['eu-only'],
  );
  await rejects(eb.send(new DeleteEventBusCommand({ Name: 'orders' })), 'ValidationException');
  await rejects(eb.send(new DeleteEventBusCommand({ Name: 'default' })), 'ValidationException');
  await eb.send(new RemoveTargetsCommand({ Rule: 'placed', EventBusName: 'orders', Ids: ['q', 'tr'] }));
  await eb.send(new DeleteRuleCommand({ Name: 'placed', EventBusName: 'orders' }));
  await eb.send(new DeleteEventBusCommand({ Name: 'orders' }));
  await rejects(eb.send(new DescribeEventBusCommand({ Name: 'orders' })), 'ResourceNotFoundException');
  assert.equal((await eb.send(new ListRulesCommand({}))).Rules?.length, 1, "the default bus's rule stays");
  sqs.destroy();
  eb.destroy();
});

test('targets: RetryPolicy and DeadLetterConfig send undeliverable events to the dead-letter queue', async () => {
  await using srv = await startTestServer();
  const eb = new EventBridgeClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: 'undelivered' }))).QueueUrl!;
  const dlqArn = 'arn:aws:sqs:us-east-1:000000000000:undelivered';
  const gone = 'arn:aws:sqs:us-east-1:000000000000:no-such-queue';
  await eb.send(new PutRuleCommand({ Name: 'orders', EventPattern: JSON.stringify({ source: ['shop'] }) }));
  await rejects(
    eb.send(
      new PutTargetsCommand({
        Rule: 'orders',
        Targets: [{ Id: 'bad', Arn: gone, RetryPolicy: { MaximumRetryAttempts: 186 } }],
      }),
    ),
    'ValidationException',
    /retryPolicy\.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185/,
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'orders',
      Targets: [
        // No retries: the first failure goes to the dead-letter queue.
        { Id: 'now', Arn: gone, RetryPolicy: { MaximumRetryAttempts: 0 }, DeadLetterConfig: { Arn: dlqArn } },
        // Retries, but only within a minute of the event.
        {
          Id: 'aged',
          Arn: gone,
          Input: '{"aged": true}',
          RetryPolicy: { MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: dlqArn },
        },
      ],
    }),
  );
  await eb.send(
    new PutEventsCommand({ Entries: [{ Source: 'shop', DetailType: 'Order', Detail: '{"id":1}' }] }),
  );
  const first = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 5, MessageAttributeNames: ['All'] }),
  );
  assert.equal(first.Messages?.length, 1);
  const m = first.Messages![0];
  assert.deepEqual(JSON.parse(m.Body!).detail, { id: 1 });
  assert.equal(
    m.MessageAttributes?.RULE_ARN.StringValue,
    'arn:aws:events:us-east-1:000000000000:rule/orders',
  );
  assert.equal(m.MessageAttributes?.TARGET_ARN.StringValue, gone);
  assert.ok(m.MessageAttributes?.ERROR_CODE.StringValue);
  assert.ok(m.MessageAttributes?.ERROR_MESSAGE.StringValue);
  await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle }));
  // The other target keeps retrying until the event is a minute old.
  const moved = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: 90 }),
  });
  await moved.body?.cancel();
  const bodies = await receiveBodies(sqs, dlq, 1);
  assert.deepEqual(
    bodies.map((b) => JSON.parse(b)),
    [{ aged: true }],
  );
  eb.destroy();
  sqs.destroy();
});

test('an event bus as a rule target: the event goes on to that bus and its rules', async () => {
  await using srv = await startTestServer();
  const eb = new EventBridgeClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'audited' }))).QueueUrl!;
  await eb.send(new CreateEventBusCommand({ Name: 'audit' }));
  await eb.send(new PutRuleCommand({ Name: 'forward', EventPattern: JSON.stringify({ source: ['shop'] }) }));
  await eb.send(
    new PutTargetsCommand({
      Rule: 'forward',
      Targets: [{ Id: 'bus', Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/audit' }],
    }),
  );
  await eb.send(
    new PutRuleCommand({
      Name: 'keep',
      EventBusName: 'audit',
      EventPattern: JSON.stringify({ 'detail-type': ['Order'] }),
    }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'keep',
      EventBusName: 'audit',
      Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:audited' }],
    }),
  );
  // And back: the audit bus forwards to the default bus, whose rule forwards to audit again.
  await eb.send(
    new PutRuleCommand({
      Name: 'back',
      EventBusName: 'audit',
      EventPattern: JSON.stringify({ source: ['shop'] }),
    }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'back',
      EventBusName: 'audit',
      Targets: [{ Id: 'home', Arn: 'arn:aws:events:us-east-1:000000000000:event-bus/default' }],
    }),
  );
  const put = await eb.send(
    new PutEventsCommand({ Entries: [{ Source: 'shop', DetailType: 'Order', Detail: '{"id":7}' }] }),
  );
  const [body] = await receiveBodies(sqs, QueueUrl, 1);
  await new Promise((r) => setTimeout(r, 1500));
  const more = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
  assert.equal(more.Messages?.length ?? 0, 0, 'each bus takes the event once: no loop, no second copy');
  const event = JSON.parse(body) as Record<string, unknown>;
  assert.equal(event.id, put.Entries![0].EventId, 'the same event, not a copy with a new id');
  assert.equal(event.source, 'shop');
  assert.deepEqual(event.detail, { id: 7 });
  eb.destroy();
  sqs.destroy();
});
