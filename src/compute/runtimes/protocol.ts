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
  | { t: 'ready' }
  | { t: 'init-error'; payload: string }
  | { t: 'log'; time: number; message: string }
  | { t: 'result'; requestId: string; ok: boolean; payload: string };

/** Written on stdout after every invocation (and after init), so the host knows the output is complete. */
export const DONE_MARKER = '\u0000NIMBUS-DONE:';
