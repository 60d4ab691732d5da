/**
 * WebSocket APIs end to end: the real @aws-sdk/client-apigatewayv2 for management, a `ws`
 * client for the connections, real Lambda handlers behind the routes (they record the
 * events they get in a DynamoDB table), and @aws-sdk/client-apigatewaymanagementapi from the
 * host and from inside a Lambda sandbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateRouteResponseCommand,
  CreateStageCommand,
  DeleteApiCommand,
  GetApiCommand,
  GetApisCommand,
  GetRouteResponsesCommand,
  UpdateApiCommand,
  CreateDomainNameCommand,
  CreateApiMappingCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { until } from '../helpers/until.js';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';
import { Client, FN, createNodeFunctions } from './gateway-helpers.js';

/** Saves the events it gets in table `wsevents`, keyed `{kind}:{tag or connection id}`. */
const SAVE = `const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const db = new DynamoDBClient({});
const save = (id, event) =>
  db.send(new PutItemCommand({ TableName: 'wsevents', Item: { id: { S: id }, event: { S: JSON.stringify(event) } } }));`;

const FUNCTIONS = {
  wsconnect: `${SAVE}
exports.handler = async (event) => {
  const q = event.queryStringParameters || {};
  await save('connect:' + (q.tag || event.requestContext.connectionId), event);
  if (q.deny) return { statusCode: 403, body: JSON.stringify({ message: 'Forbidden' }) };
  const offered = event.headers['Sec-WebSocket-Protocol'];
  if (offered) return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': offered.split(',')[0].trim() } };
  return { statusCode: 200, body: 'Connected.' };
};`,
  wsdisconnect: `${SAVE}
exports.handler = async (event) => {
  await save('disconnect:' + event.requestContext.connectionId, event);
  return { statusCode: 200 };
};`,
  wsmessage: `exports.handler = async (event) => {
  const ctx = event.requestContext;
  if (ctx.routeKey === 'echo') return { statusCode: 200, body: 'echo:' + JSON.parse(event.body).data };
  if (ctx.routeKey === 'silent') return { statusCode: 200, body: 'must not be sent' };
  if (ctx.routeKey === 'boom') throw new Error('boom');
  return {
    statusCode: 200,
    body: JSON.stringify({
      routeKey: ctx.routeKey,
      eventType: ctx.eventType,
      messageId: ctx.messageId,
      messageDirection: ctx.messageDirection,
      connectionId: ctx.connectionId,
      body: event.body,
      isBase64Encoded: event.isBase64Encoded,
      stageVariables: event.stageVariables,
      authorizer: ctx.authorizer,
    }),
  };
};`,
  // A REQUEST authorizer on $connect (identity source route.request.querystring.token).
  wsauth: `exports.handler = async (event) => {
  const token = event.queryStringParameters.token;
  if (token === 'fail') throw new Error('Unauthorized');
  const Effect = token === 'good' && event.type === 'REQUEST' && event.requestContext.eventType === 'CONNECT' ? 'Allow' : 'Deny';
  return {
    principalId: 'user-1',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect, Resource: event.methodArn }] },
    context: { team: 'blue' },
  };
};`,
  // Calls back through the management API from inside the sandbox: with no endpoint (the SDK
  // takes AWS_ENDPOINT_URL) or with the stage URL built from it.
  wscallback: `const { ApiGatewayManagementApiClient, GetConnectionCommand, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');
exports.handler = async (event) => {
  const { connectionId, apiId, stage } = event.requestContext;
  const via = JSON.parse(event.body).via;
  const client = via === 'stage'
    ? new ApiGatewayManagementApiClient({ endpoint: process.env.AWS_ENDPOINT_URL + '/_api/' + apiId + '/' + stage })
    : new ApiGatewayManagementApiClient({});
  const conn = await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
  await client.send(new PostToConnectionCommand({
    ConnectionId: connectionId,
    Data: JSON.stringify({ from: 'lambda', via, sourceIp: conn.Identity.SourceIp }),
  }));
  return { statusCode: 200 };
};`,
};

