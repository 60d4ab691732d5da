/**
 * The DynamoDB stream event source: reads the stream's shard from the mapping's checkpoint
 * (an iterator stored on the mapping, starting at TRIM_HORIZON or LATEST), hands batches in
 * order (one batch at a time per mapping), advances the checkpoint after success, retries a
 * failed batch (the shard waits) up to MaximumRetryAttempts (-1: until it succeeds), then
 * sends Lambda's stream failure record to the OnFailure destination and skips the batch.
 * ReportBatchItemFailures restarts the shard at the lowest failed sequence number.
 * BisectBatchOnFunctionError splits a failed batch in two and retries the first half (down to
 * one record; splitting does not count against MaximumRetryAttempts, as on AWS); once a half
 * succeeds, batches are whole again.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import type { Engines } from '../server/engines.js';
import { functionArn } from './model.js';
import { ESM_COLLECTION, type Batch, type BatchSource, type EsmRecord } from './esm.js';

export const STREAM_ARN = /^arn:aws:dynamodb:([^:]+):(\d{12}):table\/[^/]+\/stream\/.+$/;

interface StreamRecord {
  dynamodb: { SequenceNumber: string; ApproximateCreationDateTime: number };
}

function scopeOf(m: EsmRecord) {
  return { accountId: m.accountId, region: m.region };
}

/** The records of a batch the function got (FilterCriteria may have dropped some). */
function deliveredPart(batch: Batch): Batch {
  if (!batch.delivered) return batch;
  const keep = new Set(batch.delivered);
  const records = batch.records.filter((_, i) => keep.has(batch.ids[i]));
  return { records, ids: batch.delivered, next: batch.next };
}

/** The shard id and starting iterator of a new mapping. */
export async function startPosition(
  engines: Engines,
  m: EsmRecord,
  position: 'TRIM_HORIZON' | 'LATEST',
): Promise<{ shardId: string; iterator: string }> {
  const d = (await engines.dynamodb.streams.describeStream(scopeOf(m), { StreamArn: m.eventSourceArn })) as {
    StreamDescription: { Shards: { ShardId: string }[] };
  };
  const shardId = d.StreamDescription.Shards[0].ShardId;
  const it = (await engines.dynamodb.streams.getShardIterator(scopeOf(m), {
    StreamArn: m.eventSourceArn,
    ShardId: shardId,
    ShardIteratorType: position,
  })) as { ShardIterator: string };
  return { shardId, iterator: it.ShardIterator };
}

