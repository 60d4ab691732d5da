/**
 * AWS::S3::Bucket through the S3 API: the bucket (BucketName or a generated lower-case name)
 * and its NotificationConfiguration (LambdaConfigurations, QueueConfigurations,
 * TopicConfigurations, EventBridgeConfiguration), applied on create and changed in place.
 */
import {
  S3Client,
  CreateBucketCommand,
  DeleteBucketCommand,
  PutBucketNotificationConfigurationCommand,
  type FilterRule,
  type NotificationConfiguration,
} from '@aws-sdk/client-s3';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { ignoreMissing, list, same, str, type Props } from './util.js';

const s3 = (ctx: ResourceContext) => new S3Client({ ...ctx.clientConfig, forcePathStyle: true });

function filterOf(v: unknown): { Key: { FilterRules: FilterRule[] } } | undefined {
  const f = v as { S3Key?: { Rules?: unknown } } | undefined;
  const rules = list<{ Name?: unknown; Value?: unknown }>(f?.S3Key?.Rules);
  if (!rules.length) return undefined;
  return {
    Key: {
      FilterRules: rules.map((r) => ({
        Name: String(r.Name) as FilterRule['Name'],
        Value: String(r.Value ?? ''),
      })),
    },
  };
}

/** CloudFormation's NotificationConfiguration as the S3 API's. */
export function notificationInput(v: unknown): NotificationConfiguration {
  const n = (v ?? {}) as Props;
  const out: NotificationConfiguration = {};
  const lambdas = list<Props>(n.LambdaConfigurations);
  const queues = list<Props>(n.QueueConfigurations);
  const topics = list<Props>(n.TopicConfigurations);
  if (lambdas.length)
    out.LambdaFunctionConfigurations = lambdas.map((c) => ({
      LambdaFunctionArn: str(c.Function),
      Events: [String(c.Event)] as never,
      Filter: filterOf(c.Filter) as never,
    }));
  if (queues.length)
    out.QueueConfigurations = queues.map((c) => ({
      QueueArn: str(c.Queue),
      Events: [String(c.Event)] as never,
      Filter: filterOf(c.Filter) as never,
    }));
  if (topics.length)
    out.TopicConfigurations = topics.map((c) => ({
      TopicArn: str(c.Topic),
      Events: [String(c.Event)] as never,
      Filter: filterOf(c.Filter) as never,
    }));
  const eb = n.EventBridgeConfiguration as Props | undefined;
  if (eb && String(eb.EventBridgeEnabled ?? 'true') === 'true') out.EventBridgeConfiguration = {};
  return out;
}

function bucketName(props: Props, ctx: ResourceContext): string {
  if (props.BucketName) return String(props.BucketName);
  // CloudFormation's generated bucket names are lower case (S3's naming rules).
  return ctx
    .physicalName(63)
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-');
}

function result(name: string, region: string) {
  return {
    physicalId: name,
    attributes: {
      Arn: `arn:aws:s3:::${name}`,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
      DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
      WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
    },
  };
}

async function putNotifications(ctx: ResourceContext, bucket: string, v: unknown): Promise<void> {
  await s3(ctx).send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: notificationInput(v),
    }),
  );
}

export const s3Bucket: ResourceProvider = {
  replaceOn: ['BucketName'],
  async create(props, ctx) {
    const name = bucketName(props, ctx);
    await s3(ctx).send(new CreateBucketCommand({ Bucket: name }));
    if (props.NotificationConfiguration !== undefined) {
      try {
        await putNotifications(ctx, name, props.NotificationConfiguration);
      } catch (e) {
        await ignoreMissing(() => s3(ctx).send(new DeleteBucketCommand({ Bucket: name })));
        throw e;
      }
    }
    return result(name, ctx.region);
  },
  async update(physicalId, props, previous, ctx) {
    if (!same(props.NotificationConfiguration, previous.props.NotificationConfiguration))
      await putNotifications(ctx, physicalId, props.NotificationConfiguration);
    return result(physicalId, ctx.region);
  },
  async delete(physicalId, _props, ctx) {
    // As in CloudFormation, a bucket that still holds objects fails to delete (BucketNotEmpty).
    await ignoreMissing(() => s3(ctx).send(new DeleteBucketCommand({ Bucket: physicalId })));
  },
};
