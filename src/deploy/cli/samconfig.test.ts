import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadSamConfig, parseKeyValues, splitWords } from './samconfig.js';
import { parseDeployArgs, resolveDeployOptions } from './commands.js';
import { parseTemplateText } from './template-file.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/deploy', import.meta.url));

test('splitWords splits like a shell: quotes group and are removed', () => {
  assert.deepEqual(splitWords(`A=1  B="v w" C='x "y"' D=a\\ b`), ['A=1', 'B=v w', 'C=x "y"', 'D=a b']);
  assert.throws(() => splitWords('A="open'), /unterminated/);
});

test('parameter overrides: K=V words, a string, and the ParameterKey form', () => {
  assert.deepEqual(parseKeyValues(['Stage=dev', 'Url=http://x/?a=b']), {
    Stage: 'dev',
    Url: 'http://x/?a=b',
  });
  assert.deepEqual(parseKeyValues('Stage=dev Greeting="hello there"'), {
    Stage: 'dev',
    Greeting: 'hello there',
  });
  assert.deepEqual(
    parseKeyValues(['ParameterKey=Stage,ParameterValue=prod', 'ParameterKey=L,ParameterValue=a,b']),
    {
      Stage: 'prod',
      L: 'a,b',
    },
  );
  assert.deepEqual(parseKeyValues(['Empty=']), { Empty: '' });
  assert.throws(() => parseKeyValues(['novalue']), /invalid parameter "novalue": expected KEY=VALUE/);
});

test('samconfig.toml: deploy parameters override global ones; environments; missing file', () => {
  const file = join(FIXTURES, 'ts-esbuild', 'samconfig.toml');
  assert.deepEqual(loadSamConfig(file), {
    stackName: 'fixture-stack',
    templateFile: undefined,
    region: 'eu-west-1',
    parameterOverrides: { Stage: 'dev', Greeting: 'hello there' },
    capabilities: ['CAPABILITY_IAM'],
    tags: { team: 'core', project: 'nimbus demo' },
  });
  const prod = loadSamConfig(file, 'prod');
  assert.equal(prod.stackName, 'fixture-prod');
  assert.deepEqual(prod.parameterOverrides, { Stage: 'prod', Greeting: 'hi, all' });
  assert.deepEqual(loadSamConfig(join(FIXTURES, 'nope.toml')), {
    parameterOverrides: {},
    capabilities: [],
    tags: {},
  });
});

test('deploy flags: multi-word --parameter-overrides, and flags win over samconfig.toml', () => {
  const args = parseDeployArgs(
    ['--parameter-overrides', 'A=1', 'B=2', '--json', '--parameter-overrides=C=3', '--stack-name', 's'],
    {
      'parameter-overrides': { type: 'string' },
      'stack-name': { type: 'string' },
      json: { type: 'boolean' },
    },
  );
  assert.deepEqual(args.multi['parameter-overrides'], ['A=1', 'B=2', 'C=3']);
  assert.equal(args.flags['stack-name'], 's');
  assert.equal(args.flags.json, true);

  const io = { out: () => undefined, err: () => undefined, env: {} };
  const template = join(FIXTURES, 'ts-esbuild', 'template.yaml');
  const { opts, json } = resolveDeployOptions(
    ['--template-file', template, '--parameter-overrides', 'Stage=test', '--endpoint', 'http://127.0.0.1:1/'],
    io,
  );
  assert.equal(json, false);
  assert.equal(opts.stackName, 'fixture-stack');
  assert.equal(opts.region, 'eu-west-1');
  assert.equal(opts.endpoint, 'http://127.0.0.1:1');
  assert.deepEqual(opts.parameterOverrides, { Stage: 'test', Greeting: 'hello there' });
  const prod = resolveDeployOptions(
    ['-t', template, '--config-env', 'prod', '--stack-name', 'mine'],
    io,
  ).opts;
  assert.equal(prod.stackName, 'mine');
  assert.deepEqual(prod.parameterOverrides, { Stage: 'prod', Greeting: 'hi, all' });
  assert.throws(
    () => resolveDeployOptions(['-t', template, '--parameter-overrides', 'bad'], io),
    /expected KEY=VALUE/,
  );
});

test('templates: YAML short-form tags become the long form', () => {
  const t = parseTemplateText(
    [
      'Resources:',
      '  A:',
      '    Type: AWS::SQS::Queue',
      '    Properties:',
      '      QueueName: !Sub "${AWS::StackName}-q"',
      '      X: !GetAtt B.Arn',
      '      Y: !Join ["", [!Ref P, !Select [0, !Split [",", !Ref L]]]]',
      '      Z: !If [C, !GetAtt [B, Arn], !Ref AWS::NoValue]',
    ].join('\n'),
  );
  assert.deepEqual(t.Resources.A.Properties, {
    QueueName: { 'Fn::Sub': '${AWS::StackName}-q' },
    X: { 'Fn::GetAtt': ['B', 'Arn'] },
    Y: { 'Fn::Join': ['', [{ Ref: 'P' }, { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'L' }] }] }]] },
    Z: { 'Fn::If': ['C', { 'Fn::GetAtt': ['B', 'Arn'] }, { Ref: 'AWS::NoValue' }] },
  });
  assert.deepEqual(parseTemplateText('{"Resources": {"A": {"Type": "T"}}}').Resources.A, { Type: 'T' });
  assert.throws(() => parseTemplateText('Description: x'), /At least one Resources member must be defined/);
});
