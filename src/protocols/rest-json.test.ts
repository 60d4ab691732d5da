import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestRouter, encodeRestBody, encodeRestJsonError } from './rest-json.js';
import { AwsError } from './errors.js';

test('routes match literal segments, {Name} and greedy {Name+}, URL-decoded', () => {
  const r = new RestRouter<string>();
  r.add('GET', '/2015-03-31/functions/{FunctionName}', 'GetFunction');
  r.add('POST', '/2015-03-31/functions/{FunctionName}/invocations', 'Invoke');
  r.add('GET', '/2015-03-31/functions/{FunctionName}/configuration', 'GetFunctionConfiguration');
  r.add('GET', '/2015-03-31/functions/', 'ListFunctions');
  r.add('GET', '/2017-03-31/tags/{ARN+}', 'ListTags');
  r.add('GET', '/2015-03-31/functions/latest/configuration', 'LiteralWins');

  assert.deepEqual(r.match('GET', '/2015-03-31/functions/my%3Afn'), {
    route: 'GetFunction',
    params: { FunctionName: 'my:fn' },
  });
  assert.equal(r.match('POST', '/2015-03-31/functions/f/invocations')?.route, 'Invoke');
  assert.equal(r.match('GET', '/2015-03-31/functions/f/invocations'), undefined);
  assert.equal(r.match('GET', '/2015-03-31/functions/f/configuration')?.route, 'GetFunctionConfiguration');
  assert.equal(r.match('GET', '/2015-03-31/functions/latest/configuration')?.route, 'LiteralWins');
  assert.equal(r.match('GET', '/2015-03-31/functions/')?.route, 'ListFunctions');
  assert.equal(r.match('GET', '/2015-03-31/functions')?.route, 'ListFunctions');
  assert.deepEqual(r.match('GET', '/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Ax/y'), {
    route: 'ListTags',
    params: { ARN: 'arn:aws:lambda:us-east-1:0:function:x/y' },
  });
  assert.equal(r.match('GET', '/2017-03-31/tags/'), undefined);
  assert.equal(r.match('GET', '/nothing'), undefined);
  assert.ok(r.hasPath('/2015-03-31/functions/f/invocations'));
  assert.equal(r.size, 6);
});

test('a route starting with a parameter is still found', () => {
  const r = new RestRouter<string>();
  r.add('PUT', '/{Bucket}/{Key+}', 'PutObject');
  assert.deepEqual(r.match('PUT', '/b/a/b%20c'), {
    route: 'PutObject',
    params: { Bucket: 'b', Key: 'a/b c' },
  });
});

test('REST-JSON errors carry x-amzn-ErrorType and Type User|Service', () => {
  const e = encodeRestJsonError(
    new AwsError('ResourceNotFoundException', 'Function not found: x', 404, 'Sender', { Reason: 'r' }),
  );
  assert.equal(e.status, 404);
  assert.equal(e.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  assert.equal(e.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(e.body as string), {
    Type: 'User',
    message: 'Function not found: x',
    Reason: 'r',
  });
  const s = encodeRestJsonError(new AwsError('ServiceException', 'x', 500));
  assert.equal(JSON.parse(s.body as string).Type, 'Service');
});

test('encodeRestBody sends buffers and strings as is and objects as JSON', () => {
  assert.deepEqual(encodeRestBody(undefined, {}), { body: '', headers: {} });
  assert.equal(encodeRestBody('raw', {}).body, 'raw');
  const j = encodeRestBody({ a: 1 }, {});
  assert.equal(j.body, '{"a":1}');
  assert.equal(j.headers['content-type'], 'application/json');
  assert.equal(encodeRestBody({}, { 'Content-Type': 'x/y' }).headers['Content-Type'], 'x/y');
});
