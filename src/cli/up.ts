/** `nimbus up`: validate the configuration once, start everything, shut down on SIGTERM/SIGINT. */
import { readFileSync } from 'node:fs';
import {
  defaultConfig,
  type AccessKey,
  type AuthMode,
  type IsolationMode,
  type NimbusConfig,
} from '../core/config.js';
import { startNimbus, type Nimbus, type StartOptions } from '../server/app.js';
import { formatFlags, parseArgs, UsageError, type FlagSpec } from './args.js';
import { registerCommand } from './registry.js';
import { parsePrivateTargets } from '../gateway/private-targets.js';

export const UP_FLAGS: Record<string, FlagSpec> = {
  port: {
    type: 'string',
    short: 'p',
    placeholder: 'PORT',
    description: 'TCP port (default 4566, $NIMBUS_PORT)',
  },
  host: { type: 'string', placeholder: 'HOST', description: 'address to bind (default 127.0.0.1)' },
  'data-dir': {
    type: 'string',
    placeholder: 'DIR',
    description: 'state directory (default .nimbus, $NIMBUS_DATA_DIR)',
  },
  isolation: {
    type: 'string',
    placeholder: 'auto|strict|none',
    description: 'sandboxing: strict refuses to start without it (default auto, $NIMBUS_ISOLATION)',
  },
  auth: {
    type: 'string',
    placeholder: 'dev|strict',
    description: 'SigV4 checking (default dev, $NIMBUS_AUTH)',
  },
  'keys-file': {
    type: 'string',
    placeholder: 'FILE',
    description: 'JSON [{accessKeyId, secretAccessKey, accountId}] ($NIMBUS_KEYS=AKID:SECRET:ACCOUNT,...)',
  },
  storage: {
    type: 'string',
    placeholder: 'sqlite|postgres://...',
    description: 'where state lives (default sqlite, $NIMBUS_STORAGE)',
  },
  region: {
    type: 'string',
    placeholder: 'REGION',
    description: 'region for unsigned requests (default us-east-1)',
  },
  'log-level': { type: 'string', placeholder: 'LEVEL', description: 'debug|info|warn|error (default info)' },
  'warm-spares': {
    type: 'string',
    placeholder: 'N',
    description: 'started sandboxes kept ready (default 2)',
  },
  'api-port': {
    type: 'string',
    placeholder: 'PORT',
    description: 'also serve one API at the root of this port, like sam local start-api ($NIMBUS_API_PORT)',
  },
  api: {
    type: 'string',
    placeholder: 'NAME|ID[/STAGE]',
    description: 'the API --api-port serves (default: the only one; $NIMBUS_API)',
  },
  'api-rate-limit': {
    type: 'string',
    placeholder: 'RPS',
    description:
      "API Gateway's account throttle, requests/s (default 10000, AWS's quota; $NIMBUS_API_RATE_LIMIT)",
  },
  'api-burst-limit': {
    type: 'string',
    placeholder: 'N',
    description: "API Gateway's account burst (default 5000; $NIMBUS_API_BURST_LIMIT)",
  },
  'tls-port': {
    type: 'string',
    placeholder: 'PORT',
    description: 'also serve HTTPS (and wss://) on this port ($NIMBUS_TLS_PORT)',
  },
  'tls-cert': {
    type: 'string',
    placeholder: 'FILE',
    description:
      'PEM certificate chain for --tls-port (default: a local CA in DATA_DIR/tls; $NIMBUS_TLS_CERT)',
  },
  'tls-key': {
    type: 'string',
    placeholder: 'FILE',
    description: 'PEM private key of --tls-cert ($NIMBUS_TLS_KEY)',
  },
  'private-target': {
    type: 'string',
    repeatable: true,
    placeholder: 'NAME=URL',
    description:
      'private integrations: an NLB host or listener/Cloud Map ARN served by a local URL (repeatable; $NIMBUS_PRIVATE_TARGETS)',
  },
  example: { type: 'boolean', description: 'also deploy the bundled example app' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
};

/** Set by whoever wires the rest of Nimbus (Lambda, examples) into `nimbus up`. */
export const upHooks: {
  startOptions?: (config: NimbusConfig) => StartOptions;
  /** Deploys the example app (`--example`). */
  example?: (nimbus: Nimbus) => Promise<void>;
} = {};

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function int(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return Number(value);
}

function checkKey(k: unknown, where: string): AccessKey {
  const o = k as Record<string, unknown>;
  if (
    !o ||
    typeof o.accessKeyId !== 'string' ||
    o.accessKeyId === '' ||
    typeof o.secretAccessKey !== 'string' ||
    o.secretAccessKey === '' ||
    typeof o.accountId !== 'string' ||
    !/^\d{12}$/.test(o.accountId)
  ) {
    throw new UsageError(`${where}: each key needs accessKeyId, secretAccessKey and a 12-digit accountId`);
  }
  return { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, accountId: o.accountId };
}

/** `AKID:SECRET:ACCOUNT,...` */
export function parseKeysEnv(value: string): AccessKey[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const parts = entry.split(':');
      if (parts.length !== 3) throw new UsageError('NIMBUS_KEYS entries look like AKID:SECRET:ACCOUNT');
      return checkKey(
        { accessKeyId: parts[0], secretAccessKey: parts[1], accountId: parts[2] },
        'NIMBUS_KEYS',
      );
    });
}

