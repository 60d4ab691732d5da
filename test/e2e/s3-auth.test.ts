/**
 * S3 under `--auth strict`: requests signed by the real SDK (plain and aws-chunked streaming
 * bodies, keys that need escaping) pass; a wrong secret answers SignatureDoesNotMatch, an
 * unknown key InvalidAccessKeyId; each account sees only its own buckets; presigned GET URLs
 * (X-Amz-Credential in the query) are routed to S3 and verified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  S3Client,
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { startTestServer } from '../helpers/server.js';

const ALICE = {
  accessKeyId: 'AKIAALICE0000000001',
  secretAccessKey: 'alice-secret',
  accountId: '111111111111',
};
const BOB = { accessKeyId: 'AKIABOB00000000002', secretAccessKey: 'bob-secret', accountId: '222222222222' };

async function expectError(p: Promise<unknown>, name: string, status: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

test('S3 with strict SigV4 authentication', async (t) => {
  await using srv = await startTestServer({ auth: { mode: 'strict', keys: [ALICE, BOB] } });
  const client = (creds: { accessKeyId: string; secretAccessKey: string }) =>
    new S3Client({ ...srv.clientConfig, credentials: creds, forcePathStyle: true });
  const alice = client(ALICE);
  const bob = client(BOB);
  const forged = client({ accessKeyId: ALICE.accessKeyId, secretAccessKey: 'wrong' });
  const stranger = client({ accessKeyId: 'AKIANOBODY000000000', secretAccessKey: 'x' });
  t.after(() => [alice, bob, forged, stranger].forEach((c) => c.destroy()));

  await alice.send(new CreateBucketCommand({ Bucket: 'alice-bucket' }));
  await alice.send(new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'plain.txt', Body: 'hi' }));
  await alice.send(
    new PutObjectCommand({
      Bucket: 'alice-bucket',
      Key: 'streamed.txt',
      Body: Readable.from([Buffer.from('stream'), Buffer.from('ed')]),
      ContentLength: 8,
    }),
  );
  await alice.send(
    new PutObjectCommand({ Bucket: 'alice-bucket', Key: 'dir/with space+ü.txt', Body: 'esc' }),
  );
  const esc = await alice.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'dir/with space+ü.txt' }));
  assert.equal(await esc.Body!.transformToString(), 'esc');
  const got = await alice.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'streamed.txt' }));
  assert.equal(await got.Body!.transformToString(), 'streamed');

  await expectError(
    forged.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'plain.txt' })),
    'SignatureDoesNotMatch',
    403,
  );
  await expectError(stranger.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
  await expectError(
    bob.send(new GetObjectCommand({ Bucket: 'alice-bucket', Key: 'plain.txt' })),
    'AccessDenied',
    403,
  );
  await expectError(
    bob.send(new CreateBucketCommand({ Bucket: 'alice-bucket' })),
    'BucketAlreadyExists',
    409,
  );
  assert.deepEqual((await bob.send(new ListBucketsCommand({}))).Buckets ?? [], []);

  // A presigned GET (what getSignedUrl produces): credentials in the query string.
  const url = new URL(srv.endpoint);
  const signer = new SignatureV4({
    credentials: ALICE,
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const presigned = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/alice-bucket/plain.txt',
      headers: { host: url.host },
      query: {},
    }),
    { expiresIn: 300, unsignableHeaders: new Set(['x-amz-content-sha256']) },
  );
  const qs = new URLSearchParams(presigned.query as Record<string, string>).toString();
  const res = await fetch(`${srv.endpoint}/alice-bucket/plain.txt?${qs}`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hi');
  const bad = await fetch(
    `${srv.endpoint}/alice-bucket/plain.txt?${qs.replace(/X-Amz-Signature=[0-9a-f]+/, 'X-Amz-Signature=00')}`,
  );
  assert.equal(bad.status, 403);
  assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});
