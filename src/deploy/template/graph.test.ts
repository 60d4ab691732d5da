import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyGraph, parseTemplate, referencedResources, validateTemplate } from './index.js';
import type { Template } from '../types.js';

const APP = parseTemplate(`
Parameters:
  Stage: { Type: String, Default: dev }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Queue:
    Type: AWS::SQS::Queue
    Condition: IsProd
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Resource: !GetAtt Table.Arn
                Condition: { StringEquals: { a: b } }
  Fn:
    Type: AWS::Lambda::Function
    DependsOn: Queue
    Properties:
      Role: !GetAtt [Role, Arn]
      Environment:
        Variables:
          TABLE: !Ref Table
          URL: !Sub 'https://\${Api}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}/\${Stage}'
          MAPPED: !Sub ['\${Queue}-\${Local}', { Local: !Ref Table }]
          MAYBE: !If [IsProd, !GetAtt Queue.Arn, !Ref AWS::NoValue]
  Api:
    Type: AWS::Serverless::Api
    Properties:
      Name: !Sub '\${Stage}-api'
  Permission:
    Type: AWS::Lambda::Permission
    DependsOn: [Fn, Api]
Outputs:
  Url:
    Value: !Sub 'https://\${Api}/\${Fn.Arn}'
`);

test('referencedResources: Ref, GetAtt, Sub (string and list), DependsOn; not parameters or Sub variables', () => {
  assert.deepEqual([...referencedResources(APP.Resources.Fn, APP)].sort(), ['Api', 'Queue', 'Role', 'Table']);
  assert.deepEqual([...referencedResources(APP.Resources.Fn.Properties, APP)].sort(), [
    'Api',
    'Queue',
    'Role',
    'Table',
  ]);
  assert.deepEqual([...referencedResources({ 'Fn::Sub': ['${Table}', { Table: 'x' }] }, APP)], []);
  assert.deepEqual([...referencedResources({ 'Fn::Sub': '${Stage}-${AWS::Region}' }, APP)], []);
  assert.deepEqual([...referencedResources(APP.Outputs!.Url.Value, APP)], ['Api', 'Fn']);
});

test('dependencyGraph', () => {
  const g = dependencyGraph(APP);
  const plain = Object.fromEntries([...g].map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(plain, {
    Table: [],
    Queue: [],
    Role: ['Table'],
    Fn: ['Api', 'Queue', 'Role', 'Table'],
    Api: [],
    Permission: ['Api', 'Fn'],
  });
});

test('a valid template validates', () => {
  validateTemplate(APP);
});

function invalid(t: unknown, message: string) {
  assert.throws(() => validateTemplate(t as Template), { name: 'TemplateError', message });
}

test('structure errors', () => {
  invalid({}, 'Template format error: At least one Resources member must be defined.');
  invalid({ Resources: {} }, 'Template format error: At least one Resources member must be defined.');
  invalid(
    { Resources: { A: { Type: 'T' } }, Foo: 1, Bar: 2 },
    'Template format error: Invalid template property or properties [Foo, Bar]',
  );
  invalid(
    { Resources: { A: { Properties: {} } } },
    'Template format error: [/Resources/A] Every Resources object must contain a Type member.',
  );
  invalid(
    { Resources: { A: { Type: 'T', Propertys: {} } } },
    "Template format error: Invalid template resource property 'Propertys'",
  );
  invalid(
    { Parameters: { P: { Default: 'x' } }, Resources: { A: { Type: 'T' } } },
    'Template format error: Every Parameters object must contain a Type member.',
  );
  invalid(
    { Parameters: { P: { Type: 'Strin' } }, Resources: { A: { Type: 'T' } } },
    'Template format error: Unrecognized parameter type: Strin',
  );
  invalid(
    { Resources: { A: { Type: 'T' } }, Outputs: { O: {} } },
    'Template format error: Every Outputs member must contain a Value object',
  );
});

test('unresolved references', () => {
  invalid(
    {
      Resources: {
        A: { Type: 'T', Properties: { X: { Ref: 'B' }, Y: { 'Fn::Sub': '${C}' } }, DependsOn: 'D' },
        F: { Type: 'T', Properties: { X: { Ref: 'E' } } },
      },
    },
    'Template format error: Unresolved resource dependencies [B, C, D, E] in the Resources block of the template',
  );
  invalid(
    { Resources: { A: { Type: 'T', Properties: { X: { 'Fn::GetAtt': ['Nope', 'Arn'] } } } } },
    'Template error: instance of Fn::GetAtt references undefined resource Nope',
  );
  invalid(
    {
      Parameters: { P: { Type: 'String' } },
      Resources: { A: { Type: 'T', Properties: { X: { 'Fn::GetAtt': 'P.Arn' } } } },
    },
    'Template error: resource P does not support attribute type Arn in Fn::GetAtt',
  );
  invalid(
    { Resources: { A: { Type: 'T' } }, Outputs: { O: { Value: { Ref: 'X' } } } },
    'Template format error: Unresolved resource dependencies [X] in the Outputs block of the template',
  );
  invalid(
    { Resources: { A: { Type: 'T', Properties: { X: { 'Fn::If': ['Nope', 1, 2] } } } } },
    'Template error: unresolved condition dependency Nope in Fn::If',
  );
  invalid(
    { Resources: { A: { Type: 'T' } }, Conditions: { C: { 'Fn::Equals': [{ Ref: 'A' }, 'x'] } } },
    'Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template',
  );
  invalid(
    { Resources: { A: { Type: 'T', Condition: 'Nope' } } },
    'Template format error: Unresolved condition dependencies [Nope] in the Resources block of the template',
  );
});

test('templates still to be transformed are not checked for references', () => {
  validateTemplate(
    parseTemplate(`
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn: { Type: AWS::Serverless::Function, Properties: { Events: { Api: { Type: Api } } } }
Outputs:
  Url: { Value: !Sub 'https://\${ServerlessRestApi}.execute-api.\${AWS::Region}.amazonaws.com/Prod/' }
  Role: { Value: !GetAtt FnRole.Arn }
`),
  );
});

test('cycles', () => {
  invalid(
    {
      Resources: {
        A: { Type: 'T', Properties: { X: { Ref: 'B' } } },
        B: { Type: 'T', Properties: { X: { 'Fn::Sub': '${C.Arn}' } } },
        C: { Type: 'T', DependsOn: ['A'] },
        D: { Type: 'T', Properties: { X: { Ref: 'A' } } },
      },
    },
    'Circular dependency between resources: [A, B, C]',
  );
  invalid(
    { Resources: { A: { Type: 'T', Properties: { X: { Ref: 'A' } } } } },
    'Circular dependency between resources: [A]',
  );
});
