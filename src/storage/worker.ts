/**
 * A queue worker: claims jobs up to its free concurrency and runs a handler on each.
 * Resolve -> ack; throw -> retry with the error's message (an error carrying a numeric
 * `retryDelayMs` sets the delay; otherwise the queue's default backoff applies).
 *
 * It waits without busy polling: woken by the queue's onWake (enqueue, retry), by a timer
 * set to the queue's next visible time, by `OffsetClock.onAdvance` when time jumps, and by
 * a slow safety poll (`pollMs`, for wakes that happen on another node when the wake channel
 * was down, or a ManualClock moved by hand). While a handler runs, its lease is extended
 * every half lease, so slow handlers are not redelivered.
 */
import { OffsetClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Job, Store } from './store.js';

export interface WorkerOptions<P> {
  store: Pick<Store, 'jobs'>;
  queue: string;
  clock: Clock;
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Lease per claim (default 30 s); extended while the handler runs. */
  leaseMs?: number;
  /** Safety poll interval (default 1000 ms). */
  pollMs?: number;
  logger: Logger;
  handle: (job: Job<P>) => Promise<void>;
}

export interface Worker {
  /** Stops claiming and waits for the running handlers to finish (and be acked or retried). */
  stop(): Promise<void>;
}

export function startWorker<P = unknown>(opts: WorkerOptions<P>): Worker {
  const { store, queue, clock, logger, handle } = opts;
  const concurrency = opts.concurrency ?? 1;
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 1000;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be >= 1');
  const log = logger.child({ worker: queue });

  const running = new Set<Promise<void>>();
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const wake = () => {
    if (stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = pump().finally(() => {
      pumping = undefined;
      if (again) {
        again = false;
        wake();
      }
    });
  };

  const arm = (ms: number) => {
    if (timer) clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(wake, Math.max(0, Math.min(ms, pollMs)));
    timer.unref();
  };

  async function pump(): Promise<void> {
    try {
      for (;;) {
        if (stopped) return;
        const free = concurrency - running.size;
        if (free <= 0) return; // a finishing handler wakes us
        const jobs = await store.jobs.claim<P>(queue, { limit: free, leaseMs });
        for (const job of jobs) run(job);
        if (jobs.length < free) break;
      }
      const next = await store.jobs.nextVisibleAt(queue);
      arm(next === undefined ? pollMs : next - clock.now());
    } catch (err) {
      log.error('worker claim failed', { err });
      arm(pollMs);
    }
  }

  function run(job: Job<P>): void {
    let leaseOk = true;
    const heartbeat = setInterval(
      () => {
        store.jobs.extend(job, leaseMs).then(
          (ok) => {
            if (!ok && leaseOk) {
              leaseOk = false;
              log.warn('job lease lost while running', { jobId: job.id });
            }
          },
          (err) => log.error('job lease extension failed', { jobId: job.id, err }),
        );
      },
      Math.max(1, Math.floor(leaseMs / 2)),
    );
    heartbeat.unref();
    const p = (async () => {
      try {
        await handle(job);
        clearInterval(heartbeat);
        if (!(await store.jobs.ack(job))) log.warn('job ack lost its lease', { jobId: job.id });
      } catch (err) {
        clearInterval(heartbeat);
        const message = err instanceof Error ? err.message : String(err);
        const delay = (err as { retryDelayMs?: unknown } | null)?.retryDelayMs;
        log.debug('job failed', { jobId: job.id, attempts: job.attempts, error: message });
        try {
          await store.jobs.retry(job, {
            error: message,
            delayMs: typeof delay === 'number' ? delay : undefined,
          });
        } catch (retryErr) {
          log.error('job retry failed', { jobId: job.id, err: retryErr });
        }
      }
    })()
      .catch((err) => log.error('job ack failed', { jobId: job.id, err }))
      .finally(() => {
        clearInterval(heartbeat);
        running.delete(p);
        wake();
      });
    running.add(p);
  }

  const offWake = store.jobs.onWake(queue, wake);
  const offAdvance = clock instanceof OffsetClock ? clock.onAdvance(wake) : () => {};
  wake();

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      offWake();
      offAdvance();
      if (timer) clearTimeout(timer);
      while (pumping || running.size > 0) {
        await pumping;
        await Promise.allSettled([...running]);
      }
    },
  };
}
