/**
 * CloudFormation over the AWS Query protocol (version 2010-05-15): decode the form
 * parameters, call the stack engine, shape the result. No business rules here.
 */
import type { QueryService, RequestContext } from '../../server/service.js';
import { AwsError } from '../../protocols/errors.js';
import { parseTemplate, validateTemplate } from '../template/index.js';
import { TemplateError, type Template } from '../types.js';
import { requiredCapabilities, type ChangeSetInput, type StackEngine, type StackInput } from './engine.js';
import {
  errors,
  type ChangeSetRecord,
  type ResourceRecord,
  type Scope,
  type StackEvent,
  type StackRecord,
} from './model.js';

export const CFN_VERSION = '2010-05-15';
export const CFN_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

type Input = Record<string, unknown>;

/** Reads a template a TemplateURL names (an object in this Nimbus's S3). */
export type TemplateFetcher = (scope: Scope, url: string) => Promise<string>;

function str(input: Input, name: string): string | undefined {
  const v = input[name];
  return typeof v === 'string' ? v : undefined;
}

function list(input: Input, name: string): unknown[] {
  const v = input[name];
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object' && 'member' in v) {
    const m = (v as { member: unknown }).member;
    return Array.isArray(m) ? m : [m];
  }
  return [];
}

function strings(input: Input, name: string): string[] {
  return list(input, name).filter((x): x is string => typeof x === 'string');
}

function bool(input: Input, name: string): boolean | undefined {
  const v = str(input, name);
  return v === undefined ? undefined : v === 'true';
}

function scope(ctx: RequestContext): Scope {
  return { accountId: ctx.accountId, region: ctx.region };
}

