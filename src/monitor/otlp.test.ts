import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { silentLogger } from '../core/logger.js';
import { OtlpExporter, traceIdsFromHeader } from './otlp.js';

test('OTLP export: one span per invocation, trace id from the X-Ray header, POSTed to /v1/traces', async () => {
  const bodies: { url: string; body: any }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ url: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString()) });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const exporter = new OtlpExporter({ endpoint: `http://127.0.0.1:${port}/`, logger: silentLogger });
    const header = 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1';
    assert.deepEqual(traceIdsFromHeader(header), {
      traceId: '67891233abcdef012345678912345678',
      parent: '53995c3f42cd8ad8',
    });
    exporter.onInvocation({
      time: 2000,
      startTime: 1000,
      accountId: '000000000000',
      region: 'us-east-1',
      functionName: 'f',
      version: '$LATEST',
      requestId: 'r-1',
      invocationType: 'RequestResponse',
      status: 'error',
      durationMs: 12.5,
      billedMs: 13,
      memoryMb: 128,
      coldStart: true,
      maxMemoryUsedMb: 40,
      concurrent: 1,
      traceHeader: header,
    });
    await exporter.flush();
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0].url, '/v1/traces');
    const span = bodies[0].body.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(span.traceId, '67891233abcdef012345678912345678');
    assert.equal(span.startTimeUnixNano, '1000000000');
    assert.equal(span.endTimeUnixNano, '1012500000');
    assert.equal(span.status.code, 2);
    assert.ok(
      span.attributes.some((a: any) => a.key === 'faas.invocation_id' && a.value.stringValue === 'r-1'),
    );
    assert.equal(exporter.exported, 1);
  } finally {
    server.close();
  }
});
