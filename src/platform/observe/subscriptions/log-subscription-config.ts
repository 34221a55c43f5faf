/**
 * One `cloudwatchLog` event's config (docs/logs.md#subscriptions): `logGroup` names another
 * function's group, `/aws/lambda/<deployed function name>`; `filter` is a CloudWatch Logs
 * filter pattern (empty or absent: every event).
 */
import { type LogMatcher, parseFilterPattern } from './filter-pattern.js';

export const logGroupPrefix = '/aws/lambda/';

export interface LogSubscriptionConfig {
  logGroup: string;
  /** The deployed name of the function whose lines are delivered. */
  sourceFunction: string;
  filter: string;
  matches: LogMatcher;
}

export function logSubscriptionOf(
  config: Record<string, unknown>,
  ownName: string | undefined,
): LogSubscriptionConfig {
  const logGroup = config.logGroup;
  if (
    typeof logGroup !== 'string' ||
    !logGroup.startsWith(logGroupPrefix) ||
    logGroup.length === logGroupPrefix.length
  ) {
    throw new Error(`logGroup must be ${logGroupPrefix}<function name> (a function's log group)`);
  }
  const sourceFunction = logGroup.slice(logGroupPrefix.length);
  if (ownName !== undefined && sourceFunction === ownName) {
    // Each delivery would log, and each line would be delivered again: a loop.
    throw new Error(
      `logGroup is this function's own log group; a function cannot subscribe to its own output`,
    );
  }
  const filter = config.filter === undefined || config.filter === null ? '' : config.filter;
  if (typeof filter !== 'string') throw new Error('filter must be a string (a filter pattern)');
  let matches: LogMatcher;
  try {
    matches = parseFilterPattern(filter);
  } catch (error) {
    throw new Error(`filter: ${(error as Error).message}`);
  }
  return { logGroup, sourceFunction, filter, matches };
}

export function logSubscriptionProblem(
  config: Record<string, unknown>,
  ownName: string | undefined,
): string | undefined {
  try {
    logSubscriptionOf(config, ownName);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
