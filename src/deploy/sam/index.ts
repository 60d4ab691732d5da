/**
 * The SAM transform (AWS::Serverless-2016-10-31): a template with AWS::Serverless::* resources
 * becomes plain CloudFormation, with the logical ids and shapes SAM gives the generated resources,
 * so `!Ref`/`!GetAtt` to them (`<Fn>Role`, `ServerlessRestApi`, `<Fn>.Alias`, ...) keep working.
 * Intrinsics are left for the stack engine, except the few values SAM itself must know.
 */
import { TemplateError, type ParameterValues, type Template, type TemplateResource } from '../types.js';
import { stripEmbeddedConnectors, transformConnectors } from './connectors.js';
import { SamContext } from './context.js';
import { transformFunction, s3Location } from './function.js';
import { applyGlobals, implicitApiGlobals } from './globals.js';
import { buildHttpApi } from './http-api.js';
import { buildRestApi } from './rest-api.js';
import {
  SAM_TRANSFORM,
  SimpleResolver,
  clone,
  compact,
  hashedId,
  isObject,
  resource,
  tagList,
  type Props,
} from './util.js';

export { SAM_TRANSFORM };

export interface SamOptions {
  region: string;
  accountId: string;
  stackName: string;
  parameters: ParameterValues;
}

/** True when the template's Transform (a string or a list) includes the SAM transform. */
export function isSamTemplate(t: Template): boolean {
  const tr = t.Transform as unknown;
  if (typeof tr === 'string') return tr === SAM_TRANSFORM;
  if (Array.isArray(tr)) return tr.includes(SAM_TRANSFORM);
  return false;
}

const DYNAMO_TYPES: Record<string, string> = { String: 'S', Number: 'N', Binary: 'B' };

function transformSimpleTable(ctx: SamContext, id: string, src: TemplateResource): void {
  const p = src.Properties ?? {};
  const pk = isObject(p.PrimaryKey) ? p.PrimaryKey : { Name: 'id', Type: 'String' };
  const attrType = DYNAMO_TYPES[String(pk.Type)];
  if (!attrType) {
    ctx.errors.resource(id, `Invalid 'Type' "${String(pk.Type)}".`);
    return;
  }
  const res = resource('AWS::DynamoDB::Table', {
    TableName: p.TableName,
    AttributeDefinitions: [{ AttributeName: pk.Name, AttributeType: attrType }],
    KeySchema: [{ AttributeName: pk.Name, KeyType: 'HASH' }],
    BillingMode: p.ProvisionedThroughput === undefined ? 'PAY_PER_REQUEST' : undefined,
    ProvisionedThroughput: p.ProvisionedThroughput,
    SSESpecification: p.SSESpecification,
    PointInTimeRecoverySpecification: p.PointInTimeRecoverySpecification,
    Tags: tagList(p.Tags),
  });
  copyAttributes(src, res);
  ctx.add(id, res);
}

function transformLayer(ctx: SamContext, id: string, src: TemplateResource): void {
  const p = src.Properties ?? {};
  if (p.ContentUri === undefined) {
    ctx.errors.resource(id, "Missing required property 'ContentUri'.");
    return;
  }
  const loc = s3Location(ctx.resolver.resolve(p.ContentUri));
  if (loc === undefined || loc === 'local') {
    ctx.errors.resource(
      id,
      "'ContentUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter." +
        ' Nimbus: deploy with `nimbus deploy`, which builds the layer and uploads it.',
    );
    return;
  }
  const retention = ctx.resolver.resolve(p.RetentionPolicy);
  if (
    retention !== undefined &&
    (typeof retention !== 'string' || !['retain', 'delete'].includes(retention.toLowerCase()))
  ) {
    ctx.errors.resource(id, "'RetentionPolicy' must be one of the following options: ['Retain', 'Delete'].");
    return;
  }
  const props = compact({
    Content: compact({ S3Bucket: loc.Bucket, S3Key: loc.Key, S3ObjectVersion: loc.Version }),
    LayerName: p.LayerName ?? id,
    Description: p.Description,
    CompatibleRuntimes: p.CompatibleRuntimes,
    CompatibleArchitectures: p.CompatibleArchitectures,
    LicenseInfo: p.LicenseInfo,
  });
  const newId = hashedId(id, props);
  const policy = typeof retention === 'string' && retention.toLowerCase() === 'delete' ? 'Delete' : 'Retain';
  const res = resource('AWS::Lambda::LayerVersion', props, { DeletionPolicy: policy });
  copyAttributes(src, res);
  res.DeletionPolicy = policy;
  ctx.add(newId, res);
  ctx.specialRefs[id] = newId;
}

function copyAttributes(src: TemplateResource, res: TemplateResource): void {
  for (const k of ['Condition', 'DependsOn', 'Metadata', 'DeletionPolicy', 'UpdateReplacePolicy'] as const) {
    if (src[k] !== undefined) (res as unknown as Props)[k] = src[k];
  }
}

