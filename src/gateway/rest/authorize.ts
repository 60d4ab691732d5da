/**
 * REST API authorizers, step by step, shared by serving (serve.ts, which keeps the per-node
 * result cache around them) and TestInvokeAuthorizer (the authorizer as it is now, no cache):
 *
 *   lambdaAuthorizerEvent   TOKEN / REQUEST: the identity (401 when missing or not matching
 *                           the validation expression) and the function's event
 *   invokeLambdaAuthorizer  the function's answer (401 when it fails with "Unauthorized", else 500;
 *                           500 without principalId and policyDocument)
 *   authorizerDecision      the answer's policy for the method ARN (403 unless allowed) and the
 *                           values the request carries on (principalId, context)
 *   cognitoTokenHeader      COGNITO_USER_POOLS: the header holding the token
 *
 * Failures are AuthFailure(401 | 403 | 500), which the caller turns into its answer.
 */
import { AuthFailure, identityValues, policyAllows } from '../authorizers.js';
import type { Invoker } from '../invoke.js';
import { functionArnOf } from '../model.js';
import type { RestAuthorizerRecord } from './model.js';

export const authFailure = (status: 401 | 403 | 500, why: string) =>
  new AuthFailure(status, status === 401 ? 'Unauthorized' : 'Forbidden', why);

/** What a Lambda authorizer reads of the request. */
export interface AuthorizerInput {
  methodArn: string;
  /** A header's value by its lower-case name. */
  header(name: string): string | undefined;
  query: URLSearchParams;
  /** `context.X` identity sources (requestId, stage, apiId, httpMethod, resourcePath, ...). */
  context: Record<string, string>;
  stageVariables: Record<string, string>;
  /** REQUEST authorizers: the 1.0 request event (its body is dropped). */
  requestEvent(): Record<string, unknown>;
}

/** TOKEN authorizers read `method.request.header.X` (default Authorization). */
export function tokenHeader(auth: RestAuthorizerRecord): string {
  return (auth.identitySource ?? 'method.request.header.Authorization')
    .replace(/^method\.request\.header\./, '')
    .toLowerCase();
}

/** COGNITO_USER_POOLS authorizers read the token from this header (lower case). */
export const cognitoTokenHeader = tokenHeader;

/** A REQUEST authorizer's identity sources, written as the HTTP API's expressions. */
function requestSources(auth: RestAuthorizerRecord): string[] {
  return (auth.identitySource ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) =>
      s
        .replace(/^method\.request\.header\./, '$request.header.')
        .replace(/^method\.request\.querystring\./, '$request.querystring.')
        .replace(/^stageVariables\./, '$stageVariables.')
        .replace(/^context\./, '$context.'),
    );
}

/**
 * The identity values (the cache key) and event of a TOKEN or REQUEST authorizer, with each
 * identity source's value by its expression (`method.request.header.Authorization`).
 */
export function lambdaAuthorizerEvent(
  auth: RestAuthorizerRecord,
  inp: AuthorizerInput,
): { identity: string[]; sources: Record<string, string>; event: Record<string, unknown> } {
  if (auth.type === 'TOKEN') {
    const token = inp.header(tokenHeader(auth));
    if (!token) throw authFailure(401, 'the token is missing');
    if (
      auth.identityValidationExpression &&
      !new RegExp(`^(?:${auth.identityValidationExpression})$`).test(token)
    )
      throw authFailure(401, 'the token does not match the validation expression');
    return {
      identity: [token],
      sources: { [auth.identitySource ?? 'method.request.header.Authorization']: token },
      event: { type: 'TOKEN', methodArn: inp.methodArn, authorizationToken: token },
    };
  }
  if (auth.type !== 'REQUEST') throw authFailure(500, `${auth.type} authorizers are not supported`);
  const sources = requestSources(auth);
  const values = identityValues(sources, {
    header: inp.header,
    query: (n) => (inp.query.has(n) ? inp.query.getAll(n).join(',') : undefined),
    context: inp.context,
    stageVariables: inp.stageVariables,
  });
  if (!values) throw authFailure(401, 'an identity source is missing');
  const named = (auth.identitySource ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ev = inp.requestEvent();
  delete ev.body;
  delete ev.isBase64Encoded;
  return {
    identity: values,
    sources: Object.fromEntries(named.map((n, i) => [n, values[i]])),
    event: { type: 'REQUEST', methodArn: inp.methodArn, ...ev },
  };
}

/** Calls the authorizer's function with the event; its answer must carry principalId and policyDocument. */
export async function invokeLambdaAuthorizer(
  invoke: Invoker,
  accountId: string,
  uri: string | undefined,
  event: Record<string, unknown>,
): Promise<{ answer: Record<string, unknown>; raw: string }> {
  const fn = functionArnOf(uri);
  if (!fn) throw authFailure(500, 'the authorizer URI is not a function');
  let out;
  try {
    out = await invoke(accountId, fn, Buffer.from(JSON.stringify(event)), 10_000);
  } catch (e) {
    throw authFailure(500, `authorizer invoke failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const raw = out.payload.toString('utf8');
  if (out.functionError) {
    // A function that fails with the message "Unauthorized" asks for a 401.
    let msg: unknown;
    try {
      msg = (JSON.parse(raw) as { errorMessage?: unknown }).errorMessage;
    } catch {
      msg = undefined;
    }
    if (msg === 'Unauthorized') throw authFailure(401, 'the authorizer answered Unauthorized');
    throw authFailure(500, 'the authorizer function failed');
  }
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw authFailure(500, 'the authorizer returned invalid JSON');
  }
  if (
    !answer ||
    typeof answer !== 'object' ||
    typeof answer.principalId !== 'string' ||
    !answer.policyDocument
  )
    throw authFailure(500, 'the authorizer answer needs principalId and policyDocument');
  return { answer, raw };
}

/**
 * The answer's decision for the method ARN: 403 unless its policy allows it (500 when the
 * policy is malformed); else what the request carries on: principalId and the context's scalar
 * values.
 */
export function authorizerDecision(
  answer: Record<string, unknown>,
  methodArn: string,
): Record<string, unknown> {
  let allowed: boolean;
  try {
    allowed = policyAllows(answer.policyDocument, methodArn);
  } catch {
    throw authFailure(500, 'the authorizer policy is invalid');
  }
  if (!allowed) throw authFailure(403, 'the policy does not allow the method');
  const ctx: Record<string, unknown> = { principalId: answer.principalId };
  const extra = answer.context;
  if (extra && typeof extra === 'object')
    for (const [k, v] of Object.entries(extra as Record<string, unknown>))
      if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) ctx[k] = v;
  return ctx;
}
