/**
 * The virtual clock endpoint (dev mode): `GET /_nimbus/clock` answers the current time and
 * offset; `POST /_nimbus/clock {"advanceSeconds": N}` moves Nimbus's clock forward, so
 * visibility timeouts, delays, retention and every other timer follow at once.
 */
import type { Clock } from '../core/clock.js';
import { OffsetClock } from '../core/clock.js';
import type { FrontDoor } from '../server/http-server.js';

export interface ClockState {
  now: string;
  epochMillis: number;
  offsetSeconds: number;
}

function state(clock: Clock): ClockState {
  const now = clock.now();
  return {
    now: new Date(now).toISOString(),
    epochMillis: now,
    offsetSeconds: clock instanceof OffsetClock ? clock.offset / 1000 : 0,
  };
}

/** Registers the routes; advancing is refused unless `devMode` and the clock is an OffsetClock. */
export function registerClockRoutes(frontDoor: FrontDoor, clock: Clock, devMode: boolean): void {
  frontDoor.addInternalRoute('GET', '/_nimbus/clock', async () => ({ body: state(clock) }));
  frontDoor.addInternalRoute('POST', '/_nimbus/clock', async (req) => {
    if (!devMode || !(clock instanceof OffsetClock)) {
      return {
        status: 403,
        body: { message: 'The virtual clock can only be advanced in dev mode (--auth dev).' },
      };
    }
    let input: { advanceSeconds?: unknown };
    try {
      input = req.body.length ? (JSON.parse(req.body.toString('utf8')) as typeof input) : {};
    } catch {
      return { status: 400, body: { message: 'The body must be JSON: {"advanceSeconds": N}' } };
    }
    const n = input.advanceSeconds;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      return {
        status: 400,
        body: { message: 'advanceSeconds must be a number >= 0 (the clock only moves forward)' },
      };
    }
    clock.advance(n * 1000);
    return { body: state(clock) };
  });
}
