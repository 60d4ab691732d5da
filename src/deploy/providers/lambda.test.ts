/**
 * Lambda providers against a real Nimbus through the real SDK: create, read back, update in
 * place, delete (twice: idempotent).
 */
import { test } from 'node:test';
import AdmZip from 'adm-zip';
import assert from 'node:assert/strict';
import {
  LambdaClient,
  GetFunctionCommand,
  InvokeCommand,
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionEventInvokeConfigCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startTestServer } from '../../../test/helpers/server.js';
import { testContext } from './test-context.js';
import { providers } from './index.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const SRC = (tag: string) =>
  `exports.handler = async (event) => ({ tag: '${tag}', color: process.env.COLOR ?? null, event });`;

async function invoke(c: LambdaClient, name: string, payload: unknown = {}) {
  const out = await c.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(payload) }));
  assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
  return JSON.parse(Buffer.from(out.Payload!).toString());
}

test('Lambda providers: Function, Version, Alias, EventSourceMapping, EventInvokeConfig', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const ctx = testContext(srv.clientConfig, 'Fn');
  const fnP = providers['AWS::Lambda::Function'];

  // Function: inline code, generated name, environment with numbers coerced to strings.
  const props1 = {
    Runtime: 'nodejs20.x',
    Handler: 'index.handler',
    Role: ROLE,
    Code: { ZipFile: SRC('one') },
    Environment: { Variables: { COLOR: 'red', NUM: 3 } },
    MemorySize: '256',
    Timeout: '10',
    Tags: [{ Key: 'team', Value: 'a' }],
  };
  const fn = await fnP.create(props1, ctx);
  assert.match(fn.physicalId, /^test-stack-Fn-[A-Z0-9]{13}$/);
  assert.equal(fn.attributes.Arn, `arn:aws:lambda:us-east-1:000000000000:function:${fn.physicalId}`);
  const got = await lambda.send(new GetFunctionCommand({ FunctionName: fn.physicalId }));
  assert.equal(got.Configuration!.MemorySize, 256);
  assert.equal(got.Configuration!.Timeout, 10);
  assert.equal(got.Configuration!.State, 'Active');
  assert.deepEqual(got.Configuration!.Environment!.Variables, { COLOR: 'red', NUM: '3' });
  assert.deepEqual(await invoke(lambda, fn.physicalId, { a: 1 }), {
    tag: 'one',
    color: 'red',
    event: { a: 1 },
  });

  // Update in place: configuration, code and tags.
  const props2 = {
    ...props1,
    Code: { ZipFile: SRC('two') },
    Environment: { Variables: { COLOR: 'blue' } },
    MemorySize: 512,
    Tags: [{ Key: 'owner', Value: 'b' }],
  };
  const fn2 = await fnP.update(fn.physicalId, props2, { props: props1, attributes: fn.attributes }, ctx);
  assert.deepEqual(fn2, fn);
  assert.deepEqual(await invoke(lambda, fn.physicalId), { tag: 'two', color: 'blue', event: {} });
  const tags = await lambda.send(new ListTagsCommand({ Resource: String(fn.attributes.Arn) }));
  assert.equal(tags.Tags!.owner, 'b');
  assert.equal(tags.Tags!.team, undefined);

  // Python inline code goes into index.py.
  const py = await fnP.create(
    {
      FunctionName: 'py-inline',
      Runtime: 'python3.11',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: 'def handler(event, context):\n    return {"py": True}\n' },
    },
    ctx,
  );
  assert.equal(py.physicalId, 'py-inline');
  // Read the package back as the SDK user would (the Python runtime's availability is the sandbox's concern).
  const pyFn = await lambda.send(new GetFunctionCommand({ FunctionName: 'py-inline' }));
  const pkg = Buffer.from(await (await fetch(pyFn.Code!.Location!)).arrayBuffer());
  assert.deepEqual(
    new AdmZip(pkg).getEntries().map((e) => e.entryName),
    ['index.py'],
  );

  // Version and Alias.
  const ver = await providers['AWS::Lambda::Version'].create({ FunctionName: fn.physicalId }, ctx);
  assert.equal(ver.physicalId, `${fn.attributes.Arn}:1`);
  assert.deepEqual(ver.attributes, { Version: '1', FunctionArn: fn.attributes.Arn });
  const aliasP = providers['AWS::Lambda::Alias'];
  const aliasProps = { FunctionName: fn.physicalId, Name: 'live', FunctionVersion: ver.attributes.Version };
  const alias = await aliasP.create(aliasProps, ctx);
  assert.equal(alias.physicalId, `${fn.attributes.Arn}:live`);
  await aliasP.update(
    alias.physicalId,
    { ...aliasProps, Description: 'now' },
    { props: aliasProps, attributes: {} },
    ctx,
  );
  const a = await lambda.send(new GetAliasCommand({ FunctionName: fn.physicalId, Name: 'live' }));
  assert.equal(a.Description, 'now');
  assert.deepEqual((await invoke(lambda, alias.physicalId)).tag, 'two');

  // EventInvokeConfig.
  const eicP = providers['AWS::Lambda::EventInvokeConfig'];
  const eicProps = { FunctionName: fn.physicalId, Qualifier: '$LATEST', MaximumRetryAttempts: '1' };
  const eic = await eicP.create(eicProps, ctx);
  await eicP.update(
    eic.physicalId,
    { ...eicProps, MaximumRetryAttempts: 0 },
    { props: eicProps, attributes: {} },
    ctx,
  );
  const cfg = await lambda.send(
    new GetFunctionEventInvokeConfigCommand({ FunctionName: fn.physicalId, Qualifier: '$LATEST' }),
  );
  assert.equal(cfg.MaximumRetryAttempts, 0);
  await eicP.delete(eic.physicalId, eicProps, ctx);
  await eicP.delete(eic.physicalId, eicProps, ctx);

  // EventSourceMapping from an SQS queue.
  const sqs = new SQSClient(srv.clientConfig);
  const q = await sqs.send(new CreateQueueCommand({ QueueName: 'esm-src' }));
  const qa = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: q.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const esmP = providers['AWS::Lambda::EventSourceMapping'];
  const esmProps = { FunctionName: fn.physicalId, EventSourceArn: qa.Attributes!.QueueArn, BatchSize: '5' };
  const esm = await esmP.create(esmProps, ctx);
  assert.equal(esm.attributes.Id, esm.physicalId);
  await esmP.update(
    esm.physicalId,
    { ...esmProps, BatchSize: 7, Enabled: 'false' },
    { props: esmProps, attributes: esm.attributes },
    ctx,
  );
  const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: esm.physicalId }));
  assert.equal(m.BatchSize, 7);
  assert.match(m.State!, /Disabl/);
  await esmP.delete(esm.physicalId, esmProps, ctx);
  await esmP.delete(esm.physicalId, esmProps, ctx);

  // Deletes, twice each.
  await aliasP.delete(alias.physicalId, aliasProps, ctx);
  await aliasP.delete(alias.physicalId, aliasProps, ctx);
  await providers['AWS::Lambda::Version'].delete(ver.physicalId, {}, ctx);
  await providers['AWS::Lambda::Version'].delete(ver.physicalId, {}, ctx);
  for (const id of [fn.physicalId, py.physicalId]) {
    await fnP.delete(id, {}, ctx);
    await fnP.delete(id, {}, ctx);
    await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: id })), {
      name: 'ResourceNotFoundException',
    });
  }
});
