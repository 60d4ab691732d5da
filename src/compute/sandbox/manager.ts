/**
 * The InstanceManager: warm spares, per-key idle instances (LIFO), one request at a time per
 * instance, timeouts and crashes (a dead instance is never reused), idle reaping, retire, close.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ComputeConfig } from '../../core/config.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { detectCapabilities, realNodeModules, type HostCapabilities } from './capabilities.js';
import { SandboxInstance, SANDBOX_RUNTIME_DIR } from './instance.js';
import { deadCreatorEntries, sweepStaleCgroups } from './cgroups.js';
import type {
  FunctionSpec,
  InstanceManager,
  InstanceStats,
  InvokeInput,
  InvokeResult,
  LogLine,
} from './types.js';

export interface ManagerOptions {
  config: ComputeConfig;
  /** Nimbus's data dir: sandbox state lives in `<dataDir>/sandbox` (never mounted inside). */
  dataDir: string;
  /** The platform's AWS endpoint as a Unix socket (`<dataDir>/run/aws.sock`), forwarded inside. */
  awsSocket?: string;
  /** Port the forwarder listens on inside a no-network sandbox (127.0.0.1:<port> -> awsSocket). */
  endpointPort: number;
  /**
   * The port Nimbus really listens on, for sandboxes that share the host's network (egress,
   * or no isolation); read when an instance is assigned (default: endpointPort).
   */
  hostEndpointPort?: () => number;
  clock?: Clock;
  logger?: Logger;
  /** Precomputed capabilities (tests); detected otherwise. */
  capabilities?: HostCapabilities;
  /** Override the compiled agent dir / node_modules dir. */
  runtimeDir?: string;
  nodeModulesDir?: string;
  /** Size of each sandbox's /tmp (MB). Lambda's default ephemeral storage is 512 MB. */
  tmpSizeMb?: number;
}

interface Slot {
  inst: SandboxInstance;
  key?: string;
  spec?: FunctionSpec;
  state: 'starting' | 'spare' | 'init' | 'idle' | 'busy' | 'dead';
  lastUsed: number;
  logStream: string;
  retired?: boolean;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));

export class SandboxInstanceManager implements InstanceManager {
  readonly capabilities: HostCapabilities;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly root: string;
  private readonly runtimeDir: string;
  private readonly nodeModulesDir?: string;
  private readonly spares: Slot[] = [];
  private readonly idle = new Map<string, Slot[]>();
  private readonly all = new Set<Slot>();
  private readonly usedSlots = new Set<number>();
  /** The uids whose /etc files this process has written (see etcDir). */
  private readonly etcReady = new Set<number>();
  private startingSpares = 0;
  private closed = false;
  private readonly reaper: NodeJS.Timeout;
  private seq = 0;

  constructor(private readonly opts: ManagerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.capabilities =
      opts.capabilities ??
      detectCapabilities(opts.config.isolation, { sandboxUid: opts.config.sandboxUidBase });
    if (this.capabilities.reason) {
      this.log.warn('sandbox isolation degraded', {
        level: this.capabilities.level,
        reason: this.capabilities.reason,
      });
    }
    this.root = resolve(opts.dataDir, 'sandbox');
    this.sweepLeftovers();
    mkdirSync(join(this.root, 'staging'), { recursive: true });
    if (this.capabilities.level === 'bubblewrap') {
      // The sandbox uids must traverse (not list) to their own staging dir for bwrap to bind it.
      const dataDir = resolve(opts.dataDir);
      chmodSync(dataDir, statSync(dataDir).mode | 0o001);
      chmodSync(this.root, 0o711);
      chmodSync(join(this.root, 'staging'), 0o711);
    }
    this.runtimeDir = opts.runtimeDir ?? resolve(HERE, '../runtimes');
    try {
      // Mount point for node_modules, and the agent's module type where no package.json is above it.
      mkdirSync(join(this.runtimeDir, 'node_modules'), { recursive: true });
      const pj = join(this.runtimeDir, 'package.json');
      if (!existsSync(pj)) writeFileSync(pj, '{ "type": "module" }\n');
    } catch {
      // read-only install: the copy-runtime-assets build step created it
    }
    this.nodeModulesDir = opts.nodeModulesDir ?? realNodeModules(resolve(HERE, '../../../../node_modules'));
    const every = Math.max(50, Math.min(1000, Math.floor(opts.config.idleTimeoutMs / 2)));
    this.reaper = setInterval(() => this.reap(), every);
    this.reaper.unref();
    void this.refill();
  }

