/**
 * CreateFunction / UpdateFunctionConfiguration input checks with Lambda's codes and messages.
 */
import type { LambdaLimits } from '../core/config.js';
import { constraint, errors } from './model.js';

/** Every runtime identifier Lambda's API knows (the enum in its model). */
export const KNOWN_RUNTIMES = [
  'nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x',
  'nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'nodejs26.x', 'nodejs4.3-edge', 'java8', 'java8.al2',
  'java11', 'java17', 'java21', 'java25', 'python2.7', 'python3.6', 'python3.7', 'python3.8', 'python3.9',
  'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14', 'dotnetcore1.0', 'dotnetcore2.0',
  'dotnetcore2.1', 'dotnetcore3.1', 'dotnet6', 'dotnet8', 'dotnet10', 'go1.x', 'ruby2.5', 'ruby2.7', 'ruby3.2',
  'ruby3.3', 'ruby3.4', 'provided', 'provided.al2', 'provided.al2023',
]; // prettier-ignore

/** The runtimes Nimbus runs: Node.js, Python 3 and custom runtimes (a `bootstrap`). */
export function isRunnableRuntime(runtime: string): boolean {
  return (
    /^nodejs(\d+\.x|\d+\.\d+)?$/.test(runtime) ||
    /^python3\.\d+$/.test(runtime) ||
    runtime.startsWith('provided')
  );
}

/**
 * Runtimes AWS has deprecated. Nimbus still runs them (on the host's interpreter) with a
 * warning, because users deploy old samples.
 */
export function isDeprecatedRuntime(runtime: string): boolean {
  const node = /^nodejs(\d+)/.exec(runtime);
  if (node) return Number(node[1]) < 18;
  if (runtime === 'nodejs') return true;
  const py = /^python3\.(\d+)$/.exec(runtime);
  if (py) return Number(py[1]) < 9;
  return runtime === 'provided';
}

export const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ROLE_RE = new RegExp(`^${ROLE_PATTERN}$`);
const HANDLER_RE = /^[^\s]+$/;
const ENV_KEY_RE = /^[a-zA-Z]([a-zA-Z0-9_])+$/;

const RESERVED_ENV = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]); // prettier-ignore

export interface ConfigInput {
  Role?: string;
  Runtime?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Environment?: { Variables?: Record<string, string> };
  Architectures?: string[];
  EphemeralStorage?: { Size?: number };
}

/** Collects constraint violations (ValidationException) for the members present. */
export function configViolations(input: ConfigInput, limits: LambdaLimits, requireRole: boolean): string[] {
  const out: string[] = [];
  if (input.Role === undefined || input.Role === null) {
    if (requireRole) out.push(constraint(undefined, 'role', 'Member must not be null'));
  } else if (!ROLE_RE.test(input.Role)) {
    out.push(constraint(input.Role, 'role', `Member must satisfy regular expression pattern: ${ROLE_PATTERN}`));
  }
  if (input.Runtime !== undefined && !KNOWN_RUNTIMES.includes(input.Runtime)) {
    out.push(constraint(input.Runtime, 'runtime', `Member must satisfy enum value set: [${KNOWN_RUNTIMES.join(', ')}]`));
  }
  if (input.Handler !== undefined) {
    if (input.Handler.length > 128) {
      out.push(constraint(input.Handler, 'handler', 'Member must have length less than or equal to 128'));
    } else if (!HANDLER_RE.test(input.Handler)) {
      out.push(constraint(input.Handler, 'handler', 'Member must satisfy regular expression pattern: [^\\s]+'));
    }
  }
  if (input.Description !== undefined && input.Description.length > 256) {
    out.push(constraint(input.Description, 'description', 'Member must have length less than or equal to 256'));
  }
  if (input.Timeout !== undefined) {
    if (input.Timeout < limits.minTimeoutSec) {
      out.push(constraint(input.Timeout, 'timeout', `Member must have value greater than or equal to ${limits.minTimeoutSec}`));
    } else if (input.Timeout > limits.maxTimeoutSec) {
      out.push(constraint(input.Timeout, 'timeout', `Member must have value less than or equal to ${limits.maxTimeoutSec}`));
    }
  }
  if (input.MemorySize !== undefined) {
    if (input.MemorySize < limits.minMemoryMb) {
      out.push(constraint(input.MemorySize, 'memorySize', `Member must have value greater than or equal to ${limits.minMemoryMb}`));
    } else if (input.MemorySize > limits.maxMemoryMb) {
      out.push(constraint(input.MemorySize, 'memorySize', `Member must have value less than or equal to ${limits.maxMemoryMb}`));
    }
  }
  if (input.Architectures !== undefined) {
    if (input.Architectures.length !== 1) {
      out.push(constraint(`[${input.Architectures.join(', ')}]`, 'architectures', 'Member must have length less than or equal to 1'));
    } else if (!['x86_64', 'arm64'].includes(input.Architectures[0])) {
      out.push(constraint(`[${input.Architectures.join(', ')}]`, 'architectures', 'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64]]'));
    }
  }
  const vars = input.Environment?.Variables;
  if (vars && Object.keys(vars).some((k) => !ENV_KEY_RE.test(k))) {
    out.push(
      "Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
    );
  }
  return out;
} // prettier-ignore

/** The InvalidParameterValueException checks that come after the constraint checks. */
export function checkEnvironment(vars: Record<string, string> | undefined, limits: LambdaLimits): void {
  if (!vars) return;
  const reserved = Object.keys(vars).filter((k) => RESERVED_ENV.has(k));
  if (reserved.length > 0) {
    throw errors.invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(',')}`,
    );
  }
  const measured = JSON.stringify(vars);
  if (Buffer.byteLength(measured, 'utf8') > limits.envVarsBytes) {
    throw errors.invalidParameter(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
}
