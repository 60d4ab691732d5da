/**
 * `nimbus deploy`, `nimbus diff`, `nimbus delete`, `nimbus stacks`: SAM-style deployment from
 * the command line, against a running Nimbus through the CloudFormation and S3 APIs.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { formatFlags, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from '../../cli/args.js';
import { CLIENT_FLAGS, sdkClientConfig } from '../../cli/client.js';
import { BuildError } from './build.js';
import {
  DeployError,
  deleteStack,
  deployStack,
  diffStack,
  listStacks,
  table,
  type DeployOptions,
} from './deploy.js';
import { loadSamConfig, parseKeyValues } from './samconfig.js';

export interface DeployIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal (confirmation prompts). */
  isTTY?: boolean;
  /** Answers a yes/no question (default: reads stdin). */
  confirm?: (question: string) => Promise<boolean>;
}

export interface DeployCommand {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], io?: DeployIo): Promise<number>;
}

const defaultIo = (): DeployIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  isTTY: process.stdin.isTTY === true,
});

const REGION_FLAG: Record<string, FlagSpec> = {
  region: {
    type: 'string',
    placeholder: 'REGION',
    description: 'AWS region (default $AWS_REGION or us-east-1)',
  },
};

const DEPLOY_FLAGS: Record<string, FlagSpec> = {
  'template-file': {
    type: 'string',
    short: 't',
    placeholder: 'FILE',
    description: 'the SAM / CloudFormation template (default template.yaml)',
  },
  'stack-name': {
    type: 'string',
    placeholder: 'NAME',
    description: 'the stack (default from samconfig.toml)',
  },
  'parameter-overrides': {
    type: 'string',
    placeholder: 'K=V ...',
    description: 'template parameters: K=V words or ParameterKey=K,ParameterValue=V',
  },
  tags: { type: 'string', placeholder: 'K=V ...', description: 'stack tags' },
  'skip-unsupported': {
    type: 'boolean',
    description: 'deploy the resources Nimbus serves, skipping unsupported types with a warning',
  },
  'no-build': { type: 'boolean', description: 'upload the code folders as they are (no npm/pip/esbuild)' },
  'config-env': {
    type: 'string',
    placeholder: 'ENV',
    description: 'the samconfig.toml environment (default "default")',
  },
  ...REGION_FLAG,
  ...CLIENT_FLAGS,
};

/** Flags that take several words (`--parameter-overrides A=1 B=2`). */
const MULTI = new Set(['parameter-overrides', 'tags']);

