/**
 * SNS deliveries: workers on the Store's job queue carry each (publish, subscription) pair to
 * its endpoint — SQS (via the SQS engine), Lambda (an async invoke with the SNS event) or
 * HTTP/HTTPS (a signed POST). Server-side failures are retried with the subscription's
 * delivery policy; client-side failures (missing queue or function, HTTP 4xx) and exhausted
 * retries go to the subscription's redrive DLQ (an SQS queue), or are dropped and logged.
 */
import { seriesRecorder, type MetricsSink } from '../../core/metrics-sink.js';
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Job, Store, Transaction } from '../../storage/store.js';
import { startWorker, type Worker } from '../../storage/worker.js';
import { AwsError } from '../../protocols/errors.js';
import {
  COLLECTIONS,
  DELIVERY_QUEUE,
  FIFO_DELIVERY_QUEUE,
  effectiveRetryPolicy,
  retryDelayMs,
  type DeliveryJob,
  type Scope,
  type SubscriptionRecord,
  type TopicRecord,
} from './model.js';
import { loadSigningKey, signMessage, type SigningKey } from './signing.js';

/** What SNS needs of SQS: `SqsEngine.sendMessage` fits. */
export interface SqsTarget {
  sendMessage(
    scope: Scope,
    queueUrlOrArn: string,
    input: {
      body: string;
      messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
      messageGroupId?: string;
      messageDeduplicationId?: string;
    },
  ): Promise<unknown>;
}

export interface SqsInTransaction {
  sendInTransaction(
    tx: Transaction,
    scope: Scope,
    queueUrlOrArn: string,
    input: {
      body: string;
      messageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
    },
  ): Promise<{ done: () => void }>;
}

/** What SNS needs of Lambda: a durable asynchronous invoke. */
export interface LambdaTarget {
  invokeAsync(functionArn: string, payload: Buffer): Promise<void>;
}

export interface SnsDeliveryDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  baseUrl: () => string;
  sqs?: () => SqsTarget | undefined;
  /** SQS's in-transaction send (standard topics deliver to queues inside the publish). */
  sqsInTransaction?: () => SqsInTransaction | undefined;
  lambda?: () => LambdaTarget | undefined;
  /** Handlers running at once for standard topics (default 16). */
  concurrency?: number;
  /** HTTP request timeout (default 15 s). */
  httpTimeoutMs?: number;
  /** Built-in AWS/SNS metrics (absent: none recorded). */
  metrics?: MetricsSink;
}

/** A failed attempt: `client` failures are not retried. */
class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly client: boolean,
    readonly code: string,
  ) {
    super(message);
  }
}

export const CERT_PATH_PREFIX = '/_nimbus/sns/';

export function certUrl(base: string, key: SigningKey): string {
  return `${base}${CERT_PATH_PREFIX}SimpleNotificationService-${key.id}.pem`;
}

