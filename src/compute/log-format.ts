/**
 * Lambda's platform log lines (INIT_START, START, END, REPORT) and the LogType=Tail result.
 */
import type { InvokeResult } from './sandbox/types.js';

/** `nodejs:20.v20.20.2`-style identifier of the runtime that really runs. */
export function runtimeVersion(runtime: string, runtimes: Record<string, string>): string {
  const m = /^(nodejs|python|provided|ruby|java|dotnet)(.*)$/.exec(runtime);
  const family = m?.[1] ?? runtime;
  const major = (m?.[2] ?? '').replace(/\.x$/, '').replace(/^\./, '') || 'default';
  const host = family === 'nodejs' ? runtimes.node : family === 'python' ? runtimes.python : runtimes[family];
  return `${family}:${major}.v${host ?? 'nimbus'}`;
}

export function initStartLine(runtime: string, runtimes: Record<string, string>, region: string): string {
  const v = runtimeVersion(runtime, runtimes);
  return `INIT_START Runtime Version: ${v}\tRuntime Version ARN: arn:aws:lambda:${region}::runtime:nimbus-${v.replace(/[:]/g, '-')}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** Lambda bills every started millisecond, at least 1 ms. */
export function billedMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export function reportLine(requestId: string, r: InvokeResult, memoryMb: number, timeoutSec: number): string {
  const duration = r.status === 'timeout' ? Math.max(r.durationMs, timeoutSec * 1000) : r.durationMs;
  let line =
    `REPORT RequestId: ${requestId}\tDuration: ${duration.toFixed(2)} ms\t` +
    `Billed Duration: ${r.status === 'timeout' ? timeoutSec * 1000 : billedMs(duration)} ms\t` +
    `Memory Size: ${memoryMb} MB\tMax Memory Used: ${Math.max(1, Math.round(r.maxMemoryUsedMb))} MB\t`;
  if (r.coldStart && r.initDurationMs !== undefined)
    line += `Init Duration: ${r.initDurationMs.toFixed(2)} ms\t`;
  if (r.status === 'timeout') line += 'Status: timeout';
  else if (r.status === 'crashed') line += 'Status: error\tError Type: Runtime.ExitError';
  return line;
}

/** The platform lines Lambda writes between the handler's output and END when the instance died. */
export function failureLines(requestId: string, r: InvokeResult, timeoutSec: number, now: number): string[] {
  if (r.status === 'timeout') {
    return [
      `${new Date(now).toISOString()} ${requestId} Task timed out after ${timeoutSec.toFixed(2)} seconds`,
    ];
  }
  if (r.status === 'crashed') {
    let detail = 'Runtime exited with error: signal: killed';
    try {
      const p = JSON.parse(r.payload.toString('utf8')) as { errorMessage?: string };
      if (p.errorMessage) detail = p.errorMessage;
    } catch {
      /* keep the default */
    }
    return [`RequestId: ${requestId} Error: ${detail}\nRuntime.ExitError`];
  }
  return [];
}

/** X-Amz-Log-Result: base64 of the last 4 KB of the invocation's log. */
export function tailLog(lines: string[]): string {
  const text = Buffer.from(lines.map((l) => (l.endsWith('\n') ? l : l + '\n')).join(''), 'utf8');
  const tail = text.length > 4096 ? text.subarray(text.length - 4096) : text;
  return tail.toString('base64');
}
