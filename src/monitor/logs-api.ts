/** CloudWatch Logs wire adapter: AWS JSON 1.1, target prefix `Logs_20140328`. */
import type { JsonService, RequestContext } from '../server/service.js';
import { invalidParameter, type LogsEngine, type Scope } from './logs.js';
import { parseArn } from '../core/ids.js';
import { testMetricFilter } from './log-filters.js';

const scopeOf = (ctx: RequestContext): Scope => ({ accountId: ctx.accountId, region: ctx.region });

/** `logGroupIdentifier` may be a name or an ARN (with or without the trailing `:*`). */
function groupName(input: Record<string, unknown>): string {
  const id = input.logGroupIdentifier ?? input.logGroupName;
  if (input.logGroupIdentifier !== undefined && input.logGroupName !== undefined) {
    throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  if (typeof id !== 'string' || id === '') {
    throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.');
  }
  if (id.startsWith('arn:')) {
    const a = parseArn(id);
    const m = a && /^log-group:([^:]+)(:\*)?$/.exec(a.resource);
    if (!m) throw invalidParameter(`Invalid log group identifier: ${id}`);
    return m[1];
  }
  return id;
}

function str(input: Record<string, unknown>, name: string, required = true): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) {
      throw invalidParameter(
        `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return undefined;
  }
  if (typeof v !== 'string') throw invalidParameter(`Invalid value for ${name}`);
  return v;
}

function num(input: Record<string, unknown>, name: string): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidParameter(`Invalid value for ${name}`);
  return v;
}

const RETENTION_DAYS = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);

export function createLogsService(engine: LogsEngine): JsonService {
  return {
    protocol: 'json',
    signingName: 'logs',
    jsonVersion: '1.1',
    targetPrefix: 'Logs_20140328',
    operations: {
      CreateLogGroup: async (ctx, input) => {
        await engine.createLogGroup(scopeOf(ctx), str(input, 'logGroupName')!, {
          logGroupClass: str(input, 'logGroupClass', false),
        });
        return {};
      },
      DeleteLogGroup: async (ctx, input) => {
        await engine.deleteLogGroup(scopeOf(ctx), str(input, 'logGroupName')!);
        return {};
      },
      DescribeLogGroups: async (ctx, input) =>
        engine.describeLogGroups(scopeOf(ctx), {
          prefix: str(input, 'logGroupNamePrefix', false),
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
        }),
      PutRetentionPolicy: async (ctx, input) => {
        const days = num(input, 'retentionInDays');
        if (days === undefined || !RETENTION_DAYS.has(days)) {
          throw invalidParameter(
            `1 validation error detected: Value '${String(input.retentionInDays)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${[...RETENTION_DAYS].join(', ')}]`,
          );
        }
        await engine.putRetentionPolicy(scopeOf(ctx), str(input, 'logGroupName')!, days);
        return {};
      },
      DeleteRetentionPolicy: async (ctx, input) => {
        await engine.putRetentionPolicy(scopeOf(ctx), str(input, 'logGroupName')!, undefined);
        return {};
      },
      CreateLogStream: async (ctx, input) => {
        await engine.createLogStream(scopeOf(ctx), str(input, 'logGroupName')!, str(input, 'logStreamName')!);
        return {};
      },
      DeleteLogStream: async (ctx, input) => {
        await engine.deleteLogStream(scopeOf(ctx), str(input, 'logGroupName')!, str(input, 'logStreamName')!);
        return {};
      },
      DescribeLogStreams: async (ctx, input) =>
        engine.describeLogStreams(scopeOf(ctx), groupName(input), {
          prefix: str(input, 'logStreamNamePrefix', false),
          orderBy: str(input, 'orderBy', false),
          descending: input.descending === true,
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
        }),
      PutLogEvents: async (ctx, input) =>
        engine.putLogEvents(
          scopeOf(ctx),
          str(input, 'logGroupName')!,
          str(input, 'logStreamName')!,
          input.logEvents as { timestamp: number; message: string }[],
        ),
      GetLogEvents: async (ctx, input) =>
        engine.getLogEvents(scopeOf(ctx), groupName(input), str(input, 'logStreamName')!, {
          startTime: num(input, 'startTime'),
          endTime: num(input, 'endTime'),
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
          startFromHead: input.startFromHead === true,
        }),
      FilterLogEvents: async (ctx, input) => {
        const names = input.logStreamNames;
        if (names !== undefined && (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))) {
          throw invalidParameter('Invalid value for logStreamNames');
        }
        return engine.filterLogEvents(scopeOf(ctx), groupName(input), {
          logStreamNames: names as string[] | undefined,
          logStreamNamePrefix: str(input, 'logStreamNamePrefix', false),
          startTime: num(input, 'startTime'),
          endTime: num(input, 'endTime'),
          filterPattern: str(input, 'filterPattern', false),
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
        });
      },
      PutMetricFilter: async (ctx, input) => {
        await engine.putMetricFilter(scopeOf(ctx), {
          logGroupName: str(input, 'logGroupName')!,
          filterName: str(input, 'filterName')!,
          filterPattern: str(input, 'filterPattern')!,
          metricTransformations: input.metricTransformations,
        });
        return {};
      },
      DeleteMetricFilter: async (ctx, input) => {
        await engine.deleteMetricFilter(scopeOf(ctx), str(input, 'logGroupName')!, str(input, 'filterName')!);
        return {};
      },
      DescribeMetricFilters: async (ctx, input) =>
        engine.describeMetricFilters(scopeOf(ctx), {
          logGroupName: str(input, 'logGroupName', false),
          filterNamePrefix: str(input, 'filterNamePrefix', false),
          metricName: str(input, 'metricName', false),
          metricNamespace: str(input, 'metricNamespace', false),
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
        }),
      TestMetricFilter: async (_ctx, input) =>
        testMetricFilter(str(input, 'filterPattern')!, input.logEventMessages),
      PutSubscriptionFilter: async (ctx, input) => {
        await engine.putSubscriptionFilter(scopeOf(ctx), {
          logGroupName: str(input, 'logGroupName')!,
          filterName: str(input, 'filterName')!,
          filterPattern: str(input, 'filterPattern')!,
          destinationArn: str(input, 'destinationArn')!,
          roleArn: str(input, 'roleArn', false),
          distribution: str(input, 'distribution', false),
        });
        return {};
      },
      DeleteSubscriptionFilter: async (ctx, input) => {
        await engine.deleteSubscriptionFilter(
          scopeOf(ctx),
          str(input, 'logGroupName')!,
          str(input, 'filterName')!,
        );
        return {};
      },
      DescribeSubscriptionFilters: async (ctx, input) =>
        engine.describeSubscriptionFilters(scopeOf(ctx), str(input, 'logGroupName')!, {
          filterNamePrefix: str(input, 'filterNamePrefix', false),
          limit: num(input, 'limit'),
          nextToken: str(input, 'nextToken', false),
        }),
    },
  };
}
