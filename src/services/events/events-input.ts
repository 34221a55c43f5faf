/** Reading EventBridge operation inputs (JSON documents), with EventBridge's own errors. */
import { eventsErrors } from './events-errors.js';

export type Input = Record<string, unknown>;

export function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') {
    throw eventsErrors.validation(
      `1 validation error detected: Value null at '${lower(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (typeof value !== 'string') throw eventsErrors.validation(`${name} must be a string`);
  return value;
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw eventsErrors.validation(`${name} must be a string`);
  return value;
}

export function optionalList(input: Input, name: string): unknown[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw eventsErrors.validation(`${name} must be a list`);
  return value;
}

/** A name of a bus or rule: 1-64 characters of `[\w.-]` (a custom bus may not start `aws.`). */
export function checkName(kind: string, name: string): void {
  if (!/^[\w.-]{1,64}$/.test(name)) {
    throw eventsErrors.validation(
      `1 validation error detected: Value '${name}' at '${kind}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
    );
  }
}

function lower(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}
