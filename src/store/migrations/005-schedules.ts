import type { Kysely, Migration } from 'kysely';

/**
 * The schedule fire ledger (docs/schedules.md): per schedule, the latest slot that is settled
 * (fired, or the baseline set when the schedule was first seen). A fire claims its slot with a
 * conditional upsert on this row, which is what keeps a restart or a second node from firing it
 * twice.
 */
export function schedulesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('schedule_state')
        .addColumn('schedule_id', 'text', (c) => c.primaryKey())
        .addColumn('spec', 'text', (c) => c.notNull())
        // Epoch milliseconds, like deployments.timestamp: compared, never displayed.
        .addColumn('last_slot', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('schedule_state').execute();
    },
  };
}
