import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Tells whether the running code is (asynchronously) inside a transaction callback, so a Store
 * call made there fails fast instead of deadlocking (SQLite: on the write queue; PostgreSQL: on
 * the connection pool). An AsyncLocalStorage that stays enabled makes Node 20 run a promise hook
 * for every promise of the process (a measurable tax on every request of every service), so it
 * is enabled only while at least one callback is running and disabled after the last.
 */
export class TxScope {
  private readonly als = new AsyncLocalStorage<true>();
  private running = 0;

  inside(): boolean {
    return this.running > 0 && this.als.getStore() === true;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await this.als.run(true, fn);
    } finally {
      this.release();
    }
  }

  /**
   * Keeps the storage enabled until the matching release(), across several run()s: the SQLite
   * Store holds it for a whole group commit, so the promise hooks are switched on and off once
   * per group instead of once per transaction of the group.
   */
  hold(): void {
    this.running++;
  }

  release(): void {
    if (--this.running === 0) this.als.disable();
  }
}
