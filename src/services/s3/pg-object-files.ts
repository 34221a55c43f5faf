/**
 * S3 objects' bytes as chunked rows in the platform database (`--blobs postgres`), so every node
 * of a cluster reads what any node stored: a head row per blob id in `s3_object_blobs` and its
 * bytes in `s3_object_chunks`, 1 MiB a row (migration 044). Streamed both ways: an upload is cut
 * into chunks as it arrives and each is inserted on its own, a read fetches one chunk per query,
 * so no more than a chunk or two of an object is ever in memory.
 *
 * An upload holds no transaction (a slow client would pin a pooled connection for its whole
 * length): the head row is written first in state `writing`, the chunks follow, and the head turns
 * `whole` with the size and chunk count after the last one. Readers see only `whole` blobs, so an
 * object is whole or absent; a failed or over-cap upload removes what it wrote. A node that dies
 * mid-upload leaves a `writing` head; start() removes those not touched for `staleAfterMs` (the
 * writer touches its head at least every minute, and an upload whose head was swept fails at its
 * next touch or at the end instead of turning whole). Blob ids are never reused, so no node can
 * read a stale copy.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Kysely, sql } from 'kysely';
import { BlobNotFoundError } from '../../blob/blob-store.js';
import type { Clock } from '../../model/clock.js';
import { createChecksum } from '../../platform/aws/sigv4/checksum.js';
import {
  BlobTooLargeError,
  blobIdPattern,
  newBlobId,
  type ObjectStorage,
  type WriteOptions,
  type WrittenBlob,
} from './object-files.js';

interface ObjectChunkTables {
  s3_object_blobs: {
    blob_id: string;
    /** `writing` until the last chunk is in, then `whole`. */
    state: 'writing' | 'whole';
    size: number;
    chunks: number;
    chunk_bytes: number;
    touched_at: number;
  };
  s3_object_chunks: { blob_id: string; seq: number; data: Buffer };
}

/** Rows of 1 MiB: as the artifacts' PgBlobStore, and the 1 MiB reads of ObjectFiles. */
const defaultChunkBytes = 1024 * 1024;
const defaultStaleAfterMs = 60 * 60 * 1000;
/** How often a writer moves its head's touched_at (far below staleAfterMs). */
const touchEveryMs = 60 * 1000;

export class PgObjectFiles implements ObjectStorage {
  readonly #db: Kysely<ObjectChunkTables>;
  readonly #clock: Clock;
  readonly #chunkBytes: number;
  readonly #staleAfterMs: number;

  /** `db`: the store's handle (its own tables' types stay here, as S3Metadata's do). */
  constructor(db: unknown, opts: { clock: Clock; chunkBytes?: number; staleAfterMs?: number }) {
    this.#db = db as Kysely<ObjectChunkTables>;
    this.#clock = opts.clock;
    this.#chunkBytes = opts.chunkBytes ?? defaultChunkBytes;
    this.#staleAfterMs = opts.staleAfterMs ?? defaultStaleAfterMs;
  }

