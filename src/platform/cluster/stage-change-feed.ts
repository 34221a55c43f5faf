import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../store/schema.js';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';
import type { StageKey } from '../reconcile/stage-reconciler.js';
import { PgNotificationListener } from './pg-notification-listener.js';

export interface StageChangeFeedOptions {
  db: Kysely<Database>;
  /** The store's connection: a client of its own holds the LISTEN. */
  url: string;
  schema: string;
  nodeName: string;
  /** The one entry point for "stage X changed" on this node. */
  changed: (key: StageKey) => Promise<void>;
  logger: Pick<Logger, 'error' | 'warn' | 'info'>;
  /** Safety net against a lost notification; default 30 s. */
  checkEveryMs?: number;
  /** Wait before reconnecting a lost LISTEN connection; default 1 s (then backing off). */
  reconnectMs?: number;
  timer?: Scheduler;
}

/**
 * Tells every node of a PostgreSQL cluster that a stage changed: a deploy or a remove publishes
 * on a NOTIFY channel, and every node's listener hands the stage to its reconciler. Notifications
 * are fire-and-forget (a node that is reconnecting misses them), so every `checkEveryMs`, and after
 * each reconnect, the feed compares every stage's current deployment id with what it last saw and
 * reports the ones that differ.
 */
export class StageChangeFeed implements Part {
  readonly #o: Required<Omit<StageChangeFeedOptions, 'timer'>> & { timer: Scheduler };
  readonly #channel: string;
  readonly #listener: PgNotificationListener;
  /** `service/stage` -> id of its current deployment, as of the last check. */
  #known = new Map<string, string>();
  #cancelCheck: (() => void) | undefined;
  #checking: Promise<void> | undefined;
  #stopped = false;

  constructor(options: StageChangeFeedOptions) {
    this.#o = { checkEveryMs: 30_000, reconnectMs: 1_000, timer: systemScheduler, ...options };
    this.#channel = stageChannel(options.schema);
    this.#listener = new PgNotificationListener({
      url: this.#o.url,
      channels: [this.#channel],
      notified: (payload) => this.#onNotification(payload),
      name: 'stage change listener',
      logger: this.#o.logger,
      // Whatever was published while nobody listened shows in the deployment ids.
      reconnected: () => {
        if (this.#stopped) return;
        this.check().catch((error: unknown) =>
          this.#o.logger.error({ err: error }, 'checking stages for missed changes failed'),
        );
      },
      reconnectMs: this.#o.reconnectMs,
      timer: this.#o.timer,
    });
  }

  /** Listens, then records what every stage looks like now (the reconciler's first pass covers it). */
  async start(): Promise<void> {
    await this.#listener.start();
    this.#known = await this.#snapshot();
    this.#armCheck();
  }

  /** Tells the other nodes; never rejects (the periodic check covers a publish that failed). */
  async publish(key: StageKey): Promise<void> {
    const payload = JSON.stringify({ ...key, node: this.#o.nodeName });
    try {
      await sql`select pg_notify(${this.#channel}, ${payload})`.execute(this.#o.db);
    } catch (error) {
      this.#o.logger.error({ err: error }, 'publishing a stage change failed');
    }
  }

  /** Reports every stage whose current deployment differs from the last check. */
  check(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelCheck?.();
    await this.#checking?.catch(() => {});
    await this.#listener.stop();
  }

  #onNotification(payload: string | undefined): void {
    let key: StageKey & { node?: string };
    try {
      key = JSON.parse(payload ?? '') as StageKey & { node?: string };
    } catch {
      return;
    }
    if (typeof key.service !== 'string' || typeof key.stage !== 'string') return;
    // This node reconciled its own change before publishing it.
    if (key.node === this.#o.nodeName) return;
    this.#o
      .changed({ service: key.service, stage: key.stage })
      .catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'reconciling a notified stage change failed'),
      );
  }

  async #check(): Promise<void> {
    const now = await this.#snapshot();
    const changed = new Set<string>();
    for (const [id, deployment] of now) if (this.#known.get(id) !== deployment) changed.add(id);
    for (const id of this.#known.keys()) if (!now.has(id)) changed.add(id);
    this.#known = now;
    await Promise.all(
      [...changed].map((id) => {
        const slash = id.indexOf('/');
        return this.#o.changed({ service: id.slice(0, slash), stage: id.slice(slash + 1) });
      }),
    );
  }

  async #snapshot(): Promise<Map<string, string>> {
    const rows = await this.#o.db
      .selectFrom('stages as s')
      .select((eb) => [
        's.service',
        's.stage',
        eb
          .selectFrom('deployments as d')
          .select('d.id')
          .whereRef('d.stage_id', '=', 's.id')
          .orderBy('d.timestamp', 'desc')
          .limit(1)
          .as('current'),
      ])
      .execute();
    return new Map(rows.map((r) => [`${r.service}/${r.stage}`, r.current ?? '']));
  }

  #armCheck(): void {
    if (this.#stopped) return;
    this.#cancelCheck = this.#o.timer.schedule(this.#o.checkEveryMs, () => {
      this.check()
        .catch((error: unknown) =>
          this.#o.logger.error({ err: error }, 'checking stages for missed changes failed'),
        )
        .finally(() => this.#armCheck());
    });
  }
}

/**
 * NOTIFY channels are database-wide; each schema is its own cluster, so the channel is derived
 * from it (hashed: a channel name must stay under 64 bytes).
 */
export function stageChannel(schema: string): string {
  return `nimbus_stage_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
}
