/**
 * The whole configuration, parsed and validated once at start-up (CLI flags over
 * environment variables over defaults). Each service receives only its slice.
 */
export type IsolationMode = 'auto' | 'strict' | 'none';
export type AuthMode = 'dev' | 'strict';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
}

export interface ComputeConfig {
  isolation: IsolationMode;
  /** Started, unassigned sandboxes kept ready for cold starts. */
  warmSpares: number;
  /** An idle instance is stopped after this long without a request. */
  idleTimeoutMs: number;
  /** First host uid used for sandboxes (each instance runs as its own unprivileged uid from here). */
  sandboxUidBase: number;
  /** pids.max of each instance (>= 32: Node needs about 7 threads idle). */
  pidsMax: number;
  /** Lambda limits, AWS defaults. */
  limits: LambdaLimits;
}

export interface LambdaLimits {
  accountConcurrency: number;
  /** Unreserved concurrency that must stay available to functions without reservations. */
  minUnreservedConcurrency: number;
  syncPayloadBytes: number;
  asyncPayloadBytes: number;
  /** Largest streamed response (InvokeWithResponseStream, RESPONSE_STREAM function URLs). */
  streamResponseBytes: number;
  zippedCodeBytes: number;
  unzippedCodeBytes: number;
  envVarsBytes: number;
  minTimeoutSec: number;
  maxTimeoutSec: number;
  minMemoryMb: number;
  maxMemoryMb: number;
}

export const DEFAULT_LAMBDA_LIMITS: LambdaLimits = {
  accountConcurrency: 1000,
  minUnreservedConcurrency: 100,
  syncPayloadBytes: 6 * 1024 * 1024,
  asyncPayloadBytes: 256 * 1024,
  streamResponseBytes: 20 * 1024 * 1024,
  zippedCodeBytes: 50 * 1024 * 1024,
  unzippedCodeBytes: 250 * 1024 * 1024,
  envVarsBytes: 4 * 1024,
  minTimeoutSec: 1,
  maxTimeoutSec: 900,
  minMemoryMb: 128,
  maxMemoryMb: 10240,
};

export interface NimbusConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite` (under dataDir) or a `postgres://` URL. */
  storage: string;
  region: string;
  auth: { mode: AuthMode; keys: AccessKey[] };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  compute: ComputeConfig;
  /** A port of its own serving one API at its root (0: any free port; unset: none). */
  apiPort?: number;
  /** Which API the app port serves: `NAME|ID[/STAGE]` (default: the only API). */
  api?: string;
  /**
   * API Gateway's account-level throttle (steady requests/s and burst), shared by every API of an
   * account on this node. AWS's default quota is 10,000 rps with a 5,000 burst; on AWS it is
   * raised through Service Quotas, here with --api-rate-limit / --api-burst-limit.
   */
  apiThrottle: { rate: number; burst: number };
  /**
   * An HTTPS port serving everything the main port serves (0: any free port; unset: none), with
   * the operator's certificate and key, or else server certificates from a local CA made in
   * `<dataDir>/tls/`.
   */
  tls?: { port: number; certFile?: string; keyFile?: string };
  /** Private (VPC_LINK) integrations' targets: NLB host or listener / Cloud Map ARN -> local base URL. */
  privateTargets?: Map<string, string>;
}

export function defaultConfig(overrides: Partial<NimbusConfig> = {}): NimbusConfig {
  return {
    host: '127.0.0.1',
    port: 4566,
    dataDir: '.nimbus',
    storage: 'sqlite',
    region: 'us-east-1',
    auth: { mode: 'dev', keys: [] },
    logLevel: 'info',
    compute: {
      isolation: 'auto',
      warmSpares: 2,
      idleTimeoutMs: 10 * 60 * 1000,
      sandboxUidBase: 200000,
      pidsMax: 64,
      limits: { ...DEFAULT_LAMBDA_LIMITS },
    },
    apiThrottle: { rate: 10_000, burst: 5_000 },
    ...overrides,
  };
}
