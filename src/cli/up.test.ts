import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs, UsageError } from './args.js';
import { buildConfig, parseKeysEnv, UP_FLAGS } from './up.js';
import { clientOptions, CLIENT_FLAGS } from './client.js';

test('parseArgs: long, inline, short, boolean, positionals and errors', () => {
  const p = parseArgs(
    ['--port', '5000', '--data-dir=/tmp/x', '-h', 'extra', '--example', '--', '--raw'],
    UP_FLAGS,
  );
  assert.deepEqual(p.flags, { port: '5000', 'data-dir': '/tmp/x', help: true, example: true });
  assert.deepEqual(p.positionals, ['extra', '--raw']);
  assert.throws(() => parseArgs(['--nope'], UP_FLAGS), UsageError);
  assert.throws(() => parseArgs(['--port'], UP_FLAGS), /needs a value/);
  assert.throws(() => parseArgs(['--example=yes'], UP_FLAGS), /takes no value/);
});

test('buildConfig: flags over environment over defaults, validated', () => {
  const d = buildConfig({}, {});
  assert.equal(d.port, 4566);
  assert.equal(d.dataDir, '.nimbus');
  assert.equal(d.storage, 'sqlite');
  assert.equal(d.auth.mode, 'dev');

  const env = {
    NIMBUS_PORT: '7000',
    NIMBUS_DATA_DIR: '/env',
    NIMBUS_STORAGE: 'postgres://u@h/db',
    NIMBUS_ISOLATION: 'none',
  };
  const c = buildConfig({ port: '8000', 'warm-spares': '0', 'log-level': 'debug' }, env);
  assert.equal(c.port, 8000);
  assert.equal(c.dataDir, '/env');
  assert.equal(c.storage, 'postgres://u@h/db');
  assert.equal(c.compute.isolation, 'none');
  assert.equal(c.compute.warmSpares, 0);
  assert.equal(c.logLevel, 'debug');
  assert.deepEqual(d.apiThrottle, { rate: 10_000, burst: 5_000 });
  const t = buildConfig({ 'api-rate-limit': '50000' }, { NIMBUS_API_BURST_LIMIT: '20000' });
  assert.deepEqual(t.apiThrottle, { rate: 50_000, burst: 20_000 });
  assert.throws(() => buildConfig({ 'api-rate-limit': '0' }, {}), /whole number from 1/);
  assert.equal(d.tls, undefined);
  assert.deepEqual(buildConfig({ 'tls-port': '4567' }, {}).tls, { port: 4567 });
  assert.deepEqual(
    buildConfig({}, { NIMBUS_TLS_PORT: '0', NIMBUS_TLS_CERT: 'c.pem', NIMBUS_TLS_KEY: 'k.pem' }).tls,
    {
      port: 0,
      certFile: 'c.pem',
      keyFile: 'k.pem',
    },
  );
  assert.throws(() => buildConfig({ 'tls-port': '1', 'tls-cert': 'c.pem' }, {}), /go together/);
  assert.throws(() => buildConfig({ 'tls-cert': 'c.pem', 'tls-key': 'k.pem' }, {}), /need --tls-port/);

  assert.throws(() => buildConfig({ port: '70000' }, {}), UsageError);
  assert.throws(() => buildConfig({ isolation: 'maybe' }, {}), /auto, strict, none/);
  assert.throws(() => buildConfig({ storage: 'mysql://x' }, {}), UsageError);
  assert.throws(() => buildConfig({ auth: 'strict' }, {}), /needs keys/);
});

test('--private-target: repeatable NAME=URL, or NIMBUS_PRIVATE_TARGETS comma-separated', () => {
  const arn = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/1a2b/3c4d';
  const p = parseArgs(
    [
      '--private-target',
      'My-NLB.elb.amazonaws.com=http://127.0.0.1:8080',
      `--private-target=${arn}=https://localhost:8443/`,
    ],
    UP_FLAGS,
  );
  assert.deepEqual(
    [...buildConfig(p.flags, {}).privateTargets!],
    [
      ['my-nlb.elb.amazonaws.com', 'http://127.0.0.1:8080'],
      [arn, 'https://localhost:8443'],
    ],
  );
  const env = { NIMBUS_PRIVATE_TARGETS: 'a.internal:8080=http://127.0.0.1:1, b.internal=http://127.0.0.1:2' };
  assert.deepEqual(Object.fromEntries(buildConfig({}, env).privateTargets!), {
    'a.internal:8080': 'http://127.0.0.1:1',
    'b.internal': 'http://127.0.0.1:2',
  });
  // The flags win over the environment.
  assert.equal(buildConfig({ 'private-target': 'c=http://127.0.0.1:3' }, env).privateTargets!.size, 1);
  assert.equal(buildConfig({}, {}).privateTargets, undefined);
  assert.throws(() => buildConfig({ 'private-target': 'nlb.internal' }, {}), /NAME=URL/);
  assert.throws(() => buildConfig({ 'private-target': '=http://127.0.0.1:1' }, {}), /NAME=URL/);
  assert.throws(
    () => buildConfig({ 'private-target': 'n=ftp://127.0.0.1:1' }, {}),
    /http:\/\/ or https:\/\//,
  );
  assert.throws(() => buildConfig({ 'private-target': 'n=nope' }, {}), /not a URL/);
  assert.throws(() => buildConfig({ 'private-target': 'n=http://127.0.0.1:1/base' }, {}), /without a path/);
});

test('keys come from a keys file and NIMBUS_KEYS', () => {
  const file = JSON.stringify([{ accessKeyId: 'AKIA1', secretAccessKey: 's1', accountId: '111111111111' }]);
  const c = buildConfig(
    { auth: 'strict', 'keys-file': 'k.json' },
    { NIMBUS_KEYS: 'AKIA2:s2:222222222222' },
    () => file,
  );
  assert.deepEqual(
    c.auth.keys.map((k) => k.accountId),
    ['111111111111', '222222222222'],
  );
  assert.throws(() => parseKeysEnv('AKIA:secret'), UsageError);
  assert.throws(() => parseKeysEnv('AKIA:secret:123'), /12-digit/);
  assert.throws(() => buildConfig({ 'keys-file': 'k.json' }, {}, () => '{"keys": 1}'), UsageError);
  assert.throws(
    () =>
      buildConfig({ 'keys-file': 'missing.json' }, {}, () => {
        throw new Error('ENOENT');
      }),
    /cannot read/,
  );
});

test('client options: --endpoint over NIMBUS_ENDPOINT over the default', () => {
  const parse = (argv: string[], env: NodeJS.ProcessEnv) => clientOptions(parseArgs(argv, CLIENT_FLAGS), env);
  assert.equal(parse([], {}).endpoint, 'http://127.0.0.1:4566');
  assert.equal(parse([], { NIMBUS_ENDPOINT: 'http://h:1/' }).endpoint, 'http://h:1');
  const o = parse(['--endpoint', 'http://x:2', '--json'], { AWS_REGION: 'eu-west-1' });
  assert.equal(o.endpoint, 'http://x:2');
  assert.equal(o.json, true);
  assert.equal(o.sdkConfig.region, 'eu-west-1');
});
