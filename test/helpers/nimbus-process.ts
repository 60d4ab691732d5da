/**
 * `nimbus up` as a child process on a free port and the given data dir, for tests that kill it
 * (-9) and start it again: resolves with the child and its endpoint once the banner is printed.
 * Set NIMBUS_TEST_DEBUG=1 to see its logs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `nimbus` CLI entry point (dist/src/cli/main.js). */
export const NIMBUS_CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function startNimbusProcess(dataDir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(
    process.execPath,
    [NIMBUS_CLI, 'up', '--port', '0', '--data-dir', dataDir, '--log-level', 'error'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NIMBUS_AUTH: 'dev' },
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /endpoint\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, endpoint: m[1] });
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      if (process.env.NIMBUS_TEST_DEBUG) process.stderr.write(c);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nimbus up exited early (${code}): ${out}`));
    });
  });
}

/**
 * What a kill -9 test keeps: a data dir, the `nimbus up` processes and the SDK clients it
 * starts. After the test the clients are destroyed, live processes killed and the dir removed.
 */
export function killTestScaffold(
  t: { after(fn: () => void | Promise<void>): void },
  prefix: string,
): { dir: string; children: ChildProcess[]; clients: { destroy(): void }[] } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];
  const clients: { destroy(): void }[] = [];
  t.after(() => {
    for (const c of clients) c.destroy();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, children, clients };
}
