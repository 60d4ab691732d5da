import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixture, json } from './sandbox-helpers.js';
import { detectCapabilities } from '../../src/compute/sandbox/capabilities.js';

const caps = detectCapabilities('auto');
const skip = caps.level !== 'bubblewrap' ? `bubblewrap unavailable: ${caps.reason}` : false;

/** A function that runs the given JS body (with `event`) and returns its result or the error code. */
const probe = `exports.handler = async (event) => {
  const fs = require('node:fs'); const net = require('node:net'); const cp = require('node:child_process');
  try { return { ok: await (${'async () => { return eval(event.js); }'})() }; }
  catch (e) { return { code: e.code || e.name, message: e.message }; }
};`;

async function run(f: ReturnType<typeof fixture>, js: string, over = {}) {
  const code = f.code({ 'index.js': probe });
  const r = await f.manager.invoke(f.spec(code, over), f.input({ js }, 10));
  assert.equal(r.status, 'ok', r.payload.toString());
  return json(r.payload) as { ok?: unknown; code?: string; message?: string };
}

test('security: cannot read /etc/shadow', { skip }, async () => {
  await using f = fixture();
  const r = await run(f, `fs.readFileSync('/etc/shadow', 'utf8')`);
  assert.equal(r.code, 'ENOENT');
  const passwd = await run(f, `fs.readFileSync('/etc/passwd', 'utf8')`);
  assert.doesNotMatch(String(passwd.ok), /^root:x:0:0:root:\/root:\/bin\/bash/m, 'not the host /etc/passwd');
});

test('security: cannot read the data dir', { skip }, async () => {
  await using f = fixture();
  writeFileSync(join(f.dataDir, 'secret.txt'), 'top secret', { mode: 0o644 });
  const r = await run(f, `fs.readFileSync(${JSON.stringify(join(f.dataDir, 'secret.txt'))}, 'utf8')`);
  assert.equal(r.code, 'ENOENT');
  const staging = await run(f, `fs.readdirSync(${JSON.stringify(join(f.dataDir, 'sandbox'))})`);
  assert.equal(staging.code, 'ENOENT');
});

test("security: cannot read another function's staged code", { skip }, async () => {
  await using f = fixture();
  const other = f.code({ 'index.js': 'exports.handler = async () => "other"; // SECRET-CODE' });
  const r1 = await f.manager.invoke(f.spec(other, { key: 'other' }), f.input());
  const otherStaging = join(f.dataDir, 'sandbox', 'staging', r1.instanceId);
  assert.ok(readdirSync(otherStaging).includes('index.js'));
  const r = await run(f, `fs.readFileSync(${JSON.stringify(join(otherStaging, 'index.js'))}, 'utf8')`);
  assert.equal(r.code, 'ENOENT');
  const mine = await run(f, `fs.readdirSync('/var/task')`);
  assert.deepEqual(mine.ok, ['index.js']);
  // Not through /proc either: the other instance's processes are in another pid namespace.
  const procs = await run(f, `fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length`);
  assert.ok((procs.ok as number) <= 3, String(procs.ok));
});

test('security: cannot write /var/task', { skip }, async () => {
  await using f = fixture();
  const r = await run(f, `fs.writeFileSync('/var/task/evil.js', 'x')`);
  assert.equal(r.code, 'EROFS');
  const tmp = await run(f, `fs.writeFileSync('/tmp/ok', 'x'), fs.readFileSync('/tmp/ok', 'utf8')`);
  assert.equal(tmp.ok, 'x');
});

