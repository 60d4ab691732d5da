/**
 * SAM's Globals section: properties declared once and merged into every resource of the type.
 * Maps merge key by key (the resource wins), lists are additive (global entries first),
 * scalars and intrinsic functions are replaced by the resource's own value.
 */
import type { Template } from '../types.js';
import { clone, isIntrinsic, isObject, type Props, type SamErrors } from './util.js';

const SUPPORTED: Record<string, { type: string; props: string[] }> = {
  Function: {
    type: 'AWS::Serverless::Function',
    props: [
      'Handler',
      'Runtime',
      'CodeUri',
      'DeadLetterQueue',
      'Description',
      'MemorySize',
      'Timeout',
      'VpcConfig',
      'Environment',
      'Tags',
      'PropagateTags',
      'Tracing',
      'KmsKeyArn',
      'Layers',
      'AutoPublishAlias',
      'AutoPublishAliasAllProperties',
      'DeploymentPreference',
      'PermissionsBoundary',
      'ReservedConcurrentExecutions',
      'ProvisionedConcurrencyConfig',
      'AssumeRolePolicyDocument',
      'EventInvokeConfig',
      'Architectures',
      'EphemeralStorage',
      'FunctionUrlConfig',
      'RuntimeManagementConfig',
      'SnapStart',
      'LoggingConfig',
      'RecursiveLoop',
      'SourceKMSKeyArn',
      'CodeSigningConfigArn',
      'FileSystemConfigs',
      'RolePath',
    ],
  },
  Api: {
    type: 'AWS::Serverless::Api',
    props: [
      'Auth',
      'Name',
      'DefinitionUri',
      'CacheClusterEnabled',
      'CacheClusterSize',
      'MergeDefinitions',
      'Variables',
      'EndpointConfiguration',
      'MethodSettings',
      'BinaryMediaTypes',
      'MinimumCompressionSize',
      'Cors',
      'GatewayResponses',
      'AccessLogSetting',
      'CanarySetting',
      'TracingEnabled',
      'OpenApiVersion',
      'Domain',
      'AlwaysDeploy',
      'PropagateTags',
      'Tags',
    ],
  },
  HttpApi: {
    type: 'AWS::Serverless::HttpApi',
    props: [
      'Auth',
      'AccessLogSettings',
      'StageVariables',
      'Tags',
      'CorsConfiguration',
      'DefaultRouteSettings',
      'Domain',
      'RouteSettings',
      'FailOnWarnings',
      'PropagateTags',
    ],
  },
  SimpleTable: {
    type: 'AWS::Serverless::SimpleTable',
    props: ['SSESpecification', 'PointInTimeRecoverySpecification'],
  },
  LayerVersion: { type: 'AWS::Serverless::LayerVersion', props: ['PropagateTags'] },
};

/** Global value merged with the resource's own value, as SAM merges them. */
export function mergeValue(global: unknown, local: unknown): unknown {
  if (local === undefined) return clone(global);
  if (global === undefined) return local;
  if (isIntrinsic(global) || isIntrinsic(local)) return local;
  if (Array.isArray(global) && Array.isArray(local)) return [...clone(global), ...local];
  if (isObject(global) && isObject(local)) {
    const out: Props = {};
    for (const key of new Set([...Object.keys(global), ...Object.keys(local)])) {
      out[key] = mergeValue(global[key], local[key]);
    }
    return out;
  }
  return local;
}

/** Validates Globals and merges them into the matching resources (in place on `template`). */
export function applyGlobals(template: Template, errors: SamErrors): void {
  const globals = template.Globals;
  if (globals === undefined) return;
  if (!isObject(globals)) {
    errors.globals("'Globals' must be a dictionary.");
    return;
  }
  for (const [section, values] of Object.entries(globals)) {
    const spec = SUPPORTED[section];
    if (!spec) {
      errors.globals(
        `'${section}' is not supported. Must be one of the following values - [${Object.keys(SUPPORTED).join(', ')}]`,
      );
      continue;
    }
    if (!isObject(values)) {
      errors.globals(`Value of ${section} must be a dictionary.`);
      continue;
    }
    const bad = Object.keys(values).filter((k) => !spec.props.includes(k));
    if (bad.length > 0) {
      errors.globals(
        `'${bad[0]}' is not a supported property of '${section}'. Must be one of the following values - [${spec.props.join(', ')}]`,
      );
      continue;
    }
    for (const res of Object.values(template.Resources)) {
      if (res.Type !== spec.type) continue;
      const props = (res.Properties ??= {});
      for (const [key, value] of Object.entries(values)) props[key] = mergeValue(value, props[key]);
    }
  }
}

/** Globals.Api / Globals.HttpApi also shape the implicit APIs SAM creates. */
export function implicitApiGlobals(template: Template, section: 'Api' | 'HttpApi'): Props {
  const g = template.Globals?.[section];
  return isObject(g) ? clone(g) : {};
}
