/**
 * Per-instance cgroups under a `nimbus` parent: memory limit = the function's MemorySize,
 * pids.max, a CPU share proportional to memory (as Lambda), peak memory, kill, cleanup.
 * cgroup v1 (separate memory/pids/cpu hierarchies) and v2 (unified, delegated subtree).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 'v1' | 'v2';

export interface CgroupLayout {
  version: CgroupVersion;
  /** v1: { memory, pids, cpu } hierarchy roots; v2: { unified } root (a delegated subtree). */
  roots: Record<string, string>;
}

const V1_ROOT = '/sys/fs/cgroup';

/**
 * The CPU weight of the `nimbus` parent group against the host's other processes. Instances
 * share it in proportion to their memory (as Lambda allocates CPU), but all sandboxes together
 * must not count as one ordinary process, or a busy host starves every function (a 128 MB
 * function would get 74/1024 of one process's share). 8x an ordinary process.
 */
const PARENT_CPU_SHARES = 8192;
const PARENT_CPU_WEIGHT = 800;

function bestEffortWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // an older kernel or a restricted delegation: instances still get their relative shares
  }
}

function writable(dir: string): boolean {
  const probe = join(dir, 'nimbus', `probe-${process.pid}`);
  try {
    mkdirSync(join(dir, 'nimbus'), { recursive: true });
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Finds a usable cgroup layout, or explains why there is none. */
export function detectCgroups(): { layout?: CgroupLayout; reason?: string } {
  const v1 = { memory: join(V1_ROOT, 'memory'), pids: join(V1_ROOT, 'pids'), cpu: join(V1_ROOT, 'cpu') };
  if (Object.values(v1).every((d) => existsSync(join(d, 'cgroup.procs')))) {
    if (Object.values(v1).every(writable)) {
      bestEffortWrite(join(v1.cpu, 'nimbus', 'cpu.shares'), String(PARENT_CPU_SHARES));
      return { layout: { version: 'v1', roots: v1 } };
    }
    return { reason: 'cgroup v1 memory/pids/cpu hierarchies are not writable' };
  }
  for (const root of [V1_ROOT, join(V1_ROOT, 'unified')]) {
    const controllers = join(root, 'cgroup.controllers');
    if (!existsSync(controllers)) continue;
    const have = readFileSync(controllers, 'utf8').split(/\s+/);
    if (!have.includes('memory') || !have.includes('pids')) continue;
    try {
      const sub = join(root, 'cgroup.subtree_control');
      writeFileSync(sub, '+memory +pids' + (have.includes('cpu') ? ' +cpu' : ''));
      const parent = join(root, 'nimbus');
      mkdirSync(parent, { recursive: true });
      writeFileSync(
        join(parent, 'cgroup.subtree_control'),
        '+memory +pids' + (have.includes('cpu') ? ' +cpu' : ''),
      );
      if (have.includes('cpu')) bestEffortWrite(join(parent, 'cpu.weight'), String(PARENT_CPU_WEIGHT));
      return { layout: { version: 'v2', roots: { unified: root } } };
    } catch {
      return { reason: `cgroup v2 at ${root}: cannot delegate memory/pids controllers` };
    }
  }
  return { reason: 'no cgroup hierarchy with memory and pids controllers (v1) or a delegated v2 subtree' };
}

/**
 * The Nimbus process that created an instance, from the instance id (`i<pid in base 36>-...`,
 * see the manager); undefined for a name of another shape.
 */
export function creatorPid(instanceId: string): number | undefined {
  const m = /^i([0-9a-z]+)-/.exec(instanceId);
  return m ? parseInt(m[1], 36) : undefined;
}

/** Whether a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The entries of `dir` named by an instance id whose creating process is gone (not this one,
 * not alive): what a Nimbus process killed without closing left there.
 */
export function deadCreatorEntries(dir: string, alive: (pid: number) => boolean = processAlive): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    const pid = creatorPid(name);
    return pid !== undefined && pid !== process.pid && !alive(pid);
  });
}

