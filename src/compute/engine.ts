/**
 * The Lambda engine: functions, versions, aliases, concurrency, tags and invocations.
 * Inputs and outputs are AWS-shaped (PascalCase) so the wire adapter stays a thin mapping.
 * State lives in the Store (the truth); resolved functions are cached in memory and
 * revalidated cheaply (one read of a generation counter) so the hot path does no writes.
 */
import { randomFillSync, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { AsyncInvocations } from './async.js';
import type { Logger } from '../core/logger.js';
import type { LambdaLimits, NimbusConfig } from '../core/config.js';
import type { LogSink } from '../core/log-sink.js';
import type { Store } from '../storage/store.js';
import { AwsError } from '../protocols/errors.js';
import { readObject } from '../s3/index.js';
import type { Engines } from '../server/engines.js';
import type {
  FunctionSpec,
  InstanceManager,
  InvokeInput as InstanceInvokeInput,
  InvokeResult,
} from './sandbox/types.js';
import {
  ASYNC_QUEUE,
  COLLECTIONS,
  FUNCTION_NAME_PATTERN,
  aliasKey,
  constraint,
  errors,
  functionArn,
  functionKey,
  lambdaTimestamp,
  parseFunctionName,
  scopePrefix,
  versionKey,
  type AliasRecord,
  type FunctionRecord,
  type Scope,
  type VersionConfig,
} from './model.js';
import { CodeCache, blobKey, inspectZip } from './code.js';
import { CodeUrls } from './code-url.js';
import {
  checkEnvironment,
  configViolations,
  isDeprecatedRuntime,
  isRunnableRuntime,
  type ConfigInput,
} from './validation.js';
import { ConcurrencyTracker } from './concurrency.js';
import type { Auth } from '../server/auth.js';
import type { Layers } from './layers.js';
import {
  billedMs,
  endLine,
  failureLines,
  initStartLine,
  reportLine,
  runtimeVersion,
  startLine,
  tailLog,
} from './log-format.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface LambdaDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  config: NimbusConfig;
  logs: LogSink;
  instances: InstanceManager;
  credentialsFor(accountId: string): Credentials;
  codeCacheDir: string;
  /** [0, 1): alias routing draws; injectable for tests. */
  random?: () => number;
  /** Verifies SigV4 requests to AWS_IAM function URLs (the front door's Auth). */
  auth?: Pick<Auth, 'authenticate'>;
}

/** Stored function record plus a generation counter bumped by every change. */
interface StoredFunction extends FunctionRecord {
  generation: number;
}

export interface CreateFunctionInput extends ConfigInput {
  FunctionName?: string;
  Code?: { ZipFile?: Buffer | string; S3Bucket?: string; S3Key?: string; ImageUri?: string };
  Publish?: boolean;
  PackageType?: string;
  Tags?: Record<string, string>;
  DeadLetterConfig?: { TargetArn?: string };
  TracingConfig?: { Mode?: string };
  Layers?: string[];
}

export interface InvokeInput {
  FunctionName: string;
  Qualifier?: string;
  Payload?: Buffer;
  InvocationType?: string;
  LogType?: string;
  ClientContext?: string;
  /** The request id of the invoke: also the function's request id, as in Lambda. */
  RequestId?: string;
}

export interface InvokeOutput {
  StatusCode: number;
  Payload?: Buffer;
  FunctionError?: string;
  LogResult?: string;
  ExecutedVersion?: string;
  RequestId: string;
}

/** InvokeWithResponseStream's answer once the invocation has ended (the chunks went to the sink). */
export interface InvokeStreamOutput {
  /** 200, or 204 for DryRun. */
  StatusCode: number;
  ExecutedVersion?: string;
  RequestId: string;
  /** The stream's content type (`application/octet-stream` unless the handler set one). */
  ResponseStreamContentType?: string;
  /** A handler that was not streamified: its whole response, answered as one chunk. */
  Payload?: Buffer;
  /** Whether the handler was streamified (its body went to the sink as it was written). */
  Streamed: boolean;
  /** InvokeComplete: the error type of a failed invocation, its message, the log tail. */
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

/** Receives a streamed response's chunks as they are written; `contentType` comes with the first. */
/** A streamed chunk as it is written, with the version that runs (InvokeWithResponseStream's header). */
export type ChunkSink = (chunk: Buffer, contentType: string | undefined, version: string) => void;

export interface UsageRecord {
  time: number;
  accountId: string;
  region: string;
  functionName: string;
  version: string;
  requestId: string;
  invocationType: 'RequestResponse' | 'Event';
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  gbSeconds: number;
  coldStart: boolean;
  initDurationMs?: number;
  status: InvokeResult['status'];
}

/** What an invocation observer sees once per execution (or throttled attempt). */
export interface InvocationEvent {
  time: number;
  accountId: string;
  region: string;
  functionName: string;
  /** The version that ran ('$LATEST' or a number). */
  version: string;
  /** The alias or version the caller named, if any. */
  qualifier?: string;
  requestId: string;
  invocationType: 'RequestResponse' | 'Event';
  /** ok/error/timeout/crashed, or 'throttled' when no concurrency was left (nothing ran). */
  status: InvokeResult['status'] | 'throttled';
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  coldStart: boolean;
  initDurationMs?: number;
  maxMemoryUsedMb: number;
  /** Executions of this function in flight when this one started (itself included). */
  concurrent: number;
  /** The X-Ray style trace header passed into the function as `_X_AMZN_TRACE_ID`. */
  traceHeader?: string;
  startTime: number;
}

/** Called synchronously after each execution; must be cheap and must not throw. */
export type InvocationObserver = (e: InvocationEvent) => void;

export interface AsyncJobPayload {
  accountId: string;
  region: string;
  functionName: string;
  qualifier?: string;
  payload: string;
  requestId: string;
  enqueuedAt: number;
}

export interface AsyncAttempt {
  time: number;
  status: InvokeResult['status'] | 'throttled' | 'not-found';
  executedVersion?: string;
  error?: string;
}

export interface AsyncInvocationRecord {
  requestId: string;
  functionArn: string;
  enqueuedAt: number;
  attempts: AsyncAttempt[];
  status: 'succeeded' | 'failed';
}

interface Resolved {
  scope: Scope;
  name: string;
  fnKey: string;
  record: StoredFunction;
  /** The qualifier as given (version number or alias name), undefined for $LATEST. */
  qualifier?: string;
  alias?: AliasRecord;
  /** Version configs the qualifier can run on (primary first). */
  versions: Map<string, VersionConfig>;
  checkedAt: number;
}

const REVALIDATE_MS = 1000;
const USAGE_FLUSH_MS = 1000;

export class LambdaEngine {
  readonly code: CodeCache;
  readonly codeUrls: CodeUrls;
  private readonly limits: LambdaLimits;
  private readonly concurrency = new ConcurrencyTracker();
  private readonly resolved = new Map<string, Resolved>();
  /** Sum of reservations per account+region, re-read after REVALIDATE_MS (another node may change them). */
  private readonly reservedSums = new Map<string, { sum: number; at: number }>();
  private readonly specs = new Map<string, FunctionSpec>();
  private usageBuffer: UsageRecord[] = [];
  private readonly observers = new Set<InvocationObserver>();
  private readonly running = new Map<string, number>();
  private usageTimer: NodeJS.Timeout | undefined;
  private usageFlushing: Promise<void> = Promise.resolve();
  private readonly random: () => number;
  /** Retries and destinations of Event invokes (src/compute/async.ts); set by createLambda. */
  asyncPolicy?: AsyncInvocations;
  /** Layer versions (src/compute/layers.ts); set by createLambda. */
  layers?: Layers;
  /** Called after a function (qualifier undefined) or one version/alias is deleted. */
  readonly deleteHooks: ((scope: Scope, name: string, qualifier?: string) => Promise<void>)[] = [];

  constructor(private readonly deps: LambdaDeps) {
    this.limits = deps.config.compute.limits;
    this.code = new CodeCache(deps.codeCacheDir, deps.store.blobs);
    this.codeUrls = new CodeUrls(deps.store, deps.clock);
    this.random = deps.random ?? Math.random;
  }

  // ---------------------------------------------------------------- names

