/** Process figures from Linux's /proc, shared by the benchmarks. */
import { readFileSync } from 'node:fs';

/** CPU time (ms, user + system) process `pid` has used so far; undefined where /proc is missing. */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}
