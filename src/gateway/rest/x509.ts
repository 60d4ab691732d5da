/**
 * Self-signed X.509 v3 certificates from Node's crypto alone: an RSA 2048 key pair, the
 * certificate's fields DER-encoded (RFC 5280) and signed with SHA-256. Used for API Gateway
 * client certificates (GenerateClientCertificate), whose certificate is meant for TLS client
 * authentication, so it carries the clientAuth extended key usage.
 */
import { generateKeyPair, randomBytes, sign } from 'node:crypto';
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

export interface SelfSignedCertificate {
  /** The certificate, PEM-encoded. */
  certificatePem: string;
  /** Its private key, PKCS#8 PEM. */
  privateKeyPem: string;
}

/** A self-signed RSA 2048 / SHA-256 certificate for `commonName`, valid from `notBefore` to `notAfter`. */
export async function selfSignedCertificate(opts: {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}): Promise<SelfSignedCertificate> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), NULL);
  const subject = name([
    ['2.5.4.6', 'US'], // C
    ['2.5.4.10', 'Nimbus'], // O
    ['2.5.4.3', opts.commonName], // CN
  ]);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    sha256WithRsa,
    subject,
    seq(time(opts.notBefore), time(opts.notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      seq(
        extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
        extension('2.5.29.15', true, bits(Buffer.from([0xa0]), 5)), // keyUsage: digitalSignature, keyEncipherment
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.2'))), // extKeyUsage: clientAuth
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = seq(tbs, sha256WithRsa, bits(signature));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${body.replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
