/**
 * TestInvokeAuthorizer through the real @aws-sdk/client-api-gateway: TOKEN and REQUEST Lambda
 * authorizers (allow, deny, "Unauthorized", a failing function, a missing identity source) and
 * a COGNITO_USER_POOLS authorizer's claims, with no deployment; unknown API or authorizer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  APIGatewayClient,
  CreateAuthorizerCommand,
  CreateRestApiCommand,
  TestInvokeAuthorizerCommand,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const POOL = 'us-east-1_TestInv01';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;

const TOKEN_AUTH = `exports.handler = async (e) => {
  if (e.authorizationToken === 'boom') throw new Error('kaput');
  if (e.authorizationToken === 'nope') throw new Error('Unauthorized');
  const Effect = e.authorizationToken === 'deny' ? 'Deny' : 'Allow';
  return { principalId: 'user-' + e.authorizationToken, context: { tier: 'gold' },
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect, Resource: e.methodArn }] } };
};`;
const REQUEST_AUTH = `exports.handler = async (e) => ({
  principalId: JSON.stringify({ tenant: e.headers['X-Tenant'], who: e.queryStringParameters.who,
    color: e.stageVariables.color, path: e.path, type: e.type, methodArn: e.methodArn, body: e.body }),
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }] },
});`;
const lambdaUri = (name: string) =>
  `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${name}/invocations`;

test('TestInvokeAuthorizer: Lambda TOKEN and REQUEST authorizers, Cognito claims, unknown ids', async (t) => {
  const pool = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pool.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwksServer = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const before = process.env.NIMBUS_COGNITO_JWKS;
  process.env.NIMBUS_COGNITO_JWKS = `${POOL}=http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  t.after(() => {
    if (before === undefined) delete process.env.NIMBUS_COGNITO_JWKS;
    else process.env.NIMBUS_COGNITO_JWKS = before;
    jwksServer.close();
  });
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
  });
  await createNodeFunctions(lambda, { tokenauth: TOKEN_AUTH, reqauth: REQUEST_AUTH });
  const api = await gw.send(new CreateRestApiCommand({ name: 'test-invoke-auth' }));
  const restApiId = api.id!;
  const token = await gw.send(
    new CreateAuthorizerCommand({
      restApiId,
      name: 'tok',
      type: 'TOKEN',
      authorizerUri: lambdaUri('tokenauth'),
      identitySource: 'method.request.header.Authorization',
      identityValidationExpression: '[a-z]+',
    }),
  );
  const invokeToken = (headers: Record<string, string>) =>
    gw.send(new TestInvokeAuthorizerCommand({ restApiId, authorizerId: token.id, headers }));

  await t.test('TOKEN: an Allow policy for the method ARN answers clientStatus 0', async () => {
    const out = await invokeToken({ Authorization: 'alice' });
    assert.equal(out.clientStatus, 0, out.log);
    assert.equal(out.principalId, 'user-alice');
    const policy = JSON.parse(out.policy!) as { Statement: { Effect: string; Resource: string }[] };
    assert.equal(policy.Statement[0].Effect, 'Allow');
    assert.equal(
      policy.Statement[0].Resource,
      `arn:aws:execute-api:us-east-1:000000000000:${restApiId}/ESTestInvoke-stage/GET/`,
    );
    assert.deepEqual(out.authorization, { 'method.request.header.Authorization': ['alice'] });
    assert.equal(typeof out.latency, 'number');
    assert.match(out.log ?? '', /^Execution log for request [0-9a-f-]{36}\n/);
    assert.match(out.log ?? '', /Successfully completed authorizer execution/);
    assert.match(out.log ?? '', /Incoming identity: \*\*\*\*lice\n/);
  });

  await t.test('TOKEN: an explicit Deny answers 403 with the policy', async () => {
    const out = await invokeToken({ Authorization: 'deny' });
    assert.equal(out.clientStatus, 403);
    assert.equal(out.principalId, 'user-deny');
    assert.equal(
      (JSON.parse(out.policy!) as { Statement: { Effect: string }[] }).Statement[0].Effect,
      'Deny',
    );
  });

  await t.test('TOKEN: a missing or malformed token answers 401 without calling the function', async () => {
    const missing = await invokeToken({});
    assert.equal(missing.clientStatus, 401);
    assert.equal(missing.principalId, undefined);
    assert.match(missing.log ?? '', /Unauthorized request/);
    assert.equal((await invokeToken({ Authorization: 'NOT-lower-case' })).clientStatus, 401);
  });

  await t.test(
    'TOKEN: the function failing with "Unauthorized" is a 401, another failure a 500',
    async () => {
      assert.equal((await invokeToken({ Authorization: 'nope' })).clientStatus, 401);
      const failed = await invokeToken({ Authorization: 'boom' });
      assert.equal(failed.clientStatus, 500);
      assert.match(failed.log ?? '', /Authorizer error/);
    },
  );

  await t.test(
    'REQUEST: headers, query string, stage variables and additional context as sources',
    async () => {
      const req = await gw.send(
        new CreateAuthorizerCommand({
          restApiId,
          name: 'req',
          type: 'REQUEST',
          authorizerUri: lambdaUri('reqauth'),
          identitySource:
            'method.request.header.X-Tenant, method.request.querystring.who, stageVariables.color, context.extra',
          authorizerResultTtlInSeconds: 0,
        }),
      );
      const out = await gw.send(
        new TestInvokeAuthorizerCommand({
          restApiId,
          authorizerId: req.id,
          multiValueHeaders: { 'X-Tenant': ['acme'] },
          pathWithQueryString: '/orders/7?who=bob',
          body: '{"ignored":true}',
          stageVariables: { color: 'red' },
          additionalContext: { extra: 'yes' },
        }),
      );
      assert.equal(out.clientStatus, 0, out.log);
      assert.deepEqual(JSON.parse(out.principalId!), {
        tenant: 'acme',
        who: 'bob',
        color: 'red',
        path: '/orders/7',
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:000000000000:${restApiId}/ESTestInvoke-stage/GET/orders/7`,
      });
      assert.deepEqual(out.authorization, {
        'method.request.header.X-Tenant': ['acme'],
        'method.request.querystring.who': ['bob'],
        'stageVariables.color': ['red'],
        'context.extra': ['yes'],
      });
      // One identity source missing (the query string): 401.
      const missing = await gw.send(
        new TestInvokeAuthorizerCommand({
          restApiId,
          authorizerId: req.id,
          headers: { 'X-Tenant': 'acme' },
          stageVariables: { color: 'red' },
          additionalContext: { extra: 'yes' },
        }),
      );
      assert.equal(missing.clientStatus, 401);
    },
  );

  await t.test('COGNITO_USER_POOLS: a valid ID token answers its claims, others 401', async () => {
    const cognito = await gw.send(
      new CreateAuthorizerCommand({
        restApiId,
        name: 'users',
        type: 'COGNITO_USER_POOLS',
        providerARNs: [`arn:aws:cognito-idp:us-east-1:000000000000:userpool/${POOL}`],
        identitySource: 'method.request.header.Authorization',
      }),
    );
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({ sub: 'u-1', token_use: 'id', 'cognito:username': 'alice', aud: 'c1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(pool.privateKey);
    const out = await gw.send(
      new TestInvokeAuthorizerCommand({
        restApiId,
        authorizerId: cognito.id,
        headers: { Authorization: idToken },
      }),
    );
    assert.equal(out.clientStatus, 0, out.log);
    assert.equal(out.claims?.sub, 'u-1');
    assert.equal(out.claims?.['cognito:username'], 'alice');
    assert.equal(out.claims?.iss, ISSUER);
    assert.equal(out.policy, undefined);
    const refused = await gw.send(
      new TestInvokeAuthorizerCommand({
        restApiId,
        authorizerId: cognito.id,
        headers: { Authorization: 'not-a-jwt' },
      }),
    );
    assert.equal(refused.clientStatus, 401);
    assert.equal(refused.claims, undefined);
  });

  await t.test('unknown API or authorizer: NotFoundException', async () => {
    await rejects(
      gw.send(new TestInvokeAuthorizerCommand({ restApiId, authorizerId: 'nope12' })),
      'NotFoundException',
      'Invalid authorizer identifier specified',
    );
    await rejects(
      gw.send(new TestInvokeAuthorizerCommand({ restApiId: 'missing123', authorizerId: token.id })),
      'NotFoundException',
      'Invalid API identifier specified 000000000000:missing123',
    );
  });
});
