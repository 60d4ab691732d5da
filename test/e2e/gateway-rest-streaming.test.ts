/**
 * REST API response streaming (integration `responseTransferMode: STREAM`) through a real Nimbus
 * and the real @aws-sdk/client-api-gateway: a streamified Lambda (AWS_PROXY through
 * InvokeWithResponseStream) and an HTTP_PROXY backend that writes with a pause reach a node:http
 * client chunk by chunk, before they end; status, headers and cookies from the function's
 * metadata; a plain handler; failures; management validation; OpenAPI export/import.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetExportCommand,
  GetIntegrationCommand,
  ImportRestApiCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  UpdateIntegrationCommand,
  GetResourcesCommand,
} from '@aws-sdk/client-api-gateway';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { timedGet } from '../helpers/timed-get.js';
import { createNodeFunctions, FN } from './gateway-helpers.js';

const SLEEP = 'const sleep = (ms) => new Promise((r) => setTimeout(r, ms));';
const FUNCTIONS = {
  streamer: `${SLEEP}
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'Content-Type': 'text/plain', 'X-Custom': 'yes' },
    cookies: ['a=1; Path=/', 'b=2'],
  });
  s.write('first@' + Date.now() + ';');
  await sleep(400);
  s.write('second@' + Date.now() + ';');
  s.end(event.path);
});`,
  plain: `exports.handler = async (event) => ({ statusCode: 202, headers: { 'x-plain': '1' }, body: 'plain ' + event.httpMethod });`,
  broken: `${SLEEP}
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
  s.write('partial');
  await sleep(100);
  throw new Error('boom mid-stream');
});`,
  failFirst: `exports.handler = awslambda.streamifyResponse(async () => { throw new Error('before any byte'); });`,
  noMetadata: `exports.handler = awslambda.streamifyResponse(async (event, responseStream) => { responseStream.end('raw bytes, no delimiter'); });`,
};

const streamUri = (fn: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2021-11-15/functions/${FN}${fn}/response-streaming-invocations`;

test('REST API response streaming (responseTransferMode STREAM)', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  const backend = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-backend': 'b1' });
    res.write(`one@${Date.now()};`);
    setTimeout(() => res.end(`two@${Date.now()}`), 400);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as { port: number }).port;
  t.after(() => {
    lambda.destroy();
    gw.destroy();
    backend.close();
  });
  await createNodeFunctions(lambda, FUNCTIONS, { Timeout: 10 });

  const api = await gw.send(new CreateRestApiCommand({ name: 'streaming' }));
  const restApiId = api.id!;
  const method = async (pathPart: string, integration: Record<string, unknown>) => {
    const resourceId = (
      await gw.send(new CreateResourceCommand({ restApiId, parentId: api.rootResourceId!, pathPart }))
    ).id!;
    await gw.send(
      new PutMethodCommand({ restApiId, resourceId, httpMethod: 'GET', authorizationType: 'NONE' }),
    );
    const out = await gw.send(
      new PutIntegrationCommand({ restApiId, resourceId, httpMethod: 'GET', ...integration } as never),
    );
    return { resourceId, out };
  };
  const lambdaStream = (fn: string) => ({
    type: 'AWS_PROXY',
    integrationHttpMethod: 'POST',
    uri: streamUri(fn),
    responseTransferMode: 'STREAM',
  });
  const streamer = await method('streamer', lambdaStream('streamer'));
  for (const fn of ['plain', 'broken', 'failFirst', 'noMetadata']) await method(fn, lambdaStream(fn));
  await method('backend', {
    type: 'HTTP_PROXY',
    integrationHttpMethod: 'GET',
    uri: `http://127.0.0.1:${port}/stream`,
    responseTransferMode: 'STREAM',
  });
  const buffered = await method('buffered', {
    type: 'HTTP_PROXY',
    integrationHttpMethod: 'GET',
    uri: `http://127.0.0.1:${port}/stream`,
  });
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const base = `${srv.endpoint}/_api/${restApiId}/prod`;

  await t.test('PutIntegration and GetIntegration carry responseTransferMode', async () => {
    assert.equal(streamer.out.responseTransferMode, 'STREAM');
    assert.equal(streamer.out.uri, streamUri('streamer'));
    const got = await gw.send(
      new GetIntegrationCommand({ restApiId, resourceId: streamer.resourceId, httpMethod: 'GET' }),
    );
    assert.equal(got.responseTransferMode, 'STREAM');
  });

  await t.test(
    'AWS_PROXY: metadata answers status, headers and cookies; chunks come as written',
    async () => {
      const r = await timedGet(`${base}/streamer`);
      assert.equal(r.status, 201);
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.headers['x-custom'], 'yes');
      assert.deepEqual(r.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
      assert.equal(r.headers['transfer-encoding'], 'chunked');
      assert.match(r.body, /^first@\d+;second@\d+;\/streamer$/);
      const first = r.chunks.find((c) => c.data.includes('first@'))!;
      const second = /second@(\d+)/.exec(r.body)!;
      // The first chunk reached the client before the handler wrote the second (400 ms later).
      assert.ok(first.at < Number(second[1]), `first chunk at ${first.at}, second written at ${second[1]}`);
    },
  );

  await t.test('AWS_PROXY: a plain handler is answered as its proxy response', async () => {
    const r = await timedGet(`${base}/plain`);
    assert.equal(r.status, 202);
    assert.equal(r.headers['x-plain'], '1');
    assert.equal(r.body, 'plain GET');
  });

  await t.test(
    'AWS_PROXY: failures before the metadata answer 502; after it the connection is cut',
    async () => {
      const before = await timedGet(`${base}/failFirst`);
      assert.equal(before.status, 502);
      assert.deepEqual(JSON.parse(before.body), { message: 'Internal server error' });
      const none = await timedGet(`${base}/noMetadata`);
      assert.equal(none.status, 502);
      const after = await timedGet(`${base}/broken`);
      assert.equal(after.status, 200);
      assert.ok(after.aborted, 'the response is cut mid-stream');
      assert.equal(after.body, 'partial');
    },
  );

  await t.test('HTTP_PROXY: the backend body is piped as it arrives', async () => {
    const r = await timedGet(`${base}/backend`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-backend'], 'b1');
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.match(r.body, /^one@\d+;two@\d+$/);
    const first = r.chunks.find((c) => c.data.includes('one@'))!;
    const two = Number(/two@(\d+)/.exec(r.body)![1]);
    assert.ok(first.at < two, `first chunk at ${first.at}, second written at ${two}`);
    // BUFFERED (the default): the whole answer at once, with its length.
    const b = await timedGet(`${base}/buffered`);
    assert.match(b.body, /^one@\d+;two@\d+$/);
    assert.ok(b.headers['content-length']);
    assert.ok(b.chunks[0].at >= Number(/two@(\d+)/.exec(b.body)![1]));
  });

  await t.test('validation: STREAM only for proxy integrations, BUFFERED or STREAM only', async () => {
    const rid = streamer.resourceId;
    await assert.rejects(
      gw.send(
        new PutIntegrationCommand({
          restApiId,
          resourceId: rid,
          httpMethod: 'GET',
          type: 'MOCK',
          responseTransferMode: 'STREAM',
        }),
      ),
      (e: Error) => e.name === 'BadRequestException' && /HTTP_PROXY and AWS_PROXY/.test(e.message),
    );
    await assert.rejects(
      gw.send(
        new PutIntegrationCommand({
          ...lambdaStream('streamer'),
          restApiId,
          resourceId: rid,
          httpMethod: 'GET',
          responseTransferMode: 'SOMETIMES',
        } as never),
      ),
      (e: Error) => e.name === 'BadRequestException' && /transfer mode/.test(e.message),
    );
    const patched = await gw.send(
      new UpdateIntegrationCommand({
        restApiId,
        resourceId: buffered.resourceId,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/responseTransferMode', value: 'STREAM' }],
      }),
    );
    assert.equal(patched.responseTransferMode, 'STREAM');
    await assert.rejects(
      gw.send(
        new UpdateIntegrationCommand({
          restApiId,
          resourceId: buffered.resourceId,
          httpMethod: 'GET',
          patchOperations: [{ op: 'replace', path: '/responseTransferMode', value: 'FAST' }],
        }),
      ),
      (e: Error) => e.name === 'BadRequestException',
    );
  });

  await t.test('OpenAPI export and import keep responseTransferMode', async () => {
    const exported = await gw.send(
      new GetExportCommand({
        restApiId,
        stageName: 'prod',
        exportType: 'oas30',
        parameters: { extensions: 'apigateway' },
        accepts: 'application/json',
      }),
    );
    const doc = JSON.parse(Buffer.from(exported.body!).toString()) as {
      paths: Record<string, Record<string, Record<string, { responseTransferMode?: string }>>>;
    };
    assert.equal(
      doc.paths['/streamer'].get['x-amazon-apigateway-integration'].responseTransferMode,
      'STREAM',
    );
    const copy = await gw.send(new ImportRestApiCommand({ body: exported.body! }));
    const resources = await gw.send(new GetResourcesCommand({ restApiId: copy.id! }));
    const res = resources.items!.find((r) => r.path === '/streamer')!;
    const integ = await gw.send(
      new GetIntegrationCommand({ restApiId: copy.id!, resourceId: res.id!, httpMethod: 'GET' }),
    );
    assert.equal(integ.responseTransferMode, 'STREAM');
    assert.equal(integ.uri, streamUri('streamer'));
  });
});