function required(input: Input, name: string, member = name.charAt(0).toLowerCase() + name.slice(1)): string {
  const v = str(input, name);
  if (v === undefined || v === '')
    throw errors.validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  return v;
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

function parameters(input: Input): StackInput['parameters'] {
  return list(input, 'Parameters').map((p) => {
    const o = (p ?? {}) as Input;
    return {
      key: str(o, 'ParameterKey') ?? '',
      value: str(o, 'ParameterValue'),
      usePrevious: str(o, 'UsePreviousValue') === 'true',
    };
  });
}

function tags(input: Input): StackInput['tags'] {
  if (input.Tags === undefined) return undefined;
  return list(input, 'Tags').map((t) => {
    const o = (t ?? {}) as Input;
    return { Key: str(o, 'Key') ?? '', Value: str(o, 'Value') ?? '' };
  });
}

const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

function stackShape(s: StackRecord) {
  return {
    StackId: s.stackId,
    StackName: s.stackName,
    ChangeSetId: s.changeSetId,
    Description: s.description,
    Parameters: s.describedParameters,
    CreationTime: date(s.creationTime),
    DeletionTime: date(s.deletionTime),
    LastUpdatedTime: date(s.lastUpdatedTime),
    StackStatus: s.status,
    StackStatusReason: s.statusReason,
    DisableRollback: s.disableRollback,
    NotificationARNs: s.notificationARNs,
    Capabilities: s.capabilities,
    Outputs: s.outputs,
    Tags: s.tags,
    EnableTerminationProtection: false,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

function eventShape(e: StackEvent) {
  return { ...e, Timestamp: date(e.Timestamp) };
}

function resourceShape(s: StackRecord, r: ResourceRecord) {
  return {
    StackName: s.stackName,
    StackId: s.stackId,
    LogicalResourceId: r.logicalId,
    PhysicalResourceId: r.physicalId,
    ResourceType: r.type,
    Timestamp: date(r.timestamp),
    ResourceStatus: r.status,
    ResourceStatusReason: r.statusReason,
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  };
}

function changeSetSummary(cs: ChangeSetRecord) {
  return {
    StackId: cs.stackId,
    StackName: cs.stackName,
    ChangeSetId: cs.changeSetId,
    ChangeSetName: cs.changeSetName,
    ExecutionStatus: cs.executionStatus,
    Status: cs.status,
    StatusReason: cs.statusReason,
    CreationTime: date(cs.creationTime),
    Description: cs.description,
    IncludeNestedStacks: false,
  };
}

function templateParameters(t: Template, detailed: boolean) {
  return Object.entries(t.Parameters ?? {}).map(([key, p]) => ({
    ParameterKey: key,
    DefaultValue: p.Default === undefined ? undefined : String(p.Default),
    ...(detailed ? { ParameterType: p.Type } : {}),
    NoEcho: p.NoEcho === true || p.NoEcho === 'true',
    Description: p.Description,
    ...(detailed && p.AllowedValues
      ? { ParameterConstraints: { AllowedValues: p.AllowedValues.map(String) } }
      : {}),
  }));
}

function transforms(t: Template): string[] {
  return t.Transform === undefined ? [] : Array.isArray(t.Transform) ? t.Transform : [t.Transform];
}

function capabilitiesOf(t: Template): { Capabilities: string[]; CapabilitiesReason?: string } {
  const need = requiredCapabilities(t);
  const caps = [...need.caps];
  let reason = need.reason;
  if (transforms(t).length > 0) {
    caps.push('CAPABILITY_AUTO_EXPAND');
    reason ??= `The following resource(s) require capabilities: [${transforms(t).join(', ')}]`;
  }
  return { Capabilities: caps, CapabilitiesReason: reason };
}

function parse(body: string): Template {
  try {
    return parseTemplate(body);
  } catch (e) {
    if (e instanceof TemplateError) throw errors.validation(e.message);
    throw e;
  }
}

const PAGE = 100;

function page<T>(items: T[], token: string | undefined): { items: T[]; next?: string } {
  const start = token ? Number.parseInt(Buffer.from(token, 'base64').toString('utf8'), 10) || 0 : 0;
  const slice = items.slice(start, start + PAGE);
  const next = start + PAGE < items.length ? Buffer.from(String(start + PAGE)).toString('base64') : undefined;
  return { items: slice, next };
}

export function createCloudFormationService(
  engine: StackEngine,
  fetchTemplate?: TemplateFetcher,
): QueryService {
  async function templateBody(
    ctx: RequestContext,
    input: Input,
    optional = false,
  ): Promise<string | undefined> {
    const body = str(input, 'TemplateBody');
    const url = str(input, 'TemplateURL');
    if (body !== undefined && url !== undefined)
      throw errors.validation('Specify exactly one of TemplateBody or TemplateUrl.');
    if (body !== undefined) return body;
    if (url !== undefined) {
      if (!fetchTemplate) throw errors.validation('TemplateURL must be a supported URL.');
      return fetchTemplate(scope(ctx), url);
    }
    if (optional) return undefined;
    throw errors.validation('Either Template URL or Template Body must be specified.');
  }

  async function stackInput(ctx: RequestContext, input: Input, update: boolean): Promise<StackInput> {
    const stackName = required(input, 'StackName');
    if (!update && !STACK_NAME.test(stackName))
      throw errors.validation(
        `1 validation error detected: Value '${stackName}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*`,
      );
    const usePreviousTemplate = bool(input, 'UsePreviousTemplate') === true;
    const onFailure = str(input, 'OnFailure') as StackInput['onFailure'];
    const disableRollback = bool(input, 'DisableRollback');
    if (onFailure !== undefined && disableRollback !== undefined)
      throw errors.validation('You cannot specify both DisableRollback and OnFailure.');
    return {
      stackName,
      templateBody: usePreviousTemplate ? undefined : await templateBody(ctx, input),
      usePreviousTemplate,
      parameters: parameters(input),
      tags: tags(input),
      capabilities: strings(input, 'Capabilities'),
      onFailure,
      disableRollback,
      clientRequestToken: str(input, 'ClientRequestToken'),
      notificationARNs: strings(input, 'NotificationARNs'),
    };
  }

  return {
    protocol: 'query',
    signingName: 'cloudformation',
    version: CFN_VERSION,
    xmlNamespace: CFN_XMLNS,
    operations: {
      CreateStack: async (ctx, input) => ({
        StackId: await engine.createStack(scope(ctx), await stackInput(ctx, input, false)),
      }),
      UpdateStack: async (ctx, input) => ({
        StackId: await engine.updateStack(scope(ctx), await stackInput(ctx, input, true)),
      }),
      DeleteStack: async (ctx, input) => {
        await engine.deleteStack(scope(ctx), required(input, 'StackName'), strings(input, 'RetainResources'));
        return undefined;
      },
      DescribeStacks: async (ctx, input) => {
        const name = str(input, 'StackName');
        if (name) return { Stacks: [stackShape(await engine.getStack(scope(ctx), name))] };
        const all = (await engine.listStacks(scope(ctx))).filter((s) => s.status !== 'DELETE_COMPLETE');
        const p = page(all, str(input, 'NextToken'));
        return { Stacks: p.items.map(stackShape), NextToken: p.next };
      },
      ListStacks: async (ctx, input) => {
        const filter = strings(input, 'StackStatusFilter');
        const all = (await engine.listStacks(scope(ctx))).filter(
          (s) => filter.length === 0 || filter.includes(s.status),
        );
        const p = page(all, str(input, 'NextToken'));
        return {
          StackSummaries: p.items.map((s) => ({
            StackId: s.stackId,
            StackName: s.stackName,
            TemplateDescription: s.description,
            CreationTime: date(s.creationTime),
            LastUpdatedTime: date(s.lastUpdatedTime),
            DeletionTime: date(s.deletionTime),
            StackStatus: s.status,
            StackStatusReason: s.statusReason,
            DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
          })),
          NextToken: p.next,
        };
      },
      DescribeStackEvents: async (ctx, input) => {
        const s = await engine.getStack(scope(ctx), required(input, 'StackName'));
        const p = page(await engine.events(s), str(input, 'NextToken'));
        return { StackEvents: p.items.map(eventShape), NextToken: p.next };
      },
      DescribeStackResource: async (ctx, input) => {
        const s = await engine.getStack(scope(ctx), required(input, 'StackName'));
        const id = required(input, 'LogicalResourceId');
        const r = (await engine.resources(s)).find((x) => x.logicalId === id);
        if (!r) throw errors.validation(`Resource ${id} does not exist for stack ${s.stackName}`);
        const { Timestamp, ...rest } = resourceShape(s, r);
        return {
          StackResourceDetail: {
            ...rest,
            LastUpdatedTimestamp: Timestamp,
            Metadata: r.metadata ? JSON.stringify(r.metadata) : undefined,
          },
        };
      },
      DescribeStackResources: async (ctx, input) => {
        const name = str(input, 'StackName');
        const physical = str(input, 'PhysicalResourceId');
        const logical = str(input, 'LogicalResourceId');
        let stacks: StackRecord[];
        if (name) stacks = [await engine.getStack(scope(ctx), name)];
        else if (physical)
          stacks = (await engine.listStacks(scope(ctx))).filter((s) => s.status !== 'DELETE_COMPLETE');
        else throw errors.validation('Either StackName or PhysicalResourceId must be specified.');
        const out = [];
        for (const s of stacks)
          for (const r of await engine.resources(s)) {
            if (logical && r.logicalId !== logical) continue;
            if (physical && r.physicalId !== physical) continue;
            out.push(resourceShape(s, r));
          }
        if (!name && out.length === 0) throw errors.stackNotFound(physical as string);
        return { StackResources: out };
      },
      ListStackResources: async (ctx, input) => {
        const s = await engine.getStack(scope(ctx), required(input, 'StackName'));
        const p = page(await engine.resources(s), str(input, 'NextToken'));
        return {
          StackResourceSummaries: p.items.map((r) => ({
            LogicalResourceId: r.logicalId,
            PhysicalResourceId: r.physicalId,
            ResourceType: r.type,
            LastUpdatedTimestamp: date(r.timestamp),
            ResourceStatus: r.status,
            ResourceStatusReason: r.statusReason,
            DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
          })),
          NextToken: p.next,
        };
      },
      GetTemplate: async (ctx, input) => {
        const stage = str(input, 'TemplateStage') ?? 'Original';
        const csName = str(input, 'ChangeSetName');
        if (csName) {
          const cs = await engine.findChangeSet(scope(ctx), csName, str(input, 'StackName'));
          return { TemplateBody: cs.templateBody, StagesAvailable: ['Original', 'Processed'] };
        }
        const s = await engine.getStack(scope(ctx), required(input, 'StackName'));
        return {
          TemplateBody: stage === 'Processed' ? s.processedTemplate : s.templateBody,
          StagesAvailable: ['Original', 'Processed'],
        };
      },
      GetTemplateSummary: async (ctx, input) => {
        const name = str(input, 'StackName');
        const body = name
          ? (await engine.getStack(scope(ctx), name)).templateBody
          : ((await templateBody(ctx, input)) as string);
        const t = parse(body);
        return {
          Parameters: templateParameters(t, true),
          Description: t.Description,
          ...capabilitiesOf(t),
          ResourceTypes: [...new Set(Object.values(t.Resources ?? {}).map((r) => r.Type))],
          Version: t.AWSTemplateFormatVersion,
          Metadata: t.Metadata ? JSON.stringify(t.Metadata) : undefined,
          DeclaredTransforms: transforms(t),
          ResourceIdentifierSummaries: [],
        };
      },
      ValidateTemplate: async (ctx, input) => {
        const t = parse((await templateBody(ctx, input)) as string);
        try {
          validateTemplate(t);
        } catch (e) {
          if (e instanceof TemplateError) throw errors.validation(e.message);
          throw e;
        }
        return {
          Parameters: templateParameters(t, false),
          Description: t.Description,
          ...capabilitiesOf(t),
          DeclaredTransforms: transforms(t),
        };
      },
      CreateChangeSet: async (ctx, input) => {
        const base = await stackInput(ctx, input, str(input, 'ChangeSetType') !== 'CREATE');
        const csInput: ChangeSetInput = {
          ...base,
          changeSetName: required(input, 'ChangeSetName'),
          changeSetType: str(input, 'ChangeSetType'),
          description: str(input, 'Description'),
        };
        const r = await engine.createChangeSet(scope(ctx), csInput);
        return { Id: r.id, StackId: r.stackId };
      },
      DescribeChangeSet: async (ctx, input) => {
        const cs = await engine.findChangeSet(
          scope(ctx),
          required(input, 'ChangeSetName'),
          str(input, 'StackName'),
        );
        return {
          ...changeSetSummary(cs),
          Parameters: cs.describedParameters,
          Tags: cs.tags,
          Capabilities: cs.capabilities,
          NotificationARNs: [],
          Changes: cs.changes.map((c) => ({ Type: 'Resource', ResourceChange: c })),
        };
      },
      ExecuteChangeSet: async (ctx, input) => {
        await engine.executeChangeSet(
          scope(ctx),
          required(input, 'ChangeSetName'),
          str(input, 'StackName'),
          bool(input, 'DisableRollback'),
        );
        return {};
      },
      DeleteChangeSet: async (ctx, input) => {
        await engine.deleteChangeSet(scope(ctx), required(input, 'ChangeSetName'), str(input, 'StackName'));
        return {};
      },
      ListChangeSets: async (ctx, input) => {
        const s = await engine.getStack(scope(ctx), required(input, 'StackName'));
        return { Summaries: (await engine.changeSets(s)).map(changeSetSummary) };
      },
      ListExports: async (ctx, input) => {
        const p = page(await engine.listExports(scope(ctx)), str(input, 'NextToken'));
        return {
          Exports: p.items.map((e) => ({ ExportingStackId: e.stackId, Name: e.name, Value: e.value })),
          NextToken: p.next,
        };
      },
      ListImports: async (ctx, input) => {
        const name = required(input, 'ExportName');
        const imports = await engine.listImports(scope(ctx), name);
        if (imports.length === 0) throw errors.validation(`Export '${name}' is not imported by any stack.`);
        return { Imports: imports };
      },
      CancelUpdateStack: async () => {
        throw new AwsError('ValidationError', 'Nimbus does not support CancelUpdateStack', 400);
      },
    },
  };
}
