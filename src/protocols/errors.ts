/**
 * The one error type every service throws. The wire protocols turn it into the exact shape
 * each AWS client parses (`__type` for JSON, `x-amzn-ErrorType` for REST-JSON,
 * `<ErrorResponse>` for Query). Anything else thrown becomes `InternalFailure` (HTTP 500)
 * with its cause logged, never shown to the client.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    /** The AWS error code, e.g. `ResourceNotFoundException`. */
    readonly code: string,
    message: string,
    /** HTTP status of the reply. */
    readonly status = 400,
    /** `Sender` (the client's fault) or `Receiver` (ours). */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
    /** Extra members some errors carry (e.g. Lambda's `Type`, `Reason`, DynamoDB's `CancellationReasons`). */
    readonly extra: Record<string, unknown> = {},
    /** Extra reply headers (e.g. `Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function isAwsError(e: unknown): e is AwsError {
  return e instanceof AwsError;
}

/** Wraps anything thrown into an AwsError; unknown errors become InternalFailure (500). */
export function toAwsError(e: unknown): AwsError {
  if (e instanceof AwsError) return e;
  return new AwsError(
    'InternalFailure',
    'The request processing has failed because of an unknown error.',
    500,
  );
}

// Errors shared by every service (the AWS "common errors" list).
export const commonErrors = {
  validation: (message: string) => new AwsError('ValidationException', message, 400),
  missingAction: () => new AwsError('MissingAction', 'The request must contain the parameter Action.', 400),
  invalidAction: (action: string) =>
    new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`, 400),
  unknownOperation: () => new AwsError('UnknownOperationException', '', 400),
  serializationError: (message = 'Start of structure or map found where not expected.') =>
    new AwsError('SerializationException', message, 400),
  missingAuthenticationToken: () =>
    new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403),
  incompleteSignature: (message: string) => new AwsError('IncompleteSignatureException', message, 403),
  invalidSignature: () =>
    new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      403,
    ),
  unrecognizedClient: () =>
    new AwsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
      403,
    ),
  signatureExpired: (message: string) => new AwsError('InvalidSignatureException', message, 403),
  internal: () =>
    new AwsError('InternalFailure', 'The request processing has failed because of an unknown error.', 500),
};
