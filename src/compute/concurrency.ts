/**
 * In-flight counting for Lambda's concurrency rules on this node: a function with reserved
 * concurrency R runs at most R at once; the others share the account limit minus every
 * reservation.
 */
import { errors } from './model.js';

export class ConcurrencyTracker {
  private readonly perFunction = new Map<string, number>();
  /** In flight of functions without a reservation, per account+region. */
  private readonly unreserved = new Map<string, number>();

  /**
   * Takes a slot or throws TooManyRequestsException. `reserved` is the function's reservation;
   * `pool` the unreserved pool of its account (account limit minus reservations).
   */
  acquire(scopeKey: string, fnKey: string, reserved: number | undefined, pool: number): () => void {
    const current = this.perFunction.get(fnKey) ?? 0;
    if (reserved !== undefined) {
      if (current >= reserved) throw errors.throttled('ReservedFunctionConcurrentInvocationLimitExceeded');
      this.perFunction.set(fnKey, current + 1);
      return this.releaser(fnKey, undefined);
    }
    const shared = this.unreserved.get(scopeKey) ?? 0;
    if (shared >= pool) throw errors.throttled('ConcurrentInvocationLimitExceeded');
    this.perFunction.set(fnKey, current + 1);
    this.unreserved.set(scopeKey, shared + 1);
    return this.releaser(fnKey, scopeKey);
  }

  inFlight(fnKey: string): number {
    return this.perFunction.get(fnKey) ?? 0;
  }

  private releaser(fnKey: string, scopeKey: string | undefined): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.perFunction.get(fnKey) ?? 1) - 1;
      if (n <= 0) this.perFunction.delete(fnKey);
      else this.perFunction.set(fnKey, n);
      if (scopeKey !== undefined) {
        const s = (this.unreserved.get(scopeKey) ?? 1) - 1;
        if (s <= 0) this.unreserved.delete(scopeKey);
        else this.unreserved.set(scopeKey, s);
      }
    };
  }
}
