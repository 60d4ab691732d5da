/**
 * REST API documentation: documentation parts (a `properties` JSON object attached to a location
 * in the API: the API itself, a resource, a method, a parameter, a response, an authorizer, a
 * model) and documentation versions (a named snapshot of the parts, which a stage publishes in
 * `documentationVersion` and GetExport's `documentation` extension shows).
 *
 * One record per API in its own collection: documentation never changes what a stage serves, so
 * editing it neither rewrites the API's record nor wakes the serving caches. Deleting the API
 * deletes the record (RestEngine.deleteRestApi).
 */
import type { Clock } from '../../core/clock.js';
import { shortId } from '../../core/ids.js';
import { AwsError } from '../../protocols/errors.js';
import type { Store } from '../../storage/store.js';
import { page, type RestEngine } from './engine.js';
import { COLLECTION_REST_DOCS, HTTP_METHODS, restErrors as errors, scopedKey, type Scope } from './model.js';
import { applyPatch } from './patch.js';

type Input = Record<string, any>;

export const DOCUMENTATION_PART_TYPES = [
  'API',
  'AUTHORIZER',
  'MODEL',
  'RESOURCE',
  'METHOD',
  'PATH_PARAMETER',
  'QUERY_PARAMETER',
  'REQUEST_HEADER',
  'REQUEST_BODY',
  'RESPONSE',
  'RESPONSE_HEADER',
  'RESPONSE_BODY',
] as const;
type PartType = (typeof DOCUMENTATION_PART_TYPES)[number];

/**
 * Which location fields each type takes (DocumentationPartLocation in the API reference): `path`
 * (default `/`), `method` (default `*`), `statusCode` (default `*`) where valid, and `name`
 * required where the entity is named. REQUEST_BODY may carry a name but needs none, as the
 * developer guide's examples create it.
 */
const LOCATION_FIELDS: Record<
  PartType,
  { path?: true; method?: true; statusCode?: true; name?: 'required' | 'optional' }
> = {
  API: {},
  AUTHORIZER: { name: 'required' },
  MODEL: { name: 'required' },
  RESOURCE: { path: true },
  METHOD: { path: true, method: true },
  PATH_PARAMETER: { path: true, method: true, name: 'required' },
  QUERY_PARAMETER: { path: true, method: true, name: 'required' },
  REQUEST_HEADER: { path: true, method: true, name: 'required' },
  REQUEST_BODY: { path: true, method: true, name: 'optional' },
  RESPONSE: { path: true, method: true, statusCode: true },
  RESPONSE_HEADER: { path: true, method: true, statusCode: true, name: 'required' },
  RESPONSE_BODY: { path: true, method: true, statusCode: true },
};

export interface DocumentationPartLocation {
  type: PartType;
  path?: string;
  method?: string;
  statusCode?: string;
  name?: string;
}

export interface DocumentationPartRecord {
  id: string;
  location: DocumentationPartLocation;
  /** The documentation content: the JSON text of an object, as the caller gave it. */
  properties: string;
}

export interface DocumentationVersionRecord {
  version: string;
  description?: string;
  /** Epoch seconds. */
  createdDate: number;
  /** The API's parts when the version was created. */
  parts: DocumentationPartRecord[];
}

interface DocumentationRecord {
  parts: DocumentationPartRecord[];
  versions: DocumentationVersionRecord[];
}

const PART_NOT_FOUND = 'Invalid Documentation part identifier specified';
const VERSION_NOT_FOUND = 'Invalid Documentation version specified';

const present = (v: unknown) => v !== undefined && v !== null && v !== '';

