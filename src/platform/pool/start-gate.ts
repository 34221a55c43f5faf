/**
 * At most `limit` instance starts at once, platform-wide, whatever asks for them (a burst, a
 * provisioned concurrency of thousands). A process start forks the platform and loads an
 * interpreter: a few at a time keep the host usable; the rest wait their turn, in order.
 */
export class StartGate {
  readonly #limit: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  #peak = 0;

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be at least 1');
    this.#limit = limit;
  }

  /** The most starts that ever ran at once (for tests and the console). */
  get peak(): number {
    return this.#peak;
  }

  async run<T>(start: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await start();
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next in line, so #running never dips and overshoots.
      if (next) next();
      else this.#running--;
    }
  }
}
