/**
 * Small helpers shared by the resource providers: CloudFormation property values arrive as the
 * template wrote them (numbers and booleans may be strings), the APIs want typed values.
 */
import type { ResourceContext, ResourceProvider } from '../types.js';

export type Props = Record<string, unknown>;

/** A number from a template value (`"30"` or `30`); undefined stays undefined. */
export function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** A boolean from a template value (`"true"`, `true`). */
export function bool(v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  return String(v).toLowerCase() === 'true';
}

export function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : String(v);
}

/** A JSON document property (policy, filter policy, event pattern): objects are serialised. */
export function json(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function list<T = unknown>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : v === undefined || v === null ? [] : [v as T];
}

/** Deep equality of two template values (JSON semantics). */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Props)[k])]),
    );
  }
  return v;
}

/** The names of the properties that differ between two property sets. */
export function changed(prev: Props, next: Props): Set<string> {
  const out = new Set<string>();
  for (const k of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    if (!same(prev[k], next[k])) out.add(k);
  }
  return out;
}

/** CloudFormation's `Tags: [{Key, Value}]` as a map. */
export function tagMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list<{ Key?: unknown; Value?: unknown }>(v)) {
    if (t && t.Key !== undefined) out[String(t.Key)] = String(t.Value ?? '');
  }
  return out;
}

/** A map of tags as CloudFormation's list (`Tags: [{Key, Value}]`). */
export function tagList(v: unknown): { Key: string; Value: string }[] {
  return Object.entries(tagMap(v)).map(([Key, Value]) => ({ Key, Value }));
}

/** Tags added/changed and keys removed between two CloudFormation tag lists. */
export function tagDiff(prev: unknown, next: unknown): { set: Record<string, string>; remove: string[] } {
  const a = tagMap(prev);
  const b = tagMap(next);
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(b)) if (a[k] !== v) set[k] = v;
  return { set, remove: Object.keys(a).filter((k) => !(k in b)) };
}

/** The template's name property when set, else a generated CloudFormation-style name. */
export function nameOf(props: Props, key: string, ctx: ResourceContext, max: number): string {
  const v = props[key];
  return v === undefined || v === null || v === '' ? ctx.physicalName(max) : String(v);
}

/** Runs fn and ignores errors that mean "already gone" (delete is idempotent). */
export async function ignoreMissing(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
}

export function isMissing(e: unknown): boolean {
  const err = e as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = err?.name ?? err?.Code ?? '';
  return (
    /NotFound|NonExistent|DoesNotExist|NoSuch/i.test(code) ||
    (err?.$metadata?.httpStatusCode === 404 && code !== 'UnknownOperationException')
  );
}

/** Removes undefined members (the SDK serialises them away anyway; keeps diffs readable). */
export function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The function name in a function name / ARN / partial ARN. */
export function functionNameOf(ref: string): string {
  const m = /^arn:[^:]+:lambda:[^:]+:\d+:function:([^:]+)/.exec(ref);
  return m ? m[1] : ref.split(':')[0];
}

/**
 * `update` of a resource whose updatable properties have no effect in Nimbus (or that any
 * change replaces): it stays as it is.
 */
export const keepAsIs: ResourceProvider['update'] = async (physicalId, _props, previous) => ({
  physicalId,
  attributes: previous.attributes,
});
