import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPolicy } from './policies.js';

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

test('checkPolicy: a JSON object with statements that name a resource, up to 20 KB, answered minified', () => {
  const doc = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' } };
  assert.equal(checkPolicy(JSON.stringify(doc, null, 2)), JSON.stringify(doc));
  for (const bad of ['', 'null', '"x"', '{'])
    assert.match(
      message(() => checkPolicy(bad)),
      /This policy contains invalid Json$/,
    );
  assert.match(
    message(() => checkPolicy('{}')),
    /Statement is empty!$/,
  );
  assert.match(
    message(() => checkPolicy(null)),
    /Value null at 'policy' failed to satisfy constraint/,
  );
});
