import type { Logger } from 'pino';
import type { FunctionDefinition } from '../../model/service-definition.js';
import type { StoreReader } from '../../store/store.js';
import type { Part } from '../lifecycle/lifecycle.js';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';

/** A stage, named the way deployments name it. */
export interface StageKey {
  service: string;
  stage: string;
}

/** What a stage looks like now, as every reaction sees it. */
export interface StageState extends StageKey {
  /** The functions of the stage's current deployment; none when the stage is gone. */
  functions: readonly FunctionDefinition[];
  /** Deployed names this node served for the stage before and the stage no longer has. */
  removed: readonly string[];
}

/**
 * One thing the node brings in line with a stage: routes, schedules, limits, instances. A
 * reaction must be idempotent: a failed pass is retried whole.
 */
export interface StageReaction {
  readonly name: string;
  react(state: StageState): Promise<void>;
}

export type StageStore = Pick<StoreReader, 'findStage' | 'listDeployments' | 'listStages'>;

export interface StageReconcilerOptions {
  store: StageStore;
  /** Run in this order for every change; a failing one does not stop the ones after it. */
  reactions: readonly StageReaction[];
  logger: Pick<Logger, 'error' | 'warn'>;
  timer?: Scheduler;
  /** First retry delay of a failed pass; it doubles up to maxRetryMs. */
  retryBaseMs?: number;
  maxRetryMs?: number;
}

/**
 * Reacts to "stage X changed", wherever the change came from (the local deployer today, other
 * nodes in cluster mode): it reads the stage's current deployment and runs every reaction on it.
 * changed() never rejects, so a deploy that committed is answered as such even when a reaction
 * fails; the failure is logged and the whole pass retried with backoff until it succeeds or the
 * stage changes again. Passes run one at a time, in the order changes arrived.
 */
export class StageReconciler implements Part {
  readonly #o: Required<Omit<StageReconcilerOptions, 'timer'>> & { timer: Scheduler };
  /** Deployed function names per stage, as of the last pass that succeeded. */
  readonly #served = new Map<string, Set<string>>();
  readonly #retries = new Map<string, { cancel: () => void; delayMs: number }>();
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: StageReconcilerOptions) {
    this.#o = {
      retryBaseMs: 1_000,
      maxRetryMs: 60_000,
      timer: systemScheduler,
      ...options,
    };
  }

  /** Brings the node in line with every stage in the store. */
  async start(): Promise<void> {
    const stages = await this.#o.store.listStages();
    await Promise.all(stages.map((s) => this.changed({ service: s.service, stage: s.stage })));
  }

  /**
   * Resolves once a pass that began after this call has run (successfully or not). Never
   * rejects.
   */
  changed(key: StageKey): Promise<void> {
    const id = idOf(key);
    // A fresh change supersedes a pending retry, and restarts its backoff.
    this.#retries.get(id)?.cancel();
    this.#retries.delete(id);
    return this.#enqueue(key, this.#o.retryBaseMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const retry of this.#retries.values()) retry.cancel();
    this.#retries.clear();
    await this.#chain;
  }

  /** Stages with a failed pass waiting to be retried (diagnostics and tests). */
  get pendingRetries(): string[] {
    return [...this.#retries.keys()];
  }

  #enqueue(key: StageKey, nextDelayMs: number): Promise<void> {
    const run = this.#chain
      .then(() => this.#pass(key, nextDelayMs))
      .catch((error: unknown) =>
        this.#o.logger.error({ err: error, stage: idOf(key) }, 'reconciling a stage failed'),
      );
    this.#chain = run;
    return run;
  }

  async #pass(key: StageKey, nextDelayMs: number): Promise<void> {
    if (this.#stopped) return;
    const id = idOf(key);
    let state: StageState;
    try {
      state = await this.#read(key, id);
    } catch (error) {
      this.#o.logger.error({ err: error, stage: id }, 'reading the stage to reconcile failed');
      this.#retryLater(key, nextDelayMs);
      return;
    }
    let failed = false;
    for (const reaction of this.#o.reactions) {
      try {
        await reaction.react(state);
      } catch (error) {
        failed = true;
        this.#o.logger.error(
          { err: error, stage: id, reaction: reaction.name },
          'reacting to a stage change failed; will retry',
        );
      }
    }
    if (failed) {
      this.#retryLater(key, nextDelayMs);
      return;
    }
    if (state.functions.length === 0) this.#served.delete(id);
    else this.#served.set(id, new Set(state.functions.map((f) => f.name)));
  }

  async #read(key: StageKey, id: string): Promise<StageState> {
    const stage = await this.#o.store.findStage(key.service, key.stage);
    const [current] = stage ? await this.#o.store.listDeployments(stage.id) : [];
    const functions = current ? Object.values(current.definition.functions) : [];
    const now = new Set(functions.map((f) => f.name));
    const removed = [...(this.#served.get(id) ?? [])].filter((name) => !now.has(name));
    return { ...key, functions, removed };
  }

  #retryLater(key: StageKey, delayMs: number): void {
    if (this.#stopped) return;
    const id = idOf(key);
    const cancel = this.#o.timer.schedule(delayMs, () => {
      this.#retries.delete(id);
      void this.#enqueue(key, Math.min(delayMs * 2, this.#o.maxRetryMs));
    });
    this.#retries.set(id, { cancel, delayMs });
  }
}

function idOf(key: StageKey): string {
  return `${key.service}/${key.stage}`;
}
