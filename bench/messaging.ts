/**
 * npm run bench:messaging — the messaging layer's figures, each beside a baseline measured in
 * the same run (machines here are noisy: quote ratios and medians).
 *
 * SQS: end-to-end messages/s of a loop of SendMessageBatch (10) + ReceiveMessage (10) +
 * DeleteMessageBatch at concurrency 16 against `nimbus up` in its own process, as a user runs
 * it; once with a lean keep-alive HTTP client speaking AWS JSON 1.0 (what the server costs),
 * once with the real @aws-sdk/client-sqs (what an application sees: the SDK's own CPU runs on
 * the same 2 cores). Baselines: the same loop on the raw Store job queue in-process (SQLite,
 * no HTTP), and a bare node:http echo server with the same 3 round trips per 10 messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpuMs } from './proc.js';
import { createServer, Agent, request } from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  SQSClient,
  CreateQueueCommand,
  SendMessageBatchCommand,
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { openStore } from '../src/storage/index.js';
import { startNimbus as startInProcess } from '../src/server/app.js';
import { defaultConfig } from '../src/core/config.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/logger.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 16;
const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(port: number, target: string, body: unknown): Promise<any> {
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
          'x-amz-target': `AmazonSQS.${target}`,
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${target}: ${res.statusCode} ${text}`));
          else resolve(JSON.parse(text || '{}'));
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Runs `round` on CONCURRENCY workers for SECONDS; each round returns messages completed.
 * With `server`, also reports that process's CPU time per message (less noisy than msg/s on
 * a shared machine).
 */
async function throughput(
  round: (worker: number) => Promise<number>,
  server?: { pid?: number; cpuUsPerMessage?: number },
): Promise<number> {
  let done = 0;
  const cpu0 = cpuMs(server?.pid);
  const deadline = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < deadline) {
        // Not `done += await round(w)`: that reads `done` before the await, and the workers'
        // increments overwrite each other (it undercounted by about the concurrency).
        const n = await round(w);
        done += n;
      }
    }),
  );
  const cpu1 = cpuMs(server?.pid);
  if (server && cpu0 !== undefined && cpu1 !== undefined && done > 0)
    server.cpuUsPerMessage = ((cpu1 - cpu0) * 1000) / done;
  return done / ((performance.now() - t0) / 1000);
}

function startNimbus(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      // BENCH_NIMBUS_NODE_ARGS: node flags for the server (e.g. --cpu-prof --cpu-prof-dir=DIR).
      ...(process.env.BENCH_NIMBUS_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      MAIN,
      'up',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--log-level',
      'error',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NIMBUS_AUTH: 'dev' },
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /endpoint\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`nimbus up exited (${code}): ${out}`)));
  });
}

const body = (i: number) => `{"order":${i},"item":"bench","padding":"${'x'.repeat(64)}"}`;

async function sqsLean(
  port: number,
  queueUrl: string,
  server?: { pid?: number; cpuUsPerMessage?: number },
): Promise<number> {
  let n = 0;
  return throughput(async () => {
    await post(port, 'SendMessageBatch', {
      QueueUrl: queueUrl,
      Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body(n++) })),
    });
    const got = await post(port, 'ReceiveMessage', { QueueUrl: queueUrl, MaxNumberOfMessages: 10 });
    const msgs = (got.Messages ?? []) as { ReceiptHandle: string }[];
    if (msgs.length === 0) return 0;
    const del = await post(port, 'DeleteMessageBatch', {
      QueueUrl: queueUrl,
      Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
    });
    return (del.Successful as unknown[]).length;
  }, server);
}

async function sqsSdk(
  port: number,
  queueUrl: string,
  server?: { pid?: number; cpuUsPerMessage?: number },
): Promise<number> {
  const sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) }),
  });
  let n = 0;
  try {
    return await throughput(async () => {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body(n++) })),
        }),
      );
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      if (!got.Messages?.length) return 0;
      const del = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: got.Messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      return del.Successful?.length ?? 0;
    }, server);
  } finally {
    sqs.destroy();
  }
}

async function rawJobQueue(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-jobs-'));
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, systemClock, silentLogger);
  let n = 0;
  try {
    return await throughput(async () => {
      await store.transaction(async (tx) => {
        for (let i = 0; i < 10; i++) await tx.enqueue('bench', { body: body(n++) });
      });
      const jobs = await store.jobs.claim('bench', { limit: 10, leaseMs: 30_000 });
      for (const j of jobs) await store.jobs.ack(j);
      return jobs.length;
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function httpEcho(): Promise<number> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await throughput(async () => {
      await post(port, 'SendMessageBatch', {
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body(i) })),
      });
      await post(port, 'ReceiveMessage', {});
      await post(port, 'DeleteMessageBatch', {});
      return 10;
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

async function main(): Promise<void> {
  const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')} msg/s`;
  console.log(
    `# messaging bench — ${cpus().length} CPUs, Node ${process.version}, ${SECONDS} s per figure, concurrency ${CONCURRENCY}`,
  );
  console.log(
    `# load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (compare figures only on a quiet machine)`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-msg-'));
  let child: ChildProcess | undefined;
  try {
    const n = await startNimbus(dir);
    child = n.child;
    const q = await post(n.port, 'CreateQueue', { QueueName: 'bench' });
    const cpu = (s: { cpuUsPerMessage?: number }) =>
      s.cpuUsPerMessage === undefined ? '' : ` (Nimbus CPU ${Math.round(s.cpuUsPerMessage)} µs/msg)`;
    const leanCpu: { pid?: number; cpuUsPerMessage?: number } = { pid: child.pid };
    const lean = await sqsLean(n.port, q.QueueUrl as string, leanCpu);
    console.log(`sqs send10+recv10+delete10, lean HTTP client : ${fmt(lean)}${cpu(leanCpu)}`);
    if (process.env.BENCH_MESSAGING_ONLY === 'lean') return;
    const sdkCpu: { pid?: number; cpuUsPerMessage?: number } = { pid: child.pid };
    const sdk = await sqsSdk(n.port, q.QueueUrl as string, sdkCpu);
    console.log(`sqs send10+recv10+delete10, @aws-sdk/client-sqs: ${fmt(sdk)}${cpu(sdkCpu)}`);
    const sdkClient = new SQSClient({
      endpoint: `http://127.0.0.1:${n.port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await sdkClient.send(new CreateQueueCommand({ QueueName: 'bench' }));
    sdkClient.destroy();
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  // The same loop with Nimbus in this process: comparable with the in-process echo baseline.
  const dir2 = mkdtempSync(join(tmpdir(), 'nimbus-bench-msg-inproc-'));
  const inproc = await startInProcess(defaultConfig({ port: 0, dataDir: dir2, logLevel: 'error' }), {
    logger: silentLogger,
  });
  try {
    const q = await post(inproc.port, 'CreateQueue', { QueueName: 'bench' });
    const same = await sqsLean(inproc.port, q.QueueUrl as string);
    console.log(`sqs send10+recv10+delete10, lean client, Nimbus in the same process: ${fmt(same)}`);
  } finally {
    await inproc.close();
    rmSync(dir2, { recursive: true, force: true });
  }
  const jobs = await rawJobQueue();
  console.log(
    `baseline: raw Store job queue (SQLite, in-process, enqueue10 tx + claim10 + ack): ${fmt(jobs)}`,
  );
  const echo = await httpEcho();
  console.log(`baseline: bare node:http echo, same 3 round trips per 10 messages: ${fmt(echo)}`);
  agent.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
