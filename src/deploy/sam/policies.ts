/**
 * SAM's `Policies` property of a function, turned into the execution role's ManagedPolicyArns and
 * inline Policies: a managed policy name or ARN, an intrinsic (a managed policy ARN), a policy
 * document (`{Statement: ...}`), or a SAM policy template (`{SQSPollerPolicy: {QueueName: q}}`).
 */
import { isIntrinsic, isObject, type Props } from './util.js';

const sub = (s: string, vars: Record<string, unknown>): Props => ({ 'Fn::Sub': [s, vars] });

type TemplateFn = (p: Props) => Props[];

const arn = (service: string, rest: string) =>
  `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`;

const dynamoActions = {
  crud: [
    'dynamodb:GetItem',
    'dynamodb:DeleteItem',
    'dynamodb:PutItem',
    'dynamodb:Scan',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:BatchGetItem',
    'dynamodb:DescribeTable',
    'dynamodb:ConditionCheckItem',
  ],
  read: [
    'dynamodb:GetItem',
    'dynamodb:Scan',
    'dynamodb:Query',
    'dynamodb:BatchGetItem',
    'dynamodb:DescribeTable',
  ],
  write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
};

const tableResources = (p: Props) => [
  sub(arn('dynamodb', 'table/${tableName}'), { tableName: p.TableName }),
  sub(arn('dynamodb', 'table/${tableName}/index/*'), { tableName: p.TableName }),
];

const s3Resources = (p: Props) => [
  sub('arn:${AWS::Partition}:s3:::${bucketName}', { bucketName: p.BucketName }),
  sub('arn:${AWS::Partition}:s3:::${bucketName}/*', { bucketName: p.BucketName }),
];

/** The policy templates Nimbus knows; each returns the statements SAM's template expands to. */
export const POLICY_TEMPLATES: Record<string, { params: string[]; statements: TemplateFn }> = {
  SQSPollerPolicy: {
    params: ['QueueName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: [
          'sqs:ChangeMessageVisibility',
          'sqs:ChangeMessageVisibilityBatch',
          'sqs:DeleteMessage',
          'sqs:DeleteMessageBatch',
          'sqs:GetQueueAttributes',
          'sqs:ReceiveMessage',
        ],
        Resource: sub(arn('sqs', '${queueName}'), { queueName: p.QueueName }),
      },
    ],
  },
  SQSSendMessagePolicy: {
    params: ['QueueName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage*'],
        Resource: sub(arn('sqs', '${queueName}'), { queueName: p.QueueName }),
      },
    ],
  },
  SNSPublishMessagePolicy: {
    params: ['TopicName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['sns:Publish'],
        Resource: sub(arn('sns', '${topicName}'), { topicName: p.TopicName }),
      },
    ],
  },
  DynamoDBCrudPolicy: {
    params: ['TableName'],
    statements: (p) => [{ Effect: 'Allow', Action: dynamoActions.crud, Resource: tableResources(p) }],
  },
  DynamoDBReadPolicy: {
    params: ['TableName'],
    statements: (p) => [{ Effect: 'Allow', Action: dynamoActions.read, Resource: tableResources(p) }],
  },
  DynamoDBWritePolicy: {
    params: ['TableName'],
    statements: (p) => [{ Effect: 'Allow', Action: dynamoActions.write, Resource: tableResources(p) }],
  },
  DynamoDBStreamReadPolicy: {
    params: ['TableName', 'StreamName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        Resource: sub(arn('dynamodb', 'table/${tableName}/stream/${streamName}'), {
          tableName: p.TableName,
          streamName: p.StreamName,
        }),
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:ListStreams'],
        Resource: sub(arn('dynamodb', 'table/${tableName}/stream/*'), { tableName: p.TableName }),
      },
    ],
  },
  S3ReadPolicy: {
    params: ['BucketName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:ListBucket',
          's3:GetBucketLocation',
          's3:GetObjectVersion',
          's3:GetLifecycleConfiguration',
        ],
        Resource: s3Resources(p),
      },
    ],
  },
  S3WritePolicy: {
    params: ['BucketName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:PutObjectAcl', 's3:PutLifecycleConfiguration'],
        Resource: s3Resources(p),
      },
    ],
  },
  S3CrudPolicy: {
    params: ['BucketName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:ListBucket',
          's3:GetBucketLocation',
          's3:GetObjectVersion',
          's3:PutObject',
          's3:PutObjectAcl',
          's3:GetLifecycleConfiguration',
          's3:PutLifecycleConfiguration',
          's3:DeleteObject',
        ],
        Resource: s3Resources(p),
      },
    ],
  },
  LambdaInvokePolicy: {
    params: ['FunctionName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['lambda:InvokeFunction'],
        Resource: sub(arn('lambda', 'function:${functionName}*'), { functionName: p.FunctionName }),
      },
    ],
  },
  StepFunctionsExecutionPolicy: {
    params: ['StateMachineName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['states:StartExecution'],
        Resource: sub(arn('states', 'stateMachine:${stateMachineName}'), {
          stateMachineName: p.StateMachineName,
        }),
      },
    ],
  },
  EventBridgePutEventsPolicy: {
    params: ['EventBusName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: sub(arn('events', 'event-bus/${eventBusName}'), { eventBusName: p.EventBusName }),
      },
    ],
  },
  SSMParameterReadPolicy: {
    params: ['ParameterName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['ssm:DescribeParameters'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameters', 'ssm:GetParameter', 'ssm:GetParametersByPath'],
        Resource: sub(arn('ssm', 'parameter/${parameterName}'), { parameterName: p.ParameterName }),
      },
    ],
  },
  AWSSecretsManagerGetSecretValuePolicy: {
    params: ['SecretArn'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue'],
        Resource: sub('${secretArn}', { secretArn: p.SecretArn }),
      },
    ],
  },
  KinesisStreamReadPolicy: {
    params: ['StreamName'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: ['kinesis:ListStreams', 'kinesis:DescribeLimits'],
        Resource: sub(arn('kinesis', 'stream/*'), {}),
      },
      {
        Effect: 'Allow',
        Action: [
          'kinesis:DescribeStream',
          'kinesis:DescribeStreamSummary',
          'kinesis:GetRecords',
          'kinesis:GetShardIterator',
        ],
        Resource: sub(arn('kinesis', 'stream/${streamName}'), { streamName: p.StreamName }),
      },
    ],
  },
  CloudWatchPutMetricPolicy: {
    params: [],
    statements: () => [{ Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: '*' }],
  },
  KMSDecryptPolicy: {
    params: ['KeyId'],
    statements: (p) => [
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: sub(arn('kms', 'key/${keyId}'), { keyId: p.KeyId }),
      },
    ],
  },
  VPCAccessPolicy: {
    params: [],
    statements: () => [
      {
        Effect: 'Allow',
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DetachNetworkInterface',
        ],
        Resource: '*',
      },
    ],
  },
};

