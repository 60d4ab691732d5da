/**
 * Lambda function URLs through a real Nimbus: the config API via @aws-sdk/client-lambda, and
 * requests with fetch to the returned FunctionUrl (path form) and by Host header: payload 2.0
 * events, response inference, AWS_IAM (SigV4, service lambda), CORS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import AdmZip from 'adm-zip';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  LambdaClient,
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ListFunctionUrlConfigsCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

async function expectError(p: Promise<unknown>, name: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

/** A raw request with a chosen Host header (fetch does not let a caller set Host). */
function hostRequest(
  port: number,
  host: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { host } }, (res) => {
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

const HANDLER = zip({
  'index.js': `exports.handler = async (event) => {
    if (event.rawPath === '/infer') return { inferred: true };
    if (event.rawPath === '/fail') throw new Error('boom');
    return {
      statusCode: 201,
      headers: { 'x-custom': 'yes', 'content-type': 'application/json' },
      cookies: ['a=1'],
      body: JSON.stringify(event),
    };
  };`,
});

test('Lambda function URLs', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => lambda.destroy());
  const port = Number(new URL(srv.endpoint).port);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'web',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: HANDLER },
      Publish: true,
    }),
  );
  await lambda.send(new CreateAliasCommand({ FunctionName: 'web', Name: 'live', FunctionVersion: '1' }));
  let url = '';

  await t.test('CreateFunctionUrlConfig and its errors', async () => {
    const c = await lambda.send(
      new CreateFunctionUrlConfigCommand({
        FunctionName: 'web',
        AuthType: 'NONE',
        Cors: {
          AllowOrigins: ['https://app.example'],
          AllowMethods: ['GET', 'POST'],
          ExposeHeaders: ['x-custom'],
          MaxAge: 60,
        },
      }),
    );
    assert.equal(c.$metadata.httpStatusCode, 201);
    assert.equal(c.FunctionArn, `${ARN}web`);
    assert.equal(c.AuthType, 'NONE');
    assert.equal(c.InvokeMode, 'BUFFERED');
    assert.match(c.FunctionUrl!, /^http:\/\/127\.0\.0\.1:\d+\/_lambda-url\/[a-z0-9]{32}\/$/);
    assert.match(c.CreationTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    url = c.FunctionUrl!;
    await expectError(
      lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE' })),
      'ResourceConflictException',
      `Failed to create function url config for [functionArn = ${ARN}web]. Error message:  FunctionUrlConfig exists for this Lambda function`,
      409,
    );
    await expectError(
      lambda.send(
        new CreateFunctionUrlConfigCommand({
          FunctionName: 'web',
          AuthType: 'OPEN' as 'NONE',
          Qualifier: 'live',
        }),
      ),
      'ValidationException',
      "1 validation error detected: Value 'OPEN' at 'authType' failed to satisfy constraint: Member must satisfy enum value set: [NONE, AWS_IAM]",
    );
    await expectError(
      lambda.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'NONE', Qualifier: '1' }),
      ),
      'ValidationException',
    );
    await expectError(
      lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'ghost', AuthType: 'NONE' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}ghost`,
    );
    await expectError(
      lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: 'live' })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
      404,
    );
  });

  await t.test('the FunctionUrl serves payload 2.0 events and structured responses', async () => {
    const res = await fetch(`${url}items/1?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', cookie: 'c1=v1; c2=v2' },
      body: 'hello',
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-custom'), 'yes');
    assert.equal(res.headers.get('set-cookie'), 'a=1');
    const ev = (await res.json()) as any;
    assert.equal(ev.version, '2.0');
    assert.equal(ev.routeKey, '$default');
    assert.equal(ev.rawPath, '/items/1');
    assert.equal(ev.rawQueryString, 'a=1&a=2&b=x');
    assert.deepEqual(ev.queryStringParameters, { a: '1,2', b: 'x' });
    assert.deepEqual(ev.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(ev.body, 'hello');
    assert.equal(ev.isBase64Encoded, false);
    const id = url.split('/')[4];
    assert.equal(ev.requestContext.apiId, id);
    assert.equal(ev.requestContext.domainPrefix, id);
    assert.ok(ev.requestContext.domainName.startsWith(`${id}.lambda-url.`));
    assert.equal(ev.requestContext.http.method, 'POST');
    assert.equal(ev.requestContext.http.path, '/items/1');
    assert.equal(ev.requestContext.routeKey, '$default');
    assert.equal(ev.requestContext.stage, '$default');

    const inferred = await fetch(`${url}infer`);
    assert.equal(inferred.status, 200);
    assert.equal(inferred.headers.get('content-type'), 'application/json');
    assert.deepEqual(await inferred.json(), { inferred: true });

    const failed = await fetch(`${url}fail`);
    assert.equal(failed.status, 502);
    await failed.arrayBuffer();

    const unknown = await fetch(url.replace(/[a-z0-9]{32}/, 'a'.repeat(32)));
    assert.equal(unknown.status, 403);
    assert.deepEqual(await unknown.json(), { Message: 'Forbidden' });
  });

  await t.test('the same URL by Host header', async () => {
    const id = url.split('/')[4];
    const r = await hostRequest(port, `${id}.lambda-url.us-east-1.localhost:${port}`, '/by-host?q=1');
    assert.equal(r.status, 201);
    const ev = JSON.parse(r.body);
    assert.equal(ev.rawPath, '/by-host');
    assert.equal(ev.requestContext.domainName, `${id}.lambda-url.us-east-1.localhost`);
  });

  await t.test('CORS from the config', async () => {
    const pre = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(pre.headers.get('access-control-max-age'), '60');
    await pre.arrayBuffer();
    const actual = await fetch(`${url}infer`, { headers: { origin: 'https://app.example' } });
    assert.equal(actual.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.equal(actual.headers.get('access-control-expose-headers'), 'x-custom');
    await actual.arrayBuffer();
    const other = await fetch(`${url}infer`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    await other.arrayBuffer();
  });

  await t.test('AWS_IAM URLs need a SigV4 signature for lambda', async () => {
    const u = await lambda.send(
      new UpdateFunctionUrlConfigCommand({ FunctionName: 'web', AuthType: 'AWS_IAM', Cors: {} }),
    );
    assert.equal(u.AuthType, 'AWS_IAM');
    assert.ok(u.LastModifiedTime);
    const unsigned = await fetch(`${url}infer`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { Message: 'Forbidden' });
    const target = new URL(`${url}infer`);
    const sign = (service: string) =>
      new SignatureV4({
        service,
        region: 'us-east-1',
        credentials: srv.clientConfig.credentials,
        sha256: Sha256,
      }).sign({
        method: 'GET',
        protocol: 'http:',
        hostname: target.hostname,
        port,
        path: target.pathname,
        query: {},
        headers: { host: target.host },
      });
    const signed = await sign('lambda');
    const ok = await fetch(target, { headers: signed.headers as Record<string, string> });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { inferred: true });
    const wrongService = await sign('s3');
    const denied = await fetch(target, { headers: wrongService.headers as Record<string, string> });
    assert.equal(denied.status, 403);
    await denied.arrayBuffer();
  });

  await t.test('alias URLs, List, Delete', async () => {
    const a = await lambda.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: 'web', Qualifier: 'live', AuthType: 'NONE' }),
    );
    assert.equal(a.FunctionArn, `${ARN}web:live`);
    const r = await fetch(`${a.FunctionUrl}infer`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    const l = await lambda.send(new ListFunctionUrlConfigsCommand({ FunctionName: 'web' }));
    assert.deepEqual(l.FunctionUrlConfigs?.map((c) => c.FunctionArn).sort(), [`${ARN}web`, `${ARN}web:live`]);
    await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web' }));
    await expectError(
      lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: 'web' })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
    );
    const gone = await fetch(`${url}infer`);
    assert.equal(gone.status, 403);
    await gone.arrayBuffer();
    await expectError(
      lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'web' })),
      'ResourceNotFoundException',
    );
  });
});