  /** Parses a FunctionName member (name, name:qualifier, partial or full ARN). */
  parseName(scope: Scope, value: string | undefined, qualifier?: string, maxLength = 170) {
    if (value === undefined || value === '') {
      throw errors.validation([constraint(undefined, 'functionName', 'Member must not be null')]);
    }
    if (value.length > maxLength) {
      throw errors.validation([
        constraint(value, 'functionName', `Member must have length less than or equal to ${maxLength}`),
      ]);
    }
    const p = parseFunctionName(value);
    if (!p) {
      throw errors.validation([
        constraint(
          value,
          'functionName',
          `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`,
        ),
      ]);
    }
    if (p.accountId && p.accountId !== scope.accountId)
      throw errors.functionNotFound(scope, p.name, p.qualifier);
    if (p.region && p.region !== scope.region) {
      throw errors.invalidParameter(
        `Functions from '${p.region}' are not reachable in this region ('${scope.region}')`,
      );
    }
    if (qualifier !== undefined && p.qualifier !== undefined && qualifier !== p.qualifier) {
      throw errors.invalidParameter(
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    }
    if (qualifier !== undefined && !/^(\$LATEST|[a-zA-Z0-9-_]+)$/.test(qualifier)) {
      throw errors.validation([
        constraint(
          qualifier,
          'qualifier',
          'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)',
        ),
      ]);
    }
    return { name: p.name, qualifier: qualifier ?? p.qualifier };
  }

  // ---------------------------------------------------------------- store helpers

  private async getFunctionRecord(scope: Scope, name: string): Promise<StoredFunction> {
    const rec = await this.deps.store.get<StoredFunction>(COLLECTIONS.functions, functionKey(scope, name));
    if (!rec) throw errors.functionNotFound(scope, name);
    return rec;
  }

  private async getVersion(scope: Scope, name: string, version: string): Promise<VersionConfig> {
    if (version === '$LATEST') return (await this.getFunctionRecord(scope, name)).latest;
    const v = await this.deps.store.get<VersionConfig>(
      COLLECTIONS.versions,
      versionKey(scope, name, version),
    );
    if (!v) throw errors.functionNotFound(scope, name, version);
    return v;
  }

  private async getAliasRecord(scope: Scope, name: string, alias: string): Promise<AliasRecord> {
    const a = await this.deps.store.get<AliasRecord>(COLLECTIONS.aliases, aliasKey(scope, name, alias));
    if (!a) throw errors.notFound(`Cannot find alias arn: ${functionArn(scope, name, alias)}`);
    return a;
  }

  /** Runs fn on the function record in a transaction, bumping its generation. */
  private async mutate<T>(
    scope: Scope,
    name: string,
    fn: (rec: StoredFunction, tx: import('../storage/store.js').Transaction) => Promise<T>,
  ): Promise<T> {
    const key = functionKey(scope, name);
    const out = await this.deps.store.transaction(async (tx) => {
      const rec = await tx.get<StoredFunction>(COLLECTIONS.functions, key);
      if (!rec) throw errors.functionNotFound(scope, name);
      const result = await fn(rec, tx);
      rec.generation += 1;
      await tx.put(COLLECTIONS.functions, key, rec);
      return result;
    });
    this.invalidate(key);
    return out;
  }

  private invalidate(fnKey: string): void {
    for (const k of this.resolved.keys()) if (k.startsWith(fnKey + '|')) this.resolved.delete(k);
  }

  private newRevision(): string {
    return randomUUID();
  }

  // ---------------------------------------------------------------- shapes

  configuration(scope: Scope, v: VersionConfig, arnQualifier?: string): Record<string, unknown> {
    const out: Record<string, unknown> = {
      FunctionName: v.functionName,
      FunctionArn: functionArn(scope, v.functionName, arnQualifier),
      Runtime: v.runtime,
      Role: v.role,
      Handler: v.handler,
      CodeSize: v.codeSize,
      Description: v.description,
      Timeout: v.timeout,
      MemorySize: v.memorySize,
      LastModified: v.lastModified,
      CodeSha256: v.codeSha256,
      Version: v.version,
      TracingConfig: { Mode: v.tracingMode },
      RevisionId: v.revisionId,
      State: 'Active',
      LastUpdateStatus: 'Successful',
      PackageType: 'Zip',
      Architectures: v.architectures,
      EphemeralStorage: { Size: v.ephemeralStorage },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      RuntimeVersionConfig: {
        RuntimeVersionArn: `arn:aws:lambda:${scope.region}::runtime:nimbus-${runtimeVersion(
          v.runtime,
          this.deps.instances.capabilities.runtimes,
        ).replace(/:/g, '-')}`,
      },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${v.functionName}` },
    };
    if (Object.keys(v.environment).length > 0) out.Environment = { Variables: v.environment };
    if (v.deadLetterTargetArn) out.DeadLetterConfig = { TargetArn: v.deadLetterTargetArn };
    if (v.layers.length > 0)
      out.Layers = v.layers.map((Arn) => ({
        Arn,
        CodeSize: v.layerCode?.find((l) => l.arn === Arn)?.size ?? 0,
      }));
    return out;
  }

  private aliasShape(scope: Scope, a: AliasRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {
      AliasArn: functionArn(scope, a.functionName, a.name),
      Name: a.name,
      FunctionVersion: a.functionVersion,
      Description: a.description,
      RevisionId: a.revisionId,
    };
    if (Object.keys(a.weights).length > 0) out.RoutingConfig = { AdditionalVersionWeights: a.weights };
    return out;
  }

  // ---------------------------------------------------------------- functions

  async createFunction(scope: Scope, input: CreateFunctionInput): Promise<Record<string, unknown>> {
    const name = input.FunctionName;
    const parsed = this.parseName(scope, name, undefined, 140);
    const violations: string[] = [];
    if (parsed.name.length > 64) {
      violations.push(constraint(name, 'functionName', 'Member must have length less than or equal to 64'));
    }
    violations.push(...configViolations(input, this.limits, true));
    if (violations.length > 0) throw errors.validation(violations);
    if (input.Runtime && isDeprecatedRuntime(input.Runtime)) {
      this.deps.logger.warn('deprecated runtime: Nimbus runs it on the host interpreter', {
        function: parsed.name,
        runtime: input.Runtime,
        runsOn: runtimeVersion(input.Runtime, this.deps.instances.capabilities.runtimes),
      });
    }
    if (parsed.qualifier !== undefined) {
      throw errors.invalidParameter(
        'Unsupported FunctionName: a qualifier is not allowed in CreateFunction.',
      );
    }
    if (input.PackageType !== undefined && input.PackageType !== 'Zip') {
      if (input.PackageType === 'Image') {
        throw errors.invalidParameter(
          'PackageType Image is not supported by Nimbus (no container runtime): deploy a Zip package with Code.ZipFile.',
        );
      }
      throw errors.validation([
        constraint(input.PackageType, 'packageType', 'Member must satisfy enum value set: [Image, Zip]'),
      ]);
    }
    if (!input.Runtime || !input.Handler) {
      throw errors.invalidParameter(
        'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
      );
    }
    if (!isRunnableRuntime(input.Runtime)) {
      throw errors.invalidParameter(
        `The runtime parameter of ${input.Runtime} is not supported by Nimbus: use a nodejs*, python3.* or provided* runtime.`,
      );
    }
    const zip = await this.zipOf(scope, input.Code);
    checkEnvironment(input.Environment?.Variables, this.limits);
    const layerCode = await this.resolveLayers(scope, input.Layers);
    const info = inspectZip(zip, this.limits, 'CreateFunction');
    await this.code.stage(zip, info);

    const now = this.deps.clock.now();
    const latest: VersionConfig = {
      functionName: parsed.name,
      version: '$LATEST',
      runtime: input.Runtime,
      role: input.Role!,
      handler: input.Handler,
      description: input.Description ?? '',
      timeout: input.Timeout ?? 3,
      memorySize: input.MemorySize ?? 128,
      environment: { ...(input.Environment?.Variables ?? {}) },
      architectures: (input.Architectures as VersionConfig['architectures']) ?? ['x86_64'],
      codeSha256: info.sha256,
      codeSize: info.size,
      codeHex: info.hex,
      lastModified: lambdaTimestamp(now),
      revisionId: this.newRevision(),
      deadLetterTargetArn: input.DeadLetterConfig?.TargetArn,
      tracingMode: input.TracingConfig?.Mode === 'Active' ? 'Active' : 'PassThrough',
      layers: input.Layers ?? [],
      layerCode,
      ephemeralStorage: input.EphemeralStorage?.Size ?? 512,
      configRevision: 1,
    };
    const rec: StoredFunction = {
      latest,
      tags: { ...(input.Tags ?? {}) },
      lastVersion: 0,
      createdAt: now,
      generation: 1,
    };
    const created = await this.deps.store.insert(COLLECTIONS.functions, functionKey(scope, parsed.name), rec);
    if (!created) throw errors.conflict(`Function already exist: ${parsed.name}`);
    this.invalidate(functionKey(scope, parsed.name));
    if (input.Publish) return this.publishVersion(scope, parsed.name, {});
    return this.configuration(scope, latest);
  }

  /** Checks a function's Layers (existing versions, at most 5) and resolves their code. */
  private async resolveLayers(scope: Scope, arns: string[] | undefined) {
    if (!arns || arns.length === 0) return [];
    if (!this.layers) throw errors.invalidParameter('Layers are not available.');
    return this.layers.resolve(scope, arns);
  }

  /** Set by app.ts once every service exists: zipOf reads Code.S3Bucket/S3Key through `engines.s3`. */
  engines?: Engines;

  private async zipOf(scope: Scope, code: CreateFunctionInput['Code']): Promise<Buffer> {
    if (!code || code.ZipFile === undefined) {
      if (code?.ImageUri) {
        throw errors.invalidParameter(
          'PackageType Image is not supported by Nimbus: deploy a Zip package with Code.ZipFile.',
        );
      }
      if (code?.S3Bucket || code?.S3Key) {
        if (!code.S3Bucket || !code.S3Key || !this.engines)
          throw errors.invalidParameter('Please provide a source for function code.');
        return this.readS3Zip(scope, code.S3Bucket, code.S3Key);
      }
      throw errors.invalidParameter('Please provide a source for function code.');
    }
    return Buffer.isBuffer(code.ZipFile) ? code.ZipFile : Buffer.from(code.ZipFile, 'base64');
  }

  /** A zip (function code or layer content) from S3, with Lambda's error when it cannot be read. */
  async readS3Zip(scope: Scope, bucket: string, key: string): Promise<Buffer> {
    if (!this.engines) throw errors.invalidParameter('Please provide a source for function code.');
    try {
      return await readObject(this.engines, scope, bucket, key);
    } catch (e) {
      if (!(e instanceof AwsError) || e.status >= 500) throw e;
      const message = e.code === 'NoSuchKey' ? 'The specified key does not exist.' : e.message;
      throw errors.invalidParameter(
        `Error occurred while GetObject. S3 Error Code: ${e.code}. S3 Error Message: ${message}`,
      );
    }
  }

  async getFunction(scope: Scope, nameIn: string, qualifierIn: string | undefined, endpoint: string) {
    const { name, qualifier } = this.parseName(scope, nameIn, qualifierIn);
    const rec = await this.getFunctionRecord(scope, name);
    const config = await this.getFunctionConfiguration(scope, name, qualifier);
    const v = await this.configFor(scope, name, qualifier);
    const out: Record<string, unknown> = {
      Configuration: config,
      Code: {
        RepositoryType: 'S3',
        Location: await this.codeUrls.url(endpoint, scope, name, v.codeHex),
      },
    };
    if (Object.keys(rec.tags).length > 0) out.Tags = rec.tags;
    if (rec.reservedConcurrency !== undefined) {
      out.Concurrency = { ReservedConcurrentExecutions: rec.reservedConcurrency };
    }
    return out;
  }

  /** The version config a qualifier names (an alias names its primary version). */
  private async configFor(scope: Scope, name: string, qualifier: string | undefined): Promise<VersionConfig> {
    if (qualifier === undefined || qualifier === '$LATEST' || /^\d+$/.test(qualifier)) {
      return this.getVersion(scope, name, qualifier ?? '$LATEST');
    }
    await this.getFunctionRecord(scope, name);
    const a = await this.deps.store.get<AliasRecord>(COLLECTIONS.aliases, aliasKey(scope, name, qualifier));
    if (!a) throw errors.functionNotFound(scope, name, qualifier);
    return this.getVersion(scope, name, a.functionVersion);
  }

  async getFunctionConfiguration(scope: Scope, nameIn: string, qualifierIn?: string) {
    const { name, qualifier } = this.parseName(scope, nameIn, qualifierIn);
    const v = await this.configFor(scope, name, qualifier);
    const arnQ = qualifier === undefined ? undefined : qualifier;
    return this.configuration(scope, v, arnQ);
  }

  /** The zip of a function's code (for Code.Location). */
  async getCodeZip(scope: Scope, name: string, hex: string): Promise<Buffer> {
    const rec = await this.getFunctionRecord(scope, name);
    let owned = rec.latest.codeHex === hex;
    if (!owned) {
      const versions = await this.deps.store.scan<VersionConfig>(COLLECTIONS.versions, {
        prefix: functionKey(scope, name) + '/',
      });
      owned = versions.some((e) => e.value.codeHex === hex);
    }
    const zip = owned ? await this.deps.store.blobs.get(blobKey(hex)) : undefined;
    if (!zip) throw errors.notFound(`Code not found for function ${functionArn(scope, name)}`);
    return zip;
  }

  async listFunctions(scope: Scope, opts: { Marker?: string; MaxItems?: number; FunctionVersion?: string }) {
    const max = this.maxItems(opts.MaxItems, 50);
    if (opts.FunctionVersion !== undefined && opts.FunctionVersion !== 'ALL') {
      throw errors.validation([
        constraint(opts.FunctionVersion, 'functionVersion', 'Member must satisfy enum value set: [ALL]'),
      ]);
    }
    const prefix = scopePrefix(scope);
    const start = opts.Marker ? this.decodeMarker(opts.Marker) : undefined;
    if (opts.FunctionVersion !== 'ALL') {
      const page = await this.deps.store.scan<StoredFunction>(COLLECTIONS.functions, {
        prefix,
        after: start ? prefix + start : undefined,
        limit: max + 1,
      });
      const items = page.slice(0, max);
      const out: Record<string, unknown> = {
        Functions: items.map((e) => this.configuration(scope, e.value.latest)),
      };
      if (page.length > max)
        out.NextMarker = this.encodeMarker(items[items.length - 1].value.latest.functionName);
      return out;
    }
    // Every version of every function: $LATEST then the published ones, function by function.
    const all: VersionConfig[] = [];
    const fns = await this.deps.store.scan<StoredFunction>(COLLECTIONS.functions, { prefix });
    const versions = await this.deps.store.scan<VersionConfig>(COLLECTIONS.versions, { prefix });
    const byFn = new Map<string, VersionConfig[]>();
    for (const e of versions) {
      const list = byFn.get(e.value.functionName) ?? [];
      list.push(e.value);
      byFn.set(e.value.functionName, list);
    }
    for (const f of fns) all.push(f.value.latest, ...(byFn.get(f.value.latest.functionName) ?? []));
    const from = start ? Number(start) : 0;
    const items = all.slice(from, from + max);
    const out: Record<string, unknown> = {
      Functions: items.map((v) => this.configuration(scope, v, undefined)),
    };
    for (const [i, v] of items.entries()) {
      if (v.version !== '$LATEST')
        (out.Functions as Record<string, unknown>[])[i].FunctionArn = functionArn(
          scope,
          v.functionName,
          v.version,
        );
    }
    if (from + max < all.length) out.NextMarker = this.encodeMarker(String(from + max));
    return out;
  }

  private maxItems(value: number | undefined, dflt: number): number {
    if (value === undefined || Number.isNaN(value)) return dflt;
    if (value < 1 || value > 10000) {
      throw errors.validation([
        constraint(
          value,
          'maxItems',
          value < 1
            ? 'Member must have value greater than or equal to 1'
            : 'Member must have value less than or equal to 10000',
        ),
      ]);
    }
    return value;
  }

  private encodeMarker(s: string): string {
    return Buffer.from(s, 'utf8').toString('base64url');
  }
  private decodeMarker(s: string): string {
    return Buffer.from(s, 'base64url').toString('utf8');
  }

  async updateFunctionCode(
    scope: Scope,
    nameIn: string,
    input: {
      ZipFile?: Buffer | string;
      S3Bucket?: string;
      S3Key?: string;
      ImageUri?: string;
      Publish?: boolean;
      RevisionId?: string;
      Architectures?: string[];
    },
  ) {
    const { name, qualifier } = this.parseName(scope, nameIn);
    if (qualifier !== undefined)
      throw errors.invalidParameter(
        'Unsupported FunctionName: a qualifier is not allowed in UpdateFunctionCode.',
      );
    const violations = configViolations({ Architectures: input.Architectures }, this.limits, false);
    if (violations.length > 0) throw errors.validation(violations);
    await this.getFunctionRecord(scope, name);
    const zip = await this.zipOf(scope, input);
    const info = inspectZip(zip, this.limits, 'UpdateFunctionCode');
    await this.code.stage(zip, info);
    const now = this.deps.clock.now();
    const latest = await this.mutate(scope, name, async (rec) => {
      if (input.RevisionId !== undefined && input.RevisionId !== rec.latest.revisionId)
        throw errors.precondition();
      rec.latest = {
        ...rec.latest,
        codeSha256: info.sha256,
        codeHex: info.hex,
        codeSize: info.size,
        architectures: (input.Architectures as VersionConfig['architectures']) ?? rec.latest.architectures,
        lastModified: lambdaTimestamp(now),
        revisionId: this.newRevision(),
        configRevision: rec.latest.configRevision + 1,
      };
      return rec.latest;
    });
    this.deps.instances.retire(`${functionKey(scope, name)}/$LATEST/`);
    if (input.Publish) return this.publishVersion(scope, name, {});
    return this.configuration(scope, latest);
  }

  async updateFunctionConfiguration(
    scope: Scope,
    nameIn: string,
    input: CreateFunctionInput & { RevisionId?: string },
  ) {
    const { name, qualifier } = this.parseName(scope, nameIn);
    if (qualifier !== undefined)
      throw errors.invalidParameter(
        'Unsupported FunctionName: a qualifier is not allowed in UpdateFunctionConfiguration.',
      );
    const violations = configViolations(input, this.limits, false);
    if (violations.length > 0) throw errors.validation(violations);
    if (input.Runtime !== undefined && !isRunnableRuntime(input.Runtime)) {
      throw errors.invalidParameter(
        `The runtime parameter of ${input.Runtime} is not supported by Nimbus: use a nodejs*, python3.* or provided* runtime.`,
      );
    }
    checkEnvironment(input.Environment?.Variables, this.limits);
    const layerCode = input.Layers ? await this.resolveLayers(scope, input.Layers) : undefined;
    const now = this.deps.clock.now();
    const latest = await this.mutate(scope, name, async (rec) => {
      const l = rec.latest;
      if (input.RevisionId !== undefined && input.RevisionId !== l.revisionId) throw errors.precondition();
      rec.latest = {
        ...l,
        role: input.Role ?? l.role,
        runtime: input.Runtime ?? l.runtime,
        handler: input.Handler ?? l.handler,
        description: input.Description ?? l.description,
        timeout: input.Timeout ?? l.timeout,
        memorySize: input.MemorySize ?? l.memorySize,
        environment: input.Environment ? { ...(input.Environment.Variables ?? {}) } : l.environment,
        deadLetterTargetArn: input.DeadLetterConfig
          ? input.DeadLetterConfig.TargetArn || undefined
          : l.deadLetterTargetArn,
        tracingMode: input.TracingConfig?.Mode
          ? input.TracingConfig.Mode === 'Active'
            ? 'Active'
            : 'PassThrough'
          : l.tracingMode,
        layers: input.Layers ?? l.layers,
        layerCode: layerCode ?? l.layerCode,
        ephemeralStorage: input.EphemeralStorage?.Size ?? l.ephemeralStorage,
        lastModified: lambdaTimestamp(now),
        revisionId: this.newRevision(),
        configRevision: l.configRevision + 1,
      };
      return rec.latest;
    });
    this.deps.instances.retire(`${functionKey(scope, name)}/$LATEST/`);
    return this.configuration(scope, latest);
  }

  async deleteFunction(scope: Scope, nameIn: string, qualifierIn?: string): Promise<void> {
    const { name, qualifier } = this.parseName(scope, nameIn, qualifierIn);
    const fnKey = functionKey(scope, name);
    if (qualifier === undefined) {
      await this.deps.store.transaction(async (tx) => {
        const existed = await tx.delete(COLLECTIONS.functions, fnKey);
        if (!existed) throw errors.functionNotFound(scope, name);
        await tx.deleteRange(COLLECTIONS.versions, { prefix: fnKey + '/' });
        await tx.deleteRange(COLLECTIONS.aliases, { prefix: fnKey + '/' });
      });
      this.invalidate(fnKey);
      this.reservedSums.delete(scopePrefix(scope));
      this.deps.instances.retire(fnKey + '/');
      await this.runDeleteHooks(scope, name);
      return;
    }
    if (qualifier === '$LATEST') {
      throw errors.invalidParameter('$LATEST version cannot be deleted without deleting the function.');
    }
    if (!/^\d+$/.test(qualifier)) {
      throw errors.invalidParameter(
        'Deletion of aliases is not supported by DeleteFunction: use DeleteAlias.',
      );
    }
    await this.mutate(scope, name, async (_rec, tx) => {
      const aliases = await tx.scan<AliasRecord>(COLLECTIONS.aliases, { prefix: fnKey + '/' });
      const users = aliases
        .filter((a) => a.value.functionVersion === qualifier || a.value.weights[qualifier] !== undefined)
        .map((a) => a.value.name);
      if (users.length > 0) {
        throw errors.conflict(
          `Unable to delete version because the following aliases reference it: [${users.join(', ')}]`,
        );
      }
      // Deleting a version that does not exist succeeds quietly, as in Lambda.
      await tx.delete(COLLECTIONS.versions, versionKey(scope, name, qualifier));
    });
    this.deps.instances.retire(`${fnKey}/${qualifier}/`);
    await this.runDeleteHooks(scope, name, qualifier);
  }

  private async runDeleteHooks(scope: Scope, name: string, qualifier?: string): Promise<void> {
    for (const h of this.deleteHooks) await h(scope, name, qualifier);
  }

  // ---------------------------------------------------------------- versions

  async publishVersion(
    scope: Scope,
    nameIn: string,
    input: { CodeSha256?: string; Description?: string; RevisionId?: string },
  ) {
    const { name, qualifier } = this.parseName(scope, nameIn);
    if (qualifier !== undefined)
      throw errors.invalidParameter(
        'Unsupported FunctionName: a qualifier is not allowed in PublishVersion.',
      );
    const now = this.deps.clock.now();
    const v = await this.mutate(scope, name, async (rec, tx) => {
      const l = rec.latest;
      if (input.CodeSha256 !== undefined && input.CodeSha256 !== l.codeSha256) {
        throw errors.invalidParameter(
          `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${l.codeSha256}). Please try again with the current CodeSHA256.`,
        );
      }
      if (input.RevisionId !== undefined && input.RevisionId !== l.revisionId) throw errors.precondition();
      if (rec.lastVersion > 0) {
        const last = await tx.get<VersionConfig & { sourceRevision?: number }>(
          COLLECTIONS.versions,
          versionKey(scope, name, String(rec.lastVersion)),
        );
        // Nothing changed since the last version: Lambda returns that version.
        if (last && last.sourceRevision === l.configRevision) return last;
      }
      rec.lastVersion += 1;
      const version: VersionConfig & { sourceRevision: number } = {
        ...l,
        version: String(rec.lastVersion),
        description: input.Description ?? l.description,
        lastModified: lambdaTimestamp(now),
        revisionId: this.newRevision(),
        sourceRevision: l.configRevision,
      };
      await tx.put(COLLECTIONS.versions, versionKey(scope, name, version.version), version);
      return version;
    });
    return this.configuration(scope, v, v.version);
  }

  async listVersionsByFunction(scope: Scope, nameIn: string, opts: { Marker?: string; MaxItems?: number }) {
    const { name } = this.parseName(scope, nameIn);
    const rec = await this.getFunctionRecord(scope, name);
    const max = this.maxItems(opts.MaxItems, 50);
    const versions = await this.deps.store.scan<VersionConfig>(COLLECTIONS.versions, {
      prefix: functionKey(scope, name) + '/',
    });
    const all = [rec.latest, ...versions.map((e) => e.value)];
    const from = opts.Marker ? Number(this.decodeMarker(opts.Marker)) || 0 : 0;
    const items = all.slice(from, from + max);
    const out: Record<string, unknown> = {
      Versions: items.map((v) =>
        this.configuration(scope, v, v.version === '$LATEST' ? '$LATEST' : v.version),
      ),
    };
    if (from + max < all.length) out.NextMarker = this.encodeMarker(String(from + max));
    return out;
  }

  // ---------------------------------------------------------------- aliases

  private async checkAliasInput(
    scope: Scope,
    name: string,
    version: string | undefined,
    routing: { AdditionalVersionWeights?: Record<string, number> } | undefined,
  ): Promise<Record<string, number>> {
    if (version !== undefined) {
      if (!/^(\$LATEST|[0-9]+)$/.test(version)) {
        throw errors.validation([
          constraint(
            version,
            'functionVersion',
            'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)',
          ),
        ]);
      }
      await this.getVersion(scope, name, version);
    }
    const weights = routing?.AdditionalVersionWeights ?? {};
    const entries = Object.entries(weights);
    for (const [ver, w] of entries) {
      if (typeof w !== 'number' || w < 0 || w > 1) {
        throw errors.validation([
          constraint(
            w,
            'routingConfig.additionalVersionWeights',
            'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]',
          ),
        ]);
      }
      if (!/^[0-9]+$/.test(ver)) {
        throw errors.invalidParameter(
          '$LATEST is not supported for an alias pointing to more than 1 version',
        );
      }
      await this.getVersion(scope, name, ver);
    }
    if (entries.length > 1) {
      throw errors.invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
    }
    if (entries.length > 0 && version === '$LATEST') {
      throw errors.invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
    }
    if (entries.length > 0 && version !== undefined && weights[version] !== undefined) {
      throw errors.invalidParameter(`Routing config may not include the primary version (${version})`);
    }
    return { ...weights };
  }

  private checkAliasName(alias: string | undefined): string {
    if (!alias || alias.length > 128 || !/^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/.test(alias)) {
      throw errors.validation([
        constraint(
          alias,
          'name',
          'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)',
        ),
      ]);
    }
    return alias;
  }

  async createAlias(
    scope: Scope,
    nameIn: string,
    input: {
      Name?: string;
      FunctionVersion?: string;
      Description?: string;
      RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
    },
  ) {
    const { name } = this.parseName(scope, nameIn);
    const alias = this.checkAliasName(input.Name);
    if (!input.FunctionVersion) {
      throw errors.validation([constraint(undefined, 'functionVersion', 'Member must not be null')]);
    }
    await this.getFunctionRecord(scope, name);
    const weights = await this.checkAliasInput(scope, name, input.FunctionVersion, input.RoutingConfig);
    const rec: AliasRecord = {
      name: alias,
      functionName: name,
      functionVersion: input.FunctionVersion,
      description: input.Description ?? '',
      weights,
      revisionId: this.newRevision(),
    };
    await this.mutate(scope, name, async (_r, tx) => {
      const ok = await tx.insert(COLLECTIONS.aliases, aliasKey(scope, name, alias), rec);
      if (!ok) throw errors.conflict(`Alias already exists: ${functionArn(scope, name, alias)}`);
    });
    return this.aliasShape(scope, rec);
  }

  async getAlias(scope: Scope, nameIn: string, alias: string) {
    const { name } = this.parseName(scope, nameIn);
    await this.getFunctionRecord(scope, name);
    return this.aliasShape(scope, await this.getAliasRecord(scope, name, alias));
  }

  async updateAlias(
    scope: Scope,
    nameIn: string,
    alias: string,
    input: {
      FunctionVersion?: string;
      Description?: string;
      RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
      RevisionId?: string;
    },
  ) {
    const { name } = this.parseName(scope, nameIn);
    const current = await this.getAliasRecord(scope, name, alias);
    const version = input.FunctionVersion ?? current.functionVersion;
    const weights =
      input.RoutingConfig !== undefined
        ? await this.checkAliasInput(scope, name, version, input.RoutingConfig)
        : (await this.checkAliasInput(scope, name, version, { AdditionalVersionWeights: current.weights }),
          current.weights);
    const updated = await this.mutate(scope, name, async (_r, tx) => {
      const a = await tx.get<AliasRecord>(COLLECTIONS.aliases, aliasKey(scope, name, alias));
      if (!a) throw errors.notFound(`Cannot find alias arn: ${functionArn(scope, name, alias)}`);
      if (input.RevisionId !== undefined && input.RevisionId !== a.revisionId) throw errors.precondition();
      const next: AliasRecord = {
        ...a,
        functionVersion: version,
        description: input.Description ?? a.description,
        weights,
        revisionId: this.newRevision(),
      };
      await tx.put(COLLECTIONS.aliases, aliasKey(scope, name, alias), next);
      return next;
    });
    return this.aliasShape(scope, updated);
  }

  async deleteAlias(scope: Scope, nameIn: string, alias: string): Promise<void> {
    const { name } = this.parseName(scope, nameIn);
    await this.mutate(scope, name, async (_r, tx) => {
      await tx.delete(COLLECTIONS.aliases, aliasKey(scope, name, alias));
    });
    await this.runDeleteHooks(scope, name, alias);
  }

  async listAliases(
    scope: Scope,
    nameIn: string,
    opts: { FunctionVersion?: string; Marker?: string; MaxItems?: number },
  ) {
    const { name } = this.parseName(scope, nameIn);
    await this.getFunctionRecord(scope, name);
    const max = this.maxItems(opts.MaxItems, 50);
    let all = (
      await this.deps.store.scan<AliasRecord>(COLLECTIONS.aliases, { prefix: functionKey(scope, name) + '/' })
    ).map((e) => e.value);
    if (opts.FunctionVersion) all = all.filter((a) => a.functionVersion === opts.FunctionVersion);
    const from = opts.Marker ? Number(this.decodeMarker(opts.Marker)) || 0 : 0;
    const items = all.slice(from, from + max);
    const out: Record<string, unknown> = { Aliases: items.map((a) => this.aliasShape(scope, a)) };
    if (from + max < all.length) out.NextMarker = this.encodeMarker(String(from + max));
    return out;
  }

  // ---------------------------------------------------------------- concurrency

  private async reservedSum(scope: Scope, excluding?: string): Promise<number> {
    const cacheKey = scopePrefix(scope);
    if (excluding === undefined) {
      const cached = this.reservedSums.get(cacheKey);
      if (cached !== undefined && this.deps.clock.now() - cached.at < REVALIDATE_MS) return cached.sum;
    }
    const fns = await this.deps.store.scan<StoredFunction>(COLLECTIONS.functions, { prefix: cacheKey });
    let sum = 0;
    for (const f of fns) {
      if (f.value.latest.functionName === excluding) continue;
      sum += f.value.reservedConcurrency ?? 0;
    }
    if (excluding === undefined) this.reservedSums.set(cacheKey, { sum, at: this.deps.clock.now() });
    return sum;
  }

  async putFunctionConcurrency(
    scope: Scope,
    nameIn: string,
    input: { ReservedConcurrentExecutions?: number },
  ) {
    const { name } = this.parseName(scope, nameIn);
    const n = input.ReservedConcurrentExecutions;
    if (n === undefined || n === null) {
      throw errors.validation([
        constraint(undefined, 'reservedConcurrentExecutions', 'Member must not be null'),
      ]);
    }
    if (!Number.isInteger(n) || n < 0) {
      throw errors.validation([
        constraint(n, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0'),
      ]);
    }
    await this.getFunctionRecord(scope, name);
    const others = await this.reservedSum(scope, name);
    if (this.limits.accountConcurrency - others - n < this.limits.minUnreservedConcurrency) {
      throw errors.invalidParameter(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${this.limits.minUnreservedConcurrency}].`,
      );
    }
    await this.mutate(scope, name, async (rec) => {
      rec.reservedConcurrency = n;
    });
    this.reservedSums.delete(scopePrefix(scope));
    return { ReservedConcurrentExecutions: n };
  }

