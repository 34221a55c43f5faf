/** SNS topics and subscriptions in the Store's database (migration 021), SQLite and PostgreSQL. */
import type { Kysely } from 'kysely';

interface SnsTables {
  sns_topics: { name: string; attributes: string; created_at: number };
  sns_subscriptions: {
    arn: string;
    topic: string;
    protocol: string;
    endpoint: string;
    attributes: string;
    token: string | null;
    owner: string | null;
    created_at: number;
  };
}

export interface TopicRow {
  name: string;
  attributes: Record<string, string>;
  createdAt: number;
}

export interface SubscriptionRow {
  arn: string;
  topic: string;
  protocol: string;
  endpoint: string;
  attributes: Record<string, string>;
  /** Set while an http(s) subscription waits for its confirmation. */
  token?: string;
  /** `<service>/<stage>` when an `sns` event of that stage made it. */
  owner?: string;
  createdAt: number;
}

export class SnsStore {
  readonly #db: Kysely<SnsTables>;

  constructor(db: unknown) {
    this.#db = db as unknown as Kysely<SnsTables>;
  }

  /** False when a topic of that name exists already. */
  async createTopic(row: TopicRow): Promise<boolean> {
    const result = await this.#db
      .insertInto('sns_topics')
      .values({
        name: row.name,
        attributes: JSON.stringify(row.attributes),
        created_at: row.createdAt,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async findTopic(name: string): Promise<TopicRow | undefined> {
    const row = await this.#db
      .selectFrom('sns_topics')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && topicRow(row);
  }

  async listTopics(): Promise<TopicRow[]> {
    const rows = await this.#db.selectFrom('sns_topics').selectAll().orderBy('name').execute();
    return rows.map(topicRow);
  }

  async setTopicAttributes(name: string, attributes: Record<string, string>): Promise<void> {
    await this.#db
      .updateTable('sns_topics')
      .set({ attributes: JSON.stringify(attributes) })
      .where('name', '=', name)
      .execute();
  }

  async deleteTopic(name: string): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('sns_subscriptions').where('topic', '=', name).execute();
      await tx.deleteFrom('sns_topics').where('name', '=', name).execute();
    });
  }

  async addSubscription(row: SubscriptionRow): Promise<void> {
    await this.#db
      .insertInto('sns_subscriptions')
      .values({
        arn: row.arn,
        topic: row.topic,
        protocol: row.protocol,
        endpoint: row.endpoint,
        attributes: JSON.stringify(row.attributes),
        token: row.token ?? null,
        owner: row.owner ?? null,
        created_at: row.createdAt,
      })
      .execute();
  }

  /** Creates or replaces a subscription by its ARN (resources and sns events: deterministic ARNs). */
  async putSubscription(row: SubscriptionRow): Promise<void> {
    await this.#db
      .insertInto('sns_subscriptions')
      .values({
        arn: row.arn,
        topic: row.topic,
        protocol: row.protocol,
        endpoint: row.endpoint,
        attributes: JSON.stringify(row.attributes),
        token: row.token ?? null,
        owner: row.owner ?? null,
        created_at: row.createdAt,
      })
      .onConflict((oc) =>
        oc.column('arn').doUpdateSet({
          topic: row.topic,
          protocol: row.protocol,
          endpoint: row.endpoint,
          attributes: JSON.stringify(row.attributes),
        }),
      )
      .execute();
  }

  async subscriptionsOwnedBy(owner: string): Promise<SubscriptionRow[]> {
    const rows = await this.#db
      .selectFrom('sns_subscriptions')
      .selectAll()
      .where('owner', '=', owner)
      .execute();
    return rows.map(subscriptionRow);
  }

  async findSubscription(arn: string): Promise<SubscriptionRow | undefined> {
    const row = await this.#db
      .selectFrom('sns_subscriptions')
      .selectAll()
      .where('arn', '=', arn)
      .executeTakeFirst();
    return row && subscriptionRow(row);
  }

  /** Every subscription, or a topic's; oldest first. */
  async listSubscriptions(topic?: string): Promise<SubscriptionRow[]> {
    let query = this.#db.selectFrom('sns_subscriptions').selectAll();
    if (topic !== undefined) query = query.where('topic', '=', topic);
    const rows = await query.orderBy('created_at').orderBy('arn').execute();
    return rows.map(subscriptionRow);
  }

  async setSubscriptionAttributes(arn: string, attributes: Record<string, string>): Promise<void> {
    await this.#db
      .updateTable('sns_subscriptions')
      .set({ attributes: JSON.stringify(attributes) })
      .where('arn', '=', arn)
      .execute();
  }

  /** Confirms a pending subscription by its token; false when no pending one has it. */
  async confirm(topic: string, token: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('sns_subscriptions')
      .select('arn')
      .where('topic', '=', topic)
      .where('token', '=', token)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.#db
      .updateTable('sns_subscriptions')
      .set({ token: null })
      .where('arn', '=', row.arn)
      .execute();
    return row.arn;
  }

  async deleteSubscription(arn: string): Promise<void> {
    await this.#db.deleteFrom('sns_subscriptions').where('arn', '=', arn).execute();
  }
}

function topicRow(row: SnsTables['sns_topics']): TopicRow {
  return {
    name: row.name,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    createdAt: Number(row.created_at),
  };
}

function subscriptionRow(row: SnsTables['sns_subscriptions']): SubscriptionRow {
  return {
    arn: row.arn,
    topic: row.topic,
    protocol: row.protocol,
    endpoint: row.endpoint,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    ...(row.token === null ? {} : { token: row.token }),
    ...(row.owner === null ? {} : { owner: row.owner }),
    createdAt: Number(row.created_at),
  };
}
