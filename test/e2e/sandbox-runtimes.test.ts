import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, json } from './sandbox-helpers.js';

test('Python and custom runtimes in the sandbox', async (t) => {
  await using f = fixture({ warmSpares: 0 });

  await t.test(
    'Python handler: context, print, module init once',
    { skip: !f.manager.capabilities.runtimes.python && 'no python3 on this host' },
    async () => {
      const code = f.code({
        'app.py': `import os
count = 0
print("init")
def handler(event, context):
    global count
    count += 1
    print("hello", event["x"])
    return {"count": count, "fn": context.function_name, "mem": context.memory_limit_in_mb,
            "id": context.aws_request_id, "rem": context.get_remaining_time_in_millis() > 0,
            "region": os.environ["AWS_REGION"], "trace": os.getenv("_X_AMZN_TRACE_ID")}
`,
      });
      const spec = f.spec(code, { runtime: 'python3.12', handler: 'app.handler' });
      const input = { ...f.input({ x: 7 }), traceId: 'Root=1-py;Sampled=0' };
      const r = await f.manager.invoke(spec, input);
      assert.equal(r.status, 'ok', r.payload.toString());
      assert.deepEqual(json(r.payload), {
        count: 1,
        fn: 'fn',
        mem: '128',
        id: input.requestId,
        rem: true,
        region: 'us-east-1',
        trace: 'Root=1-py;Sampled=0',
      });
      assert.deepEqual(
        r.initLogs.map((l) => l.message),
        ['init'],
      );
      assert.deepEqual(
        r.logs.map((l) => l.message),
        ['hello 7'],
      );
      const r2 = await f.manager.invoke(spec, f.input({ x: 8 }));
      assert.equal((json(r2.payload) as { count: number }).count, 2);
      assert.equal((json(r2.payload) as { trace: string | null }).trace, null, 'no trace id: none');
    },
  );

  await t.test(
    'Python errors: handler exception and import error',
    { skip: !f.manager.capabilities.runtimes.python && 'no python3 on this host' },
    async () => {
      const code = f.code({ 'app.py': 'def handler(event, context):\n    raise ValueError("bad value")\n' });
      const input = f.input();
      const r = await f.manager.invoke(
        f.spec(code, { runtime: 'python3.11', handler: 'app.handler' }),
        input,
      );
      assert.equal(r.status, 'error');
      const p = json(r.payload) as Record<string, unknown>;
      assert.equal(p.errorType, 'ValueError');
      assert.equal(p.errorMessage, 'bad value');
      assert.equal(p.requestId, input.requestId);
      assert.ok(Array.isArray(p.stackTrace) && (p.stackTrace as string[]).length > 0);
      const r2 = await f.manager.invoke(
        f.spec(code, { runtime: 'python3.11', handler: 'missing.handler', key: 'py2' }),
        f.input(),
      );
      const p2 = json(r2.payload) as Record<string, unknown>;
      assert.equal(p2.errorType, 'Runtime.ImportModuleError');
      assert.equal(p2.errorMessage, "Unable to import module 'missing': No module named 'missing'");
    },
  );

  await t.test('custom runtime: bash bootstrap with curl against the Runtime API', async () => {
    const code = f.code({
      bootstrap: `#!/bin/sh
set -eu
echo "bootstrap starting"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  ARN=$(grep -Fi Lambda-Runtime-Invoked-Function-Arn "$HEADERS" | tr -d '[:space:]' | cut -d: -f2-)
  echo "got $ID"
  if [ "$EVENT" = '{"fail":true}' ]; then
    curl -sS -o /dev/null -X POST -H 'Lambda-Runtime-Function-Error-Type: Custom.Fail' "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/error" -d '{"errorType":"Custom.Fail","errorMessage":"asked to fail"}'
  else
    CODE=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d "{\\"echo\\":$EVENT,\\"arn\\":\\"$ARN\\"}")
    BAD=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response" -d '1')
    echo "codes $CODE $BAD"
  fi
done
`,
    });
    const spec = f.spec(code, { runtime: 'provided.al2023', handler: 'bootstrap' });
    const input = f.input({ a: 1 });
    const r = await f.manager.invoke(spec, input);
    assert.equal(r.status, 'ok', r.payload.toString() + JSON.stringify(r.initLogs) + JSON.stringify(r.logs));
    assert.deepEqual(json(r.payload), { echo: { a: 1 }, arn: input.invokedFunctionArn });
    assert.deepEqual(
      r.initLogs.map((l) => l.message),
      ['bootstrap starting'],
    );
    assert.ok(r.logs.some((l) => l.message === `got ${input.requestId}`));
    const r2 = await f.manager.invoke(spec, f.input({ fail: true }));
    assert.equal(r2.status, 'error');
    assert.deepEqual(json(r2.payload), { errorType: 'Custom.Fail', errorMessage: 'asked to fail' });
    const r3 = await f.manager.invoke(spec, f.input({ b: 2 }));
    assert.equal(r3.status, 'ok');
    // Output after a response belongs to the next invocation (as on Lambda): 202 then 400 for a second response.
    assert.ok(
      r2.logs.some((l) => l.message === 'codes 202 400'),
      JSON.stringify(r2.logs),
    );
  });
});
