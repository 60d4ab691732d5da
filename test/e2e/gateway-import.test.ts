/**
 * OpenAPI import through the real SDK clients: ImportRestApi / PutRestApi (REST APIs, Swagger 2.0
 * and OpenAPI 3, JSON and YAML) and ImportApi / ReimportApi (HTTP APIs), with what the imported
 * definitions serve, and the failure paths (nothing half-imported is left behind).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateDeploymentCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  GetExportCommand,
  GetModelsCommand,
  GetRequestValidatorsCommand,
  GetResourcesCommand,
  GetRestApiCommand,
  GetRestApisCommand,
  ImportRestApiCommand,
  PutRestApiCommand,
  TestInvokeMethodCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  CreateStageCommand,
  ExportApiCommand,
  GetApisCommand,
  GetAuthorizersCommand,
  GetIntegrationsCommand,
  GetRoutesCommand,
  ImportApiCommand,
  ReimportApiCommand,
} from '@aws-sdk/client-apigatewayv2';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';

/** Each resource's path and its methods (`/pets GET,POST`), sorted. */
async function resourceMethods(gw: APIGatewayClient, restApiId: string): Promise<string[]> {
  return ((await gw.send(new GetResourcesCommand({ restApiId }))).items ?? [])
    .map((r) =>
      `${r.path} ${Object.keys(r.resourceMethods ?? {})
        .sort()
        .join(',')}`.trim(),
    )
    .sort();
}

async function call(url: string, init: RequestInit = {}) {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.text() };
}

/** A mock integration answering `template` with `status`. */
const mock = (status: string, template: string) => ({
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: { default: { statusCode: status, responseTemplates: { 'application/json': template } } },
});

const PETS_YAML = `openapi: 3.0.1
info:
  title: petstore
  description: pets from YAML
  version: '1.0'
servers:
  - url: https://api.example.com/v1
x-amazon-apigateway-request-validators:
  all:
    validateRequestBody: true
    validateRequestParameters: true
x-amazon-apigateway-binary-media-types: [image/png]
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: { type: string }
  securitySchemes:
    ApiKeyAuth: { type: apiKey, name: x-api-key, in: header }
paths:
  /pets:
    get:
      operationId: listPets
      responses: { '200': { description: ok } }
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses: { default: { statusCode: '200', responseTemplates: { application/json: '[{"name":"rex"}]' } } }
    post:
      x-amazon-apigateway-request-validator: all
      requestBody:
        content:
          application/json:
            schema: { $ref: '#/components/schemas/Pet' }
      responses: { '201': { description: created } }
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 201}' }
        responses: { default: { statusCode: '201', responseTemplates: { application/json: '{"created":true}' } } }
  /pets/{id}:
    get:
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      security: [{ ApiKeyAuth: [] }]
      responses: { '200': { description: ok } }
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses: { default: { statusCode: '200', responseTemplates: { application/json: '{"id":"$input.params(''id'')"}' } } }
`;

