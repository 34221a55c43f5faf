/** EventBridge buses, rules and targets in the Store's database (migration 023), SQLite and PostgreSQL. */
import type { Kysely } from 'kysely';

interface EventsTables {
  events_buses: { name: string; description: string | null; created_at: number };
  events_rules: {
    bus: string;
    name: string;
    settings: string;
    owner: string | null;
    created_at: number;
  };
  events_targets: { bus: string; rule: string; id: string; target: string };
}

export interface BusRow {
  name: string;
  description?: string;
  createdAt: number;
}

export interface RuleSettings {
  EventPattern?: string;
  ScheduleExpression?: string;
  State: 'ENABLED' | 'DISABLED';
  Description?: string;
}

export interface RuleRow {
  bus: string;
  name: string;
  settings: RuleSettings;
  owner?: string;
  createdAt: number;
}

/** A target as PutTargets takes it (the fields Nimbus honours). */
export interface TargetSettings {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
}

export const defaultBus = 'default';

export class EventsStore {
  readonly #db: Kysely<EventsTables>;

  constructor(db: unknown) {
    this.#db = db as unknown as Kysely<EventsTables>;
  }

  /** False when a bus of that name exists already. */
  async createBus(row: BusRow): Promise<boolean> {
    if (row.name === defaultBus) return false;
    const result = await this.#db
      .insertInto('events_buses')
      .values({ name: row.name, description: row.description ?? null, created_at: row.createdAt })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findBus(name: string): Promise<BusRow | undefined> {
    if (name === defaultBus) return { name, createdAt: 0 };
    const row = await this.#db
      .selectFrom('events_buses')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && busRow(row);
  }

  /** The default bus first, then the others by name. */
  async listBuses(): Promise<BusRow[]> {
    const rows = await this.#db.selectFrom('events_buses').selectAll().orderBy('name').execute();
    return [{ name: defaultBus, createdAt: 0 }, ...rows.map(busRow)];
  }

  /** Removes a bus with its rules and targets. */
  async deleteBus(name: string): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('events_targets').where('bus', '=', name).execute();
      await tx.deleteFrom('events_rules').where('bus', '=', name).execute();
      await tx.deleteFrom('events_buses').where('name', '=', name).execute();
    });
  }

  /** Creates or replaces a rule (PutRule is an upsert); keeps its targets. */
  async putRule(row: RuleRow): Promise<void> {
    const settings = JSON.stringify(row.settings);
    await this.#db
      .insertInto('events_rules')
      .values({
        bus: row.bus,
        name: row.name,
        settings,
        owner: row.owner ?? null,
        created_at: row.createdAt,
      })
      .onConflict((oc) => oc.columns(['bus', 'name']).doUpdateSet({ settings }))
      .execute();
  }

  async findRule(bus: string, name: string): Promise<RuleRow | undefined> {
    const row = await this.#db
      .selectFrom('events_rules')
      .selectAll()
      .where('bus', '=', bus)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && ruleRow(row);
  }

  async listRules(bus: string): Promise<RuleRow[]> {
    const rows = await this.#db
      .selectFrom('events_rules')
      .selectAll()
      .where('bus', '=', bus)
      .orderBy('name')
      .execute();
    return rows.map(ruleRow);
  }

  async rulesOwnedBy(owner: string): Promise<RuleRow[]> {
    const rows = await this.#db
      .selectFrom('events_rules')
      .selectAll()
      .where('owner', '=', owner)
      .execute();
    return rows.map(ruleRow);
  }

  async deleteRule(bus: string, name: string): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('events_targets')
        .where('bus', '=', bus)
        .where('rule', '=', name)
        .execute();
      await tx.deleteFrom('events_rules').where('bus', '=', bus).where('name', '=', name).execute();
    });
  }

  async putTargets(bus: string, rule: string, targets: TargetSettings[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      for (const t of targets) {
        const target = JSON.stringify(t);
        await tx
          .insertInto('events_targets')
          .values({ bus, rule, id: t.Id, target })
          .onConflict((oc) => oc.columns(['bus', 'rule', 'id']).doUpdateSet({ target }))
          .execute();
      }
    });
  }

  async targets(bus: string, rule: string): Promise<TargetSettings[]> {
    const rows = await this.#db
      .selectFrom('events_targets')
      .select('target')
      .where('bus', '=', bus)
      .where('rule', '=', rule)
      .orderBy('id')
      .execute();
    return rows.map((r) => JSON.parse(r.target) as TargetSettings);
  }

  async removeTargets(bus: string, rule: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#db
      .deleteFrom('events_targets')
      .where('bus', '=', bus)
      .where('rule', '=', rule)
      .where('id', 'in', ids)
      .execute();
  }
}

function busRow(row: EventsTables['events_buses']): BusRow {
  return {
    name: row.name,
    ...(row.description === null ? {} : { description: row.description }),
    createdAt: Number(row.created_at),
  };
}

function ruleRow(row: EventsTables['events_rules']): RuleRow {
  return {
    bus: row.bus,
    name: row.name,
    settings: JSON.parse(row.settings) as RuleSettings,
    ...(row.owner === null ? {} : { owner: row.owner }),
    createdAt: Number(row.created_at),
  };
}
