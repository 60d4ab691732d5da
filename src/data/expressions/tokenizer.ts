/** The tokenizer shared by every expression grammar. */
import { ExpressionError } from './errors.js';

export type TokenType = 'ident' | 'name' | 'value' | 'int' | 'punct' | 'eof' | 'bad';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
}

const PUNCT2 = ['<>', '<=', '>='];
const PUNCT1 = '()[],.=<>+-';
const WORD = /[A-Za-z0-9_]/;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && WORD.test(src[i])) i++;
      out.push({ type: 'ident', text: src.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(c)) {
      while (i < src.length && WORD.test(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ type: /^[0-9]+$/.test(text) ? 'int' : 'bad', text, start, end: i });
    } else if (c === '#' || c === ':') {
      i++;
      while (i < src.length && WORD.test(src[i])) i++;
      const text = src.slice(start, i);
      out.push({ type: text.length === 1 ? 'bad' : c === '#' ? 'name' : 'value', text, start, end: i });
    } else if (PUNCT2.includes(src.slice(i, i + 2))) {
      i += 2;
      out.push({ type: 'punct', text: src.slice(start, i), start, end: i });
    } else if (PUNCT1.includes(c)) {
      i++;
      out.push({ type: 'punct', text: c, start, end: i });
    } else {
      i += c.codePointAt(0)! > 0xffff ? 2 : 1;
      out.push({ type: 'bad', text: src.slice(start, i), start, end: i });
    }
  }
  out.push({ type: 'eof', text: '<EOF>', start: src.length, end: src.length });
  return out;
}

/** DynamoDB's syntax error: the offending token and the source from the token before to the one after. */
export function syntaxError(src: string, tokens: Token[], index: number): ExpressionError {
  const tok = tokens[index];
  const from = index > 0 ? tokens[index - 1].start : tok.start;
  const next = tokens[index + 1];
  const to = next ? next.end : tok.type === 'eof' && index > 0 ? tokens[index - 1].end : tok.end;
  return new ExpressionError(`Syntax error; token: "${tok.text}", near: "${src.slice(from, to)}"`);
}