export interface RolePolicies {
  managed: unknown[];
  inline: Props[];
}

/**
 * Translates `Policies` (string, list, document) into managed ARNs and inline policies named
 * `<Fn>RolePolicy<index>` as SAM names them. Returns an error message for the first bad entry.
 */
export function translatePolicies(fnId: string, policies: unknown): RolePolicies | string {
  const out: RolePolicies = { managed: [], inline: [] };
  if (policies === undefined) return out;
  const list = Array.isArray(policies) ? policies : [policies];
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (typeof p === 'string') {
      out.managed.push(p.startsWith('arn:') ? p : `arn:aws:iam::aws:policy/${p}`);
    } else if (isIntrinsic(p)) {
      out.managed.push(p);
    } else if (isObject(p) && 'Statement' in p) {
      out.inline.push({ PolicyName: `${fnId}RolePolicy${i}`, PolicyDocument: p });
    } else if (isObject(p) && Object.keys(p).length === 1 && POLICY_TEMPLATES[Object.keys(p)[0]]) {
      const name = Object.keys(p)[0];
      const tpl = POLICY_TEMPLATES[name];
      const params = isObject(p[name]) ? (p[name] as Props) : {};
      const missing = tpl.params.filter((k) => params[k] === undefined);
      if (missing.length > 0) {
        return `Missing required parameter(s) [${missing.join(', ')}] for policy template '${name}'`;
      }
      out.inline.push({
        PolicyName: `${fnId}RolePolicy${i}`,
        PolicyDocument: { Statement: tpl.statements(params) },
      });
    } else if (isObject(p) && Object.keys(p).length === 1 && /^[A-Za-z0-9]+Policy$/.test(Object.keys(p)[0])) {
      // A policy template Nimbus does not expand: Nimbus does not enforce IAM, so the role
      // records the template by name rather than failing the deploy.
      const name = Object.keys(p)[0];
      out.inline.push({
        PolicyName: `${fnId}RolePolicy${i}`,
        PolicyDocument: { Statement: [], 'Nimbus::PolicyTemplate': { [name]: p[name] } },
      });
    } else {
      return `Policy at index ${i} in the 'Policies' property is not valid`;
    }
  }
  return out;
}
