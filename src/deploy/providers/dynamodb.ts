/**
 * AWS::DynamoDB::Table through the DynamoDB API: CreateTable (with its resource policy,
 * on-demand and warm throughput), then UpdateTable one change at a time (GSIs, billing,
 * throughput, streams), UpdateTimeToLive, UpdateContinuousBackups (point-in-time recovery),
 * UpdateContributorInsights (table and GSIs), Put/DeleteResourcePolicy (table and stream) and
 * tags, as CloudFormation does.
 */
import {
  DynamoDBClient,
  CreateTableCommand,
  DeleteResourcePolicyCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  PutResourcePolicyCommand,
  UpdateContinuousBackupsCommand,
  UpdateContributorInsightsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { ResourceContext, ResourceProvider } from '../types.js';
import {
  bool,
  changed,
  clean,
  ignoreMissing,
  json,
  list,
  nameOf,
  num,
  same,
  sleep,
  str,
  tagDiff,
  tagList,
  type Props,
} from './util.js';

const client = (ctx: ResourceContext) => new DynamoDBClient(ctx.clientConfig);

function throughput(v: unknown) {
  const t = v as Props | undefined;
  return t
    ? { ReadCapacityUnits: num(t.ReadCapacityUnits), WriteCapacityUnits: num(t.WriteCapacityUnits) }
    : undefined;
}

function projection(v: unknown) {
  const p = (v ?? {}) as Props;
  return clean({
    ProjectionType: str(p.ProjectionType) as any,
    NonKeyAttributes: p.NonKeyAttributes as string[] | undefined,
  });
}

/** OnDemandThroughput (on-demand tables only); undefined when it sets nothing. */
function onDemand(v: unknown, billing: string) {
  const t = v as Props | undefined;
  if (!t || billing !== 'PAY_PER_REQUEST') return undefined;
  const out = clean({
    MaxReadRequestUnits: num(t.MaxReadRequestUnits),
    MaxWriteRequestUnits: num(t.MaxWriteRequestUnits),
  });
  return Object.keys(out).length ? out : undefined;
}

/** The UpdateTable OnDemandThroughput from `prev` to `next`: -1 removes a member. */
function onDemandChange(prev: unknown, next: unknown, billing: string) {
  const was = onDemand(prev, 'PAY_PER_REQUEST') ?? {};
  const now: Record<string, number> = { ...onDemand(next, billing) };
  for (const k of Object.keys(was)) now[k] ??= -1;
  return Object.keys(now).length ? now : undefined;
}

function warm(v: unknown) {
  const t = v as Props | undefined;
  if (!t) return undefined;
  const out = clean({
    ReadUnitsPerSecond: num(t.ReadUnitsPerSecond),
    WriteUnitsPerSecond: num(t.WriteUnitsPerSecond),
  });
  return Object.keys(out).length ? out : undefined;
}

function gsi(g: Props, billing: string) {
  return clean({
    IndexName: String(g.IndexName),
    KeySchema: g.KeySchema as any,
    Projection: projection(g.Projection),
    ProvisionedThroughput: billing === 'PAY_PER_REQUEST' ? undefined : throughput(g.ProvisionedThroughput),
    OnDemandThroughput: onDemand(g.OnDemandThroughput, billing),
    WarmThroughput: warm(g.WarmThroughput),
  });
}

/** `ResourcePolicy: {PolicyDocument}` (an object or a JSON string) as the API's string. */
const policyOf = (v: unknown) => json((v as Props | undefined)?.PolicyDocument);

/** Attaches `policy` to a table or stream ARN, or removes the one there when undefined. */
async function resourcePolicy(c: DynamoDBClient, arn: string, policy: string | undefined) {
  if (policy !== undefined) await c.send(new PutResourcePolicyCommand({ ResourceArn: arn, Policy: policy }));
  else await ignoreMissing(() => c.send(new DeleteResourcePolicyCommand({ ResourceArn: arn })));
}

const insightsOn = (spec: unknown) => bool((spec as Props | undefined)?.Enabled) ?? false;

/** ContributorInsightsSpecification -> UpdateContributorInsights (only when enabling or turning off). */
async function insights(c: DynamoDBClient, name: string, spec: unknown, wasEnabled: boolean, index?: string) {
  const enabled = insightsOn(spec);
  if (!enabled && !wasEnabled) return;
  await c.send(
    new UpdateContributorInsightsCommand({
      TableName: name,
      IndexName: index,
      ContributorInsightsAction: enabled ? 'ENABLE' : 'DISABLE',
      ContributorInsightsMode: enabled ? (str((spec as Props).Mode) as any) : undefined,
    }),
  );
}

/** The stream's `StreamSpecification.ResourcePolicy`, as the API's string. */
const streamPolicyOf = (props: Props) =>
  policyOf((props.StreamSpecification as Props | undefined)?.ResourcePolicy);

const billingOf = (props: Props) => str(props.BillingMode) ?? 'PROVISIONED';

function streamSpec(props: Props) {
  const s = props.StreamSpecification as Props | undefined;
  return s?.StreamViewType
    ? { StreamEnabled: true, StreamViewType: String(s.StreamViewType) as any }
    : undefined;
}

async function waitActive(c: DynamoDBClient, name: string): Promise<TableDescription> {
  for (let i = 0; ; i++) {
    const t = (await c.send(new DescribeTableCommand({ TableName: name }))).Table!;
    const busy =
      t.TableStatus !== 'ACTIVE' || (t.GlobalSecondaryIndexes ?? []).some((g) => g.IndexStatus !== 'ACTIVE');
    if (!busy || i > 1200) return t;
    await sleep(100);
  }
}

const result = (t: TableDescription) => ({
  physicalId: t.TableName!,
  attributes: clean({ Arn: t.TableArn, StreamArn: t.LatestStreamArn }),
});

async function ttl(c: DynamoDBClient, name: string, spec: unknown) {
  const s = spec as Props | undefined;
  if (!s) return;
  await c.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { Enabled: bool(s.Enabled) ?? false, AttributeName: String(s.AttributeName) },
    }),
  );
}

