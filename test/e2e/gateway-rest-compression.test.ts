/**
 * REST API payload compression (minimumCompressionSize): responses compressed by the client's
 * Accept-Encoding, compressed request bodies decoded before the integration, 415 for codings
 * API Gateway does not support; set through the real @aws-sdk/client-api-gateway, an OpenAPI
 * import and CloudFormation. Requests go through node:http, which (unlike fetch) neither asks
 * for nor undoes compression by itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetExportCommand,
  GetRestApiCommand,
  PutRestApiCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';
import { createNodeFunctions, putMockMethod, putProxyMethod } from './gateway-helpers.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const LONG = 'x'.repeat(2000);

test('REST APIs: payload compression (minimumCompressionSize)', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    lambda.destroy();
  });
  await createNodeFunctions(lambda, {
    echo: `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({
      body: event.body, encoding: event.headers['Content-Encoding'] ?? event.headers['content-encoding'] ?? null }) });`,
  });
  const api = await gw.send(new CreateRestApiCommand({ name: 'compressed' }));
  const restApiId = api.id!;
  // GET /big: a MOCK answering 2,000 bytes.
  const big = await gw.send(
    new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'big' }),
  );
  await putMockMethod(gw, { restApiId, resourceId: big.id!, httpMethod: 'GET' }, `{"data": "${LONG}"}`);
  // POST /echo: a Lambda proxy answering the body it got.
  const echo = await gw.send(
    new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'echo' }),
  );
  await putProxyMethod(gw, restApiId, echo.id!, 'POST', 'echo');
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;
  const setMin = (value: string) =>
    gw.send(
      new UpdateRestApiCommand({
        restApiId,
        patchOperations: [{ op: 'replace', path: '/minimumCompressionSize', value }],
      }),
    );

  await t.test('off (the default): nothing is compressed or decoded', async () => {
    const r = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'gzip' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(JSON.parse(r.body.toString()).data, LONG);
  });

  await t.test('responses: compressed by the highest-priority supported Accept-Encoding', async () => {
    await setMin('100');
    assert.equal((await gw.send(new GetRestApiCommand({ restApiId }))).minimumCompressionSize, 100);
    const gz = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.body.length < 200, `${gz.body.length} bytes`);
    assert.equal(JSON.parse(gunzipSync(gz.body).toString()).data, LONG);
    const df = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'deflate' });
    assert.equal(df.headers['content-encoding'], 'deflate');
    assert.equal(JSON.parse(inflateSync(df.body).toString()).data, LONG);
    // A browser's list: gzip is among the first choices.
    const browser = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(browser.headers['content-encoding'], 'gzip');
    // Not compressed: no header, `*`, identity, or an unsupported coding preferred.
    for (const accept of [undefined, '*', 'identity', 'br', 'br;q=1, gzip;q=0.5']) {
      const r = await raw(`${base}/big`, 'GET', accept ? { 'accept-encoding': accept } : {});
      assert.equal(r.headers['content-encoding'], undefined, String(accept));
      assert.equal(JSON.parse(r.body.toString()).data, LONG);
    }
  });

  await t.test('responses smaller than minimumCompressionSize are sent as they are', async () => {
    await setMin('100000');
    const r = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], undefined);
  });

  await t.test('requests: a compressed body reaches the function decoded', async () => {
    await setMin('0');
    const payload = JSON.stringify({ hello: 'world', pad: LONG });
    for (const [coding, encoded] of [
      ['gzip', gzipSync(payload)],
      ['deflate', deflateSync(payload)],
    ] as const) {
      const r = await raw(
        `${base}/echo`,
        'POST',
        { 'content-type': 'application/json', 'content-encoding': coding },
        encoded,
      );
      assert.equal(r.status, 200, coding);
      // The answer itself comes back compressed only when asked for.
      assert.equal(r.headers['content-encoding'], undefined);
      const got = JSON.parse(r.body.toString());
      assert.equal(got.body, payload);
      assert.equal(got.encoding, null);
    }
  });

  await t.test('requests: an unsupported coding or a corrupt body gets 415', async () => {
    for (const [coding, body] of [
      ['br', Buffer.from('abc')],
      ['gzip', Buffer.from('not gzip at all')],
    ] as const) {
      const r = await raw(
        `${base}/echo`,
        'POST',
        { 'content-type': 'application/json', 'content-encoding': coding },
        body,
      );
      assert.equal(r.status, 415, coding);
      assert.deepEqual(JSON.parse(r.body.toString()), { message: 'Unsupported Media Type' });
    }
  });

  await t.test('turned off again with an empty value; bad values are refused', async () => {
    await setMin('');
    assert.equal((await gw.send(new GetRestApiCommand({ restApiId }))).minimumCompressionSize, undefined);
    const r = await raw(`${base}/big`, 'GET', { 'accept-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], undefined);
    await rejects(setMin('10485761'), 'BadRequestException', /minimum compression size/);
  });

  await t.test('OpenAPI: x-amazon-apigateway-minimum-compression-size is imported and exported', async () => {
    const doc = {
      openapi: '3.0.1',
      info: { title: 'compressed', version: '1' },
      'x-amazon-apigateway-minimum-compression-size': 1024,
      paths: {},
    };
    await gw.send(
      new PutRestApiCommand({ restApiId, mode: 'merge', body: Buffer.from(JSON.stringify(doc)) }),
    );
    assert.equal((await gw.send(new GetRestApiCommand({ restApiId }))).minimumCompressionSize, 1024);
    await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    const exported = await gw.send(
      new GetExportCommand({
        restApiId,
        stageName: 'prod',
        exportType: 'oas30',
        accepts: 'application/json',
        parameters: { extensions: 'apigateway' },
      }),
    );
    const out = JSON.parse(Buffer.from(exported.body!).toString());
    assert.equal(out['x-amazon-apigateway-minimum-compression-size'], 1024);
  });

  await t.test('CloudFormation: MinimumCompressionSize on AWS::ApiGateway::RestApi', async () => {
    const cfn = new CloudFormationClient(srv.clientConfig);
    try {
      const stack = await deployStack(
        cfn,
        'compressed-api',
        JSON.stringify({
          Resources: {
            Api: {
              Type: 'AWS::ApiGateway::RestApi',
              Properties: { Name: 'cfn-compressed', MinimumCompressionSize: 512 },
            },
          },
          Outputs: { ApiId: { Value: { Ref: 'Api' } } },
        }),
      );
      const got = await gw.send(new GetRestApiCommand({ restApiId: stack.output('ApiId') }));
      assert.equal(got.minimumCompressionSize, 512);
    } finally {
      cfn.destroy();
    }
  });
});
