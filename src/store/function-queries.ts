import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { FunctionRow } from './store.js';

type Db = Kysely<Database>;

const columns = ['id', 'stage_id as stageId', 'key', 'name'] as const;

/** Ordered by key. */
export async function listFunctions(db: Db, stageId: number): Promise<FunctionRow[]> {
  return db
    .selectFrom('functions')
    .select(columns)
    .where('stage_id', '=', stageId)
    .orderBy('key')
    .execute();
}

export async function findFunctionByName(db: Db, name: string): Promise<FunctionRow | undefined> {
  return db.selectFrom('functions').select(columns).where('name', '=', name).executeTakeFirst();
}

export async function insertFunction(
  db: Db,
  input: { stageId: number; key: string; name: string },
): Promise<FunctionRow> {
  return db
    .insertInto('functions')
    .values({ stage_id: input.stageId, key: input.key, name: input.name })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** Versions and aliases go with it (ON DELETE CASCADE). */
export async function deleteFunction(db: Db, functionId: number): Promise<void> {
  await db.deleteFrom('functions').where('id', '=', functionId).execute();
}
