/**
 * What the gateway's servers keep per API between requests (the compiled stages of its latest
 * record): re-read at most every `revalidateMs`, rebuilt only when the API's generation moved,
 * dropped when the API is gone. HTTP, REST and WebSocket APIs each keep one.
 */
export interface Cached<A extends { generation: number }> {
  api: A;
  checkedAt: number;
}

export class ApiCache<A extends { generation: number }, C extends Cached<A>, F extends { api: A }> {
  private readonly entries = new Map<string, C>();

  constructor(
    private readonly revalidateMs: number,
    /** The API's current record (and what else building needs), or undefined when it is not served here. */
    private readonly find: (apiId: string) => Promise<F | undefined>,
    /** The cached state of a found API. */
    private readonly build: (found: F, now: number) => C,
    private readonly max = 10_000,
  ) {}

  async get(apiId: string, now: number): Promise<C | undefined> {
    const hit = this.entries.get(apiId);
    if (hit && now - hit.checkedAt < this.revalidateMs) return hit;
    const found = await this.find(apiId);
    if (!found) {
      this.entries.delete(apiId);
      return undefined;
    }
    if (hit && hit.api.generation === found.api.generation) {
      hit.checkedAt = now;
      return hit;
    }
    const c = this.build(found, now);
    if (this.entries.size > this.max) this.entries.clear();
    this.entries.set(apiId, c);
    return c;
  }

  delete(apiId: string): void {
    this.entries.delete(apiId);
  }

  clear(): void {
    this.entries.clear();
  }
}
