/**
 * DynamoDB Streams: records appended in the same Store transaction as the item write that
 * made them (collection per stream, keyed by a 21-digit sequence number), one shard per
 * stream, iterators as opaque tokens, records trimmed after 24 hours.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { KvWriter, Store } from '../storage/store.js';
import { itemSize, type Item } from './bridge.js';
import { pickKeys } from './keys.js';
import { errors, err, type StreamMeta, type TableMeta, type Scope } from './model.js';
import type { Tables } from './tables.js';

export const RETENTION_MS = 24 * 3600_000;
const SEQ_BASE = 100000000000000000000n;

export interface StreamRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: Item;
    NewImage?: Item;
    OldImage?: Item;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: string;
  };
  userIdentity?: { PrincipalId: string; Type: string };
}

/** Appends the stream record of one item change (call inside the write's transaction). */
export async function appendStreamRecord(
  tx: KvWriter,
  clock: Clock,
  meta: TableMeta,
  oldItem: Item | undefined,
  newItem: Item | undefined,
  byTtl = false,
): Promise<void> {
  const s = meta.stream;
  if (!s?.enabled || (!oldItem && !newItem)) return;
  const last = await tx.scan(s.collection, { reverse: true, limit: 1 });
  const seq = (last.length ? BigInt(last[0].key) + 1n : SEQ_BASE).toString();
  const keys = pickKeys((newItem ?? oldItem)!, meta.keys);
  const d: StreamRecord['dynamodb'] = {
    ApproximateCreationDateTime: Math.floor(clock.now() / 1000),
    Keys: keys,
    SequenceNumber: seq,
    SizeBytes: 0,
    StreamViewType: s.viewType,
  };
  if (newItem && (s.viewType === 'NEW_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES')) d.NewImage = newItem;
  if (oldItem && (s.viewType === 'OLD_IMAGE' || s.viewType === 'NEW_AND_OLD_IMAGES')) d.OldImage = oldItem;
  d.SizeBytes =
    itemSize(keys) + (d.NewImage ? itemSize(d.NewImage) : 0) + (d.OldImage ? itemSize(d.OldImage) : 0);
  const rec: StreamRecord & { at: number } = {
    eventID: randomBytes(16).toString('hex'),
    eventName: !oldItem ? 'INSERT' : !newItem ? 'REMOVE' : 'MODIFY',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: meta.region,
    dynamodb: d,
    at: clock.now(),
  };
  if (byTtl) rec.userIdentity = { PrincipalId: 'dynamodb.amazonaws.com', Type: 'Service' };
  await tx.put(s.collection, seq, rec);
}

interface IteratorToken {
  a: string; // stream arn
  s: string; // shard id
  k?: string; // last key read (exclusive)
  i?: string; // start key (inclusive)
}

function shardId(s: StreamMeta): string {
  return `shardId-${String(s.createdAt).padStart(20, '0')}-${s.label.replace(/[^0-9]/g, '').slice(0, 8)}`;
}