/** PointInTimeRecoverySpecification -> UpdateContinuousBackups (only when enabling or turning off). */
async function pitr(c: DynamoDBClient, name: string, spec: unknown, wasEnabled: boolean) {
  const s = spec as Props | undefined;
  const enabled = bool(s?.PointInTimeRecoveryEnabled) ?? false;
  if (!enabled && !wasEnabled) return;
  const days = enabled ? num(s?.RecoveryPeriodInDays) : undefined;
  await c.send(
    new UpdateContinuousBackupsCommand({
      TableName: name,
      PointInTimeRecoverySpecification: {
        PointInTimeRecoveryEnabled: enabled,
        ...(days ? { RecoveryPeriodInDays: days } : {}),
      },
    }),
  );
}

const pitrEnabled = (props: Props) =>
  bool((props.PointInTimeRecoverySpecification as Props | undefined)?.PointInTimeRecoveryEnabled) ?? false;

export const dynamodbTable: ResourceProvider = {
  replaceOn: ['TableName', 'KeySchema', 'LocalSecondaryIndexes', 'ImportSourceSpecification'],
  async create(props, ctx) {
    const c = client(ctx);
    const name = nameOf(props, 'TableName', ctx, 255);
    const billing = billingOf(props);
    const gsis = list<Props>(props.GlobalSecondaryIndexes).map((g) => gsi(g, billing));
    const lsis = list<Props>(props.LocalSecondaryIndexes).map((l) => ({
      IndexName: String(l.IndexName),
      KeySchema: l.KeySchema as any,
      Projection: projection(l.Projection),
    }));
    const tags = tagList(props.Tags);
    await c.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: props.AttributeDefinitions as any,
        KeySchema: props.KeySchema as any,
        BillingMode: billing as any,
        ProvisionedThroughput:
          billing === 'PAY_PER_REQUEST' ? undefined : throughput(props.ProvisionedThroughput),
        GlobalSecondaryIndexes: gsis.length ? gsis : undefined,
        LocalSecondaryIndexes: lsis.length ? lsis : undefined,
        StreamSpecification: streamSpec(props),
        TableClass: str(props.TableClass) as any,
        DeletionProtectionEnabled: bool(props.DeletionProtectionEnabled),
        Tags: tags.length ? tags : undefined,
        ResourcePolicy: policyOf(props.ResourcePolicy),
        OnDemandThroughput: onDemand(props.OnDemandThroughput, billing),
        WarmThroughput: warm(props.WarmThroughput),
      }),
    );
    const t = await waitActive(c, name);
    await ttl(c, name, props.TimeToLiveSpecification);
    await pitr(c, name, props.PointInTimeRecoverySpecification, false);
    await insights(c, name, props.ContributorInsightsSpecification, false);
    for (const g of list<Props>(props.GlobalSecondaryIndexes))
      await insights(c, name, g.ContributorInsightsSpecification, false, String(g.IndexName));
    const streamPolicy = streamPolicyOf(props);
    if (streamPolicy !== undefined && t.LatestStreamArn)
      await resourcePolicy(c, t.LatestStreamArn, streamPolicy);
    return result(await waitActive(c, name));
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    const diff = changed(previous.props, props);
    const billing = billingOf(props);
    const defs = props.AttributeDefinitions as any;
    if (diff.has('BillingMode') || diff.has('ProvisionedThroughput')) {
      await c.send(
        new UpdateTableCommand({
          TableName: physicalId,
          BillingMode: billing as any,
          ProvisionedThroughput:
            billing === 'PAY_PER_REQUEST' ? undefined : throughput(props.ProvisionedThroughput),
        }),
      );
      await waitActive(c, physicalId);
    }
    if (diff.has('OnDemandThroughput') || diff.has('WarmThroughput')) {
      const onDemandUpdate = diff.has('OnDemandThroughput')
        ? onDemandChange(previous.props.OnDemandThroughput, props.OnDemandThroughput, billing)
        : undefined;
      // Warm throughput cannot decrease: a removed WarmThroughput leaves the table's as it is.
      const warmUpdate = diff.has('WarmThroughput') ? warm(props.WarmThroughput) : undefined;
      if (onDemandUpdate || warmUpdate) {
        await c.send(
          new UpdateTableCommand({
            TableName: physicalId,
            OnDemandThroughput: onDemandUpdate,
            WarmThroughput: warmUpdate,
          }),
        );
        await waitActive(c, physicalId);
      }
    }
    if (diff.has('GlobalSecondaryIndexes')) {
      const before = new Map(
        list<Props>(previous.props.GlobalSecondaryIndexes).map((g) => [String(g.IndexName), g]),
      );
      const after = new Map(list<Props>(props.GlobalSecondaryIndexes).map((g) => [String(g.IndexName), g]));
      for (const [n, g] of before) {
        const next = after.get(n);
        // A changed key schema or projection means drop and re-create the index.
        if (!next || !same(next.KeySchema, g.KeySchema) || !same(next.Projection, g.Projection)) {
          await c.send(
            new UpdateTableCommand({
              TableName: physicalId,
              GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: n } }],
            }),
          );
          await waitActive(c, physicalId);
          before.delete(n);
        }
      }
      for (const [n, g] of after) {
        const old = before.get(n);
        if (!old) {
          await c.send(
            new UpdateTableCommand({
              TableName: physicalId,
              AttributeDefinitions: defs,
              GlobalSecondaryIndexUpdates: [{ Create: gsi(g, billing) as any }],
            }),
          );
          await waitActive(c, physicalId);
          await insights(c, physicalId, g.ContributorInsightsSpecification, false, n);
          continue;
        }
        const update = clean({
          ProvisionedThroughput:
            billing !== 'PAY_PER_REQUEST' && !same(old.ProvisionedThroughput, g.ProvisionedThroughput)
              ? throughput(g.ProvisionedThroughput)
              : undefined,
          OnDemandThroughput: !same(old.OnDemandThroughput, g.OnDemandThroughput)
            ? onDemandChange(old.OnDemandThroughput, g.OnDemandThroughput, billing)
            : undefined,
          WarmThroughput: !same(old.WarmThroughput, g.WarmThroughput) ? warm(g.WarmThroughput) : undefined,
        });
        if (Object.keys(update).length) {
          await c.send(
            new UpdateTableCommand({
              TableName: physicalId,
              GlobalSecondaryIndexUpdates: [{ Update: { IndexName: n, ...update } as any }],
            }),
          );
          await waitActive(c, physicalId);
        }
        if (
          insightsOn(old.ContributorInsightsSpecification) !== insightsOn(g.ContributorInsightsSpecification)
        )
          await insights(
            c,
            physicalId,
            g.ContributorInsightsSpecification,
            insightsOn(old.ContributorInsightsSpecification),
            n,
          );
      }
    }
    if (!same(streamSpec(previous.props), streamSpec(props))) {
      if (streamSpec(previous.props)) {
        await c.send(
          new UpdateTableCommand({ TableName: physicalId, StreamSpecification: { StreamEnabled: false } }),
        );
        await waitActive(c, physicalId);
      }
      const spec = streamSpec(props);
      if (spec) await c.send(new UpdateTableCommand({ TableName: physicalId, StreamSpecification: spec }));
      await waitActive(c, physicalId);
    }
    if (diff.has('DeletionProtectionEnabled') || diff.has('TableClass')) {
      await c.send(
        new UpdateTableCommand({
          TableName: physicalId,
          DeletionProtectionEnabled: bool(props.DeletionProtectionEnabled) ?? false,
          TableClass: str(props.TableClass) as any,
        }),
      );
    }
    if (diff.has('TimeToLiveSpecification')) {
      const next = props.TimeToLiveSpecification as Props | undefined;
      const prev = previous.props.TimeToLiveSpecification as Props | undefined;
      await ttl(c, physicalId, next ?? (prev ? { ...prev, Enabled: false } : undefined));
    }
    if (diff.has('PointInTimeRecoverySpecification'))
      await pitr(c, physicalId, props.PointInTimeRecoverySpecification, pitrEnabled(previous.props));
    if (diff.has('ContributorInsightsSpecification'))
      await insights(
        c,
        physicalId,
        props.ContributorInsightsSpecification,
        insightsOn(previous.props.ContributorInsightsSpecification),
      );
    const t = await waitActive(c, physicalId);
    if (diff.has('ResourcePolicy')) await resourcePolicy(c, t.TableArn!, policyOf(props.ResourcePolicy));
    const streamPolicy = streamPolicyOf(props);
    if (t.LatestStreamArn && (streamPolicy !== undefined || streamPolicyOf(previous.props) !== undefined))
      if (
        streamPolicy !== streamPolicyOf(previous.props) ||
        !same(streamSpec(previous.props), streamSpec(props))
      )
        await resourcePolicy(c, t.LatestStreamArn, streamPolicy);
    if (diff.has('Tags')) {
      const { set, remove } = tagDiff(previous.props.Tags, props.Tags);
      if (remove.length) await c.send(new UntagResourceCommand({ ResourceArn: t.TableArn, TagKeys: remove }));
      const add = Object.entries(set).map(([Key, Value]) => ({ Key, Value }));
      if (add.length) await c.send(new TagResourceCommand({ ResourceArn: t.TableArn, Tags: add }));
    }
    return result(t);
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteTableCommand({ TableName: physicalId })));
  },
};

