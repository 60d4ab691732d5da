import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import { LambdaClient, CreateFunctionCommand } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { functionsCommand, invokeCommand, type CliIo } from '../../src/cli/lambda-commands.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env };
  return { value, out: () => out.join(''), err: () => err.join('') };
}

test('nimbus invoke / nimbus functions against a real server', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => lambda.destroy());
  const z = new AdmZip();
  z.addFile(
    'index.js',
    Buffer.from(
      'exports.handler = async (e) => { console.log("cli-log"); if (e.fail) throw new Error("nope"); return { got: e }; };',
    ),
    '',
    0o644 << 16,
  );
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'cli-fn',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      Timeout: 30, // a loaded CI machine must not turn this into a timeout test
      Code: { ZipFile: z.toBuffer() },
    }),
  );
  const env = { NIMBUS_ENDPOINT: srv.endpoint };

  const a = io(env);
  assert.equal(await invokeCommand.run(['cli-fn', '--payload', '{"x":1}', '--tail'], a.value), 0);
  assert.equal(a.out(), '{"got":{"x":1}}\n');
  assert.match(a.err(), /cli-log/);
  assert.match(a.err(), /REPORT RequestId: /);

  const j = io(env);
  assert.equal(await invokeCommand.run(['cli-fn', '--payload', '{"fail":true}', '--json'], j.value), 1);
  const parsed = JSON.parse(j.out());
  assert.equal(parsed.FunctionError, 'Unhandled');
  assert.equal(parsed.Payload.errorMessage, 'nope');

  const missing = io();
  assert.equal(await invokeCommand.run(['nope', '--endpoint', srv.endpoint], missing.value), 1);
  assert.match(
    missing.err(),
    /^ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope/,
  );
  const bad = io(env);
  assert.equal(await invokeCommand.run(['cli-fn', '--payload', '{not json'], bad.value), 2);
  assert.match(bad.err(), /invalid --payload/);

  const l = io(env);
  assert.equal(await functionsCommand.run([], l.value), 0);
  assert.match(
    l.out(),
    /^NAME\s+RUNTIME\s+MEMORY\s+TIMEOUT\s+LAST MODIFIED\ncli-fn\s+nodejs20\.x\s+128 MB\s+30 s\s+\d{4}-/,
  );
  const lj = io(env);
  assert.equal(await functionsCommand.run(['--json'], lj.value), 0);
  assert.equal(JSON.parse(lj.out())[0].FunctionName, 'cli-fn');
});
