/** What every DynamoDB operation gets, and the checks they share. */
import type { Clock } from '../../model/clock.js';
import { checkItem, type Item, itemSize, itemSizeBound, maxItemBytes } from './attribute-value.js';
import { tableNotFound, validation } from './dynamodb-errors.js';
import type { DynamoStore } from './dynamodb-store.js';
import { schemaOf, type TableSchema } from './table-schema.js';

export interface DynamoDeps {
  store: DynamoStore;
  clock: Clock;
  region: string;
  accountId: string;
}

export type Input = Record<string, unknown>;

const tableNamePattern = /^[a-zA-Z0-9_.-]{3,255}$/;

export function tableNameOf(input: Input, field = 'TableName'): string {
  const name = input[field];
  if (typeof name !== 'string') {
    throw validation(
      `1 validation error detected: Value null at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!tableNamePattern.test(name)) {
    throw validation(
      `1 validation error detected: Value '${name}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and length between 3 and 255`,
    );
  }
  return name;
}

export async function requireTable(deps: DynamoDeps, name: string): Promise<TableSchema> {
  const description = await deps.store.findTable(name);
  if (!description) throw tableNotFound(name);
  return schemaOf(description);
}

/**
 * The table's schema for item operations (reads and writes of items): shared and frozen, never
 * to be changed by the caller; table operations use requireTable.
 */
export async function requireSchema(deps: DynamoDeps, name: string): Promise<TableSchema> {
  const schema = await deps.store.findSchema(name);
  if (!schema) throw tableNotFound(name);
  return schema;
}

export function requiredItem(input: Input, field: string): Item {
  if (input[field] === undefined) {
    throw validation(
      `1 validation error detected: Value null at '${field.toLowerCase()}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return checkItem(input[field]);
}

/** `text`: the item's JSON text, when the caller has it (the item is walked only if large). */
export function checkItemSize(item: Item, text?: string): void {
  if (text !== undefined && itemSizeBound(text) <= maxItemBytes) return;
  if (itemSize(item) > maxItemBytes)
    throw validation('Item size has exceeded the maximum allowed size');
}

export function enumOf<T extends string>(
  input: Input,
  field: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = input[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw validation(
      `1 validation error detected: Value '${String(v)}' at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
    );
  }
  return v as T;
}

export function limitOf(input: Input): number | undefined {
  const v = input.Limit;
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw validation(
      `1 validation error detected: Value '${String(v)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  }
  return v;
}
