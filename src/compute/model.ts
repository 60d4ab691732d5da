/**
 * Lambda's persisted records and the pure helpers around them: ARNs, name parsing,
 * the AWS-shaped FunctionConfiguration and timestamps.
 */
import { AwsError } from '../protocols/errors.js';

export interface Scope {
  accountId: string;
  region: string;
}

/** The configuration of one function version ($LATEST or a published number). */
export interface VersionConfig {
  functionName: string;
  version: string;
  runtime: string;
  role: string;
  handler: string;
  description: string;
  timeout: number;
  memorySize: number;
  environment: Record<string, string>;
  architectures: ('x86_64' | 'arm64')[];
  codeSha256: string;
  codeSize: number;
  /** Hex sha256 of the zip: the blob key and code cache directory. */
  codeHex: string;
  lastModified: string;
  revisionId: string;
  deadLetterTargetArn?: string;
  tracingMode: 'Active' | 'PassThrough';
  layers: string[];
  /** The layer versions' code (blob hex, size), resolved when Layers was set. */
  layerCode?: { arn: string; hex: string; size: number }[];
  ephemeralStorage: number;
  /** Counts every change of $LATEST: part of the instance key. */
  configRevision: number;
}

export interface FunctionRecord {
  latest: VersionConfig;
  tags: Record<string, string>;
  reservedConcurrency?: number;
  /** Last published version number (0 when none). */
  lastVersion: number;
  createdAt: number;
}

export interface AliasRecord {
  name: string;
  functionName: string;
  functionVersion: string;
  description: string;
  weights: Record<string, number>;
  revisionId: string;
}

export const COLLECTIONS = {
  functions: 'lambda.functions',
  versions: 'lambda.versions',
  aliases: 'lambda.aliases',
  usage: 'lambda.usage',
  asyncInvocations: 'lambda.async-invocations',
} as const;

export const ASYNC_QUEUE = 'lambda-async';

export function scopePrefix(s: Scope): string {
  return `${s.accountId}/${s.region}/`;
}
export function functionKey(s: Scope, name: string): string {
  return `${s.accountId}/${s.region}/${name}`;
}
export function versionKey(s: Scope, name: string, version: string): string {
  return `${functionKey(s, name)}/${version.padStart(10, '0')}`;
}
export function aliasKey(s: Scope, name: string, alias: string): string {
  return `${functionKey(s, name)}/${alias}`;
}

export function functionArn(s: Scope, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${s.region}:${s.accountId}:function:${name}${qualifier ? ':' + qualifier : ''}`;
}

/** `2026-11-28T01:02:03.000+0000`, as Lambda writes LastModified. */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const NAME_RE =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$/;
export const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

export interface ParsedName {
  name: string;
  qualifier?: string;
  accountId?: string;
  region?: string;
}

/**
 * Accepts `name`, `name:qualifier`, `123456789012:function:name[:q]` and full ARNs.
 * Returns undefined when the value does not match Lambda's pattern.
 */
export function parseFunctionName(value: string): ParsedName | undefined {
  const m = NAME_RE.exec(value);
  if (!m) return undefined;
  // A bare `name:qualifier` matches group 5/6 empty: the regex handles it through group 8.
  const region = m[3] ? m[3].slice(0, -1) : undefined;
  const accountId = m[5] ? m[5].slice(0, -1) : undefined;
  const isArn = Boolean(m[1]);
  if (isArn && (!region || !accountId || !m[6])) return undefined;
  if (accountId && !m[6]) return undefined;
  return { name: m[7], qualifier: m[9], accountId, region };
}

export function validationMessage(errors: string[]): string {
  const n = errors.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${errors.join('; ')}`;
}

export function constraint(value: unknown, member: string, text: string): string {
  const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
  return `Value ${shown === 'null' ? 'null' : shown} at '${member}' failed to satisfy constraint: ${text}`;
}

export const errors = {
  validation: (list: string[]) => new AwsError('ValidationException', validationMessage(list), 400),
  invalidParameter: (message: string) =>
    new AwsError('InvalidParameterValueException', message, 400, 'Sender', { Type: 'User' }),
  notFound: (message: string) =>
    new AwsError('ResourceNotFoundException', message, 404, 'Sender', { Type: 'User' }),
  functionNotFound: (s: Scope, name: string, qualifier?: string) =>
    errors.notFound(`Function not found: ${functionArn(s, name, qualifier)}`),
  conflict: (message: string) =>
    new AwsError('ResourceConflictException', message, 409, 'Sender', { Type: 'User' }),
  precondition: () =>
    new AwsError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
      412,
      'Sender',
      { Type: 'User' },
    ),
  tooLarge: (limit: number, operation: string) =>
    new AwsError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${limit} bytes for the ${operation} operation`,
      413,
    ),
  throttled: (reason: string) =>
    new AwsError(
      'TooManyRequestsException',
      'Rate Exceeded.',
      429,
      'Sender',
      { Reason: reason, Type: 'User' },
      {
        'Retry-After': '1',
      },
    ),
};
