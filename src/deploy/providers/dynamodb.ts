/**
 * AWS::DynamoDB::Table through the DynamoDB API: CreateTable, then UpdateTable one change at a
 * time (GSIs, billing, streams), UpdateTimeToLive, UpdateContinuousBackups (point-in-time
 * recovery) and tags, as CloudFormation does.
 */
import {
  DynamoDBClient,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
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

function gsi(g: Props, billing: string) {
  return clean({
    IndexName: String(g.IndexName),
    KeySchema: g.KeySchema as any,
    Projection: projection(g.Projection),
    ProvisionedThroughput: billing === 'PAY_PER_REQUEST' ? undefined : throughput(g.ProvisionedThroughput),
  });
}

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
      }),
    );
    await waitActive(c, name);
    await ttl(c, name, props.TimeToLiveSpecification);
    await pitr(c, name, props.PointInTimeRecoverySpecification, false);
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
        } else if (
          billing !== 'PAY_PER_REQUEST' &&
          !same(old.ProvisionedThroughput, g.ProvisionedThroughput)
        ) {
          await c.send(
            new UpdateTableCommand({
              TableName: physicalId,
              GlobalSecondaryIndexUpdates: [
                {
                  Update: { IndexName: n, ProvisionedThroughput: throughput(g.ProvisionedThroughput) as any },
                },
              ],
            }),
          );
          await waitActive(c, physicalId);
        }
      }
    }
    if (diff.has('StreamSpecification')) {
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
    const t = await waitActive(c, physicalId);
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
 * protection, table class), then one UpdateTable `ReplicaUpdates` Create per other region; an
 * update adds and removes replicas; a delete removes the other replicas, then the table.
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
  return clean({
    TableName: props.TableName,
    AttributeDefinitions: props.AttributeDefinitions,
    KeySchema: props.KeySchema,
    BillingMode: billing,
    ProvisionedThroughput: provisioned,
    GlobalSecondaryIndexes: list<Props>(props.GlobalSecondaryIndexes).map((g) =>
      clean({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
        ProvisionedThroughput: provisioned,
      }),
    ),
    LocalSecondaryIndexes: props.LocalSecondaryIndexes,
    StreamSpecification: props.StreamSpecification,
    TimeToLiveSpecification: props.TimeToLiveSpecification,
    PointInTimeRecoverySpecification: replica.PointInTimeRecoverySpecification,
    DeletionProtectionEnabled: replica.DeletionProtectionEnabled,
    TableClass: replica.TableClass,
    Tags: replica.Tags,
  }) as Props;
}

const regionClient = (ctx: ResourceContext, region: string) =>
  new DynamoDBClient({ ...ctx.clientConfig, region });

/** A replica's own settings in its region (its table was made by ReplicaUpdates). */
async function replicaSettings(ctx: ResourceContext, name: string, replica: Props): Promise<void> {
  const c = regionClient(ctx, String(replica.Region));
  await pitr(c, name, replica.PointInTimeRecoverySpecification, false);
  if (replica.DeletionProtectionEnabled !== undefined)
    await c.send(
      new UpdateTableCommand({
        TableName: name,
        DeletionProtectionEnabled: bool(replica.DeletionProtectionEnabled),
      }),
    );
  const tags = tagList(replica.Tags);
  if (tags.length) {
    const t = (await c.send(new DescribeTableCommand({ TableName: name }))).Table!;
    await c.send(new TagResourceCommand({ ResourceArn: t.TableArn, Tags: tags }));
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
