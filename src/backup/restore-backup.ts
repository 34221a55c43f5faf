import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import {
  BackupError,
  type BackupManifest,
  backupFormat,
  blobHashOf,
  databaseName,
  isBackupEntry,
  manifestName,
} from './backup-layout.js';

export interface RestoreResult {
  manifest: BackupManifest;
  blobs: number;
}

/**
 * Restores a backup into `dataDir`, which must not exist or be empty: an existing platform's
 * state is never overwritten. Everything is written to a sibling staging directory first and
 * renamed into place at the end, so a refused or broken archive leaves nothing behind. Entry
 * names outside the backup layout are refused, and each blob must hash to its name.
 */
export async function restoreBackup(input: string, dataDir: string): Promise<RestoreResult> {
  await assertEmptyTarget(dataDir);
  await mkdir(dirname(dataDir), { recursive: true });
  const staging = join(
    dirname(dataDir),
    `.${basename(dataDir)}.restoring-${randomBytes(6).toString('hex')}`,
  );
  await mkdir(staging, { mode: 0o700 });
  try {
    const result = await extract(input, staging);
    await rmdir(dataDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, dataDir);
    return result;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function assertEmptyTarget(dataDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new BackupError(`cannot use ${dataDir} as the data dir: ${(error as Error).message}`);
  }
  if (entries.length > 0) {
    throw new BackupError(
      `${dataDir} is not empty: restore into a new data dir (nothing was changed)`,
    );
  }
}

async function extract(input: string, target: string): Promise<RestoreResult> {
  let zip: ZipFile;
  try {
    zip = await new Promise<ZipFile>((resolve, reject) =>
      yauzl.open(input, { lazyEntries: true, autoClose: true }, (error, file) =>
        error ? reject(error) : resolve(file),
      ),
    );
  } catch (error) {
    throw new BackupError(`${input} is not a Nimbus backup: ${(error as Error).message}`);
  }
  let manifest: BackupManifest | undefined;
  let hasDatabase = false;
  let blobs = 0;
  try {
    for await (const entry of entries(zip)) {
      const name = entry.fileName;
      if (name.endsWith('/')) continue;
      if (!isBackupEntry(name)) {
        throw new BackupError(`${input}: unexpected entry "${name}" (not a Nimbus backup?)`);
      }
      const content = await openEntry(zip, entry);
      if (name === manifestName) {
        manifest = parseManifest(await collect(content), input);
        continue;
      }
      const file = join(target, ...name.split('/'));
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      const hash = createHash('sha256');
      const hashing = new Transform({
        transform(chunk, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(content, hashing, createWriteStream(file, { mode: 0o600 }));
      await chmod(file, name.startsWith('blobs/') ? 0o644 : 0o600);
      const expected = blobHashOf(name);
      if (expected) {
        if (hash.digest('hex') !== expected) {
          throw new BackupError(`${input}: blob ${expected} does not match its hash`);
        }
        blobs++;
      }
      if (name === databaseName) hasDatabase = true;
    }
  } catch (error) {
    zip.close();
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${input} cannot be read: ${(error as Error).message}`);
  }
  if (!manifest) throw new BackupError(`${input}: no ${manifestName} (not a Nimbus backup?)`);
  if (!hasDatabase) throw new BackupError(`${input}: no ${databaseName} in the backup`);
  return { manifest, blobs };
}

function parseManifest(text: string, input: string): BackupManifest {
  let parsed: Partial<BackupManifest>;
  try {
    parsed = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new BackupError(`${input}: ${manifestName} is not JSON`);
  }
  if (parsed.format !== backupFormat) {
    throw new BackupError(
      `${input}: backup format ${String(parsed.format)} is not ${backupFormat} ` +
        `(written by Nimbus ${String(parsed.version)})`,
    );
  }
  return {
    format: backupFormat,
    version: String(parsed.version),
    createdAt: String(parsed.createdAt),
    notIncluded: Array.isArray(parsed.notIncluded) ? parsed.notIncluded.map(String) : [],
  };
}

/** The zip's entries, one at a time (lazyEntries: the next is read only when asked for). */
async function* entries(zip: ZipFile): AsyncGenerator<Entry> {
  for (;;) {
    const next = await new Promise<Entry | undefined>((resolve, reject) => {
      const onEntry = (entry: Entry) => finish(() => resolve(entry));
      const onEnd = () => finish(() => resolve(undefined));
      const onError = (error: Error) => finish(() => reject(error));
      const finish = (then: () => void) => {
        zip.off('entry', onEntry);
        zip.off('end', onEnd);
        zip.off('error', onError);
        then();
      };
      zip.once('entry', onEntry);
      zip.once('end', onEnd);
      zip.once('error', onError);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}

function openEntry(zip: ZipFile, entry: Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream))),
  );
}

async function collect(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
