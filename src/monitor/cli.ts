/**
 * `nimbus logs`, `nimbus metrics`, `nimbus usage`: monitoring from the command line, through
 * the real AWS SDK clients (and the usage endpoint) against a running Nimbus.
 */
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { parseArgs, formatFlags, UsageError, type FlagSpec } from '../cli/args.js';
import { CLIENT_FLAGS, clientOptions } from '../cli/client.js';
import { parseDuration, type UsageReport } from './usage.js';

export interface MonitorIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Stops `--follow` (default: SIGINT). */
  signal?: AbortSignal;
  color?: boolean;
}

const defaultIo = (): MonitorIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  color: process.stdout.isTTY === true && !process.env.NO_COLOR,
});

export interface MonitorCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io?: MonitorIo): Promise<number>;
}

const c = (on: boolean | undefined, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

function describe(e: unknown): string {
  const x = e as { name?: string; message?: string };
  return x?.name ? `${x.name}: ${x.message}` : String(e);
}

/** One event as one line: time, stream tail, message (colourised on a terminal). */
export function formatEvent(e: FilteredLogEvent, color?: boolean): string {
  const t = new Date(e.timestamp ?? 0).toISOString();
  const msg = (e.message ?? '').replace(/\n$/, '').replace(/\n/g, '\n    ');
  const body = /^(START|END|REPORT|INIT_START) /.test(msg)
    ? c(color, '36', msg)
    : /\t(ERROR|FATAL)\t|Invoke Error|Task timed out|Runtime exited/.test(msg)
      ? c(color, '31', msg)
      : /\tWARN\t/.test(msg)
        ? c(color, '33', msg)
        : msg;
  const stream = (e.logStreamName ?? '').slice(-8);
  return `${c(color, '2', t)} ${c(color, '35', stream)} ${body}\n`;
}

const LOGS_FLAGS: Record<string, FlagSpec> = {
  follow: { type: 'boolean', short: 'f', description: 'keep printing new events (polls every 150 ms)' },
  filter: { type: 'string', placeholder: 'PATTERN', description: 'CloudWatch filter pattern' },
  since: { type: 'string', placeholder: 'DURATION', description: 'how far back to start (default 10m)' },
  ...CLIENT_FLAGS,
};

const logsCommand: MonitorCommand = {
  name: 'logs',
  summary: 'print (and follow) the logs of a function',
  usage: `nimbus logs FUNCTION|/log/group [--follow] [--filter PATTERN] [--since 10m]\n\n${formatFlags(LOGS_FLAGS)}`,
  async run(argv, io = defaultIo()) {
    const args = parseArgs(argv, LOGS_FLAGS);
    if (args.flags.help) {
      io.out(this.usage + '\n');
      return 0;
    }
    const target = args.positionals[0];
    if (!target) throw new UsageError('nimbus logs: FUNCTION is required');
    const since = parseDuration(String(args.flags.since ?? '10m'));
    if (since === undefined) throw new UsageError(`nimbus logs: invalid --since ${String(args.flags.since)}`);
    const opts = clientOptions(args, io.env);
    const client = new CloudWatchLogsClient({ ...opts.sdkConfig, maxAttempts: 1 });
    const group = target.startsWith('/') ? target : `/aws/lambda/${target}`;
    const pattern = typeof args.flags.filter === 'string' ? args.flags.filter : undefined;
    let startTime = Date.now() - since;
    const seen = new Set<string>();
    const signal = io.signal ?? onSigint();
    try {
      for (;;) {
        let token: string | undefined;
        let newest = startTime;
        do {
          let page;
          try {
            page = await client.send(
              new FilterLogEventsCommand({
                logGroupName: group,
                startTime,
                filterPattern: pattern,
                nextToken: token,
              }),
            );
          } catch (e) {
            if ((e as { name?: string }).name === 'ResourceNotFoundException' && args.flags.follow) break;
            io.err(`nimbus logs: ${describe(e)}\n`);
            return 1;
          }
          for (const e of page.events ?? []) {
            if (e.eventId && seen.has(e.eventId)) continue;
            if (e.eventId) seen.add(e.eventId);
            if (opts.json) io.out(JSON.stringify(e) + '\n');
            else io.out(formatEvent(e, io.color));
            newest = Math.max(newest, e.timestamp ?? 0);
          }
          token = page.nextToken;
        } while (token);
        if (!args.flags.follow || signal.aborted) return 0;
        // Re-read from the newest second seen: events with the same timestamp are deduplicated by id.
        startTime = newest;
        if (seen.size > 50_000) seen.clear();
        await sleep(150, signal);
        if (signal.aborted) return 0;
      }
    } finally {
      client.destroy();
    }
  },
};

function onSigint(): AbortSignal {
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  return ac.signal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

const METRICS_FLAGS: Record<string, FlagSpec> = {
  since: { type: 'string', placeholder: 'DURATION', description: 'window (default 1h)' },
  ...CLIENT_FLAGS,
};

const metricsCommand: MonitorCommand = {
  name: 'metrics',
  summary: 'invocations, errors, p50/p99 duration and cold starts of a function',
  usage: `nimbus metrics FUNCTION [--since 1h] [--json]\n\n${formatFlags(METRICS_FLAGS)}`,
  async run(argv, io = defaultIo()) {
    const args = parseArgs(argv, METRICS_FLAGS);
    if (args.flags.help) {
      io.out(this.usage + '\n');
      return 0;
    }
    const fn = args.positionals[0];
    if (!fn) throw new UsageError('nimbus metrics: FUNCTION is required');
    const span = parseDuration(String(args.flags.since ?? '1h'));
    if (span === undefined || span < 60_000)
      throw new UsageError('nimbus metrics: --since must be at least 1m');
    const opts = clientOptions(args, io.env);
    const cw = new CloudWatchClient({ ...opts.sdkConfig, maxAttempts: 1 });
    const end = new Date(Date.now() + 1000);
    const start = new Date(end.getTime() - span);
    const period = Math.ceil(span / 1000 / 60) * 60;
    const get = async (name: string, stats: string[], ext: string[] = []) => {
      const r = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/Lambda',
          MetricName: name,
          Dimensions: [{ Name: 'FunctionName', Value: fn }],
          StartTime: start,
          EndTime: end,
          Period: period,
          ...(stats.length ? { Statistics: stats as never } : {}),
          ...(ext.length ? { ExtendedStatistics: ext } : {}),
        }),
      );
      return r.Datapoints?.[0];
    };
    try {
      const inv = await get('Invocations', ['Sum']);
      const errs = await get('Errors', ['Sum']);
      const thr = await get('Throttles', ['Sum']);
      const dur = await get('Duration', ['Average', 'Maximum'], ['p50', 'p99']);
      const cold = await get('ColdStarts', ['Sum']);
      const init = await get('InitDuration', ['Average']);
      const row = {
        function: fn,
        window: String(args.flags.since ?? '1h'),
        invocations: inv?.Sum ?? 0,
        errors: errs?.Sum ?? 0,
        throttles: thr?.Sum ?? 0,
        p50Ms: dur?.ExtendedStatistics?.p50 ?? null,
        p99Ms: dur?.ExtendedStatistics?.p99 ?? null,
        maxMs: dur?.Maximum ?? null,
        coldStarts: cold?.Sum ?? 0,
        avgInitMs: init?.Average ?? null,
      };
      if (opts.json) {
        io.out(JSON.stringify(row) + '\n');
        return 0;
      }
      const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(v < 10 ? 2 : 1)} ms`);
      const cells: [string, string][] = [
        ['invocations', String(row.invocations)],
        ['errors', String(row.errors)],
        ['throttles', String(row.throttles)],
        ['p50 duration', ms(row.p50Ms)],
        ['p99 duration', ms(row.p99Ms)],
        ['max duration', ms(row.maxMs)],
        ['cold starts', String(row.coldStarts)],
        ['avg init', ms(row.avgInitMs)],
      ];
      io.out(`${fn} — last ${row.window}\n`);
      for (const [k, v] of cells) io.out(`  ${k.padEnd(14)} ${v.padStart(12)}\n`);
      return 0;
    } catch (e) {
      io.err(`nimbus metrics: ${describe(e)}\n`);
      return 1;
    } finally {
      cw.destroy();
    }
  },
};

const USAGE_FLAGS: Record<string, FlagSpec> = {
  since: { type: 'string', placeholder: 'DURATION', description: 'window (default 30d)' },
  account: { type: 'string', placeholder: 'ID', description: 'account (default 000000000000)' },
  ...CLIENT_FLAGS,
};

const usageCommand: MonitorCommand = {
  name: 'usage',
  summary: 'requests, GB-seconds, cold starts and the AWS list price equivalent',
  usage: `nimbus usage [--since 7d] [--account ID] [--json]\n\n${formatFlags(USAGE_FLAGS)}`,
  async run(argv, io = defaultIo()) {
    const args = parseArgs(argv, USAGE_FLAGS);
    if (args.flags.help) {
      io.out(this.usage + '\n');
      return 0;
    }
    const opts = clientOptions(args, io.env);
    const q = new URLSearchParams({
      since: String(args.flags.since ?? '30d'),
      region: opts.sdkConfig.region,
    });
    if (typeof args.flags.account === 'string') q.set('account', args.flags.account);
    let report: UsageReport;
    try {
      const res = await fetch(`${opts.endpoint}/_nimbus/usage?${q}`);
      const body = (await res.json()) as UsageReport & { message?: string };
      if (!res.ok) {
        io.err(`nimbus usage: ${body.message ?? res.status}\n`);
        return 1;
      }
      report = body;
    } catch (e) {
      io.err(`nimbus usage: cannot reach ${opts.endpoint}: ${describe(e)}\n`);
      return 1;
    }
    if (opts.json) {
      io.out(JSON.stringify(report) + '\n');
      return 0;
    }
    const usd = (x: number) => `$${x.toFixed(x < 0.01 && x > 0 ? 6 : 2)}`;
    io.out(
      `usage since ${new Date(report.since).toISOString()} (account ${report.accountId}, ${report.region})\n`,
    );
    io.out(
      `${'function'.padEnd(28)} ${'requests'.padStart(10)} ${'errors'.padStart(7)} ${'GB-s'.padStart(12)} ${'cold%'.padStart(6)} ${'list price'.padStart(12)}\n`,
    );
    for (const f of report.functions) {
      io.out(
        `${f.functionName.padEnd(28)} ${String(f.requests).padStart(10)} ${String(f.errors).padStart(7)} ${f.gbSeconds.toFixed(3).padStart(12)} ${(f.coldStartShare * 100).toFixed(1).padStart(6)} ${usd(f.costUsd).padStart(12)}\n`,
      );
    }
    const s = report.services;
    io.out(
      `other: API Gateway ${s.apiGatewayRequests} req, DynamoDB ${s.dynamodbReadUnits} RRU / ${s.dynamodbWriteUnits} WRU, SQS ${s.sqsRequests}, SNS ${s.snsPublishes}\n`,
    );
    io.out(
      `AWS list price: ${usd(report.cost.totalBeforeFreeTier)}; after the free tier: ${usd(report.cost.total)} (free tier saves ${usd(report.cost.freeTierSavings)})\n`,
    );
    return 0;
  },
};

export const monitorCommands: MonitorCommand[] = [logsCommand, metricsCommand, usageCommand];
