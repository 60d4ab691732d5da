/**
 * The Lambda Runtime API (2018-06-01), served by the agent inside the sandbox for custom
 * runtimes (`provided`, `provided.al2`, `provided.al2023`): one invocation at a time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { InvokeMessage } from './protocol.js';

export interface RuntimeApi {
  port: number;
  invoke(msg: InvokeMessage): Promise<{ ok: boolean; payload: string }>;
}

const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;
const PREFIX = '/2018-06-01/runtime';

export function startRuntimeApi(opts: {
  port: number;
  onFirstNext: () => void;
  onInitError: (payload: string) => void;
}): Promise<RuntimeApi> {
  let firstNext = true;
  let waiting: ServerResponse | undefined;
  let queued: InvokeMessage | undefined;
  let current: { msg: InvokeMessage; done: (r: { ok: boolean; payload: string }) => void } | undefined;
  let pendingDone: ((r: { ok: boolean; payload: string }) => void) | undefined;

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };

  const deliver = (res: ServerResponse, msg: InvokeMessage) => {
    current = { msg, done: pendingDone! };
    pendingDone = undefined;
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': msg.requestId,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + msg.remainingMs),
      'Lambda-Runtime-Invoked-Function-Arn': msg.invokedFunctionArn,
      'Content-Length': Buffer.byteLength(msg.payload),
    };
    if (msg.traceId) headers['Lambda-Runtime-Trace-Id'] = msg.traceId;
    if (msg.clientContext) {
      headers['Lambda-Runtime-Client-Context'] = Buffer.from(msg.clientContext, 'base64').toString('utf8');
    }
    res.writeHead(200, headers);
    res.end(msg.payload);
  };

  const readBody = (req: IncomingMessage): Promise<Buffer | undefined> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_RESPONSE_BYTES ? undefined : Buffer.concat(chunks)));
      req.on('error', () => resolve(Buffer.alloc(0)));
    });

  const server = createServer((req, res) => {
    void (async () => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) {
        if (firstNext) {
          firstNext = false;
          opts.onFirstNext();
        }
        if (queued) {
          const msg = queued;
          queued = undefined;
          deliver(res, msg);
        } else {
          waiting = res;
        }
        return;
      }
      if (req.method === 'POST' && url === `${PREFIX}/init/error`) {
        const body = (await readBody(req)) ?? Buffer.alloc(0);
        const type = req.headers['lambda-runtime-function-error-type'];
        opts.onInitError(body.length > 0 ? body.toString('utf8') : JSON.stringify({ errorType: type ?? 'Runtime.Unknown', errorMessage: '' }));
        json(res, 202, { status: 'OK' });
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && m) {
        const id = decodeURIComponent(m[1]);
        const body = await readBody(req);
        if (!current || current.msg.requestId !== id) {
          json(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
          return;
        }
        if (body === undefined) {
          json(res, 413, {
            errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            errorType: 'RequestEntityTooLarge',
          });
          const c = current;
          current = undefined;
          c.done({
            ok: false,
            payload: JSON.stringify({
              errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
              errorType: 'Function.ResponseSizeTooLarge',
            }),
          });
          return;
        }
        const c = current;
        current = undefined;
        json(res, 202, { status: 'OK' });
        if (m[2] === 'response') {
          c.done({ ok: true, payload: body.length > 0 ? body.toString('utf8') : 'null' });
        } else {
          const type = String(req.headers['lambda-runtime-function-error-type'] ?? 'Unhandled');
          c.done({
            ok: false,
            payload: body.length > 0 ? body.toString('utf8') : JSON.stringify({ errorType: type, errorMessage: '' }),
          });
        }
        return;
      }
      json(res, 404, { errorMessage: 'Not Found', errorType: 'InvalidRequest' });
    })();
  });
  server.keepAliveTimeout = 0;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.unref();
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : opts.port,
        invoke(msg) {
          return new Promise((done) => {
            pendingDone = done;
            if (waiting) {
              const res = waiting;
              waiting = undefined;
              deliver(res, msg);
            } else {
              queued = msg;
            }
          });
        },
      });
    });
  });
}
