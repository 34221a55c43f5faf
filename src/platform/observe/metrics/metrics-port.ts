/**
 * What the execution path reports about itself (docs/metrics.md). The composition root passes
 * one in; modules never reach a global registry, and tests of other layers get `noMetrics`.
 * Calls are synchronous and cheap: they sit on the warm request path.
 */
export interface Metrics {
  /** One invocation that ran (or was answered with its init error / timeout). */
  invoked(fn: FunctionLabels, result: InvocationFacts): void;
  /** One request refused for concurrency (Lambda's TooManyRequestsException). */
  throttled(fn: string, reason: string): void;
  /** An async event scheduled to run again after a failure. */
  asyncRetried(fn: string): void;
  /** An async event given up on and kept as a dead letter. */
  deadLettered(fn: string): void;
}

export interface FunctionLabels {
  functionName: string;
  version: string;
  /** MB, for GB-seconds. */
  memorySize: number;
}

export interface InvocationFacts {
  durationMs: number;
  /** Present on a cold start. */
  initDurationMs?: number | undefined;
  /** The error type when the invocation failed (Runtime.ExitError, Sandbox.Timedout, ...). */
  errorType?: string | undefined;
}

/** Reports nothing: for parts built without the platform's metrics. */
export const noMetrics: Metrics = {
  invoked() {},
  throttled() {},
  asyncRetried() {},
  deadLettered() {},
};

/** Reports to each of `all` in turn (the scrape registry and the per-minute rollups). */
export function teeMetrics(...all: Metrics[]): Metrics {
  return {
    invoked: (fn, result) => {
      for (const m of all) m.invoked(fn, result);
    },
    throttled: (fn, reason) => {
      for (const m of all) m.throttled(fn, reason);
    },
    asyncRetried: (fn) => {
      for (const m of all) m.asyncRetried(fn);
    },
    deadLettered: (fn) => {
      for (const m of all) m.deadLettered(fn);
    },
  };
}
