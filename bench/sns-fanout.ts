/**
 * npm run bench:sns-fanout — SNS -> SQS fan-out latency to 10 subscribers: from sending
 * Publish to the message being visible (returned by a waiting ReceiveMessage long poll) in
 * each of the 10 queues; p50/p99 of the slowest of the 10 and of every single delivery.
 * Peer measured in the same run: the client itself sending the message to the 10 queues
 * (10 parallel SendMessage calls), observed the same way.
 * Nimbus runs as its own process (`nimbus up`), through the real AWS SDK clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const WARMUP = 30;
const SUBSCRIBERS = 10;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

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
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-bench-sns-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const cli = new URL('../src/cli/main.js', import.meta.url).pathname;
  const nimbus: ChildProcess = spawn(
    process.execPath,
    [cli, 'up', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const cfg = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const sns = new SNSClient(cfg);
  const sqs = new SQSClient(cfg);
  let stop = false;
  try {
    await waitHealthy(endpoint);
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'fanout' }));
    const queues: { url: string; arn: string }[] = [];
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `sub-${i}` }));
      const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      queues.push({ url: QueueUrl as string, arn: a.Attributes?.QueueArn as string });
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: a.Attributes?.QueueArn }));
    }

    // Arrival bookkeeping: message key -> send time and arrivals.
    const pending = new Map<string, { t0: number; arrivals: number[]; done: () => void }>();
    const arrive = (key: string) => {
      const p = pending.get(key);
      if (!p) return;
      p.arrivals.push(performance.now() - p.t0);
      if (p.arrivals.length === SUBSCRIBERS) p.done();
    };
    // One long-polling consumer per queue (received messages stay in flight: no deletes to skew timing).
    const consumers = queues.map(async (q) => {
      while (!stop) {
        const r = await sqs
          .send(new ReceiveMessageCommand({ QueueUrl: q.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }))
          .catch(() => ({ Messages: [] }));
        for (const m of r.Messages ?? []) {
          const body = m.Body as string;
          arrive(body.startsWith('{') ? (JSON.parse(body).Message as string) : body);
        }
      }
    });

    const measure = async (label: string, send: (key: string) => Promise<void>): Promise<Run> => {
      const run: Run = { all: [], each: [] };
      for (let i = 0; i < WARMUP + N; i++) {
        const key = `${label}-${i}`;
        const finished = new Promise<number[]>((resolve) => {
          const entry = {
            t0: performance.now(),
            arrivals: [] as number[],
            done: () => resolve(entry.arrivals),
          };
          pending.set(key, entry);
        });
        await send(key);
        const arrivals = await finished;
        pending.delete(key);
        if (i >= WARMUP) {
          run.all.push(Math.max(...arrivals));
          run.each.push(...arrivals);
        }
      }
      return run;
    };

    const fanout = await measure('sns', async (key) => {
      await sns.send(new PublishCommand({ TopicArn, Message: key }));
    });
    const peer = await measure('direct', async (key) => {
      await Promise.all(
        queues.map((q) => sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: key }))),
      );
    });
    stop = true;
    await Promise.all(consumers);

    const fmt = (v: number) => Number(v.toFixed(2));
    const report = {
      subscribers: SUBSCRIBERS,
      messages: N,
      snsFanout: {
        allVisibleMs: { p50: fmt(pct(fanout.all, 50)), p99: fmt(pct(fanout.all, 99)) },
        eachDeliveryMs: { p50: fmt(pct(fanout.each, 50)), p99: fmt(pct(fanout.each, 99)) },
      },
      peerClientSends10: {
        allVisibleMs: { p50: fmt(pct(peer.all, 50)), p99: fmt(pct(peer.all, 99)) },
        eachDeliveryMs: { p50: fmt(pct(peer.each, 50)), p99: fmt(pct(peer.each, 99)) },
      },
      target: 'fan-out p99 < 10 ms',
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    stop = true;
    sns.destroy();
    sqs.destroy();
    nimbus.kill('SIGTERM');
    await new Promise((r) => nimbus.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
