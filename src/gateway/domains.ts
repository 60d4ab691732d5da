/**
 * API Gateway custom domain names and their API mappings, shared by the apigatewayv2 API
 * (DomainName, ApiMapping) and the apigateway v1 API (DomainName, BasePathMapping) as on AWS:
 * one namespace of domain names, each with mappings from a path (`''`, `orders`, `v1/orders`)
 * to an API and stage, HTTP or REST.
 *
 * One Store document per domain name (its mappings inside), keyed by the lower-case name: a
 * name belongs to one account and region, and serving finds it by the Host header alone.
 * Every change also bumps one version document, which each node polls every second; serving
 * reads an in-memory table (`DomainTable`), so the per-request Host check is a Map lookup.
 */
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { shortId } from '../core/ids.js';
import type { Store } from '../storage/store.js';
import { AwsError } from '../protocols/errors.js';
import { parseTruststore, type Truststore } from './mtls.js';
import {
  ROUTING_MODES,
  V1_ROUTING_MODES,
  compileRules,
  matchRule,
  parseRule,
  ruleView,
  v1RoutingMode,
  type CompiledRule,
  type RequestHeaders,
  type RoutingMode,
  type RoutingRuleRecord,
} from './routing-rules.js';

export const COLLECTION_DOMAINS = 'apigw.domains';
/** One key (`all`): bumped by every change of any domain, polled by every node. */
export const COLLECTION_DOMAINS_VERSION = 'apigw.domainsver';
const VERSION_KEY = 'all';
const POLL_MS = 1000;

/** Route 53 hosted zone ids of API Gateway's regional endpoints (what alias records target). */
const REGIONAL_ZONES: Record<string, string> = {
  'us-east-1': 'Z1UJRXOUMOOFQ8',
  'us-east-2': 'ZOJJZC49E0EPZ',
  'us-west-1': 'Z2MOQ1BCPVR41Q',
  'us-west-2': 'Z2OJLYMUO9EFXC',
  'eu-west-1': 'ZLY8HYME6SFDD',
  'eu-west-2': 'ZJ5UAJN8Y3Z2Q',
  'eu-central-1': 'Z1U9ULNL0V5AJ3',
  'ap-southeast-1': 'ZL327KTPIQFUL',
  'ap-southeast-2': 'Z2RPCDW04V8134',
  'ap-northeast-1': 'Z1YSHQZHG15GKL',
};
/** CloudFront's hosted zone id (edge-optimized domain names). */
export const CLOUDFRONT_ZONE = 'Z2FDTNDATAQYW2';

export interface Scope {
  accountId: string;
  region: string;
}

export interface MappingRecord {
  apiMappingId: string;
  apiId: string;
  /** Absent: a v1 base path mapping without a stage (the first path segment below it names one). */
  stage?: string;
  /** `''` is the root mapping (`(none)` in the v1 API). */
  apiMappingKey: string;
}

export interface DomainRecord {
  domainName: string;
  accountId: string;
  region: string;
  endpointType: 'REGIONAL' | 'EDGE';
  securityPolicy: string;
  certificateArn?: string;
  certificateName?: string;
  regionalCertificateArn?: string;
  regionalCertificateName?: string;
  /** `d-xxxxxxxxxx`: the generated part of the regional / CloudFront target names. */
  targetId: string;
  createdAt: number;
  /** truststoreUri, truststoreVersion and truststoreWarnings, as the APIs answer them. */
  mutualTlsAuthentication?: Record<string, unknown>;
  /** The truststore's PEM bundle, as read from S3 when mutual TLS was last configured. */
  truststorePem?: string;
  tags: Record<string, string>;
  mappings: MappingRecord[];
  /** Absent: API_MAPPING_ONLY (records from before routing rules too). */
  routingMode?: RoutingMode;
  routingRules?: RoutingRuleRecord[];
}

/** What CreateApiMapping / CreateBasePathMapping need to know of the API they map. */
export interface MappedApi {
  scope: Scope;
  kind: 'HTTP' | 'WEBSOCKET' | 'REST';
  stages: string[];
}

type Input = Record<string, any>;

export const domainErrors = {
  badRequest: (m: string) => new AwsError('BadRequestException', m, 400),
  conflict: (m: string) => new AwsError('ConflictException', m, 409),
  notFound: (m: string) => new AwsError('NotFoundException', m, 404),
};
const domainNotFound = () => domainErrors.notFound('Invalid domain name identifier specified');

