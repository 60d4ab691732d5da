import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiArnPrefix,
  compilePolicy,
  decide,
  deniedMessage,
  evaluatePolicy,
  savedPolicy,
  type Caller,
  type PolicyRequest,
} from './resource-policy.js';

const PREFIX = apiArnPrefix('us-east-1', '000000000000', 'abc123');
const ARN = `${PREFIX}/prod/GET/pets/7`;

function effect(statements: unknown[], req: Partial<PolicyRequest> = {}) {
  const policy = compilePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), PREFIX);
  return evaluatePolicy(policy, { resource: ARN, keys: { 'aws:sourceip': '127.0.0.1' }, ...req });
}

const allow = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: '*',
  Action: 'execute-api:Invoke',
  Resource: 'execute-api:/*',
  ...extra,
});
const deny = (extra: Record<string, unknown> = {}) => ({ ...allow(extra), Effect: 'Deny', ...extra });

test('resources: execute-api:/ shorthand, full ARNs, wildcards, NotResource', () => {
  assert.equal(effect([allow()]), 'allow');
  assert.equal(effect([allow({ Resource: 'execute-api:/prod/GET/pets/*' })]), 'allow');
  assert.equal(effect([allow({ Resource: 'execute-api:/prod/POST/*' })]), 'none');
  assert.equal(effect([allow({ Resource: 'execute-api:/*/GET/pets/?' })]), 'allow');
  assert.equal(effect([allow({ Resource: `${PREFIX}/*/*/*` })]), 'allow');
  assert.equal(effect([allow({ Resource: 'arn:aws:execute-api:us-east-1:000000000000:*' })]), 'allow');
  assert.equal(effect([allow({ Resource: 'arn:aws:execute-api:eu-west-1:000000000000:*' })]), 'none');
  assert.equal(effect([allow({ Resource: '*' })]), 'allow');
  // Another API's ARN does not match, nor does a case change (ARNs are case-sensitive).
  assert.equal(effect([allow({ Resource: `${PREFIX}x/*` })]), 'none');
  assert.equal(effect([allow({ Resource: 'execute-api:/prod/get/*' })]), 'none');
  assert.equal(
    effect([allow({ Resource: undefined, NotResource: 'execute-api:/prod/GET/admin/*' })]),
    'allow',
  );
  assert.equal(effect([allow({ Resource: undefined, NotResource: 'execute-api:/prod/GET/pets/*' })]), 'none');
  // No Resource at all: the statement cannot match.
  assert.equal(effect([allow({ Resource: undefined })]), 'none');
});

test('actions: Invoke, wildcards, case, NotAction', () => {
  for (const a of ['execute-api:Invoke', 'execute-api:invoke', 'execute-api:*', '*', 'execute-api:Inv*'])
    assert.equal(effect([allow({ Action: a })]), 'allow', a);
  assert.equal(effect([allow({ Action: ['execute-api:ManageConnections', 'execute-api:Invoke'] })]), 'allow');
  assert.equal(effect([allow({ Action: 'execute-api:InvalidateCache' })]), 'none');
  assert.equal(effect([allow({ Action: undefined, NotAction: 'execute-api:InvalidateCache' })]), 'allow');
  assert.equal(effect([allow({ Action: undefined, NotAction: 'execute-api:*' })]), 'none');
});

test('explicit Deny wins over any Allow, in any order', () => {
  assert.equal(effect([allow(), deny()]), 'deny');
  assert.equal(effect([deny(), allow()]), 'deny');
  assert.equal(effect([allow(), deny({ Resource: 'execute-api:/prod/GET/admin' })]), 'allow');
  assert.equal(effect([deny({ Resource: 'execute-api:/prod/GET/pets/*' })]), 'deny');
});

