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
