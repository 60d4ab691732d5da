/**
 * Schedules: EventBridge rules with a ScheduleExpression (and their targets) and EventBridge
 * Scheduler schedules, persisted through the Store, fired against Lambda, SQS and SNS targets.
 *
 * Firing: every tick (a second of real time, and at once when the virtual clock jumps) the
 * cluster's leader (lease `schedules`) walks the enabled schedules; for each, in one
 * transaction, it enqueues one durable job per due fire time and target (job id
 * `<schedule>|<fireTime>|<target>`, so a fire time is enqueued once even if two nodes overlap)
 * and moves the schedule's cursor to the last time handled. A worker on any node takes the
 * jobs and invokes Lambda asynchronously (Lambda's own durable queue does retries from there),
 * sends to an SQS queue or publishes to an SNS topic, whichever the target's ARN names.
 */
import { createHash, randomUUID } from 'node:crypto';
import { OffsetClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { valueAtPath } from '../../core/json-path.js';
import type { KvEntry, Store, Transaction } from '../../storage/store.js';
import { startWorker, type Worker } from '../../storage/worker.js';
import type { LeaderElector } from '../../cluster/index.js';
import { AwsError } from '../../protocols/errors.js';
import { matchesEventPattern, parseEventPattern, type EventPattern } from '../sns/filter-policy.js';
import {
  ExpressionError,
  fireTimesBetween,
  isValidTimeZone,
  nextFireTime,
  parseScheduleExpression,
  type ScheduleExpression,
} from './expressions.js';

export const RULES = 'events/rules';
/** Custom event buses (the default bus of every account and region is implied). */
export const BUSES = 'events/buses';
export const SCHEDULES = 'scheduler/schedules';
export const FIRE_QUEUE = 'schedules/fire';
/** Fire times handled per schedule per tick; older missed ones are skipped (logged). */
export const MAX_CATCH_UP = 100;

export interface Scope {
  accountId: string;
  region: string;
}

export interface RuleTarget {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate?: string };
  RoleArn?: string;
  [k: string]: unknown;
}

export interface BusDoc {
  name: string;
  arn: string;
  description?: string;
  createdAt: number;
}

export interface RuleDoc {
  name: string;
  arn: string;
  /** Absent: the default bus. */
  eventBusName?: string;
  accountId: string;
  region: string;
  scheduleExpression?: string;
  eventPattern?: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  roleArn?: string;
  createdAt: number;
  /** rate() periods are counted from here (creation, or the last enable / expression change). */
  anchor: number;
  /** The last fire time handled. */
  cursor: number;
  targets: RuleTarget[];
}

export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  [k: string]: unknown;
}

export interface ScheduleDoc {
  name: string;
  groupName: string;
  arn: string;
  accountId: string;
  region: string;
  scheduleExpression: string;
  timezone?: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  startDate?: number;
  endDate?: number;
  flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  target: ScheduleTarget;
  actionAfterCompletion: 'NONE' | 'DELETE';
  kmsKeyArn?: string;
  createdAt: number;
  modifiedAt: number;
  anchor: number;
  cursor: number;
}

export interface FireJob {
  accountId: string;
  region: string;
  /** The target's ARN: a Lambda function, an SQS queue or an SNS topic. */
  functionArn: string;
  payload: string;
  source: string;
  /** FIFO queue / topic targets: the target's `SqsParameters.MessageGroupId`. */
  messageGroupId?: string;
  /** The target's RetryPolicy and DeadLetterConfig (see `deliveryOf`). */
  maxAttempts?: number;
  maxAgeMs?: number;
  deadLetterArn?: string;
  /** When the event happened (epoch ms): MaximumEventAgeInSeconds counts from it. */
  firedAt?: number;
  /** Event bus targets: the buses (`{account}:{region}:{name}`) the event was already put on. */
  via?: string[];
}

export interface LambdaInvoker {
  invokeAsync(functionArn: string, payload: Buffer): Promise<void>;
}

/** Delivers to the non-Lambda targets rules and schedules may name. */
export interface MessageTargets {
  sendToQueue(
    scope: Scope,
    queueArn: string,
    body: string,
    opts: { messageGroupId?: string; dedupId: string; attributes?: Record<string, string> },
  ): Promise<void>;
  publishToTopic(
    scope: Scope,
    topicArn: string,
    message: string,
    opts: { messageGroupId?: string; dedupId: string },
  ): Promise<void>;
}

export interface SchedulesDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  leader: LeaderElector;
  lambda: () => LambdaInvoker | undefined;
  /** SQS queue and SNS topic targets (absent: only Lambda targets are delivered). */
  messages?: () => MessageTargets | undefined;
  /** Real-time tick interval (default 1000 ms). */
  tickMs?: number;
}

/**
 * Rules of the default bus keep their old keys; a custom bus's rules sit under `~{bus}~`, which
 * sorts after every rule name (names are `[.-_A-Za-z0-9]`), so default listings end before them.
 * Bus names never hold `~`: bus `a`'s prefix `~a~` takes in none of bus `a/b`'s rules.
 */
const ruleKey = (s: Scope, name: string, bus = 'default') =>
  bus === 'default' ? `${s.accountId}/${s.region}/${name}` : `${s.accountId}/${s.region}/~${bus}~${name}`;
const busKey = (s: Scope, name: string) => `${s.accountId}/${s.region}/${name}`;

/** Whether a rule key scanned under bus `bus`'s prefix is that bus's (the default bus's prefix also covers the custom buses' `~` keys). */
const onBus = (key: string, bus: string, prefix: string) =>
  bus !== 'default' || !key.startsWith(prefix + '~');

