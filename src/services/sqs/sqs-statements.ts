/**
 * The statements of the SQS hot path (a queue's row, a batch's insert, a claim, a batch delete),
 * built and compiled once per store instead of once per call (src/store/precompiled-query.ts):
 * building and compiling with Kysely cost more than SQLite took to run most of them. Statements
 * over a batch of `n` messages are compiled the first time `n` is seen (1–10 for the API and
 * the poller).
 */
import { type Compilable, type Kysely, type QueryResult, sql } from 'kysely';
import type { SqlFlavor } from '../../store/migrations/sql-flavor.js';
import { precompile } from '../../store/precompiled-query.js';

/** The tables as sqs-store.ts declares them. */
export interface SqsTables {
  sqs_queues: { name: string; attributes: string; created_at: number; modified_at: number };
  sqs_messages: {
    id: string;
    queue: string;
    seq: number;
    body: string;
    message_attributes: string;
    md5_body: string;
    md5_attributes: string | null;
    sent_at: number;
    visible_at: number;
    receive_count: number;
    first_received_at: number | null;
    receipt: string | null;
    group_id: string | null;
    dedup_id: string | null;
  };
  sqs_dedup: { queue: string; dedup_id: string; message_id: string; expires_at: number };
}

export type MessageValues = SqsTables['sqs_messages'];
type Args = Record<string, unknown>;

const messageColumns = [
  'id',
  'queue',
  'seq',
  'body',
  'message_attributes',
  'md5_body',
  'md5_attributes',
  'sent_at',
  'visible_at',
  'receive_count',
  'first_received_at',
  'receipt',
  'group_id',
  'dedup_id',
] as const satisfies readonly (keyof MessageValues)[];

