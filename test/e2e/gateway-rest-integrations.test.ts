/**
 * REST APIs: non-proxy integrations with VTL mapping templates (Lambda "AWS" integrations, HTTP
 * integrations), HTTP_PROXY integrations, integration request parameters and passthrough
 * behaviours, through the real @aws-sdk/client-api-gateway and plain HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetIntegrationCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateIntegrationCommand,
  UpdateStageCommand,
  type PutIntegrationCommandInput,
} from '@aws-sdk/client-api-gateway';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const LAMBDA_URI = (fn: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${fn}/invocations`;

/** Echoes the event it gets; fails with the message in `fail` when there is one. */
const ECHO = `exports.handler = async (event) => {
  if (event.fail) throw new Error(event.fail);
  return { got: event, note: 'it\\'s "quoted"' };
};`;

type Where = { restApiId: string; resourceId: string; httpMethod: string };
interface ResponseSpec {
  statusCode: string;
  selectionPattern?: string;
  contentHandling?: 'CONVERT_TO_TEXT' | 'CONVERT_TO_BINARY';
  responseParameters?: Record<string, string>;
  responseTemplates?: Record<string, string>;
}

/**
 * A method without authorization, its integration and, per response, a method response and an
 * integration response; answers the integration as PutIntegration returned it.
 */
async function putMethod(
  gw: APIGatewayClient,
  where: Where,
  integration: Omit<PutIntegrationCommandInput, keyof Where>,
  responses: ResponseSpec[],
) {
  await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
  const out = await gw.send(new PutIntegrationCommand({ ...where, ...integration }));
  for (const r of responses) {
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: r.statusCode }));
    await gw.send(new PutIntegrationResponseCommand({ ...where, ...r }));
  }
  return out;
}

/** Every byte value, for binary passthrough. */
const BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

