/**
 * Crash points for the kill -9 tests (test/async/crash-safety.test.ts): with
 * `NIMBUS_FAILPOINT=<name>` in the environment, the process kills itself with SIGKILL the
 * `NIMBUS_FAILPOINT_AFTER`-th time (default 1) it reaches that point. The points sit inside
 * transactions, between the writes and the commit, where a real crash is hardest to hit by
 * timing alone. Unset (always, outside those tests) it costs one comparison.
 */
const armed = process.env.NIMBUS_FAILPOINT;
let remaining = Number(process.env.NIMBUS_FAILPOINT_AFTER ?? '1');

export type FailpointName = 'accept' | 'settle';

export function failpoint(name: FailpointName): void {
  if (armed !== name) return;
  remaining -= 1;
  if (remaining <= 0) process.kill(process.pid, 'SIGKILL');
}
