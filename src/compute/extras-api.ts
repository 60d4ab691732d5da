/**
 * REST-JSON routes of function policies (AddPermission, RemovePermission, GetPolicy), layers
 * and function URL configs. Thin mappings onto FunctionPolicies, Layers and FunctionUrls.
 */
import type { RestRoute } from '../server/service.js';
import type { Store } from '../storage/store.js';
import { intParam, scopeOf, str } from './api.js';
import type { LambdaEngine } from './engine.js';
import type { FunctionUrls } from './function-urls.js';
import type { Layers } from './layers.js';
import { errors, type Scope } from './model.js';
import {
  PolicyStore,
  functionPolicyKey,
  functionPolicyResource,
  permissionViolations,
  type AddPermissionInput,
} from './policy.js';

/** Function resource policies, per function and qualifier. Stored, not enforced on invokes. */
export class FunctionPolicies {
  private readonly policies: PolicyStore;

  constructor(
    store: Store,
    private readonly engine: LambdaEngine,
  ) {
    this.policies = new PolicyStore(store);
  }

  private async target(scope: Scope, nameIn: string, qualifierIn: string | undefined) {
    const { name, qualifier } = this.engine.parseName(scope, nameIn, qualifierIn);
    await this.engine.getFunctionConfiguration(scope, name, qualifier);
    return { name, qualifier: qualifier === '$LATEST' ? undefined : qualifier };
  }

  async add(scope: Scope, nameIn: string, qualifierIn: string | undefined, input: AddPermissionInput) {
    const v = permissionViolations(input, false);
    if (v.length) throw errors.validation(v);
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    const st = await this.policies.add(
      functionPolicyKey(scope, name, qualifier),
      input,
      functionPolicyResource(scope, name, qualifier),
    );
    return { Statement: JSON.stringify(st) };
  }

  async remove(
    scope: Scope,
    nameIn: string,
    qualifierIn: string | undefined,
    sid: string,
    revisionId?: string,
  ) {
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    await this.policies.remove(functionPolicyKey(scope, name, qualifier), sid, revisionId);
  }

  async get(scope: Scope, nameIn: string, qualifierIn: string | undefined) {
    const { name, qualifier } = await this.target(scope, nameIn, qualifierIn);
    return this.policies.get(functionPolicyKey(scope, name, qualifier));
  }

  /** Drops the policies of a deleted function (every qualifier) or of one deleted version/alias. */
  async functionDeleted(scope: Scope, name: string, qualifier?: string): Promise<void> {
    // Without a qualifier the key `fn:{function}|` prefixes the policies of every qualifier.
    if (qualifier === undefined) await this.policies.dropPrefix(functionPolicyKey(scope, name));
    else await this.policies.drop(functionPolicyKey(scope, name, qualifier));
  }
}