const DOMAIN_NAME = /^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
/** One segment of a mapping key: letters, digits and `$-_.+!*'(),` (AWS's wording below). */
const KEY_SEGMENT = /^[A-Za-z0-9$\-_.+!*'(),]+$/;

function checkMappingKey(key: string): string {
  if (key === '') return key;
  const segs = key.split('/');
  if (key.length > 512 || segs.some((s) => !KEY_SEGMENT.test(s)))
    throw domainErrors.badRequest(
      "An ApiMapping key may contain only letters, numbers and one of $-_.+!*'(),",
    );
  return key;
}

/** Does `key` (a mapping key) match `path` (`/a/b/c`) on segment boundaries? `''` matches all. */
export function keyMatches(key: string, path: string): boolean {
  if (key === '') return true;
  if (path.length < key.length + 1 || !path.startsWith(key, 1)) return false;
  const after = path.length === key.length + 1 ? -1 : path.charCodeAt(key.length + 1);
  return after === -1 || after === 47; /* / */
}

export interface DomainEngineDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The API an id names (HTTP, WebSocket or REST API), with its stages; undefined when none. */
  findApi: (apiId: string) => Promise<MappedApi | undefined>;
  /**
   * The S3 object a truststore URI names (`s3://bucket/key`, at `version` when given), read as
   * the domain's account; rejects with the AwsError to answer when it cannot be read.
   */
  readTruststore?: (scope: Scope, bucket: string, key: string, version?: string) => Promise<Buffer>;
}

/** One domain, compiled for serving: mappings longest key first, rules by ascending priority. */
export interface ServedDomain {
  domainName: string;
  mappings: MappingRecord[];
  routingMode: RoutingMode;
  rules: CompiledRule[];
  /** Mutual TLS: the certificate authorities whose client certificates may call the domain. */
  truststore?: Truststore;
}

/**
 * The management operations of both APIs over the same records, and the in-memory table
 * serving reads (refreshed from the Store every second, at once after this node's changes).
 */
