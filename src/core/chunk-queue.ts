/**
 * Chunks produced by one side (pushed as they come) and read by the other as an async iterable,
 * in order; ended, or failed with an error the reader's loop throws. One reader.
 */
export class ChunkQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private firstPushed!: () => void;
  /** Resolves when the first chunk is pushed. */
  readonly started: Promise<void> = new Promise((resolve) => (this.firstPushed = resolve));

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.firstPushed();
    this.wakeReader();
  }

  end(): void {
    this.ended = true;
    this.wakeReader();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.wakeReader();
  }

  private wakeReader(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      while (this.items.length) yield this.items.shift()!;
      if (this.failure) throw this.failure.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
