import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { buildTemplate, BuildError } from './build.js';
import { zipArtifact } from './package.js';
import { loadTemplateFile } from './template-file.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/deploy', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'nimbus-build-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh copy of a fixture folder (builds write .nimbus-build next to the template). */
function fixture(name: string): string {
  const dir = join(tmp, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

async function build(dir: string, env?: NodeJS.ProcessEnv) {
  const lines: string[] = [];
  const artifacts = await buildTemplate(loadTemplateFile(join(dir, 'template.yaml')), dir, {
    log: (l) => lines.push(l),
    env,
  });
  return { artifacts, lines };
}

test('a TypeScript function is bundled with esbuild; the bundle loads and runs; unchanged → skipped', async () => {
  const dir = fixture('ts-esbuild');
  const { artifacts, lines } = await build(dir);
  const out = join(dir, '.nimbus-build', 'HelloFunction');
  assert.deepEqual(artifacts, [
    { logicalId: 'HelloFunction', resourceType: 'AWS::Serverless::Function', property: 'CodeUri', path: out },
  ]);
  assert.match(lines[0], /Building HelloFunction \(esbuild\)/);
  assert.ok(existsSync(join(out, 'app.js.map')), 'Sourcemap: true writes a map');
  const mod = createRequire(import.meta.url)(join(out, 'app.js')) as {
    handler: (e: unknown) => Promise<{ body: string }>;
  };
  assert.deepEqual(await mod.handler({ queryStringParameters: { name: 'nimbus' } }), {
    statusCode: 200,
    body: 'hello nimbus',
  });

  const again = await build(dir);
  assert.deepEqual(again.lines, ['Build of HelloFunction skipped: unchanged since the last build']);
  const zip1 = zipArtifact(out);
  assert.deepEqual(
    new AdmZip(zip1.body)
      .getEntries()
      .map((e) => e.entryName)
      .sort(),
    ['app.js', 'app.js.map'],
  );

  writeFileSync(join(dir, 'src', 'greet.ts'), 'export const greet = (n: string): string => `hi ${n}`;\n');
  const third = await build(dir);
  assert.match(third.lines[0], /Building HelloFunction/);
  assert.notEqual(zipArtifact(out).sha256, zip1.sha256, 'changed code, new artifact key');
});

test('esbuild Format esm with OutExtension .mjs', async () => {
  const dir = fixture('ts-esbuild');
  const tpl = readFileSync(join(dir, 'template.yaml'), 'utf8').replace(
    'Sourcemap: true',
    'Sourcemap: false\n        Format: esm\n        OutExtension:\n          - .js=.mjs',
  );
  writeFileSync(join(dir, 'template.yaml'), tpl);
  await build(dir);
  const file = join(dir, '.nimbus-build', 'HelloFunction', 'app.mjs');
  const mod = (await import(pathToFileURL(file).href)) as {
    handler: (e: unknown) => Promise<{ body: string }>;
  };
  assert.equal((await mod.handler({})).body, 'hello world');
});

test('a function with package.json + lock file (no dependencies): npm ci works offline', async () => {
  const dir = fixture('node-lock');
  const { artifacts } = await build(dir, { ...process.env, npm_config_offline: 'true' });
  const out = join(dir, '.nimbus-build', 'Fn');
  assert.equal(artifacts[0].path, out);
  assert.ok(existsSync(join(out, 'index.mjs')));
  assert.ok(existsSync(join(out, 'package-lock.json')));
  assert.ok(!existsSync(join(out, '.nimbus-build')), 'the build folder is not copied into itself');
  const names = new AdmZip(zipArtifact(out).body).getEntries().map((e) => e.entryName);
  assert.ok(!names.some((n) => n.startsWith('.nimbus-build')));
});

test('a python function with requirements.txt and no pip: a clear message naming the function and the command', async () => {
  const dir = fixture('python-req');
  const empty = join(tmp, 'empty-path');
  cpSync(join(FIXTURES, 'python-req', 'fn', 'app.py'), join(empty, 'not-a-tool'), { recursive: true });
  await assert.rejects(build(dir, { PATH: empty }), (e: Error) => {
    assert.ok(e instanceof BuildError);
    assert.match(e.message, /Build of PyFunction \(python3\.12\) failed/);
    assert.match(e.message, /neither "python3 -m pip" nor "pip" is available/);
    assert.match(e.message, /pip install -r requirements\.txt -t .*\.nimbus-build\/PyFunction/);
    return true;
  });
});

test('a build error stops with the tool output; a missing CodeUri is named', async () => {
  const dir = fixture('ts-esbuild');
  writeFileSync(join(dir, 'src', 'app.ts'), 'export const handler = async ( => {\n');
  await assert.rejects(build(dir), (e: Error) => {
    assert.ok(e instanceof BuildError);
    assert.match(e.message, /Build of HelloFunction failed: esbuild: Build failed with 1 error/);
    assert.match(e.message, /app\.ts:1:\d+: ERROR/);
    return true;
  });
  const broken = fixture('node-lock');
  writeFileSync(join(broken, 'package-lock.json'), '{ not json');
  await assert.rejects(
    build(broken, { ...process.env, npm_config_offline: 'true' }),
    /Build of Fn failed: `npm ci --omit=dev/,
  );
  writeFileSync(
    join(broken, 'template.yaml'),
    readFileSync(join(broken, 'template.yaml'), 'utf8').replace('CodeUri: .', 'CodeUri: gone/'),
  );
  await assert.rejects(build(broken), /Build of Fn failed: CodeUri gone does not exist/);
});
