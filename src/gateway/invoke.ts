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

/** Calls a function with a payload; rejects with IntegrationTimeout after `timeoutMs`. */
export type Invoker = (
  accountId: string,
  functionArn: string,
  payload: Buffer,
  timeoutMs: number,
) => Promise<InvokeResult>;

export function lambdaInvoker(engine: LambdaEngine, defaultRegion: string): Invoker {
  return (accountId, functionArn, payload, timeoutMs) => {
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
}
