#!/usr/bin/env node
/** The `nimbus` command. Exit codes: 0 ok, 1 failure, 2 usage error. */
// Nimbus supports Node 20 on purpose; the SDK clients the CLI uses need not warn about it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { UsageError } from './args.js';
import { getCommand, listCommands } from './registry.js';
import './commands.js';

function help(): string {
  const cmds = listCommands();
  const width = Math.max(...cmds.map((c) => c.name.length)) + 2;
  return [
    'Usage: nimbus <command> [options]',
    '',
    'Commands:',
    ...cmds.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `nimbus <command> --help` for its options.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const target = name === 'help' && rest[0] ? getCommand(rest[0]) : undefined;
    process.stdout.write(target ? target.usage : help());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { NIMBUS_VERSION } = await import('../server/app.js');
    process.stdout.write(NIMBUS_VERSION + '\n');
    return 0;
  }
  const cmd = getCommand(name);
  if (!cmd) {
    process.stderr.write(`nimbus: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return (await cmd.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nimbus ${name}: ${e.message}\n\n${cmd.usage}`);
      return 2;
    }
    process.stderr.write(`nimbus ${name}: ${(e as Error)?.message ?? String(e)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`nimbus: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
