/**
 * The HTTPS port end to end: the real AWS SDK over https with Nimbus's local CA, server
 * certificates made for the names clients ask for (execute-api hosts, custom domain names),
 * wss:// WebSocket APIs, and mutual TLS on custom domain names with a truststore read from S3:
 * trusted client certificates reach the functions (their events carry the certificate), every
 * other request is answered 403.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { DynamoDBClient, CreateTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateApiMappingCommand,
  CreateAuthorizerCommand,
  CreateDomainNameCommand,
  GetRoutesCommand,
  UpdateRouteCommand,
  GetDomainNameCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateBasePathMappingCommand,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetDomainNameCommand as GetRestDomainNameCommand,
  UpdateDomainNameCommand,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { issueCertificate, type IssuedCertificate } from '../../src/core/x509.js';
import { Client, FN, createNodeFunctions, putProxyMethod, twoWayWebSocketApi } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });`;
// A Lambda authorizer that lets in the certificate's subject and hands it to the integration.
const AUTHZ = `exports.handler = async (event) => ({ isAuthorized: !!event.requestContext.authentication, context: { subject: event.requestContext.authentication ? event.requestContext.authentication.clientCert.subjectDN : '' } });`;
const WS_ECHO = `exports.handler = async (event) => ({ statusCode: 200, body: event.requestContext.routeKey === '$default' ? 'echo:' + event.body : '' });`;

interface Answer {
  status: number;
  body: string;
  /** The certificate the server presented. */
  peer?: X509Certificate;
}

/** A GET over https to 127.0.0.1:port for `name` (SNI and Host), with the CA trusted and an optional client certificate. */
function get(
  port: number,
  name: string,
  path: string,
  ca: string,
  client?: IssuedCertificate[],
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: name,
        headers: { host: `${name}:${port}` },
        ca,
        agent: false,
        ...(client
          ? {
              cert: client.map((c) => c.certificatePem).join(''),
              key: client[0].privateKeyPem,
            }
          : {}),
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerX509Certificate();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), peer }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function plainGet(endpoint: string, name: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(endpoint + path, { headers: { host: name } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const DAY = 86_400_000;
const valid = () => ({ notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY) });

test('HTTPS port: the AWS SDK over https, a certificate per name from the local CA, wss://, the CA kept across restarts', async (t) => {
  await using srv = await startTestServer({ tls: { port: 0 } });
  const tlsEndpoint = srv.nimbus.tlsEndpoint!;
  assert.match(tlsEndpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(new URL(tlsEndpoint).port);
  const caFile = srv.nimbus.tlsCaFile!;
  const ca = readFileSync(caFile, 'utf8');
  const caCert = new X509Certificate(ca);
  assert.equal(caCert.ca, true);

  const agent = new Agent({ ca });
  const tlsConfig = {
    ...srv.clientConfig,
    endpoint: tlsEndpoint,
    requestHandler: { httpsAgent: agent },
  };
  const ddb = new DynamoDBClient(tlsConfig);
  const lambda = new LambdaClient(tlsConfig);
  const v2 = new ApiGatewayV2Client(tlsConfig);
  t.after(() => {
    ddb.destroy();
    lambda.destroy();
    v2.destroy();
    agent.destroy();
  });

  await t.test('the SDK works over https once the CA is trusted, and fails without it', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName: 'tls',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: 'tls', Item: { pk: { S: 'a' }, v: { N: '1' } } }));
    const got = await ddb.send(new GetItemCommand({ TableName: 'tls', Key: { pk: { S: 'a' } } }));
    assert.deepEqual(got.Item, { pk: { S: 'a' }, v: { N: '1' } });

    const untrusting = new DynamoDBClient({ ...srv.clientConfig, endpoint: tlsEndpoint });
    t.after(() => untrusting.destroy());
    await assert.rejects(
      untrusting.send(new GetItemCommand({ TableName: 'tls', Key: { pk: { S: 'a' } } })),
      (e: NodeJS.ErrnoException) => /certificate/i.test(e.message) || /CERT|SELF_SIGNED/.test(String(e.code)),
    );
  });

  await t.test(
    'execute-api names and any other name get a certificate for that name, signed by the CA',
    async () => {
      await createNodeFunctions(lambda, { echo: ECHO, wsecho: WS_ECHO });
      const api = await v2.send(
        new CreateApiCommand({ Name: 'tls', ProtocolType: 'HTTP', Target: `${FN}echo` }),
      );
      const host = `${api.ApiId}.execute-api.us-east-1.amazonaws.com`;
      const r = await get(port, host, '/hello?x=1', ca);
      assert.equal(r.status, 200, r.body);
      const ev = JSON.parse(r.body);
      assert.equal(ev.rawPath, '/hello');
      assert.equal(ev.requestContext.domainName, `${host}:${port}`); // the Host header as sent
      assert.equal(ev.requestContext.authentication, undefined); // no mutual TLS: no client certificate in events
      assert.equal(r.peer!.checkHost(host), host);
      assert.ok(r.peer!.checkIssued(caCert) && r.peer!.verify(caCert.publicKey));
      // Another name, another certificate; an IP address gets the default one (localhost, 127.0.0.1, ::1).
      const other = await get(port, 'anything.example.org', '/_nimbus/health', ca);
      assert.equal(other.peer!.checkHost('anything.example.org'), 'anything.example.org');
      const byIp = await new Promise<X509Certificate>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port, path: '/_nimbus/health', ca, agent: false },
          (res) => {
            res.resume();
            resolve((res.socket as TLSSocket).getPeerX509Certificate()!);
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(byIp.checkIP('127.0.0.1'), '127.0.0.1');
      assert.equal(byIp.checkHost('localhost'), 'localhost');
    },
  );

  await t.test('WebSocket APIs over wss://', async () => {
    const apiId = await twoWayWebSocketApi(v2, 'wss', 'wsecho', 'prod');
    const ws = new Client(`${tlsEndpoint.replace(/^https/, 'wss')}/_api/${apiId}/prod`, { ca });
    await ws.opened;
    ws.send('hi');
    assert.equal(await ws.next(), 'echo:hi');
    ws.ws.close();
    await ws.closed;
  });

  await t.test(
    'the CA is made once: a restart on the same data dir presents certificates from the same CA',
    async () => {
      await using again = await startTestServer({
        tls: { port: 0 },
        dataDir: srv.dataDir,
        storage: 'sqlite',
      });
      assert.equal(readFileSync(again.nimbus.tlsCaFile!, 'utf8'), ca);
    },
  );
});

