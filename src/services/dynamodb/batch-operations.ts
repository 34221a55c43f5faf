/**
 * BatchGetItem and BatchWriteItem: many keys, across tables, in one call. Nimbus serves every
 * request of a batch (so `UnprocessedItems` is always empty, and `UnprocessedKeys` holds only
 * what did not fit the 16 MB response); a BatchWriteItem's writes commit in one transaction.
 */
import { checkItem, type Item, itemSize } from './attribute-value.js';
import { ConsumptionByTable, capacityModeOf, readUnits } from './consumed-capacity.js';
import { type DynamoDeps, type Input, requireSchema, tableNameOf } from './dynamodb-call.js';
import { validation } from './dynamodb-errors.js';
import { project } from './expression-eval.js';
import type { Path } from './expression-parser.js';
import { projectionOf } from './item-operations.js';
import { attributesToGetPaths } from './legacy-parameters.js';
import { keyOfKeyParam, type StoredKey, type TableSchema } from './table-schema.js';
import { planWrite, type WritePlan } from './write-plans.js';

/** DynamoDB's limits: 100 keys per BatchGetItem, 25 requests per BatchWriteItem, 16 MB answered. */
export const maxBatchGetKeys = 100;
export const maxBatchWriteRequests = 25;
const maxBatchGetBytes = 16 * 1024 * 1024;

export async function batchGetItem(deps: DynamoDeps, input: Input) {
  const requests = requestItemsOf(input);
  const tables: {
    schema: TableSchema;
    request: Record<string, unknown>;
    keys: Item[];
    stored: StoredKey[];
    projection?: Path[];
  }[] = [];
  let total = 0;
  for (const [name, raw] of Object.entries(requests)) {
    const request = (raw ?? {}) as Record<string, unknown>;
    if (!Array.isArray(request.Keys) || request.Keys.length === 0) {
      throw validation(
        `1 validation error detected: Value null at 'requestItems.${name}.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    }
    total += request.Keys.length;
    if (total > maxBatchGetKeys)
      throw validation('Too many items requested for the BatchGetItem call');
    tables.push({ request, keys: request.Keys as Item[], schema: undefined!, stored: [] });
    const entry = tables.at(-1)!;
    entry.schema = await requireSchema(deps, tableNameOf({ TableName: name }));
    entry.projection = batchProjectionOf(request);
    entry.keys = entry.keys.map((k) => checkItem(k));
    entry.stored = entry.keys.map((k) => keyOfKeyParam(entry.schema, k));
    refuseDuplicates(entry.stored);
  }
  const responses: Record<string, Item[]> = {};
  const unprocessed: Record<string, Record<string, unknown>> = {};
  const capacity = capacityModeOf(input);
  // Tables whose keys all went unprocessed consumed nothing and are not listed.
  const consumed = new ConsumptionByTable();
  let bytes = 0;
  for (const t of tables) {
    const found: Item[] = [];
    responses[t.schema.name] = found;
    const consistent = t.request.ConsistentRead === true;
    for (let i = 0; i < t.keys.length; i++) {
      if (bytes >= maxBatchGetBytes) {
        const rest = unprocessed[t.schema.name] ?? { ...t.request, Keys: [] };
        (rest.Keys as Item[]).push(t.keys[i]!);
        unprocessed[t.schema.name] = rest;
        continue;
      }
      const item = await deps.store.getItem(t.schema.name, t.stored[i]!);
      // Each key is a read of its own, rounded up alone; a missing item costs one too.
      consumed.of(t.schema).table += readUnits(item ? itemSize(item) : 0, consistent);
      if (!item) continue;
      const answered = t.projection ? project(item, t.projection) : item;
      bytes += itemSize(answered);
      found.push(answered);
    }
  }
  return {
    Responses: responses,
    UnprocessedKeys: unprocessed,
    ...consumed.answer(capacity),
  };
}

export async function batchWriteItem(deps: DynamoDeps, input: Input) {
  const requests = requestItemsOf(input);
  const plans: WritePlan[] = [];
  for (const [name, raw] of Object.entries(requests)) {
    if (!Array.isArray(raw) || raw.length === 0 || raw.length > maxBatchWriteRequests) {
      throw validation(
        `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to ${maxBatchWriteRequests}, Member must have length greater than or equal to 1]`,
      );
    }
    if (plans.length + raw.length > maxBatchWriteRequests)
      throw validation('Too many items requested for the BatchWriteItem call');
    const schema = await requireSchema(deps, tableNameOf({ TableName: name }));
    const tablePlans: WritePlan[] = [];
    for (const r of raw as Record<string, unknown>[]) {
      const put = r?.PutRequest as Input | undefined;
      const del = r?.DeleteRequest as Input | undefined;
      if ((put === undefined) === (del === undefined)) {
        throw validation(
          'One or more parameter values were invalid: A write request must contain exactly one of PutRequest and DeleteRequest',
        );
      }
      tablePlans.push(
        put !== undefined
          ? planWrite('Put', schema, { Item: put.Item })
          : planWrite('Delete', schema, { Key: del!.Key }),
      );
    }
    refuseDuplicates(tablePlans.map((p) => p.key));
    plans.push(...tablePlans);
  }
  const capacity = capacityModeOf(input);
  const consumed = new ConsumptionByTable();
  await deps.store.write(
    plans.map((p) => ({ table: p.table, key: p.key })),
    async (w) => {
      consumed.clear(); // a batch run again (group-commit.ts) counts once
      for (const plan of plans) {
        const next = plan.next(undefined);
        // The old item only when capacity is asked: its size is part of the cost.
        const before = capacity === 'NONE' ? undefined : await w.get(plan.table, plan.key);
        if (next === undefined) await w.delete(plan.schema, plan.key);
        else if (next !== 'keep') await w.put(plan.schema, plan.key, next);
        if (capacity !== 'NONE') {
          consumed.of(plan.schema).addWrite(before, next === 'keep' ? before : next);
        }
      }
    },
  );
  return { UnprocessedItems: {}, ...consumed.answer(capacity) };
}

function requestItemsOf(input: Input): Record<string, unknown> {
  const r = input.RequestItems;
  if (r === undefined || r === null) {
    throw validation(
      "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null",
    );
  }
  if (typeof r !== 'object' || Array.isArray(r) || Object.keys(r).length === 0) {
    throw validation(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  }
  return r as Record<string, unknown>;
}

/** A table's ProjectionExpression, or its legacy AttributesToGet (not both). */
export function batchProjectionOf(request: Record<string, unknown>): Path[] | undefined {
  const legacy = request.AttributesToGet;
  if (legacy === undefined) return projectionOf(request);
  if (request.ProjectionExpression !== undefined) {
    throw validation(
      'Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}',
    );
  }
  return attributesToGetPaths(legacy);
}

function refuseDuplicates(keys: StoredKey[]): void {
  const seen = new Set<string>();
  for (const k of keys) {
    const id = `${k.pk.toString('hex')}/${k.sk.toString('hex')}`;
    if (seen.has(id)) throw validation('Provided list of item keys contains duplicates');
    seen.add(id);
  }
}
