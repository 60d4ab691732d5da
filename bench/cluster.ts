/**
 * npm run bench:cluster — compute, DynamoDB and SQS throughput of one machine's Nimbus in three
 * shapes, same run:
 *   1. one node on SQLite
 *   2. one node on PostgreSQL (a throwaway PostgreSQL 15 on loopback)
 *   3. two nodes on PostgreSQL behind nginx (examples/cluster/nginx.conf.template); without
 *      nginx installed, two nodes with the client spreading requests itself (labelled so)
 * Each shape runs three workloads (a warm synchronous Invoke of a tiny handler; DynamoDB
 * UpdateItem ADD on 100 hot items; SQS send 10 + receive 10 + delete 10), keep-alive HTTP,
 * concurrency 16, for BENCH_SECONDS (default 5) after a warm-up: units/s, p50/p99, and the CPU seconds each
 * process group used (Nimbus nodes, their sandboxes, PostgreSQL, nginx), which names the
 * bottleneck.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import { startTestPostgres } from '../src/storage/postgres/test-server.js';
import { startTestCluster, type TestCluster } from '../src/cluster/test-cluster.js';
import { findNginx, startNginx, type RunningNginx } from '../src/cluster/nginx.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 16;
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0';

function call(
  endpoint: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: Number(u.port),
        method,
        path,
        agent,
        headers: { 'content-type': 'application/json', authorization: AUTH, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const zip = new AdmZip();
zip.addFile('index.mjs', Buffer.from('export const handler = async (e) => ({ ok: true, n: e.n ?? 0 });\n'));
const ZIP = zip.toBuffer().toString('base64');

async function createFunction(endpoint: string, name: string): Promise<void> {
  const res = await call(
    endpoint,
    'POST',
    '/2015-03-31/functions',
    JSON.stringify({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/bench',
      Handler: 'index.handler',
      Code: { ZipFile: ZIP },
    }),
  );
  if (res.status !== 201) throw new Error(`CreateFunction: ${res.status} ${res.body}`);
}

const invoke = (endpoint: string, name: string, n: number) =>
  call(endpoint, 'POST', `/2015-03-31/functions/${name}/invocations`, JSON.stringify({ n }));

/** An AWS JSON protocol call (DynamoDB, SQS). */
async function json(endpoint: string, target: string, body: unknown, version = '1.0'): Promise<any> {
  const r = await call(endpoint, 'POST', '/', JSON.stringify(body), {
    'content-type': `application/x-amz-json-${version}`,
    'x-amz-target': target,
  });
  if (r.status !== 200) throw new Error(`${target}: ${r.status} ${r.body}`);
  return JSON.parse(r.body || '{}');
}

/** One benchmark: set up on the first endpoint, then `op` (returns units done) against any. */
interface Workload {
  name: string;
  unit: string;
  setup(endpoint: string): Promise<void>;
  op(endpoint: string, n: number): Promise<number>;
}

function computeWorkload(): Workload {
  const fn = `bench-${Math.random().toString(36).slice(2, 8)}`;
  return {
    name: 'compute: warm synchronous Invoke',
    unit: 'invokes/s',
    setup: (endpoint) => createFunction(endpoint, fn),
    op: async (endpoint, n) => ((await invoke(endpoint, fn, n)).status === 200 ? 1 : 0),
  };
}

