/**
 * Recent invocations of a function, of every kind (gateway, Invoke API, async, event sources),
 * read back from its REPORT log lines as Lambda's console reads CloudWatch Logs: duration,
 * billed duration, memory, cold start (an Init Duration), and whether the invocation failed
 * (an `Invoke Error` or `Task timed out` line of the same request id).
 */
import type { LogStore } from './log-store.js';

export interface RecentInvocation {
  requestId: string;
  /** Epoch ms of the REPORT line (the end of the invocation). */
  timestamp: number;
  version: string;
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  initDurationMs?: number;
  coldStart: boolean;
  failed: boolean;
}

const report =
  /^REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB\t(?:Init Duration: ([\d.]+) ms\t)?/;

/** Newest first, at most `limit`, from the window [since, now]. */
export async function recentInvocations(
  logs: Pick<LogStore, 'query'>,
  functionName: string,
  opts: { since: number; limit: number },
): Promise<RecentInvocation[]> {
  // The store reads oldest first; a window and a generous cap keep the newest in reach.
  const scan = Math.min(5000, opts.limit * 20);
  const reports = await logs.query({
    functionName,
    startTime: opts.since,
    filter: 'REPORT RequestId: ',
    limit: scan,
  });
  const failed = new Set<string>();
  for (const marker of ['Invoke Error', 'Task timed out']) {
    const lines = await logs.query({
      functionName,
      startTime: opts.since,
      filter: marker,
      limit: scan,
    });
    for (const line of lines) if (line.requestId) failed.add(line.requestId);
  }
  const out: RecentInvocation[] = [];
  for (let i = reports.length - 1; i >= 0 && out.length < opts.limit; i--) {
    const event = reports[i]!;
    const m = report.exec(event.message);
    if (!m) continue;
    const init = m[6] === undefined ? undefined : Number(m[6]);
    out.push({
      requestId: m[1]!,
      timestamp: event.timestamp,
      version: event.version,
      durationMs: Number(m[2]),
      billedDurationMs: Number(m[3]),
      memorySizeMb: Number(m[4]),
      maxMemoryUsedMb: Number(m[5]),
      ...(init === undefined ? {} : { initDurationMs: init }),
      coldStart: init !== undefined,
      failed: failed.has(m[1]!),
    });
  }
  return out;
}
