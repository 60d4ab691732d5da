/** Expression errors: all ValidationException with DynamoDB's exact texts. */
import { AwsError } from '../../protocols/errors.js';

export type ExpressionKind =
  | 'ConditionExpression'
  | 'FilterExpression'
  | 'KeyConditionExpression'
  | 'UpdateExpression'
  | 'ProjectionExpression';

export function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

/** "Invalid <Kind>: <detail>". */
export function invalidExpression(kind: ExpressionKind, detail: string): AwsError {
  return validation(`Invalid ${kind}: ${detail}`);
}

/** Raised while parsing; the compile function prefixes it with "Invalid <Kind>: ". */
export class ExpressionError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

export const evalErrors = {
  incorrectType: () => validation('An operand in the update expression has an incorrect data type'),
  missingAttribute: () =>
    validation('The provided expression refers to an attribute that does not exist in the item'),
  invalidPath: () => validation('The document path provided in the update expression is invalid for update'),
};
