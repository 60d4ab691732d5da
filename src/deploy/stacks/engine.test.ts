import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../core/clock.js';
import { silentLogger } from '../../core/logger.js';
import { openStore } from '../../storage/index.js';
import type { Store } from '../../storage/store.js';
import type { ProviderRegistry, ResourceProvider } from '../types.js';
import { StackEngine, SKIP_UNSUPPORTED_TAG } from './engine.js';
import type { StackRecord } from './model.js';

const scope = { accountId: '000000000000', region: 'us-east-1' };

/** A fake service: `Fail: true` fails create/update, `Delay` (ms) slows them. */
class Fake {
  log: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  live = new Map<string, Record<string, unknown>>();
  private n = 0;
  provider(type: string, replaceOn: string[] = ['Name']): ResourceProvider {
    const run = async (props: Record<string, unknown>) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      await new Promise((r) => setTimeout(r, Number(props.Delay ?? 5)));
      this.inFlight--;
      if (props.Fail === true || props.Fail === 'true') throw new Error(`boom ${String(props.Name)}`);
    };
    return {
      replaceOn,
      create: async (props, ctx) => {
        await run(props);
        const id = `${type}:${ctx.logicalId}:${++this.n}`;
        this.live.set(id, props);
        this.log.push(`create ${ctx.logicalId}`);
        return { physicalId: id, attributes: { Arn: `arn:${id}`, Name: props.Name } };
      },
      update: async (physicalId, props, _prev, ctx) => {
        await run(props);
        this.live.set(physicalId, props);
        this.log.push(`update ${ctx.logicalId}`);
        return { physicalId, attributes: { Arn: `arn:${physicalId}`, Name: props.Name } };
      },
      delete: async (physicalId, _props, ctx) => {
        this.live.delete(physicalId);
        this.log.push(`delete ${ctx.logicalId}`);
      },
    };
  }
  registry(): ProviderRegistry {
    return {
      'Test::Thing': this.provider('thing'),
      'AWS::IAM::Role': this.provider('role'),
    };
  }
}

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-stacks-unit-'));
  const store: Store = await openStore({ storage: 'sqlite', dataDir: dir }, systemClock, silentLogger);
  const fake = new Fake();
  const engine = new StackEngine({
    store,
    clock: systemClock,
    logger: silentLogger,
    providers: fake.registry(),
    recordedTypes: ['Test::Recorded'],
    clientConfig: () => ({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    }),
  });
  t.after(async () => {
    await engine.idle();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, fake, engine };
}

const body = (resources: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ Resources: resources, ...extra });

async function settle(engine: StackEngine, name: string): Promise<StackRecord> {
  const s = await engine.getStack(scope, name);
  await engine.wait(s.stackId);
  return engine.getStack(scope, s.stackId);
}

test('create: independent resources in parallel, dependents after them, outputs resolved', async (t) => {
  const { engine, fake } = await setup(t);
  const id = await engine.createStack(scope, {
    stackName: 's1',
    templateBody: body(
      {
        A: { Type: 'Test::Thing', Properties: { Name: 'a', Delay: 40 } },
        B: { Type: 'Test::Thing', Properties: { Name: 'b', Delay: 40 } },
        C: { Type: 'Test::Thing', Properties: { Name: { 'Fn::GetAtt': ['A', 'Arn'] }, Other: { Ref: 'B' } } },
        R: { Type: 'Test::Recorded' },
      },
      { Outputs: { Out: { Value: { 'Fn::GetAtt': ['C', 'Arn'] }, Export: { Name: 'c-arn' } } } },
    ),
  });
  assert.match(id, /^arn:aws:cloudformation:us-east-1:000000000000:stack\/s1\/[0-9a-f-]{36}$/);
  const s = await settle(engine, 's1');
  assert.equal(s.status, 'CREATE_COMPLETE');
  assert.ok(fake.maxInFlight >= 2, 'A and B were in flight together');
  assert.equal(fake.log.at(-1), 'create C');
  const res = await engine.resources(s);
  const c = res.find((r) => r.logicalId === 'C');
  assert.match(String(c?.props.Name), /^arn:thing:A:/);
  assert.equal(s.outputs[0].OutputValue, `arn:${c?.physicalId}`);
  assert.deepEqual(
    (await engine.listExports(scope)).map((e) => e.name),
    ['c-arn'],
  );
  const events = await engine.events(s);
  assert.equal(events[0].ResourceStatus, 'CREATE_COMPLETE');
  assert.equal(events[0].LogicalResourceId, 's1');
  assert.equal(events.at(-1)?.ResourceStatus, 'CREATE_IN_PROGRESS');
});

