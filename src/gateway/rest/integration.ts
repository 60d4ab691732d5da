/**
 * REST API non-proxy integrations (MOCK, HTTP, AWS/Lambda) around the call itself: the
 * integration request (its `requestParameters` and the request template for the Content-Type, or
 * the body passed through as `passthroughBehavior` allows) and the integration response (chosen
 * by selection pattern, then its header mappings and response template). Templates are VTL
 * (./vtl.ts).
 */
import type { IntegrationRecord, IntegrationResponseRecord } from './model.js';
import type { HttpResult } from '../response.js';
import { gatewayError, mapValue, pickTemplate, type RequestValues } from './responses.js';
import {
  jsonPath,
  renderTemplate,
  TemplateJsonError,
  type ResponseOverride,
  type TemplateInput,
} from './vtl.js';

/** The method request as an integration sees it. */
export interface MethodRequest {
  values: RequestValues;
  body: Buffer;
}

/** `integration.request.{header,querystring,path}.X` values of the integration's requestParameters. */
export interface IntegrationParameters {
  header: Record<string, string>;
  querystring: Record<string, string>;
  path: Record<string, string>;
}

export function integrationParameters(
  integ: IntegrationRecord,
  values: RequestValues,
): IntegrationParameters {
  const out: IntegrationParameters = { header: {}, querystring: {}, path: {} };
  for (const [key, expr] of Object.entries(integ.requestParameters ?? {})) {
    const m = /^integration\.request\.(header|querystring|path)\.(.+)$/.exec(key);
    if (!m) continue;
    const v = mapValue(expr, values);
    if (v !== undefined) out[m[1] as keyof IntegrationParameters][m[2]] = v;
  }
  return out;
}

/** The `$context` of templates: the flat request values (`identity.sourceIp`) as nested objects. */
function nestedContext(flat: Record<string, string | number | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (v === undefined) continue;
    const parts = k.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = v;
  }
  return out;
}

function templateInput(body: string, values: RequestValues): TemplateInput {
  return {
    body,
    request: values.all(),
    context: nestedContext(values.context),
    stageVariables: values.stageVariables,
  };
}

/** CONVERT_TO_TEXT: bytes as base64 text; CONVERT_TO_BINARY: base64 text as its bytes; else unchanged. */
function converted(body: Buffer, contentHandling: string | undefined): Buffer {
  if (contentHandling === 'CONVERT_TO_TEXT') return Buffer.from(body.toString('base64'));
  if (contentHandling === 'CONVERT_TO_BINARY') return Buffer.from(body.toString(), 'base64');
  return body;
}

/** The request's media type for template selection (application/json when it has none). */
function requestMediaType(values: RequestValues): string {
  return (values.header('content-type') ?? 'application/json').split(';')[0].trim().toLowerCase();
}

/**
 * The integration request's body and Content-Type: the request template for the request's media
 * type evaluated, or the body unchanged as the passthrough behaviour allows. A gateway error
 * (415 Unsupported Media Type, 400 for a body a template reads as JSON that is not) otherwise.
 */
export function integrationRequest(
  integ: IntegrationRecord,
  mr: MethodRequest,
): { body: Buffer; contentType: string } | HttpResult {
  const type = requestMediaType(mr.values);
  const templates = integ.requestTemplates ?? {};
  // The payload as the integration's contentHandling converts it (binary to base64 text, or back).
  const body = converted(mr.body, integ.contentHandling);
  const entry = Object.entries(templates).find(([t]) => t.toLowerCase() === type);
  if (!entry) {
    const behaviour = integ.passthroughBehavior;
    const any = Object.keys(templates).length > 0;
    if (behaviour === 'NEVER' || (behaviour === 'WHEN_NO_TEMPLATES' && any))
      return gatewayError('UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported Media Type');
    return { body, contentType: mr.values.header('content-type') ?? 'application/json' };
  }
  try {
    return {
      body: Buffer.from(renderTemplate(entry[1], templateInput(body.toString(), mr.values))),
      contentType: entry[0],
    };
  } catch (e) {
    if (e instanceof TemplateJsonError)
      return gatewayError('BAD_REQUEST_BODY', 400, `Could not parse request body into json: ${e.message}`);
    throw e;
  }
}

