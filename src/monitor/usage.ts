/**
 * Usage and its AWS list-price equivalent. Lambda figures come from the per-invocation
 * usage records of the Lambda engine; other services from their AWS/* metrics (recorded by
 * those services through `metrics.record`). Prices live in PRICES (edit them there); the
 * monthly free tier is subtracted from the period's totals once per account.
 */
import type { UsageRecord } from '../compute/engine.js';
import type { MetricsEngine, Scope } from './metrics.js';

/** AWS list prices, us-east-1, USD (x86 Lambda; API Gateway HTTP API; DynamoDB on-demand). */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  apiGatewayHttpPerMillionRequests: 1.0,
  dynamodbPerMillionWriteUnits: 0.625,
  dynamodbPerMillionReadUnits: 0.125,
  sqsPerMillionRequests: 0.4,
  snsPerMillionPublishes: 0.5,
} as const;

/** Monthly free tier (always-free allowances). */
export const FREE_TIER = {
  lambdaRequests: 1_000_000,
  lambdaGbSeconds: 400_000,
  apiGatewayRequests: 1_000_000,
  dynamodbWriteUnits: 0,
  dynamodbReadUnits: 0,
  sqsRequests: 1_000_000,
  snsPublishes: 1_000_000,
} as const;

export interface FunctionUsage {
  functionName: string;
  requests: number;
  errors: number;
  gbSeconds: number;
  billedMs: number;
  coldStarts: number;
  coldStartShare: number;
  /** List price before the free tier. */
  costUsd: number;
}

