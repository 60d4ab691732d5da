/**
 * The SQS engine: queues, messages, visibility, redrive, FIFO groups and deduplication, all
 * through the Store (see store.ts for the layout). No HTTP here: api.ts decodes requests and
 * other services (SNS, Lambda destinations, event source mappings) call this class directly.
 *
 * Time is the injected Clock: visibility timeouts, delays, retention, deduplication windows
 * and long polls follow a virtual clock when one is advanced.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AwsError } from '../../protocols/errors.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { arn as makeArn, parseArn } from '../../core/ids.js';
import type { Store, Transaction } from '../../storage/store.js';
import {
  ALL_NAMES,
  DEFAULTS,
  FIFO_DEFAULTS,
  parseRedrivePolicy,
  READ_ONLY,
  validateAttributes,
} from './attributes.js';
import { errors } from './errors.js';
import { md5Hex, md5OfAttributes } from './md5.js';
import type {
  MessageAttributeValue,
  MoveTask,
  QueueRecord,
  ReceiveInput,
  ReceivedMessage,
  Scope,
  SendInput,
  SendResult,
  StoredMessage,
} from './model.js';
import { C, msgKey, pad13, queueKey, visKey, visRange } from './store.js';
import { seriesRecorder, type MetricsSink } from '../../core/metrics-sink.js';

export interface SqsEngineOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Base URL for queue URLs when the caller gives none. */
  endpoint: () => string;
  /** Called with a callback to run when the clock jumps (virtual clock). */
  onClockAdvance?: (listener: () => void) => () => void;
  /** Built-in AWS/SQS metrics (absent: none recorded). */
  metrics?: MetricsSink;
}