export function dynamoDbSource(
  engines: Engines,
  deps: { store: Store; clock: Clock; logger: Logger },
): BatchSource {
  const save = (uuid: string, patch: Partial<EsmRecord>) =>
    deps.store.transaction(async (tx) => {
      const cur = await tx.get<EsmRecord>(ESM_COLLECTION, uuid);
      if (cur) await tx.put(ESM_COLLECTION, uuid, { ...cur, ...patch });
    });
  return {
    lanes: 1,
    async poll(m, signal, waitMs): Promise<Batch | undefined> {
      const end = performance.now() + waitMs;
      while (!signal.aborted) {
        const out = (await engines.dynamodb.streams.getRecords(scopeOf(m), {
          ShardIterator: m.streamIterator,
          Limit: Math.min(1000, m.batchSize, m.streamBatchLimit ?? Infinity),
        })) as { Records: StreamRecord[]; NextShardIterator?: string };
        if (out.Records.length) {
          const records = out.Records.map((r) => ({ ...r, eventSourceARN: m.eventSourceArn }));
          return {
            records,
            ids: out.Records.map((r) => r.dynamodb.SequenceNumber),
            next: out.NextShardIterator,
          };
        }
        if (performance.now() >= end) return undefined;
        await new Promise((r) => setTimeout(r, 200).unref());
      }
      return undefined;
    },
    event(_m, batch) {
      return { Records: batch.records };
    },
    recordTime(r) {
      return (r as StreamRecord).dynamodb.ApproximateCreationDateTime * 1000;
    },
    async cut(m, batch, n) {
      const it = (await engines.dynamodb.streams.getShardIterator(scopeOf(m), {
        StreamArn: m.eventSourceArn,
        ShardId: m.streamShardId,
        ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
        SequenceNumber: batch.ids[n - 1],
      })) as { ShardIterator: string };
      return { records: batch.records.slice(0, n), ids: batch.ids.slice(0, n), next: it.ShardIterator };
    },
    async settle(m, batch, failed, patch) {
      // Records dropped by the filters never fail: the checkpoint moves past them with the rest.
      const sent = batch.delivered ?? batch.ids;
      if (failed.size === 0) {
        await save(m.uuid, {
          ...patch,
          streamIterator: batch.next ?? m.streamIterator,
          streamRetries: 0,
          streamBatchLimit: undefined,
        });
        return;
      }
      if (m.bisectBatchOnFunctionError && failed.size === sent.length && batch.ids.length > 1) {
        await save(m.uuid, { streamBatchLimit: Math.ceil(batch.ids.length / 2) });
        return;
      }
      const retries = (m.streamRetries ?? 0) + 1;
      const max = m.maximumRetryAttempts ?? -1;
      if (max >= 0 && retries > max) {
        await this.deliverFailure?.(m, deliveredPart(batch), retries);
        await save(m.uuid, {
          streamIterator: batch.next ?? m.streamIterator,
          streamRetries: 0,
          streamBatchLimit: undefined,
        });
        return;
      }
      if (failed.size < sent.length) {
        // Partial failure: restart at the lowest failed record.
        const lowest = [...failed].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
        const it = (await engines.dynamodb.streams.getShardIterator(scopeOf(m), {
          StreamArn: m.eventSourceArn,
          ShardId: m.streamShardId,
          ShardIteratorType: 'AT_SEQUENCE_NUMBER',
          SequenceNumber: lowest,
        })) as { ShardIterator: string };
        await save(m.uuid, { streamIterator: it.ShardIterator, streamRetries: retries });
        return;
      }
      await save(m.uuid, { streamRetries: retries });
    },
    async deliverFailure(m, batch, invokeCount, condition = 'RetryAttemptsExhausted') {
      if (!m.onFailure) return;
      const recs = batch.records as StreamRecord[];
      const scope = scopeOf(m);
      const body = JSON.stringify({
        requestContext: {
          requestId: crypto.randomUUID(),
          functionArn: functionArn(scope, m.functionName, m.qualifier),
          condition,
          approximateInvokeCount: invokeCount,
        },
        // Records past their maximum age were never sent to the function: no response to report.
        ...(condition === 'RetryAttemptsExhausted'
          ? { responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' } }
          : {}),
        version: '1.0',
        timestamp: new Date(deps.clock.now()).toISOString(),
        DDBStreamBatchInfo: {
          shardId: m.streamShardId,
          startSequenceNumber: batch.ids[0],
          endSequenceNumber: batch.ids[batch.ids.length - 1],
          approximateArrivalOfFirstRecord: new Date(
            recs[0].dynamodb.ApproximateCreationDateTime * 1000,
          ).toISOString(),
          approximateArrivalOfLastRecord: new Date(
            recs[recs.length - 1].dynamodb.ApproximateCreationDateTime * 1000,
          ).toISOString(),
          batchSize: batch.ids.length,
          streamArn: m.eventSourceArn,
        },
      });
      const [, , service, region, accountId] = m.onFailure.split(':');
      try {
        if (service === 'sqs') await engines.sqs.sendMessage({ accountId, region }, m.onFailure, { body });
        else if (service === 'sns')
          await engines.sns.publish({ accountId, region }, m.onFailure, { message: body });
      } catch (err) {
        deps.logger.warn('stream OnFailure delivery failed', { uuid: m.uuid, err });
      }
    },
  };
}
