import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CACHED_RESPONSE_BYTES, ResponseCache } from './response-cache.js';
import type { HttpResult } from '../response.js';

const answer = (body: string, status = 200): HttpResult => ({
  status,
  headers: { 'content-type': ['text/plain'] },
  body: Buffer.from(body),
});

test('entries are served until their TTL ends, as copies', () => {
  const c = new ResponseCache();
  c.set('a|prod', 'g1', 'GET /x', answer('one'), 1000, 0);
  const hit = c.get('a|prod', 'g1', 'GET /x', 999);
  assert.equal(hit?.body.toString(), 'one');
  hit!.headers.warning = ['changed'];
  assert.equal(c.get('a|prod', 'g1', 'GET /x', 999)?.headers.warning, undefined);
  assert.equal(c.get('a|prod', 'g1', 'GET /x', 1000), undefined);
  assert.deepEqual(c.usage, { bytes: 0, entries: 0 });
});

test('a TTL of 0 and answers over 1 MiB are not kept', () => {
  const c = new ResponseCache();
  c.set('a|prod', 'g1', 'k', answer('x'), 0, 0);
  c.set('a|prod', 'g1', 'big', answer('x'.repeat(MAX_CACHED_RESPONSE_BYTES + 1)), 1000, 0);
  assert.equal(c.usage.entries, 0);
});

test('another generation of the stage (a new deployment) drops its entries; FlushStageCache too', () => {
  const c = new ResponseCache();
  c.set('a|prod', 'g1', 'k', answer('old'), 60_000, 0);
  c.set('a|dev', 'g1', 'k', answer('dev'), 60_000, 0);
  assert.equal(c.get('a|prod', 'g2', 'k', 1), undefined);
  c.set('a|prod', 'g2', 'k', answer('new'), 60_000, 1);
  assert.equal(c.get('a|prod', 'g2', 'k', 2)?.body.toString(), 'new');
  c.flush('a|prod');
  assert.equal(c.get('a|prod', 'g2', 'k', 3), undefined);
  assert.equal(c.get('a|dev', 'g1', 'k', 3)?.body.toString(), 'dev');
  assert.equal(c.usage.entries, 1);
});

test('the least recently used entries go when the byte budget is spent', () => {
  const c = new ResponseCache(3000);
  c.set('a|prod', 'g', 'k1', answer('1'.repeat(900)), 60_000, 0);
  c.set('a|prod', 'g', 'k2', answer('2'.repeat(900)), 60_000, 0);
  assert.ok(c.get('a|prod', 'g', 'k1', 1)); // k1 is now the most recently used
  c.set('a|prod', 'g', 'k3', answer('3'.repeat(900)), 60_000, 1);
  assert.equal(c.usage.entries, 2);
  assert.equal(c.get('a|prod', 'g', 'k2', 2), undefined);
  assert.ok(c.get('a|prod', 'g', 'k1', 2));
  assert.ok(c.get('a|prod', 'g', 'k3', 2));
  assert.ok(c.usage.bytes <= 3000);
});
