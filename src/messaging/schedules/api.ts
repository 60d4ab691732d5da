/**
 * Wire adapters: EventBridge (AWS JSON 1.1, `AWSEvents.*`) for rules and targets, and
 * EventBridge Scheduler (REST-JSON, `/schedules/...`) for schedules. No business rules here.
 */
import type { JsonService, RequestContext, RestJsonService, RestRequest } from '../../server/service.js';
import type { BusDoc, RuleDoc, ScheduleDoc, ScheduleInput, SchedulesEngine, Scope } from './engine.js';
import { validation } from './engine.js';

const scopeOf = (ctx: RequestContext): Scope => ({ accountId: ctx.accountId, region: ctx.region });
const seconds = (ms: number) => ms / 1000;

function ruleOut(r: RuleDoc) {
  return {
    Name: r.name,
    Arn: r.arn,
    EventPattern: r.eventPattern,
    ScheduleExpression: r.scheduleExpression,
    State: r.state,
    Description: r.description,
    RoleArn: r.roleArn,
    EventBusName: r.eventBusName ?? 'default',
  };
}

function busOut(b: BusDoc) {
  return {
    Name: b.name,
    Arn: b.arn,
    Description: b.description,
    ...(b.createdAt ? { CreationTime: seconds(b.createdAt), LastModifiedTime: seconds(b.createdAt) } : {}),
  };
}

function requireName(v: unknown): string {
  if (typeof v !== 'string' || !v) {
    throw validation(
      "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
    );
  }
  return v;
}

export function createEventsService(engine: SchedulesEngine): JsonService {
  type In = Record<string, any>;
  return {
    protocol: 'json',
    signingName: 'events',
    jsonVersion: '1.1',
    targetPrefix: 'AWSEvents',
    operations: {
      PutRule: async (ctx, input: In) => engine.putRule(scopeOf(ctx), input),
      DescribeRule: async (ctx, input: In) => {
        const r = await engine.getRule(scopeOf(ctx), requireName(input.Name), input.EventBusName);
        return { ...ruleOut(r), CreatedBy: r.accountId };
      },
      ListRules: async (ctx, input: In) => {
        const { rules, nextToken } = await engine.listRules(scopeOf(ctx), {
          prefix: input.NamePrefix,
          limit: input.Limit,
          nextToken: input.NextToken,
          bus: input.EventBusName,
        });
        return { Rules: rules.map(ruleOut), NextToken: nextToken };
      },
      DeleteRule: async (ctx, input: In) => {
        await engine.deleteRule(scopeOf(ctx), requireName(input.Name), {
          force: input.Force,
          bus: input.EventBusName,
        });
        return {};
      },
      EnableRule: async (ctx, input: In) => {
        await engine.setRuleState(scopeOf(ctx), requireName(input.Name), 'ENABLED', input.EventBusName);
        return {};
      },
      DisableRule: async (ctx, input: In) => {
        await engine.setRuleState(scopeOf(ctx), requireName(input.Name), 'DISABLED', input.EventBusName);
        return {};
      },
      PutTargets: async (ctx, input: In) =>
        engine.putTargets(scopeOf(ctx), requireName(input.Rule), input.Targets, input.EventBusName),
      RemoveTargets: async (ctx, input: In) =>
        engine.removeTargets(scopeOf(ctx), requireName(input.Rule), input.Ids, input.EventBusName),
      PutEvents: async (ctx, input: In) => engine.putEvents(scopeOf(ctx), input.Entries),
      TestEventPattern: async (_ctx, input: In) => engine.testEventPattern(input.EventPattern, input.Event),
      CreateEventBus: async (ctx, input: In) => engine.createEventBus(scopeOf(ctx), input),
      DescribeEventBus: async (ctx, input: In) =>
        busOut(await engine.describeEventBus(scopeOf(ctx), input.Name)),
      ListEventBuses: async (ctx, input: In) => {
        const limit = input.Limit ?? 100;
        if (!Number.isInteger(limit) || limit < 1 || limit > 100)
          throw validation(
            `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`,
          );
        const all = await engine.listEventBuses(scopeOf(ctx), input.NamePrefix ?? '');
        const start = input.NextToken
          ? Number(Buffer.from(String(input.NextToken), 'base64url').toString())
          : 0;
        if (!Number.isInteger(start) || start < 0) throw validation('The NextToken provided is invalid.');
        const page = all.slice(start, start + limit);
        return {
          EventBuses: page.map(busOut),
          NextToken:
            start + limit < all.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined,
        };
      },
      DeleteEventBus: async (ctx, input: In) => {
        await engine.deleteEventBus(scopeOf(ctx), requireName(input.Name));
        return {};
      },
      ListTargetsByRule: async (ctx, input: In) => {
        const r = await engine.getRule(scopeOf(ctx), requireName(input.Rule), input.EventBusName);
        return { Targets: r.targets };
      },
    },
  };
}

