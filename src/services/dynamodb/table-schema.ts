/**
 * A table's key schema, and items' keys as stored: partition and sort key values encoded to bytes
 * that compare (memcmp, as SQLite BLOB and PostgreSQL bytea do) in DynamoDB's order: numbers
 * numerically, strings and binary by their bytes.
 */
import type { AttributeValue, Item } from './attribute-value.js';
import { parseDecimal, sortableDecimal } from './decimal.js';
import { invalidParameter, validation } from './dynamodb-errors.js';
import {
  type IndexDescriptionStored,
  type IndexSchema,
  indexSchemaOf,
} from './secondary-indexes.js';
import type { StreamSpecification } from './streams.js';

export type KeyType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  name: string;
  type: KeyType;
}

export interface TableDescriptionStored {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: KeyType }[];
  BillingMode: string;
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
  TableArn: string;
  TableId: string;
  /** Epoch seconds, as the JSON protocol sends timestamps. */
  CreationDateTime: number;
  GlobalSecondaryIndexes?: IndexDescriptionStored[];
  LocalSecondaryIndexes?: IndexDescriptionStored[];
  StreamSpecification?: StreamSpecification;
  LatestStreamArn?: string;
  LatestStreamLabel?: string;
  TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  /** TagResource's and CreateTable's tags (tags.ts); DescribeTable does not show them. */
  Tags?: { Key: string; Value: string }[];
}

export interface TableSchema {
  name: string;
  hash: KeyAttribute;
  range?: KeyAttribute;
  /** Local, then global secondary indexes. */
  indexes: IndexSchema[];
  description: TableDescriptionStored;
}

export interface StoredKey {
  pk: Buffer;
  sk: Buffer;
}

export function schemaOf(description: TableDescriptionStored): TableSchema {
  const typeOf = (name: string) =>
    description.AttributeDefinitions.find((d) => d.AttributeName === name)!.AttributeType;
  const hashName = description.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName;
  const rangeName = description.KeySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
  return {
    name: description.TableName,
    hash: { name: hashName, type: typeOf(hashName) },
    range: rangeName === undefined ? undefined : { name: rangeName, type: typeOf(rangeName) },
    indexes: [
      ...(description.LocalSecondaryIndexes ?? []).map((d) => indexSchemaOf(d, true, typeOf)),
      ...(description.GlobalSecondaryIndexes ?? []).map((d) => indexSchemaOf(d, false, typeOf)),
    ],
    description,
  };
}

export function encodeKeyValue(value: AttributeValue): Buffer {
  if ('S' in value) return Buffer.from(value.S, 'utf8');
  if ('N' in value) return sortableDecimal(parseDecimal(value.N));
  if ('B' in value) return Buffer.from(value.B, 'base64');
  throw new Error('not a key type');
}

/** The key of an item being written: every key attribute present, of its declared type, non-empty. */
export function keyOfItem(schema: TableSchema, item: Item): StoredKey {
  const part = (attr: KeyAttribute) => {
    const value = item[attr.name];
    if (!value) throw invalidParameter(`Missing the key ${attr.name} in the item`);
    const actual = Object.keys(value)[0];
    if (actual !== attr.type) {
      throw invalidParameter(
        `Type mismatch for key ${attr.name} expected: ${attr.type} actual: ${actual}`,
      );
    }
    checkNotEmpty(attr, value);
    return encodeKeyValue(value);
  };
  return { pk: part(schema.hash), sk: schema.range ? part(schema.range) : Buffer.alloc(0) };
}

/** A `Key` parameter: exactly the key attributes, no others. */
export function keyOfKeyParam(schema: TableSchema, key: Item): StoredKey {
  const names = Object.keys(key);
  const expected = schema.range ? 2 : 1;
  const fits =
    names.length === expected &&
    key[schema.hash.name] !== undefined &&
    (!schema.range || key[schema.range.name] !== undefined);
  if (!fits) throw validation('The provided key element does not match the schema');
  for (const attr of [schema.hash, schema.range]) {
    if (!attr) continue;
    const value = key[attr.name]!;
    if (Object.keys(value)[0] !== attr.type)
      throw validation('The provided key element does not match the schema');
    checkNotEmpty(attr, value);
  }
  return {
    pk: encodeKeyValue(key[schema.hash.name]!),
    sk: schema.range ? encodeKeyValue(key[schema.range.name]!) : Buffer.alloc(0),
  };
}

export function keyAttributesOf(schema: TableSchema, item: Item): Item {
  const key: Item = { [schema.hash.name]: item[schema.hash.name]! };
  if (schema.range) key[schema.range.name] = item[schema.range.name]!;
  return key;
}

function checkNotEmpty(attr: KeyAttribute, value: AttributeValue) {
  const empty = ('S' in value && value.S === '') || ('B' in value && value.B === '');
  if (empty) {
    const word = attr.type === 'S' ? 'string' : 'binary';
    throw validation(
      `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${word} value. Key: ${attr.name}`,
    );
  }
}
