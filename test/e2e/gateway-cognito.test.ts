/**
 * REST API COGNITO_USER_POOLS authorizers, from a SAM template as users write them: tokens
 * signed by the user pool's keys (served here by a local JWKS named through
 * NIMBUS_COGNITO_JWKS), ID tokens for methods without scopes, access tokens with a scope for
 * methods with AuthorizationScopes, every failure a 401, and the claims in the event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';

const POOL = 'us-east-1_Nimbus01';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;

const TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Transform: 'AWS::Serverless-2016-10-31',
  Resources: {
    Api: {
      Type: 'AWS::Serverless::Api',
      Properties: {
        StageName: 'prod',
        Auth: {
          DefaultAuthorizer: 'Users',
          Authorizers: {
            Users: { UserPoolArn: `arn:aws:cognito-idp:us-east-1:000000000000:userpool/${POOL}` },
          },
        },
      },
    },
    Fn: {
      Type: 'AWS::Serverless::Function',
      Properties: {
        Runtime: 'nodejs20.x',
        Handler: 'index.handler',
        InlineCode:
          'exports.handler = async (e) => ({ statusCode: 200, body: JSON.stringify(e.requestContext.authorizer) });',
        Events: {
          Me: { Type: 'Api', Properties: { RestApiId: { Ref: 'Api' }, Path: '/me', Method: 'get' } },
          Admin: {
            Type: 'Api',
            Properties: {
              RestApiId: { Ref: 'Api' },
              Path: '/admin',
              Method: 'post',
              Auth: { Authorizer: 'Users', AuthorizationScopes: ['api/admin'] },
            },
          },
        },
      },
    },
  },
});

test('REST API Cognito user pool authorizer: ID tokens, access tokens with scopes, claims, 401s', async () => {
  const pool = await generateKeyPair('RS256');
  const forger = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pool.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwksServer = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  const before = process.env.NIMBUS_COGNITO_JWKS;
  process.env.NIMBUS_COGNITO_JWKS = `${POOL}=${jwksUrl}`;
  try {
    await using srv = await startTestServer();
    const cfn = new CloudFormationClient(srv.clientConfig);
    const stack = await deployStack(cfn, 'cognito-api', TEMPLATE);
    const base = `${srv.endpoint}/_api/${stack.phys('Api')}/prod`;
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: JWTPayload, key = pool.privateKey, iss = ISSUER, exp = now + 3600) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(iss)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(key);
    const idToken = await sign({
      sub: 'u-1',
      aud: 'client-1',
      token_use: 'id',
      'cognito:username': 'alice',
      email_verified: true,
      auth_time: now,
    });
    const call = async (path: string, token?: string, method = 'GET') => {
      const r = await fetch(base + path, { method, headers: token ? { authorization: token } : {} });
      return { status: r.status, body: await r.text() };
    };

    assert.deepEqual(await call('/me'), { status: 401, body: '{"message":"Unauthorized"}' });
    const ok = await call('/me', idToken);
    assert.equal(ok.status, 200, ok.body);
    const claims = (JSON.parse(ok.body) as { claims: Record<string, string> }).claims;
    assert.equal(claims.sub, 'u-1');
    assert.equal(claims['cognito:username'], 'alice');
    assert.equal(claims.email_verified, 'true');
    assert.equal(claims.token_use, 'id');
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.auth_time, String(now));
    assert.match(
      claims.exp,
      /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/,
    );
    assert.equal(new Date(claims.exp.replace(' UTC', '') + ' UTC').getTime(), (now + 3600) * 1000);
    // A "Bearer " prefix is tolerated.
    assert.equal((await call('/me', `Bearer ${idToken}`)).status, 200);

    const refused = [
      await sign({ token_use: 'id', aud: 'client-1' }, forger.privateKey), // another key
      await sign({ token_use: 'id', aud: 'client-1' }, pool.privateKey, ISSUER, now - 60), // expired
      await sign(
        { token_use: 'id', aud: 'client-1' },
        pool.privateKey,
        'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other',
      ), // another pool
      await sign({ token_use: 'access', client_id: 'client-1', scope: 'api/admin' }), // not an ID token
      'not-a-jwt',
    ];
    for (const t of refused)
      assert.deepEqual(await call('/me', t), { status: 401, body: '{"message":"Unauthorized"}' });

    // A method with AuthorizationScopes wants an access token holding one of them.
    const access = await sign({ token_use: 'access', client_id: 'client-1', scope: 'openid api/admin' });
    const admin = await call('/admin', access, 'POST');
    assert.equal(admin.status, 200, admin.body);
    assert.equal(
      (JSON.parse(admin.body) as { claims: Record<string, string> }).claims.scope,
      'openid api/admin',
    );
    assert.equal((await call('/admin', idToken, 'POST')).status, 401);
    const noScope = await sign({ token_use: 'access', client_id: 'client-1', scope: 'openid' });
    assert.equal((await call('/admin', noScope, 'POST')).status, 401);
  } finally {
    if (before === undefined) delete process.env.NIMBUS_COGNITO_JWKS;
    else process.env.NIMBUS_COGNITO_JWKS = before;
    jwksServer.close();
  }
});
