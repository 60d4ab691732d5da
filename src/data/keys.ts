/**
 * Store keys of items and index entries, and the validation of key attributes (exact
 * DynamoDB messages).
 */
import { checkItem, encodeKeyValue, isCanonicalInteger, type AttributeValue, type Item } from './bridge.js';
import type { KvWriter } from '../storage/store.js';
import { errors, SEP, type IndexMeta, type Keys, type ScalarType, type TableMeta } from './model.js';

/** The type of a (validated) value: its one member. */
function typeOf(v: AttributeValue | undefined): string | undefined {
  if (v) for (const t in v) return t;
  return undefined;
}

function checkKeyValueSize(keys: Keys, item: Item): void {
  const h = item[keys.hash];
  if (h && keyBytes(h) > 2048)
    throw errors.invalidParams('Size of hashkey has exceeded the maximum size limit of2048 bytes');
  const r = keys.range ? item[keys.range] : undefined;
  if (r && keyBytes(r) > 1024)
    throw errors.invalidParams('Aggregated size of all range keys has exceeded the size limit of 1024 bytes');
}

function keyBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.B !== undefined) return Buffer.from(v.B, 'base64').length;
  return v.N?.length ?? 0;
}

function emptyKey(v: AttributeValue): boolean {
  return (v.S !== undefined && v.S === '') || (v.B !== undefined && v.B === '');
}

/** The key attributes of an item (Item of PutItem): missing/mistyped keys are errors. */
export function keyFromItem(meta: TableMeta, item: Item): Item {
  const out: Item = {};
  for (const [n, t] of keyAttrs(meta.keys)) {
    const v = item[n];
    if (!v) throw errors.invalidParams(`Missing the key ${n} in the item`);
    if (typeOf(v) !== t)
      throw errors.invalidParams(`Type mismatch for key ${n} expected: ${t} actual: ${typeOf(v)}`);
    if (emptyKey(v))
      throw errors.validation(
        `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${t === 'S' ? 'string' : 'binary'} value. Key: ${n}`,
      );
    out[n] = v;
  }
  checkKeyValueSize(meta.keys, item);
  checkIndexKeyTypes(meta, item);
  return out;
}

/** Every index key attribute the item holds has its index's type (PutItem, UpdateItem results). */
export function checkIndexKeyTypes(meta: Pick<TableMeta, 'indexes'>, item: Item): void {
  for (const ix of meta.indexes) checkIndexKeys(ix, item);
}

/** A Key parameter (GetItem, DeleteItem, UpdateItem, ...): exactly the key attributes. */
export function checkKey(meta: TableMeta, key: unknown): Item {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw errors.keyMismatch();
  const plain = plainKey(meta.keys, key as Record<string, unknown>);
  if (plain) {
    checkKeyValueSize(meta.keys, plain);
    return plain;
  }
  const k = checkItem(key, 'key');
  const attrs = keyAttrs(meta.keys);
  if (Object.keys(k).length !== attrs.length) throw errors.keyMismatch();
  for (const [n, t] of attrs) {
    const v = k[n];
    if (!v || typeOf(v) !== t) throw errors.keyMismatch();
    if (emptyKey(v))
      throw errors.validation(
        `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${t === 'S' ? 'string' : 'binary'} value. Key: ${n}`,
      );
  }
  checkKeyValueSize(meta.keys, k);
  return k;
}

/**
 * The hot path of checkKey: a key made of exactly the schema's attributes, each a non-empty
 * S or a canonical integer N (one member, a string), is valid as it is and checkItem would
 * copy it unchanged: the copy is made here, in the key's own attribute order. Anything else
 * (B, other numbers, extra or missing members, any error): undefined, and checkKey takes the
 * full path with its exact messages.
 */
function plainKey(keys: Keys, key: Record<string, unknown>): Item | undefined {
  const out: Item = {};
  let n = 0;
  for (const name in key) {
    if (!Object.hasOwn(key, name)) return undefined;
    n++;
    const want = name === keys.hash ? keys.hashType : name === keys.range ? keys.rangeType : undefined;
    const v = key[name] as Record<string, unknown> | null;
    if (want === undefined || typeof v !== 'object' || v === null) return undefined;
    let members = 0;
    for (const m in v) {
      if (m !== want) return undefined;
      members++;
    }
    const text = v[want];
    if (members !== 1 || typeof text !== 'string') return undefined;
    if (want === 'S' && text !== '') out[name] = { S: text };
    else if (want === 'N' && isCanonicalInteger(text)) out[name] = { N: text };
    else return undefined;
  }
  return n === (keys.range ? 2 : 1) ? out : undefined;
}

