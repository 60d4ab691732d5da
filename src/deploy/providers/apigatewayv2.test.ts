/**
 * ApiGatewayV2 providers against a real Nimbus: an HTTP API imported from an OpenAPI Body routes
 * requests to a Lambda function; a new Body replaces the routes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiGatewayV2Client,
  GetApiCommand,
  GetIntegrationCommand,
  GetRoutesCommand,
} from '@aws-sdk/client-apigatewayv2';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers } from './index.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

test('ApiGatewayV2::Api from a Body, Stage, Route/Integration resources: create, call, update, delete', async () => {
  await using srv = await startTestServer();
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const ctx = testContext(srv.clientConfig, 'Api');
  const fn = await providers['AWS::Lambda::Function'].create(
    {
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: {
        ZipFile:
          'exports.handler = async (e) => ({ statusCode: 200, body: JSON.stringify({ route: e.routeKey, path: e.rawPath }) });',
      },
    },
    { ...ctx, logicalId: 'Fn' },
  );
  const uri = `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${fn.attributes.Arn}/invocations`;
  const integration = {
    type: 'aws_proxy',
    httpMethod: 'POST',
    uri,
    payloadFormatVersion: '2.0',
    timeoutInMillis: 5000,
  };
  const body1 = {
    openapi: '3.0.1',
    info: { title: 'my-http-api', version: '1.0' },
    paths: {
      '/hello': { get: { 'x-amazon-apigateway-integration': integration } },
      '/secure': {
        'x-amazon-apigateway-any-method': {
          security: [{ jwtAuth: ['read'] }],
          'x-amazon-apigateway-integration': integration,
        },
      },
    },
    components: {
      securitySchemes: {
        jwtAuth: {
          type: 'oauth2',
          'x-amazon-apigateway-authorizer': {
            type: 'jwt',
            identitySource: '$request.header.Authorization',
            jwtConfiguration: { issuer: 'https://issuer.example', audience: ['aud'] },
          },
        },
      },
    },
    'x-amazon-apigateway-cors': { allowOrigins: ['https://app.example'], allowMethods: ['GET'] },
  };
  const apiP = providers['AWS::ApiGatewayV2::Api'];
  const api = await apiP.create({ Body: body1 }, ctx);
  assert.match(api.physicalId, /^[a-z0-9]{10}$/);
  assert.equal(api.attributes.ApiEndpoint, `${srv.endpoint}/_api/${api.physicalId}`);
  const got = await gw.send(new GetApiCommand({ ApiId: api.physicalId }));
  assert.equal(got.Name, 'my-http-api');
  assert.deepEqual(got.CorsConfiguration?.AllowOrigins, ['https://app.example']);
  const routes = (await gw.send(new GetRoutesCommand({ ApiId: api.physicalId }))).Items!;
  const secure = routes.find((r) => r.RouteKey === 'ANY /secure')!;
  assert.equal(secure.AuthorizationType, 'JWT');
  assert.deepEqual(secure.AuthorizationScopes, ['read']);

  const stageP = providers['AWS::ApiGatewayV2::Stage'];
  const stageProps = { ApiId: api.physicalId, StageName: '$default', AutoDeploy: 'true' };
  const stage = await stageP.create(stageProps, ctx);
  assert.equal(stage.physicalId, '$default');

  const call = async (path: string) => {
    const r = await fetch(`${api.attributes.ApiEndpoint}${path}`);
    return { status: r.status, body: await r.text() };
  };
  assert.deepEqual(await call('/hello'), { status: 200, body: '{"route":"GET /hello","path":"/hello"}' });
  assert.equal((await call('/secure')).status, 401);

  // A new Body replaces the routes.
  const body2 = {
    ...body1,
    paths: {
      '/$default': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': integration } },
    },
  };
  await apiP.update(
    api.physicalId,
    { Body: body2 },
    { props: { Body: body1 }, attributes: api.attributes },
    ctx,
  );
  const routes2 = (await gw.send(new GetRoutesCommand({ ApiId: api.physicalId }))).Items!;
  assert.deepEqual(
    routes2.map((r) => r.RouteKey),
    ['$default'],
  );
  assert.deepEqual(await call('/anything'), { status: 200, body: '{"route":"$default","path":"/anything"}' });

  // Separate Route + Integration resources on the same API.
  const integP = providers['AWS::ApiGatewayV2::Integration'];
  const iProps = {
    ApiId: api.physicalId,
    IntegrationType: 'AWS_PROXY',
    IntegrationUri: fn.attributes.Arn,
    PayloadFormatVersion: '2.0',
    ResponseParameters: {
      '200': { ResponseParameters: [{ Destination: 'overwrite:header.x-mapped', Source: 'yes' }] },
    },
  };
  const integ = await integP.create(iProps, ctx);
  const gotInteg = await gw.send(
    new GetIntegrationCommand({ ApiId: api.physicalId, IntegrationId: integ.physicalId }),
  );
  assert.deepEqual(gotInteg.ResponseParameters, { '200': { 'overwrite:header.x-mapped': 'yes' } });
  const routeP = providers['AWS::ApiGatewayV2::Route'];
  const rProps = {
    ApiId: api.physicalId,
    RouteKey: 'POST /items',
    Target: `integrations/${integ.physicalId}`,
  };
  const route = await routeP.create(rProps, ctx);
  const r = await fetch(`${api.attributes.ApiEndpoint}/items`, { method: 'POST' });
  assert.equal(await r.text(), '{"route":"POST /items","path":"/items"}');
  assert.equal(r.headers.get('x-mapped'), 'yes');
  await routeP.update(
    route.physicalId,
    { ...rProps, RouteKey: 'PUT /items' },
    { props: rProps, attributes: {} },
    ctx,
  );
  const put = await fetch(`${api.attributes.ApiEndpoint}/items`, { method: 'PUT' });
  assert.equal(await put.text(), '{"route":"PUT /items","path":"/items"}');
  for (const [p, id, props] of [
    [routeP, route.physicalId, rProps],
    [integP, integ.physicalId, iProps],
    [stageP, stage.physicalId, stageProps],
    [apiP, api.physicalId, {}],
  ] as const) {
    await p.delete(id, props, ctx);
    await p.delete(id, props, ctx);
  }
  await assert.rejects(gw.send(new GetApiCommand({ ApiId: api.physicalId })), { name: 'NotFoundException' });
});

test('ApiGatewayV2::Api Body with an EventBridge-PutEvents service integration', async () => {
  await using srv = await startTestServer();
  const ctx = testContext(srv.clientConfig, 'Storage');
  const sqs = new SQSClient(srv.clientConfig);
  const events = new EventBridgeClient(srv.clientConfig);
  const queue = (await sqs.send(new CreateQueueCommand({ QueueName: 'seen' }))).QueueUrl!;
  await events.send(new PutRuleCommand({ Name: 'all', EventPattern: '{"source": ["web"]}' }));
  await events.send(
    new PutTargetsCommand({
      Rule: 'all',
      Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:us-east-1:000000000000:seen' }],
    }),
  );
  const body = {
    openapi: '3.0.1',
    info: { title: 'storage-first', version: '1' },
    paths: {
      '/track': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws_proxy',
            integrationSubtype: 'EventBridge-PutEvents',
            credentials: 'arn:aws:iam::000000000000:role/apigw',
            connectionType: 'INTERNET',
            requestParameters: { Source: 'web', DetailType: 'Click', Detail: '$request.body' },
          },
        },
      },
    },
  };
  const api = await providers['AWS::ApiGatewayV2::Api'].create({ Body: body }, ctx);
  await providers['AWS::ApiGatewayV2::Stage'].create(
    { ApiId: api.physicalId, StageName: '$default', AutoDeploy: true },
    ctx,
  );
  const r = await fetch(`${api.attributes.ApiEndpoint}/track`, { method: 'POST', body: '{"button": "buy"}' });
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { FailedEntryCount: number }).FailedEntryCount, 0);
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 2 }));
  assert.deepEqual(JSON.parse(got.Messages![0].Body!).detail, { button: 'buy' });
  sqs.destroy();
  events.destroy();
});
