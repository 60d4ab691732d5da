/**
 * Response streaming of REST API proxy integrations (`responseTransferMode: STREAM`): the answer's
 * status and headers go to the client as soon as they are known, then its body chunk by chunk
 * (chunked transfer encoding) as the integration produces it.
 *
 * AWS_PROXY calls the function through InvokeWithResponseStream; its output must be the streaming
 * format: JSON metadata (`statusCode`, `headers`, `cookies`), 8 NUL bytes, then the body
 * (src/compute/http-stream.ts reads it). HTTP_PROXY pipes the backend's body (src/gateway/backend.ts).
 */
import type { ServerResponse } from 'node:http';
import { PreludeReader } from '../../compute/http-stream.js';
import { ChunkQueue } from '../../core/chunk-queue.js';
import { streamBody } from '../../server/stream-body.js';
import type { StreamInvokeResult, StreamInvoker } from '../invoke.js';
import type { HttpResult } from '../response.js';

/** An answer whose body is still arriving: `stream` yields it (and throws when the integration failed mid-way). */
export interface StreamedResult extends HttpResult {
  stream: AsyncIterable<Buffer>;
}

/** AWS reads the metadata and its delimiter within the first 16 KB of the stream. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** How a streamed Lambda call began. */
export type LambdaStreamStart =
  | { kind: 'streaming'; result: StreamedResult }
  /** Ended before the metadata's delimiter: a plain handler's payload, a failure, or a stream without metadata. */
  | { kind: 'ended'; out: StreamInvokeResult }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timeout' }
  /** More than MAX_METADATA_BYTES without the delimiter. */
  | { kind: 'no-metadata' };

const DROPPED = new Set(['content-length', 'transfer-encoding', 'connection']);

/**
 * Starts a streamed call and waits for its metadata (bounded by `timeoutMs`); once the delimiter
 * has come, the result carries the status and headers and streams the rest of the body.
 */
export function startLambdaStream(
  call: StreamInvoker,
  accountId: string,
  functionArn: string,
  payload: Buffer,
  timeoutMs: number,
): Promise<LambdaStreamStart> {
  return new Promise<LambdaStreamStart>((resolve) => {
    const prelude = new PreludeReader();
    let queue: ChunkQueue<Buffer> | undefined;
    let settled = false;
    const settle = (v: LambdaStreamStart) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    const onChunk = (chunk: Buffer) => {
      if (queue) {
        if (chunk.length) queue.push(chunk);
        return;
      }
      if (settled) return;
      const got = prelude.feed(chunk);
      if (!got) {
        if (prelude.pending > MAX_METADATA_BYTES) settle({ kind: 'no-metadata' });
        return;
      }
      const headers: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(got.head.headers))
        if (!DROPPED.has(k)) headers[k] = Array.isArray(v) ? v : [v];
      queue = new ChunkQueue<Buffer>();
      if (got.rest.length) queue.push(got.rest);
      settle({
        kind: 'streaming',
        result: { status: got.head.status, headers, body: Buffer.alloc(0), stream: queue },
      });
    };
    call(accountId, functionArn, payload, onChunk).then(
      (out) => {
        if (!queue) settle({ kind: 'ended', out });
        else if (out.functionError === undefined) queue.end();
        else queue.fail(new Error(`${out.functionError}: ${out.errorMessage ?? ''}`));
      },
      (error: unknown) => {
        if (queue) queue.fail(error);
        else settle({ kind: 'failed', error });
      },
    );
  });
}

/**
 * Writes a streamed answer: status and headers at once (flushed), then each chunk as it comes,
 * waiting for the socket when it is full. A failure mid-way cuts the connection (the client sees
 * an incomplete chunked body). Resolves when the answer is over.
 */
export async function writeStreamed(res: ServerResponse, r: StreamedResult): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = k === 'set-cookie' || v.length > 1 ? v : v[0];
  res.writeHead(r.status, headers);
  res.flushHeaders();
  await streamBody(res, r.stream);
}
