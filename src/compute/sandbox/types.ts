/**
 * The compute layer's boundary between the Lambda engine (what to run, limits, logs,
 * concurrency) and the instance manager (where and how it runs: sandboxes, warm instances,
 * spares). The engine never sees a process; the manager never sees the Lambda API.
 */

export type IsolationLevel = 'bubblewrap' | 'none';

export interface SandboxCapabilities {
  level: IsolationLevel;
  bubblewrap: boolean;
  cgroups: 'v1' | 'v2' | 'none';
  /** Why isolation is degraded (missing bubblewrap, no cgroup access, ...); absent when full. */
  reason?: string;
  /** Versions that really run, e.g. { node: '20.20.2', python: '3.11.7' }. */
  runtimes: Record<string, string>;
}

/** Everything needed to start an instance of one function version. */
export interface FunctionSpec {
  /** Instances with the same key are interchangeable (function version + code + configuration revision). */
  key: string;
  accountId: string;
  region: string;
  functionName: string;
  /** `$LATEST` or a version number. */
  functionVersion: string;
  runtime: string;
  handler: string;
  /** Host directory with the extracted code (read-only, world-readable files). */
  codeDir: string;
  /** Host directory with the function's layers merged (read-only at /opt); absent without layers. */
  optDir?: string;
  memoryMb: number;
  timeoutSec: number;
  /** The function's own environment variables. */
  environment: Record<string, string>;
  /** Full network egress (per-function opt-in); otherwise only Nimbus's AWS endpoint. */
  egress: boolean;
  /** `/aws/lambda/<name>`. */
  logGroup: string;
  architecture: 'x86_64' | 'arm64';
  /** Credentials the sandbox's AWS SDK uses against Nimbus (for the function's account). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface InvokeInput {
  requestId: string;
  payload: Buffer;
  invokedFunctionArn: string;
  /** Epoch ms after which the instance is killed (Task timed out). */
  deadline: number;
  /** Base64 JSON, as in X-Amz-Client-Context. */
  clientContext?: string;
  traceId?: string;
  /**
   * Receives a streamified handler's response chunks as they are written (`contentType` with
   * the first). Without it they are gathered into the result's payload, as a plain Invoke of
   * such a function answers.
   */
  onChunk?: (chunk: Buffer, contentType?: string) => void;
}

export interface LogLine {
  /** Epoch ms. */
  time: number;
  message: string;
}

export interface InvokeResult {
  /**
   * ok: the handler returned; error: it threw or reported an error (payload is Lambda's
   * error JSON); timeout / crashed: the instance was killed (payload is Lambda's error JSON,
   * e.g. Sandbox.Timedout or Runtime.ExitError) and will not be reused.
   */
  status: 'ok' | 'error' | 'timeout' | 'crashed';
  /** The response, or Lambda's error JSON; for a streamed response given to onChunk, empty when ok. */
  payload: Buffer;
  /** Set when the handler was streamified (awslambda.streamifyResponse): its content type. */
  streamed?: { contentType: string };
  /** `Unhandled` for anything but ok. */
  functionError?: 'Unhandled';
  durationMs: number;
  coldStart: boolean;
  /** On a cold start: time to start the runtime and load the handler (module init). */
  initDurationMs?: number;
  /** Peak memory of the instance so far (cgroup, or RSS without cgroups). */
  maxMemoryUsedMb: number;
  /** Output of module init (cold start only), in order. */
  initLogs: LogLine[];
  /** Output of this invocation, in order (console.* and raw stdout/stderr). */
  logs: LogLine[];
  /** The instance's log stream name, e.g. `2026/11/28/[$LATEST]0123...`. */
  logStream: string;
  instanceId: string;
}

export interface InstanceStats {
  spares: number;
  idle: number;
  busy: number;
  starting: number;
}

export interface InstanceManager {
  readonly capabilities: SandboxCapabilities;
  /** Runs one invocation on an idle instance of spec.key, or on a new one (from a spare when possible). */
  invoke(spec: FunctionSpec, input: InvokeInput): Promise<InvokeResult>;
  /** Stops the idle instances whose key starts with the prefix; busy ones stop when they finish. */
  retire(keyPrefix: string): void;
  stats(): InstanceStats;
  close(): Promise<void>;
}
