/**
 * The documented nginx example in front of two Nimbus nodes sharing PostgreSQL: requests are
 * spread over the nodes, the AWS SDK works through the proxy, and when a node dies the proxy
 * keeps answering from the survivor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import AdmZip from 'adm-zip';
import { CreateFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { postgresForFile } from '../helpers/cluster.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';
import { findNginx, NGINX_MISSING, startNginx } from '../../src/cluster/nginx.js';

const { skip, pg } = postgresForFile(() => (findNginx() ? undefined : NGINX_MISSING));
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

test(
  'two nodes behind nginx: spread, SDK through the proxy, a dead node is routed around',
  { skip, timeout: 120_000 },
  async () => {
    await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
    const nginx = await startNginx({
      upstreams: cluster.nodes.map((n) => n.endpoint),
      port: await freePort(),
    });
    const lambda = new LambdaClient({
      endpoint: nginx.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const h = (await (await fetch(`${nginx.endpoint}/_nimbus/health`)).json()) as {
          nodeId: string;
          nodes: unknown[];
        };
        seen.add(h.nodeId);
        assert.equal(h.nodes.length, 2);
      }
      assert.deepEqual([...seen].sort(), ['node-0', 'node-1'], 'round robin reaches both nodes');

      const z = new AdmZip();
      z.addFile('index.js', Buffer.from(`exports.handler = async (e) => e.n * 2;`), '', 0o644 << 16);
      await lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'behind-nginx',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/r',
          Handler: 'index.handler',
          Code: { ZipFile: z.toBuffer() },
        }),
      );
      const call = async (n: number) => {
        const out = await lambda.send(
          new InvokeCommand({ FunctionName: 'behind-nginx', Payload: Buffer.from(JSON.stringify({ n })) }),
        );
        assert.equal(out.FunctionError, undefined);
        return JSON.parse(Buffer.from(out.Payload!).toString()) as number;
      };
      for (let i = 0; i < 6; i++) assert.equal(await call(i), i * 2);

      await cluster.kill(1, 'SIGKILL');
      for (let i = 0; i < 6; i++) assert.equal(await call(i), i * 2, 'the survivor answers through nginx');
    } finally {
      lambda.destroy();
      await nginx.stop();
    }
  },
);
