/**
 * What a service gives the front door. Handlers never see HTTP objects (except REST-JSON
 * handlers, which get a decoded request): they take a RequestContext and the decoded input,
 * and return the output or throw an AwsError.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../core/logger.js';

export interface RequestContext {
  requestId: string;
  accountId: string;
  region: string;
  /** The access key the request was signed with ('' when unsigned in dev mode). */
  accessKeyId: string;
  logger: Logger;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  /** Base URL of this Nimbus as the client addressed it, e.g. `http://127.0.0.1:4566` (for queue URLs and the like). */
  endpoint: string;
}

export type Operation<I = any, O = unknown> = (ctx: RequestContext, input: I) => Promise<O>;

/** AWS JSON 1.0 / 1.1: POST /, `X-Amz-Target: <targetPrefix>.<Operation>`. */
export interface JsonService {
  protocol: 'json';
  /** SigV4 signing name (the service in the credential scope), e.g. `dynamodb`, `logs`. */
  signingName: string;
  jsonVersion: '1.0' | '1.1';
  /** e.g. `DynamoDB_20120810`, `Logs_20140328`, `AmazonSQS`. */
  targetPrefix: string;
  /** Error `__type` prefix some services use, e.g. `com.amazonaws.dynamodb.v20120810#`; default none. */
  errorTypePrefix?: string;
  /** A full `__type` for some codes instead of the prefix, e.g. DynamoDB's validation errors. */
  errorTypes?: Readonly<Record<string, string>>;
  /** Also answer errors in the `x-amzn-query-error` form (SQS, CloudWatch: query-compatible services). */
  queryCompatible?: boolean;
  operations: Record<string, Operation>;
}

/** AWS Query protocol: form-encoded `Action=...&Version=...`, XML replies. */
export interface QueryService {
  protocol: 'query';
  signingName: string;
  /** e.g. `2010-03-31` for SNS. */
  version: string;
  /** e.g. `http://sns.amazonaws.com/doc/2010-03-31/`. */
  xmlNamespace: string;
  /** Input: the form parameters decoded into nested objects/arrays (`a.member.1` -> `a[0]`). Output: rendered as `<OpResult>`. */
  operations: Record<string, Operation<Record<string, unknown>, unknown>>;
  /**
   * Parameters a request's path stands for when the request does not give them (SQS: a request
   * sent to a queue's URL names that queue, as older SDKs address it).
   */
  paramsOfPath?(path: string): Record<string, string> | undefined;
}

export interface RestRequest {
  method: string;
  /** The path as sent, without the query string. */
  path: string;
  /** Decoded path parameters from the route template (`{Name}`, greedy `{Name+}`). */
  pathParams: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Parses the body as JSON (an empty body is `{}`); throws SerializationException when it is not. */
  json<T = any>(): T;
}

export interface RestResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A Buffer or string is sent as is; anything else as JSON; undefined sends no body. */
  body?: unknown;
  /** A body sent as its chunks come, instead of `body` (see Reply.stream). */
  stream?: AsyncIterable<Buffer>;
}

export interface RestRoute {
  method: string;
  /** Template such as `/2015-03-31/functions/{FunctionName}/invocations`. */
  path: string;
  operation: string;
  handler: (ctx: RequestContext, req: RestRequest) => Promise<RestResponse>;
}

/** AWS REST-JSON: operations chosen by method and path. */
export interface RestJsonService {
  protocol: 'rest-json';
  signingName: string;
  routes: RestRoute[];
}

export type Service = JsonService | QueryService | RestJsonService;
