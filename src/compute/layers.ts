/**
 * Lambda layers: PublishLayerVersion and friends, layer-version policies, the check of a
 * function's `Layers`, and the merged /opt tree a sandbox sees (layers extracted in order,
 * later layers overwriting earlier files, as Lambda merges them).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { LambdaLimits } from '../core/config.js';
import type { Store } from '../storage/store.js';
import { inspectZip, type CodeCache } from './code.js';
import { constraint, errors, lambdaTimestamp, type Scope } from './model.js';
import {
  NOT_FOUND_MESSAGE,
  PolicyStore,
  permissionViolations,
  type AddPermissionInput,
  type PolicyRecord,
  POLICY_COLLECTION,
} from './policy.js';
import { KNOWN_RUNTIMES } from './validation.js';

export const LAYER_COLLECTIONS = {
  versions: 'lambda.layer-versions',
  names: 'lambda.layer-names',
} as const;

export const MAX_FUNCTION_LAYERS = 5;

export interface LayerContentInput {
  ZipFile?: Buffer | string;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
}

export interface PublishLayerVersionInput {
  Content?: LayerContentInput;
  Description?: string;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
}

interface LayerVersionRecord {
  layerName: string;
  version: number;
  description: string;
  licenseInfo?: string;
  compatibleRuntimes: string[];
  compatibleArchitectures: string[];
  codeHex: string;
  codeSha256: string;
  codeSize: number;
  createdDate: string;
}

/** A layer version a function uses: resolved once at Create/UpdateFunctionConfiguration. */
export interface LayerRef {
  arn: string;
  hex: string;
  size: number;
}

