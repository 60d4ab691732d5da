/**
 * ImportRestApi and PutRestApi: a REST API from an OpenAPI 3 / Swagger 2.0 definition with API
 * Gateway's `x-amazon-apigateway-*` extensions (JSON or YAML), as the console, the CLI
 * (`aws apigateway import-rest-api` / `put-rest-api`), Terraform (`aws_api_gateway_rest_api`'s
 * `body`) and CloudFormation (`AWS::ApiGateway::RestApi`'s `Body`) send it.
 *
 * What a definition makes: resources by path; methods with their authorization (security
 * requirements naming `x-amazon-apigateway-authorizer` schemes, `api_key` or another `x-api-key`
 * header scheme), required request
 * parameters, request models and validator; integrations (`x-amazon-apigateway-integration`)
 * with their method and integration responses; authorizers; models (Swagger `definitions`,
 * OpenAPI `components.schemas`, local `$ref`s made model URLs); request validators; gateway
 * responses; the API's title, description, binary media types, API key source and resource
 * policy (`x-amazon-apigateway-policy`; a definition without one leaves the API's as it is).
 *
 * `overwrite` replaces all of that (stages, deployments, keys and tags stay); `merge` adds the
 * definition to what is there, a method or model of the same path or name taking the new
 * form. A definition that fails part way leaves the API as it was (an import leaves no API).
 */
import { restErrors as errors, type RestApiRecord, type Scope } from './model.js';
import { BUILT_IN_MODELS, type RestEngine } from './engine.js';
import { OPENAPI_METHODS, defined, importedPaths, isObject, list, num, str, type Doc } from '../openapi.js';

type Input = Record<string, any>;

export interface ImportParams {
  mode: 'overwrite' | 'merge';
  /** The `basepath` parameter: ignore (default), prepend or split. */
  basepath?: string;
}

/** Applies `doc` to the API (see the module comment); undoes everything when a step fails. */
export async function importDefinition(
  engine: RestEngine,
  scope: Scope,
  apiId: string,
  doc: Doc,
  params: ImportParams,
): Promise<void> {
  const paths = importedPaths(doc, params.basepath);
  // One write of the API's record at the end, none when a step fails.
  await engine.staged(scope, apiId, async (staged) => {
    const before = structuredClone(await engine.readRecord(staged, apiId));
    await new Importer(engine, staged, apiId, doc, params.mode, before).run(paths);
  });
}

class Importer {
  private readonly authorizers = new Map<string, { id: string; type: string }>();
  private readonly validators = new Map<string, string>();
  private readonly byPath = new Map<string, string>();
  private readonly openApi3: boolean;
  private readonly localRef: string;

  constructor(
    private readonly engine: RestEngine,
    private readonly scope: Scope,
    private readonly apiId: string,
    private readonly doc: Doc,
    private readonly mode: 'overwrite' | 'merge',
    private readonly before: RestApiRecord,
  ) {
    this.openApi3 = doc.components !== undefined || typeof doc.openapi === 'string';
    this.localRef = this.openApi3 ? '#/components/schemas/' : '#/definitions/';
  }

  async run(paths: [string, Doc][]): Promise<void> {
    if (this.mode === 'overwrite') await this.clear();
    await this.apiSettings();
    await this.importAuthorizers();
    await this.importModels();
    await this.importValidators();
    const api = await this.engine.readRecord(this.scope, this.apiId);
    for (const r of api.resources) this.byPath.set(r.path, r.id);
    const globalSecurity = list(this.doc.security);
    for (const [path, item] of paths) {
      if (!isObject(item)) throw this.malformed('path', path);
      const resourceId = await this.ensurePath(path);
      for (const [method, op] of Object.entries(item)) {
        if (!OPENAPI_METHODS.includes(method.toLowerCase())) continue;
        if (!isObject(op)) throw this.malformed('method', path);
        await this.importMethod(path, resourceId, method, item, op, globalSecurity);
      }
    }
    const responses = this.doc['x-amazon-apigateway-gateway-responses'];
    for (const [type, r] of Object.entries(isObject(responses) ? responses : {})) {
      const res = isObject(r) ? r : {};
      await this.engine.putGatewayResponse(
        this.scope,
        this.apiId,
        type,
        defined({
          statusCode: str(res.statusCode),
          responseParameters: res.responseParameters,
          responseTemplates: res.responseTemplates,
        }),
      );
    }
  }

