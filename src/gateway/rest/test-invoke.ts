/**
 * The management API's test invocations of REST APIs, as they are now (no deployment needed):
 * the request they describe (headers, multiValueHeaders, pathWithQueryString, body, stage
 * variables), shared with TestInvokeMethod (serve.ts), and TestInvokeAuthorizer, which runs one
 * authorizer through the steps serving uses (authorize.ts, without the result cache) and answers
 * what the client would have received (`clientStatus`, 0 when authorized), the authorizer's
 * principalId and policy (Lambda) or claims (Cognito), the latency and an execution log.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { AuthFailure, type CognitoVerifier } from '../authorizers.js';
import { headerValues, type GatewayRequest } from '../events.js';
import type { Invoker } from '../invoke.js';
import {
  authorizerDecision,
  cognitoTokenHeader,
  invokeLambdaAuthorizer,
  lambdaAuthorizerEvent,
} from './authorize.js';
import type { RestApiRecord, RestAuthorizerRecord, Scope } from './model.js';
import type { RestEventContext } from './serve.js';

/** The stage test invocations run in, as on AWS. */
export const TEST_INVOKE_STAGE = 'test-invoke-stage';
/** The stage of the method ARN a test-invoked authorizer gets, as the console's test sends it. */
const TEST_INVOKE_ARN_STAGE = 'ESTestInvoke-stage';

/** The request's headers as Node's rawHeaders (name, value, ...): `headers`, then `multiValueHeaders`. */
export function testRawHeaders(input: Record<string, any>): string[] {
  const raw: string[] = [];
  for (const [k, v] of Object.entries((input.headers ?? {}) as Record<string, string>))
    raw.push(k, String(v));
  for (const [k, vs] of Object.entries((input.multiValueHeaders ?? {}) as Record<string, string[]>))
    for (const v of vs ?? []) raw.push(k, String(v));
  return raw;
}

/** `pathWithQueryString` split into its path and its query string. */
export function testTarget(target: string): { path: string; rawQueryString: string } {
  const qi = target.indexOf('?');
  return {
    path: (qi < 0 ? target : target.slice(0, qi)) || '/',
    rawQueryString: qi < 0 ? '' : target.slice(qi + 1),
  };
}

export interface TestInvokeAuthorizerDeps {
  invoke: Invoker;
  clock: Clock;
  cognito: CognitoVerifier;
  /** Expands `${stageVariables.x}` in an authorizer URI or provider ARN. */
  withStageVariables(s: string | undefined, vars: Record<string, string>): string | undefined;
  /** The REST API's 1.0 request event (a REQUEST authorizer's event, without the body). */
  requestEvent(greq: GatewayRequest, ctx: RestEventContext): Record<string, unknown>;
}

/** The request a test invocation describes, with the source and domain API Gateway's tests show. */
export function testRequest(
  method: string,
  path: string,
  rawQueryString: string,
  rawHeaders: string[],
  body: unknown,
  requestId: string,
  timeEpoch: number,
): GatewayRequest {
  return {
    method,
    rawPath: path,
    rawQueryString,
    rawHeaders,
    body: Buffer.from(String(body ?? '')),
    sourceIp: 'test-invoke-source-ip',
    protocol: 'HTTP/1.1',
    domainName: 'testPrefix.testDomainName',
    requestId,
    timeEpoch,
  };
}

/** Shows the last four characters of an identity, as API Gateway's logs do. */
function masked(v: string): string {
  return v.length > 4 ? `****${v.slice(-4)}` : '****';
}

