import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { bearerMatches } from '../../src/platform/control/admin-token.js';
import { HttpError } from '../../src/platform/http/http-error.js';
import { sendError } from '../../src/platform/http/send.js';
import { LogPipeline } from '../../src/platform/observe/log-pipeline.js';
import { KyselyLogStore } from '../../src/platform/observe/log-store/kysely-log-store.js';
import { logsRoutes } from '../../src/platform/observe/logs-routes.js';
import type { Database } from '../../src/store/schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite.js';
import { makeTempDir } from '../helpers/temp-dir.js';

export interface LogsServer {
  url: string;
  token: string;
  db: Kysely<Database>;
  store: KyselyLogStore;
  pipeline: LogPipeline;
  /** Tails currently open, per function: lets a test write only once a follower listens. */
  followers: Map<string, number>;
  close(): Promise<void>;
}

/**
 * The log routes behind the control API's token check on a real listener, as the composition
 * root will mount them, until they are wired into startPlatform.
 */
export async function startLogsServer(
  opts: { functions?: string[]; keepAliveMs?: number; otherNodesEveryMs?: number } = {},
): Promise<LogsServer> {
  const tmp = await makeTempDir();
  const db = await openSqliteDatabase({ file: join(tmp.dir, 'nimbus.db') });
  const store = new KyselyLogStore(db);
  const pipeline = new LogPipeline({ store, pruneEveryMs: 0 });
  const known = new Set(opts.functions ?? ['svc-dev-hello']);
  const followers = new Map<string, number>();
  const counted: Pick<LogPipeline, 'flush' | 'follow'> = {
    flush: () => pipeline.flush(),
    follow: (name, listener) => {
      const follow = pipeline.follow(name, listener);
      followers.set(name, (followers.get(name) ?? 0) + 1);
      return {
        ...follow,
        stop: () => {
          followers.set(name, (followers.get(name) ?? 1) - 1);
          follow.stop();
        },
      };
    },
  };
  const routes = logsRoutes({
    logs: store,
    pipeline: counted,
    functions: {
      findFunctionByName: async (name) =>
        known.has(name) ? { id: 1, stageId: 1, key: name.split('-').at(-1)!, name } : undefined,
    },
    ...(opts.keepAliveMs === undefined ? {} : { keepAliveMs: opts.keepAliveMs }),
    ...(opts.otherNodesEveryMs === undefined ? {} : { otherNodesEveryMs: opts.otherNodesEveryMs }),
  });
  const token = 'nimbus_test_token';

  const server: Server = createServer((req, res) => {
    const handle = async () => {
      if (!bearerMatches(req.headers.authorization, token)) {
        throw new HttpError(401, 'NIMBUS_AUTH_REQUIRED', 'missing or wrong admin token');
      }
      const path = (req.url ?? '/').split('?')[0]!;
      for (const route of routes) {
        const pattern = new RegExp(`^${route.path.replace('{name}', '([^/]+)')}$`);
        const match = pattern.exec(path);
        if (match && route.method === req.method) {
          return route.handler(req, res, { name: decodeURIComponent(match[1]!) });
        }
      }
      throw new HttpError(404, 'NIMBUS_HTTP_NOT_FOUND', `no route ${path}`);
    };
    handle().catch((error) => sendError(res, error, () => {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    db,
    store,
    pipeline,
    followers,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pipeline.stop();
      await db.destroy();
      await tmp.cleanup();
    },
  };
}

/** Resolves when `check` holds, polling each event-loop turn; fails after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
