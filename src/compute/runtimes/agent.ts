/**
 * The runtime agent: the process that runs INSIDE each sandbox. It starts idle (a warm spare),
 * receives `init` (environment, handler) over the IPC channel, loads the handler once, then
 * runs one invocation at a time. Node.js handlers run in this process; Python handlers run in a
 * child `bootstrap.py`; custom runtimes (`provided*`) run `/var/task/bootstrap` against the
 * Lambda Runtime API served here. Imports only node: builtins and files in this directory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { format, types } from 'node:util';
import { connect, createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import {
  DONE_MARKER,
  type AgentMessage,
  type HostMessage,
  type InitMessage,
  type InvokeMessage,
} from './protocol.js';
import { startRuntimeApi, type RuntimeApi } from './runtime-api.js';
import { traceEnv } from './trace-env.js';

type Send = (m: AgentMessage) => void;
const send: Send = (m) => {
  process.send?.(m);
};

let currentRequestId: string | undefined;
/** process.env, with the per-invocation trace id held in JavaScript (see trace-env.ts). */
const traced = traceEnv(process.env);
process.env = traced.env;
let runtime: Runtime | undefined;

interface InvokeOutcome {
  ok: boolean;
  payload: string;
  /** Set for a streamified handler: its body went to the host as `chunk` messages. */
  stream?: { contentType: string };
}

interface Runtime {
  invoke(msg: InvokeMessage): Promise<InvokeOutcome>;
}

// ---- platform endpoint forwarder: 127.0.0.1:<port> inside the sandbox -> the bound Unix socket

function startForwarder(): void {
  const port = Number(process.env.NIMBUS_FORWARD_PORT);
  const socketPath = process.env.NIMBUS_FORWARD_SOCKET;
  if (!port || !socketPath) return;
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  });
  server.on('error', () => {});
  server.listen(port, '127.0.0.1');
  server.unref();
}

// ---- console in Lambda's format, routed through the control channel

function installConsole(): void {
  const emit = (level: string, args: unknown[]) => {
    const time = Date.now();
    const message = `${new Date(time).toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${format(...args)}`;
    send({ t: 'log', time, message });
  };
  console.log = (...a: unknown[]) => emit('INFO', a);
  console.info = (...a: unknown[]) => emit('INFO', a);
  console.warn = (...a: unknown[]) => emit('WARN', a);
  console.error = (...a: unknown[]) => emit('ERROR', a);
  console.debug = (...a: unknown[]) => emit('DEBUG', a);
  console.trace = (...a: unknown[]) => {
    const err = { name: 'Trace', message: format(...a) } as Error;
    Error.captureStackTrace(err, console.trace);
    emit('TRACE', [err.stack]);
  };
}

// ---- output completeness: the marker on stdout, written only when output may be pending

/** Something may have written to stdout/stderr since the last marker. */
let outputDirty = true;
/** A child process or a non-Node runtime can write at any time: always write the marker. */
let outputAlwaysDirty = false;

function trackOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    stream.write = ((...a: unknown[]) => {
      outputDirty = true;
      return write(...a);
    }) as typeof stream.write;
  }
  const cp = createRequire(import.meta.url)('node:child_process') as Record<string, unknown> & {
    ChildProcess: { prototype: { spawn: (...a: unknown[]) => unknown } };
  };
  const spawnProto = cp.ChildProcess.prototype.spawn;
  cp.ChildProcess.prototype.spawn = function (this: unknown, ...a: unknown[]) {
    outputAlwaysDirty = true;
    return spawnProto.apply(this, a);
  };
  for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
    const orig = cp[name] as (...a: unknown[]) => unknown;
    cp[name] = (...a: unknown[]) => {
      outputAlwaysDirty = true;
      return orig(...a);
    };
  }
  (
    createRequire(import.meta.url)('node:module') as { syncBuiltinESMExports(): void }
  ).syncBuiltinESMExports();
}

