/**
 * Global and local secondary indexes: their definitions as CreateTable / UpdateTable give them,
 * and what an item puts in each (its index key, and the projected attributes). An item lacking
 * an index key attribute is not in that index (sparse indexes); one with a key attribute of the
 * wrong type, or an empty string / binary, is refused as DynamoDB refuses it.
 */
import type { Item } from './attribute-value.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import {
  encodeKeyValue,
  type KeyAttribute,
  type KeyType,
  type StoredKey,
  type TableSchema,
} from './table-schema.js';

export type ProjectionType = 'ALL' | 'KEYS_ONLY' | 'INCLUDE';

export interface IndexDescriptionStored {
  IndexName: string;
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  Projection: { ProjectionType: ProjectionType; NonKeyAttributes?: string[] };
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  IndexArn: string;
}

export interface IndexSchema {
  name: string;
  local: boolean;
  hash: KeyAttribute;
  range?: KeyAttribute;
  projection: IndexDescriptionStored['Projection'];
}

/** DynamoDB's limits: 20 global and 5 local secondary indexes per table, 100 INCLUDEd names. */
export const maxGlobalIndexes = 20;
export const maxLocalIndexes = 5;
const maxProjectedNames = 100;
const indexNamePattern = /^[a-zA-Z0-9_.-]{3,255}$/;

export function indexSchemaOf(
  d: IndexDescriptionStored,
  local: boolean,
  typeOf: (name: string) => KeyType,
): IndexSchema {
  const hashName = d.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName;
  const rangeName = d.KeySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return {
    name: d.IndexName,
    local,
    hash: { name: hashName, type: typeOf(hashName) },
    range: rangeName === undefined ? undefined : { name: rangeName, type: typeOf(rangeName) },
    projection: d.Projection,
  };
}

/** One CreateTable / UpdateTable index definition, checked; its key names are returned to check. */
export function checkIndexDefinition(
  raw: unknown,
  kind: 'GlobalSecondaryIndexes' | 'LocalSecondaryIndexes',
  tableArn: string,
  billingProvisioned: boolean,
): IndexDescriptionStored {
  const d = (raw ?? {}) as Record<string, unknown>;
  const name = d.IndexName;
  if (typeof name !== 'string' || !indexNamePattern.test(name)) {
    throw validation(
      `1 validation error detected: Value '${String(name)}' at '${kind.charAt(0).toLowerCase()}${kind.slice(1)}.1.member.indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
    );
  }
  const ks = d.KeySchema as { AttributeName?: unknown; KeyType?: unknown }[] | undefined;
  if (
    !Array.isArray(ks) ||
    ks.length < 1 ||
    ks.length > 2 ||
    ks[0]?.KeyType !== 'HASH' ||
    (ks[1] !== undefined && ks[1].KeyType !== 'RANGE') ||
    ks.some((k) => typeof k.AttributeName !== 'string')
  ) {
    throw invalidParameter(
      `Invalid KeySchema: The first KeySchemaElement is not a HASH key type. IndexName: ${name}`,
    );
  }
  const p = (d.Projection ?? {}) as Record<string, unknown>;
  const type = p.ProjectionType ?? 'ALL';
  if (type !== 'ALL' && type !== 'KEYS_ONLY' && type !== 'INCLUDE') {
    throw validation(
      `1 validation error detected: Value '${String(type)}' at 'projection.projectionType' failed to satisfy constraint: Member must satisfy enum value set: [ALL, KEYS_ONLY, INCLUDE]`,
    );
  }
  const nonKey = p.NonKeyAttributes;
  if (type === 'INCLUDE') {
    if (
      !Array.isArray(nonKey) ||
      nonKey.length === 0 ||
      nonKey.some((n) => typeof n !== 'string')
    ) {
      throw invalidParameter(
        `ProjectionType is INCLUDE, but NonKeyAttributes is not specified. IndexName: ${name}`,
      );
    }
    if (nonKey.length > maxProjectedNames) {
      throw invalidParameter(
        `The number of attributes in key schema and projection must not exceed ${maxProjectedNames}`,
      );
    }
  } else if (nonKey !== undefined) {
    throw invalidParameter(
      `ProjectionType is ${type}, but NonKeyAttributes is specified. IndexName: ${name}`,
    );
  }
  const throughput = d.ProvisionedThroughput as
    | { ReadCapacityUnits?: unknown; WriteCapacityUnits?: unknown }
    | undefined;
  if (kind === 'GlobalSecondaryIndexes' && billingProvisioned && throughput === undefined) {
    throw invalidParameter(`ProvisionedThroughput must be specified for index: ${name}`);
  }
  return {
    IndexName: name,
    KeySchema: ks.map((k) => ({
      AttributeName: String(k.AttributeName),
      KeyType: k.KeyType as 'HASH' | 'RANGE',
    })),
    Projection: {
      ProjectionType: type,
      ...(type === 'INCLUDE' ? { NonKeyAttributes: nonKey as string[] } : {}),
    },
    ...(throughput &&
    typeof throughput.ReadCapacityUnits === 'number' &&
    typeof throughput.WriteCapacityUnits === 'number'
      ? {
          ProvisionedThroughput: {
            ReadCapacityUnits: throughput.ReadCapacityUnits,
            WriteCapacityUnits: throughput.WriteCapacityUnits,
          },
        }
      : {}),
    IndexArn: `${tableArn}/index/${name}`,
  };
}

/** An item's entry in one index: its index key and projected attributes; undefined if sparse. */
export function indexEntryOf(
  table: TableSchema,
  index: IndexSchema,
  item: Item,
): { key: StoredKey; item: Item } | undefined {
  const part = (attr: KeyAttribute): Buffer | undefined | null => {
    const value = item[attr.name];
    if (value === undefined) return null;
    const actual = Object.keys(value)[0];
    if (actual !== attr.type) {
      throw invalidParameter(
        `Type mismatch for Index Key ${attr.name} Expected: ${attr.type} Actual: ${actual} IndexName: ${index.name}`,
      );
    }
    if (('S' in value && value.S === '') || ('B' in value && value.B === '')) {
      throw invalidParameter(
        `One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty ${attr.type === 'S' ? 'string' : 'binary'} value. IndexName: ${index.name}, IndexKey: ${attr.name}`,
      );
    }
    return encodeKeyValue(value);
  };
  const pk = part(index.hash);
  const sk = index.range ? part(index.range) : Buffer.alloc(0);
  if (!pk || !sk) return undefined;
  return { key: { pk, sk }, item: projectForIndex(table, index, item) };
}

function projectForIndex(table: TableSchema, index: IndexSchema, item: Item): Item {
  if (index.projection.ProjectionType === 'ALL') return item;
  const names = [table.hash.name, table.range?.name, index.hash.name, index.range?.name];
  if (index.projection.ProjectionType === 'INCLUDE')
    names.push(...(index.projection.NonKeyAttributes ?? []));
  const out: Item = {};
  for (const n of names) if (n !== undefined && item[n] !== undefined) out[n] = item[n]!;
  return out;
}

export function findIndex(table: TableSchema, name: unknown): IndexSchema {
  const index = table.indexes.find((i) => i.name === name);
  if (!index) {
    throw validation(`The table does not have the specified index: ${String(name)}`);
  }
  return index;
}
