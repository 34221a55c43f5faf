/** Event source mappings in the Store (migration 017), on SQLite and PostgreSQL alike. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Mapping, MappingSettings } from './mapping.js';

interface MappingTables {
  event_source_mappings: {
    uuid: string;
    function_name: string;
    qualifier: string | null;
    source_arn: string;
    origin: string;
    service: string | null;
    stage: string | null;
    settings: string;
    last_modified: number;
  };
  /** Migration 024 (checkpoint-store.ts): a mapping's stream positions go with it. */
  stream_checkpoints: { mapping_uuid: string };
}
type Row = MappingTables['event_source_mappings'];

/** What a stage's serverless.yml asks for; the store gives it a UUID the first time. */
export type WantedMapping = Omit<Mapping, 'uuid' | 'lastModified' | 'origin'>;

export class MappingStore {
  readonly #db: Kysely<MappingTables>;

  constructor(db: unknown) {
    this.#db = db as Kysely<MappingTables>;
  }

  async list(): Promise<Mapping[]> {
    const rows = await this.#db.selectFrom('event_source_mappings').selectAll().execute();
    return rows.map(mappingOf).sort((a, b) => a.uuid.localeCompare(b.uuid));
  }

  async get(uuid: string): Promise<Mapping | undefined> {
    const row = await this.#db
      .selectFrom('event_source_mappings')
      .selectAll()
      .where('uuid', '=', uuid)
      .executeTakeFirst();
    return row && mappingOf(row);
  }

  async findByTarget(functionName: string, sourceArn: string): Promise<Mapping | undefined> {
    const row = await this.#db
      .selectFrom('event_source_mappings')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('source_arn', '=', sourceArn)
      .executeTakeFirst();
    return row && mappingOf(row);
  }

  /** False when the function already has a mapping of that source. */
  async insert(m: Mapping): Promise<boolean> {
    const result = await this.#db
      .insertInto('event_source_mappings')
      .values(rowOf(m))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async update(m: Mapping): Promise<void> {
    await this.#db
      .updateTable('event_source_mappings')
      .set({ settings: rowOf(m).settings, last_modified: m.lastModified })
      .where('uuid', '=', m.uuid)
      .execute();
  }

  /** `keepPositions`: the row is written again under the same UUID (a retargeted mapping). */
  async delete(uuid: string, opts: { keepPositions?: boolean } = {}): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('event_source_mappings').where('uuid', '=', uuid).execute();
      if (!opts.keepPositions) {
        await tx.deleteFrom('stream_checkpoints').where('mapping_uuid', '=', uuid).execute();
      }
    });
  }

  /**
   * Makes the stage's deploy mappings exactly `wanted`: new ones get a UUID, changed ones new
   * settings (their UUID kept), the rest are deleted. Idempotent, so every node of a cluster
   * may run it for the same change. True when anything changed.
   */
  async syncStage(
    service: string,
    stage: string,
    wanted: readonly WantedMapping[],
    now: number,
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      const existing = (
        await tx
          .selectFrom('event_source_mappings')
          .selectAll()
          .where('origin', '=', 'deploy')
          .where('service', '=', service)
          .where('stage', '=', stage)
          .execute()
      ).map(mappingOf);
      const keyOf = (m: { functionName: string; sourceArn: string }) =>
        `${m.functionName}\n${m.sourceArn}`;
      const byKey = new Map(existing.map((m) => [keyOf(m), m]));
      let changed = false;
      const kept = new Set<string>();
      for (const w of wanted) {
        const old = byKey.get(keyOf(w));
        if (old) {
          kept.add(old.uuid);
          const next: Mapping = { ...old, ...w, origin: 'deploy', lastModified: now };
          if (
            JSON.stringify(settingsOf(old)) !== JSON.stringify(settingsOf(next)) ||
            old.qualifier !== next.qualifier
          ) {
            await tx
              .updateTable('event_source_mappings')
              .set({
                settings: JSON.stringify(settingsOf(next)),
                qualifier: next.qualifier ?? null,
                last_modified: now,
              })
              .where('uuid', '=', old.uuid)
              .execute();
            changed = true;
          }
          continue;
        }
        const result = await tx
          .insertInto('event_source_mappings')
          .values(rowOf({ ...w, uuid: randomUUID(), origin: 'deploy', lastModified: now }))
          // Another node's pass, or a Lambda API mapping of the same function and source.
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) changed = true;
      }
      for (const m of existing) {
        if (kept.has(m.uuid)) continue;
        await tx.deleteFrom('event_source_mappings').where('uuid', '=', m.uuid).execute();
        await tx.deleteFrom('stream_checkpoints').where('mapping_uuid', '=', m.uuid).execute();
        changed = true;
      }
      return changed;
    });
  }
}

function settingsOf(m: Mapping): MappingSettings {
  const {
    uuid: _u,
    functionName: _f,
    qualifier: _q,
    sourceArn: _s,
    origin: _o,
    service: _sv,
    stage: _st,
    lastModified: _l,
    ...settings
  } = m;
  return settings;
}

function rowOf(m: Mapping): Row {
  return {
    uuid: m.uuid,
    function_name: m.functionName,
    qualifier: m.qualifier ?? null,
    source_arn: m.sourceArn,
    origin: m.origin,
    service: m.service ?? null,
    stage: m.stage ?? null,
    settings: JSON.stringify(settingsOf(m)),
    last_modified: m.lastModified,
  };
}

function mappingOf(row: Row): Mapping {
  return {
    ...(JSON.parse(row.settings) as MappingSettings),
    uuid: row.uuid,
    functionName: row.function_name,
    ...(row.qualifier === null ? {} : { qualifier: row.qualifier }),
    sourceArn: row.source_arn,
    origin: row.origin === 'deploy' ? 'deploy' : 'api',
    ...(row.service === null ? {} : { service: row.service }),
    ...(row.stage === null ? {} : { stage: row.stage }),
    lastModified: Number(row.last_modified),
  };
}
