/**
 * AWS::Serverless::Function -> AWS::Lambda::Function plus what SAM generates around it: the
 * execution role, version + alias (AutoPublishAlias), event invoke config, function URL and one
 * set of resources per event source. API events are not built here: they are registered as
 * routes on the API they target (`ApiRoute`), and the API builders write the definitions.
 */
import type { TemplateResource } from '../types.js';
import { translatePolicies } from './policies.js';
import type { SamContext } from './context.js';
import {
  compact,
  getAtt,
  hashedId,
  isIntrinsic,
  isObject,
  ref,
  resource,
  tagList,
  type Props,
} from './util.js';

const BASIC_EXECUTION = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const MANAGED = (name: string) => `arn:aws:iam::aws:policy/service-role/${name}`;

/** What the function's events point at: the function itself, or its alias. */
export interface FunctionTarget {
  fnId: string;
  /** `Ref` to use as FunctionName (function or alias). */
  ref: Props;
  /** ARN expression (GetAtt Arn of the function, or Ref of the alias, which is its ARN). */
  arn: Props;
  /** `${...}` form of the ARN for Fn::Sub strings. */
  subArn: string;
  condition?: string;
}

/** An Api / HttpApi event, registered on its API. */
export interface ApiRoute {
  fnId: string;
  eventId: string;
  target: FunctionTarget;
  path: string;
  method: string;
  props: Props;
}

/** Parses `s3://bucket/key[?versionId=v]` or `{Bucket, Key, Version}`; a string otherwise is a local path. */
export function s3Location(
  value: unknown,
): { Bucket: unknown; Key: unknown; Version?: unknown } | 'local' | undefined {
  if (typeof value === 'string') {
    const m = /^s3:\/\/([^/]+)\/(.+?)(?:\?versionId=(.+))?$/.exec(value);
    if (!m) return 'local';
    return compact({ Bucket: m[1], Key: m[2], Version: m[3] }) as { Bucket: string; Key: string };
  }
  if (isObject(value) && 'Bucket' in value && 'Key' in value) {
    return compact({ Bucket: value.Bucket, Key: value.Key, Version: value.Version }) as {
      Bucket: unknown;
      Key: unknown;
    };
  }
  return undefined;
}

const DEPLOY_HINT = ' Nimbus: deploy with `nimbus deploy`, which builds the code and uploads it.';

function buildCode(ctx: SamContext, id: string, p: Props): Props | undefined {
  if (p.PackageType === 'Image' || p.ImageUri !== undefined) {
    return compact({ ImageUri: ctx.resolver.resolve(p.ImageUri) });
  }
  if (p.InlineCode !== undefined && p.CodeUri !== undefined) {
    ctx.errors.resource(id, "Specify either 'InlineCode' or 'CodeUri' property and not both.");
    return undefined;
  }
  if (p.InlineCode !== undefined) return { ZipFile: p.InlineCode };
  if (p.CodeUri === undefined) {
    ctx.errors.resource(id, "Either 'InlineCode' or 'CodeUri' must be set.");
    return undefined;
  }
  const loc = s3Location(ctx.resolver.resolve(p.CodeUri));
  if (loc === 'local' || loc === undefined) {
    ctx.errors.resource(
      id,
      "'CodeUri' is not a valid S3 Uri of the form 's3://bucket/key' with optional versionId query parameter." +
        DEPLOY_HINT,
    );
    return undefined;
  }
  return compact({ S3Bucket: loc.Bucket, S3Key: loc.Key, S3ObjectVersion: loc.Version });
}

/** Copies the resource's Condition onto everything generated from it. */
function withCondition(res: TemplateResource, condition: string | undefined): TemplateResource {
  if (condition !== undefined) res.Condition = condition;
  return res;
}

