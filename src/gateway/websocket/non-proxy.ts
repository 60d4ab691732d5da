/**
 * WebSocket routes with non-proxy integrations (AWS: a Lambda function or another service's
 * action; HTTP; MOCK) and HTTP_PROXY, as API Gateway runs them:
 *
 * - The request: the integration's template selection expression (`\$default` when absent;
 *   `$request.body.action` and the like read the message) picks one of its request templates,
 *   else the `$default` one; without a template the passthrough behaviour decides (WHEN_NO_MATCH
 *   sends the message as it is, NEVER and WHEN_NO_TEMPLATES with templates refuse it). Templates
 *   are VTL with `$input` (the message), `$context` (the event's requestContext: connectionId,
 *   routeKey, eventType, messageId, ...) and `$stageVariables`.
 * - The backend: MOCK answers the status code its request template names (`{"statusCode": 200}`);
 *   AWS Lambda (`...:lambda:path/2015-03-31/functions/{arn}/invocations`) gets the template's
 *   output as its event; other AWS services get it as the action's request, signed as the API's
 *   account; HTTP posts it to the URL; HTTP_PROXY posts the message itself.
 * - The answer, for two-way routes: the integration response whose key (`/regex/`) matches the
 *   backend's status code (a Lambda function's error message), else `$default`; its response
 *   template (by its template selection expression, else `$default`, else the only one) renders
 *   the backend's body; without a template the body goes back as it is. No matching integration
 *   response: nothing goes back. HTTP_PROXY sends the backend's body back as it is.
 * - `RequestParameters` (`integration.request.{header,querystring,path}.X`) add headers and query
 *   string parameters to HTTP and AWS service calls, and fill `{X}` in their URI, from the
 *   handshake's headers and query string (`route.request.header.X`, `...querystring.X`, and
 *   their multi-value forms: `$connect` only, as on AWS), the message (`route.request.body.a.b`),
 *   `context.X`, `stageVariables.X` or a `'literal'`. A Lambda function's call takes none.
 * - `$connect`: a status outside 2xx refuses the handshake with it.
 */
import type { Logger } from '../../core/logger.js';
import type { ServiceCaller } from '../../server/self-call.js';
import { callBackend } from '../backend.js';
import { IntegrationTimeout, type Invoker } from '../invoke.js';
import { AWS_INTEGRATION_URI } from '../engine.js';
import { functionArnOf, type IntegrationRecord, type IntegrationResponseRecord } from '../model.js';
import { actionRequest } from '../rest/serve.js';
import { TemplateJsonError, jsonPath, renderTemplate } from '../rest/vtl.js';
import { withStageVariables } from '../serve.js';
import { evaluateSelection, parseSelectionExpression } from './selection.js';

export interface NonProxyDeps {
  invoke: Invoker;
  callService?: ServiceCaller;
  logger: Logger;
}

export interface NonProxyCall {
  accountId: string;
  region: string;
  stageVariables: Record<string, string>;
  /** The proxy event the route would get (its body, headers, query string and requestContext). */
  event: Record<string, any>;
  requestId: string;
}

/** The backend's status code and, for two-way routes, what goes back to the client. */
export type NonProxyOutcome = { status: number; reply?: Buffer } | { refuse: number; message: string };

const INTERNAL = { refuse: 500, message: 'Internal server error' };