/** Rewrites Refs (and `${...}` in Fn::Sub strings, DependsOn) from SAM's special names to generated ids. */
function rewriteRefs(value: unknown, map: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, map));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && typeof value.Ref === 'string' && map[value.Ref]) {
    return { Ref: map[value.Ref] };
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const ga = value['Fn::GetAtt'];
    if (Array.isArray(ga) && typeof ga[0] === 'string' && map[ga[0]])
      return { 'Fn::GetAtt': [map[ga[0]], ...ga.slice(1)] };
    if (typeof ga === 'string') {
      const [head, ...rest] = ga.split('.');
      if (map[head]) return { 'Fn::GetAtt': [map[head], rest.join('.')] };
    }
  }
  if (keys.length === 1 && keys[0] === 'Fn::Sub') {
    const sub = value['Fn::Sub'];
    const fix = (s: string) =>
      s.replace(/\$\{([^}!]+)\}/g, (m, name: string) => {
        const n = name.trim();
        if (map[n]) return `\${${map[n]}}`;
        const dot = n.lastIndexOf('.');
        if (dot > 0 && map[n.slice(0, dot)] && !map[n]) return `\${${map[n.slice(0, dot)]}${n.slice(dot)}}`;
        return m;
      });
    if (typeof sub === 'string') return { 'Fn::Sub': fix(sub) };
    if (Array.isArray(sub) && typeof sub[0] === 'string')
      return { 'Fn::Sub': [fix(sub[0]), rewriteRefs(sub[1], map)] };
  }
  const out: Props = {};
  for (const [k, v] of Object.entries(value)) out[k] = rewriteRefs(v, map);
  return out;
}

const PASS_THROUGH_SAM = new Set([
  'AWS::Serverless::StateMachine',
  'AWS::Serverless::Application',
  'AWS::Serverless::GraphQLApi',
]);

/** Plain CloudFormation for a SAM template: no Transform, no Globals. */
export function transformSam(t: Template, opts: SamOptions): Template {
  if (!isObject(t.Resources)) {
    throw new TemplateError(
      `Transform ${SAM_TRANSFORM} failed with: Invalid Serverless Application Specification document. ` +
        "Number of errors found: 1. Structure of the SAM template is invalid. 'Resources' section is required",
    );
  }
  const template = clone(t);
  const ctx = new SamContext(template, new SimpleResolver(template, opts));
  applyGlobals(template, ctx.errors);
  ctx.errors.throwIfAny();

  const entries = Object.entries(template.Resources);
  for (const [id, res] of entries) {
    if (!isObject(res) || typeof res.Type !== 'string') {
      ctx.errors.resource(id, "Missing required property 'Type'.");
    }
  }
  ctx.errors.throwIfAny();

  for (const [id, res] of entries)
    if (res.Type === 'AWS::Serverless::LayerVersion') transformLayer(ctx, id, res);
  for (const [id, res] of entries)
    if (res.Type === 'AWS::Serverless::Function') transformFunction(ctx, id, res);

  for (const [id, res] of entries) {
    if (res.Type === 'AWS::Serverless::Api') {
      buildRestApi(ctx, id, res.Properties ?? {}, ctx.restRoutes.get(id) ?? [], false, res);
    } else if (res.Type === 'AWS::Serverless::HttpApi') {
      buildHttpApi(ctx, id, res.Properties ?? {}, ctx.httpRoutes.get(id) ?? [], false, res);
    }
  }
  const restImplicit = ctx.restRoutes.get('ServerlessRestApi');
  if (restImplicit && !template.Resources.ServerlessRestApi) {
    buildRestApi(ctx, 'ServerlessRestApi', implicitApiGlobals(template, 'Api'), restImplicit, true);
  }
  const httpImplicit = ctx.httpRoutes.get('ServerlessHttpApi');
  if (httpImplicit && !template.Resources.ServerlessHttpApi) {
    buildHttpApi(ctx, 'ServerlessHttpApi', implicitApiGlobals(template, 'HttpApi'), httpImplicit, true);
  }

  transformConnectors(ctx);

  for (const [id, res] of entries) {
    if (res.Type === 'AWS::Serverless::SimpleTable') transformSimpleTable(ctx, id, res);
    else if (!res.Type.startsWith('AWS::Serverless::') || PASS_THROUGH_SAM.has(res.Type)) {
      if (ctx.out[id]) ctx.errors.resource(id, `Logical id [${id}] conflicts with a resource SAM generates.`);
      else ctx.out[id] = res;
    } else if (
      ![
        'AWS::Serverless::Function',
        'AWS::Serverless::Api',
        'AWS::Serverless::HttpApi',
        'AWS::Serverless::LayerVersion',
        'AWS::Serverless::Connector',
      ].includes(res.Type)
    ) {
      ctx.errors.resource(id, `Resource type '${res.Type}' is not a valid SAM resource type.`);
    }
  }
  ctx.errors.throwIfAny();
  stripEmbeddedConnectors(ctx.out);

  const out: Template = { Resources: {} };
  for (const [k, v] of Object.entries(template)) {
    if (k === 'Transform' || k === 'Globals' || k === 'Resources') continue;
    (out as unknown as Props)[k] = v;
  }
  // Other transforms (e.g. AWS::LanguageExtensions) stay, so the stack engine can name what it does not run.
  const others = (Array.isArray(template.Transform) ? template.Transform : []).filter(
    (x) => x !== SAM_TRANSFORM,
  );
  if (others.length > 0) out.Transform = others;
  const map = ctx.specialRefs;
  for (const [id, res] of Object.entries(ctx.out)) {
    const fixed = rewriteRefs(res, map) as TemplateResource;
    if (fixed.DependsOn !== undefined) {
      const deps = Array.isArray(fixed.DependsOn) ? fixed.DependsOn : [fixed.DependsOn];
      fixed.DependsOn = deps.map((d) => map[d] ?? d);
    }
    out.Resources[id] = fixed;
  }
  if (out.Outputs) out.Outputs = rewriteRefs(out.Outputs, map) as Template['Outputs'];
  if (out.Conditions) out.Conditions = rewriteRefs(out.Conditions, map) as Template['Conditions'];
  return out;
}
