/**
 * `sam build` for Nimbus: every function / layer of the template whose code is a local path is
 * built into `<template dir>/.nimbus-build/<LogicalId>/` — dependencies installed (npm, pip),
 * TypeScript bundled with esbuild when `Metadata.BuildMethod` is `esbuild` — and skipped when its
 * inputs did not change since the last build.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Template } from '../types.js';

export const BUILD_DIR = '.nimbus-build';
const SKIP = new Set(['node_modules', '.git', BUILD_DIR, '.aws-sam']);

/** A build step failed; `message` names the function and carries the tool's output. */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** Which property of which resource holds local code. */
export type CodeProperty = 'CodeUri' | 'Code' | 'ContentUri' | 'Content';

export interface Artifact {
  logicalId: string;
  resourceType: string;
  property: CodeProperty;
  /** The folder (or .zip / single file) to upload. */
  path: string;
}

export interface BuildOptions {
  /** Package the sources as they are (no dependency install, no bundling). */
  noBuild?: boolean;
  /** Environment of the build tools (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

interface LocalCode {
  logicalId: string;
  resourceType: string;
  property: CodeProperty;
  source: string;
  runtime?: string;
  metadata?: Record<string, unknown>;
  isLayer: boolean;
}

function isLocalPath(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && !/^s3:\/\//i.test(v) && !/^https?:\/\//i.test(v);
}

/** The resources of the template whose code lives on this machine. */
export function findLocalCode(template: Template, templateDir: string): LocalCode[] {
  const globalsFn = (template.Globals?.Function ?? {}) as Record<string, unknown>;
  const out: LocalCode[] = [];
  for (const [logicalId, res] of Object.entries(template.Resources ?? {})) {
    const props = res.Properties ?? {};
    const at = (p: string) => resolve(templateDir, p);
    if (res.Type === 'AWS::Serverless::Function') {
      if (props.InlineCode !== undefined || props.ImageUri !== undefined) continue;
      if ((props.PackageType ?? globalsFn.PackageType) === 'Image') continue;
      const codeUri = props.CodeUri ?? globalsFn.CodeUri ?? '.';
      if (!isLocalPath(codeUri)) continue;
      out.push({
        logicalId,
        resourceType: res.Type,
        property: 'CodeUri',
        source: at(codeUri),
        runtime: (props.Runtime ?? globalsFn.Runtime) as string | undefined,
        metadata: res.Metadata,
        isLayer: false,
      });
    } else if (res.Type === 'AWS::Lambda::Function' && isLocalPath(props.Code)) {
      out.push({
        logicalId,
        resourceType: res.Type,
        property: 'Code',
        source: at(props.Code),
        runtime: props.Runtime as string | undefined,
        metadata: res.Metadata,
        isLayer: false,
      });
    } else if (res.Type === 'AWS::Serverless::LayerVersion' && isLocalPath(props.ContentUri)) {
      out.push({
        logicalId,
        resourceType: res.Type,
        property: 'ContentUri',
        source: at(props.ContentUri),
        metadata: res.Metadata,
        isLayer: true,
      });
    } else if (res.Type === 'AWS::Lambda::LayerVersion' && isLocalPath(props.Content)) {
      out.push({
        logicalId,
        resourceType: res.Type,
        property: 'Content',
        source: at(props.Content),
        metadata: res.Metadata,
        isLayer: true,
      });
    }
  }
  return out;
}

/** Files under `dir` (sorted, relative, `/`-separated), without node_modules/.git/.nimbus-build. */
export function listFiles(dir: string, skip: ReadonlySet<string> = SKIP): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      if (skip.has(name)) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${prefix}${name}/`);
      else if (st.isFile()) out.push(`${prefix}${name}`);
    }
  };
  walk(dir, '');
  return out;
}

/** A digest of a folder's contents (paths, modes, bytes) — also the artifact's S3 key. */
export function hashDir(dir: string, skip: ReadonlySet<string> = SKIP): string {
  const h = createHash('sha256');
  for (const f of listFiles(dir, skip)) {
    const p = join(dir, f);
    h.update(`${f}\0${statSync(p).mode & 0o111 ? 'x' : '-'}\0`);
    h.update(readFileSync(p));
    h.update('\0');
  }
  return h.digest('hex');
}

function isNode(runtime: string | undefined): boolean {
  return runtime === undefined || /^nodejs/.test(runtime);
}

interface RunResult {
  code: number | null;
  output: string;
  spawnError?: NodeJS.ErrnoException;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((done) => {
    let output = '';
    let child;
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      done({ code: null, output: '', spawnError: e as NodeJS.ErrnoException });
      return;
    }
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (e) => done({ code: null, output, spawnError: e }));
    child.on('close', (code) => done({ code, output }));
  });
}

function copySource(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  // Entry by entry: the build folder may live inside the source folder (CodeUri: .).
  for (const name of readdirSync(src)) {
    if (SKIP.has(name)) continue;
    cpSync(join(src, name), join(dst, name), { recursive: true, filter: (p) => !SKIP.has(basename(p)) });
  }
}

async function npmInstall(fn: LocalCode, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (!existsSync(join(dir, 'package.json'))) return;
  const locked = existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json'));
  const args = [locked ? 'ci' : 'install', '--omit=dev', '--no-audit', '--no-fund', '--no-update-notifier'];
  const r = await run('npm', args, dir, env);
  if (r.code !== 0) {
    const why = r.spawnError ? `cannot run npm (${r.spawnError.message})` : `exit code ${r.code}`;
    throw new BuildError(
      `Build of ${fn.logicalId} failed: \`npm ${args.join(' ')}\` in ${dir}: ${why}\n${r.output}`,
    );
  }
}

