/**
 * Lambda's REST-JSON wire adapter: maps each route onto the engine. No business rules here.
 */
import type {
  RequestContext,
  RestJsonService,
  RestRequest,
  RestResponse,
  RestRoute,
} from '../server/service.js';
import type { InvokeStreamOutput, LambdaEngine } from './engine.js';
import { ChunkQueue } from '../core/chunk-queue.js';
import { encodeEvent } from '../protocols/event-stream.js';
import { constraint, errors, type Scope } from './model.js';

export function scopeOf(ctx: RequestContext): Scope {
  return { accountId: ctx.accountId, region: ctx.region };
}

export function intParam(req: RestRequest, name: string, member: string): number | undefined {
  const raw = req.query.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw errors.validation([constraint(raw, member, 'Member must be an integer')]);
  return n;
}

export function str(req: RestRequest, name: string): string | undefined {
  return req.query.get(name) ?? undefined;
}

function header(req: RestRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

const ok = (body: unknown, status = 200): RestResponse => ({ status, body });

export function lambdaService(engine: LambdaEngine): RestJsonService {
  const F = '/2015-03-31/functions/{FunctionName}';
  const route = (
    method: string,
    path: string,
    operation: string,
    handler: RestRoute['handler'],
  ): RestRoute => ({
    method,
    path,
    operation,
    handler,
  });
  const routes: RestRoute[] = [
    route('POST', '/2015-03-31/functions', 'CreateFunction', async (ctx, req) =>
      ok(await engine.createFunction(scopeOf(ctx), req.json()), 201),
    ),
    route('GET', '/2015-03-31/functions', 'ListFunctions', async (ctx, req) =>
      ok(
        await engine.listFunctions(scopeOf(ctx), {
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
          FunctionVersion: str(req, 'FunctionVersion'),
        }),
      ),
    ),
    route('GET', F, 'GetFunction', async (ctx, req) =>
      ok(
        await engine.getFunction(
          scopeOf(ctx),
          req.pathParams.FunctionName,
          str(req, 'Qualifier'),
          ctx.endpoint,
        ),
      ),
    ),
    route('GET', `${F}/configuration`, 'GetFunctionConfiguration', async (ctx, req) =>
      ok(
        await engine.getFunctionConfiguration(
          scopeOf(ctx),
          req.pathParams.FunctionName,
          str(req, 'Qualifier'),
        ),
      ),
    ),
    route('PUT', `${F}/code`, 'UpdateFunctionCode', async (ctx, req) =>
      ok(await engine.updateFunctionCode(scopeOf(ctx), req.pathParams.FunctionName, req.json())),
    ),
    route('PUT', `${F}/configuration`, 'UpdateFunctionConfiguration', async (ctx, req) =>
      ok(await engine.updateFunctionConfiguration(scopeOf(ctx), req.pathParams.FunctionName, req.json())),
    ),
    route('DELETE', F, 'DeleteFunction', async (ctx, req) => {
      await engine.deleteFunction(scopeOf(ctx), req.pathParams.FunctionName, str(req, 'Qualifier'));
      return { status: 204 };
    }),
    route('POST', `${F}/invocations`, 'Invoke', async (ctx, req) => {
      const out = await engine.invoke(scopeOf(ctx), {
        FunctionName: req.pathParams.FunctionName,
        Qualifier: str(req, 'Qualifier'),
        Payload: req.body,
        InvocationType: header(req, 'X-Amz-Invocation-Type'),
        LogType: header(req, 'X-Amz-Log-Type'),
        ClientContext: header(req, 'X-Amz-Client-Context'),
        RequestId: ctx.requestId,
      });
      const headers: Record<string, string> = {};
      if (out.FunctionError) headers['X-Amz-Function-Error'] = out.FunctionError;
      if (out.LogResult !== undefined) headers['X-Amz-Log-Result'] = out.LogResult;
      if (out.ExecutedVersion) headers['X-Amz-Executed-Version'] = out.ExecutedVersion;
      if (out.StatusCode === 200) {
        headers['Content-Type'] = 'application/json';
        return { status: 200, headers, body: out.Payload ?? Buffer.alloc(0) };
      }
      return { status: out.StatusCode, headers };
    }),
    route(
      'POST',
      '/2021-11-15/functions/{FunctionName}/response-streaming-invocations',
      'InvokeWithResponseStream',
      async (ctx, req) => {
        // Each chunk the handler writes goes out as a PayloadChunk event as it comes. Until the
        // first one, an error is still answered as Invoke answers it (unknown function, ...).
        const frames = new ChunkQueue<Buffer>();
        let executed: string | undefined;
        const run = engine.invokeWithResponseStream(
          scopeOf(ctx),
          {
            FunctionName: req.pathParams.FunctionName,
            Qualifier: str(req, 'Qualifier'),
            Payload: req.body,
            InvocationType: header(req, 'X-Amz-Invocation-Type'),
            LogType: header(req, 'X-Amz-Log-Type'),
            ClientContext: header(req, 'X-Amz-Client-Context'),
            RequestId: ctx.requestId,
          },
          (chunk, _type, version) => {
            executed ??= version;
            frames.push(encodeEvent('PayloadChunk', 'application/octet-stream', chunk));
          },
        );
        const finish = (out: InvokeStreamOutput) => {
          if (out.Payload && out.Payload.length > 0)
            frames.push(encodeEvent('PayloadChunk', 'application/octet-stream', out.Payload));
          const complete: Record<string, string> = {};
          if (out.ErrorCode !== undefined) complete.ErrorCode = out.ErrorCode;
          if (out.ErrorDetails !== undefined) complete.ErrorDetails = out.ErrorDetails;
          if (out.LogResult !== undefined) complete.LogResult = out.LogResult;
          frames.push(
            encodeEvent('InvokeComplete', 'application/json', Buffer.from(JSON.stringify(complete))),
          );
          frames.end();
        };
        const first = await Promise.race([frames.started.then(() => undefined), run]);
        if (first && first.StatusCode !== 200) return { status: first.StatusCode };
        // Ended before any chunk: finish now. Else the rest follows as the invocation goes on.
        if (first) finish(first);
        else run.then(finish, (e: unknown) => frames.fail(e));
        return {
          status: 200,
          headers: {
            'Content-Type': 'application/vnd.amazon.eventstream',
            'X-Amz-Executed-Version': first?.ExecutedVersion ?? executed ?? '$LATEST',
          },
          stream: frames,
        };
      },
    ),
    route('POST', `${F}/versions`, 'PublishVersion', async (ctx, req) =>
      ok(await engine.publishVersion(scopeOf(ctx), req.pathParams.FunctionName, req.json()), 201),
    ),
    route('GET', `${F}/versions`, 'ListVersionsByFunction', async (ctx, req) =>
      ok(
        await engine.listVersionsByFunction(scopeOf(ctx), req.pathParams.FunctionName, {
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
        }),
      ),
    ),
    route('POST', `${F}/aliases`, 'CreateAlias', async (ctx, req) =>
      ok(await engine.createAlias(scopeOf(ctx), req.pathParams.FunctionName, req.json()), 201),
    ),
    route('GET', `${F}/aliases`, 'ListAliases', async (ctx, req) =>
      ok(
        await engine.listAliases(scopeOf(ctx), req.pathParams.FunctionName, {
          FunctionVersion: str(req, 'FunctionVersion'),
          Marker: str(req, 'Marker'),
          MaxItems: intParam(req, 'MaxItems', 'maxItems'),
        }),
      ),
    ),
    route('GET', `${F}/aliases/{Name}`, 'GetAlias', async (ctx, req) =>
      ok(await engine.getAlias(scopeOf(ctx), req.pathParams.FunctionName, req.pathParams.Name)),
    ),
    route('PUT', `${F}/aliases/{Name}`, 'UpdateAlias', async (ctx, req) =>
      ok(
        await engine.updateAlias(scopeOf(ctx), req.pathParams.FunctionName, req.pathParams.Name, req.json()),
      ),
    ),
    route('DELETE', `${F}/aliases/{Name}`, 'DeleteAlias', async (ctx, req) => {
      await engine.deleteAlias(scopeOf(ctx), req.pathParams.FunctionName, req.pathParams.Name);
      return { status: 204 };
    }),
    route(
      'PUT',
      '/2017-10-31/functions/{FunctionName}/concurrency',
      'PutFunctionConcurrency',
      async (ctx, req) =>
        ok(await engine.putFunctionConcurrency(scopeOf(ctx), req.pathParams.FunctionName, req.json())),
    ),
    route(
      'GET',
      '/2019-09-30/functions/{FunctionName}/concurrency',
      'GetFunctionConcurrency',
      async (ctx, req) => ok(await engine.getFunctionConcurrency(scopeOf(ctx), req.pathParams.FunctionName)),
    ),
    route(
      'DELETE',
      '/2017-10-31/functions/{FunctionName}/concurrency',
      'DeleteFunctionConcurrency',
      async (ctx, req) => {
        await engine.deleteFunctionConcurrency(scopeOf(ctx), req.pathParams.FunctionName);
        return { status: 204 };
      },
    ),
    route('GET', '/2016-08-19/account-settings', 'GetAccountSettings', async (ctx) =>
      ok(await engine.getAccountSettings(scopeOf(ctx))),
    ),
    route('POST', '/2017-03-31/tags/{Resource}', 'TagResource', async (ctx, req) => {
      await engine.tagResource(
        scopeOf(ctx),
        req.pathParams.Resource,
        req.json<{ Tags?: Record<string, string> }>().Tags,
      );
      return { status: 204 };
    }),
    route('DELETE', '/2017-03-31/tags/{Resource}', 'UntagResource', async (ctx, req) => {
      await engine.untagResource(scopeOf(ctx), req.pathParams.Resource, req.query.getAll('tagKeys'));
      return { status: 204 };
    }),
    route('GET', '/2017-03-31/tags/{Resource}', 'ListTags', async (ctx, req) =>
      ok(await engine.listTags(scopeOf(ctx), req.pathParams.Resource)),
    ),
  ];
  return { protocol: 'rest-json', signingName: 'lambda', routes };
}
