import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateConditions, parseTemplate, pseudoParameters } from './index.js';

const pseudo = pseudoParameters({
  accountId: '000000000000',
  region: 'us-east-1',
  stackName: 's',
  stackId: 'id',
});

test('conditions over parameters, pseudo parameters, mappings and other conditions', () => {
  const t = parseTemplate(`
Parameters:
  Stage: { Type: String }
Mappings:
  Env: { prod: { Alarms: 'true' }, dev: { Alarms: 'false' } }
Conditions:
  Both: !And [!Condition IsProd, !Condition InVirginia]
  IsProd: !Equals [!Ref Stage, prod]
  InVirginia: !Equals [!Ref AWS::Region, us-east-1]
  NotProd: !Not [!Condition IsProd]
  Either: !Or [!Condition NotProd, !Equals [a, b]]
  Alarms: !Equals [!FindInMap [Env, !Ref Stage, Alarms], 'true']
  Picked: !Equals [!If [IsProd, x, y], x]
Resources: { R: { Type: T } }
`);
  const ctx = { parameters: { Stage: 'prod' }, pseudo, mappings: t.Mappings! };
  assert.deepEqual(evaluateConditions(t, ctx), {
    IsProd: true,
    InVirginia: true,
    Both: true,
    NotProd: false,
    Either: false,
    Alarms: true,
    Picked: true,
  });
  const dev = evaluateConditions(t, { ...ctx, parameters: { Stage: 'dev' } });
  assert.equal(dev.Both, false);
  assert.equal(dev.Either, true);
  assert.equal(dev.Alarms, false);
  assert.deepEqual(evaluateConditions(parseTemplate('Resources: { R: { Type: T } }'), ctx), {});
});

test('circular conditions', () => {
  const t = parseTemplate(`
Conditions:
  A: !Not [!Condition B]
  B: !And [!Condition C, !Equals [x, x]]
  C: !Condition A
Resources: { R: { Type: T } }
`);
  assert.throws(() => evaluateConditions(t, { parameters: {}, pseudo, mappings: {} }), {
    name: 'TemplateError',
    message: 'Circular dependency between conditions: [A, B, C]',
  });
});

test('conditions cannot use resources and must be boolean operations', () => {
  const ctx = { parameters: {}, pseudo, mappings: {} };
  const t = parseTemplate(`
Conditions:
  A: !Equals [!Ref R, x]
Resources: { R: { Type: T } }
`);
  assert.throws(() => evaluateConditions(t, ctx), {
    message:
      'Template format error: Unresolved dependencies [R]. Cannot reference resources in the Conditions block of the template',
  });
  const notBool = parseTemplate('Conditions: { A: x }\nResources: { R: { Type: T } }');
  assert.throws(() => evaluateConditions(notBool, ctx), {
    message:
      'Template format error: Conditions can only be boolean operations on parameters and other conditions',
  });
  const unknown = parseTemplate('Conditions: { A: !Not [!Condition Nope] }\nResources: { R: { Type: T } }');
  assert.throws(() => evaluateConditions(unknown, ctx), {
    message: 'Template error: unresolved condition dependency Nope in Fn::Not',
  });
});
