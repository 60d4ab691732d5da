/**
 * SAM connectors: `AWS::Serverless::Connector` resources and the `Connectors` attribute embedded
 * in a source resource (`<source-id><connector-id>`), turned into what SAM generates for each
 * supported source/destination pair: an `AWS::Lambda::Permission` (`<id>WriteLambdaPermission`)
 * when a service invokes a function, an `AWS::SQS::QueuePolicy` (`<id>QueuePolicy`) or
 * `AWS::SNS::TopicPolicy` (`<id>TopicPolicy`) when a topic or rule sends to them, else an
 * `AWS::IAM::ManagedPolicy` (`<id>Policy`) on the source's role.
 *
 * Nimbus enforces Lambda resource policies (S3 notifications check them), records IAM policies
 * and stores queue/topic policies, so templates with connectors deploy and behave as on AWS.
 */
import type { TemplateResource } from '../types.js';
import type { SamContext } from './context.js';
import { isObject, type Props } from './util.js';

type Permission = 'Read' | 'Write';

/** The resource types SAM's connectors know, by what their resources are after the transform. */
const FUNCTION = ['AWS::Lambda::Function', 'AWS::Serverless::Function'];
const API = [
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGatewayV2::Api',
  'AWS::Serverless::Api',
  'AWS::Serverless::HttpApi',
];
const TABLE = ['AWS::DynamoDB::Table', 'AWS::Serverless::SimpleTable'];
const STATE_MACHINE = ['AWS::StepFunctions::StateMachine', 'AWS::Serverless::StateMachine'];

/** Permissions each supported pair allows (the table of SAM's connector reference). */
function allowed(src: string, dst: string): Permission[] | undefined {
  const fnDst = FUNCTION.includes(dst);
  if (API.includes(src)) return fnDst ? ['Write'] : undefined;
  if (TABLE.includes(src)) return fnDst ? ['Read'] : undefined;
  if (src === 'AWS::SQS::Queue') return fnDst ? ['Read', 'Write'] : undefined;
  if (src === 'AWS::S3::Bucket') return fnDst ? ['Write'] : undefined;
  if (src === 'AWS::SNS::Topic') return fnDst || dst === 'AWS::SQS::Queue' ? ['Write'] : undefined;
  if (src === 'AWS::Events::Rule')
    return fnDst ||
      ['AWS::Events::EventBus', 'AWS::SNS::Topic', 'AWS::SQS::Queue', ...STATE_MACHINE].includes(dst)
      ? ['Write']
      : undefined;
  if (FUNCTION.includes(src) || STATE_MACHINE.includes(src)) {
    if (fnDst || ['AWS::Events::EventBus', 'AWS::SNS::Topic'].includes(dst)) return ['Write'];
    if ([...TABLE, 'AWS::S3::Bucket', ...STATE_MACHINE].includes(dst)) return ['Read', 'Write'];
    if (dst === 'AWS::SQS::Queue') return FUNCTION.includes(src) ? ['Read', 'Write'] : ['Write'];
  }
  return undefined;
}

/** IAM actions the role-based connectors grant, by destination kind and permission. */
const ACTIONS: Record<string, Record<Permission, string[]>> = {
  table: {
    Read: [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:PartiQLSelect',
    ],
    Write: [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLDelete',
      'dynamodb:PartiQLInsert',
      'dynamodb:PartiQLUpdate',
    ],
  },
  bucket: {
    Read: [
      's3:GetObject',
      's3:GetObjectAcl',
      's3:GetObjectVersion',
      's3:ListBucket',
      's3:ListBucketVersions',
    ],
    Write: [
      's3:PutObject',
      's3:PutObjectAcl',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:AbortMultipartUpload',
    ],
  },
  queue: {
    Read: ['sqs:ReceiveMessage', 'sqs:GetQueueAttributes'],
    Write: ['sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:ChangeMessageVisibility', 'sqs:PurgeQueue'],
  },
  stream: {
    Read: [
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
    ],
    Write: [],
  },
  topic: { Read: [], Write: ['sns:Publish'] },
  bus: { Read: [], Write: ['events:PutEvents'] },
  function: { Read: [], Write: ['lambda:InvokeAsync', 'lambda:InvokeFunction'] },
  stateMachine: {
    Read: ['states:DescribeStateMachine', 'states:ListExecutions', 'states:DescribeExecution'],
    Write: ['states:StartExecution', 'states:StartSyncExecution', 'states:StopExecution'],
  },
};

function actionKind(type: string): string {
  if (TABLE.includes(type)) return 'table';
  if (type === 'AWS::S3::Bucket') return 'bucket';
  if (type === 'AWS::SQS::Queue') return 'queue';
  if (type === 'AWS::SNS::Topic') return 'topic';
  if (type === 'AWS::Events::EventBus') return 'bus';
  if (FUNCTION.includes(type)) return 'function';
  return 'stateMachine';
}

