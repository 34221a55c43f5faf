/**
 * PgObjectFiles (`--blobs postgres`) on a real PostgreSQL schema: chunking of uneven pieces,
 * ranges across chunk boundaries cut in the database, the size cap and a failing body leaving no
 * rows, copies made inside the database, and the sweep of an upload a dead node left `writing`.
 * The S3 suites (s3-sdk, s3-multipart-large...) run on it too through their postgres variant.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { PgObjectFiles } from '../../../src/services/s3/pg-object-files.js';
import { openPostgresDatabase } from '../../../src/store/postgres.js';
import type { Database } from '../../../src/store/schema.js';
import { makeTestSchema } from '../../helpers/postgres.js';

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

async function* pieces(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

describe('PgObjectFiles: S3 object bytes as chunked rows', () => {
  let db: Kysely<Database>;
  let drop: () => Promise<void>;
  let now = 1_750_000_000_000;
  const clock = { now: () => now };
  const rows = async () => {
    const count = async (table: string) =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db))
          .rows[0]!.n,
      );
    return { heads: await count('s3_object_blobs'), chunks: await count('s3_object_chunks') };
  };
  before(async () => {
    const pg = await makeTestSchema();
    drop = pg.drop;
    db = await openPostgresDatabase({ url: pg.url, schema: pg.schema });
  });
  after(async () => {
    await db?.destroy();
    await drop?.();
  });

  it('cuts uneven pieces into whole chunks and reads back whole and by any range', async () => {
    const files = new PgObjectFiles(db, { clock, chunkBytes: 5 });
    await files.start();
    const data = Buffer.from('chunked rows, streamed in and out!');
    const written = await files.write(pieces(data, [1, 7, 3, 12]), 1000);
    assert.equal(written.size, data.length);
    assert.equal(written.md5Hex, md5(data));
    const seqs = await sql<{ seq: number; n: number }>`
      select seq, length(data) as n from s3_object_chunks where blob_id = ${written.blobId}
      order by seq`.execute(db);
    assert.deepEqual(
      seqs.rows.map((r) => Number(r.n)),
      [5, 5, 5, 5, 5, 5, 4],
    );
    assert.deepEqual(await buffer(files.read(written.blobId)), data);
    for (let start = 0; start < data.length; start++) {
      for (let end = start; end < data.length; end++) {
        assert.deepEqual(
          (await buffer(files.read(written.blobId, { start, end }))).toString(),
          data.subarray(start, end + 1).toString(),
          `bytes=${start}-${end}`,
        );
      }
    }
    await files.remove(written.blobId);
    await files.remove(written.blobId); // absent: no error
    assert.deepEqual(await rows(), { heads: 0, chunks: 0 });
    await assert.rejects(buffer(files.read(written.blobId)), { code: 'NIMBUS_BLOB_NOT_FOUND' });
  });

  it('keeps an empty object, and refuses bad blob ids', async () => {
    const files = new PgObjectFiles(db, { clock });
    const written = await files.write(pieces(Buffer.alloc(0), [1]), 10);
    assert.deepEqual(written, { blobId: written.blobId, size: 0, md5Hex: md5(Buffer.alloc(0)) });
    assert.equal((await buffer(files.read(written.blobId))).length, 0);
    await files.remove(written.blobId);
    assert.throws(() => files.read('../../etc/passwd'), /invalid blob id/);
  });

  it('a body over the cap or one that fails leaves no rows', async () => {
    const files = new PgObjectFiles(db, { clock, chunkBytes: 4 });
    await assert.rejects(files.write(pieces(Buffer.alloc(30, 1), [3]), 20), {
      code: 'NIMBUS_S3_TOO_LARGE',
    });
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(9, 2);
      throw new Error('client went away');
    }
    await assert.rejects(files.write(failing(), 100), /client went away/);
    assert.deepEqual(await rows(), { heads: 0, chunks: 0 });
  });

  it('copies inside the database; the copy outlives its source', async () => {
    const files = new PgObjectFiles(db, { clock, chunkBytes: 3 });
    const data = Buffer.from('copy me, byte for byte');
    const { blobId } = await files.write(pieces(data, [4]), 100);
    const copyId = await files.copy(blobId);
    assert.notEqual(copyId, blobId);
    await files.remove(blobId);
    assert.deepEqual(await buffer(files.read(copyId)), data);
    assert.equal((await buffer(files.read(copyId, { start: 2, end: 9 }))).toString(), 'py me, b');
    await assert.rejects(files.copy(blobId), { code: 'NIMBUS_BLOB_NOT_FOUND' });
    await files.remove(copyId);
    assert.deepEqual(await rows(), { heads: 0, chunks: 0 });
  });

  it('an upload is unreadable until whole; a dead writer is swept, a live one is not', async () => {
    const node1 = new PgObjectFiles(db, { clock, chunkBytes: 4, staleAfterMs: 60 * 60_000 });
    const node2 = new PgObjectFiles(db, { clock, chunkBytes: 4, staleAfterMs: 60 * 60_000 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let firstIn!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      firstIn = resolve;
    });
    async function* stalled(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(8, 3);
      firstIn();
      await released;
      yield Buffer.alloc(8, 4);
    }
    const writing = node1.write(stalled(), 100);
    await inFlight;
    const head = await sql<{ blob_id: string }>`
      select blob_id from s3_object_blobs where state = 'writing'`.execute(db);
    const blobId = head.rows[0]!.blob_id;
    await assert.rejects(buffer(node2.read(blobId)), { code: 'NIMBUS_BLOB_NOT_FOUND' });
    // Not stale yet: another node's start leaves it alone.
    await node2.start();
    assert.equal((await rows()).heads, 1);
    // An hour without a touch (the writer's node died, as far as anyone can tell): swept.
    now += 61 * 60_000;
    await node2.start();
    assert.deepEqual(await rows(), { heads: 0, chunks: 0 });
    // The writer comes back: it fails rather than turn a swept blob whole, and cleans up.
    release();
    await assert.rejects(writing, { code: 'NIMBUS_BLOB_NOT_FOUND' });
    assert.deepEqual(await rows(), { heads: 0, chunks: 0 });
  });
});
