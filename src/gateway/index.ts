/**
 * API Gateway (HTTP, REST and WebSocket APIs): `createGateway(deps)` gives the management engine, its
 * apigatewayv2 REST-JSON service and the data plane (mount `pathHandler` at `/_api/` and
 * `hostHandler` for Hosts `{apiId}.execute-api.*`).
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LogSink } from '../core/log-sink.js';
import type { MetricsSink } from '../core/metrics-sink.js';
import type { Store } from '../storage/store.js';
import type { LambdaEngine } from '../compute/engine.js';
import type { RestJsonService } from '../server/service.js';
import type { AccountLimits } from './throttle.js';
import { GatewayEngine } from './engine.js';
import { gatewayV2Service } from './api.js';
import { GatewayServer } from './serve.js';
import { lambdaInvoker } from './invoke.js';
import { RestEngine } from './rest/engine.js';
import { restApiRoutes } from './rest/api.js';
import { RestServer } from './rest/serve.js';
import { ClientCertificates } from './rest/client-certs.js';
import type { ServiceCaller } from '../server/self-call.js';
import type { IncomingMessage } from 'node:http';
import type { UpgradeMount } from '../server/http-server.js';
import { Connections, type ClusterView } from './websocket/connections.js';
import {
  WebSocketGateway,
  reject as rejectHandshake,
  type Authenticate,
  type WebSocketLimits,
} from './websocket/serve.js';
import { connectionsService } from './websocket/api.js';
import { DomainEngine, domainErrors, type Scope } from './domains.js';
import { setClientCert, trustedClientCert, type Truststore } from './mtls.js';
import { tagRoutesV2 } from './tags.js';
import { routeTable } from './route-table.js';
import { checkApiKey } from './api-keys.js';
import { domainRoutes } from './domain-api.js';
import { VpcLinks } from './vpc-links.js';
import { vpcLinkRoutes } from './vpc-link-api.js';
import type { PrivateTargets } from './private-targets.js';
import type { RawHandler } from '../server/http-server.js';
import { jsonMessage } from './response.js';
import { send } from './serve.js';

export { GatewayEngine } from './engine.js';
export { GatewayServer } from './serve.js';
export { RestEngine } from './rest/engine.js';
export { WebSocketGateway } from './websocket/serve.js';
export { DomainEngine } from './domains.js';

export const API_PATH_PREFIX = '/_api/';
/** Hosts that address an API by id: `{apiId}.execute-api.{anything}`. */
export const API_HOST_PATTERN = /^[a-z0-9]{1,32}\.execute-api\./i;

export interface GatewayDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  logs: LogSink;
  lambda: LambdaEngine;
  region: string;
  /** API Gateway's account-level throttle (default AWS's 10,000 rps, 5,000 burst). */
  accountLimits?: AccountLimits;
  /** Built-in AWS/ApiGateway metrics. */
  metrics?: MetricsSink;
  /** AWS service integrations (REST AWS integrations, HTTP API subtypes) call the services through this. */
  callService?: ServiceCaller;
  /** WebSocket APIs: this node and the others, for reaching connections held elsewhere. */
  cluster?: ClusterView;
  /**
   * Verifies SigV4-signed calls (strict mode): WebSocket `@connections` calls made to a stage URL,
   * and the callers of REST API AWS_IAM methods that a resource policy names.
   */
  authenticate?: Authenticate;
  websocketLimits?: Partial<WebSocketLimits>;
  /** Draws in [0, 1) routing requests to REST stages' canary releases (default Math.random). */
  random?: () => number;
  /** Where private (VPC_LINK) integrations go: load balancer -> local base URL (`--private-target`). */
  privateTargets?: PrivateTargets;
}

export interface Gateway {
  engine: GatewayEngine;
  service: RestJsonService;
  server: GatewayServer;
  /** REST APIs (apigateway v1); their management routes are part of `service`. */
  rest: RestEngine;
  /** WebSocket APIs: the handshakes (mount with `frontDoor.mountUpgrade(upgrade)`) and their connections. */
  websocket: WebSocketGateway;
  upgrade: UpgradeMount;
  /** The `@connections` management API at the root of the port (`/@connections/{id}`). */
  connectionsService: RestJsonService;
  /** Custom domain names (both APIs' management operations; `start()` before serving). */
  domains: DomainEngine;
  /** Is this Host header a custom domain name? (synchronous, in memory) */
  isDomainHost: (host: string) => boolean;
  /**
   * Serves a request whose Host is a custom domain name, by its longest matching mapping or its
   * first matching routing rule (as the domain's routing mode says).
   */
  domainHandler: RawHandler;
}

/**
 * The management operations the serving side answers: flushing a stage's caches
 * (ResetAuthorizersCache for HTTP APIs, FlushStageAuthorizersCache and FlushStageCache for REST
 * APIs; authorizer results and REST API caches are kept per node, so a flush applies to the
 * node that answers it), and
 * TestInvokeMethod (a REST method run through the serving pipeline) and TestInvokeAuthorizer
 * (a REST API authorizer run on a described request).
 */
