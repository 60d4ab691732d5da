import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeJavaScript, jsonPath, renderTemplate, TemplateJsonError, type TemplateInput } from './vtl.js';

const input = (body: string, extra: Partial<TemplateInput> = {}): TemplateInput => ({
  body,
  request: { path: { id: 'p1' }, querystring: { q: 'find me' }, header: { 'X-Agent': 'curl' } },
  context: { requestId: 'r-1', identity: { sourceIp: '127.0.0.1' } },
  stageVariables: { env: 'dev' },
  ...extra,
});

test('jsonPath: names, brackets, indexes, wildcards', () => {
  const doc = { a: { b: [{ c: 1 }, { c: 2 }], 'x y': true }, n: null };
  assert.deepEqual(jsonPath(doc, '$'), doc);
  assert.equal(jsonPath(doc, '$.a.b[1].c'), 2);
  assert.equal(jsonPath(doc, "$.a['x y']"), true);
  assert.equal(jsonPath(doc, '$.a.b[-1].c'), 2);
  assert.deepEqual(jsonPath(doc, '$.a.b[*].c'), [1, 2]);
  assert.equal(jsonPath(doc, '$.n'), null);
  assert.equal(jsonPath(doc, '$.missing.deeper'), undefined);
  assert.equal(jsonPath(doc, 'a.b'), undefined, 'a path must start at $');
});

test('escapeJavaScript escapes quotes, slashes, controls and non-ASCII', () => {
  assert.equal(escapeJavaScript(`a"b'c\\d/e\nf\tg`), `a\\"b\\'c\\\\d\\/e\\nf\\tg`);
  assert.equal(escapeJavaScript('é€'), '\\u00E9\\u20AC');
});

test('templates read $input, $util, $context and $stageVariables', () => {
  const out = renderTemplate(
    [
      "#set($b = $input.path('$'))",
      '{"id":"$input.params(\'id\')","q":"$input.params(\'q\')","h":"$input.params(\'x-agent\')",',
      '"none":"$input.params(\'nope\')","n":$input.json(\'$.items[0]\'),"size":$b.items.size(),',
      '"ip":"$context.identity.sourceIp","rid":"$context.requestId","env":"$stageVariables.env",',
      '"enc":"$util.urlEncode(\'a b&c\')","b64":"$util.base64Encode(\'hi\')","dec":"$util.base64Decode(\'aGk=\')",',
      '"parsed":"$util.parseJson(\'{"k":"v"}\').k","missing":"$context.authorizer.claims.sub",',
      '"headers":[#foreach($h in $input.params().header.keySet())"$h"#end]}',
    ].join(''),
    input('{"items":[{"x":1},{"x":2}]}'),
  );
  assert.deepEqual(JSON.parse(out), {
    id: 'p1',
    q: 'find me',
    h: 'curl',
    none: '',
    n: { x: 1 },
    size: 2,
    ip: '127.0.0.1',
    rid: 'r-1',
    env: 'dev',
    enc: 'a+b%26c',
    b64: 'aGk=',
    dec: 'hi',
    parsed: 'v',
    missing: '',
    headers: ['X-Agent'],
  });
});

test('a response template can override the status and headers', () => {
  const override = { headers: {} as Record<string, string> };
  const out = renderTemplate(
    '#set($context.responseOverride.status = 409)#set($context.responseOverride.header.X-Reason = "taken")done',
    input(''),
    override,
  );
  assert.equal(out, 'done');
  assert.deepEqual(override, { status: 409, headers: { 'x-reason': 'taken' } });
});

test('a body that is not JSON fails only where the template reads it as JSON', () => {
  assert.equal(renderTemplate('raw=$input.body', input('{nope')), 'raw={nope');
  assert.throws(() => renderTemplate("$input.json('$')", input('{nope')), TemplateJsonError);
  assert.equal(renderTemplate("$input.json('$')", input('')), '{}', 'an empty body reads as {}');
  assert.equal(renderTemplate("[$input.json('$.x')][$input.path('$.x')]", input('{}')), '[""][]');
});

test('strings have the Java methods templates use', () => {
  const out = renderTemplate(
    "#set($t = 'com.amazonaws.x#NotFound')$t.replaceAll('.*#', '')|$t.replaceFirst('a', 'A')|$t.matches('com\\..*')|$t.length()|$t.split('#')[1]|$t.contains('x#')|#set($e = '')#if($e.isEmpty())e#end|$t.equalsIgnoreCase('COM.AMAZONAWS.X#NOTFOUND')",
    input(''),
  );
  assert.equal(out, 'NotFound|com.Amazonaws.x#NotFound|true|24|NotFound|true|e|true');
});
