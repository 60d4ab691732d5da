/**
 * Custom domain names end to end: the real @aws-sdk/client-apigatewayv2 and
 * @aws-sdk/client-api-gateway manage one shared set of domain names and mappings; plain HTTP
 * with a Host header reaches the mapped HTTP and REST APIs; an echo function shows the events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateApiMappingCommand,
  CreateDeploymentCommand,
  CreateDomainNameCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiMappingCommand,
  DeleteDomainNameCommand,
  GetApiMappingCommand,
  GetApiMappingsCommand,
  GetDomainNameCommand,
  GetDomainNamesCommand,
  GetIntegrationsCommand,
  UpdateApiMappingCommand,
  UpdateApiCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDeploymentCommand as CreateRestDeploymentCommand,
  CreateDomainNameCommand as CreateRestDomainNameCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  DeleteBasePathMappingCommand,
  DeleteDomainNameCommand as DeleteRestDomainNameCommand,
  GetBasePathMappingCommand,
  GetBasePathMappingsCommand,
  GetDomainNameCommand as GetRestDomainNameCommand,
  UpdateBasePathMappingCommand,
  UpdateDomainNameCommand as UpdateRestDomainNameCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';
import { apisCommand } from '../../src/gateway/cli.js';
import { FN, createNodeFunctions, putProxyMethod } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });`;

export async function http(
  url: string,
  host: string,
  opts: { method?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Calls `path` on the server with `Host: host:port` and answers the echoed event. */
async function echo(endpoint: string, host: string, path: string) {
  const port = new URL(endpoint).port;
  const r = await http(endpoint + path, `${host}:${port}`);
  assert.equal(r.status, 200, `${host}${path}: ${r.body}`);
  return JSON.parse(r.body) as Record<string, any>;
}

