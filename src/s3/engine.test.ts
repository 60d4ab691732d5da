import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { openStore, type Store } from '../storage/index.js';
import { S3Engine } from './engine.js';
import { isValidBucketName } from './model.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };

async function withEngine(fn: (e: S3Engine, store: Store) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-s3-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  const store = await openStore({ storage: 'sqlite', dataDir: dir }, clock, silentLogger);
  try {
    await fn(new S3Engine({ store, clock, logger: silentLogger }), store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('bucket names follow AWS rules', () => {
  for (const ok of ['abc', 'my-bucket.logs', 'a1b2c3', 'x'.repeat(63)]) assert.ok(isValidBucketName(ok), ok);
  for (const bad of ['ab', 'ABC', 'a_b', '-ab', 'ab-', 'a..b', 'a.-b', '10.0.0.1', 'xn--ab', 'ab-s3alias'])
    assert.ok(!isValidBucketName(bad), bad);
});

test('listing: pages resume after a common prefix, overwrites replace the body blob', async () => {
  await withEngine(async (s3, store) => {
    await s3.createBucket(scope, 'bk1');
    for (const k of ['a/1', 'a/2', 'a/3', 'b', 'c/1', 'd'])
      await s3.putObject(scope, 'bk1', k, Buffer.from(k));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await s3.listObjects(scope, 'bk1', { delimiter: '/', maxKeys: 1, after });
      seen.push(...page.commonPrefixes, ...page.contents.map((c) => c.key));
      if (!page.isTruncated) break;
      after = page.last;
    }
    assert.deepEqual(seen, ['a/', 'b', 'c/', 'd']);

    const first = await s3.headObject(scope, 'bk1', 'b');
    await s3.putObject(scope, 'bk1', 'b', Buffer.from('second'));
    const { record, data } = await s3.getObject(scope, 'bk1', 'b');
    assert.equal(data.toString(), 'second');
    assert.notEqual(record.blob, first.blob);
    assert.equal(await store.blobs.has(first.blob), false);
    await assert.rejects(s3.deleteBucket(scope, 'bk1'), { code: 'BucketNotEmpty' });
  });
});