  async getFunctionConcurrency(scope: Scope, nameIn: string) {
    const { name } = this.parseName(scope, nameIn);
    const rec = await this.getFunctionRecord(scope, name);
    return rec.reservedConcurrency === undefined
      ? {}
      : { ReservedConcurrentExecutions: rec.reservedConcurrency };
  }

  async deleteFunctionConcurrency(scope: Scope, nameIn: string): Promise<void> {
    const { name } = this.parseName(scope, nameIn);
    await this.mutate(scope, name, async (rec) => {
      delete rec.reservedConcurrency;
    });
    this.reservedSums.delete(scopePrefix(scope));
  }

  async getAccountSettings(scope: Scope) {
    const prefix = scopePrefix(scope);
    const fns = await this.deps.store.scan<StoredFunction>(COLLECTIONS.functions, { prefix });
    const versions = await this.deps.store.scan<VersionConfig>(COLLECTIONS.versions, { prefix });
    let total = 0;
    const seen = new Set<string>();
    for (const v of [...fns.map((f) => f.value.latest), ...versions.map((e) => e.value)]) {
      if (!seen.has(v.functionName + v.codeHex)) total += v.codeSize;
      seen.add(v.functionName + v.codeHex);
    }
    const reserved = fns.reduce((s, f) => s + (f.value.reservedConcurrency ?? 0), 0);
    return {
      AccountLimit: {
        TotalCodeSize: 80530636800,
        CodeSizeUnzipped: this.limits.unzippedCodeBytes,
        CodeSizeZipped: this.limits.zippedCodeBytes,
        ConcurrentExecutions: this.limits.accountConcurrency,
        UnreservedConcurrentExecutions: this.limits.accountConcurrency - reserved,
      },
      AccountUsage: { TotalCodeSize: total, FunctionCount: fns.length },
    };
  }

