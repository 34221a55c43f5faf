import { IsolationError } from './isolation-error.js';

/** The uids function processes may run as: `first`..`last`, both included. */
export interface UidRange {
  first: number;
  last: number;
}

/**
 * 200000-265535: above the ids distributions give people and services (< 65536) and above the
 * usual first subordinate-id block of container tools (100000-165535). Each platform on a host
 * needs a range of its own (docs/security.md).
 */
export const defaultFunctionUids: UidRange = { first: 200_000, last: 265_535 };

/** The largest uid Linux hands out to processes (2^32 - 2; -1 means "unchanged"). */
const maxUid = 4_294_967_294;

/** Parses `--function-uids FIRST-LAST`. */
export function parseUidRange(text: string): UidRange {
  const match = /^(\d{1,10})-(\d{1,10})$/.exec(text.trim());
  const first = Number(match?.[1]);
  const last = Number(match?.[2]);
  if (!match || first < 1000 || last > maxUid || first > last) {
    throw new IsolationError(
      `function uid range must be FIRST-LAST with 1000 <= FIRST <= LAST <= ${maxUid}, not "${text}"`,
    );
  }
  return { first, last };
}
