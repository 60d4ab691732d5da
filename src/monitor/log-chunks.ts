/**
 * How log events are laid out in the Store: in chunks. The events of one write (a flush of the
 * function-log sink, or one PutLogEvents) that belong to one stream are stored as a few rows,
 * not one row each: a chunk holds events whose timestamps lie within CHUNK_SPAN_MS of its first
 * event's (at most CHUNK_MAX_EVENTS events, CHUNK_MAX_BYTES of messages), sorted, and is keyed
 * by its first event's position. A Lambda invocation's START, END and REPORT lines were six
 * rows (each event is in the stream index and the group index); now a flush is two rows per
 * stream, whatever the number of invocations in it.
 *
 * Each event keeps the position it had as a row of its own (timestamp, ingestion time and a
 * counter: 36 digits, see logs.ts), and the key it would have had (`<pos>` in a stream's index,
 * `<pos>:<stream>` in a group's), which is what paging tokens and event ids name, so tokens
 * from before chunks still work, and a row written before chunks (`{t, m, i}`) reads as a chunk
 * of one event. A read of the keys from K on scans the chunks from CHUNK_SPAN_MS before K's
 * timestamp (a chunk that starts earlier cannot hold an event at or after K) and merges: an
 * event is returned once no chunk still unread can hold an earlier one.
 */
import type { KvReader, Transaction } from '../storage/store.js';
import { compareKeys } from '../storage/keys.js';

/** The widest a chunk's timestamps spread (ms); reads start this much before their bound. */
export const CHUNK_SPAN_MS = 10_000;
const CHUNK_MAX_EVENTS = 1_000;
const CHUNK_MAX_BYTES = 256 * 1024;
/** Chunk rows read per Store scan: 16 at first (most reads want a page of events), doubling to 256. */
const SCAN_PAGE_FIRST = 16;
const SCAN_PAGE_MAX = 256;
const scanPage = (n: number) => Math.min(SCAN_PAGE_MAX, SCAN_PAGE_FIRST << Math.min(n, 4));

/** A row from before chunks: one event. */
interface StoredEvent {
  t: number;
  m: string;
  i: number;
  /** The stream (group index only). */
  s?: string;
}

/** A chunk: ingestion time `i`, then `e` = [timestamp, counter, message] per event, by key. */
interface StoredChunk {
  i: number;
  e: (number | string)[];
  /** The stream (group index only). */
  s?: string;
}

export type StoredRow = StoredEvent | StoredChunk;

/** One event as read back, with its key (relative to the index's prefix). */
export interface LogEvent {
  key: string;
  t: number;
  m: string;
  i: number;
  /** The stream (group index only). */
  s?: string;
}

/** An event to store: its timestamp, message and counter (its key is derived from them). */
export interface NewEvent {
  t: number;
  m: string;
  counter: number;
}

export const pad15 = (n: number) =>
  String(Math.max(0, Math.min(Math.trunc(n), 999_999_999_999_999))).padStart(15, '0');

/** An event's position: timestamp, ingestion time, counter (36 digits). */
export const eventPos = (t: number, ingested: number, counter: number) =>
  pad15(t) + pad15(ingested) + String(counter).padStart(6, '0');

/** The timestamp part of a key (its first 15 digits). */
const timeOf = (key: string) => Number(key.slice(0, 15));

const byKey = (a: LogEvent, b: LogEvent) => compareKeys(a.key, b.key);

/** The events of a row whose key (relative to the prefix) is `rel`. */
function expand(rel: string, v: StoredRow, out: LogEvent[]): void {
  if (!('e' in v)) {
    out.push({ key: rel, t: v.t, m: v.m, i: v.i, ...(v.s !== undefined ? { s: v.s } : {}) });
    return;
  }
  const ingested = pad15(v.i);
  const suffix = v.s !== undefined ? ':' + v.s : '';
  for (let k = 0; k < v.e.length; k += 3) {
    const t = v.e[k] as number;
    const key = pad15(t) + ingested + String(v.e[k + 1]).padStart(6, '0') + suffix;
    out.push({ key, t, m: v.e[k + 2] as string, i: v.i, ...(v.s !== undefined ? { s: v.s } : {}) });
  }
}

/** Where putChunks writes: a stream index (`stream` omitted: keys `<prefix><pos>`) or a group index (keys `<prefix><pos>:<stream>`). */
export interface ChunkIndex {
  collection: string;
  prefix: string;
  stream?: string;
}

/**
 * Writes one stream's new events (any order) as chunks into each of `indexes` (the chunks are
 * cut once and written to every index). Returns the puts, issued in order.
 */
export function putChunks(
  tx: Transaction,
  ingested: number,
  events: NewEvent[],
  indexes: ChunkIndex[],
): Promise<void>[] {
  const withPos = events.map((e) => ({ e, pos: eventPos(e.t, ingested, e.counter) }));
  withPos.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
  const puts: Promise<void>[] = [];
  let k = 0;
  while (k < withPos.length) {
    const first = withPos[k].pos;
    const until = timeOf(first) + CHUNK_SPAN_MS;
    const e: (number | string)[] = [];
    let bytes = 0;
    while (
      k < withPos.length &&
      timeOf(withPos[k].pos) <= until &&
      e.length < CHUNK_MAX_EVENTS * 3 &&
      (e.length === 0 || bytes + withPos[k].e.m.length <= CHUNK_MAX_BYTES)
    ) {
      const { t, m, counter } = withPos[k].e;
      e.push(t, counter, m);
      bytes += m.length;
      k++;
    }
    for (const { collection, prefix, stream } of indexes) {
      const chunk: StoredChunk = stream !== undefined ? { i: ingested, e, s: stream } : { i: ingested, e };
      puts.push(tx.put(collection, prefix + first + (stream !== undefined ? ':' + stream : ''), chunk));
    }
  }
  return puts;
}

