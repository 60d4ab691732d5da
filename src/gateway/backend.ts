/**
 * Calls to HTTP backends (HTTP_PROXY integrations of HTTP APIs, HTTP and HTTP_PROXY integrations
 * of REST APIs): the client's headers forwarded without the hop-by-hop ones, and the backend's
 * answer read whole, bounded by the integration timeout.
 *
 * Most calls go through Node's `fetch`. An HTTPS call with TLS settings of its own (a REST
 * stage's client certificate, an integration's `tlsConfig.insecureSkipVerification`) goes through
 * `node:https` with an agent carrying them (see {@link BackendAgents}), read the same way.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { checkServerIdentity, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import {
  brotliDecompress,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  gunzip,
  inflate,
  inflateRaw,
} from 'node:zlib';
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
 * cannot be reached, and with an error named `TimeoutError` after `timeoutMs`. With `agent`, an
 * `https:` URL is called through it (its client certificate, its verification of the backend).
 */
export async function callBackend(
  url: string,
  method: string,
  headers: Headers,
  body: Buffer | string | undefined,
  timeoutMs: number,
  agent?: Agent,
): Promise<HttpResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  const withBody = method === 'GET' || method === 'HEAD' ? undefined : body;
  if (agent && url.startsWith('https:')) return callThrough(agent, url, method, headers, withBody, signal);
  const res = await fetch(url, { method, headers, body: withBody, redirect: 'manual', signal });
  return answer(res.status, res.headers, Buffer.from(await res.arrayBuffer()));
}

/** A backend's answer whose body is still arriving: `stream` yields it as it comes. */
export interface StreamedAnswer extends HttpResult {
  stream: AsyncIterable<Buffer>;
}

/**
 * The backend's status and headers as soon as they arrive, its body as it comes (response
 * streaming). `timeoutMs` bounds the wait for the status and headers only; then the backend
 * takes as long as it sends.
 */
export async function callBackendStream(
  url: string,
  method: string,
  headers: Headers,
  body: Buffer | string | undefined,
  timeoutMs: number,
  agent?: Agent,
): Promise<StreamedAnswer> {
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' })),
    timeoutMs,
  );
  const withBody = method === 'GET' || method === 'HEAD' ? undefined : body;
  try {
    if (agent && url.startsWith('https:')) {
      const res = await openThrough(agent, url, method, headers, withBody, ctl.signal);
      const coding = res.headers['content-encoding']?.trim().toLowerCase();
      const decoder =
        coding === 'gzip' || coding === 'x-gzip'
          ? createGunzip()
          : coding === 'br'
            ? createBrotliDecompress()
            : coding === 'deflate'
              ? createInflate()
              : undefined;
      const head = answer(res.statusCode ?? 502, headersOf(res), Buffer.alloc(0));
      return { ...head, stream: decoder ? res.pipe(decoder) : res };
    }
    const res = await fetch(url, { method, headers, body: withBody, redirect: 'manual', signal: ctl.signal });
    const head = answer(res.status, res.headers, Buffer.alloc(0));
    const stream = res.body;
    return {
      ...head,
      stream: (async function* () {
        if (!stream) return;
        for await (const chunk of stream) yield Buffer.from(chunk);
      })(),
    };
  } catch (e) {
    throw ctl.signal.aborted ? ctl.signal.reason : e;
  } finally {
    clearTimeout(timer);
  }
}

/** What comes back to the gateway: the headers but hop-by-hop ones and the length and encoding (the body is decoded). */
function answer(status: number, headers: Headers, body: Buffer): HttpResult {
  const out: Record<string, string[]> = {};
  headers.forEach((v, k) => {
    if (HOP_BY_HOP.has(k) || k === 'content-length' || k === 'content-encoding' || k === 'set-cookie') return;
    (out[k] ??= []).push(v);
  });
  const cookies = headers.getSetCookie();
  if (cookies.length) out['set-cookie'] = cookies;
  return { status, headers: out, body };
}

const DECODERS: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  br: promisify(brotliDecompress),
  // `deflate` is meant to be zlib-wrapped; some servers send it raw.
  deflate: (b) => promisify(inflate)(b).catch(() => promisify(inflateRaw)(b)),
};

