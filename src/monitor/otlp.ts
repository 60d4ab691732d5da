/**
 * Optional OpenTelemetry trace export: one span per Lambda invocation, batched and POSTed as
 * OTLP/HTTP JSON to `<endpoint>/v1/traces`. The span's trace id is the X-Ray root id passed
 * into the function as `_X_AMZN_TRACE_ID` (same 128 bits), so traces line up.
 */
import type { Logger } from '../core/logger.js';
import type { InvocationEvent } from '../compute/engine.js';

export interface OtlpExporterOptions {
  /** Base URL, e.g. http://127.0.0.1:4318 (the collector's OTLP/HTTP port). */
  endpoint: string;
  logger: Logger;
  serviceName?: string;
  flushIntervalMs?: number;
}

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string; boolValue?: boolean } }[];
  status: { code: number; message?: string };
}

/** `Root=1-5f84c7a1-0123456789abcdef01234567;Parent=...` -> 32 hex digits of trace id and the parent. */
export function traceIdsFromHeader(h: string | undefined): { traceId: string; parent?: string } | undefined {
  const m = h && /Root=1-([0-9a-f]{8})-([0-9a-f]{24})(?:;Parent=([0-9a-f]{16}))?/.exec(h);
  return m ? { traceId: m[1] + m[2], parent: m[3] } : undefined;
}

export class OtlpExporter {
  private spans: Span[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  exported = 0;

  constructor(private readonly o: OtlpExporterOptions) {}

  onInvocation(e: InvocationEvent): void {
    const ids = traceIdsFromHeader(e.traceHeader);
    if (!ids || e.status === 'throttled') return;
    const startNs = BigInt(Math.round(e.startTime)) * 1_000_000n;
    const endNs = startNs + BigInt(Math.round(Math.max(0, e.durationMs) * 1_000_000));
    this.spans.push({
      traceId: ids.traceId,
      spanId: ids.parent ?? randomHex(16),
      name: `${e.functionName} invoke`,
      kind: 2,
      startTimeUnixNano: startNs.toString(),
      endTimeUnixNano: endNs.toString(),
      attributes: [
        { key: 'faas.name', value: { stringValue: e.functionName } },
        { key: 'faas.version', value: { stringValue: e.version } },
        { key: 'faas.invocation_id', value: { stringValue: e.requestId } },
        { key: 'faas.coldstart', value: { boolValue: e.coldStart } },
        { key: 'faas.trigger', value: { stringValue: e.invocationType === 'Event' ? 'pubsub' : 'other' } },
        { key: 'cloud.account.id', value: { stringValue: e.accountId } },
        { key: 'cloud.region', value: { stringValue: e.region } },
        { key: 'aws.request_id', value: { stringValue: e.requestId } },
      ],
      status: e.status === 'ok' ? { code: 1 } : { code: 2, message: e.status },
    });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushIntervalMs ?? 1000);
      this.timer.unref();
    }
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const spans = this.spans;
    this.spans = [];
    if (spans.length === 0) return this.sending;
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { stringValue: this.o.serviceName ?? 'nimbus' } }],
          },
          scopeSpans: [{ scope: { name: 'nimbus.lambda' }, spans }],
        },
      ],
    });
    this.sending = this.sending.then(async () => {
      try {
        const res = await fetch(this.o.endpoint.replace(/\/+$/, '') + '/v1/traces', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`OTLP endpoint answered ${res.status}`);
        this.exported += spans.length;
      } catch (e) {
        this.o.logger.warn('OTLP trace export failed; spans dropped', { count: spans.length, err: e });
      }
    });
    return this.sending;
  }
}

function randomHex(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