test('WebSocket APIs: routes, $connect/$disconnect, two-way routes and @connections', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const gw = new ApiGatewayV2Client(srv.clientConfig);
  const db = new DynamoDBClient(srv.clientConfig);
  const clients: Client[] = [];
  t.after(() => {
    for (const c of clients) c.ws.terminate();
    lambda.destroy();
    gw.destroy();
    db.destroy();
  });
  const open = (url: string, opts?: WebSocket.ClientOptions, protocols?: string[]) => {
    const c = new Client(url, opts, protocols);
    clients.push(c);
    return c;
  };
  /** The event a function saved under `key` (waits for it). */
  const saved = async (key: string): Promise<any> => {
    for (let i = 0; i < 150; i++) {
      const r = await db.send(new GetItemCommand({ TableName: 'wsevents', Key: { id: { S: key } } }));
      if (r.Item) return JSON.parse(r.Item.event.S!);
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`no event saved as ${key}`);
  };

  await db.send(
    new CreateTableCommand({
      TableName: 'wsevents',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await createNodeFunctions(lambda, FUNCTIONS, { Timeout: 15 });

  await t.test('management: WEBSOCKET APIs need a valid RouteSelectionExpression', async () => {
    await assert.rejects(gw.send(new CreateApiCommand({ Name: 'x', ProtocolType: 'WEBSOCKET' })), {
      name: 'BadRequestException',
    });
    await assert.rejects(
      gw.send(
        new CreateApiCommand({
          Name: 'x',
          ProtocolType: 'WEBSOCKET',
          RouteSelectionExpression: '$request.method',
        }),
      ),
      { name: 'BadRequestException' },
    );
    await assert.rejects(
      gw.send(
        new CreateApiCommand({
          Name: 'x',
          ProtocolType: 'WEBSOCKET',
          RouteSelectionExpression: '$request.body.action',
          Target: `${FN}wsmessage`,
        }),
      ),
      { name: 'BadRequestException' },
    );
  });

  const api = await gw.send(
    new CreateApiCommand({
      Name: 'chat',
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    }),
  );
  const apiId = api.ApiId!;
  const port = new URL(srv.endpoint).port;
  const integ = async (fn: string) =>
    (
      await gw.send(
        new CreateIntegrationCommand({
          ApiId: apiId,
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${fn}/invocations`,
        }),
      )
    ).IntegrationId!;
  const connectI = await integ('wsconnect');
  const disconnectI = await integ('wsdisconnect');
  const messageI = await integ('wsmessage');
  const callbackI = await integ('wscallback');
  const route = async (key: string, integrationId: string, twoWay = false) => {
    const r = await gw.send(
      new CreateRouteCommand({
        ApiId: apiId,
        RouteKey: key,
        Target: `integrations/${integrationId}`,
        RouteResponseSelectionExpression: twoWay ? '$default' : undefined,
      }),
    );
    if (twoWay)
      await gw.send(
        new CreateRouteResponseCommand({ ApiId: apiId, RouteId: r.RouteId, RouteResponseKey: '$default' }),
      );
    return r;
  };
  await route('$connect', connectI);
  await route('$disconnect', disconnectI);
  const def = await route('$default', messageI, true);
  await route('echo', messageI, true);
  await route('silent', messageI);
  await route('boom', messageI, true);
  await route('callback', callbackI);
  await gw.send(
    new CreateStageCommand({
      ApiId: apiId,
      StageName: 'prod',
      AutoDeploy: true,
      StageVariables: { color: 'blue' },
    }),
  );
  const url = `${api.ApiEndpoint}/prod`;
  const mgmt = new ApiGatewayManagementApiClient({
    ...srv.clientConfig,
    endpoint: `${srv.endpoint}/_api/${apiId}/prod`,
  });
  t.after(() => mgmt.destroy());

  await t.test('management: the API, its endpoint and route responses', async () => {
    assert.equal(api.ProtocolType, 'WEBSOCKET');
    assert.equal(api.RouteSelectionExpression, '$request.body.action');
    assert.equal(api.ApiEndpoint, `ws://127.0.0.1:${port}/_api/${apiId}`);
    const got = await gw.send(new GetApiCommand({ ApiId: apiId }));
    assert.equal(got.ApiEndpoint, api.ApiEndpoint);
    const all = await gw.send(new GetApisCommand({}));
    assert.ok(all.Items?.some((a) => a.ApiId === apiId && a.ProtocolType === 'WEBSOCKET'));
    const rr = await gw.send(new GetRouteResponsesCommand({ ApiId: apiId, RouteId: def.RouteId }));
    assert.deepEqual(
      rr.Items?.map((x) => x.RouteResponseKey),
      ['$default'],
    );
    assert.equal(def.RouteResponseSelectionExpression, '$default');
  });

  await t.test('$connect gets the CONNECT event; messages are routed by action', async () => {
    const tag = randomUUID();
    const c = open(`${url}?tag=${tag}&x=1&x=2`);
    await c.opened;
    const ev = await saved(`connect:${tag}`);
    const ctx = ev.requestContext;
    assert.equal(ctx.routeKey, '$connect');
    assert.equal(ctx.eventType, 'CONNECT');
    assert.equal(ctx.messageDirection, 'IN');
    assert.equal(ctx.stage, 'prod');
    assert.equal(ctx.apiId, apiId);
    assert.match(ctx.connectionId, /^[A-Za-z0-9]{15}=$/);
    assert.equal(typeof ctx.connectedAt, 'number');
    assert.equal(typeof ctx.requestTimeEpoch, 'number');
    assert.match(ctx.requestTime, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    assert.ok(ctx.requestId);
    assert.ok(ctx.extendedRequestId);
    assert.equal(ctx.domainName, `127.0.0.1:${port}`);
    assert.equal(ctx.identity.sourceIp, '127.0.0.1');
    assert.equal(ctx.identity.userAgent, 'ws-e2e');
    assert.equal(ev.headers['User-Agent'], 'ws-e2e');
    assert.equal(ev.headers['Sec-WebSocket-Version'], '13');
    assert.deepEqual(ev.multiValueHeaders['User-Agent'], ['ws-e2e']);
    assert.deepEqual(ev.queryStringParameters, { tag, x: '2' });
    assert.deepEqual(ev.multiValueQueryStringParameters.x, ['1', '2']);
    assert.equal(ev.isBase64Encoded, false);
    assert.deepEqual(ev.stageVariables, { color: 'blue' });
    const connectionId = ctx.connectionId as string;

    // A custom route, two-way: its answer comes back.
    c.send({ action: 'echo', data: 'hi' });
    assert.equal(await c.next(), 'echo:hi');
    // No route for the action: $default (two-way) gets the MESSAGE event.
    c.send({ action: 'nothing-here', n: 1 });
    const m = JSON.parse(await c.next());
    assert.equal(m.routeKey, '$default');
    assert.equal(m.eventType, 'MESSAGE');
    assert.equal(m.messageDirection, 'IN');
    assert.equal(m.connectionId, connectionId);
    assert.ok(m.messageId);
    assert.equal(m.body, '{"action":"nothing-here","n":1}');
    assert.equal(m.isBase64Encoded, false);
    assert.deepEqual(m.stageVariables, { color: 'blue' });
    // Not JSON: $default too.
    c.send('plain text');
    assert.equal(JSON.parse(await c.next()).body, 'plain text');
    // One-way routes send nothing back; a failing function answers AWS's error message.
    c.send({ action: 'silent' });
    c.send({ action: 'boom' });
    const err = JSON.parse(await c.next());
    assert.equal(err.message, 'Internal server error');
    assert.equal(err.connectionId, connectionId);
    assert.ok(err.requestId);
    await c.silent(300);

    // @connections from the host, at the stage URL as on AWS.
    const conn = await mgmt.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    assert.ok(conn.ConnectedAt instanceof Date);
    assert.ok(conn.LastActiveAt instanceof Date);
    assert.ok(conn.LastActiveAt.getTime() >= conn.ConnectedAt.getTime());
    assert.equal(conn.Identity?.SourceIp, '127.0.0.1');
    assert.equal(conn.Identity?.UserAgent, 'ws-e2e');
    await mgmt.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'from the host' }));
    assert.equal(await c.next(), 'from the host');
    // A message larger than a frame (32 KB) arrives whole.
    const big = 'x'.repeat(100 * 1024);
    await mgmt.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: big }));
    assert.equal(await c.next(), big);
    await assert.rejects(
      mgmt.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'y'.repeat(129 * 1024) })),
      { name: 'PayloadTooLargeException' },
    );

    // DeleteConnection closes the socket, then $disconnect runs; the connection is gone.
    await mgmt.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    const dis = await saved(`disconnect:${connectionId}`);
    assert.equal(dis.requestContext.eventType, 'DISCONNECT');
    assert.equal(dis.requestContext.routeKey, '$disconnect');
    assert.equal(dis.requestContext.disconnectStatusCode, 1000);
    assert.equal(typeof dis.requestContext.disconnectReason, 'string');
    await assert.rejects(
      mgmt.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' })),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.name, 'GoneException');
        assert.equal(e.$metadata?.httpStatusCode, 410);
        return true;
      },
    );
    await assert.rejects(mgmt.send(new GetConnectionCommand({ ConnectionId: connectionId })), {
      name: 'GoneException',
    });
  });

  await t.test('a function posts back to its sender through the management API', async () => {
    const c = open(url);
    await c.opened;
    c.send({ action: 'callback', via: 'env' });
    assert.deepEqual(JSON.parse(await c.next()), { from: 'lambda', via: 'env', sourceIp: '127.0.0.1' });
    c.send({ action: 'callback', via: 'stage' });
    assert.deepEqual(JSON.parse(await c.next()), { from: 'lambda', via: 'stage', sourceIp: '127.0.0.1' });
    c.ws.close();
    await c.closed;
  });

  await t.test('a refused $connect answers the handshake with the function status', async () => {
    const tag = randomUUID();
    const c = open(`${url}?deny=1&tag=${tag}`);
    await assert.rejects(c.opened, (e: Error & { status?: number }) => {
      assert.equal(e.status, 403);
      return true;
    });
    assert.equal((await saved(`connect:${tag}`)).requestContext.eventType, 'CONNECT');
    // Unknown stage and unknown API.
    await assert.rejects(open(`${api.ApiEndpoint}/nostage`).opened, { status: 403 });
    await assert.rejects(open(`ws://127.0.0.1:${port}/_api/nosuchapi1/prod`).opened, { status: 404 });
  });

  await t.test('the client closing fires $disconnect with its code and reason', async () => {
    const tag = randomUUID();
    const c = open(`${url}?tag=${tag}`, {}, ['chat.v1', 'other']);
    await c.opened;
    assert.equal(c.ws.protocol, 'chat.v1');
    const connectionId = (await saved(`connect:${tag}`)).requestContext.connectionId as string;
    c.ws.close(4000, 'bye');
    await c.closed;
    const dis = await saved(`disconnect:${connectionId}`);
    assert.equal(dis.requestContext.disconnectStatusCode, 4000);
    assert.equal(dis.requestContext.disconnectReason, 'bye');
    assert.equal(dis.requestContext.connectionId, connectionId);
    await assert.rejects(mgmt.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x' })), {
      name: 'GoneException',
    });
  });

  await t.test('a REQUEST authorizer guards $connect', async () => {
    const g = await gw.send(
      new CreateApiCommand({
        Name: 'guarded',
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      }),
    );
    const auth = await gw.send(
      new CreateAuthorizerCommand({
        ApiId: g.ApiId,
        Name: 'tok',
        AuthorizerType: 'REQUEST',
        AuthorizerUri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}wsauth/invocations`,
        IdentitySource: ['route.request.querystring.token'],
      }),
    );
    const i = async (fn: string) =>
      (
        await gw.send(
          new CreateIntegrationCommand({
            ApiId: g.ApiId,
            IntegrationType: 'AWS_PROXY',
            IntegrationUri: `${FN}${fn}`,
          }),
        )
      ).IntegrationId;
    await gw.send(
      new CreateRouteCommand({
        ApiId: g.ApiId,
        RouteKey: '$connect',
        AuthorizationType: 'CUSTOM',
        AuthorizerId: auth.AuthorizerId,
        Target: `integrations/${await i('wsconnect')}`,
      }),
    );
    await assert.rejects(
      gw.send(
        new CreateRouteCommand({
          ApiId: g.ApiId,
          RouteKey: 'other',
          AuthorizationType: 'CUSTOM',
          AuthorizerId: auth.AuthorizerId,
        }),
      ),
      { name: 'BadRequestException' },
    );
    await gw.send(
      new CreateRouteCommand({
        ApiId: g.ApiId,
        RouteKey: '$default',
        Target: `integrations/${await i('wsmessage')}`,
        RouteResponseSelectionExpression: '$default',
      }),
    );
    await gw.send(new CreateStageCommand({ ApiId: g.ApiId, StageName: 'prod', AutoDeploy: true }));
    const base = `${g.ApiEndpoint}/prod`;
    await assert.rejects(open(base).opened, { status: 401 });
    await assert.rejects(open(`${base}?token=bad`).opened, { status: 403 });
    await assert.rejects(open(`${base}?token=fail`).opened, { status: 401 });
    const tag = randomUUID();
    const c = open(`${base}?token=good&tag=${tag}`);
    await c.opened;
    const ev = await saved(`connect:${tag}`);
    assert.deepEqual(ev.requestContext.authorizer, { principalId: 'user-1', team: 'blue' });
    c.send({ action: 'anything' });
    assert.deepEqual(JSON.parse(await c.next()).authorizer, { principalId: 'user-1', team: 'blue' });
    c.ws.close();
    await c.closed;
  });

  await t.test('access logs, route throttling and AWS/ApiGateway metrics of a WebSocket stage', async () => {
    const api = await gw.send(
      new CreateApiCommand({
        Name: 'observed',
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      }),
    );
    const i = (
      await gw.send(
        new CreateIntegrationCommand({
          ApiId: api.ApiId,
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: `${FN}wsmessage`,
        }),
      )
    ).IntegrationId;
    for (const key of ['echo', 'boom'])
      await gw.send(
        new CreateRouteCommand({
          ApiId: api.ApiId,
          RouteKey: key,
          Target: `integrations/${i}`,
          RouteResponseSelectionExpression: '$default',
        }),
      );
    await gw.send(
      new CreateStageCommand({
        ApiId: api.ApiId,
        StageName: 'obs',
        AccessLogSettings: {
          DestinationArn: 'arn:aws:logs:us-east-1:000000000000:log-group:ws-access',
          Format:
            '$context.eventType $context.routeKey $context.status $context.connectionId $context.error.message',
        },
        RouteSettings: { echo: { ThrottlingBurstLimit: 2, ThrottlingRateLimit: 0.01 } },
      }),
    );
    await gw.send(new CreateDeploymentCommand({ ApiId: api.ApiId, StageName: 'obs' }));
    const c = open(`ws://127.0.0.1:${port}/_api/${api.ApiId}/obs`);
    await c.opened;
    c.send({ action: 'echo', data: 1 });
    assert.equal(await c.next(), 'echo:1');
    c.send({ action: 'echo', data: 2 });
    assert.equal(await c.next(), 'echo:2');
    // The route's burst of 2 is spent: the third answers as API Gateway throttles.
    c.send({ action: 'echo', data: 3 });
    assert.equal(JSON.parse(await c.next()).message, 'Too Many Requests');
    c.send({ action: 'nope' });
    const forbidden = JSON.parse(await c.next());
    assert.equal(forbidden.message, 'Forbidden');
    c.send({ action: 'boom' });
    assert.equal(JSON.parse(await c.next()).message, 'Internal server error');
    // Messages to the client through @connections count too (by API and stage; no route).
    const stageMgmt = new ApiGatewayManagementApiClient({
      ...srv.clientConfig,
      endpoint: `${srv.endpoint}/_api/${api.ApiId}/obs`,
    });
    for (const n of [1, 2]) {
      await stageMgmt.send(
        new PostToConnectionCommand({ ConnectionId: forbidden.connectionId, Data: `post:${n}` }),
      );
      assert.equal(await c.next(), `post:${n}`);
    }
    stageMgmt.destroy();
    c.ws.close(1000, 'bye');
    await c.closed;

    const logs = new CloudWatchLogsClient(srv.clientConfig);
    const lines = await until(
      'access log lines',
      async () => {
        const ev = await logs
          .send(new FilterLogEventsCommand({ logGroupName: 'ws-access' }))
          .catch(() => ({ events: [] as { message?: string }[] }));
        const l = (ev.events ?? []).map((e) => e.message!);
        return l.length >= 6 ? l : undefined;
      },
      10_000,
    );
    const connectionId = lines[0].split(' ')[3];
    assert.deepEqual(
      lines.map((l) => l.replace(connectionId, 'ID')),
      [
        'CONNECT $connect 200 ID -',
        'MESSAGE echo 200 ID -',
        'MESSAGE echo 200 ID -',
        'MESSAGE echo 429 ID Too Many Requests',
        'MESSAGE nope 403 ID Forbidden',
        'MESSAGE boom 502 ID Internal server error',
      ],
    );
    const cw = new CloudWatchClient(srv.clientConfig);
    const sum = async (name: string, dims: { Name: string; Value: string }[]) => {
      const r = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/ApiGateway',
          MetricName: name,
          Dimensions: dims,
          StartTime: new Date(Date.now() - 600_000),
          EndTime: new Date(Date.now() + 600_000),
          Period: 3600,
          Statistics: ['Sum'],
        }),
      );
      return (r.Datapoints ?? []).reduce((a, d) => a + (d.Sum ?? 0), 0);
    };
    const byApi = [{ Name: 'ApiId', Value: api.ApiId! }];
    assert.equal(await sum('ConnectCount', byApi), 1);
    assert.equal(await sum('MessageCount', byApi), 7);
    assert.equal(await sum('MessageCount', [...byApi, { Name: 'Stage', Value: 'obs' }]), 7);
    assert.equal(await sum('ClientError', byApi), 2);
    assert.equal(await sum('IntegrationError', byApi), 1);
    assert.equal(
      await sum('MessageCount', [
        ...byApi,
        { Name: 'Stage', Value: 'obs' },
        { Name: 'Route', Value: 'echo' },
      ]),
      3,
    );
    await gw.send(new DeleteApiCommand({ ApiId: api.ApiId }));
  });

  await t.test('Host addressing, no $default route, and a changed RouteSelectionExpression', async () => {
    const bare = await gw.send(
      new CreateApiCommand({
        Name: 'bare',
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      }),
    );
    const i = (
      await gw.send(
        new CreateIntegrationCommand({
          ApiId: bare.ApiId,
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: `${FN}wsmessage`,
        }),
      )
    ).IntegrationId;
    await gw.send(
      new CreateRouteCommand({
        ApiId: bare.ApiId,
        RouteKey: 'echo',
        Target: `integrations/${i}`,
        RouteResponseSelectionExpression: '$default',
      }),
    );
    await gw.send(new CreateStageCommand({ ApiId: bare.ApiId, StageName: 'dev' }));
    await gw.send(new CreateDeploymentCommand({ ApiId: bare.ApiId, StageName: 'dev' }));
    // No $connect route: accepted. Reached by Host as `{apiId}.execute-api.*` URLs are.
    const c = open(`ws://127.0.0.1:${port}/dev`, {
      headers: { Host: `${bare.ApiId}.execute-api.us-east-1.amazonaws.com`, 'User-Agent': 'ws-e2e' },
    });
    await c.opened;
    c.send({ action: 'echo', data: 'by host' });
    assert.equal(await c.next(), 'echo:by host');
    c.send({ action: 'unknown' });
    const f = JSON.parse(await c.next());
    assert.equal(f.message, 'Forbidden');
    assert.match(f.connectionId, /=$/);
    assert.ok(f.requestId);

    // The selection expression is the API's (deployments do not freeze it): open connections
    // use the new one once the node re-reads the API (within a second).
    await gw.send(
      new UpdateApiCommand({ ApiId: bare.ApiId, RouteSelectionExpression: '${request.body.kind}' }),
    );
    await assert.rejects(
      gw.send(new UpdateApiCommand({ ApiId: bare.ApiId, RouteSelectionExpression: 'static' })),
      { name: 'BadRequestException' },
    );
    await new Promise((r) => setTimeout(r, 1100));
    c.send({ kind: 'echo', data: 'by kind' });
    assert.equal(await c.next(), 'echo:by kind');

    // Through a custom domain name: its mapping names the API and stage.
    await gw.send(new CreateDomainNameCommand({ DomainName: 'ws.example.com' }));
    await gw.send(
      new CreateApiMappingCommand({
        DomainName: 'ws.example.com',
        ApiId: bare.ApiId,
        Stage: 'dev',
        ApiMappingKey: 'chat',
      }),
    );
    const viaDomain = open(`ws://127.0.0.1:${port}/chat`, {
      headers: { Host: `ws.example.com:${port}`, 'User-Agent': 'ws-e2e' },
    });
    await viaDomain.opened;
    viaDomain.send({ kind: 'echo', data: 'by domain' });
    assert.equal(await viaDomain.next(), 'echo:by domain');
    const elsewhere = open(`ws://127.0.0.1:${port}/other`, {
      headers: { Host: `ws.example.com:${port}`, 'User-Agent': 'ws-e2e' },
    });
    await assert.rejects(elsewhere.opened, { status: 404 });

    // Deleting the API closes its connections.
    await gw.send(new DeleteApiCommand({ ApiId: bare.ApiId }));
    const closed = await c.closed;
    assert.equal(closed.code, 1001);
  });
});

