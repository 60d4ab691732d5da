/**
 * Mutual TLS on custom domain names, as API Gateway does it: the domain's truststore (a PEM
 * bundle read from S3 when the domain is created or updated) names the certificate authorities
 * whose client certificates may call it. A request over HTTPS whose client certificate is
 * missing, expired, self-signed or not chained to the truststore (at most four certificates
 * deep) is answered 403; a trusted one reaches the API with the certificate in its events
 * (v1 `requestContext.identity.clientCert`, v2 `requestContext.authentication.clientCert`).
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** The client certificate as events carry it. */
export interface ClientCert {
  clientCertPem: string;
  subjectDN: string;
  issuerDN: string;
  serialNumber: string;
  validity: { notBefore: string; notAfter: string };
}

/** A truststore: the certificates of a PEM bundle that parsed, and a warning per one that is unusable. */
export interface Truststore {
  certificates: X509Certificate[];
  warnings: string[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** API Gateway follows chains of at most four certificates. */
const MAX_CHAIN = 4;

/** Parses a truststore bundle; warnings name each certificate that does not parse or is out of its validity. */
export function parseTruststore(pem: string, now: number): Truststore {
  const certificates: X509Certificate[] = [];
  const warnings: string[] = [];
  for (const block of pem.match(PEM_BLOCK) ?? []) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(block);
    } catch {
      warnings.push('Certificate could not be parsed');
      continue;
    }
    if (!current(cert, now)) warnings.push(`Certificate expired or not yet valid: ${dn(cert.subject)}`);
    certificates.push(cert);
  }
  return { certificates, warnings };
}

/** `C=US\nO=Org\nCN=name` (Node) as API Gateway writes a distinguished name: `C=US,O=Org,CN=name`. */
function dn(s: string): string {
  return s.split('\n').join(',');
}

function current(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

/** A serial as OpenSSL prints it: decimal when it fits a long, else colon-separated lower-case hex. */
function serialOf(cert: X509Certificate): string {
  const hex = cert.serialNumber.toLowerCase();
  const value = BigInt('0x' + hex);
  if (value < 2n ** 63n) return value.toString();
  return (hex.length % 2 ? '0' + hex : hex).match(/../g)!.join(':');
}

export function clientCertOfCertificate(cert: X509Certificate): ClientCert {
  return {
    clientCertPem: cert.toString(),
    subjectDN: dn(cert.subject),
    issuerDN: dn(cert.issuer),
    serialNumber: serialOf(cert),
    validity: { notBefore: cert.validFrom, notAfter: cert.validTo },
  };
}

/**
 * The client certificate of `req`'s connection when `truststore` trusts it; undefined when the
 * request came without TLS, without a certificate, or with one the truststore does not trust.
 */
export function trustedClientCert(
  req: IncomingMessage,
  truststore: Truststore,
  now: number,
): ClientCert | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) return undefined;
  const leaf = new X509Certificate(peer.raw);
  // The intermediates the client sent along with its certificate.
  const presented: X509Certificate[] = [];
  for (let c = peer.issuerCertificate; c && c.raw && c !== c.issuerCertificate; c = c.issuerCertificate)
    presented.push(new X509Certificate(c.raw));
  if (!current(leaf, now) || leaf.checkIssued(leaf)) return undefined; // expired, or self-signed
  let cur = leaf;
  for (let depth = 1; depth < MAX_CHAIN; depth++) {
    const issued = (ca: X509Certificate) =>
      cur.checkIssued(ca) && cur.verify(ca.publicKey) && current(ca, now);
    if (truststore.certificates.some(issued)) return clientCertOfCertificate(leaf);
    const next = presented.find((c) => c !== cur && c.ca && issued(c));
    if (!next) return undefined;
    cur = next;
  }
  return undefined;
}

const certs = new WeakMap<IncomingMessage, ClientCert>();

/** Records the trusted client certificate of a request, for its events. */
export function setClientCert(req: IncomingMessage, cert: ClientCert): void {
  certs.set(req, cert);
}

/** The trusted client certificate of a request to a domain with mutual TLS, if any. */
export function clientCertOf(req: IncomingMessage): ClientCert | undefined {
  return certs.get(req);
}
