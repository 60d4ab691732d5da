import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError, type Template } from '../types.js';
import { SAM_TRANSFORM, isSamTemplate, transformSam } from './index.js';

const opts = { region: 'us-east-1', accountId: '000000000000', stackName: 'app', parameters: {} };

const sam = (resources: Template['Resources'], extra: Partial<Template> = {}): Template => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Transform: SAM_TRANSFORM,
  ...extra,
  Resources: resources,
});

const props = (t: Template, id: string) => {
  assert.ok(t.Resources[id], `missing ${id}; have ${Object.keys(t.Resources).join(', ')}`);
  return t.Resources[id].Properties as Record<string, any>;
};

test('isSamTemplate accepts the transform as a string or in a list', () => {
  assert.equal(isSamTemplate({ Transform: SAM_TRANSFORM, Resources: {} }), true);
  assert.equal(isSamTemplate({ Transform: ['AWS::LanguageExtensions', SAM_TRANSFORM], Resources: {} }), true);
  assert.equal(isSamTemplate({ Resources: {} }), false);
  assert.equal(isSamTemplate({ Transform: 'AWS::LanguageExtensions', Resources: {} }), false);
});

test('hello world: function, role, implicit REST API with deployment, Prod stage and permission', () => {
  const out = transformSam(
    sam(
      {
        HelloWorldFunction: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            CodeUri: 's3://nimbus-deploy-artifacts/app/abc123',
            Handler: 'app.lambdaHandler',
            Runtime: 'nodejs20.x',
            Architectures: ['x86_64'],
            Events: { HelloWorld: { Type: 'Api', Properties: { Path: '/hello', Method: 'get' } } },
          },
        },
      },
      {
        Outputs: {
          Url: {
            Value: {
              'Fn::Sub': 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/',
            },
          },
        },
      },
    ),
    opts,
  );
  assert.equal(out.Transform, undefined);
  assert.equal(out.Globals, undefined);
  assert.ok(out.Outputs?.Url);
  const fn = props(out, 'HelloWorldFunction');
  assert.equal(out.Resources.HelloWorldFunction.Type, 'AWS::Lambda::Function');
  assert.deepEqual(fn.Code, { S3Bucket: 'nimbus-deploy-artifacts', S3Key: 'app/abc123' });
  assert.equal(fn.Handler, 'app.lambdaHandler');
  assert.deepEqual(fn.Role, { 'Fn::GetAtt': ['HelloWorldFunctionRole', 'Arn'] });
  assert.deepEqual(fn.Tags, [{ Key: 'lambda:createdBy', Value: 'SAM' }]);
  const role = props(out, 'HelloWorldFunctionRole');
  assert.equal(out.Resources.HelloWorldFunctionRole.Type, 'AWS::IAM::Role');
  assert.deepEqual(role.ManagedPolicyArns, [
    'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
  ]);
  assert.deepEqual(role.AssumeRolePolicyDocument.Statement[0].Principal, {
    Service: ['lambda.amazonaws.com'],
  });

  const api = props(out, 'ServerlessRestApi');
  assert.equal(out.Resources.ServerlessRestApi.Type, 'AWS::ApiGateway::RestApi');
  assert.equal(api.Body.swagger, '2.0');
  assert.deepEqual(api.Body.paths['/hello'].get['x-amazon-apigateway-integration'], {
    type: 'aws_proxy',
    httpMethod: 'POST',
    uri: {
      'Fn::Sub':
        'arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${HelloWorldFunction.Arn}/invocations',
    },
  });
  const depId = Object.keys(out.Resources).find((k) => /^ServerlessRestApiDeployment[0-9a-f]{10}$/.test(k));
  assert.ok(depId);
  const dep = props(out, depId);
  assert.match(dep.Description, /^RestApi deployment id: [0-9a-f]{40}$/);
  assert.ok(dep.Description.endsWith(depId.slice(-10)) || dep.Description.includes(depId.slice(-10)));
  const stage = props(out, 'ServerlessRestApiProdStage');
  assert.equal(stage.StageName, 'Prod');
  assert.deepEqual(stage.DeploymentId, { Ref: depId });
  const perm = props(out, 'HelloWorldFunctionHelloWorldPermissionProd');
  assert.equal(perm.Principal, 'apigateway.amazonaws.com');
  assert.deepEqual(perm.FunctionName, { Ref: 'HelloWorldFunction' });
  assert.equal(
    perm.SourceArn['Fn::Sub'][0],
    'arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/GET/hello',
  );
});

