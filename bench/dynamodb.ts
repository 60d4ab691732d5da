/**
 * npm run bench:dynamodb — a mixed PutItem (40%) / GetItem (40%) / Query (20%) load at
 * concurrency 16 over keep-alive HTTP (raw JSON 1.0 requests, so the client costs little),
 * against Nimbus (`nimbus up`, SQLite) and, in the same run, against dynalite when
 * node_modules/dynalite exists. Both servers run as their own processes; the load generator
 * (this process) is the same for both: since session 5 a lean HTTP/1.1 client, 16 keep-alive
 * connections over node:net, each request written in one piece and each response read by its
 * Content-Length (~40 µs of CPU per operation against ~80 for node:http, which made the load
 * generator queue the answers on a 2-core machine); BENCH_CLIENT=http: the node:http client of
 * earlier sessions. Set-up calls (CreateTable, the 500 preloaded items) go through node:http.
 * Before the measured window each round runs the same mix unmeasured for BENCH_WARMUP_SECONDS
 * (default 2; 0: none, as before session 5) on both servers: a freshly started server runs
 * its first ~1.5 s at a third of its steady speed (JIT tiering), and those requests made most
 * of the p99 (a 5 s window: 366 of the 391 requests over p99 came in its first second).
 * BENCH_SECONDS (default 5) per target and round; BENCH_ROUNDS (default 3) rounds, each a fresh
 * server of each kind, Nimbus then dynalite; the table prints every round and the medians.
 * cpuMsPerKop: the server process's CPU time (user + system, from /proc) per 1,000 operations
 * during the measured window, a figure less sensitive to other load on the machine than ops/s;
 * clientCpuMsPerKop: the same for the load generator (this process).
 * Each round also measures the HTTP floor (FLOOR below: node:http answering canned bodies of
 * the real sizes, no storage; BENCH_FLOOR=0 skips it): the ceiling of any HTTP + JSON server for
 * this workload with this client on this machine.
 * BENCH_CPU_PROF=DIR: the Nimbus server writes a V8 CPU profile into DIR.
 * BENCH_NIMBUS_NODE_ARGS: extra Node.js flags for the Nimbus server (e.g. `--trace-gc`; its
 * stdout then goes to this process's stderr). BENCH_PEER=0: Nimbus alone (diagnostic runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpuMs } from './proc.js';
import { BENCH_TABLE } from './dynamodb-table.js';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROF_DIR = process.env.BENCH_CPU_PROF;
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CLIENT = process.env.BENCH_CLIENT ?? 'raw';
const NIMBUS_NODE_ARGS = (process.env.BENCH_NIMBUS_NODE_ARGS ?? '').split(' ').filter(Boolean);
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

const AUTH_HEADERS =
  'Authorization: AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\n' +
  'X-Amz-Date: 20260101T000000Z\r\n';

/**
 * The lean load generator: one keep-alive HTTP/1.1 connection with one request at a time, the
 * request written in one piece, the response read by its Content-Length (both servers send one).
 */