  private malformed(what: string, path: string) {
    return errors.badRequest(
      `Unable to parse API definition because of a malformed ${what} at path ${path}.`,
    );
  }

  /** overwrite: every method, resource, model, validator, custom gateway response and authorizer goes. */
  private async clear(): Promise<void> {
    const api = this.before;
    const root = api.resources.find((r) => r.id === api.rootResourceId)!;
    for (const m of Object.keys(root.resourceMethods ?? {}))
      await this.engine.deleteMethod(this.scope, this.apiId, root.id, m);
    for (const r of api.resources.filter((x) => x.parentId === root.id))
      await this.engine.deleteResource(this.scope, this.apiId, r.id);
    for (const m of api.models ?? []) await this.engine.deleteModel(this.scope, this.apiId, m.name);
    for (const v of api.requestValidators ?? [])
      await this.engine.deleteRequestValidator(this.scope, this.apiId, v.id);
    for (const type of Object.keys(api.gatewayResponses ?? {}))
      await this.engine.deleteGatewayResponse(this.scope, this.apiId, type);
    for (const a of api.authorizers) await this.engine.deleteAuthorizer(this.scope, this.apiId, a.id);
  }

  /** The API's own properties the definition names (title, description, binary types, key source). */
  private async apiSettings(): Promise<void> {
    const info = isObject(this.doc.info) ? this.doc.info : {};
    const ops: Input[] = [];
    if (typeof info.title === 'string' && info.title)
      ops.push({ op: 'replace', path: '/name', value: info.title });
    if (typeof info.description === 'string')
      ops.push({ op: 'replace', path: '/description', value: info.description });
    if (info.version !== undefined)
      ops.push({ op: 'replace', path: '/version', value: String(info.version) });
    // Binary media types: the definition's list (overwrite: in place of the API's), when it has one.
    const named = this.doc['x-amazon-apigateway-binary-media-types'];
    const types = list<string>(named).map(String);
    const escape = (t: string) => t.replace(/~/g, '~0').replace(/\//g, '~1');
    if (this.mode === 'overwrite' && Array.isArray(named))
      for (const t of this.before.binaryMediaTypes ?? [])
        if (!types.includes(t)) ops.push({ op: 'remove', path: `/binaryMediaTypes/${escape(t)}` });
    for (const t of types) ops.push({ op: 'add', path: `/binaryMediaTypes/${escape(t)}` });
    const compression = this.doc['x-amazon-apigateway-minimum-compression-size'];
    if (compression !== undefined)
      ops.push({ op: 'replace', path: '/minimumCompressionSize', value: String(compression) });
    const keySource = str(this.doc['x-amazon-apigateway-api-key-source']);
    if (keySource) ops.push({ op: 'replace', path: '/apiKeySource', value: keySource.toUpperCase() });
    const endpoint = this.doc['x-amazon-apigateway-endpoint-configuration'];
    if (isObject(endpoint) && endpoint.disableExecuteApiEndpoint !== undefined)
      ops.push({
        op: 'replace',
        path: '/disableExecuteApiEndpoint',
        value: String(endpoint.disableExecuteApiEndpoint === true),
      });
    // The resource policy (`execute-api:/...` resources expanded as the API saves them).
    const policy = this.doc['x-amazon-apigateway-policy'];
    if (isObject(policy) || (typeof policy === 'string' && policy))
      ops.push({
        op: 'replace',
        path: '/policy',
        value: typeof policy === 'string' ? policy : JSON.stringify(policy),
      });
    if (ops.length) await this.engine.updateRestApi(this.scope, this.apiId, { patchOperations: ops });
  }

  private async importAuthorizers(): Promise<void> {
    const schemes = (this.doc.securityDefinitions ?? this.doc.components?.securitySchemes ?? {}) as Record<
      string,
      Doc
    >;
    const existing = new Map(
      (await this.engine.readRecord(this.scope, this.apiId)).authorizers.map((a) => [a.name, a]),
    );
    for (const [name, scheme] of Object.entries(schemes)) {
      const a = isObject(scheme) ? scheme['x-amazon-apigateway-authorizer'] : undefined;
      if (!isObject(a)) continue;
      const type = String(a.type ?? 'token').toUpperCase();
      const kind = type === 'COGNITO_USER_POOLS' ? type : type === 'REQUEST' ? 'REQUEST' : 'TOKEN';
      const authType = kind === 'COGNITO_USER_POOLS' ? kind : 'CUSTOM';
      const old = existing.get(name);
      if (old) {
        // merge: a scheme of the same name keeps its authorizer.
        this.authorizers.set(name, { id: old.id, type: authType });
        continue;
      }
      const out = await this.engine.createAuthorizer(
        this.scope,
        this.apiId,
        defined({
          name,
          type: kind,
          authorizerUri: str(a.authorizerUri),
          authorizerCredentials: str(a.authorizerCredentials),
          authorizerResultTtlInSeconds: num(a.authorizerResultTtlInSeconds),
          identitySource:
            str(a.identitySource) ??
            (kind === 'TOKEN' || kind === 'COGNITO_USER_POOLS'
              ? `method.request.header.${str(scheme.name) ?? 'Authorization'}`
              : undefined),
          identityValidationExpression: str(a.identityValidationExpression),
          providerARNs: a.providerARNs,
        }),
      );
      this.authorizers.set(name, { id: String(out.id), type: authType });
    }
  }

  /**
   * Does a security requirement of this name ask for the API key? `api_key`, or any scheme that
   * is the `x-api-key` header (`type: apiKey, in: header, name: x-api-key`) and no authorizer.
   */
  private isApiKeyScheme(name: string): boolean {
    if (name === 'api_key') return true;
    const schemes = (this.doc.securityDefinitions ?? this.doc.components?.securitySchemes ?? {}) as Record<
      string,
      Doc
    >;
    const s = schemes[name];
    return (
      isObject(s) &&
      s.type === 'apiKey' &&
      s.in === 'header' &&
      String(s.name ?? '').toLowerCase() === 'x-api-key' &&
      s['x-amazon-apigateway-authorizer'] === undefined
    );
  }

  private modelOfRef(ref: unknown): string | undefined {
    return typeof ref === 'string' && ref.startsWith(this.localRef)
      ? ref.slice(this.localRef.length)
      : undefined;
  }

  /** A schema with its local `$ref`s made model URLs. */
  private toModelUrls(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.toModelUrls(x));
    if (!isObject(v)) return v;
    const out: Doc = {};
    for (const [k, x] of Object.entries(v)) {
      const model = k === '$ref' ? this.modelOfRef(x) : undefined;
      out[k] = model
        ? `https://apigateway.amazonaws.com/restapis/${this.apiId}/models/${model}`
        : this.toModelUrls(x);
    }
    return out;
  }

