import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateSelection, parseSelectionExpression } from './selection.js';

const select = (expr: string, body: string) => evaluateSelection(parseSelectionExpression(expr)!, body);

test('route selection expressions: accepted forms', () => {
  for (const ok of [
    '$request.body.action',
    '${request.body.action}',
    '${request.body.a.b}-v1',
    '$request.body',
  ])
    assert.ok(parseSelectionExpression(ok), ok);
  for (const bad of [
    '',
    'static',
    '\\$default',
    '$request.method',
    '${request.body.action',
    '$request.body.',
    '$',
  ])
    assert.equal(parseSelectionExpression(bad), undefined, bad);
});

test('route selection expressions: evaluated on the JSON body', () => {
  assert.equal(select('$request.body.action', '{"action":"send"}'), 'send');
  assert.equal(select('${request.body.a.b}-v1', '{"a":{"b":7}}'), '7-v1');
  assert.equal(select('\\$x-${request.body.k}', '{"k":true}'), '$x-true');
  // No value: the message goes to $default.
  assert.equal(select('$request.body.action', '{"other":1}'), undefined);
  assert.equal(select('$request.body.action', '{"action":null}'), undefined);
  assert.equal(select('$request.body.action', 'not json'), undefined);
  assert.equal(select('$request.body.a.b', '{"a":"text"}'), undefined);
});
