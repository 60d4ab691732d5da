/**
 * npm run bench:dynamodb — a mixed PutItem (40%) / GetItem (40%) / Query (20%) load at
 * concurrency 16 over keep-alive HTTP (raw JSON 1.0 requests, so the client costs little),
 * against Nimbus (`nimbus up`, SQLite) and, in the same run, against dynalite when
 * node_modules/dynalite exists. Both servers run as their own processes.
 * BENCH_SECONDS (default 5) per target.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
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

async function run(name: string, port: number) {
  const table = 'bench';
  const c = await call(port, 'CreateTable', {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    ProvisionedThroughput: { ReadCapacityUnits: 1000, WriteCapacityUnits: 1000 },
  });
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
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  return {
    name,
    ops: lat.length,
    opsPerSec: Math.round(lat.length / secs),
    p50: +pct(lat, 50).toFixed(2),
    p99: +pct(lat, 99).toFixed(2),
    errors,
  };
}

async function main() {
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-ddb-'));
  const results = [];
  try {
    const nimbus = spawn(
      process.execPath,
      [
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
    children.push(nimbus);
    await waitFor(4591);
    results.push(await run('nimbus (sqlite)', 4591));
    nimbus.kill('SIGTERM');
    if (existsSync(join(ROOT, 'node_modules/dynalite'))) {
      const dyn = spawn(
        process.execPath,
        ['-e', "require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }).listen(4592)"],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.push(dyn);
      await waitFor(4592);
      results.push(await run('dynalite (in-memory)', 4592));
    } else console.log('dynalite not installed (node_modules/dynalite): peer not measured');
    console.table(results);
    if (results.length === 2)
      console.log(
        `nimbus / dynalite throughput: ${(results[0].opsPerSec / results[1].opsPerSec).toFixed(2)}x`,
      );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
