/**
 * HTTP API authorizers end to end: JWT (a local OIDC issuer on loopback, RS256 and ES256,
 * wrong audience, expired, not yet valid, forged, scopes) and Lambda REQUEST authorizers
 * (simple and IAM responses, missing identity source, caching, context passed on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateAuthorizerCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  ResetAuthorizersCacheCommand,
} from '@aws-sdk/client-apigatewayv2';
import { startTestServer } from '../helpers/server.js';
import { FN, createNodeFunctions } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.authorizer ?? null) });`;
// Counts its calls in a module variable (the warm instance keeps it) and reports it in the context.
const AUTHZ = `let calls = 0;
exports.handler = async (event) => {
  calls++;
  const token = event.identitySource[0];
  if (event.type !== 'REQUEST' || !event.routeArn) throw new Error('bad event');
  if (token === 'crash') throw new Error('authorizer crashed');
  if (event.routeArn.includes('/iam')) {
    return { principalId: 'user-1', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: token === 'allow' ? 'Allow' : 'Deny', Resource: [event.routeArn] }] }, context: { calls, via: 'iam' } };
  }
  return { isAuthorized: token === 'allow', context: { calls, user: 'alice' } };
};`;

test('HTTP API authorizers: JWT and Lambda REQUEST', async (t) => {
  // A local OpenID issuer on loopback with one RSA and one EC key.
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const forger = await generateKeyPair('RS256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256', use: 'sig' },
    ],
  };
  let discoveryHits = 0;
  const idp = createServer((req, res) => {
    const base = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      discoveryHits++;
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
    } else if (req.url === '/jwks') res.end(JSON.stringify(jwks));
    else res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  t.after(() => idp.close());
  const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
  const sign = (
    key: Parameters<SignJWT['sign']>[0],
    kid: string,
    alg: string,
    claims: Record<string, unknown>,
    exp: string | number = '5m',
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(key);

  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    gw.destroy();
  });
  await createNodeFunctions(lambda, { authecho: ECHO, authz: AUTHZ });
  const api = await gw.send(new CreateApiCommand({ Name: 'secured', ProtocolType: 'HTTP' }));
  const id = api.ApiId!;
  const integ = await gw.send(
    new CreateIntegrationCommand({
      ApiId: id,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: `${FN}authecho`,
      PayloadFormatVersion: '2.0',
    }),
  );
  const jwtAuth = await gw.send(
    new CreateAuthorizerCommand({
      ApiId: id,
      Name: 'jwt',
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: issuer, Audience: ['my-app'] },
    }),
  );
  const simple = await gw.send(
    new CreateAuthorizerCommand({
      ApiId: id,
      Name: 'simple',
      AuthorizerType: 'REQUEST',
      AuthorizerUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}authz/invocations`,
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.x-token'],
      AuthorizerResultTtlInSeconds: 300,
    }),
  );
  const iam = await gw.send(
    new CreateAuthorizerCommand({
      ApiId: id,
      Name: 'iam',
      AuthorizerType: 'REQUEST',
      AuthorizerUri: `${FN}authz`,
      AuthorizerPayloadFormatVersion: '2.0',
      IdentitySource: ['$request.querystring.token'],
      AuthorizerResultTtlInSeconds: 0,
    }),
  );
  const route = (RouteKey: string, extra: Record<string, unknown>) =>
    gw.send(
      new CreateRouteCommand({
        ApiId: id,
        RouteKey,
        Target: `integrations/${integ.IntegrationId}`,
        ...extra,
      }),
    );
  await route('GET /jwt', { AuthorizationType: 'JWT', AuthorizerId: jwtAuth.AuthorizerId });
  await route('GET /scoped', {
    AuthorizationType: 'JWT',
    AuthorizerId: jwtAuth.AuthorizerId,
    AuthorizationScopes: ['items/read'],
  });
  await route('GET /simple', { AuthorizationType: 'CUSTOM', AuthorizerId: simple.AuthorizerId });
  await route('GET /iam', { AuthorizationType: 'CUSTOM', AuthorizerId: iam.AuthorizerId });
  await gw.send(new CreateStageCommand({ ApiId: id, StageName: '$default', AutoDeploy: true }));
  const base = `${srv.endpoint}/_api/${id}`;
  const call = async (path: string, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}${path}`, { headers });
    return { status: r.status, www: r.headers.get('www-authenticate'), body: (await r.json()) as any };
  };

  await t.test('JWT', async () => {
    const good = await sign(rsa.privateKey, 'rsa', 'RS256', {
      aud: 'my-app',
      sub: 'u1',
      scope: 'items/read other',
    });
    let r = await call('/jwt', { authorization: `Bearer ${good}` });
    assert.equal(r.status, 200);
    assert.equal(r.body.jwt.claims.sub, 'u1');
    assert.equal(r.body.jwt.claims.aud, 'my-app');
    assert.equal(typeof r.body.jwt.claims.exp, 'string');
    assert.deepEqual(r.body.jwt.scopes, ['items/read', 'other']);
    // ES256 and client_id instead of aud.
    const ecTok = await sign(ec.privateKey, 'ec', 'ES256', { client_id: 'my-app' });
    assert.equal((await call('/jwt', { authorization: ecTok })).status, 200);
    assert.equal((await call('/scoped', { authorization: good })).status, 200);

    r = await call('/jwt');
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { message: 'Unauthorized' });
    const wrongAud = await sign(rsa.privateKey, 'rsa', 'RS256', { aud: 'other-app' });
    assert.equal((await call('/jwt', { authorization: wrongAud })).status, 401);
    const expired = await sign(
      rsa.privateKey,
      'rsa',
      'RS256',
      { aud: 'my-app' },
      Math.floor(Date.now() / 1000) - 60,
    );
    r = await call('/jwt', { authorization: expired });
    assert.equal(r.status, 401);
    assert.match(r.www ?? '', /error="invalid_token"/);
    const notYet = await new SignJWT({ aud: 'my-app' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa' })
      .setIssuer(issuer)
      .setNotBefore('10m')
      .setExpirationTime('20m')
      .sign(rsa.privateKey);
    assert.equal((await call('/jwt', { authorization: notYet })).status, 401);
    const forged = await sign(forger.privateKey, 'rsa', 'RS256', { aud: 'my-app' });
    assert.equal((await call('/jwt', { authorization: forged })).status, 401);
    assert.equal((await call('/jwt', { authorization: 'not-a-jwt' })).status, 401);
    const wrongIss = await new SignJWT({ aud: 'my-app' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa' })
      .setIssuer('https://elsewhere.example')
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    assert.equal((await call('/jwt', { authorization: wrongIss })).status, 401);
    const noScope = await sign(rsa.privateKey, 'rsa', 'RS256', { aud: 'my-app', scope: 'other' });
    r = await call('/scoped', { authorization: noScope });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { message: 'Forbidden' });
    assert.equal(discoveryHits, 1, 'discovery is cached');
  });

  await t.test('Lambda REQUEST, simple responses, cached', async () => {
    let r = await call('/simple');
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, { message: 'Unauthorized' });
    r = await call('/simple', { 'x-token': 'allow' });
    assert.equal(r.status, 200);
    assert.equal(r.body.lambda.user, 'alice');
    const first = r.body.lambda.calls;
    r = await call('/simple', { 'x-token': 'allow' });
    assert.equal(r.body.lambda.calls, first, 'second call answered from the authorizer cache');
    // ResetAuthorizersCache: the next call asks the authorizer again.
    await gw.send(new ResetAuthorizersCacheCommand({ ApiId: id, StageName: '$default' }));
    r = await call('/simple', { 'x-token': 'allow' });
    assert.notEqual(r.body.lambda.calls, first, 'called again after ResetAuthorizersCache');
    await assert.rejects(
      gw.send(new ResetAuthorizersCacheCommand({ ApiId: id, StageName: 'nostage' })),
      (e: Error) => e.name === 'NotFoundException',
    );
    r = await call('/simple', { 'x-token': 'deny' });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { message: 'Forbidden' });
    r = await call('/simple', { 'x-token': 'crash' });
    assert.equal(r.status, 500);
  });

  await t.test('Lambda REQUEST, IAM policy responses, not cached', async () => {
    let r = await call('/iam?token=allow');
    assert.equal(r.status, 200);
    assert.equal(r.body.lambda.via, 'iam');
    const n = r.body.lambda.calls;
    r = await call('/iam?token=allow');
    assert.equal(r.body.lambda.calls, n + 1);
    r = await call('/iam?token=deny');
    assert.equal(r.status, 403);
    assert.equal((await call('/iam')).status, 401);
  });
});
