/**
 * The apigatewayv2 tagging API (`/v2/tags/{ResourceArn}`: GetTags, TagResource, UntagResource),
 * as Terraform's `aws_apigatewayv2_*` resources and `aws apigatewayv2 tag-resource` use it, for
 * HTTP and WebSocket APIs (`arn:aws:apigateway:{region}::/apis/{id}`), their stages
 * (`.../apis/{id}/stages/{name}`), custom domain names (`arn:aws:apigateway:{region}::/domainnames/{name}`)
 * and VPC links (`arn:aws:apigateway:{region}::/vpclinks/{id}`).
 */
import type { RequestContext, RestRoute } from '../server/service.js';
import type { DomainEngine } from './domains.js';
import type { GatewayEngine } from './engine.js';
import type { VpcLinks } from './vpc-links.js';
import { errors, type Scope } from './model.js';

const MAX_TAGS = 50;

export function tagRoutesV2(engine: GatewayEngine, domains: DomainEngine, vpcLinks: VpcLinks): RestRoute[] {
  /** Runs fn on the tags of the resource the ARN names. */
  const withTags = <T>(
    ctx: RequestContext,
    arn: string,
    fn: (tags: Record<string, string>) => T,
    write: boolean,
  ): Promise<T> => {
    const m =
      /^arn:aws[a-z-]*:apigateway:([^:]*)::\/(apis|domainnames|vpclinks)\/([^/]+)(?:\/stages\/([^/]+))?$/.exec(
        arn,
      );
    if (!m || (m[4] !== undefined && m[2] !== 'apis'))
      throw errors.badRequest(`Invalid ARN specified: ${arn}`);
    const [, region, kind, id, stage] = m;
    const scope: Scope = { accountId: ctx.accountId, region: region || ctx.region };
    if (kind === 'vpclinks') return vpcLinks.withTagsV2(scope, id, fn, write);
    return kind === 'apis'
      ? engine.withTags(scope, id, stage, fn, write)
      : domains.withTags(scope, decodeURIComponent(id), fn, write);
  };
  return [
    {
      method: 'GET',
      path: '/v2/tags/{ResourceArn}',
      operation: 'GetTags',
      handler: async (ctx, req) => ({
        body: { tags: await withTags(ctx, req.pathParams.ResourceArn, (t) => ({ ...t }), false) },
      }),
    },
    {
      method: 'POST',
      path: '/v2/tags/{ResourceArn}',
      operation: 'TagResource',
      handler: async (ctx, req) => {
        const input = req.json();
        const add = input.tags;
        if (add === null || typeof add !== 'object' || Array.isArray(add))
          throw errors.badRequest('Tags must be a map of string keys to string values');
        for (const [k, v] of Object.entries(add)) {
          if (typeof v !== 'string' || !k || k.length > 128 || v.length > 256 || k.startsWith('aws:'))
            throw errors.badRequest(`Invalid tag: ${k}`);
        }
        await withTags(
          ctx,
          req.pathParams.ResourceArn,
          (tags) => {
            const next = { ...tags, ...(add as Record<string, string>) };
            if (Object.keys(next).length > MAX_TAGS)
              throw errors.badRequest(`A resource can have at most ${MAX_TAGS} tags`);
            Object.assign(tags, add);
          },
          true,
        );
        return { status: 201, body: {} };
      },
    },
    {
      method: 'DELETE',
      path: '/v2/tags/{ResourceArn}',
      operation: 'UntagResource',
      handler: async (ctx, req) => {
        const keys = req.query.getAll('tagKeys');
        if (!keys.length) throw errors.badRequest('TagKeys is required');
        await withTags(
          ctx,
          req.pathParams.ResourceArn,
          (tags) => {
            for (const k of keys) delete tags[k];
          },
          true,
        );
        return { status: 204 };
      },
    },
  ];
}
