/**
 * Test and benchmark helper: N real `nimbus up --storage postgres://...` child processes on
 * loopback, sharing one throwaway PostgreSQL (src/storage/postgres/test-server.ts) through a
 * schema of their own. Each node has its own data dir (sandboxes, code cache, Unix socket).
 *
 *   const pg = await startTestPostgres();            // undefined: skip with POSTGRES_MISSING
 *   const c = await startTestCluster({ nodes: 2, postgres: pg });
 *   ... c.nodes[0].endpoint ... c.kill(1) ...
 *   await c.stop(); await pg.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { TestPostgres } from '../storage/postgres/test-server.js';

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface TestNode {
  index: number;
  id: string;
  endpoint: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** stdout + stderr so far (for failure messages). */
  output(): string;
}

export interface TestCluster {
  /** `postgres://...?search_path=<schema>`: what every node was started with. */
  storage: string;
  schema: string;
  nodes: TestNode[];
  /** Starts one more node on the same database. */
  addNode(): Promise<TestNode>;
  /** Sends a signal (default SIGKILL) and waits for the exit. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestClusterOptions {
  nodes: number;
  /** A running server (from startTestPostgres), or a URL of a database to use. */
  postgres: TestPostgres | string;
  /** Extra `nimbus up` arguments for every node. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Heartbeat interval of the nodes (default 500 ms, so liveness tests are quick). */
  heartbeatMs?: number;
  startTimeoutMs?: number;
}

let clusterNo = 0;

export async function startTestCluster(opts: TestClusterOptions): Promise<TestCluster> {
  const baseUrl = typeof opts.postgres === 'string' ? opts.postgres : opts.postgres.url;
  const schema = `tc_${process.pid}_${++clusterNo}`;
  const admin = postgres(baseUrl, { onnotice: () => {}, max: 1 });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  const sep = baseUrl.includes('?') ? '&' : '?';
  const storage = `${baseUrl}${sep}search_path=${schema}`;
  const nodes: TestNode[] = [];
  const dirs: string[] = [];

  const startNode = (index: number): Promise<TestNode> => {
    const dataDir = mkdtempSync(join(tmpdir(), `nimbus-node${index}-`));
    dirs.push(dataDir);
    const id = `node-${index}`;
    const child = spawn(
      process.execPath,
      [MAIN, 'up', '--port', '0', '--data-dir', dataDir, '--storage', storage, ...(opts.args ?? [])],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NIMBUS_NODE_ID: id,
          NIMBUS_HEARTBEAT_MS: String(opts.heartbeatMs ?? 500),
          NIMBUS_LOG_LEVEL: process.env.NIMBUS_TEST_DEBUG ? 'debug' : 'warn',
          ...opts.env,
        },
      },
    );
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
      if (process.env.NIMBUS_TEST_DEBUG) process.stderr.write(`[${id}] ${d}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${id} did not start in time:\n${out}`));
      }, opts.startTimeoutMs ?? 30_000);
      const check = () => {
        const m = /endpoint\s+(http:\/\/[\d.]+:(\d+))/.exec(out);
        if (!m) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.off('exit', early);
        resolve({ index, id, endpoint: m[1], port: Number(m[2]), dataDir, child, output: () => out });
      };
      const early = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(new Error(`${id} exited early (${code ?? signal}):\n${out}`));
      };
      child.stdout!.on('data', check);
      child.once('exit', early);
    });
  };

  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const kill = async (index: number, signal: NodeJS.Signals = 'SIGKILL') => {
    const { child } = nodes[index];
    if (exited(child)) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await done;
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.all(
        nodes.map(async (n) => {
          if (exited(n.child)) return;
          const t = setTimeout(() => n.child.kill('SIGKILL'), 15_000);
          await kill(n.index, 'SIGTERM');
          clearTimeout(t);
        }),
      );
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      try {
        await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end({ timeout: 1 });
      }
    })());

  try {
    // All at once: the migrations' advisory lock makes concurrent start-ups safe.
    const started = await Promise.allSettled(Array.from({ length: opts.nodes }, (_, i) => startNode(i)));
    for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    storage,
    schema,
    nodes,
    async addNode() {
      const n = await startNode(nodes.length);
      nodes.push(n);
      return n;
    },
    kill,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
