/**
 * A template shaped like real ones (VPC, queue, function, alarms, outputs) run through every step:
 * parse, validate, parameters, conditions, graph, then resolve each resource in dependency order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  dependencyGraph,
  evaluateConditions,
  parseTemplate,
  pseudoParameters,
  resolve,
  resolveParameters,
  validateTemplate,
} from './index.js';
import { TemplateError, type IntrinsicContext } from '../types.js';

const BODY = `
AWSTemplateFormatVersion: 2010-09-09
Description: >-
  Orders: a queue, a worker function and its network.
Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  VpcCidr:
    Type: String
    Default: 10.20.0.0/16
    AllowedPattern: '(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})'
  AlarmEmails:
    Type: CommaDelimitedList
    Default: ''
Mappings:
  StageConfig:
    dev: { Memory: 128, Retention: 3 }
    prod: { Memory: 1024, Retention: 30 }
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  HasEmails: !Not [!Equals [!Join ['', !Ref AlarmEmails], '']]
  CreateAlarms: !And [!Condition IsProd, !Condition HasEmails]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref VpcCidr
      Tags:
        - Key: Name
          Value: !Sub '\${AWS::StackName}-vpc'
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      AvailabilityZone: !Select [0, !GetAZs '']
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      AvailabilityZone: !Select [1, !GetAZs { Ref: 'AWS::Region' }]
      CidrBlock: !Select [1, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]
  DeadLetters:
    Type: AWS::SQS::Queue
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ['-', [!Ref 'AWS::StackName', jobs, !Ref Stage]]
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 5
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: jobs
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage]
                Resource: !GetAtt Jobs.Arn
                Condition:
                  StringEquals: { 'aws:SourceAccount': !Ref AWS::AccountId }
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt WorkerRole.Arn
      Runtime: nodejs20.x
      Handler: index.handler
      MemorySize: !FindInMap [StageConfig, !Ref Stage, Memory]
      Code:
        ZipFile: !Sub |
          exports.handler = async () => '\${Jobs.QueueName} in \${AWS::Region} \${!NotAVariable}';
      VpcConfig:
        SubnetIds: [!Ref SubnetA, !Ref SubnetB]
      TracingConfig: !If [IsProd, { Mode: Active }, !Ref AWS::NoValue]
      Environment:
        Variables:
          QUEUE_URL: !Ref Jobs
          CONFIG: !Base64
            Fn::Sub:
              - '{"stage":"\${Stage}","dlq":"\${Dlq}"}'
              - Dlq: !GetAtt DeadLetters.Arn
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    DependsOn: WorkerRole
    Properties:
      EventSourceArn: !GetAtt Jobs.Arn
      FunctionName: !Ref Worker
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Condition: CreateAlarms
    Properties:
      AlarmActions: !Ref AlarmEmails
      Dimensions:
        - Name: QueueName
          Value: !GetAtt Jobs.QueueName
Outputs:
  QueueUrl:
    Value: !Ref Jobs
    Export:
      Name: !Sub '\${AWS::StackName}-QueueUrl'
  WorkerArn:
    Value: !GetAtt Worker.Arn
  AlarmName:
    Condition: CreateAlarms
    Value: !Ref Alarm
`;

/** Kahn's algorithm over the dependency graph: the order the stack engine would create in. */
function creationOrder(graph: Map<string, Set<string>>): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  while (order.length < graph.size) {
    const ready = [...graph].filter(([id, needs]) => !done.has(id) && [...needs].every((n) => done.has(n)));
    assert.ok(ready.length > 0, 'the graph has no cycle');
    for (const [id] of ready) {
      done.add(id);
      order.push(id);
    }
  }
  return order;
}