test('the deployment id changes with the API definition and is stable otherwise', () => {
  const tpl = (path: string) =>
    sam({
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          InlineCode: 'exports.handler = async () => ({})',
          Handler: 'index.handler',
          Runtime: 'nodejs20.x',
          Events: { E: { Type: 'Api', Properties: { Path: path, Method: 'ANY' } } },
        },
      },
    });
  const ids = (t: Template) =>
    Object.keys(t.Resources).filter((k) => k.startsWith('ServerlessRestApiDeployment'));
  const a = transformSam(tpl('/a/{proxy+}'), opts);
  assert.deepEqual(ids(a), ids(transformSam(tpl('/a/{proxy+}'), opts)));
  assert.notDeepEqual(ids(a), ids(transformSam(tpl('/b'), opts)));
  assert.deepEqual(props(a, 'Fn').Code, { ZipFile: 'exports.handler = async () => ({})' });
  const body = props(a, 'ServerlessRestApi').Body;
  assert.ok(body.paths['/a/{proxy+}']['x-amazon-apigateway-any-method']);
  assert.match(props(a, 'FnEPermissionProd').SourceArn['Fn::Sub'][0], /\/\$\{__Stage__\}\/\*\/a\/\*$/);
});

test('function properties map to AWS::Lambda::Function as SAM maps them', () => {
  const out = transformSam(
    sam({
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: { Bucket: 'b', Key: 'k.zip', Version: '3' },
          Handler: 'h',
          Runtime: 'python3.12',
          MemorySize: 256,
          Timeout: 10,
          FunctionName: 'my-fn',
          Description: 'd',
          Environment: { Variables: { A: '1' } },
          Tags: { team: 'x' },
          ReservedConcurrentExecutions: 2,
          EphemeralStorage: { Size: 1024 },
          Tracing: 'Active',
          DeadLetterQueue: { Type: 'SQS', TargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } },
          Layers: [{ Ref: 'SomeLayerArnParam' }],
          Policies: [
            'AmazonS3ReadOnlyAccess',
            { SQSPollerPolicy: { QueueName: { 'Fn::GetAtt': ['Q', 'QueueName'] } } },
            { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
          ],
        },
      },
    }),
    opts,
  );
  const fn = props(out, 'Fn');
  assert.deepEqual(fn.Code, { S3Bucket: 'b', S3Key: 'k.zip', S3ObjectVersion: '3' });
  assert.equal(fn.MemorySize, 256);
  assert.equal(fn.FunctionName, 'my-fn');
  assert.deepEqual(fn.TracingConfig, { Mode: 'Active' });
  assert.deepEqual(fn.DeadLetterConfig, { TargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] } });
  assert.deepEqual(fn.Tags, [
    { Key: 'lambda:createdBy', Value: 'SAM' },
    { Key: 'team', Value: 'x' },
  ]);
  const role = props(out, 'FnRole');
  assert.deepEqual(role.ManagedPolicyArns, [
    'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
    'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
  ]);
  const names = role.Policies.map((p: any) => p.PolicyName);
  assert.deepEqual(names, ['FnRoleDeadLetterQueuePolicy', 'FnRolePolicy1', 'FnRolePolicy2']);
  assert.ok(role.Policies[1].PolicyDocument.Statement[0].Action.includes('sqs:ReceiveMessage'));
});

test('a given Role means no generated role', () => {
  const out = transformSam(
    sam({
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: 's3://b/k',
          Handler: 'h',
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/r',
        },
      },
    }),
    opts,
  );
  assert.equal(out.Resources.FnRole, undefined);
  assert.equal(props(out, 'Fn').Role, 'arn:aws:iam::000000000000:role/r');
});

