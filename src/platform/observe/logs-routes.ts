/**
 * The log endpoints under /v1 (docs/logs.md), added to the control API as extra routes so they
 * share its admin-token check: a page of stored lines, and a live tail.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogEvent } from '../../model/invocation.js';
import type { StoreReader } from '../../store/store.js';
import type { ControlRoute } from '../control/control-api.js';
import { HttpError } from '../http/http-error.js';
import { sendJson } from '../http/send.js';
import { parseLogParams } from './log-params.js';
import type { LogPipeline } from './log-pipeline.js';
import type { LogStore, StoredLogEvent } from './log-store.js';
import { recentInvocations } from './recent-invocations.js';

export interface LogsRoutesDeps {
  logs: Pick<LogStore, 'query'>;
  pipeline: Pick<LogPipeline, 'flush' | 'follow'>;
  /** Unknown names answer 404, as the rest of the control API. */
  functions: Pick<StoreReader, 'findFunctionByName'>;
  /** A blank line this often keeps proxies and client body timeouts from closing a quiet tail. */
  keepAliveMs?: number;
  /**
   * Cluster mode: a tail also reads the store this often for lines other nodes stored (its own
   * node's arrive live). Off on a single node.
   */
  otherNodesEveryMs?: number;
  /** A tail whose client reads slower than this many unsent bytes is cut off. */
  maxUnsentBytes?: number;
}

const defaultLimit = 1000;
/** How long after a line is first read its id may become the floor of later reads. */
const settleMs = 3_000;

/** Page size while a tail replays stored history. */
const historyPage = 1000;

