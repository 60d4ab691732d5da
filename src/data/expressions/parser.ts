/**
 * Recursive-descent parsers for every DynamoDB expression grammar. Syntax errors are thrown
 * at once; semantic errors (reserved words, undefined placeholders, bad functions, operand
 * types, overlapping paths) are collected while parsing and the one DynamoDB reports first
 * is thrown after a successful parse, matching its precedence.
 *
 * Precedence (Developer Guide, "Comparison operator and function reference"), high to low:
 * comparators, IN, BETWEEN, functions, parentheses; then NOT, AND, OR.
 */
import type { AttributeValue } from '../types/attribute-value.js';
import { ATTRIBUTE_TYPES, compareScalars, typeOf } from '../types/attribute-value.js';
import type { Comparator, Condition, DocPath, Operand, SetValue, UpdateAction } from './ast.js';
import { pathToString } from './ast.js';
import { ExpressionError } from './errors.js';
import { isReservedWord } from './reserved-words.js';
import { syntaxError, tokenize, type Token } from './tokenizer.js';
import type { ExpressionTracker } from './tracker.js';

type Category =
  | 'parens'
  | 'unknownFunction'
  | 'misusedFunction'
  | 'reserved'
  | 'section'
  | 'attrName'
  | 'attrVal'
  | 'pathOverlap'
  | 'pathConflict'
  | 'operand'
  | 'distinct'
  | 'function'
  | 'limit'
  | 'inLimit';

const CONDITION_ORDER: Category[] = [
  'limit',
  'inLimit',
  'parens',
  'unknownFunction',
  'misusedFunction',
  'reserved',
  'attrName',
  'attrVal',
  'operand',
  'distinct',
  'function',
];
const UPDATE_ORDER: Category[] = [
  'limit',
  'reserved',
  'unknownFunction',
  'section',
  'attrName',
  'attrVal',
  'pathOverlap',
  'pathConflict',
  'operand',
  'function',
];
const PROJECTION_ORDER: Category[] = ['reserved', 'attrName', 'pathOverlap', 'pathConflict'];

const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const CONDITION_FUNCTIONS: Record<string, number> = {
  attribute_exists: 1,
  attribute_not_exists: 1,
  attribute_type: 2,
  begins_with: 2,
  contains: 2,
  size: 1,
};
const UPDATE_FUNCTIONS: Record<string, number> = { if_not_exists: 2, list_append: 2 };
const TYPE_LIST = '{B,NULL,SS,BOOL,L,BS,N,NS,S,M}';
/** DynamoDB limits: IN takes at most 100 operands; an expression at most 300 operators. */
export const MAX_IN_OPERANDS = 100;
export const MAX_OPERATORS = 300;

/** A parsed call before we know whether it is a condition or an operand. */
interface Call {
  kind: 'call';
  name: string;
  args: Array<Operand | Call>;
}