export function parseKeysFile(text: string, file: string): AccessKey[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: not valid JSON`);
  }
  const list = Array.isArray(data) ? data : (data as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new UsageError(`${file}: expected an array of keys or {"keys": [...]}`);
  return list.map((k) => checkKey(k, file));
}

/** Flags over environment over defaults, validated into one NimbusConfig. */
export function buildConfig(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): NimbusConfig {
  const str = (flag: string, envName?: string) => {
    const v = flags[flag];
    if (typeof v === 'string') return v;
    return envName ? env[envName] : undefined;
  };
  const c = defaultConfig();
  const port = str('port', 'NIMBUS_PORT');
  if (port !== undefined) c.port = int('port', port, 0, 65535);
  c.host = str('host') ?? c.host;
  const apiPort = str('api-port', 'NIMBUS_API_PORT');
  if (apiPort !== undefined) c.apiPort = int('api-port', apiPort, 0, 65535);
  const api = str('api', 'NIMBUS_API');
  if (api !== undefined) {
    if (c.apiPort === undefined) throw new UsageError('--api needs --api-port');
    c.api = api;
  }
  c.dataDir = str('data-dir', 'NIMBUS_DATA_DIR') ?? c.dataDir;
  const storage = str('storage', 'NIMBUS_STORAGE');
  if (storage !== undefined) {
    if (storage !== 'sqlite' && !/^postgres(ql)?:\/\/.+/.test(storage)) {
      throw new UsageError(`--storage must be sqlite or a postgres:// URL (got "${storage}")`);
    }
    c.storage = storage;
  }
  c.region = str('region', 'AWS_REGION') ?? c.region;
  const level = str('log-level', 'NIMBUS_LOG_LEVEL');
  if (level !== undefined)
    c.logLevel = oneOf('log-level', level, ['debug', 'info', 'warn', 'error'] as const);
  const isolation = str('isolation', 'NIMBUS_ISOLATION');
  if (isolation !== undefined) {
    c.compute.isolation = oneOf<IsolationMode>('isolation', isolation, ['auto', 'strict', 'none']);
  }
  const rate = str('api-rate-limit', 'NIMBUS_API_RATE_LIMIT');
  if (rate !== undefined) c.apiThrottle.rate = int('api-rate-limit', rate, 1, 1_000_000_000);
  const burst = str('api-burst-limit', 'NIMBUS_API_BURST_LIMIT');
  if (burst !== undefined) c.apiThrottle.burst = int('api-burst-limit', burst, 1, 1_000_000_000);
  const tlsPort = str('tls-port', 'NIMBUS_TLS_PORT');
  const certFile = str('tls-cert', 'NIMBUS_TLS_CERT');
  const keyFile = str('tls-key', 'NIMBUS_TLS_KEY');
  if (tlsPort !== undefined) {
    if ((certFile === undefined) !== (keyFile === undefined))
      throw new UsageError('--tls-cert and --tls-key go together');
    c.tls = { port: int('tls-port', tlsPort, 0, 65535), ...(certFile ? { certFile, keyFile } : {}) };
  } else if (certFile !== undefined || keyFile !== undefined) {
    throw new UsageError('--tls-cert and --tls-key need --tls-port');
  }
  const targets = str('private-target', 'NIMBUS_PRIVATE_TARGETS');
  if (targets !== undefined) {
    try {
      c.privateTargets = parsePrivateTargets(targets.split('\n'));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const spares = str('warm-spares', 'NIMBUS_WARM_SPARES');
  if (spares !== undefined) c.compute.warmSpares = int('warm-spares', spares, 0, 1000);
  const auth = str('auth', 'NIMBUS_AUTH');
  const mode: AuthMode = auth === undefined ? 'dev' : oneOf<AuthMode>('auth', auth, ['dev', 'strict']);
  const keys: AccessKey[] = [];
  const file = str('keys-file', 'NIMBUS_KEYS_FILE');
  if (file !== undefined) {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw new UsageError(`cannot read --keys-file ${file}: ${(e as Error).message}`);
    }
    keys.push(...parseKeysFile(text, file));
  }
  if (env.NIMBUS_KEYS) keys.push(...parseKeysEnv(env.NIMBUS_KEYS));
  if (mode === 'strict' && keys.length === 0) {
    throw new UsageError('--auth strict needs keys: --keys-file FILE or NIMBUS_KEYS=AKID:SECRET:ACCOUNT');
  }
  c.auth = { mode, keys };
  return c;
}

