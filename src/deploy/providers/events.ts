/**
 * AWS::Events::Rule, AWS::Scheduler::Schedule, AWS::Logs::LogGroup, MetricFilter and
 * SubscriptionFilter, and the types that are
 * recorded only (IAM and CloudFormation bookkeeping): Nimbus has no IAM service behind them.
 */
import { createHash } from 'node:crypto';
import {
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  DeleteRuleCommand,
  CreateEventBusCommand,
  DeleteEventBusCommand,
} from '@aws-sdk/client-eventbridge';
import {
  SchedulerClient,
  CreateScheduleCommand,
  UpdateScheduleCommand,
  DeleteScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  PutRetentionPolicyCommand,
  DeleteRetentionPolicyCommand,
  PutMetricFilterCommand,
  DeleteMetricFilterCommand,
  PutSubscriptionFilterCommand,
  DeleteSubscriptionFilterCommand,
  type Distribution,
  type StandardUnit,
} from '@aws-sdk/client-cloudwatch-logs';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { clean, ignoreMissing, json, list, nameOf, num, str, type Props } from './util.js';

const events = (ctx: ResourceContext) => new EventBridgeClient(ctx.clientConfig);

function targets(props: Props) {
  return list<Props>(props.Targets).map((t) =>
    clean({
      Id: String(t.Id),
      Arn: String(t.Arn),
      Input: str(t.Input),
      InputPath: str(t.InputPath),
      InputTransformer: t.InputTransformer
        ? clean({
            InputPathsMap: (t.InputTransformer as Props).InputPathsMap as Record<string, string> | undefined,
            InputTemplate: String((t.InputTransformer as Props).InputTemplate ?? ''),
          })
        : undefined,
      RoleArn: str(t.RoleArn),
    }),
  );
}

async function putRule(name: string, props: Props, ctx: ResourceContext) {
  const out = await events(ctx).send(
    new PutRuleCommand({
      Name: name,
      ScheduleExpression: str(props.ScheduleExpression),
      EventPattern: json(props.EventPattern),
      State: (str(props.State) ?? 'ENABLED') as any,
      Description: str(props.Description),
      RoleArn: str(props.RoleArn),
      EventBusName: str(props.EventBusName),
    }),
  );
  return out.RuleArn!;
}

export const eventsRule: ResourceProvider = {
  replaceOn: ['Name', 'EventBusName'],
  async create(props, ctx) {
    const name = nameOf(props, 'Name', ctx, 64);
    const arn = await putRule(name, props, ctx);
    const t = targets(props);
    if (t.length)
      await events(ctx).send(
        new PutTargetsCommand({ Rule: name, Targets: t, EventBusName: str(props.EventBusName) }),
      );
    return { physicalId: name, attributes: { Arn: arn } };
  },
  async update(physicalId, props, previous, ctx) {
    const arn = await putRule(physicalId, props, ctx);
    const now = targets(props);
    const gone = targets(previous.props)
      .map((t) => t.Id)
      .filter((id) => !now.some((t) => t.Id === id));
    if (gone.length)
      await events(ctx).send(
        new RemoveTargetsCommand({ Rule: physicalId, Ids: gone, EventBusName: str(props.EventBusName) }),
      );
    if (now.length)
      await events(ctx).send(
        new PutTargetsCommand({ Rule: physicalId, Targets: now, EventBusName: str(props.EventBusName) }),
      );
    return { physicalId, attributes: { Arn: arn } };
  },
  async delete(physicalId, props, ctx) {
    const ids = targets(props).map((t) => t.Id);
    if (ids.length) {
      await ignoreMissing(() =>
        events(ctx).send(
          new RemoveTargetsCommand({ Rule: physicalId, Ids: ids, EventBusName: str(props.EventBusName) }),
        ),
      );
    }
    await ignoreMissing(() =>
      events(ctx).send(
        new DeleteRuleCommand({ Name: physicalId, Force: true, EventBusName: str(props.EventBusName) }),
      ),
    );
  },
};

/** AWS::Events::EventBus (Ref: its name; Arn, Name). */
export const eventsEventBus: ResourceProvider = {
  replaceOn: ['Name'],
  async create(props, ctx) {
    const name = String(props.Name);
    const out = await events(ctx).send(
      new CreateEventBusCommand({ Name: name, Description: str(props.Description) }),
    );
    return { physicalId: name, attributes: { Arn: out.EventBusArn, Name: name } };
  },
  // Description only (the name replaces): kept as created.
  update: async (physicalId, _props, previous) => ({ physicalId, attributes: previous.attributes }),
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => events(ctx).send(new DeleteEventBusCommand({ Name: physicalId })));
  },
};

const scheduler = (ctx: ResourceContext) => new SchedulerClient(ctx.clientConfig);

