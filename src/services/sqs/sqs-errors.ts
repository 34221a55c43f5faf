/**
 * SQS errors: the JSON protocol's code (`__type`) and the query protocol's code (also sent to
 * JSON clients in `x-amzn-query-error`, which is what `error.Code` shows in the SDKs).
 */
import type { SigV4ErrorType } from '../../platform/auth/sigv4.js';
import { AwsError } from '../../platform/aws/aws-error.js';

/** JSON code → query code, where they differ; every SQS error here is the sender's fault. */
const queryCodes: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
  AccessDeniedException: 'AccessDenied',
};

export function sqsQueryError(error: AwsError): { code: string; fault: 'Sender' | 'Receiver' } {
  return {
    code: queryCodes[error.awsCode] ?? error.awsCode,
    fault: error.status >= 500 ? 'Receiver' : 'Sender',
  };
}

const bad = (code: string, message: string) => new AwsError(400, code, message);

export const sqsErrors = {
  queueDoesNotExist: () =>
    bad('QueueDoesNotExist', 'The specified queue does not exist for this wsdl version.'),
  queueNameExists: (name: string) =>
    bad(
      'QueueNameExists',
      `A queue already exists with the same name (${name}) and a different value for an attribute.`,
    ),
  invalidAddress: (url: string) =>
    bad('InvalidAddress', `The address ${url} is not valid for this endpoint.`),
  invalidParameter: (message: string) => bad('InvalidParameterValue', message),
  missingParameter: (name: string) =>
    bad('MissingParameter', `The request must contain the parameter ${name}.`),
  invalidAttributeName: (name: string) => bad('InvalidAttributeName', `Unknown Attribute ${name}.`),
  invalidAttributeValue: (name: string, why: string) =>
    bad('InvalidAttributeValue', `Invalid value for the parameter ${name}. Reason: ${why}`),
  receiptHandleIsInvalid: (handle: string) =>
    bad(
      'ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
    ),
  invalidMessageContents: () =>
    bad(
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    ),
  messageNotInflight: () => bad('MessageNotInflight', 'The message is not in flight.'),
  tooManyEntries: (n: number) =>
    bad(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${n}.`,
    ),
  emptyBatch: () =>
    bad(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    ),
  idsNotDistinct: (id: string) => bad('BatchEntryIdsNotDistinct', `Id ${id} repeated.`),
  invalidBatchEntryId: () =>
    bad(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    ),
  batchTooLong: (limit: number) =>
    bad('BatchRequestTooLong', `Batch requests cannot be longer than ${limit} bytes.`),
  unsupportedOperation: (operation: string) =>
    bad('UnsupportedOperation', `${operation} is not supported by Nimbus.`),
  invalidAction: (action: string) =>
    bad('InvalidAction', `The action ${action} is not valid for this endpoint.`),
};

/** SigV4 failures as SQS names them. */
export function sqsAuthError(failure: { type: SigV4ErrorType; message: string }): AwsError {
  switch (failure.type) {
    case 'UnrecognizedClientException':
      return new AwsError(
        403,
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
      );
    case 'InvalidSignatureException':
      return new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    case 'MissingAuthenticationTokenException':
      return new AwsError(
        403,
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
      );
    default:
      return new AwsError(403, 'IncompleteSignature', failure.message);
  }
}
