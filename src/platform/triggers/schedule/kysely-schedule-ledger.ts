import type { Kysely } from 'kysely';
import type { Database } from '../../../store/schema.js';
import type { ScheduleLedger } from './schedule-ledger.js';

/**
 * - `record-first` (default): the claim commits, then hand-on runs. At most once: a crash or a
 *   failed hand-on after the commit loses that slot. Right for a queue outside the database.
 * - `same-transaction`: hand-on runs inside the claim's transaction and gets the transaction, so
 *   an enqueue into an SQL work queue commits or rolls back with the claim. Exactly once, as long
 *   as hand-on only writes through the handle it is given (on SQLite, a query on the outer handle
 *   inside the transaction would wait for it forever).
 */
export type HandOnMode = 'record-first' | 'same-transaction';

/** Rows per statement when syncing, well under SQLite's and PostgreSQL's parameter limits. */
const chunkSize = 200;

/**
 * The ledger in the platform database (SQLite or PostgreSQL, same queries). The handle belongs to
 * the composition root; this adapter only borrows it.
 */
export class KyselyScheduleLedger implements ScheduleLedger<Kysely<Database>> {
  readonly #db: Kysely<Database>;
  readonly #mode: HandOnMode;

  constructor(db: Kysely<Database>, opts: { mode?: HandOnMode } = {}) {
    this.#db = db;
    this.#mode = opts.mode ?? 'record-first';
  }

  async sync(
    entries: readonly { id: string; spec: string }[],
    nowMs: number,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < entries.length; i += chunkSize) {
      const chunk = entries.slice(i, i + chunkSize);
      // One statement: insert what is new, reset what changed, leave the rest (and any slot a
      // peer claimed meanwhile) alone.
      await this.#db
        .insertInto('schedule_state')
        .values(
          chunk.map((e) => ({
            schedule_id: e.id,
            spec: e.spec,
            last_slot: nowMs,
            updated_at: nowMs,
          })),
        )
        .onConflict((oc) =>
          oc
            .column('schedule_id')
            .doUpdateSet((eb) => ({
              spec: eb.ref('excluded.spec'),
              last_slot: eb.ref('excluded.last_slot'),
              updated_at: eb.ref('excluded.updated_at'),
            }))
            .where('schedule_state.spec', '<>', (eb) => eb.ref('excluded.spec')),
        )
        .execute();
      const rows = await this.#db
        .selectFrom('schedule_state')
        .select(['schedule_id', 'last_slot'])
        .where(
          'schedule_id',
          'in',
          chunk.map((e) => e.id),
        )
        .execute();
      for (const row of rows) out.set(row.schedule_id, Number(row.last_slot));
    }
    return out;
  }

  async claim(
    scheduleId: string,
    slotMs: number,
    nowMs: number,
    handOn: (ctx: Kysely<Database>) => Promise<void>,
  ): Promise<boolean> {
    if (this.#mode === 'same-transaction') {
      return this.#db.transaction().execute(async (tx) => {
        const claimed = await claimScheduleSlot(tx, scheduleId, slotMs, nowMs);
        if (claimed) await handOn(tx);
        return claimed;
      });
    }
    const claimed = await claimScheduleSlot(this.#db, scheduleId, slotMs, nowMs);
    if (claimed) await handOn(this.#db);
    return claimed;
  }

  async forget(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += chunkSize) {
      await this.#db
        .deleteFrom('schedule_state')
        .where('schedule_id', 'in', ids.slice(i, i + chunkSize))
        .execute();
    }
  }
}

/**
 * The claim itself, for callers composing their own transaction: one conditional upsert, so of
 * any number of racing callers (a restarted node, a second node) exactly one gets the row back.
 */
export async function claimScheduleSlot(
  db: Kysely<Database>,
  scheduleId: string,
  slotMs: number,
  nowMs: number,
): Promise<boolean> {
  const row = await db
    .insertInto('schedule_state')
    // A claim for a row that is gone (forgotten by a redeploy racing this fire) recreates it with
    // an empty spec, which the next sync replaces.
    .values({ schedule_id: scheduleId, spec: '', last_slot: slotMs, updated_at: nowMs })
    .onConflict((oc) =>
      oc
        .column('schedule_id')
        .doUpdateSet((eb) => ({
          last_slot: eb.ref('excluded.last_slot'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('schedule_state.last_slot', '<', (eb) => eb.ref('excluded.last_slot')),
    )
    .returning('schedule_id')
    .executeTakeFirst();
  return row !== undefined;
}
