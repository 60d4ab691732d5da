/**
 * Event source mappings: Create/Get/Update/Delete/ListEventSourceMappings and the pollers
 * that feed a function batches from a source (SQS standard and FIFO so far).
 *
 * Each enabled mapping runs on exactly one node of the cluster: its poller holds the leader
 * lease `lambda-esm/<uuid>` (src/cluster/leader.ts) while it runs; every node's manager
 * ticks, and a node that cannot take the lease leaves the mapping to its holder. A dead
 * holder's lease runs out and another node takes the mapping over.
 *
 * Sources implement `BatchSource` (poll a batch, build the event, settle it), so DynamoDB
 * streams can plug into the same poller.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import type { Engines } from '../server/engines.js';
import type { LeaderElector } from '../cluster/leader.js';
import { AwsError } from '../protocols/errors.js';
import type { LambdaEngine } from './engine.js';
import { constraint, errors, functionArn, type Scope } from './model.js';
import { sqsSource } from './esm-sqs.js';
import { dynamoDbSource, startPosition, STREAM_ARN } from './esm-dynamodb.js';
import {
  parseFilterCriteria,
  recordFilter,
  type FilterCriteriaInput,
  type RecordFilter,
} from './esm-filter.js';

export const ESM_COLLECTION = 'lambda.event-source-mappings';

export type EsmState =
  'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'Updating' | 'Deleting';

export interface EsmRecord {
  uuid: string;
  accountId: string;
  region: string;
  functionName: string;
  qualifier?: string;
  eventSourceArn: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
  functionResponseTypes: string[];
  maximumConcurrency?: number;
  enabled: boolean;
  state: EsmState;
  lastModified: number;
  lastProcessingResult: string;
  /** FilterCriteria: the filters' patterns (absent: every record is delivered). */
  filters?: string[];
  /** DynamoDB streams: starting position, retries, OnFailure destination and checkpoint. */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  maximumRetryAttempts?: number;
  bisectBatchOnFunctionError?: boolean;
  onFailure?: string;
  /** Streams: records older than this are discarded (sent to onFailure); -1 / absent: never. */
  maximumRecordAgeInSeconds?: number;
  /** Streams: stored and answered; batches of a shard are processed one at a time. */
  parallelizationFactor?: number;
  streamShardId?: string;
  streamIterator?: string;
  streamRetries?: number;
  /** BisectBatchOnFunctionError: the size of the half being retried after a failed batch. */
  streamBatchLimit?: number;
  /** Streams: TumblingWindowInSeconds (0 or absent: no windows). */
  tumblingWindowInSeconds?: number;
  /** The open tumbling window: its start (ms) and the state the function returned last. */
  window?: { start: number; state: unknown; early?: boolean };
}

export interface EsmInput {
  FunctionName?: string;
  EventSourceArn?: string;
  Enabled?: boolean;
  BatchSize?: number;
  MaximumBatchingWindowInSeconds?: number;
  FunctionResponseTypes?: string[];
  ScalingConfig?: { MaximumConcurrency?: number };
  StartingPosition?: string;
  MaximumRetryAttempts?: number;
  BisectBatchOnFunctionError?: boolean;
  DestinationConfig?: { OnFailure?: { Destination?: string } };
  MaximumRecordAgeInSeconds?: number;
  ParallelizationFactor?: number;
  TumblingWindowInSeconds?: number;
  FilterCriteria?: FilterCriteriaInput | null;
}

/**
 * One batch read from the source; `ids` name the records for partial batch failures.
 * `delivered` holds the ids of the records the function got when FilterCriteria dropped some
 * (absent: all of them).
 */
export interface Batch {
  records: unknown[];
  ids: string[];
  delivered?: string[];
  /** Streams: the iterator after this batch. */
  next?: string;
}

/** A kind of event source (SQS queue, DynamoDB stream, ...). */
export interface BatchSource {
  /** Batches in flight at once per mapping (1 keeps a stream's order); default from ScalingConfig. */
  lanes?: number;
  /** Streams: sends the failure record of a batch that ran out of retries. */
  deliverFailure?(
    m: EsmRecord,
    batch: Batch,
    invokeCount: number,
    condition?: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
  ): Promise<void>;
  /** Waits (at most about `waitMs`) for a batch; empty when there is nothing. */
  poll(m: EsmRecord, signal: AbortSignal, waitMs: number): Promise<Batch | undefined>;
  /** The function's event for the batch. */
  event(m: EsmRecord, batch: Batch): unknown;
  /**
   * After the invoke: `failed` holds the ids that must come back (all the delivered ones on a
   * function error); records dropped by the filters are settled as done.
   */
  settle(m: EsmRecord, batch: Batch, failed: Set<string>, patch?: Partial<EsmRecord>): Promise<void>;
  /** Streams: the first `n` records of a batch, with the iterator after the last of them. */
  cut?(m: EsmRecord, batch: Batch, n: number): Promise<Batch>;
  /** Streams: when a record was written (ms), which places it in a tumbling window. */
  recordTime?(record: unknown): number;
}