/** The scan start for events at or after the relative key `lower` ('' = from the beginning). */
const scanFloor = (prefix: string, lower: string) =>
  prefix + (lower === '' ? '' : pad15(timeOf(lower) - CHUNK_SPAN_MS));

/**
 * The events with keys in [lower, upper) (or (lower, upper) when `lowerExclusive`), ascending.
 * Keys are relative to `prefix`; `upper` '~' is no bound.
 */
export async function* eventsForward(
  store: KvReader,
  collection: string,
  prefix: string,
  lower: string,
  lowerExclusive: boolean,
  upper: string,
): AsyncGenerator<LogEvent> {
  const end = prefix + upper;
  let after: string | undefined;
  const pending: LogEvent[] = [];
  const row: LogEvent[] = [];
  for (let page = 0; ; page++) {
    const limit = scanPage(page);
    const rows = await store.scan<StoredRow>(collection, {
      ...(after !== undefined ? { after } : { start: scanFloor(prefix, lower) }),
      end,
      limit,
    });
    for (const r of rows) {
      const first = r.key.slice(prefix.length);
      // Every event still unread is at or after this row's first key.
      if (pending.length > 0) {
        pending.sort(byKey);
        let n = 0;
        while (n < pending.length && compareKeys(pending[n].key, first) < 0) n++;
        if (n > 0) yield* pending.splice(0, n);
      }
      row.length = 0;
      expand(first, r.value, row);
      for (const ev of row) {
        const c = compareKeys(ev.key, lower);
        if ((lowerExclusive ? c > 0 : c >= 0) && compareKeys(ev.key, upper) < 0) pending.push(ev);
      }
    }
    if (rows.length < limit) break;
    after = rows[rows.length - 1].key;
  }
  pending.sort(byKey);
  yield* pending;
}

/** The events with keys in [lower, upper), descending (keys relative to `prefix`). */
export async function* eventsReverse(
  store: KvReader,
  collection: string,
  prefix: string,
  lower: string,
  upper: string,
): AsyncGenerator<LogEvent> {
  const start = scanFloor(prefix, lower);
  let end = prefix + upper;
  const pending: LogEvent[] = [];
  const row: LogEvent[] = [];
  for (let page = 0; ; page++) {
    const limit = scanPage(page);
    const rows = await store.scan<StoredRow>(collection, { start, end, limit, reverse: true });
    for (const r of rows) {
      const first = r.key.slice(prefix.length);
      // Every event still unread has a timestamp at most this row's first + CHUNK_SPAN_MS.
      const bound = pad15(timeOf(first) + CHUNK_SPAN_MS + 1);
      if (pending.length > 0) {
        pending.sort((a, b) => byKey(b, a));
        let n = 0;
        while (n < pending.length && compareKeys(pending[n].key, bound) >= 0) n++;
        if (n > 0) yield* pending.splice(0, n);
      }
      row.length = 0;
      expand(first, r.value, row);
      for (const ev of row)
        if (compareKeys(ev.key, lower) >= 0 && compareKeys(ev.key, upper) < 0) pending.push(ev);
    }
    if (rows.length < limit) break;
    end = rows[rows.length - 1].key;
  }
  pending.sort((a, b) => byKey(b, a));
  yield* pending;
}

/**
 * Deletes the events with keys before `cut` (relative) from an index: chunks wholly before it
 * go, a chunk that straddles it is written again with its later events. Returns the events
 * removed; with `collect` false only those of straddling chunks (the chunks that start more
 * than a span before the cut are deleted as a range, unread).
 */
export async function trimBefore(
  tx: Transaction,
  collection: string,
  prefix: string,
  cut: string,
  collect = true,
): Promise<LogEvent[]> {
  const removed: LogEvent[] = [];
  let from = prefix;
  if (!collect) {
    from = prefix + pad15(timeOf(cut) - CHUNK_SPAN_MS);
    await tx.deleteRange(collection, { start: prefix, end: from });
  }
  const rows = await tx.scan<StoredRow>(collection, { start: from, end: prefix + cut });
  const evs: LogEvent[] = [];
  for (const r of rows) {
    evs.length = 0;
    expand(r.key.slice(prefix.length), r.value, evs);
    const keep = evs.filter((ev) => compareKeys(ev.key, cut) >= 0);
    for (const ev of evs) if (compareKeys(ev.key, cut) < 0) removed.push(ev);
    await tx.delete(collection, r.key);
    if (keep.length > 0 && 'e' in r.value) {
      const v = r.value;
      const e: (number | string)[] = [];
      for (const ev of keep) e.push(ev.t, Number(ev.key.slice(30, 36)), ev.m);
      await tx.put<StoredChunk>(collection, prefix + keep[0].key, { ...v, e });
    }
  }
  return removed;
}