function servingRoutes(
  engine: GatewayEngine,
  server: GatewayServer,
  rest: RestEngine,
  restServer: RestServer,
) {
  const { routes, route } = routeTable();
  route(
    'DELETE',
    '/v2/apis/{ApiId}/stages/{StageName}/cache/authorizers',
    'ResetAuthorizersCache',
    async (scope, { ApiId, StageName }) => {
      await engine.getStage(scope, ApiId, StageName);
      server.flushAuthorizers(ApiId, StageName);
      return { status: 204 };
    },
  );
  route(
    'DELETE',
    '/restapis/{restapi_id}/stages/{stage_name}/cache/authorizers',
    'FlushStageAuthorizersCache',
    async (scope, { restapi_id, stage_name }) => {
      await rest.getStage(scope, restapi_id, stage_name);
      restServer.flushAuthorizers(restapi_id, stage_name);
      return { status: 202 };
    },
  );
  // TestInvokeMethod: the REST API's serving pipeline, on the method as it is now.
  route(
    'POST',
    '/restapis/{restapi_id}/resources/{resource_id}/methods/{http_method}',
    'TestInvokeMethod',
    async (scope, { restapi_id, resource_id, http_method }, req) => ({
      body: await restServer.testInvoke(scope, restapi_id, resource_id, http_method, req.json()),
    }),
  );
  // TestInvokeAuthorizer: one authorizer as it is now, on the request the input describes.
  route(
    'POST',
    '/restapis/{restapi_id}/authorizers/{authorizer_id}',
    'TestInvokeAuthorizer',
    async (scope, { restapi_id, authorizer_id }, req) => ({
      body: await restServer.testInvokeAuthorizer(scope, restapi_id, authorizer_id, req.json()),
    }),
  );
  route(
    'DELETE',
    '/restapis/{restapi_id}/stages/{stage_name}/cache/data',
    'FlushStageCache',
    async (scope, { restapi_id, stage_name }) => {
      await rest.getStage(scope, restapi_id, stage_name);
      restServer.flushCache(restapi_id, stage_name);
      return { status: 202 };
    },
  );
  return routes;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const vpcLinks = new VpcLinks({ store: deps.store, clock: deps.clock });
  const engine = new GatewayEngine({
    store: deps.store,
    clock: deps.clock,
    vpcLinkExists: async (scope, id) => (await vpcLinks.findV2(scope, id)) !== undefined,
  });
  const server = new GatewayServer({
    engine,
    invoke: lambdaInvoker(deps.lambda, deps.region),
    clock: deps.clock,
    logger: deps.logger,
    logs: deps.logs,
    accountLimits: deps.accountLimits,
    metrics: deps.metrics,
    callService: deps.callService,
    authenticate: deps.authenticate,
    privateTargets: deps.privateTargets,
  });
  const rest = new RestEngine({
    store: deps.store,
    clock: deps.clock,
    accountLimits: deps.accountLimits,
    vpcLinkExists: async (scope, id) => (await vpcLinks.findV1(scope, id)) !== undefined,
    webSocketStages: async (apiId) => {
      const scope = await engine.findApiScope(apiId);
      const api = scope ? await engine.findApi(apiId) : undefined;
      return scope && api?.protocolType === 'WEBSOCKET'
        ? { scope, stages: api.stages.map((s) => s.stageName) }
        : undefined;
    },
  });
  const certs = new ClientCertificates({ store: deps.store, clock: deps.clock });
  const restServer = new RestServer({
    engine: rest,
    invoke: lambdaInvoker(deps.lambda, deps.region),
    clock: deps.clock,
    accountLimits: deps.accountLimits,
    logger: deps.logger.child({ component: 'gateway-rest' }),
    metrics: deps.metrics,
    logs: deps.logs,
    callService: deps.callService,
    authenticate: deps.authenticate,
    random: deps.random,
    privateTargets: deps.privateTargets,
    vpcLinkExists: async (scope, id) => (await vpcLinks.findV1(scope, id)) !== undefined,
    clientCertificate: async (scope, id) => {
      const rec = await certs.find(scope, id);
      return rec && { certificatePem: rec.pemEncodedCertificate, privateKeyPem: rec.privateKeyPem };
    },
  });
  server.fallback = (req, res, requestId, apiId, url, via) =>
    restServer.tryHandle(req, res, requestId, apiId, url, via);
  const domains = new DomainEngine({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'gateway-domains' }),
    readTruststore: deps.callService && truststoreReader(deps.callService),
    findApi: async (apiId) => {
      const scope = await engine.findApiScope(apiId);
      const api = scope ? await engine.findApi(apiId) : undefined;
      if (scope && api)
        return {
          scope,
          kind: api.protocolType === 'WEBSOCKET' ? 'WEBSOCKET' : 'HTTP',
          stages: api.stages.map((s) => s.stageName),
        };
      const r = await rest.findApi(apiId);
      return r ? { scope: r.scope, kind: 'REST', stages: r.api.stages.map((s) => s.stageName) } : undefined;
    },
  });
  const v2 = gatewayV2Service(engine);
  const service: RestJsonService = {
    ...v2,
    routes: [
      ...servingRoutes(engine, server, rest, restServer),
      ...v2.routes,
      ...tagRoutesV2(engine, domains, vpcLinks),
      ...restApiRoutes(rest, { store: deps.store, clock: deps.clock }),
      ...domainRoutes(domains),
      ...vpcLinkRoutes(vpcLinks),
    ],
  };
  // Mutual TLS: a domain with a truststore takes only requests with a client certificate it trusts.
  const clientCertAllowed = (req: IncomingMessage, truststore: Truststore | undefined): boolean => {
    if (!truststore) return true;
    const cert = trustedClientCert(req, truststore, Date.now());
    if (cert) setClientCert(req, cert);
    return cert !== undefined;
  };
  const domainHandler: RawHandler = (req, res, requestId) => {
    const to = domains.resolve(req.headers.host, req.url ?? '/', req.headers);
    res.setHeader('x-amzn-RequestId', requestId);
    if (!to) {
      req.resume();
      return send(res, jsonMessage(404, 'Not Found'));
    }
    if (!clientCertAllowed(req, to.domain.truststore)) {
      req.resume();
      return send(res, jsonMessage(403, 'Forbidden'));
    }
    const below = to.rest.startsWith('?') ? '/' + to.rest : to.rest;
    return server.serveApi(req, res, requestId, to.mapping.apiId, below, {
      domainName: to.domainName,
      stage: to.mapping.stage,
      rawPath: to.path,
    });
  };
  const connections = new Connections({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'gateway-websocket' }),
    cluster: deps.cluster,
  });
  const websocket = new WebSocketGateway({
    engine,
    invoke: lambdaInvoker(deps.lambda, deps.region),
    clock: deps.clock,
    logger: deps.logger.child({ component: 'gateway-websocket' }),
    accountLimits: deps.accountLimits,
    connections,
    authenticate: deps.authenticate,
    limits: deps.websocketLimits,
    logs: deps.logs,
    metrics: deps.metrics,
    callService: deps.callService,
    checkApiKey: (scope, apiId, stage, value, throttler) =>
      checkApiKey(rest, throttler, scope, apiId, stage, value),
  });
  server.websocketHttp = (req, res, requestId, apiId, url) =>
    websocket.serveHttp(req, res, requestId, apiId, url);
  // A handshake to a custom domain without a mapping (with a stage) for its path is not ours:
  // the front door answers it 404 as it answers every upgrade nobody takes. Routing rules
  // invoke REST APIs only, so a handshake a rule matches is not ours either.
  const viaDomain = (req: IncomingMessage) => {
    const to = domains.resolve(req.headers.host, req.url ?? '/', req.headers);
    return to?.via === 'mapping' && to.mapping.stage ? { ...to, stage: to.mapping.stage } : undefined;
  };
  const upgrade: UpgradeMount = {
    test: (req) =>
      domains.lookup(req.headers.host)
        ? viaDomain(req) !== undefined
        : WebSocketGateway.addresses(req, API_HOST_PATTERN),
    handle: (req, socket, head) => {
      const to = viaDomain(req);
      if (!to) return websocket.handleUpgrade(req, socket, head, API_HOST_PATTERN);
      if (!clientCertAllowed(req, to.domain.truststore))
        return rejectHandshake(socket, 403, { message: 'Forbidden' });
      websocket.handleDomainUpgrade(req, socket, head, to.mapping.apiId, {
        stage: to.stage,
        domainName: to.domainName,
        below: to.rest || '/',
      });
    },
    close: () => {
      restServer.close();
      return websocket.close();
    },
  };
  return {
    engine,
    service,
    server,
    rest,
    websocket,
    upgrade,
    connectionsService: connectionsService(connections),
    domains,
    isDomainHost: (host) => domains.lookup(host) !== undefined,
    domainHandler,
  };
}

/**
 * Reads a custom domain's truststore from Nimbus's S3 as the domain's account (GetObject, at a
 * version when one is named), as API Gateway reads it when mutual TLS is configured.
 */
function truststoreReader(call: ServiceCaller) {
  return async (scope: Scope, bucket: string, key: string, version?: string): Promise<Buffer> => {
    const query = new URLSearchParams(version ? { versionId: version } : {});
    const r = await call(scope.accountId, {
      region: scope.region,
      service: 's3',
      method: 'GET',
      path: `/${bucket}/${key}`,
      query,
      headers: {},
      body: Buffer.alloc(0),
      timeoutMs: 10_000,
    });
    if (r.status !== 200) {
      const code = /<Code>([^<]+)<\/Code>/.exec(r.body.toString('utf8'))?.[1] ?? `HTTP ${r.status}`;
      throw domainErrors.badRequest(
        `Unable to read the truststore at s3://${bucket}/${key}${version ? ` (version ${version})` : ''}: ${code}`,
      );
    }
    return r.body;
  };
}