export class DomainEngine {
  private table = new Map<string, ServedDomain>();
  private version = -1;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly deps: DomainEngineDeps) {}

  // ---- serving -------------------------------------------------------------------------

  /** Loads the table and polls the Store every second (other nodes' changes). */
  async start(): Promise<void> {
    await this.refresh(true);
    this.timer ??= setInterval(() => {
      void this.refresh(false);
    }, POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The domain a Host header names (port ignored, any case), synchronously. */
  lookup(host: string | undefined): ServedDomain | undefined {
    if (this.table.size === 0 || !host) return undefined;
    const colon = host.lastIndexOf(':');
    const name = colon > 0 && host.charCodeAt(0) !== 91 /* [ */ ? host.slice(0, colon) : host;
    const lower = name.toLowerCase();
    const exact = this.table.get(name) ?? this.table.get(lower);
    if (exact) return exact;
    // A wildcard name (`*.example.com`) serves the names one label below it that have none of their own.
    const dot = lower.indexOf('.');
    return dot > 0 ? this.table.get('*' + lower.slice(dot)) : undefined;
  }

  /**
   * Where a request to a custom domain goes: the mapping for its path (or the target of the
   * first routing rule its headers and path match, by the domain's routing mode; a rule's
   * target is mapping-like, its key the base path to strip), the domain name its events carry
   * (for a wildcard name, the host the request was sent to), its path and what follows the
   * mapping key (path below the key and query string). Undefined when the Host is no custom
   * domain or nothing matches.
   */
  resolve(
    hostHeader: string | undefined,
    url: string,
    headers?: RequestHeaders,
  ):
    | {
        domain: ServedDomain;
        mapping: MappingRecord;
        via: 'mapping' | 'rule';
        domainName: string;
        path: string;
        rest: string;
      }
    | undefined {
    const domain = this.lookup(hostHeader);
    if (!domain) return undefined;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let via: 'mapping' | 'rule' = 'mapping';
    let mapping: MappingRecord | undefined;
    if (domain.routingMode !== 'API_MAPPING_ONLY') {
      mapping = matchRule(domain.rules, path, headers);
      if (mapping) via = 'rule';
      else if (domain.routingMode === 'ROUTING_RULE_THEN_API_MAPPING')
        mapping = DomainEngine.route(domain, path);
    } else mapping = DomainEngine.route(domain, path);
    if (!mapping) return undefined;
    const domainName = domain.domainName.startsWith('*.')
      ? (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase()
      : domain.domainName;
    const rest = mapping.apiMappingKey === '' ? url : url.slice(mapping.apiMappingKey.length + 1);
    return { domain, mapping, via, domainName, path, rest };
  }

  /** The mapping with the longest key that matches `path`, if any. */
  static route(domain: ServedDomain, path: string): MappingRecord | undefined {
    for (const m of domain.mappings) if (keyMatches(m.apiMappingKey, path)) return m;
    return undefined;
  }

  private refresh(force: boolean): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const v = await this.deps.store.get<{ n: number }>(COLLECTION_DOMAINS_VERSION, VERSION_KEY);
        const n = v?.n ?? 0;
        if (!force && n === this.version) return;
        const all = await this.deps.store.scan<DomainRecord>(COLLECTION_DOMAINS);
        const next = new Map<string, ServedDomain>();
        for (const { value } of all) next.set(value.domainName.toLowerCase(), compile(value));
        this.table = next;
        this.version = n;
      } catch (e) {
        this.deps.logger.warn('refreshing custom domain names failed', { err: e });
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private served(d: DomainRecord | undefined, name: string): void {
    const next = new Map(this.table);
    if (d) next.set(name.toLowerCase(), compile(d));
    else next.delete(name.toLowerCase());
    this.table = next;
  }

  // ---- records -------------------------------------------------------------------------

  private async load(scope: Scope, name: unknown): Promise<DomainRecord> {
    if (typeof name !== 'string' || !name) throw domainNotFound();
    const d = await this.deps.store.get<DomainRecord>(COLLECTION_DOMAINS, name.toLowerCase());
    if (!d || d.accountId !== scope.accountId || d.region !== scope.region) throw domainNotFound();
    return d;
  }

  /** One transaction on the domain's document (and the version), then the local table at once. */
  private async mutate<T>(scope: Scope, name: string, fn: (d: DomainRecord) => T | Promise<T>): Promise<T> {
    const key = String(name).toLowerCase();
    const { out, d } = await this.deps.store.transaction(async (tx) => {
      const d = await tx.get<DomainRecord>(COLLECTION_DOMAINS, key);
      if (!d || d.accountId !== scope.accountId || d.region !== scope.region) throw domainNotFound();
      const out = await fn(d);
      await tx.put(COLLECTION_DOMAINS, key, d);
      await bump(tx);
      return { out, d };
    });
    this.served(d, key);
    return out;
  }

  private async create(d: DomainRecord): Promise<void> {
    const key = d.domainName.toLowerCase();
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.insert(COLLECTION_DOMAINS, key, d)))
        throw domainErrors.conflict('The domain name you provided already exists.');
      await bump(tx);
    });
    this.served(d, key);
  }

  private async remove(scope: Scope, name: unknown): Promise<void> {
    const d = await this.load(scope, name);
    const key = d.domainName.toLowerCase();
    await this.deps.store.transaction(async (tx) => {
      await tx.delete(COLLECTION_DOMAINS, key);
      await bump(tx);
    });
    this.served(undefined, key);
  }

  private async list(scope: Scope): Promise<DomainRecord[]> {
    const all = await this.deps.store.scan<DomainRecord>(COLLECTION_DOMAINS);
    return all
      .map((e) => e.value)
      .filter((d) => d.accountId === scope.accountId && d.region === scope.region);
  }

  private newDomain(scope: Scope, name: unknown, fields: Partial<DomainRecord>): DomainRecord {
    if (typeof name !== 'string' || !name) throw domainErrors.badRequest('Domain name is required');
    if (!DOMAIN_NAME.test(name.toLowerCase()))
      throw domainErrors.badRequest(`Invalid domain name specified: ${name}`);
    return {
      domainName: name.toLowerCase(),
      accountId: scope.accountId,
      region: scope.region,
      endpointType: 'REGIONAL',
      securityPolicy: 'TLS_1_2',
      targetId: `d-${shortId(10)}`,
      createdAt: this.deps.clock.now(),
      tags: {},
      mappings: [],
      ...fields,
    };
  }

  /** Checks the API and stage a mapping names (in the caller's account and region). */
  private async checkTarget(
    scope: Scope,
    d: DomainRecord,
    apiId: unknown,
    stage: unknown,
    v1: boolean,
  ): Promise<MappedApi> {
    if (typeof apiId !== 'string' || !apiId)
      throw domainErrors.badRequest(v1 ? 'Invalid REST API identifier specified' : 'ApiId is required');
    const api = await this.deps.findApi(apiId);
    if (!api || api.scope.accountId !== scope.accountId || api.scope.region !== scope.region)
      throw domainErrors.notFound(
        v1
          ? 'Invalid REST API identifier specified'
          : `Invalid API identifier specified ${scope.accountId}:${apiId}`,
      );
    if (v1 && api.kind !== 'REST') throw domainErrors.notFound('Invalid REST API identifier specified');
    if (stage !== undefined && stage !== null && stage !== '') {
      if (typeof stage !== 'string' || !api.stages.includes(stage))
        throw domainErrors.badRequest('Invalid stage identifier specified');
    } else if (!v1) throw domainErrors.badRequest('Stage is required');
    const others = d.mappings.length
      ? await Promise.all(d.mappings.filter((m) => m.apiId !== apiId).map((m) => this.deps.findApi(m.apiId)))
      : [];
    const ws = (k: MappedApi['kind'] | undefined) => k === 'WEBSOCKET';
    if (others.some((o) => o && ws(o.kind) !== ws(api.kind)))
      throw domainErrors.badRequest('WebSocket APIs cannot share a domain name with HTTP or REST APIs');
    return api;
  }

  private checkKey(d: DomainRecord, key: string, ignoreId?: string): void {
    if (key.includes('/') && (d.endpointType !== 'REGIONAL' || d.securityPolicy !== 'TLS_1_2'))
      throw domainErrors.badRequest(
        'Multi-level base path mappings are only supported for REGIONAL domain names with the TLS_1_2 security policy',
      );
    if (d.mappings.some((m) => m.apiMappingKey === key && m.apiMappingId !== ignoreId))
      throw domainErrors.conflict('Base path already exists for this domain name');
  }

  // ---- apigatewayv2 --------------------------------------------------------------------

  private v2View(d: DomainRecord): Record<string, unknown> {
    const zone = REGIONAL_ZONES[d.region] ?? REGIONAL_ZONES['us-east-1'];
    const conf: Record<string, unknown> = {
      apiGatewayDomainName:
        d.endpointType === 'EDGE'
          ? `${d.targetId}.cloudfront.net`
          : `${d.targetId}.execute-api.${d.region}.amazonaws.com`,
      certificateArn: d.regionalCertificateArn ?? d.certificateArn,
      certificateName: d.regionalCertificateName ?? d.certificateName,
      certificateUploadDate: new Date(d.createdAt).toISOString(),
      domainNameStatus: 'AVAILABLE',
      endpointType: d.endpointType,
      hostedZoneId: d.endpointType === 'EDGE' ? CLOUDFRONT_ZONE : zone,
      securityPolicy: d.securityPolicy,
    };
    const out: Record<string, unknown> = {
      apiMappingSelectionExpression: '$request.basepath',
      domainName: d.domainName,
      domainNameArn: `arn:aws:apigateway:${d.region}::/domainnames/${d.domainName}`,
      domainNameConfigurations: [dropUndefined(conf)],
      routingMode: d.routingMode ?? 'API_MAPPING_ONLY',
      tags: d.tags,
    };
    if (d.mutualTlsAuthentication) out.mutualTlsAuthentication = d.mutualTlsAuthentication;
    return out;
  }

  private v2Config(input: Input): Partial<DomainRecord> {
    const confs = input.domainNameConfigurations;
    if (confs === undefined || confs === null) return {};
    if (!Array.isArray(confs) || confs.length > 1)
      throw domainErrors.badRequest('DomainNameConfigurations must hold one configuration');
    const c = (confs[0] ?? {}) as Input;
    const endpointType = c.endpointType ?? 'REGIONAL';
    if (endpointType !== 'REGIONAL' && endpointType !== 'EDGE')
      throw domainErrors.badRequest(`Invalid EndpointType: ${String(endpointType)}`);
    const securityPolicy = c.securityPolicy ?? 'TLS_1_2';
    if (securityPolicy !== 'TLS_1_2' && securityPolicy !== 'TLS_1_0')
      throw domainErrors.badRequest(`Invalid SecurityPolicy: ${String(securityPolicy)}`);
    return dropUndefined({
      endpointType,
      securityPolicy,
      regionalCertificateArn: c.certificateArn as string | undefined,
      regionalCertificateName: c.certificateName as string | undefined,
    }) as Partial<DomainRecord>;
  }

  /**
   * A MutualTlsAuthentication input made into the record's fields: the truststore read from S3
   * now (a later change to the object takes an update of the domain, as on AWS), its warnings.
   */
  private async mutualTls(scope: Scope, input: unknown): Promise<Partial<DomainRecord>> {
    if (input === undefined || input === null) return {};
    const m = input as Input;
    const uri = m.truststoreUri;
    if (uri === undefined || uri === null || uri === '') return {};
    const at = typeof uri === 'string' ? /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) : null;
    if (!at)
      throw domainErrors.badRequest(
        `Invalid truststore uri: ${String(uri)}. Must be an S3 URI of the form s3://bucket-name/key-name`,
      );
    const version =
      typeof m.truststoreVersion === 'string' && m.truststoreVersion ? m.truststoreVersion : undefined;
    if (!this.deps.readTruststore)
      throw domainErrors.badRequest('Mutual TLS is not available: no S3 to read the truststore from');
    const pem = (await this.deps.readTruststore(scope, at[1], at[2], version)).toString('utf8');
    const { certificates, warnings } = parseTruststore(pem, this.deps.clock.now());
    if (!certificates.length)
      throw domainErrors.badRequest(`The truststore at ${uri} contains no valid certificates in PEM format`);
    return {
      mutualTlsAuthentication: dropUndefined({
        truststoreUri: uri,
        truststoreVersion: version,
        truststoreWarnings: warnings.length ? warnings : undefined,
      }),
      truststorePem: pem,
    };
  }

  /** Reads (or, with `write`, changes) a custom domain name's tags. */
  async withTags<T>(scope: Scope, name: string, fn: (tags: Record<string, string>) => T, write: boolean) {
    if (!write) return fn((await this.load(scope, name)).tags);
    return this.mutate(scope, name, (d) => fn(d.tags));
  }

  async createDomainName(scope: Scope, input: Input) {
    const d = this.newDomain(scope, input.domainName, {
      ...this.v2Config(input),
      ...routingModeOf(input.routingMode),
      tags: (input.tags as Record<string, string>) ?? {},
      ...(await this.mutualTls(scope, input.mutualTlsAuthentication)),
    });
    await this.create(d);
    return this.v2View(d);
  }

  async getDomainName(scope: Scope, name: string) {
    return this.v2View(await this.load(scope, name));
  }

  async getDomainNames(scope: Scope, input: Input) {
    return page(
      (await this.list(scope)).map((d) => this.v2View(d)),
      input.maxResults,
      input.nextToken,
    );
  }

  async updateDomainName(scope: Scope, name: string, input: Input) {
    const conf = { ...this.v2Config(input), ...routingModeOf(input.routingMode) };
    const mtls =
      input.mutualTlsAuthentication === undefined
        ? undefined
        : await this.mutualTls(scope, input.mutualTlsAuthentication);
    return this.mutate(scope, name, (d) => {
      Object.assign(d, conf);
      if (mtls) setMutualTls(d, mtls);
      return this.v2View(d);
    });
  }

  async deleteDomainName(scope: Scope, name: string): Promise<void> {
    await this.remove(scope, name);
  }

  async createApiMapping(scope: Scope, name: string, input: Input) {
    const d = await this.load(scope, name);
    const key = checkMappingKey(stringOr(input.apiMappingKey, ''));
    await this.checkTarget(scope, d, input.apiId, input.stage, false);
    return this.mutate(scope, name, (d) => {
      this.checkKey(d, key);
      const m: MappingRecord = {
        apiMappingId: shortId(6),
        apiId: String(input.apiId),
        stage: String(input.stage),
        apiMappingKey: key,
      };
      d.mappings.push(m);
      return v2Mapping(m);
    });
  }

  async getApiMapping(scope: Scope, name: string, id: string) {
    return v2Mapping(findMapping(await this.load(scope, name), id));
  }

  async getApiMappings(scope: Scope, name: string, input: Input) {
    const d = await this.load(scope, name);
    return page(d.mappings.map(v2Mapping), input.maxResults, input.nextToken);
  }

  async updateApiMapping(scope: Scope, name: string, id: string, input: Input) {
    const d = await this.load(scope, name);
    const prev = findMapping(d, id);
    const apiId = stringOr(input.apiId, prev.apiId);
    const stage = stringOr(input.stage, apiId === prev.apiId ? (prev.stage ?? '') : '');
    const key =
      input.apiMappingKey === undefined
        ? prev.apiMappingKey
        : checkMappingKey(stringOr(input.apiMappingKey, ''));
    await this.checkTarget(scope, d, apiId, stage, false);
    return this.mutate(scope, name, (d) => {
      const m = findMapping(d, id);
      this.checkKey(d, key, id);
      Object.assign(m, { apiId, stage, apiMappingKey: key });
      return v2Mapping(m);
    });
  }

  async deleteApiMapping(scope: Scope, name: string, id: string): Promise<void> {
    await this.mutate(scope, name, (d) => {
      const m = findMapping(d, id);
      d.mappings.splice(d.mappings.indexOf(m), 1);
    });
  }

  // ---- apigateway (v1) -----------------------------------------------------------------

  private v1View(d: DomainRecord): Record<string, unknown> {
    const zone = REGIONAL_ZONES[d.region] ?? REGIONAL_ZONES['us-east-1'];
    const out: Record<string, unknown> = {
      domainName: d.domainName,
      domainNameArn: `arn:aws:apigateway:${d.region}::/domainnames/${d.domainName}`,
      certificateUploadDate: Math.floor(d.createdAt / 1000),
      endpointConfiguration: { types: [d.endpointType] },
      domainNameStatus: 'AVAILABLE',
      securityPolicy: d.securityPolicy,
      routingMode: v1RoutingMode(d.routingMode),
      tags: d.tags,
    };
    if (d.endpointType === 'EDGE') {
      Object.assign(out, {
        certificateArn: d.certificateArn,
        certificateName: d.certificateName,
        distributionDomainName: `${d.targetId}.cloudfront.net`,
        distributionHostedZoneId: CLOUDFRONT_ZONE,
      });
    } else {
      Object.assign(out, {
        regionalCertificateArn: d.regionalCertificateArn,
        regionalCertificateName: d.regionalCertificateName,
        regionalDomainName: `${d.targetId}.execute-api.${d.region}.amazonaws.com`,
        regionalHostedZoneId: zone,
      });
    }
    if (d.mutualTlsAuthentication) out.mutualTlsAuthentication = d.mutualTlsAuthentication;
    return dropUndefined(out);
  }

  async createDomainNameV1(scope: Scope, input: Input) {
    const types = (input.endpointConfiguration as Input | undefined)?.types as unknown;
    const type = Array.isArray(types) && types.length ? String(types[0]) : 'EDGE';
    if (type !== 'EDGE' && type !== 'REGIONAL')
      throw domainErrors.badRequest(`Invalid endpoint configuration type: ${type}`);
    const securityPolicy = stringOr(input.securityPolicy, 'TLS_1_2');
    if (securityPolicy !== 'TLS_1_2' && securityPolicy !== 'TLS_1_0')
      throw domainErrors.badRequest(`Invalid security policy: ${securityPolicy}`);
    const d = this.newDomain(
      scope,
      input.domainName,
      dropUndefined({
        endpointType: type,
        securityPolicy,
        certificateArn: input.certificateArn as string | undefined,
        certificateName: input.certificateName as string | undefined,
        regionalCertificateArn: input.regionalCertificateArn as string | undefined,
        regionalCertificateName: input.regionalCertificateName as string | undefined,
        ...v1RoutingModeOf(input.routingMode),
        ...(await this.mutualTls(scope, input.mutualTlsAuthentication)),
        tags: (input.tags as Record<string, string>) ?? {},
      }) as Partial<DomainRecord>,
    );
    await this.create(d);
    return this.v1View(d);
  }

  async getDomainNameV1(scope: Scope, name: string) {
    return this.v1View(await this.load(scope, name));
  }

  async getDomainNamesV1(scope: Scope, input: Input) {
    return pageV1(
      (await this.list(scope)).map((d) => this.v1View(d)),
      input.limit,
      input.position,
    );
  }

  async updateDomainNameV1(scope: Scope, name: string, ops: PatchOp[]) {
    // A new truststore URI or version is read before the change, as a new one is on creation.
    const tlsOps = ops.filter((op) => op.path.startsWith('/mutualTlsAuthentication/'));
    let mtls: Partial<DomainRecord> | undefined;
    if (tlsOps.length) {
      const prev = (await this.load(scope, name)).mutualTlsAuthentication ?? {};
      const next: Input = { truststoreUri: prev.truststoreUri, truststoreVersion: prev.truststoreVersion };
      for (const op of tlsOps) {
        if (op.op !== 'replace')
          throw domainErrors.badRequest(`Invalid patch operation specified. Must be 'replace'`);
        if (op.path === '/mutualTlsAuthentication/truststoreUri') next.truststoreUri = op.value;
        else if (op.path === '/mutualTlsAuthentication/truststoreVersion') next.truststoreVersion = op.value;
        else
          throw domainErrors.badRequest(
            `Invalid patch path  '${op.path}' specified for op 'replace'. Must be one of: [/mutualTlsAuthentication/truststoreUri, /mutualTlsAuthentication/truststoreVersion]`,
          );
      }
      // An empty truststore URI turns mutual TLS off.
      mtls = next.truststoreUri ? await this.mutualTls(scope, next) : {};
    }
    return this.mutate(scope, name, (d) => {
      if (mtls) setMutualTls(d, mtls);
      for (const op of ops) {
        const v = op.value;
        if (op.op !== 'replace')
          throw domainErrors.badRequest(`Invalid patch operation specified. Must be 'replace'`);
        if (op.path.startsWith('/mutualTlsAuthentication/')) continue;
        switch (op.path) {
          case '/certificateArn':
          case '/certificateName':
          case '/regionalCertificateArn':
          case '/regionalCertificateName':
            d[op.path.slice(1) as 'certificateArn'] = v;
            break;
          case '/securityPolicy':
            if (v !== 'TLS_1_0' && v !== 'TLS_1_2')
              throw domainErrors.badRequest(`Invalid security policy: ${String(v)}`);
            d.securityPolicy = v;
            break;
          case '/endpointConfiguration/types/0':
          case '/endpointConfiguration/types/EDGE':
          case '/endpointConfiguration/types/REGIONAL':
            if (v !== 'EDGE' && v !== 'REGIONAL')
              throw domainErrors.badRequest(`Invalid endpoint configuration type: ${String(v)}`);
            d.endpointType = v;
            break;
          case '/routingMode':
            Object.assign(d, v1RoutingModeOf(v ?? ''));
            break;
          default:
            throw domainErrors.badRequest(
              `Invalid patch path  '${op.path}' specified for op 'replace'. Must be one of: [/certificateArn, /certificateName, /regionalCertificateArn, /regionalCertificateName, /securityPolicy, /endpointConfiguration/types/0, /routingMode]`,
            );
        }
      }
      return this.v1View(d);
    });
  }

  async deleteDomainNameV1(scope: Scope, name: string): Promise<void> {
    await this.remove(scope, name);
  }

  async createBasePathMapping(scope: Scope, name: string, input: Input) {
    const d = await this.load(scope, name);
    const key = v1Key(input.basePath);
    await this.checkTarget(scope, d, input.restApiId, input.stage, true);
    return this.mutate(scope, name, (d) => {
      this.checkKey(d, key);
      const m: MappingRecord = {
        apiMappingId: shortId(6),
        apiId: String(input.restApiId),
        apiMappingKey: key,
      };
      if (typeof input.stage === 'string' && input.stage) m.stage = input.stage;
      d.mappings.push(m);
      return v1Mapping(m);
    });
  }

  async getBasePathMapping(scope: Scope, name: string, basePath: string) {
    return v1Mapping(findByBasePath(await this.load(scope, name), basePath));
  }

  async getBasePathMappings(scope: Scope, name: string, input: Input) {
    const d = await this.load(scope, name);
    return pageV1(d.mappings.map(v1Mapping), input.limit, input.position);
  }

  async updateBasePathMapping(scope: Scope, name: string, basePath: string, ops: PatchOp[]) {
    const d = await this.load(scope, name);
    const prev = findByBasePath(d, basePath);
    let { apiId, stage, apiMappingKey: key } = prev;
    for (const op of ops) {
      if (op.op !== 'replace')
        throw domainErrors.badRequest(`Invalid patch operation specified. Must be 'replace'`);
      if (op.path === '/basePath') key = v1Key(op.value);
      else if (op.path === '/restapiId') apiId = String(op.value ?? '');
      else if (op.path === '/stage') stage = op.value || undefined;
      else
        throw domainErrors.badRequest(
          `Invalid patch path  '${op.path}' specified for op 'replace'. Must be one of: [/basePath, /restapiId, /stage]`,
        );
    }
    await this.checkTarget(scope, d, apiId, stage, true);
    return this.mutate(scope, name, (d) => {
      const m = findMapping(d, prev.apiMappingId);
      this.checkKey(d, key, m.apiMappingId);
      m.apiId = apiId;
      m.apiMappingKey = key;
      if (stage) m.stage = stage;
      else delete m.stage;
      return v1Mapping(m);
    });
  }

  async deleteBasePathMapping(scope: Scope, name: string, basePath: string): Promise<void> {
    await this.mutate(scope, name, (d) => {
      const m = findByBasePath(d, basePath);
      d.mappings.splice(d.mappings.indexOf(m), 1);
    });
  }

  // ---- routing rules (apigatewayv2) ---------------------------------------------------

  private ruleArn(d: DomainRecord, id: string): string {
    return `arn:aws:apigateway:${d.region}:${d.accountId}:/domainnames/${d.domainName}/routingrules/${id}`;
  }

  /** Checks a rule's input and its target: an existing stage of a REST API of the caller. */
  private async checkRule(scope: Scope, input: Input): Promise<Omit<RoutingRuleRecord, 'routingRuleId'>> {
    const rule = parseRule(input);
    const { apiId, stage } = rule.actions[0].invokeApi;
    const api = await this.deps.findApi(apiId);
    if (!api || api.scope.accountId !== scope.accountId || api.scope.region !== scope.region)
      throw domainErrors.notFound(`Invalid API identifier specified ${scope.accountId}:${apiId}`);
    if (api.kind !== 'REST')
      throw domainErrors.badRequest('Routing rules can only invoke a stage of a REST API');
    if (!api.stages.includes(stage)) throw domainErrors.badRequest('Invalid stage identifier specified');
    return rule;
  }

  async createRoutingRule(scope: Scope, name: string, input: Input) {
    await this.load(scope, name);
    const rule = await this.checkRule(scope, input);
    return this.mutate(scope, name, (d) => {
      const rules = (d.routingRules ??= []);
      checkPriority(rules, rule.priority);
      const r: RoutingRuleRecord = { routingRuleId: shortId(6), ...rule };
      rules.push(r);
      return ruleView(r, this.ruleArn(d, r.routingRuleId));
    });
  }

  async getRoutingRule(scope: Scope, name: string, id: string) {
    const d = await this.load(scope, name);
    return ruleView(findRule(d, id), this.ruleArn(d, id));
  }

  async listRoutingRules(scope: Scope, name: string, input: Input) {
    const d = await this.load(scope, name);
    const rules = [...(d.routingRules ?? [])].sort((a, b) => a.priority - b.priority);
    return page(
      rules.map((r) => ruleView(r, this.ruleArn(d, r.routingRuleId))),
      input.maxResults,
      input.nextToken,
    );
  }

  async putRoutingRule(scope: Scope, name: string, id: string, input: Input) {
    findRule(await this.load(scope, name), id);
    const rule = await this.checkRule(scope, input);
    return this.mutate(scope, name, (d) => {
      const r = findRule(d, id);
      checkPriority(d.routingRules!, rule.priority, id);
      Object.assign(r, rule);
      return ruleView(r, this.ruleArn(d, id));
    });
  }

  async deleteRoutingRule(scope: Scope, name: string, id: string): Promise<void> {
    await this.mutate(scope, name, (d) => {
      const r = findRule(d, id);
      d.routingRules!.splice(d.routingRules!.indexOf(r), 1);
    });
  }

  /** Every domain of an account and region with its mappings (for `nimbus apis`). */
  async domainsOf(scope: Scope): Promise<DomainRecord[]> {
    return this.list(scope);
  }
}

