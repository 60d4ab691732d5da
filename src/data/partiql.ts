/**
 * PartiQL for DynamoDB (ExecuteStatement / BatchExecuteStatement / ExecuteTransaction) on one
 * table per statement: SELECT, INSERT, UPDATE, DELETE, and EXISTS(SELECT ...) in transactions.
 * A statement is parsed, then translated into the engine's own operations with expressions
 * (Query when the WHERE pins the partition key, else Scan; PutItem; UpdateItem; DeleteItem; a
 * transaction's statements become one TransactWriteItems or TransactGetItems), so every item
 * rule, index and stream record is the engine's.
 */
import { AwsError } from '../protocols/errors.js';
import type { DynamoEngine } from './engine.js';
import type { Scope } from './model.js';

type AV = Record<string, any>;
type Input = Record<string, any>;

const malformed = (detail: string) =>
  new AwsError('ValidationException', `Statement wasn't well formed, can't be processed: ${detail}`);
const validation = (m: string) => new AwsError('ValidationException', m);

// ------------------------------------------------------------------ tokens

interface Tok {
  t: 'id' | 'qid' | 'str' | 'num' | 'param' | 'p';
  v: string;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw malformed('Unterminated quoted literal');
        if (src[i] === c) {
          if (src[i + 1] === c) {
            s += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ t: c === "'" ? 'str' : 'qid', v: s });
      continue;
    }
    const num = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || !prevIsOperand(out))) {
      out.push({ t: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    if (c === '?') {
      out.push({ t: 'param', v: '?' });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['<=', '>=', '<>', '!=', '<<', '>>'].includes(two)) {
      out.push({ t: 'p', v: two });
      i += 2;
      continue;
    }
    if ('=<>()[]{},.:*+-;'.includes(c)) {
      out.push({ t: 'p', v: c });
      i++;
      continue;
    }
    throw malformed(`Unexpected symbol '${c}'`);
  }
  return out;
}

function prevIsOperand(out: Tok[]): boolean {
  const p = out[out.length - 1];
  return !!p && (p.t !== 'p' || p.v === ')' || p.v === ']');
}

// ------------------------------------------------------------------ AST

type Path = (string | number)[];
type Operand = { k: 'path'; path: Path } | { k: 'value'; av: AV };
type Cond =
  | { k: 'and' | 'or'; l: Cond; r: Cond }
  | { k: 'not'; e: Cond }
  | { k: 'cmp'; op: string; l: Operand; r: Operand }
  | { k: 'between'; v: Operand; lo: Operand; hi: Operand }
  | { k: 'in'; v: Operand; list: Operand[] }
  | { k: 'fn'; name: string; args: Operand[] }
  | { k: 'missing'; path: Path; not: boolean };
type SetValue =
  | Operand
  | { k: 'arith'; op: '+' | '-'; l: Operand; r: Operand }
  | { k: 'call'; name: string; args: Operand[] };

/** `RETURNING {ALL | MODIFIED} {NEW | OLD} *` as the ReturnValues it asks for. */
type Returning = 'ALL_NEW' | 'ALL_OLD' | 'UPDATED_NEW' | 'UPDATED_OLD';

export type Statement =
  | { kind: 'select'; table: string; index?: string; projection?: Path[]; where?: Cond }
  | { kind: 'insert'; table: string; item: AV }
  | {
      kind: 'update';
      table: string;
      sets: { path: Path; value: SetValue }[];
      removes: Path[];
      where?: Cond;
      returning?: Returning;
    }
  | { kind: 'delete'; table: string; where?: Cond; returning?: Returning }
  /** EXISTS(SELECT ...): a transaction's condition check. */
  | { kind: 'exists'; table: string; index?: string; where?: Cond };

const CONDITION_FUNCTIONS = new Set(['begins_with', 'contains', 'attribute_type', 'exists']);

class Parser {
  private i = 0;
  private paramNo = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly params: AV[],
  ) {}

  get usedParams(): number {
    return this.paramNo;
  }
  private peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  private isKw(kw: string, o = 0): boolean {
    const t = this.peek(o);
    return !!t && t.t === 'id' && t.v.toUpperCase() === kw;
  }
  private isP(p: string): boolean {
    const t = this.peek();
    return !!t && t.t === 'p' && t.v === p;
  }
  private kw(kw: string): void {
    if (!this.isKw(kw)) throw this.unexpected();
    this.i++;
  }
  private p(p: string): void {
    if (!this.isP(p)) throw this.unexpected();
    this.i++;
  }
  private unexpected(): AwsError {
    const t = this.peek();
    if (!t) return malformed('Unexpected end of statement');
    return malformed(`Unexpected ${t.t === 'id' ? 'keyword' : 'token'} '${t.v}'`);
  }

  statement(): Statement {
    let s: Statement;
    if (this.isKw('SELECT')) s = this.select();
    else if (this.isKw('EXISTS')) s = this.exists();
    else if (this.isKw('INSERT')) s = this.insert();
    else if (this.isKw('UPDATE')) s = this.update();
    else if (this.isKw('DELETE')) s = this.delete();
    else throw this.unexpected();
    if (this.isP(';')) this.i++;
    if (this.peek()) throw this.unexpected();
    return s;
  }

  private name(): string {
    const t = this.peek();
    if (!t || (t.t !== 'id' && t.t !== 'qid')) throw this.unexpected();
    this.i++;
    return t.v;
  }

  private path(): Path {
    const path: Path = [this.name()];
    for (;;) {
      if (this.isP('.')) {
        this.i++;
        path.push(this.name());
      } else if (this.isP('[')) {
        this.i++;
        const t = this.peek();
        if (!t || t.t !== 'num' || !/^\d+$/.test(t.v)) throw this.unexpected();
        this.i++;
        this.p(']');
        path.push(Number(t.v));
      } else return path;
    }
  }

  private select(): Statement {
    this.kw('SELECT');
    let projection: Path[] | undefined;
    if (this.isP('*')) this.i++;
    else {
      projection = [this.path()];
      while (this.isP(',')) {
        this.i++;
        projection.push(this.path());
      }
    }
    this.kw('FROM');
    const table = this.name();
    let index: string | undefined;
    if (this.isP('.')) {
      this.i++;
      index = this.name();
    }
    const where = this.optionalWhere();
    return { kind: 'select', table, index, projection, where };
  }

  private exists(): Statement {
    this.kw('EXISTS');
    this.p('(');
    const inner = this.select() as Extract<Statement, { kind: 'select' }>;
    this.p(')');
    return { kind: 'exists', table: inner.table, index: inner.index, where: inner.where };
  }

  private insert(): Statement {
    this.kw('INSERT');
    this.kw('INTO');
    const table = this.name();
    this.kw('VALUE');
    const v = this.value();
    if (!('M' in v)) throw malformed('INSERT VALUE must be a tuple (a {...} literal)');
    return { kind: 'insert', table, item: v.M };
  }

  private update(): Statement {
    this.kw('UPDATE');
    const table = this.name();
    const sets: { path: Path; value: SetValue }[] = [];
    const removes: Path[] = [];
    while (this.isKw('SET') || this.isKw('REMOVE')) {
      if (this.isKw('SET')) {
        this.i++;
        do {
          if (this.isP(',')) this.i++;
          const path = this.path();
          this.p('=');
          sets.push({ path, value: this.setValue() });
        } while (this.isP(','));
      } else {
        this.i++;
        removes.push(this.path());
        while (this.isP(',')) {
          this.i++;
          removes.push(this.path());
        }
      }
    }
    if (!sets.length && !removes.length) throw this.unexpected();
    const where = this.optionalWhere();
    const returning = this.optionalReturning();
    return { kind: 'update', table, sets, removes, where, ...(returning ? { returning } : {}) };
  }

  private delete(): Statement {
    this.kw('DELETE');
    this.kw('FROM');
    const table = this.name();
    const where = this.optionalWhere();
    const returning = this.optionalReturning();
    if (returning && returning !== 'ALL_OLD')
      throw validation('DELETE statements support only RETURNING ALL OLD *');
    return { kind: 'delete', table, where, ...(returning ? { returning } : {}) };
  }

  /** `RETURNING {ALL | MODIFIED} {NEW | OLD} *`. */
  private optionalReturning(): Returning | undefined {
    if (!this.isKw('RETURNING')) return undefined;
    this.i++;
    const which = this.isKw('ALL') ? 'ALL' : this.isKw('MODIFIED') ? 'UPDATED' : undefined;
    if (!which) throw this.unexpected();
    this.i++;
    const when = this.isKw('NEW') ? 'NEW' : this.isKw('OLD') ? 'OLD' : undefined;
    if (!when) throw this.unexpected();
    this.i++;
    this.p('*');
    return `${which}_${when}` as Returning;
  }

  private optionalWhere(): Cond | undefined {
    if (!this.isKw('WHERE')) return undefined;
    this.i++;
    return this.or();
  }

  private setValue(): SetValue {
    const t = this.peek();
    if (t?.t === 'id' && this.peek(1)?.v === '(' && !['true', 'false', 'null'].includes(t.v.toLowerCase())) {
      this.i += 2;
      const args: Operand[] = [];
      if (!this.isP(')')) {
        args.push(this.operand());
        while (this.isP(',')) {
          this.i++;
          args.push(this.operand());
        }
      }
      this.p(')');
      return { k: 'call', name: t.v.toLowerCase(), args };
    }
    const l = this.operand();
    if (this.isP('+') || this.isP('-')) {
      const op = this.peek()!.v as '+' | '-';
      this.i++;
      return { k: 'arith', op, l, r: this.operand() };
    }
    return l;
  }

  private or(): Cond {
    let l = this.and();
    while (this.isKw('OR')) {
      this.i++;
      l = { k: 'or', l, r: this.and() };
    }
    return l;
  }
  private and(): Cond {
    let l = this.not();
    while (this.isKw('AND')) {
      this.i++;
      l = { k: 'and', l, r: this.not() };
    }
    return l;
  }
  private not(): Cond {
    if (this.isKw('NOT')) {
      this.i++;
      return { k: 'not', e: this.not() };
    }
    return this.predicate();
  }
  private predicate(): Cond {
    if (this.isP('(')) {
      this.i++;
      const c = this.or();
      this.p(')');
      return c;
    }
    const t = this.peek();
    if (t?.t === 'id' && this.peek(1)?.v === '(' && CONDITION_FUNCTIONS.has(t.v.toLowerCase())) {
      this.i += 2;
      const args = [this.operand()];
      while (this.isP(',')) {
        this.i++;
        args.push(this.operand());
      }
      this.p(')');
      return { k: 'fn', name: t.v.toLowerCase(), args };
    }
    const v = this.operand();
    if (this.isKw('IS')) {
      this.i++;
      const not = this.isKw('NOT');
      if (not) this.i++;
      if (v.k !== 'path') throw this.unexpected();
      if (this.isKw('MISSING')) {
        this.i++;
        return { k: 'missing', path: v.path, not };
      }
      if (this.isKw('NULL')) {
        this.i++;
        const c: Cond = { k: 'fn', name: 'attribute_type', args: [v, { k: 'value', av: { S: 'NULL' } }] };
        return not ? { k: 'not', e: c } : c;
      }
      throw this.unexpected();
    }
    if (this.isKw('BETWEEN')) {
      this.i++;
      const lo = this.operand();
      this.kw('AND');
      return { k: 'between', v, lo, hi: this.operand() };
    }
    if (this.isKw('IN')) {
      this.i++;
      const close = this.isP('[') ? ']' : ')';
      if (!this.isP('[') && !this.isP('(')) throw this.unexpected();
      this.i++;
      const list = [this.operand()];
      while (this.isP(',')) {
        this.i++;
        list.push(this.operand());
      }
      this.p(close);
      return { k: 'in', v, list };
    }
    const op = this.peek();
    if (!op || op.t !== 'p' || !['=', '<>', '!=', '<', '<=', '>', '>='].includes(op.v))
      throw this.unexpected();
    this.i++;
    return { k: 'cmp', op: op.v === '!=' ? '<>' : op.v, l: v, r: this.operand() };
  }

  private operand(): Operand {
    const t = this.peek();
    if (t && (t.t === 'qid' || (t.t === 'id' && !['TRUE', 'FALSE', 'NULL'].includes(t.v.toUpperCase()))))
      return { k: 'path', path: this.path() };
    return { k: 'value', av: this.value() };
  }

  value(): AV {
    const t = this.peek();
    if (!t) throw this.unexpected();
    this.i++;
    switch (t.t) {
      case 'str':
        return { S: t.v };
      case 'num':
        return { N: t.v };
      case 'param': {
        const v = this.params[this.paramNo++];
        if (!v) throw validation("Number of parameters in request and statement don't match.");
        return v;
      }
      case 'id': {
        const u = t.v.toUpperCase();
        if (u === 'TRUE' || u === 'FALSE') return { BOOL: u === 'TRUE' };
        if (u === 'NULL') return { NULL: true };
        break;
      }
      case 'p':
        if (t.v === '{') {
          const m: AV = {};
          if (!this.isP('}'))
            do {
              if (this.isP(',')) this.i++;
              const k = this.peek();
              if (!k || (k.t !== 'str' && k.t !== 'qid')) throw this.unexpected();
              this.i++;
              this.p(':');
              m[k.v] = this.value();
            } while (this.isP(','));
          this.p('}');
          return { M: m };
        }
        if (t.v === '[') {
          const l: AV[] = [];
          if (!this.isP(']'))
            do {
              if (this.isP(',')) this.i++;
              l.push(this.value());
            } while (this.isP(','));
          this.p(']');
          return { L: l };
        }
        if (t.v === '<<') {
          const l: AV[] = [];
          do {
            if (this.isP(',')) this.i++;
            l.push(this.value());
          } while (this.isP(','));
          this.p('>>');
          if (l.every((v) => 'S' in v)) return { SS: l.map((v) => v.S) };
          if (l.every((v) => 'N' in v)) return { NS: l.map((v) => v.N) };
          if (l.every((v) => 'B' in v)) return { BS: l.map((v) => v.B) };
          throw validation('Set elements must all be strings, all numbers or all binaries');
        }
    }
    this.i--;
    throw this.unexpected();
  }
}

