/**
 * REST API usage plan quotas in cluster mode: two `nimbus up` nodes on one throwaway
 * PostgreSQL count one quota per key (not one per node), also under concurrent requests
 * spread over both nodes; GetUsage on either node reports the same usage, and UpdateUsage on
 * one node changes what the other allows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { APIGatewayClient, GetUsageCommand, UpdateUsageCommand } from '@aws-sdk/client-api-gateway';
import { postgresForFile, nodeClientConfig } from '../helpers/cluster.js';
import { startTestCluster } from '../../src/cluster/test-cluster.js';
import { keyedApiWithQuota } from './gateway-helpers.js';

const { skip, pg } = postgresForFile();

test('usage plan quotas: two nodes share one quota per key', { skip, timeout: 120_000 }, async () => {
  await using cluster = await startTestCluster({ nodes: 2, postgres: pg() });
  const [a, b] = cluster.nodes;
  const gwA = new APIGatewayClient(nodeClientConfig(a.endpoint));
  const gwB = new APIGatewayClient(nodeClientConfig(b.endpoint));
  const lambda = new LambdaClient(nodeClientConfig(a.endpoint));
  try {
    const { apiId, planId, keyId, keyValue } = await keyedApiWithQuota(gwA, lambda, {
      limit: 6,
      period: 'MONTH',
    });
    const call = async (endpoint: string) =>
      (await fetch(`${endpoint}/_api/${apiId}/prod/keyed`, { headers: { 'x-api-key': keyValue } })).status;

    // Alternating nodes: 4 requests take 4 of the 6, whichever node served them.
    for (let i = 0; i < 4; i++) assert.equal(await call(i % 2 ? b.endpoint : a.endpoint), 200);
    // 10 concurrent requests over both nodes: exactly the 2 left pass.
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(i % 2 ? b.endpoint : a.endpoint)),
    );
    assert.equal(statuses.filter((s) => s === 200).length, 2, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 8, statuses.join(','));
    assert.equal(await call(a.endpoint), 429);
    assert.equal(await call(b.endpoint), 429);

    const today = new Date().toISOString().slice(0, 10);
    for (const gw of [gwA, gwB]) {
      const u = await gw.send(new GetUsageCommand({ usagePlanId: planId, startDate: today, endDate: today }));
      assert.deepEqual(u.items, { [keyId]: [[6, 0]] });
    }
    // UpdateUsage on B grants one more: A sees it at once.
    const up = await gwB.send(
      new UpdateUsageCommand({
        usagePlanId: planId,
        keyId,
        patchOperations: [{ op: 'replace', path: '/remaining', value: '1' }],
      }),
    );
    assert.deepEqual(up.items, { [keyId]: [[6, 1]] });
    assert.equal(await call(a.endpoint), 200);
    assert.equal(await call(b.endpoint), 429);
    const u = await gwA.send(new GetUsageCommand({ usagePlanId: planId, startDate: today, endDate: today }));
    assert.deepEqual(u.items, { [keyId]: [[7, 0]] });
  } finally {
    gwA.destroy();
    gwB.destroy();
    lambda.destroy();
  }
});
