import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { issueCertificate, selfSignedCertificate } from './x509.js';

test('a self-signed certificate Node parses, valid for the dates given, signed by its own key', async () => {
  const notBefore = new Date('2024-01-02T03:04:05Z');
  const notAfter = new Date('2051-01-02T03:04:05Z'); // GeneralizedTime past 2049
  const { certificatePem, privateKeyPem } = await selfSignedCertificate({
    commonName: 'abc123',
    notBefore,
    notAfter,
  });
  const cert = new X509Certificate(certificatePem);
  assert.match(cert.subject, /CN=abc123/);
  assert.equal(cert.subject, cert.issuer);
  assert.equal(new Date(cert.validFrom).getTime(), notBefore.getTime());
  assert.equal(new Date(cert.validTo).getTime(), notAfter.getTime());
  assert.ok(cert.verify(cert.publicKey));
  assert.ok(cert.checkPrivateKey(createPrivateKey(privateKeyPem)));
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.equal(cert.ca, false);
  assert.equal(createPublicKey(certificatePem).asymmetricKeyDetails?.modulusLength, 2048);
});

test('a certificate authority, and server and client certificates it signs, that OpenSSL verifies', async () => {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await issueCertificate({
    commonName: 'Test CA',
    usage: 'ca',
    keyType: 'ec',
    notBefore,
    notAfter,
  });
  const caCert = new X509Certificate(ca.certificatePem);
  assert.equal(caCert.ca, true);
  assert.ok(caCert.verify(caCert.publicKey));

  const server = await issueCertificate({
    commonName: 'api.example.com',
    usage: 'server',
    keyType: 'ec',
    dnsNames: ['api.example.com', 'localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    issuer: ca,
    notBefore,
    notAfter,
  });
  const s = new X509Certificate(server.certificatePem);
  assert.equal(s.ca, false);
  assert.equal(s.issuer, caCert.subject);
  assert.ok(s.checkIssued(caCert));
  assert.ok(s.verify(caCert.publicKey));
  assert.ok(!s.verify(s.publicKey));
  assert.equal(s.checkHost('api.example.com'), 'api.example.com');
  assert.equal(s.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(s.checkIP('::1'), '::1');
  assert.deepEqual(s.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.match(s.subjectAltName ?? '', /DNS:localhost/);

  const client = await issueCertificate({
    commonName: 'my client',
    usage: 'client',
    issuer: ca,
    serial: Buffer.from([1]),
    notBefore,
    notAfter,
  });
  const c = new X509Certificate(client.certificatePem);
  assert.ok(c.verify(caCert.publicKey));
  assert.equal(c.serialNumber, '01');
  assert.ok(c.checkPrivateKey(createPrivateKey(client.privateKeyPem)));
});
