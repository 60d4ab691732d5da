import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createVerify } from 'node:crypto';
import { generateSigningKey, signMessage, stringToSign } from './signing.js';
import { retryDelayMs, DEFAULT_HTTP_RETRY, MANAGED_RETRY, parseRetryPolicy } from './model.js';

const key = generateSigningKey(Date.UTC(2026, 0, 1));

test('the generated certificate is a valid self-signed X.509 certificate', () => {
  const cert = new X509Certificate(key.certificatePem);
  assert.match(cert.subject, /CN=sns\.nimbus\.local/);
  assert.ok(cert.verify(cert.publicKey), 'self-signature verifies');
  assert.ok(new Date(cert.validTo).getTime() > Date.UTC(2035, 0, 1));
});

test('notification string to sign follows the AWS field order; Subject only when present', () => {
  const m = {
    Type: 'Notification',
    MessageId: 'id-1',
    TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
    Message: 'hi',
    Timestamp: '2026-01-01T00:00:00.000Z',
  };
  assert.equal(
    stringToSign(m),
    'Message\nhi\nMessageId\nid-1\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nNotification\n',
  );
  assert.match(stringToSign({ ...m, Subject: 's' }), /MessageId\nid-1\nSubject\ns\nTimestamp/);
  const c = { ...m, Type: 'SubscriptionConfirmation', Token: 'tok', SubscribeURL: 'http://x/' };
  assert.equal(
    stringToSign(c),
    'Message\nhi\nMessageId\nid-1\nSubscribeURL\nhttp://x/\nTimestamp\n2026-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\narn:aws:sns:us-east-1:000000000000:t\nType\nSubscriptionConfirmation\n',
  );
});

test('signatures verify with the certificate: version 1 SHA1, version 2 SHA256', () => {
  const m = { Type: 'Notification', MessageId: 'x', TopicArn: 'arn', Message: 'm', Timestamp: 't' };
  for (const [v, alg] of [
    ['1', 'RSA-SHA1'],
    ['2', 'RSA-SHA256'],
  ] as const) {
    const sig = signMessage(key, m, v);
    assert.ok(createVerify(alg).update(stringToSign(m)).verify(key.certificatePem, sig, 'base64'));
    assert.ok(
      !createVerify(alg)
        .update(stringToSign({ ...m, Message: 'n' }))
        .verify(key.certificatePem, sig, 'base64'),
    );
  }
});

test('delivery policy retry delays', () => {
  assert.deepEqual(
    [1, 2, 3].map((r) => retryDelayMs(DEFAULT_HTTP_RETRY, r)),
    [20_000, 20_000, 20_000],
  );
  const p = parseRetryPolicy({
    minDelayTarget: 1,
    maxDelayTarget: 10,
    numRetries: 6,
    numNoDelayRetries: 1,
    numMinDelayRetries: 1,
    numMaxDelayRetries: 1,
    backoffFunction: 'linear',
  });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((r) => retryDelayMs(p, r)),
    [0, 1000, 1000, 5500, 10_000, 10_000],
  );
  assert.equal(retryDelayMs(MANAGED_RETRY, 1), 0);
  assert.equal(retryDelayMs(MANAGED_RETRY, 4), 1000);
  assert.equal(retryDelayMs(MANAGED_RETRY, 1000), 20_000);
  assert.throws(() => parseRetryPolicy({ minDelayTarget: 5, maxDelayTarget: 1 }), /minDelayTarget/);
});
