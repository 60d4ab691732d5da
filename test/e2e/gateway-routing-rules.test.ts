/**
 * Routing rules of custom domain names end to end: the real @aws-sdk/client-apigatewayv2 manages
 * the rules and the domain's RoutingMode (the apigateway v1 client too); plain HTTP with a Host
 * header and rule headers reaches the REST API stage the first matching rule names; an echo
 * function shows which API, stage, resource and path served each request.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateApiMappingCommand,
  CreateDomainNameCommand,
  CreateRoutingRuleCommand,
  DeleteRoutingRuleCommand,
  GetDomainNameCommand,
  GetRoutingRuleCommand,
  ListRoutingRulesCommand,
  PutRoutingRuleCommand,
  UpdateDomainNameCommand,
  type CreateRoutingRuleRequest,
} from '@aws-sdk/client-apigatewayv2';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateDomainNameCommand as CreateRestDomainNameCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetDomainNameCommand as GetRestDomainNameCommand,
  UpdateDomainNameCommand as UpdateRestDomainNameCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';
import { FN, createNodeFunctions, putProxyMethod } from './gateway-helpers.js';

const ECHO = `exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });`;
const DOMAIN = 'rules.example.com';

async function send(
  endpoint: string,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const port = new URL(endpoint).port;
  return new Promise((resolve, reject) => {
    const req = request(endpoint + path, { headers: { ...headers, host: `${host}:${port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Which API and stage served `path` on `host`, with the resource and path its event carries. */
async function served(endpoint: string, path: string, headers: Record<string, string> = {}, host = DOMAIN) {
  const r = await send(endpoint, host, path, headers);
  assert.equal(r.status, 200, `${path} ${JSON.stringify(headers)}: ${r.body}`);
  const ev = JSON.parse(r.body) as Record<string, any>;
  return {
    api: ev.requestContext.apiId as string,
    stage: ev.requestContext.stage as string,
    resource: ev.resource as string | undefined,
    path: (ev.path ?? ev.rawPath) as string,
    domainName: ev.requestContext.domainName as string,
  };
}

/** A REST API with GET /items/{id} and GET /users/items/{id} on the echo function, deployed to `stages`. */
async function restApi(v1: APIGatewayClient, name: string, stages: string[]): Promise<string> {
  const api = await v1.send(new CreateRestApiCommand({ name }));
  const id = api.id!;
  const resource = async (parentId: string, pathPart: string) =>
    (await v1.send(new CreateResourceCommand({ restApiId: id, parentId, pathPart }))).id!;
  const items = await resource(api.rootResourceId!, 'items');
  await putProxyMethod(v1, id, await resource(items, '{id}'), 'GET', 'echo');
  const users = await resource(api.rootResourceId!, 'users');
  const userItems = await resource(users, 'items');
  await putProxyMethod(v1, id, await resource(userItems, '{id}'), 'GET', 'echo');
  for (const stageName of stages) await v1.send(new CreateDeploymentCommand({ restApiId: id, stageName }));
  return id;
}

