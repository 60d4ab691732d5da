import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../types/attribute-value.js';
import {
  applyUpdate,
  assertNoMixedParameters,
  attributeUpdatesToActions,
  attributesToGetToPaths,
  evaluateCondition,
  expectedToCondition,
  filterToCondition,
  keyConditionsToAst,
  project,
} from './index.js';

const item: Item = { id: { S: 'a' }, n: { N: '5' }, tags: { SS: ['x', 'y'] }, s: { S: 'hello' } };
const msg = (message: string) => ({ code: 'ValidationException', message });

test('Expected: Value/Exists forms and ComparisonOperator forms', () => {
  const ok: [Record<string, object>, string | undefined, boolean][] = [
    [{ n: { Value: { N: '5.0' } } }, undefined, true],
    [{ n: { Value: { N: '6' }, Exists: true } }, undefined, false],
    [{ zz: { Exists: false } }, undefined, true],
    [{ n: { Exists: false } }, undefined, false],
    [{ n: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '4' }] } }, undefined, true],
    [{ n: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, undefined, true],
    [{ n: { ComparisonOperator: 'IN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, undefined, true],
    [{ n: { ComparisonOperator: 'NE', Value: { N: '5' } } }, undefined, false],
    [{ zz: { ComparisonOperator: 'NULL' } }, undefined, true],
    [{ n: { ComparisonOperator: 'NOT_NULL' } }, undefined, true],
    [{ tags: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ S: 'x' }] } }, undefined, true],
    [{ tags: { ComparisonOperator: 'NOT_CONTAINS', AttributeValueList: [{ S: 'x' }] } }, undefined, false],
    [{ s: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ S: 'he' }] } }, undefined, true],
    [{ n: { Value: { N: '5' } }, s: { Value: { S: 'nope' } } }, 'AND', false],
    [{ n: { Value: { N: '5' } }, s: { Value: { S: 'nope' } } }, 'OR', true],
    [{}, undefined, true],
  ];
  for (const [expected, op, want] of ok)
    assert.equal(evaluateCondition(expectedToCondition(expected, op), item), want, JSON.stringify(expected));
});

test('Expected validation messages', () => {
  const bad: [Record<string, object>, string][] = [
    [
      { a: {} },
      'One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a',
    ],
    [
      { a: { Exists: true } },
      'One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a',
    ],
    [
      { a: { Exists: false, Value: { S: 'x' } } },
      'One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a',
    ],
    [
      { a: { Value: { S: 'x' }, AttributeValueList: [] } },
      'One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: a',
    ],
    [
      { a: { Exists: true, ComparisonOperator: 'EQ' } },
      'One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a',
    ],
    [
      { a: { ComparisonOperator: 'EQ' } },
      'One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a',
    ],
    [
      { a: { AttributeValueList: [{ S: 'x' }] } },
      'One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: a',
    ],
    [
      { a: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'x' }, { S: 'y' }] } },
      'One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator',
    ],
    [
      { a: { ComparisonOperator: 'IN', AttributeValueList: [{ S: 'x' }, { N: '1' }] } },
      'One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type',
    ],
    [
      { a: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '2' }, { N: '1' }] } },
      'The BETWEEN condition was provided a range where the lower bound is greater than the upper bound',
    ],
    [
      { a: { Value: { SS: [] } } },
      'One or more parameter values were invalid: An string set  may not be empty',
    ],
  ];
  for (const [expected, message] of bad)
    assert.throws(() => expectedToCondition(expected), msg(message), message);
});

test('QueryFilter / ScanFilter check operand types', () => {
  const c = filterToCondition(
    {
      n: { ComparisonOperator: 'LT', AttributeValueList: [{ N: '10' }] },
      s: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'x' }] },
    },
    'OR',
  );
  assert.equal(evaluateCondition(c, item), true);
  assert.throws(
    () => filterToCondition({ n: { ComparisonOperator: 'LT', AttributeValueList: [{ SS: ['a'] }] } }),
    msg(
      'One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type',
    ),
  );
  assert.throws(
    () => filterToCondition({ n: { ComparisonOperator: 'NULL', AttributeValueList: [{ S: 'a' }] } }),
    msg(
      'One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator',
    ),
  );
});

