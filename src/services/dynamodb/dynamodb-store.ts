/**
 * DynamoDB tables and items in the Store's database (migration 011), on SQLite and PostgreSQL
 * alike. Every write runs in a transaction that first locks the keys it touches (PostgreSQL:
 * transaction-scoped advisory locks, taken in key order so two transactions never deadlock;
 * SQLite: its one writer), so a condition read and the write it guards are atomic.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import { type Clock, systemClock } from '../../model/clock.js';
import { type ExactRowCache, sharedRowCache } from '../../store/exact-row-cache.js';
import { groupCommitter } from '../../store/group-commit.js';
import type { SqlFlavor } from '../../store/migrations/sql-flavor.js';
import type { Database } from '../../store/schema.js';
import { type DirectReader, directReader } from '../../store/sqlite.js';
import type { Item } from './attribute-value.js';
import { itemStatements } from './item-statements.js';
import { type IndexSchema, indexEntryOf } from './secondary-indexes.js';
import { activeStreamOf, type ChangeOrigin, changeRecord, formatSequence } from './streams.js';
import {
  type StoredKey,
  schemaOf,
  type TableDescriptionStored,
  type TableSchema,
} from './table-schema.js';

/** Schemas kept parsed (by table name); past this, the oldest goes. */
const maxCachedSchemas = 1000;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface DynamoTables {
  dynamodb_tables: { name: string; description: string; created_at: number };
  dynamodb_items: { table_name: string; pk: Buffer; sk: Buffer; item: string };
  dynamodb_index_items: {
    table_name: string;
    index_name: string;
    ipk: Buffer;
    isk: Buffer;
    pk: Buffer;
    sk: Buffer;
    item: string;
  };
  dynamodb_stream_counters: { table_name: string; last_seq: number | string };
  dynamodb_stream_records: {
    stream_arn: string;
    seq: number | string;
    table_name: string;
    created_at: number | string;
    record: string;
  };
  dynamodb_transaction_tokens: { token: string; request_hash: string; created_at: number };
}

export interface StoredItem extends StoredKey {
  /** The item, parsed from `text` the first time it is asked for. */
  readonly item: Item;
  /** The item as stored: its JSON text, in DynamoDB's wire shape. */
  readonly text: string;
  /** The index key, for rows read from a secondary index. */
  ipk?: Buffer;
  isk?: Buffer;
}

/**
 * A row as read: a page of Query or Scan with no filter or projection sends each item's text
 * as it is, so an item is parsed only when something looks into it.
 */
class StoredRow implements StoredItem {
  #item: Item | undefined;
  ipk?: Buffer;
  isk?: Buffer;
  constructor(
    readonly pk: Buffer,
    readonly sk: Buffer,
    readonly text: string,
  ) {}
  get item(): Item {
    if (this.#item === undefined) this.#item = JSON.parse(this.text) as Item;
    return this.#item;
  }
}

/** Where a page of an index starts after: the index key, then the table key. */
export interface IndexPosition extends StoredKey {
  ipk: Buffer;
  isk: Buffer;
}

/** The sort-key range of a Query, in encoded bytes. */
export interface SortRange {
  lower?: { value: Buffer; inclusive: boolean };
  upper?: { value: Buffer; inclusive: boolean };
}

export interface ItemWriter {
  get(table: string, key: StoredKey): Promise<Item | undefined>;
  /**
   * Writes the item and its secondary index entries. `found`: the item as the caller read it
   * in this transaction, so the stream record's old image is not read a second time; `text`:
   * the item's JSON text, if the caller has it already.
   */
  put(table: TableSchema, key: StoredKey, item: Item, found?: Found, text?: string): Promise<void>;
  /** Deletes the item (a no-op if absent); `origin.bySystem` marks the TTL sweeper's deletes. */
  delete(table: TableSchema, key: StoredKey, origin?: ChangeOrigin, found?: Found): Promise<void>;
  /** The request digest a client token was last used with at or after `since`, if any. */
  tokenHash(token: string, since: number): Promise<string | undefined>;
  /** Records a token's use, and forgets the tokens last used before `forgetBefore`. */
  recordToken(token: string, requestHash: string, now: number, forgetBefore: number): Promise<void>;
}

/** An item already read in the writing transaction (undefined: there was none). */
export interface Found {
  item: Item | undefined;
}

/** The pseudo-table whose keys lock client request tokens, so one token is used once at a time. */
export const tokenLockTable = '\0token';

/** What stream records are stamped with. */
export interface StreamStamp {
  region: string;
  clock: Clock;
}

export class DynamoStore {
  readonly #db: Kysely<DynamoTables>;
  readonly #stamp: StreamStamp;
  /** Parsed schemas by table name, with the description text they were parsed from. */
  readonly #schemas = new Map<string, { text: string; schema: TableSchema }>();
  /**
   * Schemas by table name (undefined: no such table) without reading the row, where that is
   * exact (the embedded store: src/store/exact-row-cache.ts); every write to a table's row here
   * forgets its entry.
   */
  readonly #knownSchemas: ExactRowCache<TableSchema | undefined>;
  readonly #statements: ItemStatements;
  /** Reads answered at once on SQLite when no transaction is open (src/store/sqlite.ts). */
  readonly #readNow: DirectReader | undefined;
  constructor(
    db: unknown,
    readonly flavor: SqlFlavor,
    stamp: StreamStamp = { region: 'us-east-1', clock: systemClock },
  ) {
    this.#db = db as unknown as Kysely<DynamoTables>;
    this.#stamp = stamp;
    this.#statements = itemStatements(this.#db as unknown as Parameters<typeof itemStatements>[0]);
    this.#knownSchemas = sharedRowCache(this.#db, 'dynamodb table schemas');
    this.#readNow = directReader(db as object);
  }

