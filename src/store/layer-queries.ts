import type { Kysely, Selectable } from 'kysely';
import type { Database, LayerVersionsTable } from './schema.js';
import type { LayerVersionRow, LayerVersionSettings } from './store.js';

type Db = Kysely<Database>;

/** By name, then version; one name only when given. */
export async function listLayerVersions(db: Db, name?: string): Promise<LayerVersionRow[]> {
  let query = db.selectFrom('layer_versions').selectAll();
  if (name !== undefined) query = query.where('name', '=', name);
  const rows = await query.orderBy('name').orderBy('version').execute();
  return rows.map(toRow);
}

export async function getLayerVersion(
  db: Db,
  name: string,
  version: number,
): Promise<LayerVersionRow | undefined> {
  const row = await db
    .selectFrom('layer_versions')
    .selectAll()
    .where('name', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && toRow(row);
}

/**
 * Takes the name's next number from `layers` (bumped in the same statement, so two publishers
 * in one database never get the same number) and stores the version under it.
 */
export async function insertLayerVersion(
  db: Db,
  row: Omit<LayerVersionRow, 'version'>,
): Promise<LayerVersionRow> {
  const { last_version: version } = await db
    .insertInto('layers')
    .values({ name: row.name, last_version: 1 })
    .onConflict((c) =>
      c.column('name').doUpdateSet((eb) => ({ last_version: eb('layers.last_version', '+', 1) })),
    )
    .returning('last_version')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('layer_versions')
    .values({
      name: row.name,
      version,
      code_sha256: row.codeSha256,
      code_size: row.codeSize,
      unzipped_size: row.unzippedSize,
      config: JSON.stringify(row.settings),
      config_sha256: row.configSha256,
      owner: row.owner ?? null,
      created_at: row.createdAt,
    })
    .execute();
  return { ...row, version };
}

export async function deleteLayerVersion(db: Db, name: string, version: number): Promise<boolean> {
  const result = await db
    .deleteFrom('layer_versions')
    .where('name', '=', name)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function toRow(r: Selectable<LayerVersionsTable>): LayerVersionRow {
  return {
    name: r.name,
    version: Number(r.version),
    codeSha256: r.code_sha256,
    codeSize: Number(r.code_size),
    unzippedSize: Number(r.unzipped_size),
    settings: JSON.parse(r.config) as LayerVersionSettings,
    configSha256: r.config_sha256,
    ...(r.owner === null ? {} : { owner: r.owner }),
    createdAt: r.created_at,
  };
}
