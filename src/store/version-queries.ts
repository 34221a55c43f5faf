import type { Kysely, Selectable } from 'kysely';
import type { FunctionDefinition } from '../model/service-definition.js';
import type { Database, FunctionVersionsTable } from './schema.js';
import type { AliasRow, VersionRow } from './store.js';

type Db = Kysely<Database>;

/** Oldest first. */
export async function listVersions(db: Db, functionId: number): Promise<VersionRow[]> {
  const rows = await db
    .selectFrom('function_versions')
    .selectAll()
    .where('function_id', '=', functionId)
    .orderBy('version')
    .execute();
  return rows.map(toVersionRow);
}

export async function getVersion(
  db: Db,
  functionId: number,
  version: number,
): Promise<VersionRow | undefined> {
  const row = await db
    .selectFrom('function_versions')
    .selectAll()
    .where('function_id', '=', functionId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row && toVersionRow(row);
}

export async function insertVersion(db: Db, row: VersionRow): Promise<void> {
  await db
    .insertInto('function_versions')
    .values({
      function_id: row.functionId,
      version: row.version,
      code_sha256: row.codeSha256,
      code_size: row.codeSize,
      config_sha256: row.configSha256,
      config: JSON.stringify(row.config),
      created_at: row.createdAt,
    })
    .execute();
}

/** Ordered by name. */
export async function listAliases(db: Db, functionId: number): Promise<AliasRow[]> {
  const rows = await db
    .selectFrom('aliases')
    .selectAll()
    .where('function_id', '=', functionId)
    .orderBy('name')
    .execute();
  return rows.map((r) => ({
    functionId: r.function_id,
    name: r.name,
    version: r.version,
    ...(r.routing === null ? {} : { routing: JSON.parse(r.routing) as Record<string, number> }),
    ...(r.description === null ? {} : { description: r.description }),
  }));
}

/** Creates the alias or replaces it (version, routing and description). */
export async function setAlias(db: Db, row: AliasRow): Promise<void> {
  const routing =
    row.routing && Object.keys(row.routing).length > 0 ? JSON.stringify(row.routing) : null;
  const values = { version: row.version, routing, description: row.description ?? null };
  await db
    .insertInto('aliases')
    .values({ function_id: row.functionId, name: row.name, ...values })
    .onConflict((oc) => oc.columns(['function_id', 'name']).doUpdateSet(values))
    .execute();
}

export async function deleteAlias(db: Db, functionId: number, name: string): Promise<boolean> {
  const result = await db
    .deleteFrom('aliases')
    .where('function_id', '=', functionId)
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** False when there was no such version. Its aliases are the caller's concern. */
export async function deleteVersion(db: Db, functionId: number, version: number): Promise<boolean> {
  const result = await db
    .deleteFrom('function_versions')
    .where('function_id', '=', functionId)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function toVersionRow(row: Selectable<FunctionVersionsTable>): VersionRow {
  return {
    functionId: row.function_id,
    version: row.version,
    codeSha256: row.code_sha256,
    codeSize: row.code_size,
    configSha256: row.config_sha256,
    config: JSON.parse(row.config) as FunctionDefinition,
    createdAt: row.created_at,
  };
}