/**
 * AWS::DynamoDB::GlobalTable: the table in the stack's region (its replica entry must be
 * there, as CloudFormation requires) with the replica's own settings (PITR, tags, deletion
 * protection, table class, resource policies, contributor insights, read on-demand throughput)
 * and the table's warm and write on-demand throughput, then one UpdateTable `ReplicaUpdates`
 * Create per other region with that replica's settings applied in its region; an update adds
 * and removes replicas and applies the changed settings of the others; a delete removes the
 * other replicas, then the table.
 */
function replicaOf(props: Props, region: string): Props | undefined {
  return list<Props>(props.Replicas).find((r) => r.Region === region);
}

/** The AWS::DynamoDB::Table properties of a global table's replica in `region`. */
function tablePropsOf(props: Props, region: string): Props {
  const replica = replicaOf(props, region) ?? {};
  const billing = billingOf(props);
  const write = (props.WriteProvisionedThroughputSettings as Props | undefined) ?? {};
  const read = (replica.ReadProvisionedThroughputSettings as Props | undefined) ?? {};
  const provisioned =
    billing === 'PAY_PER_REQUEST'
      ? undefined
      : {
          ReadCapacityUnits: num(read.ReadCapacityUnits) ?? 5,
          WriteCapacityUnits:
            num((write.WriteCapacityAutoScalingSettings as Props | undefined)?.MinCapacity) ?? 5,
        };
  const replicaIndex = (name: unknown) =>
    list<Props>(replica.GlobalSecondaryIndexes).find((r) => r.IndexName === name) ?? {};
  const onDemandOf = (write: unknown, read: unknown) =>
    clean({
      MaxWriteRequestUnits: (write as Props | undefined)?.MaxWriteRequestUnits,
      MaxReadRequestUnits: (read as Props | undefined)?.MaxReadRequestUnits,
    });
  const streamPolicy = (replica.ReplicaStreamSpecification as Props | undefined)?.ResourcePolicy;
  return clean({
    TableName: props.TableName,
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    BillingMode: billing,
    ProvisionedThroughput: provisioned,
    OnDemandThroughput: onDemandOf(
      props.WriteOnDemandThroughputSettings,
      replica.ReadOnDemandThroughputSettings,
    ),
    WarmThroughput: props.WarmThroughput,
    GlobalSecondaryIndexes: list<Props>(props.GlobalSecondaryIndexes).map((g) =>
      clean({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
        ProvisionedThroughput: provisioned,
        OnDemandThroughput: onDemandOf(
          g.WriteOnDemandThroughputSettings,
          replicaIndex(g.IndexName).ReadOnDemandThroughputSettings,
        ),
        WarmThroughput: g.WarmThroughput,
        ContributorInsightsSpecification: replicaIndex(g.IndexName).ContributorInsightsSpecification,
      }),
    ),
    LocalSecondaryIndexes: props.LocalSecondaryIndexes,
    StreamSpecification:
      props.StreamSpecification && streamPolicy
        ? { ...(props.StreamSpecification as Props), ResourcePolicy: streamPolicy }
        : props.StreamSpecification,
    TimeToLiveSpecification: props.TimeToLiveSpecification,
    PointInTimeRecoverySpecification: replica.PointInTimeRecoverySpecification,
    ContributorInsightsSpecification: replica.ContributorInsightsSpecification,
    ResourcePolicy: replica.ResourcePolicy,
    DeletionProtectionEnabled: replica.DeletionProtectionEnabled,
    TableClass: replica.TableClass,
    Tags: replica.Tags,
  }) as Props;
}

