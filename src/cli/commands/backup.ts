import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { PlatformHttp } from '../../client/platform-http.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { defaultRegion, resolveEndpoint } from '../endpoint.js';
import { Output } from '../output.js';

export interface BackupOptions {
  output?: string;
  dataDir?: string;
  region?: string;
}

/**
 * `nimbus backup --output <file>`: asks the running platform for a consistent backup (POST
 * /v1/backup); with --data-dir, makes it here from that data dir (a stopped platform, or one on
 * this machine). The file appears whole or not at all, and an existing file is never replaced.
 */
export async function backupCommand(ctx: CliContext, opts: BackupOptions): Promise<void> {
  const out = new Output(ctx, {});
  if (!opts.output) throw new CliError('Missing --output <file>: where to write the backup');
  const target = resolve(ctx.cwd, opts.output);
  if (await exists(target)) throw new CliError(`${target} already exists: pick a new file`);
  const partial = `${target}.partial-${randomBytes(4).toString('hex')}`;
  let from: string;
  try {
    if (opts.dataDir) {
      const dataDir = resolve(ctx.cwd, opts.dataDir);
      from = dataDir;
      await pipeline(await localBackup(dataDir), createWriteStream(partial, { mode: 0o600 }));
    } else {
      const endpoint = await resolveEndpoint(opts.region ?? defaultRegion, ctx.env);
      from = endpoint.endpoint;
      const res = await new PlatformHttp(endpoint).request('POST', '/v1/backup');
      if (!res.body) throw new CliError(`${from} sent an empty backup`);
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  const size = (await stat(target)).size;
  out.success(`Backup of ${from} written to ${target} (${(size / 1024 / 1024).toFixed(1)} MiB)`);
  out.log(`Restore it with: nimbus restore --input ${target} --data-dir <new dir>`);
}

/** The same archive as the platform's, from a data dir on this machine. */
async function localBackup(dataDir: string): Promise<NodeJS.ReadableStream> {
  const database = join(dataDir, 'nimbus.db');
  if (!(await exists(database))) {
    throw new CliError(`${dataDir} holds no nimbus.db: is it a Nimbus data dir (SQLite store)?`);
  }
  const [{ createBackupStream }, { snapshotSqliteFile }, { packageVersion }] = await Promise.all([
    import('../../backup/write-backup.js'),
    import('../../store/sqlite-snapshot.js'),
    import('../../package-root.js'),
  ]);
  return createBackupStream({
    dataDir,
    version: packageVersion,
    snapshotDatabase: async (file) => snapshotSqliteFile(database, file),
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
