import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TRACE_ENV, traceEnv } from './trace-env.js';

test('the trace id is an environment variable to JavaScript and children, never a setenv(3)', () => {
  const real = process.env;
  const t = traceEnv(real);
  const env = t.env;
  assert.equal(env[TRACE_ENV], undefined);
  assert.equal(TRACE_ENV in env, false);
  for (let i = 0; i < 3; i++) {
    t.set(`Root=1-abc-${i}`);
    assert.equal(env[TRACE_ENV], `Root=1-abc-${i}`);
    // The real environment (what setenv/getenv see) never holds it: no string left in libc.
    assert.equal(real[TRACE_ENV], undefined);
  }
  assert.equal(TRACE_ENV in env, true);
  assert.ok(Object.keys(env).includes(TRACE_ENV));
  assert.equal((JSON.parse(JSON.stringify(env)) as Record<string, string>)[TRACE_ENV], 'Root=1-abc-2');
  assert.equal({ ...env }[TRACE_ENV], 'Root=1-abc-2');
  // A child process started with this environment (child_process copies it) sees it.
  const child = execFileSync(
    process.execPath,
    ['-e', `process.stdout.write(process.env.${TRACE_ENV} ?? 'none')`],
    {
      env,
    },
  ).toString();
  assert.equal(child, 'Root=1-abc-2');
  // The handler may set and delete it as any variable.
  env[TRACE_ENV] = 'mine';
  assert.equal(env[TRACE_ENV], 'mine');
  delete env[TRACE_ENV];
  assert.equal(env[TRACE_ENV], undefined);
  assert.equal(Object.keys(env).includes(TRACE_ENV), false);
  t.set(undefined);
  assert.equal(TRACE_ENV in env, false);
  // Every other variable is the real environment: TZ set through it changes the time zone.
  const tz = real.TZ;
  try {
    env.TZ = 'America/New_York';
    assert.equal(real.TZ, 'America/New_York');
    assert.equal(new Date(0).getTimezoneOffset(), 300);
    env.TZ = 'UTC';
    assert.equal(new Date(0).getTimezoneOffset(), 0);
  } finally {
    if (tz === undefined) delete env.TZ;
    else env.TZ = tz;
  }
  env.NIMBUS_TRACE_ENV_TEST = 'x';
  assert.equal(real.NIMBUS_TRACE_ENV_TEST, 'x');
  delete env.NIMBUS_TRACE_ENV_TEST;
  assert.equal(real.NIMBUS_TRACE_ENV_TEST, undefined);
});