  // ---------------------------------------------------------------- tags

  private tagTarget(scope: Scope, resource: string): string {
    const p = parseFunctionName(resource);
    if (!p || !resource.startsWith('arn:')) {
      throw errors.validation([
        constraint(
          resource,
          'resource',
          'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})',
        ),
      ]);
    }
    if (p.accountId !== scope.accountId || p.region !== scope.region)
      throw errors.functionNotFound(scope, p.name);
    if (p.qualifier !== undefined) {
      throw errors.invalidParameter(
        'Tags on function aliases and versions are not supported. Please specify a function ARN.',
      );
    }
    return p.name;
  }

  async tagResource(scope: Scope, resource: string, tags: Record<string, string> | undefined): Promise<void> {
    const name = this.tagTarget(scope, resource);
    if (!tags || Object.keys(tags).length === 0) {
      throw errors.invalidParameter('A tag must be specified.');
    }
    await this.mutate(scope, name, async (rec) => {
      Object.assign(rec.tags, tags);
      if (Object.keys(rec.tags).length > 50)
        throw errors.invalidParameter('Number of tags exceeds resource tag limit.');
    });
  }

  async untagResource(scope: Scope, resource: string, keys: string[]): Promise<void> {
    const name = this.tagTarget(scope, resource);
    await this.mutate(scope, name, async (rec) => {
      for (const k of keys) delete rec.tags[k];
    });
  }

