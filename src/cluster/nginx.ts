/**
 * nginx in front of a Nimbus cluster: renders examples/cluster/nginx.conf.template for a set
 * of nodes and runs nginx as a foreground child on loopback (tests, the cluster benchmark).
 * nginx is not a dependency: `findNginx()` says whether it is installed (Debian: `nginx`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const NGINX_MISSING = 'nginx is not installed (Debian: apt-get install -y nginx)';

export function findNginx(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    try {
      accessSync(join(d, 'nginx'), constants.X_OK);
      return join(d, 'nginx');
    } catch {
      // next
    }
  }
  return undefined;
}

export function readNginxTemplate(): string {
  for (const rel of ['../../../examples/cluster/', '../../examples/cluster/']) {
    try {
      return readFileSync(new URL(rel + 'nginx.conf.template', import.meta.url), 'utf8');
    } catch {
      // try the other layout (dist/src/cluster or src/cluster)
    }
  }
  throw new Error('examples/cluster/nginx.conf.template not found');
}

export interface NginxRenderOptions {
  /** Directory for pid, logs and temp files. */
  prefix: string;
  /** What nginx listens on, e.g. `127.0.0.1:4566`. */
  listen: string;
  /** The nodes: `host:port` or `http://host:port`. */
  upstreams: string[];
  template?: string;
}

export function renderNginxConfig(opts: NginxRenderOptions): string {
  if (opts.upstreams.length === 0) throw new Error('at least one upstream node is needed');
  const servers = opts.upstreams
    .map((u) => u.replace(/^https?:\/\//, '').replace(/\/+$/, ''))
    .map((hp) => {
      if (!/^[\w.[\]:-]+:\d+$/.test(hp)) throw new Error(`not a host:port: ${hp}`);
      return `    server ${hp} max_fails=1 fail_timeout=5s;`;
    })
    .join('\n');
  const fill: Record<string, string> = { PREFIX: opts.prefix, LISTEN: opts.listen, UPSTREAMS: servers };
  return (opts.template ?? readNginxTemplate()).replace(/\{\{(\w+)\}\}/g, (m, k: string) => fill[k] ?? m);
}

export interface RunningNginx {
  endpoint: string;
  port: number;
  prefix: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Starts nginx in the foreground on 127.0.0.1:port in front of the nodes. */
export async function startNginx(opts: { upstreams: string[]; port: number }): Promise<RunningNginx> {
  const bin = findNginx();
  if (!bin) throw new Error(NGINX_MISSING);
  const prefix = mkdtempSync(join(tmpdir(), 'nimbus-nginx-'));
  // As root, nginx's workers run as nobody: they must traverse the prefix. nginx creates the
  // temp directories itself and gives them to the worker user.
  chmodSync(prefix, 0o755);
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    renderNginxConfig({ prefix, listen: `127.0.0.1:${opts.port}`, upstreams: opts.upstreams }),
  );
  const child = spawn(bin, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (!exited()) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT'); // graceful: finish in-flight requests
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(opts.port))) {
    if (exited() || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not start: ${err.trim() || 'timeout'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: `http://127.0.0.1:${opts.port}`, port: opts.port, prefix, child, stop };
}
