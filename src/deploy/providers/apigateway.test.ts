/**
 * ApiGateway (REST API) providers against a real Nimbus: a RestApi imported from a Swagger Body,
 * deployed to a stage, routes a request to a Lambda function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  GetRestApiCommand,
  GetModelsCommand,
  GetRequestValidatorsCommand,
  GetResourcesCommand,
  GetMethodCommand,
  GetAuthorizersCommand,
  GetStageCommand,
  GetUsagePlanKeysCommand,
} from '@aws-sdk/client-api-gateway';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers } from './index.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

test('ApiGateway RestApi from a Body, Deployment, Stage, Resource, Method, ApiKey, UsagePlan(Key)', async () => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const ctx = testContext(srv.clientConfig, 'Rest');
  const fn = await providers['AWS::Lambda::Function'].create(
    {
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: {
        ZipFile: 'exports.handler = async (e) => ({ statusCode: 200, body: e.resource + " " + e.path });',
      },
    },
    { ...ctx, logicalId: 'Fn' },
  );
  const uri = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${fn.attributes.Arn}/invocations`;
  const integ = { type: 'aws_proxy', httpMethod: 'POST', uri };
  const body1 = {
    swagger: '2.0',
    info: { title: 'rest-body', version: '1' },
    paths: {
      '/items/{id}': {
        get: { 'x-amazon-apigateway-integration': integ },
        post: {
          'x-amazon-apigateway-request-validator': 'all',
          parameters: [
            { in: 'query', name: 'dry', required: false, type: 'string' },
            { in: 'body', name: 'item', required: true, schema: { $ref: '#/definitions/Item' } },
          ],
          'x-amazon-apigateway-integration': integ,
        },
      },
      '/secure': {
        'x-amazon-apigateway-any-method': {
          security: [{ tok: [] }],
          'x-amazon-apigateway-integration': integ,
        },
      },
    },
    definitions: {
      Item: { type: 'object', required: ['name'], properties: { tag: { $ref: '#/definitions/Tag' } } },
      Tag: { type: 'string' },
    },
    'x-amazon-apigateway-request-validators': {
      all: { validateRequestBody: true, validateRequestParameters: true },
    },
    securityDefinitions: {
      tok: {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authorizer': {
          type: 'token',
          authorizerUri: uri,
          authorizerResultTtlInSeconds: '0',
        },
      },
    },
  };
  const apiP = providers['AWS::ApiGateway::RestApi'];
  const api = await apiP.create({ Body: body1 }, ctx);
  const got = await gw.send(new GetRestApiCommand({ restApiId: api.physicalId }));
  assert.equal(got.name, 'rest-body');
  assert.equal(api.attributes.RootResourceId, got.rootResourceId);
  const auths = await gw.send(new GetAuthorizersCommand({ restApiId: api.physicalId }));
  assert.equal(auths.items![0].type, 'TOKEN');
  // Models with their $refs as model URLs, the validator, and the method's parameters and model.
  const models = await gw.send(new GetModelsCommand({ restApiId: api.physicalId }));
  assert.deepEqual(
    models.items?.map((m) => m.name),
    ['Empty', 'Error', 'Item', 'Tag'],
  );
  const itemSchema = JSON.parse(models.items!.find((m) => m.name === 'Item')!.schema!);
  assert.equal(
    itemSchema.properties.tag.$ref,
    `https://apigateway.amazonaws.com/restapis/${api.physicalId}/models/Tag`,
  );
  const validators = await gw.send(new GetRequestValidatorsCommand({ restApiId: api.physicalId }));
  assert.equal(validators.items?.length, 1);
  const items = (await gw.send(new GetResourcesCommand({ restApiId: api.physicalId }))).items!.find(
    (r) => r.path === '/items/{id}',
  )!;
  const post = await gw.send(
    new GetMethodCommand({ restApiId: api.physicalId, resourceId: items.id, httpMethod: 'POST' }),
  );
  assert.equal(post.requestValidatorId, validators.items![0].id);
  assert.deepEqual(post.requestModels, { 'application/json': 'Item' });
  assert.deepEqual(post.requestParameters, { 'method.request.querystring.dry': false });

  const depP = providers['AWS::ApiGateway::Deployment'];
  const depProps = { RestApiId: api.physicalId, StageName: 'prod' };
  const dep = await depP.create(depProps, ctx);
  assert.match(dep.physicalId, /^[a-z0-9]+$/);
  const base = `${srv.endpoint}/_api/${api.physicalId}`;
  const call = async (url: string, init?: RequestInit) => {
    const r = await fetch(url, init);
    return { status: r.status, body: await r.text() };
  };
  assert.deepEqual(await call(`${base}/prod/items/7`), { status: 200, body: '/items/{id} /items/7' });
  assert.equal((await call(`${base}/prod/secure`)).status, 401);

  // A new Body replaces the resources; a new deployment on a new Stage serves it.
  const body2 = { ...body1, paths: { '/other': { get: { 'x-amazon-apigateway-integration': integ } } } };
  await apiP.update(
    api.physicalId,
    { Body: body2 },
    { props: { Body: body1 }, attributes: api.attributes },
    ctx,
  );
  const dep2 = await depP.create({ RestApiId: api.physicalId }, ctx);
  // The re-import replaced the models and the validator rather than adding a second set.
  assert.equal(
    (await gw.send(new GetRequestValidatorsCommand({ restApiId: api.physicalId }))).items?.length,
    1,
  );
  assert.equal((await gw.send(new GetModelsCommand({ restApiId: api.physicalId }))).items?.length, 4);
  const stageP = providers['AWS::ApiGateway::Stage'];
  const sProps = { RestApiId: api.physicalId, StageName: 'beta', DeploymentId: dep2.physicalId };
  const stage = await stageP.create(sProps, ctx);
  assert.equal(stage.physicalId, 'beta');
  assert.deepEqual(await call(`${base}/beta/other`), { status: 200, body: '/other /other' });
  // AWS answers an unknown REST path with 403 Missing Authentication Token.
  assert.equal((await call(`${base}/beta/items/7`)).status, 403);
  await stageP.update(
    'beta',
    { ...sProps, DeploymentId: dep.physicalId },
    { props: sProps, attributes: {} },
    ctx,
  );
  assert.equal((await call(`${base}/beta/items/7`)).status, 200);
  // Settings CreateStage does not take arrive through UpdateStage.
  const logged = {
    ...sProps,
    DeploymentId: dep.physicalId,
    AccessLogSetting: {
      DestinationArn: 'arn:aws:logs:us-east-1:000000000000:log-group:rest-access',
      Format: '$context.requestId $context.status',
    },
    MethodSettings: [
      { HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 10 },
      {
        HttpMethod: 'GET',
        ResourcePath: '/items/{id}',
        LoggingLevel: 'INFO',
        MetricsEnabled: true,
        DataTraceEnabled: true,
        CachingEnabled: true,
        CacheTtlInSeconds: 60,
      },
    ],
    CacheClusterEnabled: true,
    CacheClusterSize: '1.6',
  };
  await stageP.update(
    'beta',
    logged,
    { props: { ...sProps, DeploymentId: dep.physicalId }, attributes: {} },
    ctx,
  );
  const gs = await gw.send(new GetStageCommand({ restApiId: api.physicalId, stageName: 'beta' }));
  assert.deepEqual(
    gs.accessLogSettings,
    logged.AccessLogSetting && {
      destinationArn: logged.AccessLogSetting.DestinationArn,
      format: logged.AccessLogSetting.Format,
    },
  );
  const all = gs.methodSettings?.['*/*'];
  assert.deepEqual([all?.throttlingRateLimit, all?.throttlingBurstLimit], [50, 10]);
  const one = gs.methodSettings?.['~1items~1{id}/GET'];
  assert.deepEqual(
    [
      one?.loggingLevel,
      one?.metricsEnabled,
      one?.dataTraceEnabled,
      one?.cachingEnabled,
      one?.cacheTtlInSeconds,
    ],
    ['INFO', true, true, true, 60],
  );
  assert.deepEqual(
    [gs.cacheClusterEnabled, gs.cacheClusterSize, gs.cacheClusterStatus],
    [true, '1.6', 'AVAILABLE'],
  );
  await stageP.update(
    'beta',
    { ...sProps, DeploymentId: dep.physicalId },
    { props: logged, attributes: {} },
    ctx,
  );
  const cleared = await gw.send(new GetStageCommand({ restApiId: api.physicalId, stageName: 'beta' }));
  assert.equal(cleared.accessLogSettings, undefined);

  // A Deployment's StageDescription configures the stage it creates, as CloudFormation does.
  await depP.create(
    {
      RestApiId: api.physicalId,
      StageName: 'gamma',
      StageDescription: {
        LoggingLevel: 'INFO',
        MetricsEnabled: true,
        ThrottlingBurstLimit: 7,
        TracingEnabled: true,
        MethodSettings: [{ HttpMethod: 'GET', ResourcePath: '/other', CachingEnabled: true }],
        AccessLogSetting: {
          DestinationArn: 'arn:aws:logs:us-east-1:000000000000:log-group:g',
          Format: '$context.status',
        },
      },
    },
    ctx,
  );
  const gamma = await gw.send(new GetStageCommand({ restApiId: api.physicalId, stageName: 'gamma' }));
  assert.equal(gamma.tracingEnabled, true);
  assert.equal(gamma.accessLogSettings?.format, '$context.status');
  const gAll = gamma.methodSettings?.['*/*'];
  assert.deepEqual([gAll?.loggingLevel, gAll?.metricsEnabled, gAll?.throttlingBurstLimit], ['INFO', true, 7]);
  assert.equal(gamma.methodSettings?.['~1other/GET']?.cachingEnabled, true);

  // The API's own properties change in place.
  await apiP.update(
    api.physicalId,
    { Body: body2, Name: 'renamed', BinaryMediaTypes: ['image/png'] },
    { props: { Body: body2 }, attributes: api.attributes },
    ctx,
  );
  const renamed = await gw.send(new GetRestApiCommand({ restApiId: api.physicalId }));
  assert.equal(renamed.name, 'renamed');
  assert.deepEqual(renamed.binaryMediaTypes, ['image/png']);

  // Resource + Method resources.
  const resP = providers['AWS::ApiGateway::Resource'];
  const rProps = { RestApiId: api.physicalId, ParentId: api.attributes.RootResourceId, PathPart: 'manual' };
  const res = await resP.create(rProps, ctx);
  const mP = providers['AWS::ApiGateway::Method'];
  const mProps = {
    RestApiId: api.physicalId,
    ResourceId: res.physicalId,
    HttpMethod: 'post',
    AuthorizationType: 'NONE',
    Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST', Uri: uri },
  };
  const m = await mP.create(mProps, ctx);
  const gm = await gw.send(
    new GetMethodCommand({ restApiId: api.physicalId, resourceId: res.physicalId, httpMethod: 'POST' }),
  );
  assert.equal(gm.methodIntegration?.type, 'AWS_PROXY');
  const m2Props = { ...mProps, ApiKeyRequired: 'true' };
  await mP.update(m.physicalId, m2Props, { props: mProps, attributes: {} }, ctx);
  const gm2 = await gw.send(
    new GetMethodCommand({ restApiId: api.physicalId, resourceId: res.physicalId, httpMethod: 'POST' }),
  );
  assert.equal(gm2.apiKeyRequired, true);

  // ApiKey, UsagePlan, UsagePlanKey.
  const key = await providers['AWS::ApiGateway::ApiKey'].create(
    { Enabled: 'true', Value: 'k'.repeat(30) },
    ctx,
  );
  const plan = await providers['AWS::ApiGateway::UsagePlan'].create(
    { ApiStages: [{ ApiId: api.physicalId, Stage: 'prod' }], Throttle: { RateLimit: '10', BurstLimit: 5 } },
    ctx,
  );
  const pkProps = { UsagePlanId: plan.physicalId, KeyId: key.physicalId, KeyType: 'API_KEY' };
  const pk = await providers['AWS::ApiGateway::UsagePlanKey'].create(pkProps, ctx);
  assert.equal(pk.physicalId, key.physicalId);

  const pkP = providers['AWS::ApiGateway::UsagePlanKey'];
  await pkP.delete(pk.physicalId, pkProps, ctx);
  await pkP.delete(pk.physicalId, pkProps, ctx);
  assert.deepEqual((await gw.send(new GetUsagePlanKeysCommand({ usagePlanId: plan.physicalId }))).items, []);
  const authP = providers['AWS::ApiGateway::Authorizer'];
  const aProps = {
    RestApiId: api.physicalId,
    Name: 'a2',
    Type: 'REQUEST',
    AuthorizerUri: uri,
    AuthorizerResultTtlInSeconds: 0,
  };
  const a2 = await authP.create(aProps, ctx);
  await authP.delete(a2.physicalId, aProps, ctx);
  await authP.delete(a2.physicalId, aProps, ctx);
  const left = await gw.send(new GetAuthorizersCommand({ restApiId: api.physicalId }));
  assert.ok(!left.items!.some((x) => x.id === a2.physicalId));
  await mP.delete(m.physicalId, m2Props, ctx);
  await mP.delete(m.physicalId, m2Props, ctx);
  await resP.delete(res.physicalId, rProps, ctx);
  await resP.delete(res.physicalId, rProps, ctx);
  await stageP.delete('beta', sProps, ctx);
  await stageP.delete('beta', sProps, ctx);
  await providers['AWS::ApiGateway::ApiKey'].delete(key.physicalId, {}, ctx);
  await providers['AWS::ApiGateway::ApiKey'].delete(key.physicalId, {}, ctx);
  await providers['AWS::ApiGateway::UsagePlan'].delete(plan.physicalId, {}, ctx);
  await providers['AWS::ApiGateway::UsagePlan'].delete(plan.physicalId, {}, ctx);
  await apiP.delete(api.physicalId, {}, ctx);
  await apiP.delete(api.physicalId, {}, ctx);
  await assert.rejects(gw.send(new GetRestApiCommand({ restApiId: api.physicalId })), {
    name: 'NotFoundException',
  });
});

