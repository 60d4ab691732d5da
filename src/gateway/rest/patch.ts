/**
 * API Gateway's `patchOperations` (the body of every Update* call of the v1 API): a list of
 * `{op, path, value, from}` where `op` is add | remove | replace | move | copy | test and
 * `path` is a JSON-pointer-like path whose segments escape `/` as `~1` and `~` as `~0`
 * (so the media type `image/png` is `/binaryMediaTypes/image~1png`).
 *
 * `applyPatch` hands each operation to the resource's own handler, which answers `false`
 * for a path it does not support; that gives the caller AWS's "Invalid patch path" message.
 */
import { restErrors as errors } from './model.js';

export interface PatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: string;
  from?: string;
  /** The path's segments, unescaped (`/a/b~1c` -> ['a', 'b/c']). */
  segments: string[];
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

export function unescapeSegment(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Validates and normalises the request's `patchOperations` member (absent means none). */
export function patchOperations(input: Record<string, unknown>): PatchOperation[] {
  const raw = input.patchOperations;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw errors.badRequest('Invalid patch operations specified');
  return raw.map((o: Record<string, unknown>) => {
    const op = String(o?.op ?? '');
    if (!OPS.has(op))
      throw errors.badRequest(
        `Invalid patch operation specified. Must be one of: [add, remove, replace, move, copy, test]`,
      );
    const path = String(o.path ?? '');
    if (!path.startsWith('/')) throw errors.badRequest(`Invalid patch path ${path}`);
    const out: PatchOperation = {
      op: op as PatchOperation['op'],
      path,
      segments: path.slice(1).split('/').map(unescapeSegment),
    };
    if (o.value !== undefined && o.value !== null) out.value = String(o.value);
    if (o.from !== undefined && o.from !== null) out.from = String(o.from);
    return out;
  });
}

/**
 * Runs `handle` for each operation; `handle` returns false when the path (or the op on it) is
 * not supported, and the whole update fails with AWS's message listing the supported paths.
 */
export function applyPatch(
  input: Record<string, unknown>,
  supported: readonly string[],
  handle: (op: PatchOperation) => boolean,
): void {
  for (const op of patchOperations(input)) {
    if (!handle(op))
      throw errors.badRequest(
        `Invalid patch path  '${op.path}' specified for op '${op.op}'. Must be one of: [${supported.join(', ')}]`,
      );
  }
}

/**
 * One entry of a map patched: `add` / `replace` set `name` to `value()` (in a new map), `remove`
 * deletes it in place. Answers the map to store, or false for any other op (an unsupported path).
 */
export function patchEntry<V>(
  map: Record<string, V> | undefined,
  op: PatchOperation,
  name: string,
  value: () => V,
): Record<string, V> | undefined | false {
  if (op.op === 'remove') {
    if (map) delete map[name];
    return map;
  }
  if (op.op !== 'add' && op.op !== 'replace') return false;
  return { ...(map ?? {}), [name]: value() };
}

/** A patch value that must be present (replace/add). */
export function requireValue(op: PatchOperation): string {
  if (op.value === undefined)
    throw errors.badRequest(`Invalid null or empty value in patch operation for path ${op.path}`);
  return op.value;
}

export function boolValue(op: PatchOperation): boolean {
  const v = requireValue(op).toLowerCase();
  if (v !== 'true' && v !== 'false')
    throw errors.badRequest(`Invalid value '${op.value}' for ${op.path}: must be true or false`);
  return v === 'true';
}

export function intValue(op: PatchOperation, min: number, max: number, message?: string): number {
  const n = Number(requireValue(op));
  if (!Number.isInteger(n) || n < min || n > max)
    throw errors.badRequest(message ?? `Invalid value '${op.value}' for ${op.path}`);
  return n;
}
