#!/usr/bin/env node
// Runs the compiled test files (dist/**/*.test.js) with Node's built-in test runner.
//   node scripts/run-tests.mjs            every test (unit beside the code, end-to-end in test/)
//   node scripts/run-tests.mjs --unit     only the unit tests under dist/src
//   node scripts/run-tests.mjs PATTERN    only files whose path contains PATTERN
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const patterns = args.filter((a) => !a.startsWith('--'));
const roots = unitOnly ? ['dist/src'] : ['dist/src', 'dist/test'];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = roots
  .flatMap((r) => walk(r, []))
  .filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
const concurrency = process.env.NIMBUS_TEST_CONCURRENCY ?? String(Math.max(2, cpus().length));
// The same report on every Node.js version: spec on a terminal, TAP otherwise (Node 20's default).
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
const res = spawnSync(
  process.execPath,
  [
    '--enable-source-maps',
    '--test',
    `--test-reporter=${reporter}`,
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
