/**
 * npm run bench:compute — the compute layer's figures, each beside a baseline measured in the
 * same run (machines here are noisy: medians and ratios are what to quote):
 *   - cold start: first Invoke of a freshly created function (client-side round trip), p50/p99
 *   - warm invoke through the Invoke API, p50/p99
 *   - invokes/s at concurrency 16 (keep-alive HTTP)
 *   - private memory per idle instance (smaps_rollup of every process in the sandbox)
 *   - baseline: spawning `node -e 0`, and a bare node:http server round trip
 * Nimbus runs as its own process (`nimbus up`), as a user runs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, Agent, request } from 'node:http';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import AdmZip from 'adm-zip';

const COLD_N = Number(process.env.BENCH_COLD_N ?? 40);
const WARM_N = Number(process.env.BENCH_WARM_N ?? 3000);
const THROUGHPUT_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 16;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function httpCall(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          'content-type': 'application/json',
          // Dev mode accepts any SigV4 key; a minimal header keeps the client cheap.
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0',
        },
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

function zipOf(files: Record<string, string>): string {
  const zip = new AdmZip();
  for (const [name, text] of Object.entries(files)) zip.addFile(name, Buffer.from(text));
  return zip.toBuffer().toString('base64');
}

const HANDLER = zipOf({
  'index.mjs': 'export const handler = async (event) => ({ ok: true, n: event.n ?? 0 });\n',
});

async function createFunction(port: number, name: string): Promise<void> {
  const res = await httpCall(
    port,
    'POST',
    '/2015-03-31/functions',
    JSON.stringify({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/bench',
      Handler: 'index.handler',
      Code: { ZipFile: HANDLER },
      MemorySize: 128,
      Timeout: 10,
    }),
  );
  if (res.status !== 201) throw new Error(`CreateFunction ${name}: ${res.status} ${res.body}`);
}

async function invoke(port: number, name: string, payload = '{"n":1}'): Promise<void> {
  const res = await httpCall(port, 'POST', `/2015-03-31/functions/${name}/invocations`, payload);
  if (res.status !== 200) throw new Error(`Invoke ${name}: ${res.status} ${res.body}`);
}

async function waitHealthy(port: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await httpCall(port, 'GET', '/_nimbus/health');
      if (res.status === 200) return JSON.parse(res.body);
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nimbus did not become healthy');
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = byParent.get(ppid) ?? [];
      list.push(Number(entry));
      byParent.set(ppid, list);
    } catch {
      /* gone */
    }
  }
  const walk = (p: number) => {
    for (const c of byParent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function privateKb(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    let kb = 0;
    for (const m of text.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(m[1]);
    return kb;
  } catch {
    return 0;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function bareHttpBaseline(): Promise<{ p50: number; rps: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true,"n":1}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const lat: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    await httpCall(port, 'POST', '/x', '{"n":1}');
    lat.push(performance.now() - t);
  }
  const rps = await throughput(() => httpCall(port, 'POST', '/x', '{"n":1}').then(() => {}));
  server.close();
  return { p50: pct(lat, 50), rps };
}

async function throughput(call: () => Promise<void>): Promise<number> {
  let done = 0;
  const end = performance.now() + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        await call();
        done++;
      }
    }),
  );
  return done / THROUGHPUT_SECONDS;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const nimbus: ChildProcess = spawn(
    process.execPath,
    [cli, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', '--warm-spares', '4'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const health = await waitHealthy(port);
    const results: Record<string, unknown> = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      isolation: health.isolation,
    };

    // Baseline: spawning a Node process.
    const spawnMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      spawnMs.push(performance.now() - t);
    }
    results.baselineNodeSpawn = { p50: pct(spawnMs, 50), p99: pct(spawnMs, 99) };

    // Cold starts: create then invoke fresh functions, one at a time, letting the spare pool refill.
    const cold: number[] = [];
    for (let i = 0; i < COLD_N; i++) {
      const name = `cold-${i}`;
      await createFunction(port, name);
      await new Promise((r) => setTimeout(r, 150));
      const t = performance.now();
      await invoke(port, name);
      cold.push(performance.now() - t);
    }
    results.coldStartMs = { p50: pct(cold, 50), p99: pct(cold, 99), n: cold.length };

    // Warm invokes, sequential.
    await createFunction(port, 'warm');
    await invoke(port, 'warm');
    const warm: number[] = [];
    for (let i = 0; i < WARM_N; i++) {
      const t = performance.now();
      await invoke(port, 'warm');
      warm.push(performance.now() - t);
    }
    results.warmInvokeMs = { p50: pct(warm, 50), p99: pct(warm, 99), n: warm.length };

    // Throughput at concurrency 16 (16 instances of one function).
    await Promise.all(Array.from({ length: CONCURRENCY }, () => invoke(port, 'warm')));
    results.invokesPerSecond = Math.round(await throughput(() => invoke(port, 'warm')));

    // Memory: every process below nimbus that is a sandbox (bwrap and what runs in it).
    await new Promise((r) => setTimeout(r, 500));
    const pids = descendants(nimbus.pid!);
    const roots = pids.filter(
      (p) => /bwrap|agent/.test(cmdline(p)) && !/bwrap|agent/.test(cmdline(parent(p))),
    );
    const perInstance = roots.map((r) => [r, ...descendants(r)].reduce((s, p) => s + privateKb(p), 0) / 1024);
    results.idleInstancePrivateMb = {
      instances: perInstance.length,
      p50: perInstance.length ? Number(pct(perInstance, 50).toFixed(1)) : null,
      max: perInstance.length ? Number(Math.max(...perInstance).toFixed(1)) : null,
    };

    results.bareNodeHttp = await bareHttpBaseline();
    console.log(JSON.stringify(results, null, 2));
  } finally {
    nimbus.kill('SIGTERM');
    await new Promise((r) => nimbus.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
  agent.destroy();
}

function parent(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

await main();