class LeanConnection {
  private buf: Buffer | undefined;
  private waiting:
    { resolve: (r: { status: number; text: string }) => void; reject: (e: Error) => void } | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
      this.parse();
    });
    const fail = (e: Error) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(port: number): Promise<LeanConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new LeanConnection(socket, port));
      });
      socket.once('error', reject);
    });
  }

  call(op: string, body: unknown): Promise<{ status: number; text: string }> {
    const data = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(
        `POST / HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nContent-Type: application/x-amz-json-1.0\r\n` +
          `X-Amz-Target: DynamoDB_20120810.${op}\r\nContent-Length: ${Buffer.byteLength(data)}\r\n${AUTH_HEADERS}\r\n${data}`,
      );
    });
  }

  private parse(): void {
    const buf = this.buf!;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!m) throw new Error(`response without Content-Length: ${head}`);
    const total = end + 4 + Number(m[1]);
    if (buf.length < total) return;
    if (buf.length > total) throw new Error('unexpected bytes after the response');
    this.buf = undefined;
    const w = this.waiting!;
    this.waiting = undefined;
    w.resolve({ status: Number(head.slice(9, 12)), text: buf.toString('utf8', end + 4, total) });
  }

  close(): void {
    this.socket.destroy();
  }
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
  let seq = 500;
  // One request of the mix on connection `conn` (the lean client) or through node:http.
  const send = (conn: LeanConnection | undefined, op: string, body: unknown) =>
    conn ? conn.call(op, body) : call(port, op, body);
  const oneOp = (conn: LeanConnection | undefined, r: number) => {
    if (r < 0.4) return send(conn, 'PutItem', { TableName: table, Item: item(seq++) });
    if (r < 0.8) {
      const i = Math.floor(Math.random() * seq);
      return send(conn, 'GetItem', {
        TableName: table,
        Key: { pk: { S: `p${i % 20}` }, sk: { N: String(i) } },
      });
    }
    return send(conn, 'Query', {
      TableName: table,
      KeyConditionExpression: 'pk = :p AND sk > :s',
      ExpressionAttributeValues: { ':p': { S: `p${seq % 20}` }, ':s': { N: String(seq - 200) } },
      Limit: 10,
    });
  };
  const conns: (LeanConnection | undefined)[] = [];
  for (let i = 0; i < CONCURRENCY; i++)
    conns.push(CLIENT === 'raw' ? await LeanConnection.open(port) : undefined);
  let lat: number[] = [];
  let errors = 0;
  let until = 0;
  const worker = async (conn: LeanConnection | undefined) => {
    while (performance.now() < until) {
      const r = Math.random();
      const t0 = performance.now();
      const res = await oneOp(conn, r);
      lat.push(performance.now() - t0);
      if (res.status !== 200) errors++;
    }
  };
  // Warm-up: the same mix, not measured (a fresh server's JIT needs ~1.5 s to reach full speed).
  if (WARMUP_SECONDS > 0) {
    until = performance.now() + WARMUP_SECONDS * 1000;
    await Promise.all(conns.map(worker));
    lat = [];
    errors = 0;
  }
  until = performance.now() + SECONDS * 1000;
  const cpu0 = cpuMs(pid);
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(conns.map(worker));
  for (const c of conns) c?.close();
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs(pid);
  const client = process.cpuUsage(client0);
  return {
    name,
    ops: lat.length,
    opsPerSec: Math.round(lat.length / secs),
    p50: +pct(lat, 50).toFixed(2),
    p99: +pct(lat, 99).toFixed(2),
    cpuMsPerKop:
      cpu0 !== undefined && cpu1 !== undefined ? +(((cpu1 - cpu0) / lat.length) * 1000).toFixed(1) : NaN,
    clientCpuMsPerKop: +((client.user + client.system) / lat.length).toFixed(1),
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
    clientCpuMsPerKop: m((r) => r.clientCpuMsPerKop),
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
      ...NIMBUS_NODE_ARGS,
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
    { stdio: ['ignore', NIMBUS_NODE_ARGS.length ? 2 : 'ignore', 'inherit'] },
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

/**
 * The HTTP floor: node:http reading and JSON-parsing each request and answering canned bodies
 * of the real sizes (one bench item for GetItem, nine for Query, `{}` for PutItem, an ACTIVE
 * table for the set-up calls) with no storage or DynamoDB logic: the most any HTTP + JSON
 * implementation of this workload could reach with this client on this machine.
 */
const FLOOR = `const item = { pk: { S: 'p1' }, sk: { N: '1' }, payload: { S: 'x'.repeat(200) }, n: { N: '3' } };
const get = JSON.stringify({ Item: item });
const query = JSON.stringify({ Items: Array(9).fill(item), Count: 9, ScannedCount: 9 });
const other = JSON.stringify({ Table: { TableStatus: 'ACTIVE' }, TableNames: [] });
require('node:http').createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    const t = String(req.headers['x-amz-target'] || '');
    const body = t.endsWith('.GetItem') ? get : t.endsWith('.Query') ? query : t.endsWith('.PutItem') ? '{}' : other;
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': 'floor' });
    res.end(body);
  });
}).listen(4593, '127.0.0.1');`;

async function floorRound(round: number): Promise<Result> {
  const floor = spawn(process.execPath, ['-e', FLOOR], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitFor(4593);
    return await run(`http floor (no storage) #${round}`, 4593, floor.pid);
  } finally {
    await stop(floor);
  }
}

async function main() {
  const withPeer = process.env.BENCH_PEER !== '0' && existsSync(join(ROOT, 'node_modules/dynalite'));
  if (!withPeer && process.env.BENCH_PEER !== '0')
    console.log('dynalite not installed (node_modules/dynalite): peer not measured');
  const withFloor = process.env.BENCH_FLOOR !== '0';
  const nimbus: Result[] = [];
  const peer: Result[] = [];
  const floor: Result[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      nimbus.push(await nimbusRound(round));
      if (withPeer) peer.push(await dynaliteRound(round));
      if (withFloor) floor.push(await floorRound(round));
    }
  } finally {
    agent.destroy();
  }
  const rows = [...nimbus, ...peer, ...floor, medianOf('nimbus (sqlite)', nimbus)];
  if (peer.length) rows.push(medianOf('dynalite (in-memory)', peer));
  if (floor.length) rows.push(medianOf('http floor (no storage)', floor));
  console.table(rows);
  const perRound = (label: string, a: Result[], b: Result[]) => {
    const ratios = a.map((r, i) => r.opsPerSec / b[i].opsPerSec);
    console.log(
      `${label} throughput, per round: ${ratios.map((x) => x.toFixed(2) + 'x').join(' ')}; median ${median(ratios).toFixed(2)}x`,
    );
  };
  if (peer.length) perRound('nimbus / dynalite', nimbus, peer);
  if (peer.length && floor.length) perRound('http floor / dynalite', floor, peer);
  if (floor.length) perRound('nimbus / http floor', nimbus, floor);
}

await main();