const regionClient = (ctx: ResourceContext, region: string) =>
  new DynamoDBClient({ ...ctx.clientConfig, region });

/**
 * A replica's own settings in its region (its table was made by ReplicaUpdates): all of them
 * for a new replica, the changed ones when `prev` (the replica's previous properties) is given.
 */
async function replicaSettings(ctx: ResourceContext, name: string, replica: Props, prev?: Props) {
  const c = regionClient(ctx, String(replica.Region));
  const was: Props = prev ?? {};
  const changes = changed(was, replica);
  if (changes.has('PointInTimeRecoverySpecification'))
    await pitr(
      c,
      name,
      replica.PointInTimeRecoverySpecification,
      bool((was.PointInTimeRecoverySpecification as Props | undefined)?.PointInTimeRecoveryEnabled) ?? false,
    );
  if (changes.has('DeletionProtectionEnabled') && replica.DeletionProtectionEnabled !== undefined)
    await c.send(
      new UpdateTableCommand({
        TableName: name,
        DeletionProtectionEnabled: bool(replica.DeletionProtectionEnabled),
      }),
    );
  if (changes.has('ContributorInsightsSpecification'))
    await insights(
      c,
      name,
      replica.ContributorInsightsSpecification,
      insightsOn(was.ContributorInsightsSpecification),
    );
  const before = new Map(list<Props>(was.GlobalSecondaryIndexes).map((g) => [String(g.IndexName), g]));
  for (const g of list<Props>(replica.GlobalSecondaryIndexes)) {
    const old = before.get(String(g.IndexName))?.ContributorInsightsSpecification;
    if (insightsOn(old) !== insightsOn(g.ContributorInsightsSpecification))
      await insights(c, name, g.ContributorInsightsSpecification, insightsOn(old), String(g.IndexName));
  }
  const t = (await c.send(new DescribeTableCommand({ TableName: name }))).Table!;
  if (changes.has('ResourcePolicy')) await resourcePolicy(c, t.TableArn!, policyOf(replica.ResourcePolicy));
  const streamPolicy = (r: Props) =>
    policyOf((r.ReplicaStreamSpecification as Props | undefined)?.ResourcePolicy);
  if (t.LatestStreamArn && streamPolicy(replica) !== streamPolicy(was))
    await resourcePolicy(c, t.LatestStreamArn, streamPolicy(replica));
  if (changes.has('Tags')) {
    const { set, remove } = tagDiff(was.Tags, replica.Tags);
    if (remove.length) await c.send(new UntagResourceCommand({ ResourceArn: t.TableArn, TagKeys: remove }));
    const add = Object.entries(set).map(([Key, Value]) => ({ Key, Value }));
    if (add.length) await c.send(new TagResourceCommand({ ResourceArn: t.TableArn, Tags: add }));
  }
}

