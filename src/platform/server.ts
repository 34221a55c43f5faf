/**
 * The composition root: the one place that builds adapters and wires the platform together.
 * Everything below receives its collaborators from here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { FsBlobStore } from '../blob/fs-blob-store.js';
import { type Clock, systemClock } from '../model/clock.js';
import { lambdaZipLimits, type ZipLimits } from '../packaging/zip-safety.js';
import { KyselyStore } from '../store/kysely-store.js';
import { openDatabase } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { MiB } from './config.js';
import { loadOrCreateAdminToken } from './control/admin-token.js';
import { createControlApi } from './control/control-api.js';
import { Deployer } from './control/deployer.js';
import { HttpError } from './http/http-error.js';
import { sendError, sendJson } from './http/send.js';

export interface PlatformOptions {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:` (default, a file in dataDir), `sqlite:<file>` or `postgres://...`. */
  databaseUrl?: string;
  /** NIMBUS_ADMIN_TOKEN, when the operator sets one. */
  adminToken?: string;
  retainDeployments?: number;
  zipLimits?: ZipLimits;
  clock?: Clock;
  logger?: Logger;
}

export interface RunningPlatform {
  url: string;
  adminToken: string;
  adminTokenFile: string;
  store: Store;
  close(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const logger = options.logger ?? pino({ level: 'info' }, pino.destination(2));
  const clock = options.clock ?? systemClock;
  const token = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
  const db = await openDatabase(options.databaseUrl ?? 'sqlite:', { dataDir: options.dataDir });
  const store = new KyselyStore(db);
  const blobs = new FsBlobStore(join(options.dataDir, 'blobs'));
  const deployer = new Deployer({
    store,
    blobs,
    clock,
    retainDeployments: options.retainDeployments ?? 5,
  });
  const control = createControlApi({
    store,
    blobs,
    deployer,
    adminToken: token.token,
    zipLimits: options.zipLimits ?? lambdaZipLimits,
    maxJsonBytes: 10 * MiB,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path.startsWith('/v1/')) return control(req, res, path);
    req.resume();
    throw new HttpError(404, 'NIMBUS_HTTP_NOT_FOUND', 'Not Found');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) =>
      sendError(res, error, (e) => logger.error({ err: e }, 'request failed')),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info(
    { url, dataDir: options.dataDir, tokenSource: token.source },
    'nimbus platform ready',
  );

  return {
    url,
    adminToken: token.token,
    adminTokenFile: token.file,
    store,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
