/**
 * AWS::Lambda::* providers: Function, Version, Alias, EventSourceMapping, EventInvokeConfig,
 * Permission, Url and LayerVersion, through the Lambda API as CloudFormation calls it.
 */
import AdmZip from 'adm-zip';
import {
  LambdaClient,
  CreateFunctionCommand,
  GetFunctionCommand,
  DeleteFunctionCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionCodeCommand,
  PutFunctionConcurrencyCommand,
  DeleteFunctionConcurrencyCommand,
  TagResourceCommand,
  UntagResourceCommand,
  PublishVersionCommand,
  DeleteFunctionCommand as DeleteVersionCommand,
  CreateAliasCommand,
  UpdateAliasCommand,
  DeleteAliasCommand,
  CreateEventSourceMappingCommand,
  UpdateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  PutFunctionEventInvokeConfigCommand,
  DeleteFunctionEventInvokeConfigCommand,
  AddPermissionCommand,
  RemovePermissionCommand,
  CreateFunctionUrlConfigCommand,
  UpdateFunctionUrlConfigCommand,
  DeleteFunctionUrlConfigCommand,
  PublishLayerVersionCommand,
  DeleteLayerVersionCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import type { ResourceContext, ResourceProvider } from '../types.js';
import {
  bool,
  changed,
  clean,
  ignoreMissing,
  list,
  nameOf,
  num,
  sleep,
  str,
  tagDiff,
  tagMap,
  type Props,
  keepAsIs,
} from './util.js';

const client = (ctx: ResourceContext) => new LambdaClient(ctx.clientConfig);

/** `Code.ZipFile` is packed as CloudFormation does: one file, index.js or index.py by runtime. */
export function inlineZip(source: string, runtime: string | undefined): Buffer {
  const zip = new AdmZip();
  const file = runtime?.startsWith('python') ? 'index.py' : 'index.js';
  zip.addFile(file, Buffer.from(source, 'utf8'), '', 0o644 << 16);
  return zip.toBuffer();
}

function code(props: Props): {
  ZipFile?: Uint8Array;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
} {
  const c = (props.Code ?? {}) as Props;
  if (c.ZipFile !== undefined) return { ZipFile: inlineZip(String(c.ZipFile), str(props.Runtime)) };
  return clean({
    S3Bucket: str(c.S3Bucket),
    S3Key: str(c.S3Key),
    S3ObjectVersion: str(c.S3ObjectVersion),
    ImageUri: str(c.ImageUri),
  });
}

function environment(v: unknown) {
  const vars = ((v ?? {}) as Props).Variables as Props | undefined;
  return { Variables: Object.fromEntries(Object.entries(vars ?? {}).map(([k, x]) => [k, String(x)])) };
}

/** The configuration members UpdateFunctionConfiguration and CreateFunction share. */
function configuration(props: Props) {
  const dlq = props.DeadLetterConfig as Props | undefined;
  const eph = props.EphemeralStorage as Props | undefined;
  const tracing = props.TracingConfig as Props | undefined;
  const logging = props.LoggingConfig as Props | undefined;
  return clean({
    Role: str(props.Role),
    Handler: str(props.Handler),
    Runtime: str(props.Runtime) as any,
    Description: str(props.Description) ?? '',
    Timeout: num(props.Timeout),
    MemorySize: num(props.MemorySize),
    Environment: environment(props.Environment),
    Layers: list<string>(props.Layers).map(String),
    DeadLetterConfig: dlq ? { TargetArn: str(dlq.TargetArn) } : undefined,
    EphemeralStorage: eph ? { Size: num(eph.Size) } : undefined,
    TracingConfig: tracing ? { Mode: str(tracing.Mode) as any } : undefined,
    LoggingConfig: logging ? (logging as any) : undefined,
    KMSKeyArn: str(props.KmsKeyArn),
  });
}

async function waitActive(c: LambdaClient, name: string): Promise<FunctionConfiguration> {
  for (let i = 0; ; i++) {
    const fn = (await c.send(new GetFunctionCommand({ FunctionName: name }))).Configuration!;
    const settled = fn.State !== 'Pending' && fn.LastUpdateStatus !== 'InProgress';
    if (settled || i >= 600) {
      if (fn.State === 'Failed') throw new Error(`function ${name} failed: ${fn.StateReason ?? ''}`);
      return fn;
    }
    await sleep(100);
  }
}

const fnResult = (fn: FunctionConfiguration) => ({
  physicalId: fn.FunctionName!,
  attributes: { Arn: fn.FunctionArn },
});

export const lambdaFunction: ResourceProvider = {
  replaceOn: ['FunctionName', 'PackageType'],
  async create(props, ctx) {
    const c = client(ctx);
    const name = nameOf(props, 'FunctionName', ctx, 64);
    await c.send(
      new CreateFunctionCommand({
        FunctionName: name,
        ...configuration(props),
        Code: code(props),
        PackageType: str(props.PackageType) as any,
        Architectures: props.Architectures ? (list(props.Architectures) as any) : undefined,
        Tags: { ...tagMap(props.Tags), 'aws:cloudformation:stack-name': ctx.stackName },
      } as any),
    );
    const reserved = num(props.ReservedConcurrentExecutions);
    if (reserved !== undefined) {
      await c.send(
        new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: reserved }),
      );
    }
    return fnResult(await waitActive(c, name));
  },
  async update(physicalId, props, previous, ctx) {
    const c = client(ctx);
    const diff = changed(previous.props, props);
    const configKeys = [
      'Role',
      'Handler',
      'Runtime',
      'Description',
      'Timeout',
      'MemorySize',
      'Environment',
      'Layers',
      'DeadLetterConfig',
      'EphemeralStorage',
      'TracingConfig',
      'LoggingConfig',
      'KmsKeyArn',
    ];
    if (configKeys.some((k) => diff.has(k))) {
      await c.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: physicalId, ...configuration(props) }),
      );
      await waitActive(c, physicalId);
    }
    // Runtime decides the inline file's name, so a runtime change re-packs ZipFile code.
    const inline = ((props.Code ?? {}) as Props).ZipFile !== undefined;
    if (diff.has('Code') || diff.has('Architectures') || (inline && diff.has('Runtime'))) {
      await c.send(
        new UpdateFunctionCodeCommand({
          FunctionName: physicalId,
          ...code(props),
          Architectures: props.Architectures ? (list(props.Architectures) as any) : undefined,
        } as any),
      );
      await waitActive(c, physicalId);
    }
    if (diff.has('ReservedConcurrentExecutions')) {
      const reserved = num(props.ReservedConcurrentExecutions);
      if (reserved === undefined) {
        await c.send(new DeleteFunctionConcurrencyCommand({ FunctionName: physicalId }));
      } else {
        await c.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: physicalId,
            ReservedConcurrentExecutions: reserved,
          }),
        );
      }
    }
    const fn = await waitActive(c, physicalId);
    if (diff.has('Tags')) {
      const { set, remove } = tagDiff(previous.props.Tags, props.Tags);
      if (remove.length)
        await c.send(new UntagResourceCommand({ Resource: fn.FunctionArn, TagKeys: remove }));
      if (Object.keys(set).length)
        await c.send(new TagResourceCommand({ Resource: fn.FunctionArn, Tags: set }));
    }
    return fnResult(fn);
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteFunctionCommand({ FunctionName: physicalId })));
  },
};