export interface EsmDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

const POLL_WAIT_MS = 2000;
/** A tumbling window's state above this ends the window early (Lambda: 1 MB per shard). */
const WINDOW_STATE_MAX_BYTES = 1024 * 1024;

/** The `state` of a tumbling-window invoke's response; undefined when it has none (a failure). */
function windowState(response: string): { value: unknown; bytes: number } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || !('state' in parsed)) return undefined;
  const value = (parsed as { state: unknown }).state;
  return { value, bytes: Buffer.byteLength(JSON.stringify(value) ?? '') };
}
const TICK_MS = 500;

function sourceKind(arn: string): 'sqs' | 'dynamodb' | 'kinesis' | 'kafka' | 'mq' | undefined {
  const service = arn.split(':')[2];
  if (service === 'sqs') return 'sqs';
  if (service === 'dynamodb') return 'dynamodb';
  if (service === 'kinesis') return 'kinesis';
  if (service === 'kafka') return 'kafka';
  if (service === 'mq') return 'mq';
  return undefined;
}

export class EventSourceMappings {
  private engines: Engines | undefined;
  private leader: LeaderElector | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Promise<void>>();
  private readonly aborts = new Map<string, AbortController>();
  private stopped = false;
  private ticking: Promise<void> | undefined;
  /** Compiled filters per mapping, rebuilt when its patterns change. */
  private readonly matchers = new Map<string, { key: string; match: RecordFilter | undefined }>();

  constructor(
    private readonly deps: EsmDeps,
    private readonly lambda: LambdaEngine,
  ) {}

  // ---------------------------------------------------------------- API

  private render(m: EsmRecord): Record<string, unknown> {
    const scope = { accountId: m.accountId, region: m.region };
    const out: Record<string, unknown> = {
      UUID: m.uuid,
      BatchSize: m.batchSize,
      MaximumBatchingWindowInSeconds: m.maximumBatchingWindowInSeconds,
      EventSourceArn: m.eventSourceArn,
      FunctionArn: functionArn(scope, m.functionName, m.qualifier),
      LastModified: m.lastModified / 1000,
      State: m.state,
      StateTransitionReason: 'USER_INITIATED',
      FunctionResponseTypes: m.functionResponseTypes,
      EventSourceMappingArn: `arn:aws:lambda:${m.region}:${m.accountId}:event-source-mapping:${m.uuid}`,
    };
    if (m.maximumConcurrency !== undefined) out.ScalingConfig = { MaximumConcurrency: m.maximumConcurrency };
    if (m.filters?.length) out.FilterCriteria = { Filters: m.filters.map((Pattern) => ({ Pattern })) };
    if (m.startingPosition) {
      out.StartingPosition = m.startingPosition;
      out.MaximumRetryAttempts = m.maximumRetryAttempts ?? -1;
      out.BisectBatchOnFunctionError = m.bisectBatchOnFunctionError ?? false;
      out.DestinationConfig = { OnFailure: m.onFailure ? { Destination: m.onFailure } : {} };
      out.MaximumRecordAgeInSeconds = m.maximumRecordAgeInSeconds ?? -1;
      out.ParallelizationFactor = m.parallelizationFactor ?? 1;
      out.TumblingWindowInSeconds = m.tumblingWindowInSeconds ?? 0;
    }
    return out;
  }

  private notFound() {
    return errors.notFound('The resource you requested does not exist.');
  }

