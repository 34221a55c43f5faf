import { parseDuration } from '../model/duration.js';
import { CliError } from './cli-error.js';

/** `--shutdown-grace` default: how long requests and async runs in flight may take to finish. */
export const defaultShutdownGraceMs = 10_000;

/** Parses `--shutdown-grace` (a duration; 0s cuts work in flight at once). */
export function parseShutdownGrace(raw: string | undefined): number {
  if (raw === undefined) return defaultShutdownGraceMs;
  const ms = raw.trim() === '0' ? 0 : parseDuration(raw);
  if (ms === undefined || ms < 0) {
    throw new CliError(`--shutdown-grace must be a duration such as 10s or 500ms, not "${raw}"`);
  }
  return ms;
}

/**
 * Runs `stop` on the first SIGINT or SIGTERM, and leaves at once (exit 130) on a second one, when
 * the clean stop is stuck. While it runs, a promise rejection nobody handled is logged instead
 * of taking the platform down. Returns a function that removes the handlers.
 */
export function onShutdownSignal(
  stop: () => void,
  logRejection: (reason: unknown) => void,
): () => void {
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals > 1) process.exit(130);
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', logRejection);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('unhandledRejection', logRejection);
  };
}
