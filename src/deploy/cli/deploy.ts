/**
 * The client side of `nimbus deploy` / `diff` / `delete` / `stacks`: build, package, then the
 * CloudFormation API (change sets, stack events) through @aws-sdk/client-cloudformation, exactly
 * as any client would use it. Also the programmatic `deployStack` used by `nimbus up --example`.
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  ListStacksCommand,
  type Change,
  type Stack,
  type StackEvent,
  type StackStatus,
  type StackSummary,
} from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { ARTIFACT_BUCKET, type ClientConfig } from '../types.js';
import { buildTemplate } from './build.js';
import { packageDefinitions, packageTemplate, uploadOnce, ensureBucket } from './package.js';
import { loadTemplateFile } from './template-file.js';
import { createHash } from 'node:crypto';

/** Over this many bytes the template goes to S3 and CloudFormation gets a TemplateURL. */
export const MAX_TEMPLATE_BODY = 51_200;
const CAPABILITIES = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'];
const POLL_MS = 200;

export interface DeployOptions {
  templateFile: string;
  stackName: string;
  parameterOverrides?: Record<string, string>;
  tags?: Record<string, string>;
  capabilities?: string[];
  skipUnsupported?: boolean;
  noBuild?: boolean;
  endpoint: string;
  region?: string;
  credentials?: ClientConfig['credentials'];
  /** Every progress line (build, upload, change set, stack events, outputs). */
  onEvent?: (line: string) => void;
  /** Environment of the build tools. */
  env?: NodeJS.ProcessEnv;
}

export interface StackOutput {
  OutputKey: string;
  OutputValue: string;
  Description?: string;
}

export interface DeployResult {
  StackName: string;
  StackStatus: string;
  Outputs: StackOutput[];
  /** True when the change set was empty and nothing was executed. */
  noChanges?: boolean;
  /** Reasons of the failed resources when the deploy failed. */
  failures?: string[];
}

/** The deploy reached a failed / rolled back state; `result` has the status and reasons. */
export class DeployError extends Error {
  override name = 'DeployError';
  constructor(
    message: string,
    readonly result: DeployResult,
  ) {
    super(message);
  }
}

export function sdkConfig(opts: Pick<DeployOptions, 'endpoint' | 'region' | 'credentials'>): ClientConfig {
  return {
    endpoint: opts.endpoint,
    region: opts.region ?? 'us-east-1',
    credentials: opts.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

function errMessage(e: unknown): string {
  return (e as { message?: string })?.message ?? String(e);
}

export async function describeStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (e) {
    if (/does not exist/.test(errMessage(e))) return undefined;
    throw e;
  }
}

export function isTerminal(status: string | undefined): boolean {
  return !!status && !status.endsWith('_IN_PROGRESS');
}

export function isSuccess(status: string | undefined): boolean {
  return status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE' || status === 'DELETE_COMPLETE';
}

/** Live event lines are printed before the widths are known: fixed columns (longer values overflow). */
const EVENT_WIDTHS = [20, 34, 40];

function eventLine(cells: string[]): string {
  return cells
    .map((c, i) => c.padEnd(EVENT_WIDTHS[i] ?? 0))
    .join('  ')
    .trimEnd();
}

export const EVENT_HEADER = eventLine([
  'ResourceStatus',
  'ResourceType',
  'LogicalResourceId',
  'ResourceStatusReason',
]);

export function formatEvent(e: StackEvent): string {
  return eventLine([
    e.ResourceStatus ?? '',
    e.ResourceType ?? '',
    e.LogicalResourceId ?? '',
    e.ResourceStatusReason ?? '',
  ]);
}

export function formatChanges(changes: Change[]): string[] {
  const rows = changes.map((c) => [
    c.ResourceChange?.Action ?? '',
    c.ResourceChange?.LogicalResourceId ?? '',
    c.ResourceChange?.ResourceType ?? '',
    c.ResourceChange?.Replacement ?? 'N/A',
  ]);
  return table(['Operation', 'LogicalResourceId', 'ResourceType', 'Replacement'], rows);
}

export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** All events of the stack, oldest first (every page). */
async function allEvents(cfn: CloudFormationClient, stackId: string): Promise<StackEvent[]> {
  const out: StackEvent[] = [];
  let next: string | undefined;
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stackId, NextToken: next }));
    out.push(...(page.StackEvents ?? []));
    next = page.NextToken;
  } while (next);
  return out.reverse();
}

