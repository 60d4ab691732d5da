import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { creatorPid, detectCgroups, InstanceCgroup, processAlive, sweepStaleCgroups } from './cgroups.js';

const { layout, reason } = detectCgroups();

test(
  'instance cgroup: limits, peak, removal',
  { skip: !layout && `no usable cgroups: ${reason}` },
  async () => {
    const cg = new InstanceCgroup(layout!, `unit-${process.pid}`, 8);
    try {
      cg.setLimits(256);
      if (layout!.version === 'v1') {
        const mem = join(layout!.roots.memory, 'nimbus', cg.name);
        assert.equal(
          readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8').trim(),
          String(256 * 1024 * 1024),
        );
        assert.equal(
          readFileSync(join(layout!.roots.pids, 'nimbus', cg.name, 'pids.max'), 'utf8').trim(),
          '32',
          'pids.max is at least 32',
        );
        assert.equal(
          readFileSync(join(layout!.roots.cpu, 'nimbus', cg.name, 'cpu.shares'), 'utf8').trim(),
          String(Math.round((1024 * 256) / 1769)),
        );
      }
      assert.equal(cg.pids().length, 0);
      assert.equal(cg.oomKilled(), false);
      assert.ok(cg.peakBytes() >= 0);
      assert.match(cg.joinScript(), /echo \$\$ > '.*cgroup\.procs'/);
    } finally {
      await cg.remove();
    }
    for (const d of cg.dirs) assert.equal(existsSync(d), false);
  },
);

test(
  "stale cgroups: a dead process's instance groups are removed, a live one's kept",
  { skip: !layout && `no usable cgroups: ${reason}` },
  async () => {
    const dead = spawnSync('true').pid!;
    assert.equal(processAlive(dead), false);
    assert.equal(processAlive(process.pid), true);
    const gone = new InstanceCgroup(layout!, `i${dead.toString(36)}-0-sweep${process.pid}`, 32);
    const mine = new InstanceCgroup(layout!, `i${process.pid.toString(36)}-0-sweep`, 32);
    assert.equal(creatorPid(gone.name), dead);
    try {
      assert.ok(sweepStaleCgroups(layout!) >= gone.dirs.length);
      for (const d of gone.dirs) assert.equal(existsSync(d), false, d);
      for (const d of mine.dirs) assert.equal(existsSync(d), true, d);
    } finally {
      await gone.remove();
      await mine.remove();
    }
  },
);
