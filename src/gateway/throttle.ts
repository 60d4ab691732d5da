/**
 * Token buckets for HTTP API throttling: one per account (AWS's default 10,000 rps steady
 * rate, 5,000 burst) and one per stage + route when the stage sets limits
 * (DefaultRouteSettings / RouteSettings). Time comes from the injected Clock.
 */
import type { Clock } from '../core/clock.js';

export const ACCOUNT_RATE_LIMIT = 10_000;
export const ACCOUNT_BURST_LIMIT = 5_000;

/** An account's throttle: steady requests/s and burst capacity. */
export interface AccountLimits {
  rate: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  last: number;
  rate: number;
  burst: number;
}

export class Throttler {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    private readonly account: AccountLimits = { rate: ACCOUNT_RATE_LIMIT, burst: ACCOUNT_BURST_LIMIT },
  ) {}

  /** Takes one token from `key`'s bucket (rate tokens/s, burst capacity); false when empty. */
  take(key: string, rate: number, burst: number): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (!b || b.rate !== rate || b.burst !== burst) {
      b = { tokens: burst, last: now, rate, burst };
      if (this.buckets.size > 100_000) this.buckets.clear();
      this.buckets.set(key, b);
    } else if (now > b.last) {
      b.tokens = Math.min(burst, b.tokens + ((now - b.last) * rate) / 1000);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** The account's bucket, then the route's (when limits are set). */
  allow(accountId: string, routeKey: string | undefined, limits: { rate?: number; burst?: number }): boolean {
    if (routeKey !== undefined && (limits.rate !== undefined || limits.burst !== undefined)) {
      const rate = limits.rate ?? this.account.rate;
      const burst = limits.burst ?? this.account.burst;
      if (!this.take(`r|${routeKey}`, rate, burst)) return false;
    }
    return this.take(`a|${accountId}`, this.account.rate, this.account.burst);
  }
}