test('principals: *, {"AWS": "*"}, accounts by id or root ARN, users and role sessions', () => {
  const caller: Caller = { accountId: '111111111111', arn: 'arn:aws:iam::111111111111:root' };
  assert.equal(effect([allow({ Principal: { AWS: '*' } })]), 'allow');
  assert.equal(effect([allow({ Principal: { AWS: '111111111111' } })]), 'none');
  assert.equal(effect([allow({ Principal: { AWS: '111111111111' } })], { caller }), 'allow');
  assert.equal(
    effect(
      [allow({ Principal: { AWS: ['arn:aws:iam::222222222222:root', 'arn:aws:iam::111111111111:root'] } })],
      {
        caller,
      },
    ),
    'allow',
  );
  assert.equal(effect([allow({ Principal: { AWS: ['222222222222'] } })], { caller }), 'none');
  const session: Caller = {
    accountId: '111111111111',
    arn: 'arn:aws:sts::111111111111:assumed-role/deployer/ci',
  };
  assert.equal(
    effect([allow({ Principal: { AWS: 'arn:aws:iam::111111111111:role/deployer' } })], { caller: session }),
    'allow',
  );
  assert.equal(
    effect([allow({ Principal: { AWS: 'arn:aws:iam::111111111111:role/other' } })], { caller: session }),
    'none',
  );
  assert.equal(
    effect([allow({ Principal: { AWS: 'arn:aws:iam::111111111111:user/Alice' } })], { caller }),
    'none',
  );
  // Service principals never call an API; NotPrincipal inverts.
  assert.equal(effect([allow({ Principal: { Service: 'lambda.amazonaws.com' } })]), 'none');
  assert.equal(effect([allow({ Principal: undefined, NotPrincipal: { AWS: '111111111111' } })]), 'allow');
  assert.equal(
    effect([allow({ Principal: undefined, NotPrincipal: { AWS: '111111111111' } })], { caller }),
    'none',
  );
  // No Principal at all: the statement cannot match.
  assert.equal(effect([allow({ Principal: undefined })]), 'none');
});

test('IpAddress / NotIpAddress with IPv4 and IPv6 CIDRs', () => {
  const ip = (list: unknown, sourceIp: string, op = 'IpAddress') =>
    effect([allow({ Condition: { [op]: { 'aws:SourceIp': list } } })], {
      keys: { 'aws:sourceip': sourceIp },
    });
  assert.equal(ip('127.0.0.0/8', '127.0.0.1'), 'allow');
  assert.equal(ip(['192.0.2.0/24', '198.51.100.0/24'], '127.0.0.1'), 'none');
  assert.equal(ip(['192.0.2.0/24', '198.51.100.0/24'], '198.51.100.77'), 'allow');
  assert.equal(ip('203.0.113.9', '203.0.113.9'), 'allow');
  assert.equal(ip('203.0.113.9', '203.0.113.10'), 'none');
  assert.equal(ip('2001:db8::/32', '2001:db8:1::5'), 'allow');
  assert.equal(ip('2001:db8::/32', '2001:db9::5'), 'none');
  assert.equal(ip('::1/128', '::1'), 'allow');
  assert.equal(ip('2001:db8::/32', '127.0.0.1'), 'none');
  assert.equal(ip('not-an-ip', '127.0.0.1'), 'none');
  assert.equal(ip('192.0.2.0/24', '127.0.0.1', 'NotIpAddress'), 'allow');
  assert.equal(ip('127.0.0.0/8', '127.0.0.1', 'NotIpAddress'), 'none');
  // SAM's IpRangeWhitelist shape: allow everything, deny what is not listed.
  const whitelist = (sourceIp: string) =>
    effect([allow(), deny({ Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8'] } } })], {
      keys: { 'aws:sourceip': sourceIp },
    });
  assert.equal(whitelist('10.1.2.3'), 'allow');
  assert.equal(whitelist('127.0.0.1'), 'deny');
});

test('absent keys: false, but true for negated operators, IfExists, Null and ForAllValues', () => {
  const cond = (Condition: unknown, keys: PolicyRequest['keys'] = {}) =>
    effect([allow({ Condition })], { keys });
  // A request not made through a VPC endpoint has no aws:SourceVpce / aws:SourceVpc.
  assert.equal(cond({ StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } }), 'none');
  assert.equal(cond({ StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } }), 'allow');
  assert.equal(cond({ StringLike: { 'aws:SourceVpc': 'vpc-*' } }), 'none');
  assert.equal(cond({ StringNotLike: { 'aws:SourceVpc': 'vpc-*' } }), 'allow');
  assert.equal(cond({ StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } }), 'allow');
  assert.equal(
    cond({ StringEqualsIfExists: { 'aws:SourceVpc': 'vpc-1' } }, { 'aws:sourcevpc': 'vpc-2' }),
    'none',
  );
  assert.equal(cond({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }), 'allow');
  assert.equal(cond({ Null: { 'aws:SourceVpce': 'true' } }), 'allow');
  assert.equal(cond({ Null: { 'aws:SourceVpce': 'false' } }), 'none');
  assert.equal(cond({ 'ForAllValues:StringEquals': { 'aws:SourceVpc': 'vpc-1' } }), 'allow');
  assert.equal(cond({ 'ForAnyValue:StringEquals': { 'aws:SourceVpc': 'vpc-1' } }), 'none');
  // The usual private-API Deny: refuses every request that did not come through the endpoint.
  assert.equal(
    effect([allow(), deny({ Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } } })]),
    'deny',
  );
});