  /** A write to the row of table `name`: its remembered schema goes once it is done, or failed. */
  async #changingTable<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      this.#knownSchemas.invalidate(name);
    }
  }

  /** False when the name is taken. */
  async createTable(description: TableDescriptionStored, now: number): Promise<boolean> {
    const inserted = await this.#changingTable(description.TableName, () =>
      this.#db
        .insertInto('dynamodb_tables')
        .values({
          name: description.TableName,
          description: JSON.stringify(description),
          created_at: now,
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst(),
    );
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findTable(name: string): Promise<TableDescriptionStored | undefined> {
    const row = await this.#db
      .selectFrom('dynamodb_tables')
      .select('description')
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? (JSON.parse(row.description) as TableDescriptionStored) : undefined;
  }

  /**
   * The table's schema for item operations, frozen. Seen at once when the table is changed or
   * dropped, on any node: on PostgreSQL its row is read every time (a description text already
   * seen is not parsed again); on SQLite it is remembered until a write to the row.
   */
  async findSchema(name: string): Promise<TableSchema | undefined> {
    return this.#knownSchemas.get(name, () => this.#readSchema(name));
  }

  async #readSchema(name: string): Promise<TableSchema | undefined> {
    const args = { name };
    const row = (this.#statements.schemaRow.readNow(this.#readNow, args) ??
      (await this.#statements.schemaRow.run(this.#db, args)).rows)[0];
    if (!row) return undefined;
    const cached = this.#schemas.get(name);
    if (cached?.text === row.description) return cached.schema;
    const schema = deepFreeze(schemaOf(JSON.parse(row.description) as TableDescriptionStored));
    this.#schemas.set(name, { text: row.description, schema });
    if (this.#schemas.size > maxCachedSchemas)
      this.#schemas.delete(this.#schemas.keys().next().value!);
    return schema;
  }

  async allTables(): Promise<TableDescriptionStored[]> {
    const rows = await this.#db.selectFrom('dynamodb_tables').select('description').execute();
    return rows.map((r) => JSON.parse(r.description) as TableDescriptionStored);
  }

  async listTables(after: string | undefined, limit: number): Promise<string[]> {
    let q = this.#db.selectFrom('dynamodb_tables').select('name').orderBy('name').limit(limit);
    if (after !== undefined) q = q.where('name', '>', after);
    return (await q.execute()).map((r) => r.name);
  }

  async deleteTable(name: string): Promise<boolean> {
    return this.#changingTable(name, () =>
      this.#db.transaction().execute(async (tx) => {
        await tx.deleteFrom('dynamodb_index_items').where('table_name', '=', name).execute();
        await tx.deleteFrom('dynamodb_items').where('table_name', '=', name).execute();
        const r = await tx
          .deleteFrom('dynamodb_tables')
          .where('name', '=', name)
          .executeTakeFirst();
        return Number(r.numDeletedRows) > 0;
      }),
    );
  }

  async countItems(table: string): Promise<number> {
    const row = await this.#db
      .selectFrom('dynamodb_items')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('table_name', '=', table)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async countIndexItems(table: string, index: string): Promise<number> {
    const row = await this.#db
      .selectFrom('dynamodb_index_items')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('table_name', '=', table)
      .where('index_name', '=', index)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** A table's new description (billing, throughput, streams, TTL): no item changes. */
  async updateDescription(description: TableDescriptionStored): Promise<boolean> {
    const r = await this.#changingTable(description.TableName, () =>
      this.#db
        .updateTable('dynamodb_tables')
        .set({ description: JSON.stringify(description) })
        .where('name', '=', description.TableName)
        .executeTakeFirst(),
    );
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * A new global secondary index: the description that declares it and its entries for every
   * item, in one transaction.
   */
  async addIndex(table: TableSchema, index: IndexSchema, description: TableDescriptionStored) {
    await this.#changingTable(table.name, () => this.#addIndex(table, index, description));
  }

  async #addIndex(table: TableSchema, index: IndexSchema, description: TableDescriptionStored) {
    await this.#db.transaction().execute(async (tx) => {
      await tx
        .updateTable('dynamodb_tables')
        .set({ description: JSON.stringify(description) })
        .where('name', '=', table.name)
        .execute();
      let after: StoredKey | undefined;
      for (;;) {
        let q = tx
          .selectFrom('dynamodb_items')
          .select(['pk', 'sk', 'item'])
          .where('table_name', '=', table.name);
        if (after) q = q.where((eb) => tupleAfter(eb, ['pk', 'sk'], [after!.pk, after!.sk], '>'));
        const rows = await q.orderBy('pk').orderBy('sk').limit(500).execute();
        if (rows.length === 0) break;
        for (const row of rows.map(toStored)) {
          const entry = indexEntryOf(table, index, row.item);
          if (entry) await insertIndexRow(tx, table.name, index.name, entry, row);
        }
        after = toStored(rows.at(-1)!);
      }
    });
  }

  async dropIndex(description: TableDescriptionStored, index: string) {
    await this.#changingTable(description.TableName, () => this.#dropIndex(description, index));
  }

  async #dropIndex(description: TableDescriptionStored, index: string) {
    await this.#db.transaction().execute(async (tx) => {
      await tx
        .updateTable('dynamodb_tables')
        .set({ description: JSON.stringify(description) })
        .where('name', '=', description.TableName)
        .execute();
      await tx
        .deleteFrom('dynamodb_index_items')
        .where('table_name', '=', description.TableName)
        .where('index_name', '=', index)
        .execute();
    });
  }

  async queryIndex(
    table: string,
    index: string,
    ipk: Buffer,
    range: SortRange,
    forward: boolean,
    startAfter: IndexPosition | undefined,
    limit: number,
  ): Promise<StoredItem[]> {
    let q = this.#db
      .selectFrom('dynamodb_index_items')
      .select(['ipk', 'isk', 'pk', 'sk', 'item'])
      .where('table_name', '=', table)
      .where('index_name', '=', index)
      .where('ipk', '=', ipk);
    if (range.lower) q = q.where('isk', range.lower.inclusive ? '>=' : '>', range.lower.value);
    if (range.upper) q = q.where('isk', range.upper.inclusive ? '<=' : '<', range.upper.value);
    if (startAfter) {
      const s = startAfter;
      q = q.where((eb) =>
        tupleAfter(eb, ['isk', 'pk', 'sk'], [s.isk, s.pk, s.sk], forward ? '>' : '<'),
      );
    }
    const dir = forward ? 'asc' : 'desc';
    const rows = await q
      .orderBy('isk', dir)
      .orderBy('pk', dir)
      .orderBy('sk', dir)
      .limit(limit)
      .execute();
    return rows.map(toStoredIndexRow);
  }

  async scanIndex(
    table: string,
    index: string,
    startAfter: IndexPosition | undefined,
    limit: number,
  ): Promise<StoredItem[]> {
    let q = this.#db
      .selectFrom('dynamodb_index_items')
      .select(['ipk', 'isk', 'pk', 'sk', 'item'])
      .where('table_name', '=', table)
      .where('index_name', '=', index);
    if (startAfter) {
      const s = startAfter;
      q = q.where((eb) =>
        tupleAfter(eb, ['ipk', 'isk', 'pk', 'sk'], [s.ipk, s.isk, s.pk, s.sk], '>'),
      );
    }
    const rows = await q
      .orderBy('ipk')
      .orderBy('isk')
      .orderBy('pk')
      .orderBy('sk')
      .limit(limit)
      .execute();
    return rows.map(toStoredIndexRow);
  }

  async getItem(table: string, key: StoredKey): Promise<Item | undefined> {
    const text = await this.getItemText(table, key);
    return text === undefined ? undefined : (JSON.parse(text) as Item);
  }

  /** The item as stored: its JSON text, in DynamoDB's wire shape. */
  async getItemText(table: string, key: StoredKey): Promise<string | undefined> {
    const args = { table, pk: key.pk, sk: key.sk };
    const rows =
      this.#statements.item.readNow(this.#readNow, args) ??
      (await this.#statements.item.run(this.#db, args)).rows;
    return rows[0]?.item;
  }

  /**
   * Runs `work` in one transaction holding the locks of `keys` (table + key), so what it reads
   * cannot change before what it writes commits.
   */
  async write<T>(
    keys: { table: string; key: StoredKey }[],
    work: (writer: ItemWriter) => Promise<T>,
    opts: { isolated?: boolean } = {},
  ): Promise<T> {
    if (this.flavor === 'sqlite') {
      // SQLite has one writer: concurrent writes share a transaction (one commit, one fsync
      // with synchronous=FULL), each in its own savepoint, so a failed condition undoes and
      // fails only its own call. Answered only after the commit, as before. `isolated: false`
      // is for work that throws only when the database does: it skips the savepoint's two
      // statements, and should it fail after all, the batch runs again one unit per
      // transaction (group-commit.ts), so the failure is still its caller's alone.
      return groupCommitter(this.#db as unknown as Kysely<Database>).run(
        (tx) =>
          work(writerIn(tx as unknown as Transaction<DynamoTables>, this.#stamp, this.#statements)),
        { isolated: opts.isolated ?? true },
      );
    }
    return this.#db.transaction().execute(async (tx) => {
      if (this.flavor === 'postgres') {
        const locks = [...new Set(keys.map((k) => lockId(k.table, k.key)))].sort();
        for (const id of locks) await sql`select pg_advisory_xact_lock(${id}::bigint)`.execute(tx);
      }
      return work(writerIn(tx, this.#stamp, this.#statements));
    });
  }

  async query(
    table: string,
    pk: Buffer,
    range: SortRange,
    forward: boolean,
    startAfter: Buffer | undefined,
    limit: number,
  ): Promise<StoredItem[]> {
    const statement = this.#statements.query({ range, forward, startAfter: !!startAfter });
    const args = {
      table,
      pk,
      lower: range.lower?.value,
      upper: range.upper?.value,
      after: startAfter,
      limit,
    };
    const rows =
      statement.readNow(this.#readNow, args) ?? (await statement.run(this.#db, args)).rows;
    const out: StoredItem[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = new StoredRow(pk, r.sk, r.item);
    }
    return out;
  }

  async scan(
    table: string,
    startAfter: StoredKey | undefined,
    limit: number,
  ): Promise<StoredItem[]> {
    let q = this.#db
      .selectFrom('dynamodb_items')
      .select(['pk', 'sk', 'item'])
      .where('table_name', '=', table);
    if (startAfter) {
      const { pk, sk } = startAfter;
      q = q.where((eb) =>
        eb.or([eb('pk', '>', pk), eb.and([eb('pk', '=', pk), eb('sk', '>', sk)])]),
      );
    }
    const rows = await q.orderBy('pk').orderBy('sk').limit(limit).execute();
    return rows.map(toStored);
  }
}

function toStored(r: { pk: Buffer; sk: Buffer; item: string }): StoredItem {
  return new StoredRow(Buffer.from(r.pk), Buffer.from(r.sk), r.item);
}

function toStoredIndexRow(r: {
  ipk: Buffer;
  isk: Buffer;
  pk: Buffer;
  sk: Buffer;
  item: string;
}): StoredItem {
  const row = toStored(r);
  row.ipk = Buffer.from(r.ipk);
  row.isk = Buffer.from(r.isk);
  return row;
}

type Column = 'pk' | 'sk' | 'ipk' | 'isk';

/** Rows whose (columns...) tuple sorts after (or before) `values`, portable to both databases. */
function tupleAfter(
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's expression builder over either table
  eb: any,
  columns: Column[],
  values: Buffer[],
  op: '>' | '<',
) {
  return eb.or(
    columns.map((column, i) =>
      eb.and([
        ...columns.slice(0, i).map((c, j) => eb(c, '=', values[j])),
        eb(column, op, values[i]),
      ]),
    ),
  );
}

async function insertIndexRow(
  tx: Transaction<DynamoTables>,
  table: string,
  index: string,
  entry: { key: StoredKey; item: Item },
  key: StoredKey,
) {
  await tx
    .insertInto('dynamodb_index_items')
    .values({
      table_name: table,
      index_name: index,
      ipk: entry.key.pk,
      isk: entry.key.sk,
      pk: key.pk,
      sk: key.sk,
      item: JSON.stringify(entry.item),
    })
    .execute();
}

/** Secondary index rows follow the item: the old ones go, the item's current ones come. */
async function rewriteIndexRows(
  tx: Transaction<DynamoTables>,
  table: TableSchema,
  key: StoredKey,
  item: Item | undefined,
) {
  if (table.indexes.length === 0) return;
  await tx
    .deleteFrom('dynamodb_index_items')
    .where('table_name', '=', table.name)
    .where('pk', '=', key.pk)
    .where('sk', '=', key.sk)
    .execute();
  if (!item) return;
  for (const index of table.indexes) {
    const entry = indexEntryOf(table, index, item);
    if (entry) await insertIndexRow(tx, table.name, index.name, entry, key);
  }
}

type ItemStatements = ReturnType<typeof itemStatements>;

async function readItem(
  statements: ItemStatements,
  db: Kysely<DynamoTables> | Transaction<DynamoTables>,
  table: string,
  key: StoredKey,
) {
  const row = (await statements.item.run(db, { table, pk: key.pk, sk: key.sk })).rows[0];
  return row ? (JSON.parse(row.item) as Item) : undefined;
}

function writerIn(
  tx: Transaction<DynamoTables>,
  stamp: StreamStamp,
  statements: ItemStatements,
): ItemWriter {
  /** The stream record of a change, written in the change's transaction. */
  const record = async (
    table: TableSchema,
    before: Item | undefined,
    after: Item | undefined,
    origin?: ChangeOrigin,
  ) => {
    const stream = activeStreamOf(table);
    if (!stream) return;
    const now = stamp.clock.now();
    const pending = changeRecord(
      table,
      stream.view,
      before,
      after,
      () => nextSequence(tx, table.name),
      {
        now,
        region: stamp.region,
        origin,
      },
    );
    if (!pending) return;
    const r = await pending;
    await tx
      .insertInto('dynamodb_stream_records')
      .values({
        stream_arn: stream.arn,
        seq: Number(r.dynamodb.SequenceNumber),
        table_name: table.name,
        created_at: now,
        record: JSON.stringify(r),
      })
      .execute();
  };
  const before = (table: TableSchema, key: StoredKey, found: Found | undefined) =>
    !activeStreamOf(table)
      ? undefined
      : found
        ? found.item
        : readItem(statements, tx, table.name, key);
  return {
    get: (table, key) => readItem(statements, tx, table, key),
    put: async (table, key, item, found, text = JSON.stringify(item)) => {
      const old = await before(table, key, found);
      // Index entries first: an item with a bad index key is refused before anything is written.
      await rewriteIndexRows(tx, table, key, item);
      await statements.upsert.run(tx, { table: table.name, pk: key.pk, sk: key.sk, item: text });
      await record(table, old, item);
    },
    delete: async (table, key, origin, found) => {
      const old = await before(table, key, found);
      await rewriteIndexRows(tx, table, key, undefined);
      await statements.remove.run(tx, { table: table.name, pk: key.pk, sk: key.sk });
      await record(table, old, undefined, origin);
    },
    tokenHash: async (token, since) => {
      const row = await tx
        .selectFrom('dynamodb_transaction_tokens')
        .select('request_hash')
        .where('token', '=', token)
        .where('created_at', '>=', since)
        .executeTakeFirst();
      return row?.request_hash;
    },
    recordToken: async (token, requestHash, now, forgetBefore) => {
      await tx
        .deleteFrom('dynamodb_transaction_tokens')
        .where('created_at', '<', forgetBefore)
        .execute();
      await tx
        .insertInto('dynamodb_transaction_tokens')
        .values({ token, request_hash: requestHash, created_at: now })
        .onConflict((oc) =>
          oc.column('token').doUpdateSet({ request_hash: requestHash, created_at: now }),
        )
        .execute();
    },
  };
}

/**
 * The table's next stream sequence number. The counter row stays locked until the transaction
 * commits, so numbers are handed out in commit order.
 */
async function nextSequence(tx: Transaction<DynamoTables>, table: string): Promise<string> {
  const row = await tx
    .insertInto('dynamodb_stream_counters')
    .values({ table_name: table, last_seq: 1 })
    .onConflict((oc) =>
      oc.column('table_name').doUpdateSet({ last_seq: sql`dynamodb_stream_counters.last_seq + 1` }),
    )
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return formatSequence(row.last_seq);
}

/** A signed 64-bit lock id for one item, as pg_advisory_xact_lock takes. */
function lockId(table: string, key: StoredKey): string {
  const h = createHash('sha256')
    .update(table)
    .update('\0')
    .update(key.pk)
    .update('\0')
    .update(key.sk)
    .digest();
  return h.readBigInt64BE(0).toString();
}
