/**
 * REST APIs (apigateway v1): the Update*, Delete* and Get* management calls beyond create,
 * through the real @aws-sdk/client-api-gateway, with their effect on serving where they have one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  DeleteAuthorizerCommand,
  DeleteDeploymentCommand,
  DeleteIntegrationCommand,
  DeleteUsagePlanKeyCommand,
  GetApiKeyCommand,
  GetDeploymentCommand,
  GetIntegrationCommand,
  GetResourcesCommand,
  GetTagsCommand,
  GetUsagePlanCommand,
  GetUsagePlanKeyCommand,
  GetUsagePlanKeysCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  TagResourceCommand,
  TestInvokeMethodCommand,
  UntagResourceCommand,
  UpdateApiKeyCommand,
  UpdateAuthorizerCommand,
  UpdateDeploymentCommand,
  UpdateIntegrationCommand,
  UpdateMethodCommand,
  UpdateResourceCommand,
  UpdateRestApiCommand,
  UpdateStageCommand,
  UpdateUsagePlanCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, body: event.resource + ' ' + event.path });`;
const AUTH = `exports.handler = async (event) => ({ principalId: 'u', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] } });`;
const lambdaUri = (name: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${name}/invocations`;

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text() };
}

test('REST APIs: updating and deleting what was created', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
  });
  await createNodeFunctions(lambda, { echo: ECHO, auth: AUTH });
  const api = await gw.send(new CreateRestApiCommand({ name: 'manage' }));
  const restApiId = api.id!;
  const items = await gw.send(
    new CreateResourceCommand({ restApiId, parentId: api.rootResourceId!, pathPart: 'items' }),
  );
  const one = await gw.send(new CreateResourceCommand({ restApiId, parentId: items.id!, pathPart: '{id}' }));
  for (const resourceId of [items.id!, one.id!]) {
    await gw.send(
      new PutMethodCommand({ restApiId, resourceId, httpMethod: 'GET', authorizationType: 'NONE' }),
    );
    await gw.send(
      new PutIntegrationCommand({
        restApiId,
        resourceId,
        httpMethod: 'GET',
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: lambdaUri('echo'),
      }),
    );
  }
  const first = await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;
  const redeploy = () => gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));

  await t.test(
    'TestInvokeMethod: a Lambda proxy method with path parameters and stage variables',
    async () => {
      const out = await gw.send(
        new TestInvokeMethodCommand({
          restApiId,
          resourceId: one.id,
          httpMethod: 'GET',
          pathWithQueryString: '/items/42?full=1',
          stageVariables: { color: 'red' },
        }),
      );
      assert.equal(out.status, 200);
      assert.equal(out.body, '/items/{id} /items/42');
      assert.match(out.log ?? '', /Received response\. Status: 200/);
    },
  );

  await t.test('UpdateRestApi: replace, binary media types with ~1 escapes, unknown paths', async () => {
    const out = await gw.send(
      new UpdateRestApiCommand({
        restApiId,
        patchOperations: [
          { op: 'replace', path: '/name', value: 'renamed' },
          { op: 'replace', path: '/description', value: 'now described' },
          { op: 'add', path: '/binaryMediaTypes/image~1png', value: '' },
          { op: 'add', path: '/binaryMediaTypes/application~1octet-stream' },
          { op: 'replace', path: '/endpointConfiguration/types/EDGE', value: 'REGIONAL' },
          { op: 'replace', path: '/minimumCompressionSize', value: '1024' },
        ],
      }),
    );
    assert.equal(out.name, 'renamed');
    assert.equal(out.description, 'now described');
    assert.deepEqual(out.binaryMediaTypes, ['image/png', 'application/octet-stream']);
    assert.deepEqual(out.endpointConfiguration?.types, ['REGIONAL']);
    assert.equal(out.minimumCompressionSize, 1024);
    const removed = await gw.send(
      new UpdateRestApiCommand({
        restApiId,
        patchOperations: [{ op: 'remove', path: '/binaryMediaTypes/image~1png' }],
      }),
    );
    assert.deepEqual(removed.binaryMediaTypes, ['application/octet-stream']);
    await rejects(
      gw.send(
        new UpdateRestApiCommand({
          restApiId,
          patchOperations: [{ op: 'replace', path: '/colour', value: 'x' }],
        }),
      ),
      'BadRequestException',
      /^Invalid patch path {2}'\/colour' specified for op 'replace'\. Must be one of: \[\/name, /,
    );
    await rejects(
      gw.send(
        new UpdateRestApiCommand({
          restApiId: 'nosuchapi0',
          patchOperations: [{ op: 'replace', path: '/name', value: 'x' }],
        }),
      ),
      'NotFoundException',
    );
  });

  await t.test(
    'UpdateResource renames a path part; children and serving follow after a deployment',
    async () => {
      const out = await gw.send(
        new UpdateResourceCommand({
          restApiId,
          resourceId: items.id!,
          patchOperations: [{ op: 'replace', path: '/pathPart', value: 'things' }],
        }),
      );
      assert.equal(out.path, '/things');
      const all = await gw.send(new GetResourcesCommand({ restApiId }));
      assert.deepEqual(all.items!.map((r) => r.path).sort(), ['/', '/things', '/things/{id}']);
      // The stage still serves its deployment until the next one.
      assert.equal((await get(`${base}/items/7`)).body, '/items/{id} /items/7');
      await redeploy();
      assert.equal((await get(`${base}/things/7`)).body, '/things/{id} /things/7');
      assert.equal((await get(`${base}/items/7`)).status, 403);
      await rejects(
        gw.send(
          new UpdateResourceCommand({
            restApiId,
            resourceId: api.rootResourceId!,
            patchOperations: [{ op: 'replace', path: '/pathPart', value: 'x' }],
          }),
        ),
        'BadRequestException',
      );
      await rejects(
        gw.send(
          new UpdateResourceCommand({
            restApiId,
            resourceId: items.id!,
            patchOperations: [{ op: 'replace', path: '/parentId', value: one.id! }],
          }),
        ),
        'BadRequestException',
        'A resource cannot be moved under itself',
      );
    },
  );

  await t.test('UpdateMethod: apiKeyRequired is enforced after a deployment', async () => {
    const m = await gw.send(
      new UpdateMethodCommand({
        restApiId,
        resourceId: one.id!,
        httpMethod: 'GET',
        patchOperations: [
          { op: 'replace', path: '/apiKeyRequired', value: 'true' },
          { op: 'replace', path: '/operationName', value: 'GetThing' },
          { op: 'add', path: '/requestParameters/method.request.header.x-trace', value: 'false' },
        ],
      }),
    );
    assert.equal(m.apiKeyRequired, true);
    assert.equal(m.operationName, 'GetThing');
    assert.deepEqual(m.requestParameters, { 'method.request.header.x-trace': false });
    await redeploy();
    assert.equal((await get(`${base}/things/1`)).status, 403);
    await gw.send(
      new UpdateMethodCommand({
        restApiId,
        resourceId: one.id!,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/apiKeyRequired', value: 'false' }],
      }),
    );
    await redeploy();
    assert.equal((await get(`${base}/things/1`)).status, 200);
    await rejects(
      gw.send(
        new UpdateMethodCommand({
          restApiId,
          resourceId: one.id!,
          httpMethod: 'GET',
          patchOperations: [{ op: 'replace', path: '/authorizationType', value: 'CUSTOM' }],
        }),
      ),
      'BadRequestException',
      /requires a valid authorizer/,
    );
  });

  await t.test('authorizers: update, and delete refused while a method uses one', async () => {
    const a = await gw.send(
      new CreateAuthorizerCommand({
        restApiId,
        name: 'tok',
        type: 'TOKEN',
        authorizerUri: lambdaUri('auth'),
      }),
    );
    const up = await gw.send(
      new UpdateAuthorizerCommand({
        restApiId,
        authorizerId: a.id!,
        patchOperations: [
          { op: 'replace', path: '/authorizerResultTtlInSeconds', value: '0' },
          { op: 'replace', path: '/name', value: 'token' },
        ],
      }),
    );
    assert.equal(up.authorizerResultTtlInSeconds, 0);
    assert.equal(up.name, 'token');
    await rejects(
      gw.send(
        new UpdateAuthorizerCommand({
          restApiId,
          authorizerId: a.id!,
          patchOperations: [{ op: 'replace', path: '/authorizerResultTtlInSeconds', value: '7200' }],
        }),
      ),
      'BadRequestException',
      'Invalid authorizer TTL specified. Must be between 0 and 3600 seconds',
    );
    await gw.send(
      new UpdateMethodCommand({
        restApiId,
        resourceId: items.id!,
        httpMethod: 'GET',
        patchOperations: [
          { op: 'replace', path: '/authorizationType', value: 'CUSTOM' },
          { op: 'replace', path: '/authorizerId', value: a.id! },
        ],
      }),
    );
    await redeploy();
    assert.equal((await get(`${base}/things`)).status, 401);
    assert.equal((await get(`${base}/things`, { authorization: 'x' })).status, 200);
    await rejects(
      gw.send(new DeleteAuthorizerCommand({ restApiId, authorizerId: a.id! })),
      'ConflictException',
      "Cannot delete authorizer 'token', is referenced in method: GET//things",
    );
    await gw.send(
      new UpdateMethodCommand({
        restApiId,
        resourceId: items.id!,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/authorizationType', value: 'NONE' }],
      }),
    );
    await gw.send(new DeleteAuthorizerCommand({ restApiId, authorizerId: a.id! }));
    await rejects(
      gw.send(new DeleteAuthorizerCommand({ restApiId, authorizerId: a.id! })),
      'NotFoundException',
    );
  });

  await t.test('integrations: update, delete, and a deployment needs one per method', async () => {
    const i = await gw.send(
      new UpdateIntegrationCommand({
        restApiId,
        resourceId: items.id!,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/timeoutInMillis', value: '5000' }],
      }),
    );
    assert.equal(i.timeoutInMillis, 5000);
    await rejects(
      gw.send(
        new UpdateIntegrationCommand({
          restApiId,
          resourceId: items.id!,
          httpMethod: 'GET',
          patchOperations: [{ op: 'replace', path: '/timeoutInMillis', value: '40000' }],
        }),
      ),
      'BadRequestException',
      'Timeout should be between 50 ms and 29000 ms',
    );
    await gw.send(new DeleteIntegrationCommand({ restApiId, resourceId: items.id!, httpMethod: 'GET' }));
    await rejects(
      gw.send(new GetIntegrationCommand({ restApiId, resourceId: items.id!, httpMethod: 'GET' })),
      'NotFoundException',
      'No integration defined for method',
    );
    await rejects(redeploy(), 'BadRequestException', 'No integration defined for method');
    await gw.send(
      new PutIntegrationCommand({
        restApiId,
        resourceId: items.id!,
        httpMethod: 'GET',
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: lambdaUri('echo'),
      }),
    );
  });

  await t.test('deployments: get, update, delete only when no stage points at them', async () => {
    const got = await gw.send(new GetDeploymentCommand({ restApiId, deploymentId: first.id! }));
    assert.equal(got.id, first.id);
    const up = await gw.send(
      new UpdateDeploymentCommand({
        restApiId,
        deploymentId: first.id!,
        patchOperations: [{ op: 'replace', path: '/description', value: 'the first' }],
      }),
    );
    assert.equal(up.description, 'the first');
    // `prod` moved on to later deployments: the first can go.
    await gw.send(new DeleteDeploymentCommand({ restApiId, deploymentId: first.id! }));
    await rejects(
      gw.send(new GetDeploymentCommand({ restApiId, deploymentId: first.id! })),
      'NotFoundException',
      'Invalid Deployment identifier specified',
    );
    const latest = await redeploy();
    await rejects(
      gw.send(new DeleteDeploymentCommand({ restApiId, deploymentId: latest.id! })),
      'BadRequestException',
      'Active stages pointing to this deployment must be moved or deleted',
    );
  });

  await t.test('API keys and usage plans: updates are enforced, keys listed and removed', async () => {
    await gw.send(
      new UpdateMethodCommand({
        restApiId,
        resourceId: items.id!,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/apiKeyRequired', value: 'true' }],
      }),
    );
    await redeploy();
    const key = await gw.send(
      new CreateApiKeyCommand({ name: 'k1', enabled: true, value: 'abcdefghijklmnopqrstuvwxyz' }),
    );
    const plan = await gw.send(
      new CreateUsagePlanCommand({ name: 'plan', apiStages: [{ apiId: restApiId, stage: 'prod' }] }),
    );
    await gw.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id!, keyType: 'API_KEY' }),
    );
    const withKey = { 'x-api-key': 'abcdefghijklmnopqrstuvwxyz' };
    assert.equal((await get(`${base}/things`, withKey)).status, 200);

    const planOut = await gw.send(
      new UpdateUsagePlanCommand({
        usagePlanId: plan.id!,
        patchOperations: [
          { op: 'replace', path: '/quota/limit', value: '1' },
          { op: 'replace', path: '/quota/period', value: 'DAY' },
          { op: 'replace', path: '/description', value: 'tight' },
        ],
      }),
    );
    assert.deepEqual(planOut.quota, { limit: 1, offset: 0, period: 'DAY' });
    assert.equal((await gw.send(new GetUsagePlanCommand({ usagePlanId: plan.id! }))).description, 'tight');
    assert.equal((await get(`${base}/things`, withKey)).status, 200);
    const over = await get(`${base}/things`, withKey);
    assert.equal(over.status, 429);
    assert.equal(JSON.parse(over.body).message, 'Limit Exceeded');
    await gw.send(
      new UpdateUsagePlanCommand({
        usagePlanId: plan.id!,
        patchOperations: [{ op: 'remove', path: '/quota' }],
      }),
    );
    assert.equal((await get(`${base}/things`, withKey)).status, 200);

    const listed = await gw.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.id! }));
    assert.deepEqual(
      listed.items?.map((k) => [k.id, k.type, k.name]),
      [[key.id, 'API_KEY', 'k1']],
    );
    assert.equal(
      (await gw.send(new GetUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id! }))).value,
      'abcdefghijklmnopqrstuvwxyz',
    );

    const disabled = await gw.send(
      new UpdateApiKeyCommand({
        apiKey: key.id!,
        patchOperations: [
          { op: 'replace', path: '/enabled', value: 'false' },
          { op: 'replace', path: '/description', value: 'off' },
        ],
      }),
    );
    assert.equal(disabled.enabled, false);
    assert.equal((await gw.send(new GetApiKeyCommand({ apiKey: key.id! }))).description, 'off');
    assert.equal((await get(`${base}/things`, withKey)).status, 403);
    await gw.send(
      new UpdateApiKeyCommand({
        apiKey: key.id!,
        patchOperations: [{ op: 'replace', path: '/enabled', value: 'true' }],
      }),
    );
    assert.equal((await get(`${base}/things`, withKey)).status, 200);

    await gw.send(new DeleteUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id! }));
    assert.deepEqual((await gw.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.id! }))).items ?? [], []);
    assert.equal((await get(`${base}/things`, withKey)).status, 403);
    await rejects(
      gw.send(new DeleteUsagePlanKeyCommand({ usagePlanId: plan.id!, keyId: key.id! })),
      'NotFoundException',
    );
    await rejects(
      gw.send(
        new UpdateUsagePlanCommand({
          usagePlanId: plan.id!,
          patchOperations: [{ op: 'add', path: '/apiStages', value: `${restApiId}:nostage` }],
        }),
      ),
      'NotFoundException',
      'Invalid stage identifier specified',
    );
  });

  await t.test('stage access logs: $context lines in CloudWatch Logs', async () => {
    const logs = new CloudWatchLogsClient(srv.clientConfig);
    t.after(() => logs.destroy());
    const st = await gw.send(
      new UpdateStageCommand({
        restApiId,
        stageName: 'prod',
        patchOperations: [
          {
            op: 'replace',
            path: '/accessLogSettings/destinationArn',
            value: 'arn:aws:logs:us-east-1:000000000000:log-group:rest-access',
          },
          {
            op: 'replace',
            path: '/accessLogSettings/format',
            value:
              '$context.requestId $context.httpMethod $context.resourcePath $context.path $context.status $context.integration.status $context.error.message',
          },
        ],
      }),
    );
    assert.equal(st.accessLogSettings?.format?.startsWith('$context.requestId'), true);
    const ok = await fetch(`${base}/things/9`);
    assert.equal(ok.status, 200);
    assert.equal((await get(`${base}/nowhere`)).status, 403);
    let lines: string[] = [];
    for (let i = 0; i < 40 && lines.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const out = await logs.send(new FilterLogEventsCommand({ logGroupName: 'rest-access' }));
      lines = (out.events ?? []).map((e) => e.message!);
    }
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(1).join(' ')),
      ['GET /things/{id} /prod/things/9 200 200 -', 'GET - /prod/nowhere 403 - Missing Authentication Token'],
    );
    assert.equal(lines[0].split(' ')[0], ok.headers.get('x-amzn-requestid'));
    await rejects(
      gw.send(
        new UpdateStageCommand({
          restApiId,
          stageName: 'prod',
          patchOperations: [
            { op: 'replace', path: '/accessLogSettings/destinationArn', value: 'not-an-arn' },
          ],
        }),
      ),
      'BadRequestException',
      'Invalid ARN specified in the request: not-an-arn',
    );
  });

  await t.test('tags on REST APIs, stages and API keys', async () => {
    const apiArn = `arn:aws:apigateway:us-east-1::/restapis/${restApiId}`;
    const stageArn = `${apiArn}/stages/prod`;
    await gw.send(new TagResourceCommand({ resourceArn: apiArn, tags: { team: 'a', env: 'dev' } }));
    await gw.send(new TagResourceCommand({ resourceArn: stageArn, tags: { tier: 'gold' } }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ resourceArn: apiArn }))).tags, {
      team: 'a',
      env: 'dev',
    });
    assert.deepEqual((await gw.send(new GetTagsCommand({ resourceArn: stageArn }))).tags, { tier: 'gold' });
    await gw.send(new UntagResourceCommand({ resourceArn: apiArn, tagKeys: ['env'] }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ resourceArn: apiArn }))).tags, { team: 'a' });
    const key = await gw.send(new CreateApiKeyCommand({ name: 'tagged', tags: { a: '1' } }));
    const keyArn = `arn:aws:apigateway:us-east-1::/apikeys/${key.id}`;
    await gw.send(new TagResourceCommand({ resourceArn: keyArn, tags: { b: '2' } }));
    assert.deepEqual((await gw.send(new GetTagsCommand({ resourceArn: keyArn }))).tags, { a: '1', b: '2' });
    await rejects(
      gw.send(new GetTagsCommand({ resourceArn: 'arn:aws:apigateway:us-east-1::/restapis/nosuchapi0' })),
      'NotFoundException',
    );
    await rejects(gw.send(new GetTagsCommand({ resourceArn: 'arn:aws:s3:::bucket' })), 'BadRequestException');
  });
});
