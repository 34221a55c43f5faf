/**
 * One-shot timers come in through this port so the pipeline's batching and pruning are tested
 * by firing timers by hand, not by sleeping.
 */
export interface Scheduler {
  /** Runs `run` once after `ms`; the returned function cancels it. */
  schedule(ms: number, run: () => void): () => void;
}

/** Real timers, unref'd: pending log work must never keep a stopping process alive. */
export const systemScheduler: Scheduler = {
  schedule(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
