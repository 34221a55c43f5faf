/**
 * Object bytes as files under `<root>/objects/<2 hex>/<blob id>`, where a blob id is a generated
 * 32-hex-digit name: object keys never reach the file system, so `..`, absolute paths or NUL in
 * a key name nothing on disk. A write goes to `<root>/tmp` first and is renamed into place only
 * once every byte is flushed and the body checked out, so a failed or crashed upload leaves no
 * object; start() sweeps the temp files such a crash left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { NimbusError } from '../../errors/nimbus-error.js';
import { type ChecksumName, createChecksum } from '../../platform/aws/sigv4/checksum.js';
import { type FileSegment, sendFile, sendFiles } from './file-sender.js';
import { Md5Pool } from './md5-pool.js';
import type { BodyDigests } from './md5-thread.js';
import { SlabWriter, slabBytes } from './slab-writer.js';

/** What a write computes besides the MD5, and the check its digests must pass before it is kept. */
export interface WriteOptions {
  /** Also computed over the bytes, as x-amz-checksum-<name> carries it (base64). */
  checksum?: ChecksumName;
  /**
   * Called with the digests once every byte is in, before the blob is kept; throwing discards
   * it (a body that does not match what the client declared).
   */
  check?: (digests: BodyDigests) => void;
}

export interface WrittenBlob {
  blobId: string;
  size: number;
  md5Hex: string;
}

/** The S3 operation answers it as EntityTooLarge. */
export class BlobTooLargeError extends NimbusError {
  constructor(readonly limit: number) {
    super('NIMBUS_S3_TOO_LARGE', `body exceeds ${limit} bytes`);
  }
}

export const blobIdPattern = /^[0-9a-f]{32}$/;
/** A composite blob's id (ObjectFiles.compose): told apart by its name, without a file system call. */
const compositeSuffix = '.parts';
const compositeIdPattern = /^[0-9a-f]{32}\.parts$/;

interface Manifest {
  parts: BlobPart[];
}

function absentAs<T>(value: T): (error: NodeJS.ErrnoException) => T {
  return (error) => {
    if (error.code === 'ENOENT') return value;
    throw error;
  };
}
const readChunkBytes = 1024 * 1024;
/** A body in more pieces than this goes through slabs even while small (one writev stays short). */
const maxHeadPieces = 64;

/**
 * Where object bytes live, by blob id: this node's disk (ObjectFiles, the default), or where
 * every node of a cluster reads them: chunked rows of the store (PgObjectFiles, with `--blobs
 * postgres`) or a bucket (S3ObjectFiles, with `--blobs s3://...`).
 */
export interface ObjectStorage {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Streams `source` into a new blob; throws (leaving nothing) when the source throws, passes
   * maxBytes or fails `opts.check`.
   */
  write(source: AsyncIterable<Buffer>, maxBytes: number, opts?: WriteOptions): Promise<WrittenBlob>;
  /** A new blob with the bytes of `blobId` (CopyObject). */
  copy(blobId: string): Promise<string>;
  /** `start`/`end` inclusive, as in a Range header. */
  read(blobId: string, range?: { start: number; end: number }): Readable;
  /**
   * Where the storage can do better than a stream (a local file): writes bytes `start`..`end`
   * (inclusive) of the blob to `res` and ends it; rejects when it could not.
   */
  sendTo?(
    blobId: string,
    range: { start: number; end: number },
    res: ServerResponse,
  ): Promise<void>;
  /** Removing an absent blob is not an error. */
  remove(blobId: string): Promise<void>;
  /**
   * Where the storage can (ObjectFiles): a new blob with the bytes of `parts` in order, made
   * without copying them. The parts become the new blob's: removing it removes them, so nothing
   * else may remove them once the new blob is referenced. Without it, CompleteMultipartUpload
   * writes the parts' bytes into a new blob.
   */
  compose?(parts: readonly BlobPart[]): Promise<string>;
  /** Removes a blob made by compose, but not its parts (a completion that did not happen). */
  uncompose?(blobId: string): Promise<void>;
}

/** A blob as one piece of a composed one. */
export interface BlobPart {
  blobId: string;
  size: number;
}

export class ObjectFiles implements ObjectStorage {
  readonly #root: string;
  readonly #md5 = new Md5Pool();
  /**
   * Reads in progress per composite blob, and the parts of those removed meanwhile: a plain
   * file's open descriptor keeps its bytes after unlink, a composite's later parts are opened
   * only when reached, so their removal waits for the last read of the composite to end.
   */
  readonly #readers = new Map<string, number>();
  readonly #removeAfterReads = new Map<string, BlobPart[]>();

  constructor(root: string) {
    this.#root = root;
  }

