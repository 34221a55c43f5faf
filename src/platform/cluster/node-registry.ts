import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../model/clock.js';
import type { Database } from '../../store/schema.js';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';

export interface NodeLoad {
  instances: number;
  busy: number;
  asyncRuns: number;
}

export interface NodeStatus {
  name: string;
  url: string;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  /** `up` while heartbeats arrive, `stopped` after a clean stop, `down` when they stopped coming. */
  health: 'up' | 'down' | 'stopped';
  load: NodeLoad;
}

export interface NodeRegistryOptions {
  db: Kysely<Database>;
  clock: Clock;
  name: string;
  version: string;
  url: () => string;
  load: () => NodeLoad;
  logger: Pick<Logger, 'error'>;
  /** Default 5 s; a node is `down` after three missed beats. */
  heartbeatMs?: number;
  timer?: Scheduler;
}

/**
 * This node's row in `cluster_nodes`, refreshed every heartbeat with its load, so that
 * `nimbus cluster status` on any node lists them all. Nodes are never deleted: a row that stops
 * beating is reported `down` until an operator reuses its name.
 */
export class NodeRegistry implements Part {
  readonly #o: Required<Omit<NodeRegistryOptions, 'timer'>> & { timer: Scheduler };
  readonly #startedAt: number;
  #cancel: (() => void) | undefined;
  #beating: Promise<void> | undefined;
  #stopped = false;

  constructor(options: NodeRegistryOptions) {
    this.#o = { heartbeatMs: 5_000, timer: systemScheduler, ...options };
    this.#startedAt = Math.floor(options.clock.now());
  }

  async start(): Promise<void> {
    await this.beat();
    this.#arm();
  }

  async beat(): Promise<void> {
    const now = Math.floor(this.#o.clock.now());
    const row = {
      name: this.#o.name,
      url: this.#o.url(),
      version: this.#o.version,
      started_at: this.#startedAt,
      heartbeat_at: now,
      load: JSON.stringify(this.#o.load()),
      stopped_at: null,
    };
    await this.#o.db
      .insertInto('cluster_nodes')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet(row))
      .execute();
  }

  async list(): Promise<NodeStatus[]> {
    const rows = await this.#o.db.selectFrom('cluster_nodes').selectAll().orderBy('name').execute();
    const now = this.#o.clock.now();
    return rows.map((r) => ({
      name: r.name,
      url: r.url,
      version: r.version,
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
      health:
        r.stopped_at !== null
          ? 'stopped'
          : now - Number(r.heartbeat_at) > 3 * this.#o.heartbeatMs
            ? 'down'
            : 'up',
      load: JSON.parse(r.load) as NodeLoad,
    }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#beating;
    await this.#o.db
      .updateTable('cluster_nodes')
      .set({ stopped_at: Math.floor(this.#o.clock.now()) })
      .where('name', '=', this.#o.name)
      .execute();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#cancel = this.#o.timer.schedule(this.#o.heartbeatMs, () => {
      this.#beating = this.beat()
        .catch((error: unknown) => this.#o.logger.error({ err: error }, 'node heartbeat failed'))
        .finally(() => {
          this.#beating = undefined;
          this.#arm();
        });
    });
  }
}
