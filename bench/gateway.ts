/**
 * npm run bench:gateway — requests/s and latency through an HTTP API (quick create, $default
 * stage, payload 2.0) to a trivial Lambda handler, beside a bare node:http server answering
 * the same JSON, measured with autocannon in the same run. A third target is the floor of any
 * design that isolates handlers in processes: node:http handing each request over an IPC
 * channel to one of a pool of plain child processes (BARE_IPC below). All servers run as their
 * own processes (Nimbus as `nimbus up`), the load generator in this one.
 * Each target also reports the CPU time per request (from /proc, user + system) of the server
 * process, of Nimbus's sandboxes (every descendant of the Nimbus process) and of the load
 * generator: the machine's two cores are shared by all three, so these say where a request's
 * cost goes when throughput alone is noisy.
 * Nimbus runs with its account-level throttle raised (AWS's default quota of 10,000 requests/s
 * would otherwise cap it), and only 2xx answers count as requests served.
 *   BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 10), BENCH_NIMBUS_NODE_ARGS (extra
 *   Node.js flags for the Nimbus server process, e.g. `--cpu-prof --cpu-prof-dir=DIR`)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs } from './proc.js';
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ApiGatewayV2Client, CreateApiCommand } from '@aws-sdk/client-apigatewayv2';

const require = createRequire(import.meta.url);
// autocannon ships no types.
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<any>;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const NIMBUS_NODE_ARGS = (process.env.BENCH_NIMBUS_NODE_ARGS ?? '').split(' ').filter(Boolean);

const BARE = `require('node:http').createServer((req, res) => {
  const body = JSON.stringify({ hello: 'world' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.argv[1]), '127.0.0.1');`;

/**
 * The floor of any design that runs each concurrent request's handler in a process of its own:
 * node:http in front, a pool of CONNECTIONS child processes (plain `fork`, IPC channel, no
 * sandbox, logs or metrics), one request in flight per child as on Lambda; the child answers a
 * 2.0-style result and the server writes it. Nimbus pays these same crossings per request.
 */
const BARE_IPC = `const { fork } = require('node:child_process');
if (process.argv[2] === 'child') {
  process.on('message', (m) => process.send({ id: m.id, result: JSON.stringify({ hello: 'world' }) }));
} else {
  const idle = [];
  const waiting = [];
  const pending = new Map();
  let next = 0;
  for (let i = 0; i < Number(process.argv[3]); i++) {
    const c = fork(__filename, ['child'], { execArgv: [] });
    c.on('message', (m) => {
      const res = pending.get(m.id);
      pending.delete(m.id);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(m.result) });
      res.end(m.result);
      const w = waiting.shift();
      if (w) w(c);
      else idle.push(c);
    });
    idle.push(c);
  }
  const run = (c, res) => {
    const id = next++;
    pending.set(id, res);
    c.send({ id, event: { rawPath: '/hello' } });
  };
  require('node:http').createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const c = idle.pop();
      if (c) run(c, res);
      else waiting.push((w) => run(w, res));
    });
  }).listen(Number(process.argv[2]), '127.0.0.1');
}`;

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

