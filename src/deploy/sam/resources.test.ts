import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Template } from '../types.js';
import { SAM_TRANSFORM, transformSam } from './index.js';
import { mergeValue } from './globals.js';

const opts = { region: 'us-east-1', accountId: '000000000000', stackName: 'app', parameters: {} };

const get = (t: Template, id: string, type: string) => {
  const r = t.Resources[id];
  assert.ok(r, `missing ${id}; have ${Object.keys(t.Resources).join(', ')}`);
  assert.equal(r.Type, type);
  return r.Properties as Record<string, any>;
};

const fn = (props: Record<string, unknown> = {}) => ({
  Type: 'AWS::Serverless::Function',
  Properties: { CodeUri: 's3://b/k', Handler: 'index.handler', Runtime: 'nodejs20.x', ...props },
});

test('Globals: maps merge, lists append, scalars override; Api globals shape the implicit API', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Globals: {
        Function: {
          Runtime: 'nodejs18.x',
          Timeout: 30,
          MemorySize: 512,
          Environment: { Variables: { TABLE: 't', STAGE: 'dev' } },
          Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:common:1'],
          Tags: { app: 'x' },
        },
        Api: { Cors: "'*'" },
      },
      Resources: {
        A: fn({
          Runtime: 'nodejs20.x',
          Environment: { Variables: { STAGE: 'prod' } },
          Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:own:2'],
          Events: { Get: { Type: 'Api', Properties: { Path: '/a', Method: 'get' } } },
        }),
        B: {
          Type: 'AWS::Serverless::Function',
          Properties: { CodeUri: 's3://b/k', Handler: 'h', Timeout: { Ref: 'T' } },
        },
      },
    },
    opts,
  );
  const a = get(out, 'A', 'AWS::Lambda::Function');
  assert.equal(a.Runtime, 'nodejs20.x');
  assert.equal(a.Timeout, 30);
  assert.deepEqual(a.Environment, { Variables: { TABLE: 't', STAGE: 'prod' } });
  assert.deepEqual(a.Layers, [
    'arn:aws:lambda:us-east-1:000000000000:layer:common:1',
    'arn:aws:lambda:us-east-1:000000000000:layer:own:2',
  ]);
  const b = get(out, 'B', 'AWS::Lambda::Function');
  assert.equal(b.Runtime, 'nodejs18.x');
  assert.deepEqual(b.Timeout, { Ref: 'T' });
  assert.deepEqual(b.Tags, [
    { Key: 'lambda:createdBy', Value: 'SAM' },
    { Key: 'app', Value: 'x' },
  ]);
  const body = get(out, 'ServerlessRestApi', 'AWS::ApiGateway::RestApi').Body;
  const options = body.paths['/a'].options['x-amazon-apigateway-integration'];
  assert.equal(options.type, 'mock');
  assert.deepEqual(options.responses.default.responseParameters, {
    'method.response.header.Access-Control-Allow-Origin': "'*'",
    'method.response.header.Access-Control-Allow-Methods': "'GET,OPTIONS'",
  });
  assert.deepEqual(mergeValue({ a: 1 }, { 'Fn::If': ['C', 1, 2] }), { 'Fn::If': ['C', 1, 2] });
});

test('an unsupported Globals property is rejected with SAM wording', () => {
  assert.throws(
    () =>
      transformSam(
        { Transform: SAM_TRANSFORM, Globals: { Function: { Events: {} } }, Resources: { A: fn() } },
        opts,
      ),
    /Number of errors found: 1\. 'Globals' section is invalid\. 'Events' is not a supported property of 'Function'\./,
  );
});