export class Streams {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tables: Tables,
  ) {}

  private async find(scope: Scope, streamArn: unknown): Promise<{ meta: TableMeta; stream: StreamMeta }> {
    if (typeof streamArn !== 'string')
      throw errors.constraints([
        `Value null at 'streamArn' failed to satisfy constraint: Member must not be null`,
      ]);
    const m = /^arn:aws:dynamodb:[^:]+:\d+:table\/([^/]+)\/stream\/(.+)$/.exec(streamArn);
    if (!m) throw errors.validation(`Invalid StreamArn`);
    const nf = () => errors.notFound(`Requested resource not found: Stream: ${streamArn} not found`);
    const meta = await this.tables.get(scope, m[1], nf).catch(() => {
      throw nf();
    });
    const stream = [meta.stream, ...(meta.oldStreams ?? [])].find((s) => s?.arn === streamArn);
    if (!stream) throw nf();
    return { meta, stream };
  }

  async listStreams(scope: Scope, input: Record<string, any>) {
    const tables = input.TableName
      ? [await this.tables.get(scope, input.TableName)]
      : await this.tables.list(scope);
    const all: { StreamArn: string; TableName: string; StreamLabel: string }[] = [];
    for (const t of tables)
      for (const s of [t.stream, ...(t.oldStreams ?? [])])
        if (s) all.push({ StreamArn: s.arn, TableName: t.name, StreamLabel: s.label });
    all.sort((a, b) => (a.StreamArn < b.StreamArn ? -1 : 1));
    let start = 0;
    if (input.ExclusiveStartStreamArn)
      start = all.findIndex((s) => s.StreamArn === input.ExclusiveStartStreamArn) + 1;
    const limit = input.Limit ?? 100;
    const page = all.slice(start, start + limit);
    const out: Record<string, unknown> = { Streams: page };
    if (start + limit < all.length) out.LastEvaluatedStreamArn = page[page.length - 1].StreamArn;
    return out;
  }

  async describeStream(scope: Scope, input: Record<string, any>) {
    const { meta, stream } = await this.find(scope, input.StreamArn);
    const first = await this.store.scan(stream.collection, { limit: 1 });
    const range: Record<string, string> = { StartingSequenceNumber: first[0]?.key ?? SEQ_BASE.toString() };
    if (!stream.enabled) {
      const last = await this.store.scan(stream.collection, { limit: 1, reverse: true });
      range.EndingSequenceNumber = last[0]?.key ?? range.StartingSequenceNumber;
    }
    return {
      StreamDescription: {
        StreamArn: stream.arn,
        StreamLabel: stream.label,
        StreamStatus: stream.enabled ? 'ENABLED' : 'DISABLED',
        StreamViewType: stream.viewType,
        CreationRequestDateTime: stream.createdAt / 1000,
        TableName: meta.name,
        KeySchema: meta.keySchema,
        Shards: [{ ShardId: shardId(stream), SequenceNumberRange: range }],
      },
    };
  }

  async getShardIterator(scope: Scope, input: Record<string, any>) {
    const { stream } = await this.find(scope, input.StreamArn);
    if (input.ShardId !== shardId(stream))
      throw errors.notFound(`Requested resource not found: Shard does not exist`);
    const tok: IteratorToken = { a: stream.arn, s: input.ShardId };
    const seq = input.SequenceNumber as string | undefined;
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        break;
      case 'LATEST': {
        const last = await this.store.scan(stream.collection, { limit: 1, reverse: true });
        if (last.length) tok.k = last[0].key;
        break;
      }
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER':
        if (!seq || !/^\d{21,40}$/.test(seq))
          throw errors.validation('Invalid SequenceNumber for ShardIteratorType: ' + input.ShardIteratorType);
        if (input.ShardIteratorType === 'AT_SEQUENCE_NUMBER') tok.i = seq;
        else tok.k = seq;
        break;
      default:
        throw errors.constraints([
          `Value '${input.ShardIteratorType ?? null}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]`,
        ]);
    }
    return { ShardIterator: encodeIterator(tok) };
  }

  async getRecords(scope: Scope, input: Record<string, any>) {
    const tok = decodeIterator(input.ShardIterator);
    const { stream } = await this.find(scope, tok.a);
    const limit = input.Limit ?? 1000;
    if (limit < 1 || limit > 1000)
      throw errors.constraints([
        `Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000'}`,
      ]);
    const rows = await this.store.scan<StreamRecord & { at: number }>(stream.collection, {
      ...(tok.k ? { after: tok.k } : tok.i ? { start: tok.i } : {}),
      limit,
    });
    const cutoff = this.clock.now() - RETENTION_MS;
    const records = rows.filter((r) => r.value.at >= cutoff).map(({ value: { at: _at, ...rec } }) => rec);
    const next: IteratorToken = {
      a: tok.a,
      s: tok.s,
      k: rows.length ? rows[rows.length - 1].key : tok.k,
      i: tok.i,
    };
    if (rows.length) delete next.i;
    const out: Record<string, unknown> = { Records: records };
    if (stream.enabled || rows.length) out.NextShardIterator = encodeIterator(next);
    return out;
  }

  /** Drops records older than 24 hours. */
  async trim(meta: TableMeta): Promise<void> {
    const cutoff = this.clock.now() - RETENTION_MS;
    for (const s of [meta.stream, ...(meta.oldStreams ?? [])]) {
      if (!s) continue;
      const old = await this.store.scan<{ at: number }>(s.collection, { limit: 500 });
      const stale = old.filter((r) => r.value.at < cutoff);
      if (stale.length)
        await this.store.deleteRange(s.collection, { endInclusive: stale[stale.length - 1].key });
    }
  }
}

function encodeIterator(t: IteratorToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeIterator(v: unknown): IteratorToken {
  try {
    const t = JSON.parse(Buffer.from(String(v), 'base64url').toString()) as IteratorToken;
    if (typeof t.a === 'string' && typeof t.s === 'string') return t;
  } catch {
    // fall through
  }
  throw err('ValidationException', 'Invalid ShardIterator');
}
