/** The tokenizer shared by every expression grammar. */
import { ExpressionError } from './errors.js';

export type TokenType = 'ident' | 'name' | 'value' | 'int' | 'punct' | 'eof' | 'bad';

export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
}

const PUNCT1 = '()[],.=<>+-';

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const len = src.length;
  let i = 0;
  while (i < len) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < len && isWordChar(src.charCodeAt(i))) i++;
      out.push({ type: 'ident', text: src.slice(start, i), start, end: i });
    } else if (isDigit(c)) {
      let allDigits = true;
      while (i < len && isWordChar(src.charCodeAt(i))) {
        if (!isDigit(src.charCodeAt(i))) allDigits = false;
        i++;
      }
      out.push({ type: allDigits ? 'int' : 'bad', text: src.slice(start, i), start, end: i });
    } else if (c === 35 || c === 58) {
      // '#' name placeholder, ':' value placeholder
      i++;
      while (i < len && isWordChar(src.charCodeAt(i))) i++;
      const text = src.slice(start, i);
      out.push({ type: text.length === 1 ? 'bad' : c === 35 ? 'name' : 'value', text, start, end: i });
    } else if ((c === 60 || c === 62) && (src[i + 1] === '=' || (c === 60 && src[i + 1] === '>'))) {
      // <= >= <>
      i += 2;
      out.push({ type: 'punct', text: src.slice(start, i), start, end: i });
    } else if (PUNCT1.includes(src[i])) {
      i++;
      out.push({ type: 'punct', text: src[start], start, end: i });
    } else {
      i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      out.push({ type: 'bad', text: src.slice(start, i), start, end: i });
    }
  }
  out.push({ type: 'eof', text: '<EOF>', start: len, end: len });
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