export function unsubscribeUrl(base: string, subscriptionArn: string): string {
  return `${base}${CERT_PATH_PREFIX}?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
}

export function subscribeUrl(base: string, topicArn: string, token: string): string {
  return `${base}${CERT_PATH_PREFIX}?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`;
}

const TOPIC_CACHE_MS = 1000;

export class SnsDelivery {
  private key: SigningKey | undefined;
  private workers: Worker[] = [];
  private readonly topics = new Map<string, { at: number; topic: TopicRecord | undefined }>();
  private readonly signatures = new Map<string, string>();
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });
  /** Delivery metric recorders by metric and topic ARN (see metric). */
  private readonly recorders = new Map<string, (value: number) => void>();

  constructor(private readonly deps: SnsDeliveryDeps) {}

  async signingKey(): Promise<SigningKey> {
    this.key ??= await loadSigningKey(this.deps.store, this.deps.clock.now());
    return this.key;
  }

  async start(): Promise<void> {
    await this.signingKey();
    const common = {
      store: this.deps.store,
      clock: this.deps.clock,
      logger: this.deps.logger,
      leaseMs: 60_000,
    };
    this.workers.push(
      startWorker<DeliveryJob>({
        ...common,
        queue: DELIVERY_QUEUE,
        concurrency: this.deps.concurrency ?? 16,
        handle: (job) => this.handle(job),
      }),
      // FIFO topics: one delivery at a time keeps the order of each message group.
      startWorker<DeliveryJob>({
        ...common,
        queue: FIFO_DELIVERY_QUEUE,
        concurrency: 1,
        handle: (job) => this.handle(job),
      }),
    );
  }

  async stop(): Promise<void> {
    const w = this.workers;
    this.workers = [];
    await Promise.all(w.map((x) => x.stop()));
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async topic(arn: string): Promise<TopicRecord | undefined> {
    const now = this.deps.clock.now();
    const hit = this.topics.get(arn);
    if (hit && now - hit.at < TOPIC_CACHE_MS && now >= hit.at) return hit.topic;
    const topic = await this.deps.store.get<TopicRecord>(COLLECTIONS.topics, arn);
    if (this.topics.size > 1000) this.topics.clear();
    this.topics.set(arn, { at: now, topic });
    return topic;
  }

  /** One job: resolve -> ack, throw -> retry (with the policy's delay). */
  async handle(job: Job<DeliveryJob>): Promise<void> {
    const d = job.payload;
    if (d.kind === 'confirmation') return this.confirm(job);
    const sub = await this.deps.store.get<SubscriptionRecord>(COLLECTIONS.subscriptions, d.subscriptionArn);
    if (!sub || !sub.confirmed) return; // unsubscribed since: nothing to deliver
    const topic = await this.topic(d.topicArn);
    try {
      await this.deliver(sub, topic, d);
      this.metric(d.topicArn, 'NumberOfNotificationsDelivered');
    } catch (e) {
      const f = toFailure(e);
      if (!f.client) {
        const policy = effectiveRetryPolicy(topic, sub);
        if (job.attempts <= policy.numRetries) {
          throw Object.assign(new Error(f.message), { retryDelayMs: retryDelayMs(policy, job.attempts) });
        }
      }
      this.metric(d.topicArn, 'NumberOfNotificationsFailed');
      await this.deadLetter(sub, topic, d, f);
    }
  }

  private metric(
    topicArn: string,
    name: 'NumberOfNotificationsDelivered' | 'NumberOfNotificationsFailed',
  ): void {
    const sink = this.deps.metrics;
    if (!sink) return;
    // One recorder per topic and metric (a publish to 10 subscribers records 10 deliveries).
    const key = `${name}\t${topicArn}`;
    let r = this.recorders.get(key);
    if (!r) {
      const [, , , region, accountId, topicName] = topicArn.split(':');
      const dims = [{ Name: 'TopicName', Value: topicName }];
      r = seriesRecorder(sink, { accountId, region }, 'AWS/SNS', name, dims, 'Count');
      if (this.recorders.size >= 10_000) this.recorders.clear();
      this.recorders.set(key, r);
    }
    r(1);
  }

  private signatureVersion(topic: TopicRecord | undefined): '1' | '2' {
    return topic?.attributes.SignatureVersion === '2' ? '2' : '1';
  }

  private async sign(
    d: DeliveryJob,
    version: '1' | '2',
    fields: Parameters<typeof signMessage>[1],
  ): Promise<string> {
    const key = await this.signingKey();
    const cacheKey = `${version}\u0000${d.messageId}\u0000${fields.Type}\u0000${fields.Message}`;
    let sig = this.signatures.get(cacheKey);
    if (!sig) {
      sig = signMessage(key, fields, version);
      if (this.signatures.size > 2000) this.signatures.clear();
      this.signatures.set(cacheKey, sig);
    }
    return sig;
  }

  /** The JSON envelope SQS and HTTP subscribers receive. */
  async envelope(
    sub: SubscriptionRecord,
    topic: TopicRecord | undefined,
    d: DeliveryJob,
  ): Promise<Record<string, unknown>> {
    const base = this.deps.baseUrl();
    const key = await this.signingKey();
    const version = this.signatureVersion(topic);
    const signature = await this.sign(d, version, {
      Type: 'Notification',
      MessageId: d.messageId,
      TopicArn: d.topicArn,
      Subject: d.subject,
      Message: d.message,
      Timestamp: d.timestamp,
    });
    const env: Record<string, unknown> = { Type: 'Notification', MessageId: d.messageId };
    if (d.sequenceNumber) env.SequenceNumber = d.sequenceNumber;
    env.TopicArn = d.topicArn;
    if (d.subject !== undefined) env.Subject = d.subject;
    env.Message = d.message;
    env.Timestamp = d.timestamp;
    env.SignatureVersion = version;
    env.Signature = signature;
    env.SigningCertURL = certUrl(base, key);
    env.UnsubscribeURL = unsubscribeUrl(base, sub.arn);
    if (d.messageAttributes) env.MessageAttributes = envelopeAttributes(d);
    return env;
  }

  /** The Lambda event: one record in SNS's event shape. */
  async lambdaEvent(
    sub: SubscriptionRecord,
    topic: TopicRecord | undefined,
    d: DeliveryJob,
  ): Promise<unknown> {
    const env = await this.envelope(sub, topic, d);
    return {
      Records: [
        {
          EventSource: 'aws:sns',
          EventVersion: '1.0',
          EventSubscriptionArn: sub.arn,
          Sns: {
            Type: 'Notification',
            MessageId: d.messageId,
            TopicArn: d.topicArn,
            Subject: d.subject ?? null,
            Message: d.message,
            Timestamp: d.timestamp,
            SignatureVersion: env.SignatureVersion,
            Signature: env.Signature,
            SigningCertUrl: env.SigningCertURL,
            UnsubscribeUrl: env.UnsubscribeURL,
            MessageAttributes: d.messageAttributes ? envelopeAttributes(d) : {},
          },
        },
      ],
    };
  }

  /**
   * Standard topic -> SQS subscription, inside the publish transaction (see SnsEngineDeps
   * `inlineSqs`). Undefined when it cannot (no SQS, a FIFO queue, the queue refuses the
   * message): the durable job path then delivers, with retries and the redrive policy.
   */
  async deliverInTransaction(
    tx: Transaction,
    sub: SubscriptionRecord,
    topic: TopicRecord,
    d: DeliveryJob,
  ): Promise<(() => void) | undefined> {
    const sqs = this.deps.sqsInTransaction?.();
    if (!sqs || sub.endpoint.endsWith('.fifo')) return undefined;
    const [, , , region, accountId] = sub.endpoint.split(':');
    try {
      const raw = this.raw(sub);
      const body = raw ? d.message : JSON.stringify(await this.envelope(sub, topic, d));
      const attributes = raw && d.messageAttributes && Object.keys(d.messageAttributes).length;
      const { done } = await sqs.sendInTransaction(tx, { accountId, region }, sub.endpoint, {
        body,
        messageAttributes: attributes ? d.messageAttributes : undefined,
      });
      return () => {
        done();
        this.metric(d.topicArn, 'NumberOfNotificationsDelivered');
      };
    } catch (e) {
      this.deps.logger.debug('inline SQS delivery refused; the delivery job takes it', {
        subscriptionArn: sub.arn,
        err: e,
      });
      return undefined;
    }
  }

  private raw(sub: SubscriptionRecord): boolean {
    return sub.attributes.RawMessageDelivery === 'true';
  }

  /** Delivers once; returns the body sent. Throws a DeliveryFailure (or any error: retried). */
  private async deliver(
    sub: SubscriptionRecord,
    topic: TopicRecord | undefined,
    d: DeliveryJob,
  ): Promise<string> {
    switch (sub.protocol) {
      case 'sqs': {
        const body = this.raw(sub) ? d.message : JSON.stringify(await this.envelope(sub, topic, d));
        await this.sendToQueue(sub.endpoint, body, this.raw(sub) ? d.messageAttributes : undefined, d);
        return body;
      }
      case 'lambda': {
        const lambda = this.deps.lambda?.();
        if (!lambda) throw new DeliveryFailure('Lambda is not available', false, 'ServiceUnavailable');
        const body = JSON.stringify(await this.lambdaEvent(sub, topic, d));
        try {
          await lambda.invokeAsync(sub.endpoint, Buffer.from(body));
        } catch (e) {
          throw awsFailure(e);
        }
        return body;
      }
      case 'http':
      case 'https': {
        const raw = this.raw(sub);
        const body = raw ? d.message : JSON.stringify(await this.envelope(sub, topic, d));
        const headers: Record<string, string> = {
          'x-amz-sns-message-type': 'Notification',
          'x-amz-sns-message-id': d.messageId,
          'x-amz-sns-topic-arn': d.topicArn,
          'x-amz-sns-subscription-arn': sub.arn,
        };
        if (raw) headers['x-amz-sns-rawdelivery'] = 'true';
        await this.post(sub.endpoint, body, headers, requestContentType(sub));
        return body;
      }
      default:
        throw new DeliveryFailure(`protocol ${sub.protocol} is not delivered`, true, 'InvalidProtocol');
    }
  }

  private async sendToQueue(
    queueArn: string,
    body: string,
    attributes: DeliveryJob['messageAttributes'],
    d: Pick<DeliveryJob, 'messageGroupId' | 'messageDeduplicationId'>,
  ): Promise<void> {
    const sqs = this.deps.sqs?.();
    if (!sqs) throw new DeliveryFailure('SQS is not available', false, 'ServiceUnavailable');
    const parts = queueArn.split(':');
    const scope = { region: parts[3], accountId: parts[4] };
    const fifoQueue = queueArn.endsWith('.fifo');
    try {
      await sqs.sendMessage(scope, queueArn, {
        body,
        messageAttributes: attributes && Object.keys(attributes).length ? attributes : undefined,
        messageGroupId: fifoQueue ? (d.messageGroupId ?? 'default') : undefined,
        messageDeduplicationId: fifoQueue ? d.messageDeduplicationId : undefined,
      });
    } catch (e) {
      throw awsFailure(e);
    }
  }

  private async deadLetter(
    sub: SubscriptionRecord,
    topic: TopicRecord | undefined,
    d: DeliveryJob,
    f: DeliveryFailure,
  ): Promise<void> {
    const log = this.deps.logger;
    let target: string | undefined;
    try {
      target = sub.attributes.RedrivePolicy
        ? (JSON.parse(sub.attributes.RedrivePolicy).deadLetterTargetArn as string | undefined)
        : undefined;
    } catch {
      target = undefined;
    }
    if (!target) {
      log.warn('sns delivery failed; no redrive policy, message dropped', {
        subscriptionArn: sub.arn,
        messageId: d.messageId,
        error: f.message,
      });
      return;
    }
    const raw = this.raw(sub);
    const body =
      raw || sub.protocol === 'lambda' ? d.message : JSON.stringify(await this.envelope(sub, topic, d));
    const attrs: NonNullable<DeliveryJob['messageAttributes']> = {};
    if (raw && d.messageAttributes) Object.assign(attrs, d.messageAttributes);
    const names = Object.keys(attrs);
    while (names.length > 7) delete attrs[names.pop() as string];
    attrs.RequestID = { DataType: 'String', StringValue: d.messageId };
    attrs.ErrorCode = { DataType: 'String', StringValue: f.code };
    attrs.ErrorMessage = { DataType: 'String', StringValue: f.message.slice(0, 1000) || f.code };
    try {
      await this.sendToQueue(target, body, attrs, d);
    } catch (e) {
      const ff = toFailure(e);
      if (ff.client) {
        log.warn('sns redrive queue unusable; message dropped', {
          subscriptionArn: sub.arn,
          dlq: target,
          error: ff.message,
        });
        return;
      }
      throw e; // retried by the queue
    }
  }

  private async confirm(job: Job<DeliveryJob>): Promise<void> {
    const d = job.payload;
    const base = this.deps.baseUrl();
    const key = await this.signingKey();
    const topic = await this.topic(d.topicArn);
    const version = this.signatureVersion(topic);
    const fields = {
      Type: 'SubscriptionConfirmation',
      MessageId: d.messageId,
      Token: d.token,
      TopicArn: d.topicArn,
      Message: d.message,
      SubscribeURL: subscribeUrl(base, d.topicArn, d.token ?? ''),
      Timestamp: d.timestamp,
    };
    const env = {
      ...fields,
      SignatureVersion: version,
      Signature: signMessage(key, fields, version),
      SigningCertURL: certUrl(base, key),
    };
    try {
      await this.post(
        d.endpoint ?? '',
        JSON.stringify(env),
        {
          'x-amz-sns-message-type': 'SubscriptionConfirmation',
          'x-amz-sns-message-id': d.messageId,
          'x-amz-sns-topic-arn': d.topicArn,
        },
        'text/plain; charset=UTF-8',
      );
    } catch (e) {
      const f = toFailure(e);
      if (f.client || job.attempts >= 4) {
        this.deps.logger.warn('sns subscription confirmation not delivered', {
          endpoint: d.endpoint,
          error: f.message,
        });
        return;
      }
      throw Object.assign(new Error(f.message), { retryDelayMs: 20_000 });
    }
  }

  private post(
    url: string,
    body: string,
    headers: Record<string, string>,
    contentType: string,
  ): Promise<void> {
    return new Promise((resolvePost, rejectPost) => {
      let u: URL;
      try {
        u = new URL(url);
      } catch {
        rejectPost(new DeliveryFailure(`invalid endpoint ${url}`, true, 'InvalidEndpoint'));
        return;
      }
      const https = u.protocol === 'https:';
      const req = (https ? httpsRequest : httpRequest)(
        u,
        {
          method: 'POST',
          agent: https ? this.httpsAgent : this.httpAgent,
          headers: {
            ...headers,
            'content-type': contentType,
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'Amazon Simple Notification Service Agent',
          },
          timeout: this.deps.httpTimeoutMs ?? 15_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const s = res.statusCode ?? 0;
            if (s >= 200 && s < 300) resolvePost();
            else if (s >= 400 && s < 500 && s !== 429)
              rejectPost(new DeliveryFailure(`endpoint answered HTTP ${s}`, true, `HTTP${s}`));
            else rejectPost(new DeliveryFailure(`endpoint answered HTTP ${s}`, false, `HTTP${s}`));
          });
          res.on('error', (e) => rejectPost(new DeliveryFailure(e.message, false, 'ConnectionError')));
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', (e) => rejectPost(new DeliveryFailure(e.message, false, 'ConnectionError')));
      req.end(body);
    });
  }
}

function requestContentType(sub: SubscriptionRecord): string {
  try {
    const p = sub.attributes.DeliveryPolicy ? JSON.parse(sub.attributes.DeliveryPolicy) : undefined;
    const t = p?.requestPolicy?.headerContentType;
    if (typeof t === 'string' && t) return t;
  } catch {
    // default below
  }
  return 'text/plain; charset=UTF-8';
}

function envelopeAttributes(d: DeliveryJob): Record<string, { Type: string; Value: string }> {
  const out: Record<string, { Type: string; Value: string }> = {};
  for (const [k, v] of Object.entries(d.messageAttributes ?? {})) {
    out[k] = {
      Type: v.DataType,
      Value: v.DataType.startsWith('Binary') ? (v.BinaryValue ?? '') : (v.StringValue ?? ''),
    };
  }
  return out;
}

const CLIENT_CODES = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'ResourceNotFoundException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidMessageContents',
  'AccessDenied',
  'KMSAccessDeniedException',
  'RequestEntityTooLargeException',
  'MissingParameter',
]);

function awsFailure(e: unknown): DeliveryFailure {
  if (e instanceof DeliveryFailure) return e;
  if (e instanceof AwsError) {
    const client =
      CLIENT_CODES.has(e.code) ||
      (e.status >= 400 &&
        e.status < 500 &&
        e.code !== 'TooManyRequestsException' &&
        e.code !== 'ThrottlingException' &&
        e.code !== 'RequestThrottled');
    return new DeliveryFailure(e.message || e.code, client, e.code);
  }
  return new DeliveryFailure(e instanceof Error ? e.message : String(e), false, 'InternalError');
}

function toFailure(e: unknown): DeliveryFailure {
  return awsFailure(e);
}
