/**
 * WebSocket APIs in cluster mode: a connection lives on the node that accepted it; the
 * `@connections` API called on another node reaches it (the call is replayed on the owner),
 * and a connection whose node was killed is gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { postgresForFile, nodeClientConfig } from '../helpers/cluster.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';
import { createNodeFunctions, twoWayWebSocketApi } from './gateway-helpers.js';

const { skip, pg } = postgresForFile();

/** Opens a socket and answers its first message (the function tells the connection id). */
async function connect(url: string): Promise<{ ws: WebSocket; id: string; inbox: string[] }> {
  const ws = new WebSocket(url);
  const inbox: string[] = [];
  ws.on('message', (d: Buffer) => inbox.push(d.toString()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ action: 'whoami' }));
  const id = JSON.parse(await next(inbox)).connectionId as string;
  return { ws, id, inbox };
}

async function next(inbox: string[], timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!inbox.length) {
    if (Date.now() > deadline) throw new Error('no message');
    await new Promise((r) => setTimeout(r, 20));
  }
  return inbox.shift()!;
}

test(
  'WebSocket @connections calls reach the node holding the connection',
  { skip, timeout: 120_000 },
  async () => {
    await using cluster = await startTestCluster({ nodes: 3, postgres: pg() });
    const [a, b, c] = cluster.nodes;
    const gw = new ApiGatewayV2Client(nodeClientConfig(a.endpoint));
    const lambda = new LambdaClient(nodeClientConfig(a.endpoint));
    const clients: ApiGatewayManagementApiClient[] = [];
    try {
      await createNodeFunctions(lambda, {
        whoami: `exports.handler = async (e) => ({ statusCode: 200, body: JSON.stringify({ connectionId: e.requestContext.connectionId }) });`,
      });
      const api = { ApiId: await twoWayWebSocketApi(gw, 'c', 'whoami', 'prod') };
      const mgmt = (endpoint: string, stageUrl: boolean) => {
        const m = new ApiGatewayManagementApiClient(
          nodeClientConfig(stageUrl ? `${endpoint}/_api/${api.ApiId}/prod` : endpoint),
        );
        clients.push(m);
        return m;
      };
      const wsUrl = (endpoint: string) => `${endpoint.replace(/^http/, 'ws')}/_api/${api.ApiId}/prod`;

      // Held by A; B posts at the stage URL, C at the port root.
      const conn = await connect(wsUrl(a.endpoint));
      await mgmt(b.endpoint, true).send(
        new PostToConnectionCommand({ ConnectionId: conn.id, Data: 'via B' }),
      );
      assert.equal(await next(conn.inbox), 'via B');
      await mgmt(c.endpoint, false).send(
        new PostToConnectionCommand({ ConnectionId: conn.id, Data: 'via C' }),
      );
      assert.equal(await next(conn.inbox), 'via C');
      const got = await mgmt(b.endpoint, true).send(new GetConnectionCommand({ ConnectionId: conn.id }));
      assert.equal(got.Identity?.SourceIp, '127.0.0.1');
      assert.ok(got.LastActiveAt instanceof Date);

      // DeleteConnection on C closes A's socket; then every node answers GoneException.
      const closed = new Promise<number>((r) => conn.ws.once('close', (code: number) => r(code)));
      await mgmt(c.endpoint, true).send(new DeleteConnectionCommand({ ConnectionId: conn.id }));
      assert.equal(await closed, 1000);
      for (const n of [a, b, c])
        await assert.rejects(
          mgmt(n.endpoint, true).send(new PostToConnectionCommand({ ConnectionId: conn.id, Data: 'x' })),
          {
            name: 'GoneException',
          },
        );

      // A connection held by B: when B dies, the others answer GoneException.
      const onB = await connect(wsUrl(b.endpoint));
      await mgmt(a.endpoint, true).send(new PostToConnectionCommand({ ConnectionId: onB.id, Data: 'to B' }));
      assert.equal(await next(onB.inbox), 'to B');
      await cluster.kill(1);
      let gone = false;
      for (let i = 0; i < 40 && !gone; i++) {
        try {
          await mgmt(a.endpoint, true).send(new PostToConnectionCommand({ ConnectionId: onB.id, Data: 'x' }));
        } catch (e) {
          gone = (e as Error).name === 'GoneException';
        }
        if (!gone) await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(gone, 'a connection of a dead node is gone');
      onB.ws.terminate();
    } finally {
      for (const m of clients) m.destroy();
      gw.destroy();
      lambda.destroy();
    }
  },
);
