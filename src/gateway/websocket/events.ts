/**
 * The Lambda proxy events of WebSocket APIs: CONNECT (with the handshake's headers and query
 * string), MESSAGE (the frame's body) and DISCONNECT, each with API Gateway's requestContext.
 */
import { lastAndAll, requestTime } from '../events.js';

/** What a connection keeps of its handshake for the events that follow it. */
export interface ConnectionInfo {
  connectionId: string;
  apiId: string;
  accountId: string;
  region: string;
  stage: string;
  domainName: string;
  connectedAt: number;
  sourceIp: string;
  userAgent?: string;
  stageVariables: Record<string, string>;
  /** What a $connect authorizer answered (its principalId and context), passed on to every event. */
  authorizer?: Record<string, unknown>;
  /** The API key `$connect` was given, when its route requires one (events' identity.apiKey / apiKeyId). */
  apiKey?: { value: string; id: string };
}

export interface EventTiming {
  requestId: string;
  timeEpoch: number;
}

function identity(c: ConnectionInfo): Record<string, unknown> {
  return {
    accountId: null,
    apiKey: c.apiKey?.value ?? null,
    apiKeyId: c.apiKey?.id ?? null,
    caller: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: c.sourceIp,
    user: null,
    userAgent: c.userAgent ?? null,
    userArn: null,
  };
}

function requestContext(
  c: ConnectionInfo,
  t: EventTiming,
  routeKey: string,
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const ctx: Record<string, unknown> = {
    routeKey,
    messageId: null,
    eventType,
    extendedRequestId: t.requestId,
    requestTime: requestTime(t.timeEpoch),
    messageDirection: 'IN',
    stage: c.stage,
    connectedAt: c.connectedAt,
    requestTimeEpoch: t.timeEpoch,
    identity: identity(c),
    requestId: t.requestId,
    domainName: c.domainName,
    connectionId: c.connectionId,
    apiId: c.apiId,
    ...extra,
  };
  if (c.authorizer) ctx.authorizer = c.authorizer;
  return ctx;
}

/** Headers as API Gateway passes them: the last value of each name, and every value by name. */
function headerMaps(rawHeaders: string[]) {
  const pairs: [string, string][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  const { last, all } = lastAndAll(pairs);
  return { headers: last, multiValueHeaders: all };
}

export function buildConnectEvent(
  c: ConnectionInfo,
  t: EventTiming,
  rawHeaders: string[],
  rawQueryString: string,
): Record<string, unknown> {
  const event: Record<string, unknown> = headerMaps(rawHeaders);
  if (rawQueryString) {
    const { last, all } = lastAndAll(new URLSearchParams(rawQueryString));
    event.queryStringParameters = last;
    event.multiValueQueryStringParameters = all;
  }
  event.requestContext = requestContext(c, t, '$connect', 'CONNECT', {
    disconnectStatusCode: null,
    disconnectReason: null,
  });
  event.isBase64Encoded = false;
  if (Object.keys(c.stageVariables).length) event.stageVariables = c.stageVariables;
  return event;
}

export function buildMessageEvent(
  c: ConnectionInfo,
  t: EventTiming,
  routeKey: string,
  messageId: string,
  body: Buffer,
  binary: boolean,
): Record<string, unknown> {
  const event: Record<string, unknown> = {
    requestContext: requestContext(c, t, routeKey, 'MESSAGE', { messageId }),
    body: binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: binary,
  };
  if (Object.keys(c.stageVariables).length) event.stageVariables = c.stageVariables;
  return event;
}

export function buildDisconnectEvent(
  c: ConnectionInfo,
  t: EventTiming,
  statusCode: number,
  reason: string,
): Record<string, unknown> {
  const { headers, multiValueHeaders } = headerMaps([
    'Host',
    c.domainName,
    'x-api-key',
    '',
    'X-Forwarded-For',
    '',
    'x-restapi',
    '',
  ]);
  const event: Record<string, unknown> = {
    headers,
    multiValueHeaders,
    requestContext: requestContext(c, t, '$disconnect', 'DISCONNECT', {
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
    }),
    isBase64Encoded: false,
  };
  if (Object.keys(c.stageVariables).length) event.stageVariables = c.stageVariables;
  return event;
}