function scheduleInput(name: string, props: Props) {
  const t = (props.Target ?? {}) as Props;
  const window = (props.FlexibleTimeWindow ?? { Mode: 'OFF' }) as Props;
  const retry = t.RetryPolicy as Props | undefined;
  return clean({
    Name: name,
    GroupName: str(props.GroupName),
    ScheduleExpression: String(props.ScheduleExpression),
    ScheduleExpressionTimezone: str(props.ScheduleExpressionTimezone),
    StartDate: props.StartDate ? new Date(String(props.StartDate)) : undefined,
    EndDate: props.EndDate ? new Date(String(props.EndDate)) : undefined,
    State: str(props.State) as any,
    Description: str(props.Description),
    FlexibleTimeWindow: clean({
      Mode: String(window.Mode) as any,
      MaximumWindowInMinutes: num(window.MaximumWindowInMinutes),
    }),
    Target: clean({
      Arn: String(t.Arn),
      RoleArn: String(t.RoleArn ?? ''),
      Input: str(t.Input),
      RetryPolicy: retry
        ? clean({
            MaximumRetryAttempts: num(retry.MaximumRetryAttempts),
            MaximumEventAgeInSeconds: num(retry.MaximumEventAgeInSeconds),
          })
        : undefined,
      DeadLetterConfig: t.DeadLetterConfig as any,
    }),
  });
}

export const schedulerSchedule: ResourceProvider = {
  replaceOn: ['Name', 'GroupName'],
  async create(props, ctx) {
    const name = nameOf(props, 'Name', ctx, 64);
    const out = await scheduler(ctx).send(new CreateScheduleCommand(scheduleInput(name, props)));
    return { physicalId: name, attributes: { Arn: out.ScheduleArn } };
  },
  async update(physicalId, props, _previous, ctx) {
    const out = await scheduler(ctx).send(new UpdateScheduleCommand(scheduleInput(physicalId, props)));
    return { physicalId, attributes: { Arn: out.ScheduleArn } };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      scheduler(ctx).send(new DeleteScheduleCommand({ Name: physicalId, GroupName: str(props.GroupName) })),
    );
  },
};

const logs = (ctx: ResourceContext) => new CloudWatchLogsClient(ctx.clientConfig);

export const logsLogGroup: ResourceProvider = {
  replaceOn: ['LogGroupName', 'LogGroupClass'],
  async create(props, ctx) {
    const name = nameOf(props, 'LogGroupName', ctx, 512);
    await logs(ctx).send(new CreateLogGroupCommand({ logGroupName: name }));
    const days = num(props.RetentionInDays);
    if (days !== undefined) {
      await logs(ctx).send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
    }
    return { physicalId: name, attributes: { Arn: logGroupArn(ctx, name) } };
  },
  async update(physicalId, props, previous, ctx) {
    const days = num(props.RetentionInDays);
    if (days !== num(previous.props.RetentionInDays)) {
      await logs(ctx).send(
        days === undefined
          ? new DeleteRetentionPolicyCommand({ logGroupName: physicalId })
          : (new PutRetentionPolicyCommand({ logGroupName: physicalId, retentionInDays: days }) as any),
      );
    }
    return { physicalId, attributes: { Arn: logGroupArn(ctx, physicalId) } };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => logs(ctx).send(new DeleteLogGroupCommand({ logGroupName: physicalId })));
  },
};

/** `Ref` is the filter name; a put with the same name updates the filter in place. */
export const logsMetricFilter: ResourceProvider = {
  replaceOn: ['FilterName', 'LogGroupName'],
  async create(props, ctx) {
    const name = nameOf(props, 'FilterName', ctx, 512);
    await putMetricFilter(name, props, ctx);
    return { physicalId: name, attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await putMetricFilter(physicalId, props, ctx);
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      logs(ctx).send(
        new DeleteMetricFilterCommand({ logGroupName: String(props.LogGroupName), filterName: physicalId }),
      ),
    );
  },
};

async function putMetricFilter(name: string, props: Props, ctx: ResourceContext) {
  await logs(ctx).send(
    new PutMetricFilterCommand({
      logGroupName: String(props.LogGroupName),
      filterName: name,
      filterPattern: String(props.FilterPattern ?? ''),
      metricTransformations: list<Props>(props.MetricTransformations).map((t) =>
        clean({
          metricName: String(t.MetricName),
          metricNamespace: String(t.MetricNamespace),
          metricValue: String(t.MetricValue),
          defaultValue: num(t.DefaultValue),
          unit: str(t.Unit) as StandardUnit | undefined,
          dimensions: t.Dimensions
            ? Object.fromEntries(list<Props>(t.Dimensions).map((d) => [String(d.Key), String(d.Value)]))
            : undefined,
        }),
      ),
    }),
  );
}

/** `Ref` is the filter name. */
export const logsSubscriptionFilter: ResourceProvider = {
  replaceOn: ['FilterName', 'LogGroupName'],
  async create(props, ctx) {
    const name = nameOf(props, 'FilterName', ctx, 512);
    await putSubscriptionFilter(name, props, ctx);
    return { physicalId: name, attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    await putSubscriptionFilter(physicalId, props, ctx);
    return { physicalId, attributes: {} };
  },
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      logs(ctx).send(
        new DeleteSubscriptionFilterCommand({
          logGroupName: String(props.LogGroupName),
          filterName: physicalId,
        }),
      ),
    );
  },
};

