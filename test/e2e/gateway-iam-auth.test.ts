/**
 * AWS_IAM authorization on REST API methods and HTTP API routes in strict mode: the request's
 * SigV4 signature is checked as the front door checks it (a known key, the right secret), a REST
 * method refuses another account's caller unless a resource policy allows it, as on AWS; IAM
 * policies are not evaluated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  UpdateMethodCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  UpdateRouteCommand,
  GetRoutesCommand,
} from '@aws-sdk/client-apigatewayv2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions, putMockMethod, putProxyMethod, signedGet } from './gateway-helpers.js';

const MAIN = {
  accessKeyId: 'AKIDMAIN000000000000',
  secretAccessKey: 'main-secret',
  accountId: '000000000000',
};
const OTHER = {
  accessKeyId: 'AKIDOTHER11111111111',
  secretAccessKey: 'other-secret',
  accountId: '111111111111',
};

test('AWS_IAM methods and routes check the caller signature (strict mode)', async (t) => {
  await using srv = await startTestServer({
    auth: { mode: 'strict', keys: [MAIN, OTHER] },
    credentials: MAIN,
  });
  const gw = new APIGatewayClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    v2.destroy();
    lambda.destroy();
  });
  const forged = { accessKeyId: MAIN.accessKeyId, secretAccessKey: 'not-the-secret' };
  const unknown = { accessKeyId: 'AKIDUNKNOWN000000000', secretAccessKey: 'x' };

  await t.test(
    'REST: signed by the API account passes; forged, unknown, unsigned and other accounts do not',
    async () => {
      const api = await gw.send(new CreateRestApiCommand({ name: 'iam' }));
      const where = { restApiId: api.id!, resourceId: api.rootResourceId!, httpMethod: 'GET' };
      await putMockMethod(gw, where, '{"ok": true}');
      await gw.send(
        new UpdateMethodCommand({
          ...where,
          patchOperations: [{ op: 'replace', path: '/authorizationType', value: 'AWS_IAM' }],
        }),
      );
      await gw.send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
      const url = `${srv.endpoint}/_api/${api.id}/prod/`;
      const ok = await signedGet(url, MAIN);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { ok: true });
      const bad = await signedGet(url, forged);
      assert.equal(bad.status, 403);
      assert.match(((await bad.json()) as { message: string }).message, /signature/i);
      assert.equal((await signedGet(url, unknown)).status, 403);
      const unsigned = await fetch(url);
      assert.equal(unsigned.status, 403);
      assert.deepEqual(await unsigned.json(), { message: 'Missing Authentication Token' });
      // Another account, and no resource policy allowing it: refused as AWS refuses it.
      const other = await signedGet(url, OTHER);
      assert.equal(other.status, 403);
      assert.deepEqual(await other.json(), {
        Message: `User: arn:aws:iam::${OTHER.accountId}:root is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:${api.id}/prod/GET/`,
      });
    },
  );

  await t.test('REST: a Lambda proxy behind AWS_IAM sees the caller in requestContext.identity', async () => {
    await createNodeFunctions(lambda, {
      whoami: `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.identity) });`,
    });
    const api = await gw.send(new CreateRestApiCommand({ name: 'iam-who' }));
    await putProxyMethod(gw, api.id!, api.rootResourceId!, 'GET', 'whoami');
    await gw.send(
      new UpdateMethodCommand({
        restApiId: api.id!,
        resourceId: api.rootResourceId!,
        httpMethod: 'GET',
        patchOperations: [{ op: 'replace', path: '/authorizationType', value: 'AWS_IAM' }],
      }),
    );
    await gw.send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
    const r = await signedGet(`${srv.endpoint}/_api/${api.id}/prod/`, MAIN);
    assert.equal(r.status, 200);
    const identity = (await r.json()) as Record<string, unknown>;
    assert.equal(identity.accessKey, MAIN.accessKeyId);
    assert.equal(identity.accountId, MAIN.accountId);
    assert.match(String(identity.userArn), /^arn:aws:(iam|sts)::000000000000:/);
    assert.equal(identity.caller, identity.user);
  });

  await t.test('HTTP API: an AWS_IAM route takes validly signed requests only', async () => {
    await createNodeFunctions(lambda, {
      iamok: `exports.handler = async (event) => ({ ok: true, iam: event.requestContext.authorizer.iam });`,
    });
    const api = await v2.send(
      new CreateApiCommand({
        Name: 'iam-http',
        ProtocolType: 'HTTP',
        Target: `${FN}iamok`,
        RouteKey: 'GET /who',
      }),
    );
    const route = (await v2.send(new GetRoutesCommand({ ApiId: api.ApiId }))).Items![0];
    await v2.send(
      new UpdateRouteCommand({ ApiId: api.ApiId, RouteId: route.RouteId, AuthorizationType: 'AWS_IAM' }),
    );
    const url = `${srv.endpoint}/_api/${api.ApiId}/who`;
    const until = Date.now() + 5000;
    let ok = await signedGet(url, MAIN);
    while (ok.status !== 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await signedGet(url, MAIN);
    }
    assert.equal(ok.status, 200);
    const got = (await ok.json()) as { ok: boolean; iam: Record<string, unknown> };
    assert.equal(got.ok, true);
    // The caller, as payload 2.0 carries it (requestContext.authorizer.iam).
    assert.equal(got.iam.accessKey, MAIN.accessKeyId);
    assert.equal(got.iam.accountId, MAIN.accountId);
    assert.equal(got.iam.callerId, got.iam.userId);
    assert.equal(got.iam.cognitoIdentity, null);
    assert.match(String(got.iam.userArn), /^arn:aws:(iam|sts)::000000000000:/);
    assert.equal((await signedGet(url, OTHER)).status, 200, 'HTTP APIs have no resource policies');
    const bad = await signedGet(url, forged);
    assert.equal(bad.status, 403);
    assert.match(((await bad.json()) as { message: string }).message, /signature/i);
    assert.equal((await signedGet(url, unknown)).status, 403);
    const unsigned = await fetch(url);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { message: 'Forbidden' });
  });
});
