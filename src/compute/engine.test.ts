import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { ManualClock } from '../core/clock.js';
import { defaultConfig, type NimbusConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import type { LogEventInput, LogSink, LogStreamRef } from '../core/log-sink.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { Store } from '../storage/store.js';
import { AwsError } from '../protocols/errors.js';
import type { FunctionSpec, InstanceManager, InvokeInput, InvokeResult } from './sandbox/types.js';
import { createLambda, type Lambda } from './index.js';
import { extractZip } from './code.js';

const S = { accountId: '123456789012', region: 'us-east-1' };
const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';

function zipOf(files: Record<string, string>, modes: Record<string, number> = {}): Buffer {
  const z = new AdmZip();
  for (const [name, body] of Object.entries(files)) {
    z.addFile(name, Buffer.from(body));
    const e = z.getEntry(name)!;
    e.attr = ((modes[name] ?? 0o644) << 16) >>> 0;
  }
  return z.toBuffer();
}
const CODE = zipOf({ 'index.js': 'exports.handler = async (e) => e;' });

type Behaviour = (
  spec: FunctionSpec,
  input: InvokeInput,
) => Promise<Partial<InvokeResult>> | Partial<InvokeResult>;

class FakeInstances implements InstanceManager {
  readonly capabilities = {
    level: 'none' as const,
    bubblewrap: false,
    cgroups: 'none' as const,
    runtimes: { node: '20.20.2', python: '3.11.2' },
  };
  behaviour: Behaviour = (_s, i) => ({ payload: i.payload });
  calls: { spec: FunctionSpec; input: InvokeInput }[] = [];
  retired: string[] = [];
  private warm = new Set<string>();
  async invoke(spec: FunctionSpec, input: InvokeInput): Promise<InvokeResult> {
    this.calls.push({ spec, input });
    const cold = !this.warm.has(spec.key);
    this.warm.add(spec.key);
    const r = await this.behaviour(spec, input);
    return {
      status: 'ok',
      payload: Buffer.alloc(0),
      durationMs: 1.234,
      coldStart: cold,
      initDurationMs: cold ? 12.345 : undefined,
      maxMemoryUsedMb: 40,
      initLogs: cold ? [{ time: 1, message: 'init log\n' }] : [],
      logs: [{ time: 2, message: `2026-01-01T00:00:00.000Z\t${input.requestId}\tINFO\thello\n` }],
      logStream: '2026/01/01/[$LATEST]abc',
      instanceId: 'i1',
      ...r,
    };
  }
  retire(prefix: string): void {
    this.retired.push(prefix);
    for (const k of [...this.warm]) if (k.startsWith(prefix)) this.warm.delete(k);
  }
  stats() {
    return { spares: 0, idle: 0, busy: 0, starting: 0 };
  }
  async close() {}
}

class MemoryLogs implements LogSink {
  events: { ref: LogStreamRef; e: LogEventInput }[] = [];
  append(ref: LogStreamRef, events: LogEventInput[]): void {
    for (const e of events) this.events.push({ ref, e });
  }
  async flush() {}
  messages(): string[] {
    return this.events.map((x) => x.e.message);
  }
}

interface Ctx {
  dir: string;
  store: Store;
  clock: ManualClock;
  instances: FakeInstances;
  logs: MemoryLogs;
  lambda: Lambda;
  draws: number[];
}

async function setup(configure: (c: NimbusConfig) => void = () => {}): Promise<Ctx> {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-lambda-'));
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 1, 2, 3));
  const store = await openSqliteStore({ dataDir: dir, clock, logger: silentLogger });
  const config = defaultConfig({ dataDir: dir });
  configure(config);
  const instances = new FakeInstances();
  const logs = new MemoryLogs();
  const draws: number[] = [];
  const lambda = createLambda({
    store,
    clock,
    logger: silentLogger,
    config,
    logs,
    instances,
    credentialsFor: () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
    codeCacheDir: join(dir, 'code'),
    random: () => draws.shift() ?? 0.5,
  });
  return { dir, store, clock, instances, logs, lambda, draws };
}

async function teardown(c: Ctx) {
  await c.lambda.stop();
  await c.store.close();
  rmSync(c.dir, { recursive: true, force: true });
}

