import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from './imports.js';

test('CSV records: quoted delimiters, doubled quotes, CRLF, newlines inside quotes, other delimiters', () => {
  assert.deepEqual(parseCsv('id,name\r\n1,"Smith, Ann"\r\n2,"say ""hi"""\n3,"two\nlines"\n', ','), [
    ['id', 'name'],
    ['1', 'Smith, Ann'],
    ['2', 'say "hi"'],
    ['3', 'two\nlines'],
  ]);
  assert.deepEqual(parseCsv('a|b\n1|\n\n', '|'), [
    ['a', 'b'],
    ['1', ''],
  ]);
  assert.deepEqual(parseCsv('x,y', ','), [['x', 'y']]);
});
