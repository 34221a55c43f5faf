import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yazl from 'yazl';
import {
  type BackupManifest,
  backupFormat,
  databaseName,
  manifestName,
  secretNames,
} from './backup-layout.js';

export interface BackupSource {
  dataDir: string;
  /** Writes a consistent copy of the SQLite database to `file` (VACUUM INTO). */
  snapshotDatabase(file: string): Promise<void>;
  version: string;
}

/**
 * A backup of a data dir as a zip stream. The database is copied first, as one snapshot taken
 * while the platform keeps running; blobs are content-addressed and never rewritten or deleted,
 * so every blob the snapshot refers to is there when the files are read afterwards (a blob
 * uploaded since is included too, harmlessly). The snapshot's temp file is removed once the
 * stream has ended or failed.
 */
export async function createBackupStream(source: BackupSource): Promise<NodeJS.ReadableStream> {
  const snapshot = join(source.dataDir, `.backup-${randomBytes(6).toString('hex')}.db`);
  await source.snapshotDatabase(snapshot);
  const removeSnapshot = () => rm(snapshot, { force: true }).catch(() => undefined);
  try {
    const zip = new yazl.ZipFile();
    const notIncluded: string[] = [];
    for (const name of secretNames) {
      if (await isFile(join(source.dataDir, name))) {
        zip.addFile(join(source.dataDir, name), name, { mode: 0o100600 });
      } else {
        notIncluded.push(name);
      }
    }
    const manifest: BackupManifest = {
      format: backupFormat,
      version: source.version,
      createdAt: new Date().toISOString(),
      notIncluded,
    };
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), manifestName);
    zip.addFile(snapshot, databaseName, { mode: 0o100600 });
    for (const rel of await listBlobs(join(source.dataDir, 'blobs'))) {
      // Artifacts are zips already: deflating them again costs CPU for nothing.
      zip.addFile(join(source.dataDir, 'blobs', rel), `blobs/${rel}`, { compress: false });
    }
    zip.end();
    const out = zip.outputStream;
    out.once('end', removeSnapshot);
    out.once('error', removeSnapshot);
    out.once('close', removeSnapshot);
    return out;
  } catch (error) {
    await removeSnapshot();
    throw error;
  }
}

/** `sha256/<2 hex>/<64 hex>` paths under the blob root; temp files of a write in flight are skipped. */
async function listBlobs(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const prefix of await dirEntries(join(root, 'sha256'))) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
    for (const name of await dirEntries(join(root, 'sha256', prefix))) {
      if (/^[0-9a-f]{64}$/.test(name)) out.push(`sha256/${prefix}/${name}`);
    }
  }
  return out.sort();
}

async function dirEntries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
