/**
 * Signed calls from one Nimbus service to another over this Nimbus's own endpoint, as AWS
 * services call each other (API Gateway's AWS integrations): the request is signed with SigV4
 * with temporary credentials issued for the account, so it passes strict authentication and is
 * served, logged and metered like any client's request.
 */
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256, type Auth, type IssuedCredentials } from './auth.js';
import { callBackend } from '../gateway/backend.js';
import type { HttpResult } from '../gateway/response.js';

export interface ServiceRequest {
  region: string;
  /** The signing name (credential scope service): `sqs`, `dynamodb`, `sns`, `events`, ... */
  service: string;
  method: string;
  /** Path below the endpoint, starting with `/` (not yet percent-encoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

/** Calls a Nimbus service as the account; rejects when the endpoint cannot be reached or times out. */
export type ServiceCaller = (accountId: string, req: ServiceRequest) => Promise<HttpResult>;

export function serviceCaller(endpoint: () => string, auth: Auth, roleName: string): ServiceCaller {
  const creds = new Map<string, IssuedCredentials>();
  return async (accountId, req) => {
    let c = creds.get(accountId);
    // Temporary credentials per account, renewed an hour before they expire.
    if (!c || c.expiration.getTime() - Date.now() < 3600_000) {
      c = auth.issueCredentials(accountId, { roleName, sessionName: roleName });
      creds.set(accountId, c);
    }
    const base = new URL(endpoint());
    const query: Record<string, string> = {};
    for (const [k, v] of req.query) query[k] = v;
    const path = req.path
      .split('/')
      .map((s) => encodeURIComponent(decodeSafe(s)))
      .join('/');
    const request = new HttpRequest({
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port ? Number(base.port) : undefined,
      method: req.method,
      path,
      query,
      headers: { ...req.headers, host: base.host },
      body: req.body,
    });
    const signer = new SignatureV4({
      credentials: {
        accessKeyId: c.accessKeyId,
        secretAccessKey: c.secretAccessKey,
        sessionToken: c.sessionToken,
      },
      region: req.region,
      service: req.service,
      sha256: NodeSha256,
      applyChecksum: false,
      uriEscapePath: req.service !== 's3',
    });
    const signed = await signer.sign(request);
    const headers = new Headers();
    for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers.set(k, v);
    const qs = [...req.query].map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
    const url = `${base.origin}${path}${qs ? '?' + qs : ''}`;
    return callBackend(url, req.method, headers, req.body, req.timeoutMs);
  };
}

const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).toUpperCase());

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
