import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.js';
import { Auth, parseSigV4 } from './auth.js';

const q = (s = '') => new URLSearchParams(s);
const req = { method: 'GET', path: '/', query: q(), headers: {}, body: Buffer.alloc(0) };

test('parseSigV4 reads the header and the presigned forms, and reports malformed ones', () => {
  const h = parseSigV4(
    {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIA1/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc',
      'x-amz-date': '20260101T000000Z',
    },
    q(),
  );
  assert.deepEqual(h, {
    form: 'header',
    accessKeyId: 'AKIA1',
    scopeDate: '20260101',
    region: 'eu-west-1',
    service: 'sqs',
    signedHeaders: ['host', 'x-amz-date'],
    signature: 'abc',
    amzDate: '20260101T000000Z',
    sessionToken: undefined,
  });
  const p = parseSigV4(
    {},
    q(
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA1%2F20260101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=ff',
    ),
  );
  assert.equal(p?.form, 'query');
  assert.equal(p?.service, 'sts');
  assert.equal(p?.expiresSec, 60);
  assert.equal(parseSigV4({}, q('Action=X')), undefined);
  assert.throws(() => parseSigV4({ authorization: 'Basic abc' }, q()), {
    code: 'IncompleteSignatureException',
  });
  assert.throws(
    () => parseSigV4({ authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request' }, q()),
    {
      code: 'IncompleteSignatureException',
    },
  );
  assert.throws(
    () =>
      parseSigV4({ authorization: 'AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x' }, q()),
    { code: 'IncompleteSignatureException' },
  );
});

test('parseSigV4 header form: parts trimmed, any order, a later duplicate wins, empty values are missing', () => {
  const h = parseSigV4(
    {
      authorization:
        'AWS4-HMAC-SHA256 Signature=old ,SignedHeaders = host;x-amz-target,Other=1,, Credential=K/20260101/us-west-2/dynamodb/aws4_request , Signature=sig,',
      'x-amz-security-token': 'tok',
    },
    q(),
  );
  assert.deepEqual(h, {
    form: 'header',
    accessKeyId: 'K',
    scopeDate: '20260101',
    region: 'us-west-2',
    service: 'dynamodb',
    signedHeaders: ['host', 'x-amz-target'],
    signature: 'sig',
    amzDate: '',
    sessionToken: 'tok',
  });
  const authz = 'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=';
  assert.throws(() => parseSigV4({ authorization: authz }, q()), {
    code: 'IncompleteSignatureException',
    message: `Authorization header requires 'Signature' parameter. Authorization=${authz}`,
  });
  const noHeaders = 'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, =x, SignedHeaders';
  assert.throws(() => parseSigV4({ authorization: noHeaders }, q()), {
    message: `Authorization header requires 'SignedHeaders' parameter. Authorization=${noHeaders}`,
  });
  assert.throws(() => parseSigV4({ authorization: 'AWS4-HMAC-SHA256 ' }, q()), {
    message: "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 ",
  });
  assert.throws(
    () =>
      parseSigV4(
        {
          authorization:
            'AWS4-HMAC-SHA256 Credential=a/b/c/d/e/aws4_request, SignedHeaders=host, Signature=x',
        },
        q(),
      ),
    { message: 'Credential should be scoped to a valid region. Credential=a/b/c/d/e/aws4_request' },
  );
});

test('dev mode: unknown or missing keys are account 000000000000, known keys keep their account', async () => {
  const auth = new Auth({
    mode: 'dev',
    keys: [{ accessKeyId: 'AKIA1', secretAccessKey: 's', accountId: '111111111111' }],
    clock: new ManualClock(),
  });
  assert.equal((await auth.authenticate(req, undefined, 'json')).accountId, '000000000000');
  const sig = parseSigV4(
    {
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIA1/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x',
    },
    q(),
  );
  assert.equal((await auth.authenticate(req, sig, 'query')).accountId, '111111111111');
});

test('strict mode: missing credentials per protocol; issued credentials expire', async () => {
  const clock = new ManualClock();
  const auth = new Auth({ mode: 'strict', keys: [], clock });
  await assert.rejects(auth.authenticate(req, undefined, 'query'), {
    code: 'MissingAuthenticationToken',
    message: 'Request is missing Authentication Token',
  });
  await assert.rejects(auth.authenticate(req, undefined, 'rest-json'), {
    code: 'MissingAuthenticationTokenException',
    status: 403,
  });
  const creds = auth.issueCredentials('333333333333', { ttlMs: 1000 });
  assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.equal(creds.expiration.getTime(), clock.now() + 1000);
  assert.equal(auth.principalFor(creds.accessKeyId, 'x').accountId, '333333333333');
  clock.advance(1001);
  assert.equal(auth.principalFor(creds.accessKeyId, '000000000000').accountId, '000000000000');
  const sig = parseSigV4(
    {
      authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/20260101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=x`,
    },
    q(),
  );
  await assert.rejects(auth.authenticate(req, sig, 'json'), {
    code: 'UnrecognizedClientException',
    status: 400,
  });
});

test('strict mode: a signed body hash must match the body', async () => {
  const auth = new Auth({
    mode: 'strict',
    keys: [{ accessKeyId: 'AKIA1', secretAccessKey: 's', accountId: '111111111111' }],
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
  });
  const headers = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIA1/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=x',
    'x-amz-date': '20260101T000000Z',
    'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    host: 'localhost',
  };
  const sig = parseSigV4(headers, q());
  await assert.rejects(
    auth.authenticate({ ...req, headers, body: Buffer.from('tampered') }, sig, 'rest-json'),
    {
      code: 'XAmzContentSHA256Mismatch',
    },
  );
  // The right body gets as far as the signature check.
  await assert.rejects(auth.authenticate({ ...req, headers }, sig, 'rest-json'), {
    code: 'InvalidSignatureException',
  });
});
