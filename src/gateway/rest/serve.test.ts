import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, match, restEvent } from './serve.js';
import type { MethodRecord, ResourceRecord } from './model.js';

const m = (httpMethod: string): MethodRecord => ({
  httpMethod,
  authorizationType: 'NONE',
  apiKeyRequired: false,
});

const resources: ResourceRecord[] = [
  { id: 'root', path: '/', resourceMethods: { GET: m('GET') } },
  { id: 'items', parentId: 'root', pathPart: 'items', path: '/items' },
  {
    id: 'item',
    parentId: 'items',
    pathPart: '{id}',
    path: '/items/{id}',
    resourceMethods: { GET: m('GET') },
  },
  { id: 'new', parentId: 'items', pathPart: 'new', path: '/items/new', resourceMethods: { ANY: m('ANY') } },
  {
    id: 'proxy',
    parentId: 'root',
    pathPart: '{proxy+}',
    path: '/{proxy+}',
    resourceMethods: { ANY: m('ANY') },
  },
];
const root = buildTree(resources);
const find = (method: string, path: string) => {
  const r = match(root, path === '/' ? [] : path.split('/').slice(1), method);
  return r && { id: r.res.id, method: r.method.httpMethod, params: r.params };
};

test('resource matching: literal beats {param} beats {proxy+}; a method beats ANY', () => {
  assert.deepEqual(find('GET', '/'), { id: 'root', method: 'GET', params: {} });
  assert.deepEqual(find('GET', '/items/new'), { id: 'new', method: 'ANY', params: {} });
  assert.deepEqual(find('GET', '/items/a%20b'), { id: 'item', method: 'GET', params: { id: 'a b' } });
  // A dead end below a literal falls back to the greedy resource.
  assert.deepEqual(find('GET', '/items/1/x'), { id: 'proxy', method: 'ANY', params: { proxy: 'items/1/x' } });
  assert.deepEqual(find('POST', '/a/b'), { id: 'proxy', method: 'ANY', params: { proxy: 'a/b' } });
});

test('a matched resource without the method is no match (403 Missing Authentication Token)', () => {
  assert.equal(find('GET', '/items'), undefined);
  assert.equal(find('DELETE', '/items/1'), undefined);
  assert.equal(find('POST', '/'), undefined);
});

test('the REST proxy event: no version, stage-less path, identity api key', () => {
  const ev = restEvent(
    {
      method: 'GET',
      rawPath: '/prod/items/1',
      rawQueryString: 'a=1&a=2',
      rawHeaders: ['Host', 'x.execute-api.us-east-1.amazonaws.com', 'User-Agent', 'ua'],
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
      domainName: 'x.execute-api.us-east-1.amazonaws.com',
      requestId: 'rid',
      timeEpoch: 1589522469693,
    },
    {
      accountId: '000000000000',
      apiId: 'x',
      stage: 'prod',
      resourceId: 'item',
      resourcePath: '/items/{id}',
      path: '/items/1',
      pathParameters: { id: '1' },
      stageVariables: {},
      authorizer: { principalId: 'p' },
    },
  );
  assert.equal(ev.version, undefined);
  assert.equal(ev.resource, '/items/{id}');
  assert.equal(ev.path, '/items/1');
  assert.deepEqual(ev.queryStringParameters, { a: '2' });
  assert.deepEqual(ev.multiValueQueryStringParameters, { a: ['1', '2'] });
  assert.equal(ev.stageVariables, null);
  const rc = ev.requestContext as Record<string, any>;
  assert.equal(rc.path, '/prod/items/1');
  assert.equal(rc.resourceId, 'item');
  assert.equal(rc.resourcePath, '/items/{id}');
  assert.equal(rc.requestTime, '15/May/2020:06:01:09 +0000');
  assert.deepEqual(rc.authorizer, { principalId: 'p' });
  assert.equal(rc.identity.apiKey, null);
  assert.equal(rc.identity.apiKeyId, null);
});
