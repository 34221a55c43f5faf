/** Argument checks every WorkQueue adapter applies alike (the contract's NIMBUS_QUEUE_BAD_INPUT). */
import { WorkQueueInputError } from './work-queue.js';

export function checkQueue(queue: string): void {
  if (typeof queue !== 'string' || queue === '') {
    throw new WorkQueueInputError('queue must be a non-empty string');
  }
}

export function checkTime(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new WorkQueueInputError(`${what} must be epoch milliseconds, got ${ms}`);
  }
  return Math.floor(ms);
}

export function checkDuration(ms: number, what: string): number {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new WorkQueueInputError(`${what} must be a positive number of milliseconds, got ${ms}`);
  }
  return Math.ceil(ms);
}

export function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value ?? null);
  } catch (err) {
    throw new WorkQueueInputError(`${what} is not JSON-serializable: ${String(err)}`, {
      cause: err,
    });
  }
  // A function or symbol at the top level stringifies to undefined.
  if (json === undefined) throw new WorkQueueInputError(`${what} is not JSON-serializable`);
  return json;
}
