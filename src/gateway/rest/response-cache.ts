/**
 * The REST API cache (a stage's "API cache", `cacheClusterEnabled`): the answers of cached
 * methods, kept per stage for the method's TTL. It lives in this node's memory (like throttle
 * buckets and authorizer results), bounded by total bytes: the least recently used entries go
 * first. A stage's entries are dropped together when FlushStageCache asks, when the stage's
 * cache is turned off, and when its generation changes (a new deployment, another cache size,
 * the stage deleted and created again), as AWS deletes the cache instance's data then.
 */
import type { HttpResult } from '../response.js';

/** AWS caches answers up to 1,048,576 bytes; larger ones are served but not kept. */
export const MAX_CACHED_RESPONSE_BYTES = 1_048_576;
/** What one node keeps at most, whatever the stages' cacheClusterSize. */
export const DEFAULT_MAX_CACHE_BYTES = 64 * 1024 * 1024;
/** A rough per-entry overhead (maps, objects), so that many tiny answers are bounded too. */
const ENTRY_OVERHEAD = 200;

interface Entry {
  stage: string;
  result: HttpResult;
  expires: number;
  bytes: number;
}

interface StageEntries {
  generation: string;
  keys: Set<string>;
}

export class ResponseCache {
  /** By `stage \n key`, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly stages = new Map<string, StageEntries>();
  private total = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_CACHE_BYTES) {}

  /** The stored answer for `key` while it is fresh (it becomes the most recently used). */
  get(stage: string, generation: string, key: string, now: number): HttpResult | undefined {
    if (!this.current(stage, generation)) return undefined;
    const id = `${stage}\n${key}`;
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.remove(id, e);
      return undefined;
    }
    this.entries.delete(id);
    this.entries.set(id, e);
    return copy(e.result);
  }

  /** Keeps `result` for `ttlMs` (replacing what `key` held); too large answers are not kept. */
  set(stage: string, generation: string, key: string, result: HttpResult, ttlMs: number, now: number): void {
    const id = `${stage}\n${key}`;
    const old = this.entries.get(id);
    if (old) this.remove(id, old);
    if (ttlMs <= 0 || result.body.length > MAX_CACHED_RESPONSE_BYTES) return;
    let bytes = ENTRY_OVERHEAD + id.length + result.body.length;
    for (const [k, vs] of Object.entries(result.headers)) for (const v of vs) bytes += k.length + v.length;
    if (bytes > this.maxBytes) return;
    this.current(stage, generation);
    while (this.total + bytes > this.maxBytes) {
      const [oldestId, oldest] = this.entries.entries().next().value as [string, Entry];
      this.remove(oldestId, oldest);
    }
    let s = this.stages.get(stage);
    if (!s) this.stages.set(stage, (s = { generation, keys: new Set() }));
    s.keys.add(id);
    this.entries.set(id, { stage, result: copy(result), expires: now + ttlMs, bytes });
    this.total += bytes;
  }

  /** Drops every entry of the stage (FlushStageCache, the cache turned off). */
  flush(stage: string): void {
    const s = this.stages.get(stage);
    if (!s) return;
    for (const id of s.keys) {
      const e = this.entries.get(id);
      if (e) {
        this.entries.delete(id);
        this.total -= e.bytes;
      }
    }
    this.stages.delete(stage);
  }

  /** Bytes and entries held (for tests and health). */
  get usage(): { bytes: number; entries: number } {
    return { bytes: this.total, entries: this.entries.size };
  }

  /** The stage's entries when they belong to `generation`; older ones are dropped first. */
  private current(stage: string, generation: string): StageEntries | undefined {
    const s = this.stages.get(stage);
    if (s && s.generation !== generation) {
      this.flush(stage);
      return undefined;
    }
    return s;
  }

  private remove(id: string, e: Entry): void {
    this.entries.delete(id);
    this.total -= e.bytes;
    const s = this.stages.get(e.stage);
    if (!s) return;
    s.keys.delete(id);
    if (!s.keys.size) this.stages.delete(e.stage);
  }
}

/** Answers are handed out as copies: a caller may add headers (the cache-control warning). */
function copy(r: HttpResult): HttpResult {
  const headers: Record<string, string[]> = {};
  for (const [k, vs] of Object.entries(r.headers)) headers[k] = [...vs];
  return { status: r.status, headers, body: r.body };
}
