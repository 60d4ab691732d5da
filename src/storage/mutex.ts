/** A FIFO async mutex: `run(fn)` waits its turn, then runs fn alone. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private held = false;
  private waiting = 0;

  /** True when nobody holds or waits for the lock (a caller may then take it synchronously). */
  get idle(): boolean {
    return !this.held && this.waiting === 0;
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    this.waiting++;
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    this.waiting--;
    this.held = true;
    try {
      return await fn();
    } finally {
      this.held = false;
      release();
    }
  }
}