test('a local CodeUri is a TemplateError pointing at nimbus deploy; errors are counted as SAM counts them', () => {
  assert.throws(
    () =>
      transformSam(
        sam({
          A: {
            Type: 'AWS::Serverless::Function',
            Properties: { CodeUri: 'hello-world/', Handler: 'h', Runtime: 'nodejs20.x' },
          },
          B: { Type: 'AWS::Serverless::Function', Properties: { Handler: 'h', Runtime: 'nodejs20.x' } },
        }),
        opts,
      ),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.match(
        e.message,
        /^Transform AWS::Serverless-2016-10-31 failed with: Invalid Serverless Application Specification document\. Number of errors found: 2\. Resource with id \[A\] is invalid\. 'CodeUri' is not a valid S3 Uri/,
      );
      assert.match(e.message, /nimbus deploy/);
      assert.match(
        e.message,
        /Resource with id \[B\] is invalid\. Either 'InlineCode' or 'CodeUri' must be set\./,
      );
      return true;
    },
  );
});

test('a Ref to a parameter in CodeUri is resolved from the parameter values', () => {
  const out = transformSam(
    sam(
      {
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: { CodeUri: { Ref: 'Code' }, Handler: 'h', Runtime: 'nodejs20.x' },
        },
      },
      { Parameters: { Code: { Type: 'String' } } },
    ),
    { ...opts, parameters: { Code: 's3://bkt/path/code.zip' } },
  );
  assert.deepEqual(props(out, 'Fn').Code, { S3Bucket: 'bkt', S3Key: 'path/code.zip' });
});

test('an Api event naming an unknown RestApiId is invalid as SAM words it', () => {
  assert.throws(
    () =>
      transformSam(
        sam({
          Fn: {
            Type: 'AWS::Serverless::Function',
            Properties: {
              CodeUri: 's3://b/k',
              Handler: 'h',
              Runtime: 'nodejs20.x',
              Events: {
                Get: { Type: 'Api', Properties: { Path: '/', Method: 'get', RestApiId: { Ref: 'Nope' } } },
              },
            },
          },
        }),
        opts,
      ),
    /Resource with id \[Fn\] is invalid\. Event with id \[Get\] is invalid\. RestApiId property of Api event must reference a valid resource in the same template\./,
  );
});

test('HTTP API event: implicit ServerlessHttpApi with OpenAPI 3 body, $default stage and permission', () => {
  const out = transformSam(
    sam({
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: 's3://b/k',
          Handler: 'h',
          Runtime: 'nodejs20.x',
          Events: {
            Root: { Type: 'HttpApi' },
            Items: {
              Type: 'HttpApi',
              Properties: {
                Path: '/items/{id}',
                Method: 'GET',
                PayloadFormatVersion: '1.0',
                TimeoutInMillis: 5000,
              },
            },
          },
        },
      },
    }),
    opts,
  );
  const api = out.Resources.ServerlessHttpApi;
  assert.equal(api.Type, 'AWS::ApiGatewayV2::Api');
  const body = (api.Properties as any).Body;
  assert.equal(body.openapi, '3.0.1');
  const def = body.paths.$default['x-amazon-apigateway-any-method']['x-amazon-apigateway-integration'];
  assert.equal(def.type, 'aws_proxy');
  assert.equal(def.payloadFormatVersion, '2.0');
  const items = body.paths['/items/{id}'].get['x-amazon-apigateway-integration'];
  assert.equal(items.payloadFormatVersion, '1.0');
  assert.equal(items.timeoutInMillis, 5000);
  const stage = out.Resources.ServerlessHttpApiApiGatewayDefaultStage;
  assert.equal(stage.Type, 'AWS::ApiGatewayV2::Stage');
  assert.equal((stage.Properties as any).StageName, '$default');
  assert.equal((stage.Properties as any).AutoDeploy, true);
  assert.match(
    props(out, 'FnRootPermission').SourceArn['Fn::Sub'][0],
    /\$\{__ApiId__\}\/\$\{__Stage__\}\/\*$/,
  );
  assert.match(props(out, 'FnItemsPermission').SourceArn['Fn::Sub'][0], /\/GET\/items\/\*$/);
});
