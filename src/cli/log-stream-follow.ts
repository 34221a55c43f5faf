import { setTimeout as delay } from 'node:timers/promises';
import type { LogLine, LogsClient } from '../client/logs-client.js';

export interface FollowLogStreamOptions {
  /** Lines from this time on (epoch ms). */
  startTime: number;
  filter?: string | undefined;
  /** After a lost stream, how long to wait before reconnecting. */
  retryMs: number;
  onLine: (line: LogLine) => void;
  /**
   * Called when the stream ended or failed (`error` undefined when it just ended) and the caller
   * has not aborted: throw to end the follow with that error, return 'stop' to end it quietly,
   * anything else to reconnect after `retryMs`. `connected` says whether any stream ever opened.
   */
  onLost: (error: unknown, connected: boolean) => 'stop' | undefined;
}

/**
 * Follows one function's live log stream (the platform's tail endpoint) until `signal` aborts.
 * When the stream drops (a platform restart, say) it reconnects from the last line's time + 1 ms,
 * as the Serverless Framework polls from `lastEvent.timestamp + 1`, so no line shows twice.
 */
export async function followLogStream(
  client: LogsClient,
  functionName: string,
  opts: FollowLogStreamOptions,
  signal: AbortSignal,
): Promise<void> {
  let startTime = opts.startTime;
  let connected = false;
  while (!signal.aborted) {
    let failure: unknown;
    try {
      for await (const line of client.tail(
        functionName,
        { startTime, ...(opts.filter ? { filter: opts.filter } : {}) },
        signal,
      )) {
        connected = true;
        opts.onLine(line);
        startTime = Math.max(startTime, line.timestamp + 1);
      }
    } catch (error) {
      failure = error;
    }
    if (signal.aborted) return;
    if (opts.onLost(failure, connected) === 'stop') return;
    connected = true;
    // Resolves early (without throwing) when the caller aborts.
    await delay(opts.retryMs, undefined, { signal }).catch(() => undefined);
  }
}
