/**
 * Time to live: UpdateTimeToLive / DescribeTimeToLive, and the sweep that deletes expired items.
 * An item expires when its TTL attribute is a number (epoch seconds) at or before now; items
 * without it, or with another type, never expire. Expired items are deleted as DynamoDB's own
 * service deletes them: a REMOVE stream record with `userIdentity` {Service,
 * dynamodb.amazonaws.com}. Until swept, an expired item is still read, as in DynamoDB.
 */

import type { Clock } from '../../model/clock.js';
import type { Item } from './attribute-value.js';
import { type DynamoDeps, type Input, requireTable, tableNameOf } from './dynamodb-call.js';
import { validation } from './dynamodb-errors.js';
import type { DynamoStore } from './dynamodb-store.js';
import { type StoredKey, schemaOf, type TableSchema } from './table-schema.js';

export async function updateTimeToLive(deps: DynamoDeps, input: Input) {
  const schema = await requireTable(deps, tableNameOf(input));
  const spec = (input.TimeToLiveSpecification ?? undefined) as
    | { Enabled?: unknown; AttributeName?: unknown }
    | undefined;
  if (!spec || typeof spec.Enabled !== 'boolean') {
    throw validation(
      "1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null",
    );
  }
  if (typeof spec.AttributeName !== 'string' || spec.AttributeName.length === 0) {
    throw validation(
      "1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null",
    );
  }
  const d = structuredClone(schema.description);
  const current = d.TimeToLiveSpecification;
  if (spec.Enabled && current?.Enabled) throw validation('TimeToLive is already enabled');
  if (!spec.Enabled) {
    if (!current?.Enabled) throw validation('TimeToLive is already disabled');
    if (current.AttributeName !== spec.AttributeName) {
      throw validation(
        `TimeToLive is active on a different AttributeName: current AttributeName is ${current.AttributeName}`,
      );
    }
  }
  d.TimeToLiveSpecification = { AttributeName: spec.AttributeName, Enabled: spec.Enabled };
  await deps.store.updateDescription(d);
  return { TimeToLiveSpecification: d.TimeToLiveSpecification };
}

export async function describeTimeToLive(deps: DynamoDeps, input: Input) {
  const schema = await requireTable(deps, tableNameOf(input));
  const ttl = schema.description.TimeToLiveSpecification;
  return {
    TimeToLiveDescription: ttl?.Enabled
      ? { TimeToLiveStatus: 'ENABLED', AttributeName: ttl.AttributeName }
      : { TimeToLiveStatus: 'DISABLED' },
  };
}

/** Whether `item` has expired at `nowMs` under the TTL attribute `name`. */
export function expired(item: Item | undefined, name: string, nowMs: number): boolean {
  const v = item?.[name];
  if (!v || !('N' in v)) return false;
  const seconds = Number(v.N);
  return Number.isFinite(seconds) && seconds * 1000 <= nowMs;
}

/** Rows read per round while sweeping a table. */
const sweepBatch = 500;

/** One pass over every table with TTL enabled, deleting what has expired; returns how many. */
export async function sweepExpired(store: DynamoStore, clock: Clock): Promise<number> {
  let deleted = 0;
  for (const description of await store.allTables()) {
    const ttl = description.TimeToLiveSpecification;
    if (!ttl?.Enabled) continue;
    deleted += await sweepTable(store, clock, schemaOf(description), ttl.AttributeName);
  }
  return deleted;
}

async function sweepTable(store: DynamoStore, clock: Clock, schema: TableSchema, name: string) {
  let deleted = 0;
  let after: StoredKey | undefined;
  for (;;) {
    const rows = await store.scan(schema.name, after, sweepBatch);
    if (rows.length === 0) return deleted;
    const now = clock.now();
    for (const row of rows) {
      if (!expired(row.item, name, now)) continue;
      // Checked again under the item's lock: a write since the scan may have extended it.
      const gone = await store.write([{ table: schema.name, key: row }], async (w) => {
        if (!expired(await w.get(schema.name, row), name, clock.now())) return false;
        await w.delete(schema, row, { bySystem: true });
        return true;
      });
      if (gone) deleted++;
    }
    after = rows.at(-1);
  }
}
