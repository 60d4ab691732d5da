import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCapabilities, reachableByOthers } from './capabilities.js';

test('isolation none: plain processes, says why, reports the real runtimes', () => {
  const caps = detectCapabilities('none');
  assert.equal(caps.level, 'none');
  assert.equal(caps.bubblewrap, false);
  assert.match(caps.reason ?? '', /disabled/);
  assert.equal(caps.runtimes.node, process.versions.node);
});

test('auto: bubblewrap only when it really runs; a reason whenever degraded', () => {
  const caps = detectCapabilities('auto');
  if (caps.level === 'bubblewrap') assert.equal(caps.bubblewrap, true);
  else assert.ok(caps.reason && caps.reason.length > 0);
  if (caps.bubblewrap && caps.cgroups !== 'none') assert.equal(caps.reason, undefined);
});

test('strict refuses to start without bubblewrap and cgroups', () => {
  const caps = detectCapabilities('auto');
  if (caps.bubblewrap && caps.cgroups !== 'none') {
    assert.equal(detectCapabilities('strict').level, 'bubblewrap');
  } else {
    assert.throws(() => detectCapabilities('strict'), /isolation strict/);
  }
});

test('reachableByOthers checks every parent directory', () => {
  assert.equal(reachableByOthers('/usr/bin/env'), true);
});