export function banner(nimbus: Nimbus): string {
  const c = nimbus.config;
  return [
    '',
    `  Nimbus is up`,
    `    endpoint   ${nimbus.endpoint}   (AWS SDK: endpoint=${nimbus.endpoint}, any region)`,
    `    socket     ${nimbus.socketPath}`,
    `    storage    ${nimbus.store.description}`,
    `    auth       ${c.auth.mode}${c.auth.mode === 'strict' ? ` (${c.auth.keys.length} keys)` : ' (any key -> account 000000000000)'}`,
    `    isolation  ${c.compute.isolation} (requested; see ${nimbus.endpoint}/_nimbus/health)`,
    `    health     ${nimbus.endpoint}/_nimbus/health`,
    ...(nimbus.tlsEndpoint
      ? [
          `    https      ${nimbus.tlsEndpoint}${nimbus.tlsCaFile ? `   (trust ${nimbus.tlsCaFile}: NODE_EXTRA_CA_CERTS, curl --cacert)` : ''}`,
        ]
      : []),
    ...(nimbus.apiPortUrl
      ? [
          `    api port   ${nimbus.apiPortUrl}   (serves ${c.api ? `API ${c.api}` : 'the only API'} at its root)`,
        ]
      : []),
    '',
    '  Ctrl-C stops it.',
    '',
  ].join('\n');
}

export const USAGE = `Usage: nimbus up [options]

Starts every Nimbus service in this process, with its AWS-compatible APIs on one port.

Options:
${formatFlags(UP_FLAGS)}
`;

export async function runUp(argv: string[]): Promise<number> {
  const args = parseArgs(argv, UP_FLAGS);
  if (args.flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.positionals.length) throw new UsageError(`unexpected argument: ${args.positionals[0]}`);
  const config = buildConfig(args.flags, process.env);
  if (args.flags.example && !upHooks.example)
    throw new UsageError('--example is not available in this build');
  const nimbus = await startNimbus(config, upHooks.startOptions?.(config) ?? {});
  process.stdout.write(banner(nimbus));
  if (args.flags.example) await upHooks.example!(nimbus);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stderr.write(`\n${signal} again: exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      process.stderr.write(`\n${signal}: shutting down (finishing in-flight requests)...\n`);
      nimbus.close().then(
        () => resolve(0),
        (e) => {
          process.stderr.write(`shutdown failed: ${(e as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

registerCommand({
  name: 'up',
  summary: 'start Nimbus (all services, one port)',
  usage: USAGE,
  run: runUp,
});
