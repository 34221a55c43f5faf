/**
 * The one event-source-mapping engine: it runs every enabled mapping it is given on the source
 * its ARN names, and stops the ones that went away, were disabled or changed (a changed one
 * restarts with its new settings). Which mappings exist is the Store's business; whoever
 * changes them (the deploy reaction, the Lambda API, a periodic re-read in cluster mode) calls
 * refresh().
 */
import type { Logger } from 'pino';
import type { Part } from '../lifecycle/lifecycle.js';
import type { Mapping } from './mapping.js';
import { type Runner, type RunnerDeps, runQueueMapping } from './queue-runner.js';
import type { PollSource } from './source-port.js';
import { type FailedBatch, runStreamMapping } from './stream-runner.js';

export interface EventSourceEngineOptions extends RunnerDeps {
  /** All mappings, enabled or not. */
  list: () => Promise<Mapping[]>;
  /** The source an ARN names; undefined when no source kind serves it (logged, not run). */
  sourceOf: (mapping: Mapping) => PollSource | undefined;
  onFailure?: (failed: FailedBatch) => Promise<void>;
  logger: Pick<Logger, 'warn' | 'error'>;
}

export class EventSourceEngine implements Part {
  readonly #o: EventSourceEngineOptions;
  readonly #running = new Map<string, { fingerprint: string; runner: Runner }>();
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: EventSourceEngineOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  /** Brings the running pollers in line with the Store. One pass at a time; never rejects. */
  refresh(): Promise<void> {
    this.#chain = this.#chain
      .then(() => this.#apply())
      .catch((error: unknown) =>
        this.#o.logger.error({ err: error }, 'reading event source mappings failed'),
      );
    return this.#chain;
  }

  /** UUIDs of the mappings being polled now (diagnostics and tests). */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#chain;
    const runners = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(runners.map((r) => r.runner.stop()));
  }

  async #apply(): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map<string, Mapping>();
    for (const m of await this.#o.list()) if (m.enabled) wanted.set(m.uuid, m);
    const stopping: Promise<void>[] = [];
    for (const [uuid, running] of this.#running) {
      const m = wanted.get(uuid);
      if (!m || fingerprint(m) !== running.fingerprint) {
        this.#running.delete(uuid);
        this.#o.iteratorAges?.forget(uuid);
        stopping.push(running.runner.stop());
      }
    }
    // A changed mapping's old runner is done before its new one polls.
    await Promise.all(stopping);
    for (const [uuid, m] of wanted) {
      if (this.#running.has(uuid)) continue;
      const source = this.#o.sourceOf(m);
      if (!source) {
        this.#o.logger.warn(
          { mapping: uuid, source: m.sourceArn },
          'no event source of this kind; the mapping is not polled',
        );
        continue;
      }
      const runner =
        source.kind === 'queue'
          ? runQueueMapping(m, source, this.#o)
          : runStreamMapping(m, source, {
              ...this.#o,
              onFailure: this.#o.onFailure ?? (async () => {}),
            });
      this.#running.set(uuid, { fingerprint: fingerprint(m), runner });
    }
  }
}

/** What a runner depends on; lastModified alone changing does not restart it. */
function fingerprint(m: Mapping): string {
  const { lastModified: _, ...rest } = m;
  return JSON.stringify(rest);
}
