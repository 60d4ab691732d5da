/**
 * The HTTPS port's certificates. Either the operator's own certificate and key (--tls-cert,
 * --tls-key), presented for every name, or a local certificate authority Nimbus makes once,
 * keeps in the Store (so every node of a cluster signs with the same one) and writes to
 * `<dataDir>/tls/` (`ca.pem`, `ca-key.pem`) for clients to trust: each name a client
 * asks for with SNI (`abc123.execute-api.us-east-1.amazonaws.com`, a custom domain name,
 * `localhost`) gets a server certificate for that name signed by the CA, made on first use and
 * kept in memory. A client that trusts `ca.pem` (NODE_EXTRA_CA_CERTS, curl --cacert, the SDK's
 * https agent) then verifies every Nimbus name as it verifies AWS's.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { issueCertificate, type IssuedCertificate } from '../core/x509.js';
import type { Store } from '../storage/store.js';

const COLLECTION = 'nimbus.tls';
const CA_KEY = 'ca';

/** The names the certificate presented without SNI (a client addressing an IP) covers. */
const DEFAULT_NAMES = ['localhost'];
const DEFAULT_IPS = ['127.0.0.1', '::1'];
const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;
/** Server certificates made per name are kept up to this many (then the oldest goes). */
const MAX_NAMES = 1000;
const DAY = 86_400_000;

export interface TlsCertificates {
  /** The certificate and key for connections without SNI (or for every connection: --tls-cert). */
  readonly defaultCert: { cert: string; key: string };
  /** The context for a name a client sent with SNI; undefined: the default. */
  contextFor(servername: string): Promise<SecureContext | undefined>;
  /** The local CA's certificate file clients should trust (absent with --tls-cert). */
  readonly caFile?: string;
}

/** The operator's certificate (PEM chain) and key, presented for every name. */
export function fixedCertificates(certFile: string, keyFile: string): TlsCertificates {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  // Fail at start, not at the first handshake: the files must parse and belong together.
  if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
    throw new Error(`${keyFile} is not the private key of ${certFile}`);
  return { defaultCert: { cert, key }, contextFor: () => Promise.resolve(undefined) };
}

/**
 * Loads the local CA (from the Store when one is given, else from `dir`; made the first time)
 * and serves names it signs.
 */
export async function localCertificates(
  dir: string,
  extraNames: string[] = [],
  store?: Store,
): Promise<TlsCertificates> {
  const ca = await loadOrCreateCa(dir, store);
  const issue = async (dnsNames: string[], ipAddresses: string[] = []) => {
    const now = Date.now();
    const leaf = await issueCertificate({
      commonName: dnsNames[0] ?? ipAddresses[0],
      usage: 'server',
      keyType: 'ec',
      dnsNames,
      ipAddresses,
      issuer: ca,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
    });
    return { cert: leaf.certificatePem + ca.certificatePem, key: leaf.privateKeyPem };
  };
  const ips = [...DEFAULT_IPS, ...extraNames.filter(isIp)];
  const names = [...DEFAULT_NAMES, ...extraNames.filter((n) => !isIp(n) && HOSTNAME.test(n))];
  const defaultCert = await issue([...new Set(names)], [...new Set(ips)]);
  const contexts = new Map<string, Promise<SecureContext>>();
  return {
    defaultCert,
    caFile: join(dir, 'ca.pem'),
    contextFor(servername) {
      const name = servername.toLowerCase().replace(/\.$/, '');
      if (!HOSTNAME.test(name)) return Promise.resolve(undefined);
      let ctx = contexts.get(name);
      if (!ctx) {
        if (contexts.size >= MAX_NAMES) contexts.delete(contexts.keys().next().value!);
        ctx = issue([name]).then((c) => createSecureContext(c));
        ctx.catch(() => contexts.delete(name));
        contexts.set(name, ctx);
      }
      return ctx;
    },
  };
}

function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.includes(':');
}

async function loadOrCreateCa(dir: string, store: Store | undefined): Promise<IssuedCertificate> {
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca-key.pem');
  const onDisk =
    existsSync(certFile) && existsSync(keyFile)
      ? { certificatePem: readFileSync(certFile, 'utf8'), privateKeyPem: readFileSync(keyFile, 'utf8') }
      : undefined;
  let ca = store ? await store.get<IssuedCertificate>(COLLECTION, CA_KEY) : onDisk;
  if (!ca) {
    // A CA already on disk (made before the Store kept it) stays the CA; else a new one.
    const made = onDisk ?? (await newCa());
    // Two nodes starting together: the first insert wins and both use its CA.
    if (store && !(await store.insert(COLLECTION, CA_KEY, made)))
      ca = (await store.get<IssuedCertificate>(COLLECTION, CA_KEY))!;
    else ca = made;
  }
  if (onDisk?.certificatePem !== ca.certificatePem || onDisk.privateKeyPem !== ca.privateKeyPem) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The key first and private; the certificate (what clients trust) last, so a half-written pair is never read as whole.
    writeFileSync(keyFile, ca.privateKeyPem, { mode: 0o600 });
    writeFileSync(certFile, ca.certificatePem, { mode: 0o644 });
  }
  return ca;
}

function newCa(): Promise<IssuedCertificate> {
  const now = Date.now();
  return issueCertificate({
    commonName: 'Nimbus local CA',
    usage: 'ca',
    keyType: 'ec',
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 10 * 365 * DAY),
  });
}
