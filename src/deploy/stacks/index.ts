/**
 * The CloudFormation module: the stack engine, its Query API and the TemplateURL reader.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Store } from '../../storage/store.js';
import type { QueryService } from '../../server/service.js';
import type { ClientConfig, ProviderRegistry } from '../types.js';
import { createCloudFormationService } from './api.js';
import { StackEngine } from './engine.js';
import { errors, type Scope } from './model.js';

export { StackEngine, SKIP_UNSUPPORTED_TAG } from './engine.js';
export { CFN_VERSION, CFN_XMLNS } from './api.js';

export interface StacksModuleDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  providers: ProviderRegistry;
  recordedTypes?: readonly string[];
  /** SDK configuration (this Nimbus's endpoint, the account's temporary credentials). */
  clientConfig: (scope: Scope, sessionName: string) => ClientConfig;
}

export interface StacksModule {
  engine: StackEngine;
  service: QueryService;
  start(): Promise<void>;
  /** Waits for running stack operations. */
  close(): Promise<void>;
}

/**
 * `https://bucket.s3[.region].amazonaws.com/key`, `https://s3[.region].amazonaws.com/bucket/key`
 * or this Nimbus's `/bucket/key`: all read from this Nimbus's S3.
 */
export function parseTemplateUrl(url: string): { bucket: string; key: string } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(u.pathname.replace(/^\//, ''));
  const vhost = /^(.+)\.s3[.-]/.exec(u.hostname);
  if (vhost && u.hostname.endsWith('amazonaws.com'))
    return path ? { bucket: vhost[1], key: path } : undefined;
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) return undefined;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

export function createStacks(deps: StacksModuleDeps): StacksModule {
  const engine = new StackEngine({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    providers: deps.providers,
    recordedTypes: deps.recordedTypes,
    clientConfig: deps.clientConfig,
  });
  const fetchTemplate = async (scope: Scope, url: string): Promise<string> => {
    const loc = parseTemplateUrl(url);
    if (!loc) throw errors.validation('TemplateURL must be a supported URL.');
    const s3 = new S3Client({
      ...deps.clientConfig(scope, 'template'),
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (e) {
      const name = (e as { name?: string }).name ?? 'Error';
      throw errors.validation(
        `S3 error: ${name === 'NoSuchKey' ? 'The specified key does not exist.' : name}`,
      );
    } finally {
      s3.destroy();
    }
  };
  return {
    engine,
    service: createCloudFormationService(engine, fetchTemplate),
    start: () => engine.start(),
    close: () => engine.idle(),
  };
}