test('create failure rolls back what was created, in reverse order', async (t) => {
  const { engine, fake } = await setup(t);
  await engine.createStack(scope, {
    stackName: 's2',
    templateBody: body({
      A: { Type: 'Test::Thing', Properties: { Name: 'a' } },
      B: { Type: 'Test::Thing', Properties: { Name: 'b', Target: { Ref: 'A' } } },
      C: { Type: 'Test::Thing', Properties: { Name: 'c', Fail: true, Target: { Ref: 'B' } } },
    }),
  });
  const s = await settle(engine, 's2');
  assert.equal(s.status, 'ROLLBACK_COMPLETE');
  assert.deepEqual(fake.log, ['create A', 'create B', 'delete B', 'delete A']);
  assert.equal(fake.live.size, 0);
  const events = await engine.events(s);
  const failed = events.find((e) => e.ResourceStatus === 'CREATE_FAILED');
  assert.equal(failed?.LogicalResourceId, 'C');
  assert.equal(failed?.ResourceStatusReason, 'boom c');
  assert.ok(
    events.some(
      (e) =>
        e.ResourceStatus === 'ROLLBACK_IN_PROGRESS' &&
        /failed to create: \[C\]/.test(e.ResourceStatusReason ?? ''),
    ),
  );
  // A rolled-back stack cannot be updated.
  await assert.rejects(
    engine.updateStack(scope, { stackName: 's2', usePreviousTemplate: true }),
    /is in ROLLBACK_COMPLETE state and can not be updated/,
  );
});

test('DisableRollback keeps resources (CREATE_FAILED); OnFailure DELETE deletes the stack', async (t) => {
  const { engine, fake } = await setup(t);
  const tpl = body({
    A: { Type: 'Test::Thing', Properties: { Name: 'a' } },
    B: { Type: 'Test::Thing', Properties: { Name: 'b', Fail: true }, DependsOn: 'A' },
  });
  await engine.createStack(scope, { stackName: 'keep', templateBody: tpl, disableRollback: true });
  assert.equal((await settle(engine, 'keep')).status, 'CREATE_FAILED');
  assert.equal(fake.live.size, 1);
  const id = await engine.createStack(scope, { stackName: 'gone', templateBody: tpl, onFailure: 'DELETE' });
  await engine.wait(id);
  assert.equal((await engine.getStack(scope, id)).status, 'DELETE_COMPLETE');
  assert.equal(await engine.findStack(scope, 'gone'), undefined);
});