export const lambdaVersion: ResourceProvider = {
  replaceOn: ['FunctionName', 'CodeSha256', 'Description', 'RuntimePolicy'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new PublishVersionCommand({
        FunctionName: String(props.FunctionName),
        CodeSha256: str(props.CodeSha256),
        Description: str(props.Description),
      }),
    );
    return {
      physicalId: out.FunctionArn!,
      attributes: { Version: out.Version, FunctionArn: out.FunctionArn!.replace(/:[^:]+$/, '') },
    };
  },
  // Only ProvisionedConcurrencyConfig updates in place; Nimbus has no provisioned concurrency.
  update: keepAsIs,
  async delete(physicalId, _props, ctx) {
    // CloudFormation retains versions only with a Retain policy; otherwise it deletes them.
    await ignoreMissing(() => client(ctx).send(new DeleteVersionCommand({ FunctionName: physicalId })));
  },
};

function routing(v: unknown) {
  const r = v as Props | undefined;
  if (!r) return undefined;
  const weights: Record<string, number> = {};
  for (const w of list<Props>(r.AdditionalVersionWeights))
    weights[String(w.FunctionVersion)] = num(w.FunctionWeight)!;
  return { AdditionalVersionWeights: weights };
}

export const lambdaAlias: ResourceProvider = {
  replaceOn: ['FunctionName', 'Name'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateAliasCommand({
        FunctionName: String(props.FunctionName),
        Name: String(props.Name),
        FunctionVersion: String(props.FunctionVersion),
        Description: str(props.Description),
        RoutingConfig: routing(props.RoutingConfig),
      }),
    );
    return { physicalId: out.AliasArn!, attributes: { AliasArn: out.AliasArn } };
  },
  async update(physicalId, props, _previous, ctx) {
    const out = await client(ctx).send(
      new UpdateAliasCommand({
        FunctionName: String(props.FunctionName),
        Name: String(props.Name),
        FunctionVersion: String(props.FunctionVersion),
        Description: str(props.Description) ?? '',
        RoutingConfig: routing(props.RoutingConfig) ?? { AdditionalVersionWeights: {} },
      }),
    );
    return { physicalId, attributes: { AliasArn: out.AliasArn ?? physicalId } };
  },
  async delete(_physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteAliasCommand({ FunctionName: String(props.FunctionName), Name: String(props.Name) }),
      ),
    );
  },
};