/**
 * The integration response for a subject (MOCK and HTTP: the status code; Lambda: the error
 * message of a failed call, else none): the first whose selectionPattern matches all of it, else
 * the default one (no pattern).
 */
export function selectResponse(
  integ: IntegrationRecord,
  subject: string | undefined,
): IntegrationResponseRecord | undefined {
  const responses = Object.values(integ.integrationResponses ?? {});
  if (subject !== undefined)
    for (const r of responses) {
      if (!r.selectionPattern) continue;
      try {
        if (new RegExp(`^(?:${r.selectionPattern})$`).test(subject)) return r;
      } catch {
        /* an invalid pattern matches nothing */
      }
    }
  return responses.find((r) => !r.selectionPattern);
}

/** What the integration answered: headers and body (bytes: a backend may answer binary). */
export interface IntegrationAnswer {
  headers: Record<string, string[]>;
  body: Buffer;
}

/**
 * The method response from the chosen integration response: its status code (or the template's
 * `$context.responseOverride.status`), its `method.response.header.X` mappings (request values,
 * `integration.response.header.Y`, `integration.response.body[.JSONPath]`, literals) and its
 * template for the Accept type evaluated over the answer; without templates the answer's body
 * passes through. No response to choose: 500, as API Gateway answers a configuration without a
 * default response.
 */
export function methodResponse(
  chosen: IntegrationResponseRecord | undefined,
  answer: IntegrationAnswer,
  values: RequestValues,
): HttpResult {
  if (!chosen) return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
  const headers: Record<string, string[]> = {};
  const text = answer.body.toString();
  let doc: { value: unknown } | undefined;
  const fromAnswer = (expr: string): string | undefined => {
    const e = expr.trim();
    if (e.startsWith('integration.response.header.')) {
      const v = answer.headers[e.slice(28).toLowerCase()];
      return v?.join(',');
    }
    if (e === 'integration.response.body') return text;
    if (e.startsWith('integration.response.body.')) {
      try {
        doc ??= { value: JSON.parse(text) };
      } catch {
        return undefined;
      }
      const v = jsonPath(doc.value, '$' + e.slice(25));
      return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
    }
    return mapValue(e, values);
  };
  for (const [k, expr] of Object.entries(chosen.responseParameters ?? {})) {
    if (!k.startsWith('method.response.header.')) continue;
    const v = fromAnswer(expr);
    if (v !== undefined) headers[k.slice(23).toLowerCase()] = [v];
  }
  const tpl = pickTemplate(chosen.responseTemplates, values.header('accept'));
  const override: ResponseOverride = { headers: {} };
  // Without a template the answer passes as it is, or converted as the response's contentHandling says.
  let body = converted(answer.body, chosen.contentHandling);
  if (tpl) {
    try {
      body = Buffer.from(renderTemplate(tpl[1], templateInput(text, values), override));
    } catch (e) {
      if (!(e instanceof TemplateJsonError)) throw e;
      return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
    }
  }
  if (!headers['content-type']) headers['content-type'] = [tpl?.[0] ?? 'application/json'];
  for (const [k, v] of Object.entries(override.headers)) headers[k] = [v];
  return { status: override.status ?? Number(chosen.statusCode), headers, body };
}

/**
 * A MOCK integration's answer: the status code its evaluated request template names
 * (`{"statusCode": 404}`; 200 without one) selects the integration response.
 */
export function mockResult(integ: IntegrationRecord, mr: MethodRequest): HttpResult {
  const req = integrationRequest({ ...integ, passthroughBehavior: 'WHEN_NO_MATCH' }, mr);
  if ('status' in req) return req;
  let status = '200';
  const text = req.body.toString();
  try {
    const parsed = JSON.parse(text) as { statusCode?: unknown };
    if (parsed && parsed.statusCode !== undefined) status = String(parsed.statusCode);
  } catch {
    const m = /"statusCode"\s*:\s*"?(\d{3})/.exec(text);
    if (m) status = m[1];
  }
  return methodResponse(selectResponse(integ, status), { headers: {}, body: Buffer.alloc(0) }, mr.values);
}
