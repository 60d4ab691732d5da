/**
 * Lambda asynchronous invocation: the per-qualifier EventInvokeConfig (Put/Get/Update/Delete/
 * List), the retry policy of the `lambda-async` worker (function errors and timeouts retried
 * after 1 then 2 minutes on the injected clock, throttles retried until the event is too old)
 * and the OnSuccess / OnFailure destination records (SQS, SNS, Lambda), falling back to the
 * function's DeadLetterConfig (SQS, SNS) when no OnFailure destination is set.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import type { Engines } from '../server/engines.js';
import type { AsyncAttempt, AsyncInvocationRecord, AsyncJobPayload, LambdaEngine } from './engine.js';
import { constraint, errors, functionArn, functionKey, type Scope } from './model.js';

export const EVENT_INVOKE_CONFIGS = 'lambda.event-invoke-configs';

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_MAX_EVENT_AGE_S = 21_600;
/** Lambda waits about 1 minute before the first retry and 2 minutes before the second. */
export const RETRY_DELAYS_MS = [60_000, 120_000];
/** Throttled events: exponential from 1 s, capped at 5 minutes. */
const THROTTLE_BASE_MS = 1000;
const THROTTLE_MAX_MS = 300_000;

export interface EventInvokeConfig {
  functionName: string;
  qualifier: string;
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  onSuccess?: string;
  onFailure?: string;
  lastModified: number;
}

interface ConfigInput {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
}

const DESTINATION_RE =
  /^arn:(aws[a-zA-Z-]*)?:(sqs|sns|lambda|events):[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:[A-Za-z0-9_:.$-]+$/;

function configKey(scope: Scope, name: string, qualifier: string): string {
  return `${functionKey(scope, name)}/${qualifier}`;
}

export type AsyncDecision = 'done' | { retryInMs: number };

export interface AsyncDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
}

