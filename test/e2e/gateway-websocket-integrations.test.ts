/**
 * WebSocket APIs with non-proxy integrations (MOCK, AWS service actions, Lambda without the
 * proxy), request templates chosen by template selection expressions, and integration responses
 * on two-way routes, and RequestParameters data mapping, through the real
 * @aws-sdk/client-apigatewayv2 and a `ws` client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateIntegrationResponseCommand,
  CreateModelCommand,
  DeleteModelCommand,
  GetModelCommand,
  GetModelsCommand,
  GetRoutesCommand,
  UpdateModelCommand,
  UpdateRouteCommand,
  CreateRouteCommand,
  CreateRouteResponseCommand,
  CreateStageCommand,
  DeleteIntegrationResponseCommand,
  GetIntegrationResponseCommand,
  GetIntegrationResponsesCommand,
  UpdateIntegrationResponseCommand,
} from '@aws-sdk/client-apigatewayv2';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
} from '@aws-sdk/client-api-gateway';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';
import { Client, FN, createNodeFunctions } from './gateway-helpers.js';

test('WebSocket APIs: non-proxy integrations and integration responses', async (t) => {
  await using srv = await startTestServer();
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const db = new DynamoDBClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  const clients: Client[] = [];
  t.after(() => {
    for (const c of clients) c.ws.terminate();
    gw.destroy();
    db.destroy();
    lambda.destroy();
  });
  await createNodeFunctions(lambda, {
    doubler: `exports.handler = async (event) => {
      if (event.n === 0) throw new Error('zero is not allowed');
      return { doubled: event.n * 2, route: event.route };
    };`,
  });
  await db.send(
    new CreateTableCommand({
      TableName: 'ws-notes',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const api = await gw.send(
    new CreateApiCommand({
      Name: 'ws-np',
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    }),
  );
  const ApiId = api.ApiId!;
  /** A two-way route to a new integration with these integration responses. */
  const route = async (
    RouteKey: string,
    integration: Record<string, unknown>,
    responses: { IntegrationResponseKey: string; ResponseTemplates?: Record<string, string> }[],
  ) => {
    const integ = await gw.send(new CreateIntegrationCommand({ ApiId, ...(integration as any) }));
    for (const r of responses)
      await gw.send(
        new CreateIntegrationResponseCommand({ ApiId, IntegrationId: integ.IntegrationId, ...r }),
      );
    const rt = await gw.send(
      new CreateRouteCommand({
        ApiId,
        RouteKey,
        Target: `integrations/${integ.IntegrationId}`,
        RouteResponseSelectionExpression: '$default',
      }),
    );
    await gw.send(
      new CreateRouteResponseCommand({ ApiId, RouteId: rt.RouteId, RouteResponseKey: '$default' }),
    );
    return integ.IntegrationId!;
  };

  // $connect: a MOCK whose template accepts unless the query string says no.
  await route(
    '$connect',
    {
      IntegrationType: 'MOCK',
      RequestTemplates: {
        $default: `#if($input.params('deny') == "yes"){"statusCode": 403}#else{"statusCode": 200}#end`,
      },
      TemplateSelectionExpression: '\\$default',
    },
    [{ IntegrationResponseKey: '$default' }],
  );
  // A MOCK two-way route answering from $context.
  await route('whoami', { IntegrationType: 'MOCK', RequestTemplates: { $default: '{"statusCode": 200}' } }, [
    {
      IntegrationResponseKey: '$default',
      ResponseTemplates: {
        $default: '{"route": "$context.routeKey", "connection": "$context.connectionId"}',
      },
    },
  ]);
  // DynamoDB PutItem straight from the message, templates chosen by the message's kind.
  await route(
    'save',
    {
      IntegrationType: 'AWS',
      IntegrationMethod: 'POST',
      IntegrationUri: 'arn:aws:apigateway:us-east-1:dynamodb:action/PutItem',
      CredentialsArn: 'arn:aws:iam::000000000000:role/ws-dynamodb',
      TemplateSelectionExpression: '$request.body.kind',
      RequestTemplates: {
        note: `{"TableName": "ws-notes", "Item": {"id": {"S": $input.json('$.id')}, "text": {"S": $input.json('$.text')}, "by": {"S": "$context.connectionId"}}}`,
        $default: `{"TableName": "no-such-table", "Item": {"id": {"S": $input.json('$.id')}}}`,
      },
    },
    [
      { IntegrationResponseKey: '/2\\d\\d/', ResponseTemplates: { $default: '{"saved": true}' } },
      { IntegrationResponseKey: '/4\\d\\d/', ResponseTemplates: { $default: '{"saved": false}' } },
    ],
  );
  // A Lambda function without the proxy: the template's output is its event.
  await route(
    'double',
    {
      IntegrationType: 'AWS',
      IntegrationMethod: 'POST',
      IntegrationUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}doubler/invocations`,
      RequestTemplates: { $default: `{"n": $input.json('$.n'), "route": "$context.routeKey"}` },
    },
    [
      { IntegrationResponseKey: '$default' },
      {
        IntegrationResponseKey: '/.*not allowed.*/',
        ResponseTemplates: { $default: '{"error": "refused"}' },
      },
    ],
  );
  // A route whose messages are validated against a model first.
  const note = await gw.send(
    new CreateModelCommand({
      ApiId,
      Name: 'Note',
      ContentType: 'application/json',
      Schema: JSON.stringify({
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'object',
        required: ['action', 'text'],
        properties: { text: { type: 'string', minLength: 1 } },
      }),
    }),
  );
  await route('checked', { IntegrationType: 'MOCK', RequestTemplates: { $default: '{"statusCode": 200}' } }, [
    { IntegrationResponseKey: '$default', ResponseTemplates: { $default: '{"accepted": true}' } },
  ]);
  const checkedRoute = (await gw.send(new GetRoutesCommand({ ApiId }))).Items!.find(
    (r) => r.RouteKey === 'checked',
  )!;
  await gw.send(
    new UpdateRouteCommand({
      ApiId,
      RouteId: checkedRoute.RouteId,
      ModelSelectionExpression: '\\$default',
      RequestModels: { $default: 'Note' },
    }),
  );
  await gw.send(new CreateStageCommand({ ApiId, StageName: 'live', AutoDeploy: true }));
  const url = `${srv.endpoint.replace(/^http/, 'ws')}/_api/${ApiId}/live`;
  const connect = async (query = '') => {
    const c = new Client(url + query);
    clients.push(c);
    await c.opened;
    return c;
  };

  await t.test(
    'a MOCK $connect integration accepts or refuses by the status its template names',
    async () => {
      await assert.rejects(connect('?deny=yes'), (e: Error & { status?: number }) => e.status === 403);
      await connect();
    },
  );

  await t.test('a MOCK two-way route answers its integration response template', async () => {
    const c = await connect();
    c.send({ action: 'whoami' });
    const reply = JSON.parse(await c.next());
    assert.equal(reply.route, 'whoami');
    assert.match(reply.connection, /^[A-Za-z0-9_=-]+$/);
  });

  await t.test('an AWS integration puts the item; integration responses by status code', async () => {
    const c = await connect();
    c.send({ action: 'save', kind: 'note', id: 'n1', text: 'hello' });
    assert.deepEqual(JSON.parse(await c.next()), { saved: true });
    const item = await db.send(new GetItemCommand({ TableName: 'ws-notes', Key: { id: { S: 'n1' } } }));
    assert.equal(item.Item?.text.S, 'hello');
    assert.ok(item.Item?.by.S);
    // Another kind takes the $default template, whose table does not exist: DynamoDB answers 400.
    c.send({ action: 'save', kind: 'other', id: 'n2' });
    assert.deepEqual(JSON.parse(await c.next()), { saved: false });
  });

  await t.test(
    'a Lambda integration without the proxy: raw result, or the error selects a response',
    async () => {
      const c = await connect();
      c.send({ action: 'double', n: 21 });
      assert.deepEqual(JSON.parse(await c.next()), { doubled: 42, route: 'double' });
      c.send({ action: 'double', n: 0 });
      assert.deepEqual(JSON.parse(await c.next()), { error: 'refused' });
    },
  );

  await t.test(
    'CloudFormation: a MOCK integration with its IntegrationResponse on a two-way route',
    async () => {
      const template = JSON.stringify({
        Resources: {
          Api: {
            Type: 'AWS::ApiGatewayV2::Api',
            Properties: {
              Name: 'ws-cfn',
              ProtocolType: 'WEBSOCKET',
              RouteSelectionExpression: '$request.body.action',
            },
          },
          Mock: {
            Type: 'AWS::ApiGatewayV2::Integration',
            Properties: {
              ApiId: { Ref: 'Api' },
              IntegrationType: 'MOCK',
              TemplateSelectionExpression: '\\$default',
              RequestTemplates: { $default: '{"statusCode": 200}' },
            },
          },
          MockResponse: {
            Type: 'AWS::ApiGatewayV2::IntegrationResponse',
            Properties: {
              ApiId: { Ref: 'Api' },
              IntegrationId: { Ref: 'Mock' },
              IntegrationResponseKey: '$default',
              ResponseTemplates: { $default: '{"pong": "$context.routeKey"}' },
            },
          },
          Route: {
            Type: 'AWS::ApiGatewayV2::Route',
            Properties: {
              ApiId: { Ref: 'Api' },
              RouteKey: 'ping',
              Target: { 'Fn::Sub': 'integrations/${Mock}' },
              RouteResponseSelectionExpression: '$default',
            },
          },
          Stage: {
            Type: 'AWS::ApiGatewayV2::Stage',
            DependsOn: ['Route', 'MockResponse'],
            Properties: { ApiId: { Ref: 'Api' }, StageName: 'prod', AutoDeploy: true },
          },
        },
        Outputs: { ApiId: { Value: { Ref: 'Api' } } },
      });
      const cfn = new CloudFormationClient(srv.clientConfig);
      const stack = await deployStack(cfn, 'ws-mock', template);
      cfn.destroy();
      const c = new Client(`${srv.endpoint.replace(/^http/, 'ws')}/_api/${stack.output('ApiId')}/prod`);
      clients.push(c);
      await c.opened;
      c.send({ action: 'ping' });
      assert.deepEqual(JSON.parse(await c.next()), { pong: 'ping' });
    },
  );

  await t.test('request validation: a message that does not fit the route model is refused', async () => {
    const c = await connect();
    c.send({ action: 'checked', text: 'ok' });
    assert.deepEqual(JSON.parse(await c.next()), { accepted: true });
    c.send({ action: 'checked', text: '' });
    const refused = JSON.parse(await c.next());
    assert.equal(refused.message, 'Invalid request body');
    assert.ok(refused.connectionId);
    assert.ok(refused.requestId);
    // Models through the API: a model a route uses cannot be deleted; HTTP APIs have none.
    const got = await gw.send(new GetModelCommand({ ApiId, ModelId: note.ModelId }));
    assert.equal(got.Name, 'Note');
    assert.equal((await gw.send(new GetModelsCommand({ ApiId }))).Items?.length, 1);
    const renamed = await gw.send(
      new UpdateModelCommand({ ApiId, ModelId: note.ModelId, Description: 'a note' }),
    );
    assert.equal(renamed.Description, 'a note');
    await rejects(gw.send(new DeleteModelCommand({ ApiId, ModelId: note.ModelId })), 'ConflictException');
    await rejects(
      gw.send(new CreateModelCommand({ ApiId, Name: 'Bad', Schema: 'not json' })),
      'BadRequestException',
      'Invalid model schema specified: the schema must be valid JSON',
    );
    await rejects(
      gw.send(new CreateModelCommand({ ApiId, Name: 'Note', Schema: '{}' })),
      'ConflictException',
    );
    const http = await gw.send(new CreateApiCommand({ Name: 'no-models', ProtocolType: 'HTTP' }));
    await rejects(
      gw.send(new CreateModelCommand({ ApiId: http.ApiId, Name: 'M', Schema: '{}' })),
      'BadRequestException',
      'Models are only supported for WebSocket APIs',
    );
  });

  await t.test('API keys on $connect: usage plans, their quota, identity.apiKeyId', async () => {
    const keyed = await gw.send(
      new CreateApiCommand({
        Name: 'ws-keyed',
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      }),
    );
    const mock = await gw.send(
      new CreateIntegrationCommand({
        ApiId: keyed.ApiId,
        IntegrationType: 'MOCK',
        RequestTemplates: { $default: '{"statusCode": 200}' },
      }),
    );
    await gw.send(
      new CreateIntegrationResponseCommand({
        ApiId: keyed.ApiId,
        IntegrationId: mock.IntegrationId,
        IntegrationResponseKey: '$default',
        ResponseTemplates: { $default: '{"key": "$context.identity.apiKeyId"}' },
      }),
    );
    await gw.send(
      new CreateRouteCommand({
        ApiId: keyed.ApiId,
        RouteKey: '$connect',
        ApiKeyRequired: true,
        Target: `integrations/${mock.IntegrationId}`,
      }),
    );
    await gw.send(
      new CreateRouteCommand({
        ApiId: keyed.ApiId,
        RouteKey: '$default',
        Target: `integrations/${mock.IntegrationId}`,
        RouteResponseSelectionExpression: '$default',
      }),
    );
    await gw.send(new CreateStageCommand({ ApiId: keyed.ApiId, StageName: 'prod', AutoDeploy: true }));
    const rest = new APIGatewayClient(srv.clientConfig);
    const key = await rest.send(new CreateApiKeyCommand({ name: 'ws-key', enabled: true }));
    const plan = await rest.send(
      new CreateUsagePlanCommand({
        name: 'ws-plan',
        apiStages: [{ apiId: keyed.ApiId, stage: 'prod' }],
        quota: { limit: 2, period: 'DAY' },
      }),
    );
    await rest.send(
      new CreateUsagePlanKeyCommand({ usagePlanId: plan.id, keyId: key.id, keyType: 'API_KEY' }),
    );
    rest.destroy();
    const keyedUrl = `${srv.endpoint.replace(/^http/, 'ws')}/_api/${keyed.ApiId}/prod`;
    const open = async (headers: Record<string, string>) => {
      const c = new Client(keyedUrl, { headers });
      clients.push(c);
      await c.opened;
      return c;
    };
    const status = (p: Promise<unknown>) =>
      p.then(
        () => 101,
        (e: Error & { status?: number }) => e.status ?? 0,
      );
    assert.equal(await status(open({})), 403);
    assert.equal(await status(open({ 'x-api-key': 'not-a-key-of-this-account-00000000' })), 403);
    const c = await open({ 'x-api-key': key.value! });
    c.send({ action: 'anything' });
    assert.deepEqual(JSON.parse(await c.next()), { key: key.id });
    await open({ 'x-api-key': key.value! });
    // The quota (2 a day) counts handshakes.
    assert.equal(await status(open({ 'x-api-key': key.value! })), 429);
  });

  await t.test('integration responses through the API, and their errors', async () => {
    const integ = await gw.send(
      new CreateIntegrationCommand({
        ApiId,
        IntegrationType: 'MOCK',
        RequestTemplates: { $default: '{"statusCode": 200}' },
      }),
    );
    const IntegrationId = integ.IntegrationId!;
    const made = await gw.send(
      new CreateIntegrationResponseCommand({
        ApiId,
        IntegrationId,
        IntegrationResponseKey: '/2\\d\\d/',
        ResponseTemplates: { $default: '{}' },
        TemplateSelectionExpression: '\\$default',
      }),
    );
    assert.equal(made.IntegrationResponseKey, '/2\\d\\d/');
    const got = await gw.send(
      new GetIntegrationResponseCommand({
        ApiId,
        IntegrationId,
        IntegrationResponseId: made.IntegrationResponseId,
      }),
    );
    assert.deepEqual(got.ResponseTemplates, { $default: '{}' });
    const updated = await gw.send(
      new UpdateIntegrationResponseCommand({
        ApiId,
        IntegrationId,
        IntegrationResponseId: made.IntegrationResponseId,
        IntegrationResponseKey: '$default',
      }),
    );
    assert.equal(updated.IntegrationResponseKey, '$default');
    assert.equal(
      (await gw.send(new GetIntegrationResponsesCommand({ ApiId, IntegrationId }))).Items?.length,
      1,
    );
    await rejects(
      gw.send(
        new CreateIntegrationResponseCommand({ ApiId, IntegrationId, IntegrationResponseKey: '$default' }),
      ),
      'ConflictException',
    );
    await rejects(
      gw.send(new CreateIntegrationResponseCommand({ ApiId, IntegrationId, IntegrationResponseKey: '2xx' })),
      'BadRequestException',
      'Invalid IntegrationResponseKey: 2xx. Use $default or a /regular expression/',
    );
    await gw.send(
      new DeleteIntegrationResponseCommand({
        ApiId,
        IntegrationId,
        IntegrationResponseId: made.IntegrationResponseId,
      }),
    );
    await rejects(
      gw.send(
        new GetIntegrationResponseCommand({
          ApiId,
          IntegrationId,
          IntegrationResponseId: made.IntegrationResponseId,
        }),
      ),
      'NotFoundException',
    );
    await rejects(
      gw.send(new CreateIntegrationCommand({ ApiId, IntegrationType: 'HTTP', IntegrationUri: 'not-a-url' })),
      'BadRequestException',
      'For HTTP integrations, IntegrationUri must be an http(s) URL',
    );
    await rejects(
      gw.send(
        new CreateIntegrationCommand({ ApiId, IntegrationType: 'AWS', IntegrationUri: 'arn:aws:sqs:x' }),
      ),
      'BadRequestException',
    );
    // HTTP APIs have no integration responses.
    const http = await gw.send(new CreateApiCommand({ Name: 'plain', ProtocolType: 'HTTP' }));
    const hi = await gw.send(
      new CreateIntegrationCommand({
        ApiId: http.ApiId,
        IntegrationType: 'HTTP_PROXY',
        IntegrationMethod: 'GET',
        IntegrationUri: 'http://127.0.0.1:1/',
      }),
    );
    await rejects(
      gw.send(
        new CreateIntegrationResponseCommand({
          ApiId: http.ApiId,
          IntegrationId: hi.IntegrationId,
          IntegrationResponseKey: '$default',
        }),
      ),
      'BadRequestException',
      'Integration responses are only supported for WebSocket APIs',
    );
  });
});

test('WebSocket APIs: RequestParameters map handshake, message, context and stage data into integration calls', async (t) => {
  await using srv = await startTestServer();
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  // A backend that records what reaches it.
  const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];
  const backend = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  const clients: Client[] = [];
  t.after(() => {
    for (const c of clients) c.ws.terminate();
    backend.close();
    gw.destroy();
    sqs.destroy();
  });
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ws-inbox' }))).QueueUrl!;
  const api = await gw.send(
    new CreateApiCommand({
      Name: 'ws-map',
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    }),
  );
  const ApiId = api.ApiId!;
  const route = async (RouteKey: string, integration: Record<string, unknown>) => {
    const integ = await gw.send(new CreateIntegrationCommand({ ApiId, ...(integration as any) }));
    await gw.send(new CreateRouteCommand({ ApiId, RouteKey, Target: `integrations/${integ.IntegrationId}` }));
    return integ;
  };
  // $connect: an HTTP backend told the handshake's token, user agent and source IP.
  await route('$connect', {
    IntegrationType: 'HTTP',
    IntegrationMethod: 'POST',
    IntegrationUri: `http://127.0.0.1:${port}/connect`,
    RequestParameters: {
      'integration.request.querystring.token': 'route.request.querystring.token',
      'integration.request.header.x-agent': 'route.request.header.User-Agent',
      'integration.request.header.x-source': 'context.identity.sourceIp',
    },
  });
  // A message route: path, query string and headers from the message, the context and the stage.
  await route('notify', {
    IntegrationType: 'HTTP',
    IntegrationMethod: 'PUT',
    IntegrationUri: `http://127.0.0.1:${port}/items/{id}`,
    RequestParameters: {
      'integration.request.path.id': 'route.request.body.item.id',
      'integration.request.querystring.kind': 'route.request.body.kind',
      'integration.request.header.x-connection': 'context.connectionId',
      'integration.request.header.x-env': 'stageVariables.env',
      'integration.request.header.x-fixed': "'constant'",
    },
  });
  // The common WebSocket -> SQS pattern: a path-style SQS call whose form body needs its Content-Type mapped.
  const path = new URL(queueUrl).pathname.slice(1);
  await route('enqueue', {
    IntegrationType: 'AWS',
    IntegrationMethod: 'POST',
    IntegrationUri: `arn:aws:apigateway:us-east-1:sqs:path/${path}`,
    CredentialsArn: 'arn:aws:iam::000000000000:role/ws-sqs',
    RequestParameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
    RequestTemplates: { $default: 'Action=SendMessage&MessageBody=$util.urlEncode($input.body)' },
  });
  await gw.send(
    new CreateStageCommand({ ApiId, StageName: 'live', AutoDeploy: true, StageVariables: { env: 'test' } }),
  );
  const url = `${srv.endpoint.replace(/^http/, 'ws')}/_api/${ApiId}/live`;
  const connect = async (query = '') => {
    const c = new Client(url + query);
    clients.push(c);
    await c.opened;
    return c;
  };

  await t.test('$connect: handshake query string and headers, context', async () => {
    await connect('?token=abc');
    const call = seen.find((s) => s.url.startsWith('/connect'))!;
    assert.equal(call.method, 'POST');
    assert.equal(new URL(call.url, 'http://x').searchParams.get('token'), 'abc');
    assert.equal(call.headers['x-agent'], 'ws-e2e');
    assert.equal(call.headers['x-source'], '127.0.0.1');
  });

  await t.test(
    'a message route: path, query string and headers from the body, context and stage',
    async () => {
      const c = await connect();
      c.send({ action: 'notify', kind: 'alert', item: { id: 'a b' } });
      const deadline = Date.now() + 10_000;
      while (!seen.some((s) => s.url.startsWith('/items/')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const call = seen.find((s) => s.url.startsWith('/items/'))!;
      assert.equal(call.method, 'PUT');
      assert.equal(call.url, '/items/a%20b?kind=alert');
      assert.match(String(call.headers['x-connection']), /^[A-Za-z0-9_=-]+$/);
      assert.equal(call.headers['x-env'], 'test');
      assert.equal(call.headers['x-fixed'], 'constant');
      assert.equal(JSON.parse(call.body).kind, 'alert');
    },
  );

  await t.test('WebSocket -> SQS: the mapped Content-Type lets the form body through', async () => {
    const c = await connect();
    c.send({ action: 'enqueue', text: 'hello & goodbye = 100%' });
    let body: string | undefined;
    const deadline = Date.now() + 10_000;
    while (body === undefined && Date.now() < deadline) {
      const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
      body = r.Messages?.[0]?.Body;
    }
    assert.deepEqual(JSON.parse(body!), { action: 'enqueue', text: 'hello & goodbye = 100%' });
  });

  await t.test('invalid RequestParameters: BadRequestException', async () => {
    // A key naming the body, and a REST-style source: each names what is wrong.
    for (const [key, source, wrong] of [
      ['integration.request.body.x', "'v'", 'integration.request.body.x'],
      ['integration.request.header.x', 'method.request.header.y', 'method.request.header.y'],
    ])
      await rejects(
        gw.send(
          new CreateIntegrationCommand({
            ApiId,
            IntegrationType: 'HTTP',
            IntegrationMethod: 'POST',
            IntegrationUri: `http://127.0.0.1:${port}/x`,
            RequestParameters: { [key]: source },
          }),
        ),
        'BadRequestException',
        `Invalid mapping expression specified: ${wrong}`,
      );
  });
});
