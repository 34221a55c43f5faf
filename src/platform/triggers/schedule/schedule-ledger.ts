/**
 * The ScheduleLedger port: where the scheduler records which slots are settled. The one adapter,
 * on the shared Kysely handle, is kysely-schedule-ledger.ts; both dialects pass test/triggers/.
 *
 * `Ctx` is what a fire's hand-on receives from the ledger: for the Kysely ledger, the database
 * handle (the transaction itself when hand-on runs inside the claim's transaction), so an SQL
 * work queue can enqueue in the same commit as the claim.
 */
export interface ScheduleLedger<Ctx> {
  /**
   * Makes sure each schedule has a row; a new schedule, or one whose spec changed, starts at
   * `nowMs` (nothing before it is caught up). Resolves to each id's last settled slot.
   */
  sync(
    entries: readonly { id: string; spec: string }[],
    nowMs: number,
  ): Promise<Map<string, number>>;
  /**
   * Claims `slotMs` for the schedule iff it is later than the recorded slot, and runs `handOn`
   * for a claimed slot. Resolves to whether this call claimed it. If `handOn` throws, the error
   * propagates; whether the claim stands depends on the adapter's mode (see docs/schedules.md).
   */
  claim(
    scheduleId: string,
    slotMs: number,
    nowMs: number,
    handOn: (ctx: Ctx) => Promise<void>,
  ): Promise<boolean>;
  /** Drops the rows of schedules that no longer exist. */
  forget(ids: readonly string[]): Promise<void>;
}
