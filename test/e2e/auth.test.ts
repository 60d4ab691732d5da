import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { startTestServer } from '../helpers/server.js';

const ALICE = {
  accessKeyId: 'AKIAALICE0000000001',
  secretAccessKey: 'alice-secret',
  accountId: '111111111111',
};
const BOB = {
  accessKeyId: 'AKIABOB00000000000002',
  secretAccessKey: 'bob-secret',
  accountId: '222222222222',
};

class Sha256 {
  private h;
  constructor(secret?: any) {
    this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(d: any) {
    this.h.update(d);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {}
}

test('strict mode, JSON protocol: accounts are isolated and failures use the JSON error codes', async () => {
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: [ALICE, BOB] } });
  const mk = (credentials: { accessKeyId: string; secretAccessKey: string }, extra = {}) =>
    new CloudWatchLogsClient({ ...srv.clientConfig, credentials, ...extra });
  const alice = mk(ALICE);
  const bob = mk(BOB);
  const wrong = mk({ accessKeyId: ALICE.accessKeyId, secretAccessKey: 'bad' });
  const unknown = mk({ accessKeyId: 'AKIANOBODY', secretAccessKey: 'x' });
  const skewed = mk(ALICE, { systemClockOffset: -20 * 60 * 1000 });
  try {
    await alice.send(new CreateLogGroupCommand({ logGroupName: 'alice-only' }));
    const seenByAlice = await alice.send(new DescribeLogGroupsCommand({}));
    const seenByBob = await bob.send(new DescribeLogGroupsCommand({}));
    assert.deepEqual(
      seenByAlice.logGroups?.map((g) => g.logGroupName),
      ['alice-only'],
    );
    assert.match(seenByAlice.logGroups?.[0].arn ?? '', /:111111111111:/);
    assert.deepEqual(seenByBob.logGroups, []);

    await assert.rejects(wrong.send(new DescribeLogGroupsCommand({})), (e: any) => {
      assert.equal(e.name, 'InvalidSignatureException');
      assert.match(e.message, /^The request signature we calculated does not match/);
      return true;
    });
    await assert.rejects(unknown.send(new DescribeLogGroupsCommand({})), {
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
    await assert.rejects(skewed.send(new DescribeLogGroupsCommand({})), (e: any) => {
      assert.equal(e.name, 'InvalidSignatureException');
      assert.match(
        e.message,
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
      );
      return true;
    });
    const unsigned = await fetch(srv.endpoint, {
      method: 'POST',
      headers: {
        'x-amz-target': 'Logs_20140328.DescribeLogGroups',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{}',
    });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.equal(
      ((await unsigned.json()) as { __type: string }).__type,
      'MissingAuthenticationTokenException',
    );
  } finally {
    for (const c of [alice, bob, wrong, unknown, skewed]) c.destroy();
  }
});

test('strict mode accepts presigned query-string requests and rejects tampered or expired ones', async () => {
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: [ALICE] } });
  const url = new URL(srv.endpoint);
  const presign = async (secret: string, expiresIn = 300, signingDate = new Date()) => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: secret },
      region: 'us-east-1',
      service: 'sts',
      sha256: Sha256 as any,
    });
    const req = new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: url.host },
    });
    const signed = await signer.presign(req, { expiresIn, signingDate });
    const qs = new URLSearchParams(signed.query as Record<string, string>).toString();
    return `${srv.endpoint}/?${qs}`;
  };
  const ok = await fetch(await presign(ALICE.secretAccessKey));
  const okBody = await ok.text();
  assert.equal(ok.status, 200, okBody);
  assert.match(okBody, /<Account>111111111111<\/Account>/);

  const bad = await fetch(await presign('wrong'));
  assert.equal(bad.status, 403);
  assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);

  const tampered = (await presign(ALICE.secretAccessKey)).replace('GetCallerIdentity', 'GetCallerIdentitx');
  const t = await fetch(tampered);
  assert.equal(t.status, 403);

  const old = await fetch(await presign(ALICE.secretAccessKey, 60, new Date(Date.now() - 120_000)));
  assert.equal(old.status, 403);
  assert.match(await old.text(), /Signature expired/);
});

test('strict mode, REST-JSON: the Lambda client signs percent-encoded paths we verify; errors are REST-JSON', async () => {
  const { LambdaClient, GetFunctionCommand } = await import('@aws-sdk/client-lambda');
  const { AwsError } = await import('../../src/protocols/errors.js');
  await using srv = await startTestServer({
    auth: { mode: 'strict', keys: [ALICE] },
    start: {
      extraServices: () => [
        {
          protocol: 'rest-json' as const,
          signingName: 'lambda',
          routes: [
            {
              method: 'GET',
              path: '/2015-03-31/functions/{FunctionName}',
              operation: 'GetFunction',
              handler: async (ctx, req) => {
                if (req.pathParams.FunctionName.endsWith('missing')) {
                  throw new AwsError(
                    'ResourceNotFoundException',
                    `Function not found: ${req.pathParams.FunctionName}`,
                    404,
                  );
                }
                return {
                  body: {
                    Configuration: { FunctionName: req.pathParams.FunctionName, Description: ctx.accountId },
                  },
                };
              },
            },
          ],
        },
      ],
    },
  });
  const lambda = new LambdaClient({ ...srv.clientConfig, credentials: ALICE });
  const wrong = new LambdaClient({ ...srv.clientConfig, credentials: { ...ALICE, secretAccessKey: 'bad' } });
  const unknown = new LambdaClient({
    ...srv.clientConfig,
    credentials: { accessKeyId: 'AKIAX', secretAccessKey: 'x' },
  });
  try {
    const name = 'arn:aws:lambda:us-east-1:111111111111:function:my fn:prod';
    const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.Configuration?.FunctionName, name);
    assert.equal(got.Configuration?.Description, '111111111111');
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'missing' })), (e: any) => {
      assert.equal(e.name, 'ResourceNotFoundException');
      assert.equal(e.message, 'Function not found: missing');
      assert.equal(e.$metadata.httpStatusCode, 404);
      return true;
    });
    await assert.rejects(wrong.send(new GetFunctionCommand({ FunctionName: 'f' })), (e: any) => {
      assert.equal(e.name, 'InvalidSignatureException');
      assert.equal(e.$metadata.httpStatusCode, 403);
      return true;
    });
    await assert.rejects(unknown.send(new GetFunctionCommand({ FunctionName: 'f' })), {
      name: 'UnrecognizedClientException',
    });
  } finally {
    for (const c of [lambda, wrong, unknown]) c.destroy();
  }
});
