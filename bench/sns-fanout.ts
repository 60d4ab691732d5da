/**
 * npm run bench:sns-fanout — SNS -> SQS fan-out latency to 10 subscribers.
 *
 * What is measured: one message at a time, the time from the publisher starting its Publish
 * request to the message being returned by a waiting ReceiveMessage long poll in each of the
 * 10 subscribed queues (the response fully read by the receiver); p50/p99 of the slowest of
 * the 10 ("all visible") and of every single delivery. Received messages stay in flight (no
 * deletes). Peer, measured in the same run with the same clients and interleaved with it message
 * by message after a shared warm-up: the publisher itself sending the message to the 10 queues
 * (10 parallel SendMessage calls), observed the same way.
 *
 * Clients (so the figure is the platform's, not the client's): Nimbus runs as its own process
 * (`nimbus up`); the 10 receivers run in a second process (lean AWS JSON 1.0 ReceiveMessage
 * over keep-alive node:http, one socket each), the publisher in this one (a lean Query
 * Publish, or lean JSON SendMessage calls for the peer). Times are taken on one clock shared by
 * both processes (performance.timeOrigin + performance.now(): wall-clock origin, monotonic
 * high-resolution offsets), at the publisher before writing the request and at the receiver
 * when the response has been read; the receiver process reports them over IPC after the fact,
 * so IPC is not in the figure.
 *
 * Reference line: the same loops with the real AWS SDK clients (@aws-sdk/client-sns and
 * client-sqs), publisher and 10 receivers in this one process (as the bench measured before):
 * that adds the SDK's signing and parsing (~0.5-1 ms per call) on the same 2 cores.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpuMs } from './proc.js';
import { Agent, request } from 'node:http';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SNSClient, CreateTopicCommand, SubscribeCommand, PublishCommand } from '@aws-sdk/client-sns';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';

const N = Number(process.env.BENCH_FANOUT_N ?? 300);
/** BENCH_FANOUT_SDK=0 skips the AWS SDK reference lines. */
const WITH_SDK = process.env.BENCH_FANOUT_SDK !== '0';
/** Messages per path before measuring (see measurePair). */
const WARMUP = 200;
const SUBSCRIBERS = 10;
const SELF = new URL(import.meta.url).pathname;

/** A clock comparable across processes on this machine (ms). */
const clock = () => performance.timeOrigin + performance.now();

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const auth = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`;

/** One lean request over a keep-alive agent; resolves to the response text (rejects on non-200). */
function post(
  agent: Agent,
  port: number,
  headers: Record<string, string>,
  data: string,
  what: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`${what}: ${res.statusCode} ${text}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

