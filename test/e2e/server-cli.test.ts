import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

test('`nimbus up` prints a banner, serves health, and exits 0 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-cli-'));
  const child = spawn(
    process.execPath,
    [MAIN, 'up', '--port', '0', '--data-dir', dir, '--log-level', 'error'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NIMBUS_AUTH: 'dev' },
    },
  );
  try {
    let out = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 15_000);
      child.stdout.on('data', (c) => {
        out += c;
        const m = /endpoint\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.match(out, /storage\s+sqlite/i);
    const health = await fetch(`${endpoint}/_nimbus/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`nimbus` rejects bad usage with exit code 2', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.on('exit', (code) => resolve({ code, err }));
    });
  const bad = await run(['up', '--auth', 'strict']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /needs keys/);
  assert.equal((await run(['nope'])).code, 2);
});