export interface UsageReport {
  accountId: string;
  region: string;
  since: number;
  until: number;
  functions: FunctionUsage[];
  lambda: { requests: number; gbSeconds: number; coldStarts: number; coldStartShare: number };
  services: {
    apiGatewayRequests: number;
    dynamodbReadUnits: number;
    dynamodbWriteUnits: number;
    sqsRequests: number;
    snsPublishes: number;
  };
  cost: {
    lambdaRequests: number;
    lambdaCompute: number;
    apiGateway: number;
    dynamodb: number;
    sqs: number;
    sns: number;
    totalBeforeFreeTier: number;
    freeTierSavings: number;
    total: number;
  };
  prices: typeof PRICES;
  freeTier: typeof FREE_TIER;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function lambdaCost(requests: number, gbs: number): number {
  return (requests / 1e6) * PRICES.lambdaPerMillionRequests + gbs * PRICES.lambdaPerGbSecond;
}

/** Sums a metric over every series of a namespace whose only dimension is `dimension`. */
async function metricSum(
  metrics: MetricsEngine,
  scope: Scope,
  namespace: string,
  name: string,
  dimension: string,
  since: number,
  until: number,
): Promise<number> {
  const list = await metrics.listMetrics(scope, { namespace, metricName: name });
  let total = 0;
  for (const m of list) {
    if (m.Dimensions?.length !== 1 || m.Dimensions[0].Name !== dimension) continue;
    const period = Math.max(60, Math.ceil((until - since) / 1000 / 60) * 60);
    const s = await metrics.series(scope, { metric: m, start: since, end: until, period });
    for (const b of s.values()) total += b.sum;
  }
  return total;
}

export async function usageReport(
  scope: Scope,
  records: UsageRecord[],
  metrics: MetricsEngine,
  since: number,
  until: number,
): Promise<UsageReport> {
  const byFn = new Map<string, FunctionUsage>();
  for (const r of records) {
    if (r.time < since || r.time >= until) continue;
    let f = byFn.get(r.functionName);
    if (!f) {
      f = {
        functionName: r.functionName,
        requests: 0,
        errors: 0,
        gbSeconds: 0,
        billedMs: 0,
        coldStarts: 0,
        coldStartShare: 0,
        costUsd: 0,
      };
      byFn.set(r.functionName, f);
    }
    f.requests++;
    if (r.status !== 'ok') f.errors++;
    f.gbSeconds += r.gbSeconds;
    f.billedMs += r.billedMs;
    if (r.coldStart) f.coldStarts++;
  }
  const functions = [...byFn.values()].sort((a, b) => a.functionName.localeCompare(b.functionName));
  for (const f of functions) {
    f.coldStartShare = f.requests ? round(f.coldStarts / f.requests) : 0;
    f.gbSeconds = round(f.gbSeconds);
    f.costUsd = round(lambdaCost(f.requests, f.gbSeconds));
  }
  const requests = functions.reduce((a, f) => a + f.requests, 0);
  const gbSeconds = round(functions.reduce((a, f) => a + f.gbSeconds, 0));
  const coldStarts = functions.reduce((a, f) => a + f.coldStarts, 0);
  const sum = (ns: string, name: string, dim: string) =>
    metricSum(metrics, scope, ns, name, dim, since, until);
  const services = {
    apiGatewayRequests: await sum('AWS/ApiGateway', 'Count', 'ApiId'),
    dynamodbReadUnits: await sum('AWS/DynamoDB', 'ConsumedReadCapacityUnits', 'TableName'),
    dynamodbWriteUnits: await sum('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', 'TableName'),
    sqsRequests: await sum('AWS/SQS', 'NumberOfMessagesSent', 'QueueName'),
    snsPublishes: await sum('AWS/SNS', 'NumberOfMessagesPublished', 'TopicName'),
  };
  const per = (n: number, price: number) => (n / 1e6) * price;
  const gross = {
    lambdaRequests: per(requests, PRICES.lambdaPerMillionRequests),
    lambdaCompute: gbSeconds * PRICES.lambdaPerGbSecond,
    apiGateway: per(services.apiGatewayRequests, PRICES.apiGatewayHttpPerMillionRequests),
    dynamodb:
      per(services.dynamodbReadUnits, PRICES.dynamodbPerMillionReadUnits) +
      per(services.dynamodbWriteUnits, PRICES.dynamodbPerMillionWriteUnits),
    sqs: per(services.sqsRequests, PRICES.sqsPerMillionRequests),
    sns: per(services.snsPublishes, PRICES.snsPerMillionPublishes),
  };
  const free = (n: number, allowance: number) => Math.max(0, n - allowance);
  const net = {
    lambdaRequests: per(free(requests, FREE_TIER.lambdaRequests), PRICES.lambdaPerMillionRequests),
    lambdaCompute: free(gbSeconds, FREE_TIER.lambdaGbSeconds) * PRICES.lambdaPerGbSecond,
    apiGateway: per(
      free(services.apiGatewayRequests, FREE_TIER.apiGatewayRequests),
      PRICES.apiGatewayHttpPerMillionRequests,
    ),
    dynamodb:
      per(free(services.dynamodbReadUnits, FREE_TIER.dynamodbReadUnits), PRICES.dynamodbPerMillionReadUnits) +
      per(
        free(services.dynamodbWriteUnits, FREE_TIER.dynamodbWriteUnits),
        PRICES.dynamodbPerMillionWriteUnits,
      ),
    sqs: per(free(services.sqsRequests, FREE_TIER.sqsRequests), PRICES.sqsPerMillionRequests),
    sns: per(free(services.snsPublishes, FREE_TIER.snsPublishes), PRICES.snsPerMillionPublishes),
  };
  const total = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const before = total(gross);
  const after = total(net);
  return {
    accountId: scope.accountId,
    region: scope.region,
    since,
    until,
    functions,
    lambda: { requests, gbSeconds, coldStarts, coldStartShare: requests ? round(coldStarts / requests) : 0 },
    services,
    cost: {
      lambdaRequests: round(net.lambdaRequests),
      lambdaCompute: round(net.lambdaCompute),
      apiGateway: round(net.apiGateway),
      dynamodb: round(net.dynamodb),
      sqs: round(net.sqs),
      sns: round(net.sns),
      totalBeforeFreeTier: round(before),
      freeTierSavings: round(before - after),
      total: round(after),
    },
    prices: PRICES,
    freeTier: FREE_TIER,
  };
}

/** `7d`, `10m`, `2h`, `30s` -> milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2]]!;
  return Number(m[1]) * unit;
}