async function rejects(p: Promise<unknown>, code: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AwsError, `expected AwsError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  });
}

function create(c: Ctx, name: string, extra: Record<string, unknown> = {}) {
  return c.lambda.engine.createFunction(S, {
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { ZipFile: CODE },
    ...extra,
  });
}

describe('functions', () => {
  let c: Ctx;
  before(async () => (c = await setup()));
  after(() => teardown(c));

  test('create returns an Active configuration with Lambda fields', async () => {
    const cfg = await create(c, 'fn1', { Environment: { Variables: { AA: '1' } }, Tags: { team: 'x' } });
    assert.equal(cfg.State, 'Active');
    assert.equal(cfg.LastUpdateStatus, 'Successful');
    assert.equal(cfg.FunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:fn1');
    assert.equal(cfg.Version, '$LATEST');
    assert.equal(cfg.CodeSha256, createHash('sha256').update(CODE).digest('base64'));
    assert.equal(cfg.CodeSize, CODE.length);
    assert.equal(cfg.LastModified, '2026-11-28T01:02:03.000+0000');
    assert.equal(cfg.Timeout, 3);
    assert.equal(cfg.MemorySize, 128);
    assert.deepEqual(cfg.Environment, { Variables: { AA: '1' } });
    assert.match(String(cfg.RevisionId), /^[0-9a-f-]{36}$/);
  });

  test('duplicate and missing functions', async () => {
    await rejects(create(c, 'fn1'), 'ResourceConflictException', 'Function already exist: fn1', 409);
    await rejects(
      c.lambda.engine.getFunctionConfiguration(S, 'nope'),
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope',
      404,
    );
    await rejects(
      c.lambda.engine.getFunctionConfiguration(S, 'fn1', '7'),
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:fn1:7',
    );
  });

  test('names: plain, qualified, full and partial ARN', async () => {
    const e = c.lambda.engine;
    for (const n of [
      'fn1',
      'arn:aws:lambda:us-east-1:123456789012:function:fn1',
      '123456789012:function:fn1',
    ]) {
      assert.equal((await e.getFunctionConfiguration(S, n)).FunctionName, 'fn1');
    }
    assert.equal((await e.getFunctionConfiguration(S, 'fn1:$LATEST')).Version, '$LATEST');
    await rejects(
      e.getFunctionConfiguration(S, 'bad name'),
      'ValidationException',
      /^1 validation error detected: Value 'bad name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    );
  });

  test('validation messages', async () => {
    await rejects(
      create(c, 'v1', { MemorySize: 64 }),
      'ValidationException',
      "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    );
    await rejects(
      create(c, 'v1', { Timeout: 901, MemorySize: 20000 }),
      'ValidationException',
      "2 validation errors detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900; Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    );
    await rejects(
      create(c, 'v1', { Role: 'not-a-role' }),
      'ValidationException',
      /Value 'not-a-role' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:/,
    );
    await rejects(
      create(c, 'v1', { Runtime: 'cobol' }),
      'ValidationException',
      /at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: \[/,
    );
    await rejects(
      create(c, 'a'.repeat(65)),
      'ValidationException',
      /Member must have length less than or equal to 64/,
    );
    const big = { BIG: 'x'.repeat(4100) };
    await rejects(
      create(c, 'v1', { Environment: { Variables: big } }),
      'InvalidParameterValueException',
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(big)}`,
    );
    await rejects(
      create(c, 'v1', { Environment: { Variables: { AWS_REGION: 'x' } } }),
      'InvalidParameterValueException',
      /reserved keys .*: AWS_REGION$/,
    );
    await rejects(
      create(c, 'v1', { PackageType: 'Image' }),
      'InvalidParameterValueException',
      /Image is not supported/,
    );
    await rejects(
      create(c, 'v1', { Code: { ZipFile: Buffer.from('not a zip') } }),
      'InvalidParameterValueException',
      'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
    await rejects(
      create(c, 'v1', { Handler: undefined }),
      'InvalidParameterValueException',
      'Runtime and Handler are mandatory parameters for functions created with deployment packages.',
    );
  });

  test('list with paging and FunctionVersion=ALL', async () => {
    await create(c, 'fn2');
    await create(c, 'fn3');
    await c.lambda.engine.publishVersion(S, 'fn2', {});
    const p1 = await c.lambda.engine.listFunctions(S, { MaxItems: 2 });
    assert.deepEqual(
      (p1.Functions as { FunctionName: string }[]).map((f) => f.FunctionName),
      ['fn1', 'fn2'],
    );
    const p2 = await c.lambda.engine.listFunctions(S, { MaxItems: 2, Marker: p1.NextMarker as string });
    assert.deepEqual(
      (p2.Functions as { FunctionName: string }[]).map((f) => f.FunctionName),
      ['fn3'],
    );
    assert.equal(p2.NextMarker, undefined);
    const all = await c.lambda.engine.listFunctions(S, { FunctionVersion: 'ALL' });
    assert.deepEqual(
      (all.Functions as { Version: string }[]).map((f) => f.Version),
      ['$LATEST', '$LATEST', '1', '$LATEST'],
    );
    // Accounts do not see each other.
    const other = await c.lambda.engine.listFunctions({ accountId: '000000000000', region: 'us-east-1' }, {});
    assert.deepEqual(other.Functions, []);
  });

  test('update configuration and code: RevisionId checks, cache invalidation, retire', async () => {
    const e = c.lambda.engine;
    const before = await e.getFunctionConfiguration(S, 'fn1');
    await e.invoke(S, { FunctionName: 'fn1', Payload: Buffer.from('{}') });
    const key1 = c.instances.calls.at(-1)!.spec.key;
    await rejects(
      e.updateFunctionConfiguration(S, 'fn1', { Timeout: 10, RevisionId: 'stale' }),
      'PreconditionFailedException',
      /^The Revision Id provided does not match the latest Revision Id\./,
      412,
    );
    const upd = await e.updateFunctionConfiguration(S, 'fn1', {
      Timeout: 10,
      RevisionId: before.RevisionId as string,
    });
    assert.equal(upd.Timeout, 10);
    assert.notEqual(upd.RevisionId, before.RevisionId);
    assert.ok(c.instances.retired.includes('123456789012/us-east-1/fn1/$LATEST/'));
    await e.invoke(S, { FunctionName: 'fn1', Payload: Buffer.from('{}') });
    const spec2 = c.instances.calls.at(-1)!.spec;
    assert.notEqual(spec2.key, key1);
    assert.equal(spec2.timeoutSec, 10);
    const code2 = zipOf({ 'index.js': 'exports.handler = async () => 2;' });
    const u2 = await e.updateFunctionCode(S, 'fn1', { ZipFile: code2 });
    assert.equal(u2.CodeSha256, createHash('sha256').update(code2).digest('base64'));
    await e.invoke(S, { FunctionName: 'fn1', Payload: Buffer.from('{}') });
    assert.equal(
      readFileSync(join(c.instances.calls.at(-1)!.spec.codeDir, 'index.js'), 'utf8'),
      'exports.handler = async () => 2;',
    );
  });

  test('tags', async () => {
    const e = c.lambda.engine;
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:fn1';
    assert.deepEqual(await e.listTags(S, arn), { Tags: { team: 'x' } });
    await e.tagResource(S, arn, { env: 'dev' });
    await e.untagResource(S, arn, ['team']);
    assert.deepEqual(await e.listTags(S, arn), { Tags: { env: 'dev' } });
    assert.deepEqual((await e.getFunction(S, 'fn1', undefined, 'http://x')).Tags, { env: 'dev' });
  });

  test('delete whole function and a version', async () => {
    const e = c.lambda.engine;
    await rejects(
      e.deleteFunction(S, 'fn2', '$LATEST'),
      'InvalidParameterValueException',
      '$LATEST version cannot be deleted without deleting the function.',
    );
    await e.createAlias(S, 'fn2', { Name: 'live', FunctionVersion: '1' });
    await rejects(
      e.deleteFunction(S, 'fn2', '1'),
      'ResourceConflictException',
      'Unable to delete version because the following aliases reference it: [live]',
    );
    await e.deleteAlias(S, 'fn2', 'live');
    await e.deleteFunction(S, 'fn2', '1');
    await rejects(e.getFunctionConfiguration(S, 'fn2', '1'), 'ResourceNotFoundException');
    await e.deleteFunction(S, 'fn2');
    await rejects(e.getFunctionConfiguration(S, 'fn2'), 'ResourceNotFoundException');
    await rejects(
      e.deleteFunction(S, 'fn2'),
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:fn2',
    );
    assert.ok(c.instances.retired.includes('123456789012/us-east-1/fn2/'));
  });
});

