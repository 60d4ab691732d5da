/**
 * Events::Rule, Scheduler::Schedule, Logs::LogGroup and the recorded-only types against a real Nimbus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventBridgeClient,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { SchedulerClient, GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers, RECORDED_TYPES } from './index.js';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:target';
const ROLE = 'arn:aws:iam::000000000000:role/r';

test('Events::Rule, Scheduler::Schedule, Logs::LogGroup: create, update, delete', async () => {
  await using srv = await startTestServer();
  const ctx = testContext(srv.clientConfig, 'Rule');
  const eb = new EventBridgeClient(srv.clientConfig);

  const rP = providers['AWS::Events::Rule'];
  const r1 = { ScheduleExpression: 'rate(5 minutes)', Targets: [{ Id: 't1', Arn: FN, Input: '{"a":1}' }] };
  const rule = await rP.create(r1, ctx);
  assert.match(rule.physicalId, /^test-stack-Rule-[A-Z0-9]{13}$/);
  assert.equal(rule.attributes.Arn, `arn:aws:events:us-east-1:000000000000:rule/${rule.physicalId}`);
  const r2 = { EventPattern: { source: ['my.app'] }, State: 'DISABLED', Targets: [{ Id: 't2', Arn: FN }] };
  await rP.update(rule.physicalId, r2, { props: r1, attributes: rule.attributes }, ctx);
  const d = await eb.send(new DescribeRuleCommand({ Name: rule.physicalId }));
  assert.equal(d.State, 'DISABLED');
  assert.deepEqual(JSON.parse(d.EventPattern!), { source: ['my.app'] });
  const t = await eb.send(new ListTargetsByRuleCommand({ Rule: rule.physicalId }));
  assert.deepEqual(
    t.Targets!.map((x) => x.Id),
    ['t2'],
  );
  await rP.delete(rule.physicalId, r2, ctx);
  await rP.delete(rule.physicalId, r2, ctx);
  await assert.rejects(eb.send(new DescribeRuleCommand({ Name: rule.physicalId })), {
    name: 'ResourceNotFoundException',
  });

  // A rule on a custom bus (named by the bus's ARN, as `!GetAtt Bus.Arn` gives it).
  const bP = providers['AWS::Events::EventBus'];
  const bus = await bP.create({ Name: 'app-bus' }, ctx);
  assert.equal(bus.attributes.Arn, 'arn:aws:events:us-east-1:000000000000:event-bus/app-bus');
  const onBus = {
    EventBusName: bus.attributes.Arn,
    EventPattern: { source: ['app'] },
    Targets: [{ Id: 't', Arn: FN }],
  };
  const busRule = await rP.create(onBus, ctx);
  const bt = await eb.send(
    new ListTargetsByRuleCommand({ Rule: busRule.physicalId, EventBusName: 'app-bus' }),
  );
  assert.equal(bt.Targets?.length, 1);
  await rP.delete(busRule.physicalId, onBus, ctx);
  await bP.delete(bus.physicalId, { Name: 'app-bus' }, ctx);
  await assert.rejects(eb.send(new DescribeEventBusCommand({ Name: 'app-bus' })), {
    name: 'ResourceNotFoundException',
  });

  const sP = providers['AWS::Scheduler::Schedule'];
  const sch = new SchedulerClient(srv.clientConfig);
  const s1 = {
    ScheduleExpression: 'rate(1 hour)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: FN, RoleArn: ROLE, Input: '{}' },
  };
  const s = await sP.create(s1, { ...ctx, logicalId: 'Sch' });
  assert.equal(s.attributes.Arn, `arn:aws:scheduler:us-east-1:000000000000:schedule/default/${s.physicalId}`);
  await sP.update(
    s.physicalId,
    { ...s1, ScheduleExpression: 'rate(2 hours)' },
    { props: s1, attributes: s.attributes },
    ctx,
  );
  const got = await sch.send(new GetScheduleCommand({ Name: s.physicalId }));
  assert.equal(got.ScheduleExpression, 'rate(2 hours)');
  await sP.delete(s.physicalId, s1, ctx);
  await sP.delete(s.physicalId, s1, ctx);

  const lP = providers['AWS::Logs::LogGroup'];
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const l1 = { LogGroupName: '/aws/lambda/x', RetentionInDays: '7' };
  const lg = await lP.create(l1, ctx);
  assert.deepEqual(lg, {
    physicalId: '/aws/lambda/x',
    attributes: { Arn: 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/x:*' },
  });
  await lP.update(
    lg.physicalId,
    { ...l1, RetentionInDays: 14 },
    { props: l1, attributes: lg.attributes },
    ctx,
  );
  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/x' }));
  assert.equal(groups.logGroups![0].retentionInDays, 14);
  await lP.delete(lg.physicalId, l1, ctx);
  await lP.delete(lg.physicalId, l1, ctx);
  const after = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/x' }));
  assert.equal(after.logGroups!.length, 0);
});

test('recorded types give AWS-shaped ids without a service', async () => {
  const ctx = testContext(
    {
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    },
    'Role',
  );
  assert.deepEqual(RECORDED_TYPES.sort(), [
    'AWS::CDK::Metadata',
    'AWS::CertificateManager::Certificate',
    'AWS::CloudFormation::WaitConditionHandle',
    'AWS::IAM::ManagedPolicy',
    'AWS::IAM::Policy',
    'AWS::IAM::Role',
    'AWS::Route53::HostedZone',
    'AWS::Route53::RecordSet',
    'AWS::Route53::RecordSetGroup',
  ]);
  const role = await providers['AWS::IAM::Role'].create({ RoleName: 'app-role' }, ctx);
  assert.equal(role.physicalId, 'app-role');
  assert.equal(role.attributes.Arn, 'arn:aws:iam::000000000000:role/app-role');
  assert.match(String(role.attributes.RoleId), /^AROA[A-Z2-7]{17}$/);
  const gen = await providers['AWS::IAM::Role'].create({}, ctx);
  assert.match(gen.physicalId, /^test-stack-Role-[A-Z0-9]{13}$/);
  await providers['AWS::IAM::Role'].delete(gen.physicalId, {}, ctx);
  const mp = await providers['AWS::IAM::ManagedPolicy'].create({ ManagedPolicyName: 'p' }, ctx);
  assert.equal(mp.physicalId, 'arn:aws:iam::000000000000:policy/p');
  const cert = await providers['AWS::CertificateManager::Certificate'].create(
    { DomainName: 'a.example.com' },
    ctx,
  );
  assert.match(
    cert.physicalId,
    /^arn:aws:acm:us-east-1:000000000000:certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  );
  const zone = await providers['AWS::Route53::HostedZone'].create({ Name: 'example.com' }, ctx);
  assert.match(zone.physicalId, /^Z[A-Z2-7]{17}$/);
});
