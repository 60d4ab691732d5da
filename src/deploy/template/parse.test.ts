import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate } from './index.js';
import { TemplateError } from '../types.js';

const SAMPLE = `
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::Serverless-2016-10-31
Description: Orders service
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsProd, !Or [!Equals [a, a], !Condition NotProd]]
Mappings:
  Sizes:
    dev: { Memory: 128 }
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub '\${AWS::StackName}-orders-\${Stage}'
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt Role.Arn
      Endpoint: !GetAtt Db.Endpoint.Address
      Listed: !GetAtt [Role, Arn]
      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Zone: !Select [0, !GetAZs '']
      Parts: !Split [',', 'a,b']
      Name: !Join ['-', [!Ref Stage, !Sub '\${AWS::Region}', x]]
      UserData: !Base64
        Fn::Sub: echo \${Stage}
      Subnets: !Cidr [10.0.0.0/16, 3, 8]
      Vpc: !ImportValue shared-vpc
      Imported: !ImportValue
        Fn::Sub: '\${Stage}-vpc'
      Tracing: !If [IsProd, Active, !Ref AWS::NoValue]
      Mapped: !Sub
        - 'arn:\${Part}:\${Name}'
        - Name: !Ref Table
          Part: !Ref AWS::Partition
      Included: !Transform { Name: AWS::Include, Parameters: { Location: s3://b/k } }
      Enabled: yes
      Short: y
      Version: 1.10
      Count: 3
      Quoted: '2010-09-09'
      Time: 10:30
      CodeUri: .
  Role:
    Type: AWS::IAM::Role
    DependsOn: [Table]
`;

test('YAML short forms become long forms', () => {
  const t = parseTemplate(SAMPLE);
  assert.equal(t.AWSTemplateFormatVersion, '2010-09-09');
  assert.equal(t.Transform, 'AWS::Serverless-2016-10-31');
  assert.deepEqual(t.Conditions, {
    IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    Both: {
      'Fn::And': [
        { Condition: 'IsProd' },
        { 'Fn::Or': [{ 'Fn::Equals': ['a', 'a'] }, { Condition: 'NotProd' }] },
      ],
    },
  });
  const p = t.Resources.Fn.Properties!;
  assert.deepEqual(p.Role, { 'Fn::GetAtt': ['Role', 'Arn'] });
  assert.deepEqual(p.Endpoint, { 'Fn::GetAtt': ['Db', 'Endpoint.Address'] });
  assert.deepEqual(p.Listed, { 'Fn::GetAtt': ['Role', 'Arn'] });
  assert.deepEqual(p.MemorySize, { 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] });
  assert.deepEqual(p.Zone, { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] });
  assert.deepEqual(p.Parts, { 'Fn::Split': [',', 'a,b'] });
  assert.deepEqual(p.Name, { 'Fn::Join': ['-', [{ Ref: 'Stage' }, { 'Fn::Sub': '${AWS::Region}' }, 'x']] });
  assert.deepEqual(p.UserData, { 'Fn::Base64': { 'Fn::Sub': 'echo ${Stage}' } });
  assert.deepEqual(p.Subnets, { 'Fn::Cidr': ['10.0.0.0/16', 3, 8] });
  assert.deepEqual(p.Vpc, { 'Fn::ImportValue': 'shared-vpc' });
  assert.deepEqual(p.Imported, { 'Fn::ImportValue': { 'Fn::Sub': '${Stage}-vpc' } });
  assert.deepEqual(p.Tracing, { 'Fn::If': ['IsProd', 'Active', { Ref: 'AWS::NoValue' }] });
  assert.deepEqual(p.Mapped, {
    'Fn::Sub': ['arn:${Part}:${Name}', { Name: { Ref: 'Table' }, Part: { Ref: 'AWS::Partition' } }],
  });
  assert.deepEqual(p.Included, {
    'Fn::Transform': { Name: 'AWS::Include', Parameters: { Location: 's3://b/k' } },
  });
  assert.equal(p.Enabled, true);
  assert.equal(p.Short, 'y');
  assert.equal(p.Version, 1.1);
  assert.equal(p.Count, 3);
  assert.equal(p.Quoted, '2010-09-09');
  assert.equal(p.Time, '10:30');
  assert.equal(p.CodeUri, '.', 'a lone dot is the folder, not a float');
  assert.deepEqual(t.Resources.Role.DependsOn, ['Table']);
  assert.deepEqual(t.Mappings, { Sizes: { dev: { Memory: 128 } } });
});

test('every short-form tag maps to its long form', () => {
  const t = parseTemplate(`
Resources:
  A:
    Type: T
    Properties:
      a: !Ref X
      b: !Condition C
      c: !Sub x
      d: !Join [',', [a]]
      e: !Select [1, [a, b]]
      f: !Split [',', x]
      g: !If [C, 1, 2]
      h: !Equals [1, 1]
      i: !And [!Condition C, !Condition D]
      j: !Or [!Condition C, !Condition D]
      k: !Not [!Condition C]
      l: !FindInMap [M, a, b]
      m: !GetAZs us-east-1
      n: !Base64 x
      o: !Cidr [10.0.0.0/16, 1, 8]
      p: !ImportValue x
      q: !Transform { Name: X }
      r: !GetAtt A.Arn
`);
  const keys = Object.values(t.Resources.A.Properties!).map((v) => Object.keys(v as object)[0]);
  assert.deepEqual(keys, [
    'Ref',
    'Condition',
    'Fn::Sub',
    'Fn::Join',
    'Fn::Select',
    'Fn::Split',
    'Fn::If',
    'Fn::Equals',
    'Fn::And',
    'Fn::Or',
    'Fn::Not',
    'Fn::FindInMap',
    'Fn::GetAZs',
    'Fn::Base64',
    'Fn::Cidr',
    'Fn::ImportValue',
    'Fn::Transform',
    'Fn::GetAtt',
  ]);
});

test('anchors, aliases and merge keys', () => {
  const t = parseTemplate(`
Resources:
  A:
    Type: T
    Properties: &props
      Env: { Stage: !Ref S }
  B:
    Type: T
    Properties:
      <<: *props
      Extra: 1
`);
  assert.deepEqual(t.Resources.B.Properties, { Env: { Stage: { Ref: 'S' } }, Extra: 1 });
});

test('JSON bodies', () => {
  const t = parseTemplate(
    '  {"Resources": {"A": {"Type": "T", "Properties": {"X": {"Fn::GetAtt": ["B", "Arn"]}}}}}',
  );
  assert.deepEqual(t.Resources.A.Properties, { X: { 'Fn::GetAtt': ['B', 'Arn'] } });
});

test('syntax errors name the line and column', () => {
  assert.throws(
    () => parseTemplate('Resources:\n  A: [\n'),
    (e: unknown) =>
      e instanceof TemplateError &&
      /^Template format error: YAML not well-formed\. \(line \d+, column \d+\)$/.test(e.message),
  );
  assert.throws(() => parseTemplate('{\n"a": 1,\n}'), {
    name: 'TemplateError',
    message: 'Template format error: JSON not well-formed. (line 3, column 1)',
  });
  assert.throws(() => parseTemplate('Resources:\n  A: !Unknown x\n'), {
    message: 'Template format error: YAML not well-formed. (line 2, column 6)',
  });
});

test('non-object templates are unsupported', () => {
  for (const body of ['', '- a\n- b', 'just text', '[1]']) {
    assert.throws(() => parseTemplate(body), {
      name: 'TemplateError',
      message: 'Template format error: unsupported structure.',
    });
  }
});
