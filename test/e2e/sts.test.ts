import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { startTestServer } from '../helpers/server.js';

const KEYS = [
  { accessKeyId: 'AKIAALICE0000000001', secretAccessKey: 'alice-secret', accountId: '111111111111' },
  { accessKeyId: 'AKIABOB00000000000002', secretAccessKey: 'bob-secret', accountId: '222222222222' },
];

test('dev mode: any key is account 000000000000; a configured key keeps its account', async () => {
  const srv = await startTestServer({ auth: { mode: 'dev', keys: [KEYS[0]] } });
  try {
    const sts = new STSClient(srv.clientConfig);
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(me.Account, '000000000000');
    assert.equal(me.Arn, 'arn:aws:iam::000000000000:root');
    assert.equal(me.UserId, '000000000000');
    assert.match(me.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    sts.destroy();

    const alice = new STSClient({
      ...srv.clientConfig,
      credentials: { ...KEYS[0], secretAccessKey: 'wrong is fine in dev' },
    });
    assert.equal((await alice.send(new GetCallerIdentityCommand({}))).Account, '111111111111');
    alice.destroy();

    // An unsigned request in dev mode is the default account too.
    const res = await fetch(srv.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /<Account>000000000000<\/Account>/);
    assert.match(xml, /^<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
    assert.ok(res.headers.get('x-amzn-requestid'));
    assert.equal(res.headers.get('x-amzn-requestid'), res.headers.get('x-amz-request-id'));
  } finally {
    await srv.close();
  }
});

test('strict mode: good keys resolve to their own accounts; bad ones get the Query error codes', async () => {
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: KEYS } });
  const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({ ...srv.clientConfig, credentials });

  const alice = client(KEYS[0]);
  const bob = client(KEYS[1]);
  const a = await alice.send(new GetCallerIdentityCommand({}));
  const b = await bob.send(new GetCallerIdentityCommand({}));
  assert.equal(a.Account, '111111111111');
  assert.equal(a.Arn, 'arn:aws:iam::111111111111:root');
  assert.equal(b.Account, '222222222222');

  const wrongSecret = client({ accessKeyId: KEYS[0].accessKeyId, secretAccessKey: 'nope' });
  await assert.rejects(wrongSecret.send(new GetCallerIdentityCommand({})), (e: any) => {
    assert.equal(e.name, 'SignatureDoesNotMatch');
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.match(e.message, /^The request signature we calculated does not match/);
    return true;
  });
  const unknown = client({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
  await assert.rejects(unknown.send(new GetCallerIdentityCommand({})), (e: any) => {
    assert.equal(e.name, 'InvalidClientTokenId');
    assert.equal(e.message, 'The security token included in the request is invalid.');
    return true;
  });

  const res = await fetch(srv.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  });
  assert.equal(res.status, 403);
  const xml = await res.text();
  assert.match(xml, /<Code>MissingAuthenticationToken<\/Code>/);
  assert.match(xml, /<Message>Request is missing Authentication Token<\/Message>/);

  // Credentials issued by Nimbus (what sandboxes get) work in strict mode, with their session token only.
  const issued = srv.nimbus.auth.issueCredentials('333333333333');
  const sandbox = client(issued);
  const s = await sandbox.send(new GetCallerIdentityCommand({}));
  assert.equal(s.Account, '333333333333');
  assert.match(s.Arn ?? '', /^arn:aws:sts::333333333333:assumed-role\//);
  const noToken = client({ accessKeyId: issued.accessKeyId, secretAccessKey: issued.secretAccessKey });
  await assert.rejects(noToken.send(new GetCallerIdentityCommand({})), { name: 'InvalidClientTokenId' });

  for (const c of [alice, bob, wrongSecret, unknown, sandbox, noToken]) c.destroy();
});

test('AssumeRole and GetSessionToken mint working credentials inside the caller account only', async () => {
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: KEYS } });
  const alice = new STSClient({ ...srv.clientConfig, credentials: KEYS[0] });
  try {
    const assumed = await alice.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::111111111111:role/app/reader',
        RoleSessionName: 'job-1',
      }),
    );
    assert.match(assumed.Credentials?.AccessKeyId ?? '', /^ASIA/);
    assert.ok(assumed.Credentials?.Expiration instanceof Date);
    assert.equal(assumed.AssumedRoleUser?.Arn, 'arn:aws:sts::111111111111:assumed-role/reader/job-1');
    const asRole = new STSClient({
      ...srv.clientConfig,
      credentials: {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      },
    });
    const who = await asRole.send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, '111111111111');
    assert.equal(who.Arn, 'arn:aws:sts::111111111111:assumed-role/reader/job-1');
    asRole.destroy();

    await assert.rejects(
      alice.send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::222222222222:role/x', RoleSessionName: 's1' }),
      ),
      { name: 'AccessDenied' },
    );
    await assert.rejects(
      alice.send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/x', RoleSessionName: 's' }),
      ),
      { name: 'ValidationError' },
    );
    const session = await alice.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.match(session.Credentials?.SessionToken ?? '', /.{20,}/);
  } finally {
    alice.destroy();
  }
});
