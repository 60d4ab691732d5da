/**
 * AWS::ApiGateway::VpcLink (REST APIs' links to network load balancers) and
 * AWS::ApiGatewayV2::VpcLink (HTTP APIs' V2 links), through their management APIs. `Ref` is the
 * link's id; `GetAtt VpcLinkId` too. Names (and the v1 Description) change in place; targets,
 * subnets and security groups replace the link, as on AWS; tags are re-tagged in place.
 */
import {
  APIGatewayClient,
  CreateVpcLinkCommand,
  DeleteVpcLinkCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateVpcLinkCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  CreateVpcLinkCommand as CreateV2VpcLinkCommand,
  DeleteVpcLinkCommand as DeleteV2VpcLinkCommand,
  TagResourceCommand as TagV2ResourceCommand,
  UntagResourceCommand as UntagV2ResourceCommand,
  UpdateVpcLinkCommand as UpdateV2VpcLinkCommand,
} from '@aws-sdk/client-apigatewayv2';
import type { ResourceContext, ResourceProvider } from '../types.js';
import { ignoreMissing, list, str, tagDiff, tagMap, type Props } from './util.js';

/** Tags as CloudFormation gives them: a list of `{Key, Value}` (v1) or a map (v2). */
function tagsOf(v: unknown): Record<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v))
    return Object.fromEntries(Object.entries(v as Props).map(([k, x]) => [k, String(x)]));
  return tagMap(v);
}

function tagChanges(before: unknown, now: unknown) {
  const toList = (t: Record<string, string>) => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));
  return tagDiff(toList(tagsOf(before)), toList(tagsOf(now)));
}

const strings = (v: unknown) => list<unknown>(v).map(String);

export const restVpcLink: ResourceProvider = {
  replaceOn: ['TargetArns'],
  async create(props, ctx) {
    const tags = tagsOf(props.Tags);
    const out = await new APIGatewayClient(ctx.clientConfig).send(
      new CreateVpcLinkCommand({
        name: str(props.Name) ?? ctx.physicalName(128),
        description: str(props.Description),
        targetArns: strings(props.TargetArns),
        tags: Object.keys(tags).length ? tags : undefined,
      }),
    );
    return { physicalId: out.id!, attributes: { VpcLinkId: out.id } };
  },
  async update(physicalId, props, previous, ctx: ResourceContext) {
    const c = new APIGatewayClient(ctx.clientConfig);
    const ops: { op: 'replace'; path: string; value: string }[] = [];
    if (str(props.Name) !== str(previous.props.Name))
      ops.push({ op: 'replace', path: '/name', value: str(props.Name) ?? ctx.physicalName(128) });
    if (str(props.Description) !== str(previous.props.Description))
      ops.push({ op: 'replace', path: '/description', value: str(props.Description) ?? '' });
    if (ops.length) await c.send(new UpdateVpcLinkCommand({ vpcLinkId: physicalId, patchOperations: ops }));
    const arn = `arn:aws:apigateway:${ctx.region}::/vpclinks/${physicalId}`;
    const { set, remove } = tagChanges(previous.props.Tags, props.Tags);
    if (Object.keys(set).length) await c.send(new TagResourceCommand({ resourceArn: arn, tags: set }));
    if (remove.length) await c.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: remove }));
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() =>
      new APIGatewayClient(ctx.clientConfig).send(new DeleteVpcLinkCommand({ vpcLinkId: physicalId })),
    );
  },
};

export const apiGatewayV2VpcLink: ResourceProvider = {
  replaceOn: ['SubnetIds', 'SecurityGroupIds'],
  async create(props, ctx) {
    const tags = tagsOf(props.Tags);
    const out = await new ApiGatewayV2Client(ctx.clientConfig).send(
      new CreateV2VpcLinkCommand({
        Name: str(props.Name) ?? ctx.physicalName(128),
        SubnetIds: strings(props.SubnetIds),
        SecurityGroupIds: props.SecurityGroupIds === undefined ? undefined : strings(props.SecurityGroupIds),
        Tags: Object.keys(tags).length ? tags : undefined,
      }),
    );
    return { physicalId: out.VpcLinkId!, attributes: { VpcLinkId: out.VpcLinkId } };
  },
  async update(physicalId, props, previous, ctx) {
    const c = new ApiGatewayV2Client(ctx.clientConfig);
    if (str(props.Name) !== str(previous.props.Name))
      await c.send(
        new UpdateV2VpcLinkCommand({ VpcLinkId: physicalId, Name: str(props.Name) ?? ctx.physicalName(128) }),
      );
    const arn = `arn:aws:apigateway:${ctx.region}::/vpclinks/${physicalId}`;
    const { set, remove } = tagChanges(previous.props.Tags, props.Tags);
    if (Object.keys(set).length) await c.send(new TagV2ResourceCommand({ ResourceArn: arn, Tags: set }));
    if (remove.length) await c.send(new UntagV2ResourceCommand({ ResourceArn: arn, TagKeys: remove }));
    return { physicalId, attributes: previous.attributes };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() =>
      new ApiGatewayV2Client(ctx.clientConfig).send(new DeleteV2VpcLinkCommand({ VpcLinkId: physicalId })),
    );
  },
};
