/** Shared bits of the gateway end-to-end tests. */
import assert from 'node:assert/strict';
import AdmZip from 'adm-zip';
import WebSocket from 'ws';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  ApiGatewayV2Client,
  CreateApiCommand as CreateV2ApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand as CreateV2StageCommand,
} from '@aws-sdk/client-apigatewayv2';
import { CreateFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateApiKeyCommand,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  type APIGatewayClient,
} from '@aws-sdk/client-api-gateway';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
export const FN = 'arn:aws:lambda:us-east-1:000000000000:function:';

export function zip(files: Record<string, string>): Uint8Array {
  const z = new AdmZip();
  for (const [n, t] of Object.entries(files)) z.addFile(n, Buffer.from(t), '', 0o644 << 16);
  return z.toBuffer();
}

/** Creates one Node.js function per `name: handler source` (index.handler), as the tests' backends. */
export async function createNodeFunctions(
  lambda: LambdaClient,
  fns: Record<string, string>,
  extra: { Timeout?: number } = {},
): Promise<void> {
  for (const [name, code] of Object.entries(fns))
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip({ 'index.js': code }) },
        ...extra,
      }),
    );
}

/** A REST API method with no authorization and an AWS_PROXY integration to function `fn`. */
export async function putProxyMethod(
  gw: APIGatewayClient,
  restApiId: string,
  resourceId: string,
  httpMethod: string,
  fn: string,
  opts: { apiKeyRequired?: boolean } = {},
): Promise<void> {
  await gw.send(
    new PutMethodCommand({ restApiId, resourceId, httpMethod, authorizationType: 'NONE', ...opts }),
  );
  await gw.send(
    new PutIntegrationCommand({
      restApiId,
      resourceId,
      httpMethod,
      type: 'AWS_PROXY',
      integrationHttpMethod: 'POST',
      uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}${fn}/invocations`,
    }),
  );
}

/** A REST API method (no authorization unless given) with a MOCK integration answering 200 with `responseTemplate`. */
export async function putMockMethod(
  gw: APIGatewayClient,
  where: { restApiId: string; resourceId: string; httpMethod: string },
  responseTemplate: string,
  authorizationType = 'NONE',
): Promise<void> {
  await gw.send(new PutMethodCommand({ ...where, authorizationType }));
  await gw.send(
    new PutIntegrationCommand({
      ...where,
      type: 'MOCK',
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
    }),
  );
  await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '200' }));
  await gw.send(
    new PutIntegrationResponseCommand({
      ...where,
      statusCode: '200',
      responseTemplates: { 'application/json': responseTemplate },
    }),
  );
}

/**
 * A REST API whose GET /keyed needs an API key (AWS_PROXY to a function answering 200 "ok"),
 * deployed to `prod`, and a usage plan with `quota` holding one enabled key.
 */
export async function keyedApiWithQuota(
  gw: APIGatewayClient,
  lambda: LambdaClient,
  quota: { limit: number; period: 'DAY' | 'WEEK' | 'MONTH'; offset?: number },
): Promise<{ apiId: string; planId: string; keyId: string; keyValue: string }> {
  await createNodeFunctions(lambda, {
    keyedok: `exports.handler = async () => ({ statusCode: 200, body: 'ok' });`,
  });
  const api = await gw.send(new CreateRestApiCommand({ name: 'keyed' }));
  const res = await gw.send(
    new CreateResourceCommand({ restApiId: api.id, parentId: api.rootResourceId, pathPart: 'keyed' }),
  );
  await putProxyMethod(gw, api.id!, res.id!, 'GET', 'keyedok', { apiKeyRequired: true });
  await gw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod' }));
  const plan = await gw.send(
    new CreateUsagePlanCommand({ name: 'metered', apiStages: [{ apiId: api.id, stage: 'prod' }], quota }),
  );
  const key = await gw.send(new CreateApiKeyCommand({ name: 'metered-key', enabled: true }));
  await gw.send(new CreateUsagePlanKeyCommand({ usagePlanId: plan.id, keyId: key.id, keyType: 'API_KEY' }));
  return { apiId: api.id!, planId: plan.id!, keyId: key.id!, keyValue: key.value! };
}

/** A `ws` client that queues what it receives. */
export class Client {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly inbox: string[] = [];
  private waiter: (() => void) | undefined;

  constructor(url: string, opts: WebSocket.ClientOptions = {}, protocols?: string[]) {
    this.ws = new WebSocket(url, protocols, { headers: { 'User-Agent': 'ws-e2e' }, ...opts });
    this.ws.on('message', (d: Buffer) => {
      this.inbox.push(d.toString('utf8'));
      this.waiter?.();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`handshake answered ${res.statusCode}`), { status: res.statusCode })),
      );
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
    );
    this.opened.catch(() => {});
  }

  async next(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.inbox.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.inbox.shift()!;
  }

  /** Nothing arrives within `ms`. */
  async silent(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.deepEqual(this.inbox, []);
  }

  send(o: unknown): void {
    this.ws.send(typeof o === 'string' ? o : JSON.stringify(o));
  }
}

/** A WebSocket API whose two-way `$default` route is AWS_PROXY to function `fn`, on an auto-deploy stage. */
export async function twoWayWebSocketApi(
  gw: ApiGatewayV2Client,
  name: string,
  fn: string,
  stage: string,
): Promise<string> {
  const api = await gw.send(
    new CreateV2ApiCommand({
      Name: name,
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    }),
  );
  const integ = await gw.send(
    new CreateIntegrationCommand({
      ApiId: api.ApiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: `${FN}${fn}`,
    }),
  );
  await gw.send(
    new CreateRouteCommand({
      ApiId: api.ApiId,
      RouteKey: '$default',
      Target: `integrations/${integ.IntegrationId}`,
      RouteResponseSelectionExpression: '$default',
    }),
  );
  await gw.send(new CreateV2StageCommand({ ApiId: api.ApiId, StageName: stage, AutoDeploy: true }));
  return api.ApiId!;
}

/** A GET signed with SigV4 for execute-api by the given key (as an AWS_IAM caller signs it). */
export async function signedGet(url: string, creds: { accessKeyId: string; secretAccessKey: string }) {
  const target = new URL(url);
  const req = await new SignatureV4({
    service: 'execute-api',
    region: 'us-east-1',
    credentials: creds,
    sha256: Sha256,
  }).sign({
    method: 'GET',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query: {},
    headers: { host: target.host },
  });
  return fetch(target, { headers: req.headers as Record<string, string> });
}
