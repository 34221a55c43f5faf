import type { Clock } from '../../src/model/clock.js';
import type { Scheduler as Timer } from '../../src/platform/observe/scheduler.js';

export class FakeClock implements Clock {
  #now: number;
  constructor(iso: string) {
    this.#now = Date.parse(iso);
  }
  now(): number {
    return this.#now;
  }
  set(iso: string | number): void {
    this.#now = typeof iso === 'number' ? iso : Date.parse(iso);
  }
}

interface Pending {
  dueAt: number;
  run: () => void;
  cancelled: boolean;
}

/** One-shot timers that only run when a test says so, at the fake clock's time. */
export class FakeTimer implements Timer {
  readonly #clock: FakeClock;
  #pending: Pending[] = [];

  constructor(clock: FakeClock) {
    this.#clock = clock;
  }

  schedule(ms: number, run: () => void): () => void {
    const timer = { dueAt: this.#clock.now() + ms, run, cancelled: false };
    this.#pending.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Delay of the one live timer (the runner keeps exactly one armed), or undefined. */
  armedDelay(): number | undefined {
    const live = this.#live();
    if (live.length > 1) throw new Error(`${live.length} timers armed`);
    return live[0] === undefined ? undefined : live[0].dueAt - this.#clock.now();
  }

  /**
   * Moves the clock to `iso`, running each timer that comes due on the way at its own time;
   * `settle` waits for the work a timer started.
   */
  async advanceTo(iso: string, settle: () => Promise<void>): Promise<void> {
    const target = Date.parse(iso);
    for (;;) {
      const next = this.#live().sort((a, b) => a.dueAt - b.dueAt)[0];
      if (next === undefined || next.dueAt > target) break;
      next.cancelled = true;
      this.#clock.set(Math.max(next.dueAt, this.#clock.now()));
      next.run();
      await settle();
    }
    this.#clock.set(target);
  }

  #live(): Pending[] {
    this.#pending = this.#pending.filter((t) => !t.cancelled);
    return this.#pending;
  }
}
