import type { Kysely, Migration } from 'kysely';

/**
 * EventBridge buses, rules and targets (docs/eventbridge.md). Times are epoch milliseconds; the
 * `default` bus is not a row (it always exists). A rule's and a target's settings are JSON.
 */
export function eventBridgeMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('events_buses')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('events_rules')
        .addColumn('bus', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        // JSON: EventPattern, ScheduleExpression, State, Description.
        .addColumn('settings', 'text', (c) => c.notNull())
        // `<service>/<stage>` for rules an `eventBridge` event made; null for API-made ones.
        .addColumn('owner', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_rules_pk', ['bus', 'name'])
        .execute();
      await db.schema
        .createTable('events_targets')
        .addColumn('bus', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        // JSON: the Target as PutTargets gave it (Arn, Input, InputPath, InputTransformer...).
        .addColumn('target', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('events_targets_pk', ['bus', 'rule', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('events_targets').execute();
      await db.schema.dropTable('events_rules').execute();
      await db.schema.dropTable('events_buses').execute();
    },
  };
}