const LAYER_NAME_RE =
  /^((arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+)$/;
const LAYER_NAME_PATTERN =
  '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+';
const LAYER_VERSION_ARN_RE =
  /^arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$/;
const LAYER_VERSION_ARN_PATTERN =
  'arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+';

export function layerArn(scope: Scope, name: string): string {
  return `arn:aws:lambda:${scope.region}:${scope.accountId}:layer:${name}`;
}

function nameKey(scope: Scope, name: string): string {
  return `${scope.accountId}/${scope.region}/${name}`;
}
function versionKey(scope: Scope, name: string, version: number): string {
  return `${nameKey(scope, name)}/${String(version).padStart(10, '0')}`;
}
function layerPolicyKey(scope: Scope, name: string, version: number): string {
  return `layer:${versionKey(scope, name, version)}`;
}

/**
 * The zip of a layer's Content. ZipFile only for now: the S3 service wires S3Bucket/S3Key
 * here (the function code path does the same in LambdaEngine's zipOf).
 */
export async function layerZipFromContent(content: LayerContentInput | undefined): Promise<Buffer> {
  if (!content) throw errors.validation([constraint(undefined, 'content', 'Member must not be null')]);
  if (content.ZipFile !== undefined && content.ZipFile !== null) {
    return Buffer.isBuffer(content.ZipFile) ? content.ZipFile : Buffer.from(content.ZipFile, 'base64');
  }
  if (content.S3Bucket || content.S3Key) {
    throw errors.invalidParameter(
      'Nimbus accepts layer content as ZipFile only: S3Bucket/S3Key are not supported yet.',
    );
  }
  throw errors.invalidParameter('Please provide a source for layer content.');
}

export class Layers {
  private readonly policies: PolicyStore;
  private readonly merged = new Map<string, string>();

  constructor(
    private readonly deps: { store: Store; clock: Clock; limits: LambdaLimits },
    private readonly code: CodeCache,
    private readonly cacheDir: string,
  ) {
    this.policies = new PolicyStore(deps.store);
  }

  /** LayerName may be a name or a layer ARN (without version) of this account and region. */
  private parseLayerName(scope: Scope, value: string | undefined): string {
    if (value === undefined || value === '')
      throw errors.validation([constraint(undefined, 'layerName', 'Member must not be null')]);
    const v: string[] = [];
    if (value.length > 140)
      v.push(constraint(value, 'layerName', 'Member must have length less than or equal to 140'));
    if (!LAYER_NAME_RE.test(value))
      v.push(
        constraint(
          value,
          'layerName',
          `Member must satisfy regular expression pattern: ${LAYER_NAME_PATTERN}`,
        ),
      );
    if (v.length) throw errors.validation(v);
    if (!value.startsWith('arn:')) return value;
    const parts = value.split(':');
    if (parts[3] !== scope.region || parts[4] !== scope.accountId) throw errors.notFound(NOT_FOUND_MESSAGE);
    return parts[6];
  }

  private parseVersion(raw: string | number | undefined): number {
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(n))
      throw errors.validation([constraint(raw, 'versionNumber', 'Member must not be null')]);
    return n;
  }

  private shape(scope: Scope, r: LayerVersionRecord, withContent: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (withContent) out.Content = { CodeSha256: r.codeSha256, CodeSize: r.codeSize };
    out.LayerArn = layerArn(scope, r.layerName);
    out.LayerVersionArn = `${layerArn(scope, r.layerName)}:${r.version}`;
    out.Description = r.description;
    out.CreatedDate = r.createdDate;
    out.Version = r.version;
    if (r.compatibleRuntimes.length) out.CompatibleRuntimes = r.compatibleRuntimes;
    if (r.licenseInfo !== undefined) out.LicenseInfo = r.licenseInfo;
    if (r.compatibleArchitectures.length) out.CompatibleArchitectures = r.compatibleArchitectures;
    return out;
  }

  async publish(scope: Scope, nameIn: string, input: PublishLayerVersionInput) {
    const name = this.parseLayerName(scope, nameIn);
    const v: string[] = [];
    const runtimes = input.CompatibleRuntimes ?? [];
    const arches = input.CompatibleArchitectures ?? [];
    if (runtimes.length > 15)
      v.push(
        constraint(
          `[${runtimes.join(', ')}]`,
          'compatibleRuntimes',
          'Member must have length less than or equal to 15',
        ),
      );
    runtimes.forEach((r, i) => {
      if (!KNOWN_RUNTIMES.includes(r))
        v.push(
          constraint(
            r,
            `compatibleRuntimes.${i + 1}.member`,
            `Member must satisfy enum value set: [${KNOWN_RUNTIMES.join(', ')}]`,
          ),
        );
    });
    if (arches.length > 2)
      v.push(
        constraint(
          `[${arches.join(', ')}]`,
          'compatibleArchitectures',
          'Member must have length less than or equal to 2',
        ),
      );
    arches.forEach((a, i) => {
      if (a !== 'x86_64' && a !== 'arm64')
        v.push(
          constraint(
            a,
            `compatibleArchitectures.${i + 1}.member`,
            'Member must satisfy enum value set: [x86_64, arm64]',
          ),
        );
    });
    if (input.Description !== undefined && input.Description.length > 256)
      v.push(
        constraint(input.Description, 'description', 'Member must have length less than or equal to 256'),
      );
    if (input.LicenseInfo !== undefined && input.LicenseInfo.length > 512)
      v.push(
        constraint(input.LicenseInfo, 'licenseInfo', 'Member must have length less than or equal to 512'),
      );
    if (!input.Content) v.push(constraint(undefined, 'content', 'Member must not be null'));
    if (v.length) throw errors.validation(v);
    const zip = await layerZipFromContent(input.Content);
    const info = inspectZip(zip, this.deps.limits, 'PublishLayerVersion');
    await this.code.stage(zip, info);
    const rec = await this.deps.store.transaction(async (tx) => {
      const counter = (await tx.get<{ lastVersion: number }>(
        LAYER_COLLECTIONS.names,
        nameKey(scope, name),
      )) ?? {
        lastVersion: 0,
      };
      counter.lastVersion += 1;
      await tx.put(LAYER_COLLECTIONS.names, nameKey(scope, name), counter);
      const r: LayerVersionRecord = {
        layerName: name,
        version: counter.lastVersion,
        description: input.Description ?? '',
        licenseInfo: input.LicenseInfo,
        compatibleRuntimes: runtimes,
        compatibleArchitectures: arches,
        codeHex: info.hex,
        codeSha256: info.sha256,
        codeSize: info.size,
        createdDate: lambdaTimestamp(this.deps.clock.now()),
      };
      await tx.put(LAYER_COLLECTIONS.versions, versionKey(scope, name, r.version), r);
      return r;
    });
    return this.shape(scope, rec, true);
  }

  private async record(scope: Scope, name: string, version: number): Promise<LayerVersionRecord> {
    const r = await this.deps.store.get<LayerVersionRecord>(
      LAYER_COLLECTIONS.versions,
      versionKey(scope, name, version),
    );
    if (!r) throw errors.notFound(NOT_FOUND_MESSAGE);
    return r;
  }

  async get(scope: Scope, nameIn: string, versionIn: string | number) {
    const name = this.parseLayerName(scope, nameIn);
    return this.shape(scope, await this.record(scope, name, this.parseVersion(versionIn)), true);
  }

  async getByArn(scope: Scope, arn: string | undefined) {
    if (!arn) throw errors.validation([constraint(undefined, 'arn', 'Member must not be null')]);
    const m = LAYER_VERSION_ARN_RE.exec(arn);
    if (!m)
      throw errors.validation([
        constraint(
          arn,
          'arn',
          `Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}`,
        ),
      ]);
    const owner = { region: m[1], accountId: m[2] };
    if (owner.region !== scope.region) throw errors.notFound(NOT_FOUND_MESSAGE);
    const r = await this.record(owner, m[3], Number(m[4]));
    return this.shape(owner, r, true);
  }

  async delete(scope: Scope, nameIn: string, versionIn: string | number): Promise<void> {
    const name = this.parseLayerName(scope, nameIn);
    const version = this.parseVersion(versionIn);
    await this.deps.store.delete(LAYER_COLLECTIONS.versions, versionKey(scope, name, version));
    await this.policies.drop(layerPolicyKey(scope, name, version));
  }

  private static matches(r: LayerVersionRecord, runtime?: string, arch?: string): boolean {
    if (runtime && !r.compatibleRuntimes.includes(runtime)) return false;
    if (arch && !r.compatibleArchitectures.includes(arch)) return false;
    return true;
  }

  async listVersions(
    scope: Scope,
    nameIn: string,
    opts: { CompatibleRuntime?: string; CompatibleArchitecture?: string; Marker?: string; MaxItems?: number },
  ) {
    const name = this.parseLayerName(scope, nameIn);
    const all = await this.deps.store.scan<LayerVersionRecord>(LAYER_COLLECTIONS.versions, {
      prefix: nameKey(scope, name) + '/',
      reverse: true,
    });
    const list = all
      .map((e) => e.value)
      .filter(
        (r) => r.layerName === name && Layers.matches(r, opts.CompatibleRuntime, opts.CompatibleArchitecture),
      );
    const page = paginate(list, opts.Marker, opts.MaxItems, (r) => String(r.version));
    const out: Record<string, unknown> = {
      LayerVersions: page.items.map((r) => this.shape(scope, r, false)),
    };
    if (page.next) out.NextMarker = page.next;
    return out;
  }

  async list(
    scope: Scope,
    opts: { CompatibleRuntime?: string; CompatibleArchitecture?: string; Marker?: string; MaxItems?: number },
  ) {
    const all = await this.deps.store.scan<LayerVersionRecord>(LAYER_COLLECTIONS.versions, {
      prefix: `${scope.accountId}/${scope.region}/`,
    });
    const latest = new Map<string, LayerVersionRecord>();
    for (const { value: r } of all) {
      if (!Layers.matches(r, opts.CompatibleRuntime, opts.CompatibleArchitecture)) continue;
      const seen = latest.get(r.layerName);
      if (!seen || seen.version < r.version) latest.set(r.layerName, r);
    }
    const list = [...latest.values()].sort((a, b) => (a.layerName < b.layerName ? -1 : 1));
    const page = paginate(list, opts.Marker, opts.MaxItems, (r) => r.layerName);
    const out: Record<string, unknown> = {
      Layers: page.items.map((r) => ({
        LayerName: r.layerName,
        LayerArn: layerArn(scope, r.layerName),
        LatestMatchingVersion: this.shape(scope, r, false),
      })),
    };
    if (page.next) out.NextMarker = page.next;
    return out;
  }

  // ---- layer version permissions

  async addPermission(scope: Scope, nameIn: string, versionIn: string, input: AddPermissionInput) {
    const name = this.parseLayerName(scope, nameIn);
    const version = this.parseVersion(versionIn);
    const v = permissionViolations(input, true);
    if (v.length) throw errors.validation(v);
    await this.record(scope, name, version);
    const st = await this.policies.add(
      layerPolicyKey(scope, name, version),
      { ...input, SourceArn: undefined, SourceAccount: undefined },
      `${layerArn(scope, name)}:${version}`,
    );
    const { RevisionId } = await this.policies.get(layerPolicyKey(scope, name, version));
    return { Statement: JSON.stringify(st), RevisionId };
  }

  async removePermission(scope: Scope, nameIn: string, versionIn: string, sid: string, revisionId?: string) {
    const name = this.parseLayerName(scope, nameIn);
    const version = this.parseVersion(versionIn);
    await this.record(scope, name, version);
    await this.policies.remove(layerPolicyKey(scope, name, version), sid, revisionId);
  }

  async getPolicy(scope: Scope, nameIn: string, versionIn: string) {
    const name = this.parseLayerName(scope, nameIn);
    const version = this.parseVersion(versionIn);
    await this.record(scope, name, version);
    return this.policies.get(layerPolicyKey(scope, name, version));
  }

  // ---- functions' Layers

  /**
   * Checks a function's `Layers` (at most 5 existing layer versions; another account's only when
   * its policy grants lambda:GetLayerVersion to this account or to everyone) and resolves them.
   */
  async resolve(scope: Scope, arns: string[]): Promise<LayerRef[]> {
    const v: string[] = [];
    arns.forEach((a, i) => {
      if (a.length > 140 || !LAYER_VERSION_ARN_RE.test(a))
        v.push(
          constraint(
            a,
            `layers.${i + 1}.member`,
            `Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}`,
          ),
        );
    });
    if (v.length) throw errors.validation(v);
    if (arns.length > MAX_FUNCTION_LAYERS)
      throw errors.invalidParameter('Cannot reference more than 5 layers.');
    const seen = new Set<string>();
    const out: LayerRef[] = [];
    for (const arn of arns) {
      const m = LAYER_VERSION_ARN_RE.exec(arn)!;
      const base = arn.slice(0, arn.lastIndexOf(':'));
      if (seen.has(base))
        throw errors.invalidParameter(`Two different versions of the same layer are not allowed: ${base}`);
      seen.add(base);
      const owner = { region: m[1], accountId: m[2] };
      const notExist = errors.invalidParameter(`Layer version ${arn} does not exist.`);
      if (owner.region !== scope.region) throw notExist;
      const r = await this.deps.store.get<LayerVersionRecord>(
        LAYER_COLLECTIONS.versions,
        versionKey(owner, m[3], Number(m[4])),
      );
      if (!r) throw notExist;
      if (
        owner.accountId !== scope.accountId &&
        !(await this.grants(owner, m[3], r.version, scope.accountId))
      )
        throw errors.invalidParameter(
          `User: arn:aws:iam::${scope.accountId}:root is not authorized to perform: lambda:GetLayerVersion on resource: ${arn}`,
        );
      out.push({ arn, hex: r.codeHex, size: r.codeSize });
    }
    return out;
  }

  private async grants(owner: Scope, name: string, version: number, accountId: string): Promise<boolean> {
    const rec = await this.deps.store.get<PolicyRecord>(
      POLICY_COLLECTION,
      layerPolicyKey(owner, name, version),
    );
    return (rec?.statements ?? []).some((s) => {
      const p = s.Principal;
      return (
        p === '*' ||
        (typeof p === 'object' &&
          p !== null &&
          (p as { AWS?: string }).AWS === `arn:aws:iam::${accountId}:root`)
      );
    });
  }

  /** The merged /opt tree of these layers (extracted on first use, cached by content). */
  async optDir(refs: LayerRef[]): Promise<string | undefined> {
    if (refs.length === 0) return undefined;
    const id = createHash('sha256')
      .update(refs.map((r) => r.hex).join(','))
      .digest('hex');
    const known = this.merged.get(id);
    if (known) return known;
    const dir = join(this.cacheDir, `opt-${id}`);
    if (!existsSync(dir)) {
      const dirs: string[] = [];
      for (const r of refs) dirs.push(await this.code.ensure(r.hex));
      mkdirSync(this.cacheDir, { recursive: true, mode: 0o755 });
      const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      mkdirSync(tmp, { mode: 0o755 });
      try {
        for (const d of dirs) cpSync(d, tmp, { recursive: true, force: true, verbatimSymlinks: true });
        try {
          renameSync(tmp, dir);
        } catch (e) {
          if (!existsSync(dir)) throw e;
          rmSync(tmp, { recursive: true, force: true });
        }
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
    }
    this.merged.set(id, dir);
    return dir;
  }
}

function paginate<T>(
  list: T[],
  marker: string | undefined,
  maxItems: number | undefined,
  keyOf: (t: T) => string,
): { items: T[]; next?: string } {
  let start = 0;
  if (marker) {
    const i = list.findIndex((t) => keyOf(t) === marker);
    start = i < 0 ? list.length : i;
  }
  const max = maxItems && maxItems > 0 ? Math.min(maxItems, 50) : 50;
  const items = list.slice(start, start + max);
  const next = start + max < list.length ? keyOf(list[start + max]) : undefined;
  return { items, next };
}