function scheduleOut(s: ScheduleDoc) {
  return {
    Arn: s.arn,
    Name: s.name,
    GroupName: s.groupName,
    State: s.state,
    Description: s.description,
    ScheduleExpression: s.scheduleExpression,
    ScheduleExpressionTimezone: s.timezone,
    StartDate: s.startDate !== undefined ? seconds(s.startDate) : undefined,
    EndDate: s.endDate !== undefined ? seconds(s.endDate) : undefined,
    FlexibleTimeWindow: s.flexibleTimeWindow,
    Target: s.target,
    ActionAfterCompletion: s.actionAfterCompletion,
    KmsKeyArn: s.kmsKeyArn,
    CreationDate: seconds(s.createdAt),
    LastModificationDate: seconds(s.modifiedAt),
  };
}

function scheduleInput(req: RestRequest): ScheduleInput {
  const body = req.json<ScheduleInput>();
  return { ...body, Name: req.pathParams.Name };
}

export function createSchedulerService(engine: SchedulesEngine): RestJsonService {
  return {
    protocol: 'rest-json',
    signingName: 'scheduler',
    routes: [
      {
        method: 'POST',
        path: '/schedules/{Name}',
        operation: 'CreateSchedule',
        handler: async (ctx, req) => ({
          body: await engine.createSchedule(scopeOf(ctx), scheduleInput(req)),
        }),
      },
      {
        method: 'PUT',
        path: '/schedules/{Name}',
        operation: 'UpdateSchedule',
        handler: async (ctx, req) => ({
          body: await engine.updateSchedule(scopeOf(ctx), scheduleInput(req)),
        }),
      },
      {
        method: 'GET',
        path: '/schedules/{Name}',
        operation: 'GetSchedule',
        handler: async (ctx, req) => {
          const s = await engine.getSchedule(
            scopeOf(ctx),
            req.pathParams.Name,
            req.query.get('groupName') || undefined,
          );
          return { body: scheduleOut(s) };
        },
      },
      {
        method: 'DELETE',
        path: '/schedules/{Name}',
        operation: 'DeleteSchedule',
        handler: async (ctx, req) => {
          await engine.deleteSchedule(
            scopeOf(ctx),
            req.pathParams.Name,
            req.query.get('groupName') || undefined,
          );
          return { body: {} };
        },
      },
      {
        method: 'GET',
        path: '/schedules',
        operation: 'ListSchedules',
        handler: async (ctx, req) => {
          const max = req.query.get('MaxResults');
          const { schedules, nextToken } = await engine.listSchedules(scopeOf(ctx), {
            group: req.query.get('ScheduleGroup') || undefined,
            prefix: req.query.get('NamePrefix') || undefined,
            state: req.query.get('State') || undefined,
            max: max ? Number(max) : undefined,
            nextToken: req.query.get('NextToken') || undefined,
          });
          return {
            body: {
              Schedules: schedules.map((s) => ({
                Arn: s.arn,
                Name: s.name,
                GroupName: s.groupName,
                State: s.state,
                CreationDate: seconds(s.createdAt),
                LastModificationDate: seconds(s.modifiedAt),
                Target: { Arn: s.target.Arn },
              })),
              NextToken: nextToken,
            },
          };
        },
      },
    ],
  };
}
