/**
 * A response body sent as its chunks come (the head already written): each chunk written at once,
 * waiting while the socket is full (a slow client holds the producer's chunks, not the socket's
 * buffer), then the end. A stream that fails cuts the connection: after the head there is no other
 * way to tell the client. Resolves when the body is over (or the client went away).
 */
import type { ServerResponse } from 'node:http';

export async function streamBody(
  res: ServerResponse,
  stream: AsyncIterable<Buffer>,
  onError?: (e: unknown) => void,
): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (res.destroyed) return;
      if (chunk.length && !res.write(chunk))
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go).off('close', go);
            resolve();
          };
          res.on('drain', go).on('close', go);
        });
    }
    res.end();
  } catch (e) {
    onError?.(e);
    res.destroy();
  }
}
