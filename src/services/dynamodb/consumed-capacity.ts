/**
 * `ReturnConsumedCapacity` (TOTAL or INDEXES): the capacity units a call would consume on
 * DynamoDB, by DynamoDB's rules, so code that reads `ConsumedCapacity` (cost logging, adaptive
 * batch sizes) gets the figures it gets on AWS. Nimbus meters and limits nothing: the figures
 * are answered, never enforced.
 *
 * - A read: one unit per 4 KB of the items read (a Query or Scan sums every item it reads, then
 *   rounds up; nothing read still costs one), half of that when eventually consistent, twice
 *   in a transaction.
 * - A write: one unit per 1 KB of the larger of the item before and after; twice in a
 *   transaction. Each secondary index the write touches costs the size of its entry: one put
 *   when the item enters the index or its projected attributes change, one delete when it
 *   leaves, both when its index key changes.
 */
import { type Item, itemSize } from './attribute-value.js';
import { enumOf, type Input } from './dynamodb-call.js';
import { indexEntryOf } from './secondary-indexes.js';
import type { TableSchema } from './table-schema.js';

export type CapacityMode = 'NONE' | 'TOTAL' | 'INDEXES';

export function capacityModeOf(input: Input): CapacityMode {
  return enumOf(input, 'ReturnConsumedCapacity', ['INDEXES', 'TOTAL', 'NONE'] as const, 'NONE');
}

export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

/** What one table's part of a call consumed: the table itself and each index by name. */
export class Consumption {
  table = 0;
  readonly globals = new Map<string, number>();
  readonly locals = new Map<string, number>();

  constructor(readonly schema: TableSchema) {}

  addIndex(name: string, local: boolean, units: number): void {
    const map = local ? this.locals : this.globals;
    map.set(name, (map.get(name) ?? 0) + units);
  }

  /** A write's table and index units, from the item before and after (undefined: none). */
  addWrite(before: Item | undefined, after: Item | undefined, factor = 1): void {
    const size = Math.max(before ? itemSize(before) : 0, after ? itemSize(after) : 0);
    this.table += writeUnits(size) * factor;
    for (const index of this.schema.indexes) {
      const old = before && indexEntryOf(this.schema, index, before);
      const next = after && indexEntryOf(this.schema, index, after);
      let units = 0;
      if (old && next) {
        const moved = !old.key.pk.equals(next.key.pk) || !old.key.sk.equals(next.key.sk);
        if (moved) units = writeUnits(itemSize(old.item)) + writeUnits(itemSize(next.item));
        else if (JSON.stringify(old.item) !== JSON.stringify(next.item))
          units = writeUnits(itemSize(next.item));
      } else if (old) units = writeUnits(itemSize(old.item));
      else if (next) units = writeUnits(itemSize(next.item));
      if (units > 0) this.addIndex(index.name, index.local, units * factor);
    }
  }

  /** The `ConsumedCapacity` entry DynamoDB answers for this table in `mode`. */
  answer(mode: Exclude<CapacityMode, 'NONE'>): Record<string, unknown> {
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const out: Record<string, unknown> = {
      TableName: this.schema.name,
      CapacityUnits: this.table + sum(this.globals) + sum(this.locals),
    };
    if (mode === 'INDEXES') {
      out.Table = { CapacityUnits: this.table };
      const named = (m: Map<string, number>) =>
        Object.fromEntries([...m].map(([name, units]) => [name, { CapacityUnits: units }]));
      if (this.globals.size > 0) out.GlobalSecondaryIndexes = named(this.globals);
      if (this.locals.size > 0) out.LocalSecondaryIndexes = named(this.locals);
    }
    return out;
  }
}

/** A batch's or transaction's consumption, one per table in the order first touched. */
export class ConsumptionByTable {
  readonly #tables = new Map<string, Consumption>();

  of(schema: TableSchema): Consumption {
    let used = this.#tables.get(schema.name);
    if (!used) {
      used = new Consumption(schema);
      this.#tables.set(schema.name, used);
    }
    return used;
  }

  /** For a unit of work run again from the start (group-commit.ts): it counts once. */
  clear(): void {
    this.#tables.clear();
  }

  /** The `ConsumedCapacity` list, or nothing when not asked. */
  answer(mode: CapacityMode): Record<string, unknown> {
    if (mode === 'NONE') return {};
    return { ConsumedCapacity: [...this.#tables.values()].map((c) => c.answer(mode)) };
  }
}

/** The field a single-table call adds to its answer (nothing when not asked). */
export function consumedField(mode: CapacityMode, c: Consumption): Record<string, unknown> {
  return mode === 'NONE' ? {} : { ConsumedCapacity: c.answer(mode) };
}
