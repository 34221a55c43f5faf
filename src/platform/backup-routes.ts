import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { createBackupStream } from '../backup/write-backup.js';
import type { ControlRoute } from './control/control-api.js';
import { HttpError } from './http/http-error.js';

export interface BackupDeps {
  dataDir: string;
  version: string;
  /** Undefined when the store is not SQLite: its database is backed up by its own tools. */
  snapshotDatabase: ((file: string) => Promise<void>) | undefined;
  logger: Logger;
}

/**
 * `POST /v1/backup`: a consistent zip of the data dir, taken while the platform runs
 * (docs/operations.md). POST, not GET: it does work (a database snapshot), and no cache or
 * prefetcher should ever trigger it.
 */
export function backupRoutes(deps: BackupDeps): ControlRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/backup',
      handler: async (_req, res) => {
        const snapshotDatabase = deps.snapshotDatabase;
        if (!snapshotDatabase) {
          throw new HttpError(
            409,
            'NIMBUS_BACKUP_UNSUPPORTED',
            'the store is PostgreSQL: back the database up with pg_dump, and copy blobs/, ' +
              'master-key and admin-token from the data dir (docs/operations.md)',
          );
        }
        const stream = await createBackupStream({
          dataDir: deps.dataDir,
          version: deps.version,
          snapshotDatabase,
        });
        res.writeHead(200, {
          'content-type': 'application/zip',
          'cache-control': 'no-store',
        });
        try {
          await pipeline(stream, res);
        } catch (error) {
          // The status line is gone: all that is left is to cut the answer, which the CLI
          // reports as a failed backup (it never keeps a partial file).
          deps.logger.error({ err: error }, 'backup stream failed');
          res.destroy();
        }
      },
    },
  ];
}
