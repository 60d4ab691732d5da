/**
 * Wires one Nimbus process: Store, CloudWatch Logs, STS, the front door (TCP + Unix socket).
 * `startNimbus(config)` resolves once requests are being served; `close()` shuts down
 * gracefully (stop accepting, finish in-flight requests within a bound, flush logs, close
 * the store).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NimbusConfig } from '../core/config.js';
import { OffsetClock, type Clock } from '../core/clock.js';
import { createLogger, type Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import { openStore } from '../storage/index.js';
import { LogsEngine } from '../monitor/logs.js';
import { createLogsService } from '../monitor/logs-api.js';
import { Auth, parseSigV4 } from './auth.js';
import { FrontDoor } from './http-server.js';
import { fixedCertificates, localCertificates } from './tls.js';
import { createStsService } from './sts.js';
import type { Service } from './service.js';
import { detectCapabilities } from '../compute/sandbox/capabilities.js';
import { SandboxInstanceManager } from '../compute/sandbox/manager.js';
import {
  createLambda,
  CODE_URL_PREFIX,
  FUNCTION_URL_HOST_PATTERN,
  FUNCTION_URL_PATH_PREFIX,
} from '../compute/index.js';
import type { Engines } from './engines.js';
import { createCluster, type Cluster, type ClusterOptions } from '../cluster/index.js';
import { createDynamoDb } from '../data/index.js';
import { createSqs } from '../messaging/sqs/index.js';
import { registerClockRoutes } from '../messaging/clock.js';
import { createSns, CERT_PATH_PREFIX as SNS_PUBLIC_PREFIX } from '../messaging/sns/index.js';
import { createSchedules, type MessageTargets } from '../messaging/schedules/index.js';
import { serviceCaller } from './self-call.js';
import { createGateway, API_HOST_PATTERN, API_PATH_PREFIX } from '../gateway/index.js';
import { appPort } from '../gateway/app-port.js';
import { createMonitoring } from '../monitor/index.js';
import { createStacks } from '../deploy/stacks/index.js';
import { providers as deployProviders, RECORDED_TYPES } from '../deploy/providers/index.js';
import { createS3, isS3Request } from '../s3/index.js';
import { engineTargets } from '../s3/targets.js';

export interface IsolationInfo {
  level: string;
  reason?: string;
}

/** What service factories receive: the shared pieces of this process. */
export interface NimbusCore {
  config: NimbusConfig;
  clock: Clock;
  logger: Logger;
  store: Store;
  auth: Auth;
  logs: LogsEngine;
  frontDoor: FrontDoor;
  /** This node in the cluster: node registry and cluster-wide singleton leases. */
  cluster: Cluster;
}

export interface ExtraServices {
  services: Service[];
  /** Called during shutdown after the front door stopped, before logs flush and the store closes. */
  close?: () => Promise<void>;
  /** Overrides the isolation report of the health endpoint. */
  isolation?: () => IsolationInfo;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Isolation level reported by `/_nimbus/health` (the compute layer knows it). */
  isolation?: () => IsolationInfo;
  /** Services wired by others (Lambda, ...): built once the core is up. */
  extraServices?: (core: NimbusCore) => Promise<ExtraServices | Service[]> | ExtraServices | Service[];
  maxBodyBytes?: number;
  /** How long shutdown waits for in-flight requests (default 10 s). */
  shutdownGraceMs?: number;
  /** Log flush interval (default 50 ms). */
  logFlushIntervalMs?: number;
  /** Node id, heartbeat interval, lease length (cluster mode). */
  cluster?: ClusterOptions;
  /** Draws in [0, 1) routing requests to REST stages' canary releases (default Math.random). */
  random?: () => number;
}

