import type { Kysely, Selectable } from 'kysely';
import type { ServiceDefinition } from '../model/service-definition.js';
import type { Database, DeploymentsTable } from './schema.js';
import type { DeploymentRow } from './store.js';

type Db = Kysely<Database>;

/** Newest first. */
export async function listDeployments(db: Db, stageId: number): Promise<DeploymentRow[]> {
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('stage_id', '=', stageId)
    .orderBy('timestamp', 'desc')
    .execute();
  return rows.map(toDeploymentRow);
}

export async function insertDeployment(db: Db, row: DeploymentRow): Promise<void> {
  await db
    .insertInto('deployments')
    .values({
      id: row.id,
      stage_id: row.stageId,
      timestamp: row.timestamp,
      hash: row.hash,
      definition: JSON.stringify(row.definition),
      functions: JSON.stringify(row.functions),
      artifacts: JSON.stringify(row.artifacts),
    })
    .execute();
}

/** Chunked: both dialects cap the number of bind parameters in one statement. */
export async function deleteDeployments(db: Db, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += deleteChunk) {
    await db
      .deleteFrom('deployments')
      .where('id', 'in', ids.slice(i, i + deleteChunk))
      .execute();
  }
}

const deleteChunk = 500;

function toDeploymentRow(row: Selectable<DeploymentsTable>): DeploymentRow {
  return {
    id: row.id,
    stageId: row.stage_id,
    timestamp: row.timestamp,
    hash: row.hash,
    definition: JSON.parse(row.definition) as ServiceDefinition,
    functions: JSON.parse(row.functions) as Record<string, number>,
    artifacts: JSON.parse(row.artifacts) as Record<string, string>,
  };
}