/** A connector's end as the template names it: `Id` in this template, or `Type` with Arn / RoleName / QueueUrl ... */
interface End {
  type: string;
  id?: string;
  arn?: unknown;
  roleName?: unknown;
  queueUrl?: unknown;
  resourceId?: unknown;
  qualifier?: unknown;
}

const SERVICE_PRINCIPALS: Record<string, string> = {
  'AWS::SNS::Topic': 'sns.amazonaws.com',
  'AWS::Events::Rule': 'events.amazonaws.com',
  'AWS::S3::Bucket': 's3.amazonaws.com',
};

const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });

export function transformConnectors(ctx: SamContext): void {
  const resources = ctx.template.Resources;
  const connectors: { id: string; props: Props; source?: string }[] = [];
  for (const [id, res] of Object.entries(resources)) {
    if (res.Type === 'AWS::Serverless::Connector') connectors.push({ id, props: res.Properties ?? {} });
    const embedded = (res as { Connectors?: unknown }).Connectors;
    if (embedded === undefined) continue;
    if (!isObject(embedded)) {
      ctx.errors.resource(id, "'Connectors' must be a map.");
      continue;
    }
    for (const [cid, c] of Object.entries(embedded)) {
      const props = isObject(c) && isObject(c.Properties) ? (c.Properties as Props) : undefined;
      if (!props) ctx.errors.resource(`${id}${cid}`, "'Properties' of an embedded connector is required.");
      else connectors.push({ id: `${id}${cid}`, props, source: id });
    }
  }
  for (const c of connectors) {
    const source =
      c.source !== undefined
        ? endOf(ctx, c.id, { Id: c.source, ...(c.props.SourceReference as Props) })
        : endOf(ctx, c.id, c.props.Source);
    const dests = Array.isArray(c.props.Destination) ? c.props.Destination : [c.props.Destination];
    const perms = c.props.Permissions;
    if (!Array.isArray(perms) || perms.length === 0 || perms.some((p) => p !== 'Read' && p !== 'Write')) {
      ctx.errors.resource(c.id, "'Permissions' must be a list of 'Read' and/or 'Write'.");
      continue;
    }
    if (!source) continue;
    dests.forEach((d, i) => {
      const dest = endOf(ctx, c.id, d);
      if (!dest) return;
      const ok = allowed(source.type, dest.type);
      if (!ok) {
        ctx.errors.resource(
          c.id,
          `Unable to create connector from ${source.type} to ${dest.type}; it's not supported or the template is invalid.`,
        );
        return;
      }
      const bad = (perms as string[]).filter((p) => !ok.includes(p as Permission));
      if (bad.length) {
        ctx.errors.resource(
          c.id,
          `Unsupported 'Permissions' provided for connector from ${source.type} to ${dest.type}; valid values are: ${ok.join(', ')}.`,
        );
        return;
      }
      // Several destinations: SAM suffixes the generated ids with the destination's index.
      const id = dests.length > 1 ? `${c.id}Destination${i}` : c.id;
      generate(ctx, id, source, dest, perms as Permission[]);
    });
  }
}

/** Removes the embedded `Connectors` attributes from the transformed resources. */
export function stripEmbeddedConnectors(out: Record<string, TemplateResource>): void {
  for (const res of Object.values(out)) delete (res as { Connectors?: unknown }).Connectors;
}

function endOf(ctx: SamContext, connectorId: string, v: unknown): End | undefined {
  if (!isObject(v)) {
    ctx.errors.resource(connectorId, "'Source' and 'Destination' must be resource references.");
    return undefined;
  }
  const p = v as Props;
  if (typeof p.Id === 'string') {
    const res = ctx.template.Resources[p.Id];
    if (!res) {
      ctx.errors.resource(connectorId, `Unable to find resource with id [${p.Id}].`);
      return undefined;
    }
    return { type: res.Type, id: p.Id, qualifier: p.Qualifier };
  }
  if (typeof p.Type !== 'string') {
    ctx.errors.resource(connectorId, "A resource reference needs 'Id', or 'Type' with its other properties.");
    return undefined;
  }
  return {
    type: p.Type,
    arn: p.Arn,
    roleName: p.RoleName,
    queueUrl: p.QueueUrl,
    resourceId: p.ResourceId,
    qualifier: p.Qualifier,
  };
}