test('KeyConditions convert to the key condition AST with schema checks', () => {
  const schema = { hash: 'pk', range: 'sk' };
  assert.deepEqual(
    keyConditionsToAst(
      {
        pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'a' }] },
        sk: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ S: 'b' }] },
      },
      schema,
    ),
    {
      hash: { name: 'pk', value: { S: 'a' } },
      range: { name: 'sk', op: 'BEGINS_WITH', values: [{ S: 'b' }] },
    },
  );
  assert.throws(
    () => keyConditionsToAst({ sk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'a' }] } }, schema),
    msg('Query condition missed key schema element: pk'),
  );
  assert.throws(
    () => keyConditionsToAst({ pk: { ComparisonOperator: 'GT', AttributeValueList: [{ S: 'a' }] } }, schema),
    msg('Query key condition not supported'),
  );
});

test('AttributeUpdates: PUT, ADD (numbers, sets, lists), DELETE (attribute or set members)', () => {
  const actions = attributeUpdatesToActions({
    s: { Action: 'PUT', Value: { S: 'bye' } },
    n: { Action: 'ADD', Value: { N: '-1.5' } },
    tags: { Action: 'DELETE', Value: { SS: ['x'] } },
    id: { Action: 'DELETE' },
    l: { Action: 'ADD', Value: { L: [{ N: '1' }] } },
    fresh: { Value: { N: '1' } },
  });
  assert.deepEqual(applyUpdate(actions, item).item, {
    n: { N: '3.5' },
    tags: { SS: ['y'] },
    s: { S: 'bye' },
    l: { L: [{ N: '1' }] },
    fresh: { N: '1' },
  });
  assert.throws(
    () => attributeUpdatesToActions({ a: { Action: 'PUT' } }),
    // No ": a" suffix: only the DAX client appends the name; the service does not (dynalite
    // test/updateItem.js, DynamoDB Local).
    msg(
      'One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified',
    ),
  );
  assert.throws(
    () => attributeUpdatesToActions({ a: { Action: 'ADD', Value: { S: 'x' } } }),
    msg('One or more parameter values were invalid: ADD action is not supported for the type S'),
  );
  assert.throws(
    () => attributeUpdatesToActions({ a: { Action: 'DELETE', Value: { S: 'x' } } }),
    msg(
      'One or more parameter values were invalid: DELETE action with value is not supported for the type S',
    ),
  );
});

test('AttributesToGet projects top-level attributes; duplicates rejected', () => {
  assert.deepEqual(project(item, attributesToGetToPaths(['id', 'zz', 'n'])), {
    id: { S: 'a' },
    n: { N: '5' },
  });
  assert.throws(
    () => attributesToGetToPaths(['a', 'a']),
    msg('One or more parameter values were invalid: Duplicate value in attribute name: a'),
  );
});

test('mixing legacy and expression parameters is refused with the exact message', () => {
  const exprs = ['UpdateExpression', 'ConditionExpression'];
  const legacy = ['AttributeUpdates', 'Expected'];
  assert.throws(
    () =>
      assertNoMixedParameters(
        { UpdateExpression: 'SET a = :a', Expected: {}, AttributeUpdates: {} },
        exprs,
        legacy,
      ),
    msg(
      'Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates, Expected} Expression parameters: {UpdateExpression}',
    ),
  );
  assert.throws(
    () => assertNoMixedParameters({ ExpressionAttributeNames: { '#a': 'a' } }, exprs, legacy),
    msg('ExpressionAttributeNames can only be specified when using expressions'),
  );
  assert.throws(
    () => assertNoMixedParameters({ ExpressionAttributeValues: { ':a': { S: 'a' } } }, exprs, legacy),
    msg(
      'ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null',
    ),
  );
  assert.doesNotThrow(() => assertNoMixedParameters({ UpdateExpression: 'SET a = :a' }, exprs, legacy));
});