/** The location as given, checked against its type's fields and with the defaults filled in. */
export function validLocation(raw: unknown): DocumentationPartLocation {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw errors.badRequest('Documentation part location must be specified');
  const loc = raw as Input;
  const type = String(loc.type ?? '');
  if (!(DOCUMENTATION_PART_TYPES as readonly string[]).includes(type))
    throw errors.badRequest(
      `1 validation error detected: Value '${type}' at 'location.type' failed to satisfy constraint: Member must satisfy enum value set: [${DOCUMENTATION_PART_TYPES.join(', ')}]`,
    );
  const fields = LOCATION_FIELDS[type as PartType];
  for (const f of ['path', 'method', 'statusCode', 'name'] as const)
    if (present(loc[f]) && !fields[f])
      throw errors.badRequest(`Invalid location: '${f}' is not a valid field for type '${type}'`);
  const out: DocumentationPartLocation = { type: type as PartType };
  if (fields.path) {
    out.path = present(loc.path) ? String(loc.path) : '/';
    if (!out.path.startsWith('/'))
      throw errors.badRequest(`Invalid location: path '${out.path}' must begin with '/'`);
  }
  if (fields.method) {
    out.method = present(loc.method) ? String(loc.method).toUpperCase() : '*';
    if (out.method !== '*' && !HTTP_METHODS.includes(out.method))
      throw errors.badRequest(
        `Invalid location: method '${String(loc.method)}' is not an HTTP method or '*'`,
      );
  }
  if (fields.statusCode) {
    out.statusCode = present(loc.statusCode) ? String(loc.statusCode) : '*';
    if (!/^([1-5]\d\d|\*)$/.test(out.statusCode))
      throw errors.badRequest(
        `Invalid location: statusCode '${out.statusCode}' must be a status code or '*'`,
      );
  }
  if (present(loc.name)) out.name = String(loc.name);
  else if (fields.name === 'required')
    throw errors.badRequest(`Invalid location: 'name' is required for type '${type}'`);
  return out;
}