function dynamoWorkload(): Workload {
  const table = `bench-${Math.random().toString(36).slice(2, 8)}`;
  return {
    name: 'DynamoDB: UpdateItem ADD on 100 hot items',
    unit: 'writes/s',
    setup: async (endpoint) => {
      await json(endpoint, 'DynamoDB_20120810.CreateTable', {
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
    },
    op: async (endpoint, n) => {
      await json(endpoint, 'DynamoDB_20120810.UpdateItem', {
        TableName: table,
        Key: { pk: { S: `k${n % 100}` } },
        UpdateExpression: 'ADD c :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      });
      return 1;
    },
  };
}

function sqsWorkload(): Workload {
  const name = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const url = (endpoint: string) => `${endpoint}/000000000000/${name}`;
  return {
    name: 'SQS: SendMessageBatch 10 + ReceiveMessage 10 + DeleteMessageBatch',
    unit: 'msg/s',
    setup: async (endpoint) => {
      await json(endpoint, 'AmazonSQS.CreateQueue', { QueueName: name });
    },
    op: async (endpoint, n) => {
      const QueueUrl = url(endpoint);
      await json(endpoint, 'AmazonSQS.SendMessageBatch', {
        QueueUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `{"n":${n},"i":${i}}` })),
      });
      const got = await json(endpoint, 'AmazonSQS.ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 });
      const msgs = (got.Messages ?? []) as { ReceiptHandle: string }[];
      if (!msgs.length) return 0;
      const del = await json(endpoint, 'AmazonSQS.DeleteMessageBatch', {
        QueueUrl,
        Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
      });
      return (del.Successful as unknown[]).length;
    },
  };
}

const WORKLOADS = [computeWorkload, dynamoWorkload, sqsWorkload];

/** CPU seconds (user+sys) used so far by processes whose command line matches. */
function cpuByGroup(groups: Record<string, (cmd: string, pid: number) => boolean>): Record<string, number> {
  const tick = 100; // USER_HZ on Linux
  const out: Record<string, number> = Object.fromEntries(Object.keys(groups).map((g) => [g, 0]));
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const secs = (Number(f[11]) + Number(f[12])) / tick;
      for (const [g, match] of Object.entries(groups)) {
        if (match(cmd, Number(d))) {
          out[g] += secs;
          break;
        }
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

interface Result {
  shape: string;
  workload: string;
  unit: string;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: Record<string, number>;
}

async function measure(
  shape: string,
  endpoints: string[],
  groups: Record<string, (cmd: string, pid: number) => boolean>,
): Promise<Result[]> {
  const out: Result[] = [];
  for (const make of WORKLOADS) {
    const w = make();
    await w.setup(endpoints[0]);
    // Warm-up: every endpoint, enough concurrency to start the instances the run will use.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => w.op(endpoints[i % endpoints.length], i)),
      );
    }
    const latencies: number[] = [];
    let errors = 0;
    let units = 0;
    let i = 0;
    const cpu0 = cpuByGroup(groups);
    const t0 = performance.now();
    const until = t0 + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const n = i++;
          const s = performance.now();
          try {
            const done = await w.op(endpoints[n % endpoints.length], n);
            units += done;
          } catch {
            errors++;
          }
          latencies.push(performance.now() - s);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = cpuByGroup(groups);
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    out.push({
      shape,
      workload: w.name,
      unit: w.unit,
      perSecond: units / elapsed,
      p50: q(0.5),
      p99: q(0.99),
      errors,
      cpu: Object.fromEntries(Object.keys(groups).map((g) => [g, (cpu1[g] - cpu0[g]) / elapsed])),
    });
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startSqliteNode(): Promise<{ endpoint: string; child: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-sqlite-'));
  const child = spawn(process.execPath, [MAIN, 'up', '--port', '0', '--data-dir', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NIMBUS_LOG_LEVEL: 'warn', NIMBUS_NODE_ID: 'sqlite-node' },
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /endpoint\s+(http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`nimbus exited (${c})`)));
  });
  return { endpoint, child, dir };
}

const isNode = (pid: number, pids: Set<number>) => pids.has(pid);
const nimbusGroups = (pids: Set<number>) => ({
  nimbus: (_: string, pid: number) => isNode(pid, pids),
  sandboxes: (cmd: string) =>
    cmd.includes('bwrap') || cmd.includes('/runtimes/agent') || cmd.includes('agent.js'),
  postgres: (cmd: string) => cmd.startsWith('postgres'),
  nginx: (cmd: string) => cmd.startsWith('nginx'),
});

async function main(): Promise<void> {
  const results: Result[] = [];
  console.log(`bench:cluster — ${cpus().length} CPUs, concurrency ${CONCURRENCY}, ${SECONDS} s per shape\n`);

  const sqlite = await startSqliteNode();
  try {
    results.push(
      ...(await measure('1 node, SQLite', [sqlite.endpoint], nimbusGroups(new Set([sqlite.child.pid!])))),
    );
  } finally {
    sqlite.child.kill('SIGTERM');
    await new Promise((r) => sqlite.child.once('exit', r));
    rmSync(sqlite.dir, { recursive: true, force: true });
  }

  const pg = await startTestPostgres();
  if (!pg) {
    console.log('PostgreSQL 15 is not installed: the PostgreSQL shapes are skipped');
  } else {
    let cluster: TestCluster | undefined;
    let nginx: RunningNginx | undefined;
    try {
      cluster = await startTestCluster({ nodes: 1, postgres: pg, heartbeatMs: 2000 });
      results.push(
        ...(await measure(
          '1 node, PostgreSQL',
          [cluster.nodes[0].endpoint],
          nimbusGroups(new Set([cluster.nodes[0].child.pid!])),
        )),
      );
      await cluster.addNode();
      const pids = new Set(cluster.nodes.map((n) => n.child.pid!));
      if (findNginx()) {
        nginx = await startNginx({ upstreams: cluster.nodes.map((n) => n.endpoint), port: await freePort() });
        results.push(...(await measure('2 nodes, PostgreSQL, nginx', [nginx.endpoint], nimbusGroups(pids))));
      } else {
        console.log(
          'nginx is not installed: 2 nodes measured with the client spreading requests (no proxy hop)\n',
        );
        results.push(
          ...(await measure(
            '2 nodes, PostgreSQL, client-spread (no nginx)',
            cluster.nodes.map((n) => n.endpoint),
            nimbusGroups(pids),
          )),
        );
      }
    } finally {
      await nginx?.stop();
      await cluster?.stop();
      await pg.stop();
    }
  }

  const pad = (s: string, n: number) => s.padEnd(n);
  for (const workload of [...new Set(results.map((r) => r.workload))]) {
    const rows = results.filter((r) => r.workload === workload);
    console.log(`\n${workload}`);
    console.log(
      pad('shape', 48) +
        pad(rows[0].unit, 11) +
        pad('p50 ms', 9) +
        pad('p99 ms', 9) +
        'errors  CPU cores busy (nimbus / sandboxes / postgres / nginx)',
    );
    for (const r of rows) {
      const c = r.cpu;
      console.log(
        pad(r.shape, 48) +
          pad(r.perSecond.toFixed(0), 11) +
          pad(r.p50.toFixed(2), 9) +
          pad(r.p99.toFixed(2), 9) +
          pad(String(r.errors), 8) +
          [c.nimbus, c.sandboxes, c.postgres, c.nginx].map((x) => x.toFixed(2)).join(' / '),
      );
    }
    if (rows.length > 1) {
      const base = rows[0].perSecond;
      console.log(
        'relative to 1 node SQLite: ' +
          rows.map((r) => `${r.shape}: ${(r.perSecond / base).toFixed(2)}x`).join(', '),
      );
    }
  }
  agent.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