/** The call through a TLS agent, with fetch's behaviour: no redirects followed, the body decoded and read whole. */
async function callThrough(
  agent: Agent,
  url: string,
  method: string,
  headers: Headers,
  body: Buffer | string | undefined,
  signal: AbortSignal,
): Promise<HttpResult> {
  try {
    const res = await openThrough(agent, url, method, headers, body, signal);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    let raw: Buffer = Buffer.concat(chunks);
    const coding = res.headers['content-encoding']?.trim().toLowerCase();
    const decode = coding && raw.length ? DECODERS[coding] : undefined;
    if (decode) raw = await decode(raw);
    return answer(res.statusCode ?? 502, headersOf(res), raw);
  } catch (e) {
    throw signal.aborted ? signal.reason : e;
  }
}

/** A node:http answer's headers as fetch gives them. */
function headersOf(res: IncomingMessage): Headers {
  const received = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2)
    received.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
  return received;
}

/** The request through a TLS agent, up to the backend's status and headers (its body unread). */
async function openThrough(
  agent: Agent,
  url: string,
  method: string,
  headers: Headers,
  body: Buffer | string | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const outgoing: Record<string, string> = {};
  headers.forEach((v, k) => (outgoing[k] = v));
  const payload = body === undefined ? undefined : Buffer.from(body);
  if (payload) outgoing['content-length'] = String(payload.length);
  const req = httpsRequest(url, { method, headers: outgoing, agent });
  const abort = () => req.destroy(signal.reason as Error);
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  // Once the body is read whole (or the stream is done) the abort has nothing left to cut.
  req.once('close', () => signal.removeEventListener('abort', abort));
  return new Promise<IncomingMessage>((resolve, reject) => {
    req.on('error', reject).once('response', resolve);
    req.end(payload);
  });
}

/** A TLS client certificate and its key (PEM). */
export interface ClientCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * Why a backend's certificate fails the checks `insecureSkipVerification` keeps: its validity
 * period and its host name (the issuer is not checked); undefined when it passes.
 */
function basicCheck(socket: TLSSocket, host: string, now: number): Error | undefined {
  if (socket.isSessionReused()) return undefined;
  const peer = socket.getPeerCertificate();
  if (!peer?.raw) return new Error('The backend presented no certificate');
  const cert = new X509Certificate(peer.raw);
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
    return Object.assign(
      new Error(`The backend's certificate is not valid now (${cert.validFrom} - ${cert.validTo})`),
      {
        code: 'CERT_HAS_EXPIRED',
      },
    );
  return checkServerIdentity(host, peer);
}

/** An HTTPS agent with a client certificate and/or the basic checks in place of full verification. */
class BackendAgent extends Agent {
  constructor(
    cert: ClientCertificate | undefined,
    private readonly insecure: boolean,
  ) {
    super({
      keepAlive: true,
      // Idle connections closed after 4 s (as fetch does), before servers' usual 5 s.
      timeout: 4000,
      cert: cert?.certificatePem,
      key: cert?.privateKeyPem,
      rejectUnauthorized: !insecure,
    });
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback) as TLSSocket | null | undefined;
    if (socket && this.insecure) {
      const host = (options as { servername?: string }).servername || options.host || 'localhost';
      socket.once('secureConnect', () => {
        const err = basicCheck(socket, host, Date.now());
        if (err) socket.destroy(err);
      });
    }
    return socket;
  }
}

/**
 * The HTTPS agents of backend calls with TLS settings, one per client certificate and
 * verification mode, so that connections are reused. Bounded: past `max`, all are closed.
 */
export class BackendAgents {
  private readonly agents = new Map<string, BackendAgent>();

  constructor(private readonly max = 256) {}

  /** The agent presenting `cert` (if any) and skipping the issuer check when `insecure`. */
  agent(cert: ClientCertificate | undefined, insecure: boolean): Agent {
    const key = `${insecure ? 1 : 0}|${cert?.certificatePem ?? ''}`;
    let agent = this.agents.get(key);
    if (!agent) {
      if (this.agents.size >= this.max) this.close();
      agent = new BackendAgent(cert, insecure);
      this.agents.set(key, agent);
    }
    return agent;
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
