/**
 * Starts a real Nimbus for an end-to-end test: temp data dir, port 0, quiet logs (set
 * NIMBUS_TEST_LOG=debug to see them). Use with `await using` or call close().
 *
 *   await using srv = await startTestServer();
 *   const sts = new STSClient(srv.clientConfig);
 *
 * NIMBUS_TEST_STORAGE=postgres runs it on PostgreSQL instead of SQLite: one throwaway server
 * per test process (started on first use, stopped when the process's tests end), a fresh
 * schema per test server. A test that sets `storage` itself keeps its choice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, type NimbusConfig } from '../../src/core/config.js';
import { createLogger, silentLogger, type LogLevel } from '../../src/core/logger.js';
import { startNimbus, type Nimbus, type StartOptions } from '../../src/server/app.js';
import { testStorage } from './storage.js';

export interface TestServerOverrides extends Partial<NimbusConfig> {
  /** Options for startNimbus (extraServices, clock, isolation, ...). */
  start?: StartOptions;
  /** Credentials of clientConfig (default test/test, which dev mode maps to 000000000000). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface TestServer {
  endpoint: string;
  dataDir: string;
  clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    maxAttempts: number;
  };
  nimbus: Nimbus;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startTestServer(overrides: TestServerOverrides = {}): Promise<TestServer> {
  const { start, credentials, ...config } = overrides;
  const dataDir = config.dataDir ?? mkdtempSync(join(tmpdir(), 'nimbus-test-'));
  const level = process.env.NIMBUS_TEST_LOG as LogLevel | undefined;
  const logger = level ? createLogger({ level }) : silentLogger;
  let nimbus: Nimbus;
  let storage: Awaited<ReturnType<typeof testStorage>> | undefined;
  try {
    if (config.storage === undefined) storage = await testStorage();
    if (storage) config.storage = storage.url;
    nimbus = await startNimbus(defaultConfig({ port: 0, logLevel: 'error', ...config, dataDir }), {
      logger,
      ...start,
    });
  } catch (e) {
    if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
    await storage?.drop();
    throw e;
  }
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      try {
        await nimbus.close();
      } finally {
        if (!config.dataDir) rmSync(dataDir, { recursive: true, force: true });
        await storage?.drop();
      }
    })());
  if (storage) storage.closeServer = close;
  return {
    endpoint: nimbus.endpoint,
    dataDir,
    clientConfig: {
      region: config.region ?? 'us-east-1',
      endpoint: nimbus.endpoint,
      credentials: credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    },
    nimbus,
    close,
    [Symbol.asyncDispose]: close,
  };
}
