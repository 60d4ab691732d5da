/**
 * Lambda layers through a real Nimbus and the real @aws-sdk/client-lambda: publishing, listing,
 * layer-version policies, functions' Layers checks, and the layers' files at /opt in the
 * sandbox (Node modules through NODE_PATH, Python modules through sys.path, later layers win).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  AddLayerVersionPermissionCommand,
  CreateFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  InvokeCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  RemoveLayerVersionPermissionCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const LAYER = 'arn:aws:lambda:us-east-1:000000000000:layer:';

function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

async function expectError(p: Promise<unknown>, name: string, message?: string | RegExp, status?: number) {
  await assert.rejects(p, (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return true;
  });
}

const GREET = zip({
  'nodejs/node_modules/greet/index.js': "exports.greet = (n) => 'hello ' + n;",
  'data/config.txt': 'from layer one',
  'data/only-one.txt': 'one',
});
const OVERRIDE = zip({
  'data/config.txt': 'from layer two',
  'python/greetpy.py': "def greet(n):\n    return 'hi ' + n\n",
});

test('Lambda layers', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  t.after(() => lambda.destroy());
  const invoke = async (name: string) => {
    const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
    const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(out.FunctionError, undefined, text);
    return JSON.parse(text);
  };

  await t.test('PublishLayerVersion, Get, GetByArn, versions count from 1', async () => {
    const p1 = await lambda.send(
      new PublishLayerVersionCommand({
        LayerName: 'greet',
        Description: 'greeting',
        Content: { ZipFile: GREET },
        CompatibleRuntimes: ['nodejs20.x'],
        CompatibleArchitectures: ['x86_64'],
        LicenseInfo: 'MIT',
      }),
    );
    assert.equal(p1.$metadata.httpStatusCode, 201);
    assert.equal(p1.Version, 1);
    assert.equal(p1.LayerArn, `${LAYER}greet`);
    assert.equal(p1.LayerVersionArn, `${LAYER}greet:1`);
    assert.equal(p1.Content?.CodeSha256, createHash('sha256').update(GREET).digest('base64'));
    assert.equal(p1.Content?.CodeSize, GREET.length);
    assert.deepEqual(p1.CompatibleRuntimes, ['nodejs20.x']);
    assert.equal(p1.LicenseInfo, 'MIT');
    assert.match(p1.CreatedDate!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const p2 = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'greet', Content: { ZipFile: GREET } }),
    );
    assert.equal(p2.Version, 2);
    const other = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'override', Content: { ZipFile: OVERRIDE } }),
    );
    assert.equal(other.Version, 1);
    const g = await lambda.send(new GetLayerVersionCommand({ LayerName: 'greet', VersionNumber: 1 }));
    assert.equal(g.Description, 'greeting');
    const byArn = await lambda.send(new GetLayerVersionByArnCommand({ Arn: `${LAYER}greet:2` }));
    assert.equal(byArn.Version, 2);
    await expectError(
      lambda.send(new GetLayerVersionCommand({ LayerName: 'greet', VersionNumber: 9 })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
      404,
    );
    await expectError(
      lambda.send(
        new PublishLayerVersionCommand({
          LayerName: 'greet',
          Content: { S3Bucket: 'b', S3Key: 'k.zip' },
        }),
      ),
      'InvalidParameterValueException',
    );
    await expectError(
      lambda.send(
        new PublishLayerVersionCommand({
          LayerName: 'greet',
          Content: { ZipFile: GREET },
          CompatibleRuntimes: ['cobol' as 'nodejs20.x'],
        }),
      ),
      'ValidationException',
      /^1 validation error detected: Value 'cobol' at 'compatibleRuntimes.1.member' failed to satisfy constraint: Member must satisfy enum value set: \[/,
    );
  });

  await t.test('ListLayers and ListLayerVersions', async () => {
    const l = await lambda.send(new ListLayersCommand({}));
    assert.deepEqual(
      l.Layers?.map((x) => [x.LayerName, x.LatestMatchingVersion?.Version]),
      [
        ['greet', 2],
        ['override', 1],
      ],
    );
    const byRuntime = await lambda.send(new ListLayersCommand({ CompatibleRuntime: 'nodejs20.x' }));
    assert.deepEqual(
      byRuntime.Layers?.map((x) => [x.LayerName, x.LatestMatchingVersion?.Version]),
      [['greet', 1]],
    );
    const v = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'greet' }));
    assert.deepEqual(
      v.LayerVersions?.map((x) => x.Version),
      [2, 1],
    );
    const page = await lambda.send(new ListLayerVersionsCommand({ LayerName: 'greet', MaxItems: 1 }));
    assert.equal(page.LayerVersions?.length, 1);
    assert.ok(page.NextMarker);
    const rest = await lambda.send(
      new ListLayerVersionsCommand({ LayerName: 'greet', Marker: page.NextMarker }),
    );
    assert.deepEqual(
      rest.LayerVersions?.map((x) => x.Version),
      [1],
    );
  });

  await t.test('layer version permissions', async () => {
    await expectError(
      lambda.send(new GetLayerVersionPolicyCommand({ LayerName: 'greet', VersionNumber: 1 })),
      'ResourceNotFoundException',
      'The resource you requested does not exist.',
    );
    const a = await lambda.send(
      new AddLayerVersionPermissionCommand({
        LayerName: 'greet',
        VersionNumber: 1,
        StatementId: 'everyone',
        Action: 'lambda:GetLayerVersion',
        Principal: '*',
      }),
    );
    assert.deepEqual(JSON.parse(a.Statement!), {
      Sid: 'everyone',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:GetLayerVersion',
      Resource: `${LAYER}greet:1`,
    });
    const p = await lambda.send(new GetLayerVersionPolicyCommand({ LayerName: 'greet', VersionNumber: 1 }));
    assert.equal(JSON.parse(p.Policy!).Statement.length, 1);
    assert.equal(p.RevisionId, a.RevisionId);
    await expectError(
      lambda.send(
        new AddLayerVersionPermissionCommand({
          LayerName: 'greet',
          VersionNumber: 1,
          StatementId: 'everyone',
          Action: 'lambda:GetLayerVersion',
          Principal: '*',
        }),
      ),
      'ResourceConflictException',
      'The statement id (everyone) provided already exists. Please provide a new statement id, or remove the existing statement.',
    );
    await lambda.send(
      new RemoveLayerVersionPermissionCommand({
        LayerName: 'greet',
        VersionNumber: 1,
        StatementId: 'everyone',
      }),
    );
    await expectError(
      lambda.send(new GetLayerVersionPolicyCommand({ LayerName: 'greet', VersionNumber: 1 })),
      'ResourceNotFoundException',
    );
  });

  await t.test("functions' Layers must name existing layer versions, at most 5", async () => {
    const base = {
      Runtime: 'nodejs20.x' as const,
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: zip({ 'index.js': 'exports.handler = async () => 1;' }) },
    };
    await expectError(
      lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad', Layers: [`${LAYER}greet:7`] })),
      'InvalidParameterValueException',
      `Layer version ${LAYER}greet:7 does not exist.`,
      400,
    );
    await expectError(
      lambda.send(
        new CreateFunctionCommand({
          ...base,
          FunctionName: 'bad',
          Layers: ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `${LAYER}${n}:1`),
        }),
      ),
      'InvalidParameterValueException',
      'Cannot reference more than 5 layers.',
    );
    await expectError(
      lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'bad', Layers: ['greet'] })),
      'ValidationException',
      /Value 'greet' at 'layers.1.member' failed to satisfy constraint/,
    );
  });

  await t.test('a Node function requires a layer module and reads merged files at /opt', async () => {
    const c = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'uses-layers',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Layers: [`${LAYER}greet:1`, `${LAYER}override:1`],
        Code: {
          ZipFile: zip({
            'index.js': `const fs = require('fs');
              const { greet } = require('greet');
              exports.handler = async () => {
                let writable = true;
                try { fs.writeFileSync('/opt/data/new.txt', 'x'); } catch { writable = false; }
                return {
                  greeting: greet('layers'),
                  config: fs.readFileSync('/opt/data/config.txt', 'utf8'),
                  onlyOne: fs.readFileSync('/opt/data/only-one.txt', 'utf8'),
                  writable,
                  nodePath: process.env.NODE_PATH,
                };
              };`,
          }),
        },
      }),
    );
    assert.deepEqual(
      c.Layers?.map((l) => [l.Arn, l.CodeSize]),
      [
        [`${LAYER}greet:1`, GREET.length],
        [`${LAYER}override:1`, OVERRIDE.length],
      ],
    );
    const out = await invoke('uses-layers');
    assert.equal(out.greeting, 'hello layers');
    assert.equal(out.config, 'from layer two');
    assert.equal(out.onlyOne, 'one');
    assert.equal(out.writable, false);
    assert.ok(out.nodePath.includes('/opt/nodejs/node_modules'), out.nodePath);
    assert.ok(out.nodePath.includes('/opt/nodejs/node20/node_modules'), out.nodePath);

    // Dropping the second layer: the function sees layer one's file again.
    await lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'uses-layers', Layers: [`${LAYER}greet:1`] }),
    );
    const cfg = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'uses-layers' }));
    assert.deepEqual(
      cfg.Layers?.map((l) => l.Arn),
      [`${LAYER}greet:1`],
    );
    assert.equal((await invoke('uses-layers')).config, 'from layer one');
  });

  await t.test('a Python function imports from /opt/python', async () => {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'py-layers',
        Runtime: 'python3.12',
        Role: ROLE,
        Handler: 'app.handler',
        Layers: [`${LAYER}override:1`],
        Code: {
          ZipFile: zip({
            'app.py': 'import greetpy\n\ndef handler(event, context):\n    return greetpy.greet("py")\n',
          }),
        },
      }),
    );
    assert.equal(await invoke('py-layers'), 'hi py');
  });

  await t.test('DeleteLayerVersion: gone for new functions, kept by functions that use it', async () => {
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'greet', VersionNumber: 1 }));
    // Deleting again succeeds quietly, as on AWS.
    await lambda.send(new DeleteLayerVersionCommand({ LayerName: 'greet', VersionNumber: 1 }));
    await expectError(
      lambda.send(new GetLayerVersionCommand({ LayerName: 'greet', VersionNumber: 1 })),
      'ResourceNotFoundException',
    );
    assert.equal((await invoke('uses-layers')).greeting, 'hello layers');
    const next = await lambda.send(
      new PublishLayerVersionCommand({ LayerName: 'greet', Content: { ZipFile: GREET } }),
    );
    assert.equal(next.Version, 3);
  });
});
