/**
 * Without bubblewrap, `nimbus up --isolation strict` refuses to start, and the default `auto`
 * starts but says so loudly (a warning on stderr, `"isolation": {"level": "none"}` in health).
 * bubblewrap is made unavailable by starting Nimbus with an empty PATH.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function up(args: string[], dataDir: string) {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [CLI, 'up', '--port', String(port), '--data-dir', dataDir, ...args], {
    env: { PATH: '/nonexistent', HOME: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, port, exited, stderr: () => stderr };
}

test('--isolation strict refuses to start without bubblewrap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-iso-'));
  try {
    const n = up(['--isolation', 'strict'], dir);
    const code = await n.exited;
    assert.notEqual(code, 0);
    assert.match(n.stderr(), /isolation strict: sandboxing unavailable/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--isolation auto without bubblewrap runs unisolated and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-iso-'));
  const n = up([], dir);
  try {
    let health: { isolation?: { level: string; reason?: string } } | undefined;
    for (let i = 0; i < 100 && !health; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${n.port}/_nimbus/health`);
        if (res.ok) health = (await res.json()) as typeof health;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(health, `nimbus did not start: ${n.stderr()}`);
    assert.equal(health.isolation?.level, 'none');
    assert.match(health.isolation?.reason ?? '', /bubblewrap/);
    assert.match(n.stderr(), /isolation degraded/);
  } finally {
    n.child.kill('SIGTERM');
    await n.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