  private validateNumbers(input: EsmInput): void {
    const problems: string[] = [];
    const b = input.BatchSize;
    if (b !== undefined && b !== null) {
      if (!Number.isInteger(b) || b < 1)
        problems.push(constraint(b, 'batchSize', 'Member must have value greater than or equal to 1'));
      else if (b > 10000)
        problems.push(constraint(b, 'batchSize', 'Member must have value less than or equal to 10000'));
    }
    const w = input.MaximumBatchingWindowInSeconds;
    if (w !== undefined && w !== null) {
      if (!Number.isInteger(w) || w < 0)
        problems.push(
          constraint(
            w,
            'maximumBatchingWindowInSeconds',
            'Member must have value greater than or equal to 0',
          ),
        );
      else if (w > 300)
        problems.push(
          constraint(w, 'maximumBatchingWindowInSeconds', 'Member must have value less than or equal to 300'),
        );
    }
    const c = input.ScalingConfig?.MaximumConcurrency;
    if (c !== undefined && c !== null) {
      if (!Number.isInteger(c) || c < 2)
        problems.push(
          constraint(
            c,
            'scalingConfig.maximumConcurrency',
            'Member must have value greater than or equal to 2',
          ),
        );
      else if (c > 1000)
        problems.push(
          constraint(
            c,
            'scalingConfig.maximumConcurrency',
            'Member must have value less than or equal to 1000',
          ),
        );
    }
    for (const t of input.FunctionResponseTypes ?? []) {
      if (t !== 'ReportBatchItemFailures')
        problems.push(
          constraint(
            `[${(input.FunctionResponseTypes ?? []).join(', ')}]`,
            'functionResponseTypes',
            'Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]',
          ),
        );
    }
    const age = input.MaximumRecordAgeInSeconds;
    if (age !== undefined && age !== null) {
      if (!Number.isInteger(age) || age < -1)
        problems.push(
          constraint(age, 'maximumRecordAgeInSeconds', 'Member must have value greater than or equal to -1'),
        );
      else if (age > 604800)
        problems.push(
          constraint(age, 'maximumRecordAgeInSeconds', 'Member must have value less than or equal to 604800'),
        );
    }
    const pf = input.ParallelizationFactor;
    if (pf !== undefined && pf !== null) {
      if (!Number.isInteger(pf) || pf < 1)
        problems.push(
          constraint(pf, 'parallelizationFactor', 'Member must have value greater than or equal to 1'),
        );
      else if (pf > 10)
        problems.push(
          constraint(pf, 'parallelizationFactor', 'Member must have value less than or equal to 10'),
        );
    }
    const tw = input.TumblingWindowInSeconds;
    if (tw !== undefined && tw !== null) {
      if (!Number.isInteger(tw) || tw < 0)
        problems.push(
          constraint(tw, 'tumblingWindowInSeconds', 'Member must have value greater than or equal to 0'),
        );
      else if (tw > 900)
        problems.push(
          constraint(tw, 'tumblingWindowInSeconds', 'Member must have value less than or equal to 900'),
        );
    }
    if (problems.length) throw errors.validation(problems);
    if (age !== undefined && age !== null && age >= 0 && age < 60)
      throw errors.invalidParameter('MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.');
  }

  /** The filters to store: undefined when FilterCriteria is not given, [] when it clears them. */
  private filtersOf(input: EsmInput): string[] | undefined {
    const fc = input.FilterCriteria;
    if (fc === undefined || fc === null) return undefined;
    return parseFilterCriteria(fc);
  }

  /** SQS rules that depend on the queue type and the combination of settings. */
  private async checkSqs(m: EsmRecord): Promise<void> {
    const fifo = m.eventSourceArn.endsWith('.fifo');
    if (fifo && m.batchSize > 10)
      throw errors.invalidParameter('Batch size for FIFO queues must be less than or equal to 10.');
    if (fifo && m.maximumBatchingWindowInSeconds > 0)
      throw errors.invalidParameter('Batching window is not supported for FIFO queues.');
    if (!fifo && m.batchSize > 10 && m.maximumBatchingWindowInSeconds < 1)
      throw errors.invalidParameter(
        'Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
      );
  }

  async create(scope: Scope, input: EsmInput) {
    if (!input.EventSourceArn)
      throw errors.invalidParameter('Unrecognized event source, must be kafka or mq.');
    this.validateNumbers(input);
    const filters = this.filtersOf(input);
    const { name, qualifier } = this.lambda.parseName(scope, input.FunctionName, undefined, 140);
    await this.lambda.getFunctionConfiguration(scope, name, qualifier);
    const kind = sourceKind(input.EventSourceArn);
    if (kind === 'dynamodb') return this.createStream(scope, name, qualifier, input, filters);
    if (kind !== 'sqs') {
      throw errors.invalidParameter(
        kind
          ? `Nimbus does not support ${kind} event sources yet (SQS only).`
          : 'Unrecognized event source, must be kafka or mq.',
      );
    }
    if (input.StartingPosition !== undefined)
      throw errors.invalidParameter('StartingPosition is not valid for SQS event sources.');
    for (const k of [
      'MaximumRecordAgeInSeconds',
      'ParallelizationFactor',
      'MaximumRetryAttempts',
      'TumblingWindowInSeconds',
    ] as const)
      if (input[k] !== undefined && input[k] !== null)
        throw errors.invalidParameter(`${k} is not supported for SQS event sources.`);
    const engines = this.requireEngines();
    try {
      await engines.sqs.getQueue(scope, input.EventSourceArn);
    } catch (e) {
      if (e instanceof AwsError)
        throw errors.invalidParameter(
          'Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.',
        );
      throw e;
    }
    const m: EsmRecord = {
      uuid: randomUUID(),
      accountId: scope.accountId,
      region: scope.region,
      functionName: name,
      qualifier,
      eventSourceArn: input.EventSourceArn,
      batchSize: input.BatchSize ?? 10,
      maximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? 0,
      functionResponseTypes: input.FunctionResponseTypes ?? [],
      maximumConcurrency: input.ScalingConfig?.MaximumConcurrency,
      enabled: input.Enabled ?? true,
      state: 'Creating',
      lastModified: this.deps.clock.now(),
      lastProcessingResult: 'No records processed',
      filters: filters?.length ? filters : undefined,
    };
    await this.checkSqs(m);
    const fnArn = functionArn(scope, name, qualifier);
    await this.deps.store.transaction(async (tx) => {
      const all = await tx.scan<EsmRecord>(ESM_COLLECTION, {});
      const dup = all.find(
        (r) =>
          r.value.eventSourceArn === m.eventSourceArn &&
          functionArn(scope, r.value.functionName, r.value.qualifier) === fnArn,
      );
      if (dup) {
        throw errors.conflict(
          `An event source mapping with SQS arn (" ${m.eventSourceArn} ") and function (" ${name} ") already exists. Please update or delete the existing mapping with UUID ${dup.value.uuid}`,
        );
      }
      await tx.put(ESM_COLLECTION, m.uuid, m);
    });
    this.kick();
    return this.render(m);
  }

