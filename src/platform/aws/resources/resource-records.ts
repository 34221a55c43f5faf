/** The `stage_resources` table: what each service stage provisioned (migration 015). */
import type { Kysely } from 'kysely';
import type { ProvisionedResource } from './provisioner.js';

interface StageResourcesTable {
  service: string;
  stage: string;
  logical_id: string;
  type: string;
  physical_id: string;
  record: string;
  position: number;
  retain: number;
  updated_at: number;
}

export interface ResourceRecord {
  resource: ProvisionedResource;
  position: number;
  retain: boolean;
}

export class ResourceRecords {
  readonly #db: Kysely<{ stage_resources: StageResourcesTable }>;

  /** Takes the platform's database handle (whatever tables it types); it never closes it. */
  constructor(db: unknown) {
    this.#db = db as Kysely<{ stage_resources: StageResourcesTable }>;
  }

  /** The stage's resources in creation order. */
  async list(service: string, stage: string): Promise<ResourceRecord[]> {
    const rows = await this.#db
      .selectFrom('stage_resources')
      .selectAll()
      .where('service', '=', service)
      .where('stage', '=', stage)
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      resource: JSON.parse(r.record) as ProvisionedResource,
      position: Number(r.position),
      retain: Number(r.retain) === 1,
    }));
  }

  async put(service: string, stage: string, record: ResourceRecord, now: number): Promise<void> {
    const values = {
      service,
      stage,
      logical_id: record.resource.logicalId,
      type: record.resource.type,
      physical_id: record.resource.physicalId,
      record: JSON.stringify(record.resource),
      position: record.position,
      retain: record.retain ? 1 : 0,
      updated_at: now,
    };
    await this.#db
      .insertInto('stage_resources')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['service', 'stage', 'logical_id']).doUpdateSet({
          type: values.type,
          physical_id: values.physical_id,
          record: values.record,
          position: values.position,
          retain: values.retain,
          updated_at: values.updated_at,
        }),
      )
      .execute();
  }

  async delete(service: string, stage: string, logicalId: string): Promise<void> {
    await this.#db
      .deleteFrom('stage_resources')
      .where('service', '=', service)
      .where('stage', '=', stage)
      .where('logical_id', '=', logicalId)
      .execute();
  }
}