function sqsCall(agent: Agent, port: number, target: string, body: unknown): Promise<string> {
  return post(
    agent,
    port,
    {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${target}`,
      authorization: auth('sqs'),
    },
    JSON.stringify(body),
    target,
  );
}

function snsPublish(agent: Agent, port: number, topicArn: string, message: string): Promise<string> {
  const form = new URLSearchParams({
    Action: 'Publish',
    Version: '2010-03-31',
    TopicArn: topicArn,
    Message: message,
  }).toString();
  return post(
    agent,
    port,
    { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: auth('sns') },
    form,
    'Publish',
  );
}

/** The message key inside a received body (SNS envelope or a raw body). */
function keyOf(body: string): string {
  return body.startsWith('{') ? (JSON.parse(body) as { Message: string }).Message : body;
}

// ---- the receivers process ----

interface ReceiversStart {
  port: number;
  queueUrls: string[];
}

/** Child mode: 10 lean long-polling receivers; reports each key's 10 arrival times at once. */
function receivers(): void {
  const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 2 });
  const arrivals = new Map<string, number[]>();
  let stop = false;
  process.on('message', (m: ReceiversStart | 'stop') => {
    if (m === 'stop') {
      stop = true;
      return;
    }
    const loops = m.queueUrls.map(async (url) => {
      while (!stop) {
        let text: string;
        try {
          text = await sqsCall(agent, m.port, 'ReceiveMessage', {
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 2,
          });
        } catch {
          if (stop) break;
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        const at = clock();
        const got = JSON.parse(text) as { Messages?: { Body: string }[] };
        for (const msg of got.Messages ?? []) {
          const key = keyOf(msg.Body);
          let list = arrivals.get(key);
          if (!list) arrivals.set(key, (list = []));
          list.push(at);
          if (list.length === SUBSCRIBERS) {
            arrivals.delete(key);
            process.send!({ key, arrivals: list });
          }
        }
      }
    });
    process.send!('ready');
    void Promise.all(loops).then(() => {
      agent.destroy();
      process.disconnect();
    });
  });
}

// ---- the publisher (main) process ----

async function waitHealthy(endpoint: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${endpoint}/_nimbus/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('nimbus did not become healthy');
}

interface Run {
  all: number[];
  each: number[];
  /** The slowest of the 10 for each warm-up message (reported, not in the figures). */
  warmUp?: number[];
  /** Clock at the first measured message. */
  startedAt?: number;
  /** Nimbus's CPU time per measured message (ms). */
  serverCpuMs?: number;
}

type Sender = (key: string) => Promise<unknown>;

/** One message through `send`: resolves to the 10 delays from the start of the send (ms). */
async function once(
  key: string,
  send: Sender,
  arrived: (key: string) => Promise<number[]>,
): Promise<number[]> {
  const done = arrived(key);
  const t0 = clock();
  await send(key);
  return (await done).map((t) => t - t0);
}

/**
 * Sends WARMUP + N messages one at a time through each of two paths, interleaved message by
 * message (A B, then B A, ...), so both see the same machine and the same JIT state: V8 is
 * still optimising the hot paths during the first ~150 messages after start, which run at up
 * to twice the steady latency, and measuring one path after the other handed that cost to
 * whichever ran first. Nimbus's CPU time is read at every message boundary and each span is
 * charged to the path that ran in it (the clock-tick quantisation averages out over N).
 */
async function measurePair(
  labels: [string, string],
  sends: [Sender, Sender],
  arrived: (key: string) => Promise<number[]>,
  serverPid?: number,
): Promise<[Run, Run]> {
  const runs: [Run, Run] = [
    { all: [], each: [], warmUp: [] },
    { all: [], each: [], warmUp: [] },
  ];
  const cpu = [0, 0];
  let cpuAt = cpuMs(serverPid);
  for (let i = 0; i < WARMUP + N; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order) {
      const run = runs[side];
      if (i === WARMUP) run.startedAt ??= clock();
      const arrivals = await once(`${labels[side]}-${i}`, sends[side], arrived);
      const now = cpuMs(serverPid);
      if (i >= WARMUP) {
        run.all.push(Math.max(...arrivals));
        run.each.push(...arrivals);
        if (now !== undefined && cpuAt !== undefined) cpu[side] += now - cpuAt;
      } else run.warmUp!.push(Math.max(...arrivals));
      cpuAt = now;
    }
  }
  if (cpuAt !== undefined) runs.forEach((r, side) => (r.serverCpuMs = cpu[side] / N));
  return runs;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-sns-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const nodeArgs = process.env.BENCH_NIMBUS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const nimbus: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, cli, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NIMBUS_AUTH: 'dev' } },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const cfg = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sns = new SNSClient(cfg);
  const sqs = new SQSClient(cfg);
  const agent = new Agent({ keepAlive: true, maxSockets: SUBSCRIBERS + 2 });
  let child: ChildProcess | undefined;
  let stopSdk = false;
  try {
    await waitHealthy(endpoint);
    // Two topics, each with its own 10 queues: one for the lean clients, one for the SDK's.
    const setup = async (name: string) => {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
      const urls: string[] = [];
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${i}` }));
        const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
        urls.push(QueueUrl as string);
        await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: a.Attributes?.QueueArn }));
      }
      return { topicArn: TopicArn as string, urls };
    };
    const lean = await setup('fanout');
    const viaSdk = await setup('fanout-sdk');

    // Lean: receivers in their own process.
    const waiting = new Map<string, (arrivals: number[]) => void>();
    child = fork(SELF, ['receivers'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = new Promise<void>((resolve) => {
      child!.on('message', (m: 'ready' | { key: string; arrivals: number[] }) => {
        if (m === 'ready') return resolve();
        waiting.get(m.key)?.(m.arrivals);
        waiting.delete(m.key);
      });
    });
    child.send({ port, queueUrls: lean.urls } satisfies ReceiversStart);
    await ready;
    const leanArrived = (key: string) => new Promise<number[]>((r) => waiting.set(key, r));
    const [fanout, peer] = await measurePair(
      ['sns', 'direct'],
      [
        (key) => snsPublish(agent, port, lean.topicArn, key),
        (key) =>
          Promise.all(
            lean.urls.map((u) => sqsCall(agent, port, 'SendMessage', { QueueUrl: u, MessageBody: key })),
          ),
      ],
      leanArrived,
      nimbus.pid,
    );
    child.send('stop');

    // Reference: the AWS SDK clients, publisher and receivers in this process.
    const sdkPending = new Map<string, { arrivals: number[]; done: (a: number[]) => void }>();
    const sdkArrived = (key: string) =>
      new Promise<number[]>((done) => sdkPending.set(key, { arrivals: [], done }));
    if (!WITH_SDK) stopSdk = true;
    const consumers = viaSdk.urls.map(async (url) => {
      while (!stopSdk) {
        const r = await sqs
          .send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }))
          .catch(() => ({ Messages: [] }));
        const at = clock();
        for (const m of r.Messages ?? []) {
          const key = keyOf(m.Body as string);
          const p = sdkPending.get(key);
          if (!p) continue;
          p.arrivals.push(at);
          if (p.arrivals.length === SUBSCRIBERS) {
            sdkPending.delete(key);
            p.done(p.arrivals);
          }
        }
      }
    });
    const [sdkFanout, sdkPeer] = !WITH_SDK
      ? [undefined, undefined]
      : await measurePair(
          ['sdk-sns', 'sdk-direct'],
          [
            (key) => sns.send(new PublishCommand({ TopicArn: viaSdk.topicArn, Message: key })),
            (key) =>
              Promise.all(
                viaSdk.urls.map((u) => sqs.send(new SendMessageCommand({ QueueUrl: u, MessageBody: key }))),
              ),
          ],
          sdkArrived,
          nimbus.pid,
        );
    stopSdk = true;
    await Promise.all(consumers);

    if (process.env.BENCH_FANOUT_DUMP) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(process.env.BENCH_FANOUT_DUMP, JSON.stringify({ fanout, peer }));
    }
    const fmt = (v: number) => Number(v.toFixed(2));
    const line = (r: Run) => ({
      allVisibleMs: { p50: fmt(pct(r.all, 50)), p99: fmt(pct(r.all, 99)) },
      eachDeliveryMs: { p50: fmt(pct(r.each, 50)), p99: fmt(pct(r.each, 99)) },
      ...(r.serverCpuMs !== undefined ? { nimbusCpuMsPerMessage: fmt(r.serverCpuMs) } : {}),
      ...(r.warmUp?.length
        ? {
            firstMessagesAfterStartMs: {
              count: r.warmUp.length,
              p50: fmt(pct(r.warmUp, 50)),
              p99: fmt(pct(r.warmUp, 99)),
            },
          }
        : {}),
    });
    const report = {
      machine: `${cpus().length} CPUs, Node ${process.version}, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      subscribers: SUBSCRIBERS,
      messages: N,
      snsFanout: line(fanout),
      peerClientSends10: line(peer),
      reference_awsSdkClientsInOneProcess:
        sdkFanout && sdkPeer ? { snsFanout: line(sdkFanout), peerClientSends10: line(sdkPeer) } : 'skipped',
      target: 'fan-out p99 < 10 ms (lean clients)',
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    stopSdk = true;
    if (child && child.exitCode === null && child.connected) child.send('stop');
    sns.destroy();
    sqs.destroy();
    agent.destroy();
    nimbus.kill('SIGTERM');
    await new Promise((r) => nimbus.once('exit', r));
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      setTimeout(() => child!.kill('SIGTERM'), 3000).unref();
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'receivers') {
  receivers();
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