export function transformFunction(ctx: SamContext, id: string, src: TemplateResource): void {
  const p = src.Properties ?? {};
  const cond = src.Condition;
  const add = (logicalId: string, res: TemplateResource) => ctx.add(logicalId, withCondition(res, cond));

  const code = buildCode(ctx, id, p);
  if (!code) return;

  const hasRole = p.Role !== undefined;
  const roleId = `${id}Role`;
  const dlq = isObject(p.DeadLetterQueue) ? p.DeadLetterQueue : undefined;
  if (p.DeadLetterQueue !== undefined && (!dlq || !['SQS', 'SNS'].includes(String(dlq.Type)))) {
    ctx.errors.resource(id, "'DeadLetterQueue' requires Type of 'SQS' or 'SNS'");
    return;
  }

  const fnProps: Props = compact({
    Code: code,
    PackageType: p.PackageType,
    ImageConfig: p.ImageConfig,
    FunctionName: p.FunctionName,
    Handler: p.Handler,
    Runtime: p.Runtime,
    MemorySize: p.MemorySize,
    Timeout: p.Timeout,
    Description: p.Description,
    Role: hasRole ? p.Role : getAtt(roleId, 'Arn'),
    Environment: p.Environment,
    Architectures: p.Architectures,
    Layers: p.Layers,
    VpcConfig: p.VpcConfig,
    KmsKeyArn: p.KmsKeyArn,
    ReservedConcurrentExecutions: p.ReservedConcurrentExecutions,
    EphemeralStorage: p.EphemeralStorage,
    TracingConfig: p.Tracing !== undefined ? { Mode: p.Tracing } : undefined,
    DeadLetterConfig: dlq ? { TargetArn: dlq.TargetArn } : undefined,
    FileSystemConfigs: p.FileSystemConfigs,
    CodeSigningConfigArn: p.CodeSigningConfigArn,
    RuntimeManagementConfig: p.RuntimeManagementConfig,
    SnapStart: p.SnapStart,
    LoggingConfig: p.LoggingConfig,
    RecursiveLoop: p.RecursiveLoop,
    Tags: tagList(p.Tags, ['lambda:createdBy', 'SAM']),
  });
  const fnRes = resource('AWS::Lambda::Function', fnProps);
  if (src.DependsOn !== undefined) fnRes.DependsOn = src.DependsOn;
  if (src.Metadata !== undefined) fnRes.Metadata = src.Metadata;
  for (const k of ['DeletionPolicy', 'UpdateReplacePolicy'] as const)
    if (src[k] !== undefined) fnRes[k] = src[k];
  add(id, fnRes);

  // Version + alias.
  let target: FunctionTarget = {
    fnId: id,
    ref: ref(id),
    arn: getAtt(id, 'Arn'),
    subArn: `\${${id}.Arn}`,
    condition: cond,
  };
  let aliasName: string | undefined;
  if (p.AutoPublishAlias !== undefined) {
    const name = ctx.resolver.resolve(p.AutoPublishAlias);
    if (typeof name !== 'string' || !/^[a-zA-Z0-9]+$/.test(name)) {
      ctx.errors.resource(id, "'AutoPublishAlias' must be a string or a Ref to a template parameter");
      return;
    }
    aliasName = name;
    const versionId = hashedId(`${id}Version`, { fnProps, sha: p.AutoPublishCodeSha256 ?? null });
    add(
      versionId,
      resource(
        'AWS::Lambda::Version',
        { FunctionName: ref(id), Description: p.VersionDescription },
        { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
      ),
    );
    const aliasId = `${id}Alias${name}`;
    add(
      aliasId,
      resource('AWS::Lambda::Alias', {
        Name: name,
        FunctionName: ref(id),
        FunctionVersion: getAtt(versionId, 'Version'),
        ProvisionedConcurrencyConfig: p.ProvisionedConcurrencyConfig,
      }),
    );
    ctx.specialRefs[`${id}.Alias`] = aliasId;
    ctx.specialRefs[`${id}.Version`] = versionId;
    target = { fnId: id, ref: ref(aliasId), arn: ref(aliasId), subArn: `\${${aliasId}}`, condition: cond };
  }

  // Role.
  const managed: unknown[] = [BASIC_EXECUTION];
  const inline: Props[] = [];
  if (p.Tracing === 'Active') managed.push('arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess');
  if (p.VpcConfig !== undefined) managed.push(MANAGED('AWSLambdaVPCAccessExecutionRole'));
  if (dlq) {
    inline.push({
      PolicyName: `${id}RoleDeadLetterQueuePolicy`,
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: dlq.Type === 'SQS' ? 'sqs:SendMessage' : 'sns:Publish',
            Effect: 'Allow',
            Resource: dlq.TargetArn,
          },
        ],
      },
    });
  }
  const translated = translatePolicies(id, p.Policies);
  if (typeof translated === 'string') {
    ctx.errors.resource(id, translated);
    return;
  }
  managed.push(...translated.managed);
  inline.push(...translated.inline);

  eventInvokeConfig(ctx, id, p, aliasName, inline, add);
  functionUrl(ctx, id, p, aliasName, add);

  const events = p.Events;
  if (events !== undefined && !isObject(events)) {
    ctx.errors.resource(id, "Type of property 'Events' is invalid.");
    return;
  }
  for (const [eventId, ev] of Object.entries(events ?? {})) {
    if (!isObject(ev) || typeof ev.Type !== 'string') {
      ctx.errors.event(id, eventId, 'Event must have a Type.');
      continue;
    }
    const props = isObject(ev.Properties) ? ev.Properties : {};
    const extraManaged = transformEvent(ctx, id, eventId, ev.Type, props, target, add);
    for (const m of extraManaged ?? []) if (!managed.includes(m)) managed.push(m);
  }

  if (!hasRole) {
    add(
      roleId,
      resource('AWS::IAM::Role', {
        AssumeRolePolicyDocument: p.AssumeRolePolicyDocument ?? {
          Version: '2012-10-17',
          Statement: [
            { Action: ['sts:AssumeRole'], Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] } },
          ],
        },
        ManagedPolicyArns: managed,
        Policies: inline.length > 0 ? inline : undefined,
        PermissionsBoundary: p.PermissionsBoundary,
        Path: p.RolePath,
        Tags: tagList(p.Tags, ['lambda:createdBy', 'SAM']),
      }),
    );
  }
}

