/**
 * npm run bench:monitoring — what monitoring costs on warm invokes: the same Nimbus
 * (`nimbus up`, its own process) with built-in recording on (AWS/Lambda metrics, Prometheus
 * series, trace header) and off (NIMBUS_BUILTIN_METRICS=off), alternated over several rounds
 * so machine noise hits both alike. Function logs (START/END/REPORT) are written in both.
 * Reports invokes/s at concurrency 16 and the sequential warm p50 for each, and the ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import { openStore } from '../src/storage/index.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';
import { createMonitoring } from '../src/monitor/index.js';
import type { InvocationEvent, LambdaEngine } from '../src/compute/engine.js';
import type { LogsEngine } from '../src/monitor/logs.js';
import type { FrontDoor } from '../src/server/http-server.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import AdmZip from 'adm-zip';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const SEQ_N = Number(process.env.BENCH_WARM_N ?? 500);
const CONCURRENCY = 16;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0';

function call(
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { 'content-type': 'application/json', authorization: AUTH },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function invoke(port: number): Promise<void> {
  const r = await call(port, 'POST', '/2015-03-31/functions/warm/invocations', '{"n":1}');
  if (r.status !== 200) throw new Error(`Invoke: ${r.status} ${r.body}`);
}

async function startNimbus(recording: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-mon-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const child: ChildProcess = spawn(
    process.execPath,
    [cli, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', '--warm-spares', '2'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, NIMBUS_BUILTIN_METRICS: recording ? 'on' : 'off' },
    },
  );
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    try {
      if ((await call(port, 'GET', '/_nimbus/health')).status === 200) return { port, stop };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('nimbus did not become healthy');
}

async function measure(recording: boolean): Promise<{ rps: number; p50: number }> {
  const n = await startNimbus(recording);
  try {
    const zip = new AdmZip();
    zip.addFile(
      'index.mjs',
      Buffer.from('export const handler = async (e) => ({ ok: true, n: e.n ?? 0 });\n'),
    );
    const res = await call(
      n.port,
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({
        FunctionName: 'warm',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/bench',
        Handler: 'index.handler',
        Code: { ZipFile: zip.toBuffer().toString('base64') },
        MemorySize: 128,
      }),
    );
    if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${res.body}`);
    await Promise.all(Array.from({ length: CONCURRENCY }, () => invoke(n.port)));
    const lat: number[] = [];
    for (let i = 0; i < SEQ_N; i++) {
      const t = performance.now();
      await invoke(n.port);
      lat.push(performance.now() - t);
    }
    let done = 0;
    const end = performance.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          await invoke(n.port);
          done++;
        }
      }),
    );
    if (recording) {
      const m = await call(n.port, 'GET', '/metrics');
      if (!/nimbus_lambda_invocations_total\{[^}]*function="warm"\} \d+/.test(m.body))
        throw new Error('recording was on but /metrics has no invocations');
    }
    return { rps: done / SECONDS, p50: pct(lat, 50) };
  } finally {
    await n.stop();
  }
}

/**
 * The recording path alone, in process: what one invocation's observer call costs (AWS/Lambda
 * metrics into buckets, Prometheus series), including its share of the batched Store writes.
 */
async function recordingCost(): Promise<{ usPerInvocation: number; n: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-rec-'));
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, systemClock, silentLogger);
  let observer: ((e: InvocationEvent) => void) | undefined;
  const mon = createMonitoring({
    store,
    clock: systemClock,
    logger: silentLogger,
    logs: { onEvents: () => () => true } as unknown as LogsEngine,
    lambda: {
      observe: (o: (e: InvocationEvent) => void) => {
        observer = o;
        return () => true;
      },
    } as unknown as LambdaEngine,
    frontDoor: { mountExact: () => {}, addInternalRoute: () => {} } as unknown as FrontDoor,
    region: 'us-east-1',
    alarmEvaluateIntervalMs: 0,
  });
  const n = 50_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    observer!({
      time: Date.now(),
      startTime: Date.now(),
      accountId: '000000000000',
      region: 'us-east-1',
      functionName: `fn-${i % 10}`,
      version: '$LATEST',
      requestId: String(i),
      invocationType: 'RequestResponse',
      status: i % 50 === 0 ? 'error' : 'ok',
      durationMs: 1 + (i % 7),
      billedMs: 8,
      memoryMb: 128,
      coldStart: i < 10,
      initDurationMs: i < 10 ? 30 : undefined,
      maxMemoryUsedMb: 40,
      concurrent: 1 + (i % 4),
      traceHeader: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=1',
    });
    if (i % 5000 === 0) await mon.metrics.flush();
  }
  await mon.metrics.flush();
  const us = ((performance.now() - t) * 1000) / n;
  await mon.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { usPerInvocation: Number(us.toFixed(2)), n };
}

const recording = await recordingCost();
const off: { rps: number; p50: number }[] = [];
const on: { rps: number; p50: number }[] = [];
// Alternate which runs first, so a load change on the machine does not favour one side.
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    off.push(await measure(false));
    on.push(await measure(true));
  } else {
    on.push(await measure(true));
    off.push(await measure(false));
  }
}
agent.destroy();
const med = (xs: number[]) => pct(xs, 50);
const rpsOff = med(off.map((x) => x.rps));
const rpsOn = med(on.map((x) => x.rps));
console.log(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      rounds: ROUNDS,
      loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
      recordingPathInProcess: recording,
      recordingShareOfWarmInvoke: `${((recording.usPerInvocation / 1000 / med(on.map((x) => x.p50))) * 100).toFixed(2)}%`,
      withoutRecording: {
        invokesPerSecond: Math.round(rpsOff),
        warmP50Ms: Number(med(off.map((x) => x.p50)).toFixed(3)),
      },
      withRecording: {
        invokesPerSecond: Math.round(rpsOn),
        warmP50Ms: Number(med(on.map((x) => x.p50)).toFixed(3)),
      },
      throughputCostPercent: Number((((rpsOff - rpsOn) / rpsOff) * 100).toFixed(1)),
      perRound: { off: off.map((x) => Math.round(x.rps)), on: on.map((x) => Math.round(x.rps)) },
    },
    null,
    2,
  ),
);
