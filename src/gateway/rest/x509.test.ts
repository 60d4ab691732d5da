import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { selfSignedCertificate } from './x509.js';

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
