/**
 * REST API HTTP / HTTP_PROXY integrations over TLS as API Gateway makes them: the stage's client
 * certificate presented to HTTPS backends, and `tlsConfig.insecureSkipVerification` accepting a
 * self-signed backend (its validity period and host name still checked), through the real SDK.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GenerateClientCertificateCommand,
  GetExportCommand,
  GetIntegrationCommand,
  GetResourcesCommand,
  ImportRestApiCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateIntegrationCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import { selfSignedCertificate } from '../../src/core/x509.js';
import { startTestServer } from '../helpers/server.js';

interface Seen {
  url: string;
  method: string;
  body: string;
  /** The fingerprint of the client certificate the gateway presented (undefined: none). */
  client?: string;
}

/** An HTTPS backend with a self-signed certificate for `localhost`, asking for client certificates. */
async function httpsBackend(validFrom: Date, validTo: Date) {
  const cert = await selfSignedCertificate({
    commonName: 'localhost',
    notBefore: validFrom,
    notAfter: validTo,
  });
  const seen: Seen[] = [];
  const server: Server = createServer(
    { cert: cert.certificatePem, key: cert.privateKeyPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const peer = (req.socket as TLSSocket).getPeerCertificate(true);
        seen.push({
          url: req.url!,
          method: req.method!,
          body: Buffer.concat(chunks).toString(),
          client: peer?.raw ? peer.fingerprint256 : undefined,
        });
        if (req.url!.startsWith('/slow')) return void setTimeout(() => res.end('late'), 1000);
        if (req.url!.startsWith('/gzip')) {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
          return void res.end(gzipSync('unpacked'));
        }
        res.writeHead(200, {
          'content-type': 'application/json',
          'x-backend': 'tls',
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(JSON.stringify({ ok: true, path: req.url }));
      });
    },
  );
  // Every address (IPv4 and IPv6), so `localhost` reaches it whichever it resolves to.
  await new Promise<void>((r) => server.listen(0, r));
  const port = (server.address() as { port: number }).port;
  return { server, seen, port };
}