test('a real-world template: parse, validate, parameters, conditions, graph, resolve', () => {
  const t = parseTemplate(BODY);
  validateTemplate(t);
  assert.equal(t.AWSTemplateFormatVersion, '2010-09-09');
  assert.equal(t.Description, 'Orders: a queue, a worker function and its network.');

  const { values } = resolveParameters(t, { Stage: 'prod', AlarmEmails: 'a@x.io,b@x.io' });
  const pseudo = pseudoParameters({
    accountId: '000000000000',
    region: 'eu-central-1',
    stackName: 'orders',
    stackId: 'sid',
  });
  const conditions = evaluateConditions(t, { parameters: values, pseudo, mappings: t.Mappings! });
  assert.deepEqual(conditions, { IsProd: true, HasEmails: true, CreateAlarms: true });

  const graph = dependencyGraph(t);
  assert.deepEqual([...graph.get('Worker')!].sort(), [
    'DeadLetters',
    'Jobs',
    'SubnetA',
    'SubnetB',
    'WorkerRole',
  ]);
  assert.deepEqual([...graph.get('Mapping')!].sort(), ['Jobs', 'Worker', 'WorkerRole']);
  const order = creationOrder(graph);
  assert.ok(order.indexOf('Vpc') < order.indexOf('SubnetA'));
  assert.ok(order.indexOf('Worker') < order.indexOf('Mapping'));

  // "Create" each resource in order; a Ref / GetAtt to one not yet created fails.
  const created = new Map<string, { id: string; attrs: Record<string, unknown> }>();
  const ctx: IntrinsicContext = {
    parameters: values,
    pseudo,
    conditions,
    mappings: t.Mappings!,
    ref: (id) => created.get(id)?.id ?? assert.fail(`${id} is not created yet`),
    getAtt: (id, attr) => created.get(id)?.attrs[attr] ?? assert.fail(`${id}.${attr} is not available`),
    importValue: (name) => {
      throw new TemplateError(`No export named ${name} found`);
    },
  };
  const props: Record<string, unknown> = {};
  for (const id of order) {
    props[id] = resolve(t.Resources[id].Properties ?? {}, ctx);
    created.set(id, {
      id: `${id}-physical`,
      attrs: {
        Arn: `arn:aws:x:eu-central-1:000000000000:${id}`,
        CidrBlock: values.VpcCidr,
        QueueName: `${id}-name`,
      },
    });
  }
  assert.deepEqual(props.SubnetA, {
    VpcId: 'Vpc-physical',
    AvailabilityZone: 'eu-central-1a',
    CidrBlock: '10.20.0.0/24',
  });
  assert.deepEqual(props.SubnetB, {
    VpcId: 'Vpc-physical',
    AvailabilityZone: 'eu-central-1b',
    CidrBlock: '10.20.1.0/24',
  });
  assert.equal((props.Jobs as { QueueName: string }).QueueName, 'orders-jobs-prod');
  const worker = props.Worker as Record<string, any>;
  assert.equal(worker.MemorySize, 1024);
  assert.deepEqual(worker.TracingConfig, { Mode: 'Active' });
  assert.equal(
    worker.Code.ZipFile,
    "exports.handler = async () => 'Jobs-name in eu-central-1 ${NotAVariable}';\n",
  );
  assert.equal(
    Buffer.from(worker.Environment.Variables.CONFIG, 'base64').toString(),
    '{"stage":"prod","dlq":"arn:aws:x:eu-central-1:000000000000:DeadLetters"}',
  );
  const role = props.WorkerRole as Record<string, any>;
  assert.deepEqual(role.Policies[0].PolicyDocument.Statement[0].Condition, {
    StringEquals: { 'aws:SourceAccount': '000000000000' },
  });
  assert.deepEqual((props.Alarm as Record<string, unknown>).AlarmActions, ['a@x.io', 'b@x.io']);
  assert.equal(resolve(t.Outputs!.QueueUrl.Export!.Name, ctx), 'orders-QueueUrl');

  // dev: no tracing key at all, alarms off.
  const dev = resolveParameters(t, {}).values;
  const devConditions = evaluateConditions(t, { parameters: dev, pseudo, mappings: t.Mappings! });
  assert.deepEqual(devConditions, { IsProd: false, HasEmails: false, CreateAlarms: false });
  const devWorker = resolve(t.Resources.Worker.Properties, {
    ...ctx,
    parameters: dev,
    conditions: devConditions,
  });
  assert.equal('TracingConfig' in (devWorker as object), false);
  assert.equal((devWorker as { MemorySize: number }).MemorySize, 128);
});
