/**
 * The monitoring module: CloudWatch Metrics and alarms, built-in AWS/Lambda metrics from the
 * Lambda engine's invocation observer, EMF extraction from logs, `GET /metrics`
 * (Prometheus), usage and cost (`GET /_nimbus/usage`), optional OTLP trace export.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../storage/store.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LambdaEngine, InvocationEvent } from '../compute/engine.js';
import type { FrontDoor } from '../server/http-server.js';
import type { Service } from '../server/service.js';
import type { LogsEngine } from './logs.js';
import {
  MetricsEngine,
  type Dimension,
  type MetricHandle,
  type MetricsRetention,
  type Scope,
} from './metrics.js';
import { AlarmsEngine } from './alarms.js';
import { createCloudWatchService } from './cloudwatch-api.js';
import { parseEmf } from './emf.js';
import { startWorker, type Worker } from '../storage/worker.js';
import { AwsError } from '../protocols/errors.js';
import {
  SUBSCRIPTION_QUEUE,
  awslogsEvent,
  deliveryRequestId,
  type SubscriptionDelivery,
} from './log-filters.js';
import { OtlpExporter } from './otlp.js';
import { parseDuration, usageReport } from './usage.js';
import { policyAllowsService } from '../compute/policy.js';

export { MetricsEngine } from './metrics.js';
export { AlarmsEngine } from './alarms.js';

export interface MonitoringOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  logs: LogsEngine;
  lambda: LambdaEngine;
  /** A function's resource policy document (JSON), undefined when it has none. */
  lambdaPolicy?: (scope: Scope, functionArn: string) => Promise<string | undefined>;
  frontDoor: FrontDoor;
  /** Region the usage endpoint reports when none is asked for. */
  region: string;
  /**
   * `strict`: the unsigned usage endpoint is refused (it would show any account's usage to
   * anyone); usage is then read through the signed CloudWatch API.
   */
  authMode?: 'dev' | 'strict';
  /** Publishes an alarm notification (wired once an SNS engine exists). */
  publishSns?: (scope: Scope, topicArn: string, subject: string, message: string) => Promise<void>;
  /** OTLP/HTTP base URL (NIMBUS_OTLP_ENDPOINT): a span per invocation is exported there. */
  otlpEndpoint?: string;
  /** Turn off built-in recording (the overhead benchmark's baseline). */
  recordBuiltins?: boolean;
  retention?: Partial<MetricsRetention>;
  metricsFlushIntervalMs?: number;
  alarmEvaluateIntervalMs?: number;
}

export interface Monitoring {
  metrics: MetricsEngine;
  alarms: AlarmsEngine;
  services: Service[];
  registry: Registry;
  otlp?: OtlpExporter;
  close(): Promise<void>;
}

const dim = (Name: string, Value: string): Dimension => ({ Name, Value });

