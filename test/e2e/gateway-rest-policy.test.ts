/**
 * REST API resource policies enforced as API Gateway enforces them: the deployed policy (not the
 * saved one) decides; IP conditions, a Deny on one path, a policy naming an account (AWS_IAM
 * callers signed with SigV4), the customised ACCESS_DENIED gateway response, and SAM's
 * Auth.ResourcePolicy through CloudFormation. Real @aws-sdk/client-api-gateway, plain fetch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  GetRestApiCommand,
  PutGatewayResponseCommand,
  TestInvokeMethodCommand,
  UpdateRestApiCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';
import { putMockMethod, signedGet } from './gateway-helpers.js';

const OTHER = {
  accessKeyId: 'AKIDOTHER11111111111',
  secretAccessKey: 'other-secret',
  accountId: '111111111111',
};
const THIRD = {
  accessKeyId: 'AKIDTHIRD22222222222',
  secretAccessKey: 'third-secret',
  accountId: '222222222222',
};

const policy = (...Statement: Record<string, unknown>[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement });
const allowAll = (extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Principal: '*',
  Action: 'execute-api:Invoke',
  Resource: 'execute-api:/*',
  ...extra,
});

test('REST API resource policies', async (t) => {
  await using srv = await startTestServer({ auth: { mode: 'dev', keys: [OTHER, THIRD] } });
  const gw = new APIGatewayClient(srv.clientConfig);
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    cfn.destroy();
  });

  /** An API with MOCK GET methods /pets and /admin (NONE) and /iam (AWS_IAM), deployed to prod. */
  async function mockApi(withPolicy?: string) {
    const api = await gw.send(new CreateRestApiCommand({ name: 'policy', policy: withPolicy }));
    const restApiId = api.id!;
    for (const [part, authorizationType] of [
      ['pets', 'NONE'],
      ['admin', 'NONE'],
      ['iam', 'AWS_IAM'],
    ]) {
      const r = await gw.send(
        new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: part }),
      );
      const where = { restApiId, resourceId: r.id!, httpMethod: 'GET' };
      await putMockMethod(gw, where, `{"at":"${part}"}`, authorizationType);
    }
    await deploy(restApiId);
    return { restApiId, base: `${srv.endpoint}/_api/${restApiId}/prod` };
  }
  const deploy = (restApiId: string) =>
    gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
  const setPolicy = (restApiId: string, value: string) =>
    gw.send(
      new UpdateRestApiCommand({ restApiId, patchOperations: [{ op: 'replace', path: '/policy', value }] }),
    );
  const denied = (restApiId: string, path: string, explicit: boolean, user = 'anonymous') => ({
    Message: `User: ${user} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:${restApiId}/prod/GET${path}${explicit ? ' with an explicit deny' : ''}`,
  });

  await t.test('no policy: every caller passes; allow-all: the same, saved as AWS saves it', async () => {
    const open = await mockApi();
    assert.equal((await fetch(`${open.base}/pets`)).status, 200);
    const all = await mockApi(policy(allowAll()));
    const res = await fetch(`${all.base}/pets`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { at: 'pets' });
    // GetRestApi answers the policy JSON-escaped, `execute-api:/*` expanded to the API's ARN.
    const got = await gw.send(new GetRestApiCommand({ restApiId: all.restApiId }));
    assert.equal(
      got.policy,
      `{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{\\"Effect\\":\\"Allow\\",\\"Principal\\":\\"*\\",\\"Action\\":\\"execute-api:Invoke\\",\\"Resource\\":\\"arn:aws:execute-api:us-east-1:000000000000:${all.restApiId}/*\\"}]}`,
    );
  });

  await t.test(
    'an IP allow-list without 127.0.0.1 refuses; one with 127.0.0.0/8 lets it through',
    async () => {
      const { restApiId, base } = await mockApi(
        policy(allowAll({ Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } } })),
      );
      const res = await fetch(`${base}/pets`);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('x-amzn-errortype'), 'AccessDeniedException');
      assert.deepEqual(await res.json(), denied(restApiId, '/pets', false));
      // A route that does not exist is still a missing route.
      assert.equal((await fetch(`${base}/nowhere`)).status, 403);

      const ok = await mockApi(
        policy(allowAll({ Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } })),
      );
      assert.equal((await fetch(`${ok.base}/pets`)).status, 200);
    },
  );

  await t.test('a Deny on one path: explicit deny there, the rest allowed', async () => {
    const { restApiId, base } = await mockApi(
      policy(allowAll(), { ...allowAll({ Resource: 'execute-api:/*/GET/admin' }), Effect: 'Deny' }),
    );
    assert.equal((await fetch(`${base}/pets`)).status, 200);
    const res = await fetch(`${base}/admin`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), denied(restApiId, '/admin', true));
  });

  await t.test('a policy naming an account: its signed callers of AWS_IAM methods pass', async () => {
    const { restApiId, base } = await mockApi(
      policy(allowAll({ Principal: { AWS: [`arn:aws:iam::${OTHER.accountId}:root`] } })),
    );
    // Another account, allowed by the policy (its IAM policy is taken as allowing).
    const other = await signedGet(`${base}/iam`, OTHER);
    assert.equal(other.status, 200);
    assert.deepEqual(await other.json(), { at: 'iam' });
    // A third account the policy does not name: implicitly denied (cross-account needs both).
    const third = await signedGet(`${base}/iam`, THIRD);
    assert.equal(third.status, 403);
    assert.deepEqual(
      await third.json(),
      denied(restApiId, '/iam', false, `arn:aws:iam::${THIRD.accountId}:root`),
    );
    // The API's own account: its IAM policy suffices.
    assert.equal((await signedGet(`${base}/iam`, srv.clientConfig.credentials)).status, 200);
    // Unsigned: IAM authentication fails first.
    const unsigned = await fetch(`${base}/iam`);
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { message: 'Missing Authentication Token' });
    // A NONE method's callers are anonymous, signed or not: a policy naming only accounts refuses them.
    const none = await signedGet(`${base}/pets`, OTHER);
    assert.equal(none.status, 403);
    assert.deepEqual(await none.json(), denied(restApiId, '/pets', false));
  });

  await t.test('a changed policy applies from the next deployment', async () => {
    const { restApiId, base } = await mockApi(policy(allowAll()));
    await setPolicy(
      restApiId,
      policy(allowAll({ Condition: { NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } })),
    );
    assert.equal((await fetch(`${base}/pets`)).status, 200);
    await deploy(restApiId);
    assert.equal((await fetch(`${base}/pets`)).status, 403);
    // Removing the policy (and deploying) opens the API again.
    await setPolicy(restApiId, '');
    assert.equal((await fetch(`${base}/pets`)).status, 403);
    await deploy(restApiId);
    assert.equal((await fetch(`${base}/pets`)).status, 200);
  });

  await t.test('the ACCESS_DENIED gateway response is customisable', async () => {
    const { restApiId, base } = await mockApi(
      policy(allowAll(), { ...allowAll({ Resource: 'execute-api:/prod/GET/admin' }), Effect: 'Deny' }),
    );
    await gw.send(
      new PutGatewayResponseCommand({
        restApiId,
        responseType: 'ACCESS_DENIED',
        statusCode: '401',
        responseParameters: { 'gatewayresponse.header.X-Denied': "'policy'" },
        responseTemplates: {
          'application/json': '{"denied":$context.error.messageString,"type":"$context.error.responseType"}',
        },
      }),
    );
    await deploy(restApiId);
    const res = await fetch(`${base}/admin`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-denied'), 'policy');
    assert.deepEqual(await res.json(), {
      denied: denied(restApiId, '/admin', true).Message,
      type: 'ACCESS_DENIED',
    });
  });

  await t.test('TestInvokeMethod does not apply the resource policy', async () => {
    const { restApiId } = await mockApi(policy({ ...allowAll(), Effect: 'Deny' }));
    const api = await gw.send(new GetRestApiCommand({ restApiId }));
    const resources = await gw.send(
      new CreateResourceCommand({ restApiId, parentId: api.rootResourceId, pathPart: 'probe' }),
    );
    const where = { restApiId, resourceId: resources.id!, httpMethod: 'GET' };
    await putMockMethod(gw, where, '{}');
    const out = await gw.send(new TestInvokeMethodCommand({ ...where, pathWithQueryString: '/probe' }));
    assert.equal(out.status, 200);
  });

  await t.test('SAM Auth.ResourcePolicy IpRangeBlacklist through CloudFormation', async () => {
    const template = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: live
      Auth:
        ResourcePolicy:
          IpRangeBlacklist: ['127.0.0.1']
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      InlineCode: "exports.handler = async () => ({ statusCode: 200, body: 'hi' });"
      Events:
        Get:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /hello, Method: get }
Outputs:
  ApiId:
    Value: !Ref Api
`;
    const stack = await deployStack(cfn, 'sam-policy', template);
    const restApiId = stack.output('ApiId');
    const res = await fetch(`${srv.endpoint}/_api/${restApiId}/live/hello`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), {
      Message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0000:${restApiId}/live/GET/hello with an explicit deny`,
    });
    const api = await gw.send(new GetRestApiCommand({ restApiId }));
    assert.match(api.policy ?? '', /IpAddress/);
  });
});
