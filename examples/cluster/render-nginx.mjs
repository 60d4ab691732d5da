#!/usr/bin/env node
// Renders nginx.conf for a Nimbus cluster (build first: npm run build).
//   node examples/cluster/render-nginx.mjs --listen 127.0.0.1:4566 --prefix /tmp/nimbus-nginx \
//        127.0.0.1:4601 127.0.0.1:4602 > /tmp/nimbus-nginx/nginx.conf
//   nginx -p /tmp/nimbus-nginx -c /tmp/nimbus-nginx/nginx.conf -e /tmp/nimbus-nginx/error.log
import { renderNginxConfig } from '../../dist/src/cluster/nginx.js';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const listen = opt('--listen', '127.0.0.1:4566');
const prefix = opt('--prefix', process.cwd());
if (args.length === 0) {
  process.stderr.write('usage: render-nginx.mjs [--listen HOST:PORT] [--prefix DIR] NODE_HOST:PORT...\n');
  process.exit(2);
}
process.stdout.write(renderNginxConfig({ listen, prefix, upstreams: args }));
