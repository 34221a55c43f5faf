import { processUids, readStatus } from './function-uids.js';

/**
 * Kills every process running as `uid` (real, effective or saved): what a function detached
 * from its instance (setsid, double fork) to outlive it. Synchronous on purpose: nothing else of
 * the platform runs in between, so no instance of the uid can be starting while it sweeps.
 * A process may fork while being killed, so it goes round until a pass finds none alive.
 * Returns how many were killed.
 */
export function sweepUid(uid: number): number {
  if (uid === 0) throw new Error('refusing to sweep uid 0');
  let killed = 0;
  for (let pass = 0; pass < 10; pass++) {
    let found = 0;
    for (const pid of processUids().keys()) {
      const status = readStatus(pid);
      if (!status || status.state === 'Z' || !status.uids.slice(0, 3).includes(uid)) continue;
      found++;
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // gone already
      }
    }
    if (found === 0) break;
  }
  return killed;
}
