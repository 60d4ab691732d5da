/**
 * An acknowledged Event invoke survives kill -9: the node dies while the invoke is queued or
 * running, a new node on the same data dir runs it (once its lease runs out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import { LambdaClient, CreateFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

const CHILD = fileURLToPath(new URL('./lambda-node-child.js', import.meta.url));

function startNode(dataDir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = spawn(process.execPath, [CHILD, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('node did not start in 20 s')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /READY (\S+)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ child, endpoint: m[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited early (${code})`));
    });
  });
}

function clients(endpoint: string) {
  const cfg = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  return { lambda: new LambdaClient(cfg), logs: new CloudWatchLogsClient(cfg) };
}

test('an acknowledged Event invoke runs after kill -9 and restart', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nimbus-durable-'));
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const a = await startNode(dir);
  children.push(a.child);
  const c1 = clients(a.endpoint);
  const z = new AdmZip();
  z.addFile(
    'index.js',
    Buffer.from(
      `exports.handler = async (e) => { await new Promise((r) => setTimeout(r, 1500)); console.log('durable-done', e.marker); return 1; };`,
    ),
    '',
    0o644 << 16,
  );
  await c1.lambda.send(
    new CreateFunctionCommand({
      FunctionName: 'durable',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      // Generous: under a loaded CI machine a cold start plus the 1.5 s handler must not time out.
      Timeout: 60,
      Code: { ZipFile: z.toBuffer() },
    }),
  );
  const marker = `m-${process.pid}-${Date.now()}`;
  const out = await c1.lambda.send(
    new InvokeCommand({
      FunctionName: 'durable',
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify({ marker })),
    }),
  );
  assert.equal(out.StatusCode, 202);
  // Die before the 1.5 s handler can finish (it may already be running).
  a.child.kill('SIGKILL');
  await new Promise((r) => a.child.once('exit', r));
  c1.lambda.destroy();
  c1.logs.destroy();

  const b = await startNode(dir);
  children.push(b.child);
  const c2 = clients(b.endpoint);
  t.after(() => {
    c2.lambda.destroy();
    c2.logs.destroy();
  });
  let found = false;
  const deadline = Date.now() + 60_000;
  while (!found && Date.now() < deadline) {
    try {
      const ev = await c2.logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/durable' }));
      found = (ev.events ?? []).some((e) => e.message?.includes(`durable-done ${marker}`));
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    if (!found) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(found, 'the acknowledged Event invoke ran on the restarted node');
  b.child.kill('SIGTERM');
  await new Promise((r) => b.child.once('exit', r));
});