  private async importModels(): Promise<void> {
    const defs = ((this.openApi3 ? this.doc.components?.schemas : this.doc.definitions) ?? {}) as Record<
      string,
      unknown
    >;
    const existing = new Set(
      ((await this.engine.readRecord(this.scope, this.apiId)).models ?? []).map((m) => m.name),
    );
    for (const [name, schema] of Object.entries(defs)) {
      // `Empty` and `Error` are every API's own models (AWS's PetStore sample defines Empty too).
      if (BUILT_IN_MODELS.includes(name)) continue;
      const text = JSON.stringify({
        $schema: 'http://json-schema.org/draft-04/schema#',
        ...(this.toModelUrls(schema) as Doc),
      });
      if (existing.has(name))
        await this.engine.updateModel(this.scope, this.apiId, name, {
          patchOperations: [{ op: 'replace', path: '/schema', value: text }],
        });
      else
        await this.engine.createModel(this.scope, this.apiId, {
          name,
          contentType: 'application/json',
          schema: text,
        });
    }
  }

  private async importValidators(): Promise<void> {
    const defs = this.doc['x-amazon-apigateway-request-validators'];
    const existing = new Map(
      ((await this.engine.readRecord(this.scope, this.apiId)).requestValidators ?? []).map((v) => [
        v.name,
        v.id,
      ]),
    );
    for (const [name, v] of Object.entries(isObject(defs) ? defs : {})) {
      const body = isObject(v) && v.validateRequestBody === true;
      const parameters = isObject(v) && v.validateRequestParameters === true;
      const id = existing.get(name);
      if (id) {
        await this.engine.updateRequestValidator(this.scope, this.apiId, id, {
          patchOperations: [
            { op: 'replace', path: '/validateRequestBody', value: String(body) },
            { op: 'replace', path: '/validateRequestParameters', value: String(parameters) },
          ],
        });
        this.validators.set(name, id);
        continue;
      }
      const out = await this.engine.createRequestValidator(this.scope, this.apiId, {
        name,
        validateRequestBody: body,
        validateRequestParameters: parameters,
      });
      this.validators.set(name, String(out.id));
    }
  }

