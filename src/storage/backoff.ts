/**
 * The default retry delay of the job queue: exponential from the attempt count, capped,
 * with "equal jitter" (half fixed, half random) so a burst of failures does not retry in
 * lockstep.
 */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 5 * 60 * 1000;

export function backoffDelayMs(attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
