import { lstat, mkdir, mkdtemp, open, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import {
  assertSafeName,
  assertSymlinkInside,
  fileModeOf,
  isDirectoryEntry,
  isSymlinkEntry,
  mapReaderError,
  maxSymlinkTargetBytes,
} from './zip-entry-rules.js';
import { ZipRejectedError } from './zip-rejected-error.js';

export { type ZipRejectedCode, ZipRejectedError } from './zip-rejected-error.js';

export interface ZipLimits {
  maxZippedBytes: number;
  maxUnzippedBytes: number;
  /** No limit when absent. */
  maxEntries?: number;
}

const MiB = 1024 * 1024;

/**
 * The AWS Lambda limits for a directly uploaded deployment package. Lambda states no entry
 * count; 50,000 passes a large node_modules and stops a zip of empty entries from costing
 * millions of file creations.
 */
export const lambdaZipLimits: ZipLimits = {
  maxZippedBytes: 50 * MiB,
  maxUnzippedBytes: 250 * MiB,
  maxEntries: 50_000,
};

/**
 * Checks a zip without writing anything: size caps, entry count, every entry name, every symlink
 * target. Declared uncompressed sizes are summed (they can lie; extractZip counts real bytes).
 */
export async function inspectZip(
  zip: Buffer,
  limits: ZipLimits,
): Promise<{ entries: number; unzippedBytes: number }> {
  let entries = 0;
  let unzippedBytes = 0;
  const layout = new EntryLayout();
  await forEachEntry(zip, limits, false, async (entry, zipfile) => {
    entries += 1;
    layout.add(entry.fileName, isDirectoryEntry(entry), isSymlinkEntry(entry));
    unzippedBytes += entry.uncompressedSize;
    if (unzippedBytes > limits.maxUnzippedBytes) {
      throw tooLarge(
        `declared unzipped size passes ${limits.maxUnzippedBytes} bytes at entry ${JSON.stringify(entry.fileName)}`,
        entry.fileName,
      );
    }
    if (isSymlinkEntry(entry))
      assertSymlinkInside(entry.fileName, await readTarget(zipfile, entry));
  });
  return { entries, unzippedBytes };
}

/**
 * The paths a zip's entries would take, so that a zip that cannot be extracted is refused
 * before a byte is written: the same file twice, a file and a directory of one name, an entry
 * under a file or symlink (which extraction would have to write through).
 */
class EntryLayout {
  readonly #leaves = new Set<string>();
  readonly #dirs = new Set<string>();
  readonly #links = new Set<string>();

  add(fileName: string, isDirectory: boolean, isSymlink: boolean): void {
    const name = fileName.replace(/\/+$/, '');
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.#links.has(parent)) {
        throw new ZipRejectedError(
          'NIMBUS_ARTIFACT_UNSAFE_PATH',
          `zip entry ${JSON.stringify(fileName)} would be written through a symlink`,
          fileName,
        );
      }
      if (this.#leaves.has(parent)) {
        throw invalid(
          `zip entry ${JSON.stringify(fileName)} lies under ${JSON.stringify(parent)}, which is a file`,
          fileName,
        );
      }
      this.#dirs.add(parent);
    }
    if (isDirectory) {
      if (this.#leaves.has(name)) throw conflict(fileName);
      this.#dirs.add(name);
      return;
    }
    if (this.#leaves.has(name)) {
      throw invalid(`zip entry ${JSON.stringify(fileName)} appears twice`, fileName);
    }
    if (this.#dirs.has(name)) throw conflict(fileName);
    this.#leaves.add(name);
    if (isSymlink) this.#links.add(name);
  }
}

function conflict(fileName: string): ZipRejectedError {
  return invalid(`zip entry ${JSON.stringify(fileName)} is both a file and a directory`, fileName);
}

/**
 * Extracts into destDir after inspectZip passes. Writes only regular files (0644/0755),
 * directories and symlinks that stay inside destDir; never writes through a symlink; counts the
 * bytes really inflated and stops at maxUnzippedBytes. On any refusal, everything this call
 * created is removed again (destDir too, if this call created it).
 */
export async function extractZip(zip: Buffer, destDir: string, limits: ZipLimits): Promise<void> {
  await inspectZip(zip, limits);
  const root = resolve(destDir);
  const firstCreated = await mkdir(root, { recursive: true });
  const created: string[] = [];
  try {
    await writeEntries(zip, root, limits, created);
  } catch (err) {
    if (firstCreated !== undefined) await rm(firstCreated, { recursive: true, force: true });
    else {
      for (const path of created.reverse()) await rm(path, { recursive: true, force: true });
    }
    throw err;
  }
}

/**
 * Extracts the zip into a private scratch dir and removes it again: what only the file system
 * can tell (symlink chains, entries larger than declared) is found at upload, not at the first
 * request. Resolves with what inspectZip reports.
 */
export async function assertExtractable(
  zip: Buffer,
  limits: ZipLimits,
): Promise<{ entries: number; unzippedBytes: number }> {
  const info = await inspectZip(zip, limits);
  const scratch = await mkdtemp(join(tmpdir(), 'nimbus-zip-check-'));
  try {
    await extractZip(zip, join(scratch, 'x'), limits);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return info;
}

async function writeEntries(
  zip: Buffer,
  root: string,
  limits: ZipLimits,
  created: string[],
): Promise<void> {
  const safeDirs = new Set<string>([root]);
  const links: string[] = [];
  let written = 0;

  // Creates the missing parents of `dir` one by one, refusing to pass through a symlink or a
  // file: a link entry extracted earlier must never redirect a later write.
  const ensureDir = async (dir: string, entryName: string): Promise<void> => {
    if (safeDirs.has(dir)) return;
    await ensureDir(dirname(dir), entryName);
    const info = await lstat(dir).catch(() => undefined);
    if (info === undefined) {
      await mkdir(dir);
      created.push(dir);
    } else if (info.isSymbolicLink()) {
      throw new ZipRejectedError(
        'NIMBUS_ARTIFACT_UNSAFE_PATH',
        `zip entry ${JSON.stringify(entryName)} would be written through a symlink`,
        entryName,
      );
    } else if (!info.isDirectory()) {
      throw invalid(
        `zip entry ${JSON.stringify(entryName)} needs a directory where a file is`,
        entryName,
      );
    }
    safeDirs.add(dir);
  };

  await forEachEntry(zip, limits, true, async (entry, zipfile) => {
    const name = entry.fileName;
    const target = join(root, name);
    if (target !== root && !target.startsWith(root + sep)) {
      throw new ZipRejectedError('NIMBUS_ARTIFACT_UNSAFE_PATH', `zip entry ${name} escapes`, name);
    }
    if (isDirectoryEntry(entry)) {
      await ensureDir(target.replace(/[\\/]+$/, ''), name);
      return;
    }
    await ensureDir(dirname(target), name);
    if (isSymlinkEntry(entry)) {
      const linkTarget = await readTarget(zipfile, entry);
      assertSymlinkInside(name, linkTarget);
      await symlink(linkTarget, target).catch((err: unknown) => {
        throw invalid(
          `zip entry ${JSON.stringify(name)} cannot be created (duplicate?)`,
          name,
          err,
        );
      });
      created.push(target);
      links.push(target);
      return;
    }
    // 'wx' fails on an existing path, including a symlink, so a duplicate entry can neither
    // overwrite nor follow anything. Only a path we opened this way is ours to clean up.
    const handle = await open(target, 'wx', fileModeOf(entry)).catch((err: unknown) => {
      throw invalid(`zip entry ${JSON.stringify(name)} cannot be created (duplicate?)`, name, err);
    });
    created.push(target);
    const out = handle.createWriteStream();
    let entryBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        entryBytes += chunk.length;
        if (written > limits.maxUnzippedBytes) {
          done(
            tooLarge(
              `unzipped data passes ${limits.maxUnzippedBytes} bytes in ${JSON.stringify(name)}`,
              name,
            ),
          );
        } else if (entryBytes > entry.uncompressedSize) {
          done(invalid(`zip entry ${JSON.stringify(name)} is larger than its declared size`, name));
        } else done(null, chunk);
      },
      flush(done) {
        if (entryBytes !== entry.uncompressedSize) {
          done(
            invalid(`zip entry ${JSON.stringify(name)} is smaller than its declared size`, name),
          );
        } else done();
      },
    });
    try {
      await pipeline(await zipfile.openReadStreamPromise(entry), counter, out);
    } catch (err) {
      throw mapReaderError(err);
    }
  });

  // The lexical check cannot see chains (`a -> .`, `b -> a/..`); the file system can.
  const realRoot = await realpath(root);
  for (const link of links) {
    const real = await realpath(link).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined; // dangling, but lexically inside: harmless
      throw new ZipRejectedError('NIMBUS_ARTIFACT_UNSAFE_PATH', `symlink ${link} loops`, link);
    });
    if (real !== undefined && real !== realRoot && !real.startsWith(realRoot + sep)) {
      const name = relative(root, link);
      throw new ZipRejectedError(
        'NIMBUS_ARTIFACT_UNSAFE_PATH',
        `zip entry ${JSON.stringify(name)} is a symlink that resolves outside the artifact (${await readlink(link)})`,
        name,
      );
    }
  }
}