/** TestInvokeAuthorizer: TOKEN, REQUEST and COGNITO_USER_POOLS authorizers. */
export async function testInvokeAuthorizer(
  deps: TestInvokeAuthorizerDeps,
  scope: Scope,
  api: RestApiRecord,
  auth: RestAuthorizerRecord,
  input: Record<string, any>,
): Promise<Record<string, unknown>> {
  const started = deps.clock.now();
  const requestId = randomUUID();
  const rawHeaders = testRawHeaders(input);
  const header = (n: string) => headerValues(rawHeaders, n);
  const { path, rawQueryString } = testTarget(String(input.pathWithQueryString ?? '/'));
  const stageVariables = (input.stageVariables ?? {}) as Record<string, string>;
  const at = new Date(started).toUTCString();
  const log = [`Execution log for request ${requestId}`];
  const line = (s: string) => log.push(`${at} : ${s}`);
  const done = (out: Record<string, unknown>) => {
    log.push('');
    return { ...out, log: log.join('\n'), latency: deps.clock.now() - started };
  };
  const refused = (e: AuthFailure, out: Record<string, unknown> = {}) => {
    if (e.status === 401) line(`Unauthorized request: ${requestId}`);
    else if (e.status === 403) line('The client is not authorized to perform this operation.');
    else line('Execution failed due to configuration error: Authorizer error');
    line(`Authorizer result: ${e.message}`);
    return done({ clientStatus: e.status, ...out });
  };
  line(`Starting authorizer: ${auth.id} for request: ${requestId}`);

  if (auth.type === 'COGNITO_USER_POOLS') {
    const token = header(cognitoTokenHeader(auth));
    if (token) line(`Incoming identity: ${masked(token)}`);
    try {
      const claims = await deps.cognito.verify(
        (auth.providerARNs ?? []).map((a) => deps.withStageVariables(a, stageVariables) ?? a),
        token,
        undefined,
        auth.identityValidationExpression,
      );
      line('Successfully completed authorizer execution');
      return done({ clientStatus: 0, claims });
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      return refused(e);
    }
  }

  const methodArn = `arn:aws:execute-api:${scope.region}:${scope.accountId}:${api.id}/${TEST_INVOKE_ARN_STAGE}/GET${path}`;
  const greq = testRequest('GET', path, rawQueryString, rawHeaders, input.body, requestId, started);
  let call: ReturnType<typeof lambdaAuthorizerEvent>;
  try {
    call = lambdaAuthorizerEvent(auth, {
      methodArn,
      header,
      query: new URLSearchParams(rawQueryString),
      context: {
        requestId,
        stage: TEST_INVOKE_STAGE,
        apiId: api.id,
        httpMethod: 'GET',
        resourcePath: path,
        ...((input.additionalContext ?? {}) as Record<string, string>),
      },
      stageVariables,
      requestEvent: () =>
        deps.requestEvent(greq, {
          accountId: scope.accountId,
          apiId: api.id,
          stage: TEST_INVOKE_STAGE,
          resourceId: '',
          resourcePath: path,
          path,
          pathParameters: {},
          stageVariables,
        }),
    });
  } catch (e) {
    if (!(e instanceof AuthFailure)) throw e;
    return refused(e);
  }
  const authorization = Object.fromEntries(Object.entries(call.sources).map(([k, v]) => [k, [v]]));
  line(`Incoming identity: ${call.identity.map(masked).join(', ')}`);
  line(`Endpoint request body after transformations: ${JSON.stringify(call.event)}`);
  let answer: Record<string, unknown>;
  try {
    const uri = deps.withStageVariables(auth.authorizerUri, stageVariables);
    const out = await invokeLambdaAuthorizer(deps.invoke, scope.accountId, uri, call.event);
    line(`Authorizer result body before parsing: ${out.raw}`);
    answer = out.answer;
  } catch (e) {
    if (!(e instanceof AuthFailure)) throw e;
    return refused(e, { authorization });
  }
  const principalId = answer.principalId as string;
  const policy = JSON.stringify(answer.policyDocument);
  try {
    authorizerDecision(answer, methodArn);
  } catch (e) {
    if (!(e instanceof AuthFailure)) throw e;
    return refused(e, { principalId, policy, authorization });
  }
  line(`Using valid authorizer policy for principal: ${masked(principalId)}`);
  line('Successfully completed authorizer execution');
  return done({ clientStatus: 0, principalId, policy, authorization });
}
