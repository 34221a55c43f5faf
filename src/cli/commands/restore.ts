import { resolve } from 'node:path';
import { restoreBackup } from '../../backup/restore-backup.js';
import { CliError } from '../cli-error.js';
import type { CliContext } from '../context.js';
import { Output } from '../output.js';

export interface RestoreOptions {
  input?: string;
  dataDir?: string;
}

/** `nimbus restore --input <file> --data-dir <new dir>`: a backup into a new data dir. */
export async function restoreCommand(ctx: CliContext, opts: RestoreOptions): Promise<void> {
  const out = new Output(ctx, {});
  if (!opts.input) throw new CliError('Missing --input <file>: the backup to restore');
  if (!opts.dataDir) throw new CliError('Missing --data-dir <dir>: a new, empty data dir');
  const input = resolve(ctx.cwd, opts.input);
  const dataDir = resolve(ctx.cwd, opts.dataDir);
  const { manifest, blobs } = await restoreBackup(input, dataDir);
  out.success(
    `Restored the database and ${blobs} artifact${blobs === 1 ? '' : 's'} ` +
      `(backup of ${manifest.createdAt}, Nimbus ${manifest.version}) into ${dataDir}`,
  );
  for (const name of manifest.notIncluded) {
    const variable = name === 'master-key' ? 'NIMBUS_MASTER_KEY' : 'NIMBUS_ADMIN_TOKEN';
    out.warn(
      `${name} was not in the backup (the platform had it from ${variable}): start the ` +
        `restored platform with the same ${variable}`,
    );
  }
  out.log(`Start it with: nimbus server --data-dir ${dataDir}`);
}