test('custom domain names: both management APIs, serving HTTP and REST APIs by Host and mapping key', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const v1 = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    v2.destroy();
    v1.destroy();
  });
  await createNodeFunctions(lambda, { echo: ECHO });

  // An HTTP API: $default route (quick create) plus GET /orders/{id}; stages $default and live.
  const api = await v2.send(
    new CreateApiCommand({ Name: 'shop', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );
  const integ = (await v2.send(new GetIntegrationsCommand({ ApiId: api.ApiId }))).Items![0];
  await v2.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: 'GET /orders/{id}',
      Target: `integrations/${integ.IntegrationId}`,
    }),
  );
  await v2.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: 'live' }));
  await v2.send(new CreateDeploymentCommand({ ApiId: api.ApiId, StageName: 'live' }));

  // A REST API: GET /items/{id}, deployed to prod.
  const rest = await v1.send(new CreateRestApiCommand({ name: 'catalog' }));
  const items = await v1.send(
    new CreateResourceCommand({ restApiId: rest.id, parentId: rest.rootResourceId, pathPart: 'items' }),
  );
  const item = await v1.send(
    new CreateResourceCommand({ restApiId: rest.id, parentId: items.id, pathPart: '{id}' }),
  );
  await putProxyMethod(v1, rest.id!, item.id!, 'GET', 'echo');
  await v1.send(new CreateRestDeploymentCommand({ restApiId: rest.id, stageName: 'prod' }));

  await t.test('domain names: create, read through both APIs, conflicts, errors', async () => {
    const d = await v2.send(
      new CreateDomainNameCommand({
        DomainName: 'api.example.com',
        DomainNameConfigurations: [
          { CertificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/abc', EndpointType: 'REGIONAL' },
        ],
        Tags: { team: 'shop' },
      }),
    );
    assert.equal(d.DomainName, 'api.example.com');
    assert.equal(d.ApiMappingSelectionExpression, '$request.basepath');
    const conf = d.DomainNameConfigurations![0];
    assert.match(conf.ApiGatewayDomainName!, /^d-[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com$/);
    assert.equal(conf.HostedZoneId, 'Z1UJRXOUMOOFQ8');
    assert.equal(conf.EndpointType, 'REGIONAL');
    assert.equal(conf.SecurityPolicy, 'TLS_1_2');
    assert.equal(conf.DomainNameStatus, 'AVAILABLE');
    assert.deepEqual(d.Tags, { team: 'shop' });
    const got = await v2.send(new GetDomainNameCommand({ DomainName: 'api.example.com' }));
    assert.equal(got.DomainNameConfigurations![0].ApiGatewayDomainName, conf.ApiGatewayDomainName);
    assert.deepEqual(
      (await v2.send(new GetDomainNamesCommand({}))).Items!.map((x) => x.DomainName),
      ['api.example.com'],
    );
    // The same domain name through the v1 API.
    const r = await v1.send(new GetRestDomainNameCommand({ domainName: 'api.example.com' }));
    assert.equal(r.regionalDomainName, conf.ApiGatewayDomainName);
    assert.equal(r.regionalHostedZoneId, 'Z1UJRXOUMOOFQ8');
    assert.deepEqual(r.endpointConfiguration?.types, ['REGIONAL']);
    // One namespace: v1 cannot create it again either.
    await rejects(
      v1.send(
        new CreateRestDomainNameCommand({
          domainName: 'api.example.com',
          endpointConfiguration: { types: ['REGIONAL'] },
        }),
      ),
      'ConflictException',
      'The domain name you provided already exists.',
    );
    await rejects(
      v2.send(new GetDomainNameCommand({ DomainName: 'nope.example.com' })),
      'NotFoundException',
      'Invalid domain name identifier specified',
    );
    await rejects(v2.send(new CreateDomainNameCommand({ DomainName: 'not a name' })), 'BadRequestException');
  });

  await t.test('API mappings: root, multi-level key, REST base path; errors', async () => {
    const root = await v2.send(
      new CreateApiMappingCommand({ DomainName: 'api.example.com', ApiId: api.ApiId, Stage: '$default' }),
    );
    assert.equal(root.ApiMappingKey, '');
    const deep = await v2.send(
      new CreateApiMappingCommand({
        DomainName: 'api.example.com',
        ApiId: api.ApiId,
        Stage: 'live',
        ApiMappingKey: 'v1/orders',
      }),
    );
    assert.deepEqual(
      { ApiId: deep.ApiId, Stage: deep.Stage, ApiMappingKey: deep.ApiMappingKey },
      { ApiId: api.ApiId, Stage: 'live', ApiMappingKey: 'v1/orders' },
    );
    const got = await v2.send(
      new GetApiMappingCommand({ DomainName: 'api.example.com', ApiMappingId: deep.ApiMappingId }),
    );
    assert.equal(got.ApiMappingKey, 'v1/orders');
    // A REST API on the same domain, through the v1 API.
    const bpm = await v1.send(
      new CreateBasePathMappingCommand({
        domainName: 'api.example.com',
        restApiId: rest.id,
        stage: 'prod',
        basePath: 'rest',
      }),
    );
    assert.deepEqual(
      { ...bpm, $metadata: undefined },
      {
        $metadata: undefined,
        basePath: 'rest',
        restApiId: rest.id,
        stage: 'prod',
      },
    );
    const all = await v2.send(new GetApiMappingsCommand({ DomainName: 'api.example.com' }));
    assert.deepEqual(all.Items!.map((m) => m.ApiMappingKey).sort(), ['', 'rest', 'v1/orders']);
    const v1All = await v1.send(new GetBasePathMappingsCommand({ domainName: 'api.example.com' }));
    assert.deepEqual(v1All.items!.map((m) => m.basePath).sort(), ['(none)', 'rest', 'v1/orders']);
    const none = await v1.send(
      new GetBasePathMappingCommand({ domainName: 'api.example.com', basePath: '(none)' }),
    );
    assert.equal(none.restApiId, api.ApiId);

    await rejects(
      v2.send(
        new CreateApiMappingCommand({ DomainName: 'api.example.com', ApiId: api.ApiId, Stage: 'live' }),
      ),
      'ConflictException',
    );
    await rejects(
      v2.send(
        new CreateApiMappingCommand({
          DomainName: 'api.example.com',
          ApiId: api.ApiId,
          Stage: 'nope',
          ApiMappingKey: 'x',
        }),
      ),
      'BadRequestException',
      'Invalid stage identifier specified',
    );
    await rejects(
      v2.send(
        new CreateApiMappingCommand({
          DomainName: 'api.example.com',
          ApiId: 'zzzzzzzzzz',
          Stage: 'live',
          ApiMappingKey: 'x',
        }),
      ),
      'NotFoundException',
      'Invalid API identifier specified 000000000000:zzzzzzzzzz',
    );
    await rejects(
      v2.send(
        new CreateApiMappingCommand({
          DomainName: 'api.example.com',
          ApiId: api.ApiId,
          Stage: 'live',
          ApiMappingKey: 'a b',
        }),
      ),
      'BadRequestException',
      "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'(),",
    );
    await rejects(
      v2.send(new CreateApiMappingCommand({ DomainName: 'no.example.com', ApiId: api.ApiId, Stage: 'live' })),
      'NotFoundException',
      'Invalid domain name identifier specified',
    );
    await rejects(
      v2.send(new GetApiMappingCommand({ DomainName: 'api.example.com', ApiMappingId: 'nope' })),
      'NotFoundException',
    );
    await rejects(
      v1.send(new GetBasePathMappingCommand({ domainName: 'api.example.com', basePath: 'nope' })),
      'NotFoundException',
      'Invalid base path mapping identifier specified',
    );
  });

  await t.test(
    'serving: longest key on segment boundaries, events as AWS sends them through a domain',
    async () => {
      // Root mapping -> $default stage; the route sees the whole path.
      let ev = await echo(srv.endpoint, 'api.example.com', '/orders/42?x=1');
      assert.equal(ev.routeKey, 'GET /orders/{id}');
      assert.equal(ev.rawPath, '/orders/42');
      assert.equal(ev.rawQueryString, 'x=1');
      assert.deepEqual(ev.pathParameters, { id: '42' });
      assert.equal(ev.requestContext.domainName, 'api.example.com');
      assert.equal(ev.requestContext.domainPrefix, 'api');
      assert.equal(ev.requestContext.stage, '$default');
      assert.equal(ev.requestContext.http.path, '/orders/42');

      // `v1/orders` -> stage live: routes match below the key, rawPath keeps it.
      ev = await echo(srv.endpoint, 'API.Example.com', '/v1/orders/orders/7');
      assert.equal(ev.routeKey, 'GET /orders/{id}');
      assert.deepEqual(ev.pathParameters, { id: '7' });
      assert.equal(ev.rawPath, '/v1/orders/orders/7');
      assert.equal(ev.requestContext.http.path, '/v1/orders/orders/7');
      assert.equal(ev.requestContext.stage, 'live');
      assert.equal(ev.requestContext.domainName, 'api.example.com');
      ev = await echo(srv.endpoint, 'api.example.com', '/v1/orders');
      assert.equal(ev.routeKey, '$default');
      assert.equal(ev.requestContext.stage, 'live');
      // Not on a segment boundary: the root mapping.
      ev = await echo(srv.endpoint, 'api.example.com', '/v1/ordersX');
      assert.equal(ev.requestContext.stage, '$default');
      assert.equal(ev.rawPath, '/v1/ordersX');

      // REST API under `rest`: resource below the base path; path and requestContext.path keep it.
      ev = await echo(srv.endpoint, 'api.example.com', '/rest/items/5');
      assert.equal(ev.resource, '/items/{id}');
      assert.equal(ev.path, '/rest/items/5');
      assert.deepEqual(ev.pathParameters, { id: '5' });
      assert.equal(ev.requestContext.path, '/rest/items/5');
      assert.equal(ev.requestContext.stage, 'prod');
      assert.equal(ev.requestContext.domainName, 'api.example.com');
      assert.equal(ev.requestContext.domainPrefix, 'api');
      assert.equal(ev.requestContext.resourcePath, '/items/{id}');
      // A REST path without a resource: its own 403.
      const port = new URL(srv.endpoint).port;
      const miss = await http(`${srv.endpoint}/rest/nothing`, `api.example.com:${port}`);
      assert.equal(miss.status, 403);
      assert.deepEqual(JSON.parse(miss.body), { message: 'Missing Authentication Token' });

      // disableExecuteApiEndpoint closes the execute-api endpoint, not the custom domain.
      await v2.send(new UpdateApiCommand({ ApiId: api.ApiId, DisableExecuteApiEndpoint: true }));
      assert.equal(
        (await http(`${srv.endpoint}/_api/${api.ApiId}/orders/1`, `127.0.0.1:${port}`)).status,
        403,
      );
      ev = await echo(srv.endpoint, 'api.example.com', '/orders/1');
      assert.equal(ev.routeKey, 'GET /orders/{id}');
      await v2.send(new UpdateApiCommand({ ApiId: api.ApiId, DisableExecuteApiEndpoint: false }));

      // A wildcard domain serves the names one label below it that have no domain of their own.
      await v2.send(new CreateDomainNameCommand({ DomainName: '*.wild.example.com' }));
      await v2.send(
        new CreateApiMappingCommand({ DomainName: '*.wild.example.com', ApiId: api.ApiId, Stage: 'live' }),
      );
      ev = await echo(srv.endpoint, 'tenant-1.wild.example.com', '/orders/9');
      assert.equal(ev.requestContext.stage, 'live');
      assert.equal(ev.requestContext.domainName, 'tenant-1.wild.example.com');
      assert.equal(ev.requestContext.domainPrefix, 'tenant-1');
      assert.equal((await http(`${srv.endpoint}/orders/9`, `a.b.wild.example.com:${port}`)).status, 404);
      await v2.send(new DeleteDomainNameCommand({ DomainName: '*.wild.example.com' }));
    },
  );

  await t.test('v1 domain names: (none) base path, no stage, updates, unknown paths, deletes', async () => {
    const d = await v1.send(
      new CreateRestDomainNameCommand({
        domainName: 'legacy.example.org',
        certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/edge',
      }),
    );
    assert.deepEqual(d.endpointConfiguration?.types, ['EDGE']);
    assert.match(d.distributionDomainName!, /^d-[a-z0-9]{10}\.cloudfront\.net$/);
    assert.equal(d.distributionHostedZoneId, 'Z2FDTNDATAQYW2');
    const upd = await v1.send(
      new UpdateRestDomainNameCommand({
        domainName: 'legacy.example.org',
        patchOperations: [
          {
            op: 'replace',
            path: '/certificateArn',
            value: 'arn:aws:acm:us-east-1:000000000000:certificate/new',
          },
        ],
      }),
    );
    assert.equal(upd.certificateArn, 'arn:aws:acm:us-east-1:000000000000:certificate/new');
    // No stage: the first segment below the base path names it.
    await v1.send(
      new CreateBasePathMappingCommand({
        domainName: 'legacy.example.org',
        restApiId: rest.id,
        basePath: 'cat',
      }),
    );
    let ev = await echo(srv.endpoint, 'legacy.example.org', '/cat/prod/items/9');
    assert.equal(ev.requestContext.stage, 'prod');
    assert.equal(ev.resource, '/items/{id}');
    // Multi-level base paths need a REGIONAL TLS_1_2 domain.
    await rejects(
      v1.send(
        new CreateBasePathMappingCommand({
          domainName: 'legacy.example.org',
          restApiId: rest.id,
          basePath: 'a/b',
        }),
      ),
      'BadRequestException',
    );
    // Unknown path on a known domain (no root mapping): 404.
    const port = new URL(srv.endpoint).port;
    const miss = await http(`${srv.endpoint}/other/thing`, `legacy.example.org:${port}`);
    assert.equal(miss.status, 404);
    assert.deepEqual(JSON.parse(miss.body), { message: 'Not Found' });
    // Update the base path mapping: a new key, then a stage.
    const moved = await v1.send(
      new UpdateBasePathMappingCommand({
        domainName: 'legacy.example.org',
        basePath: 'cat',
        patchOperations: [
          { op: 'replace', path: '/basePath', value: 'catalog' },
          { op: 'replace', path: '/stage', value: 'prod' },
        ],
      }),
    );
    assert.equal(moved.basePath, 'catalog');
    assert.equal(moved.stage, 'prod');
    ev = await echo(srv.endpoint, 'legacy.example.org', '/catalog/items/3');
    assert.equal(ev.path, '/catalog/items/3');
    assert.equal((await http(`${srv.endpoint}/cat/prod/items/9`, `legacy.example.org:${port}`)).status, 404);
    await v1.send(
      new DeleteBasePathMappingCommand({ domainName: 'legacy.example.org', basePath: 'catalog' }),
    );
    assert.equal((await http(`${srv.endpoint}/catalog/items/3`, `legacy.example.org:${port}`)).status, 404);
    await v1.send(new DeleteRestDomainNameCommand({ domainName: 'legacy.example.org' }));
    // No longer a domain: the front door's own 404 for an unknown operation.
    const gone = await http(`${srv.endpoint}/catalog/items/3`, `legacy.example.org:${port}`);
    assert.equal(gone.status, 404);
    assert.notDeepEqual(JSON.parse(gone.body), { message: 'Not Found' });
  });

  await t.test('updating and deleting API mappings and domains changes serving at once', async () => {
    const port = new URL(srv.endpoint).port;
    const maps = (await v2.send(new GetApiMappingsCommand({ DomainName: 'api.example.com' }))).Items!;
    const deep = maps.find((m) => m.ApiMappingKey === 'v1/orders')!;
    const updated = await v2.send(
      new UpdateApiMappingCommand({
        DomainName: 'api.example.com',
        ApiMappingId: deep.ApiMappingId,
        ApiId: api.ApiId,
        ApiMappingKey: 'v2',
      }),
    );
    assert.equal(updated.ApiMappingKey, 'v2');
    assert.equal(updated.Stage, 'live');
    let ev = await echo(srv.endpoint, 'api.example.com', '/v2/orders/8');
    assert.equal(ev.requestContext.stage, 'live');
    assert.equal(ev.rawPath, '/v2/orders/8');
    const root = maps.find((m) => m.ApiMappingKey === '')!;
    await v2.send(
      new DeleteApiMappingCommand({ DomainName: 'api.example.com', ApiMappingId: root.ApiMappingId }),
    );
    const r = await http(`${srv.endpoint}/orders/1`, `api.example.com:${port}`);
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body), { message: 'Not Found' });
    ev = await echo(srv.endpoint, 'api.example.com', '/rest/items/1');
    assert.equal(ev.requestContext.stage, 'prod');
    await v2.send(new DeleteDomainNameCommand({ DomainName: 'api.example.com' }));
    await rejects(
      v2.send(new GetApiMappingsCommand({ DomainName: 'api.example.com' })),
      'NotFoundException',
      'Invalid domain name identifier specified',
    );
    assert.deepEqual((await v2.send(new GetDomainNamesCommand({}))).Items, []);
  });
});