  /** Sweeps the uploads a crashed node left `writing`. */
  async start(): Promise<void> {
    const stale = await this.#db
      .selectFrom('s3_object_blobs')
      .select('blob_id')
      .where('state', '=', 'writing')
      .where('touched_at', '<', this.#now() - this.#staleAfterMs)
      .execute();
    for (const { blob_id } of stale) await this.remove(blob_id);
  }

  async stop(): Promise<void> {}

  async write(
    source: AsyncIterable<Buffer>,
    maxBytes: number,
    opts: WriteOptions = {},
  ): Promise<WrittenBlob> {
    const blobId = newBlobId();
    const chunkBytes = this.#chunkBytes;
    let touchedAt = this.#now();
    await this.#db
      .insertInto('s3_object_blobs')
      .values({
        blob_id: blobId,
        state: 'writing',
        size: 0,
        chunks: 0,
        chunk_bytes: chunkBytes,
        touched_at: touchedAt,
      })
      .execute();
    const md5 = createHash('md5');
    const checksum = opts.checksum === undefined ? undefined : createChecksum(opts.checksum);
    let size = 0;
    let md5Hex = '';
    let seq = 0;
    const put = async (data: Buffer) => {
      await this.#db
        .insertInto('s3_object_chunks')
        .values({ blob_id: blobId, seq: seq++, data })
        .execute();
      if (this.#now() - touchedAt >= touchEveryMs) {
        touchedAt = this.#now();
        await this.#touch(blobId, { touched_at: touchedAt });
      }
    };
    try {
      // Pieces of the chunk being filled; every chunk but the last is exactly chunkBytes long.
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const piece of source) {
        size += piece.length;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        md5.update(piece);
        checksum?.update(piece);
        let rest = piece;
        while (pendingBytes + rest.length >= chunkBytes) {
          const take = chunkBytes - pendingBytes;
          pending.push(rest.subarray(0, take));
          rest = rest.subarray(take);
          await put(pending.length === 1 ? pending[0]! : Buffer.concat(pending, chunkBytes));
          pending = [];
          pendingBytes = 0;
        }
        if (rest.length > 0) {
          pending.push(rest);
          pendingBytes += rest.length;
        }
      }
      if (pendingBytes > 0) await put(Buffer.concat(pending, pendingBytes));
      md5Hex = md5.digest('hex');
      opts.check?.(checksum ? { md5Hex, checksum: checksum.digest() } : { md5Hex });
      await this.#touch(blobId, {
        state: 'whole',
        size,
        chunks: seq,
        touched_at: this.#now(),
      });
    } catch (error) {
      await this.remove(blobId).catch(() => {});
      throw error;
    }
    return { blobId, size, md5Hex };
  }

  /** A new blob with the bytes of `blobId`, copied inside the database (no bytes cross here). */
  async copy(blobId: string): Promise<string> {
    assertBlobId(blobId);
    const copyId = newBlobId();
    await this.#db.transaction().execute(async (tx) => {
      const head = await tx
        .selectFrom('s3_object_blobs')
        .select(['size', 'chunks', 'chunk_bytes'])
        .where('blob_id', '=', blobId)
        .where('state', '=', 'whole')
        .executeTakeFirst();
      if (head === undefined) throw new BlobNotFoundError(blobId);
      await tx
        .insertInto('s3_object_blobs')
        .values({
          blob_id: copyId,
          state: 'whole',
          size: Number(head.size),
          chunks: head.chunks,
          chunk_bytes: head.chunk_bytes,
          touched_at: this.#now(),
        })
        .execute();
      await tx
        .insertInto('s3_object_chunks')
        .columns(['blob_id', 'seq', 'data'])
        .expression(
          tx
            .selectFrom('s3_object_chunks')
            .select([sql<string>`cast(${copyId} as text)`.as('blob_id'), 'seq', 'data'])
            .where('blob_id', '=', blobId),
        )
        .execute();
    });
    return copyId;
  }

  /** `start`/`end` inclusive, as in a Range header. */
  read(blobId: string, range?: { start: number; end: number }): Readable {
    assertBlobId(blobId);
    return Readable.from(this.#chunks(blobId, range), { objectMode: false });
  }

  /** Removing an absent blob is not an error. */
  async remove(blobId: string): Promise<void> {
    assertBlobId(blobId);
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('s3_object_blobs').where('blob_id', '=', blobId).execute();
      await tx.deleteFrom('s3_object_chunks').where('blob_id', '=', blobId).execute();
    });
  }

  async *#chunks(blobId: string, range?: { start: number; end: number }): AsyncGenerator<Buffer> {
    const head = await this.#db
      .selectFrom('s3_object_blobs')
      .select(['size', 'chunk_bytes'])
      .where('blob_id', '=', blobId)
      .where('state', '=', 'whole')
      .executeTakeFirst();
    if (head === undefined) throw new BlobNotFoundError(blobId);
    const size = Number(head.size);
    const chunkBytes = head.chunk_bytes;
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? size - 1, size - 1);
    for (let seq = Math.floor(start / chunkBytes); start <= end && seq * chunkBytes <= end; seq++) {
      const base = seq * chunkBytes;
      const from = Math.max(start, base) - base;
      const length = Math.min(end, base + chunkBytes - 1) - base - from + 1;
      const query = this.#db
        .selectFrom('s3_object_chunks')
        .where('blob_id', '=', blobId)
        .where('seq', '=', seq);
      // Part of a chunk (the ends of a range) is cut in the database: only those bytes travel.
      const row =
        from === 0 && length === chunkBytes
          ? await query.select('data').executeTakeFirst()
          : await query
              .select(
                sql<Buffer>`substr(data, cast(${from + 1} as integer), cast(${length} as integer))`.as(
                  'data',
                ),
              )
              .executeTakeFirst();
      // Removed while being read.
      if (row === undefined) throw new BlobNotFoundError(blobId);
      yield Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data);
    }
  }

  /** Updates a head still `writing`; throws when it is gone (swept as stale, or removed). */
  async #touch(
    blobId: string,
    values: Partial<ObjectChunkTables['s3_object_blobs']>,
  ): Promise<void> {
    const result = await this.#db
      .updateTable('s3_object_blobs')
      .set(values)
      .where('blob_id', '=', blobId)
      .where('state', '=', 'writing')
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new BlobNotFoundError(blobId);
  }

  #now(): number {
    return Math.floor(this.#clock.now());
  }
}

function assertBlobId(blobId: string): void {
  if (!blobIdPattern.test(blobId)) throw new Error(`invalid blob id ${JSON.stringify(blobId)}`);
}
