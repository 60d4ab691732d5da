import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderNginxConfig } from './nginx.js';

test('the nginx template renders for the nodes: every placeholder filled, one server line per node', () => {
  const conf = renderNginxConfig({
    prefix: '/tmp/p',
    listen: '127.0.0.1:8080',
    upstreams: ['127.0.0.1:4601', 'http://127.0.0.1:4602/'],
  });
  assert.doesNotMatch(conf, /\{\{\w+\}\}/);
  assert.match(conf, /^\s*listen 127\.0\.0\.1:8080;$/m);
  assert.match(conf, /^pid \/tmp\/p\/nginx\.pid;$/m);
  assert.deepEqual(
    conf.match(/^\s*server 127\.0\.0\.1:\d+ .*;$/gm)?.map((l) => l.trim()),
    [
      'server 127.0.0.1:4601 max_fails=1 fail_timeout=5s;',
      'server 127.0.0.1:4602 max_fails=1 fail_timeout=5s;',
    ],
  );
  assert.match(conf, /proxy_set_header Host \$http_host;/, 'SigV4 needs the client Host');
  assert.match(conf, /proxy_next_upstream error timeout;/, 'no replay of received requests');
  assert.throws(() => renderNginxConfig({ prefix: '/p', listen: '1', upstreams: [] }), /at least one/);
  assert.throws(() => renderNginxConfig({ prefix: '/p', listen: '1', upstreams: ['x;y:1'] }), /host:port/);
});
