/**
 * S3 through a real Nimbus and the real @aws-sdk/client-s3: path-style and virtual-hosted
 * addressing, the SDK's default checksums (headers and aws-chunked trailers), conditional and
 * ranged reads, listings with pagination, multipart uploads, and S3's XML errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  S3Client,
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';

async function expectError(p: Promise<unknown>, name: string | undefined, status: number, message?: string) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    if (name !== undefined) assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

const md5 = (b: Buffer | string) => `"${createHash('md5').update(b).digest('hex')}"`;

/** `*.localhost` names resolve to 127.0.0.1 (glibc does not resolve them by itself). */
function localhostAgent(): Agent {
  return new Agent({
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
      if (opts?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
    }) as never,
  });
}

function rawGet(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('S3 through the real SDK', async (t) => {
  await using srv = await startTestServer();
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  const vhostEndpoint = srv.endpoint.replace('127.0.0.1', 'localhost');
  const vhost = new S3Client({
    ...srv.clientConfig,
    endpoint: vhostEndpoint,
    requestHandler: new NodeHttpHandler({ httpAgent: localhostAgent() }),
  });
  const eu = new S3Client({ ...srv.clientConfig, region: 'eu-west-1', forcePathStyle: true });
  t.after(() => {
    s3.destroy();
    vhost.destroy();
    eu.destroy();
  });

  await t.test('buckets: create, invalid names, owned-by-you, list, head, location', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    // us-east-1 answers 200 to re-creating your own bucket (AWS's legacy behaviour) ...
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await eu.send(
      new CreateBucketCommand({
        Bucket: 'beta.eu',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    // ... every other region answers BucketAlreadyOwnedByYou.
    await expectError(
      eu.send(
        new CreateBucketCommand({
          Bucket: 'beta.eu',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
      'BucketAlreadyOwnedByYou',
      409,
      'Your previous request to create the named bucket succeeded and you already own it.',
    );
    for (const bad of ['ab', 'Upper', 'has_underscore', '-dash', 'a..b', '192.168.1.1', 'x'.repeat(64)]) {
      await expectError(
        s3.send(new CreateBucketCommand({ Bucket: bad })),
        'InvalidBucketName',
        400,
        'The specified bucket is not valid.',
      );
    }
    const list = await s3.send(new ListBucketsCommand({}));
    assert.deepEqual(
      list.Buckets?.map((b) => b.Name),
      ['alpha', 'beta.eu'],
    );
    assert.ok(list.Buckets![0].CreationDate instanceof Date);
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'beta.eu' }));
    assert.equal(head.BucketRegion, 'eu-west-1');
    await expectError(s3.send(new HeadBucketCommand({ Bucket: 'nope-bucket' })), 'NotFound', 404);
    assert.equal(
      (await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha' }))).LocationConstraint,
      undefined,
    );
    assert.equal(
      (await s3.send(new GetBucketLocationCommand({ Bucket: 'beta.eu' }))).LocationConstraint,
      'eu-west-1',
    );
  });

  await t.test(
    'PutObject / GetObject / HeadObject: metadata, headers, ETag, the default checksums',
    async () => {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: 'alpha',
          Key: 'docs/hello world.txt',
          Body: 'hello, s3',
          ContentType: 'text/plain',
          CacheControl: 'max-age=60',
          Metadata: { Owner: 'team-a', purpose: 'test' },
        }),
      );
      assert.equal(put.ETag, md5('hello, s3'));
      // The current SDK sends a CRC32 of the body by default; S3 echoes it.
      assert.ok(put.ChecksumCRC32, 'the SDK sent a default checksum');
      const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'docs/hello world.txt' }));
      assert.equal(await got.Body!.transformToString(), 'hello, s3');
      assert.equal(got.ContentType, 'text/plain');
      assert.equal(got.CacheControl, 'max-age=60');
      assert.equal(got.ContentLength, 9);
      assert.equal(got.ETag, md5('hello, s3'));
      assert.deepEqual(got.Metadata, { owner: 'team-a', purpose: 'test' });
      assert.ok(got.LastModified instanceof Date);
      assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'docs/hello world.txt' }));
      assert.equal(head.ContentLength, 9);
      assert.equal(head.ETag, md5('hello, s3'));

      // Other algorithms, including streaming bodies the SDK sends aws-chunked with a trailer.
      for (const alg of ['CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const) {
        const r = await s3.send(
          new PutObjectCommand({
            Bucket: 'alpha',
            Key: `sum/${alg}`,
            Body: `body ${alg}`,
            ChecksumAlgorithm: alg,
          }),
        );
        assert.equal(r.ETag, md5(`body ${alg}`), alg);
      }
      const big = Buffer.alloc(200_000, 'z');
      const streamed = await s3.send(
        new PutObjectCommand({
          Bucket: 'alpha',
          Key: 'streamed.bin',
          Body: Readable.from([big.subarray(0, 70_000), big.subarray(70_000)]),
          ContentLength: big.length,
        }),
      );
      assert.equal(streamed.ETag, md5(big));
      // A stream goes aws-chunked with the CRC32 in a trailer: decoded, checked and echoed.
      assert.ok(streamed.ChecksumCRC32);
      const back = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'streamed.bin' }));
      assert.deepEqual(Buffer.from(await back.Body!.transformToByteArray()), big);
    },
  );

  await t.test('integrity failures: Content-MD5 -> BadDigest, wrong checksum -> BadDigest', async () => {
    await expectError(
      s3.send(
        new PutObjectCommand({
          Bucket: 'alpha',
          Key: 'bad',
          Body: 'abc',
          ContentMD5: createHash('md5').update('abd').digest('base64'),
        }),
      ),
      'BadDigest',
      400,
      'The Content-MD5 you specified did not match what we received.',
    );
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'bad', Body: 'abc', ChecksumCRC32: 'AAAAAA==' })),
      'BadDigest',
      400,
    );
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'bad' })), 'NotFound', 404);
  });

  await t.test('ranges and conditional reads', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'digits', Body: '0123456789' }));
    const r = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', Range: 'bytes=2-5' }));
    assert.equal(await r.Body!.transformToString(), '2345');
    assert.equal(r.ContentRange, 'bytes 2-5/10');
    assert.equal(r.ContentLength, 4);
    const tail = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', Range: 'bytes=-3' }));
    assert.equal(await tail.Body!.transformToString(), '789');
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', Range: 'bytes=20-' })),
      'InvalidRange',
      416,
    );
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', IfNoneMatch: md5('0123456789') })),
      undefined, // a 304 has no body: the SDK names the error after nothing, as against AWS
      304,
    );
    const later = new Date(Date.now() + 60_000);
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', IfModifiedSince: later })),
      undefined, // a 304 has no body: the SDK names the error after nothing, as against AWS
      304,
    );
    const earlier = new Date(Date.now() - 3600_000);
    const fresh = await s3.send(
      new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', IfModifiedSince: earlier }),
    );
    assert.equal(await fresh.Body!.transformToString(), '0123456789');
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'digits', IfMatch: '"nope"' })),
      'PreconditionFailed',
      412,
    );
  });

  await t.test('errors are S3 XML: NoSuchKey, NoSuchBucket', async () => {
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'missing' })),
      'NoSuchKey',
      404,
      'The specified key does not exist.',
    );
    await expectError(
      s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
      'NoSuchBucket',
      404,
      'The specified bucket does not exist',
    );
    await expectError(
      s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
      'NoSuchBucket',
      404,
    );
  });

  await t.test('CopyObject (COPY and REPLACE), DeleteObject, DeleteObjects', async () => {
    const c = await s3.send(
      new CopyObjectCommand({
        Bucket: 'beta.eu',
        Key: 'copy.txt',
        CopySource: 'alpha/docs/hello%20world.txt',
      }),
    );
    assert.equal(c.CopyObjectResult?.ETag, md5('hello, s3'));
    const copied = await s3.send(new GetObjectCommand({ Bucket: 'beta.eu', Key: 'copy.txt' }));
    assert.equal(await copied.Body!.transformToString(), 'hello, s3');
    assert.deepEqual(copied.Metadata, { owner: 'team-a', purpose: 'test' });
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'beta.eu',
        Key: 'copy.txt',
        CopySource: 'beta.eu/copy.txt',
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        Metadata: { fresh: 'yes' },
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'beta.eu', Key: 'copy.txt' }));
    assert.deepEqual(replaced.Metadata, { fresh: 'yes' });
    assert.equal(replaced.ContentType, 'application/json');
    await expectError(
      s3.send(new CopyObjectCommand({ Bucket: 'alpha', Key: 'x', CopySource: 'alpha/missing' })),
      'NoSuchKey',
      404,
    );

    await s3.send(new DeleteObjectCommand({ Bucket: 'beta.eu', Key: 'copy.txt' }));
    // Deleting a missing key succeeds (204), as in S3.
    await s3.send(new DeleteObjectCommand({ Bucket: 'beta.eu', Key: 'copy.txt' }));
    await expectError(
      s3.send(new HeadObjectCommand({ Bucket: 'beta.eu', Key: 'copy.txt' })),
      'NotFound',
      404,
    );

    for (const k of ['d/1', 'd/2', 'd/3'])
      await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: k, Body: k }));
    const del = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'alpha',
        Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/2' }, { Key: 'd/never' }] },
      }),
    );
    assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ['d/1', 'd/2', 'd/never']);
    assert.equal(del.Errors, undefined);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'alpha', Prefix: 'd/' }));
    assert.deepEqual(
      left.Contents?.map((o) => o.Key),
      ['d/3'],
    );
  });

  await t.test('ListObjectsV2 / ListObjects: prefix, delimiter, pagination, start-after', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) keys.push(`logs/2024/${String(i).padStart(2, '0')}.log`);
    keys.push('logs/2025/a.log', 'logs/2025/b.log', 'logs/top.log', 'readme.md', 'z/é.txt');
    await Promise.all(keys.map((k) => s3.send(new PutObjectCommand({ Bucket: 'listing', Key: k, Body: k }))));

    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'listing', MaxKeys: 5, ContinuationToken: token }),
      );
      pages++;
      assert.equal(page.KeyCount, page.Contents?.length ?? 0);
      all.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.equal(pages, 4);
    assert.deepEqual(
      all,
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );

    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    assert.deepEqual(
      top.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/', 'z/'],
    );
    assert.deepEqual(
      top.Contents?.map((o) => o.Key),
      ['readme.md'],
    );
    const logs = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'logs/', Delimiter: '/' }),
    );
    assert.deepEqual(
      logs.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/2024/', 'logs/2025/'],
    );
    assert.deepEqual(
      logs.Contents?.map((o) => o.Key),
      ['logs/top.log'],
    );
    // Common prefixes count toward MaxKeys and pages resume after them.
    const p1 = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'logs/', Delimiter: '/', MaxKeys: 1 }),
    );
    assert.deepEqual(
      p1.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/2024/'],
    );
    assert.equal(p1.IsTruncated, true);
    const p2 = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'listing',
        Prefix: 'logs/',
        Delimiter: '/',
        MaxKeys: 1,
        ContinuationToken: p1.NextContinuationToken,
      }),
    );
    assert.deepEqual(
      p2.CommonPrefixes?.map((p) => p.Prefix),
      ['logs/2025/'],
    );
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'logs/top.log' }));
    assert.deepEqual(
      after.Contents?.map((o) => o.Key),
      ['readme.md', 'z/é.txt'],
    );
    const v1 = await s3.send(
      new ListObjectsCommand({ Bucket: 'listing', Prefix: 'logs/2024/', MaxKeys: 10 }),
    );
    assert.equal(v1.Contents?.length, 10);
    assert.equal(v1.IsTruncated, true);
    const v1b = await s3.send(
      new ListObjectsCommand({ Bucket: 'listing', Prefix: 'logs/2024/', Marker: v1.Contents![9].Key }),
    );
    assert.deepEqual(
      v1b.Contents?.map((o) => o.Key),
      ['logs/2024/10.log', 'logs/2024/11.log'],
    );
    await expectError(
      s3.send(new DeleteBucketCommand({ Bucket: 'listing' })),
      'BucketNotEmpty',
      409,
      'The bucket you tried to delete is not empty',
    );
    const del = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'listing',
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    assert.equal(del.Deleted, undefined);
    await s3.send(new DeleteBucketCommand({ Bucket: 'listing' }));
    await expectError(s3.send(new HeadBucketCommand({ Bucket: 'listing' })), 'NotFound', 404);
  });

  await t.test('multipart upload: parts, `-N` ETag, abort, EntityTooSmall, NoSuchUpload', async () => {
    const partA = Buffer.alloc(5 * 1024 * 1024, 'a');
    const partB = Buffer.from('the tail');
    const up = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'alpha', Key: 'big.bin', ContentType: 'application/x-big' }),
    );
    assert.ok(up.UploadId);
    const e1 = await s3.send(
      new UploadPartCommand({
        Bucket: 'alpha',
        Key: 'big.bin',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: partA,
      }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({
        Bucket: 'alpha',
        Key: 'big.bin',
        UploadId: up.UploadId,
        PartNumber: 2,
        Body: partB,
      }),
    );
    assert.equal(e1.ETag, md5(partA));
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'alpha',
        Key: 'big.bin',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    const md5s = Buffer.concat([partA, partB].map((p) => createHash('md5').update(p).digest()));
    assert.equal(done.ETag, `"${createHash('md5').update(md5s).digest('hex')}-2"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'alpha', Key: 'big.bin' }));
    assert.equal(got.ContentType, 'application/x-big');
    assert.equal(got.ContentLength, partA.length + partB.length);
    const body = Buffer.from(await got.Body!.transformToByteArray());
    assert.ok(body.equals(Buffer.concat([partA, partB])));
    await expectError(
      s3.send(
        new UploadPartCommand({
          Bucket: 'alpha',
          Key: 'big.bin',
          UploadId: up.UploadId,
          PartNumber: 3,
          Body: 'x',
        }),
      ),
      'NoSuchUpload',
      404,
    );

    const small = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'alpha', Key: 'small.bin' }));
    const s1 = await s3.send(
      new UploadPartCommand({
        Bucket: 'alpha',
        Key: 'small.bin',
        UploadId: small.UploadId,
        PartNumber: 1,
        Body: 'x',
      }),
    );
    const s2 = await s3.send(
      new UploadPartCommand({
        Bucket: 'alpha',
        Key: 'small.bin',
        UploadId: small.UploadId,
        PartNumber: 2,
        Body: 'y',
      }),
    );
    await expectError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'alpha',
          Key: 'small.bin',
          UploadId: small.UploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: s1.ETag },
              { PartNumber: 2, ETag: s2.ETag },
            ],
          },
        }),
      ),
      'EntityTooSmall',
      400,
    );
    await expectError(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'alpha',
          Key: 'small.bin',
          UploadId: small.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"0000"' }] },
        }),
      ),
      'InvalidPart',
      400,
    );
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: 'alpha', Key: 'small.bin', UploadId: small.UploadId }),
    );
    await expectError(
      s3.send(
        new AbortMultipartUploadCommand({ Bucket: 'alpha', Key: 'small.bin', UploadId: small.UploadId }),
      ),
      'NoSuchUpload',
      404,
    );
    await expectError(s3.send(new HeadObjectCommand({ Bucket: 'alpha', Key: 'small.bin' })), 'NotFound', 404);
  });

  await t.test('virtual-hosted addressing (bucket.localhost) with the default client settings', async () => {
    await vhost.send(new CreateBucketCommand({ Bucket: 'vhosted' }));
    const put = await vhost.send(
      new PutObjectCommand({ Bucket: 'vhosted', Key: 'a/b.txt', Body: 'via host' }),
    );
    assert.equal(put.ETag, md5('via host'));
    const got = await vhost.send(new GetObjectCommand({ Bucket: 'vhosted', Key: 'a/b.txt' }));
    assert.equal(await got.Body!.transformToString(), 'via host');
    const list = await vhost.send(new ListObjectsV2Command({ Bucket: 'vhosted' }));
    assert.deepEqual(
      list.Contents?.map((o) => o.Key),
      ['a/b.txt'],
    );
    // The same object through path style.
    const again = await s3.send(new GetObjectCommand({ Bucket: 'vhosted', Key: 'a/b.txt' }));
    assert.equal(await again.Body!.transformToString(), 'via host');
    // A raw request with a `{bucket}.s3.{anything}` Host.
    const res = await rawGet(srv.nimbus.port, '/a/b.txt', 'vhosted.s3.nimbus.test');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'via host');
    await expectError(vhost.send(new GetObjectCommand({ Bucket: 'vhosted', Key: 'zz' })), 'NoSuchKey', 404);
  });

  await t.test('other services still route: Lambda REST-JSON, unsigned paths are not S3', async () => {
    const lambda = new LambdaClient(srv.clientConfig);
    try {
      const fns = await lambda.send(new ListFunctionsCommand({}));
      assert.deepEqual(fns.Functions, []);
    } finally {
      lambda.destroy();
    }
    const res = await fetch(`${srv.endpoint}/alpha/digits`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-amzn-errortype'), 'UnknownOperationException');
    await res.arrayBuffer();
  });
});
