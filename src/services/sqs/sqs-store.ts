/**
 * Queues and messages in the Store's database (migration 011), on SQLite and PostgreSQL alike.
 * A receive claims its batch with one conditional update in one transaction, so two
 * receivers — in this process or on other nodes — never get the same message at once.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { groupCommitter } from '../../store/group-commit.js';
import type { SqlFlavor } from '../../store/migrations/sql-flavor.js';
import type { Database } from '../../store/schema.js';
import { type MessageValues, type SqsTables, sqsStatements } from './sqs-statements.js';

export interface QueueRow {
  name: string;
  attributes: Record<string, string>;
  createdAt: number;
  modifiedAt: number;
}

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as the JSON protocol carries it. */
  BinaryValue?: string;
}

export interface MessageRow {
  id: string;
  queue: string;
  seq: number;
  body: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  md5Body: string;
  md5Attributes?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receipt?: string;
  groupId?: string;
  dedupId?: string;
}

export interface NewMessage {
  body: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  md5Body: string;
  md5Attributes?: string;
  delayMs: number;
  groupId?: string;
  dedupId?: string;
}

export interface ClaimRules {
  now: number;
  max: number;
  visibilityMs: number;
  retentionMs: number;
  fifo: boolean;
  /** Messages received this many times already go to `deadLetterQueue` instead. */
  redrive?: { maxReceiveCount: number; deadLetterQueue: string };
}

/** How long a FIFO deduplication id is remembered, as on SQS. */
export const dedupWindowMs = 5 * 60 * 1000;

const sweepEveryMs = 1000;

/** A lease or a delete of leased messages: see #write. */
const notDurable = { durable: false };

/** Messages per insert, lease or delete statement: the sizes sqs-statements.ts compiles once. */
const listedMax = 10;

export class SqsStore {
  readonly #db: Kysely<SqsTables>;
  readonly #flavor: SqlFlavor;
  readonly #statements: ReturnType<typeof sqsStatements>;
  #lastSeq = 0;
  #idCounter = 0;
  /** When each queue was last swept of expired messages (this process). */
  readonly #sweptAt = new Map<string, number>();

  constructor(db: unknown, flavor: SqlFlavor) {
    this.#db = db as unknown as Kysely<SqsTables>;
    this.#flavor = flavor;
    this.#statements = sqsStatements(this.#db, flavor);
  }

  /** False when a queue of that name exists already. */
  async createQueue(row: QueueRow): Promise<boolean> {
    const result = await this.#db
      .insertInto('sqs_queues')
      .values({
        name: row.name,
        attributes: JSON.stringify(row.attributes),
        created_at: row.createdAt,
        modified_at: row.modifiedAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findQueue(name: string): Promise<QueueRow | undefined> {
    const [row] = (await this.#statements.queueRow.run(this.#db, { name })).rows;
    return row && queueRow(row);
  }

  async listQueues(prefix: string): Promise<QueueRow[]> {
    const rows = await this.#db.selectFrom('sqs_queues').selectAll().orderBy('name').execute();
    return rows.filter((r) => r.name.startsWith(prefix)).map(queueRow);
  }

  async setAttributes(name: string, attributes: Record<string, string>, now: number) {
    await this.#db
      .updateTable('sqs_queues')
      .set({ attributes: JSON.stringify(attributes), modified_at: now })
      .where('name', '=', name)
      .execute();
  }

  async deleteQueue(name: string): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('sqs_dedup').where('queue', '=', name).execute();
      await tx.deleteFrom('sqs_messages').where('queue', '=', name).execute();
      await tx.deleteFrom('sqs_queues').where('name', '=', name).execute();
    });
  }

  async purge(name: string): Promise<void> {
    await this.#db.deleteFrom('sqs_messages').where('queue', '=', name).execute();
  }

  /**
   * Adds a message; on a FIFO queue a deduplication id seen within the window answers the
   * first message's id instead, and nothing is added.
   */
  async send(queue: string, message: NewMessage, now: number): Promise<{ id: string }> {
    return this.#write((tx) => this.#insert(tx, queue, message, now));
  }

  /**
   * Runs a write in a transaction. On SQLite (one writer) concurrent writes share one: sends,
   * claims and deletes of many callers commit together (one fsync with synchronous=FULL), each
   * in its own savepoint. A send is answered after that commit is on disk; a claim or a delete
   * of leased messages (`durable: false`) as soon as it is committed: lost in a power cut, the
   * message would only be delivered again, which at-least-once delivery allows. Either is in
   * the WAL, so a crash or kill -9 of the platform loses neither.
   */
  #write<T>(
    work: (tx: Kysely<SqsTables>) => Promise<T>,
    opts: { durable: boolean } = { durable: true },
  ): Promise<T> {
    if (this.#flavor === 'sqlite') {
      return groupCommitter(this.#db as unknown as Kysely<Database>).run(
        (tx) => work(tx as unknown as Kysely<SqsTables>),
        { isolated: true, durable: opts.durable },
      );
    }
    return this.#db.transaction().execute(work);
  }

