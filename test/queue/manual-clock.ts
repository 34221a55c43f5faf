import type { Clock } from '../../src/model/clock.js';

/** A Clock the test moves by hand: leases expire and delays pass without sleeping. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = 1_750_000_000_000): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}
