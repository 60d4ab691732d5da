/**
 * One sandbox: the runtime agent in bubblewrap (or a plain child process), its cgroup, its
 * staging dir (/var/task), the IPC channel and the output pipe. Knows nothing about pooling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import type { AgentMessage, HostMessage } from '../runtimes/protocol.js';
import { DONE_MARKER } from '../runtimes/protocol.js';
import type { CgroupLayout } from './cgroups.js';
import { InstanceCgroup } from './cgroups.js';
import type { LogLine } from './types.js';

export interface InstanceOptions {
  id: string;
  uid: number;
  isolation: 'bubblewrap' | 'none';
  cgroupLayout?: CgroupLayout;
  pidsMax: number;
  /** Host dir bound at /var/task. */
  stagingDir: string;
  /** Host dir bound read-only at /opt: the function's layers are staged into it. */
  optStagingDir?: string;
  /** Host dir bound at /etc (generated passwd, group, hosts, ...). */
  etcDir: string;
  /** Host dir with the compiled agent (bound at /var/runtime). */
  runtimeDir: string;
  nodeModulesDir?: string;
  /** Python install prefix to bind when outside /usr. */
  pythonPrefix?: string;
  /** Unix socket of the platform's AWS endpoint (bound inside, forwarded to 127.0.0.1:endpointPort). */
  awsSocket?: string;
  endpointPort: number;
  egress: boolean;
  tmpSizeMb: number;
  clock: Clock;
}

/** Receives a streamed response's chunks as they arrive; `contentType` comes with the first. */
export type ChunkSink = (chunk: Buffer, contentType?: string) => void;

export interface RunResult {
  ok: boolean;
  payload: string;
  /** A streamified handler's content type; its body went through `chunk` messages. */
  stream?: { contentType: string };
  /** The streamed body, gathered when no sink asked for the chunks. */
  body?: Buffer;
}

interface Collector {
  id: string;
  logs: LogLine[];
  result?: RunResult;
  flushed: boolean;
  /** Where chunks go; undefined: they are gathered into `chunks` (buffered callers). */
  onChunk: ChunkSink | undefined;
  chunks: Buffer[] | undefined;
  done: (outcome: 'complete' | 'exit') => void;
}

export const ETC_FILES = ['passwd', 'group', 'hosts', 'nsswitch.conf', 'resolv.conf'];
export const SANDBOX_TASK_ROOT = '/var/task';
export const SANDBOX_RUNTIME_DIR = '/var/runtime';
export const SANDBOX_OPT_DIR = '/opt';
const SANDBOX_SOCKET = '/run/nimbus/aws.sock';
const SANDBOX_PATH = '/usr/local/bin:/usr/bin/:/bin:/opt/bin';

export class SandboxInstance {
  readonly id: string;
  readonly uid: number;
  readonly cgroup?: InstanceCgroup;
  private child?: ChildProcess;
  private buf = '';
  private collector?: Collector;
  private startedWaiter?: (ok: boolean) => void;
  private readyWaiter?: (m: AgentMessage) => void;
  exited = false;
  /**
   * Output while no init or invocation runs, the last 256 lines. Between invocations (a custom
   * runtime still writing after it posted its response, a timer of the handler's) the next
   * invocation's logs begin with it, as it comes before that invocation's lines in the
   * instance's log stream on Lambda; before init, its last lines explain a failed start.
   */
  private between: LogLine[] = [];
  exitDescription = '';
  onExit?: () => void;
  /** Peak RSS seen without cgroups (bytes). */
  private peakRss = 0;

  constructor(readonly opts: InstanceOptions) {
    this.id = opts.id;
    this.uid = opts.uid;
    if (opts.cgroupLayout) this.cgroup = new InstanceCgroup(opts.cgroupLayout, opts.id, opts.pidsMax);
  }

  get taskRoot(): string {
    return this.opts.isolation === 'bubblewrap' ? SANDBOX_TASK_ROOT : this.opts.stagingDir;
  }

  get runtimeDir(): string {
    return this.opts.isolation === 'bubblewrap' ? SANDBOX_RUNTIME_DIR : this.opts.runtimeDir;
  }

  /** Where the layers are seen: /opt in a sandbox, the host staging dir without isolation. */
  get optDir(): string | undefined {
    if (!this.opts.optStagingDir) return undefined;
    return this.opts.isolation === 'bubblewrap' ? SANDBOX_OPT_DIR : this.opts.optStagingDir;
  }

