// Every module that registers CLI commands is imported here (add yours below).
import { upHooks } from './up.js';
import './up.js';
import { registerCommand } from './registry.js';
import { lambdaCommands } from './lambda-commands.js';
import { deployExample } from './example.js';
import { clockCommand } from '../messaging/clock-cli.js';
import { apisCommand } from '../gateway/cli.js';

registerCommand(clockCommand);
for (const cmd of lambdaCommands) registerCommand({ ...cmd, run: (argv) => cmd.run(argv) });
registerCommand({ ...apisCommand, run: (argv) => apisCommand.run(argv) });

upHooks.example = async (nimbus) => {
  await deployExample(nimbus, (line) => process.stdout.write(line + '\n'));
};
import { nodesCommand } from '../cluster/nodes-command.js';
registerCommand(nodesCommand);

import { monitorCommands } from '../monitor/cli.js';
for (const cmd of monitorCommands) registerCommand({ ...cmd, run: (argv) => cmd.run(argv) });
import { deployCommands } from '../deploy/cli/commands.js';
for (const cmd of deployCommands) registerCommand({ ...cmd, run: (argv) => cmd.run(argv) });
