import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The service stage that owns a resource other than an S3 bucket (DynamoDB table, SQS queue,
 * SNS topic, EventBridge bus, Kinesis stream, Cognito user pool): written by the deploy that
 * provisioned it and by API creates made with a stage's credentials, deleted with it. Session
 * credentials and scoped access keys of another stage are refused it (docs/security.md). No row:
 * shared by every caller. `kind` is the CloudFormation type (`AWS::DynamoDB::Table`), `name`
 * the resource's name (a user pool: its id).
 *
 * What earlier deploys provisioned is already in stage_resources: it is copied, so resources
 * deployed before this migration belong to their stage at once.
 */
export function resourceOwnersMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('resource_owners')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_owners_pk', ['kind', 'name'])
        .execute();
      await sql`insert into resource_owners (kind, name, service, stage)
        select type, physical_id, min(service), min(stage) from stage_resources
        group by type, physical_id`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('resource_owners').execute();
    },
  };
}