/** Writes the marker when output may be pending; true when the host need not wait for one. */
function markDone(requestId: string): boolean {
  if (!outputDirty && !outputAlwaysDirty) return true;
  process.stdout.write(`${DONE_MARKER}${requestId}\n`);
  outputDirty = false;
  return false;
}

// ---- errors as Lambda's Node.js runtime reports them

function errorPayload(err: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  try {
    if (types.isNativeError(err) || (err instanceof Object && 'stack' in err && 'message' in err)) {
      const e = err as Error;
      return {
        errorType: e.name || 'Error',
        errorMessage: String(e.message),
        trace: String(e.stack ?? '').split('\n'),
      };
    }
    return { errorType: typeof err, errorMessage: String(err), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

class InitError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

// ---- Node.js handlers

function moduleType(dir: string, stop: string): 'module' | 'commonjs' {
  for (let d = dir; ; d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        const type = (JSON.parse(readFileSync(pj, 'utf8')) as { type?: string }).type;
        return type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs';
      }
    }
    if (d === stop || d === dirname(d)) return 'commonjs';
  }
}

async function loadNodeHandler(taskRoot: string, handler: string): Promise<(...a: unknown[]) => unknown> {
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  if (dot < 0) throw new InitError('Runtime.MalformedHandlerName', 'Bad handler');
  const modulePath = handler.slice(0, dot);
  const props = handler.slice(dot + 1).split('.');
  const base = resolve(taskRoot, modulePath);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    throw new InitError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${modulePath}'\nRequire stack:\n- /var/runtime/index.mjs`,
    );
  }
  const esm =
    file.endsWith('.mjs') || (file.endsWith('.js') && moduleType(dirname(file), taskRoot) === 'module');
  let mod: Record<string, unknown>;
  try {
    if (esm) {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } else {
      mod = createRequire(join(taskRoot, 'noop.js'))(file) as Record<string, unknown>;
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e instanceof SyntaxError)
      throw new InitError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`);
    if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new InitError('Runtime.ImportModuleError', `Error: ${e.message}`);
    }
    throw err;
  }
  let fn: unknown = mod;
  for (const p of props) fn = fn == null ? undefined : (fn as Record<string, unknown>)[p];
  if (fn === undefined && esm && props.length >= 1) {
    // An ESM module whose CommonJS-style default export holds the handler.
    let alt: unknown = mod.default;
    for (const p of props) alt = alt == null ? undefined : (alt as Record<string, unknown>)[p];
    fn = alt;
  }
  const name = `${modulePath.split('/').pop()}.${props.join('.')}`;
  if (fn === undefined)
    throw new InitError('Runtime.HandlerNotFound', `${name} is undefined or not exported`);
  if (typeof fn !== 'function') throw new InitError('Runtime.HandlerNotFound', `${name} is not a function`);
  return fn as (...a: unknown[]) => unknown;
}

// ---- response streaming: the `awslambda` global of Lambda's Node.js runtime

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';

type Handler = ((...a: unknown[]) => unknown) & { [k: symbol]: unknown };
type WriteFn = (chunk: string | Uint8Array) => void;

interface ResponseStream extends Writable {
  setContentType(contentType: string): void;
  /** Set by HttpResponseStream.from: writes the prelude before the first chunk (as Lambda's runtime). */
  _onBeforeFirstWrite?: (write: WriteFn) => void;
}

class InvalidStreamingOperation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidStreamingOperation';
  }
}

function installAwsLambdaGlobal(): void {
  const awslambda = {
    streamifyResponse(handler: Handler, options?: { highWaterMark?: number }): Handler {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number')
        handler[HANDLER_HIGH_WATER_MARK] = Math.trunc(options.highWaterMark);
      return handler;
    },
    HttpResponseStream: class HttpResponseStream {
      static from(stream: ResponseStream, prelude: unknown): ResponseStream {
        stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
        // JSON: no NUL byte can occur in it, so 8 NULs end it.
        const metadata = JSON.stringify(prelude);
        stream._onBeforeFirstWrite = (write) => {
          write(metadata);
          write(new Uint8Array(8));
        };
        return stream;
      }
    },
  };
  Object.defineProperty(globalThis, 'awslambda', {
    value: awslambda,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

/** A Writable whose chunks go to the host as they are written (one `chunk` message per write). */
function createResponseStream(
  requestId: string,
  highWaterMark: number | undefined,
): { stream: ResponseStream; contentType: () => string } {
  let contentType = DEFAULT_STREAM_CONTENT_TYPE;
  let first = true;
  let writeCalled = false;
  const stream = new Writable({
    ...(highWaterMark !== undefined ? { highWaterMark } : {}),
    write(chunk: Buffer, _encoding, callback) {
      if (chunk.length > 0) {
        const m: Extract<AgentMessage, { t: 'chunk' }> = {
          t: 'chunk',
          requestId,
          data: chunk.toString('base64'),
        };
        if (first) m.contentType = contentType;
        first = false;
        send(m);
      }
      callback();
    },
  }) as ResponseStream;
  stream.setContentType = (ct: string) => {
    if (writeCalled) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    contentType = String(ct);
  };
  const write = Writable.prototype.write.bind(stream) as (...a: unknown[]) => boolean;
  const beforeFirst = () => {
    if (writeCalled) return;
    writeCalled = true;
    if (typeof stream._onBeforeFirstWrite === 'function') stream._onBeforeFirstWrite((c) => write(c));
  };
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    // As Lambda's runtime: anything but a string or bytes is written as JSON.
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) chunk = JSON.stringify(chunk);
    beforeFirst();
    return write(chunk, ...rest);
  }) as ResponseStream['write'];
  const end = Writable.prototype.end.bind(stream) as (...a: unknown[]) => ResponseStream;
  stream.end = ((...a: unknown[]) => {
    if (a.length > 0 && typeof a[0] !== 'function' && a[0] != null) {
      const chunk = a.shift();
      const encoding = typeof a[0] === 'string' ? a.shift() : undefined;
      stream.write(chunk, encoding as BufferEncoding);
    }
    // An HttpResponseStream ended without a body still answers its status and headers.
    beforeFirst();
    return end(...a);
  }) as ResponseStream['end'];
  return { stream, contentType: () => contentType };
}

/**
 * Runs a streamified handler as Lambda's runtime does: handler(event, responseStream, context)
 * must return a promise; the invocation completes once it has resolved and the stream has
 * ended (a stream never ended runs into the timeout). An error thrown or a stream destroyed
 * with an error fails the invocation, after whatever was already streamed.
 */
function runStreaming(
  fn: Handler,
  event: unknown,
  context: unknown,
  requestId: string,
): Promise<InvokeOutcome> {
  return new Promise((resolveOutcome) => {
    const hwm = fn[HANDLER_HIGH_WATER_MARK];
    const { stream, contentType } = createResponseStream(
      requestId,
      typeof hwm === 'number' ? hwm : undefined,
    );
    let settled = false;
    const finish = (ok: boolean, err?: unknown) => {
      if (settled) return;
      settled = true;
      const s = { contentType: contentType() };
      if (ok) return resolveOutcome({ ok: true, payload: '', stream: s });
      const payload = errorPayload(err);
      console.error('Invoke Error \t' + JSON.stringify(payload));
      resolveOutcome({ ok: false, payload: JSON.stringify(payload), stream: s });
    };
    stream.on('error', (e) => finish(false, e));
    let ret: unknown;
    try {
      ret = fn(event, stream, context);
    } catch (err) {
      finish(false, err);
      return;
    }
    if (!ret || typeof (ret as Promise<unknown>).then !== 'function') {
      finish(false, 'Streaming does not support non-async handlers.');
      return;
    }
    (ret as Promise<unknown>).then(
      (value) => {
        if (value !== undefined) console.warn('Streaming handlers ignore return values.');
        if (stream.writableFinished) return finish(true);
        if (stream.destroyed) return finish(false, 'Response stream is not finished.');
        stream.once('finish', () => finish(true));
        stream.once('close', () => finish(false, 'Response stream is not finished.'));
      },
      (e) => finish(false, e),
    );
  });
}

function nodeRuntime(fn: (...a: unknown[]) => unknown, env: Record<string, string>): Runtime {
  const streaming = (fn as Handler)[HANDLER_STREAMING] === STREAM_RESPONSE;
  return {
    invoke(msg) {
      return new Promise((resolveResult) => {
        const deadline = Date.now() + msg.remainingMs;
        let settled = false;
        const finish = (ok: boolean, value: unknown) => {
          if (settled) return;
          settled = true;
          if (ok) {
            let body: string;
            try {
              body = JSON.stringify(value === undefined ? null : value) ?? 'null';
            } catch (err) {
              resolveResult({ ok: false, payload: JSON.stringify(errorPayload(err)) });
              return;
            }
            resolveResult({ ok: true, payload: body });
          } else {
            const payload = errorPayload(value);
            console.error('Invoke Error \t' + JSON.stringify(payload));
            resolveResult({ ok: false, payload: JSON.stringify(payload) });
          }
        };
        const context = {
          callbackWaitsForEmptyEventLoop: true,
          functionName: env.AWS_LAMBDA_FUNCTION_NAME,
          functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
          invokedFunctionArn: msg.invokedFunctionArn,
          memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
          awsRequestId: msg.requestId,
          logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
          logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
          identity: undefined as unknown,
          clientContext: undefined as unknown,
          getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
          done: (err: unknown, value?: unknown) => callbackDone(err, value),
          succeed: (value: unknown) => callbackDone(null, value),
          fail: (err: unknown) => callbackDone(err ?? 'handled'),
        };
        if (msg.clientContext) {
          try {
            const cc = JSON.parse(Buffer.from(msg.clientContext, 'base64').toString('utf8')) as Record<
              string,
              unknown
            >;
            context.clientContext = { client: cc.client, custom: cc.custom, env: cc.env };
          } catch {
            context.clientContext = undefined;
          }
        }
        if (streaming) {
          let event: unknown;
          try {
            event = JSON.parse(msg.payload || 'null');
          } catch (err) {
            finish(false, err);
            return;
          }
          void runStreaming(fn as Handler, event, context, msg.requestId).then(resolveResult);
          return;
        }
        let callbackUsed = false;
        function callbackDone(err: unknown, value?: unknown): void {
          if (callbackUsed || settled) return;
          callbackUsed = true;
          const respond = () => (err != null ? finish(false, err) : finish(true, value));
          if (!context.callbackWaitsForEmptyEventLoop) return respond();
          // Respond when the event loop has nothing left but the agent's own (unref'd) channel.
          process.channel?.unref();
          const onEmpty = () => {
            process.removeListener('beforeExit', onEmpty);
            process.channel?.ref();
            respond();
          };
          process.on('beforeExit', onEmpty);
        }
        const callback = (err: unknown, value?: unknown) => callbackDone(err, value);
        try {
          const ret = fn(JSON.parse(msg.payload || 'null'), context, callback);
          if (fn.length < 3 || (ret && typeof (ret as Promise<unknown>).then === 'function')) {
            if (ret && typeof (ret as Promise<unknown>).then === 'function') {
              (ret as Promise<unknown>).then(
                (v) => {
                  if (!callbackUsed) finish(true, v);
                },
                (e) => {
                  if (!callbackUsed) finish(false, e);
                },
              );
            } else if (fn.length < 3) {
              finish(true, ret);
            }
          }
        } catch (err) {
          finish(false, err);
        }
      });
    },
  };
}

// ---- Python handlers: bootstrap.py as a child speaking JSON lines (stdin in, fd 3 out)

function pythonRuntime(init: InitMessage): Promise<Runtime> {
  return new Promise((resolveInit, rejectInit) => {
    const child = spawn(init.python ?? 'python3', ['-u', join(dirname(process.argv[1]), 'bootstrap.py')], {
      cwd: init.taskRoot,
      env: init.env,
      stdio: ['pipe', 'inherit', 'inherit', 'pipe'],
    });
    let buf = '';
    let pending: ((r: { ok: boolean; payload: string }) => void) | undefined;
    let ready = false;
    const out = child.stdio[3] as NodeJS.ReadableStream;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = JSON.parse(line) as { t: string; ok?: boolean; payload?: string };
        if (m.t === 'ready') {
          ready = true;
          resolveInit({
            invoke: (msg) =>
              new Promise((r) => {
                pending = r;
                child.stdin!.write(JSON.stringify(msg) + '\n');
              }),
          });
        } else if (m.t === 'init-error') {
          rejectInit(new PayloadError(m.payload ?? '{}'));
        } else if (m.t === 'result') {
          const p = pending;
          pending = undefined;
          p?.({ ok: !!m.ok, payload: m.payload ?? 'null' });
        }
      }
    });
    child.on('exit', (code, signal) => {
      // The Python process is the function: when it dies, the instance dies with it.
      if (!ready) {
        rejectInit(
          new InitError(
            'Runtime.ExitError',
            `Runtime exited with error: ${signal ? 'signal: ' + signal : 'exit status ' + code}`,
          ),
        );
      }
      process.exit(code ?? 1);
    });
    child.stdin!.write(JSON.stringify({ t: 'init', handler: init.handler, taskRoot: init.taskRoot }) + '\n');
  });
}

class PayloadError extends Error {
  constructor(readonly payload: string) {
    super('init error');
  }
}

// ---- custom runtimes: /var/task/bootstrap against the Runtime API served by the agent

async function customRuntime(init: InitMessage): Promise<Runtime> {
  let api: RuntimeApi | undefined;
  return await new Promise<Runtime>((resolveInit, rejectInit) => {
    let ready = false;
    startRuntimeApi({
      port: init.runtimeApiPort ?? 0,
      onFirstNext: () => {
        ready = true;
        resolveInit({ invoke: (msg) => api!.invoke(msg) });
      },
      onInitError: (payload) => rejectInit(new PayloadError(payload)),
    })
      .then((a) => {
        api = a;
        const bootstrap = join(init.taskRoot, 'bootstrap');
        if (!existsSync(bootstrap)) {
          rejectInit(
            new InitError(
              'Runtime.InvalidEntrypoint',
              `Couldn't find valid bootstrap(s): [${bootstrap} /opt/bootstrap]`,
            ),
          );
          return;
        }
        const child = spawn(bootstrap, [], {
          cwd: init.taskRoot,
          env: { ...init.env, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${a.port}` },
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        child.on('error', (err) =>
          rejectInit(new InitError('Runtime.InvalidEntrypoint', String(err.message))),
        );
        child.on('exit', (code, signal) => {
          if (!ready) {
            rejectInit(
              new InitError(
                'Runtime.ExitError',
                `Runtime exited with error: ${signal ? 'signal: ' + signal : 'exit status ' + code}`,
              ),
            );
          }
          process.exit(code ?? 1);
        });
      })
      .catch((err) => rejectInit(err));
  });
}

// ---- main loop

async function onInit(init: InitMessage): Promise<void> {
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, init.env);
  try {
    process.chdir(init.taskRoot);
  } catch {
    // the task root may be absent for a custom runtime that reports its own error
  }
  // Python and custom runtimes are child processes writing to the same pipe at any time.
  if (init.runtime.startsWith('python') || init.runtime.startsWith('provided')) outputAlwaysDirty = true;
  try {
    if (init.runtime.startsWith('python')) {
      runtime = await pythonRuntime(init);
    } else if (init.runtime.startsWith('provided')) {
      runtime = await customRuntime(init);
    } else {
      if (init.env.NODE_PATH) {
        // NODE_PATH is read once at start-up: make later require() calls see it.
        (
          createRequire(import.meta.url)('node:module') as { Module: { _initPaths(): void } }
        ).Module._initPaths();
      }
      const fn = await loadNodeHandler(init.taskRoot, init.handler);
      runtime = nodeRuntime(fn, init.env);
    }
    send({ t: 'ready', clean: markDone('init') });
  } catch (err) {
    let payload: string;
    if (err instanceof PayloadError) payload = err.payload;
    else if (err instanceof InitError)
      payload = JSON.stringify({ errorType: err.errorType, errorMessage: err.message, trace: [] });
    else payload = JSON.stringify(errorPayload(err));
    if (!init.runtime.startsWith('python') && !init.runtime.startsWith('provided')) {
      // As Lambda's Node.js runtime logs a failed init.
      const p = JSON.parse(payload) as { errorType: string; errorMessage: string; trace?: string[] };
      console.error(
        'Uncaught Exception \t' +
          JSON.stringify({ errorType: p.errorType, errorMessage: p.errorMessage, stack: p.trace ?? [] }),
      );
    }
    send({ t: 'init-error', payload, clean: markDone('init') });
  }
}

async function onInvoke(msg: InvokeMessage): Promise<void> {
  currentRequestId = msg.requestId;
  traced.set(msg.traceId || undefined);
  const r = await runtime!.invoke(msg);
  const clean = markDone(msg.requestId);
  if (r.stream)
    send({ t: 'result', requestId: msg.requestId, ok: r.ok, payload: r.payload, clean, stream: r.stream });
  else send({ t: 'result', requestId: msg.requestId, ok: r.ok, payload: r.payload, clean });
  currentRequestId = undefined;
}

function main(): void {
  installConsole();
  installAwsLambdaGlobal();
  trackOutput();
  startForwarder();
  const fail = (kind: string, err: unknown) => {
    const p = errorPayload(err);
    const errorType = kind === 'unhandledRejection' ? 'Runtime.UnhandledPromiseRejection' : p.errorType;
    console.error(
      `${kind === 'unhandledRejection' ? 'Unhandled Promise Rejection' : 'Uncaught Exception'} \t` +
        JSON.stringify({ errorType, errorMessage: p.errorMessage, stack: p.trace }),
    );
    if (currentRequestId) {
      const requestId = currentRequestId;
      const clean = markDone(requestId);
      send({ t: 'result', requestId, ok: false, payload: JSON.stringify({ ...p, errorType }), clean });
    }
    // As on Lambda, the runtime exits after an uncaught error: the instance is not reused.
    setImmediate(() => process.exit(128));
  };
  process.on('uncaughtException', (e) => fail('uncaughtException', e));
  process.on('unhandledRejection', (e) => fail('unhandledRejection', e));
  process.on('message', (m: HostMessage) => {
    if (m.t === 'init') void onInit(m);
    else if (m.t === 'invoke') void onInvoke(m);
  });
  process.on('disconnect', () => process.exit(0));
  send({ t: 'started' });
  void warmUp();
}

/**
 * A spare has time to spare: load a throwaway ESM and CommonJS module once so the loaders'
 * first-use costs are not paid by the function's cold start.
 */
async function warmUp(): Promise<void> {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), '.nimbus-warm-'));
    writeFileSync(join(dir, 'w.mjs'), 'export const handler = async () => 1;');
    writeFileSync(join(dir, 'w.cjs'), 'exports.handler = async () => 1;');
    await import(pathToFileURL(join(dir, 'w.mjs')).href);
    createRequire(join(dir, 'x.js'))(join(dir, 'w.cjs'));
    moduleType(dir, dir);
  } catch {
    // only an optimisation
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

main();
