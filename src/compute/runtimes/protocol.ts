/**
 * Messages between the instance manager (host) and the runtime agent (inside the sandbox),
 * carried over Node's IPC channel. This file is mounted inside the sandbox with the agent:
 * it must import nothing outside this directory.
 */

export interface InitMessage {
  t: 'init';
  runtime: string;
  handler: string;
  taskRoot: string;
  /** The complete environment the function sees (Lambda's variables + its own). */
  env: Record<string, string>;
  /** Interpreter for python runtimes (absolute path inside the sandbox). */
  python?: string;
  /** Port for the Runtime API of custom runtimes (0 = any free port). */
  runtimeApiPort?: number;
}

export interface InvokeMessage {
  t: 'invoke';
  requestId: string;
  payload: string;
  invokedFunctionArn: string;
  /** Milliseconds left before the deadline, measured by the host at send time. */
  remainingMs: number;
  clientContext?: string;
  traceId?: string;
}

export type HostMessage = InitMessage | InvokeMessage;

export type AgentMessage =
  | { t: 'started' }
  | { t: 'ready'; clean?: boolean }
  | { t: 'init-error'; payload: string; clean?: boolean }
  | { t: 'log'; time: number; message: string }
  /**
   * A chunk of a streamed response (`awslambda.streamifyResponse`), sent as the handler writes
   * it: `data` is base64; `contentType` rides on the first chunk of an invocation.
   */
  | { t: 'chunk'; requestId: string; data: string; contentType?: string }
  /**
   * `clean`: nothing reached stdout/stderr since the last marker, so no marker follows.
   * `stream`: the handler was streamified; its body went out as chunks (payload is '' when ok,
   * Lambda's error JSON when it failed, mid-stream or before).
   */
  | {
      t: 'result';
      requestId: string;
      ok: boolean;
      payload: string;
      clean?: boolean;
      stream?: { contentType: string };
    };

/**
 * Written on stdout after every invocation (and after init) that may have written to
 * stdout/stderr, so the host knows the output is complete. When nothing could have written
 * there (console.* goes through the control channel), the agent skips it and says `clean`,
 * saving a write and a wake-up on both sides of every warm invoke.
 */
export const DONE_MARKER = '\u0000NIMBUS-DONE:';
