/**
 * CORS as HTTP APIs answer it when the API has a CorsConfiguration: the gateway itself answers
 * preflight requests (OPTIONS with Origin and Access-Control-Request-Method), and adds the
 * CORS headers to actual responses whose Origin is allowed (replacing the integration's own).
 */
import type { Cors } from './model.js';

function originAllowed(cors: Cors, origin: string): boolean {
  const list = cors.allowOrigins ?? [];
  return list.includes('*') || list.some((o) => o.toLowerCase() === origin.toLowerCase());
}

function allowOriginValue(cors: Cors, origin: string): string {
  return (cors.allowOrigins ?? []).includes('*') && !cors.allowCredentials ? '*' : origin;
}

export function isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return method === 'OPTIONS' && !!headers.origin && !!headers['access-control-request-method'];
}

/** Headers of a preflight answer (204); empty when the origin, method or headers are not allowed. */
export function preflightHeaders(
  cors: Cors,
  origin: string,
  requestMethod: string,
  requestHeaders: string | undefined,
): Record<string, string> {
  if (!originAllowed(cors, origin)) return {};
  const methods = (cors.allowMethods ?? []).map((m) => m.toUpperCase());
  if (!methods.includes('*') && !methods.includes(requestMethod.toUpperCase())) return {};
  const allowedHeaders = (cors.allowHeaders ?? []).map((h) => h.toLowerCase());
  const asked = (requestHeaders ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!allowedHeaders.includes('*') && asked.some((h) => !allowedHeaders.includes(h))) return {};
  const out: Record<string, string> = {
    'access-control-allow-origin': allowOriginValue(cors, origin),
    'access-control-allow-methods': methods.includes('*') ? requestMethod.toUpperCase() : methods.join(','),
  };
  if (asked.length)
    out['access-control-allow-headers'] = allowedHeaders.includes('*')
      ? asked.join(',')
      : allowedHeaders.join(',');
  if (cors.allowCredentials) out['access-control-allow-credentials'] = 'true';
  if (cors.maxAge !== undefined && cors.maxAge >= 0) out['access-control-max-age'] = String(cors.maxAge);
  return out;
}

/** Headers added to an actual response for an allowed Origin. */
export function actualHeaders(cors: Cors, origin: string | undefined): Record<string, string> {
  if (!origin || !originAllowed(cors, origin)) return {};
  const out: Record<string, string> = { 'access-control-allow-origin': allowOriginValue(cors, origin) };
  if (cors.allowCredentials) out['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders?.length) out['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  return out;
}