const DEST_ACTIONS: Record<string, string> = {
  SQS: 'sqs:SendMessage',
  SNS: 'sns:publish',
  Lambda: 'lambda:InvokeFunction',
  EventBridge: 'events:PutEvents',
  S3Bucket: 's3:PutObject',
};

function eventInvokeConfig(
  ctx: SamContext,
  id: string,
  p: Props,
  aliasName: string | undefined,
  inline: Props[],
  add: (logicalId: string, res: TemplateResource) => void,
): void {
  const eic = p.EventInvokeConfig;
  if (eic === undefined) return;
  if (!isObject(eic)) {
    ctx.errors.resource(id, "'EventInvokeConfig' must be a dictionary.");
    return;
  }
  const configId = `${id}EventInvokeConfig`;
  let destConfig: Props | undefined;
  if (isObject(eic.DestinationConfig)) {
    destConfig = {};
    for (const kind of ['OnSuccess', 'OnFailure'] as const) {
      const d = eic.DestinationConfig[kind];
      if (d === undefined) continue;
      if (!isObject(d) || typeof d.Type !== 'string' || !DEST_ACTIONS[d.Type]) {
        ctx.errors.resource(
          id,
          `'Type: ${isObject(d) ? String(d.Type) : ''}' must be one of ['SQS', 'SNS', 'EventBridge', 'Lambda', 'S3Bucket']`,
        );
        return;
      }
      let destination = d.Destination;
      if (destination === undefined) {
        if (d.Type === 'SQS') {
          const qid = `${configId}${kind}Queue`;
          add(qid, resource('AWS::SQS::Queue', {}));
          destination = getAtt(qid, 'Arn');
        } else if (d.Type === 'SNS') {
          const tid = `${configId}${kind}Topic`;
          add(tid, resource('AWS::SNS::Topic', {}));
          destination = ref(tid);
        } else {
          ctx.errors.resource(id, `Destination is required if Type is not SQS or SNS`);
          return;
        }
      } else if (d.Type === 'S3Bucket' && isObject(destination) && 'Ref' in destination) {
        destination = getAtt(String(destination.Ref), 'Arn');
      } else if (d.Type === 'SQS' && isObject(destination) && 'Ref' in destination) {
        destination = getAtt(String(destination.Ref), 'Arn');
      } else if (d.Type === 'Lambda' && isObject(destination) && 'Ref' in destination) {
        destination = getAtt(String(destination.Ref), 'Arn');
      }
      destConfig[kind] = { Destination: destination };
      inline.push({
        PolicyName: `${id}EventInvokeConfig${kind}${d.Type}Policy`,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: DEST_ACTIONS[d.Type], Effect: 'Allow', Resource: destination }],
        },
      });
    }
  }
  add(
    configId,
    resource(
      'AWS::Lambda::EventInvokeConfig',
      {
        FunctionName: ref(id),
        Qualifier: aliasName ?? '$LATEST',
        MaximumEventAgeInSeconds: eic.MaximumEventAgeInSeconds,
        MaximumRetryAttempts: eic.MaximumRetryAttempts,
        DestinationConfig: destConfig,
      },
      aliasName ? { DependsOn: [`${id}Alias${aliasName}`] } : {},
    ),
  );
}