export function createMonitoring(o: MonitoringOptions): Monitoring {
  const metrics = new MetricsEngine({
    store: o.store,
    clock: o.clock,
    logger: o.logger.child({ component: 'metrics' }),
    retention: o.retention,
    flushIntervalMs: o.metricsFlushIntervalMs,
  });
  const alarms = new AlarmsEngine({
    store: o.store,
    clock: o.clock,
    logger: o.logger.child({ component: 'alarms' }),
    metrics,
    evaluateIntervalMs: o.alarmEvaluateIntervalMs,
    actions: {
      invokeLambda: async (scope, arn, event) => {
        await o.lambda.invoke(scope, {
          FunctionName: arn,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(event)),
        });
      },
      ...(o.publishSns ? { publishSns: o.publishSns } : {}),
    },
  });

  // ---- Prometheus ------------------------------------------------------------------------
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nimbus_' });
  const labels = ['account', 'region', 'function'] as const;
  const prom = {
    invocations: new Counter({
      name: 'nimbus_lambda_invocations_total',
      help: 'Lambda invocations (AWS/Lambda Invocations)',
      labelNames: labels,
      registers: [registry],
      collect: () => flushProm(),
    }),
    errors: new Counter({
      name: 'nimbus_lambda_errors_total',
      help: 'Invocations that ended in a function error, timeout or crash',
      labelNames: labels,
      registers: [registry],
      collect: () => flushProm(),
    }),
    throttles: new Counter({
      name: 'nimbus_lambda_throttles_total',
      help: 'Invocations refused for lack of concurrency',
      labelNames: labels,
      registers: [registry],
      collect: () => flushProm(),
    }),
    coldStarts: new Counter({
      name: 'nimbus_lambda_cold_starts_total',
      help: 'Invocations that started a new instance',
      labelNames: labels,
      registers: [registry],
      collect: () => flushProm(),
    }),
    duration: new Histogram({
      name: 'nimbus_lambda_duration_seconds',
      help: 'Handler duration',
      labelNames: labels,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: [registry],
      collect: () => flushProm(),
    }),
    initDuration: new Histogram({
      name: 'nimbus_lambda_init_duration_seconds',
      help: 'Cold start init duration',
      labelNames: labels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
      collect: () => flushProm(),
    }),
    concurrent: new Gauge({
      name: 'nimbus_lambda_concurrent_executions',
      help: 'Executions in flight at the last invocation start',
      labelNames: labels,
      registers: [registry],
      collect: () => flushProm(),
    }),
    serviceSum: new Counter({
      name: 'nimbus_service_metric_sum',
      help: 'Sum of values recorded by services through metrics.record (AWS/* namespaces)',
      labelNames: ['account', 'region', 'namespace', 'metric', 'dimensions'],
      registers: [registry],
      collect: () => flushProm(),
    }),
    serviceCount: new Counter({
      name: 'nimbus_service_metric_count',
      help: 'Number of values recorded by services through metrics.record',
      labelNames: ['account', 'region', 'namespace', 'metric', 'dimensions'],
      registers: [registry],
      collect: () => flushProm(),
    }),
  };
  // Service metrics: summed per series in plain numbers, handed to prom-client when scraped
  // (prom-client hashes the labels on every inc: too much for every request).
  const serviceSeries: { labels: Record<string, string>; sum: number; count: number }[] = [];
  const flushServiceSeries = () => {
    for (const s of serviceSeries) {
      if (s.count === 0) continue;
      prom.serviceSum.inc(s.labels, s.sum);
      prom.serviceCount.inc(s.labels, s.count);
      s.sum = 0;
      s.count = 0;
    }
  };
  const unseries = metrics.onSeries((scope, ns, name, dims) => {
    const s = {
      labels: {
        account: scope.accountId,
        region: scope.region,
        namespace: ns,
        metric: name,
        dimensions: dims.map((d) => `${d.Name}=${d.Value}`).join(','),
      },
      sum: 0,
      count: 0,
    };
    if (serviceSeries.length > 100_000) {
      flushServiceSeries();
      serviceSeries.length = 0;
    }
    serviceSeries.push(s);
    return (value) => {
      // A counter only grows: what prom-client would refuse is left out of the sum.
      if (value > 0 && Number.isFinite(value)) s.sum += value;
      s.count++;
    };
  });

  // ---- built-in AWS/Lambda metrics -----------------------------------------------------
  const otlp = o.otlpEndpoint
    ? new OtlpExporter({ endpoint: o.otlpEndpoint, logger: o.logger.child({ component: 'otlp' }) })
    : undefined;
  // Per function (and qualifier/version): metric handles and Prometheus children, built once.
  // Prometheus values are kept in plain numbers and handed to prom-client when scraped (or
  // every few hundred durations): prom-client hashes the labels on every call.
  interface FnRecorders {
    put: Map<string, MetricHandle[]>;
    prom: {
      invocations: ReturnType<(typeof prom)['invocations']['labels']>;
      errors: ReturnType<(typeof prom)['errors']['labels']>;
      throttles: ReturnType<(typeof prom)['throttles']['labels']>;
      coldStarts: ReturnType<(typeof prom)['coldStarts']['labels']>;
      duration: ReturnType<(typeof prom)['duration']['labels']>;
      initDuration: ReturnType<(typeof prom)['initDuration']['labels']>;
      concurrent: ReturnType<(typeof prom)['concurrent']['labels']>;
    };
    acc: {
      invocations: number;
      errors: number;
      throttles: number;
      coldStarts: number;
      durations: number[];
      initDurations: number[];
      concurrent: number | undefined;
    };
    sets: Dimension[][];
    scope: Scope;
  }
  const recorders = new Map<string, FnRecorders>();
  const flushRecorder = (r: FnRecorders) => {
    const a = r.acc;
    if (a.invocations) r.prom.invocations.inc(a.invocations);
    if (a.errors) r.prom.errors.inc(a.errors);
    if (a.throttles) r.prom.throttles.inc(a.throttles);
    if (a.coldStarts) r.prom.coldStarts.inc(a.coldStarts);
    for (const d of a.durations) r.prom.duration.observe(d);
    for (const d of a.initDurations) r.prom.initDuration.observe(d);
    if (a.concurrent !== undefined) r.prom.concurrent.set(a.concurrent);
    a.invocations = a.errors = a.throttles = a.coldStarts = 0;
    a.durations.length = 0;
    a.initDurations.length = 0;
    a.concurrent = undefined;
  };
  function flushProm(): void {
    flushServiceSeries();
    for (const r of recorders.values()) flushRecorder(r);
  }
  const recordersFor = (e: InvocationEvent): FnRecorders => {
    const k = `${e.accountId}|${e.region}|${e.functionName}|${e.qualifier ?? ''}|${e.version}`;
    let r = recorders.get(k);
    if (r) return r;
    const sets: Dimension[][] = [[], [dim('FunctionName', e.functionName)]];
    if (e.qualifier) {
      sets.push([dim('FunctionName', e.functionName), dim('Resource', `${e.functionName}:${e.qualifier}`)]);
    }
    if (e.version !== '$LATEST') {
      sets.push([dim('FunctionName', e.functionName), dim('ExecutedVersion', e.version)]);
    }
    const l = [e.accountId, e.region, e.functionName];
    r = {
      put: new Map(),
      sets,
      scope: { accountId: e.accountId, region: e.region },
      prom: {
        invocations: prom.invocations.labels(...l),
        errors: prom.errors.labels(...l),
        throttles: prom.throttles.labels(...l),
        coldStarts: prom.coldStarts.labels(...l),
        duration: prom.duration.labels(...l),
        initDuration: prom.initDuration.labels(...l),
        concurrent: prom.concurrent.labels(...l),
      },
      acc: {
        invocations: 0,
        errors: 0,
        throttles: 0,
        coldStarts: 0,
        durations: [],
        initDurations: [],
        concurrent: undefined,
      },
    };
    if (recorders.size > 10_000) {
      flushProm();
      recorders.clear();
    }
    recorders.set(k, r);
    return r;
  };
  const put = (r: FnRecorders, name: string, value: number, unit: string, t: number) => {
    let hs = r.put.get(name);
    if (!hs) {
      hs = r.sets.map((d) =>
        metrics.handle(r.scope, { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: d }),
      );
      r.put.set(name, hs);
    }
    for (const h of hs) metrics.addTo(h, value, unit, t);
  };
  const onInvocation = (e: InvocationEvent) => {
    const r = recordersFor(e);
    const t = e.time;
    if (e.status === 'throttled') {
      put(r, 'Throttles', 1, 'Count', t);
      r.acc.throttles++;
      return;
    }
    const failed = e.status !== 'ok';
    put(r, 'Invocations', 1, 'Count', t);
    put(r, 'Errors', failed ? 1 : 0, 'Count', t);
    put(r, 'Throttles', 0, 'Count', t);
    put(r, 'Duration', e.durationMs, 'Milliseconds', t);
    put(r, 'ConcurrentExecutions', e.concurrent, 'Count', t);
    put(r, 'ColdStarts', e.coldStart ? 1 : 0, 'Count', t);
    if (e.coldStart && e.initDurationMs !== undefined)
      put(r, 'InitDuration', e.initDurationMs, 'Milliseconds', t);
    const a = r.acc;
    a.invocations++;
    if (failed) a.errors++;
    if (e.coldStart) a.coldStarts++;
    a.durations.push(e.durationMs / 1000);
    if (e.coldStart && e.initDurationMs !== undefined) a.initDurations.push(e.initDurationMs / 1000);
    a.concurrent = e.concurrent;
    if (a.durations.length >= 256) flushRecorder(r);
    otlp?.onInvocation(e);
  };
  const unobserve = o.recordBuiltins === false ? () => true : o.lambda.observe(onInvocation);

  // ---- EMF -------------------------------------------------------------------------------
  const unlisten = o.logs.onEvents((ref, events) => {
    for (const ev of events) {
      if (!ev.message.includes('"_aws"')) continue;
      for (const m of parseEmf(ev.message)) {
        metrics.add(
          { accountId: ref.accountId, region: ref.region },
          m.metric,
          m.values.map((value) => ({
            value,
            unit: m.unit,
            timestamp: m.timestamp ?? ev.timestamp,
            highResolution: m.highResolution,
          })),
        );
      }
    }
  });

  // ---- metric filters and subscription filters -------------------------------------------
  o.logs.setMetricSink((scope, points) => {
    for (const p of points) {
      metrics.add(scope, p.metric, [{ value: p.value, unit: p.unit, timestamp: p.timestamp }]);
    }
  });
  o.logs.setDestinationCheck(async (scope, arn, logGroupName) => {
    const refused = () =>
      new AwsError(
        'InvalidParameterException',
        'Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.',
        400,
      );
    try {
      await o.lambda.getFunctionConfiguration(scope, arn);
    } catch (e) {
      if (e instanceof AwsError && e.code === 'ResourceNotFoundException') throw refused();
      throw e;
    }
    // As on AWS, the function's resource policy must let CloudWatch Logs invoke it for this group.
    if (!o.lambdaPolicy) return;
    const policy = await o.lambdaPolicy(scope, arn);
    const statements = policy
      ? ((JSON.parse(policy) as { Statement?: Record<string, unknown>[] }).Statement ?? [])
      : [];
    const source = {
      account: scope.accountId,
      arn: `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${logGroupName}:*`,
    };
    if (!policyAllowsService(statements, 'logs.amazonaws.com', source)) throw refused();
  });
  // Each delivery is one asynchronous invoke; its request id comes from the job id, so a
  // delivery retried after a crash is the same invocation (the async queue runs it once).
  const subscriptions: Worker = startWorker<SubscriptionDelivery>({
    store: o.store,
    queue: SUBSCRIPTION_QUEUE,
    clock: o.clock,
    logger: o.logger.child({ component: 'logs-subscriptions' }),
    concurrency: 4,
    handle: async (job) => {
      const d = job.payload;
      await o.lambda.invoke(
        { accountId: d.accountId, region: d.region },
        {
          FunctionName: d.destinationArn,
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(awslogsEvent(d))),
          RequestId: deliveryRequestId(job.id),
        },
      );
    },
  });

  // ---- routes ----------------------------------------------------------------------------
  o.frontDoor.mountExact('/metrics', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
      return;
    }
    void registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => {
        o.logger.error('prometheus export failed', { err: e });
        res.writeHead(500).end();
      },
    );
  });
  o.frontDoor.addInternalRoute('GET', '/_nimbus/usage', async (req) => {
    if (o.authMode === 'strict') {
      return {
        status: 403,
        body: { message: 'The usage endpoint is unauthenticated and only served in dev mode (--auth dev).' },
      };
    }
    const accountId = req.query.get('account') ?? '000000000000';
    const region = req.query.get('region') ?? o.region;
    const sinceArg = req.query.get('since') ?? '30d';
    const span = parseDuration(sinceArg);
    if (span === undefined) {
      return { status: 400, body: { message: `Invalid since: ${sinceArg} (use e.g. 10m, 24h, 7d)` } };
    }
    const until = o.clock.now();
    const scope = { accountId, region };
    const records = await o.lambda.usage(scope);
    return { body: await usageReport(scope, records, metrics, until - span, until + 1) };
  });

  return {
    metrics,
    alarms,
    services: [createCloudWatchService(metrics, alarms)],
    registry,
    otlp,
    close: async () => {
      unobserve();
      unlisten();
      o.logs.setMetricSink(undefined);
      o.logs.setDestinationCheck(undefined);
      await subscriptions.stop();
      unseries();
      await alarms.close();
      await metrics.close();
      await otlp?.flush();
    },
  };
}
