/**
 * `nimbus invoke` and `nimbus functions`: the Lambda commands of the CLI, through the real
 * @aws-sdk/client-lambda against a running Nimbus (`--endpoint`, default NIMBUS_ENDPOINT or
 * http://127.0.0.1:4566).
 */
import { readFileSync } from 'node:fs';
import { sdkClientConfig } from './client.js';
import { parseArgs } from 'node:util';
import {
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[], io?: CliIo): Promise<number>;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

function client(endpoint: string | undefined, io: CliIo): LambdaClient {
  return new LambdaClient(sdkClientConfig(endpoint, io.env));
}

function describeError(e: unknown): string {
  if (e && typeof e === 'object' && 'name' in e && 'message' in e) {
    return `${String((e as { name: unknown }).name)}: ${String((e as { message: unknown }).message)}`;
  }
  return String(e);
}

/** `--payload JSON` or `--payload @file`; validated as JSON like the AWS CLI does. */
function readPayload(value: string | undefined): Buffer {
  if (value === undefined) return Buffer.from('{}');
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  JSON.parse(text);
  return Buffer.from(text);
}

export const invokeCommand: CliCommand = {
  name: 'invoke',
  summary: 'Invoke a function and print its result',
  usage: 'nimbus invoke NAME [--payload JSON|@file] [--qualifier Q] [--tail] [--json] [--endpoint URL]',
  async run(argv, io = defaultIo) {
    let args;
    try {
      args = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          payload: { type: 'string' },
          qualifier: { type: 'string' },
          tail: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
          endpoint: { type: 'string' },
        },
      });
    } catch (e) {
      io.err(`${describeError(e)}\nusage: ${this.usage}\n`);
      return 2;
    }
    const name = args.positionals[0];
    if (!name || args.positionals.length > 1) {
      io.err(`usage: ${this.usage}\n`);
      return 2;
    }
    let payload: Buffer;
    try {
      payload = readPayload(args.values.payload);
    } catch (e) {
      io.err(`invalid --payload: ${describeError(e)}\n`);
      return 2;
    }
    const lambda = client(args.values.endpoint, io);
    try {
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: name,
          Qualifier: args.values.qualifier,
          Payload: payload,
          LogType: args.values.tail ? 'Tail' : 'None',
        }),
      );
      const body = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
      const log = out.LogResult ? Buffer.from(out.LogResult, 'base64').toString('utf8') : undefined;
      if (args.values.json) {
        let parsed: unknown = body;
        try {
          parsed = body === '' ? null : JSON.parse(body);
        } catch {
          /* not JSON: keep the text */
        }
        io.out(
          JSON.stringify(
            {
              StatusCode: out.StatusCode,
              ExecutedVersion: out.ExecutedVersion,
              FunctionError: out.FunctionError,
              Payload: parsed,
              Log: log,
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        if (log !== undefined) io.err(log.endsWith('\n') ? log : log + '\n');
        io.out(body + '\n');
        if (out.FunctionError)
          io.err(`function error (${out.FunctionError}), version ${out.ExecutedVersion}\n`);
      }
      return out.FunctionError ? 1 : 0;
    } catch (e) {
      io.err(`${describeError(e)}\n`);
      return 1;
    } finally {
      lambda.destroy();
    }
  },
};

export const functionsCommand: CliCommand = {
  name: 'functions',
  summary: 'List the functions',
  usage: 'nimbus functions [--json] [--endpoint URL]',
  async run(argv, io = defaultIo) {
    let args;
    try {
      args = parseArgs({
        args: argv,
        options: { json: { type: 'boolean', default: false }, endpoint: { type: 'string' } },
      });
    } catch (e) {
      io.err(`${describeError(e)}\nusage: ${this.usage}\n`);
      return 2;
    }
    const lambda = client(args.values.endpoint, io);
    try {
      const all: FunctionConfiguration[] = [];
      let marker: string | undefined;
      do {
        const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
        all.push(...(page.Functions ?? []));
        marker = page.NextMarker;
      } while (marker);
      if (args.values.json) {
        io.out(JSON.stringify(all, null, 2) + '\n');
        return 0;
      }
      if (all.length === 0) {
        io.out('No functions.\n');
        return 0;
      }
      const rows = all.map((f) => [
        f.FunctionName ?? '',
        f.Runtime ?? '',
        `${f.MemorySize ?? ''} MB`,
        `${f.Timeout ?? ''} s`,
        f.LastModified ?? '',
      ]);
      const head = ['NAME', 'RUNTIME', 'MEMORY', 'TIMEOUT', 'LAST MODIFIED'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const fmt = (r: string[]) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('  ')
          .trimEnd() + '\n';
      io.out(fmt(head) + rows.map(fmt).join(''));
      return 0;
    } catch (e) {
      io.err(`${describeError(e)}\n`);
      return 1;
    } finally {
      lambda.destroy();
    }
  },
};

export const lambdaCommands: CliCommand[] = [invokeCommand, functionsCommand];