test('routing rules: management, header globs, base paths, priorities, routing modes, errors', async (t) => {
  await using srv = await startTestServer();
  const lambda = new LambdaClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const v1 = new APIGatewayClient(srv.clientConfig);
  t.after(() => {
    lambda.destroy();
    v2.destroy();
    v1.destroy();
  });
  await createNodeFunctions(lambda, { echo: ECHO });
  const A = await restApi(v1, 'alpha', ['prod', 'beta']);
  const B = await restApi(v1, 'bravo', ['prod']);
  const http = await v2.send(
    new CreateApiCommand({ Name: 'shop', ProtocolType: 'HTTP', Target: `${FN}echo` }),
  );

  const rule = (
    Priority: number,
    to: [string, string, boolean?],
    Conditions: CreateRoutingRuleRequest['Conditions'] = [],
  ) =>
    v2.send(
      new CreateRoutingRuleCommand({
        DomainName: DOMAIN,
        Priority,
        Conditions,
        Actions: [{ InvokeApi: { ApiId: to[0], Stage: to[1], StripBasePath: to[2] } }],
      }),
    );
  const ids: Record<string, string> = {};

  await t.test('RoutingMode on both APIs: default, set on create, changed on update', async () => {
    const d = await v2.send(
      new CreateDomainNameCommand({ DomainName: DOMAIN, RoutingMode: 'ROUTING_RULE_ONLY' }),
    );
    assert.equal(d.RoutingMode, 'ROUTING_RULE_ONLY');
    assert.equal(
      (await v2.send(new GetDomainNameCommand({ DomainName: DOMAIN }))).RoutingMode,
      'ROUTING_RULE_ONLY',
    );
    // The v1 API names the mapping modes after base path mappings.
    const plain = await v1.send(
      new CreateRestDomainNameCommand({
        domainName: 'plain.example.com',
        endpointConfiguration: { types: ['REGIONAL'] },
      }),
    );
    assert.equal(plain.routingMode, 'BASE_PATH_MAPPING_ONLY');
    const viaV2 = await v2.send(new GetDomainNameCommand({ DomainName: 'plain.example.com' }));
    assert.equal(viaV2.RoutingMode, 'API_MAPPING_ONLY');
    const upd = await v1.send(
      new UpdateRestDomainNameCommand({
        domainName: 'plain.example.com',
        patchOperations: [
          { op: 'replace', path: '/routingMode', value: 'ROUTING_RULE_THEN_BASE_PATH_MAPPING' },
        ],
      }),
    );
    assert.equal(upd.routingMode, 'ROUTING_RULE_THEN_BASE_PATH_MAPPING');
    assert.equal(
      (await v2.send(new GetDomainNameCommand({ DomainName: 'plain.example.com' }))).RoutingMode,
      'ROUTING_RULE_THEN_API_MAPPING',
    );
    const made = await v1.send(
      new CreateRestDomainNameCommand({
        domainName: 'v1rules.example.com',
        endpointConfiguration: { types: ['REGIONAL'] },
        routingMode: 'ROUTING_RULE_ONLY',
      }),
    );
    assert.equal(made.routingMode, 'ROUTING_RULE_ONLY');
    await rejects(
      v2.send(new CreateDomainNameCommand({ DomainName: 'bad.example.com', RoutingMode: 'RULES' as never })),
      'BadRequestException',
      /^Invalid routing mode: RULES/,
    );
    await rejects(
      v1.send(
        new UpdateRestDomainNameCommand({
          domainName: 'plain.example.com',
          patchOperations: [{ op: 'replace', path: '/routingMode', value: 'API_MAPPING_ONLY' }],
        }),
      ),
      'BadRequestException',
      /^Invalid routing mode: API_MAPPING_ONLY/,
    );
  });

  await t.test('CreateRoutingRule, GetRoutingRule, ListRoutingRules (by priority, paged)', async () => {
    const r1 = await rule(
      100,
      [A, 'beta'],
      [{ MatchHeaders: { AnyOf: [{ Header: 'X-Version', ValueGlob: 'beta*' }] } }],
    );
    assert.match(r1.RoutingRuleId!, /^[a-z0-9]+$/);
    assert.equal(
      r1.RoutingRuleArn,
      `arn:aws:apigateway:us-east-1:000000000000:/domainnames/${DOMAIN}/routingrules/${r1.RoutingRuleId}`,
    );
    assert.equal(r1.Priority, 100);
    assert.deepEqual(r1.Actions, [{ InvokeApi: { ApiId: A, Stage: 'beta', StripBasePath: false } }]);
    assert.deepEqual(r1.Conditions, [
      { MatchHeaders: { AnyOf: [{ Header: 'X-Version', ValueGlob: 'beta*' }] } },
    ]);
    ids.version = r1.RoutingRuleId!;
    // Two header conditions (AND), each with alternatives (OR).
    ids.tenant = (
      await rule(
        200,
        [B, 'prod'],
        [
          { MatchHeaders: { AnyOf: [{ Header: 'x-tenant', ValueGlob: '*-corp' }] } },
          {
            MatchHeaders: {
              AnyOf: [
                { Header: 'x-region', ValueGlob: '*eu*' },
                { Header: 'x-zone', ValueGlob: 'exact' },
              ],
            },
          },
        ],
      )
    ).RoutingRuleId!;
    ids.users = (await rule(300, [A, 'prod'], [{ MatchBasePaths: { AnyOf: ['users'] } }])).RoutingRuleId!;
    ids.shop = (
      await rule(400, [B, 'prod', true], [{ MatchBasePaths: { AnyOf: ['v2/shop', 'shop'] } }])
    ).RoutingRuleId!;
    ids.exact = (
      await rule(
        50,
        [B, 'prod', true],
        [
          { MatchHeaders: { AnyOf: [{ Header: 'x-exact', ValueGlob: 'Yes' }] } },
          { MatchBasePaths: { AnyOf: ['users'] } },
        ],
      )
    ).RoutingRuleId!;
    ids.all = (await rule(1_000_000, [A, 'prod'])).RoutingRuleId!;

    const got = await v2.send(new GetRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: ids.shop }));
    assert.equal(got.Priority, 400);
    assert.deepEqual(got.Actions, [{ InvokeApi: { ApiId: B, Stage: 'prod', StripBasePath: true } }]);
    assert.deepEqual(got.Conditions, [{ MatchBasePaths: { AnyOf: ['v2/shop', 'shop'] } }]);
    // DomainNameId (private domain names) is accepted.
    const byId = await v2.send(
      new GetRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: ids.all, DomainNameId: 'abc123' }),
    );
    assert.deepEqual(byId.Conditions, []);

    const all = await v2.send(new ListRoutingRulesCommand({ DomainName: DOMAIN }));
    assert.deepEqual(
      all.RoutingRules!.map((r) => r.Priority),
      [50, 100, 200, 300, 400, 1_000_000],
    );
    assert.equal(all.NextToken, undefined);
    const p1 = await v2.send(new ListRoutingRulesCommand({ DomainName: DOMAIN, MaxResults: 4 }));
    assert.equal(p1.RoutingRules!.length, 4);
    const p2 = await v2.send(
      new ListRoutingRulesCommand({ DomainName: DOMAIN, MaxResults: 4, NextToken: p1.NextToken }),
    );
    assert.deepEqual(
      p2.RoutingRules!.map((r) => r.RoutingRuleId),
      [ids.shop, ids.all],
    );
    assert.equal(p2.NextToken, undefined);
  });

  await t.test(
    'serving: header globs, header names in any case, values case-sensitively, AND / OR',
    async () => {
      const E = srv.endpoint;
      // prefix glob `beta*`, header name in another case.
      let s = await served(E, '/items/1', { 'x-version': 'beta-2' });
      assert.deepEqual([s.api, s.stage, s.resource, s.path], [A, 'beta', '/items/{id}', '/items/1']);
      assert.equal(s.domainName, DOMAIN);
      // Values are case-sensitive: `Beta-2` is no `beta*`; the catch-all rule serves it.
      s = await served(E, '/items/1', { 'x-version': 'Beta-2' });
      assert.deepEqual([s.api, s.stage], [A, 'prod']);
      // `*-corp` (suffix) AND (`*eu*` (contains) OR `exact`).
      s = await served(E, '/items/2', { 'x-tenant': 'acme-corp', 'x-region': 'west-eu-1' });
      assert.deepEqual([s.api, s.stage], [B, 'prod']);
      s = await served(E, '/items/2', { 'x-tenant': 'acme-corp', 'x-zone': 'exact' });
      assert.equal(s.api, B);
      s = await served(E, '/items/2', { 'x-tenant': 'acme-corp', 'x-zone': 'exactly' });
      assert.equal(s.api, A, 'a literal glob matches the whole value only');
      s = await served(E, '/items/2', { 'x-tenant': 'acme-corp' });
      assert.equal(s.api, A, 'both header conditions must match');
      s = await served(E, '/items/2', { 'x-tenant': 'acme-corps', 'x-region': 'eu' });
      assert.equal(s.api, A);
    },
  );

  await t.test('serving: base paths with and without StripBasePath, priorities', async () => {
    const E = srv.endpoint;
    // `users` without StripBasePath: the API sees the whole path.
    let s = await served(E, '/users/items/3');
    assert.deepEqual(
      [s.api, s.stage, s.resource, s.path],
      [A, 'prod', '/users/items/{id}', '/users/items/3'],
    );
    // Base paths match whole segments, case-sensitively: these fall to the catch-all rule (API A,
    // which has no such resource: its 403), where `shop` (to B, stripped) would have served them.
    for (const p of ['/SHOP/items/3', '/shopX/items/3']) {
      const miss = await send(E, DOMAIN, p);
      assert.equal(miss.status, 403, p);
      assert.deepEqual(JSON.parse(miss.body), { message: 'Missing Authentication Token' });
    }
    // `v2/shop` or `shop` with StripBasePath: the API sees the path below it.
    s = await served(E, '/v2/shop/items/4');
    assert.deepEqual([s.api, s.resource], [B, '/items/{id}']);
    s = await served(E, '/shop/items/5?x=1');
    assert.deepEqual([s.api, s.resource], [B, '/items/{id}']);
    // Priority 50 (header and base path, stripped) comes before priority 300 (base path).
    s = await served(E, '/users/items/6', { 'x-exact': 'Yes' });
    assert.deepEqual([s.api, s.resource], [B, '/items/{id}']);
    s = await served(E, '/users/items/6', { 'x-exact': 'yes' });
    assert.deepEqual([s.api, s.resource], [A, '/users/items/{id}']);
    // PutRoutingRule moves `users` ahead of it.
    const put = await v2.send(
      new PutRoutingRuleCommand({
        DomainName: DOMAIN,
        RoutingRuleId: ids.users,
        Priority: 40,
        Conditions: [{ MatchBasePaths: { AnyOf: ['users'] } }],
        Actions: [{ InvokeApi: { ApiId: A, Stage: 'prod' } }],
      }),
    );
    assert.equal(put.Priority, 40);
    assert.equal(put.RoutingRuleId, ids.users);
    s = await served(E, '/users/items/6', { 'x-exact': 'Yes' });
    assert.deepEqual([s.api, s.resource], [A, '/users/items/{id}']);
  });

  await t.test(
    'routing modes: rules only, rules then API mappings, mappings only; 404 without a match',
    async () => {
      const E = srv.endpoint;
      await v2.send(
        new CreateApiMappingCommand({ DomainName: DOMAIN, ApiId: http.ApiId, Stage: '$default' }),
      );
      // ROUTING_RULE_ONLY: the API mapping is not used; without the catch-all rule nothing matches.
      await v2.send(new DeleteRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: ids.all }));
      let r = await send(E, DOMAIN, '/orders/1');
      assert.equal(r.status, 404);
      assert.deepEqual(JSON.parse(r.body), { message: 'Not Found' });
      // ROUTING_RULE_THEN_API_MAPPING: rules first, then the mappings.
      const d = await v2.send(
        new UpdateDomainNameCommand({ DomainName: DOMAIN, RoutingMode: 'ROUTING_RULE_THEN_API_MAPPING' }),
      );
      assert.equal(d.RoutingMode, 'ROUTING_RULE_THEN_API_MAPPING');
      let s = await served(E, '/orders/1');
      assert.deepEqual([s.api, s.stage, s.path], [http.ApiId, '$default', '/orders/1']);
      s = await served(E, '/items/1', { 'x-version': 'beta' });
      assert.deepEqual([s.api, s.stage], [A, 'beta']);
      // API_MAPPING_ONLY (v1: BASE_PATH_MAPPING_ONLY): the rules are kept and not used.
      await v1.send(
        new UpdateRestDomainNameCommand({
          domainName: DOMAIN,
          patchOperations: [{ op: 'replace', path: '/routingMode', value: 'BASE_PATH_MAPPING_ONLY' }],
        }),
      );
      assert.equal(
        (await v1.send(new GetRestDomainNameCommand({ domainName: DOMAIN }))).routingMode,
        'BASE_PATH_MAPPING_ONLY',
      );
      s = await served(E, '/items/1', { 'x-version': 'beta' });
      assert.equal(s.api, http.ApiId);
      assert.equal(
        (await v2.send(new ListRoutingRulesCommand({ DomainName: DOMAIN }))).RoutingRules!.length,
        5,
      );
      // Back to rules only, and a deleted rule no longer matches.
      await v2.send(new UpdateDomainNameCommand({ DomainName: DOMAIN, RoutingMode: 'ROUTING_RULE_ONLY' }));
      await v2.send(new DeleteRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: ids.version }));
      r = await send(E, DOMAIN, '/items/1', { 'x-version': 'beta' });
      assert.equal(r.status, 404);
    },
  );

  await t.test('errors: priorities, conditions, actions, targets, unknown domains and rules', async () => {
    const bad = (input: Partial<CreateRoutingRuleRequest>) =>
      v2.send(
        new CreateRoutingRuleCommand({
          DomainName: DOMAIN,
          Priority: 7,
          Conditions: [],
          Actions: [{ InvokeApi: { ApiId: A, Stage: 'prod' } }],
          ...input,
        }),
      );
    const header = (ValueGlob: string, Header = 'x-h') => ({
      MatchHeaders: { AnyOf: [{ Header, ValueGlob }] },
    });
    await rejects(
      bad({ Priority: 0 }),
      'BadRequestException',
      'Priority must be an integer between 1 and 1000000',
    );
    await rejects(bad({ Priority: 1_000_001 }), 'BadRequestException');
    await rejects(
      bad({ Priority: 200 }),
      'ConflictException',
      'A routing rule with priority 200 already exists for this domain name',
    );
    await rejects(bad({ Conditions: [header('a'), header('b'), header('c')] }), 'BadRequestException');
    await rejects(
      bad({ Conditions: [{ MatchBasePaths: { AnyOf: ['a'] } }, { MatchBasePaths: { AnyOf: ['b'] } }] }),
      'BadRequestException',
    );
    await rejects(bad({ Conditions: [{}] }), 'BadRequestException');
    await rejects(bad({ Conditions: [{ MatchHeaders: { AnyOf: [] } }] }), 'BadRequestException');
    await rejects(bad({ Conditions: [header('a*b')] }), 'BadRequestException', /^Invalid value glob: a\*b/);
    await rejects(
      bad({ Conditions: [header('v', 'bad header')] }),
      'BadRequestException',
      'Invalid header name: bad header',
    );
    await rejects(bad({ Conditions: [{ MatchBasePaths: { AnyOf: ['a b'] } }] }), 'BadRequestException');
    await rejects(bad({ Conditions: [{ MatchBasePaths: { AnyOf: ['/users'] } }] }), 'BadRequestException');
    await rejects(bad({ Actions: [] }), 'BadRequestException', 'A routing rule must have exactly one action');
    await rejects(
      bad({
        Actions: [{ InvokeApi: { ApiId: A, Stage: 'prod' } }, { InvokeApi: { ApiId: B, Stage: 'prod' } }],
      }),
      'BadRequestException',
    );
    await rejects(
      bad({ Actions: [{ InvokeApi: { ApiId: http.ApiId, Stage: '$default' } }] }),
      'BadRequestException',
      'Routing rules can only invoke a stage of a REST API',
    );
    await rejects(
      bad({ Actions: [{ InvokeApi: { ApiId: 'zzzzzzzzzz', Stage: 'prod' } }] }),
      'NotFoundException',
      'Invalid API identifier specified 000000000000:zzzzzzzzzz',
    );
    await rejects(
      bad({ Actions: [{ InvokeApi: { ApiId: A, Stage: 'nope' } }] }),
      'BadRequestException',
      'Invalid stage identifier specified',
    );
    await rejects(
      bad({ DomainName: 'nope.example.com' }),
      'NotFoundException',
      'Invalid domain name identifier specified',
    );
    await rejects(
      v2.send(new GetRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: 'nope' })),
      'NotFoundException',
      'Invalid routing rule identifier specified',
    );
    await rejects(
      v2.send(
        new PutRoutingRuleCommand({
          DomainName: DOMAIN,
          RoutingRuleId: 'nope',
          Priority: 9,
          Conditions: [],
          Actions: [{ InvokeApi: { ApiId: A, Stage: 'prod' } }],
        }),
      ),
      'NotFoundException',
    );
    // Put onto another rule's priority: conflict; onto its own: fine.
    const put = (Priority: number) =>
      v2.send(
        new PutRoutingRuleCommand({
          DomainName: DOMAIN,
          RoutingRuleId: ids.shop,
          Priority,
          Conditions: [],
          Actions: [{ InvokeApi: { ApiId: B, Stage: 'prod' } }],
        }),
      );
    await rejects(put(200), 'ConflictException');
    assert.equal((await put(400)).Priority, 400);
    await rejects(
      v2.send(new DeleteRoutingRuleCommand({ DomainName: DOMAIN, RoutingRuleId: 'nope' })),
      'NotFoundException',
    );
    await rejects(
      v2.send(new ListRoutingRulesCommand({ DomainName: 'nope.example.com' })),
      'NotFoundException',
    );
  });
});

const TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: |
        ${ECHO}
      Events:
        Get:
          Type: Api
          Properties:
            Path: /pets/{id}
            Method: GET
  Domain:
    Type: AWS::ApiGatewayV2::DomainName
    Properties:
      DomainName: pets.example.io
      RoutingMode: ROUTING_RULE_ONLY
      DomainNameConfigurations:
        - EndpointType: REGIONAL
          CertificateArn: arn:aws:acm:us-east-1:000000000000:certificate/1234
  Rule:
    Type: AWS::ApiGatewayV2::RoutingRule
    Properties:
      DomainNameArn: !GetAtt Domain.DomainNameArn
      Priority: 10
      Conditions:
        - MatchBasePaths:
            AnyOf: [store]
        - MatchHeaders:
            AnyOf:
              - Header: x-pets
                ValueGlob: 'dog*'
      Actions:
        - InvokeApi:
            ApiId: !Ref ServerlessRestApi
            Stage: !Ref ServerlessRestApiProdStage
            StripBasePath: 'true'
Outputs:
  RuleArn:
    Value: !Ref Rule
  RuleId:
    Value: !GetAtt Rule.RoutingRuleId
`;

test('templates: AWS::ApiGatewayV2::RoutingRule and a DomainName RoutingMode deploy and serve', async (t) => {
  await using srv = await startTestServer();
  const cfn = new CloudFormationClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  t.after(() => {
    cfn.destroy();
    v2.destroy();
  });
  const stack = await deployStack(cfn, 'routing-rules', TEMPLATE);
  assert.match(
    stack.output('RuleArn'),
    /^arn:aws:apigateway:us-east-1:000000000000:\/domainnames\/pets\.example\.io\/routingrules\//,
  );
  assert.equal(stack.output('RuleArn').split('/').pop(), stack.output('RuleId'));
  const d = await v2.send(new GetDomainNameCommand({ DomainName: 'pets.example.io' }));
  assert.equal(d.RoutingMode, 'ROUTING_RULE_ONLY');
  const rules = await v2.send(new ListRoutingRulesCommand({ DomainName: 'pets.example.io' }));
  assert.equal(rules.RoutingRules!.length, 1);
  assert.equal(rules.RoutingRules![0].Actions![0].InvokeApi!.StripBasePath, true);
  const s = await served(srv.endpoint, '/store/pets/7', { 'x-pets': 'dogs' }, 'pets.example.io');
  assert.deepEqual([s.stage, s.resource, s.path], ['Prod', '/pets/{id}', '/store/pets/7']);
  assert.equal((await send(srv.endpoint, 'pets.example.io', '/store/pets/7')).status, 404);
});
