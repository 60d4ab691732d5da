import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, pseudoParameters, resolve } from './index.js';
import { TemplateError, type IntrinsicContext } from '../types.js';
import { cidr } from './cidr.js';

function context(over: Partial<IntrinsicContext> = {}): IntrinsicContext {
  return {
    parameters: { Stage: 'prod', Subnets: ['s-1', 's-2'], Size: '5' },
    pseudo: pseudoParameters({
      accountId: '000000000000',
      region: 'eu-west-1',
      stackName: 'shop',
      stackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/shop/1',
    }),
    conditions: { IsProd: true, IsDev: false },
    mappings: { Sizes: { prod: { Memory: 512, Name: 'big' } } },
    ref: (id) => {
      if (id === 'Table') return 'shop-Table-ABC';
      throw new TemplateError(
        `Template format error: Unresolved resource dependencies [${id}] in the Resources block of the template`,
      );
    },
    getAtt: (id, attr) => `${id}/${attr}`,
    importValue: (name) => {
      if (name === 'shared-vpc') return 'vpc-123';
      throw new TemplateError(`No export named ${name} found.`);
    },
    ...over,
  };
}

test('pseudo parameters', () => {
  const p = pseudoParameters({ accountId: '1', region: 'us-east-1', stackName: 's', stackId: 'id' });
  assert.deepEqual(p, {
    'AWS::AccountId': '1',
    'AWS::Region': 'us-east-1',
    'AWS::StackName': 's',
    'AWS::StackId': 'id',
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NotificationARNs': [],
  });
});

test('Ref: parameters, lists, pseudo parameters, resources', () => {
  const ctx = context();
  assert.equal(resolve({ Ref: 'Stage' }, ctx), 'prod');
  assert.deepEqual(resolve({ Ref: 'Subnets' }, ctx), ['s-1', 's-2']);
  assert.equal(resolve({ Ref: 'AWS::Region' }, ctx), 'eu-west-1');
  assert.deepEqual(resolve({ Ref: 'AWS::NotificationARNs' }, ctx), []);
  assert.equal(resolve({ Ref: 'Table' }, ctx), 'shop-Table-ABC');
  assert.throws(() => resolve({ Ref: 'Nope' }, ctx), TemplateError);
});

test('Fn::GetAtt, both forms, attribute as a Ref', () => {
  const ctx = context({ parameters: { Attr: 'StreamArn' } });
  assert.equal(resolve({ 'Fn::GetAtt': ['Table', 'Arn'] }, ctx), 'Table/Arn');
  assert.equal(resolve({ 'Fn::GetAtt': 'Db.Endpoint.Address' }, ctx), 'Db/Endpoint.Address');
  assert.equal(resolve({ 'Fn::GetAtt': ['Table', { Ref: 'Attr' }] }, ctx), 'Table/StreamArn');
  assert.throws(() => resolve({ 'Fn::GetAtt': ['Table'] }, ctx), {
    message:
      'Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute',
  });
});

test('Fn::Sub: string form and list form', () => {
  const ctx = context();
  assert.equal(
    resolve(
      { 'Fn::Sub': '${AWS::StackName}-${Stage}-${Table}-${Table.Arn}-${!Literal}-${AWS::URLSuffix}' },
      ctx,
    ),
    'shop-prod-shop-Table-ABC-Table/Arn-${Literal}-amazonaws.com',
  );
  assert.equal(
    resolve(
      { 'Fn::Sub': ['${Greeting}, ${Who}! (${Stage})', { Greeting: 'Hello', Who: { Ref: 'Table' } }] },
      ctx,
    ),
    'Hello, shop-Table-ABC! (prod)',
  );
  assert.equal(resolve({ 'Fn::Sub': ['n=${N}', { N: 3 }] }, ctx), 'n=3');
  assert.equal(resolve({ 'Fn::Sub': '${Subnets}' }, ctx), 's-1,s-2');
  assert.throws(() => resolve({ 'Fn::Sub': '${Missing}' }, ctx), TemplateError);
});

test('Fn::Join, Fn::Select, Fn::Split', () => {
  const ctx = context();
  assert.equal(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }, 3]] }, ctx), 'a-prod-3');
  assert.equal(resolve({ 'Fn::Join': [',', { Ref: 'Subnets' }] }, ctx), 's-1,s-2');
  assert.equal(resolve({ 'Fn::Join': ['', ['a', { Ref: 'AWS::NoValue' }, 'b']] }, ctx), 'ab');
  assert.equal(resolve({ 'Fn::Select': ['1', { Ref: 'Subnets' }] }, ctx), 's-2');
  assert.equal(resolve({ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, ctx), 'eu-west-1a');
  assert.throws(() => resolve({ 'Fn::Select': [2, ['a', 'b']] }, ctx), {
    name: 'TemplateError',
    message: 'Template error: Fn::Select cannot select nonexistent value at index 2',
  });
  assert.deepEqual(resolve({ 'Fn::Split': ['|', 'a|b||c'] }, ctx), ['a', 'b', '', 'c']);
  assert.deepEqual(resolve({ 'Fn::Split': [',', { 'Fn::Join': [',', ['x', 'y']] }] }, ctx), ['x', 'y']);
});