function esmInput(props: Props) {
  const dest = props.DestinationConfig as Props | undefined;
  const scaling = props.ScalingConfig as Props | undefined;
  const filters = props.FilterCriteria as Props | undefined;
  return clean({
    FunctionName: String(props.FunctionName),
    Enabled: bool(props.Enabled),
    BatchSize: num(props.BatchSize),
    MaximumBatchingWindowInSeconds: num(props.MaximumBatchingWindowInSeconds),
    MaximumRetryAttempts: num(props.MaximumRetryAttempts),
    MaximumRecordAgeInSeconds: num(props.MaximumRecordAgeInSeconds),
    BisectBatchOnFunctionError: bool(props.BisectBatchOnFunctionError),
    ParallelizationFactor: num(props.ParallelizationFactor),
    TumblingWindowInSeconds: num(props.TumblingWindowInSeconds),
    FunctionResponseTypes: props.FunctionResponseTypes as any,
    DestinationConfig: dest as any,
    ScalingConfig: scaling ? { MaximumConcurrency: num(scaling.MaximumConcurrency) } : undefined,
    FilterCriteria: filters
      ? { Filters: list<Props>(filters.Filters).map((f) => ({ Pattern: str(f.Pattern) })) }
      : undefined,
  });
}

export const lambdaEventSourceMapping: ResourceProvider = {
  replaceOn: [
    'EventSourceArn',
    'StartingPosition',
    'StartingPositionTimestamp',
    'SelfManagedEventSource',
    'AmazonManagedKafkaEventSourceConfig',
    'SelfManagedKafkaEventSourceConfig',
    'Queues',
    'Topics',
  ],
  async create(props, ctx) {
    const ts = props.StartingPositionTimestamp;
    const out = await client(ctx).send(
      new CreateEventSourceMappingCommand({
        ...esmInput(props),
        EventSourceArn: str(props.EventSourceArn),
        StartingPosition: str(props.StartingPosition) as any,
        StartingPositionTimestamp: ts === undefined ? undefined : new Date(num(ts)! * 1000),
      }),
    );
    return {
      physicalId: out.UUID!,
      attributes: { Id: out.UUID, EventSourceMappingArn: out.EventSourceMappingArn },
    };
  },
  async update(physicalId, props, previous, ctx) {
    const input = esmInput(props);
    // A property removed from the template goes back to its default.
    if (input.FilterCriteria === undefined && previous.props.FilterCriteria)
      input.FilterCriteria = { Filters: [] };
    await client(ctx).send(new UpdateEventSourceMappingCommand({ UUID: physicalId, ...input }));
    return { physicalId, attributes: { ...previous.attributes, Id: physicalId } };
  },
  async delete(physicalId, _props, ctx) {
    await ignoreMissing(() => client(ctx).send(new DeleteEventSourceMappingCommand({ UUID: physicalId })));
  },
};

function invokeConfigInput(props: Props) {
  const dest = props.DestinationConfig as { OnSuccess?: Props; OnFailure?: Props } | undefined;
  const d = (x?: Props) => (x ? { Destination: str(x.Destination) } : undefined);
  return {
    FunctionName: String(props.FunctionName),
    Qualifier: String(props.Qualifier),
    MaximumRetryAttempts: num(props.MaximumRetryAttempts),
    MaximumEventAgeInSeconds: num(props.MaximumEventAgeInSeconds),
    DestinationConfig: dest
      ? clean({ OnSuccess: d(dest.OnSuccess), OnFailure: d(dest.OnFailure) })
      : undefined,
  };
}

export const lambdaEventInvokeConfig: ResourceProvider = {
  replaceOn: ['FunctionName', 'Qualifier'],
  async create(props, ctx) {
    await client(ctx).send(new PutFunctionEventInvokeConfigCommand(invokeConfigInput(props)));
    return { physicalId: ctx.physicalName(), attributes: {} };
  },
  async update(physicalId, props, _previous, ctx) {
    // Put replaces the whole configuration: members left out go back to their defaults.
    await client(ctx).send(new PutFunctionEventInvokeConfigCommand(invokeConfigInput(props)));
    return { physicalId, attributes: {} };
  },
  async delete(_physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteFunctionEventInvokeConfigCommand({
          FunctionName: String(props.FunctionName),
          Qualifier: String(props.Qualifier),
        }),
      ),
    );
  },
};

