/**
 * The stack engine: turns templates into resources through the providers, in dependency
 * order with independent resources in parallel, and keeps CloudFormation's bookkeeping
 * (statuses, events, outputs, exports, change sets). API calls answer at once; the work runs
 * in the background, one operation per stack at a time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import { AwsError } from '../../protocols/errors.js';
import {
  TemplateError,
  type ClientConfig,
  type IntrinsicContext,
  type ParameterValues,
  type ProviderRegistry,
  type ResourceContext,
  type Template,
} from '../types.js';
import {
  dependencyGraph,
  evaluateConditions,
  parseTemplate,
  pseudoParameters,
  resolve,
  resolveParameters,
  validateTemplate,
} from '../template/index.js';
import { isSamTemplate, transformSam } from '../sam/index.js';
import {
  C,
  errors,
  isInProgress,
  scopeKey,
  TERMINAL_OK,
  type ChangeSetRecord,
  type ExportRecord,
  type ResourceChangeRecord,
  type ResourceRecord,
  type Scope,
  type StackEvent,
  type StackOutput,
  type StackRecord,
  type StackStatus,
} from './model.js';

export const SKIP_UNSUPPORTED_TAG = 'nimbus:skip-unsupported';
const STACK_TYPE = 'AWS::CloudFormation::Stack';

export interface StackEngineOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  providers: ProviderRegistry;
  /** Types accepted and recorded without a service behind them. */
  recordedTypes?: readonly string[];
  /** SDK configuration providers use to reach this Nimbus as the stack's account. */
  clientConfig: (scope: Scope, stackName: string) => ClientConfig;
}

export interface StackInput {
  stackName: string;
  templateBody?: string;
  usePreviousTemplate?: boolean;
  parameters?: { key: string; value?: string; usePrevious?: boolean }[];
  tags?: { Key: string; Value: string }[];
  capabilities?: string[];
  onFailure?: 'DO_NOTHING' | 'ROLLBACK' | 'DELETE';
  disableRollback?: boolean;
  clientRequestToken?: string;
  notificationARNs?: string[];
}

export interface ChangeSetInput extends StackInput {
  changeSetName: string;
  changeSetType?: string;
  description?: string;
}

interface Prepared {
  original: Template;
  processed: Template;
  values: ParameterValues;
  raw: Record<string, string>;
  described: { ParameterKey: string; ParameterValue: string }[];
  conditions: Record<string, boolean>;
}

const IAM_TYPES = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::IAM::User',
  'AWS::IAM::Group',
  'AWS::IAM::AccessKey',
  'AWS::IAM::InstanceProfile',
  'AWS::IAM::UserToGroupAddition',
  'AWS::IAM::RolePolicy',
  'AWS::IAM::UserPolicy',
  'AWS::IAM::GroupPolicy',
]);
const IAM_NAME_PROPS: Record<string, string> = {
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::Group': 'GroupName',
  'AWS::IAM::InstanceProfile': 'InstanceProfileName',
};

/** Which capabilities a (processed) template needs, and why. */
export function requiredCapabilities(t: Template): { caps: string[]; reason?: string } {
  const iam: string[] = [];
  let named = false;
  for (const [id, r] of Object.entries(t.Resources ?? {})) {
    if (!IAM_TYPES.has(r.Type)) continue;
    iam.push(id);
    const nameProp = IAM_NAME_PROPS[r.Type];
    if (nameProp && r.Properties && r.Properties[nameProp] !== undefined) named = true;
  }
  if (iam.length === 0) return { caps: [] };
  return {
    caps: [named ? 'CAPABILITY_NAMED_IAM' : 'CAPABILITY_IAM'],
    reason: `The following resource(s) require capabilities: [${[...new Set(iam.map((id) => t.Resources[id].Type))].join(', ')}]`,
  };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}

function changedProps(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !deepEqual(before[k], after[k])).sort();
}

