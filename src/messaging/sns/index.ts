/**
 * Wires SNS into a Nimbus process: the engine, the delivery workers, the Query service and
 * the public endpoints SNS messages point to (`/_nimbus/sns/`: the signing certificate, the
 * SubscribeURL and the UnsubscribeURL, which work without AWS credentials as in AWS).
 */
import type { MetricsSink } from '../../core/metrics-sink.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import { AwsError, toAwsError } from '../../protocols/errors.js';
import { encodeQueryError, encodeQueryResult } from '../../protocols/xml.js';
import type { QueryService } from '../../server/service.js';
import { SnsEngine } from './engine.js';
import {
  CERT_PATH_PREFIX,
  SnsDelivery,
  type LambdaTarget,
  type SqsInTransaction,
  type SqsTarget,
} from './delivery.js';
import { SNS_XMLNS, createSnsService } from './api.js';
import { parseSubscriptionArn } from './model.js';

export { SnsEngine } from './engine.js';
export { SnsDelivery, CERT_PATH_PREFIX } from './delivery.js';
export type { SqsTarget, LambdaTarget } from './delivery.js';

export interface SnsModuleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Base URL until the server knows its own (setBaseUrl). */
  baseUrl: string;
  sqs?: () => (SqsTarget & SqsInTransaction) | undefined;
  lambda?: () => LambdaTarget | undefined;
  concurrency?: number;
  /** Built-in AWS/SNS metrics. */
  metrics?: MetricsSink;
}

export interface SnsModule {
  engine: SnsEngine;
  delivery: SnsDelivery;
  service: QueryService;
  /** `frontDoor.mount(CERT_PATH_PREFIX, sns.publicHandler)`. */
  publicHandler: (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;
  setBaseUrl(url: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSns(deps: SnsModuleDeps): SnsModule {
  let base = deps.baseUrl;
  const baseUrl = () => base;
  const engine = new SnsEngine({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    baseUrl,
    metrics: deps.metrics,
    inlineSqs: (tx, sub, topic, job) => delivery.deliverInTransaction(tx, sub, topic, job),
  });
  const delivery: SnsDelivery = new SnsDelivery({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'sns-delivery' }),
    baseUrl,
    sqs: deps.sqs,
    sqsInTransaction: deps.sqs,
    lambda: deps.lambda,
    concurrency: deps.concurrency,
    metrics: deps.metrics,
  });

  const publicHandler = async (req: IncomingMessage, res: ServerResponse, requestId: string) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    req.resume();
    const file = url.pathname.slice(CERT_PATH_PREFIX.length);
    if (file.startsWith('SimpleNotificationService-') && file.endsWith('.pem')) {
      const key = await delivery.signingKey();
      if (file !== `SimpleNotificationService-${key.id}.pem`) return send(404, 'text/plain', 'Not Found');
      return send(200, 'application/x-x509-ca-cert', key.certificatePem);
    }
    const action = url.searchParams.get('Action');
    try {
      if (file === '' && action === 'ConfirmSubscription') {
        const arn = await engine.confirmSubscription(
          url.searchParams.get('TopicArn') ?? undefined,
          url.searchParams.get('Token') ?? undefined,
        );
        const r = encodeQueryResult('ConfirmSubscription', SNS_XMLNS, { SubscriptionArn: arn }, requestId);
        return send(r.status, 'text/xml', String(r.body));
      }
      if (file === '' && action === 'Unsubscribe') {
        const arn = url.searchParams.get('SubscriptionArn') ?? '';
        if (!parseSubscriptionArn(arn))
          throw new AwsError('InvalidParameter', 'Invalid parameter: SubscriptionArn', 400);
        const sub = await engine.getSubscription(arn);
        if (sub.authenticateOnUnsubscribe)
          throw new AwsError(
            'AuthorizationError',
            'Unsubscribe requires authentication for this subscription',
            403,
          );
        await engine.unsubscribe(arn);
        const r = encodeQueryResult('Unsubscribe', SNS_XMLNS, undefined, requestId);
        return send(r.status, 'text/xml', String(r.body));
      }
      throw new AwsError(
        'InvalidAction',
        `The action ${action ?? ''} is not valid for this web service.`,
        400,
      );
    } catch (e) {
      const r = encodeQueryError(SNS_XMLNS, toAwsError(e), requestId);
      return send(r.status, 'text/xml', String(r.body));
    }
  };

  return {
    engine,
    delivery,
    service: createSnsService(engine),
    publicHandler,
    setBaseUrl(url) {
      base = url;
    },
    start: () => delivery.start(),
    stop: () => delivery.stop(),
  };
}
