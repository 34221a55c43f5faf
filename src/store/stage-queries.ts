import type { Kysely, Selectable } from 'kysely';
import type { Database, StagesTable } from './schema.js';
import type { StageRow } from './store.js';

type Db = Kysely<Database>;

export async function findStage(
  db: Db,
  service: string,
  stage: string,
): Promise<StageRow | undefined> {
  const row = await db
    .selectFrom('stages')
    .selectAll()
    .where('service', '=', service)
    .where('stage', '=', stage)
    .executeTakeFirst();
  return row && toStageRow(row);
}

/** Ordered by service, then stage, so listings are stable. */
export async function listStages(db: Db): Promise<StageRow[]> {
  const rows = await db
    .selectFrom('stages')
    .selectAll()
    .orderBy('service')
    .orderBy('stage')
    .execute();
  return rows.map(toStageRow);
}

/** One statement (insert or update on the unique key), so two racing deploys cannot both insert. */
export async function upsertStage(
  db: Db,
  input: { service: string; stage: string; region: string; now: string },
): Promise<StageRow> {
  const row = await db
    .insertInto('stages')
    .values({
      service: input.service,
      stage: input.stage,
      region: input.region,
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) =>
      oc.columns(['service', 'stage']).doUpdateSet({ region: input.region, updated_at: input.now }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toStageRow(row);
}

/** Functions, versions, aliases and deployments go with it (ON DELETE CASCADE). */
export async function deleteStage(db: Db, stageId: number): Promise<void> {
  await db.deleteFrom('stages').where('id', '=', stageId).execute();
}

function toStageRow(row: Selectable<StagesTable>): StageRow {
  return {
    id: row.id,
    service: row.service,
    stage: row.stage,
    region: row.region,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
