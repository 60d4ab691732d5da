import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permissionViolations, principalElement, statementOf } from './policy.js';

test('principals are written as Lambda writes them', () => {
  assert.equal(principalElement('*'), '*');
  assert.deepEqual(principalElement('123456789012'), { AWS: 'arn:aws:iam::123456789012:root' });
  assert.deepEqual(principalElement('arn:aws:iam::123456789012:role/r'), {
    AWS: 'arn:aws:iam::123456789012:role/r',
  });
  assert.deepEqual(principalElement('sqs.amazonaws.com'), { Service: 'sqs.amazonaws.com' });
});

test('statement conditions come from the optional members', () => {
  const st = statementOf(
    {
      StatementId: 'a',
      Action: 'lambda:InvokeFunction',
      Principal: 'alexa-appkit.amazon.com',
      EventSourceToken: 'tok',
      PrincipalOrgID: 'o-abc',
    },
    'arn:aws:lambda:us-east-1:000000000000:function:f',
  );
  assert.deepEqual(st.Condition, {
    StringEquals: { 'lambda:EventSourceToken': 'tok', 'aws:PrincipalOrgID': 'o-abc' },
  });
  const plain = statementOf({ StatementId: 'b', Action: '*', Principal: '*' }, 'r');
  assert.equal(plain.Condition, undefined);
});

test('validation lists every violation with Lambda member names', () => {
  assert.deepEqual(permissionViolations({}, false), [
    "Value null at 'statementId' failed to satisfy constraint: Member must not be null",
    "Value null at 'action' failed to satisfy constraint: Member must not be null",
    "Value null at 'principal' failed to satisfy constraint: Member must not be null",
  ]);
  assert.equal(
    permissionViolations({ StatementId: 's', Action: 'lambda:InvokeFunction', Principal: '*' }, true).length,
    1,
  );
  assert.equal(
    permissionViolations(
      { StatementId: 's', Action: 'lambda:InvokeFunction', Principal: '*', FunctionUrlAuthType: 'X' },
      false,
    ).length,
    1,
  );
});
