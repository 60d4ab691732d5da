/**
 * `nimbus clock [show]` and `nimbus clock advance N`: the virtual clock of a running Nimbus
 * (dev mode) through `GET`/`POST /_nimbus/clock`.
 */
import { parseArgs, UsageError, formatFlags } from '../cli/args.js';
import { CLIENT_FLAGS, clientOptions, printResult } from '../cli/client.js';
import type { Command } from '../cli/registry.js';
import type { ClockState } from './clock.js';

const USAGE = `Usage: nimbus clock [show]          print Nimbus's current (virtual) time
       nimbus clock advance SECONDS  move the clock forward (dev mode): visibility timeouts,
                                     delays, retries, retention and schedules follow at once

Options:
${formatFlags(CLIENT_FLAGS)}`;

export const clockCommand: Command = {
  name: 'clock',
  summary: "show or advance Nimbus's virtual clock (dev mode)",
  usage: USAGE,
  async run(argv) {
    const args = parseArgs(argv, CLIENT_FLAGS);
    if (args.flags.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const opts = clientOptions(args);
    const [sub = 'show', value, ...rest] = args.positionals;
    if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
    let init: RequestInit | undefined;
    if (sub === 'show') {
      init = undefined;
    } else if (sub === 'advance') {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n < 0) {
        throw new UsageError('nimbus clock advance needs a number of seconds >= 0');
      }
      init = {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ advanceSeconds: n }),
      };
    } else {
      throw new UsageError(`unknown clock command ${sub} (show | advance SECONDS)`);
    }
    let res: Response;
    try {
      res = await fetch(`${opts.endpoint}/_nimbus/clock`, init);
    } catch {
      process.stderr.write(
        `nimbus clock: cannot reach Nimbus at ${opts.endpoint} (is \`nimbus up\` running?)\n`,
      );
      return 1;
    }
    const body = (await res.json()) as ClockState & { message?: string };
    if (res.status !== 200) {
      process.stderr.write(`nimbus clock: ${body.message ?? res.statusText}\n`);
      return 1;
    }
    printResult(opts, body, (s) => `${s.now} (offset ${s.offsetSeconds} s)`);
    return 0;
  },
};
