/**
 * SQS errors. SQS is "query compatible": over AWS JSON 1.0 the reply's `__type` is the Smithy
 * shape (`com.amazonaws.sqs#QueueDoesNotExist`) and `x-amzn-query-error` carries the legacy
 * Query code (`AWS.SimpleQueueService.NonExistentQueue;Sender`), from which the SDK picks the
 * exception class. The Query protocol (XML) answers with the legacy code only.
 */
import { AwsError } from '../../protocols/errors.js';

/** Builds an SQS error: `shape` is the Smithy error name, `queryCode` the legacy code. */
export function sqsError(shape: string, queryCode: string, message: string, status = 400): AwsError {
  const fault = status >= 500 ? 'Receiver' : 'Sender';
  return new AwsError(shape, message, status, fault, {}, { 'x-amzn-query-error': `${queryCode};${fault}` });
}

/** The legacy Query code of an SQS error (for the XML protocol). */
export function queryCodeOf(e: AwsError): string {
  const h = e.headers['x-amzn-query-error'];
  return h ? h.slice(0, h.indexOf(';')) : e.code;
}

export const errors = {
  queueDoesNotExist: () =>
    sqsError(
      'QueueDoesNotExist',
      'AWS.SimpleQueueService.NonExistentQueue',
      'The specified queue does not exist.',
    ),
  queueNameExists: (name: string) =>
    sqsError(
      'QueueNameExists',
      'QueueAlreadyExists',
      `A queue already exists with the same name and a different value for attribute(s) ${name}`,
    ),
  invalidAddress: () =>
    sqsError('InvalidAddress', 'InvalidAddress', 'The address is not valid for this endpoint.', 404),
  invalidParameterValue: (message: string) =>
    sqsError('InvalidParameterValueException', 'InvalidParameterValue', message),
  invalidAttributeName: (message: string) =>
    sqsError('InvalidAttributeName', 'InvalidAttributeName', message),
  invalidAttributeValue: (message: string) =>
    sqsError('InvalidAttributeValue', 'InvalidAttributeValue', message),
  missingParameter: (name: string) =>
    sqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`),
  receiptHandleIsInvalid: (handle: string) =>
    sqsError(
      'ReceiptHandleIsInvalid',
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      404,
    ),
  messageNotInflight: () =>
    sqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'Message is not in flight.'),
  emptyBatch: (what: string) =>
    sqsError(
      'EmptyBatchRequest',
      'AWS.SimpleQueueService.EmptyBatchRequest',
      `There should be at least one ${what} in the request.`,
    ),
  tooManyEntries: (n: number) =>
    sqsError(
      'TooManyEntriesInBatchRequest',
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${n}.`,
    ),
  idsNotDistinct: () =>
    sqsError(
      'BatchEntryIdsNotDistinct',
      'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    ),
  invalidBatchEntryId: () =>
    sqsError(
      'InvalidBatchEntryId',
      'AWS.SimpleQueueService.InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    ),
  batchTooLong: (size: number) =>
    sqsError(
      'BatchRequestTooLong',
      'AWS.SimpleQueueService.BatchRequestTooLong',
      `Batch requests cannot be longer than 262144 bytes. You have sent ${size} bytes.`,
    ),
  invalidMessageContents: (message: string) =>
    sqsError('InvalidMessageContents', 'InvalidMessageContents', message),
  purgeInProgress: (url: string) =>
    sqsError(
      'PurgeQueueInProgress',
      'AWS.SimpleQueueService.PurgeQueueInProgress',
      `Only one PurgeQueue operation on ${url.slice(url.lastIndexOf('/') + 1)} is allowed every 60 seconds.`,
      403,
    ),
  unsupported: (message: string) =>
    sqsError('UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', message),
  resourceNotFound: (message: string) =>
    sqsError('ResourceNotFoundException', 'ResourceNotFoundException', message, 404),
  overLimit: (message: string) => sqsError('OverLimit', 'OverLimit', message, 403),
};
