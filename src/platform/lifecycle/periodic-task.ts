import type { Logger } from 'pino';
import { type Scheduler, systemScheduler } from '../observe/scheduler.js';
import type { Part } from './lifecycle.js';

/**
 * Maintenance that runs every `everyMs` (reaping idle instances, purging expired keys). A run
 * never overlaps the previous one, a failed run is logged and the next one still comes, and
 * stop() waits for a run in progress so nothing touches a part that is already stopped.
 */
export class PeriodicTask implements Part {
  readonly #name: string;
  readonly #everyMs: number;
  readonly #run: () => Promise<unknown>;
  readonly #logger: Pick<Logger, 'error'>;
  readonly #timer: Scheduler;
  #cancel: (() => void) | undefined;
  #current: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: {
    name: string;
    everyMs: number;
    run: () => Promise<unknown>;
    logger: Pick<Logger, 'error'>;
    timer?: Scheduler;
  }) {
    this.#name = opts.name;
    this.#everyMs = opts.everyMs;
    this.#run = opts.run;
    this.#logger = opts.logger;
    this.#timer = opts.timer ?? systemScheduler;
  }

  start(): void {
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#current;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#cancel = this.#timer.schedule(this.#everyMs, () => {
      this.#current = this.#run()
        .then(
          () => undefined,
          (error: unknown) => this.#logger.error({ err: error }, `${this.#name} failed`),
        )
        .finally(() => {
          this.#current = undefined;
          this.#arm();
        });
    });
  }
}
