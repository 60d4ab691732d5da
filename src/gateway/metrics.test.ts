import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricDimension, MetricsSink } from '../core/metrics-sink.js';
import { recordRequestMetrics, requestRecorder, type RequestOutcome } from './metrics.js';

const S = { accountId: '000000000000', region: 'us-east-1' };

function sink(withRecorder: boolean): { sink: MetricsSink; seen: string[] } {
  const seen: string[] = [];
  const line = (ns: string, name: string, dims: readonly MetricDimension[], v: number, unit?: string) =>
    `${ns} ${name} ${dims.map((d) => `${d.Name}=${d.Value}`).join(',')} ${v} ${unit ?? ''}`;
  const s: MetricsSink = {
    record: (_scope, ns, name, dims, v, unit) => seen.push(line(ns, name, dims, v, unit)),
  };
  if (withRecorder)
    s.recorder = (_scope, ns, name, dims, unit) => (v) => seen.push(line(ns, name, dims, v, unit));
  return { sink: s, seen };
}

test('requestRecorder records what recordRequestMetrics records (HTTP and REST APIs)', () => {
  const outcomes: RequestOutcome[] = [
    { status: 200, latencyMs: 3, integrationLatencyMs: 2, bytes: 40 },
    { status: 404, latencyMs: 1, bytes: 20 },
    { status: 502, latencyMs: 9, integrationLatencyMs: 8 },
    // A stage with an API cache: a hit, a miss, and a request that used neither.
    { status: 200, latencyMs: 1, cache: 'hit' },
    { status: 200, latencyMs: 4, integrationLatencyMs: 3, cache: 'miss' },
    { status: 403, latencyMs: 1, cache: 'none' },
  ];
  for (const kind of ['http', 'rest'] as const) {
    const api = { Name: kind === 'http' ? 'ApiId' : 'ApiName', Value: 'a1' };
    const sets = [[api], [api, { Name: 'Stage', Value: 'prod' }]];
    const direct = sink(false);
    for (const o of outcomes) recordRequestMetrics(direct.sink, S, kind, sets, o);
    const viaRecorder = sink(true);
    const rec = requestRecorder(viaRecorder.sink, S, kind, sets);
    for (const o of outcomes) rec(o);
    const fallback = sink(false);
    const rec2 = requestRecorder(fallback.sink, S, kind, sets);
    for (const o of outcomes) rec2(o);
    assert.ok(direct.seen.length > 0);
    assert.deepEqual(viaRecorder.seen, direct.seen, kind);
    assert.deepEqual(fallback.seen, direct.seen, kind);
  }
});
