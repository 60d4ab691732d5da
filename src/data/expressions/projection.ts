/**
 * Projection: a new item with only the given document paths. Selected list elements keep
 * their relative order and are packed (a[2], a[0] gives a: [a0, a2]), as DynamoDB returns them.
 */
import type { AttributeValue, Item } from '../types/attribute-value.js';
import type { DocPath } from './ast.js';
import { getPath } from './evaluate.js';

type Node = { leaf: AttributeValue } | { map: Map<string, Node> } | { list: Map<number, Node> };

function build(node: Node): AttributeValue {
  if ('leaf' in node) return node.leaf;
  if ('map' in node) {
    const m: Record<string, AttributeValue> = {};
    for (const [k, v] of node.map) m[k] = build(v);
    return { M: m };
  }
  return { L: [...node.list.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => build(v)) };
}

export function project(item: Item, paths: readonly DocPath[]): Item {
  const root = new Map<string, Node>();
  for (const path of paths) {
    const value = getPath(item, path);
    if (value === undefined) continue;
    let container: Map<string | number, Node> = root as Map<string | number, Node>;
    for (let i = 0; i < path.length - 1; i++) {
      const step = path[i];
      let child = container.get(step);
      if (child === undefined || 'leaf' in child) {
        child = typeof path[i + 1] === 'number' ? { list: new Map() } : { map: new Map() };
        container.set(step, child);
      }
      container = ('map' in child ? child.map : child.list) as Map<string | number, Node>;
    }
    container.set(path[path.length - 1], { leaf: value });
  }
  const out: Item = {};
  for (const [k, v] of root) out[k] = build(v);
  return out;
}