export async function callNonProxy(
  deps: NonProxyDeps,
  integ: IntegrationRecord,
  call: NonProxyCall,
): Promise<NonProxyOutcome> {
  const ev = call.event;
  const message: string =
    typeof ev.body === 'string'
      ? ev.isBase64Encoded
        ? Buffer.from(ev.body, 'base64').toString()
        : ev.body
      : '';
  const input = (body: string) => ({
    body,
    request: {
      path: {},
      querystring: (ev.queryStringParameters ?? {}) as Record<string, string>,
      header: (ev.headers ?? {}) as Record<string, string>,
    },
    context: (ev.requestContext ?? {}) as Record<string, unknown>,
    stageVariables: call.stageVariables,
  });
  let payload = message;
  if (integ.integrationType !== 'HTTP_PROXY') {
    const templates = integ.requestTemplates ?? {};
    const key = selectionKey(integ.templateSelectionExpression, message);
    const template = templates[key] ?? templates.$default;
    if (template === undefined) {
      const any = Object.keys(templates).length > 0;
      if (integ.passthroughBehavior === 'NEVER' || (integ.passthroughBehavior === 'WHEN_NO_TEMPLATES' && any))
        return { refuse: 415, message: 'Unsupported Media Type' };
    } else {
      try {
        payload = renderTemplate(template, input(message));
      } catch (e) {
        if (e instanceof TemplateJsonError)
          return { refuse: 400, message: 'Could not parse request body into json' };
        deps.logger.warn('websocket request template failed', { requestId: call.requestId, err: e });
        return INTERNAL;
      }
    }
  }
  let backend: { status: number; body: Buffer; subject?: string };
  try {
    const params = webSocketParameters(integ, ev, message, call.stageVariables);
    const b = await backendCall(deps, integ, call, payload, params);
    if ('refuse' in b) return b;
    backend = b;
  } catch (e) {
    if (e instanceof IntegrationTimeout || (e as Error)?.name === 'TimeoutError')
      return { refuse: 504, message: 'Endpoint request timed out' };
    deps.logger.warn('websocket integration failed', { requestId: call.requestId, err: e });
    return INTERNAL;
  }
  if (integ.integrationType === 'HTTP_PROXY') return { status: backend.status, reply: backend.body };
  const response = selectResponse(
    integ.integrationResponses ?? [],
    backend.subject ?? String(backend.status),
  );
  if (!response) return { status: backend.status };
  const templates = response.responseTemplates ?? {};
  const names = Object.keys(templates);
  const template =
    templates[selectionKey(response.templateSelectionExpression, backend.body.toString())] ??
    templates.$default ??
    (names.length === 1 ? templates[names[0]] : undefined);
  if (template === undefined) return { status: backend.status, reply: backend.body };
  try {
    return {
      status: backend.status,
      reply: Buffer.from(renderTemplate(template, input(backend.body.toString()))),
    };
  } catch (e) {
    deps.logger.warn('websocket response template failed', { requestId: call.requestId, err: e });
    return INTERNAL;
  }
}

/** A (template or model) selection expression's value for the message (`\$default` when there is none). */
export function selectionKey(expression: string | undefined, body: string): string {
  if (!expression) return '$default';
  try {
    const parts = parseSelectionExpression(expression);
    // A literal (`\$default`, `json`) is its own key.
    if (!parts) return expression.replace(/\\\$/g, '$');
    return evaluateSelection(parts, body) ?? '$default';
  } catch {
    return '$default';
  }
}

/** `integration.request.{header,querystring,path}.X` values of a WebSocket integration's RequestParameters. */
export interface WebSocketParameters {
  header: Record<string, string>;
  querystring: Record<string, string>;
  path: Record<string, string>;
}

/** A WebSocket data mapping expression's value for this message (undefined: nothing to map). */
export function webSocketMapValue(
  expr: string,
  ev: Record<string, any>,
  message: string,
  stageVariables: Record<string, string>,
): string | undefined {
  const e = expr.trim();
  if (e.length >= 2 && e.startsWith("'") && e.endsWith("'")) return e.slice(1, -1);
  const m =
    /^(route\.request\.(?:header|querystring|multivalueheader|multivaluequerystring|body)|context|stageVariables)\.(.+)$/.exec(
      e,
    );
  if (!m) return undefined;
  const [, source, name] = m;
  const str = (v: unknown) =>
    v === undefined || v === null ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
  switch (source) {
    case 'route.request.header': {
      const lower = name.toLowerCase();
      for (const [k, v] of Object.entries((ev.headers ?? {}) as Record<string, string>))
        if (k.toLowerCase() === lower) return v;
      return undefined;
    }
    case 'route.request.multivalueheader': {
      const lower = name.toLowerCase();
      for (const [k, v] of Object.entries((ev.multiValueHeaders ?? {}) as Record<string, string[]>))
        if (k.toLowerCase() === lower) return v.join(',');
      return undefined;
    }
    case 'route.request.querystring':
      return str((ev.queryStringParameters as Record<string, string> | undefined)?.[name]);
    case 'route.request.multivaluequerystring':
      return (ev.multiValueQueryStringParameters as Record<string, string[]> | undefined)?.[name]?.join(',');
    case 'route.request.body': {
      let doc: unknown;
      try {
        doc = JSON.parse(message);
      } catch {
        return undefined;
      }
      return str(jsonPath(doc, name.startsWith('$') ? name : `$.${name}`));
    }
    case 'context': {
      let v: unknown = ev.requestContext;
      for (const part of name.split('.'))
        v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      return str(v);
    }
    default:
      return stageVariables[name];
  }
}

