#!/usr/bin/env node
// Copies the runtime agent's non-TypeScript assets (bootstrap.py) next to its compiled JS and
// creates the empty node_modules mount point the sandbox binds Nimbus's node_modules onto.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const src = 'src/compute/runtimes';
const dst = 'dist/src/compute/runtimes';
mkdirSync(join(dst, 'node_modules'), { recursive: true });
for (const name of readdirSync(src)) {
  if (name.endsWith('.ts')) continue;
  copyFileSync(join(src, name), join(dst, name));
}
// The agent is ESM wherever it is mounted (/var/runtime has no package.json of its own above it).
writeFileSync(join(dst, 'package.json'), '{ "type": "module" }\n');
