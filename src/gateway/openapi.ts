/**
 * What the REST API (ImportRestApi / PutRestApi) and HTTP API (ImportApi / ReimportApi) imports
 * share: reading an OpenAPI 3 / Swagger 2.0 definition sent as JSON or YAML, and its base path.
 */
import { parse as parseYaml } from 'yaml';
import { AwsError } from '../protocols/errors.js';

export type Doc = Record<string, any>;

/** Reading a definition's loosely typed members (the imports and exports of both API kinds). */
export const list = <T = Doc>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
export const str = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : String(v);
export const num = (v: unknown): number | undefined =>
  v === undefined || v === null ? undefined : Number(v);
export const isObject = (v: unknown): v is Doc => v !== null && typeof v === 'object' && !Array.isArray(v);
/** An object without its undefined members (as an SDK client would send it, or a document shows it). */
export const defined = (d: Doc): Doc =>
  Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined));

/** The operation keys of an OpenAPI path item (API Gateway's ANY is its extension). */
export const OPENAPI_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'x-amazon-apigateway-any-method',
];

const invalid = () => new AwsError('BadRequestException', 'Invalid OpenAPI input.', 400);

/** The definition as an object: JSON, else YAML; BadRequestException when it is neither or not OpenAPI. */
export function parseDefinition(text: string): Doc {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = parseYaml(text);
    } catch {
      throw invalid();
    }
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid();
  const d = doc as Doc;
  if (typeof d.swagger !== 'string' && typeof d.openapi !== 'string') throw invalid();
  if (d.paths !== undefined && (d.paths === null || typeof d.paths !== 'object')) throw invalid();
  return d;
}

/** The definition's base path: Swagger's `basePath`, or the path of OpenAPI 3's first server URL. */
function basePathOf(doc: Doc): string {
  if (typeof doc.basePath === 'string') return doc.basePath;
  const url = Array.isArray(doc.servers) ? doc.servers[0]?.url : undefined;
  if (typeof url !== 'string') return '';
  // `https://{host}/v1` or a relative `/v1`; variables in the host part are left as they are.
  const m = /^[a-z]+:\/\/[^/]*(\/.*)?$/i.exec(url);
  return m ? (m[1] ?? '') : url;
}

/**
 * The paths of the definition as the API gets them, after the `basepath` import parameter:
 * `ignore` (the default) drops the base path, `prepend` puts it before every path, `split`
 * drops its first segment and prepends the rest.
 */
export function importedPaths(doc: Doc, mode: string | undefined): [string, Doc][] {
  const paths = Object.entries((doc.paths ?? {}) as Record<string, Doc>);
  const m = (mode ?? 'ignore').toLowerCase();
  if (m !== 'ignore' && m !== 'prepend' && m !== 'split')
    throw new AwsError(
      'BadRequestException',
      `Invalid basepath mode: ${mode}. Valid options are ignore,prepend,split`,
      400,
    );
  let base = m === 'ignore' ? '' : basePathOf(doc);
  if (m === 'split') base = '/' + base.split('/').filter(Boolean).slice(1).join('/');
  base = base.replace(/\/+$/, '');
  if (!base) return paths;
  if (!base.startsWith('/')) base = '/' + base;
  return paths.map(([p, item]) => [p === '/' ? base : base + p, item]);
}
