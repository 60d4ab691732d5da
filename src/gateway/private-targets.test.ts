import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrivateTargets, restPrivateUrl } from './private-targets.js';

test('restPrivateUrl: the host:port or host mapped replaces scheme, host and port; unmapped stays', () => {
  const targets = parsePrivateTargets([
    'nlb-1.elb.us-east-1.amazonaws.com=http://127.0.0.1:8080,nlb-2.internal:8443=https://localhost:9443',
  ]);
  assert.equal(
    restPrivateUrl('https://NLB-1.elb.us-east-1.amazonaws.com/a/b?x=1', targets),
    'http://127.0.0.1:8080/a/b?x=1',
  );
  assert.equal(restPrivateUrl('https://nlb-2.internal:8443/p', targets), 'https://localhost:9443/p');
  // Another port of a host mapped only with its port: not mapped.
  assert.equal(restPrivateUrl('https://nlb-2.internal/p', targets), 'https://nlb-2.internal/p');
  assert.equal(restPrivateUrl('http://elsewhere.example/p', targets), 'http://elsewhere.example/p');
  assert.equal(restPrivateUrl('http://elsewhere.example/p', undefined), 'http://elsewhere.example/p');
});
