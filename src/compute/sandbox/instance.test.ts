import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linkTree } from './instance.js';

test('staging hard-links files, creates dirs, recreates symlinks without following them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-link-'));
  try {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(join(src, 'lib'), { recursive: true });
    mkdirSync(dst);
    writeFileSync(join(src, 'index.js'), 'a');
    writeFileSync(join(src, 'lib', 'x.js'), 'b');
    symlinkSync('/etc/hostname', join(src, 'escape'));
    linkTree(src, dst);
    assert.equal(statSync(join(dst, 'index.js')).ino, statSync(join(src, 'index.js')).ino);
    assert.equal(statSync(join(dst, 'lib', 'x.js')).ino, statSync(join(src, 'lib', 'x.js')).ino);
    assert.ok(lstatSync(join(dst, 'escape')).isSymbolicLink());
    assert.equal(readlinkSync(join(dst, 'escape')), '/etc/hostname');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