  /**
   * Adds messages in one transaction (SendMessageBatch: one commit, one sync to disk, instead of
   * one per entry), each as `send` would, in order.
   */
  async sendMany(
    queue: string,
    messages: readonly NewMessage[],
    now: number,
  ): Promise<{ id: string }[]> {
    if (messages.length === 0) return [];
    return this.#write(async (tx) => {
      // Without deduplication ids (every standard queue's message) the batch is one multi-row
      // INSERT: one statement to build and run instead of one per message.
      if (messages.every((m) => m.dedupId === undefined)) {
        const rows = messages.map((m) => this.#messageValues(this.#newId(now), queue, m, now));
        await this.#insertRows(tx, rows);
        return rows.map((r) => ({ id: r.id }));
      }
      const ids: { id: string }[] = [];
      for (const message of messages) ids.push(await this.#insert(tx, queue, message, now));
      return ids;
    });
  }

  /** Rows in statements of at most ten (the batch sizes compiled once). */
  async #insertRows(tx: Kysely<SqsTables>, rows: readonly MessageValues[]) {
    for (let at = 0; at < rows.length; at += listedMax) {
      const part = rows.slice(at, at + listedMax);
      await this.#statements.insert(part.length).run(tx, part);
    }
  }

  /** A new message's row: visible after its delay, never received. */
  #messageValues(id: string, queue: string, message: NewMessage, now: number): MessageValues {
    return {
      id,
      queue,
      seq: this.#nextSeq(now),
      body: message.body,
      message_attributes: JSON.stringify(message.messageAttributes),
      md5_body: message.md5Body,
      md5_attributes: message.md5Attributes ?? null,
      sent_at: now,
      visible_at: now + message.delayMs,
      receive_count: 0,
      first_received_at: null,
      receipt: null,
      group_id: message.groupId ?? null,
      dedup_id: message.dedupId ?? null,
    };
  }

  async #insert(
    tx: Kysely<SqsTables>,
    queue: string,
    message: NewMessage,
    now: number,
  ): Promise<{ id: string }> {
    const id = this.#newId(now);
    if (message.dedupId !== undefined) {
      await tx
        .deleteFrom('sqs_dedup')
        .where('queue', '=', queue)
        .where('dedup_id', '=', message.dedupId)
        .where('expires_at', '<=', now)
        .execute();
      // Claimed first, with ON CONFLICT: a concurrent send of the same id (another node)
      // waits for this one to commit, then finds its row instead of failing on the key.
      const claimed = await tx
        .insertInto('sqs_dedup')
        .values({
          queue,
          dedup_id: message.dedupId,
          message_id: id,
          expires_at: now + dedupWindowMs,
        })
        .onConflict((oc) => oc.columns(['queue', 'dedup_id']).doNothing())
        .executeTakeFirst();
      if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) {
        const seen = await tx
          .selectFrom('sqs_dedup')
          .select('message_id')
          .where('queue', '=', queue)
          .where('dedup_id', '=', message.dedupId)
          .executeTakeFirstOrThrow();
        return { id: seen.message_id };
      }
    }
    await this.#insertRows(tx, [this.#messageValues(id, queue, message, now)]);
    return { id };
  }

  /**
   * Claims up to `max` visible messages in one transaction, moving over-received ones to the
   * dead-letter queue: one read of the candidates and one conditional UPDATE for the whole
   * batch (was one UPDATE per message, the bottleneck of SQS -> function throughput).
   * PostgreSQL: a standard queue's candidates are locked with SKIP LOCKED, so pollers on
   * other nodes take the next messages instead of colliding on the same ones; a FIFO queue's
   * claims are serialized on the queue row (FOR NO KEY UPDATE, which sends' foreign-key
   * checks do not wait on), because group order needs the whole picture of what is in flight.
   */
  async claim(queue: string, rules: ClaimRules): Promise<MessageRow[]> {
    const { now } = rules;
    await this.#sweepExpired(queue, now, rules.retentionMs);
    return this.#write(async (tx) => {
      if (rules.fifo && this.#flavor === 'postgres') {
        await tx
          .selectFrom('sqs_queues')
          .select('name')
          .where('name', '=', queue)
          .forNoKeyUpdate()
          .execute();
      }
      const candidates = (
        rules.fifo
          ? await fifoCandidates(tx, queue, now, rules.retentionMs)
          : (
              await this.#statements.standardCandidates.run(tx, {
                queue,
                now,
                sentAfter: now - rules.retentionMs,
                max: rules.max,
              })
            ).rows
      ).map(messageRow);
      const blockedGroups = rules.fifo ? await inFlightGroups(tx, queue, now) : new Set<string>();
      const chosen: MessageRow[] = [];
      for (const row of candidates) {
        if (chosen.length >= rules.max) break;
        if (row.groupId !== undefined && blockedGroups.has(row.groupId)) continue;
        if (rules.redrive && row.receiveCount >= rules.redrive.maxReceiveCount) {
          await this.#moveToDeadLetters(tx, row, rules.redrive.deadLetterQueue, now);
          // A later message of the same group must wait its turn behind the one moved.
          if (row.groupId !== undefined) blockedGroups.add(row.groupId);
          continue;
        }
        chosen.push(row);
      }
      if (chosen.length === 0) return [];
      const receipts = new Map(chosen.map((row) => [row.id, newReceipt(row.id)]));
      const visibleAt = now + rules.visibilityMs;
      const ids = chosen.map((row) => row.id);
      const updated = (
        await this.#statements.lease(ids.length).run(tx, {
          ids,
          receipts: ids.map((id) => receipts.get(id) as string),
          visibleAt,
          now,
        })
      ).rows;
      const won = new Set(updated.map((r) => r.id));
      return chosen
        .filter((row) => won.has(row.id))
        .map((row) => ({
          ...row,
          receipt: receipts.get(row.id) as string,
          visibleAt,
          receiveCount: row.receiveCount + 1,
          firstReceivedAt: row.firstReceivedAt ?? now,
        }));
    }, notDurable);
  }

  /**
   * Deletes messages past the retention period, at most once a second per queue: the delete
   * reads every message of the queue, and claims already skip expired ones.
   */
  async #sweepExpired(queue: string, now: number, retentionMs: number) {
    const last = this.#sweptAt.get(queue);
    if (last !== undefined && now - last < sweepEveryMs && now >= last) return;
    this.#sweptAt.set(queue, now);
    await this.#db
      .deleteFrom('sqs_messages')
      .where('queue', '=', queue)
      .where('sent_at', '<=', now - retentionMs)
      .execute();
  }

  async #moveToDeadLetters(
    tx: Kysely<SqsTables>,
    row: MessageRow,
    deadLetterQueue: string,
    now: number,
  ) {
    await tx
      .updateTable('sqs_messages')
      .set({ queue: deadLetterQueue, visible_at: now, receipt: null, seq: this.#nextSeq(now) })
      .where('id', '=', row.id)
      .where('receive_count', '=', row.receiveCount)
      .execute();
  }

  /** The message a receipt names, if it is still in the queue. */
  async findByReceipt(queue: string, receipt: string): Promise<MessageRow | undefined> {
    const id = messageIdOf(receipt);
    if (id === undefined) return undefined;
    const row = await this.#db
      .selectFrom('sqs_messages')
      .selectAll()
      .where('id', '=', id)
      .where('queue', '=', queue)
      .executeTakeFirst();
    return row && messageRow(row);
  }

  async delete(id: string): Promise<void> {
    await this.#db.deleteFrom('sqs_messages').where('id', '=', id).execute();
  }

  /**
   * Deletes the messages whose latest receipt is one of `receipts`, in one statement: a message
   * received again since (its lease ran out) belongs to that receive and stays. Found by id (the
   * primary key; a receipt names its message), not by scanning the queue for the receipts: a
   * receipt is made for one message, so `id in ids and receipt in receipts` matches pairs only.
   */
  async deleteLeased(queue: string, receipts: readonly string[]): Promise<void> {
    const leased = receipts.flatMap((receipt) => {
      const id = messageIdOf(receipt);
      return id === undefined ? [] : [{ id, receipt }];
    });
    if (leased.length === 0) return;
    await this.#write(async (tx) => {
      for (let at = 0; at < leased.length; at += listedMax) {
        const part = leased.slice(at, at + listedMax);
        await this.#statements.deleteLeased(part.length).run(tx, {
          ids: part.map((l) => l.id),
          receipts: part.map((l) => l.receipt),
          queue,
        });
      }
    }, notDurable);
  }

  /** False when the receipt is no longer the message's latest (it was received again). */
  async changeVisibility(id: string, receipt: string, visibleAt: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('sqs_messages')
      .set({ visible_at: visibleAt })
      .where('id', '=', id)
      .where('receipt', '=', receipt)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async counts(queue: string, now: number) {
    // Counted by the database: a backlog of thousands is not read row by row for three numbers.
    const row = await this.#db
      .selectFrom('sqs_messages')
      .select([
        sql<number | string | null>`sum(case when visible_at <= ${now} then 1 else 0 end)`.as(
          'visible',
        ),
        sql<
          number | string | null
        >`sum(case when visible_at > ${now} and receipt is not null then 1 else 0 end)`.as(
          'in_flight',
        ),
        sql<
          number | string | null
        >`sum(case when visible_at > ${now} and receipt is null then 1 else 0 end)`.as('delayed'),
      ])
      .where('queue', '=', queue)
      .executeTakeFirst();
    return {
      visible: Number(row?.visible ?? 0),
      inFlight: Number(row?.in_flight ?? 0),
      delayed: Number(row?.delayed ?? 0),
    };
  }

  /**
   * A message id: a UUID in the layout of version 7 (the time in ms, then a counter, then 62
   * random bits), so ids made one after another are near each other in the primary key's index.
   * With random (version 4) ids every message of a batch landed on its own leaf page of that
   * index, and each insert and each delete wrote one more page to the WAL per message. Clients
   * see an opaque UUID, as SQS's.
   */
  #newId(now: number): string {
    this.#idCounter = (this.#idCounter + 1) & 0xfff;
    const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
    const counter = this.#idCounter.toString(16).padStart(3, '0');
    const random = randomUUID();
    return `${time.slice(0, 8)}-${time.slice(8)}-7${counter}-${random.slice(19)}`;
  }

  /** Strictly increasing within this process, and near the clock so nodes roughly agree. */
  #nextSeq(now: number): number {
    this.#lastSeq = Math.max(this.#lastSeq + 1, now * 1000);
    return this.#lastSeq;
  }
}

