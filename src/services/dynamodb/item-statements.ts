/**
 * The statements every item call runs (the table's schema row, an item by key, its upsert and
 * delete, a Query's page), built and compiled once per store instead of once per call
 * (src/store/precompiled-query.ts). A Query's shape varies with its sort-key bounds, its start
 * key and its direction: each shape is compiled the first time it is seen (36 at most).
 */
import type { Kysely } from 'kysely';
import { type PrecompiledQuery, precompile } from '../../store/precompiled-query.js';
import type { SortRange } from './dynamodb-store.js';

/** The two tables these statements touch, as dynamodb-store.ts declares them. */
interface ItemTables {
  dynamodb_tables: { name: string; description: string; created_at: number };
  dynamodb_items: { table_name: string; pk: Buffer; sk: Buffer; item: string };
}

type Db = Kysely<ItemTables>;
type KeyArgs = { table: string; pk: Buffer; sk: Buffer };
type QueryArgs = {
  table: string;
  pk: Buffer;
  lower: Buffer | undefined;
  upper: Buffer | undefined;
  after: Buffer | undefined;
  limit: number;
};

export interface QueryShape {
  range: SortRange;
  forward: boolean;
  startAfter: boolean;
}

export function itemStatements(db: Db) {
  const keyNames = ['table', 'pk', 'sk'] as const;
  const queries = new Map<string, PrecompiledQuery<QueryArgs, { sk: Buffer; item: string }>>();
  return {
    schemaRow: precompile<{ name: string }, { description: string }>(['name'], (a) =>
      db.selectFrom('dynamodb_tables').select('description').where('name', '=', a.name),
    ),
    item: precompile<KeyArgs, { item: string }>(keyNames, (a) =>
      db
        .selectFrom('dynamodb_items')
        .select('item')
        .where('table_name', '=', a.table)
        .where('pk', '=', a.pk)
        .where('sk', '=', a.sk),
    ),
    /** Insert or replace; the new text is bound once (`excluded.item` on conflict). */
    upsert: precompile<KeyArgs & { item: string }, never>(['table', 'pk', 'sk', 'item'], (a) =>
      db
        .insertInto('dynamodb_items')
        .values({ table_name: a.table, pk: a.pk, sk: a.sk, item: a.item })
        .onConflict((oc) =>
          oc
            .columns(['table_name', 'pk', 'sk'])
            .doUpdateSet((eb) => ({ item: eb.ref('excluded.item') })),
        ),
    ),
    remove: precompile<KeyArgs, never>(keyNames, (a) =>
      db
        .deleteFrom('dynamodb_items')
        .where('table_name', '=', a.table)
        .where('pk', '=', a.pk)
        .where('sk', '=', a.sk),
    ),
    /** The page statement of a Query on the table itself (not an index) of this shape. */
    query(shape: QueryShape) {
      const { range, forward, startAfter } = shape;
      const id = [
        range.lower ? (range.lower.inclusive ? '>=' : '>') : '',
        range.upper ? (range.upper.inclusive ? '<=' : '<') : '',
        startAfter ? 'after' : '',
        forward ? 'asc' : 'desc',
      ].join(' ');
      let q = queries.get(id);
      if (q === undefined) {
        q = precompile(['table', 'pk', 'lower', 'upper', 'after', 'limit'], (a: QueryArgs) => {
          let b = db
            .selectFrom('dynamodb_items')
            // Not pk: every row has the one the Query asked for, and each blob read costs a
            // Buffer (selecting it made the statement half as dear again).
            .select(['sk', 'item'])
            .where('table_name', '=', a.table)
            .where('pk', '=', a.pk);
          if (range.lower) b = b.where('sk', range.lower.inclusive ? '>=' : '>', a.lower!);
          if (range.upper) b = b.where('sk', range.upper.inclusive ? '<=' : '<', a.upper!);
          if (startAfter) b = b.where('sk', forward ? '>' : '<', a.after!);
          return b.orderBy('sk', forward ? 'asc' : 'desc').limit(a.limit);
        });
        queries.set(id, q);
      }
      return q;
    },
  };
}
