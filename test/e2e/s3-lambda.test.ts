/**
 * Lambda code from S3: CreateFunction / UpdateFunctionCode with Code.S3Bucket/S3Key read the
 * zip through the S3 engine (as `sam deploy` leaves it), then Invoke runs it; a missing
 * object answers Lambda's InvalidParameterValueException with S3's error inside.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  LambdaClient,
  CreateFunctionCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { readObject, S3Engine } from '../../src/s3/index.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

function zip(source: string): Buffer {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(source), '', 0o644 << 16);
  return z.toBuffer();
}

test('Lambda code from S3', async (t) => {
  await using srv = await startTestServer();
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => {
    s3.destroy();
    lambda.destroy();
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  const v1 = zip('exports.handler = async (e) => ({ from: "s3", v: 1, got: e });');
  await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'app/v1.zip', Body: v1 }));

  await t.test('CreateFunction from S3Bucket/S3Key, then Invoke', async () => {
    const c = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'from-s3',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { S3Bucket: 'artifacts', S3Key: 'app/v1.zip' },
      }),
    );
    assert.equal(c.CodeSize, v1.length);
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'from-s3', Payload: Buffer.from(JSON.stringify({ n: 7 })) }),
    );
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { from: 's3', v: 1, got: { n: 7 } });
  });

  await t.test('UpdateFunctionCode from S3', async () => {
    const v2 = zip('exports.handler = async () => ({ from: "s3", v: 2 });');
    await s3.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'app/v2.zip', Body: v2 }));
    const u = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'from-s3', S3Bucket: 'artifacts', S3Key: 'app/v2.zip' }),
    );
    assert.equal(u.CodeSize, v2.length);
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'from-s3' }));
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { from: 's3', v: 2 });
  });

  await t.test('a missing object or bucket: InvalidParameterValueException with the S3 error', async () => {
    const create = (bucket: string, key: string) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: 'missing',
          Runtime: 'nodejs20.x',
          Role: ROLE,
          Handler: 'index.handler',
          Code: { S3Bucket: bucket, S3Key: key },
        }),
      );
    await assert.rejects(create('artifacts', 'nope.zip'), (e: Error) => {
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.equal(
        e.message,
        'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
      );
      return true;
    });
    await assert.rejects(create('no-bucket-here', 'x.zip'), (e: Error) => {
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.match(e.message, /S3 Error Code: NoSuchBucket/);
      return true;
    });
  });

  await t.test('readObject (for layers and deployments) reads through the engine', async () => {
    // The engine keeps no state of its own: one over the server's Store sees the same objects.
    const { store, clock, logger } = srv.nimbus;
    const engines = { s3: new S3Engine({ store, clock, logger }) };
    const scope = { accountId: '000000000000', region: 'us-east-1' };
    assert.deepEqual(await readObject(engines, scope, 'artifacts', 'app/v1.zip'), v1);
    await assert.rejects(readObject(engines, scope, 'artifacts', 'nope'), { code: 'NoSuchKey' });
    // Another account does not see this account's bucket.
    await assert.rejects(
      readObject(engines, { ...scope, accountId: '111111111111' }, 'artifacts', 'app/v1.zip'),
      {
        code: 'AccessDenied',
      },
    );
  });
});
