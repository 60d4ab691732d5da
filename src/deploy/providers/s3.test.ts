/**
 * AWS::S3::Bucket against a real Nimbus through the real SDK: a generated name, the
 * NotificationConfiguration on create, changed in place on update, S3's validation on a bad
 * one, and delete.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S3Client, GetBucketNotificationConfigurationCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { SQSClient, CreateQueueCommand } from '@aws-sdk/client-sqs';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers } from './index.js';

test('S3::Bucket: NotificationConfiguration on create, in-place update, validation, delete', async () => {
  await using srv = await startTestServer();
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  const sqs = new SQSClient(srv.clientConfig);
  await sqs.send(new CreateQueueCommand({ QueueName: 'a' }));
  await sqs.send(new CreateQueueCommand({ QueueName: 'b' }));
  const arn = (q: string) => `arn:aws:sqs:us-east-1:000000000000:${q}`;
  const ctx = testContext(srv.clientConfig, 'Uploads', 'My-Stack');
  const p = providers['AWS::S3::Bucket'];
  const props1 = {
    NotificationConfiguration: {
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: arn('a'),
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'in/' }] } },
        },
      ],
    },
  };
  const b = await p.create(props1, ctx);
  assert.match(b.physicalId, /^my-stack-uploads-[a-z0-9]{13}$/);
  assert.equal(b.attributes.Arn, `arn:aws:s3:::${b.physicalId}`);
  assert.equal(b.attributes.RegionalDomainName, `${b.physicalId}.s3.us-east-1.amazonaws.com`);
  let got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: b.physicalId }));
  assert.equal(got.QueueConfigurations![0].QueueArn, arn('a'));
  assert.deepEqual(got.QueueConfigurations![0].Filter!.Key!.FilterRules, [{ Name: 'Prefix', Value: 'in/' }]);

  const props2 = {
    NotificationConfiguration: {
      QueueConfigurations: [{ Event: 's3:ObjectRemoved:*', Queue: arn('b') }],
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    },
  };
  const u = await p.update(b.physicalId, props2, { props: props1, attributes: b.attributes }, ctx);
  assert.equal(u.physicalId, b.physicalId);
  got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: b.physicalId }));
  assert.deepEqual(
    got.QueueConfigurations!.map((c) => [c.QueueArn, c.Events]),
    [[arn('b'), ['s3:ObjectRemoved:*']]],
  );
  assert.deepEqual(got.EventBridgeConfiguration, {});

  // Removing the property clears the configuration.
  await p.update(b.physicalId, {}, { props: props2, attributes: b.attributes }, ctx);
  got = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: b.physicalId }));
  assert.equal(got.QueueConfigurations, undefined);

  // A destination that does not exist fails the update with S3's error.
  await assert.rejects(
    p.update(
      b.physicalId,
      {
        NotificationConfiguration: {
          QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: arn('nope') }],
        },
      },
      { props: {}, attributes: b.attributes },
      ctx,
    ),
    { name: 'InvalidArgument', message: 'Unable to validate the following destination configurations' },
  );
  // ... and a create with it leaves no bucket behind.
  const ctx2 = testContext(srv.clientConfig, 'Bad', 'My-Stack');
  await assert.rejects(
    p.create(
      {
        BucketName: 'bad-bucket',
        NotificationConfiguration: {
          QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: arn('nope') }],
        },
      },
      ctx2,
    ),
    { name: 'InvalidArgument' },
  );
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'bad-bucket' })), { name: 'NotFound' });

  await p.delete(b.physicalId, props2, ctx);
  await p.delete(b.physicalId, props2, ctx);
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: b.physicalId })), { name: 'NotFound' });
});
