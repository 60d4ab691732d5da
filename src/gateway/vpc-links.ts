/**
 * VPC links of both management APIs, per account and region, kept in the Store:
 *
 * - apigatewayv2 (`/v2/vpclinks`): `VpcLinkVersion` V2 links (subnets and security groups) that
 *   HTTP API private integrations name in `ConnectionId`.
 * - apigateway v1 (`/vpclinks`): links to network load balancers (`targetArns`) that REST API
 *   private integrations name in `connectionId`.
 *
 * The two are separate namespaces, as on AWS. There is no VPC here: a link is AVAILABLE as soon
 * as it is created (AWS takes minutes through PENDING), and a private integration calls the local
 * target `nimbus up --private-target` maps its load balancer to (see ./private-targets.ts).
 */
import type { Clock } from '../core/clock.js';
import { shortId } from '../core/ids.js';
import type { Store } from '../storage/store.js';
import { page as pageV2 } from './engine.js';
import { COLLECTION_VPC_LINKS_V2, errors, type Scope } from './model.js';
import { page as pageV1 } from './rest/engine.js';
import { applyPatch } from './rest/patch.js';
import { COLLECTION_VPC_LINKS, scopedKey } from './rest/model.js';

type Input = Record<string, any>;

/** apigatewayv2's answer for an unknown link (not confirmed against AWS). */
export const VPC_LINK_NOT_FOUND = 'Invalid VPC link identifier specified';

export interface VpcLinkV2Record {
  vpcLinkId: string;
  name: string;
  subnetIds: string[];
  securityGroupIds: string[];
  tags: Record<string, string>;
  /** ISO 8601. */
  createdDate: string;
}

export interface VpcLinkV1Record {
  id: string;
  name: string;
  description?: string;
  targetArns: string[];
  tags: Record<string, string>;
  /** Epoch ms, for listing in creation order. */
  created: number;
}

/** An ELB load balancer ARN (VPC links v1 take network load balancers). */
const NLB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/net\/[^/]+\/[^/]+$/;

function stringList(v: unknown, name: string, required: boolean): string[] {
  if (v === undefined || v === null) {
    if (required) throw errors.badRequest(`${name} is required`);
    return [];
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x))
    throw errors.badRequest(`${name} must be a list of strings`);
  return [...(v as string[])];
}

function nameOf(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v) throw errors.badRequest(`${field} is required`);
  if (v.length > 128) throw errors.badRequest(`${field} must be at most 128 characters long`);
  return v;
}

function tagsOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw errors.badRequest('Invalid tags');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Input)) {
    if (typeof x !== 'string' || !k || k.length > 128 || x.length > 256 || k.startsWith('aws:'))
      throw errors.badRequest(`Invalid tag: ${k}`);
    out[k] = x;
  }
  if (Object.keys(out).length > 50) throw errors.badRequest('A resource can have at most 50 tags');
  return out;
}

function viewV2(r: VpcLinkV2Record): Input {
  return {
    vpcLinkId: r.vpcLinkId,
    name: r.name,
    subnetIds: r.subnetIds,
    securityGroupIds: r.securityGroupIds,
    tags: r.tags,
    createdDate: r.createdDate,
    vpcLinkStatus: 'AVAILABLE',
    vpcLinkStatusMessage: 'VPC link is ready to route traffic',
    vpcLinkVersion: 'V2',
  };
}

function viewV1(r: VpcLinkV1Record): Input {
  const out: Input = {
    id: r.id,
    name: r.name,
    targetArns: r.targetArns,
    status: 'AVAILABLE',
    statusMessage: 'Your vpc link is ready for use',
  };
  if (r.description !== undefined) out.description = r.description;
  if (Object.keys(r.tags).length) out.tags = r.tags;
  return out;
}

export class VpcLinks {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  // ------------------------------------------------------------------ apigatewayv2

  async createV2(scope: Scope, input: Input): Promise<Input> {
    const rec: VpcLinkV2Record = {
      vpcLinkId: shortId(6),
      name: nameOf(input.name, 'Name'),
      subnetIds: stringList(input.subnetIds, 'SubnetIds', true),
      securityGroupIds: stringList(input.securityGroupIds, 'SecurityGroupIds', false),
      tags: tagsOf(input.tags),
      createdDate: new Date(this.deps.clock.now()).toISOString(),
    };
    await this.deps.store.put(COLLECTION_VPC_LINKS_V2, scopedKey(scope, rec.vpcLinkId), rec);
    return viewV2(rec);
  }

  findV2(scope: Scope, id: string): Promise<VpcLinkV2Record | undefined> {
    return this.deps.store.get<VpcLinkV2Record>(COLLECTION_VPC_LINKS_V2, scopedKey(scope, id));
  }