async function pipInstall(
  fn: LocalCode,
  source: string,
  target: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (!existsSync(join(source, 'requirements.txt'))) return;
  const candidates: [string, string[]][] = [
    ['python3', ['-m', 'pip']],
    ['pip3', []],
    ['pip', []],
  ];
  let pip: [string, string[]] | undefined;
  for (const [cmd, pre] of candidates) {
    const r = await run(cmd, [...pre, '--version'], source, env);
    if (r.code === 0) {
      pip = [cmd, pre];
      break;
    }
  }
  const command = `pip install -r requirements.txt -t ${target}`;
  if (!pip) {
    throw new BuildError(
      `Build of ${fn.logicalId} (${fn.runtime ?? 'python'}) failed: its requirements.txt cannot be installed ` +
        `because neither "python3 -m pip" nor "pip" is available. Install pip, or run \`${command}\` ` +
        `in ${source} yourself and deploy with --no-build.`,
    );
  }
  const args = [...pip[1], 'install', '-r', 'requirements.txt', '-t', target, '--disable-pip-version-check'];
  const r = await run(pip[0], args, source, env);
  if (r.code !== 0) {
    throw new BuildError(
      `Build of ${fn.logicalId} failed: \`${command}\` exited with ${r.code}\n${r.output}`,
    );
  }
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True';
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v)
    ? v.map(String)
    : String(v)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