  /** The resource for a path, creating the missing parts. */
  private async ensurePath(path: string): Promise<string> {
    let current = '/';
    for (const part of path.split('/').filter(Boolean)) {
      const next = current === '/' ? `/${part}` : `${current}/${part}`;
      if (!this.byPath.has(next)) {
        const r = await this.engine.createResource(this.scope, this.apiId, this.byPath.get(current)!, {
          pathPart: part,
        });
        this.byPath.set(next, String(r.id));
      }
      current = next;
    }
    return this.byPath.get(current)!;
  }

  private async importMethod(
    path: string,
    resourceId: string,
    method: string,
    item: Doc,
    o: Doc,
    globalSecurity: Doc[],
  ): Promise<void> {
    const verb = method.toLowerCase() === 'x-amazon-apigateway-any-method' ? 'ANY' : method.toUpperCase();
    const security = o.security !== undefined ? list(o.security) : globalSecurity;
    const auth: Input = { authorizationType: 'NONE' };
    for (const req of security) {
      const name = Object.keys(req ?? {})[0] ?? '';
      const a = this.authorizers.get(name);
      if (!a) continue;
      auth.authorizationType = a.type;
      auth.authorizerId = a.id;
      // A Cognito requirement's list is the method's OAuth scopes.
      const scopes = a.type === 'COGNITO_USER_POOLS' ? list<string>(req[name]).map(String) : [];
      if (scopes.length) auth.authorizationScopes = scopes;
      break;
    }
    // Parameters of the path item and of the operation: required ones are validated; a body
    // parameter (Swagger) or the request body (OpenAPI 3) names the request model.
    const requestParameters: Record<string, boolean> = {};
    const requestModels: Record<string, string> = {};
    for (const p of [...list(item.parameters), ...list(o.parameters)]) {
      if (!isObject(p)) continue;
      const where =
        p.in === 'query' ? 'querystring' : p.in === 'header' || p.in === 'path' ? p.in : undefined;
      if (where) requestParameters[`method.request.${where}.${String(p.name)}`] = p.required === true;
      const model = p.in === 'body' ? this.modelOfRef(p.schema?.$ref) : undefined;
      if (model) requestModels[str(list(o.consumes)[0]) ?? 'application/json'] = model;
    }
    const content = (
      isObject(o.requestBody) && isObject(o.requestBody.content) ? o.requestBody.content : {}
    ) as Record<string, Doc>;
    for (const [type, media] of Object.entries(content)) {
      const model = this.modelOfRef(media?.schema?.$ref);
      if (model) requestModels[type] = model;
    }
    const validator = str(
      o['x-amazon-apigateway-request-validator'] ?? this.doc['x-amazon-apigateway-request-validator'],
    );
    if (validator && !this.validators.has(validator) && this.mode === 'overwrite')
      throw errors.badRequest(`Invalid request validator name specified: ${validator}`);
    const existing = (await this.engine.readRecord(this.scope, this.apiId)).resources.find(
      (r) => r.id === resourceId,
    )?.resourceMethods?.[verb];
    if (existing) await this.engine.deleteMethod(this.scope, this.apiId, resourceId, verb);
    await this.engine.putMethod(
      this.scope,
      this.apiId,
      resourceId,
      verb,
      defined({
        ...auth,
        operationName: str(o.operationId),
        apiKeyRequired: security.some((s) => Object.keys(s ?? {}).some((name) => this.isApiKeyScheme(name))),
        requestParameters: Object.keys(requestParameters).length ? requestParameters : undefined,
        requestModels: Object.keys(requestModels).length ? requestModels : undefined,
        requestValidatorId: validator ? this.validators.get(validator) : undefined,
      }),
    );
    // The OpenAPI responses are the method responses (status -> headers).
    for (const [code, r] of Object.entries(isObject(o.responses) ? o.responses : {})) {
      if (!/^[1-5]\d\d$/.test(code)) continue;
      const headers = Object.keys(isObject(r) && isObject(r.headers) ? r.headers : {});
      await this.engine.putMethodResponse(this.scope, this.apiId, resourceId, verb, code, {
        responseParameters: Object.fromEntries(headers.map((h) => [`method.response.header.${h}`, false])),
      });
    }
    const integ = o['x-amazon-apigateway-integration'];
    if (integ === undefined) return;
    if (!isObject(integ)) throw this.malformed('integration', path);
    const type = String(integ.type ?? 'aws_proxy').toUpperCase();
    await this.engine.putIntegration(
      this.scope,
      this.apiId,
      resourceId,
      verb,
      defined({
        type,
        httpMethod: type === 'MOCK' ? undefined : (str(integ.httpMethod) ?? 'POST'),
        uri: str(integ.uri),
        timeoutInMillis: num(integ.timeoutInMillis),
        requestTemplates: integ.requestTemplates,
        requestParameters: integ.requestParameters,
        passthroughBehavior: str(integ.passthroughBehavior)?.toUpperCase(),
        contentHandling: str(integ.contentHandling),
        credentials: str(integ.credentials),
        cacheKeyParameters: integ.cacheKeyParameters,
        cacheNamespace: str(integ.cacheNamespace),
        tlsConfig: isObject(integ.tlsConfig) ? integ.tlsConfig : undefined,
        connectionType: str(integ.connectionType)?.toUpperCase(),
        responseTransferMode: str(integ.responseTransferMode)?.toUpperCase(),
        connectionId: str(integ.connectionId),
      }),
    );
    // Integration responses (selection pattern or `default` -> status, header mappings, templates).
    for (const [pattern, r] of Object.entries(isObject(integ.responses) ? integ.responses : {})) {
      const res = isObject(r) ? r : {};
      await this.engine.putIntegrationResponse(
        this.scope,
        this.apiId,
        resourceId,
        verb,
        String(res.statusCode ?? '200'),
        defined({
          selectionPattern: pattern === 'default' ? undefined : pattern,
          responseParameters: res.responseParameters,
          responseTemplates: res.responseTemplates,
          contentHandling: str(res.contentHandling),
        }),
      );
    }
  }
}