/**
 * A FIFO queue's claim candidates in send order (its groups' order), the first thousand visible.
 */
async function fifoCandidates(
  tx: Kysely<SqsTables>,
  queue: string,
  now: number,
  retentionMs: number,
): Promise<MessageValues[]> {
  return tx
    .selectFrom('sqs_messages')
    .selectAll()
    .where('queue', '=', queue)
    .where('visible_at', '<=', now)
    .where('sent_at', '>', now - retentionMs)
    .orderBy('seq')
    .limit(1000)
    .execute();
}

/** The FIFO groups with a message in flight: no other message of theirs may be received. */
async function inFlightGroups(
  tx: Kysely<SqsTables>,
  queue: string,
  now: number,
): Promise<Set<string>> {
  const rows = await tx
    .selectFrom('sqs_messages')
    .select('group_id')
    .distinct()
    .where('queue', '=', queue)
    .where('visible_at', '>', now)
    .where('receipt', 'is not', null)
    .execute();
  return new Set(rows.flatMap((r) => (r.group_id === null ? [] : [r.group_id])));
}

/**
 * A receipt handle: the message id and a fresh nonce, so each receive's handle differs and none
 * can be guessed from the id. The nonce is a random UUID (122 random bits), taken from the pool
 * Node keeps: a randomBytes call per message was 1.3% of the server's time on the SQS path.
 */