async function esbuildBundle(fn: LocalCode, workDir: string, outDir: string): Promise<void> {
  const props = (fn.metadata?.BuildProperties ?? {}) as Record<string, unknown>;
  const entries = list(props.EntryPoints);
  if (entries.length === 0) {
    throw new BuildError(
      `Build of ${fn.logicalId} failed: Metadata.BuildProperties.EntryPoints is required with BuildMethod esbuild`,
    );
  }
  const format = (str(props.Format) ?? 'cjs').toLowerCase();
  if (format !== 'cjs' && format !== 'esm') {
    throw new BuildError(`Build of ${fn.logicalId} failed: Format must be cjs or esm, not ${format}`);
  }
  const outExtension: Record<string, string> = {};
  for (const pair of list(props.OutExtension)) {
    const [from, to] = pair.split('=');
    if (from && to) outExtension[from] = to;
  }
  const sourcemap = props.Sourcemap === undefined ? false : bool(props.Sourcemap);
  const { build } = await import('esbuild');
  try {
    await build({
      entryPoints: entries.map((e) => resolve(workDir, e)),
      bundle: true,
      platform: 'node',
      outdir: outDir,
      format,
      minify: bool(props.Minify),
      sourcemap,
      target: str(props.Target) ?? 'es2020',
      external: list(props.External),
      outExtension,
      absWorkingDir: workDir,
      logLevel: 'silent',
    });
  } catch (e) {
    throw new BuildError(`Build of ${fn.logicalId} failed: esbuild: ${(e as Error).message}`);
  }
}

interface BuildCache {
  [logicalId: string]: string;
}

function inputHash(fn: LocalCode): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({ runtime: fn.runtime ?? null, metadata: fn.metadata ?? null, type: fn.resourceType }),
  );
  h.update(statSync(fn.source).isDirectory() ? hashDir(fn.source) : readFileSync(fn.source));
  return h.digest('hex');
}

async function buildOne(fn: LocalCode, out: string, env: NodeJS.ProcessEnv): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const method = str(fn.metadata?.BuildMethod)?.toLowerCase();
  if (method === 'esbuild') {
    let workDir = fn.source;
    let scratch: string | undefined;
    if (existsSync(join(fn.source, 'package.json'))) {
      scratch = `${out}.scratch`;
      rmSync(scratch, { recursive: true, force: true });
      copySource(fn.source, scratch);
      await npmInstall(fn, scratch, env);
      workDir = scratch;
    }
    try {
      await esbuildBundle(fn, workDir, out);
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
    return;
  }
  copySource(fn.source, out);
  if (fn.isLayer) return;
  if (isNode(fn.runtime)) await npmInstall(fn, out, env);
  else if (/^python/.test(fn.runtime ?? '')) await pipInstall(fn, fn.source, out, env);
}

/**
 * Builds every local function / layer of the template (in `templateDir/.nimbus-build`) and returns
 * what to upload. A failure throws BuildError before anything is uploaded.
 */
export async function buildTemplate(
  template: Template,
  templateDir: string,
  opts: BuildOptions = {},
): Promise<Artifact[]> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const root = join(templateDir, BUILD_DIR);
  const cacheFile = join(root, 'cache.json');
  let cache: BuildCache = {};
  try {
    cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as BuildCache;
  } catch {
    /* no cache yet */
  }
  const artifacts: Artifact[] = [];
  for (const fn of findLocalCode(template, templateDir)) {
    if (!existsSync(fn.source)) {
      throw new BuildError(
        `Build of ${fn.logicalId} failed: ${fn.property} ${relative(templateDir, fn.source) || '.'} does not exist`,
      );
    }
    const base = { logicalId: fn.logicalId, resourceType: fn.resourceType, property: fn.property };
    if (opts.noBuild || !statSync(fn.source).isDirectory()) {
      artifacts.push({ ...base, path: fn.source });
      continue;
    }
    const out = join(root, fn.logicalId);
    const hash = inputHash(fn);
    if (cache[fn.logicalId] === hash && existsSync(out)) {
      log(`Build of ${fn.logicalId} skipped: unchanged since the last build`);
    } else {
      log(`Building ${fn.logicalId} (${fn.metadata?.BuildMethod ?? fn.runtime ?? 'layer'})`);
      delete cache[fn.logicalId];
      mkdirSync(root, { recursive: true });
      writeFileSync(cacheFile, JSON.stringify(cache, null, 2));
      await buildOne(fn, out, env);
      cache[fn.logicalId] = hash;
      writeFileSync(cacheFile, JSON.stringify(cache, null, 2));
    }
    artifacts.push({ ...base, path: out });
  }
  return artifacts;
}
