/**
 * SNS to HTTP endpoints with a real receiver that verifies every message the way the AWS
 * docs describe (fetch SigningCertURL, rebuild the string to sign, RSA-SHA1 for
 * SignatureVersion 1 and RSA-SHA256 for 2), confirms through SubscribeURL, and can fail on
 * purpose to exercise the delivery policy's retries (on a virtual clock) and the redrive DLQ.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createVerify, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  SNSClient,
  CreateTopicCommand,
  SubscribeCommand,
  PublishCommand,
  ListSubscriptionsByTopicCommand,
  GetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
} from '@aws-sdk/client-sns';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { OffsetClock } from '../../src/core/clock.js';
import { startTestServer } from '../helpers/server.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, string>;
  verified: boolean;
}

/** The AWS-documented verification, written independently of Nimbus's signer. */
async function verify(msg: Record<string, string>, trustedPrefix: string): Promise<boolean> {
  if (!msg.SigningCertURL?.startsWith(trustedPrefix)) return false;
  const pem = await (await fetch(msg.SigningCertURL)).text();
  new X509Certificate(pem); // must parse as a certificate
  const keys =
    msg.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  let text = '';
  for (const k of keys) if (msg[k] !== undefined) text += `${k}\n${msg[k]}\n`;
  const alg = msg.SignatureVersion === '2' ? 'RSA-SHA256' : 'RSA-SHA1';
  return createVerify(alg).update(text, 'utf8').verify(pem, msg.Signature, 'base64');
}

