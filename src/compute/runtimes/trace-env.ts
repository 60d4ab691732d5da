/**
 * `process.env` with `_X_AMZN_TRACE_ID` kept in JavaScript. Lambda gives every invocation its
 * own trace id in that variable. Through Node's real environment each new value is a
 * setenv(3), and glibc keeps every `NAME=value` string it was ever given (it cannot know
 * whether someone still holds a pointer from getenv) and searches all of them on every set:
 * measured here, 143 MB and 1.6 s of searching per million invocations, so a warm instance
 * would grow until its function's memory limit killed it. The variable is seen the same way by
 * the handler (`process.env`, `in`, `Object.keys`, JSON) and by the child processes it starts
 * (child_process copies `process.env`); only native code calling getenv(3) does not see it.
 * Every other variable is the real environment (so `process.env.TZ = ...` still takes effect).
 */
export const TRACE_ENV = '_X_AMZN_TRACE_ID';

export interface TraceEnv {
  env: NodeJS.ProcessEnv;
  /** The trace id of the invocation starting (undefined: none). */
  set(traceId: string | undefined): void;
}

export function traceEnv(real: NodeJS.ProcessEnv): TraceEnv {
  let trace: string | undefined = real[TRACE_ENV];
  if (trace !== undefined) delete real[TRACE_ENV];
  const own = (): PropertyDescriptor | undefined =>
    trace === undefined ? undefined : { value: trace, writable: true, enumerable: true, configurable: true };
  const env = new Proxy(real, {
    get: (t, k) => (k === TRACE_ENV ? trace : Reflect.get(t, k)),
    set: (t, k, v) => {
      if (k !== TRACE_ENV) return Reflect.set(t, k, v);
      trace = String(v);
      return true;
    },
    has: (t, k) => (k === TRACE_ENV ? trace !== undefined : Reflect.has(t, k)),
    deleteProperty: (t, k) => {
      if (k !== TRACE_ENV) return Reflect.deleteProperty(t, k);
      trace = undefined;
      return true;
    },
    defineProperty: (t, k, d) => {
      if (k !== TRACE_ENV) return Reflect.defineProperty(t, k, d);
      trace = String(d.value);
      return true;
    },
    getOwnPropertyDescriptor: (t, k) => (k === TRACE_ENV ? own() : Reflect.getOwnPropertyDescriptor(t, k)),
    ownKeys: (t) => {
      const keys = Reflect.ownKeys(t);
      if (trace !== undefined) keys.push(TRACE_ENV);
      return keys;
    },
  });
  return {
    env,
    set: (traceId) => {
      trace = traceId;
    },
  };
}
