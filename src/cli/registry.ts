/** The command registry of the `nimbus` CLI: modules add commands, main.ts dispatches. */
export interface Command {
  name: string;
  /** One line for `nimbus --help`. */
  summary: string;
  /** Full help for `nimbus <name> --help`. */
  usage: string;
  /** Resolves to the exit code (default 0). Throw UsageError for bad arguments (exit 2). */
  run(args: string[]): Promise<number | void>;
}

const commands = new Map<string, Command>();

export function registerCommand(cmd: Command): void {
  if (commands.has(cmd.name)) throw new Error(`command ${cmd.name} is already registered`);
  commands.set(cmd.name, cmd);
}

export function getCommand(name: string): Command | undefined {
  return commands.get(name);
}

export function listCommands(): Command[] {
  return [...commands.values()].sort((a, b) => a.name.localeCompare(b.name));
}