export interface PatchOp {
  op: string;
  path: string;
  value?: string;
}

async function bump(tx: {
  get<T>(c: string, k: string): Promise<T | undefined>;
  put<T>(c: string, k: string, v: T): Promise<void>;
}): Promise<void> {
  const v = await tx.get<{ n: number }>(COLLECTION_DOMAINS_VERSION, VERSION_KEY);
  await tx.put(COLLECTION_DOMAINS_VERSION, VERSION_KEY, { n: (v?.n ?? 0) + 1 });
}

function compile(d: DomainRecord): ServedDomain {
  return {
    domainName: d.domainName,
    mappings: [...d.mappings].sort((a, b) => b.apiMappingKey.length - a.apiMappingKey.length),
    routingMode: d.routingMode ?? 'API_MAPPING_ONLY',
    rules: compileRules(d.routingRules),
    ...(d.truststorePem ? { truststore: parseTruststore(d.truststorePem, Date.now()) } : {}),
  };
}

/** Mutual TLS fields from `mutualTls` onto a record (`{}`: mutual TLS off). */
function setMutualTls(d: DomainRecord, mtls: Partial<DomainRecord>): void {
  d.mutualTlsAuthentication = mtls.mutualTlsAuthentication;
  d.truststorePem = mtls.truststorePem;
  if (!d.mutualTlsAuthentication) delete d.mutualTlsAuthentication;
  if (!d.truststorePem) delete d.truststorePem;
}