  async listTags(scope: Scope, resource: string) {
    const name = this.tagTarget(scope, resource);
    const rec = await this.getFunctionRecord(scope, name);
    return { Tags: rec.tags };
  }

  // ---------------------------------------------------------------- invoke

  /** Resolves a qualifier to what can run, from the cache when it is still current. */
  private async resolve(scope: Scope, name: string, qualifier: string | undefined): Promise<Resolved> {
    const fnKey = functionKey(scope, name);
    const cacheKey = `${fnKey}|${qualifier ?? '$LATEST'}`;
    const now = this.deps.clock.now();
    const hit = this.resolved.get(cacheKey);
    if (hit) {
      if (now - hit.checkedAt < REVALIDATE_MS) return hit;
      const rec = await this.deps.store.get<StoredFunction>(COLLECTIONS.functions, fnKey);
      if (rec && rec.generation === hit.record.generation) {
        hit.checkedAt = now;
        return hit;
      }
      this.invalidate(fnKey);
    }
    const record = await this.deps.store.get<StoredFunction>(COLLECTIONS.functions, fnKey);
    if (!record) throw errors.functionNotFound(scope, name, qualifier);
    const versions = new Map<string, VersionConfig>();
    let alias: AliasRecord | undefined;
    if (qualifier === undefined || qualifier === '$LATEST') {
      versions.set('$LATEST', record.latest);
    } else if (/^\d+$/.test(qualifier)) {
      const v = await this.deps.store.get<VersionConfig>(
        COLLECTIONS.versions,
        versionKey(scope, name, qualifier),
      );
      if (!v) throw errors.functionNotFound(scope, name, qualifier);
      versions.set(qualifier, v);
    } else {
      alias = await this.deps.store.get<AliasRecord>(COLLECTIONS.aliases, aliasKey(scope, name, qualifier));
      if (!alias) throw errors.functionNotFound(scope, name, qualifier);
      for (const ver of [alias.functionVersion, ...Object.keys(alias.weights)]) {
        const v =
          ver === '$LATEST'
            ? record.latest
            : await this.deps.store.get<VersionConfig>(COLLECTIONS.versions, versionKey(scope, name, ver));
        if (!v) throw errors.functionNotFound(scope, name, ver);
        versions.set(ver, v);
      }
    }
    const r: Resolved = { scope, name, fnKey, record, qualifier, alias, versions, checkedAt: now };
    this.resolved.set(cacheKey, r);
    return r;
  }