/** Which parts of an attempt count as a function attempt (not a throttle). */
function isInvoke(a: AsyncAttempt): boolean {
  return a.status !== 'throttled' && a.status !== 'not-found';
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class AsyncInvocations {
  private engines: Engines | undefined;

  constructor(
    private readonly deps: AsyncDeps,
    private readonly lambda: LambdaEngine,
  ) {}

  attach(engines: Engines): void {
    this.engines = engines;
  }

  // ---------------------------------------------------------------- config API

  private async target(scope: Scope, nameIn: string, qualifierIn: string | undefined) {
    const { name, qualifier } = this.lambda.parseName(scope, nameIn, qualifierIn);
    const q = qualifier ?? '$LATEST';
    // Throws ResourceNotFoundException for a missing function, version or alias.
    await this.lambda.getFunctionConfiguration(scope, name, q === '$LATEST' ? undefined : q);
    return { name, qualifier: q, arn: functionArn(scope, name, q) };
  }

  private validate(scope: Scope, selfArn: string, input: ConfigInput): void {
    const problems: string[] = [];
    const r = input.MaximumRetryAttempts;
    if (r !== undefined && r !== null) {
      if (!Number.isInteger(r) || r < 0)
        problems.push(
          constraint(r, 'maximumRetryAttempts', 'Member must have value greater than or equal to 0'),
        );
      else if (r > 2)
        problems.push(
          constraint(r, 'maximumRetryAttempts', 'Member must have value less than or equal to 2'),
        );
    }
    const a = input.MaximumEventAgeInSeconds;
    if (a !== undefined && a !== null) {
      if (!Number.isInteger(a) || a < 60)
        problems.push(
          constraint(a, 'maximumEventAgeInSeconds', 'Member must have value greater than or equal to 60'),
        );
      else if (a > 21600)
        problems.push(
          constraint(a, 'maximumEventAgeInSeconds', 'Member must have value less than or equal to 21600'),
        );
    }
    for (const [key, member] of [
      ['OnSuccess', 'destinationConfig.onSuccess.destination'],
      ['OnFailure', 'destinationConfig.onFailure.destination'],
    ] as const) {
      const d = input.DestinationConfig?.[key]?.Destination;
      if (d !== undefined && d !== null && d.length > 350)
        problems.push(constraint(d, member, 'Member must have length less than or equal to 350'));
    }
    if (problems.length) throw errors.validation(problems);
    for (const key of ['OnSuccess', 'OnFailure'] as const) {
      const d = input.DestinationConfig?.[key]?.Destination;
      if (!d) continue;
      if (!DESTINATION_RE.test(d)) {
        throw errors.invalidParameter(`The destination ARN ${d} is invalid.`);
      }
      const base = selfArn.split(':').slice(0, 7).join(':');
      if (d === base || d.startsWith(`${base}:`)) {
        throw errors.invalidParameter("You can't specify the function as a destination for itself.");
      }
      if (d.split(':')[2] === 'events') {
        throw errors.invalidParameter(
          `The destination ARN ${d} is invalid: Nimbus delivers destinations to SQS, SNS and Lambda only.`,
        );
      }
      void scope;
    }
  }

  private render(scope: Scope, c: EventInvokeConfig): Record<string, unknown> {
    const out: Record<string, unknown> = {
      LastModified: c.lastModified / 1000,
      FunctionArn: functionArn(scope, c.functionName, c.qualifier),
    };
    if (c.maximumRetryAttempts !== undefined) out.MaximumRetryAttempts = c.maximumRetryAttempts;
    if (c.maximumEventAgeInSeconds !== undefined) out.MaximumEventAgeInSeconds = c.maximumEventAgeInSeconds;
    out.DestinationConfig = {
      OnSuccess: c.onSuccess ? { Destination: c.onSuccess } : {},
      OnFailure: c.onFailure ? { Destination: c.onFailure } : {},
    };
    return out;
  }

  private notConfigured(arn: string) {
    return errors.notFound(`The function ${arn} doesn't have an EventInvokeConfig`);
  }

  async put(scope: Scope, nameIn: string, qualifierIn: string | undefined, input: ConfigInput) {
    const t = await this.target(scope, nameIn, qualifierIn);
    this.validate(scope, t.arn, input ?? {});
    const c: EventInvokeConfig = {
      functionName: t.name,
      qualifier: t.qualifier,
      maximumRetryAttempts: input.MaximumRetryAttempts ?? undefined,
      maximumEventAgeInSeconds: input.MaximumEventAgeInSeconds ?? undefined,
      onSuccess: input.DestinationConfig?.OnSuccess?.Destination || undefined,
      onFailure: input.DestinationConfig?.OnFailure?.Destination || undefined,
      lastModified: this.deps.clock.now(),
    };
    await this.deps.store.put(EVENT_INVOKE_CONFIGS, configKey(scope, t.name, t.qualifier), c);
    return this.render(scope, c);
  }

  async update(scope: Scope, nameIn: string, qualifierIn: string | undefined, input: ConfigInput) {
    const t = await this.target(scope, nameIn, qualifierIn);
    this.validate(scope, t.arn, input ?? {});
    const key = configKey(scope, t.name, t.qualifier);
    const c = await this.deps.store.transaction(async (tx) => {
      const prev = await tx.get<EventInvokeConfig>(EVENT_INVOKE_CONFIGS, key);
      if (!prev) throw this.notConfigured(t.arn);
      const next: EventInvokeConfig = { ...prev, lastModified: this.deps.clock.now() };
      if (input.MaximumRetryAttempts !== undefined) next.maximumRetryAttempts = input.MaximumRetryAttempts;
      if (input.MaximumEventAgeInSeconds !== undefined)
        next.maximumEventAgeInSeconds = input.MaximumEventAgeInSeconds;
      const dc = input.DestinationConfig;
      if (dc?.OnSuccess !== undefined) next.onSuccess = dc.OnSuccess.Destination || undefined;
      if (dc?.OnFailure !== undefined) next.onFailure = dc.OnFailure.Destination || undefined;
      await tx.put(EVENT_INVOKE_CONFIGS, key, next);
      return next;
    });
    return this.render(scope, c);
  }

  async get(scope: Scope, nameIn: string, qualifierIn: string | undefined) {
    const t = await this.target(scope, nameIn, qualifierIn);
    const c = await this.deps.store.get<EventInvokeConfig>(
      EVENT_INVOKE_CONFIGS,
      configKey(scope, t.name, t.qualifier),
    );
    if (!c) throw this.notConfigured(t.arn);
    return this.render(scope, c);
  }

  async delete(scope: Scope, nameIn: string, qualifierIn: string | undefined): Promise<void> {
    const t = await this.target(scope, nameIn, qualifierIn);
    const removed = await this.deps.store.delete(EVENT_INVOKE_CONFIGS, configKey(scope, t.name, t.qualifier));
    if (!removed) throw this.notConfigured(t.arn);
  }

  async list(scope: Scope, nameIn: string, opts: { Marker?: string; MaxItems?: number }) {
    const { name, qualifier } = this.lambda.parseName(scope, nameIn);
    if (qualifier !== undefined)
      throw errors.invalidParameter('Qualified function names are not supported for this operation.');
    await this.lambda.getFunctionConfiguration(scope, name);
    const max = opts.MaxItems ?? 50;
    if (!Number.isInteger(max) || max < 1 || max > 50)
      throw errors.validation([
        constraint(
          max,
          'maxItems',
          `Member must have value ${max < 1 ? 'greater than or equal to 1' : 'less than or equal to 50'}`,
        ),
      ]);
    const rows = await this.deps.store.scan<EventInvokeConfig>(EVENT_INVOKE_CONFIGS, {
      prefix: `${functionKey(scope, name)}/`,
    });
    const start = opts.Marker ? rows.findIndex((r) => r.key > opts.Marker!) : 0;
    const page = start < 0 ? [] : rows.slice(start, start + max);
    const out: Record<string, unknown> = {
      FunctionEventInvokeConfigs: page.map((r) => this.render(scope, r.value)),
    };
    if (start >= 0 && start + max < rows.length) out.NextMarker = page[page.length - 1].key;
    return out;
  }

  /** The effective settings for an event (defaults when no config). */
  async settingsFor(scope: Scope, name: string, qualifier: string | undefined) {
    const c = await this.deps.store.get<EventInvokeConfig>(
      EVENT_INVOKE_CONFIGS,
      configKey(scope, name, qualifier ?? '$LATEST'),
    );
    return {
      maxRetries: c?.maximumRetryAttempts ?? DEFAULT_MAX_RETRIES,
      maxAgeMs: (c?.maximumEventAgeInSeconds ?? DEFAULT_MAX_EVENT_AGE_S) * 1000,
      onSuccess: c?.onSuccess,
      onFailure: c?.onFailure,
    };
  }

  // ---------------------------------------------------------------- worker policy

  /** Before running: an event older than its maximum age is discarded (EventAgeExceeded). */
  async expired(job: AsyncJobPayload, rec: AsyncInvocationRecord | undefined): Promise<boolean> {
    const scope = { accountId: job.accountId, region: job.region };
    const s = await this.settingsFor(scope, job.functionName, job.qualifier);
    if (this.deps.clock.now() - job.enqueuedAt <= s.maxAgeMs) return false;
    await this.fail(job, rec?.attempts ?? [], 'EventAgeExceeded', undefined, s.onFailure);
    return true;
  }

  /**
   * After an attempt was recorded: retry (function error, timeout, throttle) or finish and
   * deliver the destination record.
   */
  async settle(
    job: AsyncJobPayload,
    rec: AsyncInvocationRecord,
    last: AsyncAttempt,
    response: Buffer | undefined,
    functionError: string | undefined,
  ): Promise<AsyncDecision> {
    const scope = { accountId: job.accountId, region: job.region };
    const s = await this.settingsFor(scope, job.functionName, job.qualifier);
    const age = this.deps.clock.now() - job.enqueuedAt;
    if (last.status === 'not-found') return 'done';
    if (last.status === 'throttled') {
      const throttles = rec.attempts.filter((a) => a.status === 'throttled').length;
      const delay = Math.min(THROTTLE_MAX_MS, THROTTLE_BASE_MS * 2 ** Math.min(20, throttles - 1));
      if (age + delay > s.maxAgeMs) {
        await this.fail(job, rec.attempts, 'EventAgeExceeded', undefined, s.onFailure);
        return 'done';
      }
      return { retryInMs: delay };
    }
    const invokes = rec.attempts.filter(isInvoke).length;
    if (last.status === 'ok' && !functionError) {
      if (s.onSuccess) {
        await this.deliver(
          s.onSuccess,
          scope,
          this.record(job, invokes, 'Success', last, response, undefined),
        );
      }
      return 'done';
    }
    if (invokes <= s.maxRetries) {
      const delay = RETRY_DELAYS_MS[Math.min(invokes - 1, RETRY_DELAYS_MS.length - 1)];
      if (age + delay <= s.maxAgeMs) return { retryInMs: delay };
      await this.fail(job, rec.attempts, 'EventAgeExceeded', { last, response, functionError }, s.onFailure);
      return 'done';
    }
    await this.fail(job, rec.attempts, 'RetriesExhausted', { last, response, functionError }, s.onFailure);
    return 'done';
  }

  private record(
    job: AsyncJobPayload,
    invokeCount: number,
    condition: 'Success' | 'RetriesExhausted' | 'EventAgeExceeded',
    last: AsyncAttempt | undefined,
    response: Buffer | undefined,
    functionError: string | undefined,
  ): Record<string, unknown> {
    const scope = { accountId: job.accountId, region: job.region };
    const out: Record<string, unknown> = {
      version: '1.0',
      timestamp: new Date(this.deps.clock.now()).toISOString(),
      requestContext: {
        requestId: job.requestId,
        functionArn: functionArn(scope, job.functionName, job.qualifier ?? '$LATEST'),
        condition,
        approximateInvokeCount: invokeCount,
      },
      requestPayload: parseJson(Buffer.from(job.payload, 'base64').toString('utf8')),
    };
    if (last && isInvoke(last)) {
      const rc: Record<string, unknown> = {
        statusCode: 200,
        executedVersion: last.executedVersion ?? '$LATEST',
      };
      if (functionError) rc.functionError = functionError;
      out.responseContext = rc;
      out.responsePayload = parseJson(response?.toString('utf8') ?? '');
    }
    return out;
  }

  private async fail(
    job: AsyncJobPayload,
    attempts: AsyncAttempt[],
    condition: 'RetriesExhausted' | 'EventAgeExceeded',
    result: { last: AsyncAttempt; response?: Buffer; functionError?: string } | undefined,
    onFailure: string | undefined,
  ): Promise<void> {
    const scope = { accountId: job.accountId, region: job.region };
    const invokes = attempts.filter(isInvoke).length;
    this.deps.logger.info('async event failed', { requestId: job.requestId, condition, invokes });
    if (onFailure) {
      const rec = this.record(job, invokes, condition, result?.last, result?.response, result?.functionError);
      await this.deliver(onFailure, scope, rec);
      return;
    }
    // No OnFailure destination: the function's dead-letter queue or topic gets the event itself.
    let dlq: string | undefined;
    try {
      const cfg = (await this.lambda.getFunctionConfiguration(
        scope,
        job.functionName,
        result?.last.executedVersion && result.last.executedVersion !== '$LATEST'
          ? result.last.executedVersion
          : job.qualifier,
      )) as { DeadLetterConfig?: { TargetArn?: string } };
      dlq = cfg.DeadLetterConfig?.TargetArn;
    } catch {
      dlq = undefined;
    }
    if (!dlq) return;
    const body = Buffer.from(job.payload, 'base64').toString('utf8');
    const errorMessage =
      condition === 'EventAgeExceeded'
        ? 'Event age exceeded'
        : (result?.response?.toString('utf8').slice(0, 1024) ?? 'Function error');
    await this.sendTo(dlq, scope, body, {
      RequestID: { DataType: 'String', StringValue: job.requestId },
      ErrorCode: { DataType: 'Number', StringValue: '200' },
      ErrorMessage: { DataType: 'String', StringValue: errorMessage },
    });
  }

  private async deliver(arn: string, scope: Scope, record: Record<string, unknown>): Promise<void> {
    await this.sendTo(arn, scope, JSON.stringify(record));
  }

  private async sendTo(
    arn: string,
    scope: Scope,
    body: string,
    attrs?: Record<string, { DataType: string; StringValue: string }>,
  ): Promise<void> {
    const engines = this.engines;
    const [, , service, region, accountId] = arn.split(':');
    const target = { accountId: accountId || scope.accountId, region: region || scope.region };
    if (!engines) throw new Error('destinations are not wired (engines missing)');
    try {
      if (service === 'sqs') {
        await engines.sqs.sendMessage(target, arn, { body, messageAttributes: attrs });
      } else if (service === 'sns') {
        await engines.sns.publish(target, arn, { message: body, messageAttributes: attrs });
      } else if (service === 'lambda') {
        await engines.lambda.invoke(target, {
          FunctionName: arn,
          InvocationType: 'Event',
          Payload: Buffer.from(body),
        });
      } else {
        this.deps.logger.warn('unsupported destination', { arn });
      }
    } catch (e) {
      // A missing destination drops the record, as Lambda does (it logs a delivery failure).
      this.deps.logger.warn('async destination delivery failed', { arn, error: e });
    }
  }
}
