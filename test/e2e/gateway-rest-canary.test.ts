/**
 * REST API canary release deployments end to end, through the real @aws-sdk/client-api-gateway
 * and plain HTTP: a stage serving deployment "v1" with a canary on deployment "v2" (MOCK
 * integrations that answer their version, the stage variable `color` and
 * `$context.isCanaryRequest`). The server's random draws are injected, so the traffic split is
 * exact. Also: GetStage's canarySettings, UpdateStage's canary paths and AWS's errors, promotion,
 * removal, useStageCache, the `/Canary` log groups and metrics, and CloudFormation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  DeleteDeploymentCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateIntegrationResponseCommand,
  UpdateStageCommand,
  type PatchOperation,
} from '@aws-sdk/client-api-gateway';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { startTestServer } from '../helpers/server.js';
import { rejects } from '../helpers/rejects.js';
import { deployStack } from '../helpers/stack.js';

const answer = (version: string) =>
  `{"version":"${version}","color":"$stageVariables.color","canary":"$context.isCanaryRequest","id":"$context.requestId"}`;

interface Answer {
  version: string;
  color: string;
  canary: string;
  id: string;
}

test('REST APIs: canary release deployments', async (t) => {
  // The draws that route requests to the canary: a request goes there when draw * 100 < percentTraffic.
  let draws: number[] = [];
  await using srv = await startTestServer({ start: { random: () => draws.shift() ?? 0.5 } });
  const gw = new APIGatewayClient(srv.clientConfig);
  const logs = new CloudWatchLogsClient(srv.clientConfig);
  const cw = new CloudWatchClient(srv.clientConfig);
  const cfn = new CloudFormationClient(srv.clientConfig);
  t.after(() => {
    gw.destroy();
    logs.destroy();
    cw.destroy();
    cfn.destroy();
  });

  const api = await gw.send(new CreateRestApiCommand({ name: 'canaries' }));
  const restApiId = api.id!;
  const where = { restApiId, resourceId: api.rootResourceId!, httpMethod: 'GET' };
  await gw.send(new PutMethodCommand({ ...where, authorizationType: 'NONE' }));
  await gw.send(new PutMethodResponseCommand({ ...where, statusCode: '200' }));
  await gw.send(
    new PutIntegrationCommand({
      ...where,
      type: 'MOCK',
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
    }),
  );
  await gw.send(
    new PutIntegrationResponseCommand({
      ...where,
      statusCode: '200',
      responseTemplates: { 'application/json': answer('v1') },
    }),
  );
  const d1 = await gw.send(
    new CreateDeploymentCommand({ restApiId, stageName: 'prod', variables: { color: 'blue', keep: 'k' } }),
  );
  await gw.send(
    new UpdateIntegrationResponseCommand({
      ...where,
      statusCode: '200',
      patchOperations: [{ op: 'replace', path: '/responseTemplates/application~1json', value: answer('v2') }],
    }),
  );
  const d2 = await gw.send(
    new CreateDeploymentCommand({
      restApiId,
      stageName: 'prod',
      canarySettings: { percentTraffic: 0, stageVariableOverrides: { color: 'green' } },
    }),
  );

  const call = async (stage = 'prod'): Promise<Answer> => {
    const r = await fetch(`${srv.endpoint}/_api/${restApiId}/${stage}/`);
    assert.equal(r.status, 200);
    return (await r.json()) as Answer;
  };
  const patch = (patchOperations: PatchOperation[], stageName = 'prod') =>
    gw.send(new UpdateStageCommand({ restApiId, stageName, patchOperations }));

  await t.test('CreateDeployment with canarySettings: the stage keeps its deployment', async () => {
    const st = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(st.deploymentId, d1.id);
    assert.deepEqual(st.variables, { color: 'blue', keep: 'k' });
    assert.deepEqual(st.canarySettings, {
      deploymentId: d2.id,
      percentTraffic: 0,
      stageVariableOverrides: { color: 'green' },
      useStageCache: false,
    });
  });

  await t.test('0%: every request is served by the stage, isCanaryRequest false', async () => {
    draws = [0, 0.001, 0.999];
    for (let i = 0; i < 3; i++)
      assert.deepEqual(
        { ...(await call()), id: '' },
        { version: 'v1', color: 'blue', canary: 'false', id: '' },
      );
  });

  await t.test('100%: every request is the canary, with the stage variable overrides', async () => {
    const st = await patch([{ op: 'replace', path: '/canarySettings/percentTraffic', value: '100.0' }]);
    assert.equal(st.canarySettings?.percentTraffic, 100);
    draws = [0, 0.5, 0.999999];
    for (let i = 0; i < 3; i++)
      assert.deepEqual(
        { ...(await call()), id: '' },
        { version: 'v2', color: 'green', canary: 'true', id: '' },
      );
  });

  await t.test('50%: the share follows the draws, over 400 requests', async () => {
    await patch([{ op: 'replace', path: '/canarySettings/percentTraffic', value: '50' }]);
    draws = Array.from({ length: 400 }, (_, i) => ((i * 37) % 400) / 400);
    const seen = { v1: 0, v2: 0 };
    for (let i = 0; i < 400; i++) {
      const a = await call();
      seen[a.version as 'v1' | 'v2']++;
      assert.equal(a.color, a.version === 'v2' ? 'green' : 'blue');
      assert.equal(a.canary, String(a.version === 'v2'));
    }
    assert.deepEqual(seen, { v1: 200, v2: 200 });
    // 12.5%: draws below 0.125 only.
    await patch([{ op: 'replace', path: '/canarySettings/percentTraffic', value: '12.5' }]);
    draws = [0.124, 0.125, 0.9];
    assert.deepEqual(
      [(await call()).version, (await call()).version, (await call()).version],
      ['v2', 'v1', 'v1'],
    );
  });

  await t.test('UpdateStage: the canary stage variables, deployment and stage cache', async () => {
    const st = await patch([
      { op: 'replace', path: '/canarySettings/stageVariableOverrides/shade', value: 'dark' },
      { op: 'replace', path: '/canarySettings/stageVariableOverrides/color', value: 'red' },
      { op: 'replace', path: '/canarySettings/useStageCache', value: 'true' },
    ]);
    assert.deepEqual(st.canarySettings, {
      deploymentId: d2.id,
      percentTraffic: 12.5,
      stageVariableOverrides: { color: 'red', shade: 'dark' },
      useStageCache: true,
    });
    const removed = await patch([
      { op: 'remove', path: '/canarySettings/stageVariableOverrides/shade' },
      { op: 'replace', path: '/canarySettings/useStageCache', value: 'false' },
    ]);
    assert.deepEqual(removed.canarySettings?.stageVariableOverrides, { color: 'red' });
    assert.equal(removed.canarySettings?.useStageCache, false);
    draws = [0];
    assert.deepEqual({ ...(await call()), id: '' }, { version: 'v2', color: 'red', canary: 'true', id: '' });
  });

  await t.test("validation errors: AWS's messages", async () => {
    for (const value of ['100.5', '-1', 'lots'])
      await rejects(
        patch([{ op: 'replace', path: '/canarySettings/percentTraffic', value }]),
        'BadRequestException',
        `Invalid percentTraffic ${value}: must be a number between 0.0 and 100.0`,
      );
    await rejects(
      patch([{ op: 'add', path: '/canarySettings/deploymentId', value: d1.id }]),
      'BadRequestException',
      'Invalid add operation with path: /canarySettings/deploymentId',
    );
    await rejects(
      patch([{ op: 'replace', path: '/canarySettings/deploymentId', value: 'nope00' }]),
      'BadRequestException',
      'Deployment id does not exist',
    );
    await rejects(
      patch([{ op: 'remove', path: '/canarySettings/badPath' }]),
      'BadRequestException',
      'Cannot remove method setting canarySettings/badPath because there is no method setting for this method ',
    );
    await rejects(
      patch([{ op: 'copy', from: '/variables', path: '/canarySettings/stageVariableOverrides' }]),
      'BadRequestException',
      'Invalid copy operation with path: /canarySettings/stageVariableOverrides and from /variables. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]',
    );
    await rejects(
      gw.send(new CreateDeploymentCommand({ restApiId, canarySettings: { percentTraffic: 5 } })),
      'BadRequestException',
      'Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is null',
    );
    await rejects(
      gw.send(
        new CreateDeploymentCommand({ restApiId, stageName: 'later', canarySettings: { percentTraffic: 5 } }),
      ),
      'BadRequestException',
      'Invalid deployment content specified.Stage later must already be created before making a canary release deployment',
    );
    await rejects(
      gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' })),
      'BadRequestException',
      'Invalid deployment content specified.Non canary deployment not supported on stage prod because Canary is enabled. Provide CanarySettings in deploymentInput.',
    );
    await rejects(
      gw.send(new DeleteDeploymentCommand({ restApiId, deploymentId: d2.id })),
      'BadRequestException',
      'Active stages pointing to this deployment must be moved or deleted',
    );
    // Nothing of a failed update is kept.
    const st = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(st.canarySettings?.percentTraffic, 12.5);
  });

  await t.test('CreateStage with canarySettings; UpdateStage makes a canary on a plain stage', async () => {
    const beta = await gw.send(
      new CreateStageCommand({
        restApiId,
        stageName: 'beta',
        deploymentId: d1.id,
        variables: { color: 'blue' },
        canarySettings: { percentTraffic: 100, stageVariableOverrides: { color: 'pink' } },
      }),
    );
    // Without a deploymentId the canary starts on the stage's deployment.
    assert.deepEqual(beta.canarySettings, {
      deploymentId: d1.id,
      percentTraffic: 100,
      stageVariableOverrides: { color: 'pink' },
      useStageCache: false,
    });
    assert.deepEqual(
      { ...(await call('beta')), id: '' },
      { version: 'v1', color: 'pink', canary: 'true', id: '' },
    );
    await gw.send(new CreateStageCommand({ restApiId, stageName: 'plain', deploymentId: d1.id }));
    assert.equal((await call('plain')).canary, '', 'no $context.isCanaryRequest without a canary');
    const plain = await patch(
      [{ op: 'replace', path: '/canarySettings/deploymentId', value: d2.id! }],
      'plain',
    );
    assert.deepEqual(plain.canarySettings, { deploymentId: d2.id, percentTraffic: 0, useStageCache: false });
    await gw.send(new CreateStageCommand({ restApiId, stageName: 'bare', deploymentId: d1.id }));
    await rejects(
      patch([{ op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' }], 'bare'),
      'BadRequestException',
      'Promotion not available. Canary does not exist.',
    );
  });

  await t.test('useStageCache: canary requests use the API cache only when set', async () => {
    await patch([
      { op: 'replace', path: '/cacheClusterEnabled', value: 'true' },
      { op: 'replace', path: '/*/*/caching/enabled', value: 'true' },
      { op: 'replace', path: '/canarySettings/percentTraffic', value: '50' },
    ]);
    draws = [0, 0, 0.9, 0.9];
    const [c1, c2, p1, p2] = [await call(), await call(), await call(), await call()];
    assert.deepEqual([c1.version, c2.version, p1.version, p2.version], ['v2', 'v2', 'v1', 'v1']);
    assert.notEqual(c1.id, c2.id, 'useStageCache false: the canary is not cached');
    assert.equal(p1.id, p2.id, 'the stage is cached');
    await patch([{ op: 'replace', path: '/canarySettings/useStageCache', value: 'true' }]);
    draws = [0, 0, 0.9, 0.9];
    const [c3, c4, p3, p4] = [await call(), await call(), await call(), await call()];
    assert.deepEqual([c3.version, c4.version, p3.version, p4.version], ['v2', 'v2', 'v1', 'v1']);
    assert.equal(c3.id, c4.id, 'useStageCache true: the canary is cached');
    assert.equal(p3.id, p4.id);
    assert.notEqual(c3.id, p3.id, "another deployment's answers are kept apart");
    await patch([{ op: 'replace', path: '/cacheClusterEnabled', value: 'false' }]);
  });

  await t.test(
    'logs and metrics: canary requests also go to {group}/Canary and Stage {stage}/Canary',
    async () => {
      await patch([
        {
          op: 'replace',
          path: '/accessLogSettings/destinationArn',
          value: 'arn:aws:logs:us-east-1:000000000000:log-group:canary-access',
        },
        {
          op: 'replace',
          path: '/accessLogSettings/format',
          value: '$context.requestId $context.isCanaryRequest',
        },
        { op: 'replace', path: '/*/*/logging/loglevel', value: 'INFO' },
        { op: 'replace', path: '/canarySettings/percentTraffic', value: '50' },
      ]);
      draws = [0, 0.9];
      const canary = await call();
      const stage = await call();
      const lines = async (group: string, want: number) => {
        let out: string[] = [];
        for (let i = 0; i < 50 && out.length < want; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const r = await logs
            .send(new FilterLogEventsCommand({ logGroupName: group }))
            .catch(() => undefined);
          out = (r?.events ?? []).map((e) => e.message!);
        }
        return out;
      };
      assert.deepEqual(await lines('canary-access', 2), [`${canary.id} true`, `${stage.id} false`]);
      assert.deepEqual(await lines('canary-access/Canary', 1), [`${canary.id} true`]);
      const execution = await lines(`API-Gateway-Execution-Logs_${restApiId}/prod/Canary`, 1);
      assert.ok(execution.length > 0 && execution.every((l) => l.startsWith(`(${canary.id})`)));
      const main = await lines(`API-Gateway-Execution-Logs_${restApiId}/prod`, 1);
      assert.ok(main.some((l) => l.startsWith(`(${stage.id})`)));

      const count = async (stageName: string) => {
        const r = await cw.send(
          new GetMetricStatisticsCommand({
            Namespace: 'AWS/ApiGateway',
            MetricName: 'Count',
            Dimensions: [
              { Name: 'ApiName', Value: 'canaries' },
              { Name: 'Stage', Value: stageName },
            ],
            StartTime: new Date(Date.now() - 3600_000),
            EndTime: new Date(Date.now() + 600_000),
            Period: 3600,
            Statistics: ['SampleCount'],
          }),
        );
        return (r.Datapoints ?? []).reduce((a, d) => a + (d.SampleCount ?? 0), 0);
      };
      let canaryCount = 0;
      for (let i = 0; i < 50 && canaryCount === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        canaryCount = await count('prod/Canary');
      }
      assert.ok(canaryCount > 0, 'canary requests counted under Stage prod/Canary');
      assert.ok((await count('prod')) > canaryCount, 'and under the stage');
    },
  );

  await t.test('promotion (copy operations), then removal', async () => {
    const promoted = await patch([
      { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
      { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
      { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
    ]);
    assert.equal(promoted.deploymentId, d2.id);
    assert.deepEqual(promoted.variables, { color: 'red', keep: 'k' });
    assert.deepEqual(promoted.canarySettings, {
      deploymentId: d2.id,
      percentTraffic: 0,
      stageVariableOverrides: { color: 'red' },
      useStageCache: true,
    });
    draws = [0];
    assert.deepEqual({ ...(await call()), id: '' }, { version: 'v2', color: 'red', canary: 'false', id: '' });

    const removed = await patch([{ op: 'remove', path: '/canarySettings' }]);
    assert.equal(removed.canarySettings, undefined);
    assert.equal(removed.deploymentId, d2.id);
    const st = await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }));
    assert.equal(st.canarySettings, undefined);
    assert.deepEqual({ ...(await call()), id: '' }, { version: 'v2', color: 'red', canary: '', id: '' });
    // A plain deployment is taken again once the canary is gone.
    const d3 = await gw.send(new CreateDeploymentCommand({ restApiId, stageName: 'prod' }));
    assert.equal((await gw.send(new GetStageCommand({ restApiId, stageName: 'prod' }))).deploymentId, d3.id);
  });

  await t.test('CloudFormation: DeploymentCanarySettings and a Stage CanarySetting', async () => {
    const template = JSON.stringify({
      Resources: {
        Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'canary-stack' } },
        Get: {
          Type: 'AWS::ApiGateway::Method',
          Properties: {
            RestApiId: { Ref: 'Api' },
            ResourceId: { 'Fn::GetAtt': ['Api', 'RootResourceId'] },
            HttpMethod: 'GET',
            AuthorizationType: 'NONE',
            MethodResponses: [{ StatusCode: '200' }],
            Integration: {
              Type: 'MOCK',
              RequestTemplates: { 'application/json': '{"statusCode": 200}' },
              IntegrationResponses: [
                { StatusCode: '200', ResponseTemplates: { 'application/json': answer('cfn') } },
              ],
            },
          },
        },
        Base: {
          Type: 'AWS::ApiGateway::Deployment',
          DependsOn: 'Get',
          Properties: {
            RestApiId: { Ref: 'Api' },
            StageName: 'live',
            StageDescription: { Variables: { color: 'blue' } },
          },
        },
        Canary: {
          Type: 'AWS::ApiGateway::Deployment',
          DependsOn: 'Base',
          Properties: {
            RestApiId: { Ref: 'Api' },
            StageName: 'live',
            DeploymentCanarySettings: {
              PercentTraffic: 100,
              StageVariableOverrides: { color: 'green' },
              UseStageCache: false,
            },
          },
        },
        Edge: {
          Type: 'AWS::ApiGateway::Stage',
          Properties: {
            RestApiId: { Ref: 'Api' },
            StageName: 'edge',
            DeploymentId: { Ref: 'Base' },
            CanarySetting: {
              DeploymentId: { Ref: 'Canary' },
              PercentTraffic: 25,
              StageVariableOverrides: { color: 'red' },
              UseStageCache: true,
            },
          },
        },
      },
    });
    const stack = await deployStack(cfn, 'canary-stack', template);
    const id = stack.phys('Api');
    const live = await gw.send(new GetStageCommand({ restApiId: id, stageName: 'live' }));
    assert.equal(live.deploymentId, stack.phys('Base'));
    assert.deepEqual(live.canarySettings, {
      deploymentId: stack.phys('Canary'),
      percentTraffic: 100,
      stageVariableOverrides: { color: 'green' },
      useStageCache: false,
    });
    const edge = await gw.send(new GetStageCommand({ restApiId: id, stageName: 'edge' }));
    assert.equal(edge.deploymentId, stack.phys('Base'));
    assert.deepEqual(edge.canarySettings, {
      deploymentId: stack.phys('Canary'),
      percentTraffic: 25,
      stageVariableOverrides: { color: 'red' },
      useStageCache: true,
    });
    draws = [0.5];
    const r = await fetch(`${srv.endpoint}/_api/${id}/live/`);
    const a = (await r.json()) as Answer;
    assert.deepEqual({ ...a, id: '' }, { version: 'cfn', color: 'green', canary: 'true', id: '' });
  });
});