test('HTTP API with CORS, JWT authorizer, Lambda authorizer, stage variables and route settings', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Resources: {
        Api: {
          Type: 'AWS::Serverless::HttpApi',
          Properties: {
            StageName: 'v1',
            CorsConfiguration: { AllowOrigins: ['https://example.com'], AllowMethods: ['GET'], MaxAge: 600 },
            StageVariables: { mode: 'test' },
            DefaultRouteSettings: { ThrottlingBurstLimit: 10 },
            Auth: {
              DefaultAuthorizer: 'Jwt',
              Authorizers: {
                Jwt: {
                  IdentitySource: '$request.header.Authorization',
                  JwtConfiguration: { issuer: 'https://issuer.example.com', audience: ['client'] },
                },
                Custom: {
                  FunctionArn: { 'Fn::GetAtt': ['AuthFn', 'Arn'] },
                  AuthorizerPayloadFormatVersion: '2.0',
                  EnableSimpleResponses: true,
                  Identity: { Headers: ['X-Token'] },
                },
              },
            },
          },
        },
        AuthFn: fn(),
        Items: fn({
          Events: {
            List: { Type: 'HttpApi', Properties: { ApiId: { Ref: 'Api' }, Path: '/items', Method: 'get' } },
            Admin: {
              Type: 'HttpApi',
              Properties: {
                ApiId: { Ref: 'Api' },
                Path: '/admin',
                Method: 'post',
                Auth: { Authorizer: 'Custom' },
              },
            },
            Open: {
              Type: 'HttpApi',
              Properties: {
                ApiId: { Ref: 'Api' },
                Path: '/health',
                Method: 'get',
                Auth: { Authorizer: 'NONE' },
              },
            },
          },
        }),
      },
    },
    opts,
  );
  const body = get(out, 'Api', 'AWS::ApiGatewayV2::Api').Body;
  assert.deepEqual(body['x-amazon-apigateway-cors'], {
    allowOrigins: ['https://example.com'],
    allowMethods: ['GET'],
    maxAge: 600,
  });
  assert.deepEqual(body.components.securitySchemes.Jwt, {
    type: 'oauth2',
    'x-amazon-apigateway-authorizer': {
      type: 'jwt',
      identitySource: '$request.header.Authorization',
      jwtConfiguration: { issuer: 'https://issuer.example.com', audience: ['client'] },
    },
  });
  const custom = body.components.securitySchemes.Custom['x-amazon-apigateway-authorizer'];
  assert.equal(custom.type, 'request');
  assert.equal(custom.authorizerPayloadFormatVersion, '2.0');
  assert.equal(custom.enableSimpleResponses, true);
  assert.deepEqual(custom.identitySource, ['$request.header.X-Token']);
  assert.deepEqual(body.paths['/items'].get.security, [{ Jwt: [] }]);
  assert.deepEqual(body.paths['/admin'].post.security, [{ Custom: [] }]);
  assert.equal(body.paths['/health'].get.security, undefined);
  const stage = get(out, 'Apiv1Stage', 'AWS::ApiGatewayV2::Stage');
  assert.equal(stage.StageName, 'v1');
  assert.deepEqual(stage.StageVariables, { mode: 'test' });
  assert.deepEqual(stage.DefaultRouteSettings, { ThrottlingBurstLimit: 10 });
  get(out, 'ApiCustomAuthorizerPermission', 'AWS::Lambda::Permission');
  get(out, 'ItemsListPermission', 'AWS::Lambda::Permission');
  assert.equal(out.Resources.ServerlessHttpApi, undefined);
});

