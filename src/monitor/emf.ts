/**
 * Embedded Metric Format: a JSON log line carrying `_aws.CloudWatchMetrics` declares metrics
 * whose values (and dimension values) are members of the same object. The line may follow a
 * Lambda console prefix (`<time>\t<request id>\tINFO\t{...}`).
 */
import type { Dimension, MetricRef } from './metrics.js';

export interface EmfMetric {
  metric: MetricRef;
  values: number[];
  unit?: string;
  timestamp?: number;
  highResolution: boolean;
}

interface EmfDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

/** The metrics an EMF line declares; [] for anything else (never throws). */
export function parseEmf(message: string): EmfMetric[] {
  if (!message.includes('"_aws"')) return [];
  const at = message.indexOf('{');
  if (at < 0) return [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(message.slice(at)) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = doc?._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (!aws || typeof aws !== 'object' || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const timestamp = typeof aws.Timestamp === 'number' ? aws.Timestamp : undefined;
  const out: EmfMetric[] = [];
  for (const d of aws.CloudWatchMetrics as EmfDirective[]) {
    if (typeof d?.Namespace !== 'string' || !Array.isArray(d.Metrics)) continue;
    const dimSets = Array.isArray(d.Dimensions) && d.Dimensions.length ? (d.Dimensions as unknown[]) : [[]];
    for (const m of d.Metrics as { Name?: unknown; Unit?: unknown; StorageResolution?: unknown }[]) {
      if (typeof m?.Name !== 'string') continue;
      const raw = doc[m.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).filter(
        (v): v is number => typeof v === 'number' && Number.isFinite(v),
      );
      if (values.length === 0) continue;
      for (const set of dimSets) {
        if (!Array.isArray(set)) continue;
        const dims: Dimension[] = [];
        let ok = true;
        for (const name of set) {
          const v = doc[name as string];
          if (typeof name !== 'string' || (typeof v !== 'string' && typeof v !== 'number')) {
            ok = false;
            break;
          }
          dims.push({ Name: name, Value: String(v) });
        }
        if (!ok) continue;
        out.push({
          metric: { Namespace: d.Namespace, MetricName: m.Name, Dimensions: dims },
          values,
          unit: typeof m.Unit === 'string' ? m.Unit : undefined,
          timestamp,
          highResolution: m.StorageResolution === 1,
        });
      }
    }
  }
  return out;
}
