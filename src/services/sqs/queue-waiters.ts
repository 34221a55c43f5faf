/**
 * Long polling without busy loops: a receive that found nothing waits here until a send to its
 * queue (in this process) wakes it, or its time is up. Sends on other nodes are seen at the
 * next re-check, at most `recheckMs` later.
 */
export class QueueWaiters {
  readonly #waiting = new Map<string, Set<() => void>>();
  #stopped = false;

  constructor(private readonly recheckMs = 1000) {}

  /** True once the platform is stopping: receives answer with what they have. */
  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    for (const queue of [...this.#waiting.keys()]) this.wake(queue);
  }

  /** Resolves when the queue is woken, or after `ms` (capped at the re-check period). */
  wait(queue: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.#waiting.get(queue) ?? new Set();
      this.#waiting.set(queue, set);
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.#waiting.get(queue) === set) this.#waiting.delete(queue);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, this.recheckMs)));
      signal?.addEventListener('abort', done);
      set.add(done);
    });
  }

  wake(queue: string): void {
    for (const done of [...(this.#waiting.get(queue) ?? [])]) done();
  }
}