/** Documentation content: the JSON text of an object (an object given is written as JSON). */
function validProperties(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return JSON.stringify(v);
  let parsed: unknown;
  try {
    parsed = typeof v === 'string' ? JSON.parse(v) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw errors.badRequest('Invalid documentation properties specified: must be a JSON object');
  return v as string;
}

const locationKey = (l: DocumentationPartLocation) =>
  [l.type, l.path ?? '', l.method ?? '', l.statusCode ?? '', l.name ?? ''].join('\u0000');

function describeLocation(l: DocumentationPartLocation): string {
  return (['type', 'path', 'method', 'statusCode', 'name'] as const)
    .filter((f) => l[f] !== undefined)
    .map((f) => `${f} '${l[f]}'`)
    .join(', ');
}

/** A part as the wire shows it. */
function partView(p: DocumentationPartRecord): Input {
  return { id: p.id, location: { ...p.location }, properties: p.properties };
}

function versionView(v: DocumentationVersionRecord): Input {
  const out: Input = { version: v.version, createdDate: v.createdDate };
  if (v.description !== undefined) out.description = v.description;
  return out;
}

/** A part with content: its properties have at least one member (locationStatus DOCUMENTED). */
function documented(p: DocumentationPartRecord): boolean {
  return Object.keys(JSON.parse(p.properties) as object).length > 0;
}

export class Documentation {
  constructor(private readonly deps: { store: Store; clock: Clock; rest: RestEngine }) {}

  /** Runs `fn` on the API's documentation in one transaction (the API must exist). */
  private async change<T>(scope: Scope, apiId: string, fn: (doc: DocumentationRecord) => T): Promise<T> {
    await this.deps.rest.readRecord(scope, apiId);
    return this.deps.store.transaction(async (tx) => {
      const key = scopedKey(scope, apiId);
      const doc = (await tx.get<DocumentationRecord>(COLLECTION_REST_DOCS, key)) ?? {
        parts: [],
        versions: [],
      };
      const out = fn(doc);
      await tx.put(COLLECTION_REST_DOCS, key, doc);
      return out;
    });
  }

  private async read(scope: Scope, apiId: string): Promise<DocumentationRecord> {
    await this.deps.rest.readRecord(scope, apiId);
    return (
      (await this.deps.store.get<DocumentationRecord>(COLLECTION_REST_DOCS, scopedKey(scope, apiId))) ?? {
        parts: [],
        versions: [],
      }
    );
  }

  // ------------------------------------------------------------------ parts

  async createPart(scope: Scope, apiId: string, input: Input): Promise<Input> {
    const location = validLocation(input.location);
    const properties = validProperties(input.properties);
    return this.change(scope, apiId, (doc) => {
      const key = locationKey(location);
      if (doc.parts.some((p) => locationKey(p.location) === key))
        throw errors.conflict(
          `Documentation part already exists for the specified location: ${describeLocation(location)}.`,
        );
      const part: DocumentationPartRecord = { id: shortId(6), location, properties };
      doc.parts.push(part);
      return partView(part);
    });
  }

  async getPart(scope: Scope, apiId: string, id: string): Promise<Input> {
    const part = (await this.read(scope, apiId)).parts.find((p) => p.id === id);
    if (!part) throw errors.notFound(PART_NOT_FOUND);
    return partView(part);
  }

  /** Filters: `type`, `nameQuery` (query parameter `name`: names starting with it), `path`, `locationStatus`; `position` / `limit` paging. */
  async getParts(scope: Scope, apiId: string, input: Input): Promise<{ items: Input[]; position?: string }> {
    const status = input.locationStatus;
    if (status !== undefined && status !== 'DOCUMENTED' && status !== 'UNDOCUMENTED')
      throw errors.badRequest(
        `1 validation error detected: Value '${status}' at 'locationStatus' failed to satisfy constraint: Member must satisfy enum value set: [DOCUMENTED, UNDOCUMENTED]`,
      );
    const nameQuery = input.name ?? input.nameQuery; // the wire's query parameter is `name`
    const parts = (await this.read(scope, apiId)).parts.filter(
      (p) =>
        (!input.type || p.location.type === input.type) &&
        (!nameQuery || (p.location.name ?? '').startsWith(String(nameQuery))) &&
        (!input.path || p.location.path === input.path) &&
        (!status || documented(p) === (status === 'DOCUMENTED')),
    );
    return page(parts.map(partView), input);
  }

  /** Patch path `/properties` (replace). */
  async updatePart(scope: Scope, apiId: string, id: string, input: Input): Promise<Input> {
    return this.change(scope, apiId, (doc) => {
      const part = doc.parts.find((p) => p.id === id);
      if (!part) throw errors.notFound(PART_NOT_FOUND);
      applyPatch(input, ['/properties'], (op) => {
        if (op.path !== '/properties' || op.op !== 'replace') return false;
        part.properties = validProperties(op.value);
        return true;
      });
      return partView(part);
    });
  }

  async deletePart(scope: Scope, apiId: string, id: string): Promise<void> {
    await this.change(scope, apiId, (doc) => {
      if (!doc.parts.some((p) => p.id === id)) throw errors.notFound(PART_NOT_FOUND);
      doc.parts = doc.parts.filter((p) => p.id !== id);
    });
  }

  /**
   * ImportDocumentationParts (and the documentation of an imported API definition): the
   * `x-amazon-apigateway-documentation.documentationParts` of an OpenAPI document. `merge` adds
   * them, a part at a location already documented taking the new properties; `overwrite`
   * replaces all the API's parts. A part that cannot be imported is a warning; with
   * `failOnWarnings` the import fails and nothing changes.
   */
  async importParts(
    scope: Scope,
    apiId: string,
    definition: Input,
    opts: { mode: string; failOnWarnings: boolean },
  ): Promise<{ ids: string[]; warnings: string[] }> {
    if (opts.mode !== 'merge' && opts.mode !== 'overwrite')
      throw errors.badRequest(`Invalid mode specified: ${opts.mode}. Valid options are merge,overwrite`);
    const ext = definition['x-amazon-apigateway-documentation'];
    const given: unknown[] = Array.isArray(ext?.documentationParts) ? ext.documentationParts : [];
    const warnings: string[] = [];
    const incoming: { location: DocumentationPartLocation; properties: string }[] = [];
    given.forEach((raw, i) => {
      try {
        const p = (raw ?? {}) as Input;
        incoming.push({
          location: validLocation(p.location),
          properties: validProperties(p.properties ?? {}),
        });
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        warnings.push(`Documentation part ${i}: ${err.message}`);
      }
    });
    if (opts.failOnWarnings && warnings.length)
      throw errors.badRequest(`Warnings found during import:\n\t${warnings.join('\n\t')}`);
    return this.change(scope, apiId, (doc) => {
      const parts = opts.mode === 'overwrite' ? [] : doc.parts;
      const ids: string[] = [];
      for (const p of incoming) {
        const key = locationKey(p.location);
        let part = parts.find((x) => locationKey(x.location) === key);
        if (part) part.properties = p.properties;
        else parts.push((part = { id: shortId(6), ...p }));
        ids.push(part.id);
      }
      doc.parts = parts;
      return { ids, warnings };
    });
  }

  // ------------------------------------------------------------------ versions

  /** A snapshot of the parts; `stageName` makes that stage publish it. */
  async createVersion(scope: Scope, apiId: string, input: Input): Promise<Input> {
    const version = String(input.documentationVersion ?? '');
    if (!version) throw errors.badRequest('Documentation version must be specified');
    if (input.stageName !== undefined) await this.deps.rest.getStage(scope, apiId, String(input.stageName));
    const out = await this.change(scope, apiId, (doc) => {
      if (doc.versions.some((v) => v.version === version))
        throw errors.conflict(`Documentation version ${version} already exists`);
      const v: DocumentationVersionRecord = {
        version,
        createdDate: Math.floor(this.deps.clock.now() / 1000),
        parts: structuredClone(doc.parts),
      };
      if (input.description !== undefined) v.description = String(input.description);
      doc.versions.push(v);
      return versionView(v);
    });
    if (input.stageName !== undefined)
      await this.deps.rest.updateStage(scope, apiId, String(input.stageName), {
        patchOperations: [{ op: 'replace', path: '/documentationVersion', value: version }],
      });
    return out;
  }

  private async version(scope: Scope, apiId: string, version: string): Promise<DocumentationVersionRecord> {
    const v = (await this.read(scope, apiId)).versions.find((x) => x.version === version);
    if (!v) throw errors.notFound(VERSION_NOT_FOUND);
    return v;
  }

  async getVersion(scope: Scope, apiId: string, version: string): Promise<Input> {
    return versionView(await this.version(scope, apiId, version));
  }

  async getVersions(
    scope: Scope,
    apiId: string,
    input: Input,
  ): Promise<{ items: Input[]; position?: string }> {
    return page((await this.read(scope, apiId)).versions.map(versionView), input);
  }

  /** Patch path `/description` (replace). */
  async updateVersion(scope: Scope, apiId: string, version: string, input: Input): Promise<Input> {
    return this.change(scope, apiId, (doc) => {
      const v = doc.versions.find((x) => x.version === version);
      if (!v) throw errors.notFound(VERSION_NOT_FOUND);
      applyPatch(input, ['/description'], (op) => {
        if (op.path !== '/description' || op.op !== 'replace') return false;
        v.description = op.value ?? '';
        return true;
      });
      return versionView(v);
    });
  }

  async deleteVersion(scope: Scope, apiId: string, version: string): Promise<void> {
    await this.change(scope, apiId, (doc) => {
      if (!doc.versions.some((v) => v.version === version)) throw errors.notFound(VERSION_NOT_FOUND);
      doc.versions = doc.versions.filter((v) => v.version !== version);
    });
  }

  /** A stage may publish only an existing version (CreateStage, UpdateStage `/documentationVersion`). */
  async checkReference(scope: Scope, apiId: string, version: string): Promise<void> {
    if (!version) return;
    const doc = await this.read(scope, apiId);
    if (!doc.versions.some((v) => v.version === version)) throw errors.badRequest(VERSION_NOT_FOUND);
  }

  /**
   * GetExport's `x-amazon-apigateway-documentation` for a stage publishing `version`: the
   * version and its parts with their properties as objects (what ImportDocumentationParts reads).
   */
  async exportExtension(scope: Scope, apiId: string, version: string): Promise<Input | undefined> {
    const v = (await this.read(scope, apiId)).versions.find((x) => x.version === version);
    if (!v) return undefined;
    return {
      version: v.version,
      createdDate: new Date(v.createdDate * 1000).toISOString(),
      documentationParts: v.parts.map((p) => ({
        location: { ...p.location },
        properties: JSON.parse(p.properties),
      })),
    };
  }
}
