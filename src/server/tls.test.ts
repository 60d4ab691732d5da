import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { issueCertificate } from '../core/x509.js';
import { fixedCertificates, localCertificates } from './tls.js';
import { openSqliteStore } from '../storage/sqlite/sqlite-store.js';
import { OffsetClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';

test('the local CA: made once with a private key file, server certificates per name, odd names refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = await localCertificates(join(dir, 'tls'), ['0.0.0.0', 'nimbus.internal']);
  assert.equal(statSync(join(dir, 'tls', 'ca-key.pem')).mode & 0o777, 0o600);
  const ca = new X509Certificate(readFileSync(certs.caFile!));
  const leaf = new X509Certificate(certs.defaultCert.cert);
  assert.ok(leaf.verify(ca.publicKey));
  // The default certificate covers localhost, the loopback addresses and the names given.
  assert.equal(leaf.checkHost('nimbus.internal'), 'nimbus.internal');
  assert.equal(leaf.checkIP('0.0.0.0'), '0.0.0.0');
  assert.equal(leaf.checkIP('::1'), '::1');
  // The same name twice is one certificate; names that are no host names get the default.
  assert.equal(await certs.contextFor('API.example.com'), await certs.contextFor('api.example.com.'));
  assert.equal(await certs.contextFor('bad name!'), undefined);
  // A second start finds the same CA.
  const again = await localCertificates(join(dir, 'tls'));
  assert.ok(new X509Certificate(again.defaultCert.cert).verify(ca.publicKey));
});

test("the operator's certificate: presented for every name, and its key must match", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const span = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) };
  const a = await issueCertificate({
    commonName: 'a',
    usage: 'server',
    keyType: 'ec',
    dnsNames: ['a'],
    ...span,
  });
  const b = await issueCertificate({
    commonName: 'b',
    usage: 'server',
    keyType: 'ec',
    dnsNames: ['b'],
    ...span,
  });
  writeFileSync(join(dir, 'a.pem'), a.certificatePem);
  writeFileSync(join(dir, 'a-key.pem'), a.privateKeyPem);
  writeFileSync(join(dir, 'b-key.pem'), b.privateKeyPem);
  const fixed = fixedCertificates(join(dir, 'a.pem'), join(dir, 'a-key.pem'));
  assert.equal(fixed.defaultCert.cert, a.certificatePem);
  assert.equal(fixed.caFile, undefined);
  assert.equal(await fixed.contextFor('anything.example.com'), undefined);
  assert.throws(
    () => fixedCertificates(join(dir, 'a.pem'), join(dir, 'b-key.pem')),
    /is not the private key of/,
  );
});

test("with a Store, the local CA is the Store's: nodes with their own data dirs sign with one CA", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-tls-'));
  const store = await openSqliteStore({
    dataDir: join(dir, 'db'),
    clock: new OffsetClock(),
    logger: silentLogger,
  });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Two nodes starting at once, each with its own data dir.
  const [a, b] = await Promise.all([
    localCertificates(join(dir, 'a', 'tls'), [], store),
    localCertificates(join(dir, 'b', 'tls'), [], store),
  ]);
  const caA = readFileSync(a.caFile!, 'utf8');
  assert.equal(readFileSync(b.caFile!, 'utf8'), caA);
  assert.equal(
    readFileSync(join(dir, 'b', 'tls', 'ca-key.pem'), 'utf8'),
    readFileSync(join(dir, 'a', 'tls', 'ca-key.pem'), 'utf8'),
  );
  const ca = new X509Certificate(caA);
  assert.ok(new X509Certificate(b.defaultCert.cert).verify(ca.publicKey));
  // A data dir whose files went stale is rewritten from the Store.
  const own = await localCertificates(join(dir, 'c', 'tls'));
  assert.notEqual(readFileSync(own.caFile!, 'utf8'), caA);
  await localCertificates(join(dir, 'c', 'tls'), [], store);
  assert.equal(readFileSync(own.caFile!, 'utf8'), caA);
});
