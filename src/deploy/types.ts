/**
 * Contracts of the deployment layer (SAM / CloudFormation). Four parts meet here:
 *
 * - `template/`  parses templates (JSON, YAML with the short-form tags), validates parameters,
 *                evaluates conditions, resolves intrinsic functions and finds dependencies.
 * - `sam/`       the SAM transform (AWS::Serverless-2016-10-31): AWS::Serverless::* resources
 *                become plain CloudFormation resources with the logical ids SAM gives them.
 * - `providers/` one ResourceProvider per CloudFormation type: create / update / delete through
 *                the real AWS SDK against this Nimbus, as CloudFormation itself calls the services.
 * - `stacks/`    the stack engine (graph, parallel create, in-place vs replacement updates,
 *                rollback, events, change sets, exports) and the CloudFormation Query API.
 *
 * The CLI (`nimbus deploy`) builds and uploads code (like `sam build` + `sam package`), then talks
 * to the CloudFormation API like any client.
 */
import type { Logger } from '../core/logger.js';

/** A template as parsed: plain JSON values; intrinsic functions are one-key objects (`{ "Fn::Sub": ... }`, `{ Ref: ... }`). */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Transform?: string | string[];
  Metadata?: Record<string, unknown>;
  Parameters?: Record<string, TemplateParameter>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  /** SAM only; gone after the transform. */
  Globals?: Record<string, Record<string, unknown>>;
  Resources: Record<string, TemplateResource>;
  Outputs?: Record<string, TemplateOutput>;
}

export interface TemplateParameter {
  Type: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinLength?: number | string;
  MaxLength?: number | string;
  MinValue?: number | string;
  MaxValue?: number | string;
  NoEcho?: boolean | string;
  Description?: string;
  ConstraintDescription?: string;
}

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
}

export interface TemplateOutput {
  Value: unknown;
  Description?: string;
  Condition?: string;
  Export?: { Name: unknown };
}

/**
 * A template or parameter problem. `message` is the text CloudFormation answers with
 * (`ValidationError`, HTTP 400), e.g. "Template format error: Unresolved resource dependencies
 * [Foo] in the Resources block of the template".
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export interface PseudoParameters {
  'AWS::AccountId': string;
  'AWS::Region': string;
  'AWS::StackName': string;
  'AWS::StackId': string;
  'AWS::Partition': string;
  'AWS::URLSuffix': string;
  'AWS::NotificationARNs': string[];
}

/** Parameter values after validation: `List<...>` / `CommaDelimitedList` types are arrays. */
export type ParameterValues = Record<string, string | string[]>;

/** What intrinsic functions are resolved against. */
export interface IntrinsicContext {
  parameters: ParameterValues;
  pseudo: PseudoParameters;
  conditions: Record<string, boolean>;
  mappings: NonNullable<Template['Mappings']>;
  /** `Ref` to a resource: its physical id (throws TemplateError when the resource is unknown or not yet created). */
  ref(logicalId: string): string;
  /** `Fn::GetAtt`. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** `Fn::ImportValue`: the value another stack exported (TemplateError when nothing exports it). */
  importValue(exportName: string): string;
}

// ---------------------------------------------------------------------------------------------
// Resource providers

/** SDK client configuration pointing at this Nimbus as the stack's account. */
export interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface ResourceContext {
  accountId: string;
  region: string;
  stackName: string;
  stackId: string;
  logicalId: string;
  /** Pass to `new XxxClient(ctx.clientConfig)`. */
  clientConfig: ClientConfig;
  logger: Logger;
  /**
   * A name for a resource the template does not name, as CloudFormation makes them:
   * `{stackName}-{logicalId}-{13 random upper-case alphanumerics}`, shortened to `maxLength`.
   */
  physicalName(maxLength?: number): string;
}

export interface ProvisionResult {
  /** The physical id, which is also what `Ref` returns for this type (queue URL, topic ARN, function name, API id, ...). */
  physicalId: string;
  /** What `Fn::GetAtt` can read (`Arn`, `QueueName`, `StreamArn`, `ApiEndpoint`, ...). */
  attributes: Record<string, unknown>;
}

export interface ResourceProvider {
  /**
   * Properties whose change makes CloudFormation replace the resource (create the new one,
   * then delete the old one) rather than update it in place. `'*'` means any change replaces.
   */
  replaceOn: string[];
  create(props: Record<string, unknown>, ctx: ResourceContext): Promise<ProvisionResult>;
  /** In-place update (only called when no `replaceOn` property changed). */
  update(
    physicalId: string,
    props: Record<string, unknown>,
    previous: { props: Record<string, unknown>; attributes: Record<string, unknown> },
    ctx: ResourceContext,
  ): Promise<ProvisionResult>;
  /** Idempotent: a resource that is already gone is not an error. */
  delete(physicalId: string, props: Record<string, unknown>, ctx: ResourceContext): Promise<void>;
}

export type ProviderRegistry = Record<string, ResourceProvider>;

/** Where `nimbus deploy` uploads built artifacts (like SAM's managed bucket). */
export const ARTIFACT_BUCKET = 'nimbus-deploy-artifacts';
