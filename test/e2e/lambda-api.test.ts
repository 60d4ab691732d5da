/**
 * Lambda through a real Nimbus and the real @aws-sdk/client-lambda: every operation,
 * failure paths with AWS's codes and messages, real handlers, Tail logs, Event invokes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  PublishVersionCommand,
  ListVersionsByFunctionCommand,
  CreateAliasCommand,
  GetAliasCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  ListAliasesCommand,
  PutFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { startTestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

const ECHO = zip({
  'index.js': `exports.handler = async (event, context) => {
    console.log('event', JSON.stringify(event));
    if (event.fail) throw new Error('failed on purpose');
    return { event, version: context.functionVersion, arn: context.invokedFunctionArn, env: process.env.COLOR ?? null };
  };`,
});

async function expectError(p: Promise<unknown>, name: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

const text = (b?: Uint8Array) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

test('Lambda API through the real SDK', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const logsClient = new CloudWatchLogsClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    logsClient.destroy();
  });
  const create = (name: string, extra: Record<string, unknown> = {}) =>
    lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: ECHO },
        ...extra,
      }),
    );

  await t.test(
    'CreateFunction, GetFunction (Code.Location serves the zip), GetFunctionConfiguration',
    async () => {
      const c = await create('echo', {
        Tags: { team: 'core' },
        Environment: { Variables: { COLOR: 'blue' } },
      });
      assert.equal(c.FunctionArn, `${ARN}echo`);
      assert.equal(c.State, 'Active');
      assert.equal(c.LastUpdateStatus, 'Successful');
      assert.equal(c.CodeSha256, createHash('sha256').update(ECHO).digest('base64'));
      assert.equal(c.CodeSize, ECHO.length);
      assert.match(c.LastModified!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
      assert.equal(c.Version, '$LATEST');
      assert.deepEqual(c.Environment?.Variables, { COLOR: 'blue' });
      const g = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
      assert.equal(g.Configuration?.RevisionId, c.RevisionId);
      assert.deepEqual(g.Tags, { team: 'core' });
      const res = await fetch(g.Code!.Location!);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from(ECHO));
      const bad = await fetch(g.Code!.Location!.replace(/Signature=[0-9a-f]+/, 'Signature=00'));
      assert.equal(bad.status, 403);
      await bad.arrayBuffer();
      const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `${ARN}echo` }));
      assert.equal(cfg.FunctionName, 'echo');
    },
  );

  await t.test('validation and not-found errors', async () => {
    await expectError(create('echo'), 'ResourceConflictException', 'Function already exist: echo', 409);
    await expectError(
      lambda.send(new GetFunctionCommand({ FunctionName: 'missing' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}missing`,
      404,
    );
    await expectError(
      create('small', { MemorySize: 100 }),
      'ValidationException',
      "1 validation error detected: Value '100' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
      400,
    );
    await expectError(
      create('bad', { Role: 'nope' }),
      'ValidationException',
      /at 'role' failed to satisfy constraint/,
    );
    await expectError(
      create('bigenv', { Environment: { Variables: { BIG: 'x'.repeat(5000) } } }),
      'InvalidParameterValueException',
      /^Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit\. String measured: \{"BIG":"x+"\}$/,
    );
    await expectError(
      create('img', { PackageType: 'Image', Code: { ImageUri: 'x' } }),
      'InvalidParameterValueException',
      /Image is not supported/,
    );
  });

  await t.test('Invoke: result, Tail logs, function errors, DryRun, too-large payload', async () => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"n":1}'), LogType: 'Tail' }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(text(out.Payload)), {
      event: { n: 1 },
      version: '$LATEST',
      arn: `${ARN}echo`,
      env: 'blue',
    });
    const log = Buffer.from(out.LogResult!, 'base64').toString();
    assert.match(log, /^INIT_START Runtime Version: nodejs:20\.v/);
    assert.match(log, /START RequestId: [0-9a-f-]{36} Version: \$LATEST\n/);
    assert.match(log, /event \{"n":1\}/);
    assert.match(
      log,
      /END RequestId: [0-9a-f-]{36}\nREPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t\n$/,
    );
    assert.equal(log.match(/START RequestId: ([0-9a-f-]{36})/)![1], out.$metadata.requestId);
    const err = await lambda.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{"fail":true}') }),
    );
    assert.equal(err.StatusCode, 200);
    assert.equal(err.FunctionError, 'Unhandled');
    const body = JSON.parse(text(err.Payload));
    assert.equal(body.errorType, 'Error');
    assert.equal(body.errorMessage, 'failed on purpose');
    const dry = await lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }));
    assert.equal(dry.StatusCode, 204);
    await expectError(
      lambda.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.alloc(6 * 1024 * 1024 + 1, 0x20) }),
      ),
      'RequestEntityTooLargeException',
      'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      413,
    );
    await expectError(
      lambda.send(new InvokeCommand({ FunctionName: 'missing' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}missing`,
    );
  });

  await t.test('Event invoke returns 202 and runs (seen in CloudWatch Logs)', async () => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: 'echo',
        InvocationType: 'Event',
        Payload: Buffer.from('{"async":42}'),
      }),
    );
    assert.equal(out.StatusCode, 202);
    let found = false;
    for (let i = 0; i < 100 && !found; i++) {
      const ev = await logsClient.send(
        new FilterLogEventsCommand({ logGroupName: '/aws/lambda/echo', filterPattern: '"async"' }),
      );
      found = (ev.events ?? []).some((e) => e.message?.includes('{"async":42}'));
      if (!found) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(found, 'the Event invoke logged its event');
  });

  await t.test('UpdateFunctionCode / UpdateFunctionConfiguration take effect at once', async () => {
    const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }));
    await expectError(
      lambda.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 5, RevisionId: 'stale' }),
      ),
      'PreconditionFailedException',
      /^The Revision Id provided does not match the latest Revision Id/,
      412,
    );
    const u = await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'echo',
        Environment: { Variables: { COLOR: 'red' } },
        RevisionId: before.RevisionId,
      }),
    );
    assert.deepEqual(u.Environment?.Variables, { COLOR: 'red' });
    const o1 = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{}') }));
    assert.equal(JSON.parse(text(o1.Payload)).env, 'red');
    const code2 = zip({ 'index.js': 'exports.handler = async () => "v2";' });
    const c2 = await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'echo', ZipFile: code2, Publish: true }),
    );
    assert.equal(c2.Version, '1');
    assert.equal(c2.CodeSha256, createHash('sha256').update(code2).digest('base64'));
    const o2 = await lambda.send(new InvokeCommand({ FunctionName: 'echo' }));
    assert.equal(text(o2.Payload), '"v2"');
  });

  await t.test('versions, aliases with routing, qualified invokes', async () => {
    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'echo',
        ZipFile: zip({ 'index.js': 'exports.handler = async () => "v3";' }),
      }),
    );
    const v2 = await lambda.send(
      new PublishVersionCommand({ FunctionName: 'echo', Description: 'third code' }),
    );
    assert.equal(v2.Version, '2');
    assert.equal(
      (await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))).Version,
      '2',
      'no change: same version',
    );
    await expectError(
      lambda.send(new PublishVersionCommand({ FunctionName: 'echo', CodeSha256: 'nope' })),
      'InvalidParameterValueException',
      /^CodeSHA256 \(nope\) is different from current CodeSHA256 in \$LATEST/,
    );
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );
    const a = await lambda.send(
      new CreateAliasCommand({
        FunctionName: 'echo',
        Name: 'live',
        FunctionVersion: '1',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
      }),
    );
    assert.equal(a.AliasArn, `${ARN}echo:live`);
    await expectError(
      lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' })),
      'ResourceConflictException',
      `Alias already exists: ${ARN}echo:live`,
    );
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const o = await lambda.send(new InvokeCommand({ FunctionName: 'echo:live' }));
      seen.add(`${o.ExecutedVersion}=${text(o.Payload)}`);
    }
    assert.deepEqual([...seen].sort(), ['1="v2"', '2="v3"']);
    const u = await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'echo',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    assert.equal(u.FunctionVersion, '2');
    assert.equal(
      (await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))).FunctionVersion,
      '2',
    );
    const viaArn = await lambda.send(new InvokeCommand({ FunctionName: `${ARN}echo:live` }));
    assert.equal(viaArn.ExecutedVersion, '2');
    const partial = await lambda.send(
      new InvokeCommand({ FunctionName: '000000000000:function:echo', Qualifier: '1' }),
    );
    assert.equal(text(partial.Payload), '"v2"');
    assert.equal((await lambda.send(new ListAliasesCommand({ FunctionName: 'echo' }))).Aliases?.length, 1);
    await expectError(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '2' })),
      'ResourceConflictException',
      'Unable to delete version because the following aliases reference it: [live]',
    );
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'echo', Name: 'live' }));
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '1' }));
    await expectError(
      lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '1' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}echo:1`,
    );
  });

  await t.test('concurrency, throttling and account settings', async () => {
    await create('throttled');
    assert.deepEqual(
      (
        await lambda.send(
          new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 0 }),
        )
      ).ReservedConcurrentExecutions,
      0,
    );
    assert.equal(
      (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'throttled' })))
        .ReservedConcurrentExecutions,
      0,
    );
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: 'throttled' })),
      (e: Error & { Reason?: string; $metadata: { httpStatusCode?: number } }) => {
        assert.equal(e.name, 'TooManyRequestsException');
        assert.equal(e.message, 'Rate Exceeded.');
        assert.equal(e.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        assert.equal(e.$metadata.httpStatusCode, 429);
        return true;
      },
    );
    await expectError(
      lambda.send(
        new PutFunctionConcurrencyCommand({ FunctionName: 'throttled', ReservedConcurrentExecutions: 950 }),
      ),
      'InvalidParameterValueException',
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
    );
    const s = await lambda.send(new GetAccountSettingsCommand({}));
    assert.equal(s.AccountLimit?.ConcurrentExecutions, 1000);
    assert.equal(s.AccountLimit?.UnreservedConcurrentExecutions, 1000);
    assert.equal(s.AccountUsage?.FunctionCount, 2);
    await lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'throttled' }));
    assert.equal((await lambda.send(new InvokeCommand({ FunctionName: 'throttled' }))).StatusCode, 200);
  });

  await t.test('tags and ListFunctions paging', async () => {
    const arn = `${ARN}throttled`;
    await lambda.send(new TagResourceCommand({ Resource: arn, Tags: { a: '1', b: '2' } }));
    await lambda.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['a'] }));
    assert.deepEqual((await lambda.send(new ListTagsCommand({ Resource: arn }))).Tags, { b: '2' });
    for (const n of ['p1', 'p2', 'p3']) await create(n);
    const names: string[] = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      assert.ok((page.Functions ?? []).length <= 2);
      names.push(...(page.Functions ?? []).map((f) => f.FunctionName!));
      marker = page.NextMarker;
    } while (marker);
    assert.deepEqual(names, ['echo', 'p1', 'p2', 'p3', 'throttled']);
    const all = await lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    assert.ok(all.Functions?.some((f) => f.Version === '2' && f.FunctionName === 'echo'));
  });

  await t.test('DeleteFunction', async () => {
    await expectError(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo', Qualifier: '$LATEST' })),
      'InvalidParameterValueException',
      '$LATEST version cannot be deleted without deleting the function.',
    );
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo' }));
    await expectError(
      lambda.send(new GetFunctionCommand({ FunctionName: 'echo' })),
      'ResourceNotFoundException',
    );
    await expectError(
      lambda.send(new DeleteFunctionCommand({ FunctionName: 'echo' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}echo`,
    );
  });
});