async function receiver(trustedPrefix: () => string) {
  const got: Received[] = [];
  let status = 200;
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, string>;
      try {
        body = JSON.parse(text);
      } catch {
        body = { raw: text };
      }
      const verified = body.Signature ? await verify(body, trustedPrefix()) : false;
      got.push({ headers: req.headers, body, verified });
      res.writeHead(body.Type === 'SubscriptionConfirmation' ? 200 : status).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    setStatus(s: number) {
      status = s;
    },
    async waitFor(n: number, ms = 5000) {
      const deadline = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} requests arrived`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('HTTP: confirmation through SubscribeURL, signed notifications (v1 and v2), UnsubscribeURL', async () => {
  await using srv = await startTestServer();
  const sns = new SNSClient(srv.clientConfig);
  const rx = await receiver(() => `${srv.endpoint}/`);
  try {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'web' }));
    const sub = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: rx.url }));
    assert.equal(sub.SubscriptionArn, 'pending confirmation');
    await rx.waitFor(1);
    const conf = rx.got[0];
    assert.equal(conf.headers['x-amz-sns-message-type'], 'SubscriptionConfirmation');
    assert.equal(conf.headers['x-amz-sns-topic-arn'], TopicArn);
    assert.equal(conf.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(conf.body.Type, 'SubscriptionConfirmation');
    assert.ok(conf.verified, 'the confirmation signature verifies');
    const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    assert.equal(listed.Subscriptions?.[0].SubscriptionArn, 'PendingConfirmation');
    // Nothing is delivered before confirmation.
    await sns.send(new PublishCommand({ TopicArn, Message: 'too early' }));

    const visit = await fetch(conf.body.SubscribeURL);
    assert.equal(visit.status, 200);
    const xml = await visit.text();
    const arn = /<SubscriptionArn>([^<]+)<\/SubscriptionArn>/.exec(xml)?.[1];
    assert.match(arn ?? '', new RegExp(`^${TopicArn}:`));
    const attrs = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }));
    assert.equal(attrs.Attributes?.PendingConfirmation, 'false');

    await sns.send(new PublishCommand({ TopicArn, Message: 'hello', Subject: 'greeting' }));
    await rx.waitFor(2);
    const n = rx.got[1];
    assert.equal(n.body.Message, 'hello', 'the message published before confirmation was not delivered');
    assert.equal(n.headers['x-amz-sns-message-type'], 'Notification');
    assert.equal(n.headers['x-amz-sns-subscription-arn'], arn);
    assert.equal(n.headers['x-amz-sns-message-id'], n.body.MessageId);
    assert.equal(n.headers['user-agent'], 'Amazon Simple Notification Service Agent');
    assert.equal(n.body.SignatureVersion, '1');
    assert.ok(n.verified, 'SignatureVersion 1 verifies');

    await sns.send(
      new SetTopicAttributesCommand({ TopicArn, AttributeName: 'SignatureVersion', AttributeValue: '2' }),
    );
    await new Promise((r) => setTimeout(r, 1100)); // the delivery side caches topic attributes for 1 s
    await sns.send(new PublishCommand({ TopicArn, Message: 'v2' }));
    await rx.waitFor(3);
    assert.equal(rx.got[2].body.SignatureVersion, '2');
    assert.ok(rx.got[2].verified, 'SignatureVersion 2 verifies');

    // A tampered message does not verify.
    assert.equal(await verify({ ...rx.got[2].body, Message: 'forged' }, `${srv.endpoint}/`), false);

    // The UnsubscribeURL works without credentials.
    const un = await fetch(n.body.UnsubscribeURL);
    assert.equal(un.status, 200);
    await assert.rejects(sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn })), {
      name: 'NotFoundException',
    });
  } finally {
    sns.destroy();
    await rx.close();
  }
});

test('HTTP: failures retry per the DeliveryPolicy on the virtual clock, then go to the DLQ', async () => {
  const clock = new OffsetClock();
  await using srv = await startTestServer({ start: { clock } });
  const sns = new SNSClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const rx = await receiver(() => `${srv.endpoint}/`);
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'http-dlq' }));
    const qa = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'flaky' }));
    const sub = await sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: 'http',
        Endpoint: rx.url,
        ReturnSubscriptionArn: true,
        Attributes: {
          DeliveryPolicy: JSON.stringify({
            healthyRetryPolicy: {
              numRetries: 2,
              minDelayTarget: 30,
              maxDelayTarget: 30,
              backoffFunction: 'linear',
            },
          }),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: qa.Attributes?.QueueArn }),
        },
      }),
    );
    assert.match(sub.SubscriptionArn as string, /^arn:aws:sns:/);
    await rx.waitFor(1);
    await fetch(rx.got[0].body.SubscribeURL);
    const eff = await sns.send(
      new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.SubscriptionArn }),
    );
    assert.equal(
      JSON.parse(eff.Attributes?.EffectiveDeliveryPolicy as string).healthyRetryPolicy.numRetries,
      2,
    );

    rx.setStatus(500);
    const pub = await sns.send(new PublishCommand({ TopicArn, Message: 'retry me' }));
    await rx.waitFor(2);
    // The retry waits 30 s of Nimbus time: nothing more arrives in real time...
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.got.length, 2);
    // ...until the clock moves.
    clock.advance(30_000);
    await rx.waitFor(3);
    await new Promise((r) => setTimeout(r, 300)); // let the failed attempt be rescheduled first
    clock.advance(30_000);
    await rx.waitFor(4);
    assert.deepEqual(
      rx.got.slice(1).map((g) => g.body.MessageId),
      [pub.MessageId, pub.MessageId, pub.MessageId],
    );
    let dead;
    const deadline = Date.now() + 5000;
    while (!dead && Date.now() < deadline) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
      );
      dead = r.Messages?.[0];
    }
    assert.ok(dead, 'after 1 + 2 attempts the message is in the DLQ');
    assert.equal(JSON.parse(dead.Body as string).MessageId, pub.MessageId);
    assert.equal(dead.MessageAttributes?.ErrorCode?.StringValue, 'HTTP500');
    assert.equal(rx.got.length, 4, 'no further attempts');
  } finally {
    sns.destroy();
    sqs.destroy();
    await rx.close();
  }
});
