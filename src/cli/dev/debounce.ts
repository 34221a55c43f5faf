/** Timers, injectable so tests can drive the debounce without waiting. */
export interface Timers {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const systemTimers: Timers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs `task` once things have been quiet for `delayMs` after the last trigger, never two at a
 * time: triggers that arrive while a run is under way are folded into one more run after it
 * (an editor's save is often several writes; a deploy must see all of them, and only once).
 */
export class SerialDebouncer {
  readonly #task: () => Promise<void>;
  readonly #delayMs: number;
  readonly #timers: Timers;
  #timer: unknown;
  #running: Promise<void> | undefined;
  #pending = false;
  #stopped = false;

  constructor(task: () => Promise<void>, delayMs: number, timers: Timers = systemTimers) {
    this.#task = task;
    this.#delayMs = delayMs;
    this.#timers = timers;
  }

  /** Something changed: run after the quiet period (or after the run in progress). */
  trigger(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = this.#timers.set(() => {
      this.#timer = undefined;
      void this.#start();
    }, this.#delayMs);
  }

  /** Runs now (after the run in progress, if any); a trigger waiting for its delay is folded in. */
  async runNow(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#stopped) return;
    if (this.#timer !== undefined) {
      this.#timers.clear(this.#timer);
      this.#timer = undefined;
    }
    await this.#start();
  }

  /** True while a run is under way or one is scheduled. */
  get busy(): boolean {
    return this.#running !== undefined || this.#timer !== undefined || this.#pending;
  }

  /** No run starts after this; resolves once the run in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending = false;
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #start(): Promise<void> {
    const run = (async () => {
      try {
        await this.#task();
      } catch {
        // The task reports its own failures; one failed run must not stop later ones.
      }
    })();
    this.#running = run.finally(() => {
      this.#running = undefined;
      if (this.#pending) {
        this.#pending = false;
        this.trigger();
      }
    });
    return this.#running;
  }
}
