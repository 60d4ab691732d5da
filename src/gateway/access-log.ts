/**
 * Stage access logs, shared by HTTP APIs and REST APIs: the stage's `Format` with its
 * `$context.name` variables replaced (a missing or empty value prints `-`, as AWS does),
 * written to the CloudWatch Logs group named by the destination ARN.
 */
import type { LogSink } from '../core/log-sink.js';

export type AccessLogVars = Record<string, string | number | undefined>;

/** The log group of `arn:aws:logs:{region}:{account}:log-group:{name}[:*]`. */
export function accessLogGroup(destinationArn: string | undefined): string | undefined {
  return destinationArn ? /:log-group:([^:]+)/.exec(destinationArn)?.[1] : undefined;
}

export function formatAccessLog(format: string, vars: AccessLogVars): string {
  return format.replace(/\$context\.([A-Za-z0-9_.]+[A-Za-z0-9_])/g, (_m, name: string) => {
    const v = vars[name];
    return v === undefined || v === '' ? '-' : String(v);
  });
}

export function writeAccessLog(
  logs: LogSink,
  where: { accountId: string; region: string; stream: string },
  settings: { destinationArn?: string; format?: string },
  vars: AccessLogVars,
  timestamp: number,
): void {
  const group = accessLogGroup(settings.destinationArn);
  if (!group || !settings.format) return;
  logs.append({ accountId: where.accountId, region: where.region, group, stream: where.stream }, [
    { timestamp, message: formatAccessLog(settings.format, vars) },
  ]);
}
