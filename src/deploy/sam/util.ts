/**
 * Small helpers shared by the SAM transform: SAM's error aggregation, stable hashing for the
 * logical ids SAM derives from content, and the few intrinsic look-ups SAM itself performs.
 */
import { createHash } from 'node:crypto';
import { TemplateError, type ParameterValues, type Template, type TemplateResource } from '../types.js';

export const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';

export type Json = unknown;
export type Props = Record<string, unknown>;

/** One problem in the SAM document, as SAM words it ("Resource with id [Fn] is invalid. ..."). */
export class SamInvalid extends Error {}

/** Collects SAM's per-resource errors; SAM reports them all at once with a count. */
export class SamErrors {
  readonly messages: string[] = [];

  resource(id: string, message: string): void {
    this.messages.push(`Resource with id [${id}] is invalid. ${message}`);
  }

  event(resourceId: string, eventId: string, message: string): void {
    this.resource(resourceId, `Event with id [${eventId}] is invalid. ${message}`);
  }

  globals(message: string): void {
    this.messages.push(`'Globals' section is invalid. ${message}`);
  }

  throwIfAny(): void {
    if (this.messages.length === 0) return;
    throw new TemplateError(
      `Transform ${SAM_TRANSFORM} failed with: Invalid Serverless Application Specification document. ` +
        `Number of errors found: ${this.messages.length}. ${this.messages.join(' ')}`,
    );
  }
}

/** JSON with object keys sorted, so equal content always hashes equal. */
export function stableJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha1(value: Json): string {
  return createHash('sha1')
    .update(typeof value === 'string' ? value : stableJson(value))
    .digest('hex');
}

/** `<prefix><10 hex>` as SAM's LogicalIdGenerator makes ids for versions, deployments and layers. */
export function hashedId(prefix: string, data: Json): string {
  return prefix + sha1(data).slice(0, 10);
}

export function isObject(v: unknown): v is Props {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An intrinsic function: a one-key object whose key is `Ref` or `Fn::*`. */
export function isIntrinsic(v: unknown): v is Props {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::') || keys[0] === 'Condition');
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/** Drops undefined values so generated properties stay as small as SAM's. */
export function compact(obj: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

export const ref = (id: string): Props => ({ Ref: id });
export const getAtt = (id: string, attr: string): Props => ({ 'Fn::GetAtt': [id, attr] });

/** Resolves what SAM resolves itself: `Ref` to parameters and pseudo parameters, simple `Fn::Sub`. */
export class SimpleResolver {
  private readonly values: Record<string, string | string[]>;

  constructor(
    template: Template,
    opts: { region: string; accountId: string; stackName: string; parameters: ParameterValues },
  ) {
    this.values = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      if (p.Default !== undefined)
        this.values[name] = Array.isArray(p.Default) ? p.Default.map(String) : String(p.Default);
    }
    Object.assign(this.values, opts.parameters, {
      'AWS::Region': opts.region,
      'AWS::AccountId': opts.accountId,
      'AWS::StackName': opts.stackName,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    });
  }

  /** The value with parameter Refs resolved where possible; anything else is returned unchanged. */
  resolve(value: unknown): unknown {
    if (!isObject(value)) return value;
    if (typeof value.Ref === 'string' && Object.keys(value).length === 1) {
      const v = this.values[value.Ref];
      return v === undefined ? value : v;
    }
    if ('Fn::Sub' in value && typeof value['Fn::Sub'] === 'string' && Object.keys(value).length === 1) {
      let unresolved = false;
      const out = value['Fn::Sub'].replace(/\$\{([^}!]+)\}/g, (m, name: string) => {
        const v = this.values[name.trim()];
        if (typeof v === 'string') return v;
        unresolved = true;
        return m;
      });
      return unresolved ? value : out;
    }
    return value;
  }
}

export interface Output {
  resources: Record<string, TemplateResource>;
}

/** The `Condition` / `DependsOn`-free shell of a generated resource. */
export function resource(
  Type: string,
  Properties: Props,
  extra: Partial<TemplateResource> = {},
): TemplateResource {
  return { Type, Properties: compact(Properties), ...extra };
}

/** SAM's Tags map -> CloudFormation's `[{Key, Value}]` list, with SAM's own tag first. */
export function tagList(tags: unknown, samTag?: [string, string]): Props[] | undefined {
  const out: Props[] = [];
  if (samTag) out.push({ Key: samTag[0], Value: samTag[1] });
  if (isObject(tags)) for (const [Key, Value] of Object.entries(tags)) out.push({ Key, Value });
  return out.length > 0 ? out : undefined;
}
