/**
 * Built-in AWS/ApiGateway metrics of one request, as API Gateway publishes them: HTTP APIs
 * per `ApiId` and per `ApiId`+`Stage` with `Count`, `4xx`, `5xx`, `Latency`,
 * `IntegrationLatency`, `DataProcessed`; REST APIs per `ApiName` and `ApiName`+`Stage` with
 * `Count`, `4XXError`, `5XXError`, `Latency`.
 */
import type { MetricDimension, MetricsSink } from '../core/metrics-sink.js';

export interface RequestOutcome {
  status: number;
  latencyMs: number;
  integrationLatencyMs?: number;
  /** Request plus response bytes (HTTP APIs' DataProcessed). */
  bytes?: number;
}

export function recordRequestMetrics(
  sink: MetricsSink | undefined,
  scope: { accountId: string; region: string },
  kind: 'http' | 'rest',
  dimensionSets: readonly (readonly MetricDimension[])[],
  o: RequestOutcome,
): void {
  if (!sink) return;
  const [c4, c5] = kind === 'http' ? ['4xx', '5xx'] : ['4XXError', '5XXError'];
  const is4 = o.status >= 400 && o.status < 500 ? 1 : 0;
  const is5 = o.status >= 500 ? 1 : 0;
  for (const dims of dimensionSets) {
    const put = (name: string, value: number, unit: string) =>
      sink.record(scope, 'AWS/ApiGateway', name, dims, value, unit);
    put('Count', 1, 'Count');
    put(c4, is4, 'Count');
    put(c5, is5, 'Count');
    put('Latency', o.latencyMs, 'Milliseconds');
    if (o.integrationLatencyMs !== undefined)
      put('IntegrationLatency', o.integrationLatencyMs, 'Milliseconds');
    if (kind === 'http' && o.bytes !== undefined) put('DataProcessed', o.bytes, 'Bytes');
  }
}