const HTTP_TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Cert:
    Type: AWS::CertificateManager::Certificate
    Properties:
      DomainName: shop.example.net
      ValidationMethod: DNS
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: live
      Domain:
        DomainName: shop.example.net
        CertificateArn: !Ref Cert
        BasePath: ['/', 'v1/shop']
        Route53:
          HostedZoneId: Z0123456789ABCDEFGHIJ
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        ${ECHO}
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /things/{id}
            Method: GET
`;

test('templates: SAM HttpApi with Domain (and Route53 / ACM recorded) deploys and serves', async (t) => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => cfn.destroy());
  const stack = await deployStack(cfn, 'http-domain', HTTP_TEMPLATE);
  const res = await cfn.send(new DescribeStackResourcesCommand({ StackName: 'http-domain' }));
  const types = Object.fromEntries(res.StackResources!.map((r) => [r.LogicalResourceId!, r.ResourceType!]));
  // The generated domain's id is SAM's hash of the name.
  const domainId = Object.keys(types).find((k) => types[k] === 'AWS::ApiGatewayV2::DomainName')!;
  assert.match(domainId, /^ApiGatewayDomainNameV2[0-9a-f]{10}$/);
  assert.equal(types.ApiApiMapping, 'AWS::ApiGatewayV2::ApiMapping');
  assert.equal(types.Apiv1shopApiMapping, 'AWS::ApiGatewayV2::ApiMapping');
  assert.ok(
    Object.keys(types).some(
      (k) => /^RecordSetGroup[0-9a-f]{10}$/.test(k) && types[k] === 'AWS::Route53::RecordSetGroup',
    ),
  );
  assert.equal(stack.phys(domainId), 'shop.example.net');
  assert.match(stack.phys('Cert'), /^arn:aws:acm:us-east-1:000000000000:certificate\//);

  let ev = await echo(srv.endpoint, 'shop.example.net', '/things/1');
  assert.equal(ev.routeKey, 'GET /things/{id}');
  assert.equal(ev.requestContext.stage, 'live');
  assert.equal(ev.rawPath, '/things/1');
  ev = await echo(srv.endpoint, 'shop.example.net', '/v1/shop/things/2');
  assert.equal(ev.rawPath, '/v1/shop/things/2');
  assert.deepEqual(ev.pathParameters, { id: '2' });
  assert.equal(ev.requestContext.domainName, 'shop.example.net');
  assert.equal(ev.requestContext.domainPrefix, 'shop');

  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  t.after(() => v2.destroy());
  const d = await v2.send(new GetDomainNameCommand({ DomainName: 'shop.example.net' }));
  assert.equal(d.DomainNameConfigurations![0].CertificateArn, stack.phys('Cert'));
});

const REST_TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        ${ECHO}
      Events:
        Get:
          Type: Api
          Properties:
            Path: /pets/{id}
            Method: GET
  Domain:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: pets.example.net
      RegionalCertificateArn: arn:aws:acm:us-east-1:000000000000:certificate/1234
      EndpointConfiguration:
        Types: [REGIONAL]
  Mapping:
    Type: AWS::ApiGateway::BasePathMapping
    Properties:
      DomainName: !Ref Domain
      RestApiId: !Ref ServerlessRestApi
      Stage: !Ref ServerlessRestApiProdStage
      BasePath: store
Outputs:
  Regional:
    Value: !GetAtt Domain.RegionalDomainName
  Zone:
    Value: !GetAtt Domain.RegionalHostedZoneId
  Name:
    Value: !Ref Domain
`;

