/**
 * The SQS event source: receives batches from engines.sqs (up to BatchSize, waiting up to
 * MaximumBatchingWindowInSeconds to fill one), builds Lambda's SQS event, deletes the records
 * that succeeded and leaves the failed ones in flight: they come back after the queue's
 * visibility timeout and follow its redrive policy (maxReceiveCount -> dead-letter queue).
 */
import type { Clock } from '../core/clock.js';
import type { SqsEngine } from '../messaging/sqs/engine.js';
import type { ReceivedMessage } from '../messaging/sqs/model.js';
import type { Batch, BatchSource, EsmRecord } from './esm.js';

const SQS_EVENT_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'SenderId',
  'MessageDeduplicationId',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
];

function scopeOf(m: EsmRecord) {
  return { accountId: m.accountId, region: m.region };
}

/** A message as one record of Lambda's SQS event (test/fixtures/aws-events/sqs-event.json). */
export function sqsRecord(m: EsmRecord, msg: ReceivedMessage): Record<string, unknown> {
  const attributes: Record<string, string> = {};
  for (const k of SQS_EVENT_ATTRIBUTES) {
    const v = msg.Attributes?.[k];
    if (v !== undefined) attributes[k] = v;
  }
  const messageAttributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg.MessageAttributes ?? {})) {
    const a: Record<string, unknown> = {};
    if (v.StringValue !== undefined) a.stringValue = v.StringValue;
    if (v.BinaryValue !== undefined) a.binaryValue = v.BinaryValue;
    a.stringListValues = [];
    a.binaryListValues = [];
    a.dataType = v.DataType;
    messageAttributes[k] = a;
  }
  return {
    messageId: msg.MessageId,
    receiptHandle: msg.ReceiptHandle,
    body: msg.Body,
    attributes,
    messageAttributes,
    md5OfBody: msg.MD5OfBody,
    md5OfMessageAttributes: msg.MD5OfMessageAttributes ?? null,
    eventSource: 'aws:sqs',
    eventSourceARN: m.eventSourceArn,
    awsRegion: m.region,
  };
}

export function sqsSource(sqs: SqsEngine, clock: Clock): BatchSource {
  void clock;
  return {
    async poll(m, signal, waitMs): Promise<Batch | undefined> {
      const receive = (max: number, waitSeconds: number) =>
        sqs.receiveMessages(scopeOf(m), m.eventSourceArn, {
          maxNumberOfMessages: Math.min(10, max),
          waitTimeSeconds: waitSeconds,
          attributeNames: ['All'],
          messageAttributeNames: ['All'],
          signal,
        });
      const got = await receive(m.batchSize, Math.max(1, Math.round(waitMs / 1000)));
      if (got.length === 0) return undefined;
      // The batching window (real time, like a long poll) opens with the first message.
      const windowEnd = performance.now() + m.maximumBatchingWindowInSeconds * 1000;
      while (got.length < m.batchSize && !signal.aborted) {
        const left = windowEnd - performance.now();
        if (left <= 0) break;
        const more = await receive(
          m.batchSize - got.length,
          Math.min(20, Math.max(0, Math.floor(left / 1000))),
        );
        got.push(...more);
        if (more.length === 0 && left < 1000) break;
      }
      const records = got.map((msg) => sqsRecord(m, msg));
      return { records, ids: got.map((msg) => msg.MessageId) };
    },
    event(_m, batch) {
      return { Records: batch.records };
    },
    async settle(m, batch, failed) {
      const handles = (batch.records as { messageId: string; receiptHandle: string }[])
        .filter((r) => !failed.has(r.messageId))
        .map((r) => r.receiptHandle);
      for (let i = 0; i < handles.length; i += 10) {
        await sqs.deleteMessageBatch(scopeOf(m), m.eventSourceArn, handles.slice(i, i + 10));
      }
    },
  };
}