function v2Mapping(m: MappingRecord): Record<string, unknown> {
  return { apiId: m.apiId, apiMappingId: m.apiMappingId, apiMappingKey: m.apiMappingKey, stage: m.stage };
}

function v1Mapping(m: MappingRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { basePath: m.apiMappingKey || '(none)', restApiId: m.apiId };
  if (m.stage) out.stage = m.stage;
  return out;
}

/** A v1 basePath: absent, empty or `(none)` is the root; otherwise as a mapping key. */
function v1Key(basePath: unknown): string {
  if (basePath === undefined || basePath === null || basePath === '' || basePath === '(none)') return '';
  if (typeof basePath !== 'string') throw domainErrors.badRequest('Invalid base path specified');
  const key = basePath.replace(/^\/+|\/+$/g, '');
  const segs = key.split('/');
  if (key.length > 512 || segs.some((s) => !KEY_SEGMENT.test(s)))
    throw domainErrors.badRequest(
      "Base path may contain only letters, numbers and one of $-_.+!*'(), and cannot start or end with /",
    );
  return key;
}

/** An apigatewayv2 `RoutingMode` input as record fields (absent: no change). */
function routingModeOf(v: unknown): Partial<DomainRecord> {
  if (v === undefined || v === null) return {};
  if (!ROUTING_MODES.includes(v as RoutingMode))
    throw domainErrors.badRequest(
      `Invalid routing mode: ${String(v)}. Must be one of: ${ROUTING_MODES.join(', ')}`,
    );
  return { routingMode: v as RoutingMode };
}