function newReceipt(messageId: string): string {
  return Buffer.from(`${messageId} ${randomUUID()}`).toString('base64url');
}

/** The message id a receipt handle carries; undefined when it is not one of ours. */
export function messageIdOf(receipt: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(receipt)) return undefined;
  const [id, nonce, extra] = Buffer.from(receipt, 'base64url').toString('utf8').split(' ');
  if (extra !== undefined || !nonce || !/^[0-9a-f-]{36}$/.test(id ?? '')) return undefined;
  return id;
}

function queueRow(row: SqsTables['sqs_queues']): QueueRow {
  return {
    name: row.name,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    createdAt: Number(row.created_at),
    modifiedAt: Number(row.modified_at),
  };
}

function messageRow(row: MessageValues): MessageRow {
  return {
    id: row.id,
    queue: row.queue,
    seq: Number(row.seq),
    body: row.body,
    messageAttributes: JSON.parse(row.message_attributes) as Record<string, MessageAttributeValue>,
    md5Body: row.md5_body,
    ...(row.md5_attributes === null ? {} : { md5Attributes: row.md5_attributes }),
    sentAt: Number(row.sent_at),
    visibleAt: Number(row.visible_at),
    receiveCount: Number(row.receive_count),
    ...(row.first_received_at === null ? {} : { firstReceivedAt: Number(row.first_received_at) }),
    ...(row.receipt === null ? {} : { receipt: row.receipt }),
    ...(row.group_id === null ? {} : { groupId: row.group_id }),
    ...(row.dedup_id === null ? {} : { dedupId: row.dedup_id }),
  };
}
