import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Clock } from '../model/clock.js';
import type { Database } from '../store/schema.js';
import { assertBlobKey } from './blob-key.js';
import { BlobHashMismatchError, BlobNotFoundError, type BlobStore } from './blob-store.js';

/** Rows of 1 MiB: far below PostgreSQL's 1 GB field limit, few enough rows for a 250 MB zip. */
const defaultChunkBytes = 1024 * 1024;

/**
 * Blobs shared by every node of a cluster, as chunked rows in the platform database: `blob_chunks`
 * (sha256, seq, data) and a `blobs` row written in the same transaction after the last chunk, so
 * a blob is whole or absent. Reads go one chunk per query, so a stream never holds more than one
 * chunk. Wrap it in a CachedBlobStore: nodes then read each blob from the database once.
 */
export class PgBlobStore implements BlobStore {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #chunkBytes: number;

  constructor(db: Kysely<Database>, opts: { clock: Clock; chunkBytes?: number }) {
    this.#db = db;
    this.#clock = opts.clock;
    this.#chunkBytes = opts.chunkBytes ?? defaultChunkBytes;
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    assertBlobKey(sha256);
    const row = await this.#db
      .selectFrom('blobs')
      .select('size')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.size);
  }

  async put(sha256: string, data: Buffer): Promise<void> {
    assertBlobKey(sha256);
    const actual = createHash('sha256').update(data).digest('hex');
    if (actual !== sha256) throw new BlobHashMismatchError(sha256, actual);
    if (await this.has(sha256)) return;
    const chunks = Math.max(1, Math.ceil(data.length / this.#chunkBytes));
    await this.#db.transaction().execute(async (tx) => {
      for (let seq = 0; seq < chunks; seq++) {
        const piece = data.subarray(seq * this.#chunkBytes, (seq + 1) * this.#chunkBytes);
        // A racing put of the same blob writes the same bytes: either copy is right.
        await tx
          .insertInto('blob_chunks')
          .values({ sha256, seq, data: piece })
          .onConflict((oc) => oc.columns(['sha256', 'seq']).doNothing())
          .execute();
      }
      await tx
        .insertInto('blobs')
        .values({ sha256, size: data.length, chunks, created_at: Math.floor(this.#clock.now()) })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
    });
  }

  async get(sha256: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.#chunks(sha256)) parts.push(chunk);
    return Buffer.concat(parts);
  }

  /** A bad key throws here; a missing blob surfaces as the stream's BlobNotFoundError. */
  stream(sha256: string): Readable {
    assertBlobKey(sha256);
    return Readable.from(this.#chunks(sha256), { objectMode: false });
  }

  async delete(sha256: string): Promise<void> {
    assertBlobKey(sha256);
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('blobs').where('sha256', '=', sha256).execute();
      await tx.deleteFrom('blob_chunks').where('sha256', '=', sha256).execute();
    });
  }

  async *#chunks(sha256: string): AsyncGenerator<Buffer> {
    assertBlobKey(sha256);
    const head = await this.#db
      .selectFrom('blobs')
      .select('chunks')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (head === undefined) throw new BlobNotFoundError(sha256);
    for (let seq = 0; seq < head.chunks; seq++) {
      const row = await this.#db
        .selectFrom('blob_chunks')
        .select('data')
        .where('sha256', '=', sha256)
        .where('seq', '=', seq)
        .executeTakeFirst();
      // Deleted while being read.
      if (row === undefined) throw new BlobNotFoundError(sha256);
      yield Buffer.from(row.data);
    }
  }
}