/** An apigateway (v1) `routingMode` (BASE_PATH_MAPPING_ONLY ...) as record fields. */
function v1RoutingModeOf(v: unknown): Partial<DomainRecord> {
  if (v === undefined || v === null) return {};
  const mode = typeof v === 'string' ? V1_ROUTING_MODES[v] : undefined;
  if (!mode)
    throw domainErrors.badRequest(
      `Invalid routing mode: ${String(v)}. Must be one of: ${Object.keys(V1_ROUTING_MODES).join(', ')}`,
    );
  return { routingMode: mode };
}

function findRule(d: DomainRecord, id: string): RoutingRuleRecord {
  const r = d.routingRules?.find((x) => x.routingRuleId === id);
  if (!r) throw domainErrors.notFound('Invalid routing rule identifier specified');
  return r;
}

/** Priorities are unique within a domain name. */
function checkPriority(rules: RoutingRuleRecord[], priority: number, ignoreId?: string): void {
  if (rules.some((r) => r.priority === priority && r.routingRuleId !== ignoreId))
    throw domainErrors.conflict(
      `A routing rule with priority ${priority} already exists for this domain name`,
    );
}

function findMapping(d: DomainRecord, id: string): MappingRecord {
  const m = d.mappings.find((x) => x.apiMappingId === id);
  if (!m) throw domainErrors.notFound('Invalid api mapping identifier specified');
  return m;
}

function findByBasePath(d: DomainRecord, basePath: string): MappingRecord {
  const key = basePath === '(none)' || basePath === '' ? '' : basePath;
  const m = d.mappings.find((x) => x.apiMappingKey === key);
  if (!m) throw domainErrors.notFound('Invalid base path mapping identifier specified');
  return m;
}

function stringOr(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function page<T>(items: T[], max: unknown, token: unknown): { items: T[]; nextToken?: string } {
  const n = max ? Math.max(1, Number(max)) : 100;
  const start = token ? Number(Buffer.from(String(token), 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw domainErrors.badRequest('Invalid pagination token');
  const slice = items.slice(start, start + n);
  return start + n < items.length
    ? { items: slice, nextToken: Buffer.from(String(start + n)).toString('base64url') }
    : { items: slice };
}

function pageV1<T>(items: T[], limit: unknown, position: unknown): { items: T[]; position?: string } {
  const p = page(items, limit ?? 500, position);
  return p.nextToken ? { items: p.items, position: p.nextToken } : { items: p.items };
}
