/**
 * VPC links and private integrations: the management operations of both APIs (apigatewayv2 V2
 * links, apigateway v1 links to NLBs) with their errors and tags, kept across a restart; a REST
 * API private integration and an HTTP API private integration reaching a local node:http backend
 * through `--private-target` mappings (method, path, query, headers and body arrive).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage } from 'node:http';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  CreateVpcLinkCommand as CreateV2VpcLinkCommand,
  DeleteVpcLinkCommand as DeleteV2VpcLinkCommand,
  GetIntegrationCommand as GetV2IntegrationCommand,
  GetTagsCommand,
  GetVpcLinkCommand as GetV2VpcLinkCommand,
  GetVpcLinksCommand as GetV2VpcLinksCommand,
  TagResourceCommand as TagV2ResourceCommand,
  UntagResourceCommand as UntagV2ResourceCommand,
  UpdateIntegrationCommand as UpdateV2IntegrationCommand,
  UpdateVpcLinkCommand as UpdateV2VpcLinkCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateVpcLinkCommand,
  DeleteVpcLinkCommand,
  GetIntegrationCommand,
  GetResourcesCommand,
  GetTagsCommand as GetV1TagsCommand,
  GetVpcLinkCommand,
  GetVpcLinksCommand,
  PutIntegrationCommand,
  PutMethodCommand,
  UpdateIntegrationCommand,
  UpdateVpcLinkCommand,
} from '@aws-sdk/client-api-gateway';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';

const NLB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/orders/50dc6c495c0c9188';
const NLB_HOST = 'orders-50dc6c495c0c9188.elb.us-east-1.amazonaws.com';
const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2';
const CLOUD_MAP_ARN = 'arn:aws:servicediscovery:us-east-1:000000000000:service/srv-e4anhexample0004';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local backend that records what reaches it and answers 200 with the path it got. */
async function backend(t: { after: (fn: () => void) => void }) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': 'private' });
      res.end(JSON.stringify({ got: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { seen, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

test('apigatewayv2 VPC links: create, get, page, update, tags, delete and errors', async () => {
  await using srv = await startTestServer();
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const created = await gw.send(
    new CreateV2VpcLinkCommand({
      Name: 'links-a',
      SubnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'],
      SecurityGroupIds: ['sg-0123456789abcdef0'],
      Tags: { team: 'orders' },
    }),
  );
  assert.equal(created.$metadata.httpStatusCode, 201);
  assert.equal(created.Name, 'links-a');
  assert.equal(created.VpcLinkStatus, 'AVAILABLE');
  assert.equal(created.VpcLinkVersion, 'V2');
  assert.deepEqual(created.SubnetIds, ['subnet-aaaa1111', 'subnet-bbbb2222']);
  assert.deepEqual(created.SecurityGroupIds, ['sg-0123456789abcdef0']);
  assert.deepEqual(created.Tags, { team: 'orders' });
  assert.ok(created.CreatedDate instanceof Date);
  const id = created.VpcLinkId!;
  const got = await gw.send(new GetV2VpcLinkCommand({ VpcLinkId: id }));
  assert.equal(got.Name, 'links-a');
  assert.equal(got.VpcLinkStatusMessage, 'VPC link is ready to route traffic');

  for (const n of ['links-b', 'links-c'])
    await gw.send(new CreateV2VpcLinkCommand({ Name: n, SubnetIds: ['subnet-aaaa1111'] }));
  const first = await gw.send(new GetV2VpcLinksCommand({ MaxResults: '2' }));
  assert.equal(first.Items!.length, 2);
  assert.ok(first.NextToken);
  const second = await gw.send(new GetV2VpcLinksCommand({ MaxResults: '2', NextToken: first.NextToken }));
  assert.deepEqual(
    [...first.Items!, ...second.Items!].map((l) => l.Name),
    ['links-a', 'links-b', 'links-c'],
  );
  assert.equal(second.NextToken, undefined);

  const renamed = await gw.send(new UpdateV2VpcLinkCommand({ VpcLinkId: id, Name: 'links-renamed' }));
  assert.equal(renamed.Name, 'links-renamed');
  assert.deepEqual(renamed.SubnetIds, ['subnet-aaaa1111', 'subnet-bbbb2222']);

  const arn = `arn:aws:apigateway:us-east-1::/vpclinks/${id}`;
  await gw.send(new TagV2ResourceCommand({ ResourceArn: arn, Tags: { env: 'dev' } }));
  await gw.send(new UntagV2ResourceCommand({ ResourceArn: arn, TagKeys: ['team'] }));
  assert.deepEqual((await gw.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { env: 'dev' });

  const deleted = await gw.send(new DeleteV2VpcLinkCommand({ VpcLinkId: id }));
  assert.equal(deleted.$metadata.httpStatusCode, 202);
  for (const call of [
    () => gw.send(new GetV2VpcLinkCommand({ VpcLinkId: id })),
    () => gw.send(new UpdateV2VpcLinkCommand({ VpcLinkId: id, Name: 'x' })),
    () => gw.send(new DeleteV2VpcLinkCommand({ VpcLinkId: id })),
    () => gw.send(new GetTagsCommand({ ResourceArn: arn })),
  ])
    await rejects(call(), 'NotFoundException', /Invalid VPC link identifier specified/);
  await rejects(
    gw.send(new CreateV2VpcLinkCommand({ Name: 'no-subnets' } as never)),
    'BadRequestException',
    /SubnetIds/,
  );
  await rejects(
    gw.send(new CreateV2VpcLinkCommand({ Name: 'x'.repeat(129), SubnetIds: ['subnet-1'] })),
    'BadRequestException',
  );
});

test('apigateway v1 VPC links: create, get, page, update, tags, delete and errors', async () => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const created = await gw.send(
    new CreateVpcLinkCommand({
      name: 'nlb-link',
      description: 'to the orders NLB',
      targetArns: [NLB_ARN],
      tags: { team: 'orders' },
    }),
  );
  assert.equal(created.$metadata.httpStatusCode, 202);
  assert.equal(created.status, 'AVAILABLE');
  assert.deepEqual(created.targetArns, [NLB_ARN]);
  assert.equal(created.description, 'to the orders NLB');
  const id = created.id!;
  assert.equal((await gw.send(new GetVpcLinkCommand({ vpcLinkId: id }))).name, 'nlb-link');

  await gw.send(new CreateVpcLinkCommand({ name: 'second', targetArns: [NLB_ARN] }));
  const p1 = await gw.send(new GetVpcLinksCommand({ limit: 1 }));
  assert.equal(p1.items!.length, 1);
  assert.ok(p1.position);
  const p2 = await gw.send(new GetVpcLinksCommand({ limit: 1, position: p1.position }));
  assert.deepEqual(
    [...p1.items!, ...p2.items!].map((l) => l.name),
    ['nlb-link', 'second'],
  );
  assert.equal(p2.position, undefined);

  const updated = await gw.send(
    new UpdateVpcLinkCommand({
      vpcLinkId: id,
      patchOperations: [
        { op: 'replace', path: '/name', value: 'renamed' },
        { op: 'replace', path: '/description', value: 'new' },
      ],
    }),
  );
  assert.equal(updated.name, 'renamed');
  assert.equal(updated.description, 'new');
  await rejects(
    gw.send(
      new UpdateVpcLinkCommand({
        vpcLinkId: id,
        patchOperations: [{ op: 'replace', path: '/targetArns', value: NLB_ARN }],
      }),
    ),
    'BadRequestException',
    /Invalid patch path/,
  );
  const arn = `arn:aws:apigateway:us-east-1::/vpclinks/${id}`;
  assert.deepEqual((await gw.send(new GetV1TagsCommand({ resourceArn: arn }))).tags, { team: 'orders' });

  await rejects(
    gw.send(new CreateVpcLinkCommand({ name: 'bad', targetArns: ['arn:aws:s3:::bucket'] })),
    'BadRequestException',
  );
  await rejects(gw.send(new CreateVpcLinkCommand({ name: 'none', targetArns: [] })), 'BadRequestException');
  const deleted = await gw.send(new DeleteVpcLinkCommand({ vpcLinkId: id }));
  assert.equal(deleted.$metadata.httpStatusCode, 202);
  await rejects(
    gw.send(new GetVpcLinkCommand({ vpcLinkId: id })),
    'NotFoundException',
    /Invalid VPC link identifier specified/,
  );
  await rejects(gw.send(new DeleteVpcLinkCommand({ vpcLinkId: id })), 'NotFoundException');
});

test('VPC links of both APIs are kept in the Store across a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'nimbus-vpclinks-'));
  try {
    let v1: string;
    let v2: string;
    {
      await using srv = await startTestServer({ dataDir, storage: 'sqlite' });
      v1 = (
        await new APIGatewayClient(srv.clientConfig).send(
          new CreateVpcLinkCommand({ name: 'kept-v1', targetArns: [NLB_ARN] }),
        )
      ).id!;
      v2 = (
        await new ApiGatewayV2Client(srv.clientConfig).send(
          new CreateV2VpcLinkCommand({ Name: 'kept-v2', SubnetIds: ['subnet-1'] }),
        )
      ).VpcLinkId!;
    }
    await using srv = await startTestServer({ dataDir, storage: 'sqlite' });
    const got1 = await new APIGatewayClient(srv.clientConfig).send(new GetVpcLinkCommand({ vpcLinkId: v1 }));
    assert.equal(got1.name, 'kept-v1');
    const got2 = await new ApiGatewayV2Client(srv.clientConfig).send(
      new GetV2VpcLinkCommand({ VpcLinkId: v2 }),
    );
    assert.equal(got2.Name, 'kept-v2');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('REST API private integration reaches a local target through --private-target', async (t) => {
  const { seen, base } = await backend(t);
  await using srv = await startTestServer({ privateTargets: new Map([[NLB_HOST, base]]) });
  const gw = new APIGatewayClient(srv.clientConfig);
  const link = await gw.send(new CreateVpcLinkCommand({ name: 'orders', targetArns: [NLB_ARN] }));
  const api = await gw.send(new CreateRestApiCommand({ name: 'private-rest' }));
  const root = (await gw.send(new GetResourcesCommand({ restApiId: api.id }))).items!.find(
    (r) => r.path === '/',
  )!;
  const proxy = await gw.send(
    new CreateResourceCommand({ restApiId: api.id, parentId: root.id, pathPart: '{proxy+}' }),
  );
  const m = { restApiId: api.id, resourceId: proxy.id, httpMethod: 'ANY' };
  await gw.send(new PutMethodCommand({ ...m, authorizationType: 'NONE' }));

  // Errors first: an unknown link, no link, a type that cannot be private.
  const integration = {
    ...m,
    type: 'HTTP_PROXY' as const,
    integrationHttpMethod: 'ANY',
    uri: `https://${NLB_HOST}/{proxy}`,
    connectionType: 'VPC_LINK' as const,
  };
  await rejects(
    gw.send(new PutIntegrationCommand({ ...integration, connectionId: 'nope42' })),
    'NotFoundException',
    /Invalid VPC link identifier specified/,
  );
  await rejects(gw.send(new PutIntegrationCommand(integration)), 'BadRequestException', /ConnectionId/);
  await rejects(
    gw.send(
      new PutIntegrationCommand({
        ...integration,
        type: 'AWS_PROXY',
        uri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations',
        connectionId: link.id,
      }),
    ),
    'BadRequestException',
    /HTTP and HTTP_PROXY/,
  );

  // The link named by a stage variable, as AWS's examples do.
  const put = await gw.send(
    new PutIntegrationCommand({ ...integration, connectionId: '${stageVariables.vpcLinkId}' }),
  );
  assert.equal(put.connectionType, 'VPC_LINK');
  assert.equal(put.connectionId, '${stageVariables.vpcLinkId}');
  await gw.send(
    new CreateDeploymentCommand({ restApiId: api.id, stageName: 'live', variables: { vpcLinkId: link.id! } }),
  );
  await gw.send(
    new CreateDeploymentCommand({
      restApiId: api.id,
      stageName: 'broken',
      variables: { vpcLinkId: 'gone00' },
    }),
  );

  const res = await fetch(`${srv.endpoint}/_api/${api.id}/live/orders/7?x=1&y=2`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'x-client': 'me' },
    body: 'hello private backend',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-backend'), 'private');
  assert.deepEqual(await res.json(), { got: '/orders/7?x=1&y=2' });
  const s = seen.at(-1)!;
  assert.equal(s.method, 'POST');
  assert.equal(s.url, '/orders/7?x=1&y=2');
  assert.equal(s.headers['x-client'], 'me');
  assert.equal(s.body, 'hello private backend');

  // A stage whose variable names no VPC link: 500, nothing reaches the backend.
  const before = seen.length;
  const broken = await fetch(`${srv.endpoint}/_api/${api.id}/broken/orders/7`);
  assert.equal(broken.status, 500);
  assert.deepEqual(await broken.json(), { message: 'Internal server error' });
  assert.equal(seen.length, before);

  // UpdateIntegration: the literal id is checked; GetIntegration shows the connection.
  await rejects(
    gw.send(
      new UpdateIntegrationCommand({
        ...m,
        patchOperations: [{ op: 'replace', path: '/connectionId', value: 'nope42' }],
      }),
    ),
    'NotFoundException',
  );
  await gw.send(
    new UpdateIntegrationCommand({
      ...m,
      patchOperations: [{ op: 'replace', path: '/connectionId', value: link.id! }],
    }),
  );
  const integ = await gw.send(new GetIntegrationCommand(m));
  assert.equal(integ.connectionType, 'VPC_LINK');
  assert.equal(integ.connectionId, link.id);
});

test('HTTP API private integration reaches a local target mapped to its listener ARN', async (t) => {
  const { seen, base } = await backend(t);
  await using srv = await startTestServer({ privateTargets: new Map([[LISTENER_ARN, base]]) });
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const link = await gw.send(new CreateV2VpcLinkCommand({ Name: 'web', SubnetIds: ['subnet-1'] }));
  const api = await gw.send(new CreateApiCommand({ Name: 'private-http', ProtocolType: 'HTTP' }));
  const input = {
    ApiId: api.ApiId,
    IntegrationType: 'HTTP_PROXY' as const,
    IntegrationMethod: 'ANY',
    ConnectionType: 'VPC_LINK' as const,
    ConnectionId: link.VpcLinkId,
    IntegrationUri: LISTENER_ARN,
    PayloadFormatVersion: '1.0',
  };

  await rejects(
    gw.send(new CreateIntegrationCommand({ ...input, ConnectionId: 'nope42' })),
    'NotFoundException',
    /Invalid VPC link identifier specified/,
  );
  await rejects(
    gw.send(new CreateIntegrationCommand({ ...input, ConnectionId: undefined })),
    'BadRequestException',
    /ConnectionId/,
  );
  await rejects(
    gw.send(new CreateIntegrationCommand({ ...input, IntegrationUri: `${base}/x` })),
    'BadRequestException',
    /listener or of a Cloud Map service/,
  );
  await rejects(
    gw.send(
      new CreateIntegrationCommand({
        ...input,
        ConnectionType: 'INTERNET',
        ConnectionId: undefined,
        IntegrationUri: `${base}/x`,
        TlsConfig: { ServerNameToVerify: 'web.internal.example.com' },
      }),
    ),
    'BadRequestException',
    /TlsConfig/,
  );

  const integ = await gw.send(
    new CreateIntegrationCommand({ ...input, TlsConfig: { ServerNameToVerify: 'web.internal.example.com' } }),
  );
  assert.equal(integ.ConnectionType, 'VPC_LINK');
  assert.equal(integ.ConnectionId, link.VpcLinkId);
  assert.equal(integ.IntegrationUri, LISTENER_ARN);
  assert.deepEqual(integ.TlsConfig, { ServerNameToVerify: 'web.internal.example.com' });
  await gw.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: 'ANY /orders/{proxy+}',
      Target: `integrations/${integ.IntegrationId}`,
    }),
  );
  await gw.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: 'prod', AutoDeploy: true }));

  const res = await fetch(`${api.ApiEndpoint}/prod/orders/9?q=2`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', 'x-client': 'http-api' },
    body: '{"n":9}',
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-backend'), 'private');
  const s = seen.at(-1)!;
  assert.equal(s.method, 'PUT');
  // The stage is part of the path the backend gets, as AWS sends it to private integrations.
  assert.equal(s.url, '/prod/orders/9?q=2');
  assert.equal(s.headers['x-client'], 'http-api');
  assert.equal(s.body, '{"n":9}');

  // A target without a --private-target mapping: 503, as an unreachable private backend.
  await gw.send(
    new UpdateV2IntegrationCommand({
      ApiId: api.ApiId,
      IntegrationId: integ.IntegrationId,
      IntegrationUri: CLOUD_MAP_ARN,
    }),
  );
  const got = await gw.send(
    new GetV2IntegrationCommand({ ApiId: api.ApiId, IntegrationId: integ.IntegrationId }),
  );
  assert.equal(got.IntegrationUri, CLOUD_MAP_ARN);
  const before = seen.length;
  const unmapped = await fetch(`${api.ApiEndpoint}/prod/orders/9`);
  assert.equal(unmapped.status, 503);
  assert.deepEqual(await unmapped.json(), { message: 'Service Unavailable' });
  assert.equal(seen.length, before);
});
