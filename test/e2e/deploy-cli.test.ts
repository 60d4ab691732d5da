/**
 * `nimbus deploy` / `stacks` / `delete` as a user runs them: the CLI as a child process against a
 * real Nimbus, deploying a small SAM app (an HTTP API event on a TypeScript function bundled with
 * esbuild), then calling it over HTTP and through the Lambda API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startTestServer } from '../helpers/server.js';
import { NIMBUS_CLI } from '../helpers/nimbus-process.js';
import { listStacks } from '../../src/deploy/cli/index.js';

const TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        EntryPoints: [app.ts]
        Target: node20
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: nodejs20.x
      Environment:
        Variables:
          GREETING: !Ref Greeting
      Events:
        Hello:
          Type: HttpApi
          Properties:
            Path: /hello
            Method: GET
Outputs:
  ApiId:
    Value: !Ref ServerlessHttpApi
  FunctionName:
    Description: The function
    Value: !Ref HelloFunction
  FunctionArn:
    Value: !GetAtt HelloFunction.Arn
`;

const code = (suffix: string) => `
export const handler = async (event: { name?: string; rawPath?: string }): Promise<string> =>
  \`\${process.env.GREETING} \${event.name ?? event.rawPath}${suffix}\`;
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [NIMBUS_CLI, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (c) => {
      clearTimeout(timer);
      done({ code: c, stdout, stderr });
    });
  });
}

test('nimbus deploy / stacks / delete: a SAM function built with esbuild from TypeScript', async () => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-deploy-cli-'));
  const invoke = async (fn: string) => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: fn, Payload: JSON.stringify({ name: 'nimbus' }) }),
    );
    return JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString()) as unknown;
  };
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'template.yaml'), TEMPLATE);
    writeFileSync(join(dir, 'src', 'app.ts'), code(''));
    const base = [
      '--template-file',
      join(dir, 'template.yaml'),
      '--stack-name',
      'hello-app',
      '--endpoint',
      srv.endpoint,
    ];

    const first = await cli(['deploy', ...base], dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /Building HelloFunction \(esbuild\)/);
    assert.match(first.stdout, /Uploaded HelloFunction to s3:\/\/nimbus-deploy-artifacts\/[0-9a-f]{64}\.zip/);
    assert.match(first.stdout, /Operation\s+LogicalResourceId\s+ResourceType\s+Replacement/);
    assert.match(first.stdout, /Add\s+HelloFunction\s+AWS::Lambda::Function/);
    assert.match(first.stdout, /CREATE_COMPLETE\s+AWS::Lambda::Function\s+HelloFunction/);
    assert.match(first.stdout, /CREATE_COMPLETE\s+AWS::CloudFormation::Stack\s+hello-app/);
    assert.match(first.stdout, /Successfully deployed stack hello-app \(CREATE_COMPLETE\)/);
    const fn = /FunctionName\s+The function\s+(\S+)/.exec(first.stdout)?.[1];
    assert.ok(fn, first.stdout);
    assert.equal(await invoke(fn), 'hello nimbus');
    const apiId = /ApiId\s+(\S+)/.exec(first.stdout)?.[1];
    const res = await fetch(`${srv.endpoint}/_api/${apiId}/hello`);
    assert.equal(`${res.status} ${await res.text()}`, '200 "hello /hello"');

    const same = await cli(['deploy', ...base], dir);
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /Build of HelloFunction skipped: unchanged since the last build/);
    assert.match(same.stdout, /is already uploaded/);
    assert.match(same.stdout, /No changes to deploy\. Stack hello-app is up to date/);

    writeFileSync(join(dir, 'src', 'app.ts'), code('!'));
    // `nimbus diff` shows what the deploy would do and changes nothing.
    const diff = await cli(['diff', ...base, '--parameter-overrides', 'Greeting=howdy'], dir);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /Modify\s+HelloFunction\s+AWS::Lambda::Function\s+False/);
    assert.equal(await invoke(fn), 'hello nimbus', 'diff applied nothing');
    const upd = await cli(['deploy', ...base, '--parameter-overrides', 'Greeting=howdy', '--json'], dir);
    assert.equal(upd.code, 0, upd.stdout + upd.stderr);
    const json = JSON.parse(upd.stdout) as { Outputs: { OutputKey: string; OutputValue: string }[] };
    const arn = json.Outputs.find((o) => o.OutputKey === 'FunctionArn')?.OutputValue;
    assert.equal(arn, `arn:aws:lambda:us-east-1:000000000000:function:${fn}`);
    const byKey = (a: { OutputKey: string }, b: { OutputKey: string }) =>
      a.OutputKey.localeCompare(b.OutputKey);
    assert.deepEqual(
      { ...json, Outputs: [...json.Outputs].sort(byKey) },
      {
        StackName: 'hello-app',
        StackStatus: 'UPDATE_COMPLETE',
        Outputs: [
          { OutputKey: 'ApiId', OutputValue: apiId },
          { OutputKey: 'FunctionArn', OutputValue: arn },
          { OutputKey: 'FunctionName', OutputValue: fn },
        ],
      },
    );
    assert.equal(upd.stdout, JSON.stringify(json) + '\n', 'stdout holds the JSON and nothing else');
    assert.match(
      upd.stderr,
      /UPDATE_COMPLETE\s+AWS::Lambda::Function\s+HelloFunction/,
      'progress goes to stderr',
    );
    assert.equal(await invoke(fn), 'howdy nimbus!');
    const res2 = await fetch(`${srv.endpoint}/_api/${apiId}/hello`);
    assert.equal(`${res2.status} ${await res2.text()}`, '200 "howdy /hello!"');

    const stacks = await cli(['stacks', '--json', '--endpoint', srv.endpoint], dir);
    assert.equal(stacks.code, 0, stacks.stderr);
    const listed = (JSON.parse(stacks.stdout) as { Stacks: Record<string, string>[] }).Stacks;
    assert.deepEqual(
      listed.map((s) => [s.StackName, s.StackStatus]),
      [['hello-app', 'UPDATE_COMPLETE']],
    );
    assert.match(listed[0].LastUpdatedTime, /^\d{4}-\d\d-\d\dT/);

    writeFileSync(
      join(dir, 'broken.yaml'),
      [
        'Transform: AWS::Serverless-2016-10-31',
        'Resources:',
        '  Queue:',
        '    Type: AWS::SQS::Queue',
        '  Broken:',
        '    Type: AWS::Serverless::Function',
        '    DependsOn: Queue',
        '    Properties:',
        '      InlineCode: "exports.handler = async () => 1;"',
        '      Handler: index.handler',
        '      Runtime: ruby3.3',
      ].join('\n'),
    );
    const broken = await cli(
      ['deploy', '-t', join(dir, 'broken.yaml'), '--stack-name', 'broken-app', '--endpoint', srv.endpoint],
      dir,
    );
    assert.equal(broken.code, 1, broken.stdout + broken.stderr);
    assert.match(broken.stdout, /CREATE_FAILED\s+AWS::Lambda::Function\s+Broken\s+\S/);
    assert.match(
      broken.stderr,
      /Error: Stack broken-app failed: ROLLBACK_COMPLETE\n {2}Broken \(AWS::Lambda::Function\): /,
    );

    const del = await cli(['delete', '--stack-name', 'hello-app', '--yes', '--endpoint', srv.endpoint], dir);
    assert.equal(del.code, 0, del.stdout + del.stderr);
    assert.match(del.stdout, /DELETE_COMPLETE\s+AWS::CloudFormation::Stack\s+hello-app/);
    assert.deepEqual(
      (await listStacks(srv.clientConfig)).map((x) => [x.StackName, x.StackStatus]),
      [['broken-app', 'ROLLBACK_COMPLETE']],
    );
    await assert.rejects(invoke(fn), { name: 'ResourceNotFoundException' });
  } finally {
    lambda.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nimbus deploy: a SAM Api whose DefinitionUri is a local OpenAPI file is uploaded and imported', async () => {
  await using srv = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-deploy-def-'));
  const definition = (greeting: string) => `openapi: 3.0.1
info: { title: defs, version: '1' }
paths:
  /greet:
    get:
      responses: { '200': { description: ok } }
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: { application/json: '{"statusCode": 200}' }
        responses: { default: { statusCode: '200', responseTemplates: { application/json: '"${greeting}"' } } }
`;
  try {
    writeFileSync(
      join(dir, 'template.yaml'),
      `Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: api.yaml
  Http:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefinitionUri: http.json
Outputs:
  ApiId:
    Value: !Ref Api
  HttpApiId:
    Value: !Ref Http
`,
    );
    writeFileSync(join(dir, 'api.yaml'), definition('hello'));
    writeFileSync(
      join(dir, 'http.json'),
      JSON.stringify({
        openapi: '3.0.1',
        info: { title: 'http-defs', version: '1' },
        paths: {
          '/health': {
            get: {
              'x-amazon-apigateway-integration': {
                type: 'http_proxy',
                httpMethod: 'GET',
                uri: `${srv.endpoint}/_nimbus/health`,
                payloadFormatVersion: '1.0',
              },
            },
          },
        },
      }),
    );
    const args = [
      'deploy',
      '--template-file',
      join(dir, 'template.yaml'),
      '--stack-name',
      'defs',
      '--endpoint',
      srv.endpoint,
    ];
    const first = await cli(args, dir);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(
      first.stdout,
      /Uploaded Api's definition to s3:\/\/nimbus-deploy-artifacts\/[0-9a-f]{64}\.yaml/,
    );
    const apiId = /ApiId\s+(\S+)/.exec(first.stdout)?.[1];
    const get = async () => {
      const r = await fetch(`${srv.endpoint}/_api/${apiId}/prod/greet`);
      return `${r.status} ${await r.text()}`;
    };
    assert.equal(await get(), '200 "hello"');
    assert.match(
      first.stdout,
      /Uploaded Http's definition to s3:\/\/nimbus-deploy-artifacts\/[0-9a-f]{64}\.json/,
    );
    const httpId = /HttpApiId\s+(\S+)/.exec(first.stdout)?.[1];
    const health = await fetch(`${srv.endpoint}/_api/${httpId}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status?: string }).status, 'ok');
    // A changed file is a new object: the API is re-imported from it.
    writeFileSync(join(dir, 'api.yaml'), definition('bonjour'));
    const second = await cli(args, dir);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.equal(await get(), '200 "bonjour"');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
