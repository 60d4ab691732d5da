/**
 * API Gateway account settings (GetAccount / UpdateAccount, AWS::ApiGateway::Account) and the
 * apigatewayv2 tagging API (GetTags / TagResource / UntagResource on APIs, stages and custom
 * domain names), through the real SDK clients and CloudFormation; the account-level throttle
 * Nimbus lets a user raise (AWS's Service Quotas increase).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetAccountCommand,
  UpdateAccountCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  CreateApiCommand,
  CreateDomainNameCommand,
  CreateStageCommand,
  GetApiCommand,
  GetStageCommand,
  GetTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-apigatewayv2';
import {
  CloudFormationClient,
  CreateStackCommand,
  UpdateStackCommand,
  waitUntilStackCreateComplete,
  waitUntilStackUpdateComplete,
} from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { putMockMethod } from './gateway-helpers.js';

test('API Gateway account settings and v2 tags', async (t) => {
  await using srv = await startTestServer();
  const gw = new APIGatewayClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    v2.destroy();
    cfn.destroy();
  });

  await t.test('GetAccount / UpdateAccount', async () => {
    const first = await gw.send(new GetAccountCommand({}));
    assert.equal(first.cloudwatchRoleArn, undefined);
    assert.deepEqual(first.throttleSettings, { burstLimit: 5000, rateLimit: 10000 });
    assert.deepEqual(first.features, ['UsagePlans']);
    assert.equal(first.apiKeyVersion, '4');
    const role = 'arn:aws:iam::000000000000:role/apigw-logs';
    const out = await gw.send(
      new UpdateAccountCommand({
        patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: role }],
      }),
    );
    assert.equal(out.cloudwatchRoleArn, role);
    assert.equal((await gw.send(new GetAccountCommand({}))).cloudwatchRoleArn, role);
    await rejects(
      gw.send(
        new UpdateAccountCommand({
          patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: 'x' }],
        }),
      ),
      'BadRequestException',
      'The role ARN is not well formed: x',
    );
    await rejects(
      gw.send(
        new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/features', value: 'x' }] }),
      ),
      'BadRequestException',
    );
  });

  await t.test('AWS::ApiGateway::Account sets the CloudWatch role', async () => {
    const template = (role: string) =>
      JSON.stringify({
        Resources: { Account: { Type: 'AWS::ApiGateway::Account', Properties: { CloudWatchRoleArn: role } } },
      });
    const wait = { client: cfn, maxWaitTime: 30, minDelay: 1, maxDelay: 1 };
    await cfn.send(
      new CreateStackCommand({
        StackName: 'acct',
        TemplateBody: template('arn:aws:iam::000000000000:role/a'),
      }),
    );
    await waitUntilStackCreateComplete(wait, { StackName: 'acct' });
    assert.equal(
      (await gw.send(new GetAccountCommand({}))).cloudwatchRoleArn,
      'arn:aws:iam::000000000000:role/a',
    );
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'acct',
        TemplateBody: template('arn:aws:iam::000000000000:role/b'),
      }),
    );
    await waitUntilStackUpdateComplete(wait, { StackName: 'acct' });
    assert.equal(
      (await gw.send(new GetAccountCommand({}))).cloudwatchRoleArn,
      'arn:aws:iam::000000000000:role/b',
    );
  });

  await t.test('v2 tags on an API, a stage and a custom domain name', async () => {
    const api = await v2.send(
      new CreateApiCommand({ Name: 'tagged', ProtocolType: 'HTTP', Tags: { team: 'a' } }),
    );
    await v2.send(new CreateStageCommand({ ApiId: api.ApiId, StageName: 'dev' }));
    await v2.send(new CreateDomainNameCommand({ DomainName: 'api.tags.example.com' }));
    const apiArn = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}`;
    const stageArn = `${apiArn}/stages/dev`;
    const domainArn = 'arn:aws:apigateway:us-east-1::/domainnames/api.tags.example.com';
    assert.deepEqual((await v2.send(new GetTagsCommand({ ResourceArn: apiArn }))).Tags, { team: 'a' });
    for (const ResourceArn of [apiArn, stageArn, domainArn])
      await v2.send(new TagResourceCommand({ ResourceArn, Tags: { env: 'test', owner: 'me' } }));
    assert.deepEqual((await v2.send(new GetTagsCommand({ ResourceArn: apiArn }))).Tags, {
      team: 'a',
      env: 'test',
      owner: 'me',
    });
    // The resources show them too.
    assert.equal((await v2.send(new GetApiCommand({ ApiId: api.ApiId }))).Tags?.env, 'test');
    assert.equal(
      (await v2.send(new GetStageCommand({ ApiId: api.ApiId, StageName: 'dev' }))).Tags?.owner,
      'me',
    );
    for (const ResourceArn of [stageArn, domainArn]) {
      await v2.send(new UntagResourceCommand({ ResourceArn, TagKeys: ['owner'] }));
      assert.deepEqual((await v2.send(new GetTagsCommand({ ResourceArn }))).Tags, { env: 'test' });
    }
  });

  await t.test('v2 tags: bad ARNs, unknown resources, bad tags', async () => {
    await rejects(
      v2.send(new GetTagsCommand({ ResourceArn: 'arn:aws:apigateway:us-east-1::/restapis/x' })),
      'BadRequestException',
      'Invalid ARN specified: arn:aws:apigateway:us-east-1::/restapis/x',
    );
    await rejects(
      v2.send(new GetTagsCommand({ ResourceArn: 'arn:aws:apigateway:us-east-1::/apis/nosuchapi' })),
      'NotFoundException',
    );
    await rejects(
      v2.send(
        new GetTagsCommand({ ResourceArn: 'arn:aws:apigateway:us-east-1::/domainnames/none.example.com' }),
      ),
      'NotFoundException',
    );
    const api = await v2.send(new CreateApiCommand({ Name: 'tags-bad', ProtocolType: 'HTTP' }));
    const ResourceArn = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}`;
    await rejects(
      v2.send(new TagResourceCommand({ ResourceArn, Tags: { 'aws:x': 'y' } })),
      'BadRequestException',
    );
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await rejects(
      v2.send(new TagResourceCommand({ ResourceArn, Tags: many })),
      'BadRequestException',
      'A resource can have at most 50 tags',
    );
    assert.deepEqual((await v2.send(new GetTagsCommand({ ResourceArn }))).Tags, {});
  });
});

test('the account throttle is configurable (--api-rate-limit / --api-burst-limit) and enforced', async (t) => {
  await using srv = await startTestServer({ apiThrottle: { rate: 1, burst: 3 } });
  const gw = new APIGatewayClient(srv.clientConfig);
  t.after(() => gw.destroy());
  assert.deepEqual((await gw.send(new GetAccountCommand({}))).throttleSettings, {
    burstLimit: 3,
    rateLimit: 1,
  });

  const api = await gw.send(new CreateRestApiCommand({ name: 'throttled' }));
  await putMockMethod(gw, { restApiId: api.id!, resourceId: api.rootResourceId!, httpMethod: 'GET' }, '{}');
  await gw.send(new CreateDeploymentCommand({ restApiId: api.id!, stageName: 'prod' }));
  const stage = await gw.send(
    new UpdateStageCommand({
      restApiId: api.id!,
      stageName: 'prod',
      patchOperations: [{ op: 'replace', path: '/*/*/metrics/enabled', value: 'true' }],
    }),
  );
  // Method settings report the account's limits as their defaults, as on AWS.
  assert.equal(stage.methodSettings?.['*/*']?.throttlingRateLimit, 1);
  assert.equal(stage.methodSettings?.['*/*']?.throttlingBurstLimit, 3);

  // The burst of 3 is spent, then the account's bucket answers 429 (1 token/s refills too slowly).
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await fetch(`${srv.endpoint}/_api/${api.id}/prod/`)).status);
  assert.deepEqual(codes.slice(0, 3), [200, 200, 200]);
  assert.ok(
    codes.slice(3).every((c) => c === 429),
    String(codes),
  );
});
