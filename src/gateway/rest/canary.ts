/**
 * REST API canary releases (API Gateway's canary release deployments). A stage's
 * `canarySettings` name a second deployment that serves `percentTraffic` percent of the stage's
 * requests, chosen at random per request, with the stage variables overridden by
 * `stageVariableOverrides`. CreateDeployment with `canarySettings` (on an existing stage) makes
 * the new deployment the canary; CreateStage takes them too; UpdateStage patches
 * `/canarySettings/...`, promotes with `copy` operations (`/deploymentId` from
 * `/canarySettings/deploymentId`, `/variables` from `/canarySettings/stageVariableOverrides`) and
 * removes the canary with `remove /canarySettings`. The messages are AWS's.
 */
import {
  restErrors as errors,
  type RestApiRecord,
  type RestCanarySettings,
  type RestStageRecord,
} from './model.js';
import { boolValue, patchOperations, requireValue, type PatchOperation } from './patch.js';

type Input = Record<string, any>;

const VARIABLE_NAME = /^[A-Za-z0-9_]+$/;
const COPY_PATHS: Record<string, string> = {
  '/deploymentId': '/canarySettings/deploymentId',
  '/variables': '/canarySettings/stageVariableOverrides',
};

/** `percentTraffic`: a number from 0.0 to 100.0. */
export function percentTraffic(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw errors.badRequest(`Invalid percentTraffic ${String(v)}: must be a number between 0.0 and 100.0`);
  return n;
}

function overrides(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw errors.badRequest('Invalid stageVariableOverrides');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Input)) {
    if (!VARIABLE_NAME.test(k)) throw errors.badRequest('Stage variable name only allows a-zA-Z0-9_');
    out[k] = String(x);
  }
  return out;
}

function deploymentExists(api: RestApiRecord, id: string): string {
  if (!api.deployments.some((d) => d.id === id)) throw errors.badRequest('Deployment id does not exist');
  return id;
}

/**
 * The canary of CreateDeployment's DeploymentCanarySettings (`deploymentId` the new deployment)
 * or CreateStage's CanarySettings (`deploymentId` theirs, else the stage's own).
 */
export function canaryOf(api: RestApiRecord, input: Input, deploymentId: string): RestCanarySettings {
  const out: RestCanarySettings = {
    deploymentId:
      input.deploymentId === undefined || input.deploymentId === null
        ? deploymentId
        : deploymentExists(api, String(input.deploymentId)),
    percentTraffic:
      input.percentTraffic === undefined || input.percentTraffic === null
        ? 0
        : percentTraffic(input.percentTraffic),
    useStageCache: Boolean(input.useStageCache ?? false),
  };
  if (input.stageVariableOverrides !== undefined && input.stageVariableOverrides !== null)
    out.stageVariableOverrides = overrides(input.stageVariableOverrides);
  return out;
}

/** GetStage's `canarySettings`. */
export function canaryView(c: RestCanarySettings): Input {
  const out: Input = {
    deploymentId: c.deploymentId,
    percentTraffic: c.percentTraffic,
    useStageCache: c.useStageCache,
  };
  if (c.stageVariableOverrides) out.stageVariableOverrides = c.stageVariableOverrides;
  return out;
}

/**
 * CreateDeployment's checks of the stage it names: a canary deployment needs an existing stage;
 * a stage with a canary takes only canary deployments until the canary is removed.
 */
export function checkDeploymentStage(api: RestApiRecord, input: Input): void {
  const name = input.stageName as string | undefined | null;
  if (input.canarySettings !== undefined && input.canarySettings !== null) {
    if (name === undefined || name === null || name === '')
      throw errors.badRequest(
        `Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is ${name ?? 'null'}`,
      );
    if (!api.stages.some((s) => s.stageName === name))
      throw errors.badRequest(
        `Invalid deployment content specified.Stage ${name} must already be created before making a canary release deployment`,
      );
  } else if (name && api.stages.some((s) => s.stageName === name && s.canarySettings)) {
    throw errors.badRequest(
      `Invalid deployment content specified.Non canary deployment not supported on stage ${name} because Canary is enabled. Provide CanarySettings in deploymentInput.`,
    );
  }
}

/** The stage's canary, made on first use as AWS does: the stage's deployment, 0%, no stage cache. */
function canaryOfStage(st: RestStageRecord): RestCanarySettings {
  return (st.canarySettings ??= { deploymentId: st.deploymentId, percentTraffic: 0, useStageCache: false });
}

/**
 * An UpdateStage operation on `/canarySettings` (and below) or a promotion `copy`; false when the
 * operation is none of those (the caller's other paths apply).
 */
export function patchCanary(api: RestApiRecord, st: RestStageRecord, raw: Input): boolean {
  const path = String(raw.path ?? '');
  const kind = String(raw.op ?? '');
  if (kind === 'copy') {
    const from = String(raw.from ?? '');
    if (COPY_PATHS[path] !== from)
      throw errors.badRequest(
        `Invalid copy operation with path: ${path} and from ${from}. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]`,
      );
    const c = st.canarySettings;
    if (!c) throw errors.badRequest('Promotion not available. Canary does not exist.');
    if (path === '/deploymentId') st.deploymentId = c.deploymentId;
    else st.variables = { ...st.variables, ...c.stageVariableOverrides };
    return true;
  }
  if (path !== '/canarySettings' && !path.startsWith('/canarySettings/')) return false;
  const [op] = patchOperations({ patchOperations: [raw] }) as [PatchOperation];
  if (kind === 'add') throw errors.badRequest(`Invalid add operation with path: ${path}`);
  if (kind === 'remove') {
    const v = /^\/canarySettings\/stageVariableOverrides\/([^/]+)$/.exec(path);
    if (path === '/canarySettings') delete st.canarySettings;
    else if (v && st.canarySettings?.stageVariableOverrides) {
      delete st.canarySettings.stageVariableOverrides[v[1]];
      if (!Object.keys(st.canarySettings.stageVariableOverrides).length)
        delete st.canarySettings.stageVariableOverrides;
    } else if (!v)
      throw errors.badRequest(
        `Cannot remove method setting ${path.slice(1)} because there is no method setting for this method `,
      );
    return true;
  }
  if (kind !== 'replace') return false;
  const v = /^\/canarySettings\/stageVariableOverrides\/([^/]+)$/.exec(path);
  if (v) {
    if (!VARIABLE_NAME.test(v[1])) throw errors.badRequest('Stage variable name only allows a-zA-Z0-9_');
    const c = canaryOfStage(st);
    c.stageVariableOverrides = { ...c.stageVariableOverrides, [v[1]]: requireValue(op) };
  } else if (path === '/canarySettings/percentTraffic') {
    const n = percentTraffic(requireValue(op));
    canaryOfStage(st).percentTraffic = n;
  } else if (path === '/canarySettings/deploymentId') {
    const id = deploymentExists(api, requireValue(op));
    canaryOfStage(st).deploymentId = id;
  } else if (path === '/canarySettings/useStageCache') {
    const b = boolValue(op);
    canaryOfStage(st).useStageCache = b;
  } else return false;
  return true;
}