test('validation before anything is created: unsupported types, capabilities, skip-unsupported', async (t) => {
  const { engine, fake } = await setup(t);
  await assert.rejects(
    engine.createStack(scope, {
      stackName: 'bad',
      templateBody: body({
        A: { Type: 'Test::Thing' },
        X: { Type: 'AWS::Foo::Bar' },
        Y: { Type: 'AWS::Foo::Baz' },
      }),
    }),
    {
      code: 'ValidationError',
      message: 'Template format error: Unrecognized resource types: [AWS::Foo::Bar, AWS::Foo::Baz]',
    },
  );
  assert.equal(await engine.findStack(scope, 'bad'), undefined);
  await assert.rejects(
    engine.createStack(scope, {
      stackName: 'iam',
      templateBody: body({ R: { Type: 'AWS::IAM::Role', Properties: {} } }),
    }),
    { code: 'InsufficientCapabilitiesException', message: 'Requires capabilities : [CAPABILITY_IAM]' },
  );
  await assert.rejects(
    engine.createStack(scope, {
      stackName: 'iam',
      capabilities: ['CAPABILITY_IAM'],
      templateBody: body({ R: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'x' } } }),
    }),
    { code: 'InsufficientCapabilitiesException', message: 'Requires capabilities : [CAPABILITY_NAMED_IAM]' },
  );
  await assert.rejects(
    engine.createStack(scope, {
      stackName: 'sam',
      templateBody: body({ A: { Type: 'Test::Thing' } }, { Transform: 'AWS::Serverless-2016-10-31' }),
    }),
    {
      code: 'InsufficientCapabilitiesException',
      message: 'Requires capabilities : [CAPABILITY_AUTO_EXPAND]',
    },
  );
  assert.equal(fake.log.length, 0);
  await engine.createStack(scope, {
    stackName: 'skip',
    tags: [{ Key: SKIP_UNSUPPORTED_TAG, Value: 'true' }],
    templateBody: body({
      A: { Type: 'Test::Thing', Properties: { Name: 'a' } },
      X: { Type: 'AWS::Foo::Bar' },
    }),
  });
  const s = await settle(engine, 'skip');
  assert.equal(s.status, 'CREATE_COMPLETE');
  const ev = (await engine.events(s)).find((e) => e.LogicalResourceId === 'X');
  assert.match(ev?.ResourceStatusReason ?? '', /does not support AWS::Foo::Bar/);
});

test('update: in place vs replacement, dependents follow, removed resources deleted, "No updates"', async (t) => {
  const { engine, fake } = await setup(t);
  const tpl = (aName: string, size: number, extra: Record<string, unknown> = {}) =>
    body({
      A: { Type: 'Test::Thing', Properties: { Name: aName, Size: size } },
      B: { Type: 'Test::Thing', Properties: { Name: 'b', Target: { Ref: 'A' } } },
      ...extra,
    });
  await engine.createStack(scope, {
    stackName: 'u',
    templateBody: tpl('a', 1, { Old: { Type: 'Test::Thing', Properties: { Name: 'old' } } }),
  });
  let s = await settle(engine, 'u');
  const a1 = (await engine.resources(s)).find((r) => r.logicalId === 'A')!.physicalId;
  fake.log = [];
  await engine.updateStack(scope, { stackName: 'u', templateBody: tpl('a', 2) });
  s = await settle(engine, 'u');
  assert.equal(s.status, 'UPDATE_COMPLETE');
  assert.deepEqual(fake.log, ['update A', 'delete Old']);
  assert.equal((await engine.resources(s)).find((r) => r.logicalId === 'A')!.physicalId, a1);
  fake.log = [];
  await engine.updateStack(scope, { stackName: 'u', templateBody: tpl('a2', 2) });
  s = await settle(engine, 'u');
  assert.equal(s.status, 'UPDATE_COMPLETE');
  assert.deepEqual(fake.log, ['create A', 'update B', 'delete A']);
  const res = await engine.resources(s);
  const a2 = res.find((r) => r.logicalId === 'A')!.physicalId;
  assert.notEqual(a2, a1);
  assert.equal(res.find((r) => r.logicalId === 'B')!.props.Target, a2);
  assert.ok(!fake.live.has(a1));
  const statuses = (await engine.events(s))
    .filter((e) => e.LogicalResourceId === 'u')
    .map((e) => e.ResourceStatus);
  assert.deepEqual(statuses.slice(0, 3), [
    'UPDATE_COMPLETE',
    'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
    'UPDATE_IN_PROGRESS',
  ]);
  await assert.rejects(engine.updateStack(scope, { stackName: 'u', templateBody: tpl('a2', 2) }), {
    code: 'ValidationError',
    message: 'No updates are to be performed.',
  });
});