/** Opens the zip (after the zipped-size cap) and visits entries in order, names checked. */
async function forEachEntry(
  zip: Buffer,
  limits: ZipLimits,
  countsBytesItself: boolean,
  visit: (entry: Entry, zipfile: ZipFile) => Promise<void>,
): Promise<void> {
  if (zip.length > limits.maxZippedBytes) {
    throw tooLarge(`zip is ${zip.length} bytes, over the ${limits.maxZippedBytes} byte limit`);
  }
  let zipfile: ZipFile;
  try {
    // Size validation is ours during extraction (validateEntrySizes: false) so that a lying
    // entry meets the byte cap first; inspectZip keeps yauzl's own check on.
    zipfile = await yauzl.fromBufferPromise(zip, { validateEntrySizes: !countsBytesItself });
  } catch (err) {
    throw mapReaderError(err);
  }
  if (limits.maxEntries !== undefined && zipfile.entryCount > limits.maxEntries) {
    throw tooLarge(`zip has ${zipfile.entryCount} entries, over the ${limits.maxEntries} limit`);
  }
  try {
    for await (const entry of zipfile.eachEntry()) {
      assertSafeName(entry.fileName);
      if (entry.isEncrypted() || !entry.canDecodeFileData()) {
        throw invalid(
          `zip entry ${JSON.stringify(entry.fileName)} is encrypted or uses an unknown compression`,
          entry.fileName,
        );
      }
      await visit(entry, zipfile);
    }
  } catch (err) {
    zipfile.close();
    throw mapReaderError(err);
  }
}

async function readTarget(zipfile: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > maxSymlinkTargetBytes) {
    throw invalid(
      `zip entry ${JSON.stringify(entry.fileName)} is a symlink with an oversized target`,
      entry.fileName,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const stream: Readable = await zipfile.openReadStreamPromise(entry);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxSymlinkTargetBytes) {
      stream.destroy();
      throw invalid(
        `zip entry ${JSON.stringify(entry.fileName)} is a symlink with an oversized target`,
        entry.fileName,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(message: string, entry?: string): ZipRejectedError {
  return new ZipRejectedError('NIMBUS_ARTIFACT_TOO_LARGE', message, entry);
}

function invalid(message: string, entry?: string, cause?: unknown): ZipRejectedError {
  return new ZipRejectedError('NIMBUS_ARTIFACT_INVALID', message, entry, { cause });
}
