/**
 * Kinesis's error codes (docs/kinesis.md#errors), all HTTP 400 as Kinesis answers them; the
 * AWS JSON codec shapes them into `{"__type": ..., "message": ...}`.
 */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { AwsError } from '../../platform/aws/aws-error.js';

export const invalidArgument = (message: string) =>
  new AwsError(400, 'InvalidArgumentException', message);

/** A modelled constraint (length, range, pattern), in the words of AWS's validator. */
export const validation = (field: string, value: string, constraint: string) =>
  new AwsError(
    400,
    'ValidationException',
    `1 validation error detected: Value '${value.length > 64 ? `${value.slice(0, 64)}...` : value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export const streamNotFound = (name: string) =>
  new AwsError(
    400,
    'ResourceNotFoundException',
    `Stream ${name} under account ${NIMBUS_ACCOUNT_ID} not found.`,
  );

export const streamExists = (name: string) =>
  new AwsError(
    400,
    'ResourceInUseException',
    `Stream ${name} under account ${NIMBUS_ACCOUNT_ID} already exists.`,
  );

export const limitExceeded = (message: string) =>
  new AwsError(400, 'LimitExceededException', message);

export const expiredIterator = (message: string) =>
  new AwsError(400, 'ExpiredIteratorException', message);

export const throughputExceeded = (message: string) =>
  new AwsError(400, 'ProvisionedThroughputExceededException', message);
