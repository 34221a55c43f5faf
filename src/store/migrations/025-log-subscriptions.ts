import type { Kysely, Migration } from 'kysely';

/**
 * Where each `cloudwatchLog` subscription has read its source function's log events up to
 * (docs/logs.md#subscriptions): the id of the last log event handled, so delivery resumes after
 * a restart with nothing lost (at least once).
 */
export function logSubscriptionsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('log_subscription_cursors')
        // A hash of the stage, the subscribing function, the event's index and its settings.
        .addColumn('id', 'text', (c) => c.primaryKey())
        // `<service>/<stage>`: a stage's cursors go with its subscriptions.
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('last_event_id', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('log_subscription_cursors').execute();
    },
  };
}