export function logsRoutes(deps: LogsRoutesDeps): ControlRoute[] {
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const maxUnsentBytes = deps.maxUnsentBytes ?? 1024 * 1024;

  async function knownFunction(name: string): Promise<void> {
    if (!(await deps.functions.findFunctionByName(name))) {
      throw new HttpError(404, 'NIMBUS_NOT_FOUND', `function "${name}" is not deployed`);
    }
  }

  return [
    {
      method: 'GET',
      path: '/v1/functions/{name}/logs',
      handler: async function queryLogs(req, res, p) {
        const params = parseLogParams(searchOf(req), [
          'startTime',
          'endTime',
          'filter',
          'limit',
          'after',
        ]);
        await knownFunction(p.name!);
        // Read-your-writes: lines of an invocation that just answered are still in the buffer.
        await deps.pipeline.flush();
        const limit = params.limit ?? defaultLimit;
        // One extra row tells whether another page follows without a second query.
        const rows = await deps.logs.query({ ...params, functionName: p.name!, limit: limit + 1 });
        const events = rows.slice(0, limit);
        const next = rows.length > limit ? events.at(-1)!.id : null;
        sendJson(res, 200, { events, next });
      },
    },
    {
      method: 'GET',
      path: '/v1/functions/{name}/invocations/recent',
      handler: async function recent(req, res, p) {
        const query = searchOf(req);
        const limitText = query.get('limit') ?? '50';
        const limit = Number(limitText);
        if (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > 500) {
          throw new HttpError(
            400,
            'NIMBUS_LOGS_BAD_PARAM',
            'limit must be an integer from 1 to 500',
          );
        }
        await knownFunction(p.name!);
        await deps.pipeline.flush();
        const invocations = await recentInvocations(deps.logs, p.name!, {
          since: Date.now() - 3_600_000,
          limit,
        });
        sendJson(res, 200, { invocations });
      },
    },
    {
      method: 'GET',
      path: '/v1/functions/{name}/logs/tail',
      handler: async function tailLogs(req, res, p) {
        const params = parseLogParams(searchOf(req), ['startTime', 'filter', 'after']);
        const name = p.name!;
        await knownFunction(name);
        await streamTail(req, res, name, params);
      },
    },
  ];

  async function streamTail(
    req: IncomingMessage,
    res: ServerResponse,
    functionName: string,
    params: { startTime?: number; filter?: string; after?: number },
  ): Promise<void> {
    const matches = (e: LogEvent) =>
      (params.startTime === undefined || e.timestamp >= params.startTime) &&
      (!params.filter || e.message.includes(params.filter));
    let open = true;
    // A browser's EventSource (the console) asks for Server-Sent Events: the same events, framed
    // as `data:` lines; anything else gets NDJSON.
    const sse = /\btext\/event-stream\b/.test(req.headers.accept ?? '');
    const send = (e: LogEvent | StoredLogEvent) => {
      if (!open) return;
      res.write(sse ? `data: ${JSON.stringify(e)}\n\n` : `${JSON.stringify(e)}\n`);
      if (res.writableLength > maxUnsentBytes) res.destroy();
    };

    // Follow first, so nothing written while history is read falls between the two.
    let queued: LogEvent[] | undefined = [];
    const follow = deps.pipeline.follow(functionName, (e) => {
      if (!matches(e)) return;
      if (queued) queued.push(e);
      else send(e);
    });
    const keepAlive = setInterval(() => open && res.write(sse ? ':\n\n' : '\n'), keepAliveMs);
    const closed = new Promise<void>((resolve) => {
      const end = () => {
        open = false;
        follow.stop();
        clearInterval(keepAlive);
        resolve();
      };
      res.once('close', end);
      // A client gone while the function was looked up: 'close' has already fired.
      if (res.destroyed || req.socket.destroyed) end();
    });
    req.resume();
    res.writeHead(200, {
      'content-type': sse
        ? 'text/event-stream; charset=utf-8'
        : 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.flushHeaders();

    let after = params.after;
    let lastSent = params.after;
    while (open) {
      const known = await follow.historyBefore();
      const page = await deps.logs.query({
        functionName,
        startTime: params.startTime,
        filter: params.filter,
        after,
        before: known,
        limit: historyPage,
      });
      const before = await follow.historyBefore();
      const fresh = before === undefined ? page : page.filter((e) => e.id < before);
      for (const e of fresh) {
        send(e);
        lastSent = e.id;
      }
      if (fresh.length < page.length || page.length < historyPage) break;
      after = page.at(-1)!.id;
    }
    for (const e of follow.pending) if (matches(e)) send(e);
    for (const e of queued) send(e);
    queued = undefined;
    if (deps.otherNodesEveryMs !== undefined) {
      await followOtherNodes(functionName, params, lastSent, follow, send, () => open, closed);
    }
    await closed;
  }

  /**
   * Other nodes' lines, read from the store (docs/cluster.md): every poll reads past `floor`,
   * sends what it has not sent and this node did not store, and moves `floor` only over ids
   * first seen `settleMs` ago, so a batch that commits a little after a higher id (another
   * node's concurrent insert) is still found.
   */
  async function followOtherNodes(
    functionName: string,
    params: { startTime?: number; filter?: string },
    start: number | undefined,
    follow: { historyBefore(): Promise<number | undefined>; landedHere(id: number): boolean },
    send: (e: StoredLogEvent) => void,
    isOpen: () => boolean,
    closed: Promise<void>,
  ): Promise<void> {
    const everyMs = deps.otherNodesEveryMs!;
    const seen = new Map<number, number>();
    let floor = start;
    while (isOpen()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, everyMs)))]);
      clearTimeout(timer);
      if (!isOpen()) return;
      try {
        // A batch of this node's being stored right now is recorded as its own first.
        await follow.historyBefore();
        let after = floor;
        for (;;) {
          const page = await deps.logs.query({
            functionName,
            startTime: params.startTime,
            filter: params.filter,
            after,
            limit: historyPage,
          });
          const now = Date.now();
          for (const e of page) {
            if (seen.has(e.id)) continue;
            seen.set(e.id, now);
            if (!follow.landedHere(e.id)) send(e);
          }
          if (page.length < historyPage || !isOpen()) break;
          after = page.at(-1)!.id;
        }
      } catch {
        continue; // The store is down: the next poll tries again.
      }
      const settled = Date.now() - settleMs;
      for (const [id, at] of seen) if (at <= settled) floor = Math.max(floor ?? 0, id);
      for (const id of seen.keys()) if (floor !== undefined && id <= floor) seen.delete(id);
    }
  }
}

function searchOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://control').searchParams;
}