  private async createStream(
    scope: Scope,
    name: string,
    qualifier: string | undefined,
    input: EsmInput,
    filters: string[] | undefined,
  ) {
    const arn = input.EventSourceArn!;
    const engines = this.requireEngines();
    if (!STREAM_ARN.test(arn)) throw errors.invalidParameter(`Stream not found: ${arn}`);
    if (input.StartingPosition !== 'TRIM_HORIZON' && input.StartingPosition !== 'LATEST')
      throw errors.invalidParameter(
        input.StartingPosition === undefined
          ? 'StartingPosition must be specified for DynamoDB stream event sources.'
          : `Unsupported starting position ${input.StartingPosition} for DynamoDB streams (TRIM_HORIZON or LATEST).`,
      );
    const r = input.MaximumRetryAttempts;
    if (r !== undefined && r !== null && (!Number.isInteger(r) || r < -1 || r > 10000))
      throw errors.validation([
        constraint(
          r,
          'maximumRetryAttempts',
          `Member must have value ${r < -1 ? 'greater than or equal to -1' : 'less than or equal to 10000'}`,
        ),
      ]);
    const onFailure = input.DestinationConfig?.OnFailure?.Destination || undefined;
    if (onFailure && !/^arn:aws:(sqs|sns):/.test(onFailure))
      throw errors.invalidParameter(`The destination ARN ${onFailure} is invalid.`);
    const m: EsmRecord = {
      uuid: randomUUID(),
      accountId: scope.accountId,
      region: scope.region,
      functionName: name,
      qualifier,
      eventSourceArn: arn,
      batchSize: input.BatchSize ?? 100,
      maximumBatchingWindowInSeconds: input.MaximumBatchingWindowInSeconds ?? 0,
      functionResponseTypes: input.FunctionResponseTypes ?? [],
      enabled: input.Enabled ?? true,
      state: 'Creating',
      lastModified: this.deps.clock.now(),
      lastProcessingResult: 'No records processed',
      filters: filters?.length ? filters : undefined,
      startingPosition: input.StartingPosition,
      maximumRetryAttempts: r ?? -1,
      bisectBatchOnFunctionError: input.BisectBatchOnFunctionError ?? false,
      onFailure,
      maximumRecordAgeInSeconds: input.MaximumRecordAgeInSeconds ?? -1,
      parallelizationFactor: input.ParallelizationFactor ?? 1,
      tumblingWindowInSeconds: input.TumblingWindowInSeconds ?? 0,
    };
    try {
      const p = await startPosition(engines, m, input.StartingPosition);
      m.streamShardId = p.shardId;
      m.streamIterator = p.iterator;
    } catch (e) {
      if (e instanceof AwsError) throw errors.invalidParameter(`Stream not found: ${arn}`);
      throw e;
    }
    await this.deps.store.put(ESM_COLLECTION, m.uuid, m);
    this.kick();
    return this.render(m);
  }

  async get(scope: Scope, uuid: string) {
    const m = await this.deps.store.get<EsmRecord>(ESM_COLLECTION, uuid);
    if (!m || m.accountId !== scope.accountId || m.region !== scope.region) throw this.notFound();
    return this.render(m);
  }