  /**
   * What a Nimbus process killed without closing (kill -9, a crash) left of its instances: their
   * staged code (`staging/<id>`, `opt/<id>`) in this data dir and their empty cgroups. An
   * instance id names the process that made it; only dead processes' leftovers go.
   */
  private sweepLeftovers(): void {
    let dirs = 0;
    for (const kind of ['staging', 'opt']) {
      for (const name of deadCreatorEntries(join(this.root, kind))) {
        rmSync(join(this.root, kind, name), { recursive: true, force: true });
        dirs++;
      }
    }
    const groups = this.capabilities.cgroupLayout ? sweepStaleCgroups(this.capabilities.cgroupLayout) : 0;
    if (dirs || groups)
      this.log.info('removed what stopped Nimbus processes left of their sandboxes', {
        stagingDirs: dirs,
        cgroups: groups,
      });
  }

  // ---- instances

  private allocateSlot(): number {
    let s = 0;
    while (this.usedSlots.has(s)) s++;
    this.usedSlots.add(s);
    return s;
  }

  private etcDir(uid: number): string {
    const dir = join(this.root, 'etc', String(uid));
    // Written afresh once per process: a process killed half-way through writing them (kill -9
    // during a first cold start) left a directory whose later files were missing, and every
    // sandbox of that uid then failed to start ("bwrap: Can't find source path .../resolv.conf").
    if (this.etcReady.has(uid)) return dir;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const files: Record<string, string> = {
      passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsbx_user:x:${uid}:${uid}::/tmp:/usr/sbin/nologin\n`,
      group: `root:x:0:\nsbx_user:x:${uid}:\n`,
      hosts: '127.0.0.1\tlocalhost\n::1\tlocalhost\n',
      'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files dns\n',
      'resolv.conf': safeRead('/etc/resolv.conf'),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
    chmodSync(dir, 0o755);
    this.etcReady.add(uid);
    return dir;
  }

  private async startInstance(egress: boolean): Promise<Slot> {
    const slotNo = this.allocateSlot();
    const uid = this.opts.config.sandboxUidBase + slotNo;
    const id = `i${process.pid.toString(36)}-${(this.seq++).toString(36)}-${randomBytes(3).toString('hex')}`;
    const caps = this.capabilities;
    const inst = new SandboxInstance({
      id,
      uid,
      isolation: caps.level,
      cgroupLayout: caps.cgroupLayout,
      pidsMax: this.opts.config.pidsMax,
      stagingDir: join(this.root, 'staging', id),
      optStagingDir: join(this.root, 'opt', id),
      etcDir: caps.level === 'bubblewrap' ? this.etcDir(uid) : '',
      runtimeDir: this.runtimeDir,
      nodeModulesDir: this.nodeModulesDir,
      pythonPrefix: caps.python?.prefix,
      awsSocket: this.opts.awsSocket,
      endpointPort: this.opts.endpointPort,
      egress,
      tmpSizeMb: this.opts.tmpSizeMb ?? 512,
      clock: this.clock,
    });
    const slot: Slot = { inst, state: 'starting', lastUsed: this.clock.now(), logStream: '' };
    this.all.add(slot);
    inst.onExit = () => {
      if (slot.state === 'idle' || slot.state === 'spare') void this.discard(slot);
    };
    try {
      await inst.start();
    } catch (err) {
      await this.discard(slot);
      throw err;
    }
    slot.state = 'spare';
    return slot;
  }

  private async discard(slot: Slot): Promise<void> {
    if (slot.state === 'dead' && !this.all.has(slot)) return;
    slot.state = 'dead';
    this.all.delete(slot);
    const si = this.spares.indexOf(slot);
    if (si >= 0) this.spares.splice(si, 1);
    if (slot.key) {
      const list = this.idle.get(slot.key);
      const i = list?.indexOf(slot) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
    await slot.inst.dispose().catch(() => {});
    this.usedSlots.delete(slot.inst.uid - this.opts.config.sandboxUidBase);
  }

  private async refill(): Promise<void> {
    while (!this.closed && this.spares.length + this.startingSpares < this.opts.config.warmSpares) {
      this.startingSpares++;
      try {
        const slot = await this.startInstance(false);
        if (this.closed) {
          await this.discard(slot);
          return;
        }
        this.spares.push(slot);
      } catch (err) {
        this.log.error('warm spare failed to start', { err });
        return;
      } finally {
        this.startingSpares--;
      }
    }
  }

  private scheduleRefill(): void {
    setImmediate(() => void this.refill());
  }

  private reap(): void {
    const now = this.clock.now();
    for (const [, list] of this.idle) {
      for (const slot of [...list]) {
        if (now - slot.lastUsed >= this.opts.config.idleTimeoutMs) void this.discard(slot);
      }
    }
  }

  // ---- environment

  private logStreamName(spec: FunctionSpec): string {
    const d = new Date(this.clock.now());
    const ymd = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
    return `${ymd}/[${spec.functionVersion}]${randomBytes(16).toString('hex')}`;
  }

  private environment(spec: FunctionSpec, inst: SandboxInstance, logStream: string): Record<string, string> {
    const bw = this.capabilities.level === 'bubblewrap';
    const forwarded = bw && !spec.egress;
    const port = forwarded
      ? this.opts.endpointPort
      : (this.opts.hostEndpointPort?.() ?? this.opts.endpointPort);
    const endpointHost = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      ...spec.environment,
      AWS_REGION: spec.region,
      AWS_DEFAULT_REGION: spec.region,
      AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: spec.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: logStream,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
      LAMBDA_TASK_ROOT: inst.taskRoot,
      LAMBDA_RUNTIME_DIR: inst.runtimeDir,
      _HANDLER: spec.handler,
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      // As on Lambda, layers' Node modules come first: /opt/nodejs/node{major}/node_modules, /opt/nodejs/node_modules.
      NODE_PATH: [
        ...(spec.optDir && inst.optDir
          ? [
              `${inst.optDir}/nodejs/node${/^nodejs(\d+)/.exec(spec.runtime)?.[1] ?? process.versions.node.split('.')[0]}/node_modules`,
              `${inst.optDir}/nodejs/node_modules`,
            ]
          : []),
        inst.nodePath,
        inst.runtimeDir,
        inst.taskRoot,
      ]
        .filter(Boolean)
        .join(':'),
      AWS_ENDPOINT_URL: endpointHost,
      AWS_ACCESS_KEY_ID: spec.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: spec.credentials.secretAccessKey,
      HOME: bw ? '/tmp' : inst.taskRoot,
    };
    if (spec.optDir && inst.optDir && spec.runtime.startsWith('python')) {
      env.PYTHONPATH = [
        `${inst.optDir}/python`,
        `${inst.optDir}/python/lib/${spec.runtime}/site-packages`,
        env.PYTHONPATH,
      ]
        .filter(Boolean)
        .join(':');
    }
    if (spec.credentials.sessionToken) env.AWS_SESSION_TOKEN = spec.credentials.sessionToken;
    else delete env.AWS_SESSION_TOKEN;
    return env;
  }

  // ---- invoke

  async invoke(spec: FunctionSpec, input: InvokeInput): Promise<InvokeResult> {
    if (this.closed) throw new Error('instance manager is closed');
    const list = this.idle.get(spec.key);
    let slot = list?.pop();
    while (slot && (slot.state !== 'idle' || slot.inst.exited)) slot = list?.pop();
    let coldStart = false;
    let initDurationMs: number | undefined;
    let initLogs: LogLine[] = [];
    // A timer at the deadline covers init too: the instance is killed when time is up.
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (s: Slot) => {
      timer = setTimeout(
        () => {
          timedOut = true;
          s.inst.kill();
        },
        Math.max(0, input.deadline - this.clock.now()),
      );
    };
    if (slot) {
      slot.state = 'busy';
      arm(slot);
    } else {
      coldStart = true;
      const t0 = performance.now();
      slot = !spec.egress ? this.spares.shift() : undefined;
      if (!slot) slot = await this.startInstance(spec.egress);
      slot.state = 'init';
      slot.key = spec.key;
      slot.spec = spec;
      slot.logStream = this.logStreamName(spec);
      arm(slot);
      const inst = slot.inst;
      inst.stage(spec.codeDir, spec.optDir);
      inst.cgroup?.setLimits(spec.memoryMb);
      const stagedMs = performance.now() - t0;
      const r = await inst.init({
        t: 'init',
        runtime: spec.runtime,
        handler: spec.handler,
        taskRoot: inst.taskRoot,
        env: this.environment(spec, inst, slot.logStream),
        python: this.capabilities.python?.executable,
        runtimeApiPort: inst.egress || this.capabilities.level === 'none' ? 0 : 9001,
      });
      initDurationMs = performance.now() - t0;
      this.log.debug('cold start', { instanceId: inst.id, key: spec.key, stagedMs, initDurationMs });
      initLogs = r.logs;
      if (r.outcome !== 'complete' || !r.result?.ok) {
        clearTimeout(timer);
        this.scheduleRefill();
        const base = this.baseResult(slot, coldStart, initDurationMs, initLogs);
        await this.discard(slot);
        if (timedOut) return this.timeoutResult(base, spec, input);
        if (r.outcome !== 'complete') return this.crashResult(base, input, slot.inst.exitDescription);
        return {
          ...base,
          status: 'error',
          functionError: 'Unhandled',
          payload: Buffer.from(r.result!.payload),
        };
      }
      slot.state = 'busy';
    }
    const inst = slot.inst;
    const t1 = performance.now();
    const r = await inst.invoke(
      {
        t: 'invoke',
        requestId: input.requestId,
        payload: input.payload.toString('utf8'),
        invokedFunctionArn: input.invokedFunctionArn,
        remainingMs: Math.max(0, input.deadline - this.clock.now()),
        clientContext: input.clientContext,
        traceId: input.traceId,
      },
      input.onChunk,
    );
    clearTimeout(timer);
    // Refill after this cold start, not during it: booting a spare costs CPU the first result needs.
    if (coldStart) this.scheduleRefill();
    const base = this.baseResult(slot, coldStart, initDurationMs, initLogs);
    base.durationMs = performance.now() - t1;
    base.logs = r.logs;
    if (r.outcome !== 'complete' || timedOut) {
      await this.discard(slot);
      if (timedOut) return this.timeoutResult(base, spec, input);
      return this.crashResult(base, input, inst.exitDescription);
    }
    slot.lastUsed = this.clock.now();
    if (inst.exited || slot.retired) {
      await this.discard(slot);
    } else {
      slot.state = 'idle';
      const l = this.idle.get(spec.key) ?? [];
      l.push(slot);
      this.idle.set(spec.key, l);
    }
    const res = r.result!;
    if (res.stream) {
      base.streamed = res.stream;
      if (res.ok) return { ...base, status: 'ok', payload: res.body ?? Buffer.alloc(0) };
    }
    return res.ok
      ? { ...base, status: 'ok', payload: Buffer.from(res.payload) }
      : { ...base, status: 'error', functionError: 'Unhandled', payload: Buffer.from(res.payload) };
  }

  private baseResult(
    slot: Slot,
    coldStart: boolean,
    initDurationMs: number | undefined,
    initLogs: LogLine[],
  ): InvokeResult {
    return {
      status: 'ok',
      payload: Buffer.alloc(0),
      durationMs: 0,
      coldStart,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      maxMemoryUsedMb: Math.max(1, Math.round(slot.inst.peakMemoryBytes() / (1024 * 1024))),
      initLogs,
      logs: [],
      logStream: slot.logStream,
      instanceId: slot.inst.id,
    };
  }

  private timeoutResult(base: InvokeResult, spec: FunctionSpec, input: InvokeInput): InvokeResult {
    const msg = `Task timed out after ${spec.timeoutSec.toFixed(2)} seconds`;
    const now = this.clock.now();
    return {
      ...base,
      status: 'timeout',
      functionError: 'Unhandled',
      durationMs: spec.timeoutSec * 1000,
      logs: [
        ...base.logs,
        { time: now, message: `${new Date(now).toISOString()} ${input.requestId} ${msg}` },
      ],
      payload: Buffer.from(
        JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${input.requestId} Error: ${msg}`,
        }),
      ),
    };
  }

  private crashResult(base: InvokeResult, input: InvokeInput, how: string): InvokeResult {
    return {
      ...base,
      status: 'crashed',
      functionError: 'Unhandled',
      payload: Buffer.from(
        JSON.stringify({
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${input.requestId} Error: Runtime exited with error: ${how || 'signal: killed'}`,
        }),
      ),
    };
  }

  retire(keyPrefix: string): void {
    for (const slot of this.all) {
      if (!slot.key?.startsWith(keyPrefix)) continue;
      if (slot.state === 'idle') void this.discard(slot);
      else slot.retired = true;
    }
  }

  stats(): InstanceStats {
    let idle = 0;
    let busy = 0;
    let starting = 0;
    for (const s of this.all) {
      if (s.state === 'idle') idle++;
      else if (s.state === 'busy' || s.state === 'init') busy++;
      else if (s.state === 'starting') starting++;
    }
    return { spares: this.spares.length, idle, busy, starting };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    // Wait for spares still starting so none is left behind.
    for (let i = 0; i < 200 && this.startingSpares > 0; i++) await new Promise((r) => setTimeout(r, 10));
    await Promise.all([...this.all].map((s) => this.discard(s)));
    rmSync(join(this.root, 'staging'), { recursive: true, force: true });
    rmSync(join(this.root, 'etc'), { recursive: true, force: true });
  }
}

export { SANDBOX_RUNTIME_DIR };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