export function parseStatement(text: string, params: AV[] = []): Statement {
  if (typeof text !== 'string' || !text.trim())
    throw validation(
      "1 validation error detected: Value at 'statement' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  const p = new Parser(tokenize(text), params);
  const s = p.statement();
  if (p.usedParams !== params.length)
    throw validation("Number of parameters in request and statement don't match.");
  return s;
}

// ------------------------------------------------------------------ rendering to expressions

class Render {
  names: Record<string, string> = {};
  values: Record<string, AV> = {};
  private n = 0;
  private v = 0;
  private byName = new Map<string, string>();

  path(p: Path): string {
    return p
      .map((s, i) => {
        if (typeof s === 'number') return `[${s}]`;
        let ph = this.byName.get(s);
        if (!ph) {
          ph = `#n${this.n++}`;
          this.byName.set(s, ph);
          this.names[ph] = s;
        }
        return i === 0 ? ph : `.${ph}`;
      })
      .join('');
  }
  value(av: AV): string {
    const ph = `:v${this.v++}`;
    this.values[ph] = av;
    return ph;
  }
  operand(o: Operand): string {
    return o.k === 'path' ? this.path(o.path) : this.value(o.av);
  }
  cond(c: Cond): string {
    switch (c.k) {
      case 'and':
      case 'or':
        return `(${this.cond(c.l)}) ${c.k.toUpperCase()} (${this.cond(c.r)})`;
      case 'not':
        return `NOT (${this.cond(c.e)})`;
      case 'cmp':
        return `${this.operand(c.l)} ${c.op} ${this.operand(c.r)}`;
      case 'between':
        return `${this.operand(c.v)} BETWEEN ${this.operand(c.lo)} AND ${this.operand(c.hi)}`;
      case 'in':
        return `${this.operand(c.v)} IN (${c.list.map((o) => this.operand(o)).join(', ')})`;
      case 'fn':
        if (c.name === 'exists') return `attribute_exists(${this.operand(c.args[0])})`;
        return `${c.name}(${c.args.map((o) => this.operand(o)).join(', ')})`;
      case 'missing':
        return `${c.not ? 'attribute_exists' : 'attribute_not_exists'}(${this.path(c.path)})`;
    }
  }
  setValue(s: SetValue): string {
    if (s.k === 'arith') return `${this.operand(s.l)} ${s.op} ${this.operand(s.r)}`;
    if (s.k === 'call') {
      if (s.name === 'list_append' || s.name === 'if_not_exists')
        return `${s.name}(${s.args.map((o) => this.operand(o)).join(', ')})`;
      throw validation(`Unsupported function in SET: ${s.name}`);
    }
    return this.operand(s);
  }
  attach(input: Input): Input {
    if (Object.keys(this.names).length) input.ExpressionAttributeNames = this.names;
    if (Object.keys(this.values).length) input.ExpressionAttributeValues = this.values;
    return input;
  }
}

function conjuncts(c: Cond | undefined): Cond[] {
  if (!c) return [];
  if (c.k === 'and') return [...conjuncts(c.l), ...conjuncts(c.r)];
  return [c];
}
const andAll = (cs: Cond[]): Cond | undefined =>
  cs.reduce<Cond | undefined>((l, r) => (l ? { k: 'and', l, r } : r), undefined);

const isAttr = (o: Operand, name: string) => o.k === 'path' && o.path.length === 1 && o.path[0] === name;

/** Pulls `key = value` equalities for every named key out of the WHERE conjuncts. */
function keyEqualities(where: Cond | undefined, names: string[]) {
  const rest: Cond[] = [];
  const key: AV = {};
  for (const c of conjuncts(where)) {
    const name =
      c.k === 'cmp' && c.op === '='
        ? names.find((n) => (isAttr(c.l, n) && c.r.k === 'value') || (isAttr(c.r, n) && c.l.k === 'value'))
        : undefined;
    if (name && c.k === 'cmp' && key[name] === undefined) {
      key[name] = c.l.k === 'value' ? c.l.av : (c.r as { av: AV }).av;
    } else rest.push(c);
  }
  return { key, rest: andAll(rest) };
}

// ------------------------------------------------------------------ execution

type TableMetaOf = Awaited<ReturnType<DynamoEngine['tables']['get']>>;
const keyNames = (meta: TableMetaOf) => [meta.keys.hash, ...(meta.keys.range ? [meta.keys.range] : [])];
/** A request's list of ParameterizedStatements (BatchExecuteStatement, ExecuteTransaction), parsed. */
function parseList(list: unknown, member: string, max: number): Statement[] {
  if (!Array.isArray(list))
    throw validation(
      `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
    );
  if (list.length < 1 || list.length > max)
    throw validation(
      `1 validation error detected: Value '${list.length < 1 ? '[]' : '[...]'}' at '${member}' failed to satisfy constraint: Member must have length ${list.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`,
    );
  return list.map((s: Input) => parseStatement(s?.Statement, s?.Parameters ?? []));
}
const duplicateItem = () => new AwsError('DuplicateItemException', 'Duplicate primary key exists in table');

interface PageToken {
  s: string;
  k: AV;
}

export class PartiQl {
  constructor(private readonly engine: DynamoEngine) {}

  async executeStatement(scope: Scope, input: Input) {
    if (input.Statement === undefined || input.Statement === null)
      throw validation(
        "1 validation error detected: Value null at 'statement' failed to satisfy constraint: Member must not be null",
      );
    const st = parseStatement(input.Statement, input.Parameters ?? []);
    if (input.Limit !== undefined && (!Number.isInteger(input.Limit) || input.Limit < 1))
      throw validation(
        `1 validation error detected: Value '${input.Limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    return this.run(scope, st, input, false);
  }

  async batchExecuteStatement(scope: Scope, input: Input) {
    const list = input.Statements;
    const parsed = parseList(list, 'statements', 25);
    const reads = parsed.filter((s: Statement) => s.kind === 'select').length;
    if (reads && reads !== parsed.length)
      throw validation('Supplied batch contains both read and write operations');
    const Responses = [];
    for (let i = 0; i < parsed.length; i++) {
      const st = parsed[i];
      try {
        const r: any = await this.run(scope, st, list[i], true);
        Responses.push(r.Item ? { TableName: st.table, Item: r.Item } : { TableName: st.table });
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        const code = e.code === 'ValidationException' ? 'ValidationError' : e.code.replace(/Exception$/, '');
        const err: Record<string, unknown> = { Code: code, Message: e.message };
        if (e.extra?.Item) err.Item = e.extra.Item;
        Responses.push({ TableName: st.table, Error: err });
      }
    }
    return { Responses };
  }

  private async run(
    scope: Scope,
    st: Statement,
    input: Input,
    batch: boolean,
  ): Promise<Record<string, unknown>> {
    const meta = await this.engine.tables.get(scope, st.table);
    switch (st.kind) {
      case 'insert':
      case 'update':
      case 'delete': {
        if (batch && st.kind !== 'insert' && st.returning)
          throw validation('RETURNING is not supported in BatchExecuteStatement');
        const { op, req } = this.writeRequest(meta, st, input);
        let out: { Attributes?: unknown };
        try {
          if (op === 'Put') out = (await this.engine.putItem(scope, req)) as typeof out;
          else if (op === 'Delete') out = (await this.engine.deleteItem(scope, req)) as typeof out;
          else out = (await this.engine.updateItem(scope, req)) as typeof out;
        } catch (e) {
          if (st.kind === 'insert' && e instanceof AwsError && e.code === 'ConditionalCheckFailedException')
            throw duplicateItem();
          throw e;
        }
        // RETURNING: the item as ReturnValues gave it (none when there was nothing to return).
        if (st.kind !== 'insert' && st.returning) return { Items: out?.Attributes ? [out.Attributes] : [] };
        return {};
      }
      case 'exists':
        throw validation('EXISTS can only be used in a transaction (ExecuteTransaction)');
      case 'select':
        return this.select(scope, st, meta, input, batch);
    }
  }

  private async select(
    scope: Scope,
    st: Extract<Statement, { kind: 'select' }>,
    meta: Awaited<ReturnType<DynamoEngine['tables']['get']>>,
    input: Input,
    batch: boolean,
  ): Promise<Record<string, unknown>> {
    if (batch) {
      const req = this.getRequest(
        meta,
        st,
        'Select statements within BatchExecuteStatement must specify the full primary key',
      );
      if (input.ConsistentRead !== undefined) req.ConsistentRead = input.ConsistentRead;
      const out: any = await this.engine.getItem(scope, req);
      return out.Item ? { Item: out.Item } : {};
    }
    const r = new Render();
    const projection = st.projection?.map((p) => r.path(p)).join(', ');
    let keys = meta.keys;
    if (st.index) {
      const ix = meta.indexes.find((i) => i.name === st.index);
      if (!ix) throw validation(`The table does not have the specified index: ${st.index}`);
      keys = ix.keys;
    }
    const req: Input = { TableName: st.table };
    if (st.index) req.IndexName = st.index;
    if (projection) req.ProjectionExpression = projection;
    if (input.ConsistentRead) req.ConsistentRead = true;
    if (input.Limit !== undefined) req.Limit = input.Limit;
    const token = this.readToken(input.NextToken, input.Statement);
    if (token) req.ExclusiveStartKey = token;

    // Query when the WHERE pins the partition key with an equality; else Scan.
    const all = conjuncts(st.where);
    const hashIx = all.findIndex(
      (c) =>
        c.k === 'cmp' &&
        c.op === '=' &&
        ((isAttr(c.l, keys.hash) && c.r.k === 'value') || (isAttr(c.r, keys.hash) && c.l.k === 'value')),
    );
    let op: 'query' | 'scan' = 'scan';
    if (hashIx >= 0 && st.where) {
      op = 'query';
      const keyConds: Cond[] = [all[hashIx]];
      const rest = all.filter((_, i) => i !== hashIx);
      const range = keys.range;
      const rangeIx = range
        ? rest.findIndex(
            (c) =>
              (c.k === 'cmp' &&
                c.op !== '<>' &&
                ((isAttr(c.l, range) && c.r.k === 'value') || (isAttr(c.r, range) && c.l.k === 'value'))) ||
              (c.k === 'between' && isAttr(c.v, range) && c.lo.k === 'value' && c.hi.k === 'value') ||
              (c.k === 'fn' &&
                c.name === 'begins_with' &&
                isAttr(c.args[0], range) &&
                c.args[1]?.k === 'value'),
          )
        : -1;
      if (rangeIx >= 0) keyConds.push(...rest.splice(rangeIx, 1));
      req.KeyConditionExpression = keyConds.map((c) => r.cond(c)).join(' AND ');
      const filter = andAll(rest);
      if (filter) req.FilterExpression = r.cond(filter);
    } else if (st.where) req.FilterExpression = r.cond(st.where);
    const out: any = await this.engine[op](scope, r.attach(req));
    const res: Record<string, unknown> = { Items: out.Items ?? [] };
    if (out.LastEvaluatedKey)
      res.NextToken = Buffer.from(
        JSON.stringify({ s: input.Statement, k: out.LastEvaluatedKey } satisfies PageToken),
      ).toString('base64');
    return res;
  }

  /** A SELECT by full primary key as a GetItem / TransactGetItems request. */
  private getRequest(
    meta: TableMetaOf,
    st: Extract<Statement, { kind: 'select' }>,
    notFullKey: string,
  ): Input {
    const names = keyNames(meta);
    const { key, rest } = keyEqualities(st.where, names);
    if (st.index || rest || names.some((k) => key[k] === undefined)) throw validation(notFullKey);
    const r = new Render();
    const req: Input = { TableName: st.table, Key: key };
    const projection = st.projection?.map((p) => r.path(p)).join(', ');
    if (projection) req.ProjectionExpression = projection;
    return r.attach(req);
  }

  /** The PutItem / UpdateItem / DeleteItem request a write statement runs as (its checks are the condition). */
  private writeRequest(
    meta: TableMetaOf,
    st: Extract<Statement, { kind: 'insert' | 'update' | 'delete' }>,
    input: Input,
  ): { op: 'Put' | 'Update' | 'Delete'; req: Input } {
    const base = { TableName: st.table };
    const r = new Render();
    if (st.kind === 'insert') {
      const cond = `attribute_not_exists(${r.path([meta.keys.hash])})`;
      return { op: 'Put', req: r.attach({ ...base, Item: st.item, ConditionExpression: cond }) };
    }
    const names = keyNames(meta);
    const { key, rest } = keyEqualities(st.where, names);
    if (names.some((k) => key[k] === undefined))
      throw validation('Where clause does not contain a mandatory equality on all key attributes');
    const conds: string[] = [];
    if (st.kind === 'update') conds.push(`attribute_exists(${r.path([meta.keys.hash])})`);
    if (rest) conds.push(`(${r.cond(rest)})`);
    const req: Input = { ...base, Key: key };
    if (conds.length) req.ConditionExpression = conds.join(' AND ');
    if (input.ReturnValuesOnConditionCheckFailure)
      req.ReturnValuesOnConditionCheckFailure = input.ReturnValuesOnConditionCheckFailure;
    if (st.returning) req.ReturnValues = st.returning;
    if (st.kind === 'delete') return { op: 'Delete', req: r.attach(req) };
    const parts: string[] = [];
    // `SET s = set_add(s, <<...>>)` / `set_delete(s, <<...>>)` are the ADD and DELETE actions on a set.
    const setCalls = (name: string) =>
      st.sets.filter((x) => x.value.k === 'call' && x.value.name === name) as {
        path: Path;
        value: Extract<SetValue, { k: 'call' }>;
      }[];
    const setAction = (x: { path: Path; value: Extract<SetValue, { k: 'call' }> }) => {
      const [target, elements] = x.value.args;
      if (x.value.args.length !== 2 || target?.k !== 'path' || elements?.k !== 'value')
        throw validation(`${x.value.name} takes the attribute it sets and a set of elements`);
      if (JSON.stringify(target.path) !== JSON.stringify(x.path))
        throw validation(`${x.value.name} must take the attribute it sets as its first argument`);
      return `${r.path(x.path)} ${r.operand(elements)}`;
    };
    const plain = st.sets.filter(
      (x) => !(x.value.k === 'call' && (x.value.name === 'set_add' || x.value.name === 'set_delete')),
    );
    if (plain.length)
      parts.push(`SET ${plain.map((x) => `${r.path(x.path)} = ${r.setValue(x.value)}`).join(', ')}`);
    if (setCalls('set_add').length) parts.push(`ADD ${setCalls('set_add').map(setAction).join(', ')}`);
    if (setCalls('set_delete').length)
      parts.push(`DELETE ${setCalls('set_delete').map(setAction).join(', ')}`);
    if (st.removes.length) parts.push(`REMOVE ${st.removes.map((x) => r.path(x)).join(', ')}`);
    req.UpdateExpression = parts.join(' ');
    return { op: 'Update', req: r.attach(req) };
  }

  /** EXISTS(SELECT ... full key [AND conditions]) as a ConditionCheck: the item exists and matches. */
  private checkRequest(meta: TableMetaOf, st: Extract<Statement, { kind: 'exists' }>, input: Input): Input {
    const names = keyNames(meta);
    const { key, rest } = keyEqualities(st.where, names);
    if (st.index || names.some((k) => key[k] === undefined))
      throw validation('Select statements within EXISTS must specify the full primary key');
    const r = new Render();
    const conds = [`attribute_exists(${r.path([meta.keys.hash])})`];
    if (rest) conds.push(`(${r.cond(rest)})`);
    const req: Input = { TableName: st.table, Key: key, ConditionExpression: conds.join(' AND ') };
    if (input.ReturnValuesOnConditionCheckFailure)
      req.ReturnValuesOnConditionCheckFailure = input.ReturnValuesOnConditionCheckFailure;
    return r.attach(req);
  }

  /**
   * ExecuteTransaction: up to 100 statements, all reads (SELECTs by full primary key, one
   * TransactGetItems) or all writes (INSERT, UPDATE, DELETE and EXISTS checks, one
   * TransactWriteItems: all or nothing, ClientRequestToken idempotency for 10 minutes). A
   * failed statement cancels the transaction with its reason (an INSERT of an existing key:
   * DuplicateItem).
   */
  async executeTransaction(scope: Scope, input: Input) {
    const list = input.TransactStatements;
    const parsed = parseList(list, 'transactStatements', 100);
    const reads = parsed.filter((s) => s.kind === 'select').length;
    if (reads && reads !== parsed.length)
      throw validation('Transaction statements must be either all reads or all writes');
    const metas: TableMetaOf[] = [];
    for (const st of parsed) metas.push(await this.engine.tables.get(scope, st.table));
    if (reads) {
      const TransactItems = parsed.map((st, i) => ({
        Get: this.getRequest(
          metas[i],
          st as Extract<Statement, { kind: 'select' }>,
          'Select statements within a transaction must specify the full primary key',
        ),
      }));
      const out: any = await this.engine.transactGetItems(scope, { TransactItems });
      return { Responses: out.Responses };
    }
    const TransactItems = parsed.map((st, i) => {
      if (st.kind === 'exists') return { ConditionCheck: this.checkRequest(metas[i], st, list[i]) };
      if ((st.kind === 'update' || st.kind === 'delete') && st.returning)
        throw validation('RETURNING is not supported in ExecuteTransaction');
      const { op, req } = this.writeRequest(metas[i], st as Exclude<typeof st, { kind: 'select' }>, list[i]);
      return { [op]: req };
    });
    try {
      await this.engine.transactWriteItems(scope, {
        TransactItems,
        ...(input.ClientRequestToken !== undefined ? { ClientRequestToken: input.ClientRequestToken } : {}),
      });
    } catch (e) {
      if (!(e instanceof AwsError) || e.code !== 'TransactionCanceledException') throw e;
      // An INSERT's key check failing is a duplicate item, as AWS reports it.
      const reasons = (e.extra?.CancellationReasons as Record<string, unknown>[]).map((r, i) =>
        parsed[i].kind === 'insert' && r.Code === 'ConditionalCheckFailed'
          ? { Code: 'DuplicateItem', Message: 'Duplicate primary key exists in table' }
          : r,
      );
      const message = `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`;
      // `Message` capitalised on the wire, as for TransactWriteItems.
      throw new AwsError('TransactionCanceledException', message, 400, 'Sender', {
        CancellationReasons: reasons,
        Message: message,
      });
    }
    return {};
  }

  private readToken(token: unknown, statement: string): AV | undefined {
    if (token === undefined || token === null) return undefined;
    try {
      const t = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as PageToken;
      if (t.s === statement && t.k && typeof t.k === 'object') return t.k;
    } catch {
      // fall through
    }
    throw validation('Given NextToken is not valid or expired');
  }
}