test('string, principal and date conditions; unknown operators make a statement that cannot match', () => {
  const keys = {
    'aws:sourceip': '127.0.0.1',
    'aws:useragent': 'curl/8.5.0',
    'aws:referer': 'https://example.com/page',
    'aws:principalaccount': '111111111111',
    'aws:currenttime': '2024-06-01T12:00:00Z',
    'aws:epochtime': '1717243200',
  };
  const cond = (Condition: unknown) => effect([allow({ Condition })], { keys });
  assert.equal(cond({ StringLike: { 'aws:UserAgent': 'curl/*' } }), 'allow');
  assert.equal(cond({ StringLike: { 'aws:useragent': 'Mozilla*' } }), 'none');
  assert.equal(cond({ StringEqualsIgnoreCase: { 'aws:UserAgent': 'CURL/8.5.0' } }), 'allow');
  assert.equal(
    cond({ StringEquals: { 'aws:Referer': ['https://a.example', 'https://example.com/page'] } }),
    'allow',
  );
  assert.equal(
    cond({ StringNotEquals: { 'aws:Referer': ['https://a.example', 'https://example.com/page'] } }),
    'none',
  );
  assert.equal(cond({ StringEquals: { 'aws:PrincipalAccount': '111111111111' } }), 'allow');
  assert.equal(cond({ DateLessThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' } }), 'allow');
  assert.equal(cond({ DateGreaterThan: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' } }), 'none');
  assert.equal(cond({ NumericGreaterThan: { 'aws:EpochTime': '1700000000' } }), 'allow');
  // Several operators, several keys: all must hold.
  assert.equal(
    cond({ IpAddress: { 'aws:SourceIp': '127.0.0.0/8' }, StringLike: { 'aws:UserAgent': 'Mozilla*' } }),
    'none',
  );
  assert.equal(cond({ BinaryEquals: { 'aws:UserAgent': 'Y3VybA==' } }), 'none');
  assert.equal(
    effect([allow(), deny({ Condition: { StringEqualz: { 'aws:UserAgent': 'curl/8.5.0' } } })], { keys }),
    'allow',
  );
});

test('policy text: escaped as GetRestApi answers it, saved with execute-api:/ expanded', () => {
  const doc = {
    Version: '2012-10-17',
    Statement: [allow({ Resource: ['execute-api:/prod/GET/*', 'execute-api:/*/POST/x'] })],
  };
  const saved = savedPolicy(JSON.stringify(doc, null, 2), PREFIX);
  assert.ok(saved.startsWith('{\\"Version\\":\\"2012-10-17\\"'), saved);
  const back = JSON.parse(JSON.parse(`"${saved}"`) as string) as typeof doc;
  assert.deepEqual(back.Statement[0].Resource, [`${PREFIX}/prod/GET/*`, `${PREFIX}/*/POST/x`]);
  // Both forms evaluate alike.
  assert.equal(evaluatePolicy(compilePolicy(saved, PREFIX), { resource: ARN, keys: {} }), 'allow');
  assert.equal(savedPolicy('not json', PREFIX), 'not json');
  assert.deepEqual(compilePolicy('not json', PREFIX).statements, []);
});

test('decide: per authorization type, as AWS tables A and B say', () => {
  for (const t of ['NONE', 'CUSTOM', 'COGNITO_USER_POOLS', 'AWS_IAM']) {
    assert.equal(decide(t, 'deny', true), 'deny');
    assert.equal(decide(t, 'allow', false), 'allow');
  }
  assert.equal(decide('NONE', 'none', false), 'implicit');
  assert.equal(decide('COGNITO_USER_POOLS', 'none', true), 'implicit');
  assert.equal(decide('CUSTOM', 'none', false), 'allow');
  assert.equal(decide('AWS_IAM', 'none', true), 'allow');
  assert.equal(decide('AWS_IAM', 'none', false), 'implicit');
});

test('deniedMessage masks the account but its last four digits', () => {
  assert.equal(
    deniedMessage('anonymous', 'arn:aws:execute-api:us-west-2:123456782543:abc/api/GET/', false),
    'User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-west-2:********2543:abc/api/GET/',
  );
  assert.match(deniedMessage('arn:aws:iam::111111111111:root', ARN, true), / with an explicit deny$/);
});