test('ApiGateway::RestApi Body with an AWS (SQS) integration and mapping templates', async () => {
  await using srv = await startTestServer();
  const ctx = testContext(srv.clientConfig, 'Direct');
  const sqs = new SQSClient(srv.clientConfig);
  const queue = (await sqs.send(new CreateQueueCommand({ QueueName: 'direct-q' }))).QueueUrl!;
  const body = {
    openapi: '3.0.1',
    info: { title: 'direct', version: '1' },
    paths: {
      '/events': {
        post: {
          responses: { '202': { description: 'queued' } },
          'x-amazon-apigateway-integration': {
            type: 'aws',
            httpMethod: 'POST',
            credentials: 'arn:aws:iam::000000000000:role/apigw',
            uri: 'arn:aws:apigateway:us-east-1:sqs:path/000000000000/direct-q',
            passthroughBehavior: 'never',
            requestParameters: {
              'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'",
            },
            requestTemplates: {
              'application/json': 'Action=SendMessage&MessageBody=$util.urlEncode($input.body)',
            },
            responses: {
              default: {
                statusCode: '202',
                responseTemplates: {
                  'application/json':
                    '{"id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')"}',
                },
              },
            },
          },
        },
      },
    },
  };
  const api = await providers['AWS::ApiGateway::RestApi'].create({ Body: body }, ctx);
  await providers['AWS::ApiGateway::Deployment'].create(
    { RestApiId: api.physicalId, StageName: 'prod' },
    ctx,
  );
  const r = await fetch(`${srv.endpoint}/_api/${api.physicalId}/prod/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'queue' }),
  });
  assert.equal(r.status, 202);
  const { id } = (await r.json()) as { id: string };
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue }));
  assert.equal(got.Messages?.[0].MessageId, id);
  assert.deepEqual(JSON.parse(got.Messages![0].Body!), { hello: 'queue' });
  // passthroughBehavior NEVER (lower-case in OpenAPI) refuses a type without a template.
  const text = await fetch(`${srv.endpoint}/_api/${api.physicalId}/prod/events`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'x',
  });
  assert.equal(text.status, 415);
  await text.body?.cancel();
  sqs.destroy();
});