/** Splits `name:qualifier` / a qualified ARN into the function and its qualifier. */
function qualified(ref: string): { FunctionName: string; Qualifier?: string } {
  const arn = /^(arn:[^:]+:lambda:[^:]+:\d+:function:[^:]+)(?::([^:]+))?$/.exec(ref);
  if (arn) return { FunctionName: arn[1], Qualifier: arn[2] };
  const [name, q] = ref.split(':');
  return ref.includes(':') && !/^\d+$/.test(name)
    ? { FunctionName: name, Qualifier: q }
    : { FunctionName: ref };
}

export const lambdaPermission: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const statementId = ctx.physicalName(100);
    await client(ctx).send(
      new AddPermissionCommand({
        ...qualified(String(props.FunctionName)),
        StatementId: statementId,
        Action: String(props.Action),
        Principal: String(props.Principal),
        SourceArn: str(props.SourceArn),
        SourceAccount: str(props.SourceAccount),
        EventSourceToken: str(props.EventSourceToken),
        PrincipalOrgID: str(props.PrincipalOrgID),
        FunctionUrlAuthType: str(props.FunctionUrlAuthType) as any,
      }),
    );
    return { physicalId: statementId, attributes: { Id: statementId } };
  },
  update: keepAsIs,
  async delete(physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new RemovePermissionCommand({ ...qualified(String(props.FunctionName)), StatementId: physicalId }),
      ),
    );
  },
};

function urlInput(props: Props) {
  const cors = props.Cors as Props | undefined;
  return {
    AuthType: String(props.AuthType) as any,
    InvokeMode: str(props.InvokeMode) as any,
    Cors: cors
      ? clean({
          AllowCredentials: bool(cors.AllowCredentials),
          AllowHeaders: cors.AllowHeaders as string[] | undefined,
          AllowMethods: cors.AllowMethods as string[] | undefined,
          AllowOrigins: cors.AllowOrigins as string[] | undefined,
          ExposeHeaders: cors.ExposeHeaders as string[] | undefined,
          MaxAge: num(cors.MaxAge),
        })
      : undefined,
  };
}

export const lambdaUrl: ResourceProvider = {
  replaceOn: ['TargetFunctionArn', 'Qualifier'],
  async create(props, ctx) {
    const out = await client(ctx).send(
      new CreateFunctionUrlConfigCommand({
        FunctionName: String(props.TargetFunctionArn),
        Qualifier: str(props.Qualifier),
        ...urlInput(props),
      }),
    );
    return {
      physicalId: out.FunctionArn!,
      attributes: { FunctionUrl: out.FunctionUrl, FunctionArn: out.FunctionArn },
    };
  },
  async update(physicalId, props, _previous, ctx) {
    const out = await client(ctx).send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: String(props.TargetFunctionArn),
        Qualifier: str(props.Qualifier),
        ...urlInput(props),
        Cors: urlInput(props).Cors ?? {},
      }),
    );
    return { physicalId, attributes: { FunctionUrl: out.FunctionUrl, FunctionArn: out.FunctionArn } };
  },
  async delete(_physicalId, props, ctx) {
    await ignoreMissing(() =>
      client(ctx).send(
        new DeleteFunctionUrlConfigCommand({
          FunctionName: String(props.TargetFunctionArn),
          Qualifier: str(props.Qualifier),
        }),
      ),
    );
  },
};

export const lambdaLayerVersion: ResourceProvider = {
  replaceOn: ['*'],
  async create(props, ctx) {
    const content = (props.Content ?? {}) as Props;
    const out = await client(ctx).send(
      new PublishLayerVersionCommand({
        LayerName: nameOf(props, 'LayerName', ctx, 140),
        Description: str(props.Description),
        Content: clean({
          S3Bucket: str(content.S3Bucket),
          S3Key: str(content.S3Key),
          S3ObjectVersion: str(content.S3ObjectVersion),
        }),
        CompatibleRuntimes: props.CompatibleRuntimes as any,
        CompatibleArchitectures: props.CompatibleArchitectures as any,
        LicenseInfo: str(props.LicenseInfo),
      }),
    );
    return { physicalId: out.LayerVersionArn!, attributes: { LayerVersionArn: out.LayerVersionArn } };
  },
  update: keepAsIs,
  async delete(physicalId, _props, ctx) {
    const m = /^(.*):(\d+)$/.exec(physicalId);
    if (!m) return;
    await ignoreMissing(() =>
      client(ctx).send(new DeleteLayerVersionCommand({ LayerName: m[1], VersionNumber: Number(m[2]) })),
    );
  },
};
