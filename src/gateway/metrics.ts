/**
 * Built-in AWS/ApiGateway metrics of one request, as API Gateway publishes them: HTTP APIs
 * per `ApiId` and per `ApiId`+`Stage` with `Count`, `4xx`, `5xx`, `Latency`,
 * `IntegrationLatency`, `DataProcessed`; REST APIs per `ApiName` and `ApiName`+`Stage` with
 * `Count`, `4XXError`, `5XXError`, `Latency`, and on stages with an API cache `CacheHitCount`
 * and `CacheMissCount`.
 */
import type { MetricDimension, MetricsSink } from '../core/metrics-sink.js';

export interface RequestOutcome {
  status: number;
  latencyMs: number;
  integrationLatencyMs?: number;
  /** Request plus response bytes (HTTP APIs' DataProcessed). */
  bytes?: number;
  /**
   * On a REST API stage with an API cache: served from the cache (`hit`), a cached method served
   * by the integration (`miss`), or neither (`none`: CacheHitCount and CacheMissCount record 0).
   */
  cache?: 'hit' | 'miss' | 'none';
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
    if (o.cache !== undefined) {
      put('CacheHitCount', o.cache === 'hit' ? 1 : 0, 'Count');
      put('CacheMissCount', o.cache === 'miss' ? 1 : 0, 'Count');
    }
  }
}

/**
 * `recordRequestMetrics` for one API stage, with its series looked up once: what the data
 * plane keeps per compiled stage and calls on every request.
 */
export function requestRecorder(
  sink: MetricsSink,
  scope: { accountId: string; region: string },
  kind: 'http' | 'rest',
  dimensionSets: readonly (readonly MetricDimension[])[],
): (o: RequestOutcome) => void {
  if (!sink.recorder) return (o) => recordRequestMetrics(sink, scope, kind, dimensionSets, o);
  const at = { accountId: scope.accountId, region: scope.region };
  const [c4, c5] = kind === 'http' ? ['4xx', '5xx'] : ['4XXError', '5XXError'];
  const series = (name: string, unit: string) =>
    dimensionSets.map((dims) => sink.recorder!(at, 'AWS/ApiGateway', name, dims, unit));
  const count = series('Count', 'Count');
  const e4 = series(c4, 'Count');
  const e5 = series(c5, 'Count');
  const latency = series('Latency', 'Milliseconds');
  const integration = series('IntegrationLatency', 'Milliseconds');
  const data = kind === 'http' ? series('DataProcessed', 'Bytes') : [];
  // Only stages with an API cache record these: their series are made on first use.
  let hits: ((value: number) => void)[] | undefined;
  let misses: ((value: number) => void)[] | undefined;
  return (o) => {
    if (o.cache !== undefined) {
      hits ??= series('CacheHitCount', 'Count');
      misses ??= series('CacheMissCount', 'Count');
    }
    const is4 = o.status >= 400 && o.status < 500 ? 1 : 0;
    const is5 = o.status >= 500 ? 1 : 0;
    // The same order as recordRequestMetrics: every metric of a dimension set, set by set.
    for (let i = 0; i < count.length; i++) {
      count[i](1);
      e4[i](is4);
      e5[i](is5);
      latency[i](o.latencyMs);
      if (o.integrationLatencyMs !== undefined) integration[i](o.integrationLatencyMs);
      if (kind === 'http' && o.bytes !== undefined) data[i](o.bytes);
      if (o.cache !== undefined) {
        hits![i](o.cache === 'hit' ? 1 : 0);
        misses![i](o.cache === 'miss' ? 1 : 0);
      }
    }
  };
}