/** The ARN of an end in this template (GetAtt / Ref as its type answers it) or as given. */
function arnOf(ctx: SamContext, e: End): unknown {
  if (e.arn !== undefined || !e.id) return e.arn;
  const type = ctx.template.Resources[e.id].Type;
  if (type === 'AWS::SNS::Topic') return ref(e.id);
  if (type === 'AWS::S3::Bucket') return { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${${e.id}}` };
  if (API.includes(type))
    return {
      'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${e.id}}/${typeof e.qualifier === 'string' ? e.qualifier : '*'}`,
    };
  return getAtt(e.id, 'Arn');
}

/** The role of a source that acts with one: the function's generated role, or the given RoleName. */
function roleOf(ctx: SamContext, e: End): unknown {
  if (e.roleName !== undefined) return e.roleName;
  if (!e.id) return undefined;
  const res = ctx.template.Resources[e.id];
  if (res.Type === 'AWS::Serverless::Function' || res.Type === 'AWS::Serverless::StateMachine')
    return (res.Properties as Props | undefined)?.Role === undefined ? ref(`${e.id}Role`) : undefined;
  return undefined;
}

function generate(ctx: SamContext, id: string, src: End, dst: End, perms: Permission[]): void {
  const srcArn = arnOf(ctx, src);
  const dstArn = arnOf(ctx, dst);
  const principal = API.includes(src.type) ? 'apigateway.amazonaws.com' : SERVICE_PRINCIPALS[src.type];
  if (principal && FUNCTION.includes(dst.type)) {
    // A service invokes the function: a resource policy on it.
    const permission: Props = {
      Action: 'lambda:InvokeFunction',
      FunctionName: dstArn,
      Principal: principal,
    };
    // S3: the account, not the bucket ARN (a bucket that depends on its permission cannot be named in it).
    if (src.type === 'AWS::S3::Bucket') permission.SourceAccount = { Ref: 'AWS::AccountId' };
    else permission.SourceArn = srcArn;
    ctx.add(`${id}WriteLambdaPermission`, { Type: 'AWS::Lambda::Permission', Properties: permission });
    // The bucket's notification configuration is checked against this permission when it is put.
    if (src.type === 'AWS::S3::Bucket' && src.id) dependOn(ctx, src.id, `${id}WriteLambdaPermission`);
    return;
  }
  if (principal && (dst.type === 'AWS::SQS::Queue' || dst.type === 'AWS::SNS::Topic')) {
    // A topic or rule sends to a queue or topic: a policy on the destination.
    const queue = dst.type === 'AWS::SQS::Queue';
    ctx.add(`${id}${queue ? 'QueuePolicy' : 'TopicPolicy'}`, {
      Type: queue ? 'AWS::SQS::QueuePolicy' : 'AWS::SNS::TopicPolicy',
      Properties: {
        [queue ? 'Queues' : 'Topics']: [
          queue ? (dst.queueUrl ?? (dst.id ? ref(dst.id) : undefined)) : dstArn,
        ],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: principal },
              Action: queue ? 'sqs:SendMessage' : 'sns:Publish',
              Resource: dstArn,
              Condition: { ArnEquals: { 'aws:SourceArn': srcArn } },
            },
          ],
        },
      },
    });
    return;
  }
  // The source acts with its role (a function, a state machine, or a table/queue read by a function).
  const [actor, target] =
    FUNCTION.includes(dst.type) && (TABLE.includes(src.type) || src.type === 'AWS::SQS::Queue')
      ? [dst, src]
      : [src, dst];
  const role = roleOf(ctx, actor);
  // A function reading a table's stream (table -> function), else the target's own actions.
  const kind = target === src && TABLE.includes(src.type) ? 'stream' : actionKind(target.type);
  const targetArn = target === src ? srcArn : dstArn;
  const resources =
    kind === 'bucket'
      ? [targetArn, { 'Fn::Sub': ['${Arn}/*', { Arn: targetArn }] }]
      : kind === 'table'
        ? [targetArn, { 'Fn::Sub': ['${Arn}/index/*', { Arn: targetArn }] }]
        : kind === 'stream'
          ? [{ 'Fn::Sub': ['${Arn}/stream/*', { Arn: targetArn }] }]
          : [targetArn];
  ctx.add(`${id}Policy`, {
    Type: 'AWS::IAM::ManagedPolicy',
    Properties: {
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: perms
          .filter((p) => ACTIONS[kind][p].length > 0)
          .map((p) => ({ Effect: 'Allow', Action: ACTIONS[kind][p], Resource: resources })),
      },
      ...(role !== undefined ? { Roles: [role] } : {}),
    },
  });
}

function dependOn(ctx: SamContext, id: string, on: string): void {
  const res = ctx.out[id] ?? ctx.template.Resources[id];
  const deps =
    res.DependsOn === undefined ? [] : Array.isArray(res.DependsOn) ? res.DependsOn : [res.DependsOn];
  if (!deps.includes(on)) res.DependsOn = [...deps, on];
}