function needsReplacement(replaceOn: readonly string[], changed: string[]): boolean {
  return replaceOn.includes('*') || changed.some((k) => replaceOn.includes(k));
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
function randomSuffix(n = 13): string {
  const buf = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[buf[i] % ALNUM.length];
  return s;
}

/** `{stack}-{logicalId}-{13 random}`, the name part shortened so the whole fits maxLength. */
export function physicalName(stackName: string, logicalId: string, maxLength = 128): string {
  const suffix = '-' + randomSuffix();
  const room = Math.max(1, maxLength - suffix.length);
  return `${stackName}-${logicalId}`.slice(0, room) + suffix;
}

/**
 * Runs `work` over the ids so that each runs after the ids it depends on, independent ones
 * in parallel. After a failure nothing new starts; what is running finishes.
 */
async function runInOrder(
  ids: readonly string[],
  deps: (id: string) => Iterable<string>,
  work: (id: string) => Promise<void>,
): Promise<{ failed: Map<string, unknown>; notStarted: string[] }> {
  const set = new Set(ids);
  const done = new Set<string>();
  const started = new Set<string>();
  const failed = new Map<string, unknown>();
  const running = new Map<string, Promise<void>>();
  for (;;) {
    if (failed.size === 0) {
      for (const id of ids) {
        if (started.has(id)) continue;
        if ([...deps(id)].every((d) => !set.has(d) || d === id || done.has(d))) {
          started.add(id);
          running.set(
            id,
            work(id).then(
              () => {
                done.add(id);
                running.delete(id);
              },
              (e: unknown) => {
                failed.set(id, e);
                running.delete(id);
              },
            ),
          );
        }
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  return { failed, notStarted: ids.filter((id) => !started.has(id)) };
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function toValidation(e: unknown): unknown {
  if (e instanceof TemplateError) return errors.validation(e.message);
  return e;
}

function outputString(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(',');
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export class StackEngine {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly providers: ProviderRegistry;
  private readonly recorded: Set<string>;
  private readonly clientConfigFor: StackEngineOptions['clientConfig'];
  /** Operations running on this node, by stack id. */
  private readonly running = new Map<string, Promise<void>>();
  private eventSeq = 0;

  constructor(opts: StackEngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.providers = opts.providers;
    this.recorded = new Set(opts.recordedTypes ?? []);
    this.clientConfigFor = opts.clientConfig;
  }

  /** Marks stacks a dead process left in progress as failed. */
  async start(): Promise<void> {
    const all = await this.store.scan<StackRecord>(C.stacks);
    for (const { value: s } of all) {
      if (!isInProgress(s.status) || this.running.has(s.stackId)) continue;
      const next: StackStatus = s.status.startsWith('CREATE')
        ? 'CREATE_FAILED'
        : s.status.startsWith('ROLLBACK')
          ? 'ROLLBACK_FAILED'
          : s.status.startsWith('DELETE')
            ? 'DELETE_FAILED'
            : s.status === 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'
              ? 'UPDATE_ROLLBACK_COMPLETE'
              : s.status === 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
                ? 'UPDATE_COMPLETE'
                : 'UPDATE_ROLLBACK_FAILED';
      await this.setStatus(s, next, `Nimbus restarted while the stack was in ${s.status}`);
    }
  }

  /** Resolves once no operation runs on this node. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Resolves when the stack's current operation (if any) has finished. */
  async wait(stackId: string): Promise<void> {
    await this.running.get(stackId)?.catch(() => {});
  }

  // ------------------------------------------------------------------ lookup

  private stackKey(scope: Scope, stackId: string): string {
    return scopeKey(scope) + stackId;
  }

  /** A live stack by name, or any stack (deleted too) by id. */
  async findStack(scope: Scope, nameOrId: string): Promise<StackRecord | undefined> {
    if (nameOrId.startsWith('arn:'))
      return this.store.get<StackRecord>(C.stacks, this.stackKey(scope, nameOrId));
    const id = await this.store.get<string>(C.names, scopeKey(scope) + nameOrId);
    return id ? this.store.get<StackRecord>(C.stacks, this.stackKey(scope, id)) : undefined;
  }

  async getStack(scope: Scope, nameOrId: string): Promise<StackRecord> {
    const s = await this.findStack(scope, nameOrId);
    if (!s) throw errors.stackNotFound(nameOrId);
    return s;
  }

  async listStacks(scope: Scope): Promise<StackRecord[]> {
    const rows = await this.store.scan<StackRecord>(C.stacks, { prefix: scopeKey(scope) });
    return rows.map((r) => r.value).sort((a, b) => b.creationTime - a.creationTime);
  }

  async resources(stack: StackRecord): Promise<ResourceRecord[]> {
    const rows = await this.store.scan<ResourceRecord>(C.resources, { prefix: stack.stackId + '|' });
    return rows.map((r) => r.value);
  }

  async events(stack: StackRecord): Promise<StackEvent[]> {
    const rows = await this.store.scan<StackEvent>(C.events, { prefix: stack.stackId + '|', reverse: true });
    return rows.map((r) => r.value);
  }

  async listExports(scope: Scope): Promise<ExportRecord[]> {
    return (await this.store.scan<ExportRecord>(C.exports, { prefix: scopeKey(scope) })).map((r) => r.value);
  }

  async listImports(scope: Scope, exportName: string): Promise<string[]> {
    const stacks = await this.listStacks(scope);
    return stacks
      .filter((s) => s.status !== 'DELETE_COMPLETE' && s.imports.includes(exportName))
      .map((s) => s.stackName)
      .sort();
  }

  // ------------------------------------------------------------------ preparation

  /** Parse, transform, validate, check capabilities, resolve parameters and conditions. */
  prepare(
    scope: Scope,
    stack: { stackName: string; stackId: string; tags: { Key: string; Value: string }[] },
    body: string,
    params: StackInput['parameters'],
    capabilities: string[],
    opts: { previous?: Record<string, string>; requireAutoExpand: boolean },
  ): Prepared {
    try {
      const original = parseTemplate(body);
      validateTemplate(original);
      const given: Record<string, string> = {};
      const usePrevious: string[] = [];
      for (const p of params ?? []) {
        if (p.usePrevious) usePrevious.push(p.key);
        else given[p.key] = p.value ?? '';
      }
      const { values, described } = resolveParameters(original, given, opts.previous, usePrevious);
      let processed = original;
      if (original.Transform !== undefined) {
        if (opts.requireAutoExpand && !capabilities.includes('CAPABILITY_AUTO_EXPAND'))
          throw errors.capabilities(['CAPABILITY_AUTO_EXPAND']);
        if (isSamTemplate(original)) {
          processed = transformSam(original, { ...scope, stackName: stack.stackName, parameters: values });
          validateTemplate(processed);
        }
        const others = (Array.isArray(original.Transform) ? original.Transform : [original.Transform]).filter(
          (t) => t !== 'AWS::Serverless-2016-10-31',
        );
        if (others.length > 0)
          throw new TemplateError(`Nimbus does not support the transform(s) [${others.join(', ')}]`);
      }
      const skip = stack.tags.some((t) => t.Key === SKIP_UNSUPPORTED_TAG && t.Value === 'true');
      if (!skip) {
        const unknown = [
          ...new Set(
            Object.values(processed.Resources)
              .map((r) => r.Type)
              .filter((t) => !this.supports(t)),
          ),
        ].sort();
        if (unknown.length > 0)
          throw new TemplateError(
            `Template format error: Unrecognized resource types: [${unknown.join(', ')}]`,
          );
      }
      const need = requiredCapabilities(processed).caps;
      const missing = need.filter(
        (c) =>
          !capabilities.includes(c) &&
          !(c === 'CAPABILITY_IAM' && capabilities.includes('CAPABILITY_NAMED_IAM')),
      );
      if (missing.length > 0) throw errors.capabilities(missing);
      const pseudo = pseudoParameters({ ...scope, stackName: stack.stackName, stackId: stack.stackId });
      const conditions = evaluateConditions(processed, {
        parameters: values,
        pseudo,
        mappings: processed.Mappings ?? {},
      });
      const raw: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) raw[k] = Array.isArray(v) ? v.join(',') : v;
      return { original, processed, values, raw, described, conditions };
    } catch (e) {
      throw toValidation(e);
    }
  }

  private supports(type: string): boolean {
    return this.providers[type] !== undefined || this.recorded.has(type);
  }

  private newStackId(scope: Scope, name: string): string {
    return `arn:aws:cloudformation:${scope.region}:${scope.accountId}:stack/${name}/${randomUUID()}`;
  }

  // ------------------------------------------------------------------ operations

  async createStack(scope: Scope, input: StackInput): Promise<string> {
    const existing = await this.findStack(scope, input.stackName);
    if (existing) {
      if (input.clientRequestToken && existing.clientRequestToken === input.clientRequestToken)
        return existing.stackId;
      throw errors.alreadyExists(input.stackName);
    }
    const stackId = this.newStackId(scope, input.stackName);
    const tags = input.tags ?? [];
    const capabilities = input.capabilities ?? [];
    const prep = this.prepare(
      scope,
      { stackName: input.stackName, stackId, tags },
      input.templateBody ?? '',
      input.parameters,
      capabilities,
      { requireAutoExpand: true },
    );
    const stack: StackRecord = {
      stackId,
      stackName: input.stackName,
      ...scope,
      status: 'CREATE_IN_PROGRESS',
      statusReason: 'User Initiated',
      creationTime: this.clock.now(),
      description: prep.processed.Description,
      templateBody: input.templateBody ?? '',
      processedTemplate: JSON.stringify(prep.processed),
      parameters: prep.raw,
      describedParameters: prep.described,
      tags,
      capabilities,
      disableRollback: input.disableRollback === true || input.onFailure === 'DO_NOTHING',
      onFailure: input.onFailure,
      outputs: [],
      imports: [],
      notificationARNs: input.notificationARNs ?? [],
      clientRequestToken: input.clientRequestToken,
    };
    const claimed = await this.store.insert(C.names, scopeKey(scope) + input.stackName, stackId);
    if (!claimed) throw errors.alreadyExists(input.stackName);
    await this.store.put(C.stacks, this.stackKey(scope, stackId), stack);
    await this.event(stack, input.stackName, stackId, STACK_TYPE, 'CREATE_IN_PROGRESS', 'User Initiated');
    this.launch(stack, () => this.runCreate(stack, prep));
    return stackId;
  }

  async updateStack(scope: Scope, input: StackInput): Promise<string> {
    const stack = await this.getStack(scope, input.stackName);
    this.assertUpdatable(stack);
    const body = input.usePreviousTemplate ? stack.templateBody : (input.templateBody ?? '');
    const tags = input.tags ?? stack.tags;
    const capabilities = input.capabilities ?? [];
    const prep = this.prepare(scope, { ...stack, tags }, body, input.parameters, capabilities, {
      previous: stack.parameters,
      requireAutoExpand: true,
    });
    if (
      JSON.stringify(prep.processed) === stack.processedTemplate &&
      deepEqual(prep.raw, stack.parameters) &&
      deepEqual(tags, stack.tags)
    )
      throw errors.noUpdates();
    const previous = { ...stack };
    Object.assign(stack, {
      templateBody: body,
      processedTemplate: JSON.stringify(prep.processed),
      parameters: prep.raw,
      describedParameters: prep.described,
      description: prep.processed.Description,
      tags,
      capabilities,
      lastUpdatedTime: this.clock.now(),
      clientRequestToken: input.clientRequestToken,
      disableRollback: input.disableRollback ?? false,
    });
    await this.setStatus(stack, 'UPDATE_IN_PROGRESS', 'User Initiated');
    this.launch(stack, () => this.runUpdate(stack, prep, previous));
    return stack.stackId;
  }

  async deleteStack(scope: Scope, nameOrId: string, retain: string[] = []): Promise<void> {
    const stack = await this.findStack(scope, nameOrId);
    if (!stack || stack.status === 'DELETE_COMPLETE') return; // deleting a missing stack succeeds
    const prior = this.running.get(stack.stackId);
    const run = async () => {
      await prior?.catch(() => {});
      const fresh =
        (await this.store.get<StackRecord>(C.stacks, this.stackKey(scope, stack.stackId))) ?? stack;
      if (fresh.status === 'DELETE_COMPLETE') return;
      await this.runDelete(fresh, new Set(retain));
    };
    if (prior) {
      const p = run().finally(() => {
        if (this.running.get(stack.stackId) === p) this.running.delete(stack.stackId);
      });
      this.running.set(stack.stackId, p);
      return;
    }
    if (isInProgress(stack.status)) throw errors.busy(stack.stackId, stack.status, 'deleted');
    this.launch(stack, run);
  }

  private assertUpdatable(stack: StackRecord): void {
    if (this.running.has(stack.stackId) || !TERMINAL_OK.has(stack.status))
      throw errors.busy(stack.stackId, stack.status);
  }

  private launch(stack: StackRecord, fn: () => Promise<void>): void {
    const p = fn()
      .catch((e: unknown) => this.logger.error('stack operation crashed', { stackId: stack.stackId, err: e }))
      .finally(() => {
        if (this.running.get(stack.stackId) === p) this.running.delete(stack.stackId);
      });
    this.running.set(stack.stackId, p);
  }

  // ------------------------------------------------------------------ bookkeeping

  private async event(
    stack: StackRecord,
    logicalId: string,
    physicalId: string,
    type: string,
    status: string,
    reason?: string,
    props?: Record<string, unknown>,
  ): Promise<void> {
    const ts = this.clock.now();
    const seq = String(++this.eventSeq).padStart(10, '0');
    const ev: StackEvent = {
      StackId: stack.stackId,
      EventId:
        type === STACK_TYPE && logicalId === stack.stackName
          ? randomUUID()
          : `${logicalId}-${status}-${new Date(ts).toISOString()}`,
      StackName: stack.stackName,
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId,
      ResourceType: type,
      Timestamp: ts,
      ResourceStatus: status,
      ResourceStatusReason: reason,
      ResourceProperties: props ? JSON.stringify(props) : undefined,
      ClientRequestToken: stack.clientRequestToken,
    };
    await this.store.put(C.events, `${stack.stackId}|${String(ts).padStart(15, '0')}|${seq}`, ev);
  }

  private async setStatus(stack: StackRecord, status: StackStatus, reason?: string): Promise<void> {
    stack.status = status;
    stack.statusReason = reason;
    await this.store.put(C.stacks, this.stackKey(stack, stack.stackId), stack);
    await this.event(stack, stack.stackName, stack.stackId, STACK_TYPE, status, reason);
  }

  private async putResource(stack: StackRecord, r: ResourceRecord): Promise<void> {
    await this.store.put(C.resources, `${stack.stackId}|${r.logicalId}`, r);
  }

  private async dropResource(stack: StackRecord, logicalId: string): Promise<void> {
    await this.store.delete(C.resources, `${stack.stackId}|${logicalId}`);
  }

  private resourceContext(stack: StackRecord, logicalId: string, cfg: () => ClientConfig): ResourceContext {
    return {
      accountId: stack.accountId,
      region: stack.region,
      stackName: stack.stackName,
      stackId: stack.stackId,
      logicalId,
      get clientConfig() {
        return cfg();
      },
      logger: this.logger.child({ stack: stack.stackName, resource: logicalId }),
      physicalName: (max?: number) => physicalName(stack.stackName, logicalId, max),
    };
  }

  private clientConfigGetter(stack: StackRecord): () => ClientConfig {
    let cached: ClientConfig | undefined;
    return () => (cached ??= this.clientConfigFor(stack, stack.stackName));
  }

  private async exportMap(scope: Scope): Promise<Map<string, ExportRecord>> {
    return new Map((await this.listExports(scope)).map((e) => [e.name, e]));
  }

  private intrinsics(
    stack: StackRecord,
    prep: Prepared,
    resources: Map<string, ResourceRecord>,
    exports: Map<string, ExportRecord>,
    imports: Set<string>,
  ): IntrinsicContext {
    const t = prep.processed;
    return {
      parameters: prep.values,
      pseudo: pseudoParameters({ ...stack, stackName: stack.stackName, stackId: stack.stackId }),
      conditions: prep.conditions,
      mappings: t.Mappings ?? {},
      ref: (id) => {
        const r = resources.get(id);
        if (!r)
          throw new TemplateError(
            `Template format error: Unresolved resource dependencies [${id}] in the Resources block of the template`,
          );
        return r.physicalId;
      },
      getAtt: (id, attr) => {
        const r = resources.get(id);
        if (!r)
          throw new TemplateError(
            `Template format error: Unresolved resource dependencies [${id}] in the Resources block of the template`,
          );
        if (!(attr in r.attributes))
          throw new TemplateError(`Requested attribute ${attr} does not exist in schema for ${r.type}`);
        return r.attributes[attr];
      },
      importValue: (name) => {
        const e = exports.get(name);
        if (!e) throw new TemplateError(`No export named ${name} found.`);
        imports.add(name);
        return e.value;
      },
    };
  }

  private included(prep: Prepared): string[] {
    return Object.entries(prep.processed.Resources)
      .filter(([, r]) => r.Condition === undefined || prep.conditions[r.Condition] === true)
      .map(([id]) => id);
  }

  /** Creates one resource: resolve its properties now, call its provider, record it. */
  private async createResource(
    stack: StackRecord,
    prep: Prepared,
    id: string,
    ctx: IntrinsicContext,
    cfg: () => ClientConfig,
    replacing?: ResourceRecord,
  ): Promise<ResourceRecord> {
    const def = prep.processed.Resources[id];
    const props = (resolve(def.Properties ?? {}, ctx) ?? {}) as Record<string, unknown>;
    const provider = this.providers[def.Type];
    const base = {
      logicalId: id,
      type: def.Type,
      props,
      deletionPolicy: def.DeletionPolicy,
      metadata: def.Metadata,
    };
    if (!provider) {
      const skipped = !this.recorded.has(def.Type);
      const rec: ResourceRecord = {
        ...base,
        physicalId: physicalName(stack.stackName, id),
        attributes: {},
        status: 'CREATE_COMPLETE',
        statusReason: skipped
          ? `Nimbus does not support ${def.Type}: skipped (${SKIP_UNSUPPORTED_TAG})`
          : `Nimbus records ${def.Type} without a service behind it`,
        timestamp: this.clock.now(),
        recordedOnly: true,
      };
      await this.event(stack, id, rec.physicalId, def.Type, 'CREATE_COMPLETE', rec.statusReason, props);
      return rec;
    }
    if (replacing)
      await this.event(
        stack,
        id,
        replacing.physicalId,
        def.Type,
        'UPDATE_IN_PROGRESS',
        'Requested update requires the creation of a new physical resource; hence creating one.',
        props,
      );
    else await this.event(stack, id, '', def.Type, 'CREATE_IN_PROGRESS', undefined, props);
    try {
      const out = await provider.create(props, this.resourceContext(stack, id, cfg));
      const status = replacing ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE';
      const rec: ResourceRecord = {
        ...base,
        physicalId: out.physicalId,
        attributes: out.attributes,
        status,
        timestamp: this.clock.now(),
      };
      await this.event(stack, id, out.physicalId, def.Type, status);
      return rec;
    } catch (e) {
      await this.event(
        stack,
        id,
        replacing?.physicalId ?? '',
        def.Type,
        replacing ? 'UPDATE_FAILED' : 'CREATE_FAILED',
        messageOf(e),
      );
      throw e;
    }
  }

  private async deleteResource(
    stack: StackRecord,
    r: ResourceRecord,
    cfg: () => ClientConfig,
    retain = false,
  ): Promise<void> {
    if (retain || r.deletionPolicy === 'Retain' || r.deletionPolicy === 'RetainExceptOnCreate') {
      await this.event(stack, r.logicalId, r.physicalId, r.type, 'DELETE_SKIPPED');
      return;
    }
    await this.event(stack, r.logicalId, r.physicalId, r.type, 'DELETE_IN_PROGRESS');
    const provider = this.providers[r.type];
    try {
      if (provider && !r.recordedOnly)
        await provider.delete(r.physicalId, r.props, this.resourceContext(stack, r.logicalId, cfg));
    } catch (e) {
      await this.event(stack, r.logicalId, r.physicalId, r.type, 'DELETE_FAILED', messageOf(e));
      throw e;
    }
    await this.event(stack, r.logicalId, r.physicalId, r.type, 'DELETE_COMPLETE');
  }

  /** Deletes records in reverse dependency order (a resource goes after everything that needs it). */
  private async deleteAll(
    stack: StackRecord,
    records: ResourceRecord[],
    graph: Map<string, Set<string>>,
    cfg: () => ClientConfig,
    retain: Set<string> = new Set(),
  ): Promise<Map<string, unknown>> {
    const byId = new Map(records.map((r) => [r.logicalId, r]));
    const dependents = new Map<string, Set<string>>();
    for (const id of byId.keys()) dependents.set(id, new Set());
    for (const [id, needs] of graph) {
      if (!byId.has(id)) continue;
      for (const d of needs) dependents.get(d)?.add(id);
    }
    const { failed } = await runInOrder(
      [...byId.keys()],
      (id) => dependents.get(id) ?? [],
      async (id) => {
        const r = byId.get(id) as ResourceRecord;
        await this.deleteResource(stack, r, cfg, retain.has(id));
        await this.dropResource(stack, id);
      },
    );
    return failed;
  }

  private async resolveOutputs(
    stack: StackRecord,
    prep: Prepared,
    ctx: IntrinsicContext,
    exports: Map<string, ExportRecord>,
  ): Promise<StackOutput[]> {
    const outputs: StackOutput[] = [];
    for (const [key, o] of Object.entries(prep.processed.Outputs ?? {})) {
      if (o.Condition !== undefined && prep.conditions[o.Condition] !== true) continue;
      const value = outputString(resolve(o.Value, ctx));
      const out: StackOutput = { OutputKey: key, OutputValue: value, Description: o.Description };
      if (o.Export) {
        const name = String(resolve(o.Export.Name, ctx));
        const owner = exports.get(name);
        if (owner && owner.stackId !== stack.stackId)
          throw new TemplateError(`Export with name ${name} is already exported by stack ${owner.stackName}`);
        if (outputs.some((x) => x.ExportName === name))
          throw new TemplateError(`Export with name ${name} is already exported by stack ${stack.stackName}`);
        out.ExportName = name;
      }
      outputs.push(out);
    }
    // Exports other stacks import may not disappear or change.
    for (const old of stack.outputs) {
      if (!old.ExportName) continue;
      const now = outputs.find((o) => o.ExportName === old.ExportName);
      if (now && now.OutputValue === old.OutputValue) continue;
      const users = (await this.listImports(stack, old.ExportName)).filter((n) => n !== stack.stackName);
      if (users.length > 0)
        throw new TemplateError(
          now
            ? `Cannot update export ${old.ExportName} as it is in use by ${users.join(', ')}`
            : `Cannot delete export ${old.ExportName} as it is in use by ${users.join(', ')}`,
        );
    }
    return outputs;
  }

  private async writeExports(stack: StackRecord, outputs: StackOutput[]): Promise<void> {
    await this.store.transaction(async (tx) => {
      const mine = await tx.scan<ExportRecord>(C.exports, { prefix: scopeKey(stack) });
      for (const { key, value } of mine) if (value.stackId === stack.stackId) await tx.delete(C.exports, key);
      for (const o of outputs) {
        if (!o.ExportName) continue;
        const key = scopeKey(stack) + o.ExportName;
        const owner = await tx.get<ExportRecord>(C.exports, key);
        if (owner && owner.stackId !== stack.stackId)
          throw new TemplateError(
            `Export with name ${o.ExportName} is already exported by stack ${owner.stackName}`,
          );
        await tx.put<ExportRecord>(C.exports, key, {
          name: o.ExportName,
          value: o.OutputValue,
          stackId: stack.stackId,
          stackName: stack.stackName,
        });
      }
    });
  }

  private async runCreate(stack: StackRecord, prep: Prepared): Promise<void> {
    const cfg = this.clientConfigGetter(stack);
    const graph = dependencyGraph(prep.processed);
    const created = new Map<string, ResourceRecord>();
    const exports = await this.exportMap(stack);
    const imports = new Set<string>();
    const ctx = this.intrinsics(stack, prep, created, exports, imports);
    const ids = this.included(prep);
    const { failed, notStarted } = await runInOrder(
      ids,
      (id) => graph.get(id) ?? [],
      async (id) => {
        const rec = await this.createResource(stack, prep, id, ctx, cfg);
        created.set(id, rec);
        await this.putResource(stack, rec);
      },
    );
    let reason: string | undefined;
    if (failed.size > 0) {
      reason = `The following resource(s) failed to create: [${[...failed.keys()].sort().join(', ')}]. `;
      for (const [id, e] of failed)
        this.logger.info('resource failed', { stack: stack.stackName, id, err: messageOf(e) });
      void notStarted;
    } else {
      try {
        stack.outputs = await this.resolveOutputs(stack, prep, ctx, exports);
        stack.imports = [...imports].sort();
        await this.writeExports(stack, stack.outputs);
      } catch (e) {
        stack.outputs = [];
        reason = messageOf(e);
      }
    }
    if (reason === undefined) {
      await this.setStatus(stack, 'CREATE_COMPLETE');
      return;
    }
    if (stack.disableRollback) {
      await this.setStatus(stack, 'CREATE_FAILED', reason);
      return;
    }
    await this.setStatus(
      stack,
      'ROLLBACK_IN_PROGRESS',
      reason + (failed.size > 0 ? 'Rollback requested by user.' : ''),
    );
    const left = await this.deleteAll(stack, [...created.values()], graph, cfg);
    if (left.size > 0) {
      await this.setStatus(
        stack,
        'ROLLBACK_FAILED',
        `The following resource(s) failed to delete: [${[...left.keys()].sort().join(', ')}]. `,
      );
      return;
    }
    await this.setStatus(stack, 'ROLLBACK_COMPLETE');
    if (stack.onFailure === 'DELETE') await this.runDelete(stack, new Set());
  }

  private async runUpdate(stack: StackRecord, prep: Prepared, previous: StackRecord): Promise<void> {
    const cfg = this.clientConfigGetter(stack);
    const graph = dependencyGraph(prep.processed);
    const old = new Map((await this.resources(stack)).map((r) => [r.logicalId, r]));
    const current = new Map(old);
    const exports = await this.exportMap(stack);
    const imports = new Set<string>();
    const ctx = this.intrinsics(stack, prep, current, exports, imports);
    const ids = this.included(prep);
    const touched: { id: string; kind: 'added' | 'updated' | 'replaced'; before?: ResourceRecord }[] = [];
    const { failed } = await runInOrder(
      ids,
      (id) => graph.get(id) ?? [],
      async (id) => {
        const def = prep.processed.Resources[id];
        const before = old.get(id);
        if (!before) {
          touched.push({ id, kind: 'added' });
          const rec = await this.createResource(stack, prep, id, ctx, cfg);
          current.set(id, rec);
          await this.putResource(stack, rec);
          return;
        }
        const props = (resolve(def.Properties ?? {}, ctx) ?? {}) as Record<string, unknown>;
        const provider = this.providers[def.Type];
        const changed = changedProps(before.props, props);
        if (before.type === def.Type && changed.length === 0) {
          if (before.deletionPolicy !== def.DeletionPolicy) {
            const rec = { ...before, deletionPolicy: def.DeletionPolicy };
            current.set(id, rec);
            await this.putResource(stack, rec);
          }
          return;
        }
        if (before.type !== def.Type || (provider && needsReplacement(provider.replaceOn, changed))) {
          touched.push({ id, kind: 'replaced', before });
          const rec = await this.createResource(stack, prep, id, ctx, cfg, before);
          current.set(id, rec);
          await this.putResource(stack, rec);
          return;
        }
        touched.push({ id, kind: 'updated', before });
        await this.event(stack, id, before.physicalId, def.Type, 'UPDATE_IN_PROGRESS', undefined, props);
        try {
          const out =
            provider && !before.recordedOnly
              ? await provider.update(
                  before.physicalId,
                  props,
                  { props: before.props, attributes: before.attributes },
                  this.resourceContext(stack, id, cfg),
                )
              : { physicalId: before.physicalId, attributes: before.attributes };
          const rec: ResourceRecord = {
            ...before,
            props,
            physicalId: out.physicalId,
            attributes: out.attributes,
            status: 'UPDATE_COMPLETE',
            timestamp: this.clock.now(),
            deletionPolicy: def.DeletionPolicy,
            metadata: def.Metadata,
          };
          current.set(id, rec);
          await this.putResource(stack, rec);
          await this.event(stack, id, out.physicalId, def.Type, 'UPDATE_COMPLETE');
        } catch (e) {
          await this.event(stack, id, before.physicalId, def.Type, 'UPDATE_FAILED', messageOf(e));
          throw e;
        }
      },
    );
    let reason: string | undefined;
    let outputs: StackOutput[] = [];
    if (failed.size > 0) {
      reason = `The following resource(s) failed to update: [${[...failed.keys()].sort().join(', ')}]. `;
    } else {
      try {
        outputs = await this.resolveOutputs(stack, prep, ctx, exports);
      } catch (e) {
        reason = messageOf(e);
      }
    }
    if (reason === undefined) {
      stack.outputs = outputs;
      stack.imports = [...imports].sort();
      await this.writeExports(stack, outputs);
      await this.setStatus(stack, 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
      const keep = new Set(ids);
      const removed = [...old.values()].filter((r) => !keep.has(r.logicalId));
      const oldGraph = dependencyGraph(JSON.parse(previous.processedTemplate) as Template);
      const failedRemovals = await this.deleteAll(stack, removed, oldGraph, cfg);
      for (const t of touched) {
        if (t.kind !== 'replaced' || !t.before) continue;
        try {
          await this.deleteResource(stack, t.before, cfg);
        } catch (e) {
          this.logger.warn('old resource not deleted', {
            stack: stack.stackName,
            id: t.id,
            err: messageOf(e),
          });
        }
      }
      if (failedRemovals.size > 0)
        this.logger.warn('resources not deleted during cleanup', { ids: [...failedRemovals.keys()] });
      await this.setStatus(stack, 'UPDATE_COMPLETE');
      return;
    }
    if (stack.disableRollback) {
      await this.setStatus(stack, 'UPDATE_FAILED', reason);
      return;
    }
    await this.setStatus(stack, 'UPDATE_ROLLBACK_IN_PROGRESS', reason);
    const problems: string[] = [];
    for (const t of [...touched].reverse()) {
      const now = current.get(t.id);
      try {
        if (t.kind === 'updated' && t.before && now) {
          const provider = this.providers[t.before.type];
          await this.event(stack, t.id, t.before.physicalId, t.before.type, 'UPDATE_IN_PROGRESS');
          if (provider && !t.before.recordedOnly && now.status !== 'UPDATE_IN_PROGRESS' && !failed.has(t.id))
            await provider.update(
              t.before.physicalId,
              t.before.props,
              { props: now.props, attributes: now.attributes },
              this.resourceContext(stack, t.id, cfg),
            );
          await this.putResource(stack, t.before);
          await this.event(stack, t.id, t.before.physicalId, t.before.type, 'UPDATE_COMPLETE');
        } else if (t.kind === 'updated' && t.before) {
          await this.putResource(stack, t.before);
        } else if (t.kind === 'added') {
          if (now) {
            await this.deleteResource(stack, now, cfg);
            await this.dropResource(stack, t.id);
          }
        } else if (t.kind === 'replaced' && t.before) {
          await this.putResource(stack, t.before);
        }
      } catch (e) {
        problems.push(t.id);
        this.logger.warn('rollback step failed', { stack: stack.stackName, id: t.id, err: messageOf(e) });
      }
    }
    Object.assign(stack, {
      templateBody: previous.templateBody,
      processedTemplate: previous.processedTemplate,
      parameters: previous.parameters,
      describedParameters: previous.describedParameters,
      description: previous.description,
      tags: previous.tags,
      outputs: previous.outputs,
    });
    if (problems.length > 0) {
      await this.setStatus(
        stack,
        'UPDATE_ROLLBACK_FAILED',
        `The following resource(s) failed to update: [${problems.sort().join(', ')}]. `,
      );
      return;
    }
    await this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    for (const t of touched) {
      if (t.kind !== 'replaced') continue;
      const now = current.get(t.id);
      if (now && now !== t.before) await this.deleteResource(stack, now, cfg).catch(() => {});
    }
    await this.setStatus(stack, 'UPDATE_ROLLBACK_COMPLETE');
  }

  private async runDelete(stack: StackRecord, retain: Set<string>): Promise<void> {
    const users: string[] = [];
    for (const o of stack.outputs) {
      if (!o.ExportName) continue;
      const by = (await this.listImports(stack, o.ExportName)).filter((n) => n !== stack.stackName);
      if (by.length > 0)
        users.push(`Export ${o.ExportName} cannot be deleted as it is in use by ${by.join(', ')}`);
    }
    await this.setStatus(stack, 'DELETE_IN_PROGRESS', 'User Initiated');
    if (users.length > 0) {
      await this.setStatus(stack, 'DELETE_FAILED', users.join('; '));
      return;
    }
    const cfg = this.clientConfigGetter(stack);
    const graph = dependencyGraph(JSON.parse(stack.processedTemplate) as Template);
    const failed = await this.deleteAll(stack, await this.resources(stack), graph, cfg, retain);
    if (failed.size > 0) {
      await this.setStatus(
        stack,
        'DELETE_FAILED',
        `The following resource(s) failed to delete: [${[...failed.keys()].sort().join(', ')}]. `,
      );
      return;
    }
    await this.writeExports(stack, []);
    stack.deletionTime = this.clock.now();
    stack.outputs = [];
    stack.imports = [];
    await this.setStatus(stack, 'DELETE_COMPLETE');
    await this.store.delete(C.names, scopeKey(stack) + stack.stackName);
    for (const cs of await this.changeSets(stack))
      await this.store.delete(C.changeSets, `${stack.stackId}|${cs.changeSetName}`);
  }

  // ------------------------------------------------------------------ change sets

  async changeSets(stack: StackRecord): Promise<ChangeSetRecord[]> {
    return (await this.store.scan<ChangeSetRecord>(C.changeSets, { prefix: stack.stackId + '|' })).map(
      (r) => r.value,
    );
  }

  async findChangeSet(scope: Scope, nameOrArn: string, stackName?: string): Promise<ChangeSetRecord> {
    if (nameOrArn.startsWith('arn:')) {
      for (const s of await this.listStacks(scope))
        for (const cs of await this.changeSets(s)) if (cs.changeSetId === nameOrArn) return cs;
      throw errors.changeSetNotFound(nameOrArn);
    }
    if (!stackName)
      throw errors.validation('StackName must be specified if ChangeSetName is not specified as an ARN.');
    const stack = await this.findStack(scope, stackName);
    if (!stack) throw errors.changeSetNotFound(nameOrArn);
    const cs = await this.store.get<ChangeSetRecord>(C.changeSets, `${stack.stackId}|${nameOrArn}`);
    if (!cs) throw errors.changeSetNotFound(nameOrArn);
    return cs;
  }

  async createChangeSet(scope: Scope, input: ChangeSetInput): Promise<{ id: string; stackId: string }> {
    const type = input.changeSetType ?? 'UPDATE';
    if (type === 'IMPORT') throw errors.validation('Nimbus does not support ChangeSetType IMPORT');
    if (type !== 'CREATE' && type !== 'UPDATE')
      throw errors.validation(
        `1 validation error detected: Value '${type}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [UPDATE, IMPORT, CREATE]`,
      );
    let stack = await this.findStack(scope, input.stackName);
    if (type === 'CREATE' && stack && stack.status !== 'REVIEW_IN_PROGRESS')
      throw errors.alreadyExists(input.stackName);
    if (type === 'UPDATE' && (!stack || stack.status === 'REVIEW_IN_PROGRESS'))
      throw errors.stackNotFound(input.stackName);
    if (stack && (await this.store.get(C.changeSets, `${stack.stackId}|${input.changeSetName}`)))
      throw new AwsError('AlreadyExistsException', `ChangeSet ${input.changeSetName} already exists`, 400);
    const stackId = stack?.stackId ?? this.newStackId(scope, input.stackName);
    const tags = input.tags ?? stack?.tags ?? [];
    const capabilities = input.capabilities ?? [];
    const body = input.usePreviousTemplate && stack ? stack.templateBody : (input.templateBody ?? '');
    const prep = this.prepare(
      scope,
      { stackName: input.stackName, stackId, tags },
      body,
      input.parameters,
      capabilities,
      {
        previous: type === 'UPDATE' ? stack?.parameters : undefined,
        requireAutoExpand: false,
      },
    );
    if (!stack) {
      stack = {
        stackId,
        stackName: input.stackName,
        ...scope,
        status: 'REVIEW_IN_PROGRESS',
        statusReason: 'User Initiated',
        creationTime: this.clock.now(),
        templateBody: '',
        processedTemplate: JSON.stringify({ Resources: {} }),
        parameters: {},
        describedParameters: [],
        tags,
        capabilities,
        disableRollback: false,
        outputs: [],
        imports: [],
        notificationARNs: input.notificationARNs ?? [],
      };
      if (!(await this.store.insert(C.names, scopeKey(scope) + input.stackName, stackId)))
        throw errors.alreadyExists(input.stackName);
      await this.store.put(C.stacks, this.stackKey(scope, stackId), stack);
      await this.event(stack, stack.stackName, stackId, STACK_TYPE, 'REVIEW_IN_PROGRESS', 'User Initiated');
    }
    const changes = await this.diff(stack, prep);
    const unchanged =
      type === 'UPDATE' &&
      changes.length === 0 &&
      JSON.stringify(prep.processed) === stack.processedTemplate &&
      deepEqual(prep.raw, stack.parameters);
    const cs: ChangeSetRecord = {
      changeSetId: `arn:aws:cloudformation:${scope.region}:${scope.accountId}:changeSet/${input.changeSetName}/${randomUUID()}`,
      changeSetName: input.changeSetName,
      stackId,
      stackName: input.stackName,
      ...scope,
      type,
      description: input.description,
      status: unchanged ? 'FAILED' : 'CREATE_COMPLETE',
      statusReason: unchanged
        ? "The submitted information didn't contain changes. Submit different information to create a change set."
        : undefined,
      executionStatus: unchanged ? 'UNAVAILABLE' : 'AVAILABLE',
      creationTime: this.clock.now(),
      templateBody: body,
      parameters: prep.raw,
      describedParameters: prep.described,
      tags,
      capabilities,
      changes,
    };
    await this.store.put(C.changeSets, `${stackId}|${cs.changeSetName}`, cs);
    return { id: cs.changeSetId, stackId };
  }

  /** What executing `prep` against the stack's current resources would do (static evaluation). */
  private async diff(stack: StackRecord, prep: Prepared): Promise<ResourceChangeRecord[]> {
    const old = new Map((await this.resources(stack)).map((r) => [r.logicalId, r]));
    const exports = await this.exportMap(stack);
    const ctx = this.intrinsics(stack, prep, old, exports, new Set());
    const ids = this.included(prep);
    const changes: ResourceChangeRecord[] = [];
    for (const id of ids) {
      const def = prep.processed.Resources[id];
      const before = old.get(id);
      if (!before) {
        changes.push({
          Action: 'Add',
          LogicalResourceId: id,
          ResourceType: def.Type,
          Scope: [],
          Details: [],
        });
        continue;
      }
      const provider = this.providers[def.Type];
      if (before.type !== def.Type) {
        changes.push({
          Action: 'Modify',
          LogicalResourceId: id,
          PhysicalResourceId: before.physicalId,
          ResourceType: def.Type,
          Replacement: 'True',
          Scope: ['Properties'],
          Details: [],
        });
        continue;
      }
      let changed: string[];
      let dynamic = false;
      try {
        changed = changedProps(
          before.props,
          (resolve(def.Properties ?? {}, ctx) ?? {}) as Record<string, unknown>,
        );
      } catch {
        // Refers to something not created yet: compare property by property where possible.
        dynamic = true;
        changed = [];
        const raw = def.Properties ?? {};
        for (const k of new Set([...Object.keys(before.props), ...Object.keys(raw)])) {
          try {
            if (!deepEqual(before.props[k], resolve(raw[k], ctx))) changed.push(k);
          } catch {
            changed.push(k);
          }
        }
      }
      if (changed.length === 0) continue;
      const replaceOn = provider?.replaceOn ?? [];
      const replaces = needsReplacement(replaceOn, changed);
      changes.push({
        Action: 'Modify',
        LogicalResourceId: id,
        PhysicalResourceId: before.physicalId,
        ResourceType: def.Type,
        Replacement: replaces ? (dynamic ? 'Conditional' : 'True') : 'False',
        Scope: ['Properties'],
        Details: changed.map((name) => ({
          Target: {
            Attribute: 'Properties',
            Name: name,
            RequiresRecreation: replaceOn.includes('*') || replaceOn.includes(name) ? 'Always' : 'Never',
          },
          Evaluation: dynamic ? 'Dynamic' : 'Static',
          ChangeSource: 'DirectModification',
        })),
      });
    }
    for (const [id, r] of old)
      if (!ids.includes(id))
        changes.push({
          Action: 'Remove',
          LogicalResourceId: id,
          PhysicalResourceId: r.physicalId,
          ResourceType: r.type,
          Scope: [],
          Details: [],
        });
    return changes;
  }

  async executeChangeSet(
    scope: Scope,
    nameOrArn: string,
    stackName?: string,
    disableRollback?: boolean,
  ): Promise<void> {
    const cs = await this.findChangeSet(scope, nameOrArn, stackName);
    if (cs.executionStatus !== 'AVAILABLE')
      throw new AwsError(
        'InvalidChangeSetStatus',
        `ChangeSet [${cs.changeSetId}] cannot be executed in its current execution status of [${cs.executionStatus}]`,
        400,
      );
    const stack = await this.getStack(scope, cs.stackId);
    if (
      this.running.has(stack.stackId) ||
      (!TERMINAL_OK.has(stack.status) && stack.status !== 'REVIEW_IN_PROGRESS')
    )
      throw errors.busy(stack.stackId, stack.status);
    const prep = this.prepare(
      scope,
      { ...stack, tags: cs.tags },
      cs.templateBody,
      Object.entries(cs.parameters).map(([key, value]) => ({ key, value })),
      cs.capabilities,
      {
        requireAutoExpand: false,
      },
    );
    // Executing a change set makes the stack's other change sets obsolete; AWS deletes them.
    for (const other of await this.changeSets(stack))
      await this.store.delete(C.changeSets, `${stack.stackId}|${other.changeSetName}`);
    const previous = { ...stack };
    Object.assign(stack, {
      templateBody: cs.templateBody,
      processedTemplate: JSON.stringify(prep.processed),
      parameters: prep.raw,
      describedParameters: prep.described,
      description: prep.processed.Description,
      tags: cs.tags,
      capabilities: cs.capabilities,
      changeSetId: cs.changeSetId,
      disableRollback: disableRollback ?? false,
    });
    if (stack.status === 'REVIEW_IN_PROGRESS') {
      stack.creationTime = this.clock.now();
      await this.setStatus(stack, 'CREATE_IN_PROGRESS', 'User Initiated');
      this.launch(stack, () => this.runCreate(stack, prep));
    } else {
      stack.lastUpdatedTime = this.clock.now();
      await this.setStatus(stack, 'UPDATE_IN_PROGRESS', 'User Initiated');
      this.launch(stack, () => this.runUpdate(stack, prep, previous));
    }
  }

  async deleteChangeSet(scope: Scope, nameOrArn: string, stackName?: string): Promise<void> {
    const cs = await this.findChangeSet(scope, nameOrArn, stackName);
    await this.store.delete(C.changeSets, `${cs.stackId}|${cs.changeSetName}`);
  }
}