/** The bus a request names: absent, `default` or an ARN ending `event-bus/{name}`. */
function busNameOf(bus: string | undefined): string {
  if (!bus) return 'default';
  const m = /^arn:aws[a-z-]*:events:[^:]*:\d{12}:event-bus\/(.+)$/.exec(bus);
  return m ? m[1] : bus;
}
const scheduleKey = (s: Scope, group: string, name: string) => `${s.accountId}/${s.region}/${group}/${name}`;

export const validation = (m: string) => new AwsError('ValidationException', m, 400);

function ruleNotFound(name: string, bus = 'default'): AwsError {
  return new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`, 400);
}

function busNotFound(name: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`, 400);
}

/** Parses an expression the way each API reports a bad one. */
function parseOrThrow(text: string, allowAt: boolean, message: string): ScheduleExpression {
  try {
    return parseScheduleExpression(text, { allowAt });
  } catch (e) {
    if (e instanceof ExpressionError) throw validation(message);
    throw e;
  }
}

export class SchedulesEngine {
  private timer: NodeJS.Timeout | undefined;
  private worker: Worker | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private unAdvance: (() => void) | undefined;

  constructor(private readonly deps: SchedulesDeps) {}

  // ---------------- EventBridge rules ----------------

  async putRule(
    scope: Scope,
    input: {
      Name?: string;
      ScheduleExpression?: string;
      EventPattern?: string;
      State?: string;
      Description?: string;
      RoleArn?: string;
      EventBusName?: string;
    },
  ): Promise<{ RuleArn: string }> {
    const name = input.Name ?? '';
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    }
    const bus = await this.busOf(scope, input.EventBusName);
    if (!input.ScheduleExpression && !input.EventPattern) {
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (input.ScheduleExpression) {
      if (bus !== 'default')
        throw validation('ScheduleExpression is supported only on the default event bus.');
      parseOrThrow(input.ScheduleExpression, false, 'Parameter ScheduleExpression is not valid.');
    }
    if (input.EventPattern) parseEventPattern(input.EventPattern);
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw validation(
        `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
      );
    }
    const now = this.deps.clock.now();
    const arn = `arn:aws:events:${scope.region}:${scope.accountId}:rule/${bus === 'default' ? '' : bus + '/'}${name}`;
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<RuleDoc>(RULES, ruleKey(scope, name, bus));
      const restart =
        !cur ||
        cur.scheduleExpression !== input.ScheduleExpression ||
        (cur.state !== 'ENABLED' && state === 'ENABLED');
      const doc: RuleDoc = {
        name,
        arn,
        ...(bus === 'default' ? {} : { eventBusName: bus }),
        accountId: scope.accountId,
        region: scope.region,
        scheduleExpression: input.ScheduleExpression || undefined,
        eventPattern: input.EventPattern || undefined,
        state,
        description: input.Description,
        roleArn: input.RoleArn,
        createdAt: cur?.createdAt ?? now,
        anchor: restart ? now : cur.anchor,
        cursor: restart ? now : cur.cursor,
        targets: cur?.targets ?? [],
      };
      await tx.put(RULES, ruleKey(scope, name, bus), doc);
    });
    this.kick();
    return { RuleArn: arn };
  }

  /** Parsed event patterns by their text (rules keep the text). */
  private readonly patterns = new Map<string, EventPattern>();

  private pattern(text: string): EventPattern | undefined {
    let p = this.patterns.get(text);
    if (!p) {
      try {
        p = parseEventPattern(text);
      } catch {
        return undefined; // stored before patterns were validated: matches nothing
      }
      if (this.patterns.size > 1000) this.patterns.clear();
      this.patterns.set(text, p);
    }
    return p;
  }

  /**
   * PutEvents on the default bus: each valid entry becomes an event (AWS's envelope: version,
   * id, detail-type, source, account, time, region, resources, detail); every enabled rule
   * whose EventPattern matches it gets one fire job per target on the durable fire queue,
   * committed before PutEvents answers (the events themselves are not stored). Invalid entries
   * fail alone, as on AWS.
   */
  async putEvents(
    scope: Scope,
    entries: unknown,
    /** Events of AWS services (S3's `aws.s3`): their `aws.` sources are allowed. */
    opts: { fromService?: boolean } = {},
  ): Promise<{ FailedEntryCount: number; Entries: Record<string, string>[] }> {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      const n = Array.isArray(entries) ? entries.length : 0;
      throw validation(
        `1 validation error detected: Value '[${n > 10 ? '...' : ''}]' at 'entries' failed to satisfy constraint: Member must have length ${n > 10 ? 'less than or equal to 10' : 'greater than or equal to 1'}`,
      );
    }
    const now = this.deps.clock.now();
    const out: Record<string, string>[] = [];
    const events: { bus: string; event: Record<string, unknown> }[] = [];
    const buses = new Map<string, boolean>();
    let failed = 0;
    for (const raw of entries as Record<string, unknown>[]) {
      const e = raw ?? {};
      const fail = (ErrorCode: string, ErrorMessage: string) => {
        failed++;
        out.push({ ErrorCode, ErrorMessage });
      };
      const bus = busNameOf(e.EventBusName as string | undefined);
      let exists = buses.get(bus);
      if (exists === undefined) buses.set(bus, (exists = await this.busExists(scope, bus)));
      if (!exists) {
        fail('InvalidArgument', `Event bus ${bus} does not exist.`);
        continue;
      }
      const missing = (['Source', 'DetailType', 'Detail'] as const).find(
        (k) => typeof e[k] !== 'string' || e[k] === '',
      );
      if (missing) {
        fail(
          'InvalidArgument',
          `Parameter ${missing} is not valid. Reason: ${missing} is a required argument.`,
        );
        continue;
      }
      const detail = jsonObject(e.Detail as string);
      if (!detail) {
        fail('MalformedDetail', 'Detail is malformed.');
        continue;
      }
      if ((e.Source as string).startsWith('aws.') && !opts.fromService) {
        fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
        continue;
      }
      const at = toMs(e.Time) ?? now;
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType,
        source: e.Source,
        account: scope.accountId,
        time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
        region: scope.region,
        resources: Array.isArray(e.Resources) ? e.Resources : [],
        detail,
      };
      events.push({ bus, event });
      out.push({ EventId: event.id });
    }
    if (events.length > 0) await this.route(scope, events, now);
    return { FailedEntryCount: failed, Entries: out };
  }

  /**
   * Events on their buses: every enabled rule whose pattern matches gets one fire job per target
   * on the durable fire queue, committed before this resolves.
   */
  private async route(
    scope: Scope,
    events: { bus: string; event: Record<string, unknown> }[],
    now: number,
    via: string[] = [],
  ) {
    // Each bus's enabled pattern rules with targets, read once.
    const rulesOf = new Map<string, KvEntry<RuleDoc>[]>();
    for (const bus of new Set(events.map((e) => e.bus)))
      rulesOf.set(
        bus,
        (await this.busRules(scope, bus)).filter(
          ({ value: r }) => r.state === 'ENABLED' && r.eventPattern && r.targets.length > 0,
        ),
      );
    const fires: { id: string; job: FireJob }[] = [];
    for (const { bus, event } of events) {
      for (const { key, value: rule } of rulesOf.get(bus)!) {
        const pattern = this.pattern(rule.eventPattern!);
        if (!pattern || !matchesEventPattern(pattern, event)) continue;
        for (const target of rule.targets) {
          const payload = targetPayload(target, event, rule);
          if (payload === undefined) continue;
          fires.push({
            id: `${key}|${event.id as string}|${target.Id}`,
            job: {
              accountId: rule.accountId,
              region: rule.region,
              functionArn: target.Arn,
              payload,
              source: rule.arn,
              messageGroupId: messageGroupOf(target),
              ...deliveryOf(target, now),
              via: [...via, `${scope.accountId}:${scope.region}:${bus}`],
            },
          });
        }
      }
    }
    if (fires.length > 0)
      await this.deps.store.transaction(async (tx) => {
        for (const f of fires) await enqueueFire(tx, f.id, f.job);
      });
  }

  /** TestEventPattern: whether the event (JSON text) matches the pattern. */
  testEventPattern(patternText: unknown, eventText: unknown): { Result: boolean } {
    if (typeof patternText !== 'string' || typeof eventText !== 'string')
      throw validation('Parameter(s) EventPattern and Event must be specified.');
    const pattern = parseEventPattern(patternText);
    const event = jsonObject(eventText);
    if (!event) throw validation('Parameter Event is not valid.');
    return { Result: matchesEventPattern(pattern, event) };
  }

  /** The bus's name when it exists (the default bus always does); else ResourceNotFoundException. */
  private async busOf(scope: Scope, bus: string | undefined): Promise<string> {
    const name = busNameOf(bus);
    if (!(await this.busExists(scope, name))) throw busNotFound(name);
    return name;
  }

  private async busExists(scope: Scope, name: string): Promise<boolean> {
    return (
      name === 'default' || (await this.deps.store.get<BusDoc>(BUSES, busKey(scope, name))) !== undefined
    );
  }

  /** Every rule of one bus (in name order), with its key. */
  private async busRules(scope: Scope, bus: string): Promise<KvEntry<RuleDoc>[]> {
    const prefix = ruleKey(scope, '', bus);
    const rows = await this.deps.store.scan<RuleDoc>(RULES, { prefix });
    return rows.filter((r) => onBus(r.key, bus, prefix));
  }

  async getRule(scope: Scope, name: string, bus?: string): Promise<RuleDoc> {
    const b = await this.busOf(scope, bus);
    const doc = await this.deps.store.get<RuleDoc>(RULES, ruleKey(scope, name ?? '', b));
    if (!doc) throw ruleNotFound(name, b);
    return doc;
  }

  // ---------------- event buses ----------------

  async createEventBus(
    scope: Scope,
    input: { Name?: string; Description?: string },
  ): Promise<{ EventBusArn: string }> {
    const name = input.Name ?? '';
    if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name))
      throw validation(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+`,
      );
    const arn = `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`;
    const doc: BusDoc = { name, arn, createdAt: this.deps.clock.now() };
    if (input.Description !== undefined) doc.description = String(input.Description);
    const created = name !== 'default' && (await this.deps.store.insert(BUSES, busKey(scope, name), doc));
    if (!created)
      throw new AwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`, 400);
    return { EventBusArn: arn };
  }

  async describeEventBus(scope: Scope, name: string | undefined): Promise<BusDoc> {
    const bus = busNameOf(name);
    if (bus === 'default') return this.defaultBus(scope);
    const doc = await this.deps.store.get<BusDoc>(BUSES, busKey(scope, bus));
    if (!doc) throw busNotFound(bus);
    return doc;
  }

  private defaultBus(scope: Scope): BusDoc {
    return {
      name: 'default',
      arn: `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/default`,
      createdAt: 0,
    };
  }

  /** The default bus and the custom ones, by name. */
  async listEventBuses(scope: Scope, prefix = ''): Promise<BusDoc[]> {
    const custom = await this.deps.store.scan<BusDoc>(BUSES, { prefix: busKey(scope, prefix) });
    const all = [this.defaultBus(scope), ...custom.map((r) => r.value)];
    return all
      .filter((b) => b.name.startsWith(prefix))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Deletes a custom bus without rules (deleting one that does not exist succeeds, as on AWS). */
  async deleteEventBus(scope: Scope, name: string): Promise<void> {
    const bus = busNameOf(name);
    if (bus === 'default') throw validation('Cannot delete event bus default.');
    if ((await this.busRules(scope, bus)).length > 0)
      throw validation(`Event bus ${bus} cannot be deleted since it has rules.`);
    await this.deps.store.delete(BUSES, busKey(scope, bus));
  }

  async listRules(
    scope: Scope,
    opts: { prefix?: string; limit?: number; nextToken?: string; bus?: string },
  ): Promise<{ rules: RuleDoc[]; nextToken?: string }> {
    const bus = await this.busOf(scope, opts.bus);
    const limit = opts.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw validation(
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`,
      );
    }
    const base = ruleKey(scope, '', bus);
    let after: string | undefined;
    if (opts.nextToken) {
      after = Buffer.from(opts.nextToken, 'base64url').toString('utf8');
      if (!after.startsWith(base)) throw validation('The NextToken provided is invalid.');
    }
    // A custom bus's rules sort after all of the default bus's: a default listing stops there.
    const rows = (
      await this.deps.store.scan<RuleDoc>(RULES, {
        prefix: base + (opts.prefix ?? ''),
        after,
        limit: limit + 1,
      })
    ).filter((r) => onBus(r.key, bus, base));
    const page = rows.slice(0, limit);
    return {
      rules: page.map((r) => r.value),
      nextToken:
        rows.length > limit ? Buffer.from(page[page.length - 1].key).toString('base64url') : undefined,
    };
  }

  async deleteRule(scope: Scope, name: string, opts: { force?: boolean; bus?: string } = {}): Promise<void> {
    const bus = await this.busOf(scope, opts.bus);
    await this.deps.store.transaction(async (tx) => {
      const cur = await tx.get<RuleDoc>(RULES, ruleKey(scope, name ?? '', bus));
      if (!cur) return; // AWS: deleting a missing rule succeeds
      if (cur.targets.length > 0) throw validation("Rule can't be deleted since it has targets.");
      await tx.delete(RULES, ruleKey(scope, name, bus));
    });
  }

  async setRuleState(scope: Scope, name: string, state: 'ENABLED' | 'DISABLED', bus?: string): Promise<void> {
    await this.updateRule(scope, name, bus, (doc) => {
      if (doc.state !== state && state === 'ENABLED') {
        const now = this.deps.clock.now();
        doc.anchor = now;
        doc.cursor = now;
      }
      doc.state = state;
    });
    this.kick();
  }

  private async updateRule(
    scope: Scope,
    name: string,
    busName: string | undefined,
    fn: (doc: RuleDoc) => void,
  ): Promise<RuleDoc> {
    const bus = await this.busOf(scope, busName);
    return this.deps.store.transaction(async (tx) => {
      const doc = await tx.get<RuleDoc>(RULES, ruleKey(scope, name ?? '', bus));
      if (!doc) throw ruleNotFound(name, bus);
      fn(doc);
      await tx.put(RULES, ruleKey(scope, name, bus), doc);
      return doc;
    });
  }

  async putTargets(
    scope: Scope,
    name: string,
    targets: RuleTarget[],
    bus?: string,
  ): Promise<{ FailedEntryCount: number; FailedEntries: unknown[] }> {
    if (!Array.isArray(targets) || targets.length < 1 || targets.length > 10) {
      throw validation(
        "1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 10",
      );
    }
    for (const t of targets) {
      if (!t || typeof t.Id !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(t.Id)) {
        throw validation(
          `1 validation error detected: Value '${String(t?.Id)}' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
        );
      }
      if (typeof t.Arn !== 'string' || !t.Arn) throw validation('Target Arn must be specified.');
      if ([t.Input, t.InputPath, t.InputTransformer].filter((x) => x !== undefined).length > 1) {
        throw validation('Only one of Input, InputPath, or InputTransformer must be provided.');
      }
      if (t.InputTransformer !== undefined) {
        const tr = t.InputTransformer;
        if (typeof tr?.InputTemplate !== 'string')
          throw validation(`InputTemplate for target ${t.Id} must be specified.`);
        for (const [k, path] of Object.entries(tr.InputPathsMap ?? {}))
          if (
            !/^[A-Za-z0-9_-]+$/.test(k) ||
            k.startsWith('aws') ||
            typeof path !== 'string' ||
            !JSON_PATH.test(path)
          )
            throw validation(`InputPathsMap for target ${t.Id} is invalid: ${k}.`);
      }
      if (t.Input !== undefined) {
        try {
          JSON.parse(t.Input);
        } catch {
          throw validation(`Input for target ${t.Id} is not a valid JSON text.`);
        }
      }
      if (t.InputPath !== undefined && !JSON_PATH.test(t.InputPath)) {
        throw validation(`InputPath for target ${t.Id} is invalid.`);
      }
      checkDelivery(t, `targets.${targets.indexOf(t) + 1}.member`);
    }
    const failed: unknown[] = [];
    await this.updateRule(scope, name, bus, (doc) => {
      const byId = new Map(doc.targets.map((t) => [t.Id, t]));
      for (const t of targets) {
        if (!byId.has(t.Id) && byId.size >= 5) {
          failed.push({
            TargetId: t.Id,
            ErrorCode: 'LimitExceededException',
            ErrorMessage: 'The requested resource exceeds the maximum number allowed.',
          });
          continue;
        }
        byId.set(t.Id, { ...t });
      }
      doc.targets = [...byId.values()];
    });
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  async removeTargets(
    scope: Scope,
    name: string,
    ids: string[],
    bus?: string,
  ): Promise<{ FailedEntryCount: number; FailedEntries: unknown[] }> {
    if (!Array.isArray(ids) || ids.length < 1) {
      throw validation(
        "1 validation error detected: Value '[]' at 'ids' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    await this.updateRule(scope, name, bus, (doc) => {
      const gone = new Set(ids);
      doc.targets = doc.targets.filter((t) => !gone.has(t.Id));
    });
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  // ---------------- Scheduler schedules ----------------

  async createSchedule(scope: Scope, input: ScheduleInput): Promise<{ ScheduleArn: string }> {
    const doc = this.scheduleFromInput(scope, input);
    const created = await this.deps.store.insert(SCHEDULES, scheduleKey(scope, doc.groupName, doc.name), doc);
    if (!created) {
      throw new AwsError('ConflictException', `Schedule ${doc.name} already exists.`, 409);
    }
    this.kick();
    return { ScheduleArn: doc.arn };
  }

  async updateSchedule(scope: Scope, input: ScheduleInput): Promise<{ ScheduleArn: string }> {
    const next = this.scheduleFromInput(scope, input);
    await this.deps.store.transaction(async (tx) => {
      const key = scheduleKey(scope, next.groupName, next.name);
      const cur = await tx.get<ScheduleDoc>(SCHEDULES, key);
      if (!cur) throw scheduleNotFound(next.name);
      const restart =
        cur.scheduleExpression !== next.scheduleExpression ||
        cur.timezone !== next.timezone ||
        (cur.state !== 'ENABLED' && next.state === 'ENABLED');
      next.createdAt = cur.createdAt;
      if (!restart) {
        next.anchor = cur.anchor;
        next.cursor = cur.cursor;
      }
      await tx.put(SCHEDULES, key, next);
    });
    this.kick();
    return { ScheduleArn: next.arn };
  }

  async getSchedule(scope: Scope, name: string, group = 'default'): Promise<ScheduleDoc> {
    const doc = await this.deps.store.get<ScheduleDoc>(SCHEDULES, scheduleKey(scope, group, name));
    if (!doc) throw scheduleNotFound(name);
    return doc;
  }

  async deleteSchedule(scope: Scope, name: string, group = 'default'): Promise<void> {
    const gone = await this.deps.store.delete(SCHEDULES, scheduleKey(scope, group, name));
    if (!gone) throw scheduleNotFound(name);
  }

  async listSchedules(
    scope: Scope,
    opts: { group?: string; prefix?: string; state?: string; max?: number; nextToken?: string },
  ): Promise<{ schedules: ScheduleDoc[]; nextToken?: string }> {
    const max = opts.max ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw validation('MaxResults must be between 1 and 100.');
    }
    if (opts.state && opts.state !== 'ENABLED' && opts.state !== 'DISABLED') {
      throw validation(`Invalid State: ${opts.state}`);
    }
    const base = `${scope.accountId}/${scope.region}/`;
    let after: string | undefined;
    if (opts.nextToken) {
      after = Buffer.from(opts.nextToken, 'base64url').toString('utf8');
      if (!after.startsWith(base)) throw validation('Invalid NextToken.');
    }
    const out: ScheduleDoc[] = [];
    let last: string | undefined;
    let more = false;
    const rows = await this.deps.store.scan<ScheduleDoc>(SCHEDULES, {
      prefix: base + (opts.group ? `${opts.group}/` : ''),
      after,
    });
    for (const r of rows) {
      const d = r.value;
      if (opts.prefix && !d.name.startsWith(opts.prefix)) continue;
      if (opts.state && d.state !== opts.state) continue;
      if (out.length === max) {
        more = true;
        break;
      }
      out.push(d);
      last = r.key;
    }
    return { schedules: out, nextToken: more && last ? Buffer.from(last).toString('base64url') : undefined };
  }

  private scheduleFromInput(scope: Scope, input: ScheduleInput): ScheduleDoc {
    const name = input.Name ?? '';
    if (!/^[0-9a-zA-Z\-_.]{1,64}$/.test(name)) {
      throw validation(`Invalid Schedule name: ${name}`);
    }
    const group = input.GroupName || 'default';
    if (group !== 'default') {
      throw new AwsError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
    }
    const expr = input.ScheduleExpression ?? '';
    if (!expr) throw validation('ScheduleExpression is required.');
    parseOrThrow(expr, true, `Invalid Schedule Expression ${expr}.`);
    if (input.ScheduleExpressionTimezone && !isValidTimeZone(input.ScheduleExpressionTimezone)) {
      throw validation(`Invalid time zone: ${input.ScheduleExpressionTimezone}.`);
    }
    const ftw = input.FlexibleTimeWindow;
    if (!ftw || (ftw.Mode !== 'OFF' && ftw.Mode !== 'FLEXIBLE')) {
      throw validation('FlexibleTimeWindow Mode must be OFF or FLEXIBLE.');
    }
    if (ftw.Mode === 'FLEXIBLE' && !(Number(ftw.MaximumWindowInMinutes) >= 1)) {
      throw validation('MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.');
    }
    const t = input.Target;
    if (!t || typeof t.Arn !== 'string' || !t.Arn) throw validation('Target Arn is required.');
    if (typeof t.RoleArn !== 'string' || !t.RoleArn) throw validation('Target RoleArn is required.');
    checkDelivery(t as unknown as Record<string, unknown>, 'target');
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`Invalid State: ${state}`);
    const action = input.ActionAfterCompletion ?? 'NONE';
    if (action !== 'NONE' && action !== 'DELETE') {
      throw validation(`Invalid ActionAfterCompletion: ${action}`);
    }
    const startDate = toMs(input.StartDate);
    const endDate = toMs(input.EndDate);
    if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
      throw validation('The EndDate must be after the StartDate.');
    }
    const now = this.deps.clock.now();
    return {
      name,
      groupName: group,
      arn: `arn:aws:scheduler:${scope.region}:${scope.accountId}:schedule/${group}/${name}`,
      accountId: scope.accountId,
      region: scope.region,
      scheduleExpression: expr,
      timezone: input.ScheduleExpressionTimezone || undefined,
      state,
      description: input.Description,
      startDate,
      endDate,
      flexibleTimeWindow: { Mode: ftw.Mode, MaximumWindowInMinutes: ftw.MaximumWindowInMinutes },
      target: { ...t },
      actionAfterCompletion: action,
      kmsKeyArn: input.KmsKeyArn,
      createdAt: now,
      modifiedAt: now,
      anchor: startDate !== undefined && startDate > now ? startDate : now,
      cursor: now,
    };
  }

  // ---------------- firing ----------------

  start(): void {
    const d = this.deps;
    this.worker = startWorker<FireJob>({
      store: d.store,
      queue: FIRE_QUEUE,
      clock: d.clock,
      logger: d.logger,
      concurrency: 4,
      handle: async (job) => {
        const p = job.payload;
        try {
          await this.deliver(p, job.id);
        } catch (err) {
          // The target's RetryPolicy: retried until its attempts or the event's age run out.
          const expired =
            p.maxAgeMs !== undefined && p.firedAt !== undefined && d.clock.now() - p.firedAt >= p.maxAgeMs;
          if (!expired && job.attempts < job.maxAttempts) throw err;
          if (p.deadLetterArn) return await this.toDeadLetterQueue(p, err);
          if (!expired) throw err;
          d.logger.warn('event dropped: past its maximum age', {
            source: p.source,
            target: p.functionArn,
            err,
          });
        }
      },
    });
    this.timer = setInterval(() => this.kick(), this.deps.tickMs ?? 1000);
    this.timer.unref();
    if (d.clock instanceof OffsetClock) this.unAdvance = d.clock.onAdvance(() => this.kick());
    this.kick();
  }

  private async deliver(p: FireJob, jobId: string): Promise<void> {
    const d = this.deps;
    const service = p.functionArn.split(':')[2];
    const bus = /^arn:aws[a-z-]*:events:([^:]+):(\d{12}):event-bus\/(.+)$/.exec(p.functionArn);
    if (bus) {
      // Another event bus: the event goes on as it is, to that bus's rules.
      const scope = { region: bus[1], accountId: bus[2] };
      if (!(await this.busExists(scope, bus[3]))) throw new Error(`Event bus ${bus[3]} does not exist.`);
      const event = jsonObject(p.payload);
      if (!event) throw new Error('The event for an event bus target is not a JSON object.');
      // An event is put on each bus once: buses that forward to each other do not loop.
      if (p.via?.includes(`${scope.accountId}:${scope.region}:${bus[3]}`)) return;
      await this.route(scope, [{ bus: bus[3], event }], d.clock.now(), p.via);
      return;
    }
    if (service === 'sqs' || service === 'sns') {
      const messages = d.messages?.();
      if (!messages) throw new Error(`${service.toUpperCase()} targets are not available`);
      const scope = { accountId: p.accountId, region: p.region };
      // One fire is one message: the job id deduplicates FIFO targets when a fire is retried.
      const opts = {
        messageGroupId: p.messageGroupId,
        dedupId: createHash('sha256').update(jobId).digest('hex'),
      };
      if (service === 'sqs') await messages.sendToQueue(scope, p.functionArn, p.payload, opts);
      else await messages.publishToTopic(scope, p.functionArn, p.payload, opts);
      return;
    }
    const lambda = d.lambda();
    if (!lambda) throw new Error('Lambda is not available');
    await lambda.invokeAsync(p.functionArn, Buffer.from(p.payload));
  }

  /**
   * A fire whose retries ran out goes to the target's dead-letter queue: the event as the target
   * would have got it, with RULE_ARN (SCHEDULE_ARN for Scheduler), TARGET_ARN, ERROR_CODE and
   * ERROR_MESSAGE message attributes, as EventBridge sends it.
   */
  private async toDeadLetterQueue(p: FireJob, err: unknown): Promise<void> {
    const messages = this.deps.messages?.();
    if (!messages) throw err;
    const [, , , region, accountId] = p.deadLetterArn!.split(':');
    const scheduler = p.source.split(':')[2] === 'scheduler';
    const e = err as { name?: string; code?: string; message?: string };
    await messages.sendToQueue({ accountId, region }, p.deadLetterArn!, p.payload, {
      dedupId: createHash('sha256')
        .update(`dlq|${p.source}|${p.firedAt ?? ''}|${p.payload}`)
        .digest('hex'),
      attributes: {
        [scheduler ? 'SCHEDULE_ARN' : 'RULE_ARN']: p.source,
        TARGET_ARN: p.functionArn,
        ERROR_CODE: e?.code ?? e?.name ?? 'Error',
        ERROR_MESSAGE: e?.message ?? String(err),
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unAdvance?.();
    await this.ticking;
    await this.worker?.stop();
  }

  /** Runs a tick now (or right after the running one). */
  kick(): void {
    if (this.stopped || !this.timer) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick()
      .then(
        () => undefined,
        (err: unknown) => this.deps.logger.error('schedule tick failed', { err }),
      )
      .finally(() => {
        this.ticking = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One tick: fires what is due, on the leader only. Resolves to the number of jobs enqueued. */
  async tick(): Promise<number> {
    const r = await this.deps.leader.runAsLeader('schedules', async () => {
      let n = 0;
      const now = this.deps.clock.now();
      // A transaction only for what is due (or may need deleting): the scan's copy decides.
      for (const { key, value: r } of await this.deps.store.scan<RuleDoc>(RULES)) {
        if (r.state === 'ENABLED' && r.scheduleExpression && isDue(r.scheduleExpression, r, now)) {
          n += await this.fireRule(key);
        }
      }
      for (const { key, value: s } of await this.deps.store.scan<ScheduleDoc>(SCHEDULES)) {
        if (s.state !== 'ENABLED') continue;
        const ended = s.endDate !== undefined && now >= s.endDate && s.actionAfterCompletion === 'DELETE';
        if (ended || isDue(s.scheduleExpression, s, now, s.timezone)) {
          n += await this.fireSchedule(key);
        }
      }
      return n;
    });
    return r.ran ? r.value : 0;
  }

  private async fireRule(key: string): Promise<number> {
    return this.deps.store.transaction(async (tx) => {
      const doc = await tx.get<RuleDoc>(RULES, key);
      if (!doc || doc.state !== 'ENABLED' || !doc.scheduleExpression) return 0;
      const now = this.deps.clock.now();
      const times = this.dueTimes(doc.name, doc.scheduleExpression, false, doc.cursor, now, doc.anchor);
      if (times.length === 0) return 0;
      let n = 0;
      for (const t of times) {
        const event = {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: doc.accountId,
          time: new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
          region: doc.region,
          resources: [doc.arn],
          detail: {},
        };
        for (const target of doc.targets) {
          const payload = targetPayload(target, event, doc);
          if (payload === undefined) continue;
          n += await enqueueFire(tx, `${key}|${t}|${target.Id}`, {
            accountId: doc.accountId,
            region: doc.region,
            functionArn: target.Arn,
            payload,
            source: doc.arn,
            messageGroupId: messageGroupOf(target),
            ...deliveryOf(target, t),
          });
        }
      }
      doc.cursor = times[times.length - 1];
      await tx.put(RULES, key, doc);
      return n;
    });
  }

  private async fireSchedule(key: string): Promise<number> {
    return this.deps.store.transaction(async (tx) => {
      const doc = await tx.get<ScheduleDoc>(SCHEDULES, key);
      if (!doc || doc.state !== 'ENABLED') return 0;
      const now = this.deps.clock.now();
      const until = doc.endDate !== undefined ? Math.min(now, doc.endDate) : now;
      let times = this.dueTimes(
        doc.name,
        doc.scheduleExpression,
        true,
        doc.cursor,
        until,
        doc.anchor,
        doc.timezone,
      );
      if (doc.startDate !== undefined) times = times.filter((t) => t >= doc.startDate!);
      let n = 0;
      for (const t of times) {
        n += await enqueueFire(tx, `${key}|${t}`, {
          accountId: doc.accountId,
          region: doc.region,
          functionArn: doc.target.Arn,
          payload: doc.target.Input ?? '{}',
          source: doc.arn,
          messageGroupId: messageGroupOf(doc.target),
          ...deliveryOf(doc.target as unknown as Record<string, unknown>, t),
        });
      }
      if (times.length) doc.cursor = times[times.length - 1];
      // Completed: a one-time schedule whose time has come, or a schedule past its EndDate.
      const expr = parseScheduleExpression(doc.scheduleExpression, { allowAt: true });
      const atTime =
        expr.kind === 'at' ? nextFireTime(expr, -Infinity, { timeZone: doc.timezone }) : undefined;
      const done =
        (atTime !== undefined && atTime <= now) || (doc.endDate !== undefined && now >= doc.endDate);
      if (done && doc.actionAfterCompletion === 'DELETE') await tx.delete(SCHEDULES, key);
      else if (times.length) await tx.put(SCHEDULES, key, doc);
      return n;
    });
  }

  private dueTimes(
    name: string,
    text: string,
    allowAt: boolean,
    cursor: number,
    now: number,
    anchor: number,
    timeZone?: string,
  ): number[] {
    if (now <= cursor) return [];
    const expr = parseScheduleExpression(text, { allowAt });
    const times = fireTimesBetween(expr, cursor, now, { anchor, timeZone, limit: MAX_CATCH_UP + 1 });
    if (times.length > MAX_CATCH_UP) {
      // Too far behind (the node was down, or the clock jumped a long way): fire the most
      // recent MAX_CATCH_UP times and skip the rest, as a worker would.
      const all = fireTimesBetween(expr, cursor, now, { anchor, timeZone, limit: 1_000_000 });
      this.deps.logger.warn('schedule fell behind; older fire times skipped', {
        schedule: name,
        skipped: all.length - MAX_CATCH_UP,
      });
      return all.slice(-MAX_CATCH_UP);
    }
    return times;
  }
}

function isDue(
  text: string,
  doc: { cursor: number; anchor: number },
  now: number,
  timeZone?: string,
): boolean {
  try {
    const next = nextFireTime(parseScheduleExpression(text, { allowAt: true }), doc.cursor, {
      anchor: doc.anchor,
      timeZone,
    });
    return next !== undefined && next <= now;
  } catch {
    return false;
  }
}

/** The JSON object in `text`; undefined when it is not JSON or not an object. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function messageGroupOf(target: Record<string, unknown>): string | undefined {
  const g = (target.SqsParameters as { MessageGroupId?: unknown } | undefined)?.MessageGroupId;
  return typeof g === 'string' && g ? g : undefined;
}

async function enqueueFire(tx: Transaction, id: string, job: FireJob): Promise<number> {
  const r = await tx.enqueue(FIRE_QUEUE, job, { id, maxAttempts: job.maxAttempts ?? DEFAULT_RETRIES + 1 });
  return r.created ? 1 : 0;
}

/** EventBridge's defaults: 185 retries within 24 hours. */
const DEFAULT_RETRIES = 185;
const DEFAULT_MAX_AGE_S = 86_400;

/** A target's RetryPolicy ranges and DeadLetterConfig queue, as PutTargets checks them. */
function checkDelivery(t: Record<string, unknown>, where: string): void {
  const retry = t.RetryPolicy as
    { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown } | undefined;
  const range = (v: unknown, name: string, min: number, max: number) => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw validation(
        `1 validation error detected: Value '${String(v)}' at '${where}.retryPolicy.${name}' failed to satisfy constraint: Member must have value ${typeof v === 'number' && v > max ? `less than or equal to ${max}` : `greater than or equal to ${min}`}`,
      );
  };
  range(retry?.MaximumRetryAttempts, 'maximumRetryAttempts', 0, 185);
  range(retry?.MaximumEventAgeInSeconds, 'maximumEventAgeInSeconds', 60, 86400);
  const dlq = (t.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  if (dlq !== undefined && (typeof dlq !== 'string' || !/^arn:aws[a-z-]*:sqs:[^:]+:\d{12}:[^:]+$/.test(dlq)))
    throw validation(`DeadLetterConfig Arn ${String(dlq)} is not a valid SQS queue ARN.`);
}

/** A target's RetryPolicy and DeadLetterConfig as the fire job carries them. */
function deliveryOf(target: Record<string, unknown>, firedAt: number): Partial<FireJob> {
  const retry = (target.RetryPolicy ?? {}) as {
    MaximumRetryAttempts?: unknown;
    MaximumEventAgeInSeconds?: unknown;
  };
  const dlq = (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn;
  const retries =
    typeof retry.MaximumRetryAttempts === 'number' ? retry.MaximumRetryAttempts : DEFAULT_RETRIES;
  const age =
    typeof retry.MaximumEventAgeInSeconds === 'number' ? retry.MaximumEventAgeInSeconds : DEFAULT_MAX_AGE_S;
  return {
    maxAttempts: retries + 1,
    maxAgeMs: age * 1000,
    firedAt,
    deadLetterArn: typeof dlq === 'string' && dlq ? dlq : undefined,
  };
}

function scheduleNotFound(name: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
}

function toMs(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v * 1000 : Date.parse(String(v));
  if (!Number.isFinite(n)) throw validation(`Invalid date: ${String(v)}`);
  return n;
}

/** The payload a rule target gets: its Input as is, the event at InputPath, or the event. */
/** `$`, `$.a.b`, `$.a[0].b`: the paths InputPath and InputPathsMap take here. */
const JSON_PATH = /^\$(\.[A-Za-z0-9_-]+|\[\d+\])*$/;

/**
 * InputTransformer: `<name>` placeholders of the template get the InputPathsMap values, and the
 * predefined `aws.events.rule-arn`, `rule-name`, `event.ingestion-time`, `event` / `event.json`.
 * Inside a JSON string a value goes in as text (escaped for that string); elsewhere as JSON
 * (a string with its quotes; a missing value as null). Unknown placeholders stay as written.
 */
export function transformInput(
  tr: { InputPathsMap?: Record<string, string>; InputTemplate?: string },
  event: Record<string, unknown>,
  rule: { arn: string; name: string },
  now = Date.now(),
): string {
  const values = new Map<string, unknown>();
  for (const [k, path] of Object.entries(tr.InputPathsMap ?? {}))
    values.set(k, valueAtPath(event, path.slice(1)));
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', new Date(now).toISOString());
  values.set('aws.events.event', event);
  values.set('aws.events.event.json', event);
  const t = tr.InputTemplate ?? '';
  let out = '';
  let inString = false;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (ch === '\\' && inString) {
      out += ch + (t[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    if (ch === '<') {
      const end = t.indexOf('>', i);
      const name = end > i ? t.slice(i + 1, end) : '';
      if (values.has(name)) {
        const v = values.get(name);
        out += inString
          ? typeof v === 'string'
            ? JSON.stringify(v).slice(1, -1)
            : JSON.stringify(JSON.stringify(v ?? null)).slice(1, -1)
          : JSON.stringify(v ?? null);
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export function targetPayload(
  target: RuleTarget,
  event: Record<string, unknown>,
  rule?: { arn: string; name: string },
): string | undefined {
  if (target.Input !== undefined) return target.Input;
  if (target.InputTransformer !== undefined)
    return transformInput(target.InputTransformer, event, rule ?? { arn: '', name: '' });
  if (target.InputPath !== undefined) {
    const v = valueAtPath(event, target.InputPath.slice(1));
    return v === undefined ? undefined : JSON.stringify(v);
  }
  return JSON.stringify(event);
}

export interface ScheduleInput {
  Name?: string;
  GroupName?: string;
  ScheduleExpression?: string;
  ScheduleExpressionTimezone?: string;
  State?: string;
  Description?: string;
  StartDate?: unknown;
  EndDate?: unknown;
  FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
  Target?: ScheduleTarget;
  ActionAfterCompletion?: string;
  KmsKeyArn?: string;
}
