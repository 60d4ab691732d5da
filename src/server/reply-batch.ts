/**
 * Responses written together at the end of the event-loop turn that produced them.
 *
 * A socket write that lands while the peer sleeps wakes it: on loopback the writer pays the
 * wake-up (an inter-processor interrupt; on a virtual machine an exit to the hypervisor), and
 * the peer pays a return from epoll to handle one response before sleeping again. Answering
 * each request the moment it is ready made that the largest single cost of a small DynamoDB
 * request. Writing a turn's responses back to back instead wakes a busy client once for all of
 * them: on `bench:dynamodb` (concurrency 16) it cut server CPU per operation from ~120 to ~88 µs
 * and the client's from ~40 to ~22 µs, and raised throughput by a third. A response waits at
 * most until the check phase of the turn it was produced in.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

interface Pending {
  res: ServerResponse;
  status: number;
  headers: OutgoingHttpHeaders;
  body: string | Buffer | undefined;
}

const INTERNAL = '{"message":"Internal Server Error"}';
const kQueued = Symbol('nimbus.replyQueued');
let pending: Pending[] = [];

/** True once a reply is queued or written: a second reply to the same request is dropped. */
export function replied(res: ServerResponse): boolean {
  return res.headersSent || (res as unknown as Record<symbol, boolean>)[kQueued] === true;
}

/** Queues `res`'s reply; the turn's replies are written together in its check phase. */
export function writeReply(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: string | Buffer | undefined,
): void {
  if (replied(res)) return;
  (res as unknown as Record<symbol, boolean>)[kQueued] = true;
  pending.push({ res, status, headers, body });
  if (pending.length === 1) setImmediate(flush);
}

function flush(): void {
  const batch = pending;
  pending = [];
  for (const p of batch) {
    if (p.res.destroyed) continue;
    try {
      p.res.writeHead(p.status, p.headers);
      p.res.end(p.body);
    } catch {
      // A header Node refuses (it validates names and values at writeHead): answered as a
      // failure, and the rest of the batch is still written.
      if (p.res.headersSent) p.res.destroy();
      else p.res.writeHead(500, { 'content-type': 'application/json' }).end(INTERNAL);
    }
  }
}
