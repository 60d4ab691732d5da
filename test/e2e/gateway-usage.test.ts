/**
 * REST API usage plans end to end with the real @aws-sdk/client-api-gateway: the quota is
 * enforced (429 "Limit Exceeded"), GetUsage reports the day's [used, remaining], UpdateUsage
 * changes what is left, and the counters survive kill -9 of `nimbus up` (a new process on the
 * same data dir still refuses the used-up key).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  GetUsageCommand,
  UpdateUsageCommand,
  paginateGetUsage,
} from '@aws-sdk/client-api-gateway';
import { killTestScaffold, startNimbusProcess } from '../helpers/nimbus-process.js';
import { keyedApiWithQuota } from './gateway-helpers.js';
import { nodeClientConfig } from '../helpers/cluster.js';

const today = () => new Date().toISOString().slice(0, 10);

test(
  'usage plans: quota 429, GetUsage, UpdateUsage, counters survive kill -9',
  { timeout: 120_000 },
  async (t) => {
    const { dir, children, clients } = killTestScaffold(t, 'nimbus-gw-usage-');
    const start = async () => {
      const n = await startNimbusProcess(dir);
      children.push(n.child);
      const gw = new APIGatewayClient(nodeClientConfig(n.endpoint));
      const lambda = new LambdaClient(nodeClientConfig(n.endpoint));
      clients.push(gw, lambda);
      return { ...n, gw, lambda };
    };

    let node = await start();
    const { apiId, planId, keyId, keyValue } = await keyedApiWithQuota(node.gw, node.lambda, {
      limit: 3,
      period: 'DAY',
    });
    const call = async () => {
      const r = await fetch(`${node.endpoint}/_api/${apiId}/prod/keyed`, {
        headers: { 'x-api-key': keyValue },
      });
      return { status: r.status, body: await r.text() };
    };
    const usage = async () =>
      (await node.gw.send(new GetUsageCommand({ usagePlanId: planId, startDate: today(), endDate: today() })))
        .items?.[keyId];

    assert.deepEqual(await usage(), [[0, 3]]);
    for (let i = 0; i < 3; i++) assert.equal((await call()).status, 200);
    const over = await call();
    assert.equal(over.status, 429);
    assert.deepEqual(JSON.parse(over.body), { message: 'Limit Exceeded' });
    const got = await node.gw.send(
      new GetUsageCommand({ usagePlanId: planId, startDate: today(), endDate: today() }),
    );
    assert.equal(got.usagePlanId, planId);
    assert.equal(got.startDate, today());
    assert.equal(got.endDate, today());
    assert.deepEqual(got.items, { [keyId]: [[3, 0]] });

    // UpdateUsage grants two more for this period.
    const up = await node.gw.send(
      new UpdateUsageCommand({
        usagePlanId: planId,
        keyId,
        patchOperations: [{ op: 'replace', path: '/remaining', value: '2' }],
      }),
    );
    assert.deepEqual(up.items, { [keyId]: [[3, 2]] });
    assert.equal((await call()).status, 200);
    assert.deepEqual(await usage(), [[4, 1]]);

    // kill -9 right after the acknowledged request: the counter was committed before the answer.
    node.child.kill('SIGKILL');
    await new Promise((r) => node.child.once('exit', r));
    node = await start();
    assert.deepEqual(await usage(), [[4, 1]]);
    assert.equal((await call()).status, 200);
    assert.equal((await call()).status, 429);
    assert.deepEqual(await usage(), [[5, 0]]);

    // Paging over the plan's keys (limit / position), as the SDK's paginator does it.
    const k2 = await node.gw.send(new CreateApiKeyCommand({ name: 'second', enabled: true }));
    await node.gw.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: planId, keyId: k2.id, keyType: 'API_KEY' }),
    );
    const pages = [];
    for await (const page of paginateGetUsage(
      { client: node.gw, pageSize: 1 },
      { usagePlanId: planId, startDate: today(), endDate: today() },
    ))
      pages.push(page.items);
    assert.deepEqual(
      pages.map((p) => Object.keys(p ?? {}).length),
      [1, 1],
    );
    assert.deepEqual(Object.assign({}, ...pages), { [keyId]: [[5, 0]], [k2.id!]: [[0, 3]] });

    // Validation: AWS's exception types.
    const bad = async (input: Record<string, unknown>, name: string, message: RegExp) =>
      assert.rejects(
        node.gw.send(new GetUsageCommand({ usagePlanId: planId, ...input } as never)),
        (e: Error) => {
          assert.equal(e.name, name);
          assert.match(e.message, message);
          return true;
        },
      );
    await bad({ endDate: today() }, 'BadRequestException', /start date/);
    await bad({ startDate: today() }, 'BadRequestException', /end date/);
    await bad({ startDate: '2026-02-30', endDate: today() }, 'BadRequestException', /Invalid start date/);
    await bad({ startDate: '2026-12-08', endDate: '2026-12-07' }, 'BadRequestException', /before the start/);
    await bad({ startDate: '2026-01-01', endDate: '2026-12-31' }, 'BadRequestException', /90 days/);
    await bad(
      { usagePlanId: 'nope', startDate: today(), endDate: today() },
      'NotFoundException',
      /Usage Plan/,
    );
    await assert.rejects(
      node.gw.send(
        new UpdateUsageCommand({
          usagePlanId: planId,
          keyId,
          patchOperations: [{ op: 'replace', path: '/used', value: '1' }],
        }),
      ),
      { name: 'BadRequestException', message: /Invalid patch path/ },
    );
    await assert.rejects(
      node.gw.send(new UpdateUsageCommand({ usagePlanId: planId, keyId: 'nokey', patchOperations: [] })),
      { name: 'NotFoundException' },
    );
  },
);
