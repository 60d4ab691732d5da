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
  return async (accountId, functionArn, payload, timeoutMs) => {
    const region = parseArn(functionArn)?.region || defaultRegion;
    const call = engine.invoke({ accountId, region }, { FunctionName: functionArn, Payload: payload });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new IntegrationTimeout(`integration timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const out = await Promise.race([call, timeout]);
      return { payload: out.Payload ?? Buffer.alloc(0), functionError: out.FunctionError };
    } finally {
      clearTimeout(timer);
      // A call that lost the race still settles later; its outcome is not wanted.
      call.catch(() => undefined);
    }
  };
}
