/**
 * Lambda resource policies (AddPermission, RemovePermission, GetPolicy) through a real Nimbus
 * and the real @aws-sdk/client-lambda: statement shapes, per-qualifier policies, AWS's errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateAliasCommand,
  DeleteFunctionCommand,
  GetPolicyCommand,
  RemovePermissionCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

async function expectError(p: Promise<unknown>, name: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

test('function resource policies', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => lambda.destroy());
  const z = new AdmZip();
  z.addFile('index.js', Buffer.from('exports.handler = async () => 1;'));
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'pol',
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: z.toBuffer() },
      Publish: true,
    }),
  );
  await lambda.send(new CreateAliasCommand({ FunctionName: 'pol', Name: 'live', FunctionVersion: '1' }));

  await t.test('GetPolicy without a policy', async () => {
    await expectError(
      lambda.send(new GetPolicyCommand({ FunctionName: 'pol' })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
      404,
    );
  });

  await t.test('AddPermission writes AWS-shaped statements', async () => {
    const a = await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'pol',
        StatementId: 's3-invoke',
        Action: 'lambda:InvokeFunction',
        Principal: 's3.amazonaws.com',
        SourceArn: 'arn:aws:s3:::my-bucket',
        SourceAccount: '000000000000',
      }),
    );
    assert.deepEqual(JSON.parse(a.Statement!), {
      Sid: 's3-invoke',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}pol`,
      Condition: {
        StringEquals: { 'AWS:SourceAccount': '000000000000' },
        ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::my-bucket' },
      },
    });
    const b = await lambda.send(
      new AddPermissionCommand({
        FunctionName: `${ARN}pol`,
        StatementId: 'url',
        Action: 'lambda:InvokeFunctionUrl',
        Principal: '111122223333',
        FunctionUrlAuthType: 'AWS_IAM',
      }),
    );
    assert.deepEqual(JSON.parse(b.Statement!).Principal, { AWS: 'arn:aws:iam::111122223333:root' });
    assert.deepEqual(JSON.parse(b.Statement!).Condition, {
      StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
    });
    const p = await lambda.send(new GetPolicyCommand({ FunctionName: 'pol' }));
    const doc = JSON.parse(p.Policy!);
    assert.equal(doc.Version, '2012-10-17');
    assert.equal(doc.Id, 'default');
    assert.deepEqual(
      doc.Statement.map((s: { Sid: string }) => s.Sid),
      ['s3-invoke', 'url'],
    );
    assert.ok(p.RevisionId);
  });

  await t.test('duplicate statement id, bad fields, stale RevisionId', async () => {
    await expectError(
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'pol',
          StatementId: 's3-invoke',
          Action: 'lambda:InvokeFunction',
          Principal: 'sns.amazonaws.com',
        }),
      ),
      'ResourceConflictException',
      'The statement id (s3-invoke) provided already exists. Please provide a new statement id, or remove the existing statement.',
      409,
    );
    await expectError(
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'pol',
          StatementId: 'bad sid',
          Action: 'invoke',
          Principal: 'sns.amazonaws.com',
        }),
      ),
      'ValidationException',
      /^2 validation errors detected: Value 'bad sid' at 'statementId' failed.*; Value 'invoke' at 'action' failed/,
    );
    await expectError(
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'pol',
          StatementId: 'x',
          Action: 'lambda:InvokeFunction',
          Principal: '*',
          RevisionId: 'stale',
        }),
      ),
      'PreconditionFailedException',
      undefined,
      412,
    );
    await expectError(
      lambda.send(
        new AddPermissionCommand({
          FunctionName: 'nope',
          StatementId: 'x',
          Action: 'lambda:InvokeFunction',
          Principal: '*',
        }),
      ),
      'ResourceNotFoundException',
      `Function not found: ${ARN}nope`,
    );
  });

  await t.test('per-qualifier policies', async () => {
    const a = await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'pol',
        Qualifier: 'live',
        StatementId: 'alias',
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
      }),
    );
    assert.equal(JSON.parse(a.Statement!).Resource, `${ARN}pol:live`);
    const p = await lambda.send(new GetPolicyCommand({ FunctionName: 'pol', Qualifier: 'live' }));
    assert.deepEqual(
      JSON.parse(p.Policy!).Statement.map((s: { Sid: string }) => s.Sid),
      ['alias'],
    );
    await expectError(
      lambda.send(new GetPolicyCommand({ FunctionName: 'pol', Qualifier: '7' })),
      'ResourceNotFoundException',
      `Function not found: ${ARN}pol:7`,
    );
  });

  await t.test('RemovePermission', async () => {
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'url' }));
    await expectError(
      lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 'url' })),
      'ResourceNotFoundException',
      'Statement url is not found in resource policy.',
    );
    await lambda.send(new RemovePermissionCommand({ FunctionName: 'pol', StatementId: 's3-invoke' }));
    await expectError(
      lambda.send(new GetPolicyCommand({ FunctionName: 'pol' })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
    );
  });

  await t.test('a deleted function loses its policies', async () => {
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'pol',
        StatementId: 'again',
        Action: 'lambda:InvokeFunction',
        Principal: '*',
      }),
    );
    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'pol' }));
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'pol',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: z.toBuffer() },
      }),
    );
    await expectError(
      lambda.send(new GetPolicyCommand({ FunctionName: 'pol' })),
      'ResourceNotFoundException',
    );
    await expectError(
      lambda.send(new GetPolicyCommand({ FunctionName: 'pol', Qualifier: 'live' })),
      'ResourceNotFoundException',
    );
  });
});