  async getV2(scope: Scope, id: string): Promise<Input> {
    const rec = await this.findV2(scope, id);
    if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND, 'VpcLink');
    return viewV2(rec);
  }

  async listV2(scope: Scope, input: Input): Promise<{ items: Input[]; nextToken?: string }> {
    const rows = await this.deps.store.scan<VpcLinkV2Record>(COLLECTION_VPC_LINKS_V2, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const items = rows.map((r) => r.value).sort((a, b) => a.createdDate.localeCompare(b.createdDate));
    const p = pageV2(items, input);
    return { items: p.items.map(viewV2), nextToken: p.nextToken };
  }

  async updateV2(scope: Scope, id: string, input: Input): Promise<Input> {
    return this.deps.store.transaction(async (tx) => {
      const key = scopedKey(scope, id);
      const rec = await tx.get<VpcLinkV2Record>(COLLECTION_VPC_LINKS_V2, key);
      if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND, 'VpcLink');
      if (input.name !== undefined) rec.name = nameOf(input.name, 'Name');
      await tx.put(COLLECTION_VPC_LINKS_V2, key, rec);
      return viewV2(rec);
    });
  }

  async deleteV2(scope: Scope, id: string): Promise<void> {
    if (!(await this.deps.store.delete(COLLECTION_VPC_LINKS_V2, scopedKey(scope, id))))
      throw errors.notFound(VPC_LINK_NOT_FOUND, 'VpcLink');
  }

  /** Runs fn on a V2 link's tags (GetTags, TagResource, UntagResource on its ARN). */
  async withTagsV2<T>(
    scope: Scope,
    id: string,
    fn: (tags: Record<string, string>) => T,
    write: boolean,
  ): Promise<T> {
    const key = scopedKey(scope, id);
    if (!write) {
      const rec = await this.findV2(scope, id);
      if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND, 'VpcLink');
      return fn(rec.tags);
    }
    return this.deps.store.transaction(async (tx) => {
      const rec = await tx.get<VpcLinkV2Record>(COLLECTION_VPC_LINKS_V2, key);
      if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND, 'VpcLink');
      const out = fn(rec.tags);
      await tx.put(COLLECTION_VPC_LINKS_V2, key, rec);
      return out;
    });
  }

  // ------------------------------------------------------------------ apigateway (v1)

  async createV1(scope: Scope, input: Input): Promise<Input> {
    const targetArns = stringList(input.targetArns, 'targetArns', true);
    if (targetArns.length !== 1)
      throw errors.badRequest('A VPC link must target exactly one network load balancer');
    for (const arn of targetArns)
      if (!NLB_ARN.test(arn)) throw errors.badRequest(`Invalid network load balancer ARN: ${arn}`);
    const rec: VpcLinkV1Record = {
      id: shortId(6),
      name: nameOf(input.name, 'name'),
      targetArns,
      tags: tagsOf(input.tags),
      created: this.deps.clock.now(),
    };
    if (input.description !== undefined && input.description !== null)
      rec.description = String(input.description);
    await this.deps.store.put(COLLECTION_VPC_LINKS, scopedKey(scope, rec.id), rec);
    return viewV1(rec);
  }

  findV1(scope: Scope, id: string): Promise<VpcLinkV1Record | undefined> {
    return this.deps.store.get<VpcLinkV1Record>(COLLECTION_VPC_LINKS, scopedKey(scope, id));
  }

  async getV1(scope: Scope, id: string): Promise<Input> {
    const rec = await this.findV1(scope, id);
    if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND);
    return viewV1(rec);
  }

  async listV1(scope: Scope, input: Input): Promise<{ items: Input[]; position?: string }> {
    const rows = await this.deps.store.scan<VpcLinkV1Record>(COLLECTION_VPC_LINKS, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const items = rows.map((r) => r.value).sort((a, b) => a.created - b.created);
    const p = pageV1(items, input);
    return { items: p.items.map(viewV1), position: p.position };
  }

  /** Patch paths `/name` and `/description` (replace). */
  async updateV1(scope: Scope, id: string, input: Input): Promise<Input> {
    return this.deps.store.transaction(async (tx) => {
      const key = scopedKey(scope, id);
      const rec = await tx.get<VpcLinkV1Record>(COLLECTION_VPC_LINKS, key);
      if (!rec) throw errors.notFound(VPC_LINK_NOT_FOUND);
      applyPatch(input, ['/name', '/description'], (op) => {
        if (op.op !== 'replace') return false;
        if (op.path === '/name') rec.name = nameOf(op.value, 'name');
        else if (op.path === '/description') rec.description = op.value ?? '';
        else return false;
        return true;
      });
      await tx.put(COLLECTION_VPC_LINKS, key, rec);
      return viewV1(rec);
    });
  }

  async deleteV1(scope: Scope, id: string): Promise<void> {
    if (!(await this.deps.store.delete(COLLECTION_VPC_LINKS, scopedKey(scope, id))))
      throw errors.notFound(VPC_LINK_NOT_FOUND);
  }
}
