/**
 * Which stream a request names: `StreamName` or `StreamARN` (Kinesis takes either since 2022),
 * checked as Kinesis checks them, and the ARN of a stream on this platform.
 */
import { NIMBUS_ACCOUNT_ID } from '../../model/account.js';
import { parseKinesisStreamArn } from '../../platform/event-sources/mapping.js';
import { invalidArgument } from './kinesis-errors.js';
import { type Input, optionalString } from './kinesis-input.js';

export const streamNamePattern = /^[a-zA-Z0-9_.-]+$/;

export function streamArn(region: string, name: string): string {
  return `arn:aws:kinesis:${region}:${NIMBUS_ACCOUNT_ID}:stream/${name}`;
}

export function optionalStreamName(input: Input): string | undefined {
  return optionalString(input, 'StreamName', { min: 1, max: 128, pattern: streamNamePattern });
}

/** The stream named by StreamName or StreamARN; one of them is required. */
export function streamNameOf(input: Input): string {
  const name = optionalStreamName(input);
  const arn = optionalString(input, 'StreamARN', { min: 1, max: 2048 });
  if (arn !== undefined) {
    const parsed = parseKinesisStreamArn(arn);
    if (!parsed || parsed.account !== NIMBUS_ACCOUNT_ID) {
      throw invalidArgument(`${arn} is not a valid Kinesis stream ARN of this account`);
    }
    if (name !== undefined && name !== parsed.stream) {
      throw invalidArgument('StreamARN and StreamName name different streams.');
    }
    return parsed.stream;
  }
  if (name === undefined)
    throw invalidArgument('Either StreamName or StreamARN should be provided.');
  return name;
}