test('update failure rolls back: props restored, new resources deleted', async (t) => {
  const { engine, fake } = await setup(t);
  await engine.createStack(scope, {
    stackName: 'r',
    templateBody: body({ A: { Type: 'Test::Thing', Properties: { Name: 'a', Size: 1 } } }),
  });
  let s = await settle(engine, 'r');
  fake.log = [];
  await engine.updateStack(scope, {
    stackName: 'r',
    templateBody: body({
      A: { Type: 'Test::Thing', Properties: { Name: 'a', Size: 2 } },
      N: { Type: 'Test::Thing', Properties: { Name: 'n' } },
      F: { Type: 'Test::Thing', Properties: { Name: 'f', Fail: true }, DependsOn: ['A', 'N'] },
    }),
  });
  s = await settle(engine, 'r');
  assert.equal(s.status, 'UPDATE_ROLLBACK_COMPLETE');
  const a = (await engine.resources(s)).find((r) => r.logicalId === 'A')!;
  assert.equal(a.props.Size, 1);
  assert.equal(fake.live.get(a.physicalId)?.Size, 1);
  assert.deepEqual(
    (await engine.resources(s)).map((r) => r.logicalId),
    ['A'],
  );
  assert.equal(fake.live.size, 1);
  assert.ok(fake.log.includes('delete N'));
  assert.equal(JSON.parse(s.processedTemplate).Resources.N, undefined);
});

test('one operation per stack; delete in reverse order with Retain; deleted stacks by id only', async (t) => {
  const { engine, fake } = await setup(t);
  const id = await engine.createStack(scope, {
    stackName: 'd',
    templateBody: body({
      A: { Type: 'Test::Thing', Properties: { Name: 'a', Delay: 50 } },
      B: { Type: 'Test::Thing', Properties: { Name: 'b', Target: { Ref: 'A' } } },
      K: { Type: 'Test::Thing', Properties: { Name: 'k' }, DeletionPolicy: 'Retain' },
    }),
  });
  await assert.rejects(engine.updateStack(scope, { stackName: 'd', usePreviousTemplate: true }), {
    code: 'ValidationError',
    message: `Stack:${id} is in CREATE_IN_PROGRESS state and can not be updated.`,
  });
  await engine.wait(id);
  fake.log = [];
  await engine.deleteStack(scope, 'd');
  await engine.wait(id);
  assert.deepEqual(fake.log, ['delete B', 'delete A']);
  assert.equal(fake.live.size, 1);
  const s = await engine.getStack(scope, id);
  assert.equal(s.status, 'DELETE_COMPLETE');
  assert.ok(
    (await engine.events(s)).some(
      (e) => e.LogicalResourceId === 'K' && e.ResourceStatus === 'DELETE_SKIPPED',
    ),
  );
  await assert.rejects(engine.getStack(scope, 'd'), { message: 'Stack with id d does not exist' });
  // The name is free again.
  await engine.createStack(scope, { stackName: 'd', templateBody: body({ A: { Type: 'Test::Thing' } }) });
  assert.equal((await settle(engine, 'd')).status, 'CREATE_COMPLETE');
});

test('exports: unique names, ImportValue, delete blocked while imported', async (t) => {
  const { engine } = await setup(t);
  const exp = (name: string) =>
    body(
      { A: { Type: 'Test::Thing', Properties: { Name: 'a' } } },
      { Outputs: { O: { Value: { Ref: 'A' }, Export: { Name: name } } } },
    );
  const p = await engine.createStack(scope, { stackName: 'producer', templateBody: exp('shared') });
  await engine.wait(p);
  await engine.createStack(scope, { stackName: 'dup', templateBody: exp('shared') });
  const dup = await settle(engine, 'dup');
  assert.equal(dup.status, 'ROLLBACK_COMPLETE');
  assert.equal(dup.statusReason, undefined);
  const reason = (await engine.events(dup)).find(
    (e) => e.ResourceStatus === 'ROLLBACK_IN_PROGRESS',
  )?.ResourceStatusReason;
  assert.equal(reason, 'Export with name shared is already exported by stack producer');
  await engine.createStack(scope, {
    stackName: 'consumer',
    templateBody: body({ B: { Type: 'Test::Thing', Properties: { Name: { 'Fn::ImportValue': 'shared' } } } }),
  });
  const consumer = await settle(engine, 'consumer');
  assert.equal(consumer.status, 'CREATE_COMPLETE');
  assert.match(String((await engine.resources(consumer))[0].props.Name), /^thing:A:/);
  assert.deepEqual(await engine.listImports(scope, 'shared'), ['consumer']);
  await engine.deleteStack(scope, 'producer');
  const prod = await settle(engine, 'producer');
  assert.equal(prod.status, 'DELETE_FAILED');
  assert.equal(prod.statusReason, 'Export shared cannot be deleted as it is in use by consumer');
});