async function globalResult(c: DynamoDBClient, name: string) {
  const t = await waitActive(c, name);
  return {
    physicalId: name,
    attributes: clean({ Arn: t.TableArn, StreamArn: t.LatestStreamArn, TableId: t.TableId }),
  };
}

export const dynamodbGlobalTable: ResourceProvider = {
  replaceOn: ['TableName', 'KeySchema', 'LocalSecondaryIndexes'],
  async create(props, ctx) {
    if (!replicaOf(props, ctx.region))
      throw new Error(`Replicas must include the stack's region ${ctx.region}`);
    const name = nameOf(props, 'TableName', ctx, 255);
    const table = { ...tablePropsOf(props, ctx.region), TableName: name };
    await dynamodbTable.create(table, ctx);
    const c = client(ctx);
    for (const replica of list<Props>(props.Replicas)) {
      if (replica.Region === ctx.region) continue;
      await c.send(
        new UpdateTableCommand({
          TableName: name,
          ReplicaUpdates: [{ Create: { RegionName: String(replica.Region) } }],
        }),
      );
      await waitActive(c, name);
      await replicaSettings(ctx, name, replica);
    }
    return globalResult(c, name);
  },
  async update(physicalId, props, previous, ctx) {
    if (!replicaOf(props, ctx.region))
      throw new Error(`Replicas must include the stack's region ${ctx.region}`);
    const c = client(ctx);
    await dynamodbTable.update(
      physicalId,
      { ...tablePropsOf(props, ctx.region), TableName: physicalId },
      { ...previous, props: { ...tablePropsOf(previous.props, ctx.region), TableName: physicalId } },
      ctx,
    );
    const before = new Set(list<Props>(previous.props.Replicas).map((r) => String(r.Region)));
    const after = list<Props>(props.Replicas).filter((r) => r.Region !== ctx.region);
    for (const replica of after) {
      const prev = replicaOf(previous.props, String(replica.Region));
      if (prev && !same(prev, replica)) await replicaSettings(ctx, physicalId, replica, prev);
    }
    for (const region of before)
      if (region !== ctx.region && !after.some((r) => r.Region === region)) {
        await c.send(
          new UpdateTableCommand({
            TableName: physicalId,
            ReplicaUpdates: [{ Delete: { RegionName: region } }],
          }),
        );
        await waitActive(c, physicalId);
      }
    for (const replica of after)
      if (!before.has(String(replica.Region))) {
        await c.send(
          new UpdateTableCommand({
            TableName: physicalId,
            ReplicaUpdates: [{ Create: { RegionName: String(replica.Region) } }],
          }),
        );
        await waitActive(c, physicalId);
        await replicaSettings(ctx, physicalId, replica);
      }
    return globalResult(c, physicalId);
  },
  async delete(physicalId, props, ctx) {
    const c = client(ctx);
    for (const replica of list<Props>(props.Replicas)) {
      if (replica.Region === ctx.region) continue;
      // A replica already gone (or a table already deleted) is what this delete wants.
      await c
        .send(
          new UpdateTableCommand({
            TableName: physicalId,
            ReplicaUpdates: [{ Delete: { RegionName: String(replica.Region) } }],
          }),
        )
        .catch(() => undefined);
    }
    await ignoreMissing(() => c.send(new DeleteTableCommand({ TableName: physicalId })));
  },
};
