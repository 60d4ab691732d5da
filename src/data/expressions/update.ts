/**
 * Applying an update expression to an item, immutably. Every right-hand side reads the item
 * as it was before the update (as DynamoDB does); then the actions are applied, REMOVEs last
 * with list indexes in descending order so they refer to the original positions.
 */
import type { AttributeValue, Item } from '../types/attribute-value.js';
import { setMemberKey, typeOf } from '../types/attribute-value.js';
import { addDecimal, formatDecimal, parseDecimal, subtractDecimal } from '../types/number.js';
import type { DocPath, SetValue, UpdateAction } from './ast.js';
import { evalErrors } from './errors.js';
import { getPath, resolveOperand } from './evaluate.js';

export interface UpdateResult {
  /** The new item (the input is not modified). */
  item: Item;
  /** The document paths the update wrote or removed, in expression order. */
  changedPaths: DocPath[];
}

function evalSetValue(v: SetValue, item: Item): AttributeValue {
  switch (v.type) {
    case 'operand': {
      const r = resolveOperand(v.operand, item);
      if (r === undefined) throw evalErrors.missingAttribute();
      return r;
    }
    case 'plus':
    case 'minus': {
      const a = evalSetValue(v.left, item);
      const b = evalSetValue(v.right, item);
      if (!('N' in a) || !('N' in b)) throw evalErrors.incorrectType();
      const x = parseDecimal(a.N);
      const y = parseDecimal(b.N);
      return { N: formatDecimal(v.type === 'plus' ? addDecimal(x, y) : subtractDecimal(x, y)) };
    }
    case 'if_not_exists':
      return getPath(item, v.path) ?? evalSetValue(v.fallback, item);
    case 'list_append': {
      const a = evalSetValue(v.first, item);
      const b = evalSetValue(v.second, item);
      if (!('L' in a) || !('L' in b)) throw evalErrors.incorrectType();
      return { L: [...a.L, ...b.L] };
    }
  }
}

/** The container holding the last step of `path` in a mutable item, or undefined if absent. */
function parentOf(item: Item, path: DocPath): AttributeValue | undefined {
  return path.length === 1 ? undefined : getPath(item, path.slice(0, -1));
}

function writePath(item: Item, path: DocPath, value: AttributeValue): void {
  if (path.length === 1) {
    item[path[0] as string] = value;
    return;
  }
  const parent = parentOf(item, path);
  const last = path[path.length - 1];
  if (parent === undefined) throw evalErrors.invalidPath();
  if (typeof last === 'number') {
    if (!('L' in parent)) throw evalErrors.invalidPath();
    if (last >= parent.L.length) parent.L.push(value);
    else parent.L[last] = value;
  } else {
    if (!('M' in parent)) throw evalErrors.invalidPath();
    parent.M[last] = value;
  }
}

function removePath(item: Item, path: DocPath): void {
  if (path.length === 1) {
    delete item[path[0] as string];
    return;
  }
  const parent = parentOf(item, path);
  if (parent === undefined) return;
  const last = path[path.length - 1];
  if (typeof last === 'number') {
    if (!('L' in parent)) throw evalErrors.invalidPath();
    if (last < parent.L.length) parent.L.splice(last, 1);
  } else {
    if (!('M' in parent)) throw evalErrors.invalidPath();
    delete parent.M[last];
  }
}

function comparePathsDescending(a: DocPath, b: DocPath): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === 'number' && typeof b[i] === 'number') return (b[i] as number) - (a[i] as number);
    return String(a[i]) < String(b[i]) ? 1 : -1;
  }
  return b.length - a.length;
}

function addTo(current: AttributeValue | undefined, value: AttributeValue): AttributeValue {
  if (current === undefined) return value;
  if ('N' in current && 'N' in value) {
    return { N: formatDecimal(addDecimal(parseDecimal(current.N), parseDecimal(value.N))) };
  }
  const t = typeOf(current);
  if ((t === 'SS' || t === 'NS' || t === 'BS') && typeOf(value) === t) {
    const cur = (current as Record<string, string[]>)[t];
    const seen = new Set(cur.map((m) => setMemberKey(t, m)));
    const out = [...cur];
    for (const m of (value as Record<string, string[]>)[t]) {
      const k = setMemberKey(t, m);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(m);
      }
    }
    return { [t]: out } as AttributeValue;
  }
  throw evalErrors.incorrectType();
}

function deleteFrom(current: AttributeValue, value: AttributeValue): AttributeValue | undefined {
  const t = typeOf(current);
  if ((t === 'SS' || t === 'NS' || t === 'BS') && typeOf(value) === t) {
    const drop = new Set((value as Record<string, string[]>)[t].map((m) => setMemberKey(t, m)));
    const out = (current as Record<string, string[]>)[t].filter((m) => !drop.has(setMemberKey(t, m)));
    return out.length === 0 ? undefined : ({ [t]: out } as AttributeValue);
  }
  throw evalErrors.incorrectType();
}

/** Applies update actions to an item (use `{}` for an item that does not exist yet). */
export function applyUpdate(actions: readonly UpdateAction[], original: Item): UpdateResult {
  // 1. Evaluate every SET right-hand side against the original item.
  const setValues = new Map<UpdateAction, AttributeValue>();
  for (const a of actions) if (a.type === 'SET') setValues.set(a, evalSetValue(a.value, original));

  const item = structuredClone(original) as Item;
  const removes: DocPath[] = [];
  for (const a of actions) {
    switch (a.type) {
      case 'SET':
        writePath(item, a.path, setValues.get(a) as AttributeValue);
        break;
      case 'ADD':
        writePath(item, a.path, addTo(getPath(item, a.path), a.value));
        break;
      case 'DELETE': {
        const cur = getPath(item, a.path);
        if (cur === undefined) break;
        const next = deleteFrom(cur, a.value);
        if (next === undefined) removePath(item, a.path);
        else writePath(item, a.path, next);
        break;
      }
      case 'REMOVE':
        removes.push(a.path);
        break;
    }
  }
  for (const p of [...removes].sort(comparePathsDescending)) removePath(item, p);
  return { item, changedPaths: actions.map((a) => a.path) };
}