test('Fn::If, AWS::NoValue, conditions and boolean functions', () => {
  const ctx = context();
  assert.deepEqual(
    resolve(
      {
        A: { 'Fn::If': ['IsProd', 'yes', 'no'] },
        B: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] },
        C: [1, { 'Fn::If': ['IsDev', 2, { Ref: 'AWS::NoValue' }] }, 3],
        D: { Ref: 'AWS::NoValue' },
      },
      ctx,
    ),
    { A: 'yes', C: [1, 3] },
  );
  assert.equal(resolve({ Ref: 'AWS::NoValue' }, ctx), undefined);
  assert.equal(resolve({ 'Fn::Equals': [{ Ref: 'Size' }, 5] }, ctx), true);
  assert.equal(resolve({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] }, ctx), true);
  assert.equal(resolve({ 'Fn::Or': [{ Condition: 'IsDev' }, { Condition: 'IsDev' }] }, ctx), false);
  assert.equal(resolve({ 'Fn::Not': [{ Condition: 'IsDev' }] }, ctx), true);
  assert.throws(() => resolve({ 'Fn::If': ['Nope', 1, 2] }, ctx), {
    message: 'Template error: unresolved condition dependency Nope in Fn::If',
  });
  // An IAM statement's Condition key is not a function.
  const statement = { Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } };
  assert.deepEqual(resolve(statement, ctx), {
    Condition: { StringEquals: { 'aws:SourceAccount': '000000000000' } },
  });
});

test('Fn::FindInMap with and without DefaultValue', () => {
  const ctx = context();
  assert.equal(resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] }, ctx), 512);
  assert.equal(resolve({ 'Fn::FindInMap': ['Sizes', 'dev', 'Memory', { DefaultValue: 128 }] }, ctx), 128);
  assert.throws(() => resolve({ 'Fn::FindInMap': ['Sizes', 'dev', 'Memory'] }, ctx), {
    message: 'Template error: Unable to get mapping for Sizes::dev::Memory',
  });
});

test('Fn::GetAZs, Fn::Base64, Fn::ImportValue, Fn::Length, Fn::ToJsonString', () => {
  const ctx = context();
  assert.deepEqual(resolve({ 'Fn::GetAZs': '' }, ctx), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  assert.deepEqual(resolve({ 'Fn::GetAZs': 'us-east-2' }, ctx), ['us-east-2a', 'us-east-2b', 'us-east-2c']);
  assert.deepEqual(
    resolve({ 'Fn::GetAZs': { Ref: 'AWS::Region' } }, ctx)?.toString(),
    'eu-west-1a,eu-west-1b,eu-west-1c',
  );
  assert.equal(
    resolve({ 'Fn::Base64': { 'Fn::Sub': 'echo ${Stage}' } }, ctx),
    Buffer.from('echo prod').toString('base64'),
  );
  assert.equal(resolve({ 'Fn::ImportValue': { 'Fn::Sub': 'shared-vpc' } }, ctx), 'vpc-123');
  assert.throws(() => resolve({ 'Fn::ImportValue': 'other' }, ctx), {
    message: 'No export named other found.',
  });
  assert.equal(resolve({ 'Fn::Length': { Ref: 'Subnets' } }, ctx), 2);
  assert.equal(resolve({ 'Fn::ToJsonString': { a: { Ref: 'Stage' } } }, ctx), '{"a":"prod"}');
});

test('Fn::Cidr computes subnets (IPv4 and IPv6)', () => {
  const ctx = context();
  assert.deepEqual(resolve({ 'Fn::Cidr': ['10.0.0.0/16', 3, 8] }, ctx), [
    '10.0.0.0/24',
    '10.0.1.0/24',
    '10.0.2.0/24',
  ]);
  assert.deepEqual(cidr('192.168.0.0/24', 4, 6), [
    '192.168.0.0/26',
    '192.168.0.64/26',
    '192.168.0.128/26',
    '192.168.0.192/26',
  ]);
  assert.deepEqual(resolve({ 'Fn::Cidr': ['10.1.2.3/16', '2', '12'] }, ctx), ['10.1.0.0/20', '10.1.16.0/20']);
  assert.deepEqual(cidr('2001:db8::/56', 2, 64), ['2001:db8::/64', '2001:db8:0:1::/64']);
  assert.throws(() => cidr('10.0.0.0/24', 4, 7), TemplateError);
  assert.throws(() => cidr('not-a-cidr', 1, 8), TemplateError);
});

test('numbers stay numbers; nested structures resolve recursively', () => {
  const ctx = context();
  assert.deepEqual(
    resolve(
      {
        MemorySize: 128,
        Timeout: { 'Fn::FindInMap': ['Sizes', 'prod', 'Memory'] },
        Tags: [{ Key: 'k', Value: { Ref: 'Stage' } }],
      },
      ctx,
    ),
    { MemorySize: 128, Timeout: 512, Tags: [{ Key: 'k', Value: 'prod' }] },
  );
});

test('a parsed YAML template resolves end to end', () => {
  const t = parseTemplate(`
Resources:
  A:
    Type: T
    Properties:
      Name: !Join ['-', [!Ref AWS::StackName, !Select [1, !Split [',', 'a,b,c']]]]
      Zone: !Select [0, !GetAZs '']
      Data: !Base64 { 'Fn::Sub': '\${Stage}' }
`);
  assert.deepEqual(resolve(t.Resources.A.Properties, context()), {
    Name: 'shop-b',
    Zone: 'eu-west-1a',
    Data: Buffer.from('prod').toString('base64'),
  });
});
