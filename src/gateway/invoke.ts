/**
 * Integration calls: a synchronous Lambda invoke through the Lambda engine, bounded by the
 * integration timeout. Shared by HTTP APIs and (later) REST APIs.
 */
import { parseArn } from '../core/ids.js';
import type { LambdaEngine } from '../compute/engine.js';

export interface InvokeResult {
  payload: Buffer;
  functionError?: string;
}

export class IntegrationTimeout extends Error {}

/** The end of a streamed call: a plain handler's whole payload, or how a streamified one ended. */
export interface StreamInvokeResult {
  /** Whether the handler was streamified (its body went to `onChunk` as it was written). */
  streamed: boolean;
  /** The stream's content type (`application/octet-stream` unless the handler set one). */
  contentType?: string;
  /** A plain handler's response. */
  payload?: Buffer;
  /** The error type of a failed call (its message is `errorMessage`). */
  functionError?: string;
  errorMessage?: string;
}

/**
 * InvokeWithResponseStream: each chunk goes to `onChunk` as the handler writes it. Not bounded by a
 * timer (a stream lasts as long as the function's own timeout allows).
 */
export type StreamInvoker = (
  accountId: string,
  functionArn: string,
  payload: Buffer,
  onChunk: (chunk: Buffer, contentType: string | undefined) => void,
) => Promise<StreamInvokeResult>;

/**
 * Calls a function with a payload; rejects with IntegrationTimeout after `timeoutMs`. `stream`,
 * when the invoker has it, is the streaming call.
 */
export type Invoker = ((
  accountId: string,
  functionArn: string,
  payload: Buffer,
  timeoutMs: number,
) => Promise<InvokeResult>) & { stream?: StreamInvoker };

export function lambdaInvoker(engine: LambdaEngine, defaultRegion: string): Invoker {
  const invoke: Invoker = (accountId, functionArn, payload, timeoutMs) => {
    let call: ReturnType<LambdaEngine['invoke']>;
    try {
      const region = parseArn(functionArn)?.region || defaultRegion;
      call = engine.invoke({ accountId, region }, { FunctionName: functionArn, Payload: payload });
    } catch (e) {
      return Promise.reject(e);
    }
    // One promise and one timer per call; a call that loses to the timer still settles later
    // and its outcome is not wanted.
    return new Promise<InvokeResult>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new IntegrationTimeout(`integration timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      call.then(
        (out) => {
          clearTimeout(timer);
          resolve({ payload: out.Payload ?? Buffer.alloc(0), functionError: out.FunctionError });
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  };
  invoke.stream = async (accountId, functionArn, payload, onChunk) => {
    const region = parseArn(functionArn)?.region || defaultRegion;
    const out = await engine.invokeWithResponseStream(
      { accountId, region },
      { FunctionName: functionArn, Payload: payload },
      (chunk, contentType) => onChunk(chunk, contentType),
    );
    const result: StreamInvokeResult = { streamed: out.Streamed };
    if (out.ResponseStreamContentType !== undefined) result.contentType = out.ResponseStreamContentType;
    if (out.Payload) result.payload = out.Payload;
    if (out.ErrorCode !== undefined) {
      result.functionError = out.ErrorCode;
      result.errorMessage = out.ErrorDetails;
    }
    return result;
  };
  return invoke;
}
