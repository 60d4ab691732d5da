/** Fixtures for the sandbox end-to-end tests: a temp data dir, function code dirs, a manager. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { defaultConfig, type IsolationMode } from '../../src/core/config.js';
import { SandboxInstanceManager, type ManagerOptions } from '../../src/compute/sandbox/manager.js';
import type { FunctionSpec, InvokeInput } from '../../src/compute/sandbox/types.js';
import { detectCapabilities, type HostCapabilities } from '../../src/compute/sandbox/capabilities.js';

const capsCache = new Map<string, HostCapabilities>();

export interface Fixture {
  dir: string;
  dataDir: string;
  /** The first sandbox uid of this fixture's manager. */
  uidBase: number;
  manager: SandboxInstanceManager;
  code(files: Record<string, string>): string;
  spec(codeDir: string, over?: Partial<FunctionSpec>): FunctionSpec;
  input(payload?: unknown, timeoutSec?: number): InvokeInput;
  [Symbol.asyncDispose](): Promise<void>;
}

let uidBase = 210000 + (process.pid % 500) * 40;

export function fixture(
  opts: {
    isolation?: IsolationMode;
    warmSpares?: number;
    manager?: Partial<ManagerOptions>;
    /** Runs on the data dir before the manager starts (to leave things there for it to find). */
    before?: (dataDir: string) => void;
  } = {},
): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-sbx-'));
  chmodSync(dir, 0o711);
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  opts.before?.(dataDir);
  const config = defaultConfig().compute;
  config.isolation = opts.isolation ?? 'auto';
  config.warmSpares = opts.warmSpares ?? 0;
  config.sandboxUidBase = uidBase;
  uidBase += 20;
  // Detected once per test file (it runs bubblewrap and python3).
  let capabilities = capsCache.get(config.isolation);
  if (!capabilities) capsCache.set(config.isolation, (capabilities = detectCapabilities(config.isolation)));
  const manager = new SandboxInstanceManager({
    config,
    dataDir,
    endpointPort: 4566,
    capabilities,
    ...opts.manager,
  });
  let n = 0;
  return {
    dir,
    dataDir,
    uidBase: config.sandboxUidBase,
    manager,
    code(files) {
      const codeDir = join(dir, `code-${n++}`);
      for (const [name, text] of Object.entries(files)) {
        const p = join(codeDir, name);
        mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
        writeFileSync(p, text, { mode: name === 'bootstrap' ? 0o755 : 0o644 });
      }
      chmodSync(codeDir, 0o755);
      return codeDir;
    },
    spec(codeDir, over = {}) {
      return {
        key: `fn-${codeDir}`,
        accountId: '000000000000',
        region: 'us-east-1',
        functionName: 'fn',
        functionVersion: '$LATEST',
        runtime: 'nodejs20.x',
        handler: 'index.handler',
        codeDir,
        memoryMb: 128,
        timeoutSec: 5,
        environment: {},
        egress: false,
        logGroup: '/aws/lambda/fn',
        architecture: 'x86_64',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', sessionToken: 'tok' },
        ...over,
      };
    },
    input(payload = {}, timeoutSec = 5) {
      return {
        requestId: randomUUID(),
        payload: Buffer.from(JSON.stringify(payload)),
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
        deadline: Date.now() + timeoutSec * 1000,
      };
    },
    async [Symbol.asyncDispose]() {
      await manager.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function json(buf: Buffer): unknown {
  return JSON.parse(buf.toString('utf8'));
}
