/**
 * REST API documentation parts and versions, client certificates and GetModelTemplate (REST and
 * WebSocket APIs), through the real SDK clients and CloudFormation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateDocumentationPartCommand,
  CreateDocumentationVersionCommand,
  CreateModelCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  DeleteClientCertificateCommand,
  DeleteDocumentationPartCommand,
  DeleteDocumentationVersionCommand,
  DeleteRestApiCommand,
  GenerateClientCertificateCommand,
  GetClientCertificateCommand,
  GetClientCertificatesCommand,
  GetDocumentationPartCommand,
  GetDocumentationPartsCommand,
  GetDocumentationVersionCommand,
  GetDocumentationVersionsCommand,
  GetExportCommand,
  GetModelTemplateCommand,
  GetStageCommand,
  GetTagsCommand,
  ImportDocumentationPartsCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  PutRestApiCommand,
  UpdateClientCertificateCommand,
  UpdateDocumentationPartCommand,
  UpdateDocumentationVersionCommand,
  UpdateStageCommand,
  type DocumentationPartLocation,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateModelCommand as CreateV2ModelCommand,
  GetModelTemplateCommand as GetV2ModelTemplateCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  CloudFormationClient,
  DeleteStackCommand,
  waitUntilStackDeleteComplete,
} from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';

test('REST API documentation, client certificates and model templates', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    v2.destroy();
    cfn.destroy();
  });

  /** A REST API with a MOCK `GET /`, deployed to stage `prod`. */
  async function deployedApi(name: string) {
    const api = await gw.send(new CreateRestApiCommand({ name }));
    const where = { restApiId: api.id!, resourceId: api.rootResourceId!, httpMethod: 'GET' };
    await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
    await gw.send(new PutIntegrationCommand({ ...where, type: 'MOCK' }));
    await gw.send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
    return api.id!;
  }
  const part = (restApiId: string, location: DocumentationPartLocation, properties: string) =>
    gw.send(new CreateDocumentationPartCommand({ restApiId, location, properties }));

  await t.test('documentation parts: locations, duplicates, filters, paging, update, delete', async () => {
    const restApiId = await deployedApi('docs');
    const api = await part(restApiId, { type: 'API' }, '{"info":{"description":"Pets"}}');
    assert.match(api.id!, /^[a-z0-9]{6}$/);
    assert.deepEqual(api.location, { type: 'API' });
    await rejects(
      part(restApiId, { type: 'API' }, '{}'),
      'ConflictException',
      "Documentation part already exists for the specified location: type 'API'.",
    );
    // Omitted path, method and status code take their defaults: `/`, `*`, `*`.
    const root = await part(restApiId, { type: 'RESOURCE' }, '{"description":"root"}');
    assert.deepEqual(root.location, { type: 'RESOURCE', path: '/' });
    await rejects(
      part(restApiId, { type: 'RESOURCE', path: '/' }, '{}'),
      'ConflictException',
      "Documentation part already exists for the specified location: type 'RESOURCE', path '/'.",
    );
    const method = await part(restApiId, { type: 'METHOD', path: '/pets' }, '{"summary":"List pets"}');
    assert.deepEqual(method.location, { type: 'METHOD', path: '/pets', method: '*' });
    await part(restApiId, { type: 'METHOD', path: '/pets', method: 'POST' }, '{"summary":"Add a pet"}');
    await part(restApiId, { type: 'QUERY_PARAMETER', path: '/pets', method: 'GET', name: 'page' }, '{}');
    await part(restApiId, { type: 'REQUEST_BODY', path: '/pets', method: 'POST' }, '{"description":"A pet"}');
    const resp = await part(restApiId, { type: 'RESPONSE', statusCode: '200' }, '{"description":"OK"}');
    assert.deepEqual(resp.location, { type: 'RESPONSE', path: '/', method: '*', statusCode: '200' });
    await part(
      restApiId,
      { type: 'RESPONSE_HEADER', path: '/', method: 'GET', statusCode: '200', name: 'Content-Type' },
      '{"description":"Media type"}',
    );
    await part(restApiId, { type: 'MODEL', name: 'Pet' }, '{"description":"A pet"}');
    await part(restApiId, { type: 'AUTHORIZER', name: 'tokens' }, '{}');

    const bad = (location: DocumentationPartLocation, properties = '{}') =>
      rejects(part(restApiId, location, properties), 'BadRequestException');
    await bad({ type: 'API', method: 'GET' }); // method is not a field of API
    await bad({ type: 'MODEL', path: '/pets', name: 'Pet' }); // nor path of MODEL
    await bad({ type: 'RESOURCE', statusCode: '200' }); // nor statusCode of RESOURCE
    await bad({ type: 'QUERY_PARAMETER', path: '/pets' }); // name is required
    await bad({ type: 'AUTHORIZER' }); // name is required
    await bad({ type: 'RESPONSE', statusCode: 'ok' });
    await bad({ type: 'METHOD', method: 'FETCH' });
    await bad({ type: 'RESOURCE', path: 'pets' });
    await bad({ type: 'NOPE' as never });
    await bad({ type: 'RESOURCE', path: '/x' }, '[1, 2]'); // properties: a JSON object
    await bad({ type: 'RESOURCE', path: '/x' }, 'not json');

    const got = await gw.send(
      new GetDocumentationPartCommand({ restApiId, documentationPartId: method.id! }),
    );
    assert.equal(got.properties, '{"summary":"List pets"}');
    await rejects(
      gw.send(new GetDocumentationPartCommand({ restApiId, documentationPartId: 'nope00' })),
      'NotFoundException',
      'Invalid Documentation part identifier specified',
    );
    await rejects(
      gw.send(new GetDocumentationPartsCommand({ restApiId: 'nope000000' })),
      'NotFoundException',
      'Invalid API identifier specified 000000000000:nope000000',
    );

    const list = async (input: Record<string, unknown>) =>
      (await gw.send(new GetDocumentationPartsCommand({ restApiId, ...input }))).items!;
    assert.equal((await list({})).length, 10);
    assert.deepEqual(
      (await list({ type: 'METHOD' })).map((p) => p.location!.method),
      ['*', 'POST'],
    );
    assert.equal((await list({ path: '/pets' })).length, 4);
    assert.deepEqual(
      (await list({ nameQuery: 'Con' })).map((p) => p.location!.name),
      ['Content-Type'],
    );
    // UNDOCUMENTED: parts without content (`{}`).
    assert.deepEqual(
      (await list({ locationStatus: 'UNDOCUMENTED' })).map((p) => p.location!.type),
      ['QUERY_PARAMETER', 'AUTHORIZER'],
    );
    assert.equal((await list({ locationStatus: 'DOCUMENTED' })).length, 8);
    const first = await gw.send(new GetDocumentationPartsCommand({ restApiId, limit: 4 }));
    assert.equal(first.items!.length, 4);
    assert.ok(first.position);
    const rest = await gw.send(
      new GetDocumentationPartsCommand({ restApiId, limit: 25, position: first.position }),
    );
    assert.equal(rest.items!.length, 6);
    assert.equal(rest.position, undefined);

    const updated = await gw.send(
      new UpdateDocumentationPartCommand({
        restApiId,
        documentationPartId: method.id!,
        patchOperations: [{ op: 'replace', path: '/properties', value: '{"summary":"All pets"}' }],
      }),
    );
    assert.equal(updated.properties, '{"summary":"All pets"}');
    await rejects(
      gw.send(
        new UpdateDocumentationPartCommand({
          restApiId,
          documentationPartId: method.id!,
          patchOperations: [{ op: 'replace', path: '/location/path', value: '/x' }],
        }),
      ),
      'BadRequestException',
      "Invalid patch path  '/location/path' specified for op 'replace'. Must be one of: [/properties]",
    );
    await rejects(
      gw.send(
        new UpdateDocumentationPartCommand({
          restApiId,
          documentationPartId: method.id!,
          patchOperations: [{ op: 'replace', path: '/properties', value: '"text"' }],
        }),
      ),
      'BadRequestException',
    );
    await gw.send(new DeleteDocumentationPartCommand({ restApiId, documentationPartId: method.id! }));
    await rejects(
      gw.send(new DeleteDocumentationPartCommand({ restApiId, documentationPartId: method.id! })),
      'NotFoundException',
      'Invalid Documentation part identifier specified',
    );
    assert.equal((await list({})).length, 9);

    // Deleting the API deletes its documentation.
    await gw.send(new DeleteRestApiCommand({ restApiId }));
    await rejects(gw.send(new GetDocumentationPartsCommand({ restApiId })), 'NotFoundException');
  });

  await t.test('ImportDocumentationParts: merge, overwrite, warnings', async () => {
    const restApiId = await deployedApi('imported-docs');
    const existing = await part(restApiId, { type: 'API' }, '{"info":{"description":"old"}}');
    const definition = (parts: unknown[]) =>
      Buffer.from(
        JSON.stringify({
          swagger: '2.0',
          info: { title: 'docs', version: '1' },
          paths: {},
          'x-amazon-apigateway-documentation': { version: '1.0', documentationParts: parts },
        }),
      );
    const merged = await gw.send(
      new ImportDocumentationPartsCommand({
        restApiId,
        mode: 'merge',
        body: definition([
          { location: { type: 'API' }, properties: { info: { description: 'new' } } },
          { location: { type: 'METHOD', path: '/pets', method: 'GET' }, properties: { summary: 'List' } },
          { location: { type: 'QUERY_PARAMETER', path: '/pets' }, properties: {} }, // no name: a warning
        ]),
      }),
    );
    assert.equal(merged.ids!.length, 2);
    assert.equal(merged.ids![0], existing.id, 'the documented location keeps its part');
    assert.equal(merged.warnings!.length, 1);
    assert.match(merged.warnings![0], /name/);
    const apiPart = await gw.send(
      new GetDocumentationPartCommand({ restApiId, documentationPartId: existing.id! }),
    );
    assert.deepEqual(JSON.parse(apiPart.properties!), { info: { description: 'new' } });

    await rejects(
      gw.send(
        new ImportDocumentationPartsCommand({
          restApiId,
          mode: 'overwrite',
          failOnWarnings: true,
          body: definition([{ location: { type: 'MODEL' }, properties: {} }]),
        }),
      ),
      'BadRequestException',
    );
    assert.equal((await gw.send(new GetDocumentationPartsCommand({ restApiId }))).items!.length, 2);

    const overwritten = await gw.send(
      new ImportDocumentationPartsCommand({
        restApiId,
        mode: 'overwrite',
        body: definition([{ location: { type: 'MODEL', name: 'Pet' }, properties: { title: 'Pet' } }]),
      }),
    );
    const items = (await gw.send(new GetDocumentationPartsCommand({ restApiId }))).items!;
    assert.deepEqual(
      items.map((p) => p.id),
      overwritten.ids,
    );
    assert.deepEqual(items[0].location, { type: 'MODEL', name: 'Pet' });

    // PutRestApi imports the definition's documentation too.
    await gw.send(
      new PutRestApiCommand({
        restApiId,
        mode: 'merge',
        body: definition([
          { location: { type: 'RESOURCE', path: '/' }, properties: { description: 'root' } },
        ]),
      }),
    );
    assert.equal(
      (await gw.send(new GetDocumentationPartsCommand({ restApiId, type: 'RESOURCE' }))).items!.length,
      1,
    );
  });

  await t.test('documentation versions: snapshots, the stage documentationVersion, GetExport', async () => {
    const restApiId = await deployedApi('versions');
    const apiPart = await part(restApiId, { type: 'API' }, '{"info":{"description":"first"}}');
    const v1 = await gw.send(
      new CreateDocumentationVersionCommand({ restApiId, documentationVersion: '1.0', description: 'one' }),
    );
    assert.equal(v1.version, '1.0');
    assert.equal(v1.description, 'one');
    assert.ok(v1.createdDate instanceof Date);
    await rejects(
      gw.send(new CreateDocumentationVersionCommand({ restApiId, documentationVersion: '1.0' })),
      'ConflictException',
    );
    await gw.send(
      new UpdateDocumentationPartCommand({
        restApiId,
        documentationPartId: apiPart.id!,
        patchOperations: [{ op: 'replace', path: '/properties', value: '{"info":{"description":"second"}}' }],
      }),
    );
    // `stageName` makes the stage publish the new version.
    await gw.send(
      new CreateDocumentationVersionCommand({ restApiId, documentationVersion: '2.0', stageName: 'prod' }),
    );
    assert.equal(
      (await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }))).documentationVersion,
      '2.0',
    );
    await rejects(
      gw.send(
        new CreateDocumentationVersionCommand({ restApiId, documentationVersion: '3.0', stageName: 'nope' }),
      ),
      'NotFoundException',
    );

    const exported = async () => {
      const out = await gw.send(
        new GetExportCommand({
          restApiId,
          stageName: 'prod',
          exportType: 'oas30',
          parameters: { extensions: 'documentation' },
        }),
      );
      return JSON.parse(Buffer.from(out.body!).toString('utf8'))['x-amazon-apigateway-documentation'];
    };
    let doc = await exported();
    assert.equal(doc.version, '2.0');
    assert.deepEqual(doc.documentationParts, [
      { location: { type: 'API' }, properties: { info: { description: 'second' } } },
    ]);
    // Version 1.0 kept the parts as they were when it was created.
    await gw.send(
      new UpdateStageCommand({
        restApiId,
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/documentationVersion', value: '1.0' }],
      }),
    );
    doc = await exported();
    assert.equal(doc.version, '1.0');
    assert.deepEqual(doc.documentationParts[0].properties, { info: { description: 'first' } });
    await rejects(
      gw.send(
        new UpdateStageCommand({
          restApiId,
          stageName: 'prod',
          patchOperations: [{ op: 'replace', path: '/documentationVersion', value: '9.9' }],
        }),
      ),
      'BadRequestException',
      'Invalid Documentation version specified',
    );
    const deployment = (await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }))).deploymentId!;
    const beta = await gw.send(
      new CreateStageCommand({
        restApiId,
        stageName: 'beta',
        deploymentId: deployment,
        documentationVersion: '2.0',
      }),
    );
    assert.equal(beta.documentationVersion, '2.0');
    await rejects(
      gw.send(
        new CreateStageCommand({
          restApiId,
          stageName: 'gamma',
          deploymentId: deployment,
          documentationVersion: '7',
        }),
      ),
      'BadRequestException',
      'Invalid Documentation version specified',
    );

    const got = await gw.send(new GetDocumentationVersionCommand({ restApiId, documentationVersion: '1.0' }));
    assert.equal(got.description, 'one');
    const changed = await gw.send(
      new UpdateDocumentationVersionCommand({
        restApiId,
        documentationVersion: '1.0',
        patchOperations: [{ op: 'replace', path: '/description', value: 'first release' }],
      }),
    );
    assert.equal(changed.description, 'first release');
    const versions = await gw.send(new GetDocumentationVersionsCommand({ restApiId }));
    assert.deepEqual(
      versions.items!.map((v) => v.version),
      ['1.0', '2.0'],
    );
    await gw.send(new DeleteDocumentationVersionCommand({ restApiId, documentationVersion: '2.0' }));
    await rejects(
      gw.send(new GetDocumentationVersionCommand({ restApiId, documentationVersion: '2.0' })),
      'NotFoundException',
      'Invalid Documentation version specified',
    );
    await rejects(
      gw.send(new DeleteDocumentationVersionCommand({ restApiId, documentationVersion: '2.0' })),
      'NotFoundException',
      'Invalid Documentation version specified',
    );
  });

  await t.test('client certificates', async () => {
    const before = Date.now();
    const cert = await gw.send(
      new GenerateClientCertificateCommand({ description: 'backend', tags: { team: 'pets' } }),
    );
    const id = cert.clientCertificateId!;
    assert.match(id, /^[a-z0-9]{6}$/);
    assert.equal(cert.description, 'backend');
    assert.deepEqual(cert.tags, { team: 'pets' });
    const x509 = new X509Certificate(cert.pemEncodedCertificate!);
    assert.match(x509.subject, new RegExp(`CN=${id}`));
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    const created = cert.createdDate!.getTime();
    assert.ok(created >= Math.floor(before / 1000) * 1000 && created <= Date.now());
    assert.equal(cert.expirationDate!.getTime() - created, 365 * 86_400_000);
    assert.equal(new Date(x509.validTo).getTime(), cert.expirationDate!.getTime());

    const got = await gw.send(new GetClientCertificateCommand({ clientCertificateId: id }));
    assert.equal(got.pemEncodedCertificate, cert.pemEncodedCertificate);
    assert.equal((got as unknown as Record<string, unknown>).privateKeyPem, undefined);
    const arn = `arn:aws:apigateway:us-east-1::/clientcertificates/${id}`;
    assert.deepEqual((await gw.send(new GetTagsCommand({ resourceArn: arn }))).tags, { team: 'pets' });

    const updated = await gw.send(
      new UpdateClientCertificateCommand({
        clientCertificateId: id,
        patchOperations: [{ op: 'replace', path: '/description', value: 'payments backend' }],
      }),
    );
    assert.equal(updated.description, 'payments backend');
    await rejects(
      gw.send(
        new UpdateClientCertificateCommand({
          clientCertificateId: id,
          patchOperations: [{ op: 'replace', path: '/pemEncodedCertificate', value: 'x' }],
        }),
      ),
      'BadRequestException',
    );

    await gw.send(new GenerateClientCertificateCommand({}));
    await gw.send(new GenerateClientCertificateCommand({}));
    const page1 = await gw.send(new GetClientCertificatesCommand({ limit: 2 }));
    assert.equal(page1.items!.length, 2);
    const page2 = await gw.send(new GetClientCertificatesCommand({ limit: 2, position: page1.position }));
    assert.ok(page2.items!.length >= 1);
    assert.ok([...page1.items!, ...page2.items!].some((c) => c.clientCertificateId === id));

    // A stage names an existing certificate only.
    const restApiId = await deployedApi('certs');
    const setCert = (value: string) =>
      gw.send(
        new UpdateStageCommand({
          restApiId,
          stageName: 'prod',
          patchOperations: [{ op: 'replace', path: '/clientCertificateId', value }],
        }),
      );
    await rejects(
      setCert('nope00'),
      'BadRequestException',
      'Invalid client certificate identifier specified',
    );
    assert.equal((await setCert(id)).clientCertificateId, id);

    await gw.send(new DeleteClientCertificateCommand({ clientCertificateId: id }));
    for (const call of [
      gw.send(new GetClientCertificateCommand({ clientCertificateId: id })),
      gw.send(new DeleteClientCertificateCommand({ clientCertificateId: id })),
      gw.send(
        new UpdateClientCertificateCommand({
          clientCertificateId: id,
          patchOperations: [{ op: 'replace', path: '/description', value: 'x' }],
        }),
      ),
    ])
      await rejects(call, 'NotFoundException', 'Invalid client certificate identifier specified');
  });

  await t.test('GetModelTemplate: REST and WebSocket APIs', async () => {
    const { id: restApiId } = await gw.send(new CreateRestApiCommand({ name: 'models' }));
    await gw.send(
      new CreateModelCommand({
        restApiId,
        name: 'Owner',
        contentType: 'application/json',
        schema: JSON.stringify({
          type: 'object',
          properties: { name: { type: 'string' }, vip: { type: 'boolean' } },
        }),
      }),
    );
    await gw.send(
      new CreateModelCommand({
        restApiId,
        name: 'Pet',
        contentType: 'application/json',
        schema: JSON.stringify({
          $schema: 'http://json-schema.org/draft-04/schema#',
          title: 'Pet',
          type: 'object',
          properties: {
            id: { type: 'integer' },
            name: { type: 'string' },
            owner: { $ref: `https://apigateway.amazonaws.com/restapis/${restApiId}/models/Owner` },
            visits: {
              type: 'array',
              items: { type: 'object', properties: { when: { type: 'string' }, price: { type: 'number' } } },
            },
          },
        }),
      }),
    );
    const template = await gw.send(new GetModelTemplateCommand({ restApiId, modelName: 'Pet' }));
    assert.equal(
      template.value,
      [
        "#set($inputRoot = $input.path('$'))",
        '{',
        '  "id" : $inputRoot.id,',
        '  "name" : "$inputRoot.name",',
        '  "owner" : {',
        '    "name" : "$inputRoot.owner.name",',
        '    "vip" : $inputRoot.owner.vip',
        '  },',
        '  "visits" : [',
        '#foreach($elem in $inputRoot.visits)',
        '    {',
        '      "when" : "$elem.when",',
        '      "price" : $elem.price',
        '    }#if($foreach.hasNext),#end',
        '#end',
        '  ]',
        '}',
      ].join('\n'),
    );
    const empty = await gw.send(new GetModelTemplateCommand({ restApiId, modelName: 'Empty' }));
    assert.equal(empty.value, "#set($inputRoot = $input.path('$'))\n{\n}");
    await rejects(
      gw.send(new GetModelTemplateCommand({ restApiId, modelName: 'Nope' })),
      'NotFoundException',
      'Invalid model name specified: Nope',
    );

    const ws = await v2.send(
      new CreateApiCommand({
        Name: 'ws',
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      }),
    );
    const model = await v2.send(
      new CreateV2ModelCommand({
        ApiId: ws.ApiId,
        Name: 'Message',
        ContentType: 'application/json',
        Schema: JSON.stringify({
          type: 'object',
          properties: { action: { type: 'string' }, n: { type: 'integer' } },
        }),
      }),
    );
    const wsTemplate = await v2.send(
      new GetV2ModelTemplateCommand({ ApiId: ws.ApiId, ModelId: model.ModelId }),
    );
    assert.equal(
      wsTemplate.Value,
      '#set($inputRoot = $input.path(\'$\'))\n{\n  "action" : "$inputRoot.action",\n  "n" : $inputRoot.n\n}',
    );
    await rejects(
      v2.send(new GetV2ModelTemplateCommand({ ApiId: ws.ApiId, ModelId: 'nope00' })),
      'NotFoundException',
    );
  });

  await t.test('CloudFormation: DocumentationPart, DocumentationVersion, ClientCertificate', async () => {
    const template = JSON.stringify({
      Resources: {
        Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'documented' } },
        Get: {
          Type: 'AWS::ApiGateway::Method',
          Properties: {
            RestApiId: { Ref: 'Api' },
            ResourceId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
            HttpMethod: 'GET',
            AuthorizationType: 'NONE',
            Integration: { Type: 'MOCK' },
          },
        },
        ApiDoc: {
          Type: 'AWS::ApiGateway::DocumentationPart',
          Properties: {
            RestApiId: { Ref: 'Api' },
            Location: { Type: 'API' },
            Properties: '{"info":{"description":"From a template"}}',
          },
        },
        GetDoc: {
          Type: 'AWS::ApiGateway::DocumentationPart',
          Properties: {
            RestApiId: { Ref: 'Api' },
            Location: { Type: 'METHOD', Path: '/', Method: 'GET' },
            Properties: '{"summary":"Root"}',
          },
        },
        Version: {
          Type: 'AWS::ApiGateway::DocumentationVersion',
          DependsOn: ['ApiDoc', 'GetDoc'],
          Properties: { RestApiId: { Ref: 'Api' }, DocumentationVersion: 'v1', Description: 'first' },
        },
        Cert: {
          Type: 'AWS::ApiGateway::ClientCertificate',
          Properties: { Description: 'for the backend', Tags: [{ Key: 'env', Value: 'test' }] },
        },
        Deployment: {
          Type: 'AWS::ApiGateway::Deployment',
          DependsOn: 'Get',
          Properties: { RestApiId: { Ref: 'Api' } },
        },
        Stage: {
          Type: 'AWS::ApiGateway::Stage',
          Properties: {
            RestApiId: { Ref: 'Api' },
            DeploymentId: { Ref: 'Deployment' },
            StageName: 'prod',
            DocumentationVersion: { Ref: 'Version' },
            ClientCertificateId: { Ref: 'Cert' },
          },
        },
      },
      Outputs: {
        ApiDocId: { Value: { Ref: 'ApiDoc' } },
        ApiDocAttr: { Value: { 'Fn::GetAtt': ['ApiDoc', 'DocumentationPartId'] } },
        VersionRef: { Value: { Ref: 'Version' } },
        CertId: { Value: { Ref: 'Cert' } },
        CertAttr: { Value: { 'Fn::GetAtt': ['Cert', 'ClientCertificateId'] } },
      },
    });
    const stack = await deployStack(cfn, 'docs-certs', template);
    const restApiId = stack.phys('Api');
    const partId = stack.output('ApiDocId');
    assert.equal(stack.output('ApiDocAttr'), partId);
    const apiPart = await gw.send(
      new GetDocumentationPartCommand({ restApiId, documentationPartId: partId }),
    );
    assert.deepEqual(apiPart.location, { type: 'API' });
    assert.equal(stack.output('VersionRef'), 'v1');
    const version = await gw.send(
      new GetDocumentationVersionCommand({ restApiId, documentationVersion: 'v1' }),
    );
    assert.equal(version.description, 'first');
    const certId = stack.output('CertId');
    assert.equal(stack.output('CertAttr'), certId);
    const cert = await gw.send(new GetClientCertificateCommand({ clientCertificateId: certId }));
    assert.equal(cert.description, 'for the backend');
    assert.deepEqual(cert.tags, { env: 'test' });
    const stage = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(stage.documentationVersion, 'v1');
    assert.equal(stage.clientCertificateId, certId);
    const out = await gw.send(
      new GetExportCommand({
        restApiId,
        stageName: 'prod',
        exportType: 'swagger',
        parameters: { extensions: 'documentation' },
      }),
    );
    const doc = JSON.parse(Buffer.from(out.body!).toString('utf8'))['x-amazon-apigateway-documentation'];
    assert.equal(doc.documentationParts.length, 2);

    await cfn.send(new DeleteStackCommand({ StackName: 'docs-certs' }));
    await waitUntilStackDeleteComplete(
      { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { StackName: 'docs-certs' },
    );
    await rejects(
      gw.send(new GetClientCertificateCommand({ clientCertificateId: certId })),
      'NotFoundException',
    );
  });
});
