/**
 * What isolation this host offers: bubblewrap (really run once), cgroups, and the runtimes
 * that really run (host node and python3). `auto` takes the best available and says why when
 * degraded; `strict` refuses to start without bubblewrap + cgroups; `none` runs plain processes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { IsolationMode } from '../../core/config.js';
import type { SandboxCapabilities } from './types.js';
import { detectCgroups, type CgroupLayout } from './cgroups.js';

export interface PythonInstall {
  /** Real path of the interpreter. */
  executable: string;
  /** sys.prefix (bound read-only in the sandbox when outside /usr). */
  prefix: string;
  version: string;
}

export interface HostCapabilities extends SandboxCapabilities {
  cgroupLayout?: CgroupLayout;
  python?: PythonInstall;
}

function probePython(cmd: string): PythonInstall | undefined {
  try {
    const out = execFileSync(
      cmd,
      ['-c', 'import sys,os; print(os.path.realpath(sys.executable)); print(sys.prefix); print(sys.version.split()[0])'],
      { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const [executable, prefix, version] = out.trim().split('\n');
    return executable && version ? { executable, prefix, version } : undefined;
  } catch {
    return undefined;
  }
}

/** True when every directory above `path` can be traversed by others (the sandbox uids). */
export function reachableByOthers(path: string): boolean {
  for (let d = dirname(resolve(path)); ; d = dirname(d)) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (d === '/') return true;
  }
}

function bwrapWorks(uid: number): string | undefined {
  const r = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${uid}`,
      '--clear-groups',
      'bwrap',
      '--unshare-all',
      '--die-with-parent',
      '--ro-bind',
      '/usr',
      '/usr',
      '--symlink',
      'usr/bin',
      '/bin',
      '--symlink',
      'usr/lib',
      '/lib',
      '--symlink',
      'usr/lib64',
      '/lib64',
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '/usr/bin/true',
    ],
    { encoding: 'utf8', timeout: 5000 },
  );
  if (r.error) return `bubblewrap/setpriv not runnable: ${r.error.message}`;
  if (r.status !== 0) return `bubblewrap failed: ${(r.stderr || '').trim() || 'exit status ' + r.status}`;
  return undefined;
}

export function detectCapabilities(mode: IsolationMode, opts: { sandboxUid?: number } = {}): HostCapabilities {
  const runtimes: Record<string, string> = { node: process.versions.node };
  let python = probePython('python3');
  const caps: HostCapabilities = { level: 'none', bubblewrap: false, cgroups: 'none', runtimes };
  const reasons: string[] = [];
  if (mode !== 'none') {
    const bwrapProblem = bwrapWorks(opts.sandboxUid ?? 200000);
    if (bwrapProblem) reasons.push(bwrapProblem);
    else caps.bubblewrap = true;
    const cg = detectCgroups();
    if (cg.layout) {
      caps.cgroups = cg.layout.version;
      caps.cgroupLayout = cg.layout;
    } else reasons.push(cg.reason ?? 'no cgroups');
    if (!reachableByOthers(process.execPath) && !process.execPath.startsWith('/usr/')) {
      caps.bubblewrap = false;
      reasons.push(`the node binary ${process.execPath} is not reachable by unprivileged uids`);
    }
    if (caps.bubblewrap) caps.level = 'bubblewrap';
    if (caps.bubblewrap && python && !python.prefix.startsWith('/usr') && !reachableByOthers(python.prefix)) {
      // e.g. a pyenv install under /root (0700): the sandbox uid cannot bind it; use the system's.
      const system = existsSync('/usr/bin/python3') ? probePython('/usr/bin/python3') : undefined;
      python = system;
    }
    if (mode === 'strict' && (!caps.bubblewrap || caps.cgroups === 'none')) {
      throw new Error(`isolation strict: sandboxing unavailable (${reasons.join('; ')})`);
    }
  } else {
    reasons.push('isolation disabled by configuration (--isolation none)');
  }
  if (python) {
    runtimes.python = python.version;
    caps.python = python;
  }
  if (reasons.length > 0) caps.reason = reasons.join('; ');
  return caps;
}

export function realNodeModules(dir: string): string | undefined {
  try {
    return realpathSync(dir);
  } catch {
    return undefined;
  }
}
