/**
 * Front-door overhead: a trivial AWS JSON operation through Nimbus (routing, dev-mode SigV4
 * parsing, request ids, JSON decode/encode) versus a bare node:http server doing the same
 * body read + JSON reply. Run: `npx tsc -p . && node dist/bench/front-door.js [seconds]`.
 *
 * Both servers run in this process; the load generator (autocannon, 10 keep-alive
 * connections, the same request for both) runs in a child process of its own, one per load, so
 * it never shares the server's thread or process. Each round loads bare, then Nimbus
 * (BENCH_ROUNDS rounds, default 3, after one warm-up load of each); the figures are medians.
 * cpuUsPerRequest: this process's CPU time (user + system) during the load divided by the
 * requests answered — the server's cost per request, much less sensitive than req/s to other
 * load on the machine. overheadPerRequestUs = Nimbus's cpuUsPerRequest - bare's.
 */
import { createServer } from 'node:http';
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { defaultConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/logger.js';
import { startNimbus } from '../src/server/app.js';
import type { JsonService } from '../src/server/service.js';

const LOADER_FLAG = '--front-door-loader';
const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const body = '{"a":1}';
const headers = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'Bench_1.Echo',
  'x-amz-date': '20260101T000000Z',
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/bench/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' +
    '0'.repeat(64),
};

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
}

if (process.argv[3] === LOADER_FLAG) {
  // The load generator's process: one autocannon run against the URL in argv[4].
  const r = await autocannon({
    url: process.argv[4],
    method: 'POST',
    headers,
    body,
    connections: 10,
    duration: seconds,
  });
  const out: LoadResult = {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
  };
  process.send!(out, () => process.exit(0));
} else {
  await main();
}

/** Runs one load from a child process; returns its figures and this process's CPU µs per request. */
function load(url: string): Promise<LoadResult & { cpuUsPerRequest: number }> {
  return new Promise((resolve, reject) => {
    let cpu0: NodeJS.CpuUsage | undefined;
    const child = fork(fileURLToPath(import.meta.url), [String(seconds), LOADER_FLAG, url], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // The child's start-up (module loading) is not the server's work: count from its first request on.
    child.once('spawn', () => (cpu0 = process.cpuUsage()));
    child.once('message', (m: LoadResult) => {
      const cpu = process.cpuUsage(cpu0);
      resolve({ ...m, cpuUsPerRequest: +((cpu.user + cpu.system) / Math.max(1, m.requests)).toFixed(1) });
    });
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const out = JSON.stringify({ input: JSON.parse(Buffer.concat(chunks).toString()) });
      res.writeHead(200, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': Buffer.byteLength(out),
      });
      res.end(out);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;

  const echo: JsonService = {
    protocol: 'json',
    signingName: 'bench',
    jsonVersion: '1.0',
    targetPrefix: 'Bench_1',
    operations: { Echo: async (_ctx, input) => ({ input }) },
  };
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
  const nimbus = await startNimbus(defaultConfig({ port: 0, dataDir: dir }), {
    logger: silentLogger,
    extraServices: () => [echo],
  });

  await load(bareUrl); // warm-up both
  await load(nimbus.endpoint);
  const b: Awaited<ReturnType<typeof load>>[] = [];
  const n: Awaited<ReturnType<typeof load>>[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await load(bareUrl));
    n.push(await load(nimbus.endpoint));
  }
  const summary = (runs: typeof b) => ({
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    rounds: runs.map((r) => ({ rps: r.rps, cpuUsPerRequest: r.cpuUsPerRequest })),
  });
  const bs = summary(b);
  const ns = summary(n);
  console.log(
    JSON.stringify(
      {
        bare: bs,
        nimbus: ns,
        overheadPerRequestUs: +(ns.cpuUsPerRequest - bs.cpuUsPerRequest).toFixed(1),
        nimbusToBareCpu: +(ns.cpuUsPerRequest / bs.cpuUsPerRequest).toFixed(2),
        nimbusToBareRps: +(ns.rps / bs.rps).toFixed(2),
      },
      null,
      2,
    ),
  );

  await nimbus.close();
  bare.close();
  rmSync(dir, { recursive: true, force: true });
}