test('templates: a REST API with AWS::ApiGateway::DomainName and BasePathMapping deploys and serves', async (t) => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => cfn.destroy());
  const stack = await deployStack(cfn, 'rest-domain', REST_TEMPLATE);
  assert.match(stack.output('Regional'), /^d-[a-z0-9]{10}\.execute-api\.us-east-1\.amazonaws\.com$/);
  assert.equal(stack.output('Zone'), 'Z1UJRXOUMOOFQ8');
  assert.equal(stack.output('Name'), 'pets.example.net');
  const ev = await echo(srv.endpoint, 'pets.example.net', '/store/pets/7');
  assert.equal(ev.resource, '/pets/{id}');
  assert.equal(ev.path, '/store/pets/7');
  assert.equal(ev.requestContext.path, '/store/pets/7');
  assert.equal(ev.requestContext.stage, 'Prod');
  assert.equal(ev.requestContext.domainName, 'pets.example.net');
  const port = new URL(srv.endpoint).port;
  const miss = await http(`${srv.endpoint}/pets/7`, `pets.example.net:${port}`);
  assert.equal(miss.status, 404);
  assert.deepEqual(JSON.parse(miss.body), { message: 'Not Found' });
  // `nimbus apis` lists the custom domain URL beside the stage URL.
  let out = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t), env: {} };
  assert.equal(await apisCommand.run(['--json', '--endpoint', srv.endpoint], io), 0);
  const rows = JSON.parse(out) as { protocol: string; stage: string; url: string }[];
  assert.ok(
    rows.some(
      (r) =>
        r.protocol === 'REST' && r.stage === 'Prod' && r.url === `http://pets.example.net:${port}/store/`,
    ),
    out,
  );
});