test('REST APIs: Lambda and HTTP integrations with mapping templates, HTTP_PROXY', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  const seen: Seen[] = [];
  const backend = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url!.includes('/missing')) {
        res.writeHead(404, { 'content-type': 'application/json', 'x-backend': 'b1' });
        res.end('{"error":"no such thing"}');
        return;
      }
      if (req.url!.startsWith('/slow')) return void setTimeout(() => res.end('late'), 1500);
      if (req.url!.startsWith('/bin')) {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(BYTES);
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-backend': 'b1', 'set-cookie': 'a=1' });
      res.end(
        JSON.stringify({
          items: [
            { id: 'i1', n: 1 },
            { id: 'i2', n: 2 },
          ],
          total: 2,
        }),
      );
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  t.after(() => {
    lambda.destroy();
    gw.destroy();
    backend.close();
  });
  await createNodeFunctions(lambda, { echo: ECHO });

  const api = await gw.send(new CreateRestApiCommand({ name: 'integrations' }));
  const restApiId = api.id!;
  const resource = async (parentId: string, pathPart: string) =>
    (await gw.send(new CreateResourceCommand({ restApiId, parentId, pathPart }))).id!;
  const orders = await resource(api.rootResourceId!, 'orders');
  const order = await resource(orders, '{id}');
  const httpRes = await resource(api.rootResourceId!, 'things');
  const proxyRoot = await resource(api.rootResourceId!, 'pass');
  const proxy = await resource(proxyRoot, '{proxy+}');
  const strict = await resource(api.rootResourceId!, 'strict');
  const bin = await resource(api.rootResourceId!, 'bin');
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;
  const deploy = () => gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const setStageVariable = (name: string, value: string) =>
    gw.send(
      new UpdateStageCommand({
        restApiId,
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: `/variables/${name}`, value }],
      }),
    );

  await t.test('Lambda (AWS) integration: request template, error selection, response template', async () => {
    const where = { restApiId, resourceId: order, httpMethod: 'POST' };
    await gw.send(
      new PutMethodCommand({
        ...where,
        authorizationType: 'NONE',
        requestParameters: { 'method.request.path.id': true },
      }),
    );
    const put = await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'AWS',
        integrationHttpMethod: 'POST',
        uri: LAMBDA_URI('echo'),
        passthroughBehavior: 'WHEN_NO_TEMPLATES',
        requestTemplates: {
          'application/json': [
            "#set($body = $input.path('$'))",
            '{',
            '  "id": "$input.params(\'id\')",',
            '  "qty": $input.json(\'$.qty\'),',
            '  "first": "$body.lines[0].sku",',
            '  "count": $body.lines.size(),',
            '  "skus": [#foreach($l in $body.lines)"$l.sku"#if($foreach.hasNext),#end#end],',
            '  "agent": "$util.escapeJavaScript($input.params(\'x-agent\'))",',
            '  "stage": "$context.stage", "method": "$context.httpMethod", "path": "$context.resourcePath",',
            '  "v": "$stageVariables.flavour",',
            '  #if($input.params(\'fail\') != "")"fail": "$input.params(\'fail\')",#end',
            '  "raw": "$util.escapeJavaScript($input.body)"',
            '}',
          ].join('\n'),
        },
      }),
    );
    assert.equal(put.type, 'AWS');
    assert.equal(put.passthroughBehavior, 'WHEN_NO_TEMPLATES');
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '200' }));
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '404' }));
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '200',
        responseParameters: { 'method.response.header.X-Order': 'method.request.path.id' },
        responseTemplates: {
          'application/json':
            '{"order": "$input.path(\'$.got.id\')", "lines": $input.json(\'$.got.count\'), "echo": $input.json(\'$.got\')}',
        },
      }),
    );
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '404',
        selectionPattern: '.*not found.*',
        responseTemplates: {
          'application/json': '#set($e = $util.parseJson($input.body)){"error": "$e.errorMessage"}',
        },
      }),
    );
    await deploy();
    await setStageVariable('flavour', 'mint');

    const body = { qty: 3, lines: [{ sku: 'a-1' }, { sku: 'b/2' }] };
    const ok = await fetch(`${base}/orders/o-7`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-agent': 'say "hi"' },
      body: JSON.stringify(body),
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-order'), 'o-7');
    assert.match(ok.headers.get('content-type') ?? '', /application\/json/);
    const out = (await ok.json()) as { order: string; lines: number; echo: Record<string, unknown> };
    assert.equal(out.order, 'o-7');
    assert.equal(out.lines, 2);
    assert.deepEqual(out.echo, {
      id: 'o-7',
      qty: 3,
      first: 'a-1',
      count: 2,
      skus: ['a-1', 'b/2'],
      agent: 'say "hi"',
      stage: 'prod',
      method: 'POST',
      path: '/orders/{id}',
      v: 'mint',
      raw: JSON.stringify(body),
    });

    // A function error whose message matches a selection pattern picks that response.
    const missing = await fetch(`${base}/orders/o-8?fail=order%20not%20found`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: 'order not found' });
    // An error no pattern matches goes to the default response, as on AWS (200 with the error).
    const other = await fetch(`${base}/orders/o-9?fail=boom`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(other.status, 200);
    assert.equal(((await other.json()) as { order: string }).order, '');

    // WHEN_NO_TEMPLATES with a template for another type: 415.
    const text = await fetch(`${base}/orders/o-1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(text.status, 415);
    assert.deepEqual(await text.json(), { message: 'Unsupported Media Type' });
    // A body the template reads as JSON that is not JSON: 400.
    const bad = await fetch(`${base}/orders/o-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { message: string }).message,
      /^Could not parse request body into json/,
    );
  });

  await t.test('HTTP integration: mapped parameters, status selection, responseOverride', async () => {
    const where = { restApiId, resourceId: httpRes, httpMethod: 'GET' };
    await gw.send(
      new PutMethodCommand({
        ...where,
        authorizationType: 'NONE',
        requestParameters: {
          'method.request.querystring.kind': false,
          'method.request.header.x-tenant': false,
        },
      }),
    );
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'HTTP',
        integrationHttpMethod: 'POST',
        uri: `http://127.0.0.1:${port}/\${stageVariables.area}/things`,
        requestParameters: {
          'integration.request.querystring.type': 'method.request.querystring.kind',
          'integration.request.header.X-Tenant': 'method.request.header.x-tenant',
          'integration.request.header.X-Fixed': "'yes'",
        },
        requestTemplates: {
          'application/json': '{"asked": "$input.params(\'kind\')", "ctx": "$context.requestId"}',
        },
      }),
    );
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '200' }));
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '404' }));
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '200',
        selectionPattern: '2\\d{2}',
        responseParameters: {
          'method.response.header.X-Backend': 'integration.response.header.x-backend',
          'method.response.header.X-Total': 'integration.response.body.total',
        },
        responseTemplates: {
          'application/json':
            '#set($all = $input.path(\'$.items\')){"ids": [#foreach($i in $all)"$i.id"#if($foreach.hasNext),#end#end], "second": $input.json(\'$.items[1].n\')}',
        },
      }),
    );
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '404',
        selectionPattern: '404',
        responseTemplates: {
          'application/json':
            '#set($context.responseOverride.status = 410)#set($context.responseOverride.header.X-Why = "gone"){"why": $input.json(\'$.error\')}',
        },
      }),
    );
    await gw.send(
      new UpdateIntegrationCommand({
        ...where,
        patchOperations: [{ op: 'replace', path: '/timeoutInMillis', value: '1000' }],
      }),
    );
    await deploy();
    await setStageVariable('area', 'eu');

    seen.length = 0;
    const r = await fetch(`${base}/things?kind=big&other=dropped`, {
      headers: { 'x-tenant': 't-1', 'x-secret': 's' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-backend'), 'b1');
    assert.equal(r.headers.get('x-total'), '2');
    assert.deepEqual(await r.json(), { ids: ['i1', 'i2'], second: 2 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/eu/things?type=big');
    assert.equal(seen[0].headers['x-tenant'], 't-1');
    assert.equal(seen[0].headers['x-fixed'], 'yes');
    assert.equal(seen[0].headers['x-secret'], undefined, 'unmapped headers do not reach an HTTP integration');
    const sent = JSON.parse(seen[0].body) as { asked: string; ctx: string };
    assert.equal(sent.asked, 'big');
    assert.ok(sent.ctx.length > 0);

    // The backend's 404 selects the 404 response, whose template overrides status and a header.
    await setStageVariable('area', 'missing');
    const gone = await fetch(`${base}/things`);
    assert.equal(gone.status, 410);
    assert.equal(gone.headers.get('x-why'), 'gone');
    assert.deepEqual(await gone.json(), { why: 'no such thing' });

    // Past the integration timeout: 504.
    await setStageVariable('area', 'slow');
    const slow = await fetch(`${base}/things`);
    assert.equal(slow.status, 504);
    assert.deepEqual(await slow.json(), { message: 'Endpoint request timed out' });
  });

  await t.test('HTTP_PROXY integration: the request as it came, the answer unchanged', async () => {
    const where = { restApiId, resourceId: proxy, httpMethod: 'ANY' };
    await gw.send(
      new PutMethodCommand({
        ...where,
        authorizationType: 'NONE',
        requestParameters: { 'method.request.path.proxy': true },
      }),
    );
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'HTTP_PROXY',
        integrationHttpMethod: 'ANY',
        uri: `http://127.0.0.1:${port}/up/{proxy}`,
        requestParameters: {
          'integration.request.path.proxy': 'method.request.path.proxy',
          'integration.request.header.X-Via': "'nimbus'",
        },
      }),
    );
    await deploy();
    seen.length = 0;
    const r = await fetch(`${base}/pass/a/b c?x=1&x=2`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-secret': 's' },
      body: 'payload',
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('x-backend'), 'b1');
    assert.equal(r.headers.get('set-cookie'), 'a=1');
    assert.equal(((await r.json()) as { total: number }).total, 2);
    assert.equal(seen[0].method, 'PUT');
    assert.equal(seen[0].url, '/up/a/b%20c?x=1&x=2');
    assert.equal(seen[0].headers['x-secret'], 's');
    assert.equal(seen[0].headers['x-via'], 'nimbus');
    assert.equal(seen[0].body, 'payload');
    const notFound = await fetch(`${base}/pass/missing/1`);
    assert.equal(notFound.status, 404, 'a proxy passes the backend status through');
    assert.deepEqual(await notFound.json(), { error: 'no such thing' });
  });

  await t.test('binary answers pass as bytes; contentHandling converts them both ways', async () => {
    await putMethod(
      gw,
      { restApiId, resourceId: bin, httpMethod: 'GET' },
      { type: 'HTTP', integrationHttpMethod: 'GET', uri: `http://127.0.0.1:${port}/bin` },
      [{ statusCode: '200', responseParameters: { 'method.response.header.Content-Type': "'image/png'" } }],
    );
    await putMethod(
      gw,
      { restApiId, resourceId: bin, httpMethod: 'POST' },
      {
        type: 'HTTP',
        integrationHttpMethod: 'POST',
        uri: `http://127.0.0.1:${port}/bin`,
        contentHandling: 'CONVERT_TO_TEXT',
      },
      [{ statusCode: '200', contentHandling: 'CONVERT_TO_TEXT' }],
    );
    await deploy();
    const r = await fetch(`${base}/bin`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), BYTES, 'every byte as the backend sent it');
    seen.length = 0;
    const p = await fetch(`${base}/bin`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: BYTES,
    });
    assert.equal(seen[0].body, BYTES.toString('base64'), 'the request body went as base64 text');
    assert.equal(await p.text(), BYTES.toString('base64'), 'the binary answer came back as base64 text');
  });

  await t.test('PutIntegration and UpdateIntegration validation and round trip', async () => {
    const where = { restApiId, resourceId: strict, httpMethod: 'GET' };
    await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
    const fails = async (input: Record<string, unknown>, message: RegExp) => {
      const e = await gw.send(new PutIntegrationCommand({ ...where, ...input } as never)).then(
        () => undefined,
        (x: unknown) => x as { name: string; message: string },
      );
      assert.equal(e?.name, 'BadRequestException');
      assert.match(e.message, message);
    };
    await fails(
      { type: 'HTTP', integrationHttpMethod: 'GET', uri: 'ftp://x/y' },
      /Invalid HTTP endpoint specified for URI/,
    );
    await fails({ type: 'HTTP', uri: 'http://x/y' }, /HttpMethod must be non-empty/);
    await fails(
      { type: 'AWS', integrationHttpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:lambda' },
      /must contain path or action/,
    );
    await fails(
      {
        type: 'AWS_PROXY',
        integrationHttpMethod: 'POST',
        uri: 'arn:aws:apigateway:us-east-1:sqs:path/000000000000/q',
      },
      /only supports Lambda function/,
    );
    await fails(
      {
        type: 'HTTP',
        integrationHttpMethod: 'GET',
        uri: 'http://127.0.0.1:1/x',
        requestParameters: { 'integration.request.body': 'method.request.header.a' },
      },
      /Invalid mapping expression specified/,
    );
    await fails(
      {
        type: 'HTTP',
        integrationHttpMethod: 'GET',
        uri: 'http://127.0.0.1:1/x',
        passthroughBehavior: 'SOMETIMES',
      },
      /Invalid passthrough behavior/,
    );
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'HTTP',
        integrationHttpMethod: 'GET',
        uri: 'http://127.0.0.1:1/x',
        requestParameters: { 'integration.request.header.A': "'1'" },
        contentHandling: 'CONVERT_TO_TEXT',
      }),
    );
    await gw.send(
      new UpdateIntegrationCommand({
        ...where,
        patchOperations: [
          {
            op: 'add',
            path: '/requestParameters/integration.request.querystring.q',
            value: 'method.request.querystring.q',
          },
          { op: 'remove', path: '/requestParameters/integration.request.header.A' },
          { op: 'add', path: '/requestTemplates/application~1json', value: '{}' },
        ],
      }),
    );
    const got = await gw.send(new GetIntegrationCommand(where));
    assert.equal(got.type, 'HTTP');
    assert.equal(got.httpMethod, 'GET');
    assert.equal(got.contentHandling, 'CONVERT_TO_TEXT');
    assert.deepEqual(got.requestParameters, {
      'integration.request.querystring.q': 'method.request.querystring.q',
    });
    assert.deepEqual(got.requestTemplates, { 'application/json': '{}' });
    // Nothing listens on port 1: 500.
    await deploy();
    const r = await fetch(`${base}/strict`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { message: 'Internal server error' });
  });
});

