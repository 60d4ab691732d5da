/**
 * Test helper: a throwaway PostgreSQL 15 server in a temp dir on a free port, started with
 * initdb/pg_ctl. initdb refuses to run as root, so as root the server runs as the `postgres`
 * user when it exists, else `nobody`, through `setpriv`, in a temp dir that user owns.
 * Tuned for tests (fsync off): never point anything real at it.
 */
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const POSTGRES_MISSING = 'PostgreSQL 15 server binaries not found (apt-get install postgresql-15)';

export interface TestPostgres {
  /** URL of the `postgres` database as the `postgres` superuser (trust auth, 127.0.0.1). */
  url: string;
  /** A URL for another database on the same server. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory holding initdb, pg_ctl and postgres (15), or undefined. */
export function findPostgresBin(): string | undefined {
  const dirs = ['/usr/lib/postgresql/15/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.find((d) => ['initdb', 'pg_ctl', 'postgres'].every((b) => executable(join(d, b))));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function idOf(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim());
    const gid = Number((await run('id', ['-g', user])).stdout.trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Starts a server; undefined when the binaries are absent (callers skip with POSTGRES_MISSING). */
export async function startTestPostgres(): Promise<TestPostgres | undefined> {
  const bin = findPostgresBin();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const who = asRoot ? ((await idOf('postgres')) ?? (await idOf('nobody'))) : undefined;
  if (asRoot && !who) throw new Error('running as root and neither user "postgres" nor "nobody" exists');
  if (who) chownSync(dir, who.uid, who.gid);
  const exec = (file: string, args: string[]) =>
    who
      ? run('setpriv', [`--reuid=${who.uid}`, `--regid=${who.gid}`, '--clear-groups', '--', file, ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
        })
      : run(file, args, { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' } });
  try {
    await exec(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const port = await freePort();
    const opts = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    await exec(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-o',
      opts,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '30',
      'start',
    ]);
    const urlFor = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
    let stopped = false;
    return {
      url: urlFor('postgres'),
      urlFor,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await exec(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    try {
      await exec(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // it never started
    }
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
