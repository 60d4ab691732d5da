/**
 * A tiny argument parser (no dependency): `--name value`, `--name=value`, boolean `--flag`,
 * `-h`; everything else is positional; `--` ends the options.
 */
export type FlagType = 'string' | 'boolean';

export interface FlagSpec {
  type: FlagType;
  /** One-letter alias, e.g. `p` for `-p`. */
  short?: string;
  description?: string;
  /** Shown in help, e.g. `PORT`. */
  placeholder?: string;
  /** A string flag that may be given several times: its values joined by newlines. */
  repeatable?: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const flags: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short) byShort.set(s.short, name);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
    } else if (a.length === 2 && a[0] === '-' && a[1] !== '-') {
      name = byShort.get(a[1]);
      if (!name) throw new UsageError(`unknown option ${a}`);
    } else {
      positionals.push(a);
      continue;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') {
        throw new UsageError(`--${name} takes no value`);
      }
      flags[name] = inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    const prev = flags[name];
    flags[name] = s.repeatable && typeof prev === 'string' ? `${prev}\n${value}` : value;
  }
  return { positionals, flags };
}

/** Help text for a flag table. */
export function formatFlags(spec: Record<string, FlagSpec>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.type === 'string' ? ` ${s.placeholder ?? 'VALUE'}` : ''}`;
    return [left, s.description ?? ''];
  });
  const width = Math.max(0, ...rows.map((r) => r[0].length)) + 2;
  return rows.map(([l, d]) => `  ${l.padEnd(width)}${d}`).join('\n');
}