test('REST APIs: ImportRestApi and PutRestApi', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => gw.destroy());
  const apiCount = async () => (await gw.send(new GetRestApisCommand({}))).items?.length ?? 0;

  const api = await gw.send(
    new ImportRestApiCommand({ body: Buffer.from(PETS_YAML), parameters: { basepath: 'prepend' } }),
  );
  const restApiId = api.id!;

  await t.test(
    'a YAML OpenAPI 3 definition makes the API, its resources, models and validators',
    async () => {
      assert.equal(api.name, 'petstore');
      assert.equal(api.description, 'pets from YAML');
      assert.deepEqual(api.binaryMediaTypes, ['image/png']);
      // basepath=prepend: the server URL's path comes before every path.
      assert.deepEqual(await resourceMethods(gw, restApiId), [
        '/',
        '/v1',
        '/v1/pets GET,POST',
        '/v1/pets/{id} GET',
      ]);
      const models = (await gw.send(new GetModelsCommand({ restApiId }))).items ?? [];
      assert.deepEqual(
        models.map((m) => m.name),
        ['Empty', 'Error', 'Pet'],
      );
      const validators = (await gw.send(new GetRequestValidatorsCommand({ restApiId }))).items ?? [];
      assert.deepEqual(
        validators.map((v) => [v.name, v.validateRequestBody, v.validateRequestParameters]),
        [['all', true, true]],
      );
    },
  );

  await t.test('TestInvokeMethod runs a method as it is, before any deployment', async () => {
    const resources = (await gw.send(new GetResourcesCommand({ restApiId }))).items ?? [];
    const pets = resources.find((r) => r.path === '/v1/pets')!;
    const out = await gw.send(
      new TestInvokeMethodCommand({
        restApiId,
        resourceId: pets.id,
        httpMethod: 'GET',
        pathWithQueryString: '/v1/pets?x=1',
      }),
    );
    assert.equal(out.status, 200);
    assert.equal(out.body, '[{"name":"rex"}]');
    assert.match(out.log ?? '', /Method completed with status: 200/);
    assert.equal(typeof out.latency, 'number');
    const bad = await gw.send(
      new TestInvokeMethodCommand({
        restApiId,
        resourceId: pets.id,
        httpMethod: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"age":3}',
      }),
    );
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body!).message, 'Invalid request body');
    await rejects(
      gw.send(new TestInvokeMethodCommand({ restApiId, resourceId: pets.id, httpMethod: 'DELETE' })),
      'NotFoundException',
      'Invalid Method identifier specified',
    );
  });

  await t.test('the imported methods serve: integrations, validation, API keys', async () => {
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const base = `${srv.endpoint}/_api/${restApiId}/prod/v1`;
    assert.deepEqual(await call(`${base}/pets`), { status: 200, body: '[{"name":"rex"}]' });
    const post = (body: string) =>
      call(`${base}/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.deepEqual(await post('{"name":"tom"}'), { status: 201, body: '{"created":true}' });
    const bad = await post('{"age":3}');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'Invalid request body');
    // A security requirement naming an `x-api-key` header scheme makes the key required.
    assert.equal((await call(`${base}/pets/7`)).status, 403);
    const key = await gw.send(new CreateApiKeyCommand({ name: 'k', enabled: true }));
    const plan = await gw.send(
      new CreateUsagePlanCommand({ name: 'p', apiStages: [{ apiId: restApiId, stage: 'prod' }] }),
    );
    await gw.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan.id, keyId: key.id, keyType: 'API_KEY' }));
    assert.deepEqual(await call(`${base}/pets/7`, { headers: { 'x-api-key': key.value! } }), {
      status: 200,
      body: '{"id":"7"}',
    });
  });

  await t.test(
    'GetExport: OpenAPI 3 and Swagger 2.0, JSON and YAML, and the export imports back',
    async () => {
      const exported = await gw.send(
        new GetExportCommand({
          restApiId,
          stageName: 'prod',
          exportType: 'oas30',
          parameters: { extensions: 'apigateway' },
        }),
      );
      assert.equal(exported.contentType, 'application/json');
      assert.match(exported.contentDisposition ?? '', /^attachment; filename="oas30_.*\.json"$/);
      const doc = JSON.parse(Buffer.from(exported.body!).toString('utf8'));
      assert.equal(doc.openapi, '3.0.1');
      assert.equal(doc.info.title, 'petstore');
      assert.deepEqual(Object.keys(doc.paths).sort(), ['/v1/pets', '/v1/pets/{id}']);
      assert.equal(doc.paths['/v1/pets'].get.operationId, 'listPets');
      assert.equal(doc.paths['/v1/pets'].get['x-amazon-apigateway-integration'].type, 'mock');
      assert.deepEqual(doc.paths['/v1/pets'].post.requestBody.content['application/json'].schema, {
        $ref: '#/components/schemas/Pet',
      });
      assert.equal(doc.paths['/v1/pets'].post['x-amazon-apigateway-request-validator'], 'all');
      assert.deepEqual(doc.paths['/v1/pets/{id}'].get.security, [{ api_key: [] }]);
      assert.deepEqual(doc.components.schemas.Pet.required, ['name']);
      assert.deepEqual(doc['x-amazon-apigateway-binary-media-types'], ['image/png']);
      // The export imports into a new API that serves the same.
      const copy = await gw.send(new ImportRestApiCommand({ body: exported.body! }));
      assert.deepEqual(await resourceMethods(gw, copy.id!), await resourceMethods(gw, restApiId));
      await gw.send(new CreateDeploymentCommand({ restApiId: copy.id, stageName: 'prod' }));
      assert.deepEqual(await call(`${srv.endpoint}/_api/${copy.id}/prod/v1/pets`), {
        status: 200,
        body: '[{"name":"rex"}]',
      });
      // Swagger 2.0 as YAML, without extensions: no integrations.
      const yaml = await gw.send(
        new GetExportCommand({
          restApiId,
          stageName: 'prod',
          exportType: 'swagger',
          accepts: 'application/yaml',
        }),
      );
      assert.equal(yaml.contentType, 'application/yaml');
      const sw = parseYaml(Buffer.from(yaml.body!).toString('utf8'));
      assert.equal(sw.swagger, '2.0');
      assert.equal(sw.basePath, '/prod');
      assert.equal(sw.paths['/v1/pets'].get['x-amazon-apigateway-integration'], undefined);
      assert.deepEqual(sw.definitions.Pet.required, ['name']);
      await rejects(
        gw.send(new GetExportCommand({ restApiId, stageName: 'nostage', exportType: 'oas30' })),
        'NotFoundException',
      );
      await rejects(
        gw.send(new GetExportCommand({ restApiId, stageName: 'prod', exportType: 'raml' })),
        'BadRequestException',
      );
    },
  );

  await t.test('PutRestApi merge adds to the API; a method of the same path takes the new form', async () => {
    const doc = {
      swagger: '2.0',
      info: { title: 'petstore' },
      paths: {
        '/v1/pets': { get: { 'x-amazon-apigateway-integration': mock('200', '"merged"') } },
        '/v1/owners': { get: { 'x-amazon-apigateway-integration': mock('200', '"owners"') } },
      },
    };
    await gw.send(new PutRestApiCommand({ restApiId, body: Buffer.from(JSON.stringify(doc)) }));
    assert.deepEqual(await resourceMethods(gw, restApiId), [
      '/',
      '/v1',
      '/v1/owners GET',
      '/v1/pets GET,POST',
      '/v1/pets/{id} GET',
    ]);
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const base = `${srv.endpoint}/_api/${restApiId}/prod/v1`;
    assert.deepEqual(await call(`${base}/pets`), { status: 200, body: '"merged"' });
    assert.deepEqual(await call(`${base}/owners`), { status: 200, body: '"owners"' });
  });

  await t.test('a definition that fails part way leaves the API as it was', async () => {
    const before = await resourceMethods(gw, restApiId);
    const doc = {
      swagger: '2.0',
      info: { title: 'broken' },
      paths: {
        '/fine': { get: { 'x-amazon-apigateway-integration': mock('200', '"fine"') } },
        '/broken': { get: { 'x-amazon-apigateway-integration': 'not an object' } },
      },
    };
    for (const mode of ['merge', 'overwrite'] as const)
      await rejects(
        gw.send(new PutRestApiCommand({ restApiId, mode, body: Buffer.from(JSON.stringify(doc)) })),
        'BadRequestException',
        'Unable to parse API definition because of a malformed integration at path /broken.',
      );
    assert.deepEqual(await resourceMethods(gw, restApiId), before);
    assert.equal((await gw.send(new GetRestApiCommand({ restApiId }))).name, 'petstore');
  });

  await t.test(
    'PutRestApi overwrite replaces the definition (Swagger 2.0, body parameter model)',
    async () => {
      const doc = {
        swagger: '2.0',
        info: { title: 'orders', version: '2' },
        basePath: '/ignored',
        definitions: { Order: { type: 'object', required: ['sku'] } },
        paths: {
          '/orders': {
            post: {
              consumes: ['application/json'],
              parameters: [
                { in: 'body', name: 'o', required: true, schema: { $ref: '#/definitions/Order' } },
              ],
              'x-amazon-apigateway-request-validator': 'body',
              'x-amazon-apigateway-integration': mock('200', '"ordered"'),
            },
          },
        },
        'x-amazon-apigateway-request-validators': { body: { validateRequestBody: true } },
      };
      const out = await gw.send(
        new PutRestApiCommand({ restApiId, mode: 'overwrite', body: Buffer.from(JSON.stringify(doc)) }),
      );
      assert.equal(out.name, 'orders');
      assert.deepEqual(await resourceMethods(gw, restApiId), ['/', '/orders POST']);
      assert.deepEqual(
        ((await gw.send(new GetModelsCommand({ restApiId }))).items ?? []).map((m) => m.name),
        ['Empty', 'Error', 'Order'],
      );
      await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
      const post = (body: string) =>
        call(`${srv.endpoint}/_api/${restApiId}/prod/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
      assert.deepEqual(await post('{"sku":"a"}'), { status: 200, body: '"ordered"' });
      assert.equal((await post('{}')).status, 400);
    },
  );

  await t.test('bad input: not OpenAPI, a malformed import, unknown API, unknown mode', async () => {
    const count = await apiCount();
    for (const body of ['paths: [unclosed', '{"just":"json"}', '[1,2]'])
      await rejects(
        gw.send(new ImportRestApiCommand({ body: Buffer.from(body) })),
        'BadRequestException',
        'Invalid OpenAPI input.',
      );
    await rejects(
      gw.send(
        new ImportRestApiCommand({
          body: Buffer.from(
            JSON.stringify({ openapi: '3.0.1', info: { title: 'x' }, paths: { '/a': 'no' } }),
          ),
        }),
      ),
      'BadRequestException',
      /malformed path at path \/a/,
    );
    // A failed import creates no API.
    assert.equal(await apiCount(), count);
    await rejects(
      gw.send(new PutRestApiCommand({ restApiId: 'nosuchapi', body: Buffer.from('{"swagger":"2.0"}') })),
      'NotFoundException',
    );
    await rejects(
      gw.send(
        new PutRestApiCommand({ restApiId, mode: 'replace' as any, body: Buffer.from('{"swagger":"2.0"}') }),
      ),
      'BadRequestException',
      'Invalid mode specified: replace. Valid options are merge,overwrite',
    );
  });
});