  /** Picks the version an invoke runs: the alias's weights decide between its versions. */
  private pickVersion(r: Resolved): VersionConfig {
    if (!r.alias || Object.keys(r.alias.weights).length === 0) return r.versions.values().next().value!;
    let x = this.random();
    for (const [ver, w] of Object.entries(r.alias.weights)) {
      if (x < w) return r.versions.get(ver)!;
      x -= w;
    }
    return r.versions.get(r.alias.functionVersion)!;
  }

  private specFor(
    scope: Scope,
    v: VersionConfig,
    codeDir: string,
    egress: boolean,
    optDir?: string,
  ): FunctionSpec {
    const key = `${functionKey(scope, v.functionName)}/${v.version}/${v.codeHex}/${v.configRevision}/${v.revisionId}${egress ? '/egress' : ''}`;
    let spec = this.specs.get(key);
    const credentials = this.deps.credentialsFor(scope.accountId);
    // Same key, fresh credentials: renewed credentials reach instances started from now on.
    if (!spec || spec.credentials !== credentials) {
      spec = {
        key,
        accountId: scope.accountId,
        region: scope.region,
        functionName: v.functionName,
        functionVersion: v.version,
        runtime: v.runtime,
        handler: v.handler,
        codeDir,
        ...(optDir ? { optDir } : {}),
        memoryMb: v.memorySize,
        timeoutSec: v.timeout,
        environment: v.environment,
        egress,
        logGroup: `/aws/lambda/${v.functionName}`,
        architecture: v.architectures[0] ?? 'x86_64',
        credentials,
      };
      if (this.specs.size > 10000) this.specs.clear();
      this.specs.set(key, spec);
    }
    return spec;
  }