export interface QueueRef {
  accountId: string;
  region: string;
  name: string;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const PURGE_WINDOW_MS = 60_000;
type SqsMetric =
  | 'NumberOfMessagesSent'
  | 'SentMessageSize'
  | 'NumberOfMessagesReceived'
  | 'NumberOfEmptyReceives'
  | 'NumberOfMessagesDeleted';

/** How long the data plane trusts a queue record this node read (see queueFor). */
const QUEUE_CACHE_MS = 1000;
/** Queue records cached at most (the cache starts over beyond). */
const QUEUE_CACHE_MAX = 10_000;
const MAX_LONG_POLL_SLICE_MS = 1000;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const ATTR_NAME = /^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/i;
/** Characters SQS accepts in a message body: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
const INVALID_BODY_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageDeduplicationId',
  'MessageGroupId',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

/** At most this many receives share one transaction. */
const MAX_TX_BATCH = 32;

interface PendingTx {
  fn: (tx: Transaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type DeadLetterTarget = { q: QueueRecord; maxReceiveCount: number };

/** A long poll of this node waiting for a queue (see waitForWake). */
interface Waiter {
  /** Ends the wait: true when a send woke it, false on timeout, abort or a clock jump; or the messages handed to it. */
  readonly settle: (r: boolean | StoredMessage[]) => void;
  settled: boolean;
  /** A standard queue's poll: what a sender's transaction may receive for it (see handOff). */
  readonly take?: { max: number; vt: number };
  /** The hand-off that received for this poll in a transaction not committed yet. */
  claim?: HandOff;
}

/** Messages written received by a waiting poll inside a sender's transaction, handed over after the commit. */
interface HandOff {
  readonly waiter: Waiter;
  readonly got: StoredMessage[];
}

let seqCounter = 0;
const nodeTag = randomBytes(2).toString('hex');

export class SqsEngine {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly defaultEndpoint: () => string;
  private readonly metrics: MetricsSink | undefined;
  /** Metric recorders of each queue record object (see metric). */
  private readonly recorders = new WeakMap<
    QueueRecord,
    Partial<Record<SqsMetric, (value: number) => void>>
  >();
  /** Queue records by key, with when this node read them (see queueFor). */
  private readonly recent = new Map<string, { q: QueueRecord; at: number }>();
  /** Long-poll waiters per queue id. */
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly moveTasks = new Set<Promise<void>>();
  /** Receive transactions waiting to run together (see batched). */
  private pendingTx: PendingTx[] = [];
  private closed = false;

  constructor(opts: SqsEngineOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.defaultEndpoint = opts.endpoint;
    this.metrics = opts.metrics;
    if (opts.onClockAdvance) this.unsubscribe.push(opts.onClockAdvance(() => this.wakeAll()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.wakeAll();
    await Promise.allSettled([...this.moveTasks]);
  }

  // ---- naming ----

  queueUrl(scope: Scope, q: Pick<QueueRecord, 'accountId' | 'name'>): string {
    return `${scope.endpoint ?? this.defaultEndpoint()}/${q.accountId}/${q.name}`;
  }

  queueArn(q: Pick<QueueRecord, 'accountId' | 'region' | 'name'>): string {
    return makeArn('sqs', q.region, q.accountId, q.name);
  }

  /** An ARN `arn:aws:sqs:region:account:name` as a queue reference; undefined when it is not one. */
  queueArnToRef(queueArn: string): QueueRef | undefined {
    const a = parseArn(queueArn);
    if (
      !a ||
      a.service !== 'sqs' ||
      !a.account ||
      !a.region ||
      !QUEUE_NAME.test(a.resource.replace(/\.fifo$/, ''))
    )
      return undefined;
    return { accountId: a.account, region: a.region, name: a.resource };
  }

  /** A queue URL (any host, path `/<account>/<name>`) or an ARN as a reference. */
  resolveRef(scope: Scope, urlOrArn: string): QueueRef {
    if (urlOrArn.startsWith('arn:')) {
      const r = this.queueArnToRef(urlOrArn);
      if (!r) throw errors.queueDoesNotExist();
      return r;
    }
    let path: string;
    try {
      path = /^https?:\/\//i.test(urlOrArn) ? new URL(urlOrArn).pathname : urlOrArn;
    } catch {
      throw errors.invalidAddress();
    }
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 1) return { accountId: scope.accountId, region: scope.region, name: parts[0] };
    if (parts.length !== 2) throw errors.invalidAddress();
    return { accountId: parts[0], region: scope.region, name: decodeURIComponent(parts[1]) };
  }

  private async load(ref: QueueRef): Promise<QueueRecord> {
    const key = queueKey(ref.accountId, ref.region, ref.name);
    const q = await this.store.get<QueueRecord>(C.queues, key);
    if (!q) {
      this.recent.delete(key);
      throw errors.queueDoesNotExist();
    }
    if (this.recent.size >= QUEUE_CACHE_MAX) this.recent.clear();
    this.recent.set(key, { q, at: performance.now() });
    return q;
  }

  /** The queue as stored now (the control plane reads it so). */
  async getQueue(scope: Scope, urlOrArn: string): Promise<QueueRecord> {
    return this.load(this.resolveRef(scope, urlOrArn));
  }

  /** The queue record this node read less than QUEUE_CACHE_MS ago, if any (see queueFor). */
  private cachedQueue(key: string): QueueRecord | undefined {
    const hit = this.recent.get(key);
    return hit && performance.now() - hit.at < QUEUE_CACHE_MS ? hit.q : undefined;
  }

  /**
   * The queue for the data plane (send, receive, delete, change visibility): the record this
   * node read less than QUEUE_CACHE_MS ago, else read now. This node's own changes to a queue
   * (attributes, tags, purge, delete) drop it at once; another cluster node's show within
   * QUEUE_CACHE_MS (AWS itself takes up to 60 s to apply attribute changes everywhere).
   */
  private async queueFor(scope: Scope, urlOrArn: string): Promise<QueueRecord> {
    const ref = this.resolveRef(scope, urlOrArn);
    return this.cachedQueue(queueKey(ref.accountId, ref.region, ref.name)) ?? this.load(ref);
  }

  /** After this node changed a queue's record: the data plane reads it again. */
  private changed(ref: QueueRef): void {
    this.recent.delete(queueKey(ref.accountId, ref.region, ref.name));
  }

  // ---- queues ----

  async createQueue(
    scope: Scope,
    name: string,
    attributes: Record<string, string> = {},
    tags: Record<string, string> = {},
  ): Promise<{ QueueUrl: string }> {
    // FIFO takes both: the FifoQueue attribute and the .fifo suffix (a standard name cannot end with it).
    const fifo = String(attributes.FifoQueue) === 'true';
    const base = fifo ? name.slice(0, -5) : name;
    if (fifo !== name.endsWith('.fifo') && QUEUE_NAME.test(name.replace(/\.fifo$/, ''))) {
      throw errors.invalidParameterValue(
        fifo
          ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
          : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    if (!QUEUE_NAME.test(base) || name.length > 80) {
      throw errors.invalidParameterValue(
        fifo
          ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
          : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const given = validateAttributes(attributes, fifo, true);
    await this.checkRedriveTarget(scope, given.RedrivePolicy, fifo);
    const attrs = { ...DEFAULTS, ...(fifo ? FIFO_DEFAULTS : {}), ...given };
    if (attrs.RedrivePolicy === '') delete attrs.RedrivePolicy;
    const now = this.clock.now();
    const key = queueKey(scope.accountId, scope.region, name);
    const result = await this.store.transaction(async (tx) => {
      const existing = await tx.get<QueueRecord>(C.queues, key);
      if (existing) {
        const differing = Object.keys(given).filter((k) => existing.attributes[k] !== given[k]);
        return { existing, differing };
      }
      const q: QueueRecord = {
        id: randomBytes(8).toString('hex'),
        name,
        accountId: scope.accountId,
        region: scope.region,
        fifo,
        attributes: attrs,
        tags: { ...tags },
        createdAt: now,
        modifiedAt: now,
      };
      await tx.put(C.queues, key, q);
      return { existing: undefined, differing: [] as string[] };
    });
    this.changed({ accountId: scope.accountId, region: scope.region, name });
    if (result.differing.length) throw errors.queueNameExists(result.differing.join(', '));
    return { QueueUrl: this.queueUrl(scope, { accountId: scope.accountId, name }) };
  }

  private async checkRedriveTarget(scope: Scope, policy: string | undefined, fifo: boolean): Promise<void> {
    const p = parseRedrivePolicy(policy || undefined);
    if (!p) return;
    const ref = this.queueArnToRef(p.deadLetterTargetArn);
    const dlq =
      ref && (await this.store.get<QueueRecord>(C.queues, queueKey(ref.accountId, ref.region, ref.name)));
    if (!dlq) {
      throw errors.invalidParameterValue(
        `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.`,
      );
    }
    if (dlq.fifo !== fifo) {
      throw errors.invalidParameterValue(
        `Value ${policy} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.`,
      );
    }
    void scope;
  }

  async getQueueUrl(scope: Scope, name: string, ownerAccountId?: string): Promise<{ QueueUrl: string }> {
    const q = await this.load({ accountId: ownerAccountId ?? scope.accountId, region: scope.region, name });
    return { QueueUrl: this.queueUrl(scope, q) };
  }

  async listQueues(
    scope: Scope,
    opts: { prefix?: string; maxResults?: number; nextToken?: string } = {},
  ): Promise<{ QueueUrls: string[]; NextToken?: string }> {
    const base = `${scope.accountId}/${scope.region}/`;
    const max = opts.maxResults;
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1000)) {
      throw errors.invalidParameterValue(
        `Value ${max} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.`,
      );
    }
    let after: string | undefined;
    if (opts.nextToken) {
      try {
        after = base + Buffer.from(opts.nextToken, 'base64url').toString('utf8');
      } catch {
        throw errors.invalidParameterValue('Invalid NextToken value.');
      }
    }
    const limit = max ?? 1000;
    const rows = await this.store.scan<QueueRecord>(C.queues, {
      prefix: base + (opts.prefix ?? ''),
      after,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const out: { QueueUrls: string[]; NextToken?: string } = {
      QueueUrls: page.map((r) => this.queueUrl(scope, r.value)),
    };
    if (max !== undefined && rows.length > limit) {
      out.NextToken = Buffer.from(page[page.length - 1].key.slice(base.length)).toString('base64url');
    }
    return out;
  }

  async deleteQueue(scope: Scope, urlOrArn: string): Promise<void> {
    const ref = this.resolveRef(scope, urlOrArn);
    const q = await this.load(ref);
    await this.store.transaction(async (tx) => {
      await tx.delete(C.queues, queueKey(ref.accountId, ref.region, ref.name));
      await tx.deleteRange(C.messages, { prefix: `${q.id}/` });
      await tx.deleteRange(C.visibility, { prefix: `${q.id}/` });
      await tx.deleteRange(C.dedup, { prefix: `${q.id}/` });
      await tx.deleteRange(C.dedupExpiry, { prefix: `${q.id}/` });
    });
    this.changed(ref);
    this.wake(q.id);
  }

  async purgeQueue(scope: Scope, urlOrArn: string): Promise<void> {
    const ref = this.resolveRef(scope, urlOrArn);
    const q = await this.load(ref);
    const now = this.clock.now();
    if (q.purgedAt !== undefined && now - q.purgedAt < PURGE_WINDOW_MS) {
      throw errors.purgeInProgress(this.queueUrl(scope, q));
    }
    await this.store.transaction(async (tx) => {
      const cur = await tx.get<QueueRecord>(C.queues, queueKey(ref.accountId, ref.region, ref.name));
      if (!cur || cur.id !== q.id) return;
      await tx.put(C.queues, queueKey(ref.accountId, ref.region, ref.name), { ...cur, purgedAt: now });
      await tx.deleteRange(C.messages, { prefix: `${q.id}/` });
      await tx.deleteRange(C.visibility, { prefix: `${q.id}/` });
    });
    this.changed(ref);
  }

  async getQueueAttributes(
    scope: Scope,
    urlOrArn: string,
    names: string[] = ['All'],
  ): Promise<Record<string, string>> {
    const q = await this.getQueue(scope, urlOrArn);
    for (const n of names) {
      if (n !== 'All' && !ALL_NAMES.has(n)) throw errors.invalidAttributeName(`Unknown Attribute ${n}.`);
    }
    const all = names.includes('All');
    const want = (n: string) => all || names.includes(n);
    const out: Record<string, string> = {};
    const needCounts = READ_ONLY.slice(1, 4).some(want);
    const counts = needCounts ? await this.counters(q) : undefined;
    const computed: Record<string, string | undefined> = {
      QueueArn: this.queueArn(q),
      ApproximateNumberOfMessages: counts && String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: counts && String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: counts && String(counts.delayed),
      CreatedTimestamp: String(Math.floor(q.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(q.modifiedAt / 1000)),
    };
    for (const [k, v] of Object.entries(q.attributes)) if (want(k)) out[k] = v;
    for (const [k, v] of Object.entries(computed)) if (v !== undefined && want(k)) out[k] = v;
    return out;
  }

  /** Visible, in flight (received, not visible) and delayed (never received, not visible yet). */
  async counters(q: QueueRecord): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const now = this.clock.now();
    const visible = await this.store.count(C.visibility, visRange(q.id, undefined, now + 1));
    const hidden = await this.store.scan<number>(C.visibility, visRange(q.id, now + 1));
    let inFlight = 0;
    for (const h of hidden) if (h.value) inFlight++;
    return { visible, inFlight, delayed: hidden.length - inFlight };
  }

  async setQueueAttributes(
    scope: Scope,
    urlOrArn: string,
    attributes: Record<string, string>,
  ): Promise<void> {
    const ref = this.resolveRef(scope, urlOrArn);
    const q = await this.load(ref);
    const given = validateAttributes(attributes, q.fifo, false);
    await this.checkRedriveTarget(scope, given.RedrivePolicy, q.fifo);
    const now = this.clock.now();
    await this.store.transaction(async (tx) => {
      const cur = await tx.get<QueueRecord>(C.queues, queueKey(ref.accountId, ref.region, ref.name));
      if (!cur) throw errors.queueDoesNotExist();
      const attrs = { ...cur.attributes, ...given };
      if (attrs.RedrivePolicy === '') delete attrs.RedrivePolicy;
      if (attrs.RedriveAllowPolicy === '') delete attrs.RedriveAllowPolicy;
      await tx.put(C.queues, queueKey(ref.accountId, ref.region, ref.name), {
        ...cur,
        attributes: attrs,
        modifiedAt: now,
      });
    });
    this.changed(ref);
  }

  async tagQueue(scope: Scope, urlOrArn: string, tags: Record<string, string>): Promise<void> {
    await this.updateTags(scope, urlOrArn, (t) => ({ ...t, ...tags }));
  }

  async untagQueue(scope: Scope, urlOrArn: string, keys: string[]): Promise<void> {
    await this.updateTags(scope, urlOrArn, (t) => {
      const out = { ...t };
      for (const k of keys) delete out[k];
      return out;
    });
  }

  async listQueueTags(scope: Scope, urlOrArn: string): Promise<Record<string, string>> {
    return (await this.getQueue(scope, urlOrArn)).tags;
  }

  private async updateTags(
    scope: Scope,
    urlOrArn: string,
    f: (t: Record<string, string>) => Record<string, string>,
  ): Promise<void> {
    const ref = this.resolveRef(scope, urlOrArn);
    await this.store.transaction(async (tx) => {
      const key = queueKey(ref.accountId, ref.region, ref.name);
      const cur = await tx.get<QueueRecord>(C.queues, key);
      if (!cur) throw errors.queueDoesNotExist();
      const tags = f(cur.tags);
      if (Object.keys(tags).length > 50) throw errors.invalidParameterValue('Too many tags added for queue.');
      await tx.put(C.queues, key, { ...cur, tags });
    });
    this.changed(ref);
  }

  async listDeadLetterSourceQueues(scope: Scope, urlOrArn: string): Promise<{ queueUrls: string[] }> {
    const q = await this.getQueue(scope, urlOrArn);
    const target = this.queueArn(q);
    const rows = await this.store.scan<QueueRecord>(C.queues, { prefix: `${q.accountId}/${q.region}/` });
    const urls: string[] = [];
    for (const r of rows) {
      const p = parseRedrivePolicy(r.value.attributes.RedrivePolicy);
      if (p?.deadLetterTargetArn === target) urls.push(this.queueUrl(scope, r.value));
    }
    return { queueUrls: urls };
  }

  // ---- messages ----

  private validateMessageAttributes(
    attrs: Record<string, MessageAttributeValue> | undefined,
    what = 'MessageAttributes',
  ): number {
    if (!attrs) return 0;
    const names = Object.keys(attrs);
    if (names.length > 10) {
      throw errors.invalidParameterValue(
        `Number of message attributes [${names.length}] exceeds the allowed maximum [10].`,
      );
    }
    let size = 0;
    for (const name of names) {
      const a = attrs[name];
      if (what === 'MessageAttributes' && !ATTR_NAME.test(name)) {
        throw errors.invalidParameterValue(`Message (user) attribute name '${name}' is invalid.`);
      }
      if (!a || typeof a.DataType !== 'string' || a.DataType === '') {
        throw errors.invalidParameterValue(
          `The message attribute '${name}' must contain non-empty message attribute type.`,
        );
      }
      const base = a.DataType.split('.')[0];
      if (!['String', 'Number', 'Binary'].includes(base)) {
        throw errors.invalidParameterValue(
          `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
        );
      }
      const isBinary = base === 'Binary';
      const v = isBinary ? a.BinaryValue : a.StringValue;
      if (v === undefined || v === null || v === '') {
        throw errors.invalidParameterValue(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${a.DataType}'.`,
        );
      }
      if (base === 'Number' && !Number.isFinite(Number(a.StringValue))) {
        throw errors.invalidParameterValue(
          `Can't cast the value of message (user) attribute '${name}' to a number.`,
        );
      }
      size += Buffer.byteLength(name) + Buffer.byteLength(a.DataType);
      size += isBinary ? Buffer.from(a.BinaryValue!, 'base64').length : Buffer.byteLength(a.StringValue!);
    }
    return size;
  }

  private prepare(
    q: QueueRecord,
    input: SendInput,
    now: number,
    senderId: string,
  ): StoredMessage & { delayMs: number } {
    const body = input.body;
    if (typeof body !== 'string' || body.length === 0) {
      throw errors.missingParameter('MessageBody');
    }
    if (INVALID_BODY_CHAR.test(body)) {
      throw errors.invalidMessageContents(
        'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
      );
    }
    const size = Buffer.byteLength(body) + this.validateMessageAttributes(input.messageAttributes);
    this.validateMessageAttributes(input.messageSystemAttributes, 'MessageSystemAttributes');
    const max = Number(q.attributes.MaximumMessageSize);
    if (size > max) {
      throw errors.invalidParameterValue(
        `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`,
      );
    }
    let delay = Number(q.attributes.DelaySeconds);
    if (input.delaySeconds !== undefined && input.delaySeconds !== null) {
      const d = input.delaySeconds;
      if (q.fifo) {
        throw errors.invalidParameterValue(
          `Value ${d} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        );
      }
      if (!Number.isInteger(d) || d < 0 || d > 900) {
        throw errors.invalidParameterValue(
          `Value ${d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
        );
      }
      delay = d;
    }
    let dedupId: string | undefined;
    if (q.fifo) {
      if (!input.messageGroupId) throw errors.missingParameter('MessageGroupId');
      dedupId = input.messageDeduplicationId;
      if (!dedupId) {
        if (q.attributes.ContentBasedDeduplication !== 'true') {
          throw errors.invalidParameterValue(
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        dedupId = createHash('sha256').update(body).digest('hex');
      }
    } else if (input.messageDeduplicationId) {
      throw errors.invalidParameterValue(
        `Value ${input.messageDeduplicationId} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`,
      );
    }
    const attrs =
      input.messageAttributes && Object.keys(input.messageAttributes).length
        ? input.messageAttributes
        : undefined;
    const sys =
      input.messageSystemAttributes && Object.keys(input.messageSystemAttributes).length
        ? input.messageSystemAttributes
        : undefined;
    return {
      id: randomUUID(),
      seq: nextSeq(now),
      body,
      md5: md5Hex(body),
      attrs,
      md5Attrs: md5OfAttributes(attrs),
      sys,
      md5Sys: md5OfAttributes(sys),
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
      groupId: input.messageGroupId,
      dedupId,
      senderId,
      delayMs: delay * 1000,
    };
  }

  /** Sends one message (SNS, Lambda destinations and the API use this). */
  async sendMessage(scope: Scope, urlOrArn: string, input: SendInput): Promise<SendResult> {
    const [r] = await this.sendMessageBatch(scope, urlOrArn, [input]);
    if ('error' in r) throw r.error;
    return r;
  }

  /**
   * Sends several messages in one transaction. Each entry answers a result or its own error
   * (validation is per entry, as SendMessageBatch reports it).
   */
  async sendMessageBatch(
    scope: Scope,
    urlOrArn: string,
    inputs: SendInput[],
    senderId = scope.accountId,
  ): Promise<(SendResult | { error: AwsError })[]> {
    const q = await this.queueFor(scope, urlOrArn);
    const now = this.clock.now();
    const prepared = inputs.map((input) => {
      try {
        return this.prepare(q, input, now, senderId);
      } catch (e) {
        return { error: e as AwsError };
      }
    });
    let handOffs: HandOff[] = [];
    const results = await this.store.transaction(async (tx) => {
      const r = await this.writePrepared(tx, q, prepared, now);
      handOffs = r.handOffs;
      return r.out;
    });
    this.handOver(q, handOffs);
    this.wake(q.id);
    if (this.metrics) {
      for (let i = 0; i < results.length; i++) {
        const m = prepared[i];
        if ('error' in results[i] || 'error' in m) continue;
        this.metric(q, 'NumberOfMessagesSent', 1, 'Count');
        this.metric(q, 'SentMessageSize', Buffer.byteLength(m.body), 'Bytes');
      }
    }
    return results;
  }

  /**
   * Sends one message inside the caller's transaction (SNS fans out to queues in the
   * transaction that accepts the publish). Validation errors throw. Call the returned `done`
   * after the transaction committed: it wakes the queue's long pollers and records metrics.
   */
  async sendInTransaction(
    tx: Transaction,
    scope: Scope,
    urlOrArn: string,
    input: SendInput,
  ): Promise<{ result: SendResult; done: () => void }> {
    // Read through the transaction: a second connection inside it could starve a small pool.
    const ref = this.resolveRef(scope, urlOrArn);
    const key = queueKey(ref.accountId, ref.region, ref.name);
    const q = this.cachedQueue(key) ?? (await tx.get<QueueRecord>(C.queues, key));
    if (!q) throw errors.queueDoesNotExist();
    const now = this.clock.now();
    const m = this.prepare(q, input, now, scope.accountId);
    const w = await this.writePrepared(tx, q, [m], now);
    const [r] = w.out;
    if ('error' in r) throw r.error;
    return {
      result: r,
      done: () => {
        this.handOver(q, w.handOffs);
        this.wake(q.id);
        this.metric(q, 'NumberOfMessagesSent', 1, 'Count');
        this.metric(q, 'SentMessageSize', Buffer.byteLength(m.body), 'Bytes');
      },
    };
  }

  private async writePrepared(
    tx: Transaction,
    q: QueueRecord,
    prepared: (ReturnType<SqsEngine['prepare']> | { error: AwsError })[],
    now: number,
  ): Promise<{ out: (SendResult | { error: AwsError })[]; handOffs: HandOff[] }> {
    const out: (SendResult | { error: AwsError })[] = [];
    const handOffs: HandOff[] = [];
    if (q.fifo) await this.sweepDedup(tx, q.id, now);
    for (const m of prepared) {
      if ('error' in m) {
        out.push(m);
        continue;
      }
      const { delayMs: _d, ...msg } = m;
      void _d;
      if (q.fifo) {
        const dedupKey =
          q.attributes.DeduplicationScope === 'messageGroup'
            ? `${q.id}/${msg.groupId}/${msg.dedupId}`
            : `${q.id}/${msg.dedupId}`;
        const prior = await tx.get<{ id: string; seq: string; until: number }>(C.dedup, dedupKey);
        if (prior && prior.until > now) {
          out.push(this.sendResult(q, { ...msg, id: prior.id, seq: prior.seq }));
          continue;
        }
        const until = now + DEDUP_WINDOW_MS;
        await tx.put(C.dedup, dedupKey, { id: msg.id, seq: msg.seq, until });
        await tx.put(C.dedupExpiry, `${q.id}/${pad13(until)}/${dedupKey}`, 0);
      }
      const received = msg.visibleAt <= now && this.handOff(q, msg, now, handOffs);
      await tx.put(C.messages, msgKey(q.id, msg.seq), msg);
      await tx.put(C.visibility, visKey(q.id, msg.visibleAt, msg.seq), received ? 1 : 0);
      out.push(this.sendResult(q, msg));
    }
    return { out, handOffs };
  }

  /** One value of a built-in AWS/SQS metric of queue `q`. */
  private metric(q: QueueRecord, name: SqsMetric, value: number, unit: string): void {
    const sink = this.metrics;
    if (!sink) return;
    // The series of a queue record, looked up once per record (the data plane reuses records).
    let r = this.recorders.get(q);
    if (!r) this.recorders.set(q, (r = {}));
    (r[name] ??= seriesRecorder(sink, q, 'AWS/SQS', name, [{ Name: 'QueueName', Value: q.name }], unit))(
      value,
    );
  }

  /** Forgets a few expired deduplication ids (each send sweeps some, so the table stays small). */
  private async sweepDedup(tx: Transaction, qid: string, now: number): Promise<void> {
    const prefix = `${qid}/`;
    const expired = await tx.scan(C.dedupExpiry, { prefix, end: `${prefix}${pad13(now + 1)}`, limit: 20 });
    for (const e of expired) {
      await tx.delete(C.dedupExpiry, e.key);
      const dedupKey = e.key.slice(prefix.length + 14);
      const cur = await tx.get<{ until: number }>(C.dedup, dedupKey);
      if (cur && cur.until <= now) await tx.delete(C.dedup, dedupKey);
    }
  }

  private sendResult(q: QueueRecord, m: StoredMessage): SendResult {
    const r: SendResult = { MessageId: m.id, MD5OfMessageBody: m.md5 };
    if (m.md5Attrs) r.MD5OfMessageAttributes = m.md5Attrs;
    if (m.md5Sys) r.MD5OfMessageSystemAttributes = m.md5Sys;
    if (q.fifo) r.SequenceNumber = m.seq.slice(0, 20);
    return r;
  }

  /** ReceiveMessage with long polling: waits up to waitTimeSeconds for a message to arrive. */
  async receiveMessages(
    scope: Scope,
    urlOrArn: string,
    input: ReceiveInput = {},
  ): Promise<ReceivedMessage[]> {
    const q = await this.queueFor(scope, urlOrArn);
    const max = input.maxNumberOfMessages ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > 10) {
      throw errors.invalidParameterValue(
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const vt = input.visibilityTimeout ?? Number(q.attributes.VisibilityTimeout);
    if (!Number.isInteger(vt) || vt < 0 || vt > 43200) {
      throw errors.invalidParameterValue(
        `Value ${vt} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
      );
    }
    const wait = input.waitTimeSeconds ?? Number(q.attributes.ReceiveMessageWaitTimeSeconds);
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) {
      throw errors.invalidParameterValue(
        `Value ${wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    }
    const dlq = await this.dlqOf(q);
    // The wait is real time (a client's socket waits it), not the virtual clock.
    const deadline = performance.now() + wait * 1000;
    let woken = false;
    for (;;) {
      // Idle queues (long pollers) are answered from a read, without taking the write lock:
      // the first visibility entry says whether a message is visible, else when one will be.
      // After a send woke this poll, the message is most likely there: straight to the write.
      const first = woken ? undefined : await this.firstVisibleAt(q.id);
      const attempt = first === undefined || (first !== null && first <= this.clock.now());
      const got = attempt ? await this.receiveOnce(q, max, vt, dlq) : [];
      if (got.length || this.closed || input.signal?.aborted) {
        if (got.length) this.metric(q, 'NumberOfMessagesReceived', got.length, 'Count');
        else this.metric(q, 'NumberOfEmptyReceives', 1, 'Count');
        return got.map((m) => this.render(q.id, m, input));
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.metric(q, 'NumberOfEmptyReceives', 1, 'Count');
        return [];
      }
      let at = attempt ? await this.firstVisibleAt(q.id) : first;
      const now = this.clock.now();
      // Visible messages that the attempt could not take (FIFO: their groups have a message in
      // flight) become receivable when that message is deleted (a wake-up) or its visibility
      // ends: sleep until the next entry after now, not 1 ms at a time.
      if (at !== null && at !== undefined && at <= now) at = await this.firstVisibleAt(q.id, now + 1);
      let sleep = Math.min(left, MAX_LONG_POLL_SLICE_MS);
      if (at !== null && at !== undefined) sleep = Math.max(1, Math.min(sleep, at - now));
      const take = q.fifo ? undefined : { max, vt };
      const r = await this.waitForWake(q.id, sleep, input.signal, take);
      if (typeof r === 'boolean') {
        woken = r;
        continue;
      }
      // A send received for this poll in its own transaction (see handOff).
      this.metric(q, 'NumberOfMessagesReceived', r.length, 'Count');
      return r.map((m) => this.render(q.id, m, input));
    }
  }

  private async dlqOf(q: QueueRecord): Promise<DeadLetterTarget | undefined> {
    const p = parseRedrivePolicy(q.attributes.RedrivePolicy);
    if (!p) return undefined;
    const ref = this.queueArnToRef(p.deadLetterTargetArn);
    const target =
      ref && (await this.store.get<QueueRecord>(C.queues, queueKey(ref.accountId, ref.region, ref.name)));
    return target ? { q: target, maxReceiveCount: p.maxReceiveCount } : undefined;
  }

  /** When the queue's first message (from `from` on) is (or becomes) visible, in ms; null when none. */
  private async firstVisibleAt(qid: string, from?: number): Promise<number | null> {
    const first = await this.store.scan<number>(C.visibility, { ...visRange(qid, from), limit: 1 });
    return first.length ? Number(first[0].key.slice(qid.length + 1, qid.length + 14)) : null;
  }

  /** One receive attempt (a write transaction). */
  private async receiveOnce(
    q: QueueRecord,
    max: number,
    vtSeconds: number,
    dlq: DeadLetterTarget | undefined,
  ): Promise<StoredMessage[]> {
    const { got, movedToDlq } = await this.batched((tx) => this.receiveInTx(tx, q, max, vtSeconds, dlq));
    if (movedToDlq && dlq) this.wake(dlq.q.id);
    return got;
  }

  /**
   * Runs fn in a write transaction shared with the other receives that asked in the same
   * tick: a send that wakes the long polls of several queues (an SNS fan-out) or several polls
   * of one queue gets them all answered by one commit instead of one each. If the shared
   * transaction fails, each fn runs again in its own, so one receive's error stays its own.
   */
  private batched<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingTx.push({ fn, resolve, reject } as PendingTx);
      // nextTick from a promise callback runs once the microtask queue is drained: after
      // every long poll woken by the same commit has come here.
      if (this.pendingTx.length === 1) process.nextTick(() => this.flushBatch());
    });
  }

  private flushBatch(): void {
    const batch = this.pendingTx.splice(0, MAX_TX_BATCH);
    if (this.pendingTx.length) process.nextTick(() => this.flushBatch());
    const alone = (b: PendingTx) => {
      this.store.transaction(b.fn).then(b.resolve, b.reject);
    };
    if (batch.length === 1) return alone(batch[0]);
    const results: unknown[] = [];
    this.store
      .transaction(async (tx) => {
        results.length = 0; // the Store may run this more than once
        for (const b of batch) results.push(await b.fn(tx));
      })
      .then(
        () => batch.forEach((b, i) => b.resolve(results[i])),
        () => batch.forEach(alone),
      );
  }

  private async receiveInTx(
    tx: Transaction,
    q: QueueRecord,
    max: number,
    vtSeconds: number,
    dlq: DeadLetterTarget | undefined,
  ): Promise<{ got: StoredMessage[]; movedToDlq: boolean }> {
    const retentionMs = Number(q.attributes.MessageRetentionPeriod) * 1000;
    let movedToDlq = false;
    const got = await (async () => {
      const now = this.clock.now();
      const out: StoredMessage[] = [];
      const prefix = `${q.id}/`;
      // Returns true when the message was taken (received).
      const take = async (msg: StoredMessage): Promise<'taken' | 'gone'> => {
        if (msg.sentAt + retentionMs <= now) {
          await this.removeMessage(tx, q.id, msg);
          return 'gone';
        }
        if (dlq && msg.receiveCount >= dlq.maxReceiveCount) {
          await this.removeMessage(tx, q.id, msg);
          const moved: StoredMessage = {
            ...msg,
            seq: nextSeq(now),
            visibleAt: now,
            token: undefined,
            deadLetterSourceArn: this.queueArn(q),
          };
          await tx.put(C.messages, msgKey(dlq.q.id, moved.seq), moved);
          await tx.put(C.visibility, visKey(dlq.q.id, now, moved.seq), 0);
          movedToDlq = true;
          return 'gone';
        }
        await tx.delete(C.visibility, visKey(q.id, msg.visibleAt, msg.seq));
        msg.receiveCount += 1;
        msg.firstReceiveAt ??= now;
        msg.token = receiptToken();
        msg.visibleAt = now + vtSeconds * 1000;
        await tx.put(C.messages, msgKey(q.id, msg.seq), msg);
        await tx.put(C.visibility, visKey(q.id, msg.visibleAt, msg.seq), 1);
        out.push(msg);
        return 'taken';
      };

      if (!q.fifo) {
        let after: string | undefined;
        while (out.length < max) {
          const ready = await tx.scan<number>(C.visibility, {
            ...visRange(q.id, undefined, now + 1),
            after,
            limit: max - out.length,
          });
          if (ready.length === 0) break;
          after = ready[ready.length - 1].key;
          const seqs = ready.map((r) => r.key.slice(prefix.length + 14));
          const msgs = await tx.getMany<StoredMessage>(
            C.messages,
            seqs.map((s) => msgKey(q.id, s)),
          );
          for (let i = 0; i < ready.length; i++) {
            const m = msgs[i];
            if (!m) await tx.delete(C.visibility, ready[i].key);
            else await take(m);
          }
        }
        return out;
      }

      // FIFO: messages in sequence order; a group whose head is in flight (or delayed) is blocked.
      const blocked = new Set<string>();
      let after: string | undefined;
      let scanned = 0;
      while (out.length < max && scanned < 10_000) {
        const page = await tx.scan<StoredMessage>(C.messages, { prefix, after, limit: 100 });
        if (page.length === 0) break;
        scanned += page.length;
        after = page[page.length - 1].key;
        for (const { value: m } of page) {
          if (out.length >= max) break;
          const g = m.groupId ?? '';
          if (blocked.has(g)) continue;
          if (m.visibleAt > now) {
            blocked.add(g);
            continue;
          }
          const r = await take(m);
          if (r === 'taken' && out.length >= max) break;
        }
      }
      return out;
    })();
    return { got, movedToDlq };
  }

  private async removeMessage(tx: Transaction, qid: string, m: StoredMessage): Promise<void> {
    await tx.delete(C.messages, msgKey(qid, m.seq));
    await tx.delete(C.visibility, visKey(qid, m.visibleAt, m.seq));
  }

  private render(qid: string, m: StoredMessage, input: ReceiveInput): ReceivedMessage {
    const handle = encodeHandle(qid, m);
    const out: ReceivedMessage = { MessageId: m.id, ReceiptHandle: handle, MD5OfBody: m.md5, Body: m.body };
    const names = input.attributeNames ?? [];
    if (names.length) {
      const all = names.includes('All');
      const values: Record<string, string | undefined> = {
        SenderId: m.senderId,
        SentTimestamp: String(m.sentAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
        SequenceNumber: m.groupId !== undefined && m.dedupId !== undefined ? m.seq.slice(0, 20) : undefined,
        MessageDeduplicationId: m.dedupId,
        MessageGroupId: m.groupId,
        AWSTraceHeader: m.sys?.AWSTraceHeader?.StringValue,
        DeadLetterQueueSourceArn: m.deadLetterSourceArn,
      };
      const attrs: Record<string, string> = {};
      for (const n of SYSTEM_ATTRIBUTES) {
        if ((all || names.includes(n)) && values[n] !== undefined) attrs[n] = values[n]!;
      }
      if (Object.keys(attrs).length) out.Attributes = attrs;
    }
    const wanted = input.messageAttributeNames ?? [];
    if (m.attrs && wanted.length) {
      const picked: Record<string, MessageAttributeValue> = {};
      for (const [k, v] of Object.entries(m.attrs)) {
        const ok = wanted.some(
          (w) => w === 'All' || w === '.*' || w === k || (w.endsWith('.*') && k.startsWith(w.slice(0, -1))),
        );
        if (ok) picked[k] = v;
      }
      const md5 = md5OfAttributes(picked);
      if (md5) {
        out.MessageAttributes = picked;
        out.MD5OfMessageAttributes = md5;
      }
    }
    return out;
  }

  /** Deletes a received message. Deleting one that is already gone succeeds, as in SQS. */
  async deleteMessage(scope: Scope, urlOrArn: string, receiptHandle: string): Promise<void> {
    const [r] = await this.deleteMessageBatch(scope, urlOrArn, [receiptHandle]);
    if (r) throw r;
  }

  /** Per handle: undefined on success, else its error. */
  async deleteMessageBatch(
    scope: Scope,
    urlOrArn: string,
    handles: string[],
  ): Promise<(AwsError | undefined)[]> {
    const q = await this.queueFor(scope, urlOrArn);
    const parsed = handles.map((h) => {
      const p = decodeHandle(h);
      return p && p.qid === q.id ? p : errors.receiptHandleIsInvalid(h);
    });
    return this.store
      .transaction(async (tx) => {
        const out: (AwsError | undefined)[] = [];
        const keys = parsed.map((p) => ('seq' in p ? msgKey(q.id, p.seq) : ''));
        const msgs = await tx.getMany<StoredMessage>(C.messages, keys.filter(Boolean));
        let j = 0;
        for (const p of parsed) {
          if (!('seq' in p)) {
            out.push(p);
            continue;
          }
          const m = msgs[j++];
          if (m) await this.removeMessage(tx, q.id, m);
          out.push(undefined);
        }
        return out;
      })
      .then((out) => {
        const deleted = out.filter((e) => e === undefined).length;
        if (deleted) this.metric(q, 'NumberOfMessagesDeleted', deleted, 'Count');
        // FIFO: a deleted message may have been its group's head; the group's next message can go.
        if (deleted && q.fifo) this.wake(q.id);
        return out;
      });
  }

  async changeMessageVisibility(
    scope: Scope,
    urlOrArn: string,
    receiptHandle: string,
    visibilityTimeout: number,
  ): Promise<void> {
    const [r] = await this.changeMessageVisibilityBatch(scope, urlOrArn, [
      { receiptHandle, visibilityTimeout },
    ]);
    if (r) throw r;
  }

  async changeMessageVisibilityBatch(
    scope: Scope,
    urlOrArn: string,
    entries: { receiptHandle: string; visibilityTimeout: number }[],
  ): Promise<(AwsError | undefined)[]> {
    const q = await this.queueFor(scope, urlOrArn);
    let madeVisible = false;
    const out = await this.store.transaction(async (tx) => {
      const now = this.clock.now();
      const res: (AwsError | undefined)[] = [];
      for (const e of entries) {
        const vt = e.visibilityTimeout;
        if (!Number.isInteger(vt) || vt < 0 || vt > 43200) {
          res.push(
            errors.invalidParameterValue(
              `Value ${vt} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`,
            ),
          );
          continue;
        }
        const p = decodeHandle(e.receiptHandle);
        if (!p || p.qid !== q.id) {
          res.push(errors.receiptHandleIsInvalid(e.receiptHandle));
          continue;
        }
        const m = await tx.get<StoredMessage>(C.messages, msgKey(q.id, p.seq));
        if (!m) {
          res.push(
            errors.invalidParameterValue(
              `Value ${e.receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
            ),
          );
          continue;
        }
        if (m.receiveCount === 0 || m.visibleAt <= now) {
          res.push(errors.messageNotInflight());
          continue;
        }
        await tx.delete(C.visibility, visKey(q.id, m.visibleAt, m.seq));
        m.visibleAt = now + vt * 1000;
        await tx.put(C.messages, msgKey(q.id, m.seq), m);
        await tx.put(C.visibility, visKey(q.id, m.visibleAt, m.seq), 1);
        if (vt === 0) madeVisible = true;
        res.push(undefined);
      }
      return res;
    });
    if (madeVisible) this.wake(q.id);
    return out;
  }

  // ---- message move tasks (redrive from a DLQ) ----

  async startMessageMoveTask(
    scope: Scope,
    sourceArn: string,
    destinationArn?: string,
    maxPerSecond?: number,
  ): Promise<{ TaskHandle: string }> {
    const src = this.queueArnToRef(sourceArn);
    const q =
      src && (await this.store.get<QueueRecord>(C.queues, queueKey(src.accountId, src.region, src.name)));
    if (!q)
      throw errors.resourceNotFound(
        "The resource that you specified for the SourceArn parameter doesn't exist.",
      );
    const sources = await this.listDeadLetterSourceQueues(scope, sourceArn);
    if (sources.queueUrls.length === 0) {
      throw errors.invalidParameterValue('Source queue must be configured as a Dead Letter Queue.');
    }
    if (destinationArn) {
      const d = this.queueArnToRef(destinationArn);
      const dq = d && (await this.store.get<QueueRecord>(C.queues, queueKey(d.accountId, d.region, d.name)));
      if (!dq)
        throw errors.resourceNotFound(
          "The resource that you specified for the DestinationArn parameter doesn't exist.",
        );
    }
    if (
      maxPerSecond !== undefined &&
      (!Number.isInteger(maxPerSecond) || maxPerSecond < 1 || maxPerSecond > 500)
    ) {
      throw errors.invalidParameterValue(
        `Value ${maxPerSecond} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500.`,
      );
    }
    const running = await this.store.scan<MoveTask>(C.moveTasks, { prefix: `${sourceArn}/` });
    if (running.some((r) => r.value.status === 'RUNNING')) {
      throw errors.unsupported(
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const counts = await this.counters(q);
    const now = this.clock.now();
    const taskHandle = Buffer.from(JSON.stringify({ t: randomUUID(), s: sourceArn })).toString('base64url');
    const task: MoveTask = {
      taskHandle,
      sourceArn,
      destinationArn,
      maxPerSecond,
      status: 'RUNNING',
      moved: 0,
      toMove: counts.visible + counts.inFlight + counts.delayed,
      startedAt: now,
    };
    await this.store.put(C.moveTasks, `${sourceArn}/${pad13(now)}/${taskHandle}`, task);
    const run = this.runMoveTask(scope, q, `${sourceArn}/${pad13(now)}/${taskHandle}`, task).catch(
      (err: unknown) => this.logger.error('message move task failed', { err, sourceArn }),
    );
    this.moveTasks.add(run);
    void run.finally(() => this.moveTasks.delete(run));
    return { TaskHandle: taskHandle };
  }

  private async runMoveTask(scope: Scope, q: QueueRecord, key: string, task: MoveTask): Promise<void> {
    const prefix = `${q.id}/`;
    for (;;) {
      if (this.closed) return;
      const cur = await this.store.get<MoveTask>(C.moveTasks, key);
      if (!cur || cur.status !== 'RUNNING') {
        if (cur?.status === 'CANCELLING')
          await this.store.put(C.moveTasks, key, { ...cur, status: 'CANCELLED' });
        return;
      }
      const now = this.clock.now();
      const ready = await this.store.scan<number>(C.visibility, {
        ...visRange(q.id, undefined, now + 1),
        limit: 10,
      });
      if (ready.length === 0) {
        await this.store.put(C.moveTasks, key, { ...cur, status: 'COMPLETED' });
        return;
      }
      let moved = 0;
      for (const r of ready) {
        const seq = r.key.slice(prefix.length + 14);
        const m = await this.store.get<StoredMessage>(C.messages, msgKey(q.id, seq));
        if (!m) {
          await this.store.delete(C.visibility, r.key);
          continue;
        }
        const dest = task.destinationArn ?? m.deadLetterSourceArn;
        if (!dest) continue;
        try {
          await this.sendMessage(scope, dest, {
            body: m.body,
            messageAttributes: m.attrs,
            messageSystemAttributes: m.sys,
            messageGroupId: m.groupId,
            messageDeduplicationId: m.groupId !== undefined ? (m.dedupId ?? m.id) : undefined,
          });
        } catch (err) {
          await this.store.put(C.moveTasks, key, {
            ...cur,
            status: 'FAILED',
            failureReason: err instanceof Error ? err.message : String(err),
          });
          return;
        }
        await this.store.transaction(async (tx) => this.removeMessage(tx, q.id, m));
        moved++;
      }
      await this.store.put(C.moveTasks, key, { ...cur, moved: cur.moved + moved });
      if (task.maxPerSecond)
        await new Promise((r) => setTimeout(r, (1000 * ready.length) / task.maxPerSecond!));
    }
  }

  async listMessageMoveTasks(sourceArn: string, maxResults = 1): Promise<MoveTask[]> {
    const src = this.queueArnToRef(sourceArn);
    const q =
      src && (await this.store.get<QueueRecord>(C.queues, queueKey(src.accountId, src.region, src.name)));
    if (!q)
      throw errors.resourceNotFound(
        "The resource that you specified for the SourceArn parameter doesn't exist.",
      );
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10) {
      throw errors.invalidParameterValue(
        `Value ${maxResults} for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10.`,
      );
    }
    const rows = await this.store.scan<MoveTask>(C.moveTasks, {
      prefix: `${sourceArn}/`,
      reverse: true,
      limit: maxResults,
    });
    return rows.map((r) => r.value);
  }

  async cancelMessageMoveTask(taskHandle: string): Promise<{ ApproximateNumberOfMessagesMoved: number }> {
    let sourceArn: string;
    try {
      sourceArn = (JSON.parse(Buffer.from(taskHandle, 'base64url').toString('utf8')) as { s: string }).s;
    } catch {
      throw errors.resourceNotFound('Task does not exist.');
    }
    const rows = await this.store.scan<MoveTask>(C.moveTasks, { prefix: `${sourceArn}/` });
    const row = rows.find((r) => r.value.taskHandle === taskHandle);
    if (!row) throw errors.resourceNotFound('Task does not exist.');
    if (row.value.status !== 'RUNNING') throw errors.unsupported('Only active tasks can be cancelled.');
    await this.store.put(C.moveTasks, row.key, { ...row.value, status: 'CANCELLING' });
    return { ApproximateNumberOfMessagesMoved: row.value.moved };
  }

  // ---- long-poll wake-ups ----

  /**
   * Wakes the long polls of a queue: this node's at once, every node's through the Store's
   * notify channel (PostgreSQL: LISTEN/NOTIFY; this node's would otherwise wait for the
   * notification's round trip through the database).
   */
  private wake(qid: string): void {
    const set = this.waiters.get(qid);
    if (set) for (const w of [...set]) w.settle(true);
    this.store.notify(`sqs:${qid}`).catch((err: unknown) => {
      this.logger.warn('sqs wake-up notify failed; long polls fall back to polling', { err });
    });
  }

  private wakeAll(): void {
    for (const set of this.waiters.values()) for (const w of [...set]) w.settle(false);
  }

  /**
   * Resolves to true when a send on this node woke it; false on timeout, abort, a clock jump or
   * the Store's notification (on PostgreSQL that may be the echo of a send this node already
   * woke its polls for: such a wake-up checks with a read before taking the write lock); or to
   * the messages a send received for it in its own transaction, when `take` allows that.
   */
  private waitForWake(
    qid: string,
    ms: number,
    signal: AbortSignal | undefined,
    take: Waiter['take'],
  ): Promise<boolean | StoredMessage[]> {
    return new Promise((resolve) => {
      let set = this.waiters.get(qid);
      if (!set) this.waiters.set(qid, (set = new Set()));
      const waiter: Waiter = {
        settled: false,
        take,
        settle: (r) => {
          if (waiter.settled) return;
          waiter.settled = true;
          off();
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          set.delete(waiter);
          if (set.size === 0 && this.waiters.get(qid) === set) this.waiters.delete(qid);
          resolve(r);
        },
      };
      const onAbort = () => waiter.settle(false);
      const off = this.store.onNotify(`sqs:${qid}`, () => waiter.settle(false));
      const timer = setTimeout(() => waiter.settle(false), ms);
      signal?.addEventListener('abort', onAbort);
      set.add(waiter);
    });
  }

  /**
   * Inside a sender's transaction, before a new visible message of standard queue `q` is
   * written: when one of this node's long polls is waiting for the queue, the message is
   * written already received by it (as its receive would: receive count 1, a receipt token, its
   * visibility timeout), so the commit that stores the message also answers the poll — one
   * transaction instead of two, no wake-up round trip, no read back. Standard queues promise
   * no order, so a new message may be handed over while an older one is becoming visible.
   * The poll stays claimed until `handOver` runs after the commit; a poll that ends first
   * (timeout, abort, another wake-up) has its messages made visible again. True when handed.
   */
  private handOff(q: QueueRecord, msg: StoredMessage, now: number, handOffs: HandOff[]): boolean {
    if (q.fifo) return false;
    let h = handOffs.find((x) => x.got.length < x.waiter.take!.max);
    if (!h) {
      const set = this.waiters.get(q.id);
      const w = set && [...set].find((x) => x.take && !x.settled && !x.claim);
      if (!w) return false;
      h = { waiter: w, got: [] };
      w.claim = h;
      handOffs.push(h);
    }
    msg.receiveCount = 1;
    msg.firstReceiveAt = now;
    msg.token = receiptToken();
    msg.visibleAt = now + h.waiter.take!.vt * 1000;
    h.got.push(msg);
    return true;
  }

  /** After the commit of the transaction that made `handOffs`: answers their polls. */
  private handOver(q: QueueRecord, handOffs: HandOff[]): void {
    for (const h of handOffs) {
      const w = h.waiter;
      if (w.claim === h && !w.settled) {
        w.claim = undefined;
        w.settle(h.got);
      } else {
        // The poll ended before the commit: nobody got these messages, so they are visible again.
        this.unreceive(q, h.got).catch((err: unknown) =>
          this.logger.warn(
            'sqs: could not make unclaimed messages visible again (they reappear after their visibility timeout)',
            { err },
          ),
        );
      }
    }
  }

  /** Undoes receives whose response nobody got: visible now, receive count as before. */
  private async unreceive(q: QueueRecord, msgs: StoredMessage[]): Promise<void> {
    await this.store.transaction(async (tx) => {
      const now = this.clock.now();
      for (const m of msgs) {
        const cur = await tx.get<StoredMessage>(C.messages, msgKey(q.id, m.seq));
        if (!cur || cur.token !== m.token) continue;
        await tx.delete(C.visibility, visKey(q.id, cur.visibleAt, cur.seq));
        cur.visibleAt = now;
        cur.token = undefined;
        cur.receiveCount -= 1;
        if (cur.receiveCount === 0) cur.firstReceiveAt = undefined;
        await tx.put(C.messages, msgKey(q.id, cur.seq), cur);
        await tx.put(C.visibility, visKey(q.id, now, cur.seq), cur.receiveCount ? 1 : 0);
      }
    });
    this.wake(q.id);
  }
}

/** Crypto-random bytes drawn 128 tokens at a time (one randomBytes call per receive was a syscall each). */
let tokenPool = Buffer.alloc(0);
let tokenAt = 0;

/** 12 random bytes, base64url: the per-receive part of a receipt handle. */
function receiptToken(): string {
  if (tokenAt + 12 > tokenPool.length) {
    tokenPool = randomBytes(12 * 128);
    tokenAt = 0;
  }
  tokenAt += 12;
  return tokenPool.toString('base64url', tokenAt - 12, tokenAt);
}

/** Sortable, unique sequence: 13-digit ms time + 7-digit counter (the FIFO SequenceNumber) + node tag. */
function nextSeq(now: number): string {
  seqCounter = (seqCounter + 1) % 10_000_000;
  return `${pad13(now)}${String(seqCounter).padStart(7, '0')}${nodeTag}`;
}

function encodeHandle(qid: string, m: StoredMessage): string {
  return Buffer.from(`${qid}/${m.seq}:${m.token ?? ''}`).toString('base64url');
}

/** Handles are `base64url(<qid>/<seq>:<token>)`; undefined when malformed. */
function decodeHandle(h: string): { qid: string; seq: string; token: string } | undefined {
  if (typeof h !== 'string' || h.length === 0 || h.length > 1024) return undefined;
  const s = Buffer.from(h, 'base64url').toString('utf8');
  const m = /^([0-9a-f]{16})\/([0-9]{20}[0-9a-f]{4}):([A-Za-z0-9_-]*)$/.exec(s);
  return m ? { qid: m[1], seq: m[2], token: m[3] } : undefined;
}