test('explicit REST API: stage, Lambda TOKEN authorizer, CORS, API key + PER_API usage plan', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Parameters: { Stage: { Type: 'String', Default: 'dev' } },
      Resources: {
        MyApi: {
          Type: 'AWS::Serverless::Api',
          Properties: {
            StageName: { Ref: 'Stage' },
            Variables: { v: '1' },
            MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 5 }],
            EndpointConfiguration: 'REGIONAL',
            Cors: { AllowOrigin: "'https://x.example'", AllowHeaders: "'Content-Type'" },
            Auth: {
              DefaultAuthorizer: 'TokenAuth',
              ApiKeyRequired: true,
              Authorizers: { TokenAuth: { FunctionArn: { 'Fn::GetAtt': ['AuthFn', 'Arn'] } } },
              UsagePlan: { CreateUsagePlan: 'PER_API', Quota: { Limit: 100, Period: 'DAY' } },
            },
          },
        },
        AuthFn: fn(),
        Orders: fn({
          Events: {
            Create: {
              Type: 'Api',
              Properties: { RestApiId: { Ref: 'MyApi' }, Path: '/orders', Method: 'post' },
            },
            Get: {
              Type: 'Api',
              Properties: {
                RestApiId: 'MyApi',
                Path: '/orders/{id}',
                Method: 'get',
                Auth: { Authorizer: 'NONE', ApiKeyRequired: false },
                RequestParameters: [
                  'method.request.header.X-Trace',
                  { 'method.request.querystring.full': { Required: true } },
                ],
              },
            },
          },
        }),
      },
    },
    opts,
  );
  const api = get(out, 'MyApi', 'AWS::ApiGateway::RestApi');
  assert.deepEqual(api.EndpointConfiguration, { Types: ['REGIONAL'] });
  const body = api.Body;
  assert.deepEqual(body.paths['/orders'].post.security, [{ TokenAuth: [] }, { api_key: [] }]);
  assert.equal(body.paths['/orders/{id}'].get.security, undefined);
  assert.deepEqual(body.paths['/orders/{id}'].get.parameters, [
    { in: 'header', name: 'X-Trace', required: false, type: 'string' },
    { in: 'query', name: 'full', required: true, type: 'string' },
  ]);
  const auth = body.securityDefinitions.TokenAuth;
  assert.equal(auth['x-amazon-apigateway-authtype'], 'custom');
  assert.equal(auth['x-amazon-apigateway-authorizer'].type, 'token');
  assert.deepEqual(body.securityDefinitions.api_key, { type: 'apiKey', name: 'x-api-key', in: 'header' });
  const cors =
    body.paths['/orders'].options['x-amazon-apigateway-integration'].responses.default.responseParameters;
  assert.equal(cors['method.response.header.Access-Control-Allow-Origin'], "'https://x.example'");
  assert.equal(cors['method.response.header.Access-Control-Allow-Methods'], "'OPTIONS,POST'");
  assert.deepEqual(body.paths['/orders'].options.security, [{ TokenAuth: [] }, { api_key: [] }]);

  const stage = get(out, 'MyApidevStage', 'AWS::ApiGateway::Stage');
  assert.equal(stage.StageName, 'dev');
  assert.deepEqual(stage.Variables, { v: '1' });
  assert.equal(stage.MethodSettings[0].ThrottlingRateLimit, 5);
  assert.ok(Object.keys(out.Resources).some((k) => /^MyApiDeployment[0-9a-f]{10}$/.test(k)));
  get(out, 'OrdersCreatePermissiondev', 'AWS::Lambda::Permission');
  get(out, 'MyApiTokenAuthAuthorizerPermission', 'AWS::Lambda::Permission');

  const plan = get(out, 'MyApiUsagePlan', 'AWS::ApiGateway::UsagePlan');
  assert.deepEqual(plan.ApiStages, [{ ApiId: { Ref: 'MyApi' }, Stage: { Ref: 'MyApidevStage' } }]);
  assert.deepEqual(plan.Quota, { Limit: 100, Period: 'DAY' });
  const key = get(out, 'MyApiApiKey', 'AWS::ApiGateway::ApiKey');
  assert.equal(key.Enabled, true);
  const planKey = get(out, 'MyApiUsagePlanKey', 'AWS::ApiGateway::UsagePlanKey');
  assert.deepEqual(planKey, {
    KeyId: { Ref: 'MyApiApiKey' },
    UsagePlanId: { Ref: 'MyApiUsagePlan' },
    KeyType: 'API_KEY',
  });
  assert.equal(out.Resources.ServerlessRestApi, undefined);
});

test('SimpleTable -> DynamoDB table', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Resources: {
        Plain: { Type: 'AWS::Serverless::SimpleTable' },
        Named: {
          Type: 'AWS::Serverless::SimpleTable',
          Properties: {
            TableName: 'orders',
            PrimaryKey: { Name: 'orderId', Type: 'Number' },
            ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
            Tags: { app: 'x' },
            SSESpecification: { SSEEnabled: true },
          },
        },
      },
    },
    opts,
  );
  assert.deepEqual(get(out, 'Plain', 'AWS::DynamoDB::Table'), {
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  assert.deepEqual(get(out, 'Named', 'AWS::DynamoDB::Table'), {
    TableName: 'orders',
    AttributeDefinitions: [{ AttributeName: 'orderId', AttributeType: 'N' }],
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    SSESpecification: { SSEEnabled: true },
    Tags: [{ Key: 'app', Value: 'x' }],
  });
});

