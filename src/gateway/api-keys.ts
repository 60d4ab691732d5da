/**
 * API keys at the door: a key (the `x-api-key` header, or an authorizer's usageIdentifierKey)
 * is good for an API stage when it exists, is enabled and belongs to a usage plan naming that
 * stage; the plan's throttle (per key, on this node) and quota (in the Store, shared by the
 * nodes) then apply. REST API methods with apiKeyRequired and WebSocket APIs' `$connect` route
 * check keys this way.
 */
import type { RestEngine } from './rest/engine.js';
import type { ApiKeyRecord, Scope } from './rest/model.js';
import type { Throttler } from './throttle.js';

/** The key, or why it is refused: absent / unknown / not in a plan (undefined), throttled, over quota. */
export type KeyDecision = ApiKeyRecord | 'throttled' | 'quota' | undefined;

export async function checkApiKey(
  engine: RestEngine,
  throttler: Throttler,
  scope: Scope,
  apiId: string,
  stage: string,
  value: string,
): Promise<KeyDecision> {
  const key = await engine.findApiKeyByValue(scope, value);
  if (!key || !key.enabled) return undefined;
  const plans = await engine.usagePlansOf(scope);
  const plan = plans.find(
    (p) => p.keyIds.includes(key.id) && p.apiStages.some((s) => s.apiId === apiId && s.stage === stage),
  );
  if (!plan) return undefined;
  if (plan.throttle && (plan.throttle.rateLimit !== undefined || plan.throttle.burstLimit !== undefined)) {
    const rate = plan.throttle.rateLimit ?? 10_000;
    const burst = plan.throttle.burstLimit ?? Math.max(1, Math.ceil(rate));
    if (!throttler.take(`plan|${plan.id}|${key.id}`, rate, Math.max(burst, 1))) return 'throttled';
  }
  if (plan.quota && !(await engine.countQuota(scope, plan, key.id))) return 'quota';
  return key;
}