function webSocketParameters(
  integ: IntegrationRecord,
  ev: Record<string, any>,
  message: string,
  stageVariables: Record<string, string>,
): WebSocketParameters {
  const out: WebSocketParameters = { header: {}, querystring: {}, path: {} };
  for (const [key, expr] of Object.entries(integ.requestParameters ?? {})) {
    const m = /^integration\.request\.(header|querystring|path)\.(.+)$/.exec(key);
    if (!m) continue;
    const v = webSocketMapValue(expr, ev, message, stageVariables);
    if (v !== undefined) out[m[1] as keyof WebSocketParameters][m[2]] = v;
  }
  return out;
}

/** `{name}` in an integration URI filled from the mapped path parameters. */
const fillPath = (uri: string, path: Record<string, string>) =>
  uri.replace(/\{([^}]+?)\}/g, (whole, name: string) =>
    path[name] === undefined ? whole : encodeURIComponent(path[name]),
  );

/** The integration response whose `/regex/` key matches all of the subject, else `$default`. */
function selectResponse(
  responses: IntegrationResponseRecord[],
  subject: string,
): IntegrationResponseRecord | undefined {
  for (const r of responses) {
    const m = /^\/(.+)\/$/.exec(r.integrationResponseKey);
    if (!m) continue;
    try {
      if (new RegExp(`^(?:${m[1]})$`).test(subject)) return r;
    } catch {
      /* an invalid expression matches nothing */
    }
  }
  return responses.find((r) => r.integrationResponseKey === '$default');
}

async function backendCall(
  deps: NonProxyDeps,
  integ: IntegrationRecord,
  call: NonProxyCall,
  payload: string,
  params: WebSocketParameters,
): Promise<{ status: number; body: Buffer; subject?: string } | { refuse: number; message: string }> {
  const uri = withStageVariables(integ.integrationUri, call.stageVariables) ?? '';
  switch (integ.integrationType) {
    case 'MOCK': {
      // The request template names the status: {"statusCode": 200}.
      let status = 200;
      try {
        const v = JSON.parse(payload || '{}') as { statusCode?: unknown };
        if (v && typeof v === 'object' && v.statusCode !== undefined) status = Number(v.statusCode);
      } catch {
        return INTERNAL;
      }
      return Number.isInteger(status) ? { status, body: Buffer.alloc(0) } : INTERNAL;
    }
    case 'HTTP':
    case 'HTTP_PROXY': {
      let url = fillPath(uri, params.path);
      const query = new URLSearchParams(params.querystring).toString();
      if (query) url += (url.includes('?') ? '&' : '?') + query;
      const headers = new Headers({ 'content-type': 'application/json' });
      for (const [k, v] of Object.entries(params.header)) headers.set(k, v);
      const res = await callBackend(
        url,
        integ.integrationMethod ?? 'POST',
        headers,
        payload,
        integ.timeoutInMillis,
      );
      return { status: res.status, body: res.body };
    }
    default: {
      const m = AWS_INTEGRATION_URI.exec(uri);
      if (!m) return INTERNAL;
      const fn = /^path\/2015-03-31\/functions\/(.+)\/invocations$/.exec(`${m[3]}/${m[4]}`);
      if (m[2] === 'lambda' && fn) {
        const arn = functionArnOf(fn[1]);
        if (!arn) return INTERNAL;
        const out = await deps.invoke(call.accountId, arn, Buffer.from(payload), integ.timeoutInMillis);
        if (!out.functionError) return { status: 200, body: out.payload };
        // A function's error: its message selects the integration response, as on REST APIs.
        let subject = '';
        try {
          subject = String(
            (JSON.parse(out.payload.toString()) as { errorMessage?: unknown }).errorMessage ?? '',
          );
        } catch {
          /* no message */
        }
        return { status: 200, body: out.payload, subject };
      }
      if (!deps.callService) return INTERNAL;
      const service = m[2].split('.').pop()!;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
      };
      const query = new URLSearchParams();
      let path = '/';
      // Query services take the action and the template's output as form parameters.
      if (m[3] === 'action') {
        if (!actionRequest(service, m[4], headers, query))
          headers['content-type'] = 'application/x-www-form-urlencoded';
      } else path = '/' + fillPath(m[4], params.path);
      // Mapped headers (e.g. the Content-Type a path-style SQS call's form body needs) win.
      for (const [k, v] of Object.entries(params.querystring)) query.set(k, v);
      for (const [k, v] of Object.entries(params.header)) headers[k.toLowerCase()] = v;
      const res = await deps.callService(call.accountId, {
        region: m[1] || call.region,
        service,
        method: integ.integrationMethod ?? 'POST',
        path,
        query,
        headers,
        body: Buffer.from(payload),
        timeoutMs: integ.timeoutInMillis,
      });
      return { status: res.status, body: res.body };
    }
  }
}