test(
  "security: cannot connect to the host's 127.0.0.1 without egress, can with egress",
  { skip },
  async () => {
    await using f = fixture();
    const server = createNetServer((s) => s.end('hello from host'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const js = `new Promise((res, rej) => { const s = net.connect(${port}, '127.0.0.1'); let d = '';
      s.on('data', (c) => d += c); s.on('end', () => res(d)); s.on('error', rej); })`;
      const r = await run(f, js);
      assert.ok(r.code === 'ECONNREFUSED' || r.code === 'ENETUNREACH', JSON.stringify(r));
      const outside = await run(
        f,
        `new Promise((res, rej) => { const s = net.connect(53, '8.8.8.8'); s.on('connect', () => res('connected')); s.on('error', rej); })`,
      );
      assert.equal(outside.code, 'ENETUNREACH');
      const withEgress = await run(f, js, { egress: true, key: 'egress' });
      assert.equal(withEgress.ok, 'hello from host');
    } finally {
      server.close();
    }
  },
);

test(
  'security: a fork bomb is bounded by pids.max and the instance is still killable',
  { skip: skip || (caps.cgroups === 'none' && 'no cgroups: pids.max is not enforced') },
  async () => {
    await using f = fixture();
    const js = `new Promise((res) => { let started = 0, failed = 0;
    for (let i = 0; i < 200; i++) { const c = cp.spawn('sleep', ['600']); c.on('spawn', () => started++); c.on('error', () => failed++); }
    setTimeout(() => res({ started, failed }), 1500); })`;
    const code = f.code({ 'index.js': probe });
    const spec = f.spec(code, { timeoutSec: 10 });
    const r = await f.manager.invoke(spec, f.input({ js }, 10));
    const out = (json(r.payload) as { ok: { started: number; failed: number } }).ok;
    assert.ok(out.started < 64, JSON.stringify(out));
    assert.ok(out.failed > 100, JSON.stringify(out));
    const uid = Number(
      execFileSync('stat', ['-c', '%u', join(f.dataDir, 'sandbox', 'staging', r.instanceId)], {
        encoding: 'utf8',
      }),
    );
    f.manager.retire(spec.key);
    for (let i = 0; i < 100; i++) {
      if (countProcs(uid) === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(countProcs(uid), 0, 'every process of the instance was killed');
  },
);

function countProcs(uid: number): number {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-u', String(uid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean).length;
  } catch {
    return 0;
  }
}

test('security: runs as a non-root uid without capabilities', { skip }, async () => {
  await using f = fixture();
  const r = await run(
    f,
    `({ uid: process.getuid(), gid: process.getgid(), status: fs.readFileSync('/proc/self/status', 'utf8') })`,
  );
  const ok = r.ok as { uid: number; gid: number; status: string };
  assert.notEqual(ok.uid, 0);
  assert.ok(ok.uid >= 200000, String(ok.uid));
  assert.notEqual(ok.gid, 0);
  assert.match(ok.status, /^CapEff:\s+0+$/m);
  assert.match(ok.status, /^CapBnd:\s+0+$/m);
});

test('security: the AWS endpoint is reachable through the forwarder', { skip }, async () => {
  const dir = join('/tmp', `nimbus-sock-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { mode: 0o755 });
  const sock = join(dir, 'aws.sock');
  const server = createHttpServer((req, res) =>
    res.end(JSON.stringify({ via: 'nimbus', path: req.url, auth: !!req.headers.authorization })),
  );
  await new Promise<void>((r) => server.listen(sock, r));
  chmodSync(sock, 0o666);
  try {
    await using f = fixture({ manager: { awsSocket: sock, endpointPort: 4566 } });
    const r = await run(
      f,
      `fetch(process.env.AWS_ENDPOINT_URL + '/ping', { headers: { authorization: 'x' } }).then((x) => x.json())`,
    );
    assert.deepEqual(r.ok, { via: 'nimbus', path: '/ping', auth: true });
    assert.equal((await run(f, `process.env.AWS_ENDPOINT_URL`)).ok, 'http://127.0.0.1:4566');
  } finally {
    server.close();
    execFileSync('rm', ['-rf', dir]);
  }
});

test("a sandbox starts when a killed process left its uid's /etc half written", { skip }, async () => {
  await using f = fixture();
  // What kill -9 during the first cold start leaves: passwd written, the other files not.
  const etc = join(f.dataDir, 'sandbox', 'etc', String(f.uidBase));
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  writeFileSync(join(etc, 'passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\n', { mode: 0o644 });
  const r = await run(f, `require('node:fs').readFileSync('/etc/passwd', 'utf8')`);
  assert.match(String(r.ok), /^sbx_user:x:\d+:/m, JSON.stringify(r));
  assert.deepEqual(readdirSync(etc).sort(), ['group', 'hosts', 'nsswitch.conf', 'passwd', 'resolv.conf']);
});

test('a killed Nimbus process leaves no staged code behind after the next start', async () => {
  const dead = spawnSync('true').pid!;
  const stale = `i${dead.toString(36)}-0-abcdef`;
  const live = `i${process.pid.toString(36)}-99-abcdef`;
  await using f = fixture({
    before: (dataDir) => {
      for (const id of [stale, live]) {
        mkdirSync(join(dataDir, 'sandbox', 'staging', id), { recursive: true });
        writeFileSync(join(dataDir, 'sandbox', 'staging', id, 'index.js'), 'x');
      }
    },
  });
  const staged = readdirSync(join(f.dataDir, 'sandbox', 'staging'));
  assert.ok(!staged.includes(stale), 'the dead process’s staging dir is gone');
  assert.ok(staged.includes(live), 'a live process’s staging dir is kept');
});