test('mutual TLS on custom domain names: a truststore from S3, trusted client certificates only, the certificate in events', async (t) => {
  await using srv = await startTestServer({ tls: { port: 0 } });
  const port = Number(new URL(srv.nimbus.tlsEndpoint!).port);
  const serverCa = readFileSync(srv.nimbus.tlsCaFile!, 'utf8');
  const s3 = new S3Client({ ...srv.clientConfig, forcePathStyle: true });
  const lambda = new LambdaClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const v1 = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    s3.destroy();
    lambda.destroy();
    v2.destroy();
    v1.destroy();
  });

  // The clients' PKI: a root, an intermediate it signs, client certificates under each; and strangers.
  const root = await issueCertificate({
    commonName: 'Partner Root CA',
    usage: 'ca',
    keyType: 'ec',
    ...valid(),
  });
  const intermediate = await issueCertificate({
    commonName: 'Partner Issuing CA',
    usage: 'ca',
    keyType: 'ec',
    issuer: root,
    ...valid(),
  });
  const direct = await issueCertificate({
    commonName: 'device-1',
    organization: 'Partner',
    usage: 'client',
    keyType: 'ec',
    issuer: root,
    serial: Buffer.from([1]),
    ...valid(),
  });
  const viaIntermediate = await issueCertificate({
    commonName: 'device-2',
    usage: 'client',
    keyType: 'ec',
    issuer: intermediate,
    serial: Buffer.from('a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'hex'),
    ...valid(),
  });
  const expired = await issueCertificate({
    commonName: 'old-device',
    usage: 'client',
    keyType: 'ec',
    issuer: root,
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });
  const selfSigned = await issueCertificate({ commonName: 'me', usage: 'client', keyType: 'ec', ...valid() });
  const strangerCa = await issueCertificate({
    commonName: 'Other CA',
    usage: 'ca',
    keyType: 'ec',
    ...valid(),
  });
  const stranger = await issueCertificate({
    commonName: 'stranger',
    usage: 'client',
    keyType: 'ec',
    issuer: strangerCa,
    ...valid(),
  });
  const oldCa = await issueCertificate({
    commonName: 'Retired CA',
    usage: 'ca',
    keyType: 'ec',
    notBefore: new Date(Date.now() - 10 * DAY),
    notAfter: new Date(Date.now() - DAY),
  });

  await s3.send(new CreateBucketCommand({ Bucket: 'pki' }));
  await s3.send(
    new PutObjectCommand({
      Bucket: 'pki',
      Key: 'truststore.pem',
      Body: root.certificatePem + oldCa.certificatePem,
    }),
  );

  await createNodeFunctions(lambda, { echo: ECHO, authz: AUTHZ });
  const http = await v2.send(
    new CreateApiCommand({ Name: 'partner', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );
  // The same function behind a Lambda authorizer (payload 2.0, simple responses, no caching).
  const guarded = await v2.send(
    new CreateApiCommand({ Name: 'guarded', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );
  const authorizer = await v2.send(
    new CreateAuthorizerCommand({
      ApiId: guarded.ApiId,
      Name: 'by-cert',
      AuthorizerType: 'REQUEST',
      AuthorizerUri: `${FN}authz`,
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: [],
      AuthorizerResultTtlInSeconds: 0,
    }),
  );
  const [route] = (await v2.send(new GetRoutesCommand({ ApiId: guarded.ApiId }))).Items!;
  await v2.send(
    new UpdateRouteCommand({
      ApiId: guarded.ApiId,
      RouteId: route.RouteId,
      AuthorizationType: 'CUSTOM',
      AuthorizerId: authorizer.AuthorizerId,
    }),
  );
  const rest = await v1.send(new CreateRestApiCommand({ name: 'partner-rest' }));
  await putProxyMethod(v1, rest.id!, rest.rootResourceId!, 'GET', 'echo');
  await v1.send(new CreateDeploymentCommand({ restApiId: rest.id, stageName: 'prod' }));

  const CERT_ARN = 'arn:aws:acm:us-east-1:000000000000:certificate/abc';
  await t.test('the truststore must be readable in S3 and hold certificates', async () => {
    await rejects(
      v2.send(
        new CreateDomainNameCommand({
          DomainName: 'missing.example.com',
          DomainNameConfigurations: [{ CertificateArn: CERT_ARN, EndpointType: 'REGIONAL' }],
          MutualTlsAuthentication: { TruststoreUri: 's3://pki/nope.pem' },
        }),
      ),
      'BadRequestException',
      /truststore at s3:\/\/pki\/nope\.pem: NoSuchKey/,
    );
    await rejects(
      v2.send(
        new CreateDomainNameCommand({
          DomainName: 'bad.example.com',
          DomainNameConfigurations: [{ CertificateArn: CERT_ARN, EndpointType: 'REGIONAL' }],
          MutualTlsAuthentication: { TruststoreUri: 'https://pki/truststore.pem' },
        }),
      ),
      'BadRequestException',
      /Invalid truststore uri/,
    );
  });

  await t.test(
    'a domain with mutual TLS answers 403 unless the client certificate chains to the truststore',
    async () => {
      const d = await v2.send(
        new CreateDomainNameCommand({
          DomainName: 'partner.example.com',
          DomainNameConfigurations: [{ CertificateArn: CERT_ARN, EndpointType: 'REGIONAL' }],
          MutualTlsAuthentication: { TruststoreUri: 's3://pki/truststore.pem' },
        }),
      );
      assert.equal(d.MutualTlsAuthentication!.TruststoreUri, 's3://pki/truststore.pem');
      // The retired CA is still in the bundle: a warning, and mutual TLS on all the same.
      assert.deepEqual(d.MutualTlsAuthentication!.TruststoreWarnings, [
        'Certificate expired or not yet valid: C=US,O=Nimbus,CN=Retired CA',
      ]);
      const got = await v2.send(new GetDomainNameCommand({ DomainName: 'partner.example.com' }));
      assert.equal(got.MutualTlsAuthentication!.TruststoreUri, 's3://pki/truststore.pem');
      await v2.send(
        new CreateApiMappingCommand({
          DomainName: 'partner.example.com',
          ApiId: http.ApiId,
          Stage: '$default',
          ApiMappingKey: 'http',
        }),
      );
      await v2.send(
        new CreateApiMappingCommand({
          DomainName: 'partner.example.com',
          ApiId: guarded.ApiId,
          Stage: '$default',
          ApiMappingKey: 'guarded',
        }),
      );
      await v1.send(
        new CreateBasePathMappingCommand({
          domainName: 'partner.example.com',
          restApiId: rest.id,
          stage: 'prod',
          basePath: 'rest',
        }),
      );
      const name = 'partner.example.com';

      // The server certificate is for the domain name, as ACM's would be.
      const ok = await get(port, name, '/http/orders', serverCa, [direct]);
      assert.equal(ok.status, 200, ok.body);
      assert.equal(ok.peer!.checkHost(name), name);
      const ev = JSON.parse(ok.body);
      assert.deepEqual(ev.requestContext.authentication.clientCert, {
        clientCertPem: new X509Certificate(direct.certificatePem).toString(),
        subjectDN: 'C=US,O=Partner,CN=device-1',
        issuerDN: 'C=US,O=Nimbus,CN=Partner Root CA',
        serialNumber: '1',
        validity: {
          notBefore: new X509Certificate(direct.certificatePem).validFrom,
          notAfter: new X509Certificate(direct.certificatePem).validTo,
        },
      });
      assert.match(
        ev.requestContext.authentication.clientCert.validity.notAfter,
        /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT$/,
      );

      // Lambda authorizers see the certificate too.
      const authorized = await get(port, name, '/guarded/x', serverCa, [direct]);
      assert.equal(authorized.status, 200, authorized.body);
      assert.equal(
        JSON.parse(authorized.body).requestContext.authorizer.lambda.subject,
        'C=US,O=Partner,CN=device-1',
      );

      // A chain through an intermediate the client presents; a REST API's event has it in identity.
      const chained = await get(port, name, '/rest', serverCa, [viaIntermediate, intermediate]);
      assert.equal(chained.status, 200, chained.body);
      const rev = JSON.parse(chained.body);
      assert.equal(rev.requestContext.identity.clientCert.subjectDN, 'C=US,O=Nimbus,CN=device-2');
      assert.equal(rev.requestContext.identity.clientCert.issuerDN, 'C=US,O=Nimbus,CN=Partner Issuing CA');
      assert.equal(
        rev.requestContext.identity.clientCert.serialNumber,
        'a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1',
      );

      const forbidden = { status: 403, body: '{"message":"Forbidden"}' };
      const strip = (a: Answer) => ({ status: a.status, body: a.body });
      assert.deepEqual(strip(await get(port, name, '/http/x', serverCa)), forbidden, 'no certificate');
      assert.deepEqual(
        strip(await get(port, name, '/http/x', serverCa, [stranger])),
        forbidden,
        'untrusted issuer',
      );
      assert.deepEqual(
        strip(await get(port, name, '/http/x', serverCa, [selfSigned])),
        forbidden,
        'self-signed',
      );
      assert.deepEqual(strip(await get(port, name, '/http/x', serverCa, [expired])), forbidden, 'expired');
      // The intermediate alone is no proof: the leaf signed by it without it cannot be chained.
      assert.deepEqual(
        strip(await get(port, name, '/rest', serverCa, [viaIntermediate])),
        forbidden,
        'broken chain',
      );
      // Plain HTTP carries no certificate at all.
      assert.deepEqual(strip(await plainGet(srv.endpoint, name, '/http/x')), forbidden, 'plain http');
    },
  );

  await t.test('turning mutual TLS off (an empty truststore URI) opens the domain again', async () => {
    const updated = await v1.send(
      new UpdateDomainNameCommand({
        domainName: 'partner.example.com',
        patchOperations: [{ op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: '' }],
      }),
    );
    assert.equal(updated.mutualTlsAuthentication, undefined);
    assert.equal(
      (await v1.send(new GetRestDomainNameCommand({ domainName: 'partner.example.com' })))
        .mutualTlsAuthentication,
      undefined,
    );
    const r = await plainGet(srv.endpoint, 'partner.example.com', '/http/x');
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).requestContext.authentication, undefined);
    // ... and on again through the REST API's patch.
    await v1.send(
      new UpdateDomainNameCommand({
        domainName: 'partner.example.com',
        patchOperations: [
          { op: 'replace', path: '/mutualTlsAuthentication/truststoreUri', value: 's3://pki/truststore.pem' },
        ],
      }),
    );
    assert.equal((await plainGet(srv.endpoint, 'partner.example.com', '/http/x')).status, 403);
    assert.equal((await get(port, 'partner.example.com', '/http/x', serverCa, [direct])).status, 200);
  });
});