  get nodePath(): string {
    if (this.opts.isolation === 'bubblewrap') return `${SANDBOX_RUNTIME_DIR}/node_modules`;
    return this.opts.nodeModulesDir ?? '';
  }

  /** Whether the sandbox shares the host's network (egress) or has only its own loopback. */
  get egress(): boolean {
    return this.opts.egress;
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  private bwrapArgs(): string[] {
    const o = this.opts;
    const a = ['--unshare-all'];
    if (o.egress) a.push('--share-net');
    a.push('--die-with-parent', '--new-session', '--ro-bind', '/usr', '/usr');
    for (const [l, t] of [
      ['/bin', 'usr/bin'],
      ['/lib', 'usr/lib'],
      ['/lib64', 'usr/lib64'],
      ['/sbin', 'usr/sbin'],
    ]) {
      a.push('--symlink', t, l);
    }
    // A generated minimal /etc (not the host's): files bound one by one so certs can join them.
    for (const f of ETC_FILES) a.push('--ro-bind', join(o.etcDir, f), `/etc/${f}`);
    for (const d of ['/etc/ssl', '/etc/ca-certificates', '/etc/alternatives']) {
      a.push('--ro-bind-try', d, d);
    }
    a.push('--proc', '/proc', '--dev', '/dev');
    a.push('--size', String(o.tmpSizeMb * 1024 * 1024), '--tmpfs', '/tmp');
    a.push('--tmpfs', '/var', '--ro-bind', o.stagingDir, SANDBOX_TASK_ROOT);
    a.push('--ro-bind', o.runtimeDir, SANDBOX_RUNTIME_DIR);
    if (o.optStagingDir) a.push('--ro-bind', o.optStagingDir, SANDBOX_OPT_DIR);
    if (o.nodeModulesDir) {
      a.push('--ro-bind', o.nodeModulesDir, `${SANDBOX_RUNTIME_DIR}/node_modules`);
      a.push('--symlink', `${SANDBOX_RUNTIME_DIR}/node_modules`, '/node_modules');
    }
    if (!process.execPath.startsWith('/usr/')) {
      const prefix = dirname(dirname(process.execPath));
      a.push('--ro-bind', prefix, prefix);
    }
    if (o.pythonPrefix && !o.pythonPrefix.startsWith('/usr'))
      a.push('--ro-bind', o.pythonPrefix, o.pythonPrefix);
    a.push(
      '--clearenv',
      '--setenv',
      'NODE_CHANNEL_FD',
      '3',
      '--setenv',
      'PATH',
      SANDBOX_PATH,
      '--setenv',
      'HOME',
      '/tmp',
    );
    if (o.awsSocket && !o.egress) {
      a.push('--bind', o.awsSocket, SANDBOX_SOCKET);
      a.push('--setenv', 'NIMBUS_FORWARD_PORT', String(o.endpointPort));
      a.push('--setenv', 'NIMBUS_FORWARD_SOCKET', SANDBOX_SOCKET);
    }
    a.push('--chdir', SANDBOX_TASK_ROOT);
    return a;
  }

  /** Starts the agent; resolves when it is up (a spare, not yet assigned). */
  start(): Promise<void> {
    const o = this.opts;
    mkdirSync(o.stagingDir, { recursive: true, mode: 0o500 });
    if (o.optStagingDir) mkdirSync(o.optStagingDir, { recursive: true, mode: 0o755 });
    if (o.isolation === 'bubblewrap') {
      chownSync(o.stagingDir, o.uid, o.uid);
      chmodSync(o.stagingDir, 0o500);
    }
    const agent = join(o.runtimeDir, 'agent.js');
    let argv: string[];
    if (o.isolation === 'bubblewrap') {
      argv = [
        'setpriv',
        `--reuid=${o.uid}`,
        `--regid=${o.uid}`,
        '--clear-groups',
        'bwrap',
        ...this.bwrapArgs(),
        process.execPath,
        `${SANDBOX_RUNTIME_DIR}/agent.js`,
      ];
    } else {
      argv = [process.execPath, agent];
    }
    const join_ = this.cgroup ? this.cgroup.joinScript() + ' && ' : '';
    const child = spawn('/bin/sh', ['-c', `${join_}exec "$@" 2>&1`, 'sh', ...argv], {
      stdio: ['ignore', 'pipe', 'ignore', 'ipc'],
      env:
        o.isolation === 'bubblewrap'
          ? { PATH: '/usr/bin:/bin' }
          : {
              PATH: SANDBOX_PATH + ':' + (process.env.PATH ?? ''),
              HOME: o.stagingDir,
              ...(o.awsSocket ? {} : {}),
            },
      cwd: o.stagingDir,
    });
    this.child = child;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onOutput(d));
    child.on('message', (m: AgentMessage) => this.onMessage(m));
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitDescription = signal
        ? `signal: ${signalName(signal)}`
        : code !== null && code > 128
          ? `signal: ${signalName(code - 128)}`
          : `exit status ${code}`;
      if (this.cgroup?.oomKilled()) this.exitDescription = 'signal: killed';
      this.flushPartial();
      this.startedWaiter?.(false);
      this.startedWaiter = undefined;
      this.readyWaiter?.({ t: 'init-error', payload: '' });
      this.readyWaiter = undefined;
      const c = this.collector;
      this.collector = undefined;
      c?.done('exit');
      this.onExit?.();
    });
    return new Promise((resolve, reject) => {
      this.startedWaiter = (ok) =>
        ok
          ? resolve()
          : reject(
              new Error(
                `sandbox ${this.id} failed to start (${this.exitDescription}): ${this.between
                  .slice(-10)
                  .map((l) => l.message)
                  .join(' | ')}`,
              ),
            );
    });
  }

  private send(m: HostMessage): void {
    try {
      this.child?.send(m);
    } catch {
      // the exit handler reports the death
    }
  }

  private onMessage(m: AgentMessage): void {
    switch (m.t) {
      case 'started':
        this.startedWaiter?.(true);
        this.startedWaiter = undefined;
        return;
      case 'ready':
      case 'init-error': {
        const c = this.collector;
        if (c) {
          c.result = { ok: m.t === 'ready', payload: m.t === 'init-error' ? m.payload : '' };
          if (m.clean) c.flushed = true;
          this.maybeDone();
        }
        return;
      }
      case 'log':
        if (this.collector) this.collector.logs.push({ time: m.time, message: m.message });
        else this.betweenLine({ time: m.time, message: m.message });
        return;
      case 'chunk': {
        const c = this.collector;
        if (c && c.id === m.requestId) {
          const data = Buffer.from(m.data, 'base64');
          if (c.onChunk) c.onChunk(data, m.contentType);
          else (c.chunks ??= []).push(data);
        }
        return;
      }
      case 'result': {
        const c = this.collector;
        if (c && c.id === m.requestId) {
          if (m.stream) {
            c.result = { ok: m.ok, payload: m.payload, stream: m.stream };
            if (!c.onChunk) c.result.body = c.chunks ? Buffer.concat(c.chunks) : Buffer.alloc(0);
          } else {
            c.result = { ok: m.ok, payload: m.payload };
          }
          if (m.clean) c.flushed = true;
          this.maybeDone();
        }
        return;
      }
    }
  }

  private onOutput(data: string): void {
    this.buf += data;
    for (;;) {
      const marker = this.buf.indexOf(DONE_MARKER);
      const nl = this.buf.indexOf('\n');
      if (marker >= 0 && (nl < 0 || marker < nl)) {
        const end = this.buf.indexOf('\n', marker);
        if (end < 0) return;
        if (marker > 0) this.pushLine(this.buf.slice(0, marker));
        const id = this.buf.slice(marker + DONE_MARKER.length, end);
        this.buf = this.buf.slice(end + 1);
        if (this.collector && (this.collector.id === id || id === 'init')) {
          this.collector.flushed = true;
          this.maybeDone();
        }
        continue;
      }
      if (nl < 0) return;
      this.pushLine(this.buf.slice(0, nl));
      this.buf = this.buf.slice(nl + 1);
    }
  }

  private flushPartial(): void {
    if (this.buf) this.pushLine(this.buf);
    this.buf = '';
  }

  private pushLine(line: string): void {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    // Output after the marker comes after the invocation, even while its result (on the IPC
    // channel, which may lag the pipe) is still on its way.
    if (this.collector && !this.collector.flushed) {
      this.collector.logs.push({ time: this.opts.clock.now(), message: l });
      return;
    }
    this.betweenLine({ time: this.opts.clock.now(), message: l });
  }

  private betweenLine(line: LogLine): void {
    this.between.push(line);
    if (this.between.length > 256) this.between.shift();
  }

  private maybeDone(): void {
    const c = this.collector;
    if (c && c.result && c.flushed) {
      this.collector = undefined;
      c.done('complete');
    }
  }

  /** Stages the code by hard-link (copy across filesystems) into /var/task, the layers into /opt. */
  stage(codeDir: string, optDir?: string): void {
    linkTree(codeDir, this.opts.stagingDir);
    if (optDir && this.opts.optStagingDir) linkTree(optDir, this.opts.optStagingDir);
  }

  private run(
    id: string,
    msg: HostMessage,
    onChunk?: ChunkSink,
  ): Promise<{ outcome: 'complete' | 'exit'; logs: LogLine[]; result?: RunResult }> {
    return new Promise((resolve) => {
      const c: Collector = {
        id,
        logs: this.between.splice(0),
        flushed: false,
        onChunk,
        chunks: undefined,
        done: (outcome) => resolve({ outcome, logs: c.logs, result: c.result }),
      };
      if (this.exited) {
        resolve({ outcome: 'exit', logs: [] });
        return;
      }
      this.collector = c;
      this.send(msg);
    });
  }

  init(msg: Extract<HostMessage, { t: 'init' }>) {
    // What a warm spare printed before it was given a function is not the function's.
    this.between = [];
    return this.run('init', msg);
  }

  /** Runs one invocation; a streamed response's chunks go to `onChunk`, or are gathered. */
  invoke(msg: Extract<HostMessage, { t: 'invoke' }>, onChunk?: ChunkSink) {
    return this.run(msg.requestId, msg, onChunk);
  }

  /**
   * The instance's peak memory so far. A peak only grows, and a busy instance is asked on every
   * invoke: the cgroup file is read at most every 100 ms (a REPORT line may be up to 100 ms
   * behind a sudden growth; the next one catches up).
   */
  peakMemoryBytes(): number {
    const now = performance.now();
    if (now - this.peakReadAt < 100) return this.peakCached;
    this.peakReadAt = now;
    this.peakCached = this.readPeakMemoryBytes();
    return this.peakCached;
  }

  private peakReadAt = -Infinity;
  private peakCached = 0;

  private readPeakMemoryBytes(): number {
    if (this.cgroup) return this.cgroup.peakBytes();
    const pid = this.child?.pid;
    if (pid) {
      try {
        const status = readFileSafe(`/proc/${pid}/status`);
        const m = /VmHWM:\s+(\d+) kB/.exec(status);
        if (m) this.peakRss = Math.max(this.peakRss, Number(m[1]) * 1024);
      } catch {
        // gone
      }
    }
    return this.peakRss;
  }

  kill(): void {
    this.cgroup?.killAll();
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  waitExit(): Promise<void> {
    if (this.exited || !this.child) return Promise.resolve();
    return new Promise((r) => this.child!.once('exit', () => r()));
  }

  async dispose(): Promise<void> {
    this.kill();
    await Promise.race([this.waitExit(), new Promise((r) => setTimeout(r, 2000))]);
    await this.cgroup?.remove();
    rmSync(this.opts.stagingDir, { recursive: true, force: true });
    if (this.opts.optStagingDir) rmSync(this.opts.optStagingDir, { recursive: true, force: true });
  }
}

function readFileSafe(p: string): string {
  return readFileSync(p, 'utf8');
}

const SIGNALS: Record<number, string> = {
  6: 'aborted',
  9: 'killed',
  11: 'segmentation fault',
  15: 'terminated',
};
function signalName(s: NodeJS.Signals | number): string {
  if (typeof s === 'number') return SIGNALS[s] ?? `signal ${s}`;
  const map: Record<string, string> = {
    SIGKILL: 'killed',
    SIGTERM: 'terminated',
    SIGABRT: 'aborted',
    SIGSEGV: 'segmentation fault',
  };
  return map[s] ?? s;
}

export function linkTree(src: string, dst: string): void {
  for (const ent of readdirSync(src, { withFileTypes: true })) {
    const s = join(src, ent.name);
    const d = join(dst, ent.name);
    if (ent.isDirectory()) {
      mkdirSync(d, { mode: 0o755 });
      linkTree(s, d);
    } else if (ent.isFile()) {
      try {
        linkSync(s, d);
      } catch {
        copyFileSync(s, d);
      }
    } else if (ent.isSymbolicLink()) {
      // Recreated, never followed: a link resolves inside the sandbox, not on the host.
      symlinkSync(readlinkSync(s), d);
    }
  }
}
