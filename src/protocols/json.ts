/**
 * AWS JSON 1.0 / 1.1: `POST /` with `X-Amz-Target: <Prefix>.<Operation>`, a JSON body in and
 * out. Errors are `{"__type": "<prefix><Code>", "message": "..."}` with `x-amzn-ErrorType`;
 * query-compatible services (SQS, CloudWatch) also send `x-amzn-query-error: Code;Sender`.
 */
import { AwsError, commonErrors } from './errors.js';
import type { Reply } from './reply.js';

export interface JsonProtocolOptions {
  jsonVersion: '1.0' | '1.1';
  errorTypePrefix?: string;
  /** A full `__type` for some codes, instead of the prefix (see JsonService.errorTypes). */
  errorTypes?: Readonly<Record<string, string>>;
  queryCompatible?: boolean;
}

export function jsonContentType(version: '1.0' | '1.1'): string {
  return version === '1.0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
}

/** Splits `Prefix.Operation` at the last dot; undefined when there is no dot. */
export function parseTarget(target: string): { prefix: string; operation: string } | undefined {
  const dot = target.lastIndexOf('.');
  if (dot <= 0 || dot === target.length - 1) return undefined;
  return { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

/** Parses a request body; an empty body is `{}`. Anything but a JSON object is a SerializationException. */
export function decodeJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw commonErrors.serializationError();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw commonErrors.serializationError();
  }
  return value as Record<string, unknown>;
}

export function encodeJsonResult(opts: JsonProtocolOptions, output: unknown): Reply {
  return {
    status: 200,
    headers: { 'content-type': jsonContentType(opts.jsonVersion) },
    body: JSON.stringify(output ?? {}),
  };
}

export function encodeJsonError(opts: JsonProtocolOptions, err: AwsError): Reply {
  const type = opts.errorTypes?.[err.code] ?? (opts.errorTypePrefix ?? '') + err.code;
  const headers: Record<string, string> = {
    'content-type': jsonContentType(opts.jsonVersion),
    'x-amzn-errortype': err.code,
    ...err.headers,
  };
  // A service may give the legacy Query code in err.headers (SQS: AWS.SimpleQueueService.NonExistentQueue).
  if (opts.queryCompatible && !headers['x-amzn-query-error'])
    headers['x-amzn-query-error'] = `${err.code};${err.fault}`;
  // An error whose extra members carry `Message` (DynamoDB's TransactionCanceledException)
  // answers with that capitalised member only, as the service does.
  const body: Record<string, unknown> =
    'Message' in err.extra
      ? { __type: type, ...err.extra }
      : { __type: type, message: err.message, ...err.extra };
  return { status: err.status, headers, body: JSON.stringify(body) };
}