/** The shape of AWS's WebSocket chat samples: plain AWS::ApiGatewayV2 resources (SAM has no WebSocket event). */
const TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  ChatApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: cfn-chat
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  EchoFn:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Role: !Sub arn:aws:iam::\${AWS::AccountId}:role/ws
      Code:
        ZipFile: |
          exports.handler = async (event) => ({ statusCode: 200, body: 'cfn:' + event.requestContext.routeKey + ':' + event.body });
  EchoIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref ChatApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${EchoFn.Arn}/invocations
  SendRoute:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref ChatApi
      RouteKey: sendmessage
      AuthorizationType: NONE
      RouteResponseSelectionExpression: $default
      Target: !Join ['/', [integrations, !Ref EchoIntegration]]
  SendRouteResponse:
    Type: AWS::ApiGatewayV2::RouteResponse
    Properties:
      ApiId: !Ref ChatApi
      RouteId: !Ref SendRoute
      RouteResponseKey: $default
  Deployment:
    Type: AWS::ApiGatewayV2::Deployment
    DependsOn: [SendRoute, SendRouteResponse]
    Properties:
      ApiId: !Ref ChatApi
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref ChatApi
      StageName: prod
      DeploymentId: !Ref Deployment
      StageVariables:
        env: test
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref EchoFn
      Principal: apigateway.amazonaws.com
Outputs:
  Url:
    Value: !Sub '\${ChatApi.ApiEndpoint}/\${Stage}'
`;

test('WebSocket APIs from a CloudFormation template', async (t) => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => cfn.destroy());
  const url = (await deployStack(cfn, 'ws-chat', TEMPLATE)).output('Url');
  assert.match(
    url,
    new RegExp(`^ws://127\\.0\\.0\\.1:${new URL(srv.endpoint).port}/_api/[a-z0-9]{10}/prod$`),
  );
  const c = new Client(url);
  t.after(() => c.ws.terminate());
  await c.opened;
  c.send({ action: 'sendmessage', text: 'hello' });
  assert.equal(await c.next(), 'cfn:sendmessage:{"action":"sendmessage","text":"hello"}');
  c.ws.close();
  await c.closed;
});