test("REST APIs: AWS's PetStore sample imports, serves its mock methods, exports and imports back", async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => gw.destroy());
  const body = readFileSync(
    fileURLToPath(new URL('../../../test/fixtures/petstore-swagger.json', import.meta.url)),
  );
  const api = await gw.send(new ImportRestApiCommand({ body }));
  assert.equal(api.name, 'PetStore');
  assert.deepEqual(await resourceMethods(gw, api.id!), [
    '/ GET',
    '/pets GET,OPTIONS,POST',
    '/pets/{petId} GET',
  ]);
  // Its definitions become models, `Empty` being every API's own.
  const models = ((await gw.send(new GetModelsCommand({ restApiId: api.id }))).items ?? []).map(
    (m) => m.name,
  );
  assert.deepEqual(models.sort(), ['Empty', 'Error', 'NewPet', 'NewPetResponse', 'Pet', 'PetType', 'Pets']);
  await gw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod' }));
  const home = await fetch(`${srv.endpoint}/_api/${api.id}/prod/`);
  assert.equal(home.status, 200);
  assert.equal(home.headers.get('content-type'), 'text/html');
  assert.equal(await home.text(), '<html><body>Welcome to your Pet Store API</body></html>');
  const options = await fetch(`${srv.endpoint}/_api/${api.id}/prod/pets`, { method: 'OPTIONS' });
  assert.equal(options.status, 200);
  assert.equal(options.headers.get('access-control-allow-methods'), 'POST,GET,OPTIONS');
  assert.equal(options.headers.get('access-control-allow-origin'), '*');
  // The export (Swagger, all extensions) defines every model it refers to, and imports back.
  const exported = await gw.send(
    new GetExportCommand({
      restApiId: api.id,
      stageName: 'prod',
      exportType: 'swagger',
      parameters: { extensions: 'apigateway' },
    }),
  );
  const doc = JSON.parse(Buffer.from(exported.body!).toString('utf8'));
  const refs = [...JSON.stringify(doc).matchAll(/"#\/definitions\/([A-Za-z0-9]+)"/g)].map((m) => m[1]);
  for (const r of refs) assert.ok(doc.definitions[r], `definition ${r} exported`);
  assert.deepEqual(doc.definitions.Pets, { type: 'array', items: { $ref: '#/definitions/Pet' } });
  const copy = await gw.send(new ImportRestApiCommand({ body: exported.body! }));
  assert.deepEqual(await resourceMethods(gw, copy.id!), await resourceMethods(gw, api.id!));
});

