/** Reading SNS operation inputs (the query tree, lists and maps already shaped by sns-query.ts). */
import { snsErrors } from './sns-errors.js';

export type Input = Record<string, unknown>;

export function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw snsErrors.missingParameter(name);
  if (typeof value !== 'string') throw snsErrors.invalidParameter(`${name} must be a string`);
  return value;
}

export function optionalString(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw snsErrors.invalidParameter(`${name} must be a string`);
  return value;
}

export function stringMap(input: Input, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw snsErrors.invalidParameter(`${name} must be a map`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw snsErrors.invalidParameter(`${name}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

export function entryList(input: Input, name: string): Input[] {
  const value = input[name];
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) {
    throw snsErrors.invalidParameter(`${name} must be a list of entries`);
  }
  return value as Input[];
}