/** parseArgs, plus the words following a multi-word flag (until the next `-` option). */
export function parseDeployArgs(
  argv: readonly string[],
  spec: Record<string, FlagSpec>,
): ParsedArgs & { multi: Record<string, string[]> } {
  const multi: Record<string, string[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(a);
    if (m && MULTI.has(m[1]) && spec[m[1]]) {
      const words = (multi[m[1]] ??= []);
      if (m[2] !== undefined) words.push(m[2]);
      while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) words.push(argv[++i]);
      if (words.length === 0) throw new UsageError(`--${m[1]} needs a value`);
      continue;
    }
    rest.push(a);
  }
  const parsed = parseArgs(rest, spec);
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${parsed.positionals[0]}`);
  return { ...parsed, multi };
}

/** Deploy options from the flags and samconfig.toml (flags win). */
export function resolveDeployOptions(
  argv: readonly string[],
  io: DeployIo,
): { opts: DeployOptions; json: boolean } {
  const args = parseDeployArgs(argv, DEPLOY_FLAGS);
  const f = args.flags;
  const flagTemplate = f['template-file'] as string | undefined;
  const configDir = flagTemplate ? dirname(resolve(flagTemplate)) : process.cwd();
  const config = loadSamConfig(
    join(configDir, 'samconfig.toml'),
    (f['config-env'] as string | undefined) ?? 'default',
  );
  let templateFile =
    flagTemplate ?? (config.templateFile ? resolve(configDir, config.templateFile) : undefined);
  if (!templateFile) {
    templateFile = ['template.yaml', 'template.yml', 'template.json']
      .map((n) => resolve(n))
      .find((p) => existsSync(p));
    if (!templateFile) throw new UsageError('--template-file is required (no template.yaml here)');
  }
  const stackName = (f['stack-name'] as string | undefined) ?? config.stackName;
  if (!stackName) throw new UsageError('--stack-name is required (or stack_name in samconfig.toml)');
  let overrides: Record<string, string>;
  let tags: Record<string, string>;
  try {
    overrides = { ...config.parameterOverrides, ...parseKeyValues(args.multi['parameter-overrides']) };
    tags = { ...config.tags, ...parseKeyValues(args.multi.tags, 'tag') };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sdk = sdkClientConfig(f.endpoint as string | undefined, io.env);
  const region = (f.region as string | undefined) ?? config.region ?? sdk.region;
  return {
    json: f.json === true,
    opts: {
      templateFile,
      stackName,
      parameterOverrides: overrides,
      tags,
      capabilities: config.capabilities,
      skipUnsupported: f['skip-unsupported'] === true,
      noBuild: f['no-build'] === true,
      endpoint: sdk.endpoint,
      region,
      credentials: sdk.credentials,
      env: io.env,
    },
  };
}

function reportError(e: unknown, io: DeployIo, name: string): number {
  if (e instanceof UsageError) throw e;
  if (e instanceof DeployError) {
    io.err(`\nError: ${e.message}\n`);
    return 1;
  }
  if (e instanceof BuildError) {
    io.err(`\nError: ${e.message}\n`);
    return 1;
  }
  const x = e as { name?: string; message?: string };
  io.err(`nimbus ${name}: ${x?.name && x.name !== 'Error' ? `${x.name}: ` : ''}${x?.message ?? String(e)}\n`);
  return 1;
}

const help = (cmd: { usage: string }, spec: Record<string, FlagSpec>) =>
  `${cmd.usage}\n\n${formatFlags(spec)}\n`;

export const deployCommand: DeployCommand = {
  name: 'deploy',
  summary: 'Build, upload and deploy a SAM / CloudFormation template as a stack',
  usage:
    'Usage: nimbus deploy --template-file template.yaml --stack-name NAME [--parameter-overrides K=V ...]\n' +
    '       [--skip-unsupported] [--no-build] [--config-env ENV] [--endpoint URL] [--json]\n',
  async run(argv, io = defaultIo()) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(help(this, DEPLOY_FLAGS));
      return 0;
    }
    const { opts, json } = resolveDeployOptions(argv, io);
    const progress = json ? io.err : io.out;
    try {
      const result = await deployStack({ ...opts, onEvent: (line) => progress(line + '\n') });
      if (json) {
        const o = {
          StackName: result.StackName,
          StackStatus: result.StackStatus,
          Outputs: result.Outputs.map((x) => ({ OutputKey: x.OutputKey, OutputValue: x.OutputValue })),
        };
        io.out(JSON.stringify(o) + '\n');
      }
      return 0;
    } catch (e) {
      if (json && e instanceof DeployError) {
        const r = e.result;
        io.out(
          JSON.stringify({
            StackName: r.StackName,
            StackStatus: r.StackStatus,
            Outputs: r.Outputs.map((x) => ({ OutputKey: x.OutputKey, OutputValue: x.OutputValue })),
          }) + '\n',
        );
      }
      return reportError(e, io, 'deploy');
    }
  },
};

export const diffCommand: DeployCommand = {
  name: 'diff',
  summary: 'Show the changes a deploy would make (a change set, not executed)',
  usage:
    'Usage: nimbus diff --template-file template.yaml --stack-name NAME [--parameter-overrides K=V ...]\n' +
    '       [--no-build] [--config-env ENV] [--endpoint URL] [--json]\n',
  async run(argv, io = defaultIo()) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(help(this, DEPLOY_FLAGS));
      return 0;
    }
    const { opts, json } = resolveDeployOptions(argv, io);
    try {
      const r = await diffStack({ ...opts, onEvent: (line) => (json ? io.err : io.out)(line + '\n') });
      if (json) {
        io.out(
          JSON.stringify({
            StackName: opts.stackName,
            ChangeSetType: r.type,
            Changes: r.changes.map((c) => ({
              Action: c.ResourceChange?.Action,
              LogicalResourceId: c.ResourceChange?.LogicalResourceId,
              ResourceType: c.ResourceChange?.ResourceType,
              Replacement: c.ResourceChange?.Replacement,
            })),
          }) + '\n',
        );
      }
      return 0;
    } catch (e) {
      return reportError(e, io, 'diff');
    }
  },
};

const DELETE_FLAGS: Record<string, FlagSpec> = {
  'stack-name': { type: 'string', placeholder: 'NAME', description: 'the stack to delete' },
  yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation' },
  ...REGION_FLAG,
  ...CLIENT_FLAGS,
};

async function askStdin(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export const deleteCommand: DeployCommand = {
  name: 'delete',
  summary: 'Delete a stack and every resource it created',
  usage: 'Usage: nimbus delete --stack-name NAME [--yes] [--endpoint URL] [--json]\n',
  async run(argv, io = defaultIo()) {
    const args = parseArgs(argv, DELETE_FLAGS);
    if (args.flags.help) {
      io.out(help(this, DELETE_FLAGS));
      return 0;
    }
    const stackName = (args.flags['stack-name'] as string | undefined) ?? args.positionals[0];
    if (!stackName) throw new UsageError('--stack-name is required');
    if (args.flags.yes !== true) {
      if (!io.isTTY) throw new UsageError('not a terminal: pass --yes to delete without confirmation');
      const ok = await (io.confirm ?? askStdin)(
        `Delete the stack ${stackName} and all its resources? [y/N] `,
      );
      if (!ok) {
        io.err('Not deleted.\n');
        return 1;
      }
    }
    const sdk = sdkClientConfig(args.flags.endpoint as string | undefined, io.env);
    const json = args.flags.json === true;
    try {
      const r = await deleteStack({
        stackName,
        endpoint: sdk.endpoint,
        region: (args.flags.region as string | undefined) ?? sdk.region,
        credentials: sdk.credentials,
        onEvent: (line) => (json ? io.err : io.out)(line + '\n'),
      });
      if (json) io.out(JSON.stringify({ StackName: r.StackName, StackStatus: r.StackStatus }) + '\n');
      return 0;
    } catch (e) {
      return reportError(e, io, 'delete');
    }
  },
};

const STACKS_FLAGS: Record<string, FlagSpec> = { ...REGION_FLAG, ...CLIENT_FLAGS };

export const stacksCommand: DeployCommand = {
  name: 'stacks',
  summary: 'List the stacks (without deleted ones)',
  usage: 'Usage: nimbus stacks [--endpoint URL] [--json]\n',
  async run(argv, io = defaultIo()) {
    const args = parseArgs(argv, STACKS_FLAGS);
    if (args.flags.help) {
      io.out(help(this, STACKS_FLAGS));
      return 0;
    }
    if (args.positionals.length) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const sdk = sdkClientConfig(args.flags.endpoint as string | undefined, io.env);
    try {
      const stacks = await listStacks({
        endpoint: sdk.endpoint,
        region: (args.flags.region as string | undefined) ?? sdk.region,
        credentials: sdk.credentials,
      });
      const rows = stacks.map((s) => ({
        StackName: s.StackName ?? '',
        StackStatus: s.StackStatus ?? '',
        LastUpdatedTime: (s.LastUpdatedTime ?? s.CreationTime)?.toISOString() ?? '',
      }));
      if (args.flags.json === true) io.out(JSON.stringify({ Stacks: rows }) + '\n');
      else if (rows.length === 0) io.out('No stacks.\n');
      else
        io.out(
          table(
            ['Name', 'Status', 'Updated'],
            rows.map((r) => [r.StackName, r.StackStatus, r.LastUpdatedTime]),
          ).join('\n') + '\n',
        );
      return 0;
    } catch (e) {
      return reportError(e, io, 'stacks');
    }
  },
};

export const deployCommands: DeployCommand[] = [deployCommand, diffCommand, deleteCommand, stacksCommand];