function functionUrl(
  ctx: SamContext,
  id: string,
  p: Props,
  aliasName: string | undefined,
  add: (logicalId: string, res: TemplateResource) => void,
): void {
  const cfg = p.FunctionUrlConfig;
  if (cfg === undefined) return;
  if (!isObject(cfg) || !['NONE', 'AWS_IAM'].includes(String(cfg.AuthType))) {
    ctx.errors.resource(
      id,
      'AuthType is required to configure function property `FunctionUrlConfig`. Please provide either AWS_IAM or NONE.',
    );
    return;
  }
  add(
    `${id}Url`,
    resource(
      'AWS::Lambda::Url',
      {
        TargetFunctionArn: ref(id),
        Qualifier: aliasName,
        AuthType: cfg.AuthType,
        Cors: cfg.Cors,
        InvokeMode: cfg.InvokeMode,
      },
      aliasName ? { DependsOn: [`${id}Alias${aliasName}`] } : {},
    ),
  );
  if (cfg.AuthType === 'NONE') {
    add(
      `${id}UrlPublicPermissions`,
      resource(
        'AWS::Lambda::Permission',
        {
          Action: 'lambda:InvokeFunctionUrl',
          FunctionName: aliasName ? ref(`${id}Alias${aliasName}`) : ref(id),
          Principal: '*',
          FunctionUrlAuthType: 'NONE',
        },
        aliasName ? { DependsOn: [`${id}Alias${aliasName}`] } : {},
      ),
    );
  }
}

function permission(
  target: FunctionTarget,
  principal: string,
  sourceArn: unknown,
  extra: Props = {},
): TemplateResource {
  return resource('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunction',
    FunctionName: target.ref,
    Principal: principal,
    SourceArn: sourceArn,
    ...extra,
  });
}

function stateOf(props: Props): unknown {
  if (props.State !== undefined) return props.State;
  if (props.Enabled === undefined) return undefined;
  if (isIntrinsic(props.Enabled)) return { 'Fn::If': [props.Enabled, 'ENABLED', 'DISABLED'] };
  return props.Enabled === false || props.Enabled === 'false' ? 'DISABLED' : 'ENABLED';
}

const STREAM_KEYS = [
  'BatchSize',
  'Enabled',
  'MaximumBatchingWindowInSeconds',
  'FilterCriteria',
  'FunctionResponseTypes',
  'StartingPosition',
  'StartingPositionTimestamp',
  'MaximumRetryAttempts',
  'BisectBatchOnFunctionError',
  'MaximumRecordAgeInSeconds',
  'ParallelizationFactor',
  'TumblingWindowInSeconds',
];

