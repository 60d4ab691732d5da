import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, resolveParameters } from './index.js';
import type { Template } from '../types.js';

const T = parseTemplate(`
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Memory:
    Type: Number
    Default: 128
    MinValue: 128
    MaxValue: 10240
  Name:
    Type: String
    AllowedPattern: '[a-z][a-z0-9-]*'
    MinLength: 3
    MaxLength: 10
  Secret:
    Type: String
    NoEcho: true
    Default: hunter2
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: subnet-1,subnet-2
  Ports:
    Type: List<Number>
    Default: '80, 443'
  Names:
    Type: CommaDelimitedList
    Default: a,b
  Vpc:
    Type: AWS::EC2::VPC::Id
    Default: vpc-1
Resources:
  A: { Type: T }
`);

function params(given: Record<string, string>, previous?: Record<string, string>, usePrevious?: string[]) {
  return resolveParameters(T, given, previous, usePrevious);
}

function rejects(given: Record<string, string>, message: string, t: Template = T) {
  assert.throws(() => resolveParameters(t, given), { name: 'TemplateError', message });
}

test('defaults, given values, list types, NoEcho', () => {
  const { values, described } = params({ Name: 'orders', Stage: 'prod' });
  assert.deepEqual(values, {
    Stage: 'prod',
    Memory: '128',
    Name: 'orders',
    Secret: 'hunter2',
    Subnets: ['subnet-1', 'subnet-2'],
    Ports: ['80', '443'],
    Names: ['a', 'b'],
    Vpc: 'vpc-1',
  });
  assert.deepEqual(described, [
    { ParameterKey: 'Stage', ParameterValue: 'prod' },
    { ParameterKey: 'Memory', ParameterValue: '128' },
    { ParameterKey: 'Name', ParameterValue: 'orders' },
    { ParameterKey: 'Secret', ParameterValue: '****' },
    { ParameterKey: 'Subnets', ParameterValue: 'subnet-1,subnet-2' },
    { ParameterKey: 'Ports', ParameterValue: '80, 443' },
    { ParameterKey: 'Names', ParameterValue: 'a,b' },
    { ParameterKey: 'Vpc', ParameterValue: 'vpc-1' },
  ]);
});

test('usePrevious keeps the previous value', () => {
  const { values } = params({ Name: 'orders' }, { Stage: 'prod', Name: 'old' }, ['Stage']);
  assert.equal(values.Stage, 'prod');
  assert.equal(values.Name, 'orders');
  const again = params({}, { Stage: 'prod', Name: 'old' }, ['Stage', 'Name']);
  assert.equal(again.values.Name, 'old');
});

test('unknown and missing parameters', () => {
  rejects({ Name: 'abc', Foo: 'x', Bar: 'y' }, 'Parameters: [Foo, Bar] do not exist in the template');
  rejects({}, 'Parameters: [Name] must have values');
  const t = parseTemplate(
    'Parameters: { A: { Type: String }, B: { Type: Number } }\nResources: { R: { Type: T } }',
  );
  rejects({}, 'Parameters: [A, B] must have values', t);
});

test('constraints', () => {
  rejects({ Name: 'abc', Stage: 'test' }, "Parameter 'Stage' must be one of AllowedValues");
  rejects({ Name: 'abc', Memory: 'lots' }, "Parameter 'Memory' must be a number");
  rejects({ Name: 'abc', Memory: '64' }, "Parameter 'Memory' must be a number not less than 128");
  rejects({ Name: 'abc', Memory: '20000' }, "Parameter 'Memory' must be a number not greater than 10240");
  rejects({ Name: 'Abc' }, "Parameter 'Name' must match pattern [a-z][a-z0-9-]*");
  // The pattern must match the whole value.
  rejects({ Name: 'abc!' }, "Parameter 'Name' must match pattern [a-z][a-z0-9-]*");
  rejects({ Name: 'ab' }, "Parameter 'Name' must contain at least 3 characters");
  rejects({ Name: 'abcdefghijk' }, "Parameter 'Name' must contain at most 10 characters");
  rejects({ Name: 'abc', Ports: '80,x' }, "Parameter 'Ports' must be a number list");
});

test('ConstraintDescription replaces the generic text', () => {
  const t = parseTemplate(`
Parameters:
  Bucket:
    Type: String
    AllowedPattern: '[a-z]+'
    ConstraintDescription: must be lower-case letters
Resources: { R: { Type: T } }
`);
  rejects(
    { Bucket: 'ABC' },
    "Parameter 'Bucket' failed to satisfy constraint: must be lower-case letters",
    t,
  );
  assert.equal(resolveParameters(t, { Bucket: 'abc' }).values.Bucket, 'abc');
});

test('AllowedPattern in the Java style templates use', () => {
  const t = parseTemplate(`
Parameters:
  Prefix: { Type: String, AllowedPattern: '[\\w-]+\\_?' }
Resources: { R: { Type: T } }
`);
  assert.equal(resolveParameters(t, { Prefix: 'my-app_' }).values.Prefix, 'my-app_');
  rejects({ Prefix: 'my app' }, "Parameter 'Prefix' must match pattern [\\w-]+\\_?", t);
});

test('SSM parameter types are not resolved by Nimbus', () => {
  const t = parseTemplate(`
Parameters:
  Ami: { Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>', Default: /aws/ami }
Resources: { R: { Type: T } }
`);
  assert.throws(() => resolveParameters(t, {}), /Nimbus does not resolve SSM parameter types/);
});
