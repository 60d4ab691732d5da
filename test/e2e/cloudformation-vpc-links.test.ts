/**
 * A template with AWS::ApiGateway::VpcLink and AWS::ApiGatewayV2::VpcLink and private
 * integrations naming them (Ref and GetAtt VpcLinkId): the links exist, and both APIs reach a
 * local backend through the `--private-target` mappings; deleting the stack deletes the links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  CloudFormationClient,
  DeleteStackCommand,
  waitUntilStackDeleteComplete,
} from '@aws-sdk/client-cloudformation';
import {
  APIGatewayClient,
  GetIntegrationCommand,
  GetResourcesCommand,
  GetVpcLinkCommand,
} from '@aws-sdk/client-api-gateway';
import {
  ApiGatewayV2Client,
  GetIntegrationsCommand,
  GetVpcLinkCommand as GetV2VpcLinkCommand,
} from '@aws-sdk/client-apigatewayv2';
import { startTestServer } from '../helpers/server.js';
import { deployStack } from '../helpers/stack.js';
import { rejects } from '../helpers/rejects.js';

const NLB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/orders/50dc6c495c0c9188';
const NLB_HOST = 'orders-50dc6c495c0c9188.elb.us-east-1.amazonaws.com';
const LISTENER_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2';

const TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    RestLink: {
      Type: 'AWS::ApiGateway::VpcLink',
      Properties: {
        Name: 'orders-nlb',
        Description: 'REST API to the orders NLB',
        TargetArns: [NLB_ARN],
        Tags: [{ Key: 'team', Value: 'orders' }],
      },
    },
    HttpLink: {
      Type: 'AWS::ApiGatewayV2::VpcLink',
      Properties: {
        Name: 'web-link',
        SubnetIds: ['subnet-aaaa1111', 'subnet-bbbb2222'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
        Tags: { team: 'web' },
      },
    },
    RestApi: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'private-rest' } },
    Proxy: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: {
        RestApiId: { Ref: 'RestApi' },
        ParentId: { 'Fn::GetAtt': ['RestApi', 'RootResourceId'] },
        PathPart: '{proxy+}',
      },
    },
    ProxyAny: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        RestApiId: { Ref: 'RestApi' },
        ResourceId: { Ref: 'Proxy' },
        HttpMethod: 'ANY',
        AuthorizationType: 'NONE',
        Integration: {
          Type: 'HTTP_PROXY',
          IntegrationHttpMethod: 'ANY',
          Uri: `http://${NLB_HOST}/{proxy}`,
          ConnectionType: 'VPC_LINK',
          ConnectionId: { Ref: 'RestLink' },
        },
      },
    },
    Deployment: {
      Type: 'AWS::ApiGateway::Deployment',
      DependsOn: 'ProxyAny',
      Properties: { RestApiId: { Ref: 'RestApi' }, StageName: 'live' },
    },
    HttpApi: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: 'private-http', ProtocolType: 'HTTP' } },
    HttpInteg: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: { Ref: 'HttpApi' },
        IntegrationType: 'HTTP_PROXY',
        IntegrationMethod: 'ANY',
        ConnectionType: 'VPC_LINK',
        ConnectionId: { 'Fn::GetAtt': ['HttpLink', 'VpcLinkId'] },
        IntegrationUri: LISTENER_ARN,
        PayloadFormatVersion: '1.0',
        TlsConfig: { ServerNameToVerify: 'web.internal.example.com' },
      },
    },
    HttpRoute: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'HttpApi' },
        RouteKey: 'ANY /{proxy+}',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'HttpInteg' }]] },
      },
    },
    HttpStage: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: { ApiId: { Ref: 'HttpApi' }, StageName: '$default', AutoDeploy: true },
    },
  },
  Outputs: {
    RestLinkId: { Value: { 'Fn::GetAtt': ['RestLink', 'VpcLinkId'] } },
    HttpLinkId: { Value: { Ref: 'HttpLink' } },
  },
};

test('a template with VPC links of both APIs and private integrations naming them', async (t) => {
  const seen: string[] = [];
  const backend = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end('from the private backend');
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  t.after(() => backend.close());
  const base = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  await using srv = await startTestServer({
    privateTargets: new Map([
      [NLB_HOST, base],
      [LISTENER_ARN, base],
    ]),
  });
  const cfn = new CloudFormationClient(srv.clientConfig);
  const stack = await deployStack(cfn, 'vpclinks', JSON.stringify(TEMPLATE));
  const v1 = new APIGatewayClient(srv.clientConfig);
  const v2 = new ApiGatewayV2Client(srv.clientConfig);

  const restLink = stack.phys('RestLink');
  assert.equal(stack.output('RestLinkId'), restLink);
  const link1 = await v1.send(new GetVpcLinkCommand({ vpcLinkId: restLink }));
  assert.equal(link1.name, 'orders-nlb');
  assert.deepEqual(link1.targetArns, [NLB_ARN]);
  assert.deepEqual(link1.tags, { team: 'orders' });
  const httpLink = stack.phys('HttpLink');
  assert.equal(stack.output('HttpLinkId'), httpLink);
  const link2 = await v2.send(new GetV2VpcLinkCommand({ VpcLinkId: httpLink }));
  assert.equal(link2.Name, 'web-link');
  assert.deepEqual(link2.Tags, { team: 'web' });

  const restApiId = stack.phys('RestApi');
  const proxy = (await v1.send(new GetResourcesCommand({ restApiId }))).items!.find(
    (r) => r.path === '/{proxy+}',
  )!;
  const integ = await v1.send(
    new GetIntegrationCommand({ restApiId, resourceId: proxy.id, httpMethod: 'ANY' }),
  );
  assert.equal(integ.connectionType, 'VPC_LINK');
  assert.equal(integ.connectionId, restLink);
  const httpApiId = stack.phys('HttpApi');
  const [hi] = (await v2.send(new GetIntegrationsCommand({ ApiId: httpApiId }))).Items!;
  assert.equal(hi.ConnectionId, httpLink);
  assert.deepEqual(hi.TlsConfig, { ServerNameToVerify: 'web.internal.example.com' });

  const r1 = await fetch(`${srv.endpoint}/_api/${restApiId}/live/orders/1?a=b`, { method: 'DELETE' });
  assert.equal(r1.status, 200);
  assert.equal(await r1.text(), 'from the private backend');
  const r2 = await fetch(`${srv.endpoint}/_api/${httpApiId}/web/page`);
  assert.equal(r2.status, 200);
  assert.deepEqual(seen, ['DELETE /orders/1?a=b', 'GET /web/page']);

  await cfn.send(new DeleteStackCommand({ StackName: 'vpclinks' }));
  await waitUntilStackDeleteComplete(
    { client: cfn, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { StackName: 'vpclinks' },
  );
  await rejects(v1.send(new GetVpcLinkCommand({ vpcLinkId: restLink })), 'NotFoundException');
  await rejects(v2.send(new GetV2VpcLinkCommand({ VpcLinkId: httpLink })), 'NotFoundException');
});
