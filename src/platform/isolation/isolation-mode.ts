import type { Logger } from 'pino';
import { IsolationError } from './isolation-error.js';

/** `uids`: a uid per service stage (needs root). `none`: functions are not kept apart. */
export type IsolationMode = 'uids' | 'none';

export interface Isolation {
  asRoot: boolean;
  /** Each service stage runs as its own uid. */
  perStageUids: boolean;
}

/**
 * Decides how functions are kept apart, refusing what would silently give none: not as root, a
 * function runs as the platform's own user and can read its admin token and master key, write
 * its code and kill it. That takes an explicit `none`, which is logged as a warning.
 */
export function checkIsolation(mode: IsolationMode, logger: Logger): Isolation {
  const asRoot = process.getuid?.() === 0;
  if (mode === 'none') {
    logger.warn(
      { isolation: 'none', asRoot },
      asRoot
        ? 'isolation none: every function runs as nobody, able to read and signal the others'
        : 'isolation none: functions run as the platform user and can read its data dir (admin token, master key, store) and kill it; for a developer machine only',
    );
    return { asRoot, perStageUids: false };
  }
  if (!asRoot) {
    throw new IsolationError(
      'the platform is not running as root, so functions would run as its own user and could ' +
        'read the admin token, the master key and the store: run it as root (functions then ' +
        'get a uid per service stage), or accept that with --isolation none (docs/security.md)',
    );
  }
  return { asRoot, perStageUids: true };
}