  async invoke(scope: Scope, input: InvokeInput): Promise<InvokeOutput> {
    const type = input.InvocationType ?? 'RequestResponse';
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw errors.validation([
        constraint(
          type,
          'invocationType',
          'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
        ),
      ]);
    }
    const { payload, requestId } = this.checkInvoke(input, 'InvokeFunction');
    const { name, qualifier } = this.parseName(scope, input.FunctionName, input.Qualifier);
    const r = await this.resolve(scope, name, qualifier);
    if (type === 'DryRun') return { StatusCode: 204, RequestId: requestId };
    if (type === 'Event') {
      if (payload.length > this.limits.asyncPayloadBytes) {
        throw new AwsError(
          'RequestEntityTooLargeException',
          `${payload.length} byte payload is too large for the Event invocation type (limit ${this.limits.asyncPayloadBytes} bytes)`,
          413,
        );
      }
      const job: AsyncJobPayload = {
        accountId: scope.accountId,
        region: scope.region,
        functionName: name,
        qualifier,
        payload: payload.toString('base64'),
        requestId,
        enqueuedAt: this.deps.clock.now(),
      };
      await this.deps.store.jobs.enqueue(ASYNC_QUEUE, job, { id: requestId, maxAttempts: 100_000 });
      return { StatusCode: 202, RequestId: requestId };
    }
    if (input.ClientContext !== undefined && Buffer.byteLength(input.ClientContext) > 3583) {
      throw errors.validation([
        constraint(
          input.ClientContext,
          'clientContext',
          'Member must have length less than or equal to 3583',
        ),
      ]);
    }
    const run = await this.run(
      r,
      payload,
      requestId,
      'RequestResponse',
      input.ClientContext,
      input.LogType === 'Tail',
    );
    const out: InvokeOutput = {
      StatusCode: 200,
      Payload: run.payload,
      ExecutedVersion: run.version,
      RequestId: requestId,
    };
    if (run.functionError) out.FunctionError = run.functionError;
    if (run.tail !== undefined) out.LogResult = run.tail;
    return out;
  }

  /** What Invoke and InvokeWithResponseStream check first: LogType, and the payload's size. */
  private checkInvoke(input: InvokeInput, operation: string): { payload: Buffer; requestId: string } {
    if (input.LogType !== undefined && input.LogType !== 'None' && input.LogType !== 'Tail') {
      throw errors.validation([
        constraint(input.LogType, 'logType', 'Member must satisfy enum value set: [None, Tail]'),
      ]);
    }
    const payload = input.Payload ?? Buffer.alloc(0);
    if (payload.length > this.limits.syncPayloadBytes)
      throw errors.tooLarge(this.limits.syncPayloadBytes, operation);
    return { payload, requestId: input.RequestId ?? randomUUID() };
  }

  /**
   * InvokeWithResponseStream: runs the function synchronously, handing a streamified handler's
   * chunks to `sink` as they are written (up to `limits.streamResponseBytes`); a plain
   * handler's response comes back whole in `Payload`. Errors before the function runs throw
   * (as Invoke's); a failed invocation is reported in ErrorCode / ErrorDetails.
   */
  async invokeWithResponseStream(
    scope: Scope,
    input: InvokeInput,
    sink: ChunkSink,
  ): Promise<InvokeStreamOutput> {
    const type = input.InvocationType ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'DryRun') {
      throw errors.validation([
        constraint(type, 'invocationType', 'Member must satisfy enum value set: [RequestResponse, DryRun]'),
      ]);
    }
    const { payload, requestId } = this.checkInvoke(input, 'InvokeWithResponseStream');
    const { name, qualifier } = this.parseName(scope, input.FunctionName, input.Qualifier);
    const r = await this.resolve(scope, name, qualifier);
    if (type === 'DryRun') return { StatusCode: 204, RequestId: requestId, Streamed: false };
    if (input.ClientContext !== undefined && Buffer.byteLength(input.ClientContext) > 3583) {
      throw errors.validation([
        constraint(
          input.ClientContext,
          'clientContext',
          'Member must have length less than or equal to 3583',
        ),
      ]);
    }
    const limit = this.limits.streamResponseBytes;
    let sent = 0;
    let tooLarge = false;
    const limited: ChunkSink = (chunk, contentType, version) => {
      if (tooLarge) return;
      if (sent + chunk.length > limit) {
        tooLarge = true;
        return;
      }
      sent += chunk.length;
      sink(chunk, contentType, version);
    };
    const run = await this.run(
      r,
      payload,
      requestId,
      'RequestResponse',
      input.ClientContext,
      input.LogType === 'Tail',
      limited,
    );
    const out: InvokeStreamOutput = {
      StatusCode: 200,
      ExecutedVersion: run.version,
      RequestId: requestId,
      Streamed: run.streamed !== undefined,
    };
    if (run.streamed) out.ResponseStreamContentType = run.streamed.contentType;
    if (tooLarge) {
      out.ErrorCode = 'Function.ResponseSizeTooLarge';
      out.ErrorDetails = `Response payload size exceeded maximum allowed payload size (${limit} bytes).`;
    } else if (run.functionError) {
      const e = parseErrorPayload(run.payload);
      out.ErrorCode = e.errorType;
      out.ErrorDetails = e.errorMessage;
    } else if (!run.streamed) {
      out.Payload = run.payload;
    }
    if (run.tail !== undefined) out.LogResult = run.tail;
    return out;
  }

  /** One execution: concurrency, instance, logs and usage. */
  private async run(
    r: Resolved,
    payload: Buffer,
    requestId: string,
    invocationType: UsageRecord['invocationType'],
    clientContext: string | undefined,
    wantTail: boolean,
    onChunk?: ChunkSink,
  ): Promise<{
    payload: Buffer;
    functionError?: string;
    version: string;
    tail?: string;
    status: InvokeResult['status'];
    streamed?: { contentType: string };
  }> {
    const v = this.pickVersion(r);
    const startTime = this.deps.clock.now();
    let release: () => void;
    try {
      release = this.concurrency.acquire(
        scopePrefix(r.scope),
        r.fnKey,
        r.record.reservedConcurrency,
        this.limits.accountConcurrency - (await this.reservedSum(r.scope)),
      );
    } catch (e) {
      if (this.observers.size > 0 && e instanceof AwsError && e.code === 'TooManyRequestsException') {
        this.notify({
          time: startTime,
          accountId: r.scope.accountId,
          region: r.scope.region,
          functionName: r.name,
          version: v.version,
          qualifier: r.qualifier,
          requestId,
          invocationType,
          status: 'throttled',
          durationMs: 0,
          billedMs: 0,
          memoryMb: v.memorySize,
          coldStart: false,
          maxMemoryUsedMb: 0,
          concurrent: this.running.get(r.fnKey) ?? 0,
          startTime,
        });
      }
      throw e;
    }
    const concurrent = (this.running.get(r.fnKey) ?? 0) + 1;
    this.running.set(r.fnKey, concurrent);
    const traceHeader = this.observers.size > 0 ? traceHeaderFor(startTime) : undefined;
    let result: InvokeResult;
    try {
      const codeDir = await this.code.ensure(v.codeHex);
      const optDir = v.layerCode?.length ? await this.layers?.optDir(v.layerCode) : undefined;
      const spec = this.specFor(r.scope, v, codeDir, hasEgress(r.record.tags), optDir);
      const input: InstanceInvokeInput = {
        requestId,
        payload,
        invokedFunctionArn: functionArn(r.scope, r.name, r.qualifier),
        deadline: this.deps.clock.now() + v.timeout * 1000,
        clientContext,
        ...(traceHeader ? { traceId: traceHeader } : {}),
      };
      // Only streaming callers pay for it: the buffered path's input is the same as before.
      if (onChunk) input.onChunk = (chunk, contentType) => onChunk(chunk, contentType, v.version);
      result = await this.deps.instances.invoke(spec, input);
    } finally {
      release();
      const left = (this.running.get(r.fnKey) ?? 1) - 1;
      if (left > 0) this.running.set(r.fnKey, left);
      else this.running.delete(r.fnKey);
    }
    let out = result.payload;
    let functionError = result.functionError;
    if (result.status === 'ok' && out.length > this.limits.syncPayloadBytes) {
      out = Buffer.from(
        JSON.stringify({
          errorMessage: `Response payload size exceeded maximum allowed payload size (${this.limits.syncPayloadBytes + 100} bytes).`,
          errorType: 'Function.ResponseSizeTooLarge',
        }),
      );
      functionError = 'Unhandled';
    }
    const lines = this.writeLogs(r.scope, v, requestId, result);
    this.recordUsage({
      time: this.deps.clock.now(),
      accountId: r.scope.accountId,
      region: r.scope.region,
      functionName: r.name,
      version: v.version,
      requestId,
      invocationType,
      durationMs: result.durationMs,
      billedMs: result.status === 'timeout' ? v.timeout * 1000 : billedMs(result.durationMs),
      memoryMb: v.memorySize,
      gbSeconds:
        ((result.status === 'timeout' ? v.timeout * 1000 : billedMs(result.durationMs)) / 1000) *
        (v.memorySize / 1024),
      coldStart: result.coldStart,
      initDurationMs: result.initDurationMs,
      status: result.status,
    });
    if (this.observers.size > 0) {
      const billed = result.status === 'timeout' ? v.timeout * 1000 : billedMs(result.durationMs);
      this.notify({
        time: this.deps.clock.now(),
        accountId: r.scope.accountId,
        region: r.scope.region,
        functionName: r.name,
        version: v.version,
        qualifier: r.qualifier,
        requestId,
        invocationType,
        status: result.status === 'ok' && functionError ? 'error' : result.status,
        durationMs: result.durationMs,
        billedMs: billed,
        memoryMb: v.memorySize,
        coldStart: result.coldStart,
        initDurationMs: result.initDurationMs,
        maxMemoryUsedMb: result.maxMemoryUsedMb,
        concurrent,
        traceHeader,
        startTime,
      });
    }
    const ret: Awaited<ReturnType<LambdaEngine['run']>> = {
      payload: out,
      functionError,
      version: v.version,
      tail: wantTail ? tailLog(lines) : undefined,
      status: result.status,
    };
    if (result.streamed) ret.streamed = result.streamed;
    return ret;
  }

  private writeLogs(scope: Scope, v: VersionConfig, requestId: string, res: InvokeResult): string[] {
    const now = this.deps.clock.now();
    const start = now - Math.ceil(res.durationMs);
    const events: { timestamp: number; message: string }[] = [];
    if (res.coldStart) {
      const initAt = res.initLogs[0]?.time ?? start - Math.ceil(res.initDurationMs ?? 0);
      events.push({
        timestamp: initAt,
        message: initStartLine(v.runtime, this.deps.instances.capabilities.runtimes, scope.region),
      });
      for (const l of res.initLogs) events.push({ timestamp: l.time, message: l.message });
    }
    events.push({ timestamp: start, message: startLine(requestId, v.version) });
    for (const l of res.logs) events.push({ timestamp: l.time, message: l.message });
    for (const m of failureLines(requestId, res, v.timeout, now)) events.push({ timestamp: now, message: m });
    events.push({ timestamp: now, message: endLine(requestId) });
    events.push({ timestamp: now, message: reportLine(requestId, res, v.memorySize, v.timeout) });
    this.deps.logs.append(
      {
        accountId: scope.accountId,
        region: scope.region,
        group: `/aws/lambda/${v.functionName}`,
        stream: res.logStream,
      },
      events,
    );
    return events.map((e) => e.message);
  }

  // ---------------------------------------------------------------- async

  /**
   * Runs one queued Event invoke. Returns 'done' (ack it), 'retry' (throttled: try later) or,
   * with the async policy set, its decision (retry after a delay, destinations delivered).
   */
  async runAsyncJob(
    job: AsyncJobPayload,
    attempt: number,
  ): Promise<'done' | 'retry' | { retryInMs: number }> {
    const scope = { accountId: job.accountId, region: job.region };
    const arn = functionArn(scope, job.functionName, job.qualifier);
    if (this.asyncPolicy && (await this.asyncPolicy.expired(job, await this.asyncInvocation(job.requestId))))
      return 'done';
    const entry: AsyncAttempt = { time: this.deps.clock.now(), status: 'ok' };
    let outcome: 'done' | 'retry' = 'done';
    let response: Buffer | undefined;
    let functionError: string | undefined;
    try {
      const r = await this.resolve(scope, job.functionName, job.qualifier);
      const res = await this.run(
        r,
        Buffer.from(job.payload, 'base64'),
        job.requestId,
        'Event',
        undefined,
        false,
      );
      entry.status = res.status;
      entry.executedVersion = res.version;
      response = res.payload;
      functionError = res.functionError;
      if (res.functionError) entry.error = res.payload.toString('utf8').slice(0, 1024);
    } catch (e) {
      if (e instanceof AwsError && e.code === 'TooManyRequestsException') {
        entry.status = 'throttled';
        outcome = 'retry';
      } else if (e instanceof AwsError && e.code === 'ResourceNotFoundException') {
        entry.status = 'not-found';
        entry.error = e.message;
      } else {
        entry.status = 'crashed';
        entry.error = e instanceof Error ? e.message : String(e);
        this.deps.logger.error('async invoke failed', { requestId: job.requestId, error: e });
      }
    }
    const recorded = await this.deps.store.transaction(async (tx) => {
      const prev = await tx.get<AsyncInvocationRecord>(COLLECTIONS.asyncInvocations, job.requestId);
      const rec: AsyncInvocationRecord = prev ?? {
        requestId: job.requestId,
        functionArn: arn,
        enqueuedAt: job.enqueuedAt,
        attempts: [],
        status: 'failed',
      };
      rec.attempts.push(entry);
      rec.status = entry.status === 'ok' ? 'succeeded' : 'failed';
      await tx.put(COLLECTIONS.asyncInvocations, job.requestId, rec);
      return rec;
    });
    void attempt;
    if (this.asyncPolicy) return this.asyncPolicy.settle(job, recorded, entry, response, functionError);
    return outcome;
  }

  /** What happened to an Event invoke (attempts, outcome); undefined while it has not run. */
  async asyncInvocation(requestId: string): Promise<AsyncInvocationRecord | undefined> {
    return this.deps.store.get<AsyncInvocationRecord>(COLLECTIONS.asyncInvocations, requestId);
  }

  // ---------------------------------------------------------------- observers

  /** Adds an invocation observer (metrics, traces, ...); returns a function that removes it. */
  observe(observer: InvocationObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  private notify(e: InvocationEvent): void {
    for (const o of this.observers) {
      try {
        o(e);
      } catch (err) {
        this.deps.logger.error('an invocation observer failed', { error: err });
      }
    }
  }

  // ---------------------------------------------------------------- usage

  private recordUsage(u: UsageRecord): void {
    this.usageBuffer.push(u);
    if (this.usageBuffer.length >= 500) {
      void this.flushUsage();
    } else if (!this.usageTimer) {
      this.usageTimer = setTimeout(() => {
        this.usageTimer = undefined;
        void this.flushUsage();
      }, USAGE_FLUSH_MS);
      this.usageTimer.unref();
    }
  }

  /** Writes the buffered usage records. */
  flushUsage(): Promise<void> {
    const batch = this.usageBuffer;
    this.usageBuffer = [];
    if (this.usageTimer) {
      clearTimeout(this.usageTimer);
      this.usageTimer = undefined;
    }
    if (batch.length === 0) return this.usageFlushing;
    this.usageFlushing = this.usageFlushing
      .then(() =>
        this.deps.store.transaction(async (tx) => {
          // One row per function and flush (a batch of records), not one row per invocation.
          const groups = new Map<string, UsageRecord[]>();
          for (const u of batch) {
            const k = `${u.accountId}/${u.region}/${u.functionName}/`;
            const g = groups.get(k);
            if (g) g.push(u);
            else groups.set(k, [u]);
          }
          for (const [k, records] of groups) {
            const key = `${k}${String(records[0].time).padStart(15, '0')}/${records[0].requestId}`;
            await tx.put(COLLECTIONS.usage, key, records);
          }
        }),
      )
      .catch((e: unknown) => this.deps.logger.error('usage flush failed', { error: e }));
    return this.usageFlushing;
  }

  /** Usage records of an account+region (optionally one function), oldest first. */
  async usage(scope: Scope, opts: { functionName?: string; limit?: number } = {}): Promise<UsageRecord[]> {
    await this.flushUsage();
    const prefix = opts.functionName ? `${functionKey(scope, opts.functionName)}/` : scopePrefix(scope);
    const rows = await this.deps.store.scan<UsageRecord[]>(COLLECTIONS.usage, { prefix });
    const out = rows.flatMap((e) => e.value).sort((a, b) => a.time - b.time);
    return opts.limit !== undefined ? out.slice(0, opts.limit) : out;
  }

  async close(): Promise<void> {
    await this.flushUsage();
  }
}

