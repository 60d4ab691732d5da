/**
 * The one source of time for every service. Timing code (visibility timeouts, retries,
 * schedules, TTLs, leases) reads `clock.now()`, never `Date.now()`, so a virtual clock can
 * fast-forward it in tests and in dev mode (`POST /_nimbus/clock`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, as this clock sees it. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Wall time plus an offset that only grows: `advance(ms)` moves every timer forward at once. */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  private readonly listeners = new Set<(ms: number) => void>();

  constructor(private readonly base: Clock = systemClock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    for (const l of this.listeners) l(ms);
  }

  /** Called after every advance, so waiters can re-check their deadlines at once. */
  onAdvance(listener: (ms: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A clock that only moves when told to: for unit tests. */
export class ManualClock implements Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
