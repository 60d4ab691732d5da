/**
 * REST APIs: MOCK integrations with method and integration responses (what SAM's CORS preflight
 * methods are), and customised gateway responses (SAM's GatewayResponses), through the real
 * @aws-sdk/client-api-gateway and plain HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateModelCommand,
  CreateRequestValidatorCommand,
  DeleteModelCommand,
  GetModelCommand,
  GetModelsCommand,
  GetRequestValidatorCommand,
  GetRequestValidatorsCommand,
  UpdateRequestValidatorCommand,
  UpdateStageCommand,
  GetStageCommand,
  UpdateMethodResponseCommand,
  UpdateIntegrationResponseCommand,
  DeleteGatewayResponseCommand,
  DeleteIntegrationResponseCommand,
  DeleteMethodResponseCommand,
  GetGatewayResponseCommand,
  GetGatewayResponsesCommand,
  GetIntegrationResponseCommand,
  GetMethodCommand,
  GetMethodResponseCommand,
  PutGatewayResponseCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateGatewayResponseCommand,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions, putProxyMethod } from './gateway-helpers.js';

const DENY_ALL = `exports.handler = async (event) => {
  if (event.authorizationToken === 'fail') throw new Error('Unauthorized');
  return { principalId: 'u', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: event.methodArn }] } };
};`;

test('REST APIs: MOCK integrations and gateway responses', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
  });
  await createNodeFunctions(lambda, {
    hello: `exports.handler = async () => ({ statusCode: 200, body: 'hi' });`,
    deny: DENY_ALL,
  });
  const api = await gw.send(new CreateRestApiCommand({ name: 'responses' }));
  const restApiId = api.id!;
  const res = await gw.send(
    new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'things' }),
  );
  const where = { restApiId, resourceId: res.id!, httpMethod: 'OPTIONS' };
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;

  await t.test('method and integration responses through the SDK', async () => {
    await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'MOCK',
        requestTemplates: { 'application/json': '{"statusCode": 200}' },
      }),
    );
    const mr = await gw.send(
      new PutMethodResponseCommand({
        ...where,
        statusCode: '200',
        responseParameters: {
          'method.response.header.Access-Control-Allow-Origin': false,
          'method.response.header.X-Echo': false,
        },
      }),
    );
    assert.equal(mr.statusCode, '200');
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '404' }));
    const ir = await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '200',
        responseParameters: {
          'method.response.header.Access-Control-Allow-Origin': "'https://app.example'",
          'method.response.header.X-Echo': 'method.request.header.x-in',
        },
        responseTemplates: { 'application/json': '{}' },
      }),
    );
    assert.equal(ir.statusCode, '200');
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '404',
        selectionPattern: '4\\d{2}',
        responseTemplates: { 'application/json': '{"missing":true}' },
      }),
    );
    const got = await gw.send(new GetIntegrationResponseCommand({ ...where, statusCode: '404' }));
    assert.equal(got.selectionPattern, '4\\d{2}');
    const m = await gw.send(new GetMethodCommand(where));
    assert.deepEqual(Object.keys(m.methodResponses ?? {}).sort(), ['200', '404']);
    assert.equal(m.methodIntegration?.type, 'MOCK');
    assert.deepEqual(Object.keys(m.methodIntegration?.integrationResponses ?? {}).sort(), ['200', '404']);
    assert.deepEqual(m.methodIntegration?.requestTemplates, { 'application/json': '{"statusCode": 200}' });

    const umr = await gw.send(
      new UpdateMethodResponseCommand({
        ...where,
        statusCode: '404',
        patchOperations: [
          { op: 'add', path: '/responseParameters/method.response.header.X-Missing', value: 'true' },
        ],
      }),
    );
    assert.deepEqual(umr.responseParameters, { 'method.response.header.X-Missing': true });
    const uir = await gw.send(
      new UpdateIntegrationResponseCommand({
        ...where,
        statusCode: '404',
        patchOperations: [
          { op: 'replace', path: '/selectionPattern', value: '40\\d' },
          { op: 'add', path: '/responseParameters/method.response.header.X-Missing', value: "'yes'" },
        ],
      }),
    );
    assert.equal(uir.selectionPattern, '40\\d');
    assert.deepEqual(uir.responseParameters, { 'method.response.header.X-Missing': "'yes'" });
    await assert.rejects(
      gw.send(
        new UpdateIntegrationResponseCommand({
          ...where,
          statusCode: '404',
          patchOperations: [{ op: 'replace', path: '/statusCode', value: '405' }],
        }),
      ),
      { name: 'BadRequestException' },
    );
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '500' }));
    await gw.send(new DeleteMethodResponseCommand({ ...where, statusCode: '500' }));
    await assert.rejects(gw.send(new GetMethodResponseCommand({ ...where, statusCode: '500' })), {
      name: 'NotFoundException',
      message: 'Invalid Response status code specified',
    });
    await assert.rejects(gw.send(new DeleteIntegrationResponseCommand({ ...where, statusCode: '302' })), {
      name: 'NotFoundException',
    });
    await assert.rejects(gw.send(new PutMethodResponseCommand({ ...where, statusCode: '99' })), {
      name: 'BadRequestException',
    });
    await assert.rejects(
      gw.send(new PutIntegrationCommand({ ...where, type: 'HTTP', uri: 'http://example.com' })),
      { name: 'BadRequestException' },
    );
  });

  await t.test('gateway responses through the SDK', async () => {
    const def = await gw.send(new GetGatewayResponseCommand({ restApiId, responseType: 'UNAUTHORIZED' }));
    assert.equal(def.defaultResponse, true);
    assert.equal(def.statusCode, '401');
    assert.deepEqual(def.responseTemplates, {
      'application/json': '{"message":$context.error.messageString}',
    });
    const put = await gw.send(
      new PutGatewayResponseCommand({
        restApiId,
        responseType: 'UNAUTHORIZED',
        statusCode: '418',
        responseParameters: { 'gatewayresponse.header.WWW-Authenticate': "'Bearer'" },
        responseTemplates: {
          'application/json':
            '{"error":$context.error.messageString,"id":"$context.requestId","type":"$context.error.responseType"}',
        },
      }),
    );
    assert.equal(put.defaultResponse, false);
    assert.equal(put.statusCode, '418');
    await gw.send(
      new PutGatewayResponseCommand({
        restApiId,
        responseType: 'DEFAULT_4XX',
        responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
      }),
    );
    await gw.send(new PutGatewayResponseCommand({ restApiId, responseType: 'QUOTA_EXCEEDED' }));
    const updated = await gw.send(
      new UpdateGatewayResponseCommand({
        restApiId,
        responseType: 'UNAUTHORIZED',
        patchOperations: [{ op: 'replace', path: '/statusCode', value: '401' }],
      }),
    );
    assert.equal(updated.statusCode, '401');
    const all = await gw.send(new GetGatewayResponsesCommand({ restApiId }));
    assert.equal(all.items?.length, 21);
    assert.deepEqual(
      all.items
        ?.filter((r) => !r.defaultResponse)
        .map((r) => r.responseType)
        .sort(),
      ['DEFAULT_4XX', 'QUOTA_EXCEEDED', 'UNAUTHORIZED'],
    );
    await gw.send(new DeleteGatewayResponseCommand({ restApiId, responseType: 'QUOTA_EXCEEDED' }));
    await assert.rejects(
      gw.send(new DeleteGatewayResponseCommand({ restApiId, responseType: 'QUOTA_EXCEEDED' })),
      { name: 'NotFoundException' },
    );
    await assert.rejects(
      gw.send(new PutGatewayResponseCommand({ restApiId, responseType: 'NOPE' as never })),
      (e: Error) => e.name === 'BadRequestException' && /responseType/.test(e.message),
    );
  });

  await t.test('serving: MOCK answers and customised gateway responses after a deployment', async () => {
    await putProxyMethod(gw, restApiId, res.id!, 'GET', 'hello');
    const auth = await gw.send(
      new CreateAuthorizerCommand({
        restApiId,
        name: 'deny',
        type: 'TOKEN',
        authorizerUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}deny/invocations`,
        identitySource: 'method.request.header.Authorization',
        authorizerResultTtlInSeconds: 0,
      }),
    );
    const guarded = await gw.send(
      new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'guarded' }),
    );
    await gw.send(
      new PutMethodCommand({
        restApiId,
        resourceId: guarded.id,
        httpMethod: 'GET',
        authorizationType: 'CUSTOM',
        authorizerId: auth.id,
      }),
    );
    await gw.send(
      new PutIntegrationCommand({
        restApiId,
        resourceId: guarded.id,
        httpMethod: 'GET',
        type: 'MOCK',
        requestTemplates: { 'application/json': '{"statusCode": 404}' },
      }),
    );
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));

    const pre = await fetch(`${base}/things`, { method: 'OPTIONS', headers: { 'x-in': 'echoed' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('x-echo'), 'echoed');
    assert.equal(pre.headers.get('content-type'), 'application/json');
    assert.equal(await pre.text(), '{}');
    const fn = await fetch(`${base}/things`);
    assert.equal(await fn.text(), 'hi');
    assert.equal(
      fn.headers.get('access-control-allow-origin'),
      null,
      'function answers are not gateway responses',
    );

    // UNAUTHORIZED (no token): its own customised response.
    const unauth = await fetch(`${base}/guarded`);
    assert.equal(unauth.status, 401);
    assert.equal(unauth.headers.get('www-authenticate'), 'Bearer');
    const body = JSON.parse(await unauth.text());
    assert.deepEqual(body, {
      error: 'Unauthorized',
      id: unauth.headers.get('x-amzn-requestid'),
      type: 'UNAUTHORIZED',
    });
    // ACCESS_DENIED (the authorizer denies): DEFAULT_4XX's header, the default body.
    const denied = await fetch(`${base}/guarded`, { headers: { authorization: 'x' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await denied.json(), { Message: 'User is not authorized to access this resource' });
    // MISSING_AUTHENTICATION_TOKEN: DEFAULT_4XX as well.
    const missing = await fetch(`${base}/nowhere`);
    assert.equal(missing.status, 403);
    assert.equal(missing.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await missing.json(), { message: 'Missing Authentication Token' });
    // A 5XX has no DEFAULT_5XX here: unchanged.
    const failing = await fetch(`${base}/guarded`, { headers: { authorization: 'fail' } });
    assert.equal(failing.status, 401, 'an authorizer failing with "Unauthorized" asks for a 401');

    // Changes apply with the next deployment, as on AWS.
    await gw.send(new DeleteGatewayResponseCommand({ restApiId, responseType: 'DEFAULT_4XX' }));
    assert.equal((await fetch(`${base}/nowhere`)).headers.get('access-control-allow-origin'), '*');
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    assert.equal((await fetch(`${base}/nowhere`)).headers.get('access-control-allow-origin'), null);
  });

  await t.test('models and request validators: SDK and serving', async () => {
    const models = await gw.send(new GetModelsCommand({ restApiId }));
    assert.deepEqual(
      models.items?.map((m) => m.name),
      ['Empty', 'Error'],
    );
    await gw.send(
      new CreateModelCommand({
        restApiId,
        name: 'Tag',
        contentType: 'application/json',
        schema: JSON.stringify({ type: 'string', maxLength: 5 }),
      }),
    );
    const item = await gw.send(
      new CreateModelCommand({
        restApiId,
        name: 'Item',
        contentType: 'application/json',
        schema: JSON.stringify({
          $schema: 'http://json-schema.org/draft-04/schema#',
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            tags: {
              type: 'array',
              items: { $ref: `https://apigateway.amazonaws.com/restapis/${restApiId}/models/Tag` },
            },
          },
        }),
      }),
    );
    assert.equal(item.name, 'Item');
    assert.equal(
      (await gw.send(new GetModelCommand({ restApiId, modelName: 'Item' }))).contentType,
      'application/json',
    );
    await assert.rejects(
      gw.send(
        new CreateModelCommand({ restApiId, name: 'Item', contentType: 'application/json', schema: '{}' }),
      ),
      { name: 'ConflictException' },
    );
    await assert.rejects(
      gw.send(
        new CreateModelCommand({
          restApiId,
          name: 'Bad',
          contentType: 'application/json',
          schema: 'not json',
        }),
      ),
      { name: 'BadRequestException' },
    );
    await assert.rejects(gw.send(new GetModelCommand({ restApiId, modelName: 'Nope' })), {
      name: 'NotFoundException',
    });
    const both = await gw.send(
      new CreateRequestValidatorCommand({
        restApiId,
        name: 'both',
        validateRequestBody: true,
        validateRequestParameters: true,
      }),
    );
    const paramsOnly = await gw.send(
      new CreateRequestValidatorCommand({ restApiId, name: 'params', validateRequestParameters: true }),
    );
    assert.equal((await gw.send(new GetRequestValidatorsCommand({ restApiId }))).items?.length, 2);
    const upd = await gw.send(
      new UpdateRequestValidatorCommand({
        restApiId,
        requestValidatorId: paramsOnly.id,
        patchOperations: [{ op: 'replace', path: '/name', value: 'params-only' }],
      }),
    );
    assert.equal(upd.name, 'params-only');
    assert.equal(
      (await gw.send(new GetRequestValidatorCommand({ restApiId, requestValidatorId: both.id })))
        .validateRequestBody,
      true,
    );

    const items = await gw.send(
      new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'validated' }),
    );
    const w = { restApiId, resourceId: items.id!, httpMethod: 'POST' };
    await assert.rejects(
      gw.send(
        new PutMethodCommand({
          ...w,
          authorizationType: 'NONE',
          requestModels: { 'application/json': 'Nope' },
        }),
      ),
      { name: 'BadRequestException', message: 'Invalid model identifier specified: Nope' },
    );
    await gw.send(
      new PutMethodCommand({
        ...w,
        authorizationType: 'NONE',
        requestValidatorId: both.id,
        requestModels: { 'application/json': 'Item' },
        requestParameters: {
          'method.request.header.x-tenant': true,
          'method.request.querystring.dry': false,
        },
      }),
    );
    await gw.send(
      new PutIntegrationCommand({
        ...w,
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}hello/invocations`,
      }),
    );
    await assert.rejects(gw.send(new DeleteModelCommand({ restApiId, modelName: 'Item' })), {
      name: 'ConflictException',
    });
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const post = (body: string, headers: Record<string, string> = { 'x-tenant': 't1' }) =>
      fetch(`${base}/validated`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
      });
    const noHeader = await post('{"name":"a"}', {});
    assert.equal(noHeader.status, 400);
    assert.deepEqual(await noHeader.json(), { message: 'Missing required request parameters: [x-tenant]' });
    for (const bad of ['{}', '{"name":""}', '{"name":"a","tags":["toolong"]}', 'not json']) {
      const r = await post(bad);
      assert.equal(r.status, 400, bad);
      assert.deepEqual(await r.json(), { message: 'Invalid request body' });
    }
    const ok = await post('{"name":"a","tags":["x"]}');
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'hi');
  });

  await t.test('per-method throttling from the stage method settings', async () => {
    const patch = (path: string, value?: string, op: 'replace' | 'remove' = 'replace') =>
      gw.send(
        new UpdateStageCommand({ restApiId, stageName: 'prod', patchOperations: [{ op, path, value }] }),
      );
    const st = await patch('/~1things/GET/throttling/burstLimit', '1');
    await patch('/~1things/GET/throttling/rateLimit', '0.001');
    assert.equal(st.methodSettings?.['~1things/GET']?.throttlingBurstLimit, 1);
    await assert.rejects(patch('/things/GET/throttling/rateLimit', '1'), { name: 'BadRequestException' });
    assert.equal((await fetch(`${base}/things`)).status, 200);
    const throttled = await fetch(`${base}/things`);
    assert.equal(throttled.status, 429);
    assert.deepEqual(await throttled.json(), { message: 'Too Many Requests' });
    // Other methods keep the stage's (unlimited) settings.
    assert.equal((await fetch(`${base}/things`, { method: 'OPTIONS' })).status, 200);
    assert.equal((await fetch(`${base}/things`, { method: 'OPTIONS' })).status, 200);
    await patch('/~1things/GET', undefined, 'remove');
    const after = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(after.methodSettings?.['~1things/GET'], undefined);
    assert.equal((await fetch(`${base}/things`)).status, 200);
  });

  await t.test('a MOCK integration without a matching response answers 500', async () => {
    const r = await gw.send(
      new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'nomatch' }),
    );
    const w = { restApiId, resourceId: r.id!, httpMethod: 'GET' };
    await gw.send(new PutMethodCommand({ ...w, authorizationType: 'NONE' }));
    await gw.send(
      new PutIntegrationCommand({
        ...w,
        type: 'MOCK',
        requestTemplates: { 'application/json': '{"statusCode": 500}' },
      }),
    );
    await gw.send(new PutMethodResponseCommand({ ...w, statusCode: '200' }));
    await gw.send(
      new PutIntegrationResponseCommand({ ...w, statusCode: '200', selectionPattern: '2\\d{2}' }),
    );
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const got = await fetch(`${base}/nomatch`);
    assert.equal(got.status, 500);
    assert.deepEqual(await got.json(), { message: 'Internal server error' });
  });
});