function checkIndexKeys(ix: IndexMeta, item: Item): void {
  for (const [n, t] of keyAttrs(ix.keys)) {
    const v = item[n];
    if (!v) continue;
    if (typeOf(v) !== t)
      throw errors.invalidParams(
        `Type mismatch for Index Key ${n} Expected: ${t} Actual: ${typeOf(v)} IndexName: ${ix.name}`,
      );
    if (emptyKey(v))
      throw errors.validation(
        `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty ${t === 'S' ? 'string' : 'binary'} value. IndexName: ${ix.name}, IndexKey: ${n}`,
      );
  }
}

const attrsOf = new WeakMap<Keys, readonly [string, ScalarType][]>();

/** The key attributes and their types (made once per schema object; do not modify). */
export function keyAttrs(keys: Keys): readonly [string, ScalarType][] {
  let out = attrsOf.get(keys);
  if (!out) {
    const list: [string, ScalarType][] = [[keys.hash, keys.hashType]];
    if (keys.range) list.push([keys.range, keys.rangeType!]);
    attrsOf.set(keys, (out = list));
  }
  return out;
}

/** Store key of a base-table item. */
export function itemKey(keys: Keys, item: Item): string {
  const h = encodeKeyValue(item[keys.hash]);
  return keys.range ? h + SEP + encodeKeyValue(item[keys.range]) : h;
}

/** Store key of an index entry, or undefined when the item is not in the (sparse) index. */
export function indexKey(ix: IndexMeta, base: Keys, item: Item): string | undefined {
  const h = item[ix.keys.hash];
  if (!h || typeOf(h) !== ix.keys.hashType) return undefined;
  let k = encodeKeyValue(h) + SEP;
  if (ix.keys.range) {
    const r = item[ix.keys.range];
    if (!r || typeOf(r) !== ix.keys.rangeType) return undefined;
    k += encodeKeyValue(r) + SEP;
  }
  return k + itemKey(base, item);
}

/** Only the attributes an index projects (keys always). */
export function projectForIndex(ix: IndexMeta, base: Keys, item: Item): Item {
  const type = ix.projection.ProjectionType ?? 'ALL';
  if (type === 'ALL') return item;
  const out: Item = {};
  const keep = new Set<string>([...keyAttrs(base).map((a) => a[0]), ...keyAttrs(ix.keys).map((a) => a[0])]);
  if (type === 'INCLUDE') for (const n of ix.projection.NonKeyAttributes ?? []) keep.add(n);
  for (const n of keep) if (item[n] !== undefined) out[n] = item[n];
  return out;
}

/**
 * An item's row in its table (`next`, or its deletion when only `old` is given) and the table's
 * index entries kept in step with it: every item write of the engine, a restore, a replica.
 */
export async function writeItemRows(
  tx: KvWriter,
  table: Pick<TableMeta, 'collection' | 'indexes' | 'keys'>,
  storeKey: string,
  old: Item | undefined,
  next: Item | undefined,
): Promise<void> {
  if (next) await tx.put(table.collection, storeKey, next);
  else if (old) await tx.delete(table.collection, storeKey);
  else return;
  for (const ix of table.indexes) {
    const ok = old ? indexKey(ix, table.keys, old) : undefined;
    const nk = next ? indexKey(ix, table.keys, next) : undefined;
    if (ok && ok !== nk) await tx.delete(ix.collection, ok);
    if (nk) await tx.put(ix.collection, nk, projectForIndex(ix, table.keys, next!));
  }
}

/** Just the key attributes named by the schemas given. */
export function pickKeys(item: Item, ...schemas: Keys[]): Item {
  const out: Item = {};
  for (const s of schemas) for (const [n] of keyAttrs(s)) if (item[n] !== undefined) out[n] = item[n];
  return out;
}