function summary(r: any) {
  return {
    // Successful (2xx) requests only: a 429 or 5xx is not throughput.
    requestsPerSec: Math.round(r['2xx'] / r.duration),
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    total: r.requests.total,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/** CPU seconds (user + system) of a process, 0 when it is gone. */
function cpuOf(pid: number): number {
  return (cpuMs(pid) ?? 0) / 1000;
}

/** Every descendant of `root` (the sandboxes and their helpers). */
function descendants(root: number): number[] {
  const kids = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const stack = [...(kids.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

function cpuSnapshot(serverPid: number, withChildren: boolean) {
  const children = new Map<number, number>();
  if (withChildren) for (const p of descendants(serverPid)) children.set(p, cpuOf(p));
  const self = process.cpuUsage();
  return { server: cpuOf(serverPid), children, self: (self.user + self.system) / 1e6 };
}

async function load(
  url: string,
  serverPid: number,
  withChildren: boolean,
  extra: Record<string, unknown> = {},
) {
  await autocannon({ url, connections: CONNECTIONS, duration: 3, ...extra }); // warm-up (instances start)
  const a = cpuSnapshot(serverPid, withChildren);
  const r = summary(await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, ...extra }));
  const b = cpuSnapshot(serverPid, withChildren);
  let children = 0;
  for (const [p, t] of b.children) children += t - (a.children.get(p) ?? t);
  const us = (sec: number) => Math.round((sec / Math.max(1, r.total)) * 1e6);
  return {
    ...r,
    cpuUsPerRequest: {
      server: us(b.server - a.server),
      ...(withChildren ? { sandboxes: us(children) } : {}),
      loadGenerator: us(b.self - a.self),
    },
  };
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-gw-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const barePort = port + 1;
  const floorPort = port + 2;
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const nimbus = spawn(
    process.execPath,
    [
      ...NIMBUS_NODE_ARGS,
      cli,
      'up',
      ...['--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'],
      // AWS's default account throttle (10,000 rps) would cap the gateway below what this machine
      // serves; raised as a quota increase would, so the bench measures the gateway, not the quota.
      ...['--api-rate-limit', '1000000000', '--api-burst-limit', '1000000000'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const bare = spawn(process.execPath, ['-e', BARE, String(barePort)], { stdio: 'inherit' });
  const floorDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-gw-floor-'));
  const floorScript = join(floorDir, 'floor.cjs');
  writeFileSync(floorScript, BARE_IPC);
  const floor = spawn(process.execPath, [floorScript, String(floorPort), String(CONNECTIONS)], {
    stdio: 'inherit',
  });
  try {
    await waitFor(`http://127.0.0.1:${port}/_nimbus/health`);
    await waitFor(`http://127.0.0.1:${barePort}/`);
    await waitFor(`http://127.0.0.1:${floorPort}/`);
    const cfg = {
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    };
    const lambda = new LambdaClient(cfg);
    const gw = new ApiGatewayV2Client(cfg);
    const z = new AdmZip();
    z.addFile(
      'index.js',
      Buffer.from(`exports.handler = async () => ({ hello: 'world' });`),
      '',
      0o644 << 16,
    );
    const fn = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'bench-hello',
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/bench',
        Handler: 'index.handler',
        // Generous: cold starts on a loaded machine must not time out during the warm-up.
        Timeout: 30,
        Code: { ZipFile: z.toBuffer() },
      }),
    );
    const api = await gw.send(
      new CreateApiCommand({ Name: 'bench', ProtocolType: 'HTTP', Target: fn.FunctionArn }),
    );
    const url = `${api.ApiEndpoint}/hello`;
    const check = await fetch(url);
    if (check.status !== 200) throw new Error(`API answered ${check.status}: ${await check.text()}`);
    lambda.destroy();
    gw.destroy();

    const bareResult = await load(`http://127.0.0.1:${barePort}/hello`, bare.pid!, false);
    const floorResult = await load(`http://127.0.0.1:${floorPort}/hello`, floor.pid!, true);
    const gatewayResult = await load(url, nimbus.pid!, true);
    // The Lambda Invoke API on the same function: what the gateway adds on top of Lambda.
    const invokeResult = await load(
      `http://127.0.0.1:${port}/2015-03-31/functions/bench-hello/invocations`,
      nimbus.pid!,
      true,
      {
        method: 'POST',
        body: '{}',
        headers: {
          'content-type': 'application/json',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0',
        },
      },
    );
    const out = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      seconds: SECONDS,
      connections: CONNECTIONS,
      bareNodeHttp: bareResult,
      processPerRequestFloor: floorResult,
      httpApiToLambda: gatewayResult,
      lambdaInvokeApi: invokeResult,
      ratio: Number((gatewayResult.requestsPerSec / bareResult.requestsPerSec).toFixed(3)),
      ratioToFloor: Number((gatewayResult.requestsPerSec / floorResult.requestsPerSec).toFixed(3)),
      floorRatio: Number((floorResult.requestsPerSec / bareResult.requestsPerSec).toFixed(3)),
      ratioToInvokeApi: Number((gatewayResult.requestsPerSec / invokeResult.requestsPerSec).toFixed(3)),
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await stop(bare);
    await stop(floor);
    rmSync(floorDir, { recursive: true, force: true });
    await stop(nimbus);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
