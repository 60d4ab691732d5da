/**
 * npm run bench:dynamodb — a mixed PutItem (40%) / GetItem (40%) / Query (20%) load at
 * concurrency 16 over keep-alive HTTP (raw JSON 1.0 requests, so the client costs little),
 * against Nimbus (`nimbus up`, SQLite) and, in the same run, against dynalite when
 * node_modules/dynalite exists. Both servers run as their own processes; the load generator
 * (this process, a lean node:http client) is the same for both.
 * BENCH_SECONDS (default 5) per target and round; BENCH_ROUNDS (default 3) rounds, each a fresh
 * server of each kind, Nimbus then dynalite; the table prints every round and the medians.
 * cpuMsPerKop: the server process's CPU time (user + system, from /proc) per 1,000 operations
 * during the measured window, a figure less sensitive to other load on the machine than ops/s.
 * BENCH_CPU_PROF=DIR: the Nimbus server writes a V8 CPU profile into DIR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpuMs } from './proc.js';
import { BENCH_TABLE } from './dynamodb-table.js';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROF_DIR = process.env.BENCH_CPU_PROF;
const CONCURRENCY = 16;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(port: number, op: string, body: unknown): Promise<{ status: number; text: string }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${op}`,
          'content-length': Buffer.byteLength(data),
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
          'x-amz-date': '20260101T000000Z',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function pct(v: number[], p: number): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function waitFor(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await call(port, 'ListTables', {});
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`server on ${port} did not start`);
}

async function run(name: string, port: number, pid: number | undefined) {
  const table = BENCH_TABLE.TableName;
  const c = await call(port, 'CreateTable', BENCH_TABLE);
  if (c.status !== 200) throw new Error(`${name}: CreateTable ${c.text}`);
  for (let i = 0; i < 50; i++) {
    const d = await call(port, 'DescribeTable', { TableName: table });
    if (JSON.parse(d.text).Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const item = (i: number) => ({
    pk: { S: `p${i % 20}` },
    sk: { N: String(i) },
    payload: { S: 'x'.repeat(200) },
    n: { N: String(i * 3) },
  });
  for (let i = 0; i < 500; i++) await call(port, 'PutItem', { TableName: table, Item: item(i) });
  const lat: number[] = [];
  let errors = 0;
  let seq = 500;
  const until = performance.now() + SECONDS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const r = Math.random();
      const t0 = performance.now();
      let res;
      if (r < 0.4) res = await call(port, 'PutItem', { TableName: table, Item: item(seq++) });
      else if (r < 0.8) {
        const i = Math.floor(Math.random() * seq);
        res = await call(port, 'GetItem', {
          TableName: table,
          Key: { pk: { S: `p${i % 20}` }, sk: { N: String(i) } },
        });
      } else
        res = await call(port, 'Query', {
          TableName: table,
          KeyConditionExpression: 'pk = :p AND sk > :s',
          ExpressionAttributeValues: { ':p': { S: `p${seq % 20}` }, ':s': { N: String(seq - 200) } },
          Limit: 10,
        });
      lat.push(performance.now() - t0);
      if (res.status !== 200) errors++;
    }
  };
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs(pid);
  return {
    name,
    ops: lat.length,
    opsPerSec: Math.round(lat.length / secs),
    p50: +pct(lat, 50).toFixed(2),
    p99: +pct(lat, 99).toFixed(2),
    cpuMsPerKop:
      cpu0 !== undefined && cpu1 !== undefined ? +(((cpu1 - cpu0) / lat.length) * 1000).toFixed(1) : NaN,
    errors,
  };
}

type Result = Awaited<ReturnType<typeof run>>;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function medianOf(name: string, rs: Result[]): Result {
  const m = (f: (r: Result) => number) => +median(rs.map(f)).toFixed(2);
  return {
    name: `${name}, median of ${rs.length}`,
    ops: m((r) => r.ops),
    opsPerSec: m((r) => r.opsPerSec),
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    cpuMsPerKop: m((r) => r.cpuMsPerKop),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exited;
}

async function nimbusRound(round: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-ddb-'));
  const nimbus = spawn(
    process.execPath,
    [
      ...(PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`] : []),
      join(ROOT, 'dist/src/cli/main.js'),
      'up',
      '--port',
      '4591',
      '--data-dir',
      dir,
      '--log-level',
      'error',
      '--warm-spares',
      '0',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await waitFor(4591);
    return await run(`nimbus (sqlite) #${round}`, 4591, nimbus.pid);
  } finally {
    await stop(nimbus);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function dynaliteRound(round: number): Promise<Result> {
  const dyn = spawn(
    process.execPath,
    ['-e', "require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }).listen(4592)"],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    await waitFor(4592);
    return await run(`dynalite (in-memory) #${round}`, 4592, dyn.pid);
  } finally {
    await stop(dyn);
  }
}

async function main() {
  const withPeer = existsSync(join(ROOT, 'node_modules/dynalite'));
  if (!withPeer) console.log('dynalite not installed (node_modules/dynalite): peer not measured');
  const nimbus: Result[] = [];
  const peer: Result[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      nimbus.push(await nimbusRound(round));
      if (withPeer) peer.push(await dynaliteRound(round));
    }
  } finally {
    agent.destroy();
  }
  const rows = [...nimbus, ...peer, medianOf('nimbus (sqlite)', nimbus)];
  if (peer.length) rows.push(medianOf('dynalite (in-memory)', peer));
  console.table(rows);
  if (peer.length) {
    const ratios = nimbus.map((r, i) => r.opsPerSec / peer[i].opsPerSec);
    console.log(
      `nimbus / dynalite throughput, per round: ${ratios.map((x) => x.toFixed(2) + 'x').join(' ')}; median ${median(ratios).toFixed(2)}x`,
    );
  }
}

await main();