export interface Nimbus extends NimbusCore {
  /** `http://host:port` */
  endpoint: string;
  port: number;
  /** `<dataDir>/run/aws.sock`: the same APIs over a Unix socket (sandboxes use it). */
  socketPath: string;
  /** `http://host:port` of the app port (config.apiPort), when there is one. */
  apiPortUrl?: string;
  /** `https://host:port` of the HTTPS port (config.tls), when there is one. */
  tlsEndpoint?: string;
  /** The local CA certificate the HTTPS port's certificates chain to (none with the operator's own). */
  tlsCaFile?: string;
  close(): Promise<void>;
}

export const NIMBUS_VERSION = readVersion();

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version as string;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
}

function endpointFor(host: string, port: number): string {
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  return `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`;
}

export async function startNimbus(config: NimbusConfig, opts: StartOptions = {}): Promise<Nimbus> {
  // An OffsetClock: in dev mode POST /_nimbus/clock moves every timer forward at once.
  const clock = opts.clock ?? new OffsetClock();
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const startedAt = clock.now();
  const dataDir = resolve(config.dataDir);
  // First, before anything is opened: `--isolation strict` refuses to start without sandboxing.
  const capabilities = detectCapabilities(config.compute.isolation, {
    sandboxUid: config.compute.sandboxUidBase,
  });
  const store = await openStore(
    { storage: config.storage, dataDir },
    clock,
    logger.child({ component: 'store' }),
  );
  const logs = new LogsEngine({
    store,
    clock,
    logger: logger.child({ component: 'logs' }),
    flushIntervalMs: opts.logFlushIntervalMs,
  });
  const auth = new Auth({ mode: config.auth.mode, keys: config.auth.keys, clock });
  const frontDoor = new FrontDoor({
    logger: logger.child({ component: 'http' }),
    auth,
    region: config.region,
    maxBodyBytes: opts.maxBodyBytes,
  });
  const cluster = createCluster(
    { store, clock, logger: logger.child({ component: 'cluster' }), version: NIMBUS_VERSION },
    opts.cluster,
  );
  const core: NimbusCore = { config, clock, logger, store, auth, logs, frontDoor, cluster };

  frontDoor.register(createStsService(auth));
  frontDoor.register(createLogsService(logs));

  // The Unix socket sandboxes reach Nimbus through: bound before any sandbox (warm spares start
  // right away and bind it into their mount namespace).
  const socketPath = join(dataDir, 'run', 'aws.sock');
  try {
    await frontDoor.listenUnix(socketPath);
  } catch (e) {
    await logs.close();
    await store.close();
    throw e;
  }

  // ---- extra services (the lead wires Lambda and the rest here) ----
  let boundPort = config.port;
  const instances = new SandboxInstanceManager({
    config: config.compute,
    dataDir,
    awsSocket: socketPath,
    endpointPort: config.port || 4566,
    hostEndpointPort: () => boundPort,
    capabilities,
    clock,
    logger: logger.child({ component: 'sandbox' }),
  });
  const sandboxCreds = new Map<string, ReturnType<Auth['issueCredentials']>>();
  const lambda = createLambda({
    store,
    clock,
    logger: logger.child({ component: 'lambda' }),
    config,
    logs,
    instances,
    // One set of temporary credentials per account, renewed an hour before it expires.
    credentialsFor: (accountId) => {
      let c = sandboxCreds.get(accountId);
      if (!c || c.expiration.getTime() - clock.now() < 3600_000) {
        c = auth.issueCredentials(accountId, { roleName: 'nimbus-lambda', sessionName: 'lambda' });
        sandboxCreds.set(accountId, c);
      }
      return c;
    },
    codeCacheDir: join(dataDir, 'lambda-code'),
    auth,
  });
  frontDoor.mount(CODE_URL_PREFIX, lambda.codeDownload);
  frontDoor.mount(FUNCTION_URL_PATH_PREFIX, lambda.functionUrls.pathHandler);
  frontDoor.mountHost(FUNCTION_URL_HOST_PATTERN, lambda.functionUrls.hostHandler);
  await lambda.start();
  // Cross-service calls go through these engines. New service modules: create yours below,
  // in dependency order, add its engine here (and its field to src/server/engines.ts), register
  // its services with frontDoor.register(...), and stop it in `close` (reverse order).
  const monitoring = createMonitoring({
    store,
    clock,
    logger,
    logs,
    lambda: lambda.engine,
    lambdaPolicy: async (scope, functionArn) => {
      try {
        return (await lambda.policies.get(scope, functionArn, undefined)).Policy;
      } catch {
        return undefined; // no policy (or no function: the check says so)
      }
    },
    frontDoor,
    region: config.region,
    authMode: config.auth.mode,
    otlpEndpoint: process.env.NIMBUS_OTLP_ENDPOINT || undefined,
    recordBuiltins: process.env.NIMBUS_BUILTIN_METRICS !== 'off',
    // Alarm actions on SNS topics (SNS is created below; an alarm fires only after start-up).
    publishSns: async (scope, topicArn, subject, message) => {
      await sns.engine.publish(scope, topicArn, { message, subject });
    },
  });
  for (const s of monitoring.services) frontDoor.register(s);
  // Built-in AWS/ApiGateway, AWS/DynamoDB, AWS/SQS and AWS/SNS metrics (off with NIMBUS_BUILTIN_METRICS=off).
  const builtinMetrics = process.env.NIMBUS_BUILTIN_METRICS !== 'off' ? monitoring.metrics : undefined;
  const gateway = createGateway({
    store,
    clock,
    logger: logger.child({ component: 'gateway' }),
    logs,
    lambda: lambda.engine,
    region: config.region,
    accountLimits: config.apiThrottle,
    metrics: builtinMetrics,
    random: opts.random,
    privateTargets: config.privateTargets,
    // REST API AWS integrations (SQS, DynamoDB, SNS, ...) call this Nimbus as the API's account.
    callService: serviceCaller(() => endpointUrl, auth, 'nimbus-apigateway'),
    // WebSocket connections live on the node that accepted them; others forward @connections calls.
    cluster: { nodeId: cluster.nodeId, nodes: () => cluster.nodes() },
    // WebSocket @connections calls to a stage URL, and REST API resource policies' signed callers.
    authenticate: async (req, path, body) => {
      const url = req.url ?? '/';
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      const sig = parseSigV4(req.headers, query);
      const who = await auth.authenticate(
        { method: req.method ?? 'GET', path, query, headers: req.headers, body },
        sig,
        'rest-json',
      );
      return { accountId: who.accountId, arn: who.arn, accessKeyId: who.accessKeyId, userId: who.userId };
    },
  });
  frontDoor.register(gateway.service);
  frontDoor.register(gateway.connectionsService);
  frontDoor.mountUpgrade(gateway.upgrade);
  frontDoor.mount(API_PATH_PREFIX, gateway.server.pathHandler);
  frontDoor.mountHost(API_HOST_PATTERN, gateway.server.hostHandler);
  // Custom domain names: an in-memory lookup of the Host header (polled from the Store every second).
  frontDoor.mountHost({ test: gateway.isDomainHost }, gateway.domainHandler);
  await gateway.domains.start();
  const dynamodb = createDynamoDb({
    store,
    clock,
    logger: logger.child({ component: 'dynamodb' }),
    config,
    metrics: builtinMetrics,
    logs,
  });
  await dynamodb.start();
  frontDoor.register(dynamodb.service);
  frontDoor.register(dynamodb.streamsService);
  let endpointUrl = `http://127.0.0.1:${config.port || 4566}`;
  const sqs = createSqs({
    store,
    clock,
    logger: logger.child({ component: 'sqs' }),
    endpoint: () => endpointUrl,
    metrics: builtinMetrics,
  });
  for (const s of sqs.services) frontDoor.register(s);
  registerClockRoutes(frontDoor, clock, config.auth.mode === 'dev');
  const sns = createSns({
    store,
    clock,
    logger: logger.child({ component: 'sns' }),
    metrics: builtinMetrics,
    baseUrl: endpointUrl,
    sqs: () => sqs.engine,
    lambda: () => ({
      invokeAsync: async (functionArn, payload) => {
        const [, , , region, accountId] = functionArn.split(':');
        await lambda.engine.invoke(
          { accountId, region },
          { FunctionName: functionArn, InvocationType: 'Event', Payload: payload },
        );
      },
    }),
  });
  frontDoor.register(sns.service);
  frontDoor.mount(SNS_PUBLIC_PREFIX, sns.publicHandler);
  const schedulesMessages: MessageTargets = {
    sendToQueue: async (scope, queueArn, body, o) => {
      await sqs.engine.sendMessage(scope, queueArn, {
        body,
        messageGroupId: o.messageGroupId,
        messageDeduplicationId: o.messageGroupId ? o.dedupId : undefined,
        messageAttributes: o.attributes
          ? Object.fromEntries(
              Object.entries(o.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
            )
          : undefined,
      });
    },
    publishToTopic: async (scope, topicArn, message, o) => {
      await sns.engine.publish(scope, topicArn, {
        message,
        messageGroupId: o.messageGroupId,
        messageDeduplicationId: o.messageGroupId ? o.dedupId : undefined,
      });
    },
  };
  const schedules = createSchedules({
    messages: () => schedulesMessages,
    store,
    clock,
    logger: logger.child({ component: 'schedules' }),
    leader: cluster.leader,
    lambda: () => ({
      invokeAsync: async (functionArn, payload) => {
        const [, , , region, accountId] = functionArn.split(':');
        await lambda.engine.invoke(
          { accountId, region },
          { FunctionName: functionArn, InvocationType: 'Event', Payload: payload },
        );
      },
    }),
  });
  for (const s of schedules.services) frontDoor.register(s);
  // CloudFormation: providers call this Nimbus's APIs with the stack account's temporary credentials.
  const stacks = createStacks({
    store,
    clock,
    logger: logger.child({ component: 'cloudformation' }),
    providers: deployProviders,
    recordedTypes: RECORDED_TYPES,
    clientConfig: (scope, sessionName) => {
      const c = auth.issueCredentials(scope.accountId, { roleName: 'nimbus-cloudformation', sessionName });
      return {
        endpoint: endpointUrl,
        region: scope.region,
        credentials: {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          sessionToken: c.sessionToken,
        },
      };
    },
  });
  frontDoor.register(stacks.service);
  const s3Targets = engineTargets(() => ({
    lambda: lambda.engine,
    policies: lambda.policies,
    sqs: sqs.engine,
    sns: sns.engine,
    events: schedules.engine,
  }));
  const s3 = createS3({
    store,
    clock,
    logger: logger.child({ component: 's3' }),
    auth,
    region: config.region,
    maxBodyBytes: frontDoor.maxBodyBytes,
    // Event notifications go to Lambda (async invoke), SQS and SNS through their engines.
    targets: () => s3Targets,
  });
  frontDoor.mountWhen(isS3Request, s3.handler);
  const engines: Engines = {
    lambda: lambda.engine,
    dynamodb: dynamodb.engine,
    sqs: sqs.engine,
    sns: sns.engine,
    gateway: gateway.engine,
    metrics: monitoring.metrics,
    schedules: schedules.engine,
    deploy: stacks.engine,
    s3: s3.engine,
  };
  lambda.attach(engines, cluster.leader);
  lambda.engine.engines = engines;
  dynamodb.startS3Jobs(s3.engine);
  const stopLambda = async () => {
    gateway.domains.stop();
    // Before S3: DynamoDB's export and import jobs use it.
    await dynamodb.stop();
    await s3.close();
    await stacks.close();
    await schedules.stop();
    await lambda.stopPollers();
    await sqs.close();
    await lambda.stop();
    await monitoring.close();
    await instances.close();
  };
  let extra: ExtraServices = {
    services: [],
    isolation:
      opts.isolation ??
      (() => ({ level: instances.capabilities.level, reason: instances.capabilities.reason })),
  };
  if (opts.extraServices) {
    const got = await opts.extraServices(core);
    extra = Array.isArray(got) ? { ...extra, services: got } : { isolation: extra.isolation, ...got };
    for (const s of extra.services) frontDoor.register(s);
  }
  // Registered after the extra services, so a test's stand-in for a route wins over Lambda's.
  frontDoor.register(lambda.service);
  // ---- end of extra services ----

  const isolation =
    extra.isolation ?? opts.isolation ?? (() => ({ level: 'unknown', reason: 'no compute layer wired' }));
  frontDoor.addInternalRoute('GET', '/_nimbus/health', async () => ({
    body: {
      status: 'ok',
      version: NIMBUS_VERSION,
      storage: { kind: store.kind, description: store.description },
      isolation: isolation(),
      uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000),
      services: frontDoor.serviceNames(),
      nodeId: cluster.nodeId,
      nodes: (await cluster.nodes()).map(({ id, endpoint, alive, lastHeartbeat }) => ({
        id,
        endpoint,
        alive,
        lastHeartbeat,
      })),
    },
  }));

  let port: number;
  let apiPortUrl: string | undefined;
  let tlsEndpoint: string | undefined;
  let tlsCaFile: string | undefined;
  try {
    port = boundPort = await frontDoor.listen(config.port, config.host);
    if (config.apiPort !== undefined) {
      const app = appPort(
        {
          store,
          clock,
          http: gateway.engine,
          rest: gateway.rest,
          serve: (req, res, id, apiId, url) => gateway.server.serveApi(req, res, id, apiId, url),
          hostHandler: gateway.server.hostHandler,
          hostPattern: API_HOST_PATTERN,
          isDomainHost: gateway.isDomainHost,
          domainHandler: gateway.domainHandler,
          upgrade: {
            connect: (req, socket, head, apiId, via) =>
              gateway.websocket.handleDomainUpgrade(req, socket, head, apiId, via),
            fallback: frontDoor.handleUpgrade,
          },
        },
        config.api,
      );
      apiPortUrl = endpointFor(
        config.host,
        await frontDoor.listenApp(config.apiPort, config.host, app.handler, app.upgrade),
      );
    }
    if (config.tls) {
      const { port: tlsPort, certFile, keyFile } = config.tls;
      const certs =
        certFile && keyFile
          ? fixedCertificates(certFile, keyFile)
          : await localCertificates(join(config.dataDir, 'tls'), [config.host], store);
      tlsCaFile = certs.caFile;
      tlsEndpoint = endpointFor(config.host, await frontDoor.listenTls(tlsPort, config.host, certs)).replace(
        /^http:/,
        'https:',
      );
    }
    await cluster.start(endpointFor(config.host, port));
  } catch (e) {
    await cluster.stop().catch(() => {});
    await frontDoor.close(0);
    await extra.close?.();
    await stopLambda();
    await logs.close();
    await store.close();
    throw e;
  }
  const endpoint = endpointFor(config.host, port);
  endpointUrl = endpoint;
  sns.setBaseUrl(endpoint);
  await sns.start();
  schedules.start();
  s3.start();
  await stacks.start();
  logger.info('nimbus is serving', { endpoint, socketPath, storage: store.description });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await frontDoor.close(opts.shutdownGraceMs ?? 10_000);
      await cluster.stop().catch((e: unknown) => logger.error('cluster leave failed', { err: e }));
      try {
        await extra.close?.();
      } catch (e) {
        logger.error('a service failed to shut down', { err: e });
      }
      await sns.stop().catch((e: unknown) => logger.error('sns failed to shut down', { err: e }));
      await stopLambda().catch((e: unknown) => logger.error('lambda failed to shut down', { err: e }));
      await logs.close();
      await store.close();
      rmSync(socketPath, { force: true });
      logger.info('nimbus stopped');
    })());

  return { ...core, endpoint, port, socketPath, apiPortUrl, tlsEndpoint, tlsCaFile, close };
}