export function extraRoutes(policies: FunctionPolicies, layers: Layers, urls: FunctionUrls): RestRoute[] {
  const F = '/2015-03-31/functions/{FunctionName}';
  const U = '/2021-10-31/functions/{FunctionName}/url';
  const L = '/2018-10-31/layers/{LayerName}/versions';
  const V = `${L}/{VersionNumber}`;
  const r = (method: string, path: string, operation: string, handler: RestRoute['handler']): RestRoute => ({
    method,
    path,
    operation,
    handler,
  });
  return [
    // ---- function policies
    r('POST', `${F}/policy`, 'AddPermission', async (ctx, req) => ({
      status: 201,
      body: await policies.add(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'), req.json()),
    })),
    r('DELETE', `${F}/policy/{StatementId}`, 'RemovePermission', async (ctx, req) => {
      await policies.remove(
        scopeOf(ctx),
        req.pathParams.FunctionName,
        str(req, 'Qualifier'),
        req.pathParams.StatementId,
        str(req, 'RevisionId'),
      );
      return { status: 204 };
    }),
    r('GET', `${F}/policy`, 'GetPolicy', async (ctx, req) => ({
      status: 200,
      body: await policies.get(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier')),
    })),

    // ---- layers
    r('POST', L, 'PublishLayerVersion', async (ctx, req) => ({
      status: 201,
      body: await layers.publish(scopeOf(ctx), req.pathParams.LayerName, req.json()),
    })),
    r('GET', L, 'ListLayerVersions', async (ctx, req) => ({
      status: 200,
      body: await layers.listVersions(scopeOf(ctx), req.pathParams.LayerName, {
        CompatibleRuntime: str(req, 'CompatibleRuntime'),
        CompatibleArchitecture: str(req, 'CompatibleArchitecture'),
        Marker: str(req, 'Marker'),
        MaxItems: intParam(req, 'MaxItems', 'maxItems'),
      }),
    })),
    r('GET', '/2018-10-31/layers', 'ListLayers', async (ctx, req) => {
      // GetLayerVersionByArn shares the path: `?find=LayerVersion&Arn=...`.
      if (str(req, 'find') === 'LayerVersion')
        return { status: 200, body: await layers.getByArn(scopeOf(ctx), str(req, 'Arn')) };
      return {
        status: 200,
        body: await layers.list(scopeOf(ctx), {
          CompatibleRuntime: str(req, 'CompatibleRuntime'),
          CompatibleArchitecture: str(req, 'CompatibleArchitecture'),
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
        }),
      };
    }),
    r('GET', V, 'GetLayerVersion', async (ctx, req) => ({
      status: 200,
      body: await layers.get(scopeOf(ctx), req.pathParams.LayerName, req.pathParams.VersionNumber),
    })),
    r('DELETE', V, 'DeleteLayerVersion', async (ctx, req) => {
      await layers.delete(scopeOf(ctx), req.pathParams.LayerName, req.pathParams.VersionNumber);
      return { status: 204 };
    }),
    r('POST', `${V}/policy`, 'AddLayerVersionPermission', async (ctx, req) => ({
      status: 201,
      body: await layers.addPermission(scopeOf(ctx), req.pathParams.LayerName, req.pathParams.VersionNumber, {
        ...req.json<AddPermissionInput>(),
        RevisionId: str(req, 'RevisionId'),
      }),
    })),
    r('DELETE', `${V}/policy/{StatementId}`, 'RemoveLayerVersionPermission', async (ctx, req) => {
      await layers.removePermission(
        scopeOf(ctx),
        req.pathParams.LayerName,
        req.pathParams.VersionNumber,
        req.pathParams.StatementId,
        str(req, 'RevisionId'),
      );
      return { status: 204 };
    }),
    r('GET', `${V}/policy`, 'GetLayerVersionPolicy', async (ctx, req) => ({
      status: 200,
      body: await layers.getPolicy(scopeOf(ctx), req.pathParams.LayerName, req.pathParams.VersionNumber),
    })),

    // ---- function URLs
    r('POST', U, 'CreateFunctionUrlConfig', async (ctx, req) => ({
      status: 201,
      body: await urls.create(
        scopeOf(ctx),
        req.pathParams.FunctionName,
        str(req, 'Qualifier'),
        req.json(),
        ctx.endpoint,
      ),
    })),
    r('GET', U, 'GetFunctionUrlConfig', async (ctx, req) => ({
      status: 200,
      body: await urls.get(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'), ctx.endpoint),
    })),
    r('PUT', U, 'UpdateFunctionUrlConfig', async (ctx, req) => ({
      status: 200,
      body: await urls.update(
        scopeOf(ctx),
        req.pathParams.FunctionName,
        str(req, 'Qualifier'),
        req.json(),
        ctx.endpoint,
      ),
    })),
    r('DELETE', U, 'DeleteFunctionUrlConfig', async (ctx, req) => {
      await urls.delete(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'));
      return { status: 204 };
    }),
    r('GET', '/2021-10-31/functions/{FunctionName}/urls', 'ListFunctionUrlConfigs', async (ctx, req) => ({
      status: 200,
      body: await urls.list(
        scopeOf(ctx),
        req.pathParams.FunctionName,
        { Marker: str(req, 'Marker'), MaxItems: intParam(req, 'MaxItems', 'maxItems') },
        ctx.endpoint,
      ),
    })),
  ];
}
