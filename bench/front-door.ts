/**
 * Front-door overhead: a trivial AWS JSON operation through Nimbus (routing, dev-mode SigV4
 * parsing, request ids, JSON decode/encode) versus a bare node:http server doing the same
 * body read + JSON reply. Run: `npx tsc -p . && node dist/bench/front-door.js [seconds]`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { defaultConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/logger.js';
import { startNimbus } from '../src/server/app.js';
import type { JsonService } from '../src/server/service.js';

const seconds = Number(process.argv[2] ?? 5);
const body = '{"a":1}';
const headers = {
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': 'Bench_1.Echo',
  'x-amz-date': '20260101T000000Z',
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/bench/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=' +
    '0'.repeat(64),
};

async function load(url: string) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    connections: 10,
    duration: seconds,
    workers: 1,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 };
}

const bare = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const out = JSON.stringify({ input: JSON.parse(Buffer.concat(chunks).toString()) });
    res.writeHead(200, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(out),
    });
    res.end(out);
  });
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const barePort = (bare.address() as AddressInfo).port;

const echo: JsonService = {
  protocol: 'json',
  signingName: 'bench',
  jsonVersion: '1.0',
  targetPrefix: 'Bench_1',
  operations: { Echo: async (_ctx, input) => ({ input }) },
};
const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
const nimbus = await startNimbus(defaultConfig({ port: 0, dataDir: dir }), {
  logger: silentLogger,
  extraServices: () => [echo],
});

await load(`http://127.0.0.1:${barePort}/`); // warm-up both
await load(nimbus.endpoint);
const b = await load(`http://127.0.0.1:${barePort}/`);
const n = await load(nimbus.endpoint);
// The server thread is saturated (the load generator runs in a worker thread), so 1/rps is its CPU time per request.
const overheadUs = 1e6 / n.rps - 1e6 / b.rps;
console.log(JSON.stringify({ bare: b, nimbus: n, overheadPerRequestUs: Math.round(overheadUs) }, null, 2));

await nimbus.close();
bare.close();
rmSync(dir, { recursive: true, force: true });
