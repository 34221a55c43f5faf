/** Reading operation inputs (the JSON protocol's shapes; the query codec builds the same). */
import { sqsErrors } from './sqs-errors.js';

export type Input = Record<string, unknown>;

export function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw sqsErrors.missingParameter(name);
  if (typeof value !== 'string') throw sqsErrors.invalidParameter(`${name} must be a string.`);
  return value;
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw sqsErrors.invalidParameter(`${name} must be a string.`);
  return value;
}

export function optionalInteger(
  input: Input,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = input[name];
  if (raw === undefined || raw === null) return undefined;
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw sqsErrors.invalidParameter(
      `Value ${String(raw)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return value;
}

export function stringMap(input: Input, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw sqsErrors.invalidParameter(`${name} must be a map.`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw sqsErrors.invalidAttributeValue(k, 'must be a string.');
    out[k] = v;
  }
  return out;
}

export function stringList(input: Input, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw sqsErrors.invalidParameter(`${name} must be a list of strings.`);
  }
  return value as string[];
}

export function entryList(input: Input, name: string): Input[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) {
    throw sqsErrors.invalidParameter(`${name} must be a list of entries.`);
  }
  return value as Input[];
}