/**
 * Network egress is a per-function opt-in: the tag `nimbus:network` with the value `egress`
 * (set in CreateFunction's Tags, TagResource, or a template's Tags). Without it a sandbox
 * reaches nothing but Nimbus's own AWS endpoint.
 */
export const EGRESS_TAG = 'nimbus:network';

function hasEgress(tags: Record<string, string>): boolean {
  return tags[EGRESS_TAG] === 'egress';
}

/** An X-Ray trace header: `Root=1-<epoch s hex>-<96 random bits>;Parent=<64 bits>;Sampled=1`. */
function traceHeaderFor(nowMs: number): string {
  const epoch = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epoch}-${randomHex(24)};Parent=${randomHex(16)};Sampled=1`;
}

// Random hex from a refilled pool: one randomFillSync per 4 KB instead of a call per id
// (this runs on every invoke when monitoring observes invocations).
const randomPool = Buffer.alloc(4096);
let randomPoolAt = randomPool.length;

function randomHex(chars: number): string {
  const bytes = chars / 2;
  if (randomPoolAt + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  const out = randomPool.toString('hex', randomPoolAt, randomPoolAt + bytes);
  randomPoolAt += bytes;
  return out;
}

/** errorType / errorMessage of Lambda's error JSON (anything else: Unhandled, as is). */
function parseErrorPayload(payload: Buffer): { errorType: string; errorMessage: string } {
  try {
    const e = JSON.parse(payload.toString('utf8')) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof e.errorType === 'string' ? e.errorType : 'Unhandled',
      errorMessage: typeof e.errorMessage === 'string' ? e.errorMessage : payload.toString('utf8'),
    };
  } catch {
    return { errorType: 'Unhandled', errorMessage: payload.toString('utf8') };
  }
}