describe('versions and aliases', () => {
  let c: Ctx;
  before(async () => (c = await setup()));
  after(() => teardown(c));

  test('publish is a no-op when nothing changed; CodeSha256 and RevisionId checks', async () => {
    const e = c.lambda.engine;
    const cfg = await create(c, 'f', { Publish: true });
    assert.equal(cfg.Version, '1');
    assert.equal(cfg.FunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:f:1');
    assert.equal((await e.publishVersion(S, 'f', {})).Version, '1');
    await rejects(
      e.publishVersion(S, 'f', { CodeSha256: 'abc' }),
      'InvalidParameterValueException',
      /^CodeSHA256 \(abc\) is different from current CodeSHA256 in \$LATEST/,
    );
    await rejects(e.publishVersion(S, 'f', { RevisionId: 'x' }), 'PreconditionFailedException');
    await e.updateFunctionConfiguration(S, 'f', { Environment: { Variables: { VV: '2' } } });
    const v2 = await e.publishVersion(S, 'f', { Description: 'second' });
    assert.equal(v2.Version, '2');
    assert.equal(v2.Description, 'second');
    const list = await e.listVersionsByFunction(S, 'f', {});
    assert.deepEqual(
      (list.Versions as { Version: string }[]).map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );
    // Versions are immutable: version 1 runs without V.
    await e.invoke(S, { FunctionName: 'f', Qualifier: '1' });
    assert.deepEqual(c.instances.calls.at(-1)!.spec.environment, {});
    await e.invoke(S, { FunctionName: 'f:2' });
    assert.deepEqual(c.instances.calls.at(-1)!.spec.environment, { VV: '2' });
  });

  test('aliases: CRUD, errors and routing weights', async () => {
    const e = c.lambda.engine;
    const a = await e.createAlias(S, 'f', {
      Name: 'live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.3 } },
    });
    assert.equal(a.AliasArn, 'arn:aws:lambda:us-east-1:123456789012:function:f:live');
    assert.deepEqual(a.RoutingConfig, { AdditionalVersionWeights: { '2': 0.3 } });
    await rejects(
      e.createAlias(S, 'f', { Name: 'live', FunctionVersion: '1' }),
      'ResourceConflictException',
      'Alias already exists: arn:aws:lambda:us-east-1:123456789012:function:f:live',
    );
    await rejects(
      e.createAlias(S, 'f', { Name: 'x', FunctionVersion: '9' }),
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:9',
    );
    await rejects(
      e.createAlias(S, 'f', { Name: '123', FunctionVersion: '1' }),
      'ValidationException',
      /at 'name'/,
    );
    await rejects(
      e.getAlias(S, 'f', 'nope'),
      'ResourceNotFoundException',
      'Cannot find alias arn: arn:aws:lambda:us-east-1:123456789012:function:f:nope',
    );
    c.draws.push(0.1, 0.5, 0.29, 0.31);
    const versions: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++)
      versions.push((await e.invoke(S, { FunctionName: 'f', Qualifier: 'live' })).ExecutedVersion);
    assert.deepEqual(versions, ['2', '1', '2', '1']);
    assert.equal(
      c.instances.calls.at(-1)!.input.invokedFunctionArn,
      'arn:aws:lambda:us-east-1:123456789012:function:f:live',
    );
    const u = await e.updateAlias(S, 'f', 'live', {
      FunctionVersion: '2',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
    assert.equal(u.FunctionVersion, '2');
    assert.equal(u.RoutingConfig, undefined);
    assert.equal(
      (await e.invoke(S, { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:f:live' }))
        .ExecutedVersion,
      '2',
    );
    await rejects(e.updateAlias(S, 'f', 'live', { RevisionId: 'x' }), 'PreconditionFailedException');
    assert.equal(((await e.listAliases(S, 'f', {})).Aliases as unknown[]).length, 1);
    await e.deleteAlias(S, 'f', 'live');
    await rejects(
      e.invoke(S, { FunctionName: 'f', Qualifier: 'live' }),
      'ResourceNotFoundException',
      'Function not found: arn:aws:lambda:us-east-1:123456789012:function:f:live',
    );
  });
});

describe('invoke: limits, concurrency, logs, async', () => {
  let c: Ctx;
  before(async () => {
    c = await setup((cfg) => {
      cfg.compute.limits.accountConcurrency = 5;
      cfg.compute.limits.minUnreservedConcurrency = 2;
      cfg.compute.limits.unzippedCodeBytes = 1000;
    });
    await create(c, 'f');
    await create(c, 'g');
  });
  after(() => teardown(c));

  test('unzipped size limit', async () => {
    const big = zipOf({ 'big.txt': 'x'.repeat(2000) });
    await rejects(
      create(c, 'big', { Code: { ZipFile: big } }),
      'InvalidParameterValueException',
      'Unzipped size must be smaller than 1000 bytes',
    );
  });

  test('payload limits: request, response, async', async () => {
    const e = c.lambda.engine;
    await rejects(
      e.invoke(S, { FunctionName: 'f', Payload: Buffer.alloc(6 * 1024 * 1024 + 1) }),
      'RequestEntityTooLargeException',
      'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      413,
    );
    await rejects(
      e.invoke(S, { FunctionName: 'f', InvocationType: 'Event', Payload: Buffer.alloc(300_000) }),
      'RequestEntityTooLargeException',
      '300000 byte payload is too large for the Event invocation type (limit 262144 bytes)',
      413,
    );
    c.instances.behaviour = () => ({ payload: Buffer.alloc(6 * 1024 * 1024 + 10, 0x61) });
    const out = await e.invoke(S, { FunctionName: 'f' });
    c.instances.behaviour = (_s, i) => ({ payload: i.payload });
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(out.Payload!.toString()), {
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
    assert.equal((await e.invoke(S, { FunctionName: 'f', InvocationType: 'DryRun' })).StatusCode, 204);
  });

  test('reserved and account concurrency throttle with Lambda reasons', async () => {
    const e = c.lambda.engine;
    await rejects(
      e.putFunctionConcurrency(S, 'f', { ReservedConcurrentExecutions: 4 }),
      'InvalidParameterValueException',
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].",
    );
    assert.deepEqual(await e.putFunctionConcurrency(S, 'f', { ReservedConcurrentExecutions: 1 }), {
      ReservedConcurrentExecutions: 1,
    });
    assert.deepEqual(await e.getFunctionConcurrency(S, 'f'), { ReservedConcurrentExecutions: 1 });
    assert.equal((await e.getAccountSettings(S)).AccountLimit.UnreservedConcurrentExecutions, 4);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    c.instances.behaviour = async () => {
      await gate;
      return {};
    };
    const first = e.invoke(S, { FunctionName: 'f' });
    await new Promise((r) => setImmediate(r));
    await assert.rejects(e.invoke(S, { FunctionName: 'f' }), (err: AwsError) => {
      assert.equal(err.code, 'TooManyRequestsException');
      assert.equal(err.status, 429);
      assert.equal(err.message, 'Rate Exceeded.');
      assert.deepEqual(err.extra, {
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        Type: 'User',
      });
      return true;
    });
    // The unreserved pool is 5 - 1 = 4.
    const gs = [0, 1, 2, 3].map(() => e.invoke(S, { FunctionName: 'g' }));
    await new Promise((r) => setImmediate(r));
    await assert.rejects(
      e.invoke(S, { FunctionName: 'g' }),
      (err: AwsError) => err.extra.Reason === 'ConcurrentInvocationLimitExceeded',
    );
    release();
    await Promise.all([first, ...gs]);
    c.instances.behaviour = (_s, i) => ({ payload: i.payload });
    await e.invoke(S, { FunctionName: 'f' });
    await e.deleteFunctionConcurrency(S, 'f');
    assert.deepEqual(await e.getFunctionConcurrency(S, 'f'), {});
    await e.putFunctionConcurrency(S, 'g', { ReservedConcurrentExecutions: 0 });
    await rejects(e.invoke(S, { FunctionName: 'g' }), 'TooManyRequestsException');
    await e.deleteFunctionConcurrency(S, 'g');
  });

  test('logs: INIT_START, START, END, REPORT and the Tail result', async () => {
    const e = c.lambda.engine;
    await create(c, 'logs');
    c.logs.events = [];
    const out = await e.invoke(S, { FunctionName: 'logs', LogType: 'Tail', RequestId: 'req-1' });
    const m = c.logs.messages();
    assert.equal(
      m[0],
      'INIT_START Runtime Version: nodejs:20.v20.20.2\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:nimbus-nodejs-20.v20.20.2',
    );
    assert.equal(m[1], 'init log\n');
    assert.equal(m[2], 'START RequestId: req-1 Version: $LATEST');
    assert.match(m[3], /\treq-1\tINFO\thello\n$/);
    assert.equal(m[4], 'END RequestId: req-1');
    assert.equal(
      m[5],
      'REPORT RequestId: req-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 12.35 ms\t',
    );
    assert.deepEqual(c.logs.events[0].ref, {
      accountId: S.accountId,
      region: S.region,
      group: '/aws/lambda/logs',
      stream: '2026/01/01/[$LATEST]abc',
    });
    const tail = Buffer.from(out.LogResult!, 'base64').toString();
    assert.match(
      tail,
      /START RequestId: req-1 Version: \$LATEST\n[\s\S]*END RequestId: req-1\nREPORT RequestId: req-1\t/,
    );
    // Warm: no INIT_START, no Init Duration.
    c.logs.events = [];
    await e.invoke(S, { FunctionName: 'logs', RequestId: 'req-2' });
    assert.equal(c.logs.messages()[0], 'START RequestId: req-2 Version: $LATEST');
    assert.doesNotMatch(c.logs.messages().at(-1)!, /Init Duration/);
    // A timeout.
    c.logs.events = [];
    c.instances.behaviour = () => ({
      status: 'timeout',
      functionError: 'Unhandled',
      durationMs: 3001,
      payload: Buffer.from(
        '{"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 3.00 seconds"}',
      ),
    });
    const t = await e.invoke(S, { FunctionName: 'logs', RequestId: 'req-3' });
    c.instances.behaviour = (_s, i) => ({ payload: i.payload });
    assert.equal(t.FunctionError, 'Unhandled');
    const tm = c.logs.messages();
    assert.match(tm.at(-3)!, /req-3 Task timed out after 3\.00 seconds$/);
    assert.equal(
      tm.at(-1),
      'REPORT RequestId: req-3\tDuration: 3001.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout',
    );
  });

  test('a big log is tailed to its last 4 KB', async () => {
    c.instances.behaviour = () => ({ logs: [{ time: 1, message: 'y'.repeat(10_000) + '\n' }] });
    const out = await c.lambda.engine.invoke(S, { FunctionName: 'logs', LogType: 'Tail' });
    c.instances.behaviour = (_s, i) => ({ payload: i.payload });
    const tail = Buffer.from(out.LogResult!, 'base64');
    assert.equal(tail.length, 4096);
    assert.match(tail.toString(), /REPORT RequestId: /);
  });

  test('usage records are buffered and readable', async () => {
    const rows = await c.lambda.engine.usage(S, { functionName: 'logs' });
    assert.ok(rows.length >= 4);
    const r = rows.find((x) => x.requestId === 'req-1')!;
    assert.equal(r.memoryMb, 128);
    assert.equal(r.coldStart, true);
    assert.equal(r.billedMs, 2);
    assert.ok(Math.abs(r.gbSeconds - 0.002 * 0.125) < 1e-12);
    assert.ok(rows.some((x) => x.status === 'timeout' && x.billedMs === 3000));
  });

  test('Event invokes are queued durably and run by the worker', async () => {
    const e = c.lambda.engine;
    const out = await e.invoke(S, {
      FunctionName: 'f',
      InvocationType: 'Event',
      Payload: Buffer.from('{"a":1}'),
      RequestId: 'async-1',
    });
    assert.equal(out.StatusCode, 202);
    assert.equal((await c.store.jobs.stats('lambda-async')).ready, 1);
    await c.lambda.start();
    let rec;
    for (let i = 0; i < 200 && !(rec = await e.asyncInvocation('async-1')); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(rec);
    assert.equal(rec.status, 'succeeded');
    assert.equal(rec.attempts.length, 1);
    assert.equal(c.instances.calls.at(-1)!.input.payload.toString(), '{"a":1}');
    await c.lambda.stop();
  });
});

test('extraction keeps executable bits, makes files world-readable and refuses zip-slip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-zip-'));
  try {
    extractZip(
      zipOf({ bootstrap: '#!/bin/sh\n', 'lib/a.txt': 'a' }, { bootstrap: 0o700, 'lib/a.txt': 0o600 }),
      join(dir, 'x'),
    );
    assert.equal(statSync(join(dir, 'x', 'bootstrap')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'x', 'lib', 'a.txt')).mode & 0o777, 0o644);
    const z = new AdmZip();
    z.addFile('ok.txt', Buffer.from('ok'));
    z.getEntry('ok.txt')!.entryName = '../evil.txt';
    assert.throws(
      () => extractZip(z.toBuffer(), join(dir, 'y')),
      (e: AwsError) => e.code === 'InvalidParameterValueException',
    );
    assert.throws(() => statSync(join(dir, 'evil.txt')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deprecated runtimes are recognised (they run, with a warning)', async () => {
  const { isDeprecatedRuntime } = await import('./validation.js');
  for (const r of ['nodejs', 'nodejs10.x', 'nodejs16.x', 'python3.8', 'provided'])
    assert.ok(isDeprecatedRuntime(r), r);
  for (const r of ['nodejs18.x', 'nodejs24.x', 'python3.12', 'provided.al2023'])
    assert.ok(!isDeprecatedRuntime(r), r);
});
