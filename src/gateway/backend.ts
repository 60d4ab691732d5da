/**
 * Calls to HTTP backends (HTTP_PROXY integrations of HTTP APIs, HTTP and HTTP_PROXY integrations
 * of REST APIs): the client's headers forwarded without the hop-by-hop ones, and the backend's
 * answer read whole, bounded by the integration timeout.
 */
import type { GatewayRequest } from './events.js';
import type { HttpResult } from './response.js';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The request's headers for the backend (not host, content-length or hop-by-hop ones), with `Forwarded`. */
export function forwardedHeaders(greq: GatewayRequest): Headers {
  const headers = new Headers();
  for (let i = 0; i < greq.rawHeaders.length; i += 2) {
    const name = greq.rawHeaders[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || name === 'host' || name === 'content-length') continue;
    headers.append(name, greq.rawHeaders[i + 1]);
  }
  headers.set('forwarded', `by=${greq.domainName};for=${greq.sourceIp};host=${greq.domainName};proto=http`);
  return headers;
}

/**
 * The backend's answer (status, headers without hop-by-hop ones, body). Rejects when the backend
 * cannot be reached, and with an error named `TimeoutError` after `timeoutMs`.
 */
export async function callBackend(
  url: string,
  method: string,
  headers: Headers,
  body: Buffer | string | undefined,
  timeoutMs: number,
): Promise<HttpResult> {
  const res = await fetch(url, {
    method,
    headers,
    body: method === 'GET' || method === 'HEAD' ? undefined : body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  const answer = Buffer.from(await res.arrayBuffer());
  const out: Record<string, string[]> = {};
  res.headers.forEach((v, k) => {
    if (HOP_BY_HOP.has(k) || k === 'content-length' || k === 'content-encoding' || k === 'set-cookie') return;
    (out[k] ??= []).push(v);
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) out['set-cookie'] = cookies;
  return { status: res.status, headers: out, body: answer };
}