  async update(scope: Scope, uuid: string, input: EsmInput) {
    this.validateNumbers(input);
    const filters = this.filtersOf(input);
    let target: { name: string; qualifier?: string } | undefined;
    if (input.FunctionName !== undefined) {
      target = this.lambda.parseName(scope, input.FunctionName, undefined, 140);
      await this.lambda.getFunctionConfiguration(scope, target.name, target.qualifier);
    }
    const m = await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<EsmRecord>(ESM_COLLECTION, uuid);
      if (!cur || cur.accountId !== scope.accountId || cur.region !== scope.region) throw this.notFound();
      if (cur.state === 'Creating' || cur.state === 'Updating' || cur.state === 'Deleting')
        throw errors.conflict(
          `The operation cannot be performed at this time. The event source mapping is currently in an ${cur.state} state.`,
        );
      const next: EsmRecord = { ...cur, lastModified: this.deps.clock.now() };
      if (target) {
        next.functionName = target.name;
        next.qualifier = target.qualifier;
      }
      if (input.BatchSize !== undefined) next.batchSize = input.BatchSize;
      if (input.MaximumBatchingWindowInSeconds !== undefined)
        next.maximumBatchingWindowInSeconds = input.MaximumBatchingWindowInSeconds;
      if (input.FunctionResponseTypes !== undefined) next.functionResponseTypes = input.FunctionResponseTypes;
      if (input.ScalingConfig !== undefined)
        next.maximumConcurrency = input.ScalingConfig.MaximumConcurrency ?? undefined;
      if (filters !== undefined) next.filters = filters.length ? filters : undefined;
      if (input.Enabled !== undefined && input.Enabled !== cur.enabled) {
        next.enabled = input.Enabled;
        next.state = input.Enabled ? 'Enabling' : 'Disabling';
      } else {
        next.state = 'Updating';
      }
      if (next.startingPosition) {
        const r = input.MaximumRetryAttempts;
        if (r !== undefined && r !== null) {
          if (!Number.isInteger(r) || r < -1 || r > 10000)
            throw errors.validation([
              constraint(r, 'maximumRetryAttempts', 'Member must have value between -1 and 10000'),
            ]);
          next.maximumRetryAttempts = r;
        }
        if (input.BisectBatchOnFunctionError !== undefined)
          next.bisectBatchOnFunctionError = input.BisectBatchOnFunctionError;
        if (input.DestinationConfig?.OnFailure !== undefined)
          next.onFailure = input.DestinationConfig.OnFailure.Destination || undefined;
        if (input.MaximumRecordAgeInSeconds !== undefined && input.MaximumRecordAgeInSeconds !== null)
          next.maximumRecordAgeInSeconds = input.MaximumRecordAgeInSeconds;
        if (input.ParallelizationFactor !== undefined && input.ParallelizationFactor !== null)
          next.parallelizationFactor = input.ParallelizationFactor;
        if (
          input.TumblingWindowInSeconds !== undefined &&
          input.TumblingWindowInSeconds !== null &&
          input.TumblingWindowInSeconds !== cur.tumblingWindowInSeconds
        ) {
          next.tumblingWindowInSeconds = input.TumblingWindowInSeconds;
          next.window = undefined;
        }
      } else await this.checkSqs(next);
      await tx.put(ESM_COLLECTION, uuid, next);
      return next;
    });
    this.kick();
    return this.render(m);
  }

  async delete(scope: Scope, uuid: string) {
    const m = await this.deps.store.get<EsmRecord>(ESM_COLLECTION, uuid);
    if (!m || m.accountId !== scope.accountId || m.region !== scope.region) throw this.notFound();
    await this.deps.store.delete(ESM_COLLECTION, uuid);
    this.kick();
    return this.render({ ...m, state: 'Deleting' });
  }

  async list(
    scope: Scope,
    opts: { EventSourceArn?: string; FunctionName?: string; Marker?: string; MaxItems?: number },
  ) {
    const max = opts.MaxItems ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 10000)
      throw errors.validation([
        constraint(
          max,
          'maxItems',
          `Member must have value ${max < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`,
        ),
      ]);
    let fn: { name: string; qualifier?: string } | undefined;
    if (opts.FunctionName) fn = this.lambda.parseName(scope, opts.FunctionName, undefined, 140);
    const rows = (await this.deps.store.scan<EsmRecord>(ESM_COLLECTION, {}))
      .map((r) => r.value)
      .filter((m) => m.accountId === scope.accountId && m.region === scope.region)
      .filter((m) => !opts.EventSourceArn || m.eventSourceArn === opts.EventSourceArn)
      .filter(
        (m) =>
          !fn || (m.functionName === fn.name && (fn.qualifier === undefined || m.qualifier === fn.qualifier)),
      )
      .sort((a, b) => (a.uuid < b.uuid ? -1 : 1));
    const start = opts.Marker ? rows.findIndex((m) => m.uuid > opts.Marker!) : 0;
    const page = start < 0 ? [] : rows.slice(start, start + max);
    const out: Record<string, unknown> = { EventSourceMappings: page.map((m) => this.render(m)) };
    if (start >= 0 && start + max < rows.length) out.NextMarker = page[page.length - 1].uuid;
    return out;
  }

  // ---------------------------------------------------------------- pollers

  /** Starts the manager: needs the other services' engines and this node's leader elector. */
  start(engines: Engines, leader: LeaderElector): void {
    this.engines = engines;
    this.leader = leader;
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  private requireEngines(): Engines {
    if (!this.engines) throw new AwsError('ServiceException', 'Event sources are not ready yet.', 500);
    return this.engines;
  }

  private kick(): void {
    if (this.stopped || !this.leader || this.ticking) return;
    this.ticking = this.tick()
      .catch((err) => this.deps.logger.error('event source tick failed', { err }))
      .finally(() => {
        this.ticking = undefined;
      });
  }

  private async tick(): Promise<void> {
    const all = (await this.deps.store.scan<EsmRecord>(ESM_COLLECTION, {})).map((r) => r.value);
    const live = new Set(all.map((m) => m.uuid));
    for (const [uuid, ac] of this.aborts) if (!live.has(uuid)) ac.abort();
    for (const uuid of this.matchers.keys()) if (!live.has(uuid)) this.matchers.delete(uuid);
    for (const m of all) {
      // Transitional states settle at the next tick (any node may move them).
      const settled: EsmState | undefined =
        m.state === 'Creating' || m.state === 'Updating' || m.state === 'Enabling' || m.state === 'Disabling'
          ? m.enabled
            ? 'Enabled'
            : 'Disabled'
          : undefined;
      if (settled) await this.setState(m.uuid, m.state, settled);
      if (!m.enabled) {
        this.aborts.get(m.uuid)?.abort();
        continue;
      }
      if (!this.running.has(m.uuid)) this.launch(m.uuid);
    }
  }

  private async setState(uuid: string, from: EsmState, to: EsmState): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<EsmRecord>(ESM_COLLECTION, uuid);
      if (cur && cur.state === from) await tx.put(ESM_COLLECTION, uuid, { ...cur, state: to });
    });
  }

  private launch(uuid: string): void {
    const leader = this.leader!;
    const ac = new AbortController();
    this.aborts.set(uuid, ac);
    const lease = `lambda-esm/${uuid}`;
    const p = leader
      .runAsLeader(lease, () => this.runMapping(uuid, lease, ac.signal))
      .then(async (r) => {
        if (r.ran && (ac.signal.aborted || this.stopped)) await leader.release(lease).catch(() => false);
      })
      .catch((err) => this.deps.logger.error('event source poller failed', { uuid, err }))
      .finally(() => {
        this.running.delete(uuid);
        if (this.aborts.get(uuid) === ac) this.aborts.delete(uuid);
      });
    this.running.set(uuid, p);
  }

  /** The poller of one mapping on this node, while it holds the lease. */
  private async runMapping(uuid: string, lease: string, signal: AbortSignal): Promise<void> {
    const leader = this.leader!;
    let m = await this.deps.store.get<EsmRecord>(ESM_COLLECTION, uuid);
    if (!m || !m.enabled) return;
    const source = this.sourceFor(m);
    const lanes = source.lanes ?? Math.min(m.maximumConcurrency ?? 2, 5);
    const lane = async () => {
      while (!signal.aborted && !this.stopped) {
        if (!leader.isLeader(lease) && !(await leader.tryAcquire(lease))) return;
        m = (await this.deps.store.get<EsmRecord>(ESM_COLLECTION, uuid)) ?? undefined;
        if (!m || !m.enabled) return;
        try {
          const tw = source.recordTime ? (m.tumblingWindowInSeconds ?? 0) * 1000 : 0;
          const open = tw ? m.window : undefined;
          // An open window's final invoke is due at its end, records or not: poll no longer.
          const wait = open
            ? Math.max(0, Math.min(POLL_WAIT_MS, open.start + tw - this.deps.clock.now()))
            : POLL_WAIT_MS;
          const batch = await source.poll(m, signal, wait);
          if (!tw && (!batch || batch.ids.length === 0)) continue;
          // Settings changed during the poll (filters, function) apply to this batch already.
          const now = (await this.deps.store.get<EsmRecord>(ESM_COLLECTION, uuid)) ?? m;
          if (tw) await this.windowed(now, source, batch, tw);
          else await this.process(now, source, batch!);
        } catch (err) {
          if (signal.aborted || this.stopped) return;
          this.deps.logger.warn('event source poll failed', { uuid, err });
          await new Promise((r) => setTimeout(r, 1000).unref());
        }
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  }

  private sourceFor(m: EsmRecord): BatchSource {
    const kind = sourceKind(m.eventSourceArn);
    if (kind === 'sqs') return sqsSource(this.requireEngines().sqs, this.deps.clock);
    if (kind === 'dynamodb') return dynamoDbSource(this.requireEngines(), this.deps);
    throw new Error(`unsupported event source ${m.eventSourceArn}`);
  }

  /** The mapping's FilterCriteria as a record matcher (undefined: no filters). */
  private matcherFor(m: EsmRecord): RecordFilter | undefined {
    const key = JSON.stringify(m.filters ?? []);
    const cached = this.matchers.get(m.uuid);
    if (cached?.key === key) return cached.match;
    const kind = sourceKind(m.eventSourceArn);
    const match = kind === 'sqs' || kind === 'dynamodb' ? recordFilter(kind, m.filters) : undefined;
    this.matchers.set(m.uuid, { key, match });
    return match;
  }

  /**
   * The part of a batch the function gets: the records that pass the filters. The others are
   * settled with the batch as done (SQS deletes them, a stream moves past them).
   */
  private filtered(m: EsmRecord, batch: Batch): Batch {
    const match = this.matcherFor(m);
    if (!match) return batch;
    const records: unknown[] = [];
    const ids: string[] = [];
    batch.records.forEach((r, i) => {
      if (match(r as Record<string, unknown>)) {
        records.push(r);
        ids.push(batch.ids[i]);
      }
    });
    batch.delivered = ids;
    return { records, ids, next: batch.next };
  }

  /**
   * MaximumRecordAgeInSeconds: the records of a stream batch older than the limit are discarded
   * (their batch info goes to the OnFailure destination with condition RecordAgeExceeded), as
   * Lambda discards them; the rest go on.
   */
  private async fresh(m: EsmRecord, source: BatchSource, polled: Batch): Promise<Batch> {
    const max = m.maximumRecordAgeInSeconds ?? -1;
    if (max < 0) return polled;
    const oldest = this.deps.clock.now() / 1000 - max;
    const keep: Batch = { records: [], ids: [], next: polled.next };
    const old: Batch = { records: [], ids: [], next: polled.next };
    polled.records.forEach((r, i) => {
      const created = (r as { dynamodb?: { ApproximateCreationDateTime?: number } }).dynamodb
        ?.ApproximateCreationDateTime;
      const into = created !== undefined && created < oldest ? old : keep;
      into.records.push(r);
      into.ids.push(polled.ids[i]);
    });
    if (old.ids.length === 0) return polled;
    this.deps.logger.info('event source records past their maximum age discarded', {
      uuid: m.uuid,
      count: old.ids.length,
    });
    await source.deliverFailure?.(m, old, 0, 'RecordAgeExceeded');
    return keep;
  }

  /**
   * TumblingWindowInSeconds: windows aligned on multiples of their length, a record in the one
   * its stream timestamp falls in. A batch holds one window's records; each invoke gets the
   * state the previous one returned (`{}` at first) and must return `{state}` (else it failed).
   * When a later window's records arrive or the window's end passes, the function gets a final
   * invoke (no records, `isFinalInvokeForWindow: true`), retried until it succeeds, before
   * anything else of the shard. A state over 1 MB ends the window early: a final invoke with
   * `isWindowTerminatedEarly: true`, then the same window goes on with a fresh state.
   */
  private async windowed(m: EsmRecord, source: BatchSource, batch: Batch | undefined, tw: number) {
    const open = m.window;
    const windowOf = (r: unknown) => Math.max(open?.start ?? 0, Math.floor(source.recordTime!(r) / tw) * tw);
    const first = batch && batch.ids.length ? windowOf(batch.records[0]) : undefined;
    if (
      open &&
      (open.early || (first !== undefined ? first > open.start : this.deps.clock.now() >= open.start + tw))
    ) {
      // The records read (a later window's) are read again after the final invoke.
      await this.finalInvoke(m, open, tw);
      return;
    }
    if (!batch || first === undefined) return;
    let n = 1;
    while (n < batch.ids.length && windowOf(batch.records[n]) === first) n++;
    const part = n < batch.ids.length && source.cut ? await source.cut(m, batch, n) : batch;
    await this.process(m, source, part, { start: first, tw, state: open ? open.state : {} });
  }

  private windowFields(m: EsmRecord, start: number, tw: number, state: unknown) {
    const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      window: { start: iso(start), end: iso(start + tw) },
      state,
      shardId: m.streamShardId,
      eventSourceARN: m.eventSourceArn,
    };
  }

  private async finalInvoke(m: EsmRecord, open: NonNullable<EsmRecord['window']>, tw: number) {
    const scope = { accountId: m.accountId, region: m.region };
    const event = {
      Records: [],
      ...this.windowFields(m, open.start, tw, open.state),
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: open.early === true,
    };
    let ok = false;
    try {
      const out = await this.requireEngines().lambda.invoke(scope, {
        FunctionName: functionArn(scope, m.functionName, m.qualifier),
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(event)),
      });
      ok = !out.FunctionError;
    } catch (err) {
      this.deps.logger.warn('event source invoke failed', { uuid: m.uuid, err });
    }
    if (!ok) {
      // As on Lambda, the shard waits until the final invoke succeeds.
      await new Promise((r) => setTimeout(r, 1000).unref());
      return;
    }
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<EsmRecord>(ESM_COLLECTION, m.uuid);
      if (!cur) return;
      // An early end goes on with the same window and a fresh state.
      await tx.put(ESM_COLLECTION, m.uuid, {
        ...cur,
        window: open.early ? { start: open.start, state: {} } : undefined,
      });
    });
  }

  private async process(
    m: EsmRecord,
    source: BatchSource,
    polled: Batch,
    win?: { start: number; tw: number; state: unknown },
  ): Promise<void> {
    const scope = { accountId: m.accountId, region: m.region };
    const young = await this.fresh(m, source, polled);
    const batch = this.filtered(m, young);
    // What the function gets, when the age limit or the filters dropped records (settle reads it).
    if (batch !== polled) polled.delivered = batch.ids;
    if (batch.ids.length === 0) {
      // Every record was filtered out: no invoke.
      await source.settle(m, polled, new Set());
      return;
    }
    const event = win
      ? {
          ...(source.event(m, batch) as object),
          ...this.windowFields(m, win.start, win.tw, win.state),
          isFinalInvokeForWindow: false,
          isWindowTerminatedEarly: false,
        }
      : source.event(m, batch);
    const payload = Buffer.from(JSON.stringify(event));
    let failed: Set<string>;
    let patch: Partial<EsmRecord> | undefined;
    try {
      const out = await this.requireEngines().lambda.invoke(scope, {
        FunctionName: functionArn(scope, m.functionName, m.qualifier),
        InvocationType: 'RequestResponse',
        Payload: payload,
      });
      const response = out.Payload?.toString('utf8') ?? '';
      failed = out.FunctionError ? new Set(batch.ids) : this.partialFailures(m, batch, response);
      if (win && failed.size === 0) {
        const state = windowState(response);
        if (state === undefined) failed = new Set(batch.ids);
        else
          patch = {
            window: { start: win.start, state: state.value, early: state.bytes > WINDOW_STATE_MAX_BYTES },
          };
      }
    } catch (err) {
      // Throttled or the function is gone: the whole batch comes back.
      this.deps.logger.warn('event source invoke failed', { uuid: m.uuid, err });
      failed = new Set(batch.ids);
    }
    await source.settle(m, polled, failed, patch);
    const result = failed.size === 0 ? 'OK' : 'PROBLEM: Function call failed';
    if (result !== m.lastProcessingResult) {
      await this.deps.store.transaction(async (tx) => {
        const cur = await tx.get<EsmRecord>(ESM_COLLECTION, m.uuid);
        if (cur) await tx.put(ESM_COLLECTION, m.uuid, { ...cur, lastProcessingResult: result });
      });
      m.lastProcessingResult = result;
    }
  }

  /**
   * ReportBatchItemFailures: `{"batchItemFailures":[{"itemIdentifier":"id"}]}`. An empty or
   * null response means success; an identifier that is empty or not in the batch fails the
   * whole batch (as Lambda does).
   */
  private partialFailures(m: EsmRecord, batch: Batch, response: string): Set<string> {
    if (!m.functionResponseTypes.includes('ReportBatchItemFailures')) return new Set();
    let parsed: unknown;
    try {
      parsed = response === '' ? null : JSON.parse(response);
    } catch {
      return new Set();
    }
    if (!parsed || typeof parsed !== 'object') return new Set();
    const list = (parsed as { batchItemFailures?: unknown }).batchItemFailures;
    if (list === undefined || list === null) return new Set();
    if (!Array.isArray(list)) return new Set(batch.ids);
    const ids = new Set(batch.ids);
    const failed = new Set<string>();
    for (const item of list) {
      const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || !ids.has(id)) return new Set(batch.ids);
      failed.add(id);
    }
    return failed;
  }

  /** Stops every poller of this node and gives their leases up. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const ac of this.aborts.values()) ac.abort();
    await this.ticking;
    await Promise.allSettled([...this.running.values()]);
  }
}