/** Resources for one event; returns managed policies the implicit role needs for it. */
function transformEvent(
  ctx: SamContext,
  fnId: string,
  eventId: string,
  type: string,
  props: Props,
  target: FunctionTarget,
  add: (logicalId: string, res: TemplateResource) => void,
): string[] | undefined {
  const lid = `${fnId}${eventId}`;
  const missing = (key: string): boolean => {
    if (props[key] !== undefined) return false;
    ctx.errors.event(fnId, eventId, `Missing required property '${key}'.`);
    return true;
  };
  switch (type) {
    case 'Api':
    case 'HttpApi': {
      if (type === 'Api' && (missing('Path') || missing('Method'))) return;
      ctx.addRoute(type, {
        fnId,
        eventId,
        target,
        path: typeof props.Path === 'string' ? props.Path : '$default',
        method: typeof props.Method === 'string' ? props.Method.toLowerCase() : 'any',
        props,
      });
      return;
    }
    case 'SQS': {
      if (missing('Queue')) return;
      add(
        lid,
        resource('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: props.Queue,
          FunctionName: target.ref,
          BatchSize: props.BatchSize,
          Enabled: props.Enabled,
          MaximumBatchingWindowInSeconds: props.MaximumBatchingWindowInSeconds,
          FilterCriteria: props.FilterCriteria,
          FunctionResponseTypes: props.FunctionResponseTypes,
          ScalingConfig: props.ScalingConfig,
        }),
      );
      return [MANAGED('AWSLambdaSQSQueueExecutionRole')];
    }
    case 'DynamoDB':
    case 'Kinesis': {
      if (missing('Stream')) return;
      if (props.StartingPosition === undefined && missing('StartingPosition')) return;
      const esm: Props = { EventSourceArn: props.Stream, FunctionName: target.ref };
      for (const k of STREAM_KEYS) esm[k] = props[k];
      if (isObject(props.DestinationConfig) && isObject(props.DestinationConfig.OnFailure)) {
        esm.DestinationConfig = { OnFailure: { Destination: props.DestinationConfig.OnFailure.Destination } };
      }
      add(lid, resource('AWS::Lambda::EventSourceMapping', esm));
      return [
        MANAGED(type === 'DynamoDB' ? 'AWSLambdaDynamoDBExecutionRole' : 'AWSLambdaKinesisExecutionRole'),
      ];
    }
    case 'SNS': {
      if (missing('Topic')) return;
      const sqsSub = props.SqsSubscription;
      if (sqsSub === undefined || sqsSub === false) {
        add(
          lid,
          resource('AWS::SNS::Subscription', {
            Endpoint: target.arn,
            Protocol: 'lambda',
            TopicArn: props.Topic,
            Region: props.Region,
            FilterPolicy: props.FilterPolicy,
            FilterPolicyScope: props.FilterPolicyScope,
            RedrivePolicy: props.RedrivePolicy,
          }),
        );
        add(`${lid}Permission`, permission(target, 'sns.amazonaws.com', props.Topic));
        return;
      }
      const sub = isObject(sqsSub) ? sqsSub : {};
      let queueArn = sub.QueueArn;
      let queueUrl = sub.QueueUrl;
      if (queueArn === undefined) {
        add(`${lid}Queue`, resource('AWS::SQS::Queue', {}));
        queueArn = getAtt(`${lid}Queue`, 'Arn');
        queueUrl = ref(`${lid}Queue`);
      } else if (queueUrl === undefined) {
        ctx.errors.event(fnId, eventId, "No 'QueueUrl' provided for the SqsSubscription.");
        return;
      }
      add(
        typeof sub.QueuePolicyLogicalId === 'string' ? sub.QueuePolicyLogicalId : `${lid}QueuePolicy`,
        resource('AWS::SQS::QueuePolicy', {
          Queues: [queueUrl],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Action: 'sqs:SendMessage',
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': props.Topic } },
              },
            ],
          },
        }),
      );
      add(
        lid,
        resource('AWS::SNS::Subscription', {
          Endpoint: queueArn,
          Protocol: 'sqs',
          TopicArn: props.Topic,
          Region: props.Region,
          FilterPolicy: props.FilterPolicy,
          FilterPolicyScope: props.FilterPolicyScope,
          RedrivePolicy: props.RedrivePolicy,
        }),
      );
      add(
        `${lid}EventSourceMapping`,
        resource('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: queueArn,
          FunctionName: target.ref,
          BatchSize: sub.BatchSize ?? 10,
          Enabled: sub.Enabled ?? true,
        }),
      );
      return [MANAGED('AWSLambdaSQSQueueExecutionRole')];
    }
    case 'S3': {
      if (missing('Bucket') || missing('Events')) return;
      const b = props.Bucket;
      const bucketId = isObject(b) && typeof b.Ref === 'string' ? b.Ref : undefined;
      const bucket = bucketId === undefined ? undefined : ctx.template.Resources[bucketId];
      if (!bucket || bucket.Type !== 'AWS::S3::Bucket') {
        ctx.errors.event(fnId, eventId, 'S3 events must reference an S3 bucket in the same template.');
        return;
      }
      const permissionId = `${lid}Permission`;
      add(
        permissionId,
        resource('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          FunctionName: target.ref,
          Principal: 's3.amazonaws.com',
          SourceAccount: { Ref: 'AWS::AccountId' },
        }),
      );
      // As SAM does: the bucket's LambdaConfigurations get one entry per event, and the bucket
      // waits for the permission (S3 checks it when the configuration is put).
      const bp = (bucket.Properties ??= {});
      const nc = isObject(bp.NotificationConfiguration) ? bp.NotificationConfiguration : {};
      bp.NotificationConfiguration = nc;
      const configs = Array.isArray(nc.LambdaConfigurations) ? nc.LambdaConfigurations : [];
      nc.LambdaConfigurations = configs;
      for (const event of Array.isArray(props.Events) ? props.Events : [props.Events])
        configs.push(compact({ Event: event, Function: target.arn, Filter: props.Filter }));
      const deps = bucket.DependsOn === undefined ? [] : [bucket.DependsOn].flat();
      if (!deps.includes(permissionId)) deps.push(permissionId);
      bucket.DependsOn = deps;
      return;
    }
    case 'Schedule':
    case 'EventBridgeRule':
    case 'CloudWatchEvent': {
      if (type === 'Schedule' ? missing('Schedule') : missing('Pattern')) return;
      const tgt = compact({
        Arn: target.arn,
        Id: `${lid}LambdaTarget`,
        Input: props.Input,
        InputPath: props.InputPath,
        InputTransformer: props.InputTransformer,
        RetryPolicy: props.RetryPolicy,
        DeadLetterConfig:
          isObject(props.DeadLetterConfig) && props.DeadLetterConfig.Arn !== undefined
            ? { Arn: props.DeadLetterConfig.Arn }
            : undefined,
      });
      add(
        lid,
        resource('AWS::Events::Rule', {
          ScheduleExpression: type === 'Schedule' ? props.Schedule : undefined,
          EventPattern: type === 'Schedule' ? undefined : props.Pattern,
          EventBusName: props.EventBusName,
          State: stateOf(props),
          Name: props.Name ?? props.RuleName,
          Description: props.Description,
          Targets: [tgt],
        }),
      );
      add(`${lid}Permission`, permission(target, 'events.amazonaws.com', getAtt(lid, 'Arn')));
      return;
    }
    case 'ScheduleV2': {
      if (missing('ScheduleExpression')) return;
      let roleArn = props.RoleArn;
      if (roleArn === undefined) {
        const roleId = `${lid}Role`;
        add(
          roleId,
          resource('AWS::IAM::Role', {
            AssumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Action: ['sts:AssumeRole'],
                  Effect: 'Allow',
                  Principal: { Service: ['scheduler.amazonaws.com'] },
                },
              ],
            },
            Policies: [
              {
                PolicyName: `${lid}LambdaPolicy`,
                PolicyDocument: {
                  Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: target.arn }],
                },
              },
            ],
            PermissionsBoundary: props.PermissionsBoundary,
          }),
        );
        roleArn = getAtt(roleId, 'Arn');
      }
      add(
        lid,
        resource('AWS::Scheduler::Schedule', {
          ScheduleExpression: props.ScheduleExpression,
          ScheduleExpressionTimezone: props.ScheduleExpressionTimezone,
          FlexibleTimeWindow: props.FlexibleTimeWindow ?? { Mode: 'OFF' },
          Name: props.Name,
          Description: props.Description,
          GroupName: props.GroupName,
          State: props.State,
          StartDate: props.StartDate,
          EndDate: props.EndDate,
          KmsKeyArn: props.KmsKeyArn,
          Target: compact({
            Arn: target.arn,
            RoleArn: roleArn,
            Input: props.Input,
            RetryPolicy: props.RetryPolicy,
            DeadLetterConfig:
              isObject(props.DeadLetterConfig) && props.DeadLetterConfig.Arn !== undefined
                ? { Arn: props.DeadLetterConfig.Arn }
                : undefined,
          }),
        }),
      );
      return;
    }
    case 'CloudWatchLogs': {
      if (missing('LogGroupName') || missing('FilterPattern')) return;
      // As SAM: the permission for logs.amazonaws.com on the group, then the filter after it.
      add(
        `${lid}Permission`,
        permission(target, 'logs.amazonaws.com', {
          'Fn::Sub': [
            'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${__LogGroupName__}:*',
            { __LogGroupName__: props.LogGroupName },
          ],
        }),
      );
      add(
        lid,
        resource(
          'AWS::Logs::SubscriptionFilter',
          {
            DestinationArn: target.arn,
            FilterPattern: props.FilterPattern,
            LogGroupName: props.LogGroupName,
          },
          { DependsOn: [`${lid}Permission`] },
        ),
      );
      return;
    }
    default:
      ctx.errors.event(
        fnId,
        eventId,
        `Event type '${type}' is not supported by Nimbus. Supported: Api, HttpApi, S3, SQS, SNS, DynamoDB, Kinesis, Schedule, ScheduleV2, EventBridgeRule, CloudWatchEvent, CloudWatchLogs.`,
      );
      return;
  }
}
