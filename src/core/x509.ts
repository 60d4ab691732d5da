/**
 * X.509 v3 certificates from Node's crypto alone: a key pair (RSA 2048 or EC P-256), the
 * certificate's fields DER-encoded (RFC 5280) and signed with SHA-256, by the certificate's own
 * key (self-signed) or by an issuer's. Used for API Gateway client certificates
 * (GenerateClientCertificate: self-signed, clientAuth) and for the local certificate authority
 * whose server certificates the HTTPS port presents.
 */
import {
  X509Certificate,
  createPrivateKey,
  generateKeyPair,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** A DER type-length-value. */
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 | n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const NULL = Buffer.from([0x05, 0x00]);
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

/** A non-negative INTEGER from its big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z'); // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(iso.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(iso, 'ascii'));
}

/** A distinguished name of (attribute OID, UTF-8 value) pairs. */
function name(attrs: [string, string][]): Buffer {
  return seq(...attrs.map(([type, value]) => set(seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));
}

export interface IssuedCertificate {
  /** The certificate, PEM-encoded. */
  certificatePem: string;
  /** Its private key, PKCS#8 PEM. */
  privateKeyPem: string;
}

export interface CertificateRequest {
  /** The subject's common name (CN); `organization` (O) defaults to Nimbus. */
  commonName: string;
  organization?: string;
  notBefore: Date;
  notAfter: Date;
  /** What the certificate is for: TLS clients, TLS servers, or issuing certificates. */
  usage: 'client' | 'server' | 'ca';
  /** subjectAltName entries (server certificates: the names clients check). */
  dnsNames?: string[];
  ipAddresses?: string[];
  /** Default `rsa` (2048 bits); `ec` is P-256, much faster to generate. */
  keyType?: 'rsa' | 'ec';
  /** The issuing certificate and its key; absent: self-signed. */
  issuer?: IssuedCertificate;
  /** Big-endian serial number; default 16 random bytes. */
  serial?: Buffer;
}

function algorithmOf(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'ec'
    ? seq(oid('1.2.840.10045.4.3.2')) // ecdsa-with-SHA256
    : seq(oid('1.2.840.113549.1.1.11'), NULL); // sha256WithRSAEncryption
}

/** The DER of a certificate's subject name (the issuer name of what it signs). */
function subjectDer(certificatePem: string): Buffer {
  const der = new X509Certificate(certificatePem).raw;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version, serial, signature, issuer, validity, subject, ... } }
  const read = (buf: Buffer, at: number) => {
    let len = buf[at + 1];
    let hdr = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i];
      hdr += n;
    }
    return { tag: buf[at], start: at + hdr, end: at + hdr + len };
  };
  const tbs = read(der, read(der, 0).start);
  let at = tbs.start;
  if (read(der, at).tag === 0xa0) at = read(der, at).end; // version
  for (let i = 0; i < 4; i++) at = read(der, at).end; // serial, signature, issuer, validity
  return der.subarray(at, read(der, at).end);
}

function pem(der: Buffer): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}

/** A new key pair and a certificate for it, signed by `issuer` (or by itself). */
export async function issueCertificate(req: CertificateRequest): Promise<IssuedCertificate> {
  const { publicKey, privateKey } =
    req.keyType === 'ec'
      ? await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
      : await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const signer = req.issuer ? createPrivateKey(req.issuer.privateKeyPem) : privateKey;
  const algorithm = algorithmOf(signer);
  const subject = name([
    ['2.5.4.6', 'US'], // C
    ['2.5.4.10', req.organization ?? 'Nimbus'], // O
    ['2.5.4.3', req.commonName], // CN
  ]);
  let serial = req.serial;
  if (!serial) {
    serial = randomBytes(16);
    serial[0] &= 0x7f;
  }
  const extensions: Buffer[] = [];
  if (req.usage === 'ca') {
    extensions.push(
      extension('2.5.29.19', true, seq(TRUE)), // basicConstraints: CA
      extension('2.5.29.15', true, bits(Buffer.from([0x06]), 1)), // keyUsage: keyCertSign, cRLSign
    );
  } else {
    extensions.push(
      extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
      // keyUsage: digitalSignature (+ keyEncipherment for RSA key exchange)
      extension('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)),
      extension(
        '2.5.29.37',
        false,
        seq(oid(req.usage === 'client' ? '1.3.6.1.5.5.7.3.2' : '1.3.6.1.5.5.7.3.1')), // clientAuth / serverAuth
      ),
    );
  }
  const names = [
    ...(req.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d, 'ascii'))),
    ...(req.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  if (names.length) extensions.push(extension('2.5.29.17', false, seq(...names))); // subjectAltName
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    req.issuer ? subjectDer(req.issuer.certificatePem) : subject,
    seq(time(req.notBefore), time(req.notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, signer);
  return {
    certificatePem: pem(seq(tbs, algorithm, bits(signature))),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function ipBytes(ip: string): Buffer {
  if (ip.includes(':')) {
    const [head, tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
    const out = Buffer.alloc(16);
    groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
    return out;
  }
  return Buffer.from(ip.split('.').map(Number));
}

/** A self-signed RSA 2048 / SHA-256 client certificate for `commonName`, valid from `notBefore` to `notAfter`. */
export function selfSignedCertificate(opts: {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}): Promise<IssuedCertificate> {
  return issueCertificate({ ...opts, usage: 'client' });
}
