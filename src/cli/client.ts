/**
 * Shared by client commands (`nimbus invoke`, `nimbus logs`, ...): `--endpoint URL`
 * (default NIMBUS_ENDPOINT, else http://127.0.0.1:4566) and `--json`.
 */
import type { FlagSpec, ParsedArgs } from './args.js';

export const CLIENT_FLAGS: Record<string, FlagSpec> = {
  endpoint: {
    type: 'string',
    placeholder: 'URL',
    description: 'Nimbus endpoint (default $NIMBUS_ENDPOINT or http://127.0.0.1:4566)',
  },
  json: { type: 'boolean', description: 'print machine-readable JSON' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

export interface ClientOptions {
  endpoint: string;
  json: boolean;
  /** Ready for `new XxxClient(sdkConfig)`. */
  sdkConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  };
}

export function clientOptions(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ClientOptions {
  const sdkConfig = sdkClientConfig(args.flags.endpoint as string | undefined, env);
  return { endpoint: sdkConfig.endpoint, json: args.flags.json === true, sdkConfig };
}

/**
 * `new XxxClient(...)` options for a client command: the `--endpoint` flag, else
 * NIMBUS_ENDPOINT, else http://127.0.0.1:4566; the region and credentials of the environment
 * (any key works in dev mode).
 */
export function sdkClientConfig(
  endpointFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ClientOptions['sdkConfig'] {
  const endpoint = String(endpointFlag ?? env.NIMBUS_ENDPOINT ?? 'http://127.0.0.1:4566').replace(/\/+$/, '');
  return {
    endpoint,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
  };
}

/** Prints a result: JSON when asked, else `text(value)` (or pretty JSON). */
export function printResult<T>(opts: ClientOptions, value: T, text?: (v: T) => string): void {
  if (opts.json || !text) process.stdout.write(JSON.stringify(value, null, opts.json ? undefined : 2) + '\n');
  else process.stdout.write(text(value) + '\n');
}
