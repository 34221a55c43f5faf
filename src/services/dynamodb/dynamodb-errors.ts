/** DynamoDB's refusals, with the messages DynamoDB sends. */
import { AwsError } from '../../platform/aws/aws-error.js';
import { AwsJsonError } from '../../platform/aws/protocols/aws-json.js';
import type { Item } from './attribute-value.js';

export function validation(message: string): AwsError {
  return new AwsError(400, 'ValidationException', message);
}

/** `One or more parameter values were invalid: ...`, the prefix DynamoDB puts on most of them. */
export function invalidParameter(detail: string): AwsError {
  return validation(`One or more parameter values were invalid: ${detail}`);
}

export function tableNotFound(_table?: string): AwsError {
  return new AwsError(400, 'ResourceNotFoundException', 'Requested resource not found');
}

export function tableInUse(table: string): AwsError {
  return new AwsError(400, 'ResourceInUseException', `Table already exists: ${table}`);
}

export function conditionFailed(item?: Item): AwsError {
  return new AwsJsonError(
    400,
    'ConditionalCheckFailedException',
    'The conditional request failed',
    item ? { Item: item } : {},
  );
}

export interface CancellationReason {
  Code: string;
  Message?: string;
  Item?: Item;
}

export function transactionCanceled(reasons: CancellationReason[]): AwsError {
  return new AwsJsonError(
    400,
    'TransactionCanceledException',
    `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons
      .map((r) => r.Code)
      .join(', ')}]`,
    { CancellationReasons: reasons },
  );
}

export function notSupported(what: string): AwsError {
  return validation(`${what} is not supported by Nimbus yet (docs/dynamodb.md)`);
}