  async start(): Promise<void> {
    await rm(join(this.#root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.#root, 'tmp'), { recursive: true });
    await mkdir(join(this.#root, 'objects'), { recursive: true });
  }

  async stop(): Promise<void> {
    await this.#md5.stop();
  }

  /**
   * Streams `source` into a new blob; throws (leaving nothing) when the source throws, passes
   * maxBytes or fails `opts.check`.
   */
  async write(
    source: AsyncIterable<Buffer>,
    maxBytes: number,
    opts: WriteOptions = {},
  ): Promise<WrittenBlob> {
    const blobId = newBlobId();
    const temp = join(this.#root, 'tmp', `${blobId}.tmp`);
    const file = await open(temp, 'wx', 0o600);
    let fileOpen = true;
    let slabs: SlabWriter | undefined;
    try {
      // A body smaller than a slab is kept as the pieces it came in, then hashed here and written
      // at once: a worker round trip would cost a small object more than its MD5 does.
      const head: Buffer[] = [];
      let headBytes = 0;
      let size = 0;
      for await (const piece of source) {
        size += piece.length;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        if (slabs) {
          await slabs.add(piece);
          continue;
        }
        head.push(piece);
        headBytes += piece.length;
        if (headBytes >= slabBytes || head.length >= maxHeadPieces) {
          slabs = new SlabWriter(file, this.#md5.session(opts.checksum));
          for (const p of head.splice(0)) await slabs.add(p);
        }
      }
      let digests: BodyDigests;
      if (slabs) {
        digests = await slabs.finish();
      } else {
        digests = digestsOf(head, opts.checksum);
        if (head.length > 0) {
          const { bytesWritten } = await file.writev(head);
          if (bytesWritten !== size) throw new Error('the object file took a short write');
        }
      }
      opts.check?.(digests);
      // Flushed before the rename: after a crash an object is whole or absent.
      await file.sync();
      fileOpen = false;
      await file.close();
      await this.#place(temp, blobId);
      return { blobId, size, md5Hex: digests.md5Hex };
    } catch (error) {
      await slabs?.abandon();
      if (fileOpen) await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
      throw error;
    }
  }

  /** A new blob with the bytes of `blobId` (CopyObject). */
  async copy(blobId: string): Promise<string> {
    if (compositeIdPattern.test(blobId)) return this.#copyComposite(blobId);
    const copyId = newBlobId();
    const temp = join(this.#root, 'tmp', `${copyId}.tmp`);
    try {
      await copyFile(this.#path(blobId), temp);
      await this.#commit(temp, copyId);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    return copyId;
  }

  /** `start`/`end` inclusive, as in a Range header. */
  read(blobId: string, range?: { start: number; end: number }): Readable {
    if (compositeIdPattern.test(blobId)) return Readable.from(this.#readComposite(blobId, range));
    // 1 MiB reads (not the default 64 KiB): a sixteenth of the reads and socket writes.
    return createReadStream(this.#path(blobId), { ...range, highWaterMark: readChunkBytes });
  }

  sendTo(
    blobId: string,
    range: { start: number; end: number },
    res: ServerResponse,
  ): Promise<void> {
    if (!compositeIdPattern.test(blobId)) {
      return sendFile(this.#path(blobId), res, range.start, range.end);
    }
    this.#startRead(blobId);
    return this.#segments(blobId, range)
      .then((segments) => sendFiles(segments, res))
      .finally(() => this.#endRead(blobId));
  }

  /** Removing an absent blob is not an error. */
  async remove(blobId: string): Promise<void> {
    if (compositeIdPattern.test(blobId)) {
      const parts = await this.#manifest(blobId).catch(absentAs(undefined));
      if (!parts) return;
      // The manifest first: a crash between the two leaves unreferenced part files (space), never
      // a manifest naming parts that are gone.
      await unlink(this.#path(blobId)).catch(absentAs(undefined));
      if (this.#readers.has(blobId)) this.#removeAfterReads.set(blobId, parts);
      else await this.#removeParts(parts);
      return;
    }
    await unlink(this.#path(blobId)).catch(absentAs(undefined));
  }

  /**
   * A composite blob: a manifest (`<32 hex>.parts`, JSON, written temp + fsync + rename like any
   * blob) naming the part blobs and their sizes, which stay where they are.
   */
  async compose(parts: readonly BlobPart[]): Promise<string> {
    for (const part of parts) {
      if (!blobIdPattern.test(part.blobId)) throw new Error(`cannot compose ${part.blobId}`);
    }
    const manifest: Manifest = { parts: parts.map(({ blobId, size }) => ({ blobId, size })) };
    const compositeId = `${newBlobId()}${compositeSuffix}`;
    const temp = join(this.#root, 'tmp', `${compositeId}.tmp`);
    try {
      await writeFile(temp, JSON.stringify(manifest), { flag: 'wx', mode: 0o600 });
      await this.#commit(temp, compositeId);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    return compositeId;
  }

  async uncompose(blobId: string): Promise<void> {
    if (!compositeIdPattern.test(blobId)) throw new Error(`${blobId} is not a composed blob`);
    await unlink(this.#path(blobId)).catch(absentAs(undefined));
  }

  /** A composite copy owns copies of the parts: removing either never touches the other's. */
  async #copyComposite(blobId: string): Promise<string> {
    const parts = await this.#manifest(blobId);
    const copies: BlobPart[] = [];
    try {
      for (const part of parts)
        copies.push({ blobId: await this.copy(part.blobId), size: part.size });
      return await this.compose(copies);
    } catch (error) {
      await Promise.all(copies.map((copy) => this.remove(copy.blobId).catch(() => {})));
      throw error;
    }
  }

  async #manifest(blobId: string): Promise<BlobPart[]> {
    const manifest = JSON.parse(await readFile(this.#path(blobId), 'utf8')) as Manifest;
    for (const part of manifest.parts) {
      if (!blobIdPattern.test(part.blobId) || !Number.isSafeInteger(part.size) || part.size < 0) {
        throw new Error(`blob ${blobId} has a malformed manifest`);
      }
    }
    return manifest.parts;
  }

  /** The pieces of the parts' files that hold bytes `range` of the composite blob. */
  async #segments(blobId: string, range?: { start: number; end: number }): Promise<FileSegment[]> {
    const parts = await this.#manifest(blobId);
    const total = parts.reduce((sum, part) => sum + part.size, 0);
    const first = range?.start ?? 0;
    const last = range?.end ?? total - 1;
    const segments: FileSegment[] = [];
    let offset = 0;
    for (const part of parts) {
      const partEnd = offset + part.size - 1;
      if (part.size > 0 && partEnd >= first && offset <= last) {
        segments.push({
          path: this.#path(part.blobId),
          start: Math.max(first, offset) - offset,
          end: Math.min(last, partEnd) - offset,
        });
      }
      offset += part.size;
    }
    return segments;
  }

  /**
   * Counted from its first step, before the manifest is read (a removal that finds the manifest
   * sees the read), to its end or the stream's destruction (the generator's `finally`); a
   * stream never read counts nothing, as a plain file's stream opens nothing until read.
   */
  async *#readComposite(
    blobId: string,
    range?: { start: number; end: number },
  ): AsyncGenerator<Buffer> {
    this.#startRead(blobId);
    try {
      for (const segment of await this.#segments(blobId, range)) {
        yield* createReadStream(segment.path, {
          start: segment.start,
          end: segment.end,
          highWaterMark: readChunkBytes,
        }) as AsyncIterable<Buffer>;
      }
    } finally {
      this.#endRead(blobId);
    }
  }

  #startRead(blobId: string): void {
    this.#readers.set(blobId, (this.#readers.get(blobId) ?? 0) + 1);
  }

  #endRead(blobId: string): void {
    const left = (this.#readers.get(blobId) ?? 1) - 1;
    if (left > 0) {
      this.#readers.set(blobId, left);
      return;
    }
    this.#readers.delete(blobId);
    const parts = this.#removeAfterReads.get(blobId);
    if (!parts) return;
    this.#removeAfterReads.delete(blobId);
    // Nobody waits on this removal; one that fails leaves part files no row names (space only,
    // as a crash between the manifest's removal and its parts' would).
    this.#removeParts(parts).catch(() => {});
  }

  async #removeParts(parts: readonly BlobPart[]): Promise<void> {
    await Promise.all(parts.map((part) => this.remove(part.blobId)));
  }

  async #commit(temp: string, blobId: string): Promise<void> {
    // Flushed before the rename: after a crash an object is whole or absent.
    const file = await open(temp, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    await this.#place(temp, blobId);
  }

  async #place(temp: string, blobId: string): Promise<void> {
    const final = this.#path(blobId);
    await mkdir(join(final, '..'), { recursive: true });
    await rename(temp, final);
  }

  #path(blobId: string): string {
    if (!blobIdPattern.test(blobId) && !compositeIdPattern.test(blobId))
      throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
    return join(this.#root, 'objects', blobId.slice(0, 2), blobId);
  }
}

/** The digests of a body small enough to hash on the request's thread. */
export function digestsOf(pieces: Buffer[], checksumName?: ChecksumName): BodyDigests {
  const md5 = createHash('md5');
  const checksum = checksumName === undefined ? undefined : createChecksum(checksumName);
  for (const p of pieces) {
    md5.update(p);
    checksum?.update(p);
  }
  const md5Hex = md5.digest('hex');
  return checksum ? { md5Hex, checksum: checksum.digest() } : { md5Hex };
}

export function newBlobId(): string {
  return randomBytes(16).toString('hex');
}
