import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../cli/args.js';
import { deleteCommand, deployCommand, stacksCommand } from './commands.js';
import { formatChanges, formatEvent, isTerminal } from './deploy.js';

const io = (isTTY: boolean, answer = false) => {
  const out: string[] = [];
  return {
    out,
    io: {
      out: (t: string) => void out.push(t),
      err: (t: string) => void out.push(t),
      env: {},
      isTTY,
      confirm: async () => answer,
    },
  };
};

test('delete: without a terminal and without --yes it refuses (usage error); a "no" on a terminal stops', async () => {
  await assert.rejects(
    deleteCommand.run(['--stack-name', 's'], io(false).io),
    (e: Error) => e instanceof UsageError && /pass --yes/.test(e.message),
  );
  const no = io(true, false);
  assert.equal(await deleteCommand.run(['--stack-name', 's'], no.io), 1);
  assert.deepEqual(no.out, ['Not deleted.\n']);
  await assert.rejects(deleteCommand.run([], io(true).io), /--stack-name is required/);
});

test('deploy / stacks: bad arguments are usage errors', async () => {
  await assert.rejects(
    deployCommand.run(['--stack-name', 's', '--template-file', 'x.yaml', 'extra'], io(false).io),
    UsageError,
  );
  await assert.rejects(deployCommand.run(['--bogus'], io(false).io), /unknown option --bogus/);
  await assert.rejects(stacksCommand.run(['x'], io(false).io), UsageError);
});

test('events and change sets print like sam deploy', () => {
  assert.equal(
    formatEvent({
      ResourceStatus: 'CREATE_FAILED',
      ResourceType: 'AWS::SQS::Queue',
      LogicalResourceId: 'Q',
      ResourceStatusReason: 'boom',
    } as never),
    `${'CREATE_FAILED'.padEnd(20)}  ${'AWS::SQS::Queue'.padEnd(34)}  ${'Q'.padEnd(40)}  boom`,
  );
  assert.deepEqual(
    formatChanges([
      { ResourceChange: { Action: 'Add', LogicalResourceId: 'Fn', ResourceType: 'AWS::Lambda::Function' } },
      {
        ResourceChange: {
          Action: 'Modify',
          LogicalResourceId: 'Q',
          ResourceType: 'AWS::SQS::Queue',
          Replacement: 'True',
        },
      },
    ] as never),
    [
      'Operation  LogicalResourceId  ResourceType           Replacement',
      '---------  -----------------  ---------------------  -----------',
      'Add        Fn                 AWS::Lambda::Function  N/A',
      'Modify     Q                  AWS::SQS::Queue        True',
    ],
  );
  assert.equal(isTerminal('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'), false);
  assert.equal(isTerminal('UPDATE_ROLLBACK_COMPLETE'), true);
});