test('LayerVersion -> hashed LayerVersion id; Refs to the layer are rewritten', () => {
  const tpl = (key: string): Template => ({
    Transform: SAM_TRANSFORM,
    Resources: {
      Deps: {
        Type: 'AWS::Serverless::LayerVersion',
        Properties: {
          ContentUri: `s3://b/${key}`,
          CompatibleRuntimes: ['nodejs20.x'],
          RetentionPolicy: 'Delete',
        },
      },
      Fn: fn({ Layers: [{ Ref: 'Deps' }] }),
    },
    Outputs: { Layer: { Value: { Ref: 'Deps' } }, Sub: { Value: { 'Fn::Sub': '${Deps}' } } },
  });
  const out = transformSam(tpl('layer.zip'), opts);
  const id = Object.keys(out.Resources).find((k) => /^Deps[0-9a-f]{10}$/.test(k));
  assert.ok(id);
  assert.equal(out.Resources.Deps, undefined);
  assert.equal(out.Resources[id].DeletionPolicy, 'Delete');
  assert.deepEqual(get(out, id, 'AWS::Lambda::LayerVersion'), {
    Content: { S3Bucket: 'b', S3Key: 'layer.zip' },
    LayerName: 'Deps',
    CompatibleRuntimes: ['nodejs20.x'],
  });
  assert.deepEqual(get(out, 'Fn', 'AWS::Lambda::Function').Layers, [{ Ref: id }]);
  assert.deepEqual(out.Outputs?.Layer.Value, { Ref: id });
  assert.deepEqual(out.Outputs?.Sub.Value, { 'Fn::Sub': `\${${id}}` });
  const other = transformSam(tpl('layer2.zip'), opts);
  assert.equal(other.Resources[id], undefined, 'new content -> new layer version id');
});

test('unsupported SAM types and plain resources pass through unchanged', () => {
  const machine = { Type: 'AWS::Serverless::StateMachine', Properties: { Definition: { StartAt: 'A' } } };
  const bucket = { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'b' }, DeletionPolicy: 'Retain' };
  const out = transformSam({ Transform: [SAM_TRANSFORM], Resources: { M: machine, B: bucket } }, opts);
  assert.deepEqual(out.Resources, { M: machine, B: bucket });
  assert.equal(out.Transform, undefined);
  const other = transformSam(
    { Transform: ['AWS::LanguageExtensions', SAM_TRANSFORM], Resources: { B: bucket } },
    opts,
  );
  assert.deepEqual(
    other.Transform,
    ['AWS::LanguageExtensions'],
    'transforms Nimbus does not run stay visible',
  );
});

test('Policies are not a Globals property (as in SAM); AWS_IAM on an HTTP API route defines the scheme', () => {
  assert.throws(
    () =>
      transformSam(
        { Transform: SAM_TRANSFORM, Globals: { Function: { Policies: [] } }, Resources: {} },
        opts,
      ),
    /'Policies' is not a supported property of 'Function'/,
  );
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Resources: {
        Fn: fn({
          Events: {
            E: {
              Type: 'HttpApi',
              Properties: { Path: '/p', Method: 'get', Auth: { Authorizer: 'AWS_IAM' } },
            },
          },
        }),
      },
    },
    opts,
  );
  const body = get(out, 'ServerlessHttpApi', 'AWS::ApiGatewayV2::Api').Body;
  assert.deepEqual(body.paths['/p'].get.security, [{ AWS_IAM: [] }]);
  assert.equal(body.components.securitySchemes.AWS_IAM['x-amazon-apigateway-authtype'], 'awsSigv4');
});

