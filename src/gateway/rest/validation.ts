/**
 * REST API request validation: a method's request validator checks its required request
 * parameters (`method.request.{header,querystring,path}.X: true`) and/or its body against the
 * JSON schema (draft 4, as API Gateway models are) of the model for the request's content type,
 * before any integration runs. Failures are the gateway responses BAD_REQUEST_PARAMETERS and
 * BAD_REQUEST_BODY, with API Gateway's messages.
 *
 * Models refer to each other as `https://apigateway.amazonaws.com/restapis/{api}/models/{name}`;
 * every model of the deployment is registered under that URL, so such `$ref`s resolve.
 */
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';

// A CommonJS module: its class is the module itself and its `default`.
const Ajv = AjvDraft04.default;
type Ajv = InstanceType<typeof Ajv>;
import type { MethodRecord, ModelRecord, RequestValidatorRecord } from './model.js';
import { gatewayError, mapValue, type GatewayErrorResult, type RequestValues } from './responses.js';

export function modelUrl(apiId: string, name: string): string {
  return `https://apigateway.amazonaws.com/restapis/${apiId}/models/${name}`;
}

/**
 * An API's models as JSON schemas (draft 4), each compiled when first used; every model is
 * registered under its model URL, so `$ref`s between them resolve. WebSocket APIs use it too.
 */
export class SchemaSet {
  private ajv: Ajv | undefined;
  private readonly compiled = new Map<string, ValidateFunction | Error>();

  constructor(
    private readonly apiId: string,
    private readonly models: readonly Pick<ModelRecord, 'name' | 'schema'>[],
  ) {}

  /** The model's compiled schema, or an Error when there is none or Ajv refuses it. */
  validator(name: string): ValidateFunction | Error {
    let v: ValidateFunction | Error | undefined = this.compiled.get(name);
    if (v) return v;
    try {
      const ajv = (this.ajv ??= this.newAjv());
      v = ajv.getSchema(modelUrl(this.apiId, name)) ?? new Error(`no model ${name}`);
    } catch (e) {
      v = e instanceof Error ? e : new Error(String(e));
    }
    this.compiled.set(name, v);
    return v;
  }

  private newAjv(): Ajv {
    const ajv = new Ajv({ strict: false, validateFormats: false, logger: false, allErrors: false });
    for (const m of this.models) {
      if (!m.schema) continue;
      try {
        const schema = JSON.parse(m.schema) as Record<string, unknown>;
        delete schema.id;
        delete schema.$id;
        ajv.addSchema(schema, modelUrl(this.apiId, m.name));
      } catch {
        // A schema Ajv refuses: requests validated against it answer 500 (getSchema finds nothing).
      }
    }
    return ajv;
  }
}

export class RequestValidation {
  private readonly validators: Map<string, RequestValidatorRecord>;
  private readonly schemas: SchemaSet;

  constructor(apiId: string, validators: RequestValidatorRecord[], models: ModelRecord[]) {
    this.validators = new Map(validators.map((v) => [v.id, v]));
    this.schemas = new SchemaSet(apiId, models);
  }

  /** The failure to answer instead of the integration, or undefined when the request passes. */
  check(method: MethodRecord, req: RequestValues, body: Buffer): GatewayErrorResult | undefined {
    const v = method.requestValidatorId ? this.validators.get(method.requestValidatorId) : undefined;
    if (!v) return undefined;
    if (v.validateRequestParameters) {
      const missing: string[] = [];
      for (const [param, required] of Object.entries(method.requestParameters ?? {})) {
        if (!required) continue;
        const m = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(param);
        if (!m) continue;
        if (mapValue(param, req) === undefined) missing.push(m[2]);
      }
      if (missing.length)
        return gatewayError(
          'BAD_REQUEST_PARAMETERS',
          400,
          `Missing required request parameters: [${missing.join(', ')}]`,
        );
    }
    if (v.validateRequestBody) {
      const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
      const models = method.requestModels ?? {};
      const name = models[type] ?? models.$default ?? (type ? undefined : models['application/json']);
      if (!name || name === 'Empty') return undefined;
      const validate = this.schemas.validator(name);
      if (validate instanceof Error)
        return gatewayError('API_CONFIGURATION_ERROR', 500, 'Internal server error');
      let doc: unknown;
      try {
        doc = JSON.parse(body.toString('utf8'));
      } catch {
        return gatewayError('BAD_REQUEST_BODY', 400, 'Invalid request body');
      }
      if (!validate(doc)) return gatewayError('BAD_REQUEST_BODY', 400, 'Invalid request body');
    }
    return undefined;
  }
}
