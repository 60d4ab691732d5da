/**
 * ImportApiKeys through the real @aws-sdk/client-api-gateway: the CSV file format of AWS's
 * developer guide (columns in any order and case, quoted usage plan id lists), keys joining
 * their usage plans and serving, an existing key value overwritten, bad records skipped with
 * warnings, failonwarnings, and the request's own errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateUsagePlanCommand,
  GetApiKeyCommand,
  GetApiKeysCommand,
  GetUsagePlanKeysCommand,
  ImportApiKeysCommand,
  type ApiKeysFormat,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { createNodeFunctions, putProxyMethod } from './gateway-helpers.js';

const KEY1 = 'apikey1234abcdefghij0123456789';
const KEY2 = 'apikey5678abcdefghij0123456789';
const csv = (text: string) => new TextEncoder().encode(text);

test('ImportApiKeys: CSV keys with usage plans, overwrites, warnings, failonwarnings, errors', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    lambda.destroy();
  });
  await createNodeFunctions(lambda, {
    hello: `exports.handler = async () => ({ statusCode: 200, body: 'hi' });`,
  });
  const api = await gw.send(new CreateRestApiCommand({ name: 'keys' }));
  const restApiId = api.id!;
  const res = await gw.send(
    new CreateResourceCommand({ restApiId, parentId: api.rootResourceId!, pathPart: 'hello' }),
  );
  await putProxyMethod(gw, restApiId, res.id!, 'GET', 'hello', { apiKeyRequired: true });
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const gold = await gw.send(
    new CreateUsagePlanCommand({ name: 'gold', apiStages: [{ apiId: restApiId, stage: 'prod' }] }),
  );
  const silver = await gw.send(new CreateUsagePlanCommand({ name: 'silver' }));
  const keysIn = async (planId: string) =>
    ((await gw.send(new GetUsagePlanKeysCommand({ usagePlanId: planId }))).items ?? [])
      .map((k) => k.value)
      .sort();
  const keyCount = async () => (await gw.send(new GetApiKeysCommand({}))).items?.length ?? 0;

  await t.test('columns in any order and case, quoted plan lists, skipped records', async () => {
    const out = await gw.send(
      new ImportApiKeysCommand({
        format: 'csv',
        body: csv(
          [
            'Key,name,Description,ENABLED,usageplanIds,Unrecognized',
            `${KEY1},First,An imported key,TRUE,"${gold.id},${silver.id}",x`,
            `${KEY2},Second,,false,'${silver.id}',y`,
            'tooshort,Third,,true,,',
            `apikey9999abcdefghij0123456789,Fourth,,true,nosuchplan,`,
            `apikeyAAAAabcdefghij0123456789,Fifth,,maybe,,`,
          ].join('\r\n') + '\r\n',
        ),
      }),
    );
    assert.equal(out.ids?.length, 2);
    assert.deepEqual(out.warnings, [
      'Skipped invalid record: 3. API Key value should be at least 20 characters',
      'Skipped invalid record: 4. Invalid Usage Plan ID specified: nosuchplan',
      'Skipped invalid record: 5. Invalid value for Enabled: maybe. Must be true or false',
    ]);
    const first = await gw.send(new GetApiKeyCommand({ apiKey: out.ids![0], includeValue: true }));
    assert.equal(first.value, KEY1);
    assert.equal(first.name, 'First');
    assert.equal(first.description, 'An imported key');
    assert.equal(first.enabled, true);
    const second = await gw.send(new GetApiKeyCommand({ apiKey: out.ids![1], includeValue: true }));
    assert.equal(second.name, 'Second');
    assert.equal(second.enabled, false);
    assert.equal(second.description, undefined);
    assert.deepEqual(await keysIn(gold.id!), [KEY1]);
    assert.deepEqual(await keysIn(silver.id!), [KEY1, KEY2].sort());
    // The imported key is good for the plan's stage; the disabled one is not.
    const base = `${srv.endpoint}/_api/${restApiId}/prod/hello`;
    assert.equal((await fetch(base, { headers: { 'x-api-key': KEY1 } })).status, 200);
    assert.equal((await fetch(base, { headers: { 'x-api-key': KEY2 } })).status, 403);
  });

  await t.test(
    'a key value imported again overwrites the key (same id); duplicates in one file',
    async () => {
      const [firstId] = (
        await gw.send(new ImportApiKeysCommand({ format: 'csv', body: csv(`name,key\nOld,${KEY1}\n`) }))
      ).ids!;
      const count = await keyCount();
      const out = await gw.send(
        new ImportApiKeysCommand({
          format: 'csv',
          body: csv(`Name,Key,Enabled\nRenamed,${KEY1},false\nRenamedAgain,${KEY1},true\n`),
        }),
      );
      assert.deepEqual(out.ids, [firstId]);
      assert.deepEqual(out.warnings, []);
      assert.equal(await keyCount(), count);
      const k = await gw.send(new GetApiKeyCommand({ apiKey: firstId }));
      assert.equal(k.name, 'RenamedAgain');
      assert.equal(k.enabled, true);
      assert.deepEqual(await keysIn(gold.id!), [KEY1], 'the plans it joined are kept');
    },
  );

  await t.test('failonwarnings: one bad record fails the import and nothing changes', async () => {
    const count = await keyCount();
    await rejects(
      gw.send(
        new ImportApiKeysCommand({
          format: 'csv',
          failOnWarnings: true,
          body: csv(`name,key\nGood,apikeyBBBBabcdefghij0123456789\n,apikeyCCCCabcdefghij0123456789\n`),
        }),
      ),
      'BadRequestException',
      'Warnings found during import:\n\tSkipped invalid record: 2. API Key name should not be empty',
    );
    assert.equal(await keyCount(), count);
  });

  await t.test('a missing column, a malformed file, a bad format: BadRequestException', async () => {
    await rejects(
      gw.send(new ImportApiKeysCommand({ format: 'csv', body: csv(`name,value\nA,${KEY1}\n`) })),
      'BadRequestException',
      "Missing required column 'Key'",
    );
    await rejects(
      gw.send(new ImportApiKeysCommand({ format: 'csv', body: csv(`key,description\n${KEY1},x\n`) })),
      'BadRequestException',
      "Missing required column 'Name'",
    );
    await rejects(
      gw.send(new ImportApiKeysCommand({ format: 'csv', body: csv(`name,key\n"Open,${KEY1}\n`) })),
      'BadRequestException',
      'Invalid CSV: the quoted field starting on line 2 is not closed',
    );
    await rejects(
      gw.send(
        new ImportApiKeysCommand({ format: 'json' as ApiKeysFormat, body: csv(`name,key\nA,${KEY1}\n`) }),
      ),
      'BadRequestException',
      'Invalid format specified: json. Valid options are csv',
    );
  });
});