test('HTTP APIs: ImportApi and ReimportApi', async (t) => {
  await using srv = await startTestServer();
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  t.after(() => v2.destroy());
  const health = `${srv.endpoint}/_nimbus/health`;
  const doc = {
    openapi: '3.0.1',
    info: { title: 'health-api', version: '3', description: 'imported' },
    'x-amazon-apigateway-cors': { allowOrigins: ['https://app.example.com'], allowMethods: ['GET'] },
    components: {
      securitySchemes: {
        jwt: {
          type: 'oauth2',
          'x-amazon-apigateway-authorizer': {
            type: 'jwt',
            identitySource: '$request.header.Authorization',
            jwtConfiguration: { issuer: 'http://127.0.0.1:1/issuer', audience: ['a'] },
          },
        },
      },
      'x-amazon-apigateway-integrations': {
        health: { type: 'http_proxy', httpMethod: 'GET', uri: health, payloadFormatVersion: '1.0' },
      },
    },
    paths: {
      '/health': {
        get: {
          'x-amazon-apigateway-integration': { $ref: '#/components/x-amazon-apigateway-integrations/health' },
        },
      },
      '/private': {
        get: {
          security: [{ jwt: ['read'] }],
          'x-amazon-apigateway-integration': { $ref: '#/components/x-amazon-apigateway-integrations/health' },
        },
      },
    },
  };
  const api = await v2.send(new ImportApiCommand({ Body: JSON.stringify(doc) }));
  const ApiId = api.ApiId!;

  await t.test('ImportApi makes the API, its authorizer, one shared integration and the routes', async () => {
    assert.equal(api.Name, 'health-api');
    assert.equal(api.Version, '3');
    assert.equal(api.ProtocolType, 'HTTP');
    assert.deepEqual(api.CorsConfiguration?.AllowOrigins, ['https://app.example.com']);
    const auths = (await v2.send(new GetAuthorizersCommand({ ApiId }))).Items ?? [];
    assert.deepEqual(
      auths.map((a) => [a.Name, a.AuthorizerType, a.IdentitySource]),
      [['jwt', 'JWT', ['$request.header.Authorization']]],
    );
    const integs = (await v2.send(new GetIntegrationsCommand({ ApiId }))).Items ?? [];
    assert.equal(integs.length, 1);
    const routes = (await v2.send(new GetRoutesCommand({ ApiId }))).Items ?? [];
    const byKey = Object.fromEntries(routes.map((r) => [r.RouteKey, r]));
    assert.deepEqual(Object.keys(byKey).sort(), ['GET /health', 'GET /private']);
    assert.equal(byKey['GET /private'].AuthorizationType, 'JWT');
    assert.deepEqual(byKey['GET /private'].AuthorizationScopes, ['read']);
    assert.equal(byKey['GET /health'].Target, `integrations/${integs[0].IntegrationId}`);
  });

  await t.test('the imported routes serve once a stage deploys them', async () => {
    await v2.send(new CreateStageCommand({ ApiId, StageName: '$default', AutoDeploy: true }));
    const r = await call(`${srv.endpoint}/_api/${ApiId}/health`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).status, 'ok');
    assert.equal((await call(`${srv.endpoint}/_api/${ApiId}/private`)).status, 401);
  });

  await t.test('ExportApi: OpenAPI 3 as JSON and YAML, and the export imports back', async () => {
    const out = await v2.send(new ExportApiCommand({ ApiId, Specification: 'OAS30', OutputType: 'JSON' }));
    const exported = JSON.parse(Buffer.from(out.body!).toString('utf8'));
    assert.equal(exported.openapi, '3.0.1');
    assert.equal(exported.info.title, 'health-api');
    assert.deepEqual(Object.keys(exported.paths).sort(), ['/health', '/private']);
    assert.equal(exported.paths['/health'].get['x-amazon-apigateway-integration'].uri, health);
    assert.deepEqual(exported.paths['/private'].get.security, [{ jwt: ['read'] }]);
    assert.equal(exported.components.securitySchemes.jwt['x-amazon-apigateway-authorizer'].type, 'jwt');
    assert.deepEqual(exported['x-amazon-apigateway-cors'].allowOrigins, ['https://app.example.com']);
    const copy = await v2.send(new ImportApiCommand({ Body: JSON.stringify(exported) }));
    const keys = async (id: string) =>
      ((await v2.send(new GetRoutesCommand({ ApiId: id }))).Items ?? [])
        .map((r) => `${r.RouteKey} ${r.AuthorizationType} ${(r.AuthorizationScopes ?? []).join(',')}`)
        .sort();
    assert.deepEqual(await keys(copy.ApiId!), await keys(ApiId));
    const yaml = await v2.send(
      new ExportApiCommand({
        ApiId,
        Specification: 'OAS30',
        OutputType: 'YAML',
        StageName: '$default',
        IncludeExtensions: false,
      }),
    );
    const plain = parseYaml(Buffer.from(yaml.body!).toString('utf8'));
    assert.equal(plain.paths['/health'].get['x-amazon-apigateway-integration'], undefined);
    await rejects(
      v2.send(
        new ExportApiCommand({ ApiId, Specification: 'OAS30', OutputType: 'JSON', StageName: 'nostage' }),
      ),
      'NotFoundException',
    );
  });

  await t.test('ReimportApi (YAML) replaces routes, integrations, authorizers and CORS', async () => {
    const yaml = `openapi: 3.0.1
info: { title: renamed }
paths:
  /$default:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration: { type: http_proxy, httpMethod: ANY, uri: '${health}', payloadFormatVersion: '1.0' }
`;
    const out = await v2.send(new ReimportApiCommand({ ApiId, Body: yaml }));
    assert.equal(out.Name, 'renamed');
    assert.equal(out.CorsConfiguration, undefined);
    const routes = (await v2.send(new GetRoutesCommand({ ApiId }))).Items ?? [];
    assert.deepEqual(
      routes.map((r) => r.RouteKey),
      ['$default'],
    );
    assert.deepEqual((await v2.send(new GetAuthorizersCommand({ ApiId }))).Items, []);
    assert.equal(((await v2.send(new GetIntegrationsCommand({ ApiId }))).Items ?? []).length, 1);
    // The auto-deploy stage serves the new routes at once.
    assert.equal((await call(`${srv.endpoint}/_api/${ApiId}/anything/at/all`)).status, 200);
  });

  await t.test('bad input leaves nothing behind and changes nothing', async () => {
    const count = (await v2.send(new GetApisCommand({}))).Items?.length;
    await rejects(
      v2.send(new ImportApiCommand({ Body: 'not: [openapi' })),
      'BadRequestException',
      'Invalid OpenAPI input.',
    );
    const broken = {
      openapi: '3.0.1',
      info: { title: 'broken' },
      paths: {
        '/a': {
          get: {
            'x-amazon-apigateway-integration': { $ref: '#/components/x-amazon-apigateway-integrations/none' },
          },
        },
      },
    };
    await rejects(
      v2.send(new ImportApiCommand({ Body: JSON.stringify(broken) })),
      'BadRequestException',
      'Unable to parse API definition because of a malformed integration at path /a.',
    );
    assert.equal((await v2.send(new GetApisCommand({}))).Items?.length, count);
    await rejects(
      v2.send(new ReimportApiCommand({ ApiId, Body: JSON.stringify(broken) })),
      'BadRequestException',
    );
    const routes = (await v2.send(new GetRoutesCommand({ ApiId }))).Items ?? [];
    assert.deepEqual(
      routes.map((r) => r.RouteKey),
      ['$default'],
    );
    await rejects(
      v2.send(new ReimportApiCommand({ ApiId: 'nosuchapi', Body: yamlOf() })),
      'NotFoundException',
    );
  });
});

const yamlOf = () => 'openapi: 3.0.1\ninfo: { title: t }\npaths: {}\n';
