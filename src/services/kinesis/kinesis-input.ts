/**
 * Reading Kinesis request fields the way Kinesis checks them: a missing or mistyped field is
 * a ValidationException naming it, before any stream is looked up.
 */
import { AwsError } from '../../platform/aws/aws-error.js';
import { validation } from './kinesis-errors.js';

export type Input = Record<string, unknown>;

/** Lower camel case, as AWS's validator names fields (`streamName`, `partitionKey`). */
const wire = (field: string) => field[0]!.toLowerCase() + field.slice(1);

export function optionalString(
  input: Input,
  field: string,
  check: { min?: number; max?: number; pattern?: RegExp } = {},
): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw serialization(field);
  if (check.min !== undefined && v.length < check.min) {
    throw validation(
      wire(field),
      v,
      `Member must have length greater than or equal to ${check.min}`,
    );
  }
  if (check.max !== undefined && v.length > check.max) {
    throw validation(wire(field), v, `Member must have length less than or equal to ${check.max}`);
  }
  if (check.pattern && !check.pattern.test(v)) {
    throw validation(
      wire(field),
      v,
      `Member must satisfy regular expression pattern: ${check.pattern.source.replace(/^\^|\$$/g, '')}`,
    );
  }
  return v;
}

export function requiredString(
  input: Input,
  field: string,
  check: { min?: number; max?: number; pattern?: RegExp } = {},
): string {
  const v = optionalString(input, field, check);
  if (v === undefined) {
    throw validation(wire(field), 'null', 'Member must not be null');
  }
  return v;
}

export function optionalInteger(
  input: Input,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw serialization(field);
  if (v < min) {
    throw validation(
      wire(field),
      String(v),
      `Member must have value greater than or equal to ${min}`,
    );
  }
  if (v > max) {
    throw validation(wire(field), String(v), `Member must have value less than or equal to ${max}`);
  }
  return v;
}

/** A blob field: base64 in AWS JSON. */
export function requiredBlob(input: Input, field: string): Buffer {
  const v = input[field];
  if (v === undefined || v === null)
    throw validation(wire(field), 'null', 'Member must not be null');
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 === 1) {
    throw serialization(field);
  }
  return Buffer.from(v, 'base64');
}

/** A timestamp field: epoch seconds in AWS JSON; answered in epoch ms. */
export function optionalTimestamp(input: Input, field: string): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw serialization(field);
  return Math.round(v * 1000);
}

function serialization(field: string): AwsError {
  return new AwsError(400, 'SerializationException', `${field} has the wrong type`);
}