async function putSubscriptionFilter(name: string, props: Props, ctx: ResourceContext) {
  await logs(ctx).send(
    new PutSubscriptionFilterCommand({
      logGroupName: String(props.LogGroupName),
      filterName: name,
      filterPattern: String(props.FilterPattern ?? ''),
      destinationArn: String(props.DestinationArn),
      roleArn: str(props.RoleArn),
      distribution: str(props.Distribution) as Distribution | undefined,
    }),
  );
}

/** `Fn::GetAtt LogGroup.Arn` ends in `:*`, as AWS gives it. */
const logGroupArn = (ctx: ResourceContext, name: string) =>
  `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}:*`;

// ---------------------------------------------------------------------------------------------
// Recorded only

/** An IAM-style unique id (`AROA` + 17 upper-case alphanumerics), stable for a name. */
function iamId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return prefix + [...digest.subarray(0, 17)].map((b) => A[b % A.length]).join('');
}

/** A stable UUID-shaped id from a seed (recorded certificate ARNs). */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

const recorded = (
  make: (
    props: Props,
    ctx: ResourceContext,
    physicalId?: string,
  ) => { physicalId: string; attributes: Props },
  replaceOn: string[] = [],
): ResourceProvider => ({
  replaceOn,
  async create(props, ctx) {
    return make(props, ctx);
  },
  async update(physicalId, props, _previous, ctx) {
    return make(props, ctx, physicalId);
  },
  async delete() {},
});

export const recordedProviders: Record<string, ResourceProvider> = {
  'AWS::IAM::Role': recorded(
    (props, ctx, id) => {
      const name = id ?? nameOf(props, 'RoleName', ctx, 64);
      const path = str(props.Path) ?? '/';
      return {
        physicalId: name,
        attributes: {
          Arn: `arn:aws:iam::${ctx.accountId}:role${path}${name}`,
          RoleId: iamId('AROA', `${ctx.accountId}/role/${name}`),
        },
      };
    },
    ['RoleName', 'Path'],
  ),
  'AWS::IAM::Policy': recorded((_props, ctx, id) => {
    const physicalId = id ?? ctx.physicalName(128);
    return { physicalId, attributes: { Id: physicalId } };
  }),
  'AWS::IAM::ManagedPolicy': recorded(
    (props, ctx, id) => {
      const name = nameOf(props, 'ManagedPolicyName', ctx, 128);
      const physicalId = id ?? `arn:aws:iam::${ctx.accountId}:policy${str(props.Path) ?? '/'}${name}`;
      return {
        physicalId,
        attributes: {
          PolicyArn: physicalId,
          PolicyId: iamId('ANPA', physicalId),
          AttachmentCount: 0,
          DefaultVersionId: 'v1',
          IsAttachable: true,
        },
      };
    },
    ['ManagedPolicyName', 'Path'],
  ),
  'AWS::CloudFormation::WaitConditionHandle': recorded((_props, ctx, id) => ({
    physicalId:
      id ??
      `https://cloudformation-waitcondition-${ctx.region}.s3.amazonaws.com/${encodeURIComponent(ctx.stackId)}/${ctx.logicalId}`,
    attributes: {},
  })),
  // Custom domain names' companions: DNS and certificates have no service in Nimbus.
  'AWS::CertificateManager::Certificate': recorded(
    (_props, ctx, id) => ({
      physicalId:
        id ??
        `arn:aws:acm:${ctx.region}:${ctx.accountId}:certificate/${uuidFrom(`${ctx.stackId}/${ctx.logicalId}`)}`,
      attributes: {},
    }),
    ['DomainName', 'SubjectAlternativeNames', 'ValidationMethod', 'KeyAlgorithm'],
  ),
  'AWS::Route53::HostedZone': recorded(
    (props, ctx, id) => {
      const zoneId = id ?? `Z${iamId('', `${ctx.stackId}/${ctx.logicalId}`)}`;
      return {
        physicalId: zoneId,
        attributes: {
          Id: zoneId,
          NameServers: [
            'ns-1.awsdns-00.com',
            'ns-2.awsdns-00.net',
            'ns-3.awsdns-00.org',
            'ns-4.awsdns-00.co.uk',
          ],
        },
      };
    },
    ['Name'],
  ),
  'AWS::Route53::RecordSet': recorded(
    (props, _ctx, id) => ({ physicalId: id ?? String(props.Name ?? ''), attributes: {} }),
    ['Name', 'Type', 'HostedZoneId', 'HostedZoneName'],
  ),
  'AWS::Route53::RecordSetGroup': recorded((_props, ctx, id) => ({
    physicalId: id ?? ctx.physicalName(),
    attributes: {},
  })),
  'AWS::CDK::Metadata': recorded((_props, ctx, id) => ({
    physicalId: id ?? ctx.physicalName(),
    attributes: {},
  })),
};
