import type { Logger } from '../core/logger.js';

/** In-process wake-ups per queue (SQLite, and the local side of PostgreSQL's LISTEN/NOTIFY). */
export class WakeEmitter {
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(private readonly logger: Logger) {}

  on(queue: string, listener: () => void): () => void {
    let set = this.listeners.get(queue);
    if (!set) this.listeners.set(queue, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(queue) === set) this.listeners.delete(queue);
    };
  }

  has(queue: string): boolean {
    return this.listeners.has(queue);
  }

  emit(queue: string): void {
    const set = this.listeners.get(queue);
    if (!set) return;
    for (const l of [...set]) {
      try {
        l();
      } catch (err) {
        this.logger.error('job queue wake listener threw', { queue, err });
      }
    }
  }
}
