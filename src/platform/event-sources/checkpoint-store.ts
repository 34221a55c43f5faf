/**
 * Durable per-shard checkpoints of stream mappings (migration 024), on SQLite and PostgreSQL
 * alike. A position is the id of the last record a mapping is done with in a shard.
 */
import type { Kysely } from 'kysely';

interface CheckpointTables {
  stream_checkpoints: {
    mapping_uuid: string;
    shard: string;
    position: string;
    updated_at: number;
  };
}

export class CheckpointStore {
  readonly #db: Kysely<CheckpointTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<CheckpointTables>;
  }

  async get(mappingUuid: string, shard: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('stream_checkpoints')
      .select('position')
      .where('mapping_uuid', '=', mappingUuid)
      .where('shard', '=', shard)
      .executeTakeFirst();
    return row?.position;
  }

  async put(mappingUuid: string, shard: string, position: string, now: number): Promise<void> {
    await this.#db
      .insertInto('stream_checkpoints')
      .values({ mapping_uuid: mappingUuid, shard, position, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['mapping_uuid', 'shard']).doUpdateSet({ position, updated_at: now }),
      )
      .execute();
  }

  /** Forgets a mapping's positions (it was deleted). */
  async forget(mappingUuid: string): Promise<void> {
    await this.#db
      .deleteFrom('stream_checkpoints')
      .where('mapping_uuid', '=', mappingUuid)
      .execute();
  }
}
