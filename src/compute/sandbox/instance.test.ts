import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../core/clock.js';
import { DONE_MARKER } from '../runtimes/protocol.js';
import type { AgentMessage } from '../runtimes/protocol.js';
import { linkTree, SandboxInstance } from './instance.js';

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

test("output after an invocation's marker belongs to the next invocation, even before the result arrives", async () => {
  const inst = new SandboxInstance({
    id: 't',
    uid: 1000,
    isolation: 'none',
    pidsMax: 64,
    stagingDir: '/nonexistent',
    etcDir: '/nonexistent',
    runtimeDir: '/nonexistent',
    endpointPort: 0,
    egress: false,
    tmpSizeMb: 16,
    clock: new ManualClock(0),
  });
  // The agent's pipe and its IPC channel are read independently: here the pipe runs ahead.
  const io = inst as unknown as { onOutput(d: string): void; onMessage(m: AgentMessage): void };
  const invoke = (id: string) =>
    inst.invoke({ t: 'invoke', requestId: id, payload: '{}', invokedFunctionArn: 'arn', remainingMs: 1000 });
  const first = invoke('r1');
  io.onOutput(`during r1\n${DONE_MARKER}r1\nafter r1\n`);
  io.onMessage({ t: 'result', requestId: 'r1', ok: true, payload: '1', clean: false });
  const r1 = await first;
  assert.deepEqual(
    r1.logs.map((l) => l.message),
    ['during r1'],
  );
  const second = invoke('r2');
  io.onOutput(`during r2\n${DONE_MARKER}r2\n`);
  io.onMessage({ t: 'result', requestId: 'r2', ok: true, payload: '2', clean: false });
  assert.deepEqual(
    (await second).logs.map((l) => l.message),
    ['after r1', 'during r2'],
  );
});
