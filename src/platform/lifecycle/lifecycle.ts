/**
 * Long-lived parts and the order they run in. The composition root starts each part as it is
 * built, so whatever a later part needs is already up; stop() takes them down in reverse.
 */

/** What every part's stop() is told: how long it may still wait for work in flight. */
export interface StopContext {
  /** Epoch ms by which the whole stop should be done; a part past it gives up waiting. */
  readonly deadline: number;
}

export interface Part {
  start?(): Promise<void> | void;
  stop(ctx: StopContext): Promise<void> | void;
}

/** One or more parts failed to stop; every part was still asked to. */
export class LifecycleStopError extends AggregateError {
  constructor(readonly failures: { part: string; error: unknown }[]) {
    super(
      failures.map((f) => f.error),
      `${failures.length} part(s) failed to stop: ${failures
        .map((f) => `${f.part} (${messageOf(f.error)})`)
        .join(', ')}`,
    );
    this.name = 'LifecycleStopError';
  }
}

export class Lifecycle {
  readonly #started: { name: string; part: Part }[] = [];
  readonly #now: () => number;
  #stopping: Promise<void> | undefined;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  /** Starts `part` now and remembers it for stop(); returns it for chaining into the wiring. */
  async start<T extends Part>(name: string, part: T): Promise<T> {
    if (this.#stopping) throw new Error(`cannot start ${name}: the platform is stopping`);
    await part.start?.();
    this.#started.push({ name, part });
    return part;
  }

  /** The names of the started parts, in start order (diagnostics and tests). */
  get parts(): string[] {
    return this.#started.map((p) => p.name);
  }

  /**
   * Stops every started part in reverse order. A part that throws does not keep the others
   * running: all are asked, then every failure is reported together. Idempotent.
   */
  stop(opts: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stopAll(this.#now() + (opts.graceMs ?? 0));
    return this.#stopping;
  }

  async #stopAll(deadline: number): Promise<void> {
    const failures: { part: string; error: unknown }[] = [];
    for (const { name, part } of this.#started.splice(0).reverse()) {
      try {
        await part.stop({ deadline });
      } catch (error) {
        failures.push({ part: name, error });
      }
    }
    if (failures.length > 0) throw new LifecycleStopError(failures);
  }
}

/** Builds a part from two functions, for resources that are not classes of their own. */
export function part(stop: Part['stop'], start?: Part['start']): Part {
  return start ? { start, stop } : { stop };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