/**
 * Removes the instance cgroups a Nimbus process left behind when it died without closing
 * (kill -9, a crash): their sandboxes died with it (bubblewrap's --die-with-parent), the
 * empty groups stayed, one set per instance, until the next reboot. Groups of live processes
 * (another Nimbus on this host) and groups that still hold a process are kept. Returns how
 * many directories were removed.
 */
export function sweepStaleCgroups(
  layout: CgroupLayout,
  alive: (pid: number) => boolean = processAlive,
): number {
  let removed = 0;
  for (const root of Object.values(layout.roots)) {
    const parent = join(root, 'nimbus');
    for (const name of deadCreatorEntries(parent, alive)) {
      try {
        rmdirSync(join(parent, name));
        removed++;
      } catch {
        // not a group of ours, or a process is still in it
      }
    }
  }
  return removed;
}

export class InstanceCgroup {
  readonly dirs: string[];

  constructor(
    private readonly layout: CgroupLayout,
    readonly name: string,
    pidsMax: number,
  ) {
    this.dirs = Object.values(layout.roots).map((r) => join(r, 'nimbus', name));
    for (const d of this.dirs) mkdirSync(d, { recursive: true });
    this.write('pids', 'pids.max', String(Math.max(32, pidsMax)));
  }

  private dir(controller: string): string {
    const root = this.layout.version === 'v1' ? this.layout.roots[controller] : this.layout.roots.unified;
    return join(root, 'nimbus', this.name);
  }

  private write(controller: string, file: string, value: string): void {
    writeFileSync(join(this.dir(controller), file), value);
  }

  private read(controller: string, file: string): string | undefined {
    try {
      return readFileSync(join(this.dir(controller), file), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  /** Shell commands that move the shell itself into every hierarchy (run before exec of bwrap). */
  joinScript(): string {
    return this.dirs.map((d) => `echo $$ > '${join(d, 'cgroup.procs')}'`).join(' && ');
  }

  setLimits(memoryMb: number): void {
    const bytes = memoryMb * 1024 * 1024;
    const weight = Math.max(2, Math.round((1024 * memoryMb) / 1769));
    if (this.layout.version === 'v1') {
      this.write('memory', 'memory.limit_in_bytes', String(bytes));
      try {
        this.write('memory', 'memory.memsw.limit_in_bytes', String(bytes));
      } catch {
        // no swap accounting: the memory limit alone applies
      }
      this.write('cpu', 'cpu.shares', String(weight));
    } else {
      this.write('memory', 'memory.max', String(bytes));
      try {
        this.write('memory', 'memory.swap.max', '0');
        this.write('cpu', 'cpu.weight', String(Math.min(10000, Math.max(1, Math.round(weight / 10.24)))));
      } catch {
        // cpu controller not delegated
      }
    }
  }

  /** Peak memory in bytes since the cgroup was created (or current usage where no peak is kept). */
  peakBytes(): number {
    const v =
      this.layout.version === 'v1'
        ? this.read('memory', 'memory.max_usage_in_bytes')
        : (this.read('memory', 'memory.peak') ?? this.read('memory', 'memory.current'));
    return Number(v ?? 0);
  }

  /** Whether the kernel's OOM killer fired in this cgroup. */
  oomKilled(): boolean {
    if (this.layout.version === 'v1') {
      return /oom_kill [1-9]/.test(this.read('memory', 'memory.oom_control') ?? '');
    }
    return /oom_kill [1-9]/.test(this.read('memory', 'memory.events') ?? '');
  }

  pids(): number[] {
    const out = new Set<number>();
    for (const d of this.dirs) {
      try {
        for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) out.add(Number(l));
      } catch {
        // gone already
      }
    }
    return [...out];
  }

  killAll(): void {
    if (this.layout.version === 'v2' && existsSync(join(this.dir('memory'), 'cgroup.kill'))) {
      try {
        this.write('memory', 'cgroup.kill', '1');
        return;
      } catch {
        // fall back to signalling each process
      }
    }
    for (let round = 0; round < 3; round++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  /** Removes the cgroups; retries briefly while the killed processes are reaped. */
  async remove(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      this.killAll();
      let left = 0;
      for (const d of this.dirs) {
        try {
          if (existsSync(d)) rmdirSync(d);
        } catch {
          left++;
        }
      }
      if (left === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