/**
 * Polls the stack's events (printing each new one) until the stack reaches a terminal status;
 * returns the stack and the failure reasons seen.
 */
export async function followStack(
  cfn: CloudFormationClient,
  stackId: string,
  seen: Set<string>,
  print: (line: string) => void,
  opts: { deleting?: boolean } = {},
): Promise<{ status: string; stack?: Stack; failures: string[] }> {
  const failures: string[] = [];
  for (;;) {
    let events: StackEvent[] = [];
    try {
      events = await allEvents(cfn, stackId);
    } catch (e) {
      if (!(opts.deleting && /does not exist/.test(errMessage(e)))) throw e;
    }
    for (const e of events) {
      const id = e.EventId ?? `${e.LogicalResourceId}/${e.ResourceStatus}/${String(e.Timestamp)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      print(formatEvent(e));
      if (/FAILED$/.test(e.ResourceStatus ?? '') && e.ResourceStatusReason) {
        failures.push(`${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`);
      }
    }
    const stack = await describeStack(cfn, stackId);
    if (!stack) return { status: 'DELETE_COMPLETE', failures };
    const status = stack.StackStatus as string;
    if (isTerminal(status) && status !== 'REVIEW_IN_PROGRESS') {
      // The last events may have been written after the page we read: read once more.
      for (const e of (await allEvents(cfn, stackId).catch(() => [])) as StackEvent[]) {
        const id = e.EventId ?? `${e.LogicalResourceId}/${e.ResourceStatus}/${String(e.Timestamp)}`;
        if (seen.has(id)) continue;
        seen.add(id);
        print(formatEvent(e));
        if (/FAILED$/.test(e.ResourceStatus ?? '') && e.ResourceStatusReason) {
          failures.push(`${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`);
        }
      }
      return { status, stack, failures };
    }
    await sleep(POLL_MS);
  }
}

function outputsOf(stack: Stack | undefined): StackOutput[] {
  return (stack?.Outputs ?? []).map((o) => ({
    OutputKey: o.OutputKey ?? '',
    OutputValue: o.OutputValue ?? '',
    ...(o.Description ? { Description: o.Description } : {}),
  }));
}

export function formatOutputs(outputs: StackOutput[]): string[] {
  if (outputs.length === 0) return [];
  return [
    '',
    'Outputs',
    ...table(
      ['Key', 'Description', 'Value'],
      outputs.map((o) => [o.OutputKey, o.Description ?? '', o.OutputValue]),
    ),
  ];
}

interface PreparedChangeSet {
  cfn: CloudFormationClient;
  stackId?: string;
  changeSetName: string;
  changes: Change[];
  empty: boolean;
  type: 'CREATE' | 'UPDATE';
}

/** Build, package and create the change set (waiting until it is ready). */
async function prepareChangeSet(opts: DeployOptions, cfn: CloudFormationClient): Promise<PreparedChangeSet> {
  const print = opts.onEvent ?? (() => undefined);
  const config = sdkConfig(opts);
  const templatePath = resolve(opts.templateFile);
  const template = loadTemplateFile(templatePath);
  const artifacts = await buildTemplate(template, dirname(templatePath), {
    noBuild: opts.noBuild,
    env: opts.env,
    log: print,
  });
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  try {
    const packaged = await packageDefinitions(
      await packageTemplate(template, artifacts, s3, config.region, print),
      dirname(templatePath),
      s3,
      config.region,
      print,
    );
    const body = JSON.stringify(packaged, null, 1);
    let templateSource: { TemplateBody?: string; TemplateURL?: string } = { TemplateBody: body };
    if (Buffer.byteLength(body) > MAX_TEMPLATE_BODY) {
      await ensureBucket(s3, config.region);
      const key = `${createHash('sha256').update(body).digest('hex')}.template`;
      await uploadOnce(s3, key, Buffer.from(body));
      templateSource = { TemplateURL: `${config.endpoint}/${ARTIFACT_BUCKET}/${key}` };
      print(`Template is ${Buffer.byteLength(body)} bytes: uploaded to s3://${ARTIFACT_BUCKET}/${key}`);
    }
    const existing = await describeStack(cfn, opts.stackName);
    const type = !existing || existing.StackStatus === 'REVIEW_IN_PROGRESS' ? 'CREATE' : 'UPDATE';
    const tags = { ...(opts.tags ?? {}) };
    if (opts.skipUnsupported) tags['nimbus:skip-unsupported'] = 'true';
    const changeSetName = `nimbus-deploy-${randomBytes(6).toString('hex')}`;
    const created = await cfn.send(
      new CreateChangeSetCommand({
        StackName: opts.stackName,
        ChangeSetName: changeSetName,
        ChangeSetType: type,
        ...templateSource,
        Parameters: Object.entries(opts.parameterOverrides ?? {}).map(([ParameterKey, ParameterValue]) => ({
          ParameterKey,
          ParameterValue,
        })),
        Capabilities: [...new Set([...CAPABILITIES, ...(opts.capabilities ?? [])])] as never,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        Description: `Created by nimbus deploy`,
      }),
    );
    const stackId = created.StackId;
    print(`Waiting for change set ${changeSetName} of stack ${opts.stackName} (${type})`);
    for (;;) {
      const cs = await cfn.send(
        new DescribeChangeSetCommand({ StackName: stackId ?? opts.stackName, ChangeSetName: changeSetName }),
      );
      if (cs.Status === 'CREATE_COMPLETE') {
        const changes = [...(cs.Changes ?? [])];
        let next = cs.NextToken;
        while (next) {
          const page = await cfn.send(
            new DescribeChangeSetCommand({
              StackName: stackId ?? opts.stackName,
              ChangeSetName: changeSetName,
              NextToken: next,
            }),
          );
          changes.push(...(page.Changes ?? []));
          next = page.NextToken;
        }
        return { cfn, stackId, changeSetName, changes, empty: false, type };
      }
      if (cs.Status === 'FAILED') {
        const reason = cs.StatusReason ?? '';
        if (/didn't contain changes|No updates are to be performed/i.test(reason)) {
          return { cfn, stackId, changeSetName, changes: [], empty: true, type };
        }
        await cfn
          .send(
            new DeleteChangeSetCommand({
              StackName: stackId ?? opts.stackName,
              ChangeSetName: changeSetName,
            }),
          )
          .catch(() => undefined);
        throw new Error(`Change set ${changeSetName} failed: ${reason}`);
      }
      await sleep(POLL_MS);
    }
  } finally {
    s3.destroy();
  }
}

/** Deploys the template as the stack and follows it to the end (see DeployOptions). */
export async function deployStack(opts: DeployOptions): Promise<DeployResult> {
  const print = opts.onEvent ?? (() => undefined);
  const cfn = new CloudFormationClient(sdkConfig(opts));
  try {
    const cs = await prepareChangeSet(opts, cfn);
    const csRef = { StackName: cs.stackId ?? opts.stackName, ChangeSetName: cs.changeSetName };
    if (cs.empty) {
      await cfn.send(new DeleteChangeSetCommand(csRef)).catch(() => undefined);
      print(`No changes to deploy. Stack ${opts.stackName} is up to date`);
      const stack = await describeStack(cfn, opts.stackName);
      const outputs = outputsOf(stack);
      for (const l of formatOutputs(outputs)) print(l);
      return {
        StackName: opts.stackName,
        StackStatus: stack?.StackStatus ?? 'UNKNOWN',
        Outputs: outputs,
        noChanges: true,
      };
    }
    print('');
    print(`Changes of stack ${opts.stackName}:`);
    for (const l of formatChanges(cs.changes)) print(l);
    print('');
    const stackId = cs.stackId ?? (await describeStack(cfn, opts.stackName))?.StackId ?? opts.stackName;
    const seen = new Set(
      (await allEvents(cfn, stackId).catch(() => [] as StackEvent[])).map((e) => e.EventId ?? ''),
    );
    await cfn.send(new ExecuteChangeSetCommand(csRef));
    print(EVENT_HEADER);
    const end = await followStack(cfn, stackId, seen, print);
    const outputs = outputsOf(end.stack);
    const result: DeployResult = { StackName: opts.stackName, StackStatus: end.status, Outputs: outputs };
    if (end.status !== 'CREATE_COMPLETE' && end.status !== 'UPDATE_COMPLETE') {
      result.failures = end.failures;
      throw new DeployError(
        `Stack ${opts.stackName} failed: ${end.status}${end.failures.length ? '\n  ' + end.failures.join('\n  ') : ''}`,
        result,
      );
    }
    for (const l of formatOutputs(outputs)) print(l);
    print('');
    print(`Successfully deployed stack ${opts.stackName} (${end.status})`);
    return result;
  } finally {
    cfn.destroy();
  }
}

/** `nimbus diff`: the change set the deploy would execute (created, printed, deleted). */
export async function diffStack(opts: DeployOptions): Promise<{ changes: Change[]; type: string }> {
  const print = opts.onEvent ?? (() => undefined);
  const cfn = new CloudFormationClient(sdkConfig(opts));
  try {
    const cs = await prepareChangeSet(opts, cfn);
    const csRef = { StackName: cs.stackId ?? opts.stackName, ChangeSetName: cs.changeSetName };
    await cfn.send(new DeleteChangeSetCommand(csRef)).catch(() => undefined);
    if (cs.type === 'CREATE') {
      // A CREATE change set leaves a REVIEW_IN_PROGRESS stack behind: remove it as `sam` does.
      const stack = await describeStack(cfn, opts.stackName);
      if (stack?.StackStatus === 'REVIEW_IN_PROGRESS') {
        await cfn
          .send(new DeleteStackCommand({ StackName: stack.StackId ?? opts.stackName }))
          .catch(() => undefined);
      }
    }
    if (cs.empty) print(`No changes to deploy. Stack ${opts.stackName} is up to date`);
    else for (const l of formatChanges(cs.changes)) print(l);
    return { changes: cs.changes, type: cs.type };
  } finally {
    cfn.destroy();
  }
}

/** `nimbus delete`: DeleteStack, then the events until DELETE_COMPLETE. */
export async function deleteStack(
  opts: Pick<DeployOptions, 'stackName' | 'endpoint' | 'region' | 'credentials' | 'onEvent'>,
): Promise<DeployResult> {
  const print = opts.onEvent ?? (() => undefined);
  const cfn = new CloudFormationClient(sdkConfig(opts));
  try {
    const stack = await describeStack(cfn, opts.stackName);
    if (!stack) throw new Error(`Stack with id ${opts.stackName} does not exist`);
    const stackId = stack.StackId ?? opts.stackName;
    const seen = new Set(
      (await allEvents(cfn, stackId).catch(() => [] as StackEvent[])).map((e) => e.EventId ?? ''),
    );
    await cfn.send(new DeleteStackCommand({ StackName: stackId }));
    const end = await followStack(cfn, stackId, seen, print, { deleting: true });
    const result: DeployResult = { StackName: opts.stackName, StackStatus: end.status, Outputs: [] };
    if (end.status !== 'DELETE_COMPLETE') {
      result.failures = end.failures;
      throw new DeployError(
        `Deleting stack ${opts.stackName} failed: ${end.status}\n  ${end.failures.join('\n  ')}`,
        result,
      );
    }
    print(`Deleted stack ${opts.stackName}`);
    return result;
  } finally {
    cfn.destroy();
  }
}

const LIVE_STATUSES = [
  'CREATE_IN_PROGRESS',
  'CREATE_FAILED',
  'CREATE_COMPLETE',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'UPDATE_FAILED',
  'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE',
  'REVIEW_IN_PROGRESS',
  'IMPORT_IN_PROGRESS',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_IN_PROGRESS',
  'IMPORT_ROLLBACK_FAILED',
  'IMPORT_ROLLBACK_COMPLETE',
] as StackStatus[];

/** The stacks that are not deleted (every page of ListStacks). */
export async function listStacks(
  opts: Pick<DeployOptions, 'endpoint' | 'region' | 'credentials'>,
): Promise<StackSummary[]> {
  const cfn = new CloudFormationClient(sdkConfig(opts));
  try {
    const out: StackSummary[] = [];
    let next: string | undefined;
    do {
      const page = await cfn.send(
        new ListStacksCommand({ StackStatusFilter: LIVE_STATUSES, NextToken: next }),
      );
      out.push(...(page.StackSummaries ?? []).filter((s) => s.StackStatus !== 'DELETE_COMPLETE'));
      next = page.NextToken;
    } while (next);
    return out;
  } finally {
    cfn.destroy();
  }
}
