/**
 * Sandbox benchmark: warm spare -> first result, warm invoke round trip, idle instance private
 * memory (smaps_rollup), and `node -e 0` spawn time measured in the same run for comparison.
 *   npm run build && node dist/bench/compute-sandbox.js [--isolation auto|none]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultConfig, type IsolationMode } from '../src/core/config.js';
import { SandboxInstanceManager } from '../src/compute/sandbox/manager.js';
import type { FunctionSpec } from '../src/compute/sandbox/types.js';

const isolation = (process.argv.includes('--isolation') ? process.argv[process.argv.indexOf('--isolation') + 1] : 'auto') as IsolationMode;
const COLD = 30;
const WARM = 3000;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

function privateKb(uid: number): number {
  let pids: string[] = [];
  try {
    pids = execFileSync('ps', ['-o', 'pid=', '-u', String(uid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  } catch {
    return 0;
  }
  let kb = 0;
  for (const pid of pids) {
    try {
      const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      for (const m of t.matchAll(/^Private_(?:Clean|Dirty):\s+(\d+) kB/gm)) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
  chmodSync(dir, 0o711);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const codeDir = join(dir, 'code');
  mkdirSync(codeDir, { mode: 0o755 });
  writeFileSync(join(codeDir, 'index.mjs'), 'export const handler = async (e) => ({ ok: true, n: e.n });', { mode: 0o644 });
  const config = { ...defaultConfig().compute, isolation, warmSpares: 1 };
  const manager = new SandboxInstanceManager({ config, dataDir, endpointPort: 4566 });
  const spec = (key: string): FunctionSpec => ({
    key, accountId: '000000000000', region: 'us-east-1', functionName: 'bench', functionVersion: '$LATEST',
    runtime: 'nodejs20.x', handler: 'index.handler', codeDir, memoryMb: 256, timeoutSec: 30, environment: {},
    egress: false, logGroup: '/aws/lambda/bench', architecture: 'x86_64',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
  });
  const input = (n: number) => ({
    requestId: `req-${n}`, payload: Buffer.from(JSON.stringify({ n })),
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench', deadline: Date.now() + 30_000,
  });
  const waitSpare = async () => {
    while (manager.stats().spares < 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100)); // let the spare settle (JIT, GC) as in steady state
  };

  const cold: number[] = [];
  for (let i = 0; i < COLD; i++) {
    await waitSpare();
    const t0 = performance.now();
    const r = await manager.invoke(spec(`cold-${i}`), input(i));
    cold.push(performance.now() - t0);
    if (r.status !== 'ok') throw new Error(r.payload.toString());
    manager.retire(`cold-${i}`);
  }

  const warm: number[] = [];
  const w = spec('warm');
  const first = await manager.invoke(w, input(0));
  for (let i = 0; i < WARM; i++) {
    const t0 = performance.now();
    await manager.invoke(w, input(i));
    warm.push(performance.now() - t0);
  }
  await new Promise((r) => setTimeout(r, 500));
  const uid = Number(execFileSync('stat', ['-c', '%u', join(dataDir, 'sandbox', 'staging', first.instanceId)], { encoding: 'utf8' }));
  const memKb = manager.capabilities.level === 'bubblewrap' ? privateKb(uid) : NaN;

  const spawnMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    spawnMs.push(performance.now() - t0);
  }
  await manager.close();
  rmSync(dir, { recursive: true, force: true });

  console.log(`isolation: ${manager.capabilities.level} (cgroups ${manager.capabilities.cgroups}), node ${process.version}`);
  console.log(`spare -> first result (${COLD}): p50 ${fmt(pct(cold, 50))}  p99 ${fmt(pct(cold, 99))}`);
  console.log(`warm invoke round trip (${WARM}): p50 ${fmt(pct(warm, 50))}  p99 ${fmt(pct(warm, 99))}`);
  console.log(`idle instance private memory (all processes of its uid): ${(memKb / 1024).toFixed(1)} MB`);
  console.log(`node -e 0 spawn (20): p50 ${fmt(pct(spawnMs, 50))}`);
}

await main();