test('REST APIs: AWS integrations with SQS and DynamoDB, signed as the API account (strict auth)', async (t) => {
  const key = {
    accessKeyId: 'AKIAINTEG0000000001',
    secretAccessKey: 'integ-secret',
    accountId: '222222222222',
  };
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: [key] }, credentials: key });
  const gw = new APIGatewayClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const ddb = new DynamoDBClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    sqs.destroy();
    ddb.destroy();
  });
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'inbox' }));
  await ddb.send(
    new CreateTableCommand({
      TableName: 'notes',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const api = await gw.send(new CreateRestApiCommand({ name: 'direct' }));
  const restApiId = api.id!;
  const resource = async (parentId: string, pathPart: string) =>
    (await gw.send(new CreateResourceCommand({ restApiId, parentId, pathPart }))).id!;
  const messages = await resource(api.rootResourceId!, 'messages');
  const notes = await resource(api.rootResourceId!, 'notes');
  const note = await resource(notes, '{id}');
  const role = 'arn:aws:iam::222222222222:role/apigw';

  // POST /messages -> SQS SendMessage on the queue's path, as the SQS "direct integration" pattern does it.
  const put = await putMethod(
    gw,
    { restApiId, resourceId: messages, httpMethod: 'POST' },
    {
      type: 'AWS',
      integrationHttpMethod: 'POST',
      uri: 'arn:aws:apigateway:us-east-1:sqs:path/222222222222/inbox',
      credentials: role,
      requestParameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
      requestTemplates: { 'application/json': 'Action=SendMessage&MessageBody=$util.urlEncode($input.body)' },
    },
    [
      {
        statusCode: '200',
        responseTemplates: {
          'application/json':
            '{"accepted": true, "id": "$input.path(\'$.SendMessageResponse.SendMessageResult.MessageId\')"}',
        },
      },
    ],
  );
  assert.equal(put.credentials, role);

  // PUT /notes/{id} -> DynamoDB PutItem; GET /notes/{id} -> GetItem, mapped back to plain JSON.
  const dynamodb = (action: string, template: string) => ({
    type: 'AWS' as const,
    integrationHttpMethod: 'POST',
    uri: `arn:aws:apigateway:us-east-1:dynamodb:action/${action}`,
    credentials: role,
    requestTemplates: { 'application/json': template },
  });
  await putMethod(
    gw,
    { restApiId, resourceId: note, httpMethod: 'PUT' },
    dynamodb(
      'PutItem',
      '{"TableName": "$stageVariables.table", "Item": {"id": {"S": "$input.params(\'id\')"}, "text": {"S": "$util.escapeJavaScript($input.path(\'$.text\'))"}}}',
    ),
    [
      { statusCode: '200', responseTemplates: { 'application/json': '{"saved": "$input.params(\'id\')"}' } },
      {
        statusCode: '400',
        selectionPattern: '4\\d{2}',
        responseTemplates: {
          'application/json':
            "{\"error\": \"$input.path('$.__type').replaceAll('.*#', '')\", \"detail\": $input.json('$.message')}",
        },
      },
    ],
  );
  await putMethod(
    gw,
    { restApiId, resourceId: note, httpMethod: 'GET' },
    dynamodb(
      'GetItem',
      '{"TableName": "$stageVariables.table", "Key": {"id": {"S": "$input.params(\'id\')"}}}',
    ),
    [
      {
        statusCode: '200',
        responseTemplates: {
          'application/json':
            '#set($item = $input.path(\'$.Item\'))#if($item == "")#set($context.responseOverride.status = 404){"message": "not found"}#else{"id": "$item.id.S", "text": "$util.escapeJavaScript($item.text.S)"}#end',
        },
      },
    ],
  );
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod', variables: { table: 'notes' } }));
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;

  const sent = await fetch(`${base}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order: 42, note: 'a & b = c' }),
  });
  assert.equal(sent.status, 200, await sent.clone().text());
  // SQS answered in JSON (API Gateway asks for it), so the template reads the message id.
  const accepted = (await sent.json()) as { accepted: boolean; id: string };
  assert.equal(accepted.accepted, true);
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }));
  assert.equal(got.Messages?.length, 1);
  assert.equal(got.Messages![0].MessageId, accepted.id);
  assert.deepEqual(JSON.parse(got.Messages![0].Body!), { order: 42, note: 'a & b = c' });

  const saved = await fetch(`${base}/notes/n1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'say "hello"' }),
  });
  assert.equal(saved.status, 200, await saved.clone().text());
  assert.deepEqual(await saved.json(), { saved: 'n1' });
  const item = await ddb.send(new GetItemCommand({ TableName: 'notes', Key: { id: { S: 'n1' } } }));
  assert.equal(item.Item?.text.S, 'say "hello"');
  const read = await fetch(`${base}/notes/n1`);
  assert.equal(read.status, 200, await read.clone().text());
  assert.deepEqual(await read.json(), { id: 'n1', text: 'say "hello"' });
  const absent = await fetch(`${base}/notes/n2`);
  assert.equal(absent.status, 404);
  assert.deepEqual(await absent.json(), { message: 'not found' });

  // DynamoDB's own error (the stage now names a missing table) reaches the 4xx integration response.
  await gw.send(
    new CreateDeploymentCommand({ restApiId, stageName: 'prod', variables: { table: 'missing-table' } }),
  );
  const missing = await fetch(`${base}/notes/n3`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'x' }),
  });
  assert.equal(missing.status, 400);
  assert.deepEqual(await missing.json(), {
    error: 'ResourceNotFoundException',
    detail: 'Requested resource not found',
  });
});