test('REST APIs: HTTPS backends, client certificates and tlsConfig.insecureSkipVerification', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const now = Date.now();
  const backend = await httpsBackend(new Date(now - 3_600_000), new Date(now + 86_400_000));
  const expired = await httpsBackend(new Date(now - 2 * 86_400_000), new Date(now - 86_400_000));
  t.after(() => {
    gw.destroy();
    backend.server.close();
    expired.server.close();
  });
  const { seen, port } = backend;

  const api = await gw.send(new CreateRestApiCommand({ name: 'backend-tls' }));
  const restApiId = api.id!;
  const resource = async (pathPart: string) =>
    (await gw.send(new CreateResourceCommand({ restApiId, parentId: api.rootResourceId!, pathPart }))).id!;
  const proxyRes = await resource('proxy');
  const httpRes = await resource('http');
  const strictRes = await resource('strict');
  const byIpRes = await resource('byip');
  const expiredRes = await resource('expired');
  const skip = { insecureSkipVerification: true };

  const proxyTo = async (
    resourceId: string,
    uri: string,
    tlsConfig?: { insecureSkipVerification: boolean },
    timeoutInMillis?: number,
  ) => {
    const where = { restApiId, resourceId, httpMethod: 'ANY' };
    await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
    return gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'HTTP_PROXY',
        integrationHttpMethod: 'ANY',
        uri,
        tlsConfig,
        timeoutInMillis,
      }),
    );
  };
  const put = await proxyTo(proxyRes, `https://localhost:${port}/backend`, skip);
  assert.deepEqual(put.tlsConfig, skip, 'PutIntegration answers the tlsConfig');
  await proxyTo(strictRes, `https://localhost:${port}/strict`);
  await proxyTo(byIpRes, `https://127.0.0.1:${port}/byip`, skip);
  await proxyTo(expiredRes, `https://localhost:${expired.port}/expired`, skip);
  await proxyTo(await resource('slow'), `https://localhost:${port}/slow`, skip, 200);
  await proxyTo(await resource('gzip'), `https://localhost:${port}/gzip`, skip);
  {
    const where = { restApiId, resourceId: httpRes, httpMethod: 'POST' };
    await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
    await gw.send(
      new PutIntegrationCommand({
        ...where,
        type: 'HTTP',
        integrationHttpMethod: 'POST',
        uri: `https://localhost:${port}/plain`,
        requestTemplates: { 'application/json': '{"got": $input.json(\'$.n\')}' },
        tlsConfig: skip,
      }),
    );
    await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '200' }));
    await gw.send(
      new PutIntegrationResponseCommand({
        ...where,
        statusCode: '200',
        responseTemplates: { 'application/json': '{"backend": $input.json(\'$.path\')}' },
      }),
    );
  }
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'plain' }));
  const cert = await gw.send(new GenerateClientCertificateCommand({ description: 'to the backend' }));
  const cert2 = await gw.send(new GenerateClientCertificateCommand({ description: 'the next one' }));
  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;
  await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'mtls' }));
  await gw.send(
    new UpdateStageCommand({
      restApiId,
      stageName: 'mtls',
      patchOperations: [{ op: 'replace', path: '/clientCertificateId', value: cert.clientCertificateId }],
    }),
  );
  const call = (stage: string, path: string, init?: RequestInit) =>
    fetch(`${srv.endpoint}/_api/${restApiId}/${stage}${path}`, init);

  await t.test('HTTP_PROXY with insecureSkipVerification reaches a self-signed backend', async () => {
    seen.length = 0;
    const r = await call('plain', '/proxy?x=1', { method: 'PUT', body: 'payload' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-backend'), 'tls');
    assert.deepEqual(r.headers.getSetCookie(), ['a=1', 'b=2']);
    assert.deepEqual(await r.json(), { ok: true, path: '/backend?x=1' });
    assert.deepEqual(seen, [{ url: '/backend?x=1', method: 'PUT', body: 'payload', client: undefined }]);
  });

  await t.test(
    'HTTP with insecureSkipVerification: the template out, the integration response back',
    async () => {
      seen.length = 0;
      const r = await call('plain', '/http', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"n": 7}',
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { backend: '/plain' });
      assert.equal(seen[0].body, '{"got": 7}');
    },
  );

  await t.test(
    'over TLS as over fetch: the timeout answers 504, an encoded body comes back decoded',
    async () => {
      const slow = await call('plain', '/slow');
      assert.equal(slow.status, 504);
      assert.deepEqual(await slow.json(), { message: 'Endpoint request timed out' });
      const packed = await call('plain', '/gzip', { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(packed.status, 200);
      assert.equal(packed.headers.get('content-encoding'), null);
      assert.equal(await packed.text(), 'unpacked');
    },
  );

  await t.test('without insecureSkipVerification a self-signed backend fails: 500', async () => {
    seen.length = 0;
    for (const stage of ['plain', 'mtls']) {
      const r = await call(stage, '/strict');
      assert.equal(r.status, 500, stage);
      assert.deepEqual(await r.json(), { message: 'Internal server error' });
    }
    assert.equal(seen.length, 0, 'no request reached the backend');
  });

  await t.test('insecureSkipVerification still checks the host name and the validity period', async () => {
    seen.length = 0;
    const byIp = await call('plain', '/byip');
    assert.equal(byIp.status, 500, 'the certificate names localhost, not 127.0.0.1');
    assert.deepEqual(await byIp.json(), { message: 'Internal server error' });
    const old = await call('plain', '/expired');
    assert.equal(old.status, 500, 'an expired certificate');
    assert.equal(seen.length + expired.seen.length, 0);
  });

  await t.test('a stage with a client certificate presents it; one without presents none', async () => {
    seen.length = 0;
    assert.equal((await call('mtls', '/proxy')).status, 200);
    assert.equal((await call('mtls', '/http', { method: 'POST', body: '{"n": 1}' })).status, 200);
    assert.equal((await call('plain', '/proxy')).status, 200);
    const expected = fingerprint(cert.pemEncodedCertificate!);
    assert.deepEqual(
      seen.map((s) => s.client),
      [expected, expected, undefined],
    );
  });

  await t.test('UpdateStage /clientCertificateId: another certificate, then none', async () => {
    const setCert = (value: string) =>
      gw.send(
        new UpdateStageCommand({
          restApiId,
          stageName: 'mtls',
          patchOperations: [{ op: 'replace', path: '/clientCertificateId', value }],
        }),
      );
    await setCert(cert2.clientCertificateId!);
    seen.length = 0;
    assert.equal((await call('mtls', '/proxy')).status, 200);
    assert.equal(seen[0].client, fingerprint(cert2.pemEncodedCertificate!));
    await setCert('');
    seen.length = 0;
    assert.equal((await call('mtls', '/proxy')).status, 200);
    assert.equal(seen[0].client, undefined);
  });

  await t.test(
    'GetIntegration shows tlsConfig; UpdateIntegration /tlsConfig/insecureSkipVerification',
    async () => {
      const where = { restApiId, resourceId: proxyRes, httpMethod: 'ANY' };
      assert.deepEqual((await gw.send(new GetIntegrationCommand(where))).tlsConfig, skip);
      const strict = await gw.send(new GetIntegrationCommand({ ...where, resourceId: strictRes }));
      assert.equal(strict.tlsConfig, undefined);
      const off = await gw.send(
        new UpdateIntegrationCommand({
          ...where,
          patchOperations: [{ op: 'replace', path: '/tlsConfig/insecureSkipVerification', value: 'false' }],
        }),
      );
      assert.deepEqual(off.tlsConfig, { insecureSkipVerification: false });
      await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'plain' }));
      assert.equal((await call('plain', '/proxy')).status, 500);
      await gw.send(
        new UpdateIntegrationCommand({
          ...where,
          resourceId: strictRes,
          patchOperations: [{ op: 'replace', path: '/tlsConfig/insecureSkipVerification', value: 'true' }],
        }),
      );
      await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'plain' }));
      assert.equal((await call('plain', '/strict')).status, 200);
    },
  );

  await t.test('OpenAPI import and export keep x-amazon-apigateway-integration.tlsConfig', async () => {
    const definition = {
      openapi: '3.0.1',
      info: { title: 'tls-import', version: '1' },
      paths: {
        '/items': {
          get: {
            responses: { '200': { description: 'ok' } },
            'x-amazon-apigateway-integration': {
              type: 'http_proxy',
              httpMethod: 'GET',
              uri: `https://localhost:${port}/imported`,
              tlsConfig: { insecureSkipVerification: true },
            },
          },
        },
      },
    };
    const imported = await gw.send(
      new ImportRestApiCommand({ body: Buffer.from(JSON.stringify(definition)) }),
    );
    const resources = await gw.send(new GetResourcesCommand({ restApiId: imported.id! }));
    const items = resources.items!.find((r) => r.path === '/items')!;
    const integ = await gw.send(
      new GetIntegrationCommand({ restApiId: imported.id!, resourceId: items.id!, httpMethod: 'GET' }),
    );
    assert.deepEqual(integ.tlsConfig, skip);
    await gw.send(new CreateDeploymentCommand({ restApiId: imported.id!, stageName: 'v1' }));
    seen.length = 0;
    const r = await fetch(`${srv.endpoint}/_api/${imported.id}/v1/items`);
    assert.equal(r.status, 200);
    assert.equal(seen[0].url, '/imported');
    const out = await gw.send(
      new GetExportCommand({
        restApiId: imported.id!,
        stageName: 'v1',
        exportType: 'oas30',
        parameters: { extensions: 'integrations' },
      }),
    );
    const doc = JSON.parse(Buffer.from(out.body!).toString('utf8'));
    assert.deepEqual(doc.paths['/items'].get['x-amazon-apigateway-integration'].tlsConfig, skip);
  });
});
