// Every module that registers CLI commands is imported here (add yours below).
import { upHooks } from './up.js';
import './up.js';
import { registerCommand } from './registry.js';
import { lambdaCommands } from './lambda-commands.js';
import { deployExample } from './example.js';

for (const cmd of lambdaCommands) registerCommand({ ...cmd, run: (argv) => cmd.run(argv) });

upHooks.example = (nimbus) => deployExample(nimbus, (line) => process.stdout.write(line + '\n'));

import { monitorCommands } from '../monitor/cli.js';
for (const cmd of monitorCommands) registerCommand({ ...cmd, run: (argv) => cmd.run(argv) });