const PLACEHOLDER_VALUE: AttributeValue = { NULL: true };

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private readonly errors = new Map<Category, string>();
  private operators = 0;
  /** Token positions of the last parenthesised condition's ( and ). */
  private lastGroup: [number, number] | undefined;
  private readonly targetPaths: DocPath[] = [];

  constructor(
    private readonly src: string,
    private readonly tracker: ExpressionTracker,
    private readonly order: Category[],
  ) {
    this.tokens = tokenize(src);
  }

  // ---- token helpers ----
  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }
  private advance(): Token {
    return this.tokens[this.pos++];
  }
  private fail(): never {
    throw syntaxError(this.src, this.tokens, Math.min(this.pos, this.tokens.length - 1));
  }
  private isPunct(p: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'punct' && t.text === p;
  }
  private expectPunct(p: string): void {
    if (!this.isPunct(p)) this.fail();
    this.pos++;
  }
  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'ident' && t.text.toUpperCase() === word;
  }
  private expectEnd(): void {
    if (this.peek().type !== 'eof') this.fail();
  }
  private record(category: Category, message: string): void {
    if (!this.errors.has(category)) this.errors.set(category, message);
  }
  private countOperator(): void {
    this.operators++;
    if (this.operators === MAX_OPERATORS + 1) this.record('limit', '');
  }
  /** Throws the semantic error DynamoDB would report first, if any. */
  finish(): void {
    if (this.errors.has('limit')) {
      throw new ExpressionError(
        `The expression contains too many operators; operator count: ${this.operators}`,
      );
    }
    for (const c of this.order) {
      const m = this.errors.get(c);
      if (m !== undefined) throw new ExpressionError(m);
    }
  }

  // ---- paths and operands ----
  private pathElementName(tok: Token): string {
    if (tok.type === 'name') {
      const name = this.tracker.name(tok.text);
      if (name === undefined) {
        const m = `An expression attribute name used in the document path is not defined; attribute name: ${tok.text}`;
        // Conditions report undefined names and values as one category (first one wins).
        this.record(this.order === CONDITION_ORDER ? 'attrVal' : 'attrName', m);
        return tok.text;
      }
      return name;
    }
    if (isReservedWord(tok.text))
      this.record('reserved', `Attribute name is a reserved keyword; reserved keyword: ${tok.text}`);
    return tok.text;
  }

  parsePath(): DocPath {
    const first = this.peek();
    if (first.type !== 'ident' && first.type !== 'name') this.fail();
    this.pos++;
    const path: DocPath = [this.pathElementName(first)];
    for (;;) {
      if (this.isPunct('.')) {
        this.pos++;
        const t = this.peek();
        if (t.type !== 'ident' && t.type !== 'name') this.fail();
        this.pos++;
        path.push(this.pathElementName(t));
      } else if (this.isPunct('[')) {
        this.pos++;
        const t = this.peek();
        if (t.type !== 'int') this.fail();
        this.pos++;
        this.expectPunct(']');
        path.push(Number(t.text));
      } else return path;
    }
  }

  private parseValueRef(): Operand {
    const tok = this.advance();
    const value = this.tracker.value(tok.text);
    if (value === undefined) {
      const m = `An expression attribute value used in expression is not defined; attribute value: ${tok.text}`;
      this.record('attrVal', m);
      return { type: 'value', value: PLACEHOLDER_VALUE, placeholder: tok.text };
    }
    return { type: 'value', value, placeholder: tok.text };
  }

  /** An operand or function call (condition grammar). */
  private parseOperandOrCall(functions: Record<string, number>): Operand | Call {
    const t = this.peek();
    if (t.type === 'value') return this.parseValueRef();
    if (t.type === 'ident' && this.isPunct('(', 1)) {
      this.pos += 2;
      const args: Array<Operand | Call> = [];
      if (!this.isPunct(')')) {
        for (;;) {
          args.push(this.parseOperandOrCall(functions));
          if (this.isPunct(',')) this.pos++;
          else break;
        }
      }
      this.expectPunct(')');
      if (!(t.text in functions))
        this.record('unknownFunction', `Invalid function name; function: ${t.text}`);
      this.countOperator();
      return { kind: 'call', name: t.text, args };
    }
    if (t.type === 'ident' || t.type === 'name') return { type: 'path', path: this.parsePath() };
    this.fail();
  }

  private checkArgCount(name: string, args: unknown[], expected: Record<string, number>, category: Category) {
    const n = expected[name];
    if (n !== undefined && n !== args.length) {
      this.record(
        category,
        `Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      );
      return false;
    }
    return n !== undefined;
  }

  /** A call or operand used where a value is needed: only size() is allowed there. */
  private asOperand(x: Operand | Call): Operand {
    if (!('kind' in x)) return x;
    if (x.name !== 'size') {
      if (x.name in CONDITION_FUNCTIONS)
        this.record(
          'misusedFunction',
          `The function is not allowed to be used this way in an expression; function: ${x.name}`,
        );
      return { type: 'value', value: PLACEHOLDER_VALUE };
    }
    const args = x.args.map((a) => this.asOperand(a));
    if (!this.checkArgCount('size', args, CONDITION_FUNCTIONS, 'operand'))
      return { type: 'value', value: PLACEHOLDER_VALUE };
    const t = this.staticType(args[0]);
    if (t === 'N' || t === 'BOOL' || t === 'NULL')
      this.record(
        'function',
        `Incorrect operand type for operator or function; operator or function: size, operand type: ${t}`,
      );
    return { type: 'size', operand: args[0] };
  }

  /** The type of an operand known at parse time (literal values, size()). */
  private staticType(o: Operand): string | undefined {
    if (o.type === 'value')
      return o.placeholder !== undefined && this.tracker.values[o.placeholder] === undefined
        ? undefined
        : typeOf(o.value);
    if (o.type === 'size') return 'N';
    return undefined;
  }

  private checkDistinct(op: string, a: Operand, b: Operand): void {
    if (a.type === 'path' && b.type === 'path' && pathToString(a.path) === pathToString(b.path)) {
      this.record(
        'distinct',
        `The first operand must be distinct from the remaining operands for this operator or function; operator: ${op}, first operand: ${pathToString(a.path)}`,
      );
    }
  }

  // ---- conditions ----
  parseCondition(): Condition {
    const c = this.parseOr();
    this.expectEnd();
    return c;
  }

  private parseOr(): Condition {
    let left = this.parseAnd();
    while (this.isKeyword('OR')) {
      this.pos++;
      this.countOperator();
      left = { type: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): Condition {
    let left = this.parseNot();
    while (this.isKeyword('AND')) {
      this.pos++;
      this.countOperator();
      left = { type: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): Condition {
    // NOT is the operator unless it is used as an attribute name (then it is a reserved word).
    const t1 = this.peek(1);
    const asName =
      this.isComparatorAt(1) ||
      this.isKeyword('BETWEEN', 1) ||
      this.isKeyword('IN', 1) ||
      (t1.type === 'punct' && (t1.text === '.' || t1.text === '['));
    if (this.isKeyword('NOT') && !asName) {
      this.pos++;
      this.countOperator();
      return { type: 'not', operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  private isComparatorAt(offset: number): boolean {
    const t = this.peek(offset);
    return t.type === 'punct' && COMPARATORS.has(t.text);
  }

  private parsePrimary(): Condition {
    if (this.isPunct('(')) {
      const open = this.pos++;
      const inner = this.parseOr();
      this.expectPunct(')');
      // ((x)): the inner group spans everything between our parentheses.
      if (this.lastGroup && this.lastGroup[0] === open + 1 && this.lastGroup[1] === this.pos - 2)
        this.record('parens', 'The expression has redundant parentheses;');
      this.lastGroup = [open, this.pos - 1];
      return inner;
    }
    const first = this.parseOperandOrCall(CONDITION_FUNCTIONS);
    if (this.isComparatorAt(0)) {
      const op = this.advance().text as Comparator;
      this.countOperator();
      const left = this.asOperand(first);
      const right = this.asOperand(this.parseOperandOrCall(CONDITION_FUNCTIONS));
      this.checkDistinct(op, left, right);
      return { type: 'compare', op, left, right };
    }
    if (this.isKeyword('BETWEEN')) {
      this.pos++;
      this.countOperator();
      const operand = this.asOperand(first);
      const low = this.asOperand(this.parseOperandOrCall(CONDITION_FUNCTIONS));
      if (!this.isKeyword('AND')) this.fail();
      this.pos++;
      const high = this.asOperand(this.parseOperandOrCall(CONDITION_FUNCTIONS));
      this.checkBetween(low, high);
      return { type: 'between', operand, low, high };
    }
    if (this.isKeyword('IN')) {
      this.pos++;
      this.countOperator();
      const operand = this.asOperand(first);
      this.expectPunct('(');
      const list: Operand[] = [];
      for (;;) {
        list.push(this.asOperand(this.parseOperandOrCall(CONDITION_FUNCTIONS)));
        if (this.isPunct(',')) this.pos++;
        else break;
      }
      this.expectPunct(')');
      if (list.length > MAX_IN_OPERANDS)
        this.record(
          'inLimit',
          `The IN operator is provided with too many operands; number of operands: ${list.length}`,
        );
      return { type: 'in', operand, list };
    }
    if ('kind' in first) return this.conditionFromCall(first);
    this.fail();
  }

  private checkBetween(low: Operand, high: Operand): void {
    if (low.type !== 'value' || high.type !== 'value') return;
    if (this.staticType(low) === undefined || this.staticType(high) === undefined) return;
    const t1 = typeOf(low.value);
    const t2 = typeOf(high.value);
    const show = (t: string, v: AttributeValue) =>
      `AttributeValue: {${t}:${String((v as Record<string, unknown>)[t])}}`;
    const bounds = `lower bound operand: ${show(t1, low.value)}, upper bound operand: ${show(t2, high.value)}`;
    if (t1 !== t2) {
      this.record(
        'function',
        `The BETWEEN operator requires same data type for lower and upper bounds; ${bounds}`,
      );
    } else if ((compareScalars(low.value, high.value) ?? 0) > 0) {
      this.record(
        'function',
        `The BETWEEN operator requires upper bound to be greater than or equal to lower bound; ${bounds}`,
      );
    }
  }

  private conditionFromCall(call: Call): Condition {
    const name = call.name;
    const TRUE: Condition = { type: 'true' };
    if (name === 'size') {
      this.record(
        'misusedFunction',
        'The function is not allowed to be used this way in an expression; function: size',
      );
      return TRUE;
    }
    const args = call.args.map((a) => this.asOperand(a));
    if (!this.checkArgCount(name, args, CONDITION_FUNCTIONS, 'operand')) return TRUE;
    if (args.length === 2) this.checkDistinct(name, args[0], args[1]);
    const needPath = () => {
      if (args[0].type !== 'path') {
        this.record(
          'function',
          `Operator or function requires a document path; operator or function: ${name}`,
        );
        return false;
      }
      return true;
    };
    switch (name) {
      case 'attribute_exists':
      case 'attribute_not_exists':
        if (!needPath()) return TRUE;
        return { type: name, path: (args[0] as { path: DocPath }).path };
      case 'attribute_type': {
        if (!needPath()) return TRUE;
        const t = this.staticType(args[1]);
        if (args[1].type !== 'value' || t !== 'S') {
          if (t !== undefined || args[1].type !== 'value')
            this.record(
              'function',
              `Incorrect operand type for operator or function; operator or function: attribute_type, operand type: ${t ?? 'M'}`,
            );
        } else {
          const typeName = (args[1].value as { S: string }).S;
          if (!(ATTRIBUTE_TYPES as readonly string[]).includes(typeName))
            this.record(
              'function',
              `Invalid attribute type name found; type: ${typeName}, valid types: ${TYPE_LIST}`,
            );
        }
        return { type: 'attribute_type', path: (args[0] as { path: DocPath }).path, attrType: args[1] };
      }
      case 'begins_with':
        for (const a of args) {
          const t = this.staticType(a);
          if (t !== undefined && t !== 'S' && t !== 'B')
            this.record(
              'function',
              `Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${t}`,
            );
        }
        return { type: 'begins_with', operand: args[0], prefix: args[1] };
      case 'contains':
        return { type: 'contains', operand: args[0], value: args[1] };
    }
    return TRUE;
  }

  // ---- update ----
  parseUpdate(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    if (this.peek().type === 'eof') this.fail();
    while (this.peek().type !== 'eof') {
      const kw = this.peek();
      const section = kw.type === 'ident' ? kw.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(section)) this.fail();
      this.pos++;
      if (seen.has(section))
        this.record('section', `The "${section}" section can only be used once in an update expression;`);
      seen.add(section);
      for (;;) {
        actions.push(this.parseAction(section as UpdateAction['type']));
        if (this.isPunct(',')) this.pos++;
        else break;
      }
    }
    return actions;
  }

  private addTarget(path: DocPath): void {
    for (const other of this.targetPaths) {
      let conflict = false;
      let i = 0;
      for (; i < other.length && i < path.length; i++) {
        if (typeof other[i] !== typeof path[i]) {
          conflict = true;
          break;
        }
        if (other[i] !== path[i]) break;
      }
      const shown = `must remove or rewrite one of these paths; path one: ${pathToString(other)}, path two: ${pathToString(path)}`;
      if (conflict) this.record('pathConflict', `Two document paths conflict with each other; ${shown}`);
      else if (i === Math.min(other.length, path.length))
        this.record('pathOverlap', `Two document paths overlap with each other; ${shown}`);
    }
    this.targetPaths.push(path);
  }

  private parseAction(type: UpdateAction['type']): UpdateAction {
    const path = this.parsePath();
    this.addTarget(path);
    if (type === 'REMOVE') return { type, path };
    if (type === 'SET') {
      this.expectPunct('=');
      return { type, path, value: this.parseSetValue() };
    }
    // ADD / DELETE take a path and one value placeholder.
    if (this.peek().type !== 'value') this.fail();
    const v = this.parseValueRef();
    const t = this.staticType(v);
    const names: Record<string, string> = {
      S: 'STRING',
      N: 'NUMBER',
      B: 'BINARY',
      NULL: 'NULL',
      BOOL: 'BOOLEAN',
      L: 'LIST',
      M: 'MAP',
    };
    if (t !== undefined && names[t] && !(type === 'ADD' && t === 'N'))
      this.record(
        'operand',
        `Incorrect operand type for operator or function; operator: ${type}, operand type: ${names[t]}`,
      );
    return { type, path, value: (v as { value: AttributeValue }).value };
  }

  private parseSetValue(): SetValue {
    const left = this.parseSetOperand();
    if (this.isPunct('+') || this.isPunct('-')) {
      const op = this.advance().text;
      this.countOperator();
      const right = this.parseSetOperand();
      for (const side of [left, right]) {
        const t = this.setValueType(side);
        if (t !== undefined && t !== 'N')
          this.record(
            'function',
            `Incorrect operand type for operator or function; operator or function: ${op}, operand type: ${t}`,
          );
      }
      return { type: op === '+' ? 'plus' : 'minus', left, right };
    }
    return left;
  }

  private setValueType(v: SetValue): string | undefined {
    if (v.type === 'operand') return this.staticType(v.operand);
    if (v.type === 'plus' || v.type === 'minus') return 'N';
    if (v.type === 'list_append') return 'L';
    return undefined;
  }

  private parseSetOperand(): SetValue {
    const t = this.peek();
    if (this.isPunct('(')) {
      this.pos++;
      const inner = this.parseSetValue();
      this.expectPunct(')');
      return inner;
    }
    if (t.type === 'value') return { type: 'operand', operand: this.parseValueRef() };
    if (t.type === 'ident' && this.isPunct('(', 1)) {
      this.pos += 2;
      const args: SetValue[] = [];
      if (!this.isPunct(')')) {
        for (;;) {
          args.push(this.parseSetValue());
          if (this.isPunct(',')) this.pos++;
          else break;
        }
      }
      this.expectPunct(')');
      this.countOperator();
      const name = t.text;
      const bad: SetValue = { type: 'operand', operand: { type: 'value', value: PLACEHOLDER_VALUE } };
      if (!(name in UPDATE_FUNCTIONS)) {
        this.record('unknownFunction', `Invalid function name; function: ${name}`);
        return bad;
      }
      if (!this.checkArgCount(name, args, UPDATE_FUNCTIONS, 'function')) return bad;
      if (name === 'if_not_exists') {
        const first = args[0];
        if (first.type !== 'operand' || first.operand.type !== 'path') {
          this.record(
            'function',
            `Operator or function requires a document path; operator or function: ${name}`,
          );
          return bad;
        }
        return { type: 'if_not_exists', path: first.operand.path, fallback: args[1] };
      }
      for (const a of args) {
        const at = a.type === 'operand' ? this.staticType(a.operand) : this.setValueType(a);
        if (at !== undefined && at !== 'L')
          this.record(
            'function',
            `Incorrect operand type for operator or function; operator or function: list_append, operand type: ${at}`,
          );
      }
      return { type: 'list_append', first: args[0], second: args[1] };
    }
    if (t.type === 'ident' || t.type === 'name')
      return { type: 'operand', operand: { type: 'path', path: this.parsePath() } };
    this.fail();
  }

  // ---- projection ----
  parseProjection(): DocPath[] {
    const paths: DocPath[] = [];
    for (;;) {
      const p = this.parsePath();
      this.addTarget(p);
      paths.push(p);
      if (this.isPunct(',')) this.pos++;
      else break;
    }
    this.expectEnd();
    return paths;
  }
}

function run<T>(src: string, tracker: ExpressionTracker, order: Category[], body: (p: Parser) => T): T {
  if (src === '') throw new ExpressionError('The expression can not be empty;');
  const p = new Parser(src, tracker, order);
  const out = body(p);
  p.finish();
  return out;
}

export function parseConditionExpression(src: string, tracker: ExpressionTracker): Condition {
  return run(src, tracker, CONDITION_ORDER, (p) => p.parseCondition());
}

export function parseUpdateExpression(src: string, tracker: ExpressionTracker): UpdateAction[] {
  return run(src, tracker, UPDATE_ORDER, (p) => p.parseUpdate());
}

export function parseProjectionExpression(src: string, tracker: ExpressionTracker): DocPath[] {
  return run(src, tracker, PROJECTION_ORDER, (p) => p.parseProjection());
}