/** `name0 .. name{n-1}`: the argument names of a list of `n` values. */
const listed = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}${i}`);

/** The batch sizes a statement is compiled for; larger lists are compiled per call. */
const maxListed = 10;

/** A compiled statement run with the values `source` holds. */
export interface BoundStatement<S, R> {
  /** The statement's text (tests look at its query plan). */
  readonly sql: string;
  run(db: Pick<Kysely<unknown>, 'executeQuery'>, source: S): Promise<QueryResult<R>>;
}

/**
 * A statement over lists compiled once (precompile), whose parameters are then taken from a
 * source object by position: `values` says, per argument name, where its value is. Binding a
 * batch insert by names (140 of them) through an object keyed `id0`, `queue0`, ... cost more
 * than running it.
 */
function bound<S, R>(
  values: Map<string, (source: S) => unknown>,
  build: (a: Args) => Compilable<R>,
): BoundStatement<S, R> {
  const names = [...values.keys()];
  const marks = new Map(names.map((n) => [Symbol(n), n]));
  const template = precompile<Args, R>(names, build).bind(
    Object.fromEntries([...marks].map(([mark, n]) => [n, mark])),
  );
  const getters = template.parameters.map((p) => {
    const name = typeof p === 'symbol' ? marks.get(p) : undefined;
    return name === undefined ? () => p : (values.get(name) as (source: S) => unknown);
  });
  return {
    sql: template.sql,
    run: (db, source) =>
      db.executeQuery({ ...template, parameters: getters.map((get) => get(source)) }),
  };
}

export interface LeaseValues {
  ids: readonly string[];
  receipts: readonly string[];
  visibleAt: number;
  now: number;
}

export interface LeasedValues {
  ids: readonly string[];
  receipts: readonly string[];
  queue: string;
}

export function sqsStatements(db: Kysely<SqsTables>, flavor: SqlFlavor) {
  const perSize = <S, R>(make: (n: number) => BoundStatement<S, R>) => {
    const made = new Map<number, BoundStatement<S, R>>();
    return (n: number) => {
      let q = made.get(n);
      if (q === undefined) {
        q = make(n);
        if (n <= maxListed) made.set(n, q);
      }
      return q;
    };
  };
  /** `name0..` of `list(source)`: the getters of a listed argument. */
  const fromList = <S>(
    into: Map<string, (source: S) => unknown>,
    name: string,
    n: number,
    list: (source: S) => readonly unknown[],
  ) => {
    for (let i = 0; i < n; i++) into.set(`${name}${i}`, (source) => list(source)[i]);
    return into;
  };

  const queueRow = precompile<{ name: string }, SqsTables['sqs_queues']>(['name'], (a) =>
    db.selectFrom('sqs_queues').selectAll().where('name', '=', a.name),
  );

  const insert = perSize((n) => {
    const values = new Map<string, (rows: readonly MessageValues[]) => unknown>();
    for (let i = 0; i < n; i++) {
      for (const c of messageColumns) values.set(`${c}${i}`, (rows) => rows[i]![c]);
    }
    return bound<readonly MessageValues[], never>(values, (a) =>
      db
        .insertInto('sqs_messages')
        .values(
          Array.from(
            { length: n },
            (_, i) =>
              Object.fromEntries(
                messageColumns.map((c) => [c, a[`${c}${i}`]]),
              ) as unknown as MessageValues,
          ),
        ),
    );
  });

  /**
   * A standard queue's claim candidates: the oldest visible first, in the order of the index on
   * (queue, visible_at, seq), so a claim reads its few rows off the index. PostgreSQL locks
   * them with SKIP LOCKED: pollers on other nodes take the next messages instead.
   */
  const standardCandidates = precompile<
    { queue: string; now: number; sentAfter: number; max: number },
    MessageValues
  >(['queue', 'now', 'sentAfter', 'max'], (a) => {
    const q = db
      .selectFrom('sqs_messages')
      .selectAll()
      .where('queue', '=', a.queue)
      .where('visible_at', '<=', a.now)
      // Expired but not yet swept: never handed out.
      .where('sent_at', '>', a.sentAfter)
      .orderBy('visible_at')
      .orderBy('seq')
      .limit(a.max);
    return flavor === 'postgres' ? q.forUpdate().skipLocked() : q;
  });

  /**
   * The lease of a claimed batch: each message its own receipt, one visibility, one more
   * receive. Still visible only: a claim by another node in between (SQLite files shared by two
   * processes; PostgreSQL FIFO rows read unlocked) leaves the message to that one.
   */
  const lease = perSize((n) => {
    const ids = listed('id', n);
    const receipts = listed('receipt', n);
    const values = new Map<string, (v: LeaseValues) => unknown>([
      ['visibleAt', (v) => v.visibleAt],
      ['now', (v) => v.now],
    ]);
    fromList(values, 'id', n, (v) => v.ids);
    fromList(values, 'receipt', n, (v) => v.receipts);
    return bound<LeaseValues, { id: string }>(values, (a) =>
      db
        .updateTable('sqs_messages')
        .set({
          receipt: sql<string>`case id ${sql.join(
            ids.map((id, i) => sql`when ${a[id]} then ${a[receipts[i]!]}`),
            sql` `,
          )} end`,
          visible_at: a.visibleAt as number,
          receive_count: sql<number>`receive_count + 1`,
          first_received_at: sql<number>`coalesce(first_received_at, ${a.now})`,
        })
        .where(
          'id',
          'in',
          ids.map((id) => a[id] as string),
        )
        .where('visible_at', '<=', a.now as number)
        .returning('id'),
    );
  });

  /**
   * Deletes the messages whose latest receipt is one of the receipts, found by id (the primary
   * key; a receipt names its message). On SQLite the queue's term is kept off the index (`+`):
   * with no statistics its planner took the index on (queue, visible_at, seq) for `queue = ?`
   * over ten primary-key lookups and read every message of the queue for each batch delete
   * (1 ms per batch with a backlog of thousands). PostgreSQL's planner has statistics.
   */
  const deleteLeased = perSize((n) => {
    const ids = listed('id', n);
    const receipts = listed('receipt', n);
    const queueTerm = flavor === 'sqlite' ? sql<string>`+queue` : sql<string>`queue`;
    const values = new Map<string, (v: LeasedValues) => unknown>([['queue', (v) => v.queue]]);
    fromList(values, 'id', n, (v) => v.ids);
    fromList(values, 'receipt', n, (v) => v.receipts);
    return bound<LeasedValues, never>(values, (a) =>
      db
        .deleteFrom('sqs_messages')
        .where(
          'id',
          'in',
          ids.map((id) => a[id] as string),
        )
        .where(queueTerm, '=', a.queue as string)
        .where(
          'receipt',
          'in',
          receipts.map((r) => a[r] as string),
        ),
    );
  });

  return { queueRow, insert, standardCandidates, lease, deleteLeased };
}