test('DefinitionBody keeps its own paths and gains the event routes; Conditions follow generated resources', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
      Resources: {
        Api: {
          Type: 'AWS::Serverless::Api',
          Properties: {
            StageName: 'live',
            DefinitionBody: {
              swagger: '2.0',
              info: { title: 'mine' },
              paths: { '/static': { get: { responses: {} } } },
            },
          },
        },
        Fn: {
          ...fn({
            Events: {
              Get: { Type: 'Api', Properties: { RestApiId: { Ref: 'Api' }, Path: '/dyn', Method: 'get' } },
              Q: { Type: 'SQS', Properties: { Queue: 'arn:aws:sqs:us-east-1:000000000000:q' } },
            },
          }),
          Condition: 'IsProd',
        },
      },
    },
    opts,
  );
  const body = get(out, 'Api', 'AWS::ApiGateway::RestApi').Body;
  assert.equal(body.info.title, 'mine');
  assert.ok(body.paths['/static'].get);
  assert.ok(body.paths['/dyn'].get['x-amazon-apigateway-integration']);
  for (const id of ['Fn', 'FnRole', 'FnQ', 'FnGetPermissionlive'])
    assert.equal(out.Resources[id].Condition, 'IsProd', id);
  get(out, 'ApiliveStage', 'AWS::ApiGateway::Stage');
});

test('an explicit Api without StageName is invalid', () => {
  assert.throws(
    () =>
      transformSam(
        { Transform: SAM_TRANSFORM, Resources: { Api: { Type: 'AWS::Serverless::Api', Properties: {} } } },
        opts,
      ),
    /Resource with id \[Api\] is invalid\. Missing required property 'StageName'\./,
  );
});

test('REST API Auth.ResourcePolicy becomes the definition x-amazon-apigateway-policy, as SAM translates it', () => {
  const out = transformSam(
    {
      Transform: SAM_TRANSFORM,
      Resources: {
        Api: {
          Type: 'AWS::Serverless::Api',
          Properties: {
            StageName: 'live',
            Auth: {
              ResourcePolicy: {
                IpRangeBlacklist: ['127.0.0.1/32'],
                SourceVpcWhitelist: ['vpc-1', 'vpce-2'],
                AwsAccountWhitelist: ['111111111111'],
                CustomStatements: [
                  {
                    Effect: 'Allow',
                    Principal: '*',
                    Action: 'execute-api:Invoke',
                    Resource: 'execute-api:/*',
                  },
                ],
              },
            },
          },
        },
        Fn: fn({
          Events: {
            Get: {
              Type: 'Api',
              Properties: { RestApiId: { Ref: 'Api' }, Path: '/items/{id}', Method: 'get' },
            },
          },
        }),
      },
    },
    opts,
  );
  const body = get(out, 'Api', 'AWS::ApiGateway::RestApi').Body;
  const policy = body['x-amazon-apigateway-policy'];
  const resource = [{ 'Fn::Sub': ['execute-api:/${__Stage__}/GET/items/*', { __Stage__: 'live' }] }];
  const invoke = { Action: 'execute-api:Invoke', Resource: resource };
  assert.equal(policy.Version, '2012-10-17');
  assert.deepEqual(policy.Statement, [
    { Effect: 'Allow', ...invoke, Principal: { AWS: ['111111111111'] } },
    { Effect: 'Allow', ...invoke, Principal: '*' },
    {
      Effect: 'Deny',
      ...invoke,
      Principal: '*',
      Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.1/32'] } },
    },
    {
      Effect: 'Deny',
      ...invoke,
      Principal: '*',
      Condition: { StringNotEquals: { 'aws:SourceVpc': ['vpc-1'], 'aws:SourceVpce': ['vpce-2'] } },
    },
    { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
  ]);
  // A ResourcePolicy that is not a map is refused with SAM's words.
  assert.throws(
    () =>
      transformSam(
        {
          Transform: SAM_TRANSFORM,
          Resources: {
            Api: {
              Type: 'AWS::Serverless::Api',
              Properties: { StageName: 's', Auth: { ResourcePolicy: ['x'] } },
            },
          },
        },
        opts,
      ),
    /ResourcePolicy must be a map \(ResourcePolicyStatement\)/,
  );
});
