/**
 * Lambda async invocation: EventInvokeConfig API (Lambda's validation), retries of function
 * errors on the virtual clock (1 then 2 minutes), OnSuccess / OnFailure destination records
 * and the DeadLetterConfig fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  InvokeCommand,
  PutFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
  ListFunctionEventInvokeConfigsCommand,
  DeleteFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { SQSClient, CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/r';
const CODE = `let n = 0;
exports.handler = async (event) => {
  n++;
  if (event.fail) throw new Error('boom ' + event.fail);
  return { ok: true, echo: event };
};`;

function zip(): Buffer {
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from(CODE), '', 0o644 << 16);
  return z.toBuffer();
}

async function advance(srv: TestServer, seconds: number): Promise<void> {
  const r = await fetch(`${srv.endpoint}/_nimbus/clock`, {
    method: 'POST',
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  assert.equal(r.status, 200);
}

async function receiveOne(sqs: SQSClient, QueueUrl: string, waitSeconds = 1) {
  const r = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ['All'],
    }),
  );
  return r.Messages?.[0];
}

test('EventInvokeConfig: put, get, update, list, delete and validation', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'cfg',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  await assert.rejects(lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'cfg' })), {
    name: 'ResourceNotFoundException',
    message:
      "The function arn:aws:lambda:us-east-1:000000000000:function:cfg:$LATEST doesn't have an EventInvokeConfig",
  });
  await assert.rejects(
    lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'cfg', MaximumRetryAttempts: 3 })),
    {
      name: 'ValidationException',
      message:
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
    },
  );
  await assert.rejects(
    lambda.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'cfg', MaximumEventAgeInSeconds: 59 }),
    ),
    { name: 'ValidationException', message: /maximumEventAgeInSeconds.*greater than or equal to 60/ },
  );
  await assert.rejects(
    lambda.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'cfg',
        DestinationConfig: {
          OnFailure: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:cfg' },
        },
      }),
    ),
    { name: 'InvalidParameterValueException' },
  );
  await assert.rejects(
    lambda.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'nope', MaximumRetryAttempts: 1 })),
    { name: 'ResourceNotFoundException' },
  );
  const put = await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'cfg',
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } },
    }),
  );
  assert.equal(put.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:cfg:$LATEST');
  assert.equal(put.MaximumRetryAttempts, 1);
  assert.equal(put.MaximumEventAgeInSeconds, undefined);
  assert.ok(put.LastModified instanceof Date);
  assert.deepEqual(put.DestinationConfig, {
    OnSuccess: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' },
    OnFailure: {},
  });
  const upd = await lambda.send(
    new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'cfg', MaximumEventAgeInSeconds: 120 }),
  );
  assert.equal(upd.MaximumRetryAttempts, 1);
  assert.equal(upd.MaximumEventAgeInSeconds, 120);
  const got = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'cfg' }));
  assert.equal(got.MaximumEventAgeInSeconds, 120);
  const list = await lambda.send(new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'cfg' }));
  assert.equal(list.FunctionEventInvokeConfigs?.length, 1);
  await lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'cfg' }));
  await assert.rejects(lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'cfg' })), {
    name: 'ResourceNotFoundException',
  });
  await assert.rejects(
    lambda.send(new UpdateFunctionEventInvokeConfigCommand({ FunctionName: 'cfg', MaximumRetryAttempts: 0 })),
    { name: 'ResourceNotFoundException' },
  );
});

test('async retries follow the clock; destinations get Lambda records; DLQ fallback', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const sqs = new SQSClient(srv.clientConfig);
  const ok = await sqs.send(new CreateQueueCommand({ QueueName: 'on-success' }));
  const bad = await sqs.send(new CreateQueueCommand({ QueueName: 'on-failure' }));
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }));
  const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'worker',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
    }),
  );
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'worker',
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnSuccess: { Destination: arn('on-success') },
        OnFailure: { Destination: arn('on-failure') },
      },
    }),
  );

  // Success: one OnSuccess record.
  const good = await lambda.send(
    new InvokeCommand({ FunctionName: 'worker', InvocationType: 'Event', Payload: Buffer.from('{"n":1}') }),
  );
  assert.equal(good.StatusCode, 202);
  const s = await receiveOne(sqs, ok.QueueUrl!, 10);
  assert.ok(s, 'OnSuccess record');
  const rec = JSON.parse(s.Body!);
  assert.equal(rec.version, '1.0');
  assert.match(rec.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(rec.requestContext, {
    requestId: good.$metadata.requestId,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:worker:$LATEST',
    condition: 'Success',
    approximateInvokeCount: 1,
  });
  assert.deepEqual(rec.requestPayload, { n: 1 });
  assert.deepEqual(rec.responseContext, { statusCode: 200, executedVersion: '$LATEST' });
  assert.deepEqual(rec.responsePayload, { ok: true, echo: { n: 1 } });

  // Failure: 1 try + 2 retries, 60 s then 120 s apart on the virtual clock.
  const failing = await lambda.send(
    new InvokeCommand({
      FunctionName: 'worker',
      InvocationType: 'Event',
      Payload: Buffer.from('{"fail":"x"}'),
    }),
  );
  // The first attempt fails; without moving the clock no retry happens and nothing is reported.
  assert.equal(await receiveOne(sqs, bad.QueueUrl!, 3), undefined);
  await advance(srv, 61);
  assert.equal(await receiveOne(sqs, bad.QueueUrl!, 2), undefined);
  await advance(srv, 121);
  const f = await receiveOne(sqs, bad.QueueUrl!, 10);
  assert.ok(f, 'OnFailure record after the second retry');
  const frec = JSON.parse(f.Body!);
  assert.equal(frec.requestContext.requestId, failing.$metadata.requestId);
  assert.equal(frec.requestContext.condition, 'RetriesExhausted');
  assert.equal(frec.requestContext.approximateInvokeCount, 3);
  assert.deepEqual(frec.requestPayload, { fail: 'x' });
  assert.deepEqual(frec.responseContext, {
    statusCode: 200,
    executedVersion: '$LATEST',
    functionError: 'Unhandled',
  });
  assert.equal(frec.responsePayload.errorType, 'Error');
  assert.equal(frec.responsePayload.errorMessage, 'boom x');

  // An event too old for its next retry is dropped: EventAgeExceeded.
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({
      FunctionName: 'worker',
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: arn('on-failure') } },
    }),
  );
  const old = await lambda.send(
    new InvokeCommand({
      FunctionName: 'worker',
      InvocationType: 'Event',
      Payload: Buffer.from('{"fail":"z"}'),
    }),
  );
  const aged = await receiveOne(sqs, bad.QueueUrl!, 10);
  assert.ok(aged, 'EventAgeExceeded record');
  const arec = JSON.parse(aged.Body!);
  assert.equal(arec.requestContext.requestId, old.$metadata.requestId);
  assert.equal(arec.requestContext.condition, 'EventAgeExceeded');
  assert.equal(arec.requestContext.approximateInvokeCount, 1);

  // No OnFailure destination: the function's DeadLetterConfig gets the event itself.
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'dlq-fn',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip() },
      DeadLetterConfig: { TargetArn: arn('dlq') },
    }),
  );
  await lambda.send(
    new PutFunctionEventInvokeConfigCommand({ FunctionName: 'dlq-fn', MaximumRetryAttempts: 0 }),
  );
  const d = await lambda.send(
    new InvokeCommand({
      FunctionName: 'dlq-fn',
      InvocationType: 'Event',
      Payload: Buffer.from('{"fail":"y"}'),
    }),
  );
  const m = await receiveOne(sqs, dlq.QueueUrl!, 10);
  assert.ok(m, 'dead-letter message');
  assert.equal(m.Body, '{"fail":"y"}');
  assert.equal(m.MessageAttributes?.RequestID?.StringValue, d.$metadata.requestId);
  assert.equal(m.MessageAttributes?.ErrorCode?.StringValue, '200');
  assert.match(m.MessageAttributes?.ErrorMessage?.StringValue ?? '', /boom y/);
});