test('change sets: CREATE puts the stack in REVIEW_IN_PROGRESS; UPDATE lists changes; no changes -> FAILED', async (t) => {
  const { engine } = await setup(t);
  const tpl = (name: string, size: number) =>
    body({
      A: { Type: 'Test::Thing', Properties: { Name: name, Size: size } },
      B: { Type: 'Test::Thing', Properties: { Name: 'b' } },
    });
  const cs = await engine.createChangeSet(scope, {
    stackName: 'cs',
    changeSetName: 'one',
    changeSetType: 'CREATE',
    templateBody: tpl('a', 1),
  });
  assert.equal((await engine.getStack(scope, 'cs')).status, 'REVIEW_IN_PROGRESS');
  const rec = await engine.findChangeSet(scope, cs.id);
  assert.deepEqual(
    rec.changes.map((c) => `${c.Action} ${c.LogicalResourceId}`),
    ['Add A', 'Add B'],
  );
  await engine.executeChangeSet(scope, 'one', 'cs');
  assert.equal((await settle(engine, 'cs')).status, 'CREATE_COMPLETE');
  const same = await engine.createChangeSet(scope, {
    stackName: 'cs',
    changeSetName: 'same',
    templateBody: tpl('a', 1),
  });
  const sameRec = await engine.findChangeSet(scope, same.id);
  assert.equal(sameRec.status, 'FAILED');
  assert.equal(
    sameRec.statusReason,
    "The submitted information didn't contain changes. Submit different information to create a change set.",
  );
  const up = await engine.createChangeSet(scope, {
    stackName: 'cs',
    changeSetName: 'two',
    templateBody: tpl('a2', 2),
  });
  const upRec = await engine.findChangeSet(scope, 'two', 'cs');
  assert.equal(upRec.changes.length, 1);
  assert.equal(upRec.changes[0].Replacement, 'True');
  assert.deepEqual(
    upRec.changes[0].Details.map((d) => `${d.Target.Name}:${d.Target.RequiresRecreation}`),
    ['Name:Always', 'Size:Never'],
  );
  await engine.executeChangeSet(scope, up.id);
  assert.equal((await settle(engine, 'cs')).status, 'UPDATE_COMPLETE');
  await assert.rejects(engine.findChangeSet(scope, 'same', 'cs'), { code: 'ChangeSetNotFound' });
});

test('start-up marks stacks a dead process left in progress as failed', async (t) => {
  const { engine, store } = await setup(t);
  const id = await engine.createStack(scope, {
    stackName: 'x',
    templateBody: body({ A: { Type: 'Test::Thing', Properties: { Delay: 1 } } }),
  });
  await engine.wait(id);
  const s = await engine.getStack(scope, id);
  await store.put('cfn-stacks', `${scope.accountId}/${scope.region}/${id}`, {
    ...s,
    status: 'UPDATE_IN_PROGRESS',
  });
  await engine.start();
  const after = await engine.getStack(scope, id);
  assert.equal(after.status, 'UPDATE_ROLLBACK_FAILED');
  assert.match(after.statusReason ?? '', /Nimbus restarted/);
});
