/**
 * REST API gateway responses (the API's own errors, customised per type with a status code,
 * headers and a body template, as SAM's `GatewayResponses` set them), and the parameter mapping
 * expressions (`method.request.header.X`, `'literal'`, ...) integrations share with them.
 *
 * Gateway response templates get the `$context` variables API Gateway documents for them
 * (`$context.error.*`, `$context.requestId`, ...) substituted.
 */
import type { GatewayResponseRecord } from './model.js';
import type { TemplateRequest } from './vtl.js';
import type { HttpResult } from '../response.js';

/** Every gateway response type with the status API Gateway answers when it is not customised. */
const DEFAULT_STATUS: Record<string, string | undefined> = {
  DEFAULT_4XX: undefined,
  DEFAULT_5XX: undefined,
  ACCESS_DENIED: '403',
  API_CONFIGURATION_ERROR: '500',
  AUTHORIZER_CONFIGURATION_ERROR: '500',
  AUTHORIZER_FAILURE: '500',
  BAD_REQUEST_PARAMETERS: '400',
  BAD_REQUEST_BODY: '400',
  EXPIRED_TOKEN: '403',
  INTEGRATION_FAILURE: '504',
  INTEGRATION_TIMEOUT: '504',
  INVALID_API_KEY: '403',
  INVALID_SIGNATURE: '403',
  MISSING_AUTHENTICATION_TOKEN: '403',
  QUOTA_EXCEEDED: '429',
  REQUEST_TOO_LARGE: '413',
  RESOURCE_NOT_FOUND: '404',
  THROTTLED: '429',
  UNAUTHORIZED: '401',
  UNSUPPORTED_MEDIA_TYPE: '415',
  WAF_FILTERED: '403',
};

export const GATEWAY_RESPONSE_TYPES = Object.keys(DEFAULT_STATUS);

const DEFAULT_TEMPLATE = '{"message":$context.error.messageString}';

/** GetGatewayResponse's shape: the customised record, or AWS's default for the type. */
export function gatewayResponseView(
  type: string,
  rec: GatewayResponseRecord | undefined,
): Record<string, unknown> {
  if (!rec) {
    const out: Record<string, unknown> = {
      responseType: type,
      responseParameters: {},
      responseTemplates: { 'application/json': DEFAULT_TEMPLATE },
      defaultResponse: true,
    };
    if (DEFAULT_STATUS[type]) out.statusCode = DEFAULT_STATUS[type];
    return out;
  }
  const out: Record<string, unknown> = {
    responseType: type,
    responseParameters: rec.responseParameters ?? {},
    responseTemplates: rec.responseTemplates ?? {},
    defaultResponse: false,
  };
  if (rec.statusCode) out.statusCode = rec.statusCode;
  return out;
}

/** What a parameter mapping may read from the request. */
export interface RequestValues {
  header(name: string): string | undefined;
  query(name: string): string | undefined;
  pathParameters: Record<string, string>;
  stageVariables: Record<string, string>;
  context: Record<string, string | number | undefined>;
  /** Every path, query string and header value, for mapping templates (`$input.params()`). */
  all(): TemplateRequest;
}

/** A mapping expression's value: `'literal'`, `method.request.header.X`, `stageVariables.x`, `context.x`. */
export function mapValue(expr: string, req: RequestValues): string | undefined {
  const e = expr.trim();
  if (e.length >= 2 && e.startsWith("'") && e.endsWith("'")) return e.slice(1, -1);
  if (e.startsWith('method.request.header.')) return req.header(e.slice(22).toLowerCase());
  if (e.startsWith('method.request.querystring.')) return req.query(e.slice(27));
  if (e.startsWith('method.request.path.')) return req.pathParameters[e.slice(20)];
  if (e.startsWith('stageVariables.')) return req.stageVariables[e.slice(15)];
  if (e.startsWith('context.')) {
    const v = req.context[e.slice(8)];
    return v === undefined ? undefined : String(v);
  }
  return undefined;
}

/** `prefix.X` -> value headers of a response parameter map (lower-cased names). */
function mappedHeaders(
  params: Record<string, string> | undefined,
  prefix: string,
  req: RequestValues,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, expr] of Object.entries(params ?? {})) {
    if (!k.startsWith(prefix)) continue;
    const v = mapValue(expr, req);
    if (v !== undefined) out[k.slice(prefix.length).toLowerCase()] = [v];
  }
  return out;
}

/** The template for the request's Accept type, else application/json, else the first one. */
export function pickTemplate(
  templates: Record<string, string> | undefined,
  accept: string | undefined,
): [string, string] | undefined {
  const entries = Object.entries(templates ?? {});
  if (!entries.length) return undefined;
  const want = (accept ?? '').split(',')[0].split(';')[0].trim().toLowerCase();
  return (
    entries.find(([t]) => t.toLowerCase() === want) ??
    entries.find(([t]) => t.toLowerCase() === 'application/json') ??
    entries[0]
  );
}

/** An answer of the gateway itself, tagged with its gateway response type. */
export interface GatewayErrorResult extends HttpResult {
  responseType: string;
  /** `$context.error.message` (null: the gateway's body says `null`). */
  errorMessage: string | null;
}

export function gatewayError(
  responseType: string,
  status: number,
  message: string | null,
  headers: Record<string, string[]> = {},
  body = JSON.stringify({ message }),
): GatewayErrorResult {
  return {
    status,
    headers: { 'content-type': ['application/json'], ...headers },
    body: Buffer.from(body),
    responseType,
    errorMessage: message,
  };
}

export function isGatewayError(r: HttpResult): r is GatewayErrorResult {
  return typeof (r as GatewayErrorResult).responseType === 'string';
}

/**
 * The deployed gateway response for an error of the gateway (its own type, else DEFAULT_4XX /
 * DEFAULT_5XX by status class) applied: status code, headers and body template. Answers from
 * the function, and errors without a customised response, pass unchanged.
 */
export function applyGatewayResponse(
  result: HttpResult,
  responses: Record<string, GatewayResponseRecord> | undefined,
  req: RequestValues,
): HttpResult {
  if (!responses || !isGatewayError(result)) return result;
  const rec =
    responses[result.responseType] ??
    (result.status >= 500 ? responses.DEFAULT_5XX : result.status >= 400 ? responses.DEFAULT_4XX : undefined);
  if (!rec) return result;
  const status = rec.statusCode ? Number(rec.statusCode) : result.status;
  const headers: Record<string, string[]> = { ...result.headers };
  Object.assign(headers, mappedHeaders(rec.responseParameters, 'gatewayresponse.header.', req));
  const tpl = pickTemplate(rec.responseTemplates, req.header('accept'));
  let body = result.body;
  if (tpl) {
    const msg = result.errorMessage;
    const vars: Record<string, string> = {
      'error.messageString': JSON.stringify(msg),
      'error.message': msg ?? '',
      'error.responseType': result.responseType,
      'error.validationErrorString': '',
    };
    for (const [k, v] of Object.entries(req.context)) if (v !== undefined) vars[k] = String(v);
    body = Buffer.from(
      tpl[1].replace(/\$(?:\{context\.([A-Za-z0-9_.]+)\}|context\.([A-Za-z0-9_.]+))/g, (all, a, b) => {
        const v = vars[(a ?? b) as string];
        return v === undefined ? '' : v;
      }),
    );
    headers['content-type'] = [tpl[0]];
  }
  return { status, headers, body };
}
