/** SNS errors as the query protocol carries them (`<Error><Code>`), which `error.name` shows in the SDKs. */
import { AwsError } from '../../platform/aws/aws-error.js';

const bad = (code: string, message: string) => new AwsError(400, code, message);

export const snsErrors = {
  topicNotFound: () => new AwsError(404, 'NotFound', 'Topic does not exist'),
  subscriptionNotFound: () => new AwsError(404, 'NotFound', 'Subscription does not exist'),
  invalidParameter: (message: string) => bad('InvalidParameter', `Invalid parameter: ${message}`),
  missingParameter: (name: string) =>
    bad('InvalidParameter', `Invalid parameter: ${name} Reason: cannot be empty`),
  tooLong: () => bad('InvalidParameter', 'Invalid parameter: Message too long'),
  tooManyEntries: () =>
    bad(
      'TooManyEntriesInBatchRequest',
      'The batch request contains more entries than permissible.',
    ),
  emptyBatch: () => bad('EmptyBatchRequest', 'The batch request does not contain any entries.'),
  idsNotDistinct: () =>
    bad('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.'),
  invalidBatchEntryId: () =>
    bad(
      'InvalidBatchEntryId',
      'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
    ),
  batchTooLong: () =>
    bad(
      'BatchRequestTooLong',
      'The length of all the messages put together is more than the limit.',
    ),
  invalidAction: (action: string) =>
    bad('InvalidAction', `The action ${action} is not valid for this endpoint.`),
  unsupportedOperation: (action: string) =>
    bad('InvalidAction', `${action} is not supported by Nimbus.`),
};
